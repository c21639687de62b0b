#![no_main]

#[path = "../../tests/support/fuzz_fingerprint.rs"]
mod fingerprint_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fingerprint_props::fingerprint(data));
