#![no_main]

#[path = "../../tests/support/fuzz_mailbox_name.rs"]
mod mailbox_name_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| mailbox_name_props::mailbox_name(data));
