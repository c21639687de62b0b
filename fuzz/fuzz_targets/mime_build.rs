#![no_main]

#[path = "../../tests/support/fuzz_mime_build.rs"]
mod build_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| build_props::mime_build(data));
