#![no_main]

#[path = "../../tests/support/fuzz_smtp_data.rs"]
mod smtp_data;

libfuzzer_sys::fuzz_target!(|data: &[u8]| smtp_data::smtp_data(data));
