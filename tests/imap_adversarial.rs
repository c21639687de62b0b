//! imap-list against hostile IMAP servers (a scripted server with real
//! STARTTLS): STARTTLS missing, refused, followed by injected bytes,
//! answered with garbage or never completed; capabilities that change
//! across TLS; PREAUTH; referrals; untagged data before STARTTLS; invalid
//! greetings; control characters in server text; endless lines and
//! responses; huge literals; trickling; a reset at every step.
//!
//! Each run checks the exit status, that no credential went out where it
//! must not (the password, or any base64 form of it), that nothing was
//! stored, that the run ended within `--timeout` plus a second, that its
//! peak memory stayed under 64 MiB, and that no raw control character
//! reached stdout or stderr.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::Scratch;
use common::hostile::{self, PASSWORD, Ran};
use common::imap_script::{Act, ImapLog, ImapScript, MESSAGE};
use common::tlscert::TlsCert;

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_imap-list");
/// A run that stores what is new into the run's Maildir.
const STORE: &[&str] = &["--new", "--maildir", "--state"];

/// One run of imap-list against a scripted server.
struct Run {
    /// The tool's output, time and memory.
    ran: Ran,
    /// What the server got.
    log: ImapLog,
    /// The Maildir given with `--maildir` (when asked for).
    maildir: PathBuf,
    /// Kept for the run's files.
    _dir: Scratch,
}

impl std::ops::Deref for Run {
    type Target = Ran;
    fn deref(&self) -> &Ran {
        &self.ran
    }
}

impl Run {
    /// The exit status is `want`, within the time and memory bounds.
    fn expect(&self, want: i32, what: &str) {
        self.ran.expect_status(want, what, &self.log.lines);
    }

    /// The password went nowhere, in any form, and no login was tried.
    fn no_credential(&self, what: &str) {
        assert_password_absent(&self.log.all_bytes(), what);
        for verb in ["LOGIN", "AUTHENTICATE"] {
            assert!(
                !self.log.received(verb),
                "{what}: {verb} sent: {:?}",
                self.log.lines
            );
        }
    }

    /// Nothing in the Maildir's new/, cur/ or tmp/.
    fn nothing_stored(&self, what: &str) {
        for sub in ["new", "cur", "tmp"] {
            let entries: Vec<_> = std::fs::read_dir(self.maildir.join(sub))
                .map(|d| d.map(|e| e.unwrap().path()).collect())
                .unwrap_or_default();
            assert!(entries.is_empty(), "{what}: {sub}/ holds {entries:?}");
        }
    }
}

/// The password and every base64 form of it are not in `bytes`.
fn assert_password_absent(bytes: &[u8], what: &str) {
    hostile::assert_password_absent(&String::from_utf8_lossy(bytes), PASSWORD, what);
}

/// A server with a fresh certificate (its files in `dir`), STARTTLS
/// before TLS and `IMAP4rev1 AUTH=PLAIN SASL-IR` over it.
fn script(dir: &Scratch) -> ImapScript {
    let tls = TlsCert::generate(dir.path());
    ImapScript::new(Some((tls.cert, tls.key)))
}

/// Serves `script` and runs `imap-list imap://alice@127.0.0.1:PORT/PATH
/// ARGS` with the password file, `--cafile`, `--timeout 2`, under GNU time.
/// `--maildir` in `args` is followed by the run's Maildir.
fn play(dir: Scratch, script: ImapScript, path: &str, args: &[&str]) -> Run {
    let server = script.start();
    let maildir = dir.path().join("Maildir");
    let ran = hostile::measured(dir.path(), b"", |command| {
        command
            .arg(BIN)
            .arg(format!("imap://alice@127.0.0.1:{}/{path}", server.port))
            .args(hostile::session_args(dir.path()));
        for arg in args {
            match *arg {
                "--maildir" => command.arg("--maildir").arg(&maildir),
                "--state" => command.arg("--state").arg(dir.path().join("state")),
                other => command.arg(other),
            };
        }
        command.env("XDG_STATE_HOME", dir.path().join("xdg"));
    });
    let log = server.finish();
    Run {
        ran,
        log,
        maildir,
        _dir: dir,
    }
}

/// [`play`] in a new directory with a fresh certificate, `script` made
/// from the base one by `edit`.
fn play_with(edit: impl FnOnce(ImapScript) -> ImapScript, path: &str, args: &[&str]) -> Run {
    let dir = Scratch::new();
    let script = edit(script(&dir));
    play(dir, script, path, args)
}

/// A reply as bytes.
fn reply(text: &str) -> Act {
    Act::Reply(text.as_bytes().to_vec())
}

/// The bytes received after the last STARTTLS command line (plain text).
fn after_starttls(log: &ImapLog) -> Vec<u8> {
    let plain = &log.plain;
    let at = plain
        .windows(10)
        .rposition(|w| w.eq_ignore_ascii_case(b" STARTTLS\r"))
        .expect("STARTTLS was sent");
    plain[at + 11..].to_vec()
}

// ---------------------------------------------------------------------
// The scripted server itself.

#[test]
fn the_scripted_server_lists_and_fetches_over_starttls() {
    let run = play_with(|s| s, "INBOX", &[]);
    run.expect(0, "a normal listing");
    let want = format!(
        "1\t-\t2026-11-02T10:00:00+01:00\t{}\tAnn <ann@example.org>\thello\n",
        MESSAGE.len()
    );
    assert_eq!(run.stdout(), want);
    // The password went over TLS only, by AUTHENTICATE PLAIN with SASL-IR.
    assert_password_absent(&run.log.plain, "plain text");
    let auth = run
        .log
        .tls_lines
        .iter()
        .any(|l| l.contains("AUTHENTICATE PLAIN "));
    assert!(auth, "{:?}", run.log.tls_lines);
    let run = play_with(|s| s, "INBOX", STORE);
    run.expect(0, "a store");
    let stored = std::fs::read_dir(run.maildir.join("new")).unwrap().count();
    assert_eq!(stored, 1, "{}", run.stderr());
}

// ---------------------------------------------------------------------
// STARTTLS.

#[test]
fn starttls_not_offered_is_76_before_any_credential() {
    let run = play_with(
        |mut s| {
            s.caps = "IMAP4rev1 AUTH=PLAIN".into();
            s
        },
        "INBOX",
        STORE,
    );
    run.expect(76, "no STARTTLS");
    run.no_credential("no STARTTLS");
    run.nothing_stored("no STARTTLS");
    assert!(run.stderr().contains("STARTTLS"), "{}", run.stderr());
}

#[test]
fn starttls_refused_is_76_before_any_credential() {
    let answers = [
        ("$T NO [UNAVAILABLE] TLS not now\r\n", 76),
        ("$T BAD what?\r\n", 76),
        ("$T NO [ALERT] \x1b[31mno\x1b[0m\r\n", 76),
        // A continuation nothing asked for: the server broke the protocol.
        ("+ go on\r\n", 76),
        // The server ends the session instead: a temporary failure.
        ("* BYE going away\r\n", 75),
    ];
    for (answer, want) in answers {
        let what = format!("STARTTLS answered {answer:?}");
        let run = play_with(|s| s.on("STARTTLS", reply(answer)), "", &[]);
        run.expect(want, &what);
        run.no_credential(&what);
        assert!(run.log.tls.is_empty(), "{what}: TLS went ahead");
    }
}

#[test]
fn garbage_instead_of_a_tls_handshake_is_76() {
    let garbage = b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\x01\x02 not TLS at all".to_vec();
    let run = play_with(
        |s| s.on("STARTTLS", Act::GarbageHandshake(garbage)),
        "INBOX",
        STORE,
    );
    run.expect(76, "garbage handshake");
    run.no_credential("garbage handshake");
    run.nothing_stored("garbage handshake");
}

#[test]
fn a_tls_handshake_never_answered_is_75_within_the_timeout() {
    let run = play_with(
        |s| {
            s.on(
                "STARTTLS",
                Act::ReplyThenSilence(b"$T OK begin TLS\r\n".to_vec()),
            )
        },
        "",
        &[],
    );
    run.expect(75, "silent handshake");
    assert!(run.took >= Duration::from_millis(1900), "{:?}", run.took);
    run.no_credential("silent handshake");
}

#[test]
fn bytes_injected_after_the_starttls_ok_abort_with_76_and_nothing_after() {
    let injections: [&[u8]; 3] = [
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
        b"a3 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n",
        b"\x16\x03\x01",
    ];
    for injected in injections {
        let what = format!("injected {:?}", String::from_utf8_lossy(injected));
        let run = play_with(
            |s| {
                let mut bytes = b"$T OK begin TLS\r\n".to_vec();
                bytes.extend_from_slice(injected);
                s.on("STARTTLS", Act::ReplyThenSilence(bytes))
            },
            "",
            &[],
        );
        run.expect(76, &what);
        run.no_credential(&what);
        let after = after_starttls(&run.log);
        assert!(
            after.is_empty(),
            "{what}: sent after STARTTLS: {:?}",
            String::from_utf8_lossy(&after)
        );
        assert!(
            run.stderr().contains("injection"),
            "{what}: {}",
            run.stderr()
        );
    }
}

#[test]
fn injection_with_a_real_handshake_after_it_still_aborts() {
    // The server goes on to a proper handshake: the client must not.
    let ok = b"$T OK begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n".to_vec();
    let run = play_with(|s| s.on("STARTTLS", Act::StartTls(ok)), "", &[]);
    run.expect(76, "injection then handshake");
    run.no_credential("injection then handshake");
    assert!(run.log.tls.is_empty(), "{:?}", run.log.tls_lines);
}

// ---------------------------------------------------------------------
// Capabilities across TLS.

#[test]
fn logindisabled_after_tls_is_77_without_login() {
    let run = play_with(
        |mut s| {
            s.caps = "IMAP4rev1 STARTTLS AUTH=PLAIN SASL-IR".into();
            s.tls_caps = "IMAP4rev1 LOGINDISABLED".into();
            s
        },
        "INBOX",
        &[],
    );
    run.expect(77, "LOGINDISABLED over TLS");
    run.no_credential("LOGINDISABLED over TLS");
    assert!(run.log.tls_lines.iter().any(|l| l.ends_with(" CAPABILITY")));
}

#[test]
fn auth_plain_offered_only_before_tls_is_not_used() {
    for starttls_ok in [
        "$T OK begin TLS\r\n",
        "$T OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] begin TLS\r\n",
    ] {
        let what = format!("STARTTLS answered {starttls_ok:?}");
        let run = play_with(
            |mut s| {
                s.caps = "IMAP4rev1 STARTTLS AUTH=PLAIN SASL-IR".into();
                s.tls_caps = "IMAP4rev1".into();
                s.on("STARTTLS", Act::StartTls(starttls_ok.as_bytes().to_vec()))
            },
            "",
            &[],
        );
        run.expect(0, &what);
        let auth = run.log.received("AUTHENTICATE");
        assert!(!auth, "{what}: {:?}", run.log.lines);
        let login = run.log.tls_lines.iter().any(|l| l.contains(" LOGIN "));
        assert!(login, "{what}: {:?}", run.log.tls_lines);
        assert_password_absent(&run.log.plain, &what);
        assert_eq!(run.stdout(), "INBOX\t1\t0\t-\n", "{what}");
    }
}

// ---------------------------------------------------------------------
// PREAUTH, referrals, untagged data before STARTTLS.

#[test]
fn a_preauth_greeting_is_76_when_tls_is_required() {
    for greeting in [
        "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in already\r\n",
        "* PREAUTH logged in already\r\n",
    ] {
        let run = play_with(
            |mut s| {
                s.greeting = reply(greeting);
                s
            },
            "INBOX",
            STORE,
        );
        run.expect(76, greeting);
        run.no_credential(greeting);
        run.nothing_stored(greeting);
        for verb in ["STARTTLS", "EXAMINE", "UID"] {
            assert!(!run.log.received(verb), "{greeting}: {:?}", run.log.lines);
        }
    }
}

#[test]
fn a_login_referral_is_77_and_not_followed() {
    let run = play_with(
        |mut s| {
            s.tls_caps = "IMAP4rev1".into();
            s.on(
                "LOGIN",
                reply("$T NO [REFERRAL imap://alice@127.0.0.1:1/] try there\r\n"),
            )
        },
        "INBOX",
        &[],
    );
    run.expect(77, "LOGIN referral");
    let login = run.log.tls_lines.iter().any(|l| l.contains(" LOGIN "));
    assert!(login, "{:?}", run.log.tls_lines);
    assert_eq!(run.log.served, 1);
    assert_eq!(run.log.extra_connections, 0, "a second connection was made");
    assert_password_absent(&run.log.plain, "LOGIN referral");
}

#[test]
fn a_mailbox_referral_is_not_followed() {
    let run = play_with(
        |s| {
            s.on(
                "EXAMINE",
                reply("$T NO [REFERRAL imap://alice@127.0.0.1:1/INBOX] elsewhere\r\n"),
            )
        },
        "INBOX",
        &[],
    );
    run.expect(67, "EXAMINE referral");
    assert_eq!(run.log.extra_connections, 0, "a second connection was made");
}

#[test]
fn untagged_data_before_starttls_is_ignored() {
    let before = "* 3 EXISTS\r\n* 1 FETCH (UID 9 FLAGS (\\Seen))\r\n\
                  * LIST () \"/\" Planted\r\n* SEARCH 9\r\n";
    let greeting = format!("* OK hello\r\n{before}");
    let run = play_with(
        |mut s| {
            s.greeting = reply(&greeting);
            s.on("CAPABILITY", Act::Before(before.as_bytes().to_vec()))
                .on("STARTTLS", Act::Before(before.as_bytes().to_vec()))
        },
        "",
        &[],
    );
    run.expect(0, "untagged data before STARTTLS");
    assert_eq!(run.stdout(), "INBOX\t1\t0\t-\n");
    assert_password_absent(&run.log.plain, "untagged data before STARTTLS");
    // What follows still decides: LOGINDISABLED over TLS.
    let run = play_with(
        |mut s| {
            s.tls_caps = "IMAP4rev1 LOGINDISABLED".into();
            s.on("CAPABILITY", Act::Before(before.as_bytes().to_vec()))
        },
        "",
        &[],
    );
    run.expect(77, "untagged data, then LOGINDISABLED");
    run.no_credential("untagged data, then LOGINDISABLED");
}

// ---------------------------------------------------------------------
// Invalid greetings and hostile text.

#[test]
fn an_invalid_greeting_is_76_before_anything_is_sent() {
    for greeting in [
        "HTTP/1.1 200 OK\r\n",
        "+OK POP3 ready\r\n",
        "220 smtp.example ESMTP\r\n",
        "* NO go away\r\n",
        "a1 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] early\r\n",
        "* OK [CAPABILITY IMAP4rev1 STARTTLS\r\n",
        "\r\n",
    ] {
        let run = play_with(
            |mut s| {
                s.greeting = reply(greeting);
                s
            },
            "",
            &[],
        );
        run.expect(76, greeting);
        run.no_credential(greeting);
        assert!(!run.log.received("STARTTLS"), "{:?}", run.log.lines);
    }
}

#[test]
fn control_characters_in_server_text_never_reach_the_terminal_raw() {
    let hostile = "\x1b[2J\x1b]0;owned\x07\x1b[31mred\x08\x7f\x00";
    let cases: Vec<(String, String, &str, i32)> = vec![
        (
            "greeting".into(),
            format!("* OK [ALERT] {hostile} hello\r\n"),
            "",
            0,
        ),
        (
            "STARTTLS".into(),
            format!("$T NO [ALERT] {hostile} no TLS\r\n"),
            "STARTTLS",
            76,
        ),
        (
            "AUTHENTICATE".into(),
            format!("$T NO [ALERT] {hostile} refused\r\n"),
            "AUTHENTICATE",
            77,
        ),
        (
            "LIST".into(),
            format!(
                "* LIST () \"/\" \"{}\"\r\n$T OK [ALERT] {hostile}\r\n",
                "\x1b[31mEvil"
            ),
            "LIST",
            0,
        ),
        (
            "BYE".into(),
            format!("* BYE [ALERT] {hostile}\r\n"),
            "EXAMINE",
            75,
        ),
    ];
    for (what, text, at, want) in cases {
        for verbose in [false, true] {
            let what = format!("{what}, -v {verbose}");
            let args: &[&str] = if verbose { &["-v"] } else { &[] };
            let run = play_with(
                |mut s| match at {
                    "" => {
                        s.greeting = reply(&text);
                        s
                    }
                    _ => s.on(at, reply(&text)),
                },
                if at == "EXAMINE" { "INBOX" } else { "" },
                args,
            );
            // expect() checks stdout and stderr for raw control bytes.
            run.expect(want, &what);
            if verbose {
                assert!(run.stderr().contains("red"), "{what}: {}", run.stderr());
            }
        }
    }
}

// ---------------------------------------------------------------------
// Endless data, huge literals, trickling, resets.

/// An endless action.
fn endless(prefix: &str, chunk: &str) -> Act {
    Act::Endless {
        prefix: prefix.as_bytes().to_vec(),
        chunk: chunk.as_bytes().to_vec(),
    }
}

/// Runs each (what, command answered, action, path, args) and checks the
/// status is one of `allowed`, no credential where none was due, nothing
/// stored, and the bounds.
fn hostile_cases<W: AsRef<str>>(cases: Vec<(W, &str, Act, &str, &[&str])>, allowed: &[i32]) {
    let mut failed = Vec::new();
    for (what, at, act, path, args) in cases {
        let what = what.as_ref();
        let run = play_with(
            |mut s| match at {
                "greeting" => {
                    s.greeting = act;
                    s
                }
                _ => s.on(at, act),
            },
            path,
            args,
        );
        let code = run.code();
        eprintln!("{what}: exit {code}, {:?}, {} KiB", run.took, run.kib);
        let checked = std::panic::catch_unwind(|| {
            assert!(
                allowed.contains(&code),
                "{what}: exit {code}: {}",
                run.stderr()
            );
            run.bounded(what);
            if ["greeting", "CAPABILITY", "STARTTLS"].contains(&at) {
                run.no_credential(what);
            } else {
                assert_password_absent(&run.log.plain, what);
            }
            run.nothing_stored(what);
        });
        if checked.is_err() {
            failed.push(what.to_string());
        }
    }
    assert!(failed.is_empty(), "failed: {failed:?}");
}

#[test]
fn an_endless_line_is_76_within_bounds() {
    hostile_cases(
        vec![
            (
                "endless greeting",
                "greeting",
                endless("* OK ", "x"),
                "",
                &[],
            ),
            (
                "endless CAPABILITY line",
                "CAPABILITY",
                endless("* CAPABILITY IMAP4rev1 ", "X"),
                "",
                &[],
            ),
            (
                "endless STARTTLS completion",
                "STARTTLS",
                endless("$T OK ", "y"),
                "",
                &[],
            ),
            (
                "endless FETCH line",
                "UID FETCH",
                endless("* 1 FETCH (UID 1 FLAGS (", "\\Seen "),
                "INBOX",
                STORE,
            ),
        ],
        &[76],
    );
}

#[test]
fn endless_untagged_responses_end_within_bounds() {
    hostile_cases(
        vec![
            (
                "CAPABILITY responses forever",
                "CAPABILITY",
                endless("", "* CAPABILITY IMAP4rev1 STARTTLS\r\n"),
                "",
                &[],
            ),
            (
                "OK responses forever at STARTTLS",
                "STARTTLS",
                endless("", "* OK [ALERT] still here\r\n"),
                "",
                &[],
            ),
            (
                "EXISTS forever at EXAMINE",
                "EXAMINE",
                endless("", "* 1 EXISTS\r\n"),
                "INBOX",
                STORE,
            ),
            (
                "SEARCH forever",
                "UID SEARCH",
                endless("", "* SEARCH 1 2 3 4 5 6 7 8 9\r\n"),
                "INBOX",
                &[],
            ),
            (
                "LIST forever",
                "LIST",
                endless("", "* LIST () \"/\" \"a folder name\"\r\n"),
                "",
                &[],
            ),
            (
                "FETCH flag updates forever",
                "UID FETCH",
                endless("", "* 1 FETCH (FLAGS (\\Seen))\r\n"),
                "INBOX",
                STORE,
            ),
        ],
        &[75, 76],
    );
}

#[test]
fn a_literal_of_18446744073709551615_octets_is_refused_within_bounds() {
    let huge = "{18446744073709551615}\r\n";
    let list = format!("* LIST () \"/\" {huge}");
    let header = format!(
        "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 5 BODY[HEADER.FIELDS (DATE FROM SUBJECT \
         MESSAGE-ID)] {huge}"
    );
    let body = format!("* 1 FETCH (UID 1 BODY[] {huge}");
    let capability = format!("* CAPABILITY {huge}");
    hostile_cases(
        vec![
            (
                "in CAPABILITY",
                "CAPABILITY",
                Act::ReplyThenSilence(capability.into_bytes()),
                "",
                &[],
            ),
            (
                "in LIST",
                "LIST",
                Act::ReplyThenSilence(list.into_bytes()),
                "",
                &[],
            ),
            (
                "in header fields",
                "UID FETCH",
                Act::ReplyThenSilence(header.into_bytes()),
                "INBOX",
                &[],
            ),
            (
                "as a message",
                "UID FETCH 1 (UID BODY",
                endless(&body, "z"),
                "INBOX",
                STORE,
            ),
        ],
        &[75, 76],
    );
}

#[test]
fn a_literal_declaring_2_gib_then_closing_stores_nothing() {
    let body = "* 1 FETCH (UID 1 BODY[] {2147483648}\r\nSubject: big\r\n\r\nsome of it\r\n";
    let header = "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 2147483648 BODY[HEADER.FIELDS \
                  (DATE FROM SUBJECT MESSAGE-ID)] {2147483648}\r\nSubject: big\r\n";
    hostile_cases(
        vec![
            (
                "2 GiB message, --new",
                "UID FETCH 1 (UID BODY",
                Act::ReplyThenClose(body.as_bytes().to_vec()),
                "INBOX",
                STORE,
            ),
            (
                "2 GiB message, --fetch",
                "UID FETCH 1 (UID BODY",
                Act::ReplyThenClose(body.as_bytes().to_vec()),
                "INBOX",
                &["--fetch", "1"],
            ),
            (
                "2 GiB header fields",
                "UID FETCH",
                Act::ReplyThenClose(header.as_bytes().to_vec()),
                "INBOX",
                &[],
            ),
        ],
        &[75, 76],
    );
}

#[test]
fn one_byte_a_second_is_75_within_the_timeout() {
    let prefix = format!("* 1 FETCH (UID 1 BODY[] {{{}}}\r\n", MESSAGE.len());
    let message = format!("{})\r\n$T OK done\r\n", String::from_utf8_lossy(MESSAGE));
    hostile_cases(
        vec![
            (
                "greeting",
                "greeting",
                Act::Trickle {
                    prefix: vec![],
                    slow: b"* OK scripted IMAP ready\r\n".to_vec(),
                },
                "",
                &[],
            ),
            (
                "CAPABILITY",
                "CAPABILITY",
                Act::Trickle {
                    prefix: vec![],
                    slow: b"* CAPABILITY IMAP4rev1 STARTTLS\r\n$T OK done\r\n".to_vec(),
                },
                "",
                &[],
            ),
            (
                "message literal",
                "UID FETCH 1 (UID BODY",
                Act::Trickle {
                    prefix: prefix.into_bytes(),
                    slow: message.into_bytes(),
                },
                "INBOX",
                STORE,
            ),
        ],
        &[75],
    );
}

#[test]
fn a_reset_at_each_step_is_75_within_bounds() {
    let steps: [(&str, &str, &[&str]); 9] = [
        ("greeting", "greeting", &[]),
        ("CAPABILITY", "CAPABILITY", &[]),
        ("STARTTLS", "STARTTLS", &[]),
        ("AUTHENTICATE", "AUTHENTICATE", STORE),
        ("EXAMINE", "EXAMINE", STORE),
        ("SEARCH", "UID SEARCH", STORE),
        ("FETCH of the listing", "UID FETCH 1 (UID FLAGS", &[]),
        ("FETCH of the sizes", "UID FETCH 1 (UID RFC822.SIZE", STORE),
        ("FETCH of the message", "UID FETCH 1 (UID BODY", STORE),
    ];
    for (act, name) in [(Act::Reset, "reset"), (Act::Close, "close")] {
        let cases = steps
            .iter()
            .map(|(what, at, args)| {
                (
                    format!("{name} at {what}"),
                    *at,
                    act.clone(),
                    "INBOX",
                    *args,
                )
            })
            .collect();
        hostile_cases(cases, &[75]);
    }
}

#[test]
fn literals_kept_in_memory_stay_within_bounds() {
    // Header-field literals just under the per-literal bound (16 MiB):
    // many in one response, and many responses to one command. The bounds
    // on a response and on a command must keep the total small.
    let literal = format!("{{{}}}\r\n{}", 15 << 20, "h".repeat(15 << 20));
    let item = format!(" BODY[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)] {literal}");
    let one_response = format!(
        "* 1 FETCH (UID 1 FLAGS () RFC822.SIZE 5{})\r\n$T OK done\r\n",
        item.repeat(6)
    );
    let plan_item = format!(" BODY[HEADER.FIELDS (MESSAGE-ID)] {literal}");
    let many_responses = format!(
        "{}$T OK done\r\n",
        format!("* 1 FETCH (UID 1 RFC822.SIZE 5{plan_item})\r\n").repeat(6)
    );
    hostile_cases(
        vec![
            (
                "6 literals of 15 MiB in one FETCH",
                "UID FETCH",
                Act::ReplyThenSilence(one_response.into_bytes()),
                "INBOX",
                &[],
            ),
            (
                "6 FETCH responses of 15 MiB to one command",
                "UID FETCH 1 (UID RFC822.SIZE",
                Act::ReplyThenSilence(many_responses.into_bytes()),
                "INBOX",
                STORE,
            ),
        ],
        &[76],
    );
}
