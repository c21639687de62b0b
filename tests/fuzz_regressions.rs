//! Every input kept from fuzzing (`tests/fuzz-regressions/TARGET/`), the
//! real messages in `tests/fixtures` and the hand-written seeds in
//! `fuzz/hand-seeds` are run through the same property checks as the fuzz
//! targets in `fuzz/`.

#[path = "support/fuzz_imap_body_structure.rs"]
mod body_structure_props;
#[path = "support/chunking.rs"]
mod chunking;
#[path = "support/fuzz_decode.rs"]
mod decode_props;
#[path = "support/fuzz_dot_reader.rs"]
mod dot_reader_props;
#[path = "support/fuzz_encoders.rs"]
mod encoders;
#[path = "support/fuzz_fingerprint.rs"]
mod fingerprint_props;
#[path = "support/fuzz_imap_response.rs"]
mod imap_response_props;
#[path = "support/linear_time.rs"]
mod linear_time;
#[path = "support/fuzz_mailbox_name.rs"]
mod mailbox_name_props;
#[path = "support/fuzz_mime_build.rs"]
mod mime_build_props;
#[path = "support/fuzz_mime.rs"]
mod mime_props;
#[path = "support/fuzz_netrc.rs"]
mod netrc_props;
#[path = "support/fuzz_pop3.rs"]
mod pop3_props;
#[path = "support/fuzz_props.rs"]
mod props;
#[path = "support/fuzz_smtp_reply.rs"]
mod reply_props;
#[path = "support/fuzz_imap_search.rs"]
mod search_props;
#[path = "support/smtp_data_model.rs"]
mod smtp_data_model;
#[path = "support/fuzz_smtp_data.rs"]
mod smtp_data_props;
#[path = "support/fuzz_spool.rs"]
mod spool_props;
#[path = "support/fuzz_url.rs"]
mod url_props;

/// Runs `check` on `data`, read from `path`, naming the file if it fails.
fn check_file(path: &std::path::Path, data: &[u8], check: fn(&[u8])) {
    let outcome = std::panic::catch_unwind(|| check(data));
    assert!(outcome.is_ok(), "{} fails", path.display());
}

fn each_input(target: &str, check: fn(&[u8])) -> usize {
    each_input_in("tests/fuzz-regressions", target, check)
}

/// Runs `check` on every file in `root/target` (relative to the package).
fn each_input_in(root: &str, target: &str, check: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(root)
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the input directory") {
        let path = entry.unwrap().path();
        check_file(&path, &std::fs::read(&path).unwrap(), check);
        count += 1;
    }
    count
}

/// The real messages in `tests/fixtures` (mail programs' shapes, public
/// test corpora), each behind `prefix` as a message target reads its input;
/// `fuzz/campaign` seeds the message targets with them too.
fn each_real_message(prefix: &[u8], check: fn(&[u8])) -> usize {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut dirs = vec![fixtures.join("mime"), fixtures.join("corpus")];
    let mut count = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the fixtures") {
            let path = entry.unwrap().path();
            let extension = path.extension().and_then(|e| e.to_str());
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(extension, Some("eml" | "msg")) {
                let data = [prefix, &std::fs::read(&path).unwrap()].concat();
                check_file(&path, &data, check);
                count += 1;
            }
        }
    }
    count
}

#[test]
fn message_header_on_real_messages() {
    assert!(each_real_message(b"", props::message_header) >= 200);
}

#[test]
fn mime_read_on_real_messages() {
    assert!(each_real_message(b"\x0f", mime_props::mime_read) >= 200);
}

#[test]
fn lint_message_on_real_messages() {
    assert!(each_real_message(b"\x0f\x02", mime_props::lint) >= 200);
}

#[test]
fn mail_domain_regressions() {
    assert!(each_input("mail_domain", props::mail_domain) > 0);
}

#[test]
fn bounded_lines_regressions() {
    assert!(each_input("bounded_lines", props::bounded_lines) > 0);
}

#[test]
fn encoders_regressions() {
    assert!(each_input("encoders", encoders::check) > 0);
}

#[test]
fn address_list_regressions() {
    assert!(each_input("address_list", props::address_list) > 0);
}

#[test]
fn message_header_regressions() {
    assert!(each_input("message_header", props::message_header) > 0);
}

#[test]
fn decoders_regressions() {
    assert!(each_input("decoders", decode_props::transfer_decoders) > 0);
}

#[test]
fn decode_round_trip_regressions() {
    assert!(each_input("decode_round_trip", decode_props::round_trip) > 0);
}

#[test]
fn decode_text_regressions() {
    assert!(each_input("decode_text", decode_props::text_decoders) > 0);
}

#[test]
fn smtp_data_regressions() {
    assert!(each_input("smtp_data", smtp_data_props::smtp_data) > 0);
}

#[test]
fn server_url_regressions() {
    assert!(each_input("server_url", url_props::server_url) > 0);
}

#[test]
fn smtp_reply_regressions() {
    assert!(each_input("smtp_reply", reply_props::smtp_reply) > 0);
}

#[test]
fn netrc_regressions() {
    assert!(each_input("netrc", netrc_props::netrc) > 0);
}

#[test]
fn spool_envelope_regressions() {
    assert!(each_input("spool_envelope", spool_props::spool_envelope) > 0);
}

#[test]
fn fingerprint_regressions() {
    assert!(each_input("fingerprint", fingerprint_props::fingerprint) > 0);
}

#[test]
fn mime_read_regressions() {
    assert!(each_input("mime_read", mime_props::mime_read) > 0);
}

/// The seeds written by hand for the linter's rarer paths (`fuzz/hand-seeds`).
#[test]
fn lint_message_hand_seeds() {
    assert!(each_input_in("fuzz/hand-seeds", "lint_message", mime_props::lint) >= 40);
}

#[test]
fn lint_message_regressions() {
    assert!(each_input("lint_message", mime_props::lint) > 0);
}

#[test]
fn dot_reader_regressions() {
    assert!(each_input("dot_reader", dot_reader_props::dot_reader) > 0);
}

#[test]
fn imap_response_regressions() {
    assert!(each_input("imap_response", imap_response_props::imap_response) > 0);
}

#[test]
fn pop3_response_regressions() {
    assert!(each_input("pop3_response", pop3_props::pop3_response) > 0);
}

#[test]
fn imap_body_structure_regressions() {
    assert!(
        each_input(
            "imap_body_structure",
            body_structure_props::imap_body_structure
        ) > 0
    );
}

#[test]
fn imap_mailbox_name_regressions() {
    assert!(each_input("imap_mailbox_name", mailbox_name_props::mailbox_name) > 0);
}

#[test]
fn mime_build_regressions() {
    assert!(each_input("mime_build", mime_build_props::mime_build) > 0);
}

#[test]
fn imap_search_regressions() {
    assert!(each_input("imap_search", search_props::imap_search) > 0);
}
