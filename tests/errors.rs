//! Error paths a user meets, each with its exact one line and exit status
//! (contract: `TOOL: error: what failed: why`, sysexits statuses).

mod common;

use common::{code, run_tool, stderr};

/// The built binary of `tool`.
fn bin(tool: &str) -> &'static str {
    match tool {
        "mime-unpack" => env!("CARGO_BIN_EXE_mime-unpack"),
        "mime-pack" => env!("CARGO_BIN_EXE_mime-pack"),
        "rfc822-lint" => env!("CARGO_BIN_EXE_rfc822-lint"),
        "smtp-send" => env!("CARGO_BIN_EXE_smtp-send"),
        "mx-lookup" => env!("CARGO_BIN_EXE_mx-lookup"),
        other => panic!("no tool {other}"),
    }
}

/// A test message of `tests/fixtures/mime`.
fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/mime/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tool args` with `stdin` and checks the exit status and the whole
/// of stderr.
fn fails(tool: &str, args: &[&str], stdin: &[u8], status: i32, expected: &str) {
    let out = run_tool(bin(tool), args, stdin);
    assert_eq!(code(&out), status, "{tool} {args:?}: {}", stderr(&out));
    assert_eq!(stderr(&out), expected, "{tool} {args:?}");
}

#[test]
fn mime_unpack_errors() {
    let missing = "/nonexistent/m.eml";
    fails(
        "mime-unpack",
        &[missing],
        b"",
        66,
        "mime-unpack: error: /nonexistent/m.eml: No such file or directory (os error 2)\n",
    );
    fails(
        "mime-unpack",
        &["/"],
        b"",
        66,
        "mime-unpack: error: /: is a directory, not a file\n",
    );
    fails(
        "mime-unpack",
        &[],
        b"",
        65,
        "mime-unpack: error: not a message: no header fields\n",
    );
    let mixed = fixture("mixed.eml");
    fails(
        "mime-unpack",
        &["--part", "9", &mixed],
        b"",
        65,
        "mime-unpack: error: the message has no part 9; its parts are 0, 1, 2, 3\n",
    );
    fails(
        "mime-unpack",
        &["--message", "2", &mixed],
        b"",
        65,
        &format!("mime-unpack: error: --message 2: {mixed} holds 1 message\n"),
    );
}

#[test]
fn mime_pack_errors() {
    let body = b"body\n";
    fails(
        "mime-pack",
        &[
            "--to",
            "b@example.org",
            "--from",
            "a@example.org",
            "/nonexistent/x.pdf",
        ],
        body,
        66,
        "mime-pack: error: /nonexistent/x.pdf: No such file or directory (os error 2)\n",
    );
    fails(
        "mime-pack",
        &["--to", "b@", "--from", "a@example.org"],
        body,
        64,
        "mime-pack: error: To: \"b@\" is not an RFC 5322 address: missing domain after '@' (at byte 2)\n",
    );
    fails(
        "mime-pack",
        &[
            "--to",
            "b@example.org",
            "--from",
            "a@example.org",
            "--subject",
            "z",
            "--header",
            "Subject: y",
        ],
        body,
        64,
        "mime-pack: error: Subject is given 2 times (a flag and --header, or --header twice); \
         a message has one Subject field (RFC 5322 §3.6)\n",
    );
}

#[test]
fn rfc822_lint_and_smtp_send_errors() {
    fails(
        "rfc822-lint",
        &["--fix", "/"],
        b"",
        64,
        "rfc822-lint: error: --fix takes exactly one message\n",
    );
    fails(
        "smtp-send",
        &["--dry-run", "bob@example.org"],
        b"Subject: no sender\n\nbody\n",
        65,
        "smtp-send: error: no envelope sender (give -f): the message has no From field\n",
    );
    fails(
        "smtp-send",
        &["--dry-run", "bob@example.org"],
        b"not a header\n",
        65,
        "smtp-send: error: the message does not start with a header field\n",
    );
}

#[test]
fn mx_lookup_errors() {
    fails(
        "mx-lookup",
        &["--tls", "none", "example.test"],
        b"",
        64,
        "mx-lookup: error: --port, --tls, --cafile, --fingerprint and --insecure go with --probe\n",
    );
    fails(
        "mx-lookup",
        &["--probe", "--cafile", "/nonexistent/ca.pem", "example.test"],
        b"",
        78,
        "mx-lookup: error: cannot read CA file /nonexistent/ca.pem: No such file or directory (os error 2)\n",
    );
    // An invalid name is answered without asking any resolver.
    fails(
        "mx-lookup",
        &["--server", "127.0.0.1:9", "bad..name"],
        b"",
        65,
        "mx-lookup: error: bad..name: invalid domain: empty label\n",
    );
}
