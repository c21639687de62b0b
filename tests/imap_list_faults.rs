//! imap-list against a scripted IMAP server, for what no real server in
//! the tests does on its own: FETCH responses out of order, flag updates
//! of its own in the middle of a listing, a response it cannot parse, a
//! UIDVALIDITY that is not the one pinned, and what exactly goes on the
//! wire for a search.

mod common;

use std::process::{Command, Output};

use common::scripted::Script;

const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 LITERAL+] scripted\r\n";

/// The answers up to EXAMINE that every run here needs.
fn opening() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("a1 CAPABILITY", b"* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK\r\n"),
        ("a2 LOGIN", b"a2 OK [CAPABILITY IMAP4rev1 LITERAL+] in\r\n"),
        (
            "a3 EXAMINE",
            b"* 3 EXISTS\r\n* OK [UIDVALIDITY 42] v\r\n* OK [UIDNEXT 31] n\r\na3 OK [READ-ONLY] x\r\n",
        ),
    ]
}

fn run(port: u16, folder: &str, args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    std::fs::write(&password, "secret\n").unwrap();
    common::set_mode(&password, 0o600);
    Command::new(env!("CARGO_BIN_EXE_imap-list"))
        .arg(format!("imap://alice@127.0.0.1:{port}/{folder}"))
        .args(["--tls", "none", "--allow-plaintext-auth", "--timeout", "5"])
        .arg("--password-file")
        .arg(&password)
        .args(args)
        .output()
        .unwrap()
}

fn serve(rules: Vec<(&'static str, &'static [u8])>) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let mut all = opening();
    all.extend(rules);
    all.push(("a9 LOGOUT", b"* BYE bye\r\na9 OK done\r\n"));
    Script {
        banner: GREETING,
        rules: all,
        otherwise: b"* BYE unexpected\r\n",
        connections: 1,
    }
    .start()
}

/// The header fields a listing asks for, as a FETCH item with a literal.
fn header(subject: &str) -> String {
    let text = format!(
        "Date: Mon, 2 Nov 2026 10:00:00 +0100\r\nFrom: Ann <ann@example.org>\r\n\
         Subject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
    );
    format!(
        "BODY[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)] {{{}}}\r\n{text}",
        text.len()
    )
}

#[test]
fn responses_out_of_order_and_unsolicited_flag_updates_are_listed_by_uid() {
    let fetch: &'static [u8] = Box::leak(
        format!(
            "* 3 FETCH (UID 30 FLAGS () RFC822.SIZE 300 {})\r\n\
             * 2 FETCH (FLAGS (\\Seen))\r\n\
             * 1 FETCH (UID 10 FLAGS (\\Seen) RFC822.SIZE 100 {})\r\n\
             * 2 FETCH (RFC822.SIZE 200 FLAGS () {} UID 20)\r\n\
             * 1 FETCH (UID 10 FLAGS (\\Flagged))\r\n\
             * 4 EXISTS\r\n\
             a5 OK done\r\n",
            header("three"),
            header("one"),
            header("two")
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let (port, handle) = serve(vec![
        (
            "a4 UID SEARCH ALL",
            b"* SEARCH 30 10\r\n* SEARCH 20\r\na4 OK\r\n",
        ),
        (
            "a5 UID FETCH 10,20,30 (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)])",
            fetch,
        ),
        ("a6 LOGOUT", b"* BYE bye\r\na6 OK done\r\n"),
    ]);
    let out = run(port, "INBOX", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "10\t\\Flagged\t2026-11-02T10:00:00+01:00\t100\tAnn <ann@example.org>\tone",
            "20\t-\t2026-11-02T10:00:00+01:00\t200\tAnn <ann@example.org>\ttwo",
            "30\t-\t2026-11-02T10:00:00+01:00\t300\tAnn <ann@example.org>\tthree",
        ]
    );
    let sent = handle.join().unwrap();
    assert!(
        sent.iter()
            .all(|l| !l.contains("SELECT") && !l.contains("STORE")),
        "{sent:?}"
    );
}

#[test]
fn a_fetch_response_that_cannot_be_parsed_is_an_error_not_a_gap() {
    let (port, _) = serve(vec![
        ("a4 UID SEARCH ALL", b"* SEARCH 1 2\r\na4 OK\r\n"),
        (
            "a5 UID FETCH",
            b"* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 5 BODY[HEADER.FIELDS (SUBJECT)] \"Subject: x\")\r\n\
              * 2 FETCH (UID 2 FLAGS (\\Seen RFC822.SIZE 5)\r\na5 OK done\r\n",
        ),
    ]);
    let out = run(port, "INBOX", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(76), "{stderr}");
    assert!(stderr.starts_with("imap-list: error: "), "{stderr}");
}

#[test]
fn a_uidvalidity_other_than_the_pinned_one_fetches_nothing() {
    let (port, handle) = serve(vec![(
        "a4 UID FETCH",
        b"* 1 FETCH (UID 7 BODY[] {4}\r\nbad\n)\r\na4 OK\r\n",
    )]);
    let out = run(port, "INBOX;UIDVALIDITY=41/;UID=7", &[]);
    assert_eq!(
        out.status.code(),
        Some(67),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UIDVALIDITY 42, not 41"), "{stderr}");
    let sent = handle.join().unwrap();
    assert!(!sent.iter().any(|l| l.contains("FETCH")), "{sent:?}");
}

#[test]
fn a_pinned_uid_that_matches_is_fetched_with_peek() {
    let (port, handle) = serve(vec![
        (
            "a4 UID FETCH 7 (UID BODY.PEEK[])",
            b"* 1 FETCH (UID 7 BODY[] {11}\r\nSubject: x\n)\r\na4 OK\r\n",
        ),
        ("a5 LOGOUT", b"* BYE bye\r\na5 OK done\r\n"),
    ]);
    let out = run(port, "INBOX;UIDVALIDITY=42/;UID=7", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"Subject: x\n");
    let sent = handle.join().unwrap();
    assert!(
        sent.contains(&"a4 UID FETCH 7 (UID BODY.PEEK[])".to_string()),
        "{sent:?}"
    );
}

#[test]
fn search_strings_are_quoted_or_literals_and_atoms_go_as_typed() {
    let (port, handle) = serve(vec![
        ("a4 UID SEARCH", b"* SEARCH\r\na4 OK\r\n"),
        ("a5 LOGOUT", b"* BYE bye\r\na5 OK done\r\n"),
    ]);
    let out = run(
        port,
        "INBOX",
        &[
            "--search",
            r#"OR (SUBJECT "say \"hi\"") FROM Jürgen SINCE 1-Nov-2026"#,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let sent = handle.join().unwrap();
    let search: Vec<&String> = sent.iter().filter(|l| l.contains("SEARCH")).collect();
    assert_eq!(
        search,
        [r#"a4 UID SEARCH CHARSET UTF-8 OR (SUBJECT "say \"hi\"") FROM {7+}"#]
    );
    // The literal's 7 octets, then the rest of the command on the same line.
    assert!(
        sent.contains(&"Jürgen SINCE 1-Nov-2026".to_string()),
        "{sent:?}"
    );
}

#[test]
fn a_search_with_a_line_end_is_refused_before_connecting() {
    let out = Command::new(env!("CARGO_BIN_EXE_imap-list"))
        .args([
            "imap://alice@127.0.0.1:1/INBOX",
            "--search",
            "ALL\r\na3 DELETE INBOX",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot be part of a search"), "{stderr}");
}

#[test]
fn a_search_the_server_cannot_read_is_a_usage_error() {
    let (port, _) = serve(vec![(
        "a4 UID SEARCH",
        b"a4 BAD [PARSE] Unknown argument NOSUCHKEY\r\n",
    )]);
    let out = run(port, "INBOX", &["--search", "NOSUCHKEY"]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("NOSUCHKEY"), "{stderr}");
}
