#![no_main]

#[path = "../../tests/support/fuzz_imap_search.rs"]
mod search_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| search_props::imap_search(data));
