#![no_main]

#[path = "../../tests/support/linear_time.rs"]
mod linear_time;

#[path = "../../tests/support/fuzz_mime.rs"]
mod mime_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| mime_props::lint(data));
