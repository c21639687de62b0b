#![no_main]

#[path = "../../tests/support/fuzz_imap_response.rs"]
mod imap_response_props;

#[path = "../../tests/support/fuzz_imap_body_structure.rs"]
mod body_structure_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body_structure_props::imap_body_structure(data));
