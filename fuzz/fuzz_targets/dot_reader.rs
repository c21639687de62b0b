#![no_main]

#[path = "../../tests/support/chunking.rs"]
mod chunking;

#[path = "../../tests/support/fuzz_dot_reader.rs"]
mod dot_reader;

libfuzzer_sys::fuzz_target!(|data: &[u8]| dot_reader::dot_reader(data));
