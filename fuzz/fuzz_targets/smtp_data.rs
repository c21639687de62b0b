#![no_main]

#[path = "../../tests/support/fuzz_smtp_data.rs"]
mod smtp_data;

#[path = "../../tests/support/smtp_data_model.rs"]
mod smtp_data_model;

libfuzzer_sys::fuzz_target!(|data: &[u8]| smtp_data::smtp_data(data));
