#![no_main]

#[path = "../../tests/support/fuzz_url.rs"]
mod url_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| url_props::server_url(data));
