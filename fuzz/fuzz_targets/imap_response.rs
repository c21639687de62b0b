#![no_main]

#[path = "../../tests/support/fuzz_imap_response.rs"]
mod imap_response_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| imap_response_props::imap_response(data));
