//! pop3-fetch against hostile POP3 servers (a scripted server with real
//! STLS), listing and fetching into a Maildir (with `--delete`, and
//! keeping where it matters): STLS missing, refused, answered with garbage
//! or followed by injected bytes (with a handshake after or not); garbage
//! instead of a TLS handshake, or one never finished; capabilities that
//! change across TLS; invalid greetings; response codes and control
//! characters in server text; endless lines and multi-line responses
//! (CAPA, LIST, UIDL, RETR); STAT counts past the bound, a message listed
//! twice, a UIDL two messages share; sizes of 2 GiB and 2^64 - 1; a byte a
//! second in each phase; a reset or a close at every step, and the run
//! after it; the largest maildrop taken.
//!
//! What pop3_faults proves already (a RETR cut at many points, no
//! terminating line, RFC 2449 codes deciding the status, SIGKILL, a full
//! disk) is not repeated here. Each run here checks the exit status, that
//! no credential went out where it must not (the password, or a base64
//! form of it), that nothing was stored half and nothing deleted before it
//! was stored durably, that the run ended within `--timeout` plus a
//! second, that its peak memory stayed under 64 MiB, and that no raw
//! control character reached stdout or stderr.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::Scratch;
use common::hostile::{self, MAX_KIB, PASSWORD, Ran};
use common::pop3_script::{Action, Pop3Log, Pop3Script, capa};

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_pop3-fetch");
/// A fetch that stores into the run's Maildir and deletes what it stored.
const FETCH: &[&str] = &["--maildir", "--delete"];
/// A listing.
const LIST: &[&str] = &[];
/// A fetch that stores into the run's Maildir and keeps the messages.
const KEEP: &[&str] = &["--maildir"];

/// The two messages on the server (CRLF; the second needs dot-stuffing).
fn messages() -> Vec<Vec<u8>> {
    vec![
        b"From: Ann <ann@example.org>\r\nSubject: one\r\nMessage-ID: <1@adv>\r\n\r\nfirst\r\n"
            .to_vec(),
        b"From: Bob <bob@example.org>\r\nSubject: two\r\nMessage-ID: <2@adv>\r\n\r\n.\r\n..x\r\nsecond\r\n"
            .to_vec(),
    ]
}

/// CRLF turned into LF (how messages are stored by default).
fn lf(data: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(data)
        .replace("\r\n", "\n")
        .into_bytes()
}

/// The files in a directory (none when it does not exist).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

/// The messages stored in a Maildir's new/ and cur/.
fn stored(maildir: &Path) -> Vec<Vec<u8>> {
    let mut files = files_in(&maildir.join("new"));
    files.extend(files_in(&maildir.join("cur")));
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

/// One run of pop3-fetch against a scripted server.
struct Run {
    /// The tool's output, time and memory.
    ran: Ran,
    /// What the server got.
    log: Pop3Log,
    /// The run's files (Maildir, state, certificate, password).
    dir: Scratch,
}

impl std::ops::Deref for Run {
    type Target = Ran;
    fn deref(&self) -> &Ran {
        &self.ran
    }
}

impl Run {
    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    fn state(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("state")).unwrap_or_default()
    }

    /// The exit status is `want`, within the time and memory bounds.
    fn expect(&self, want: i32, what: &str) {
        self.ran.expect_status(want, what, &self.log.lines);
    }

    /// The password went nowhere, in any form, and no login was tried.
    fn no_credential(&self, what: &str) {
        self.password_not_in(&self.log.lines, what);
        for verb in ["USER", "PASS", "AUTH", "APOP"] {
            assert!(
                !self.log.received(verb),
                "{what}: {verb} sent: {:?}",
                self.log.lines
            );
        }
    }

    /// The password (or a base64 form of it) is in none of `lines`.
    fn password_not_in(&self, lines: &[String], what: &str) {
        hostile::assert_password_absent(&lines.join("\n"), PASSWORD, what);
    }

    /// Nothing in the Maildir's new/, cur/ or tmp/, nothing recorded as
    /// stored, nothing deleted.
    fn nothing_stored(&self, what: &str) {
        for sub in ["new", "cur", "tmp"] {
            let entries = files_in(&self.maildir().join(sub));
            assert!(entries.is_empty(), "{what}: {sub}/ holds {entries:?}");
        }
        let state = self.state();
        assert!(!state.contains("uid-"), "{what}: recorded: {state:?}");
        self.nothing_deleted_unstored(what);
        assert!(!self.log.received("DELE"), "{what}: {:?}", self.log.lines);
    }

    /// No DELE came before its message was stored durably, and every
    /// message stored is whole and there once.
    fn nothing_deleted_unstored(&self, what: &str) {
        assert!(
            self.log.dele_before_store.is_empty(),
            "{what}: DELE before the message was stored: {:?}",
            self.log.dele_before_store
        );
        let got = stored(&self.maildir());
        let want: Vec<Vec<u8>> = messages().iter().map(|m| lf(m)).collect();
        for m in &got {
            assert!(want.contains(m), "{what}: stored half or wrong: {m:?}");
        }
        for m in &want {
            let copies = got.iter().filter(|g| *g == m).count();
            assert!(copies <= 1, "{what}: stored {copies} times");
        }
    }

    /// Runs again into the same Maildir and state against a well-behaved
    /// server: exit 0, each message stored exactly once, none fetched
    /// again that was stored, every message deleted.
    fn then_a_good_run_repeats_nothing(self, what: &str) {
        let before = stored(&self.maildir());
        let script = script_in(&self.dir);
        let again = play(self.dir, script, &["--maildir", "--delete", "--new"]);
        let what = format!("{what}, then a good run");
        again.expect(0, &what);
        let want: Vec<Vec<u8>> = messages().iter().map(|m| lf(m)).collect();
        for (n, m) in want.iter().enumerate() {
            if before.contains(m) {
                let retr = format!("RETR {}", n + 1);
                assert!(!again.log.received(&retr), "{what}: fetched again");
            }
        }
        let mut got = stored(&again.maildir());
        got.sort();
        assert_eq!(got, want, "{what}: each message once");
        assert_eq!(again.log.committed_deletions, vec![1, 2], "{what}");
        assert!(files_in(&again.maildir().join("tmp")).is_empty(), "{what}");
        again.nothing_deleted_unstored(&what);
    }
}

/// A server with a fresh certificate in `dir`, STLS, USER, UIDL, TOP and
/// RESP-CODES, the same over TLS, keeping [`messages`].
fn script(dir: &Scratch) -> Pop3Script {
    common::tlscert::TlsCert::generate(dir.path());
    script_in(dir)
}

/// [`script`] with the certificate already in `dir`, and a check at each
/// DELE that the message is stored in the Maildir there.
fn script_in(dir: &Scratch) -> Pop3Script {
    let mut script = Pop3Script::new(messages());
    script.capa = Some(capa(&["USER", "UIDL", "TOP", "RESP-CODES", "STLS"]));
    script.tls = Some((dir.path().join("cert.pem"), dir.path().join("key.pem")));
    let maildir = dir.path().join("Maildir");
    script.stored_check = Some(Arc::new(move |n| {
        stored(&maildir).contains(&lf(&messages()[n - 1]))
    }));
    script
}

/// Serves `script` and runs `pop3-fetch pop3://alice@127.0.0.1:PORT ARGS`
/// with the password file, `--cafile`, `--timeout 2` and `--state` in
/// `dir`, under GNU time. `--maildir` in `args` is followed by the run's
/// Maildir.
fn play(dir: Scratch, script: Pop3Script, args: &[&str]) -> Run {
    let (port, server) = script.start();
    let ran = hostile::measured(dir.path(), b"", |command| {
        command
            .arg(BIN)
            .arg(format!("pop3://alice@127.0.0.1:{port}"))
            .args(hostile::session_args(dir.path()));
        for arg in args {
            match *arg {
                "--maildir" => command
                    .arg("--maildir")
                    .arg(dir.path().join("Maildir"))
                    .arg("--state")
                    .arg(dir.path().join("state")),
                other => command.arg(other),
            };
        }
        command.env("XDG_STATE_HOME", dir.path().join("xdg"));
    });
    let log = server.join().unwrap();
    Run { ran, log, dir }
}

/// [`play`] in a new directory with a fresh certificate, the script made
/// from the base one by `edit`.
fn play_with(edit: impl FnOnce(Pop3Script) -> Pop3Script, args: &[&str]) -> Run {
    let dir = Scratch::new();
    let script = edit(script(&dir));
    play(dir, script, args)
}

/// A reply as bytes.
fn reply(text: &str) -> Action {
    Action::Reply(text.as_bytes().to_vec())
}

/// Whether `mode` is a fetch.
fn fetching(mode: &[&str]) -> bool {
    mode.contains(&"--maildir")
}

// ---------------------------------------------------------------------
// The scripted server itself.

#[test]
fn the_scripted_server_lists_and_fetches_over_stls() {
    let run = play_with(|s| s, LIST);
    run.expect(0, "a listing");
    let m = messages();
    let want = format!("1\t{}\tuid-1\n2\t{}\tuid-2\n", m[0].len(), m[1].len());
    assert_eq!(run.stdout(), want);
    run.password_not_in(&run.log.plain_lines, "plain text");
    assert!(run.log.tls_lines.iter().any(|l| l.starts_with("PASS")));
    let run = play_with(|s| s, FETCH);
    run.expect(0, "a fetch");
    run.nothing_deleted_unstored("a fetch");
    assert_eq!(stored(&run.maildir()).len(), 2);
    assert_eq!(run.log.committed_deletions, vec![1, 2]);
}

// ---------------------------------------------------------------------
// STLS.

#[test]
fn stls_missing_refused_or_answered_with_garbage_is_76_before_any_credential() {
    let answers: [(&str, Action); 5] = [
        ("refused", reply("-ERR not now\r\n")),
        ("refused with a code", reply("-ERR [SYS/TEMP] later\r\n")),
        (
            "answered with garbage",
            reply("HTTP/1.1 400 Bad Request\r\n"),
        ),
        ("answered +OKAY", reply("+OKAY\r\n")),
        ("answered with an empty line", reply("\r\n")),
    ];
    for mode in [LIST, FETCH] {
        let what = format!("STLS not offered, {mode:?}");
        let run = play_with(
            |mut s| {
                s.capa = Some(capa(&["USER", "UIDL", "SASL PLAIN", "PIPELINING"]));
                s
            },
            mode,
        );
        run.expect(76, &what);
        run.no_credential(&what);
        run.nothing_stored(&what);
        assert!(!run.log.received("STLS"), "{what}: {:?}", run.log.lines);
        assert!(run.stderr().contains("STLS"), "{what}: {}", run.stderr());
        for (how, answer) in &answers {
            let what = format!("STLS {how}, {mode:?}");
            let run = play_with(|s| s.on("STLS", answer.clone()), mode);
            run.expect(76, &what);
            run.no_credential(&what);
            run.nothing_stored(&what);
            assert!(run.log.tls_lines.is_empty(), "{what}: TLS went ahead");
        }
    }
}

#[test]
fn bytes_injected_after_the_stls_ok_abort_with_76_and_nothing_after() {
    let injections: [&[u8]; 4] = [
        b"+OK\r\n",
        b"+OK capabilities\r\nSASL PLAIN\r\nUSER\r\nUIDL\r\n.\r\n",
        b"-ERR [SYS/PERM] injected\r\n",
        b"\x16\x03\x01",
    ];
    for injected in injections {
        for handshake in [false, true] {
            let what = format!(
                "injected {:?}, handshake after: {handshake}",
                String::from_utf8_lossy(injected)
            );
            let run = play_with(
                |s| match handshake {
                    true => s.on(
                        "STLS",
                        Action::StartTls {
                            injected: injected.to_vec(),
                        },
                    ),
                    false => {
                        let mut bytes = b"+OK begin TLS\r\n".to_vec();
                        bytes.extend_from_slice(injected);
                        s.on("STLS", Action::ReplyThenSilence(bytes))
                    }
                },
                FETCH,
            );
            run.expect(76, &what);
            run.no_credential(&what);
            run.nothing_stored(&what);
            let last = run.log.lines.last().map(String::as_str);
            assert_eq!(last, Some("STLS"), "{what}: sent after STLS");
            assert!(
                run.stderr().contains("injection"),
                "{what}: {}",
                run.stderr()
            );
        }
    }
}

#[test]
fn garbage_instead_of_a_tls_handshake_is_76() {
    let garbages: [&[u8]; 2] = [
        b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\x01\x02 not TLS at all",
        // A TLS alert record: handshake failure.
        b"\x15\x03\x03\x00\x02\x02\x28",
    ];
    for garbage in garbages {
        for mode in [LIST, FETCH] {
            let what = format!("garbage handshake {garbage:?}, {mode:?}");
            let run = play_with(
                |s| s.on("STLS", Action::GarbageHandshake(garbage.to_vec())),
                mode,
            );
            run.expect(76, &what);
            run.no_credential(&what);
            run.nothing_stored(&what);
        }
    }
}

#[test]
fn a_tls_handshake_never_finished_is_75_within_the_timeout() {
    // The start of a ServerHello record, and then nothing.
    let partial = b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03".to_vec();
    let run = play_with(|s| s.on("STLS", Action::GarbageHandshake(partial)), FETCH);
    run.expect(75, "half a ServerHello");
    assert!(run.took >= Duration::from_millis(1900), "{:?}", run.took);
    run.no_credential("half a ServerHello");
    run.nothing_stored("half a ServerHello");
}

// ---------------------------------------------------------------------
// Capabilities across TLS.

#[test]
fn only_the_capabilities_after_tls_count() {
    // SASL PLAIN and PIPELINING offered before TLS only: USER/PASS over
    // TLS, commands in lock-step; with PIPELINING over TLS (the check's
    // own check) they are pipelined.
    for pipelining in [false, true] {
        let what = format!("PIPELINING over TLS: {pipelining}");
        let run = play_with(
            |mut s| {
                s.capa = Some(capa(&["STLS", "SASL PLAIN", "PIPELINING", "UIDL", "USER"]));
                let mut after = capa(&["USER", "UIDL", "TOP"]);
                if pipelining {
                    after.push("PIPELINING".into());
                }
                s.tls_capa = Some(after);
                s.lockstep_check = true;
                s
            },
            FETCH,
        );
        run.expect(0, &what);
        assert!(!run.log.received("AUTH"), "{what}: {:?}", run.log.lines);
        assert_eq!(
            run.log.early.is_empty(),
            !pipelining,
            "{what}: {:?}",
            run.log.early
        );
        assert!(run.log.tls_lines.iter().any(|l| l.starts_with("PASS")));
        run.password_not_in(&run.log.plain_lines, &what);
        run.nothing_deleted_unstored(&what);
        assert_eq!(run.log.committed_deletions, vec![1, 2], "{what}");
    }

    // UIDL offered before TLS only: not asked for.
    let run = play_with(
        |mut s| {
            s.tls_capa = Some(capa(&["USER", "TOP", "RESP-CODES"]));
            s
        },
        LIST,
    );
    run.expect(0, "UIDL before TLS only");
    let m = messages();
    assert_eq!(
        run.stdout(),
        format!("1\t{}\t-\n2\t{}\t-\n", m[0].len(), m[1].len())
    );
    assert!(!run.log.received("UIDL"), "{:?}", run.log.lines);

    // UIDL before TLS only: --new cannot know what it stored.
    let run = play_with(
        |mut s| {
            s.tls_capa = Some(capa(&["USER", "TOP"]));
            s
        },
        &["--maildir", "--delete", "--new"],
    );
    run.expect(76, "UIDL before TLS only, --new");
    run.nothing_stored("UIDL before TLS only, --new");
    assert!(!run.log.received("RETR"), "{:?}", run.log.lines);

    // USER before TLS only, and no SASL after: no login method at all.
    for mode in [LIST, FETCH] {
        let what = format!("USER before TLS only, {mode:?}");
        let run = play_with(
            |mut s| {
                s.capa = Some(capa(&["STLS", "USER", "SASL PLAIN", "UIDL"]));
                s.tls_capa = Some(capa(&["UIDL", "TOP"]));
                s
            },
            mode,
        );
        run.expect(77, &what);
        run.no_credential(&what);
        run.nothing_stored(&what);
    }

    // SASL PLAIN after TLS only: AUTH PLAIN over TLS, and it works.
    let run = play_with(
        |mut s| {
            s.capa = Some(capa(&["STLS", "USER"]));
            s.tls_capa = Some(capa(&["SASL PLAIN", "UIDL"]));
            s
        },
        FETCH,
    );
    run.expect(0, "SASL PLAIN after TLS only");
    assert!(
        run.log
            .tls_lines
            .iter()
            .any(|l| l.starts_with("AUTH PLAIN"))
    );
    assert!(!run.log.received("USER"), "{:?}", run.log.lines);
    run.password_not_in(&run.log.plain_lines, "plain text");
    run.nothing_deleted_unstored("SASL PLAIN after TLS only");
    assert_eq!(run.log.committed_deletions, vec![1, 2]);
}

// ---------------------------------------------------------------------
// Invalid greetings and hostile text.

#[test]
fn an_invalid_greeting_is_76_before_anything_is_sent() {
    let greetings: [&[u8]; 8] = [
        b"HTTP/1.1 200 OK\r\n",
        b"* OK IMAP4rev1 ready\r\n",
        b"220 smtp.example ESMTP\r\n",
        b"+OKAY\r\n",
        b"\r\n",
        b"\x00\xff\x16\x03\x01\x02\r\n",
        b"\x1b[2J\x1b]0;owned\x07\r\n",
        b"OK\r\n",
    ];
    for greeting in greetings {
        for mode in [LIST, FETCH] {
            let what = format!("greeting {greeting:?}, {mode:?}");
            let run = play_with(
                |mut s| {
                    s.greeting = Action::Reply(greeting.to_vec());
                    s
                },
                mode,
            );
            run.expect(76, &what);
            run.no_credential(&what);
            run.nothing_stored(&what);
            assert!(run.log.lines.is_empty(), "{what}: {:?}", run.log.lines);
        }
    }
}

#[test]
fn control_characters_in_server_text_never_reach_the_terminal_raw() {
    let hostile = "\x1b[2J\x1b]0;owned\x07\x1b[31mred\x08\x7f\x00\u{202e}";
    // (what, command answered, answer, mode, exit status)
    let cases: Vec<(&str, &str, String, &[&str], i32)> = vec![
        (
            "greeting",
            "",
            format!("+OK [ALERT] {hostile} hello\r\n"),
            FETCH,
            0,
        ),
        (
            "greeting refused",
            "",
            format!("-ERR [SYS/PERM] {hostile}\r\n"),
            LIST,
            69,
        ),
        (
            "STLS",
            "STLS",
            format!("-ERR [ALERT] {hostile}\r\n"),
            LIST,
            76,
        ),
        (
            "USER",
            "USER",
            format!("-ERR [AUTH] {hostile}\r\n"),
            LIST,
            77,
        ),
        (
            "PASS",
            "PASS",
            format!("-ERR [IN-USE] {hostile}\r\n"),
            FETCH,
            75,
        ),
        ("STAT", "STAT", format!("+OK {hostile}\r\n"), LIST, 76),
        (
            "LIST",
            "LIST",
            format!("+OK\r\n1 {hostile}\r\n.\r\n"),
            LIST,
            76,
        ),
        (
            "UIDL",
            "UIDL",
            format!("+OK\r\n1 a{hostile}\r\n2 b\r\n.\r\n"),
            LIST,
            0,
        ),
        (
            "UIDL",
            "UIDL",
            format!("+OK\r\n1 a{hostile}\r\n2 b\r\n.\r\n"),
            FETCH,
            0,
        ),
        (
            "RETR",
            "RETR",
            format!("-ERR [SYS/TEMP] {hostile}\r\n"),
            FETCH,
            75,
        ),
        ("DELE", "DELE", format!("-ERR {hostile}\r\n"), FETCH, 69),
        ("QUIT", "QUIT", format!("-ERR {hostile}\r\n"), FETCH, 75),
        (
            "CAPA",
            "CAPA",
            format!("+OK\r\nSTLS\r\nUSER\r\nX-{hostile}\r\n.\r\n"),
            LIST,
            0,
        ),
        (
            "CAPA, --capabilities",
            "CAPA",
            format!("+OK\r\nSTLS\r\nUSER\r\nX-{hostile}\r\n.\r\n"),
            &["--capabilities"],
            0,
        ),
        (
            "greeting, --capabilities",
            "",
            format!("+OK {hostile} <1.2@{hostile}>\r\n"),
            &["--capabilities"],
            0,
        ),
    ];
    for (what, at, text, mode, want) in cases {
        for verbose in [false, true] {
            let what = format!("{what}, -v {verbose}, {mode:?}");
            let mut args = mode.to_vec();
            if verbose {
                args.push("-v");
            }
            let run = play_with(
                |mut s| match at {
                    "" => {
                        s.greeting = reply(&text);
                        s
                    }
                    _ => s.on(at, reply(&text)),
                },
                &args,
            );
            // expect() checks stdout and stderr for raw control bytes.
            run.expect(want, &what);
            run.nothing_deleted_unstored(&what);
            if verbose || want != 0 && !["STLS", "QUIT"].contains(&at) {
                assert!(run.stderr().contains("red"), "{what}: {}", run.stderr());
            }
        }
    }
}

// ---------------------------------------------------------------------
// Endless data, huge sizes, trickling, resets.

/// A hostile case: (what, command answered or `greeting`, action, mode).
type Case<'a, W> = (W, &'a str, Action, &'a [&'a str]);

/// Runs each case and checks the status is one of `allowed`, no
/// credential where none was due, nothing stored or deleted, and the
/// bounds.
fn hostile_cases<W: AsRef<str>>(cases: Vec<Case<'_, W>>, allowed: &[i32]) {
    let failed: Vec<String> = cases
        .into_iter()
        .filter(|case| !hostile_case(case, allowed))
        .map(|case| case.0.as_ref().to_string())
        .collect();
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// [`hostile_cases`] with the cases run at once, each in its thread (for
/// cases that spend their time waiting).
fn hostile_cases_at_once<W: AsRef<str> + Sync>(cases: Vec<Case<'_, W>>, allowed: &[i32]) {
    let failed: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = cases
            .iter()
            .map(|case| scope.spawn(|| (case.0.as_ref().to_string(), hostile_case(case, allowed))))
            .collect();
        runs.into_iter()
            .map(|run| run.join().unwrap())
            .filter(|(_, passed)| !passed)
            .map(|(what, _)| what)
            .collect()
    });
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// One case of [`hostile_cases`]: whether it passed (what failed is on
/// stderr).
fn hostile_case<W: AsRef<str>>(case: &Case<'_, W>, allowed: &[i32]) -> bool {
    let (what, at, action, mode) = case;
    let (what, at) = (what.as_ref(), *at);
    let run = play_with(
        |mut s| match at {
            "greeting" => {
                s.greeting = action.clone();
                s
            }
            _ => s.on(at, action.clone()),
        },
        mode,
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
        if ["greeting", "CAPA", "STLS"].contains(&at) {
            run.no_credential(what);
        } else {
            run.password_not_in(&run.log.plain_lines, what);
        }
        match at.starts_with("DELE") {
            // Stored before DELE; nothing deleted for good.
            true => run.nothing_deleted_unstored(what),
            false => run.nothing_stored(what),
        }
        assert!(run.log.committed_deletions.is_empty(), "{what}");
    });
    checked.is_ok()
}

/// A line without an end after `prefix` (256 MiB of `x` at most).
fn endless_line(prefix: &str) -> Action {
    Action::Endless {
        prefix: prefix.as_bytes().to_vec(),
        total: 256 << 20,
    }
}

/// `prefix`, then `line` numbered 1, 2, 3, ... without end.
fn endless_lines(prefix: &str, line: &str) -> Action {
    Action::EndlessLines {
        prefix: prefix.as_bytes().to_vec(),
        line: line.to_string(),
    }
}

#[test]
fn an_endless_line_is_76_within_bounds() {
    hostile_cases(
        vec![
            ("endless greeting", "greeting", endless_line("+OK "), LIST),
            ("endless CAPA status", "CAPA", endless_line("+OK "), LIST),
            (
                "endless CAPA line",
                "CAPA",
                endless_line("+OK\r\nSASL "),
                LIST,
            ),
            ("endless STLS answer", "STLS", endless_line("+OK "), FETCH),
            ("endless USER answer", "USER", endless_line("+OK "), FETCH),
            ("endless STAT answer", "STAT", endless_line("+OK 2 "), FETCH),
            (
                "endless LIST line",
                "LIST",
                endless_line("+OK\r\n1 "),
                FETCH,
            ),
            ("endless RETR status", "RETR", endless_line("+OK "), FETCH),
            ("endless DELE answer", "DELE", endless_line("+OK "), FETCH),
        ],
        &[76],
    );
}

#[test]
fn endless_multi_line_responses_end_within_bounds() {
    let huge_stat = reply("+OK 4294967295 4294967295\r\n");
    let two_listed = reply("+OK\r\n1 10\r\n2 10\r\n.\r\n");
    let cases: Vec<(&str, &str, Action, &[&str])> = vec![
        (
            "CAPA lines",
            "CAPA",
            endless_lines("+OK\r\n", "X-CAP-$N\r\n"),
            LIST,
        ),
        (
            "CAPA lines of 60 KiB",
            "CAPA",
            endless_lines("+OK\r\n", &format!("X-$N {}\r\n", "c".repeat(60 << 10))),
            LIST,
        ),
        (
            "LIST lines",
            "LIST",
            endless_lines("+OK\r\n", "$N 100\r\n"),
            LIST,
        ),
        (
            "LIST line 1 again",
            "LIST",
            endless_lines("+OK\r\n", "1 100\r\n"),
            FETCH,
        ),
        (
            "UIDL lines",
            "UIDL",
            endless_lines("+OK\r\n", "$N uid-$N\r\n"),
            FETCH,
        ),
        (
            "RETR lines",
            "RETR",
            endless_lines("+OK\r\nSubject: no end\r\n\r\n", "a line of a message\r\n"),
            FETCH,
        ),
    ];
    hostile_cases(cases, &[76]);
    // STAT says 2^32 - 1 messages: LIST and UIDL have no count to stop at.
    for (what, at, action, mode) in [
        (
            "LIST lines, 2^32 - 1 messages",
            "LIST",
            endless_lines("+OK\r\n", "$N 100\r\n"),
            LIST,
        ),
        (
            "LIST line 1 again, 2^32 - 1",
            "LIST",
            endless_lines("+OK\r\n", "1 100\r\n"),
            LIST,
        ),
        (
            "UIDL lines, 2^32 - 1 messages",
            "UIDL",
            endless_lines("+OK\r\n", &format!("$N {}-$N\r\n", "u".repeat(60))),
            FETCH,
        ),
    ] {
        let run = play_with(
            |s| {
                let s = s.on("STAT", huge_stat.clone());
                match at {
                    "UIDL" => s.on("LIST", two_listed.clone()).on(at, action),
                    _ => s.on(at, action),
                }
            },
            mode,
        );
        eprintln!(
            "{what}: exit {}, {:?}, {} KiB",
            run.code(),
            run.took,
            run.kib
        );
        let code = run.code();
        assert!(code == 76 || code == 75, "{what}: {code}: {}", run.stderr());
        run.bounded(what);
        run.nothing_stored(what);
    }
}

#[test]
fn a_message_listed_twice_or_a_shared_uidl_is_76_and_nothing_is_stored_twice_or_lost() {
    // (command, answer, whether the server offers UIDL)
    let cases = [
        // Without UIDL nothing else shows the repeat: message 1 would be
        // fetched and stored twice.
        ("LIST", "+OK\r\n1 10\r\n1 10\r\n.\r\n", false),
        ("LIST", "+OK\r\n1 10\r\n1 10\r\n.\r\n", true),
        ("UIDL", "+OK\r\n1 uid-1\r\n1 uid-1\r\n.\r\n", true),
        // Message 2 would be taken for message 1 once that one is stored.
        ("UIDL", "+OK\r\n1 uid-1\r\n2 uid-1\r\n.\r\n", true),
    ];
    for (at, answer, uidl) in cases {
        for mode in [LIST, FETCH, &["--maildir", "--delete", "--new"]] {
            if !uidl && mode.contains(&"--new") {
                continue;
            }
            let what = format!("{at} answered {answer:?}, UIDL {uidl}, {mode:?}");
            let run = play_with(
                |mut s| {
                    if !uidl {
                        s.capa = Some(capa(&["USER", "TOP", "STLS"]));
                        s.uidl = false;
                    }
                    s.on(at, reply(answer))
                },
                mode,
            );
            run.expect(76, &what);
            run.nothing_stored(&what);
            assert!(!run.log.received("RETR"), "{what}: {:?}", run.log.lines);
        }
    }
}

#[test]
fn sizes_of_2_gib_and_2_pow_64_store_nothing_when_the_message_is_cut() {
    for size in ["2147483648", "18446744073709551615"] {
        let listed = format!("+OK\r\n1 {size}\r\n2 100\r\n.\r\n");
        let stat = format!("+OK 2 {size}\r\n");
        let cut = "+OK message follows\r\nSubject: big\r\n\r\nsome of it\r\n";
        for mode in [LIST, FETCH] {
            let what = format!("LIST says {size}, {mode:?}");
            let run = play_with(
                |s| {
                    s.on("STAT", reply(&stat))
                        .on("LIST", reply(&listed))
                        .on("RETR 1", Action::ReplyThenClose(cut.as_bytes().to_vec()))
                },
                mode,
            );
            match fetching(mode) {
                true => {
                    run.expect(75, &what);
                    run.nothing_stored(&what);
                }
                false => {
                    run.expect(0, &what);
                    assert!(run.stdout().starts_with(&format!("1\t{size}\t")), "{what}");
                }
            }
        }
    }
    // One more than fits: a protocol error, not a panic.
    for at in ["LIST", "STAT"] {
        let what = format!("{at} says 2^64");
        let run = play_with(
            |s| {
                s.on("STAT", reply("+OK 2 18446744073709551616\r\n")).on(
                    "LIST",
                    reply("+OK\r\n1 18446744073709551616\r\n2 1\r\n.\r\n"),
                )
            },
            FETCH,
        );
        run.expect(76, &what);
        run.nothing_stored(&what);
    }
}

#[test]
fn one_byte_a_second_is_75_within_the_timeout() {
    let second = Duration::from_secs(1);
    let slow = |prefix: &str, slow: &str| Action::Slow {
        prefix: prefix.as_bytes().to_vec(),
        slow: slow.as_bytes().to_vec(),
        every: second,
    };
    hostile_cases_at_once(
        vec![
            ("greeting", "greeting", slow("", "+OK ready\r\n"), LIST),
            (
                "CAPA",
                "CAPA",
                slow("+OK\r\n", "STLS\r\nUSER\r\n.\r\n"),
                LIST,
            ),
            ("STLS", "STLS", slow("", "+OK go\r\n"), FETCH),
            ("PASS", "PASS", slow("", "+OK in\r\n"), FETCH),
            (
                "LIST",
                "LIST",
                slow("+OK\r\n", "1 10\r\n2 10\r\n.\r\n"),
                LIST,
            ),
            (
                "UIDL",
                "UIDL",
                slow("+OK\r\n1 uid-1\r\n", "2 uid-2\r\n.\r\n"),
                FETCH,
            ),
            ("RETR", "RETR", Action::Trickle { every: second }, FETCH),
            ("DELE", "DELE 1", slow("", "+OK gone\r\n"), FETCH),
        ],
        &[75],
    );
}

/// The steps of a fetch, as (what, command answered), each reset or
/// closed in turn.
const STEPS: [(&str, &str); 15] = [
    ("greeting", "greeting"),
    ("CAPA", "CAPA"),
    ("STLS", "STLS"),
    ("TLS handshake", "STLS"),
    ("CAPA over TLS", "CAPA"),
    ("USER", "USER"),
    ("PASS", "PASS"),
    ("AUTH", "AUTH"),
    ("STAT", "STAT"),
    ("LIST", "LIST"),
    ("UIDL", "UIDL"),
    ("RETR 1", "RETR 1"),
    ("RETR 1 mid-message", "RETR 1"),
    ("RETR 2", "RETR 2"),
    ("DELE 2", "DELE 2"),
];

#[test]
fn a_reset_at_each_step_is_75_and_the_next_run_repeats_nothing() {
    at_each_step(Action::Reset, "reset");
}

#[test]
fn a_close_at_each_step_is_75_and_the_next_run_repeats_nothing() {
    at_each_step(Action::Close, "close");
}

/// `act` at each of [`STEPS`], listing and fetching: 75, no credential
/// before its time, nothing deleted unstored, and a good run after it
/// stores and deletes each message once.
fn at_each_step(act: Action, name: &str) {
    let half = b"+OK message follows\r\nFrom: Ann <ann@example.org>\r\nSubject: o".to_vec();
    let (in_handshake, mid_message) = match act {
        Action::Reset => (Action::ResetInHandshake, Action::ReplyThenReset(half)),
        _ => (
            Action::ReplyThenClose(b"+OK begin TLS\r\n".to_vec()),
            Action::ReplyThenClose(half),
        ),
    };
    for (step, at) in STEPS {
        for mode in [LIST, FETCH, KEEP] {
            let fetches = at.starts_with("RETR") || at.starts_with("DELE");
            if !fetching(mode) && fetches || mode == KEEP && !at.starts_with("RETR") {
                continue;
            }
            let what = format!("{name} at {step}, {mode:?}");
            let dir = Scratch::new();
            let mut script = script(&dir);
            script = match step {
                "greeting" => {
                    script.greeting = act.clone();
                    script
                }
                // The first CAPA is answered; the one over TLS is not.
                "CAPA over TLS" => script.on_tls(at, act.clone()),
                "TLS handshake" => script.on(at, in_handshake.clone()),
                "RETR 1 mid-message" => script.on(at, mid_message.clone()),
                // AUTH PLAIN offered over TLS: used instead of USER/PASS.
                "AUTH" => {
                    script.tls_capa = Some(capa(&["SASL PLAIN", "UIDL", "TOP"]));
                    script.on(at, act.clone())
                }
                _ => script.on(at, act.clone()),
            };
            let run = play(dir, script, mode);
            run.expect(75, &what);
            let reached = match step {
                "greeting" => true,
                "CAPA over TLS" => run.log.tls_lines.iter().any(|l| l == "CAPA"),
                _ => run.log.received(at),
            };
            assert!(reached, "{what}: never got there: {:?}", run.log.lines);
            if mode == KEEP {
                assert!(!run.log.received("DELE"), "{what}: {:?}", run.log.lines);
            }
            if ["greeting", "CAPA", "STLS", "TLS handshake", "CAPA over TLS"].contains(&step) {
                run.no_credential(&what);
            }
            match step {
                "USER" => run.password_not_in(&run.log.lines, &what),
                _ => run.password_not_in(&run.log.plain_lines, &what),
            }
            run.nothing_deleted_unstored(&what);
            assert!(run.log.committed_deletions.is_empty(), "{what}");
            if fetching(mode) {
                run.then_a_good_run_repeats_nothing(&what);
            }
        }
    }
}

#[test]
fn a_reset_at_quit_after_deleting_keeps_everything_and_the_next_run_repeats_nothing() {
    for act in [Action::Reset, Action::Close] {
        let what = format!("{act:?} at QUIT");
        let run = play_with(|s| s.on("QUIT", act), FETCH);
        run.expect(75, &what);
        run.nothing_deleted_unstored(&what);
        assert_eq!(stored(&run.maildir()).len(), 2, "{what}");
        assert!(run.log.committed_deletions.is_empty(), "{what}");
        run.then_a_good_run_repeats_nothing(&what);
    }
}

#[test]
fn a_maildrop_of_the_most_messages_with_the_longest_uidls_stays_within_bounds() {
    // 2^17 messages (the most a session takes), each with a UIDL of the 70
    // octets RFC 1939 §7 allows: listed, then fetched until a reset.
    let most = 1u32 << 17;
    let mut list = String::from("+OK\r\n");
    let mut uidl = String::from("+OK\r\n");
    for n in 1..=most {
        list.push_str(&format!("{n} 100\r\n"));
        uidl.push_str(&format!("{n} {n:0>70}\r\n"));
    }
    list.push_str(".\r\n");
    uidl.push_str(".\r\n");
    let stat = format!("+OK {most} {}\r\n", 100 * most);
    for mode in [LIST, FETCH] {
        let what = format!("{most} messages, {mode:?}");
        let run = play_with(
            |s| {
                s.on("STAT", reply(&stat))
                    .on("LIST", reply(&list))
                    .on("UIDL", reply(&uidl))
                    .on("RETR", Action::Reset)
            },
            mode,
        );
        eprintln!(
            "{what}: exit {}, {:?}, {} KiB",
            run.code(),
            run.took,
            run.kib
        );
        // A big listing, not a hostile one: memory is what is bounded here
        // (the time is the transfer's).
        assert!(run.kib < MAX_KIB, "{what}: {} KiB at most", run.kib);
        match fetching(mode) {
            true => {
                assert_eq!(run.code(), 75, "{what}: {}", run.stderr());
                run.nothing_stored(&what);
            }
            false => {
                assert_eq!(run.code(), 0, "{what}: {}", run.stderr());
                assert_eq!(run.stdout().lines().count(), most as usize, "{what}");
            }
        }
    }
}
