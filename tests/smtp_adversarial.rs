//! smtp-send (and mx-lookup --probe) against hostile SMTP servers (a
//! scripted server with real STARTTLS): STARTTLS missing, refused, followed
//! by injected bytes, answered with garbage or never completed; extensions
//! that change across TLS; invalid greetings; control characters in server
//! text; endless lines and replies; replies out of range; trickling; a
//! reset or close at every step.
//!
//! Each run checks the exit status, that no credential went out where it
//! must not (the password, or any base64 form of it), that nothing was
//! delivered or queued wrongly (a message deferred by a fault is queued
//! exactly once with `--queue`, one refused is not), that the run ended
//! within `--timeout` plus a second, that its peak memory stayed under
//! 64 MiB, and that no raw control character reached stdout or stderr.

mod common;
#[path = "common/smtp_script.rs"]
#[allow(dead_code)]
mod smtp_script;

use std::path::PathBuf;
use std::time::Duration;

use common::Scratch;
use common::hostile::{self, PASSWORD, Ran, TIMEOUT};
use common::tlscert::TlsCert;
use smtp_script::{Act, SmtpLog, SmtpScript};

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_smtp-send");
/// The message sent (8-bit free).
const MESSAGE: &str = "From: Ann <ann@example.org>\r\nTo: bob@example.test\r\n\
Subject: hello\r\nDate: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
Message-ID: <hello@example.org>\r\n\r\nHello Bob.\r\n";
/// Queue the message when it is deferred.
const QUEUE: &[&str] = &["--queue"];

/// One run of a tool against a scripted server.
struct Run {
    /// The tool's output, time and memory.
    ran: Ran,
    /// What the server got.
    log: SmtpLog,
    /// The queue given with `--queue` (when asked for).
    queue: PathBuf,
    /// Whether `--queue` was given.
    with_queue: bool,
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

    /// The password went nowhere, in any form, and no AUTH was tried.
    fn no_credential(&self, what: &str) {
        assert_password_absent(&self.log.all_bytes(), what);
        assert!(
            !self.log.received("AUTH"),
            "{what}: AUTH sent: {:?}",
            self.log.lines
        );
    }

    /// The server accepted no message.
    fn nothing_delivered(&self, what: &str) {
        assert!(
            self.log.delivered.is_empty(),
            "{what}: delivered {} message(s)",
            self.log.delivered.len()
        );
    }

    /// The entries in the queue's new/.
    fn queued(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.queue.join("new"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }

    /// Nothing was queued.
    fn nothing_queued(&self, what: &str) {
        let queued = self.queued();
        assert!(queued.is_empty(), "{what}: queued {queued:?}");
    }

    /// The message was queued exactly once, whole.
    fn queued_once(&self, what: &str) {
        let queued = self.queued();
        assert_eq!(queued.len(), 1, "{what}: queued {queued:?}");
        let entry = std::fs::read(&queued[0]).unwrap();
        let text = String::from_utf8_lossy(&entry);
        assert!(text.contains("Hello Bob."), "{what}: queued {text:?}");
        assert!(!text.contains(PASSWORD), "{what}: the password was queued");
    }
}

/// The password and every base64 form of it are not in `bytes`.
fn assert_password_absent(bytes: &[u8], what: &str) {
    hostile::assert_password_absent(&String::from_utf8_lossy(bytes), PASSWORD, what);
}

/// A server with a fresh certificate (its files in `dir`), STARTTLS
/// before TLS and AUTH over it.
fn script(dir: &Scratch) -> SmtpScript {
    let tls = TlsCert::generate(dir.path());
    SmtpScript::new(Some((tls.cert, tls.key)))
}

/// Serves `script` and runs `smtp-send --server
/// smtp://alice@127.0.0.1:PORT` with the password file, `--cafile`,
/// `--timeout 2`, `ARGS` and `bob@example.test`, [`MESSAGE`] on stdin.
/// `--queue` in `args` is followed by the run's queue directory.
fn play(dir: Scratch, script: SmtpScript, args: &[&str]) -> Run {
    send(dir, script, args, MESSAGE, true)
}

/// [`play`] with `message` on stdin, and without a user and password
/// unless `login`.
fn send(dir: Scratch, script: SmtpScript, args: &[&str], message: &str, login: bool) -> Run {
    let server = script.start();
    let queue = dir.path().join("queue");
    let mut all: Vec<std::ffi::OsString> = vec![
        "--cafile".into(),
        dir.path().join("cert.pem").into(),
        "--timeout".into(),
        TIMEOUT.to_string().into(),
        "--server".into(),
    ];
    if login {
        let password = dir.path().join("password");
        std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
        common::set_mode(&password, 0o600);
        all.push(format!("smtp://alice@127.0.0.1:{}", server.port).into());
        all.push("--password-file".into());
        all.push(password.into());
    } else {
        all.push(format!("smtp://127.0.0.1:{}", server.port).into());
    }
    for arg in args {
        all.push(arg.into());
        if *arg == "--queue" {
            all.push(queue.clone().into());
        }
    }
    all.push("bob@example.test".into());
    let ran = hostile::measured(dir.path(), message.as_bytes(), |c| {
        c.arg(BIN).args(&all);
    });
    let log = server.finish();
    Run {
        ran,
        log,
        with_queue: args.contains(&"--queue"),
        queue,
        _dir: dir,
    }
}

/// [`play`] in a new directory with a fresh certificate, `script` made
/// from the base one by `edit`.
fn play_with(edit: impl FnOnce(SmtpScript) -> SmtpScript, args: &[&str]) -> Run {
    let dir = Scratch::new();
    let script = edit(script(&dir));
    play(dir, script, args)
}

/// A reply as bytes.
fn reply(text: &str) -> Act {
    Act::Reply(text.as_bytes().to_vec())
}

/// An endless action.
fn endless(prefix: &str, chunk: &str) -> Act {
    Act::Endless {
        prefix: prefix.as_bytes().to_vec(),
        chunk: chunk.as_bytes().to_vec(),
    }
}

/// The bytes received after the last STARTTLS command line (plain text).
fn after_starttls(log: &SmtpLog) -> Vec<u8> {
    let plain = &log.plain;
    let at = plain
        .windows(10)
        .rposition(|w| w.eq_ignore_ascii_case(b"STARTTLS\r\n"))
        .expect("STARTTLS was sent");
    plain[at + 10..].to_vec()
}

/// The checks of a case's run (the run, and what the case is).
type Check = Box<dyn Fn(&Run, &str) + Send + Sync>;

/// One hostile case: what it is, the script change, the arguments, and
/// the checks of its run.
struct Case {
    what: String,
    edit: Box<dyn FnOnce(SmtpScript) -> SmtpScript + Send>,
    args: &'static [&'static str],
    check: Check,
}

impl Case {
    fn new(
        what: impl Into<String>,
        edit: impl FnOnce(SmtpScript) -> SmtpScript + Send + 'static,
        args: &'static [&'static str],
        check: impl Fn(&Run, &str) + Send + Sync + 'static,
    ) -> Case {
        Case {
            what: what.into(),
            edit: Box::new(edit),
            args,
            check: Box::new(check),
        }
    }

    /// The case with `act` for commands starting with `at` (`greeting`:
    /// the greeting).
    fn at(
        what: impl Into<String>,
        at: &'static str,
        act: Act,
        args: &'static [&'static str],
        check: impl Fn(&Run, &str) + Send + Sync + 'static,
    ) -> Case {
        let edit = move |mut s: SmtpScript| match at {
            "greeting" => {
                s.greeting = act;
                s
            }
            _ => s.on(at, act),
        };
        Case::new(what, edit, args, check)
    }
}

/// Runs the cases, a few at a time, and fails naming every case that
/// failed its checks.
fn run_cases(cases: Vec<Case>) {
    let failed = std::sync::Mutex::new(Vec::new());
    let queue = std::sync::Mutex::new(cases.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().next();
                    let Some(case) = next else { return };
                    let run = play_with(case.edit, case.args);
                    eprintln!(
                        "{}: exit {}, {:?}, {} KiB",
                        case.what,
                        run.code(),
                        run.took,
                        run.kib
                    );
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        (case.check)(&run, &case.what)
                    }));
                    if checked.is_err() {
                        failed.lock().unwrap().push(case.what.clone());
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "failed: {failed:?}");
}

/// Exit `want`, no credential anywhere, nothing delivered, nothing queued
/// (for runs with `--queue`): a fault before the login.
fn refused_before_login(want: i32) -> impl Fn(&Run, &str) + Send + Sync + 'static {
    move |run: &Run, what: &str| {
        run.expect(want, what);
        run.no_credential(what);
        run.nothing_delivered(what);
        run.nothing_queued(what);
    }
}

/// A temporary fault: 75 without `--queue`; with it, 0 and the message
/// queued once. Nothing delivered, and the password never in plain text.
fn deferred(run: &Run, what: &str) {
    run.expect(if run.with_queue { 0 } else { 75 }, what);
    if run.with_queue {
        run.queued_once(what);
    }
    run.nothing_delivered(what);
    assert_password_absent(&run.log.plain, what);
}

// ---------------------------------------------------------------------
// The scripted server itself.

#[test]
fn the_scripted_server_takes_a_message_over_starttls() {
    let run = play_with(|s| s, QUEUE);
    run.expect(0, "a normal delivery");
    assert_eq!(run.log.delivered.len(), 1, "{}", run.stderr());
    let delivered = String::from_utf8_lossy(&run.log.delivered[0]).into_owned();
    assert!(delivered.ends_with("\r\nHello Bob.\r\n"), "{delivered:?}");
    run.nothing_queued("a normal delivery");
    // The password went over TLS only, by AUTH PLAIN.
    assert_password_absent(&run.log.plain, "plain text");
    let auth = run
        .log
        .tls_lines
        .iter()
        .any(|l| l.starts_with("AUTH PLAIN"));
    assert!(auth, "{:?}", run.log.tls_lines);
    assert_eq!(run.stdout(), "");
}

// ---------------------------------------------------------------------
// STARTTLS.

#[test]
fn starttls_missing_or_refused_is_76_before_any_credential() {
    let mut cases = vec![Case::new(
        "STARTTLS not offered",
        |mut s: SmtpScript| {
            s.caps = vec!["AUTH PLAIN LOGIN".into(), "8BITMIME".into()];
            s
        },
        QUEUE,
        |run: &Run, what: &str| {
            refused_before_login(76)(run, what);
            assert!(run.stderr().contains("STARTTLS"), "{}", run.stderr());
            assert!(!run.log.received("STARTTLS"), "{:?}", run.log.lines);
        },
    )];
    // RFC 3207 §4: 454 is a temporary refusal, to be tried again later.
    for answer in [
        "454 4.7.0 TLS not available due to temporary reason\r\n",
        "454 \x1b[31mno\x1b[0m TLS\r\n",
    ] {
        cases.push(Case::at(
            format!("STARTTLS answered {answer:?}"),
            "STARTTLS",
            reply(answer),
            QUEUE,
            |run: &Run, what: &str| {
                deferred(run, what);
                run.no_credential(what);
                assert!(run.log.tls.is_empty(), "{what}: TLS went ahead");
                assert!(
                    run.stderr().contains("STARTTLS refused for now"),
                    "{}",
                    run.stderr()
                );
            },
        ));
    }
    let answers = [
        "502 5.5.1 command not implemented\r\n",
        // A positive intermediate reply is not a go-ahead.
        "354 go ahead\r\n",
        "250 2.0.0 fine\r\n",
        "HTTP/1.1 400 Bad Request\r\n",
        "220-go\r\n250 ahead\r\n",
        "554 \x1b[31mno\x1b[0m TLS\r\n",
    ];
    for answer in answers {
        cases.push(Case::at(
            format!("STARTTLS answered {answer:?}"),
            "STARTTLS",
            reply(answer),
            QUEUE,
            |run: &Run, what: &str| {
                refused_before_login(76)(run, what);
                assert!(run.log.tls.is_empty(), "{what}: TLS went ahead");
            },
        ));
    }
    let garbage = b"HTTP/1.1 400 Bad Request\r\n\r\n\x00\x01\x02 not TLS at all".to_vec();
    cases.push(Case::at(
        "garbage instead of a TLS handshake",
        "STARTTLS",
        Act::GarbageHandshake(garbage),
        QUEUE,
        refused_before_login(76),
    ));
    cases.push(Case::at(
        "a TLS handshake never answered",
        "STARTTLS",
        Act::ReplyThenSilence(b"220 2.0.0 go ahead\r\n".to_vec()),
        QUEUE,
        |run: &Run, what: &str| {
            deferred(run, what);
            run.no_credential(what);
            assert!(run.took >= Duration::from_millis(1900), "{:?}", run.took);
        },
    ));
    run_cases(cases);
}

#[test]
fn bytes_injected_after_the_starttls_220_abort_with_76_and_nothing_after() {
    let injections: [&[u8]; 3] = [
        b"250 AUTH PLAIN\r\n",
        b"250-scripted\r\n250 AUTH PLAIN LOGIN\r\n",
        b"\x16\x03\x01",
    ];
    let mut cases = Vec::new();
    for injected in injections {
        let mut bytes = b"220 2.0.0 go ahead\r\n".to_vec();
        bytes.extend_from_slice(injected);
        let text = String::from_utf8_lossy(injected).into_owned();
        for handshake in [false, true] {
            let act = match handshake {
                false => Act::ReplyThenSilence(bytes.clone()),
                // The server goes on to a proper handshake: the client
                // must not.
                true => Act::StartTls(bytes.clone()),
            };
            cases.push(Case::at(
                format!("injected {text:?}, handshake {handshake}"),
                "STARTTLS",
                act,
                QUEUE,
                |run: &Run, what: &str| {
                    refused_before_login(76)(run, what);
                    let after = after_starttls(&run.log);
                    assert!(
                        after.is_empty(),
                        "{what}: sent after STARTTLS: {:?}",
                        String::from_utf8_lossy(&after)
                    );
                    assert!(run.log.tls.is_empty(), "{what}: {:?}", run.log.tls_lines);
                    assert!(
                        run.stderr().contains("injection"),
                        "{what}: {}",
                        run.stderr()
                    );
                },
            ));
        }
    }
    run_cases(cases);
}

// ---------------------------------------------------------------------
// Extensions across TLS.

/// The MAIL command the server got over TLS.
fn tls_mail(run: &Run) -> String {
    let mail = run
        .log
        .tls_lines
        .iter()
        .find(|l| l.starts_with("MAIL FROM:"));
    mail.cloned().unwrap_or_default()
}

#[test]
fn only_the_extensions_offered_over_tls_count() {
    let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let cases = vec![
        Case::new(
            "AUTH offered only before TLS",
            move |mut s: SmtpScript| {
                s.caps = words(&["STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"]);
                s.tls_caps = words(&["8BITMIME"]);
                s
            },
            QUEUE,
            |run: &Run, what: &str| {
                run.expect(77, what);
                run.no_credential(what);
                run.nothing_delivered(what);
                run.nothing_queued(what);
                assert!(run.log.tls_lines.iter().any(|l| l.starts_with("EHLO")));
            },
        ),
        Case::new(
            "SIZE 10 offered only before TLS",
            move |mut s: SmtpScript| {
                s.caps = words(&["STARTTLS", "SIZE 10"]);
                s.tls_caps = words(&["AUTH PLAIN"]);
                s
            },
            QUEUE,
            |run: &Run, what: &str| {
                run.expect(0, what);
                assert_eq!(run.log.delivered.len(), 1, "{what}");
                let mail = tls_mail(run);
                assert!(!mail.contains("SIZE="), "{what}: {mail}");
                run.nothing_queued(what);
            },
        ),
        Case::new(
            "SIZE 10 offered only over TLS",
            move |mut s: SmtpScript| {
                s.caps = words(&["STARTTLS"]);
                s.tls_caps = words(&["AUTH PLAIN", "SIZE 10"]);
                s
            },
            QUEUE,
            |run: &Run, what: &str| {
                run.expect(69, what);
                run.nothing_delivered(what);
                run.nothing_queued(what);
                assert!(!run.log.received("MAIL"), "{what}: {:?}", run.log.lines);
            },
        ),
        Case::new(
            "8BITMIME offered only before TLS",
            move |mut s: SmtpScript| {
                s.caps = words(&["STARTTLS", "8BITMIME", "SMTPUTF8", "DSN"]);
                s.tls_caps = words(&["AUTH PLAIN"]);
                s
            },
            &["--notify", "FAILURE"],
            |run: &Run, what: &str| {
                run.expect(0, what);
                let mail = tls_mail(run);
                assert!(!mail.contains("BODY="), "{what}: {mail}");
                let rcpt = run.log.tls_lines.iter().find(|l| l.starts_with("RCPT"));
                assert!(!rcpt.unwrap().contains("NOTIFY"), "{what}: {rcpt:?}");
            },
        ),
    ];
    run_cases(cases);
    // An 8-bit message needs 8BITMIME over TLS: offered only before, 65.
    let dir = Scratch::new();
    let mut s = script(&dir);
    s.caps = words(&["STARTTLS", "8BITMIME"]);
    s.tls_caps = words(&["AUTH PLAIN"]);
    let eight_bit = MESSAGE.replace("Hello Bob.", "Grüße, Bob.");
    let run = send(dir, s, &[], &eight_bit, true);
    run.expect(65, "8-bit, 8BITMIME only before TLS");
    assert!(!run.log.received("MAIL"), "{:?}", run.log.lines);
    run.nothing_delivered("8-bit");
}

#[test]
fn opportunistic_tls_out_of_step_connects_again_in_plain_text() {
    // MX delivery style (RFC 7435): a STARTTLS answer that makes no sense
    // ends that connection; the message goes on a new plain one, once.
    let dir = Scratch::new();
    let mut s = script(&dir).on("STARTTLS", reply("354 go ahead\r\n"));
    s.connections = 2;
    let run = send(dir, s, &["--tls", "opportunistic", "-v"], MESSAGE, false);
    run.expect(0, "opportunistic, STARTTLS answered 354");
    assert_eq!(run.log.served, 2, "{}", run.stderr());
    assert_eq!(run.log.delivered.len(), 1, "{}", run.stderr());
    let starttls = run.log.lines.iter().filter(|l| *l == "STARTTLS").count();
    assert_eq!(starttls, 1, "{:?}", run.log.lines);
    assert!(
        run.stderr().contains("connecting again without TLS"),
        "{}",
        run.stderr()
    );
}

// ---------------------------------------------------------------------
// Invalid greetings and hostile text.

#[test]
fn invalid_greetings_end_the_session_before_anything_is_sent() {
    let greetings: [(&[u8], i32); 10] = [
        (b"554 5.3.2 no service for you\r\n", 69),
        (b"421 4.3.2 busy, try later\r\n", 75),
        (b"250 hello\r\n", 76),
        (b"354 go ahead\r\n", 76),
        (b"HTTP/1.1 200 OK\r\n", 76),
        (b"+OK POP3 ready\r\n", 76),
        (b"\r\n", 76),
        (b"\x00\xff\x16\x03\x01binary\r\n", 76),
        (b"220-mx.example ESMTP\r\n250 mismatched\r\n", 76),
        (b"220-mx.example\r\n554 no\r\n", 76),
    ];
    let mut cases = Vec::new();
    for (greeting, want) in greetings {
        let act = Act::Reply(greeting.to_vec());
        let greeting = String::from_utf8_lossy(greeting).into_owned();
        let check = move |run: &Run, what: &str| {
            match want {
                75 => deferred(run, what),
                _ => {
                    run.expect(want, what);
                    run.nothing_queued(what);
                }
            }
            run.no_credential(what);
            run.nothing_delivered(what);
            for verb in ["STARTTLS", "MAIL"] {
                assert!(!run.log.received(verb), "{what}: {:?}", run.log.lines);
            }
        };
        cases.push(Case::at(
            format!("greeting {greeting:?}"),
            "greeting",
            act,
            QUEUE,
            check,
        ));
    }
    // A greeting that never ends: its first line, then nothing.
    cases.push(Case::at(
        "a greeting that never ends",
        "greeting",
        Act::ReplyThenSilence(b"220-mx.example ESMTP\r\n".to_vec()),
        QUEUE,
        |run: &Run, what: &str| {
            deferred(run, what);
            run.no_credential(what);
        },
    ));
    run_cases(cases);
}

#[test]
fn control_characters_in_server_text_never_reach_the_terminal_raw() {
    let hostile = "\x1b[2J\x1b]0;owned\x07\x1b[31mred\x08\x7f\x00";
    let cases: Vec<(&str, &'static str, String, i32)> = vec![
        (
            "greeting",
            "greeting",
            format!("220 {hostile} ready\r\n"),
            0,
        ),
        (
            "greeting refusal",
            "greeting",
            format!("554 {hostile}\r\n"),
            69,
        ),
        (
            "EHLO",
            "EHLO",
            format!("250-{hostile}\r\n250-X{hostile}\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"),
            0,
        ),
        ("STARTTLS", "STARTTLS", format!("554 {hostile}\r\n"), 76),
        ("AUTH", "~AUTH", format!("535 5.7.8 {hostile}\r\n"), 77),
        ("MAIL", "~MAIL", format!("451 4.3.0 {hostile}\r\n"), 75),
        ("RCPT", "~RCPT", format!("550 5.1.1 {hostile}\r\n"), 67),
        ("final reply", ".", format!("554 5.6.0 {hostile}\r\n"), 69),
    ];
    let mut all = Vec::new();
    for (what, at, text, want) in cases {
        for verbose in [false, true] {
            let args: &'static [&'static str] = if verbose { &["-v"] } else { &[] };
            let what = format!("{what}, -v {verbose}");
            let act = Act::Reply(text.clone().into_bytes());
            all.push(Case::at(
                what,
                at,
                act,
                args,
                move |run: &Run, what: &str| {
                    // expect() checks stdout and stderr for raw control bytes.
                    run.expect(want, what);
                    if verbose || want != 0 {
                        assert!(run.stderr().contains("red"), "{what}: {}", run.stderr());
                    }
                },
            ));
        }
    }
    run_cases(all);
}

// ---------------------------------------------------------------------
// Endless data, replies out of range, trickling.

#[test]
fn endless_lines_and_replies_are_76_within_bounds() {
    let long_line = format!("250-{}\r\n", "x".repeat(60 * 1024));
    let cases = vec![
        ("endless greeting line", "greeting", endless("220 ", "x")),
        ("endless EHLO line", "EHLO", endless("250-", "X")),
        (
            "EHLO lines forever",
            "EHLO",
            endless("", "250-AUTH PLAIN\r\n"),
        ),
        (
            "EHLO lines of 60 KiB forever",
            "EHLO",
            endless("", &long_line),
        ),
        (
            "greeting lines forever",
            "greeting",
            endless("", "220-hi\r\n"),
        ),
        ("endless STARTTLS reply", "STARTTLS", endless("220 ", "y")),
        (
            "STARTTLS reply lines forever",
            "STARTTLS",
            endless("", "220-go\r\n"),
        ),
        ("endless EHLO over TLS", "~EHLO", endless("250-", "z")),
        ("endless AUTH reply", "~AUTH", endless("235-", "a")),
        ("endless RCPT reply", "~RCPT", endless("", "250-ok\r\n")),
        ("AUTH challenges forever", "~AUTH", endless("", "334 \r\n")),
        ("endless final reply", ".", endless("250 ", "q")),
        ("final reply lines forever", ".", endless("", &long_line)),
    ];
    let all = cases
        .into_iter()
        .map(|(what, at, act)| {
            let check = move |run: &Run, what: &str| {
                run.expect(76, what);
                run.nothing_delivered(what);
                run.nothing_queued(what);
                if !at.starts_with('~') && at != "." {
                    run.no_credential(what);
                } else {
                    assert_password_absent(&run.log.plain, what);
                }
            };
            Case::at(what, at, act, QUEUE, check)
        })
        .collect();
    run_cases(all);
}

#[test]
fn reply_codes_out_of_range_are_76() {
    let cases = [
        ("greeting", "999 hello\r\n"),
        ("greeting", "120 wait\r\n"),
        ("greeting", "2200 hi\r\n"),
        ("EHLO", "260 hi\r\n"),
        ("EHLO", "25 x\r\n"),
        ("EHLO", "250x hi\r\n"),
        ("STARTTLS", "620 go\r\n"),
        ("~MAIL", "700 ok\r\n"),
        ("~RCPT", "-50 ok\r\n"),
        (".", "2500 ok\r\n"),
    ];
    let all = cases
        .into_iter()
        .map(|(at, text)| {
            let check = move |run: &Run, what: &str| {
                run.expect(76, what);
                run.nothing_delivered(what);
                run.nothing_queued(what);
                assert_password_absent(&run.log.plain, what);
            };
            Case::at(format!("{at} {text:?}"), at, reply(text), QUEUE, check)
        })
        .collect();
    run_cases(all);
}

#[test]
fn replies_out_of_step_are_76_and_never_success() {
    // A 3xx where the command completes, a completion where DATA should
    // go ahead, a second greeting: the server is out of step, and the
    // message is not taken as accepted.
    let cases = [
        ("~MAIL", "354 go ahead\r\n"),
        ("~RCPT", "354 go ahead\r\n"),
        ("~DATA", "250 2.0.0 ok\r\n"),
        ("~DATA", "220 ok\r\n"),
        (".", "354 more please\r\n"),
        ("~AUTH", "250 ok\r\n"),
        ("EHLO", "220 scripted ESMTP ready\r\n"),
        ("~EHLO", "354 go ahead\r\n"),
        ("greeting", "220 hello\r\n220 hello again\r\n"),
    ];
    let all = cases
        .into_iter()
        .map(|(at, text)| {
            let check = move |run: &Run, what: &str| {
                run.expect(76, what);
                run.nothing_queued(what);
                if !at.starts_with('~') && at != "." {
                    run.no_credential(what);
                }
                assert!(
                    !run.stderr().contains("accepted"),
                    "{what}: {}",
                    run.stderr()
                );
            };
            Case::at(format!("{at} {text:?}"), at, reply(text), QUEUE, check)
        })
        .collect();
    run_cases(all);
}

/// An action sending `slow` a byte at a time, one every `every`.
fn trickle(prefix: &str, slow: &str, every: Duration) -> Act {
    Act::Trickle {
        prefix: prefix.as_bytes().to_vec(),
        slow: slow.as_bytes().to_vec(),
        every,
    }
}

#[test]
fn trickling_servers_are_75_within_the_timeout() {
    let second = Duration::from_secs(1);
    let lines = "250-x\r\n".repeat(100) + "250 STARTTLS\r\n";
    let cases = vec![
        (
            "greeting a byte a second",
            "greeting",
            trickle("", "220 scripted ESMTP ready\r\n", second),
        ),
        (
            "EHLO a byte a second",
            "EHLO",
            trickle("250-hi\r\n", "250-PIPELINING\r\n250 STARTTLS\r\n", second),
        ),
        (
            "EHLO lines a byte every 100 ms",
            "EHLO",
            trickle("", &lines, Duration::from_millis(100)),
        ),
        (
            "TLS handshake a byte every 100 ms",
            "STARTTLS",
            Act::SlowHandshake(Duration::from_millis(100)),
        ),
        (
            "final reply a byte a second",
            ".",
            trickle("", "250 2.0.0 queued\r\n", second),
        ),
        (
            "final reply lines a byte every 100 ms",
            ".",
            trickle(
                "",
                &("250-queued\r\n".repeat(100) + "250 ok\r\n"),
                Duration::from_millis(100),
            ),
        ),
    ];
    let all = cases
        .into_iter()
        .map(|(what, at, act)| {
            let check = move |run: &Run, what: &str| {
                deferred(run, what);
                if at != "." {
                    run.no_credential(what);
                }
            };
            Case::at(what, at, act, QUEUE, check)
        })
        .collect();
    run_cases(all);
}

// ---------------------------------------------------------------------
// A reset or a close at every step.

/// Each step at which the server breaks the connection: (name, command
/// answered).
const STEPS: [(&str, &str); 10] = [
    ("greeting", "greeting"),
    ("EHLO", "EHLO"),
    ("STARTTLS", "STARTTLS"),
    ("EHLO over TLS", "~EHLO"),
    ("AUTH", "~AUTH"),
    ("MAIL", "~MAIL"),
    ("RCPT", "~RCPT"),
    ("DATA", "~DATA"),
    ("the final reply", "."),
    ("the final dot", "."),
];

#[test]
fn a_reset_or_close_at_each_step_is_75_and_queued_once_with_queue() {
    let mut all = Vec::new();
    for (how, act) in [("reset", Act::Reset), ("close", Act::Close)] {
        for (step, at) in STEPS {
            let act = match step {
                "the final reply" => Act::ReplyThenClose(b"250 2.0".to_vec()),
                _ => act.clone(),
            };
            for args in [QUEUE, &[][..]] {
                let what = format!("{how} at {step}, {args:?}");
                let check = move |run: &Run, what: &str| {
                    deferred(run, what);
                    if ["greeting", "EHLO", "STARTTLS"].contains(&at) {
                        run.no_credential(what);
                    }
                    // Once the message went whole, the server may have
                    // accepted it, and the report says so; before, not.
                    let said = run.stderr().to_lowercase();
                    let ambiguous = said.contains("may have accepted");
                    assert_eq!(ambiguous, at == ".", "{what}: {said}");
                };
                all.push(Case::at(what, at, act.clone(), args, check));
            }
        }
    }
    run_cases(all);
}

#[test]
fn a_fault_between_two_messages_defers_only_the_second() {
    // Two files over one connection; the server breaks at the RSET
    // between them: the first was accepted, the second is deferred
    // (queued once with --queue), and the report says which is which.
    for (how, act) in [
        ("reset", Act::Reset),
        ("close", Act::Close),
        ("4xx", reply("421 4.3.0 going down\r\n")),
        ("out of step", reply("354 go ahead\r\n")),
    ] {
        // Out of step, the second message is not sent: deferred (queued
        // with --queue) like the others, but the status says 76.
        let broken = how == "out of step";
        for args in [QUEUE, &[][..]] {
            let what = format!("{how} at RSET, {args:?}");
            let dir = Scratch::new();
            let mut files = Vec::new();
            for n in 1..=2 {
                let path = dir.path().join(format!("m{n}.eml"));
                let text = MESSAGE.replace("Hello Bob.", &format!("Hello Bob, {n}."));
                std::fs::write(&path, text).unwrap();
                files.push(path.to_str().unwrap().to_string());
            }
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["--json", "--file", &files[0], "--file", &files[1]]);
            let s = script(&dir).on("~RSET", act.clone());
            let run = send(dir, s, &all, "", true);
            let want = match (broken, run.with_queue) {
                (true, _) => 76,
                (false, true) => 0,
                (false, false) => 75,
            };
            assert!(
                !broken
                    || run.stderr().contains("out of step")
                    || run.stderr().contains("protocol"),
                "{what}: {}",
                run.stderr()
            );
            run.expect(want, &what);
            assert_eq!(run.log.delivered.len(), 1, "{what}: {}", run.stderr());
            let first = String::from_utf8_lossy(&run.log.delivered[0]).into_owned();
            assert!(first.contains("Hello Bob, 1."), "{what}: {first}");
            let statuses: Vec<String> = run
                .stdout()
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .map(|v| v["status"].as_str().unwrap_or_default().to_string())
                .collect();
            let second = match run.with_queue {
                true => "queued",
                false => "deferred",
            };
            assert_eq!(statuses, ["accepted", second], "{what}: {}", run.stderr());
            if run.with_queue {
                let queued = run.queued();
                assert_eq!(queued.len(), 1, "{what}: {queued:?}");
                let entry =
                    String::from_utf8_lossy(&std::fs::read(&queued[0]).unwrap()).into_owned();
                assert!(entry.contains("Hello Bob, 2."), "{what}: {entry}");
                assert!(!entry.contains("Hello Bob, 1."), "{what}: {entry}");
            }
        }
    }
}

#[test]
fn chunking_faults_are_reported_like_data_ones() {
    // CHUNKING offered over TLS: the message goes as one BDAT LAST.
    let chunking = |s: SmtpScript| {
        let mut s = s;
        s.tls_caps.push("CHUNKING".into());
        s
    };
    let run = play_with(chunking, QUEUE);
    run.expect(0, "BDAT");
    assert_eq!(run.log.delivered.len(), 1, "{}", run.stderr());
    assert!(run.log.received("BDAT"), "{:?}", run.log.lines);
    run.nothing_queued("BDAT");
    let mut cases = Vec::new();
    for (how, act) in [("reset", Act::Reset), ("close", Act::Close)] {
        for args in [QUEUE, &[][..]] {
            let what = format!("{how} at BDAT LAST, {args:?}");
            let act = act.clone();
            let edit = move |s: SmtpScript| chunking(s).on("~BDAT", act);
            cases.push(Case::new(what, edit, args, |run: &Run, what: &str| {
                deferred(run, what);
                let said = run.stderr().to_lowercase();
                assert!(said.contains("may have accepted"), "{what}: {said}");
            }));
        }
    }
    for answer in ["354 go ahead\r\n", "334 what\r\n"] {
        let what = format!("BDAT answered {answer:?}");
        let edit = move |s: SmtpScript| chunking(s).on("~BDAT", reply(answer));
        cases.push(Case::new(what, edit, QUEUE, |run: &Run, what: &str| {
            run.expect(76, what);
            run.nothing_queued(what);
            run.nothing_delivered(what);
        }));
    }
    run_cases(cases);
}

// ---------------------------------------------------------------------
// mx-lookup --probe against the same server.

mod probe {
    use super::*;
    use common::nsd::Nsd;

    const MX_LOOKUP: &str = env!("CARGO_BIN_EXE_mx-lookup");
    const ZONE: &str = "$ORIGIN adv.test.\n$TTL 300\n\
        @ IN SOA ns.adv.test. hostmaster.adv.test. 1 3600 900 604800 300\n\
        @ IN NS ns\nns IN A 127.0.0.1\n@ IN MX 10 mx\nmx IN A 127.0.0.1\n";

    /// mx-lookup --probe of adv.test (its MX on 127.0.0.1) on the port of
    /// a server playing `script`; the certificate is for mx.adv.test.
    fn probe_run(nsd: &Nsd, edit: impl FnOnce(SmtpScript) -> SmtpScript, json: bool) -> Run {
        let dir = Scratch::new();
        let tls = TlsCert::generate_for(dir.path(), "mx.adv.test", "DNS:mx.adv.test");
        let server = edit(SmtpScript::new(Some((tls.cert.clone(), tls.key)))).start();
        let mut args: Vec<std::ffi::OsString> = vec![
            "--server".into(),
            nsd.address().into(),
            "--probe".into(),
            "--port".into(),
            server.port.to_string().into(),
            "--helo".into(),
            "client.test".into(),
            "--cafile".into(),
            tls.cert.into(),
            "--timeout".into(),
            TIMEOUT.to_string().into(),
        ];
        if json {
            args.push("--json".into());
        }
        args.push("adv.test".into());
        let ran = hostile::measured(dir.path(), b"", |c| {
            c.arg(MX_LOOKUP).args(&args);
        });
        let log = server.finish();
        Run {
            ran,
            log,
            queue: PathBuf::new(),
            with_queue: false,
            _dir: dir,
        }
    }

    /// The probe line of a text run.
    fn probe_line(run: &Run) -> String {
        let out = run.stdout();
        let line = out.lines().find(|l| l.starts_with("  probe "));
        line.unwrap_or_else(|| panic!("no probe line: {out:?}"))
            .to_string()
    }

    #[test]
    fn probe_reports_hostile_servers_within_bounds() {
        let nsd = Nsd::start(&[("adv.test", ZONE)]);
        // (what, script change, what the probe line must contain).
        type Edit = Box<dyn FnOnce(SmtpScript) -> SmtpScript>;
        let on =
            |at: &'static str, act: Act| -> Edit { Box::new(move |s: SmtpScript| s.on(at, act)) };
        let mut injected = b"220 2.0.0 go ahead\r\n250 AUTH PLAIN\r\n".to_vec();
        let cases: Vec<(&str, Edit, &str)> = vec![
            ("normal", Box::new(|s| s), ", STARTTLS TLSv1."),
            (
                "STARTTLS missing",
                Box::new(|mut s: SmtpScript| {
                    s.caps = vec!["PIPELINING".into()];
                    s
                }),
                ", no STARTTLS, PIPELINING",
            ),
            (
                "STARTTLS refused",
                on("STARTTLS", reply("454 4.7.0 not now\r\n")),
                "error: STARTTLS refused for now: the server said 454 4.7.0 not now",
            ),
            (
                "STARTTLS answered 354",
                on("STARTTLS", reply("354 go\r\n")),
                "error: STARTTLS: the server broke the protocol: it said 354 go",
            ),
            (
                "garbage handshake",
                on(
                    "STARTTLS",
                    Act::GarbageHandshake(b"HTTP/1.1 400 no\r\n\r\n".to_vec()),
                ),
                "error: TLS",
            ),
            (
                "injection",
                on("STARTTLS", Act::ReplyThenSilence(injected.clone())),
                "response injection",
            ),
            (
                "injection, then a handshake",
                on("STARTTLS", Act::StartTls(std::mem::take(&mut injected))),
                "response injection",
            ),
            (
                "endless EHLO line",
                on("EHLO", endless("250-", "x")),
                "error: reading from 127.0.0.1:",
            ),
            (
                "EHLO lines forever",
                on("EHLO", endless("", "250-PIPELINING\r\n")),
                "error: ",
            ),
            (
                "a silent greeting",
                Box::new(|mut s: SmtpScript| {
                    s.greeting = Act::Silence;
                    s
                }),
                "timed out",
            ),
            (
                "a silent handshake",
                on("STARTTLS", Act::ReplyThenSilence(b"220 go\r\n".to_vec())),
                "timed out",
            ),
            (
                "a hostile banner",
                Box::new(|mut s: SmtpScript| {
                    s.greeting = reply("220 \x1b[2J\x1b[31mred\x07\r\n");
                    s
                }),
                "banner \"220 \\u{1b}[2J\\u{1b}[31mred\\u{7}\"",
            ),
        ];
        let mut failed = Vec::new();
        for (what, edit, want) in cases {
            let run = probe_run(&nsd, edit, false);
            eprintln!(
                "{what}: exit {}, {:?}, {} KiB",
                run.code(),
                run.took,
                run.kib
            );
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // DNS decides the status: the probe's failure is in its line.
                run.expect(0, what);
                let line = probe_line(&run);
                assert!(line.contains(want), "{what}: {line}");
                // Nothing beyond EHLO, STARTTLS and QUIT.
                for verb in ["AUTH", "MAIL", "RCPT", "DATA"] {
                    assert!(!run.log.received(verb), "{what}: {:?}", run.log.lines);
                }
                if want.contains("injection") {
                    assert!(after_starttls(&run.log).is_empty(), "{what}");
                }
            }));
            if checked.is_err() {
                failed.push(what);
            }
        }
        // JSON: the error is in the probe, the banner escaped by JSON.
        let run = probe_run(
            &nsd,
            |s| s.on("STARTTLS", reply("454 \x1b[31mno\r\n")),
            true,
        );
        run.expect(0, "JSON");
        let report: serde_json::Value = serde_json::from_str(run.stdout().trim()).unwrap();
        let error = report["mx"][0]["probe"]["error"]
            .as_str()
            .unwrap_or_default();
        assert!(error.contains("STARTTLS refused"), "{report}");
        assert!(failed.is_empty(), "failed: {failed:?}");
    }
}
