#![no_main]

#[path = "../../tests/support/fuzz_spool.rs"]
mod spool_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| spool_props::spool_envelope(data));
