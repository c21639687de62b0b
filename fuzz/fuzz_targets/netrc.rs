#![no_main]

#[path = "../../tests/support/linear_time.rs"]
mod linear_time;

#[path = "../../tests/support/fuzz_netrc.rs"]
mod netrc_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| netrc_props::netrc(data));
