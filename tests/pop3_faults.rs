//! pop3-fetch under faults: a scripted POP3 server for what no real server
//! does (a connection lost inside RETR, a response without its terminating
//! line, STLS missing or followed by injected bytes, RFC 2449 response
//! codes, endless lines, silence, no UIDL, commands before an answer
//! without PIPELINING), SIGKILL at many points of a download-and-delete
//! against a real Dovecot, and a full disk under the Maildir.

mod common;
#[path = "support/small_disk.rs"]
mod small_disk;
use small_disk::small_disk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dovecot::Dovecot;
use common::killed::{self, KillAt};
use common::pop3_script::{Action, Pop3Log, Pop3Script, StoredCheck, capa};
use common::tlscert::TlsCert;
use common::{Scratch, code, run_tool_env, stderr, stdout};

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_pop3-fetch");

/// The variable that carries the password to the tool.
const PASSWORD_VAR: &str = "MK_TEST_POP3_PASSWORD";
/// The scripted server's password (it takes any).
const PASSWORD: &str = "scripted-secret-7";

/// Plain POP3 with USER/PASS allowed.
const PLAIN: &[&str] = &["--tls", "none", "--allow-plaintext-auth"];

/// `pop3://alice@127.0.0.1:PORT`.
fn plain_url(port: u16) -> String {
    format!("pop3://alice@127.0.0.1:{port}")
}

/// Runs pop3-fetch on `url` with `args`, `password` from the environment,
/// the default state under `home`, and `--timeout 10` unless `args` has
/// one; checks that the password shows nowhere.
fn run_with(url: &str, args: &[&str], password: &str, home: &Scratch) -> Output {
    let state_home = home.path().join("xdg-state");
    let mut all = vec![url, "--password-env", PASSWORD_VAR];
    if !args.contains(&"--timeout") {
        all.extend(["--timeout", "10"]);
    }
    all.extend_from_slice(args);
    let env = [
        (PASSWORD_VAR, password),
        ("XDG_STATE_HOME", state_home.to_str().unwrap()),
    ];
    let out = run_tool_env(BIN, &all, b"", &env);
    let leaked = stdout(&out).contains(password) || stderr(&out).contains(password);
    assert!(!leaked, "the password leaked: {}", stderr(&out));
    out
}

/// [`run_with`] and the scripted server's password.
fn run(url: &str, args: &[&str], home: &Scratch) -> Output {
    run_with(url, args, PASSWORD, home)
}

/// A message with CRLF line ends, a unique Message-ID, and lines that need
/// dot-stuffing on the wire: `.` alone, `..` and `.x`.
fn message(n: usize, body_lines: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Sender <sender@example.test>\r\nTo: alice@example.test\r\n\
         Subject: message {n}\r\nMessage-ID: <{n}.faults@example.test>\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(b".\r\n..two dots\r\n.one dot\r\n");
    for i in 0..body_lines {
        m.extend_from_slice(
            format!("line {i} of message {n}, some text to fill it\r\n").as_bytes(),
        );
    }
    m.extend_from_slice(b"last line\r\n.\r\n");
    m
}

/// CRLF turned into LF (how messages are stored by default).
fn lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if !(b == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// The files in a directory (none when it does not exist), hidden ones
/// included.
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

/// Nothing in new/, cur/ or tmp/ (missing directories count as empty).
fn assert_maildir_empty(maildir: &Path, context: &str) {
    for sub in ["new", "cur", "tmp"] {
        let files = files_in(&maildir.join(sub));
        assert!(files.is_empty(), "{context}: {sub}/ holds {files:?}");
    }
}

/// The state file's text (empty when missing).
fn state_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A directory for a run: the Maildir and the state file in it.
struct Place {
    /// The scratch directory (also the home of the default state).
    dir: Scratch,
    /// The Maildir (not created beforehand).
    maildir: PathBuf,
    /// The state file.
    state: PathBuf,
}

/// A new place and the arguments that point the tool at it.
impl Place {
    /// A Maildir and a state file path in a new scratch directory.
    fn new() -> Place {
        let dir = Scratch::new();
        let maildir = dir.path().join("Maildir");
        let state = dir.path().join("state");
        Place {
            dir,
            maildir,
            state,
        }
    }

    /// `--maildir DIR --state FILE`, plus `extra`.
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = PLAIN.to_vec();
        args.extend_from_slice(extra);
        args.extend([
            "--maildir",
            self.maildir.to_str().unwrap(),
            "--state",
            self.state.to_str().unwrap(),
        ]);
        args
    }

    /// A plain fetch into the Maildir from the scripted server on `port`.
    fn fetch(&self, port: u16, extra: &[&str]) -> Output {
        run(&plain_url(port), &self.args(extra), &self.dir)
    }
}

/// Serves `script` and runs a `--delete` fetch into a new Place.
fn fetch_from(script: Pop3Script, extra: &[&str]) -> (Output, Pop3Log, Place) {
    let place = Place::new();
    let (out, log) = fetch_into(&place, script, extra);
    (out, log, place)
}

/// Serves `script` and runs a `--delete` fetch into `place`.
fn fetch_into(place: &Place, script: Pop3Script, extra: &[&str]) -> (Output, Pop3Log) {
    let (port, server) = script.start();
    let mut args = vec!["--delete"];
    args.extend_from_slice(extra);
    let out = place.fetch(port, &args);
    (out, server.join().unwrap())
}

/// A check that message NUMBER of `messages` is in `maildir`'s new/ or
/// cur/ (with LF line ends unless `crlf`), for [`Pop3Script::stored_check`].
fn stored_in(maildir: &Path, messages: &[Vec<u8>], crlf: bool) -> StoredCheck {
    let maildir = maildir.to_path_buf();
    let messages = messages.to_vec();
    Arc::new(move |n| {
        let want = match crlf {
            true => messages[n - 1].clone(),
            false => lf(&messages[n - 1]),
        };
        stored(&maildir).contains(&want)
    })
}

// ---------------------------------------------------------------------
// The scripted server itself, checked by an independent client.

#[test]
fn the_scripted_server_speaks_pop3_to_python_poplib() {
    let messages: Vec<Vec<u8>> = (1..=2).map(|n| message(n, 5)).collect();
    let mut script = Pop3Script::new(messages.clone());
    script.lockstep_check = true;
    let (port, server) = script.start();
    let client = "import os, poplib, json\n\
                  p = poplib.POP3('127.0.0.1', int(os.environ['PORT']), timeout=20)\n\
                  p.user('alice'); p.pass_('x')\n\
                  out = {'stat': p.stat(), 'uidl': [u.decode() for u in p.uidl()[1]]}\n\
                  out['retr'] = [b'\\r\\n'.join(p.retr(n)[1]).decode() + '\\r\\n' for n in (1, 2)]\n\
                  p.dele(2); p.quit(); print(json.dumps(out))\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(client)
        .env("PORT", port.to_string())
        .output()
        .expect("python3");
    let log = server.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = messages[0].len() + messages[1].len();
    assert_eq!(seen["stat"], serde_json::json!([2, total]));
    assert_eq!(seen["uidl"], serde_json::json!(["1 uid-1", "2 uid-2"]));
    for (n, m) in messages.iter().enumerate() {
        assert_eq!(seen["retr"][n].as_str().unwrap().as_bytes(), &m[..]);
    }
    assert_eq!(log.committed_deletions, vec![2]);
    assert!(log.early.is_empty(), "{:?}", log.early);
}

// ---------------------------------------------------------------------
// A transfer cut short.

#[test]
fn a_connection_lost_inside_retr_stores_nothing_and_deletes_nothing() {
    let m = message(1, 400);
    let wire_len = common::pop3_script::stuffed(&m).len() + 3;
    let cuts = [
        ("inside the header", 20),
        ("mid-line in the body", m.len() / 2 + 7),
        ("at a line boundary", m.len() - b"last line\r\n.\r\n".len()),
        ("before the terminating line", wire_len - 3),
        ("after the terminating dot", wire_len - 2),
        ("between CR and LF of the terminating line", wire_len - 1),
    ];
    for (what, octets) in cuts {
        let script = Pop3Script::new(vec![m.clone()]).on("RETR", Action::CutRetr { octets });
        let (out, log, place) = fetch_from(script, &[]);
        assert_eq!(code(&out), 75, "cut {what}: {}", stderr(&out));
        assert!(log.received("RETR 1"), "cut {what}: {:?}", log.lines);
        assert!(
            !log.received("DELE"),
            "cut {what}: DELE sent: {:?}",
            log.lines
        );
        assert_maildir_empty(&place.maildir, &format!("cut {what}"));
        assert!(
            !state_text(&place.state).contains("uid-1"),
            "cut {what}: recorded as stored: {:?}",
            state_text(&place.state)
        );
    }
}

#[test]
fn a_retr_without_its_terminating_line_is_75_and_nothing_is_stored() {
    let m = message(1, 50);
    let script = Pop3Script::new(vec![m]).on("RETR", Action::NoTerminator);
    let (out, log, place) = fetch_from(script, &["-v"]);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(!log.received("DELE"), "{:?}", log.lines);
    assert_maildir_empty(&place.maildir, "no terminating line");
    assert!(!state_text(&place.state).contains("uid-1"));
}

#[test]
fn a_lost_connection_keeps_what_was_stored_and_the_next_run_repeats_nothing() {
    for pipelining in [false, true] {
        lost_connection_then_rerun(pipelining);
    }
}

/// A server with or without PIPELINING.
fn server_with(messages: &[Vec<u8>], pipelining: bool) -> Pop3Script {
    let mut script = Pop3Script::new(messages.to_vec());
    if pipelining {
        script.capa = Some(capa(&["USER", "UIDL", "TOP", "RESP-CODES", "PIPELINING"]));
    }
    script
}

/// The connection lost inside the second of three RETRs, then a run
/// against the same maildrop.
fn lost_connection_then_rerun(pipelining: bool) {
    let what = if pipelining { "pipelined" } else { "lock-step" };
    let messages: Vec<Vec<u8>> = (1..=3).map(|n| message(n, 30)).collect();
    let cut = server_with(&messages, pipelining).on("RETR 2", Action::CutRetr { octets: 100 });
    let place = Place::new();
    let (out, log) = fetch_into(&place, cut, &["--new"]);
    assert_eq!(code(&out), 75, "{what}: {}", stderr(&out));
    let deleted_too_soon = log.received("DELE 2") || log.received("DELE 3");
    assert!(!deleted_too_soon, "{what}: {:?}", log.lines);
    assert_eq!(stored(&place.maildir), vec![lf(&messages[0])], "{what}");
    assert!(files_in(&place.maildir.join("tmp")).is_empty(), "{what}");
    let state = state_text(&place.state);
    let recorded = state.contains("uid-1") && !state.contains("uid-2");
    assert!(recorded, "{what}: {state:?}");
    // No QUIT was answered: the server still has all three.
    let (out, log) = fetch_into(&place, server_with(&messages, pipelining), &["--new"]);
    assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
    assert!(
        !log.received("RETR 1"),
        "{what}: fetched again: {:?}",
        log.lines
    );
    assert_eq!(
        log.committed_deletions,
        vec![1, 2, 3],
        "{what}: {:?}",
        log.lines
    );
    let mut got = stored(&place.maildir);
    got.sort();
    let mut want: Vec<Vec<u8>> = messages.iter().map(|m| lf(m)).collect();
    want.sort();
    assert_eq!(got, want, "{what}");
    assert!(files_in(&place.maildir.join("tmp")).is_empty(), "{what}");
}

// ---------------------------------------------------------------------
// STLS.

/// A server offering STLS with a fresh certificate (kept in `dir`).
fn stls_script(dir: &Scratch, messages: Vec<Vec<u8>>) -> (Pop3Script, PathBuf) {
    let tls = TlsCert::generate(dir.path());
    let mut script = Pop3Script::new(messages);
    script.capa = Some(capa(&["USER", "UIDL", "TOP", "STLS", "RESP-CODES"]));
    script.tls = Some((tls.cert.clone(), tls.key));
    (script, tls.cert)
}

#[test]
fn stls_not_offered_on_pop3_is_76_before_any_credential() {
    let (port, server) = Pop3Script::new(vec![message(1, 3)]).start();
    let home = Scratch::new();
    let url = format!("pop3://alice@localhost:{port}");
    let out = run(&url, &["-v"], &home);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert_no_credential(&log);
    let said = stderr(&out);
    assert!(said.contains("STLS") || said.contains("STARTTLS"), "{said}");
}

#[test]
fn stls_with_a_trusted_certificate_lists_over_tls() {
    let dir = Scratch::new();
    let (script, cert) = stls_script(&dir, vec![message(1, 3), message(2, 5)]);
    let (port, server) = script.start();
    let url = format!("pop3://alice@localhost:{port}");
    let out = run(&url, &["--cafile", cert.to_str().unwrap()], &dir);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sizes: Vec<usize> = [message(1, 3), message(2, 5)]
        .iter()
        .map(Vec::len)
        .collect();
    let want = format!("1\t{}\tuid-1\n2\t{}\tuid-2\n", sizes[0], sizes[1]);
    assert_eq!(stdout(&out), want);
    // The password went over TLS only, and what the server offered before
    // TLS was asked again (RFC 2595 §4).
    let pass = |lines: &[String]| lines.iter().filter(|l| l.starts_with("PASS")).count();
    assert_eq!(pass(&log.tls_lines), 1, "{log:?}");
    assert_eq!(pass(&log.lines), 1, "{log:?}");
    assert!(log.tls_lines.iter().any(|l| l == "CAPA"), "{log:?}");
}

/// No credential was sent at all.
fn assert_no_credential(log: &Pop3Log) {
    for credential in ["USER", "PASS", "AUTH", "APOP"] {
        assert!(
            !log.received(credential),
            "{credential} sent: {:?}",
            log.lines
        );
    }
}

#[test]
fn stls_refused_is_76_and_no_credential_is_sent() {
    let dir = Scratch::new();
    let (script, cert) = stls_script(&dir, vec![message(1, 3)]);
    let refused = Action::Reply(b"-ERR [SYS/TEMP] TLS not available now\r\n".to_vec());
    let (port, server) = script.on("STLS", refused).start();
    let url = format!("pop3://alice@localhost:{port}");
    let out = run(&url, &["--cafile", cert.to_str().unwrap()], &dir);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert_no_credential(&log);
}

#[test]
fn an_untrusted_certificate_after_stls_is_76_and_no_credential_is_sent() {
    let dir = Scratch::new();
    let (script, _) = stls_script(&dir, vec![message(1, 3)]);
    let (port, server) = script.start();
    let url = format!("pop3://alice@localhost:{port}");
    let out = run(&url, &[], &dir);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert_no_credential(&log);
}

#[test]
fn bytes_injected_after_the_stls_answer_are_76_and_no_credential_is_sent() {
    let dir = Scratch::new();
    let (script, cert) = stls_script(&dir, vec![message(1, 3)]);
    let injected = b"+OK injected\r\n".to_vec();
    let script = script.on("STLS", Action::StartTls { injected });
    let (port, server) = script.start();
    let url = format!("pop3://alice@localhost:{port}");
    let out = run(&url, &["-v", "--cafile", cert.to_str().unwrap()], &dir);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert_no_credential(&log);
    assert!(
        log.tls_lines.is_empty(),
        "TLS went ahead: {:?}",
        log.tls_lines
    );
}

// ---------------------------------------------------------------------
// RFC 2449 response codes.

#[test]
fn response_codes_to_pass_decide_the_exit_status() {
    let cases: [(&str, i32, &str); 6] = [
        (
            "-ERR [IN-USE] mailbox locked by another session\r\n",
            75,
            "IN-USE",
        ),
        ("-ERR [SYS/TEMP] try again later\r\n", 75, "try again later"),
        (
            "-ERR [AUTH] credentials rejected\r\n",
            77,
            "credentials rejected",
        ),
        (
            "-ERR [SYS/PERM] account disabled\r\n",
            69,
            "account disabled",
        ),
        ("-ERR invalid password\r\n", 77, "invalid password"),
        (
            "-ERR [LOGIN-DELAY] only every 15 minutes\r\n",
            75,
            "LOGIN-DELAY",
        ),
    ];
    for (reply, status, shown) in cases {
        let script = Pop3Script::new(vec![message(1, 3)])
            .on("PASS", Action::Reply(reply.as_bytes().to_vec()));
        let (out, log, place) = fetch_from(script, &[]);
        let reply = reply.trim_end();
        assert_eq!(code(&out), status, "{reply}: {}", stderr(&out));
        assert!(stderr(&out).contains(shown), "{reply}: {}", stderr(&out));
        assert!(
            !log.received("RETR") && !log.received("STAT"),
            "{:?}",
            log.lines
        );
        assert_maildir_empty(&place.maildir, reply);
    }
}

#[test]
fn response_codes_in_the_greeting_decide_the_exit_status() {
    let cases = [
        ("-ERR [SYS/TEMP] too many connections\r\n", 75),
        ("-ERR [SYS/PERM] this service is closed\r\n", 69),
        ("-ERR [IN-USE] busy\r\n", 75),
    ];
    for (greeting, status) in cases {
        let mut script = Pop3Script::new(vec![message(1, 3)]);
        script.greeting = Action::Reply(greeting.as_bytes().to_vec());
        let (out, log, _place) = fetch_from(script, &[]);
        assert_eq!(code(&out), status, "{greeting:?}: {}", stderr(&out));
        assert_no_credential(&log);
    }
}

#[test]
fn response_codes_after_login_decide_the_exit_status() {
    let cases = [
        ("STAT", "-ERR [SYS/TEMP] index being rebuilt\r\n", 75),
        ("LIST", "-ERR [SYS/TEMP] index being rebuilt\r\n", 75),
        ("RETR", "-ERR [SYS/TEMP] storage unavailable\r\n", 75),
        ("USER", "-ERR [IN-USE] busy\r\n", 75),
        ("USER", "-ERR [SYS/PERM] no such service\r\n", 69),
    ];
    for (command, reply, status) in cases {
        let script = Pop3Script::new(vec![message(1, 3)])
            .on(command, Action::Reply(reply.as_bytes().to_vec()));
        let (out, log, place) = fetch_from(script, &["--new"]);
        let case = format!("{command} answered {}", reply.trim_end());
        assert_eq!(code(&out), status, "{case}: {}", stderr(&out));
        assert!(!log.received("DELE"), "{case}: {:?}", log.lines);
        assert_maildir_empty(&place.maildir, &case);
    }
}

#[test]
fn a_message_gone_before_its_retr_loses_nothing_else() {
    let messages: Vec<Vec<u8>> = (1..=3).map(|n| message(n, 5)).collect();
    let gone = Action::Reply(b"-ERR no such message\r\n".to_vec());
    let script = Pop3Script::new(messages.clone()).on("RETR 2", gone);
    let place = Place::new();
    let (out, log) = fetch_into(&place, script, &["--new"]);
    // A plain -ERR: the message is gone; the others are still fetched.
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("RETR 2"), "{}", stderr(&out));
    assert!(!log.received("DELE 2"), "{:?}", log.lines);
    assert_nothing_lost(&place, &messages, &log);
    let got = stored(&place.maildir);
    assert!(got.contains(&lf(&messages[0])) && got.contains(&lf(&messages[2])));
    assert_eq!(got.len(), 2);
}

/// Each message is stored once or was not deleted, and nothing is
/// stored twice.
fn assert_nothing_lost(place: &Place, messages: &[Vec<u8>], log: &Pop3Log) {
    let got = stored(&place.maildir);
    for (i, m) in messages.iter().enumerate() {
        let copies = got.iter().filter(|g| **g == lf(m)).count();
        assert!(copies <= 1, "message {} stored {copies} times", i + 1);
        let deleted = log.committed_deletions.contains(&(i + 1));
        assert!(copies == 1 || !deleted, "message {} lost", i + 1);
    }
}

// ---------------------------------------------------------------------
// After the messages are stored.

#[test]
fn a_connection_lost_at_dele_keeps_the_stored_messages_and_the_next_run_deletes_them() {
    let messages: Vec<Vec<u8>> = (1..=2).map(|n| message(n, 10)).collect();
    let script = Pop3Script::new(messages.clone()).on("DELE 2", Action::Close);
    let place = Place::new();
    let (out, log) = fetch_into(&place, script, &["--new"]);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(log.committed_deletions.is_empty());
    assert_eq!(stored(&place.maildir).len(), 2);
    let script = Pop3Script::new(messages.clone());
    let (out, log) = fetch_into(&place, script, &["--new", "--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!log.received("RETR"), "fetched again: {:?}", log.lines);
    assert_eq!(log.committed_deletions, vec![1, 2]);
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<&str> = records
        .iter()
        .filter(|r| r["record"] == "message")
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["deleted", "deleted"], "{records:?}");
    let summary = records.last().unwrap();
    assert_eq!(summary["record"], "summary", "{records:?}");
    assert_eq!(summary["fetched"], 0, "{summary}");
    assert_eq!(summary["deleted"], 2, "{summary}");
    let mut got = stored(&place.maildir);
    got.sort();
    let mut want: Vec<Vec<u8>> = messages.iter().map(|m| lf(m)).collect();
    want.sort();
    assert_eq!(got, want, "each once");
}

#[test]
fn quit_refused_or_unanswered_is_75_and_the_next_run_repeats_nothing() {
    let cases = [
        (
            "QUIT refused",
            Action::Reply(b"-ERR some deleted messages not removed\r\n".to_vec()),
        ),
        ("QUIT unanswered", Action::Close),
    ];
    for (what, action) in cases {
        let messages: Vec<Vec<u8>> = (1..=2).map(|n| message(n, 10)).collect();
        let script = Pop3Script::new(messages.clone()).on("QUIT", action);
        let place = Place::new();
        let (out, _) = fetch_into(&place, script, &["--new"]);
        eprintln!("{what}: exit {}, {:?}", code(&out), stderr(&out));
        assert_eq!(code(&out), 75, "{what}: {}", stderr(&out));
        let (out, log) = fetch_into(&place, Pop3Script::new(messages), &["--new"]);
        assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
        assert!(!log.received("RETR"), "{what}: {:?}", log.lines);
        assert_eq!(log.committed_deletions, vec![1, 2], "{what}");
        assert_eq!(stored(&place.maildir).len(), 2, "{what}");
    }
}

#[test]
fn a_uidl_reused_after_a_committed_delete_is_fetched_not_deleted_unseen() {
    // uid-1 names one message in the first session and, once that one is
    // deleted and QUIT committed, a different message in the second (RFC
    // 1939 §7 asks servers not to reuse a UIDL; some do).
    let place = Place::new();
    let first = message(1, 5);
    let (out, log) = fetch_into(&place, Pop3Script::new(vec![first.clone()]), &["--new"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(log.committed_deletions, vec![1]);
    let second = message(2, 7);
    let (out, log) = fetch_into(&place, Pop3Script::new(vec![second.clone()]), &["--new"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ids: Vec<String> = stored(&place.maildir)
        .iter()
        .map(|m| message_id(m))
        .collect();
    assert!(
        ids.contains(&message_id(&second)),
        "the second message was never stored (stored: {ids:?}); the server saw {:?}",
        log.lines
    );
    assert_eq!(ids.len(), 2, "{ids:?}");
}

#[test]
fn a_second_run_on_the_same_state_is_75() {
    let m = message(1, 4000);
    let stall = Pop3Script::new(vec![m.clone()]).on("RETR", Action::Stall { octets: 100 });
    let (port, server) = stall.start();
    let place = Place::new();
    let mut first = spawn_quiet_run(&place, port);
    let staged = wait_for_file(&place.maildir.join("tmp"));
    let (second_port, second) = Pop3Script::new(vec![m]).start();
    let out = place.fetch(second_port, &["--new"]);
    // The second server waits for a connection the run may not have made.
    drop(std::net::TcpStream::connect(("127.0.0.1", second_port)));
    let log = second.join().unwrap();
    first.kill().unwrap();
    first.wait().unwrap();
    server.join().unwrap();
    assert!(staged, "the first run did not get to RETR");
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(
        !log.received("RETR") && !log.received("DELE"),
        "{:?}",
        log.lines
    );
    assert!(files_in(&place.maildir.join("new")).is_empty());
    eprintln!(
        "second run: {:?}; the server saw {:?}",
        stderr(&out),
        log.lines
    );
}

// ---------------------------------------------------------------------
// Endless lines and silence.

/// Runs pop3-fetch under GNU time; gives its output and peak memory (KiB).
fn run_measuring(url: &str, args: &[&str], home: &Scratch) -> (Output, i64) {
    let report = home.path().join("rusage");
    let state_home = home.path().join("xdg-state");
    let child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(BIN)
        .arg(url)
        .args(["--password-env", PASSWORD_VAR, "--timeout", "10"])
        .args(args)
        .env(PASSWORD_VAR, PASSWORD)
        .env("XDG_STATE_HOME", state_home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start /usr/bin/time (package time)");
    let out = child.wait_with_output().unwrap();
    let rusage = std::fs::read_to_string(&report).expect("GNU time's report");
    let kib = rusage.lines().last().and_then(|l| l.trim().parse().ok());
    (
        out,
        kib.unwrap_or_else(|| panic!("GNU time said {rusage:?}")),
    )
}

/// 32 MB of a line without a line end.
const ENDLESS: usize = 32 << 20;
/// Peak memory allowed while a server sends [`ENDLESS`] (KiB).
const BOUNDED_KIB: i64 = 24 << 10;

#[test]
fn an_endless_status_line_is_76_with_bounded_memory() {
    let mut script = Pop3Script::new(vec![message(1, 3)]);
    script.greeting = Action::Endless {
        prefix: b"+OK ".to_vec(),
        total: ENDLESS,
    };
    let (port, server) = script.start();
    let place = Place::new();
    let (out, kib) = run_measuring(&plain_url(port), &place.args(&[]), &place.dir);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    eprintln!("endless line: {kib} KiB at most");
    assert!(kib < BOUNDED_KIB, "{kib} KiB");
    assert!(
        !log.received("USER") && !log.received("PASS"),
        "{:?}",
        log.lines
    );
}

#[test]
fn an_endless_line_in_a_listing_is_76_with_bounded_memory() {
    let script = Pop3Script::new(vec![message(1, 3)]).on(
        "UIDL",
        Action::Endless {
            prefix: b"+OK\r\n1 ".to_vec(),
            total: ENDLESS,
        },
    );
    let (port, server) = script.start();
    let home = Scratch::new();
    let (out, kib) = run_measuring(&plain_url(port), PLAIN, &home);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    eprintln!("endless line: {kib} KiB at most");
    assert!(kib < BOUNDED_KIB, "{kib} KiB");
    assert!(log.received("UIDL"), "{:?}", log.lines);
}

#[test]
fn an_endless_message_line_cut_off_stores_nothing_with_bounded_memory() {
    let script = Pop3Script::new(vec![message(1, 3)]).on(
        "RETR",
        Action::Endless {
            prefix: b"+OK\r\nSubject: long\r\n\r\n".to_vec(),
            total: ENDLESS,
        },
    );
    let (port, server) = script.start();
    let place = Place::new();
    let (out, kib) = run_measuring(&plain_url(port), &place.args(&["--delete"]), &place.dir);
    let log = server.join().unwrap();
    let status = code(&out);
    assert!(status == 75 || status == 76, "{status}: {}", stderr(&out));
    eprintln!("endless message line: exit {status}, {kib} KiB");
    assert!(kib < BOUNDED_KIB, "{kib} KiB");
    assert!(!log.received("DELE"), "{:?}", log.lines);
    assert_maildir_empty(&place.maildir, "endless message line");
}

/// Runs with `--timeout 2` against `script`; checks 75 within 3 s.
fn assert_silence_is_75(script: Pop3Script, what: &str) -> (Pop3Log, Place) {
    let (port, server) = script.start();
    let place = Place::new();
    let started = Instant::now();
    let out = place.fetch(port, &["--delete", "--timeout", "2"]);
    let took = started.elapsed();
    assert_eq!(code(&out), 75, "{what}: {}", stderr(&out));
    assert!(took < Duration::from_secs(3), "{what}: {took:?}");
    assert!(took >= Duration::from_millis(1900), "{what}: {took:?}");
    (server.join().unwrap(), place)
}

#[test]
fn silence_is_75_within_the_timeout() {
    let mut greeting = Pop3Script::new(vec![message(1, 3)]);
    greeting.greeting = Action::Silence;
    assert_silence_is_75(greeting, "no greeting");
    let at_pass = Pop3Script::new(vec![message(1, 3)]).on("PASS", Action::Silence);
    assert_silence_is_75(at_pass, "no answer to PASS");
    let at_retr = Pop3Script::new(vec![message(1, 3)]).on("RETR", Action::Silence);
    let (log, place) = assert_silence_is_75(at_retr, "no answer to RETR");
    assert!(!log.received("DELE"), "{:?}", log.lines);
    assert_maildir_empty(&place.maildir, "no answer to RETR");
    let stalled = Pop3Script::new(vec![message(1, 300)]).on("RETR", Action::Stall { octets: 5000 });
    let (log, place) = assert_silence_is_75(stalled, "silence inside RETR");
    assert!(!log.received("DELE"), "{:?}", log.lines);
    assert_maildir_empty(&place.maildir, "silence inside RETR");
}

#[test]
fn a_message_trickled_a_byte_at_a_time_is_75_within_the_timeout() {
    // Each octet comes in time for a per-read timeout, but 16 KiB must
    // arrive within --timeout: the run ends, nothing stored or deleted.
    let trickled = Pop3Script::new(vec![message(1, 300)]).on(
        "RETR",
        Action::Trickle {
            every: Duration::from_millis(50),
        },
    );
    let (log, place) = assert_silence_is_75(trickled, "a trickled RETR");
    assert!(!log.received("DELE"), "{:?}", log.lines);
    assert_maildir_empty(&place.maildir, "a trickled RETR");
}

#[test]
fn a_tls_handshake_never_answered_is_75_within_the_timeout() {
    let dir = Scratch::new();
    let (script, cert) = stls_script(&dir, vec![message(1, 3)]);
    let script = script.on(
        "STLS",
        Action::ReplyThenSilence(b"+OK begin TLS\r\n".to_vec()),
    );
    let (port, server) = script.start();
    let url = format!("pop3://alice@localhost:{port}");
    let started = Instant::now();
    let args = ["--cafile", cert.to_str().unwrap(), "--timeout", "2"];
    let out = run(&url, &args, &dir);
    let took = started.elapsed();
    let log = server.join().unwrap();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_no_credential(&log);
}

// ---------------------------------------------------------------------
// A server without UIDL.

/// A server whose CAPA has no UIDL and that refuses UIDL.
fn no_uidl(messages: Vec<Vec<u8>>) -> Pop3Script {
    let mut script = Pop3Script::new(messages);
    script.capa = Some(capa(&["USER", "TOP", "RESP-CODES"]));
    script.uidl = false;
    script
}

#[test]
fn without_uidl_listing_shows_a_dash_and_new_is_refused() {
    let messages = vec![message(1, 3), message(2, 4)];
    let (port, server) = no_uidl(messages.clone()).start();
    let home = Scratch::new();
    let out = run(&plain_url(port), PLAIN, &home);
    server.join().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let want = format!("1\t{}\t-\n2\t{}\t-\n", messages[0].len(), messages[1].len());
    assert_eq!(stdout(&out), want);

    let (port, server) = no_uidl(messages.clone()).start();
    let mut json = PLAIN.to_vec();
    json.push("--json");
    let out = run(&plain_url(port), &json, &home);
    server.join().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["number"], 1);
    assert!(first["uidl"].is_null(), "{first}");

    let (port, server) = no_uidl(messages).start();
    let place = Place::new();
    let out = place.fetch(port, &["--new", "--delete"]);
    let log = server.join().unwrap();
    let status = code(&out);
    eprintln!(
        "--new without UIDL: exit {status}, stderr {:?}",
        stderr(&out)
    );
    assert_ne!(status, 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("UIDL"), "{}", stderr(&out));
    assert!(
        !log.received("RETR") && !log.received("DELE"),
        "{:?}",
        log.lines
    );
    assert_maildir_empty(&place.maildir, "--new without UIDL");
}

// ---------------------------------------------------------------------
// PIPELINING.

#[test]
fn without_pipelining_commands_go_in_lock_step() {
    let messages: Vec<Vec<u8>> = (1..=4).map(|n| message(n, 20)).collect();
    let mut script = Pop3Script::new(messages.clone());
    script.lockstep_check = true;
    let place = Place::new();
    script.stored_check = Some(stored_in(&place.maildir, &messages, false));
    let (out, log) = fetch_into(&place, script, &["--new"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        log.dele_before_store.is_empty(),
        "{:?}",
        log.dele_before_store
    );
    assert!(
        log.early.is_empty(),
        "sent before an answer: {:?}",
        log.early
    );
    assert_eq!(log.committed_deletions, vec![1, 2, 3, 4], "{:?}", log.lines);
    let mut got = stored(&place.maildir);
    got.sort();
    let mut want: Vec<Vec<u8>> = messages.iter().map(|m| lf(m)).collect();
    want.sort();
    assert_eq!(got, want, "stored byte for byte, dots un-stuffed");
}

#[test]
fn with_pipelining_the_fetch_works_too() {
    let messages: Vec<Vec<u8>> = (1..=4).map(|n| message(n, 20)).collect();
    let mut script = Pop3Script::new(messages.clone());
    script.capa = Some(capa(&["USER", "UIDL", "TOP", "RESP-CODES", "PIPELINING"]));
    script.lockstep_check = true;
    let place = Place::new();
    script.stored_check = Some(stored_in(&place.maildir, &messages, true));
    let (out, log) = fetch_into(&place, script, &["--new", "--keep-crlf"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    eprintln!("pipelined commands: {:?}", log.early);
    assert!(
        log.dele_before_store.is_empty(),
        "DELE before the message was stored: {:?}",
        log.dele_before_store
    );
    assert_eq!(log.committed_deletions, vec![1, 2, 3, 4], "{:?}", log.lines);
    let mut got = stored(&place.maildir);
    got.sort();
    let mut want = messages;
    want.sort();
    assert_eq!(got, want, "stored byte for byte with CRLF, dots un-stuffed");
}

// ---------------------------------------------------------------------
// SIGKILL at many points, against Dovecot.

/// A small distinct message in Dovecot's Maildir form (LF line ends).
fn numbered(n: usize) -> Vec<u8> {
    format!(
        "From: sender@example.test\nTo: alice@example.test\nSubject: number {n}\n\
         Message-ID: <{n}.kill@example.test>\n\n{}\n.\nbody of {n}\n",
        "x".repeat(n % 97)
    )
    .into_bytes()
}

/// The Message-ID of a stored message.
fn message_id(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    text.lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap_or_else(|| panic!("no Message-ID in {text:?}"))
        .to_string()
}

/// How many messages the POP3 server says alice has (python3 poplib, an
/// independent client).
fn server_count(port: u16, password: &str) -> usize {
    let script = "import os, poplib\n\
                  p = poplib.POP3('127.0.0.1', int(os.environ['PORT']), timeout=20)\n\
                  p.user('alice'); p.pass_(os.environ['PW'])\n\
                  print(p.stat()[0]); p.quit()\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("PORT", port.to_string())
        .env("PW", password)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// How many messages the SIGKILL test fetches.
const KILL_TEST_MESSAGES: usize = 2000;

/// When a run is killed.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// This long after the start.
    After(Duration),
    /// As soon as the transcript shows the `n`th line starting with this.
    AtLine(&'static str, usize),
    /// At the RETR of this fraction (1/N) of the messages not yet stored.
    AtRetrOfRemaining(usize),
    /// At the DELE of this share (percent) of the messages earlier runs
    /// stored (deleted first, without fetching).
    AtDeleOfStored(usize),
}

/// Kills given as shares, made line counts.
impl Kill {
    /// The kill for a run that starts with `stored` of the messages in
    /// the Maildir: the shares made line counts the run reaches.
    fn resolve(self, stored: usize) -> Kill {
        let remaining = KILL_TEST_MESSAGES - stored;
        match self {
            Kill::AtRetrOfRemaining(n) => Kill::AtLine("-> RETR", (remaining / n).max(1)),
            Kill::AtDeleOfStored(p) => Kill::AtLine("-> DELE", (stored * p / 100).max(1)),
            other => other,
        }
    }
}

/// The kills, in order, spread over a run's phases: before the greeting,
/// at login, listing, during RETR, after messages are stored and their
/// DELE sent, while deleting what earlier runs stored, with every DELE
/// sent and QUIT not yet, and at QUIT; then runs go on unkilled. Each is
/// reached whatever the earlier ones left to do.
const KILLS: &[Kill] = &[
    Kill::After(Duration::from_millis(15)),
    Kill::AtLine("-> CAPA", 1),
    Kill::AtLine("-> STAT", 1),
    Kill::AtLine("-> UIDL", 1),
    Kill::AtLine("-> RETR", 1),
    Kill::After(Duration::from_millis(100)),
    Kill::AtDeleOfStored(50),
    Kill::AtRetrOfRemaining(20),
    Kill::After(Duration::from_millis(200)),
    Kill::AtRetrOfRemaining(10),
    Kill::AtDeleOfStored(90),
    Kill::AtRetrOfRemaining(8),
    Kill::AtLine("-> DELE", 1),
    Kill::AtRetrOfRemaining(6),
    Kill::AtRetrOfRemaining(4),
    Kill::AtRetrOfRemaining(3),
    Kill::AtRetrOfRemaining(2),
    // Everything stored and every DELE sent, QUIT not yet.
    Kill::AtLine("-> DELE", KILL_TEST_MESSAGES),
    Kill::AtLine("-> QUIT", 1),
    Kill::AtLine("-> QUIT", 1),
];

/// How a run ended: its status when it finished, or the last command its
/// transcript showed when it was killed.
enum Ended {
    /// It exited: its status and transcript.
    Finished(std::process::ExitStatus, String),
    /// Killed: the last command its transcript showed.
    Killed(String),
}

/// Runs pop3-fetch with `args` (and `-v`), killed with SIGKILL as `kill`
/// says, or after 60 s.
fn run_killed(args: &[&str], kill: Option<Kill>) -> Ended {
    let at = kill.map(|kill| match kill {
        Kill::After(delay) => KillAt::After(delay),
        Kill::AtLine(prefix, n) => KillAt::Line(prefix, n),
        unresolved => panic!("{unresolved:?} not resolved"),
    });
    let (status, transcript) = killed::run_killed(BIN, args, at);
    match status.code() {
        Some(_) => Ended::Finished(status, transcript),
        None => Ended::Killed(last_command(&transcript)),
    }
}

/// The last command a transcript shows.
fn last_command(transcript: &str) -> String {
    transcript
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("-> ").or_else(|| l.strip_prefix("~> ")))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("(none)")
        .to_string()
}

#[test]
fn sigkill_at_many_points_loses_and_repeats_nothing() {
    let dovecot = Dovecot::start();
    let mut want = BTreeMap::new();
    for n in 1..=KILL_TEST_MESSAGES {
        let m = numbered(n);
        want.insert(message_id(&m), m.clone());
        dovecot.deposit("alice", &m);
    }
    let place = Place::new();
    let password = place.dir.path().join("password");
    std::fs::write(&password, "alicepw\n").unwrap();
    common::set_mode(&password, 0o600);
    let url = format!("pop3://alice@127.0.0.1:{}", dovecot.pop3);
    let mut args = vec![url.as_str(), "--new", "--delete"];
    args.extend(["--password-file", password.to_str().unwrap()]);
    args.extend(place.args(&[]));
    let mut killed_at = Vec::new();
    let mut kills = KILLS.iter().copied();
    let (status, transcript) = loop {
        let kill = kills
            .next()
            .map(|k| k.resolve(stored(&place.maildir).len()));
        match run_killed(&args, kill) {
            Ended::Finished(status, transcript) => break (status, transcript),
            Ended::Killed(last) => killed_at.push((kill.unwrap(), last)),
        }
    };
    eprintln!("{} kills:", killed_at.len());
    for (kill, last) in &killed_at {
        eprintln!("  {kill:?}: last command {last}");
    }
    assert_eq!(status.code(), Some(0), "{transcript}");
    assert!(killed_at.len() >= 15, "too few kills to mean anything");
    for phase in ["RETR", "DELE", "QUIT"] {
        let hit = killed_at.iter().any(|(_, last)| last == phase);
        assert!(hit, "no run was killed at {phase}");
    }
    assert_all_once(&place.maildir, &want);
    assert!(dovecot.delivered("alice").is_empty(), "left on the server");
    assert_eq!(server_count(dovecot.pop3, "alicepw"), 0);
    // What each killed run left in tmp/ went with the next run.
    let left = files_in(&place.maildir.join("tmp"));
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}

/// A `--new --delete` run into `place` from the scripted server on
/// `port`, in the background, its output discarded.
fn spawn_quiet_run(place: &Place, port: u16) -> std::process::Child {
    let url = plain_url(port);
    let mut args = vec![
        url.as_str(),
        "--password-env",
        PASSWORD_VAR,
        "--new",
        "--delete",
    ];
    args.extend(place.args(&[]));
    Command::new(BIN)
        .args(&args)
        .env(PASSWORD_VAR, PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `dir` holds a file, at most 10 s.
fn wait_for_file(dir: &Path) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !files_in(dir).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn a_run_killed_while_writing_a_message_leaves_nothing_in_tmp_after_the_next() {
    let m = message(1, 4000);
    let stall = Pop3Script::new(vec![m.clone()]).on(
        "RETR",
        Action::Stall {
            octets: m.len() / 2,
        },
    );
    let (port, server) = stall.start();
    let place = Place::new();
    let mut child = spawn_quiet_run(&place, port);
    let staged = wait_for_file(&place.maildir.join("tmp"));
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap();
    child.wait().unwrap();
    server.join().unwrap();
    assert!(staged, "nothing was being written in tmp/");
    assert!(files_in(&place.maildir.join("new")).is_empty());

    let (port, server) = Pop3Script::new(vec![m.clone()]).start();
    let out = place.fetch(port, &["--new", "--delete"]);
    let log = server.join().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(log.committed_deletions, vec![1]);
    assert_eq!(stored(&place.maildir), vec![lf(&m)]);
    let left = files_in(&place.maildir.join("tmp"));
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}

// ---------------------------------------------------------------------
// SIGKILL at exact points of a store, held there by strace's syscall
// delays.

/// Where a run is held and killed: the syscalls strace delays, how long
/// (µs), and what shows that the run is inside the delay.
struct CrashPoint {
    /// The point, in words.
    what: &'static str,
    /// strace's syscall set.
    syscalls: &'static str,
    /// The delay at each entry into one of them, in microseconds.
    delay_us: u32,
    /// Whether the files show the run held at the point.
    reached: fn(&Place) -> bool,
}

/// The first message is recorded in the state file, none is linked into
/// new/ yet.
fn recorded_not_linked(place: &Place) -> bool {
    let recorded = state_text(&place.state)
        .lines()
        .any(|l| l.starts_with("uid-1"));
    recorded && files_in(&place.maildir.join("new")).is_empty()
}

/// A message is in new/ and tmp/ still holds a name (its own, or another
/// message's not linked yet).
fn linked_not_unlinked(place: &Place) -> bool {
    !files_in(&place.maildir.join("new")).is_empty()
        && !files_in(&place.maildir.join("tmp")).is_empty()
}

/// Messages are in new/ and none in tmp/ (new/ is being synced; DELE
/// comes after).
fn stored_not_deleted(place: &Place) -> bool {
    !files_in(&place.maildir.join("new")).is_empty()
        && files_in(&place.maildir.join("tmp")).is_empty()
}

/// Recorded not linked, linked not unlinked, stored not deleted.
const CRASH_POINTS: &[CrashPoint] = &[
    CrashPoint {
        what: "recorded in the state, not yet linked into new/",
        syscalls: "link,linkat",
        delay_us: 2_000_000,
        reached: recorded_not_linked,
    },
    CrashPoint {
        what: "linked into new/, the tmp/ name not yet removed",
        syscalls: "unlink,unlinkat",
        delay_us: 2_000_000,
        reached: linked_not_unlinked,
    },
    CrashPoint {
        what: "stored, DELE not yet sent",
        syscalls: "fsync",
        delay_us: 700_000,
        reached: stored_not_deleted,
    },
];

/// Whether strace can trace here; says why not on stderr.
fn strace_works(test: &str) -> bool {
    let works = Command::new("strace")
        .args(["-qq", "-o", "/dev/null", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        eprintln!("SKIPPED {test}: needs strace (package strace) and ptrace");
    }
    works
}

/// The pid of `parent`'s child that runs pop3-fetch (strace may start
/// another first), waiting up to 5 s for it.
fn tool_under(parent: u32) -> libc::pid_t {
    let path = format!("/proc/{parent}/task/{parent}/children");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for pid in text.split_whitespace() {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "pop3-fetch" {
                return pid.parse().unwrap();
            }
        }
        assert!(Instant::now() < deadline, "strace started no pop3-fetch");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until `reached` says yes, at most 20 s.
fn wait_until(place: &Place, reached: fn(&Place) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reached(place) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

#[test]
fn sigkill_at_each_step_of_a_store_is_finished_by_the_next_run() {
    let test = "sigkill_at_each_step_of_a_store_is_finished_by_the_next_run";
    if !strace_works(test) {
        return;
    }
    for point in CRASH_POINTS {
        crash_and_rerun(point);
    }
}

/// Holds a `--new --delete` run of three messages at `point` (the first
/// time it gets there), kills it there, and checks that the next run
/// finishes the store without fetching again.
fn crash_and_rerun(point: &CrashPoint) {
    let what = point.what;
    let messages: Vec<Vec<u8>> = (1..=3).map(|n| message(n, 50)).collect();
    let (port, server) = Pop3Script::new(messages.clone()).start();
    let place = Place::new();
    let url = plain_url(port);
    let inject = format!("inject={}:delay_enter={}", point.syscalls, point.delay_us);
    let mut args = vec![
        url.as_str(),
        "--password-env",
        PASSWORD_VAR,
        "--new",
        "--delete",
    ];
    args.extend(place.args(&[]));
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-o", "/dev/null", "-e"])
        .arg(format!("trace={}", point.syscalls))
        .args(["-e", &inject, BIN])
        .args(&args)
        .env(PASSWORD_VAR, PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let tool = tool_under(strace.id());
    let reached = wait_until(&place, point.reached);
    // SAFETY: the tool is strace's child and held by it, so not reaped.
    unsafe { libc::kill(tool, libc::SIGKILL) };
    strace.wait().unwrap();
    let log = server.join().unwrap();
    assert!(reached, "{what}: the run never got there");
    assert!(!log.received("DELE"), "{what}: {:?}", log.lines);

    let (out, log) = fetch_into(&place, Pop3Script::new(messages.clone()), &["--new"]);
    assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
    assert!(
        !log.received("RETR"),
        "{what}: fetched again: {:?}",
        log.lines
    );
    assert_eq!(
        log.committed_deletions,
        vec![1, 2, 3],
        "{what}: {:?}",
        log.lines
    );
    let mut got = stored(&place.maildir);
    got.sort();
    let mut want: Vec<Vec<u8>> = messages.iter().map(|m| lf(m)).collect();
    want.sort();
    assert_eq!(got, want, "{what}: each once");
    let left = files_in(&place.maildir.join("tmp"));
    assert!(left.is_empty(), "{what}: left in tmp/: {left:?}");
}

/// Every wanted message is in new/ or cur/ exactly once, byte for byte,
/// and nothing else is.
fn assert_all_once(maildir: &Path, want: &BTreeMap<String, Vec<u8>>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let messages = stored(maildir);
    for m in &messages {
        let id = message_id(m);
        let expected = want
            .get(&id)
            .unwrap_or_else(|| panic!("unknown message {id}"));
        assert_eq!(m, expected, "{id} differs");
        *seen.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    let missing: Vec<_> = want.keys().filter(|id| !seen.contains_key(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert_eq!(messages.len(), want.len());
}

// ---------------------------------------------------------------------
// A full disk.

#[test]
fn a_full_disk_stores_nothing_and_deletes_nothing() {
    let Some(disk) = small_disk("a_full_disk_stores_nothing_and_deletes_nothing") else {
        return;
    };
    let dovecot = Dovecot::start();
    let mut big = b"Subject: big\nMessage-ID: <big@example.test>\n\n".to_vec();
    while big.len() < 512 * 1024 {
        big.extend_from_slice(b"From the start, a line of a long body.\n");
    }
    dovecot.deposit("alice", &big);
    let home = Scratch::new();
    let password = home.path().join("password");
    std::fs::write(&password, "alicepw\n").unwrap();
    common::set_mode(&password, 0o600);
    let maildir = disk.path().join("Maildir");
    let state = home.path().join("state");
    let url = format!("pop3://alice@127.0.0.1:{}", dovecot.pop3);
    let mut args = vec![url.as_str(), "--delete", "--new"];
    args.extend(PLAIN);
    args.extend(["--password-file", password.to_str().unwrap()]);
    args.extend(["--maildir", maildir.to_str().unwrap()]);
    args.extend(["--state", state.to_str().unwrap()]);
    let out = run_tool_env(BIN, &args, b"", &[]);
    let status = code(&out);
    eprintln!("full disk: exit {status}, {:?}", stderr(&out));
    assert!(status == 73 || status == 74, "{status}: {}", stderr(&out));
    assert!(stderr(&out).contains("No space left"), "{}", stderr(&out));
    assert_maildir_empty(&maildir, "full disk");
    assert_eq!(dovecot.delivered("alice").len(), 1, "deleted on the server");
    assert_eq!(server_count(dovecot.pop3, "alicepw"), 1);
    let recorded: Vec<String> = state_text(&state)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    assert!(recorded.is_empty(), "recorded as stored: {recorded:?}");

    // The same with an mbox on the full disk: nothing half-appended.
    let mbox = disk.path().join("mbox");
    let mut args = vec![url.as_str(), "--delete", "--new"];
    args.extend(PLAIN);
    args.extend(["--password-file", password.to_str().unwrap()]);
    args.extend(["--mbox", mbox.to_str().unwrap()]);
    args.extend(["--state", state.to_str().unwrap()]);
    let out = run_tool_env(BIN, &args, b"", &[]);
    let status = code(&out);
    eprintln!("full disk, mbox: exit {status}, {:?}", stderr(&out));
    assert!(status == 73 || status == 74, "{status}: {}", stderr(&out));
    let left = std::fs::metadata(&mbox).map(|m| m.len()).unwrap_or(0);
    assert_eq!(left, 0, "the mbox keeps a partial message");
    assert_eq!(
        server_count(dovecot.pop3, "alicepw"),
        1,
        "deleted on the server"
    );
    let stray: Vec<PathBuf> = files_in(disk.path())
        .into_iter()
        .filter(|f| f != &mbox && f != &maildir)
        .collect();
    assert!(stray.is_empty(), "left on the disk: {stray:?}");
}

#[test]
fn a_disk_full_in_the_middle_keeps_what_was_stored_and_loses_nothing() {
    let Some(disk) =
        small_disk("a_disk_full_in_the_middle_keeps_what_was_stored_and_loses_nothing")
    else {
        return;
    };
    let mut big = b"Subject: big\r\nMessage-ID: <big@example.test>\r\n\r\n".to_vec();
    while big.len() < 512 * 1024 {
        big.extend_from_slice(b"From the start, a line of a long body.\r\n");
    }
    let messages = vec![message(1, 5), big, message(3, 5)];
    let dir = Scratch::new();
    let place = Place {
        maildir: disk.path().join("Maildir"),
        state: dir.path().join("state"),
        dir,
    };
    let (out, log) = fetch_into(&place, Pop3Script::new(messages.clone()), &["--new"]);
    let status = code(&out);
    eprintln!("disk full at message 2: exit {status}, {:?}", stderr(&out));
    assert!(status == 73 || status == 74, "{status}: {}", stderr(&out));
    assert!(!log.received("DELE 2"), "{:?}", log.lines);
    assert_nothing_lost(&place, &messages, &log);
    assert!(stored(&place.maildir).contains(&lf(&messages[0])));
    let left = files_in(&place.maildir.join("tmp"));
    assert!(left.is_empty(), "left in tmp/: {left:?}");
}
