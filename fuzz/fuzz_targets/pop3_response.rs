#![no_main]

#[path = "../../tests/support/fuzz_pop3.rs"]
mod pop3_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| pop3_props::pop3_response(data));
