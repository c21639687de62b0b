#![no_main]

#[path = "../../tests/support/chunking.rs"]
mod chunking;

#[path = "../../tests/support/fuzz_encoders.rs"]
mod encoders;

libfuzzer_sys::fuzz_target!(|data: &[u8]| encoders::check(data));
