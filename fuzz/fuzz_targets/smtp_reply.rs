#![no_main]

#[path = "../../tests/support/fuzz_smtp_reply.rs"]
mod reply_props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| reply_props::smtp_reply(data));
