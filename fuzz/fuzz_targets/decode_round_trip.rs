#![no_main]

#[path = "../../tests/support/linear_time.rs"]
mod linear_time;

#[path = "../../tests/support/chunking.rs"]
mod chunking;

#[path = "../../tests/support/fuzz_decode.rs"]
mod decode_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| decode_props::round_trip(data));
