//! pop3-fetch against a real Dovecot started by the test, over STLS and
//! implicit TLS. What the server holds is seen independently through
//! Python's poplib; what pop3-fetch stores is compared byte for byte.
//!
//! What Dovecot 2.3 sends for a Maildir file (checked with a raw socket
//! session, and restated per shape in [`shapes`]): every LF that is not
//! already part of a CRLF goes out as CRLF, a bare CR goes out as it is,
//! lines starting with `.` are dot-stuffed, NUL and 8-bit bytes go out
//! as they are, and a file that does not end in a line end gets CRLF
//! before the terminating `.` line (which must start a line, RFC 1939
//! §3). LIST and STAT count the message with CRLF line ends but without
//! that added CRLF, and without dot-stuffing.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::dovecot::{Dovecot, DovecotOptions};
use common::{Scratch, code, run_tool_env, set_mode, stderr, stdout};
use serde_json::{Value, json};

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_pop3-fetch");

/// alice's password, which must never show in any output.
const PASSWORD: &str = "alicepw";

/// A message as deposited in Dovecot's Maildir and as Dovecot sends it
/// over POP3, once the client has removed the dot-stuffing.
#[derive(Clone)]
struct Shape {
    /// The Maildir file.
    file: Vec<u8>,
    /// The message as sent (CRLF line ends, without the stuffing dots):
    /// what `--keep-crlf` stores.
    wire: Vec<u8>,
}

impl Shape {
    /// What pop3-fetch stores by default: the message as sent with each
    /// CRLF turned into LF, nothing else changed.
    fn lf(&self) -> Vec<u8> {
        crlf_to_lf(&self.wire)
    }
}

/// Each CRLF as LF; a CR not followed by LF stays.
fn crlf_to_lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if !(b == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// A shape whose file has LF line ends and a final line end: on the wire
/// each LF becomes CRLF and nothing else changes.
fn lf_file(file: &[u8]) -> Shape {
    let mut wire = Vec::new();
    for &b in file {
        if b == b'\n' {
            wire.push(b'\r');
        }
        wire.push(b);
    }
    Shape {
        file: file.to_vec(),
        wire,
    }
}

/// The awkward shapes, each with what Dovecot sends for it.
fn shapes() -> Vec<Shape> {
    vec![
        // Lines that begin with `.` and `..`, and a line that is only `.`:
        // sent as `..one dot`, `...two dots`, `..`; the client removes one
        // dot from each, so the message comes back unchanged.
        lf_file(b"Subject: dots\n\n.one dot\n..two dots\n.\nend\n"),
        // `From ` lines, quoted or not: a Maildir file has no quoting, so
        // they go out and come back as they are.
        lf_file(b"Subject: from\n\nFrom the start\n>From quoted\n>>From twice\nFrom\n"),
        // No final newline: Dovecot ends the last line with CRLF so that
        // the terminating dot stands on its own line, and a client cannot
        // tell it from a message that had one (LIST counts 36 octets,
        // without it).
        Shape {
            file: b"Subject: no final newline\n\nthe last line".to_vec(),
            wire: b"Subject: no final newline\r\n\r\nthe last line\r\n".to_vec(),
        },
        // 8-bit bytes (UTF-8 and bytes that are no UTF-8 at all) as they are.
        lf_file(b"Subject: eight bit \xc3\xa9\n\ncaf\xc3\xa9 \xff\xfe\x80 raw\n"),
        // A file with CRLF line ends goes out byte for byte.
        Shape {
            file: b"Subject: crlf\r\n\r\nline one\r\nline two\r\n".to_vec(),
            wire: b"Subject: crlf\r\n\r\nline one\r\nline two\r\n".to_vec(),
        },
        // CRLF and LF mixed: every line end goes out as CRLF; a bare CR
        // inside a line is no line end and goes out as it is.
        Shape {
            file: b"Subject: mixed\n\nlf line\ncrlf line\r\nbare cr\rinside\n".to_vec(),
            wire: b"Subject: mixed\r\n\r\nlf line\r\ncrlf line\r\nbare cr\rinside\r\n".to_vec(),
        },
        // A NUL byte: Dovecot 2.3's POP3 sends it as it is.
        lf_file(b"Subject: nul\n\nbefore\x00after\n"),
        // A last line of only `.` without a line end: sent as `..` CRLF,
        // which the client unstuffs to `.` CRLF.
        Shape {
            file: b"Subject: dot last\n\n.".to_vec(),
            wire: b"Subject: dot last\r\n\r\n.\r\n".to_vec(),
        },
    ]
}

/// A message with a 2 MiB line (no line bound applies to message data).
fn long_line() -> Shape {
    let mut file = b"Subject: a long line\n\n".to_vec();
    file.extend(std::iter::repeat_n(b'L', 2 << 20));
    file.extend_from_slice(b"\nafter the long line\n");
    lf_file(&file)
}

/// A 20 MiB message of numbered 76-octet lines.
fn twenty_mib() -> Shape {
    let mut file = b"Subject: twenty MiB\n\n".to_vec();
    let mut i = 0u64;
    while file.len() < 20 << 20 {
        file.extend_from_slice(format!("{i:075}\n").as_bytes());
        i += 1;
    }
    lf_file(&file)
}

/// A small message, different for each `i`.
fn small(i: usize) -> Shape {
    lf_file(format!("Subject: small {i}\nMessage-ID: <{i}@example.test>\n\nbody {i}\n").as_bytes())
}

/// What a POP3 session of Python's poplib sees: the scan listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    /// (number, size, UIDL) in number order.
    messages: Vec<(u64, u64, String)>,
    /// STAT's message count and total size.
    stat: (u64, u64),
}

/// Logs in as alice with poplib (USER/PASS, plain text on loopback, which
/// Dovecot counts as secured) and reads STAT, LIST and UIDL; QUIT.
fn server_view(port: u16) -> View {
    const SCRIPT: &str = r#"
import json, os, poplib, sys
p = poplib.POP3("127.0.0.1", int(os.environ["POP_PORT"]), timeout=20)
p.user("alice")
p.pass_(os.environ["POP_PASSWORD"])
count, size = p.stat()
sizes = {int(n): int(s) for n, s in (l.split() for l in p.list()[1])}
uidls = {int(n): u.decode() for n, u in (l.split() for l in p.uidl()[1])}
p.quit()
json.dump({"stat": [count, size],
           "messages": [[n, sizes[n], uidls[n]] for n in sorted(sizes)]}, sys.stdout)
"#;
    let out = python(SCRIPT, port);
    let value: Value = serde_json::from_slice(&out).unwrap();
    View {
        messages: value["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m[0].as_u64().unwrap(),
                    m[1].as_u64().unwrap(),
                    m[2].as_str().unwrap().to_string(),
                )
            })
            .collect(),
        stat: (
            value["stat"][0].as_u64().unwrap(),
            value["stat"][1].as_u64().unwrap(),
        ),
    }
}

/// Deletes message 1 with poplib (DELE 1, QUIT).
fn server_delete_first(port: u16) {
    const SCRIPT: &str = r#"
import os, poplib
p = poplib.POP3("127.0.0.1", int(os.environ["POP_PORT"]), timeout=20)
p.user("alice")
p.pass_(os.environ["POP_PASSWORD"])
p.dele(1)
p.quit()
"#;
    python(SCRIPT, port);
}

/// Runs a poplib script with the port and password in its environment;
/// its stdout.
fn python(script: &str, port: u16) -> Vec<u8> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("POP_PORT", port.to_string())
        .env("POP_PASSWORD", PASSWORD)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A Dovecot, a scratch directory and alice's password in a 0600 file.
struct Server {
    dovecot: Dovecot,
    dir: Scratch,
    password_file: PathBuf,
}

impl Server {
    /// The default Dovecot (STLS and POP3S).
    fn start() -> Server {
        Server::start_with(&DovecotOptions::default())
    }

    /// A Dovecot started with `options`.
    fn start_with(options: &DovecotOptions) -> Server {
        let dovecot = Dovecot::start_with(options);
        let dir = Scratch::new();
        let password_file = password_file(&dir, "password", PASSWORD);
        Server {
            dovecot,
            dir,
            password_file,
        }
    }

    /// `pop3://alice@localhost:PORT` (STLS).
    fn url(&self) -> String {
        format!("pop3://alice@localhost:{}", self.dovecot.pop3)
    }

    /// `pop3s://alice@localhost:PORT` (implicit TLS).
    fn url_tls(&self) -> String {
        format!("pop3s://alice@localhost:{}", self.dovecot.pop3s)
    }

    /// A path in the scratch directory, as text.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// pop3-fetch on [`Server::url`] with the test CA and alice's password
    /// from a file, plus `extra`.
    fn fetch(&self, extra: &[&str]) -> Output {
        self.fetch_env(&self.url(), extra, &[])
    }

    /// pop3-fetch on `url` with the test CA, alice's password file and
    /// `extra`, with `env` added to its environment. Whatever happened,
    /// the password shows nowhere.
    fn fetch_env(&self, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let cafile = self.dovecot.cert.to_str().unwrap();
        let password = self.password_file.to_str().unwrap();
        let mut args = vec![
            url,
            "--cafile",
            cafile,
            "--password-file",
            password,
            "--timeout",
            "20",
        ];
        args.extend_from_slice(extra);
        let out = run_tool_env(BIN, &args, b"", env);
        assert_no_password(&out);
        out
    }

    /// The server's view now.
    fn view(&self) -> View {
        server_view(self.dovecot.pop3)
    }

    /// Deposits the shapes' files into alice's Maildir, in order.
    fn deposit(&self, shapes: &[Shape]) {
        self.dovecot
            .deposit_many("alice", shapes.iter().map(|s| s.file.as_slice()));
    }
}

/// Fails when the password shows on stdout or stderr.
fn assert_no_password(out: &Output) {
    let shown = [&out.stdout, &out.stderr].iter().any(|text| {
        text.windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes())
    });
    assert!(!shown, "the password leaked: {}", stderr(out));
}

/// A file holding `password`, which only its owner may read.
fn password_file(dir: &Scratch, name: &str, password: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{password}\n")).unwrap();
    set_mode(&path, 0o600);
    path
}

/// Asserts exit status `expected`, showing stderr otherwise.
fn assert_code(out: &Output, expected: i32) {
    assert_eq!(code(out), expected, "stderr: {}", stderr(out));
}

/// stdout as JSON Lines.
fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `record: message` objects and the one summary, which comes last.
fn records(out: &Output) -> (Vec<Value>, Value) {
    let mut lines = json_lines(out);
    let summary = lines.pop().expect("a summary record");
    assert_eq!(summary["record"], "summary", "{summary}");
    for line in &lines {
        assert_eq!(line["record"], "message", "{line}");
    }
    (lines, summary)
}

/// The files in `DIR/SUB` (file name → bytes).
fn files_in(dir: &Path, sub: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
        return files;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        files.insert(name, std::fs::read(entry.path()).unwrap());
    }
    files
}

/// The messages stored in a Maildir's `new/`, sorted by content (file
/// names are unique but say nothing about order); `tmp/` must be empty.
fn maildir_messages(dir: &Path) -> Vec<Vec<u8>> {
    assert!(files_in(dir, "tmp").is_empty(), "tmp/ is not empty");
    let mut messages: Vec<Vec<u8>> = files_in(dir, "new").into_values().collect();
    messages.sort();
    messages
}

/// `messages`, sorted (to compare with [`maildir_messages`]).
fn sorted(mut messages: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    messages.sort();
    messages
}

/// Every awkward shape, a 2 MiB line, a 20 MiB message and 2000 small
/// ones: stored byte-exact with LF line ends, and as sent with --keep-crlf;
/// one JSON record each, naming its file.
#[test]
fn every_shape_a_20_mib_message_and_2000_small_ones_are_stored_byte_exact() {
    let server = Server::start();
    let mut all = shapes();
    all.push(long_line());
    all.push(twenty_mib());
    all.extend((0..2000).map(small));
    server.deposit(&all);
    let view = server.view();
    assert_eq!(view.messages.len(), all.len());

    // Default: LF line ends. Each record names the file written for it.
    let maildir = server.path("lf");
    let out = server.fetch(&["--maildir", &maildir, "--json"]);
    assert_code(&out, 0);
    let (messages, summary) = records(&out);
    assert_eq!(messages.len(), all.len());
    for (record, ((number, size, uidl), shape)) in
        messages.iter().zip(view.messages.iter().zip(&all))
    {
        assert_eq!(record["number"], *number, "{record}");
        assert_eq!(record["size"], *size, "{record}");
        assert_eq!(record["uidl"], uidl.as_str(), "{record}");
        assert_eq!(record["status"], "stored", "{record}");
        let path = Path::new(record["path"].as_str().expect("a path"));
        assert_eq!(path.parent().unwrap(), Path::new(&maildir).join("new"));
        let stored = std::fs::read(path).unwrap();
        assert!(stored == shape.lf(), "message {number} differs: {record}");
    }
    assert_eq!(summary["fetched"], all.len(), "{summary}");
    assert_eq!(summary["skipped"], 0, "{summary}");
    assert_eq!(summary["deleted"], 0, "{summary}");
    let expected = sorted(all.iter().map(Shape::lf).collect());
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    // --keep-crlf: the message as sent. Quiet on success (no progress bar
    // when stderr is no terminal); cur/, new/ and tmp/ made.
    let maildir = server.path("crlf");
    let out = server.fetch(&["--maildir", &maildir, "--keep-crlf"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
    for sub in ["cur", "new", "tmp"] {
        assert!(Path::new(&maildir).join(sub).is_dir(), "no {sub}/");
    }
    let expected = sorted(all.iter().map(|s| s.wire.clone()).collect());
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    // Download and keep: the server still has every message.
    assert_eq!(server.view(), view);
}

/// The listing (text and JSON) is poplib's LIST and UIDL, and leaves the
/// Maildir as it was (no file moved, no \Seen flag).
#[test]
fn listing_matches_the_server_and_changes_nothing() {
    let server = Server::start();
    server.deposit(&shapes());
    // poplib's own session moves the files from new/ to cur/ (Dovecot does
    // that on any login); from then on nothing may change.
    let view = server.view();
    let before = server.dovecot.mail_files("alice");
    assert_eq!(before.len(), shapes().len());

    let out = server.fetch(&[]);
    assert_code(&out, 0);
    let expected: String = view
        .messages
        .iter()
        .map(|(n, size, uidl)| format!("{n}\t{size}\t{uidl}\n"))
        .collect();
    assert_eq!(stdout(&out), expected);

    let out = server.fetch(&["--json"]);
    assert_code(&out, 0);
    let expected: Vec<Value> = view
        .messages
        .iter()
        .map(|(n, size, uidl)| json!({"number": n, "size": size, "uidl": uidl}))
        .collect();
    assert_eq!(json_lines(&out), expected);

    // Same files, same names (no \Seen flag, `:2,S`), same bytes.
    assert_eq!(server.dovecot.mail_files("alice"), before);
    assert_eq!(server.view(), view);
}

/// --new: the state file under XDG_STATE_HOME or --state, each message
/// stored once, and the state kept to what the server still has.
#[test]
fn new_fetches_only_what_no_earlier_run_stored() {
    let server = Server::start();
    let first = shapes()[..3].to_vec();
    server.deposit(&first);
    let state_home = server.path("state");
    let env = [("XDG_STATE_HOME", state_home.as_str())];
    let maildir = server.path("mail");
    let args = ["--new", "--maildir", &maildir];

    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    let expected = sorted(first.iter().map(Shape::lf).collect());
    assert!(maildir_messages(Path::new(&maildir)) == expected);
    // The state file is where the man page says, with the stored UIDLs.
    let state = Path::new(&state_home)
        .join("mailkit")
        .join(format!("pop3-alice@localhost:{}", server.dovecot.pop3));
    let uidls = |path: &Path| -> Vec<String> {
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // A line holds the UIDL first; `#` starts a comment line.
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        lines.sort();
        lines
    };
    let view = server.view();
    let mut server_uidls: Vec<String> = view.messages.iter().map(|m| m.2.clone()).collect();
    server_uidls.sort();
    assert_eq!(uidls(&state), server_uidls);

    // Nothing new: nothing stored, and that is no error.
    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir)).len(), 3);

    // Two more arrive: exactly those two are stored.
    let more = shapes()[3..5].to_vec();
    server.deposit(&more);
    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    let all: Vec<Shape> = first.iter().chain(&more).cloned().collect();
    let expected = sorted(all.iter().map(Shape::lf).collect());
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    // --state FILE puts the state there, and nothing in XDG_STATE_HOME.
    let other_home = server.path("other-state");
    let custom = server.path("custom.state");
    let maildir2 = server.path("mail2");
    let env = [("XDG_STATE_HOME", other_home.as_str())];
    let args = ["--new", "--state", &custom, "--maildir", &maildir2];
    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir2)).len(), 5);
    let mut server_uidls: Vec<String> = server.view().messages.into_iter().map(|m| m.2).collect();
    server_uidls.sort();
    assert_eq!(uidls(Path::new(&custom)), server_uidls);
    assert!(
        !Path::new(&other_home)
            .join("mailkit")
            .join(format!("pop3-alice@localhost:{}", server.dovecot.pop3))
            .exists()
    );
    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir2)).len(), 5);

    // A message deleted by another client leaves the state at the next
    // run, which stores nothing.
    server_delete_first(server.dovecot.pop3);
    let out = server.fetch_env(&server.url(), &args, &env);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir2)).len(), 5);
    let mut server_uidls: Vec<String> = server.view().messages.into_iter().map(|m| m.2).collect();
    server_uidls.sort();
    assert_eq!(server_uidls.len(), 4);
    assert_eq!(uidls(Path::new(&custom)), server_uidls);
}

/// Download and keep by default; --delete empties the server.
#[test]
fn delete_empties_the_server_only_after_storing_and_keep_is_the_default() {
    let server = Server::start();
    let mine = shapes()[..4].to_vec();
    server.deposit(&mine);
    let view = server.view();
    let expected = sorted(mine.iter().map(Shape::lf).collect());

    let kept = server.path("kept");
    let out = server.fetch(&["--maildir", &kept]);
    assert_code(&out, 0);
    assert!(maildir_messages(Path::new(&kept)) == expected);
    assert_eq!(server.view(), view, "without --delete the server changed");

    let taken = server.path("taken");
    let out = server.fetch(&["--delete", "--maildir", &taken, "--json"]);
    assert_code(&out, 0);
    let (_, summary) = records(&out);
    assert_eq!(summary["fetched"], 4, "{summary}");
    assert!(maildir_messages(Path::new(&taken)) == expected);
    let after = server.view();
    assert_eq!(after.stat, (0, 0));
    assert!(server.dovecot.mail_files("alice").is_empty());
}

/// A --delete run deletes what an earlier --new run stored, without
/// fetching it again (status `deleted`).
#[test]
fn delete_removes_what_an_earlier_run_stored_without_fetching_it_again() {
    let server = Server::start();
    let mine = shapes()[..3].to_vec();
    server.deposit(&mine);
    let view = server.view();
    let state = server.path("state");
    let maildir = server.path("mail");
    let out = server.fetch(&["--new", "--state", &state, "--maildir", &maildir]);
    assert_code(&out, 0);
    let out = server.fetch(&[
        "--new",
        "--delete",
        "--state",
        &state,
        "--maildir",
        &maildir,
        "--json",
    ]);
    assert_code(&out, 0);
    let (messages, summary) = records(&out);
    let statuses: Vec<(Value, Value)> = messages
        .iter()
        .map(|m| (m["uidl"].clone(), m["status"].clone()))
        .collect();
    let expected: Vec<(Value, Value)> = view
        .messages
        .iter()
        .map(|m| (json!(m.2), json!("deleted")))
        .collect();
    assert_eq!(statuses, expected);
    assert_eq!(summary["fetched"], 0, "{summary}");
    assert_eq!(summary["deleted"], 3, "{summary}");
    assert_eq!(maildir_messages(Path::new(&maildir)).len(), 3);
    assert_eq!(server.view().stat, (0, 0));
}

/// The messages of an mboxrd file: each starts with a `From ` line (body
/// lines that start with `From ` are quoted, so every one is a
/// separator) and ends with an empty line, which is not part of it; one
/// `>` is removed from each `>…>From ` line.
fn read_mboxrd(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            assert!(line.ends_with(b"\n") && line.len() > 7, "{line:?}");
            messages.push(Vec::new());
            continue;
        }
        let message = messages.last_mut().expect("the mbox starts with From ");
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        if quoted > 0 && line[quoted..].starts_with(b"From ") {
            message.extend_from_slice(&line[1..]);
        } else {
            message.extend_from_slice(line);
        }
    }
    for message in &mut messages {
        assert!(
            message.ends_with(b"\n\n"),
            "no empty line after a message: {:?}",
            String::from_utf8_lossy(message)
        );
        message.pop();
    }
    messages
}

/// --mbox FILE and --mbox -: mboxrd that reads back byte-exact.
#[test]
fn mbox_is_mboxrd_in_a_file_and_on_stdout() {
    let server = Server::start();
    let mine = shapes()[..4].to_vec();
    server.deposit(&mine);
    let expected: Vec<Vec<u8>> = mine.iter().map(Shape::lf).collect();

    let mbox = server.path("inbox.mbox");
    let out = server.fetch(&["--mbox", &mbox]);
    assert_code(&out, 0);
    let data = std::fs::read(&mbox).unwrap();
    assert_eq!(read_mboxrd(&data), expected);
    // The `From ` lines of the second message, quoted once more each;
    // `From` without a space is no separator and stays.
    let text = String::from_utf8_lossy(&data);
    assert!(
        text.contains("\n>From the start\n>>From quoted\n>>>From twice\nFrom\n"),
        "{text}"
    );
    // Quiet, and no dot-lock left behind.
    assert_eq!(stderr(&out), "");
    assert!(!Path::new(&format!("{mbox}.lock")).exists());

    // An existing mbox is appended to, never overwritten.
    let old = b"From someone@example.test Mon Jan  1 00:00:00 2024\nSubject: old\n\nold\n\n";
    let existing = server.path("existing.mbox");
    std::fs::write(&existing, old).unwrap();
    let out = server.fetch(&["--mbox", &existing]);
    assert_code(&out, 0);
    let data = std::fs::read(&existing).unwrap();
    assert!(data.starts_with(old));
    let mut all = vec![b"Subject: old\n\nold\n".to_vec()];
    all.extend(expected.iter().cloned());
    assert_eq!(read_mboxrd(&data), all);

    let out = server.fetch(&["--mbox", "-"]);
    assert_code(&out, 0);
    assert_eq!(read_mboxrd(&out.stdout), expected);
}

/// --json with --mbox -: the JSON records cannot share stdout with the
/// mbox, so the run is refused as a usage error before it connects.
#[test]
fn mbox_on_stdout_with_json_is_refused() {
    let server = Server::start();
    server.deposit(&shapes()[..1]);
    let view = server.view();
    let out = server.fetch(&["--mbox", "-", "--json"]);
    assert_code(&out, 64);
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("--json and --mbox -"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.view(), view);
}

/// --mda: the message on stdin, its facts in MAILKIT_* variables.
#[test]
fn mda_gets_each_message_on_stdin_and_its_facts_in_the_environment() {
    let server = Server::start();
    let mine = shapes()[..4].to_vec();
    server.deposit(&mine);
    let view = server.view();
    let out_dir = server.path("mda-out");
    std::fs::create_dir(&out_dir).unwrap();
    let script = server.dir.path().join("mda.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat > \"$OUT/$MAILKIT_NUMBER.msg\" || exit 1\n\
         env | grep '^MAILKIT_' | sort > \"$OUT/$MAILKIT_NUMBER.env\"\n",
    )
    .unwrap();
    set_mode(&script, 0o755);
    let out = server.fetch_env(
        &server.url(),
        &["--mda", script.to_str().unwrap()],
        &[("OUT", &out_dir)],
    );
    assert_code(&out, 0);
    for ((number, size, uidl), shape) in view.messages.iter().zip(&mine) {
        let stored = std::fs::read(format!("{out_dir}/{number}.msg")).unwrap();
        assert!(stored == shape.lf(), "message {number} differs");
        let env = std::fs::read_to_string(format!("{out_dir}/{number}.env")).unwrap();
        let port = server.dovecot.pop3;
        let expected = format!(
            "MAILKIT_NUMBER={number}\nMAILKIT_SERVER=localhost:{port}\n\
             MAILKIT_SIZE={size}\nMAILKIT_UIDL={uidl}\nMAILKIT_USER=alice\n"
        );
        assert_eq!(env, expected);
    }
    assert_eq!(files_in(Path::new(&out_dir), "").len(), 2 * mine.len());
}

/// An MDA's 75 is passed on, any other failure is 74; nothing deleted.
#[test]
fn a_failing_mda_stops_the_run_and_nothing_is_deleted() {
    let server = Server::start();
    server.deposit(&shapes()[..3]);
    let view = server.view();
    // EX_TEMPFAIL from the MDA is passed on.
    let out = server.fetch(&["--delete", "--mda", "cat >/dev/null; exit 75"]);
    assert_code(&out, 75);
    assert_eq!(server.view(), view);
    // Any other failure is 74, also when the MDA reads nothing.
    let out = server.fetch(&["--delete", "--mda", "cat >/dev/null; exit 1"]);
    assert_code(&out, 74);
    assert_eq!(server.view(), view);
    let out = server.fetch(&["--delete", "--mda", "exit 1"]);
    assert_code(&out, 74);
    assert_eq!(server.view(), view);
}

/// --message N and --uid UIDL to stdout; 67 when missing; no --delete
/// for stdout destinations (64).
#[test]
fn one_message_to_stdout_by_number_or_uidl() {
    let server = Server::start();
    let mine = shapes();
    server.deposit(&mine);
    let view = server.view();

    let out = server.fetch(&["--message", "1"]);
    assert_code(&out, 0);
    assert!(out.stdout == mine[0].lf(), "{:?}", stdout(&out));
    let out = server.fetch(&["--message", "6", "--keep-crlf"]);
    assert_code(&out, 0);
    assert!(out.stdout == mine[5].wire, "{:?}", stdout(&out));
    let uidl = &view.messages[2].2;
    let out = server.fetch(&["--uid", uidl]);
    assert_code(&out, 0);
    assert!(out.stdout == mine[2].lf(), "{:?}", stdout(&out));

    let missing = (mine.len() + 1).to_string();
    let out = server.fetch(&["--message", &missing]);
    assert_code(&out, 67);
    assert_eq!(stdout(&out), "");
    let out = server.fetch(&["--uid", "no-such-uidl"]);
    assert_code(&out, 67);
    assert_eq!(stdout(&out), "");

    // No --delete for what goes to stdout, which is not durable storage.
    for destination in [&["--message", "1"][..], &["--uid", uidl], &["--mbox", "-"]] {
        let args = [&["--delete"][..], destination].concat();
        let out = server.fetch(&args);
        assert_code(&out, 64);
        assert_eq!(stdout(&out), "");
    }
    assert_eq!(server.view(), view);
}

/// Three small messages around a big one (6 kB, over `--max-size 2k`,
/// which is 2048 octets), deposited; the server's view.
fn small_big_small_small(server: &Server) -> (Vec<Shape>, View) {
    let mut big = BIG_HEADER.to_vec();
    big.extend(std::iter::repeat_n(b"0123456789\n".as_slice(), 500).flatten());
    let mine = vec![small(1), lf_file(&big), small(2), small(3)];
    server.deposit(&mine);
    let view = server.view();
    (mine, view)
}

/// The header of the big message of [`small_big_small_small`].
const BIG_HEADER: &[u8] = b"Subject: big\nFrom: someone@example.test\n\n";

/// --limit N stores N messages.
#[test]
fn limit_fetches_at_most_n() {
    let server = Server::start();
    let (mine, view) = small_big_small_small(&server);
    let maildir = server.path("limited");
    let out = server.fetch(&["--limit", "2", "--maildir", &maildir]);
    assert_code(&out, 0);
    let stored = maildir_messages(Path::new(&maildir));
    assert_eq!(stored.len(), 2);
    for message in &stored {
        assert!(mine.iter().any(|s| &s.lf() == message));
    }
    assert_eq!(server.view(), view);
}

/// --max-size skips larger messages (not one of exactly that size), with
/// a note on stderr.
#[test]
fn max_size_skips_and_says_so() {
    let server = Server::start();
    let (mine, view) = small_big_small_small(&server);
    let (_, big_size, _) = view.messages[1].clone();
    let maildir = server.path("small-only");
    let out = server.fetch(&["--max-size", "2k", "--maildir", &maildir]);
    assert_code(&out, 0);
    let note = stderr(&out);
    assert!(
        note.contains("message 2") && note.contains(&big_size.to_string()),
        "the skipped message went unreported: {note}"
    );
    let expected = sorted(vec![mine[0].lf(), mine[2].lf(), mine[3].lf()]);
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    // "Larger than": a message of exactly --max-size octets is stored.
    let maildir = server.path("boundary");
    let exact = big_size.to_string();
    let out = server.fetch(&["--max-size", &exact, "--maildir", &maildir]);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir)).len(), 4);
    let maildir = server.path("one-less");
    let less = (big_size - 1).to_string();
    let out = server.fetch(&["--max-size", &less, "--maildir", &maildir]);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&maildir)).len(), 3);
}

/// --max-size with --json: status `skipped` for the larger message, and
/// the summary counts it.
#[test]
fn max_size_in_json_is_skipped_and_counted() {
    let server = Server::start();
    let (_, view) = small_big_small_small(&server);
    let (_, big_size, big_uidl) = view.messages[1].clone();
    let maildir = server.path("small-json");
    let out = server.fetch(&["--max-size", "2k", "--maildir", &maildir, "--json"]);
    assert_code(&out, 0);
    let (mut messages, summary) = records(&out);
    // One record per message, whatever order they were handled in.
    messages.sort_by_key(|m| m["number"].as_u64());
    let statuses: Vec<&str> = messages
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["stored", "skipped", "stored", "stored"]);
    assert_eq!(messages[1]["uidl"], big_uidl.as_str());
    assert_eq!(messages[1]["size"], big_size);
    assert!(messages[1].get("path").is_none_or(Value::is_null));
    assert_eq!(summary["fetched"], 3, "{summary}");
    assert_eq!(summary["skipped"], 1, "{summary}");
}

/// The values `--help` documents for the JSON `status` key.
fn documented_statuses() -> Vec<String> {
    let out = run_tool_env(BIN, &["--help"], b"", &[]);
    assert_code(&out, 0);
    let help = stdout(&out);
    let line = help
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("status "))
        .unwrap_or_else(|| panic!("no status in --help: {help}"));
    let values = line.split('(').next().unwrap();
    values.split('|').map(|v| v.trim().to_string()).collect()
}

/// --headers-only stores the header of a larger message and leaves the
/// message on the server even with --delete.
#[test]
fn headers_only_stores_the_header_of_what_is_too_large_and_keeps_it() {
    let server = Server::start();
    let (mine, view) = small_big_small_small(&server);
    // The big one's header as TOP 2 0 gives it: the header and the empty
    // line after it. Even with --delete it stays on the server.
    let maildir = server.path("headers");
    let args = ["--max-size", "2k", "--headers-only", "--delete"];
    let out = server.fetch(&[&args[..], &["--maildir", &maildir]].concat());
    assert_code(&out, 0);
    let expected = sorted(vec![
        mine[0].lf(),
        BIG_HEADER.to_vec(),
        mine[2].lf(),
        mine[3].lf(),
    ]);
    assert!(maildir_messages(Path::new(&maildir)) == expected);
    let left = server.view();
    assert_eq!(left.messages.len(), 1);
    assert_eq!(left.messages[0].2, view.messages[1].2);
}

/// The JSON status of a header-only message is one the man page names.
#[test]
fn headers_only_status_is_documented() {
    let server = Server::start();
    small_big_small_small(&server);
    let maildir = server.path("headers");
    let args = ["--max-size", "2k", "--headers-only", "--json"];
    let out = server.fetch(&[&args[..], &["--maildir", &maildir]].concat());
    assert_code(&out, 0);
    let (messages, _) = records(&out);
    let big = messages
        .iter()
        .find(|m| m["number"] == 2)
        .expect("a record for message 2");
    let status = big["status"].as_str().unwrap().to_string();
    assert!(documented_statuses().contains(&status), "{big}");
}

/// The client's lines in a `-v` transcript (`-> ` before TLS, `~> `
/// after), without the arrow.
fn sent_lines(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter_map(|l| l.strip_prefix("-> ").or_else(|| l.strip_prefix("~> ")))
        .map(str::to_string)
        .collect()
}

/// Whether a client line sent a credential (a login command).
fn is_login(line: &str) -> bool {
    ["USER", "PASS", "APOP", "AUTH"].iter().any(|command| {
        line.split(' ')
            .next()
            .unwrap()
            .eq_ignore_ascii_case(command)
    })
}

/// pop3:// with STLS and pop3s:// both list with --cafile.
#[test]
fn stls_and_implicit_tls_with_the_test_ca() {
    let server = Server::start();
    server.deposit(&shapes()[..2]);
    let view = server.view();
    let listing: String = view
        .messages
        .iter()
        .map(|(n, size, uidl)| format!("{n}\t{size}\t{uidl}\n"))
        .collect();

    let out = server.fetch(&["-v"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), listing);
    let transcript = stderr(&out);
    let plain: Vec<&str> = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("-> "))
        .collect();
    assert!(
        plain.iter().any(|l| l.eq_ignore_ascii_case("STLS")),
        "{transcript}"
    );
    assert!(!plain.iter().any(|l| is_login(l)), "{transcript}");
    assert!(transcript.contains("\n~> "), "{transcript}");

    let out = server.fetch_env(&server.url_tls(), &["-v"], &[]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), listing);
    assert!(!stderr(&out).contains("\n-> "), "{}", stderr(&out));
}

/// A certificate for another name is 76 with the verifier's reason,
/// before any credential; --insecure goes on.
#[test]
fn a_certificate_for_another_name_is_76_and_insecure_works() {
    let server = Server::start_with(&DovecotOptions {
        cert_names: Some((
            "mail.example.test".to_string(),
            "DNS:mail.example.test".to_string(),
        )),
        ..DovecotOptions::default()
    });
    server.deposit(&shapes()[..1]);
    let implicit = format!("pop3s://alice@127.0.0.1:{}", server.dovecot.pop3s);
    let stls = format!("pop3://alice@localhost:{}", server.dovecot.pop3);
    let cases = [
        (&implicit, "IP address mismatch"),
        (&stls, "hostname mismatch"),
    ];
    for (url, reason) in cases {
        let out = server.fetch_env(url, &["-v"], &[]);
        assert_code(&out, 76);
        assert!(
            stderr(&out).contains(&format!("certificate not trusted: {reason}")),
            "{}",
            stderr(&out)
        );
        assert!(
            !sent_lines(&out).iter().any(|l| is_login(l)),
            "{}",
            stderr(&out)
        );
        let out = server.fetch_env(url, &["--insecure"], &[]);
        assert_code(&out, 0);
        assert!(stdout(&out).starts_with("1\t"), "{}", stdout(&out));
    }
}

/// No STLS on pop3:// is 76 and Dovecot sees no login attempt; --tls none
/// needs --allow-plaintext-auth to send the password.
#[test]
fn no_stls_is_76_before_any_credential() {
    let server = Server::start_with(&DovecotOptions {
        no_tls: true,
        ..DovecotOptions::default()
    });
    server.deposit(&shapes()[..1]);
    let out = server.fetch(&["-v", "--maildir", &server.path("mail")]);
    assert_code(&out, 76);
    assert!(
        stderr(&out).contains("STLS") || stderr(&out).contains("STARTTLS"),
        "{}",
        stderr(&out)
    );
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
    // Dovecot's own word: the connection ended with no login attempt.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.dovecot.log().contains("no auth attempts") {
        assert!(Instant::now() < deadline, "{}", server.dovecot.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !server.dovecot.log().contains("user=<alice>"),
        "{}",
        server.dovecot.log()
    );
    // --tls none still sends no password without --allow-plaintext-auth.
    let out = server.fetch(&["-v", "--tls", "none"]);
    assert_code(&out, 76);
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
    assert!(!server.dovecot.log().contains("user=<alice>"));
    let out = server.fetch(&["--tls", "none", "--allow-plaintext-auth"]);
    assert_code(&out, 0);
    assert!(stdout(&out).starts_with("1\t"), "{}", stdout(&out));
}

/// RETR commands are pipelined when the server offers PIPELINING.
#[test]
fn commands_are_pipelined_when_the_server_offers_pipelining() {
    let server = Server::start();
    let mine: Vec<Shape> = (0..3).map(small).collect();
    server.deposit(&mine);
    let out = server.fetch(&["-v", "--maildir", &server.path("mail")]);
    assert_code(&out, 0);
    let transcript = stderr(&out);
    let lines: Vec<&str> = transcript.lines().collect();
    let position = |wanted: &str| {
        lines
            .iter()
            .position(|l| *l == wanted)
            .unwrap_or_else(|| panic!("no {wanted:?}: {transcript}"))
    };
    // The third RETR goes out before the answer to the first comes back.
    let first = position("~> RETR 1");
    let answer = first
        + lines[first..]
            .iter()
            .position(|l| l.starts_with("<~ "))
            .expect("an answer to RETR 1");
    assert!(position("~> RETR 3") < answer, "{transcript}");
}

/// --auth user, apop, plain, login and auto each log in by their own
/// command, the secret shown as ****; a wrong password is 77.
#[test]
fn each_login_method_by_name_and_a_wrong_password() {
    let server = Server::start_with(&DovecotOptions {
        apop: true,
        ..DovecotOptions::default()
    });
    server.deposit(&shapes()[..1]);
    let url = server.url_tls();
    use base64::Engine;
    let plain = base64::engine::general_purpose::STANDARD.encode(b"\0alice\0alicepw");
    // auto takes the strongest the server offers: SASL PLAIN.
    let checks: [(&str, &[&str]); 5] = [
        ("user", &["USER alice", "PASS ****"]),
        ("apop", &["APOP alice"]),
        ("plain", &["AUTH PLAIN"]),
        ("login", &["AUTH LOGIN"]),
        ("auto", &["AUTH PLAIN"]),
    ];
    for (method, expected) in checks {
        let out = server.fetch_env(&url, &["-v", "--auth", method], &[]);
        assert_code(&out, 0);
        assert!(stdout(&out).starts_with("1\t"), "{}", stdout(&out));
        let logins: Vec<String> = sent_lines(&out)
            .into_iter()
            .filter(|l| is_login(l))
            .collect();
        assert_eq!(logins.len(), expected.len(), "{method}: {logins:?}");
        for (line, start) in logins.iter().zip(expected) {
            assert!(line.starts_with(start), "{method}: {logins:?}");
        }
        assert!(stderr(&out).contains("****"), "{}", stderr(&out));
        assert!(!stderr(&out).contains(&plain), "{}", stderr(&out));
    }
    // Dovecot agrees on each method.
    let log = server.dovecot.log();
    for method in ["method=PLAIN", "method=APOP", "method=LOGIN"] {
        assert!(log.contains(method), "{log}");
    }

    let dir = Scratch::new();
    let wrong = password_file(&dir, "wrong", "not-alicepw");
    let args = [
        url.as_str(),
        "--cafile",
        server.dovecot.cert.to_str().unwrap(),
        "--password-file",
        wrong.to_str().unwrap(),
        "-v",
    ];
    let out = run_tool_env(BIN, &args, b"", &[]);
    assert_code(&out, 77);
    assert!(!stderr(&out).contains("not-alicepw"), "{}", stderr(&out));

    // A password file that others may read is refused (78) before any
    // connection.
    let readable = password_file(&dir, "readable", PASSWORD);
    set_mode(&readable, 0o644);
    let args = [
        url.as_str(),
        "--cafile",
        server.dovecot.cert.to_str().unwrap(),
        "--password-file",
        readable.to_str().unwrap(),
        "-v",
    ];
    let out = run_tool_env(BIN, &args, b"", &[]);
    assert_code(&out, 78);
    assert_no_password(&out);
    assert!(!stderr(&out).contains("Connected"), "{}", stderr(&out));
}

/// A destination that cannot be created is 73, and with --delete nothing
/// is deleted.
#[test]
fn a_destination_that_cannot_be_created_is_73() {
    let server = Server::start();
    server.deposit(&shapes()[..2]);
    let view = server.view();
    let file = server.path("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let in_missing_dir = server.path("no-such-dir/inbox.mbox");
    for destination in [["--maildir", &file], ["--mbox", &in_missing_dir]] {
        let out = server.fetch(&[&["--delete"][..], &destination].concat());
        assert_code(&out, 73);
        assert_eq!(server.view(), view);
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

/// A mailbox that another POP3 session holds (Dovecot's `[IN-USE]`) is
/// 75, a temporary failure; once that session ends the run works.
#[test]
fn a_mailbox_in_use_is_75() {
    let server = Server::start_with(&DovecotOptions {
        pop3_lock_session: true,
        ..DovecotOptions::default()
    });
    server.deposit(&shapes()[..1]);
    // poplib logs in and holds the session until its stdin closes.
    const SCRIPT: &str = r#"
import os, poplib, sys
p = poplib.POP3("127.0.0.1", int(os.environ["POP_PORT"]), timeout=20)
p.user("alice")
p.pass_(os.environ["POP_PASSWORD"])
print("in", flush=True)
sys.stdin.read()
p.quit()
"#;
    let mut holder = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .env("POP_PORT", server.dovecot.pop3.to_string())
        .env("POP_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line, "in\n");
    let out = server.fetch(&["--maildir", &server.path("mail")]);
    assert_code(&out, 75);
    assert!(stderr(&out).contains("IN-USE"), "{}", stderr(&out));
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    let out = server.fetch(&["--maildir", &server.path("mail")]);
    assert_code(&out, 0);
}

/// A second run on a state file in use is 75 and says so.
#[test]
fn a_second_run_on_the_same_state_is_75() {
    let server = Server::start();
    server.deposit(&shapes()[..1]);
    let state = server.path("state");
    let mark = server.path("mda-started");
    let cafile = server.dovecot.cert.to_str().unwrap().to_string();
    let password = server.password_file.to_str().unwrap().to_string();
    let url = server.url();
    let mut first = Command::new(BIN)
        .args([&url, "--cafile", &cafile, "--password-file", &password])
        .args(["--new", "--state", &state])
        .args(["--mda", "touch \"$MARK\"; sleep 3; cat >/dev/null"])
        .env("MARK", &mark)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pop3-fetch");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Path::new(&mark).exists() {
        if Instant::now() > deadline || first.try_wait().unwrap().is_some() {
            let _ = first.kill();
            panic!("{:?}", first.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = server.fetch(&["--new", "--state", &state, "--mda", "cat >/dev/null"]);
    assert_code(&out, 75);
    assert!(
        stderr(&out).contains(&state) && stderr(&out).contains("in use"),
        "{}",
        stderr(&out)
    );
    let first = first.wait_with_output().unwrap();
    assert_code(&first, 0);
    // The first run recorded the message; the lock is gone.
    let out = server.fetch(&["--new", "--state", &state, "--mda", "exit 1"]);
    assert_code(&out, 0);
}

/// --capabilities shows each CAPA line (as poplib sees them after STLS)
/// and the TLS session, in text and JSON.
#[test]
fn capabilities_show_capa_lines_and_tls() {
    let server = Server::start();
    // poplib's own CAPA after STLS, verified with the test CA.
    const SCRIPT: &str = r#"
import json, os, poplib, ssl, sys
p = poplib.POP3("localhost", int(os.environ["POP_PORT"]), timeout=20)
p.stls(ssl.create_default_context(cafile=os.environ["CAFILE"]))
caps = p.capa()
p.quit()
json.dump([" ".join([k] + v) for k, v in caps.items()], sys.stdout)
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(SCRIPT)
        .env("POP_PORT", server.dovecot.pop3.to_string())
        .env("CAFILE", &server.dovecot.cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let capa: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(capa.iter().any(|c| c == "UIDL") && capa.iter().any(|c| c == "PIPELINING"));

    let out = server.fetch(&["--capabilities"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for line in &capa {
        assert!(
            lines
                .iter()
                .any(|l| l == line || l.ends_with(&format!("\t{line}"))),
            "{line:?} missing: {text}"
        );
    }
    assert!(text.contains("TLS"), "{text}");
    assert!(
        text.contains("TLSv1.3") || text.contains("TLS 1.3"),
        "{text}"
    );

    let out = server.fetch(&["--capabilities", "--json"]);
    assert_code(&out, 0);
    let value: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let listed: Vec<&str> = value["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for line in &capa {
        assert!(listed.contains(&line.as_str()), "{line:?}: {value}");
    }
    assert_eq!(value["tls"]["verified"], true, "{value}");
    assert!(
        value["greeting"].as_str().unwrap().contains("Dovecot"),
        "{value}"
    );
}

/// --capabilities logs in to nothing: a user in the URL without any
/// password source (and no ~/.netrc) is not an error, and no login is
/// sent.
#[test]
fn capabilities_need_no_password() {
    let server = Server::start();
    let home = Scratch::new();
    let url = server.url();
    let cafile = server.dovecot.cert.to_str().unwrap();
    let home_dir = home.path().to_str().unwrap();
    let out = run_tool_env(
        BIN,
        &[&url, "--capabilities", "--cafile", cafile, "-v"],
        b"",
        &[("HOME", home_dir)],
    );
    assert_code(&out, 0);
    assert!(stdout(&out).contains("capa\tUIDL"), "{}", stdout(&out));
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
}

/// A download-and-keep run records what it stores too: a later --new run
/// stores nothing of it, and a run without --new fetches everything again
/// (into another Maildir, say).
#[test]
fn a_keep_run_counts_for_new_and_without_new_everything_is_fetched() {
    let server = Server::start();
    let mine = shapes()[..3].to_vec();
    server.deposit(&mine);
    let state = server.path("state-file");
    let first = server.path("first");
    let out = server.fetch(&["--state", &state, "--maildir", &first]);
    assert_code(&out, 0);
    assert_eq!(maildir_messages(Path::new(&first)).len(), 3);

    let later = server.path("later");
    let out = server.fetch(&["--state", &state, "--new", "--maildir", &later, "--json"]);
    assert_code(&out, 0);
    let (_, summary) = records(&out);
    assert_eq!(summary["fetched"], 0, "{summary}");

    let again = server.path("again");
    let out = server.fetch(&["--state", &state, "--maildir", &again]);
    assert_code(&out, 0);
    let expected = sorted(mine.iter().map(Shape::lf).collect());
    assert!(maildir_messages(Path::new(&again)) == expected);
}
