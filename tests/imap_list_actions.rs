//! imap-list's actions driven as a user runs them, against a real Dovecot
//! on loopback: `--structure` and `--part` on every message of the MIME
//! test set (`tests/fixtures/mime`) compared with `mime-unpack` on the
//! same message; `--new` archiving (state, line ends, every folder, mbox,
//! the lock, the default state path, the server left as it was); and the
//! usage errors of combinations that make no sense.
//!
//! Dovecot keeps each message as deposited and sends it with CRLF line
//! ends: BODYSTRUCTURE sizes count CRLF, so the tree is compared with
//! mime-unpack's on the message as the server sends it (CRLF), and the
//! decoded parts with mime-unpack's on the message as `--fetch` writes it
//! (LF, as `--part` writes it by default).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::dovecot::{Dovecot, DovecotOptions};
use common::{Scratch, code, run_tool, run_tool_env, set_mode, stderr, stdout};
use serde_json::Value;

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_imap-list");

/// The reference for trees and parts.
const UNPACK: &str = env!("CARGO_BIN_EXE_mime-unpack");

/// alice's password, which must never show in any output.
const PASSWORD: &str = "alicepw";

/// The damaged test messages, which the server reads otherwise than
/// mime-unpack (see `mailkit::imap::body_structure`).
const BROKEN: [&str; 3] = ["no-boundary.eml", "no-blank-line.eml", "bad-base64.eml"];

/// A Dovecot, a scratch directory and alice's password in a 0600 file.
struct Server {
    dovecot: Dovecot,
    dir: Scratch,
    password_file: PathBuf,
}

impl Server {
    /// An empty Dovecot started with `options`.
    fn start_with(options: &DovecotOptions) -> Server {
        let dovecot = Dovecot::start_with(options);
        let dir = Scratch::new();
        let password_file = dir.path().join("password");
        std::fs::write(&password_file, format!("{PASSWORD}\n")).unwrap();
        set_mode(&password_file, 0o600);
        Server {
            dovecot,
            dir,
            password_file,
        }
    }

    /// `imap://alice@127.0.0.1:PORT` (STARTTLS), then `path`.
    fn url(&self, path: &str) -> String {
        format!("imap://alice@127.0.0.1:{}{path}", self.dovecot.imap)
    }

    /// A path in the scratch directory, as text.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// imap-list on `url` with the test CA, alice's password file and
    /// `extra`.
    fn run(&self, url: &str, extra: &[&str]) -> Output {
        self.run_env(url, extra, &[])
    }

    /// [`Server::run`] with extra environment variables. Whatever
    /// happened, the password shows nowhere.
    fn run_env(&self, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let cafile = self.dovecot.cert.to_str().unwrap();
        let password = self.password_file.to_str().unwrap();
        let mut args = vec![
            url,
            "--cafile",
            cafile,
            "--password-file",
            password,
            "--timeout",
            "30",
        ];
        args.extend_from_slice(extra);
        let out = run_tool_env(BIN, &args, b"", env);
        let leaked = [&out.stdout, &out.stderr].iter().any(|text| {
            text.windows(PASSWORD.len())
                .any(|w| w == PASSWORD.as_bytes())
        });
        assert!(!leaked, "the password leaked: {}", stderr(&out));
        out
    }
}

/// Asserts exit status `expected`, showing stderr otherwise.
fn assert_code(out: &Output, expected: i32) {
    assert_eq!(
        code(out),
        expected,
        "stderr: {}\nstdout: {}",
        stderr(out),
        String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(2000)])
    );
}

/// stdout as JSON Lines.
fn json_lines(out: &Output) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `data` with every line end CRLF (as the server sends a message).
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 20);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// `data` with every CRLF made LF (as imap-list stores by default).
fn lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if b == b'\r' && data.get(i + 1) == Some(&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

/// The MIME test messages, by file name, in name order.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the MIME test set is there");
    files
}

/// A Dovecot with every test message in INBOX, UID i + 1 for the i-th
/// of [`corpus`].
fn corpus_server() -> (Server, Vec<(String, Vec<u8>)>) {
    let server = Server::start_with(&DovecotOptions::default());
    let corpus = corpus();
    for (_, message) in &corpus {
        server.dovecot.deposit_in("alice", "INBOX", message);
    }
    (server, corpus)
}

/// mime-unpack with `args` reading `message` from stdin; must succeed.
fn unpack(args: &[&str], message: &[u8]) -> Vec<u8> {
    let out = run_tool(UNPACK, args, message);
    assert_code(&out, 0);
    out.stdout
}

/// The columns of a tree's text lines (mime-unpack's or imap-list's).
fn tree_rows(text: &[u8]) -> Vec<Vec<String>> {
    String::from_utf8(text.to_vec())
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Column numbers of the tree's text lines.
const ID: usize = 0;
const TYPE: usize = 1;
const CHARSET: usize = 2;
const ENCODING: usize = 3;
const SIZE: usize = 4;

/// Whether a row (text) or record (JSON) from mime-unpack is a uuencoded
/// file inside a text part (`ID.uN`), which a BODYSTRUCTURE cannot show.
fn is_uuencoded(id: &str) -> bool {
    id.rsplit('.').next().is_some_and(|last| {
        last.starts_with('u') && last.len() > 1 && last[1..].bytes().all(|b| b.is_ascii_digit())
    })
}

/// mime-unpack's row turned into what imap-list shows for the same part
/// by the documented rules: `us-ascii` for a text leaf without a charset,
/// `7bit` for a multipart; and whether its size must be exact (a leaf in
/// an identity encoding, or in base64 or quoted-printable, whose decoded
/// size Dovecot gives as BINARY.SIZE).
fn expected_row(mut row: Vec<String>) -> (Vec<String>, bool) {
    let multipart = row[TYPE].starts_with("multipart/");
    if row[TYPE].starts_with("text/") && row[CHARSET] == "-" {
        row[CHARSET] = "us-ascii".into();
    }
    if multipart {
        row[ENCODING] = "7bit".into();
    }
    // x-uuencode: the encoded size, an upper bound (servers do not
    // decode it for BINARY.SIZE).
    let exact = !multipart && !row[TYPE].starts_with("message/") && row[ENCODING] != "x-uuencode";
    (row, exact)
}

/// `--structure UID` in text and JSON equals mime-unpack's tree of the
/// same message as the server sends it, column for column, but for the
/// documented differences; sizes are exact for every leaf but a message
/// part (identity encodings: the octets; base64 and quoted-printable:
/// Dovecot's BINARY.SIZE).
#[test]
fn structure_of_every_test_message_is_mime_unpacks_tree() {
    let (server, corpus) = corpus_server();
    let url = server.url("/INBOX");
    let mut exact_sizes = 0;
    let mut base64_sizes = 0;
    let mut message_sizes = 0;
    for (i, (name, message)) in corpus.iter().enumerate() {
        let uid = (i + 1).to_string();
        let served = crlf(message);
        let text = server.run(&url, &["--structure", &uid]);
        assert_code(&text, 0);
        let json = server.run(&url, &["--structure", &uid, "--json"]);
        assert_code(&json, 0);
        let got = tree_rows(&text.stdout);
        let records = json_lines(&json);
        assert_eq!(got.len(), records.len(), "{name}: text and JSON agree");
        for (row, record) in got.iter().zip(&records) {
            assert_eq!(record["part"], row[ID].as_str(), "{name}");
            assert_eq!(record["type"], row[TYPE].as_str(), "{name}");
            assert_eq!(record["size"].as_u64().unwrap().to_string(), row[SIZE]);
        }
        let want: Vec<Vec<String>> = tree_rows(&unpack(&["-"], &served))
            .into_iter()
            .filter(|r| !is_uuencoded(&r[ID]))
            .collect();
        let want_json: Vec<Value> = String::from_utf8(unpack(&["--json", "-"], &served))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| !is_uuencoded(r["part"].as_str().unwrap()))
            .collect();
        match name.as_str() {
            "no-boundary.eml" => {
                // mime-unpack: one part; Dovecot: a multipart holding one
                // empty text part.
                assert_eq!(want.len(), 1, "{name}: {want:?}");
                assert!(got[0][TYPE].starts_with("multipart/"), "{name}: {got:?}");
                assert_eq!(got.len(), 2, "{name}: {got:?}");
                assert_eq!(got[1][ID], "1", "{name}");
                continue;
            }
            "no-blank-line.eml" | "bad-base64.eml" => {
                // Same parts, sizes read otherwise: Dovecot reads the body
                // as header (an empty body); refuses BINARY.SIZE of the
                // damaged base64, so the estimate counts what is no
                // base64.
                let ids = |rows: &[Vec<String>]| {
                    rows.iter().map(|r| r[..SIZE].to_vec()).collect::<Vec<_>>()
                };
                let expected: Vec<Vec<String>> =
                    want.iter().map(|r| expected_row(r.clone()).0).collect();
                assert_eq!(ids(&got), ids(&expected), "{name}");
                assert_eq!(got.len(), 1, "{name}");
                assert_ne!(
                    got[0][SIZE], want[0][SIZE],
                    "{name}: a known difference gone?"
                );
                if name == "no-blank-line.eml" {
                    assert_eq!(got[0][SIZE], "0", "{name}");
                }
                continue;
            }
            _ => {}
        }
        assert_eq!(got.len(), want.len(), "{name}: {got:?} vs {want:?}");
        for (row, theirs) in got.iter().zip(want) {
            let (expected, exact) = expected_row(theirs);
            let mut without_size = row.clone();
            without_size[SIZE].clear();
            let mut expected_without_size = expected.clone();
            expected_without_size[SIZE].clear();
            assert_eq!(without_size, expected_without_size, "{name}");
            let size: u64 = row[SIZE].parse().unwrap();
            let theirs: u64 = expected[SIZE].parse().unwrap();
            if exact {
                assert_eq!(size, theirs, "{name}: size of {}", row[ID]);
                exact_sizes += 1;
                base64_sizes += usize::from(expected[ENCODING] == "base64");
            } else if row[TYPE].starts_with("message/") {
                // The octets of what BODY[ID] gives, which mime-unpack
                // lists and --part writes too (the line end of a closing
                // delimiter that ends the message inside included).
                let raw = unpack(&["--part", &row[ID], "-"], &served);
                assert_eq!(size, raw.len() as u64, "{name}: size of {}", row[ID]);
                assert_eq!(size, theirs, "{name}: size of {}", row[ID]);
                message_sizes += 1;
            } else if row[TYPE].starts_with("multipart/") {
                // The bodies it holds, without their headers and
                // delimiters.
                assert!(size > 0 && size < theirs, "{name}: size of {}", row[ID]);
            } else {
                // x-uuencode: the encoded size.
                assert!(size >= theirs, "{name}: size of {}", row[ID]);
            }
        }
        for (record, theirs) in records.iter().zip(&want_json) {
            let id = theirs["part"].as_str().unwrap();
            for field in [
                "part",
                "depth",
                "kind",
                "type",
                "disposition",
                "declared_disposition",
                "filename",
            ] {
                assert_eq!(record[field], theirs[field], "{name} part {id}: {field}");
            }
            let multipart = theirs["kind"] == "multipart";
            let text = theirs["type"].as_str().unwrap().starts_with("text/");
            match (&theirs["charset"], text && !multipart) {
                (Value::Null, true) => assert_eq!(record["charset"], "us-ascii"),
                (charset, _) => assert_eq!(&record["charset"], charset, "{name} {id}"),
            }
            match multipart {
                true => assert_eq!(record["encoding"], "7bit"),
                false => assert_eq!(record["encoding"], theirs["encoding"], "{name} {id}"),
            }
        }
    }
    assert!(exact_sizes > 40, "{exact_sizes} sizes compared exactly");
    assert!(base64_sizes > 5, "{base64_sizes} base64 sizes exact");
    assert!(message_sizes >= 3, "{message_sizes} message part sizes");
}

/// `--part UID PART` writes for every part of every test message what
/// `imap-list --fetch UID | mime-unpack --part PART -` writes; the
/// fetched message is the test file with LF line ends. With
/// `--keep-crlf` the part is decoded from the message as sent (CRLF).
#[test]
fn every_part_of_every_test_message_is_what_mime_unpack_writes() {
    let (server, corpus) = corpus_server();
    let url = server.url("/INBOX");
    let mut compared = 0;
    let mut with_crlf = 0;
    for (i, (name, message)) in corpus.iter().enumerate() {
        let uid = (i + 1).to_string();
        let fetched = server.run(&url, &["--fetch", &uid]);
        assert_code(&fetched, 0);
        assert_eq!(fetched.stdout, lf(message), "{name}: fetched with LF");
        let ids: Vec<String> = tree_rows(&unpack(&["-"], &fetched.stdout))
            .into_iter()
            .map(|r| r[ID].clone())
            .filter(|id| !is_uuencoded(id))
            .collect();
        if BROKEN.contains(&name.as_str()) {
            broken_parts(&server, &uid, name, &fetched.stdout);
            continue;
        }
        for id in &ids {
            let got = server.run(&url, &["--part", &uid, id]);
            assert_code(&got, 0);
            let want = unpack(&["--part", id, "-"], &fetched.stdout);
            assert!(got.stdout == want, "{name}: part {id} differs");
            compared += 1;
        }
        // The last part again, with the message's line ends as sent.
        let kept = server.run(&url, &["--part", &uid, &ids[ids.len() - 1], "--keep-crlf"]);
        assert_code(&kept, 0);
        let want = unpack(&["--part", &ids[ids.len() - 1], "-"], &crlf(message));
        assert!(kept.stdout == want, "{name}: --keep-crlf part differs");
        with_crlf += usize::from(kept.stdout.windows(2).any(|w| w == b"\r\n"));
    }
    assert!(compared > 60, "{compared} parts compared");
    assert!(with_crlf > 5, "{with_crlf} parts kept their CRLF");
}

/// What `--part` writes for the damaged test messages, which the server
/// reads otherwise than mime-unpack: the same bytes and a warning for
/// damaged base64; an empty body for a header without its blank line
/// (the server reads the body as header); for a multipart whose boundary
/// never occurs, the server's part 0 is mime-unpack's only part, and the
/// server's part 1 is empty.
fn broken_parts(server: &Server, uid: &str, name: &str, fetched: &[u8]) {
    let url = server.url("/INBOX");
    let part = |id: &str| {
        let out = server.run(&url, &["--part", uid, id]);
        assert_code(&out, 0);
        out
    };
    let theirs = unpack(&["--part", "1", "-"], fetched);
    match name {
        "bad-base64.eml" => {
            let out = part("1");
            assert_eq!(out.stdout, theirs, "{name}");
            assert!(stderr(&out).contains("invalid base64"), "{}", stderr(&out));
        }
        "no-blank-line.eml" => {
            assert!(!theirs.is_empty());
            assert_eq!(part("1").stdout, b"", "{name}");
        }
        "no-boundary.eml" => {
            assert_eq!(part("0").stdout, theirs, "{name}");
            assert_eq!(part("1").stdout, b"", "{name}");
        }
        _ => unreachable!("{name}"),
    }
}

/// A part the message does not have is 67, naming those it has; so is a
/// UID the folder does not have; a UID that is no number is 64.
#[test]
fn a_missing_part_or_uid_is_67_and_a_bad_uid_64() {
    let server = Server::start_with(&DovecotOptions::default());
    let nested = corpus()
        .into_iter()
        .find(|(name, _)| name == "nested.eml")
        .unwrap()
        .1;
    server.dovecot.deposit_in("alice", "INBOX", &nested);
    let url = server.url("/INBOX");
    let out = server.run(&url, &["--part", "1", "3"]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
    let said = stderr(&out);
    assert!(
        said.contains("no part 3") && said.contains("0, 1, 1.1, 1.2, 1.2.1, 1.2.2, 2"),
        "{said}"
    );
    let out = server.run(&url, &["--part", "1", "1.2.3"]);
    assert_code(&out, 67);
    assert!(stderr(&out).contains("1.2.3"), "{}", stderr(&out));
    for action in [
        &["--part", "7", "1"][..],
        &["--structure", "7"],
        &["--fetch", "7"],
    ] {
        let out = server.run(&url, action);
        assert_code(&out, 67);
        assert!(out.stdout.is_empty(), "{action:?}");
        assert!(stderr(&out).contains('7'), "{action:?}: {}", stderr(&out));
    }
    for bad in ["x", "0", "1.5", "4294967296"] {
        let out = server.run(&url, &["--part", bad, "1"]);
        assert_code(&out, 64);
        assert!(
            stderr(&out).contains("is not a UID"),
            "{bad}: {}",
            stderr(&out)
        );
    }
}

/// A small message with its own Message-ID; `From ` starts a body line
/// (quoted in an mbox) and the CRLF ones keep CRLF in the file.
fn note(tag: &str, crlf_file: bool) -> Vec<u8> {
    let text = format!(
        "From: Carol <carol@example.test>\nTo: alice@example.test\nSubject: {tag}\n\
         Message-ID: <{tag}@example.test>\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n\n\
         Body of {tag}.\nFrom the start of a line.\n"
    );
    match crlf_file {
        true => crlf(text.as_bytes()),
        false => text.into_bytes(),
    }
}

/// The messages of a Maildir (`new/` and `cur/`) by file path.
fn maildir_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for sub in ["new", "cur"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            files.insert(entry.path(), std::fs::read(entry.path()).unwrap());
        }
    }
    files
}

/// Sorted contents.
fn sorted(messages: impl IntoIterator<Item = Vec<u8>>) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = messages.into_iter().collect();
    messages.sort();
    messages
}

/// Every message file of alice's INBOX and `folders`, as Dovecot keeps
/// them (names with flags, and bytes).
fn server_files(dovecot: &Dovecot, folders: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut files = dovecot.mail_files("alice");
    for folder in folders {
        for (name, bytes) in dovecot.mail_files_in("alice", folder) {
            files.insert(format!("{folder}/{name}"), bytes);
        }
    }
    files
}

/// The message records and the summary of a `--new --json` run.
fn archive_records(out: &Output) -> (Vec<Value>, Value) {
    let mut lines = json_lines(out);
    let summary = lines.pop().expect("a summary");
    assert_eq!(summary["record"], "summary", "{summary}");
    for record in &lines {
        assert_eq!(record["record"], "message", "{record}");
        assert_eq!(record["status"], "stored", "{record}");
    }
    (lines, summary)
}

/// `--new` into a Maildir: every message of both folders once, with LF
/// line ends, each JSON record naming its file; a second run stores
/// nothing; a message that arrived after is the only one stored next;
/// `--keep-crlf` stores the messages as sent; the server's files and flags
/// are the same before and after.
#[test]
fn new_stores_each_message_once_and_changes_nothing_on_the_server() {
    let server = Server::start_with(&DovecotOptions {
        special_use: true,
        ..DovecotOptions::default()
    });
    let dovecot = &server.dovecot;
    let drafts = "Entw\u{fc}rfe";
    dovecot.create_folder("alice", drafts);
    let mut deposited: Vec<(&str, u32, Vec<u8>)> = Vec::new();
    for (folder, tag, crlf_file, flags) in [
        ("INBOX", "in1", false, None),
        ("INBOX", "in2", true, Some("S")),
        ("INBOX", "in3", false, Some("FR")),
        (drafts, "dr1", false, Some("D")),
        (drafts, "dr2", true, None),
    ] {
        let message = note(tag, crlf_file);
        match flags {
            None => dovecot.deposit_in("alice", folder, &message),
            Some(flags) => dovecot.deposit_with_flags("alice", folder, &message, flags),
        };
        let uid = deposited.iter().filter(|(f, ..)| *f == folder).count() as u32 + 1;
        deposited.push((folder, uid, message));
    }
    let before = server_files(dovecot, &[drafts]);
    let maildir = server.path("archive");
    let state = server.path("state");
    let url = server.url("");
    let args = [
        "--new",
        "--maildir",
        &maildir,
        "--state",
        &state,
        "--folder",
        "INBOX",
        "--folder",
        drafts,
        "--json",
    ];
    let first = server.run(&url, &args);
    assert_code(&first, 0);
    let (records, summary) = archive_records(&first);
    assert_eq!(records.len(), 5, "{}", stdout(&first));
    for ((folder, uid, message), record) in deposited.iter().zip(&records) {
        assert_eq!(record["folder"], *folder);
        assert_eq!(record["uid"], *uid);
        assert_eq!(record["size"], crlf(message).len() as u64, "RFC822.SIZE");
        let path = PathBuf::from(record["path"].as_str().expect("a path"));
        let path = match path.is_absolute() {
            true => path,
            false => Path::new(&maildir).join(path),
        };
        assert_eq!(std::fs::read(&path).unwrap(), lf(message), "{record}");
    }
    let total: u64 = deposited.iter().map(|(.., m)| crlf(m).len() as u64).sum();
    assert_eq!(summary["folders"], 2);
    assert_eq!(summary["fetched"], 5);
    assert_eq!(summary["duplicates"], 0);
    assert_eq!(summary["gone"], 0);
    assert_eq!(summary["bytes"], total);
    let stored = maildir_files(Path::new(&maildir));
    assert_eq!(
        sorted(stored.into_values()),
        sorted(deposited.iter().map(|(.., m)| lf(m)))
    );

    let second = server.run(&url, &args);
    assert_code(&second, 0);
    let (records, summary) = archive_records(&second);
    assert!(records.is_empty(), "{}", stdout(&second));
    assert_eq!(summary["fetched"], 0);
    assert_eq!(summary["bytes"], 0);
    assert_eq!(maildir_files(Path::new(&maildir)).len(), 5);
    assert_eq!(
        server_files(dovecot, &[drafts]),
        before,
        "the server changed"
    );

    let late = note("late", false);
    dovecot.deposit_in("alice", drafts, &late);
    let before = server_files(dovecot, &[drafts]);
    let third = server.run(&url, &args);
    assert_code(&third, 0);
    let (records, summary) = archive_records(&third);
    assert_eq!(records.len(), 1, "{}", stdout(&third));
    assert_eq!(records[0]["folder"], drafts);
    assert_eq!(records[0]["uid"], 3);
    assert_eq!(summary["fetched"], 1);
    let stored = maildir_files(Path::new(&maildir));
    assert_eq!(stored.len(), 6);
    assert!(stored.values().any(|m| *m == late));
    assert_eq!(
        server_files(dovecot, &[drafts]),
        before,
        "the server changed"
    );

    let kept = server.path("kept");
    let kept_state = server.path("kept-state");
    let out = server.run(
        &url,
        &[
            "--new",
            "--maildir",
            &kept,
            "--state",
            &kept_state,
            "--folder",
            "INBOX",
            "--folder",
            drafts,
            "--keep-crlf",
            "-q",
        ],
    );
    assert_code(&out, 0);
    assert!(out.stdout.is_empty(), "-q without --json: {}", stdout(&out));
    let all = deposited.iter().map(|(.., m)| m.clone()).chain([late]);
    assert_eq!(
        sorted(maildir_files(Path::new(&kept)).into_values()),
        sorted(all.map(|m| crlf(&m)))
    );
}

/// The messages of an mboxrd file: each after its `From ` line, one `>`
/// taken from each quoted `>…>From ` line, the empty line after each left
/// out.
fn read_mboxrd(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.push(Vec::new());
            continue;
        }
        let message = messages.last_mut().expect("the mbox starts with From ");
        let quoted = line.iter().take_while(|&&b| b == b'>').count();
        match quoted > 0 && line[quoted..].starts_with(b"From ") {
            true => message.extend_from_slice(&line[1..]),
            false => message.extend_from_slice(line),
        }
    }
    for message in &mut messages {
        assert!(message.ends_with(b"\n\n"), "no empty line after a message");
        message.pop();
    }
    messages
}

/// `--new --all-folders --mbox FILE` with the default state: every
/// selectable folder (INBOX, the special-use ones, a folder of the user's)
/// is archived into the mbox; the state is
/// `$XDG_STATE_HOME/mailkit/imap-alice@127.0.0.1:PORT`, and the next run
/// finds it and stores nothing.
#[test]
fn new_walks_every_folder_into_an_mbox_with_the_default_state() {
    let server = Server::start_with(&DovecotOptions {
        special_use: true,
        ..DovecotOptions::default()
    });
    let dovecot = &server.dovecot;
    let mut deposited = Vec::new();
    for (folder, tag) in [
        ("INBOX", "a1"),
        ("Sent", "s1"),
        ("Junk", "j1"),
        ("Entw\u{fc}rfe", "e1"),
        ("INBOX", "a2"),
    ] {
        let message = note(tag, tag == "s1");
        dovecot.deposit_in("alice", folder, &message);
        deposited.push((folder, message));
    }
    let xdg = server.dir.subdir("xdg");
    let xdg = xdg.to_str().unwrap();
    let mbox = server.path("archive.mbox");
    let url = server.url("");
    let args = ["--new", "--all-folders", "--mbox", &mbox, "--json"];
    let first = server.run_env(&url, &args, &[("XDG_STATE_HOME", xdg)]);
    assert_code(&first, 0);
    let (records, summary) = archive_records(&first);
    assert_eq!(summary["fetched"], 5, "{}", stdout(&first));
    assert_eq!(
        summary["folders"], 6,
        "INBOX, Sent, Drafts, Trash, Junk, Entwürfe"
    );
    let folders: BTreeSet<&str> = records
        .iter()
        .map(|r| r["folder"].as_str().unwrap())
        .collect();
    let want: BTreeSet<&str> = deposited.iter().map(|(f, _)| *f).collect();
    assert_eq!(folders, want);
    assert!(
        records.iter().all(|r| r.get("path").is_none()),
        "no path in an mbox"
    );
    let stored = read_mboxrd(&std::fs::read(&mbox).unwrap());
    assert_eq!(sorted(stored), sorted(deposited.iter().map(|(_, m)| lf(m))));
    let state = Path::new(xdg)
        .join("mailkit")
        .join(format!("imap-alice@127.0.0.1:{}", dovecot.imap));
    assert!(state.is_file(), "no state at {}", state.display());

    let second = server.run_env(&url, &args, &[("XDG_STATE_HOME", xdg)]);
    assert_code(&second, 0);
    let (records, summary) = archive_records(&second);
    assert!(records.is_empty());
    assert_eq!(summary["fetched"], 0);
    assert_eq!(read_mboxrd(&std::fs::read(&mbox).unwrap()).len(), 5);
}

/// A folder that does not exist is 67, named (what was stored from the
/// folders before it stays recorded); a state whose lock is held by
/// another run is 75, and nothing is stored.
#[test]
fn new_with_a_missing_folder_is_67_and_a_held_state_75() {
    let server = Server::start_with(&DovecotOptions::default());
    server
        .dovecot
        .deposit_in("alice", "INBOX", &note("one", false));
    let url = server.url("");
    let maildir = server.path("archive");
    let state = server.path("state");
    let out = server.run(
        &url,
        &[
            "--new",
            "--maildir",
            &maildir,
            "--state",
            &state,
            "--folder",
            "No such folder",
        ],
    );
    assert_code(&out, 67);
    assert!(stderr(&out).contains("No such folder"), "{}", stderr(&out));
    let out = server.run(
        &url,
        &[
            "--new",
            "--maildir",
            &maildir,
            "--state",
            &state,
            "--folder",
            "INBOX",
            "--folder",
            "Missing",
            "--json",
        ],
    );
    // The folders before it are archived and recorded all the same.
    assert_code(&out, 67);
    assert!(stderr(&out).contains("\"Missing\""), "{}", stderr(&out));
    let records = json_lines(&out);
    assert_eq!(records.len(), 1, "{}", stdout(&out));
    assert_eq!(records[0]["folder"], "INBOX");
    assert_eq!(maildir_files(Path::new(&maildir)).len(), 1);
    let again = [
        "--new",
        "--maildir",
        &maildir,
        "--state",
        &state,
        "--folder",
        "INBOX",
        "--json",
    ];
    let out = server.run(&url, &again);
    assert_code(&out, 0);
    assert_eq!(archive_records(&out).1["fetched"], 0);
    assert_eq!(maildir_files(Path::new(&maildir)).len(), 1);

    let held = server.path("held");
    let lock = std::fs::File::create(format!("{held}.lock")).unwrap();
    lock.lock().unwrap();
    let other = server.path("other");
    let out = server.run(
        &url,
        &[
            "--new",
            "--maildir",
            &other,
            "--state",
            &held,
            "--folder",
            "INBOX",
        ],
    );
    assert_code(&out, 75);
    assert!(
        stderr(&out).contains("in use by another run"),
        "{}",
        stderr(&out)
    );
    let stored = Path::new(&other).join("new");
    assert!(
        !stored.exists() || std::fs::read_dir(&stored).unwrap().next().is_none(),
        "stored while the state was held"
    );
    drop(lock);
    let out = server.run(
        &url,
        &[
            "--new",
            "--maildir",
            &other,
            "--state",
            &held,
            "--folder",
            "INBOX",
        ],
    );
    assert_code(&out, 0);
    assert_eq!(maildir_files(Path::new(&other)).len(), 1);
}

/// Combinations that make no sense are 64 before any connection (the
/// port has no server), each with a message that says what to do.
#[test]
fn usage_errors_say_what_to_do() {
    let dir = Scratch::new();
    let password = dir.path().join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    set_mode(&password, 0o600);
    let password = password.to_str().unwrap();
    let port = common::free_port();
    let url = format!("imaps://alice@127.0.0.1:{port}");
    let inbox = format!("{url}/INBOX");
    let maildir = dir.path().join("m");
    let maildir = maildir.to_str().unwrap();
    let state = dir.path().join("s");
    let state = state.to_str().unwrap();
    let no_user = format!("imaps://127.0.0.1:{port}/INBOX");
    let pop3 = format!("pop3://alice@127.0.0.1:{port}");
    let cases: &[(&[&str], &str)] = &[
        (
            &[&inbox, "--maildir", maildir],
            "--maildir and --mbox go with --fetch",
        ),
        (
            &[&inbox, "--fetch", "1", "2"],
            "need --maildir DIR or --mbox FILE",
        ),
        (
            &[&url, "--folder", "INBOX", "--folder", "Sent"],
            "only with --new",
        ),
        (
            &[&inbox, "--fetch", "1", "--limit", "3"],
            "go with a listing of messages",
        ),
        (&[&url, "--fetch", "1"], "which folder? give it in the URL"),
        (
            &[&url, "--structure", "1"],
            "which folder? give it in the URL",
        ),
        (
            &[&url, "--part", "1", "1"],
            "which folder? give it in the URL",
        ),
        (&[&no_user, "--fetch", "1"], "USER@HOST) or with --user"),
        (
            &[&url, "--new", "--folder", "INBOX"],
            "--new needs --maildir DIR or --mbox FILE",
        ),
        (
            &[&url, "--new", "--maildir", maildir],
            "--folder (repeatable) or --all-folders",
        ),
        (
            &[&inbox, "--state", state],
            "required arguments were not provided:\n  --new",
        ),
        (&[&pop3, "--folder", "INBOX"], "imap:// or imaps://"),
        (
            &[&inbox, "--new", "--all-folders", "--maildir", maildir],
            "leave the folder out of the URL",
        ),
    ];
    for (args, says) in cases {
        let mut all = args.to_vec();
        all.extend(["--password-file", password]);
        let out = run_tool(BIN, &all, b"");
        assert_eq!(code(&out), 64, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        let said = stderr(&out);
        assert!(said.contains(says), "{args:?} should say {says:?}: {said}");
        assert!(said.contains("error"), "{args:?}: {said}");
    }
    assert!(
        !Path::new(maildir).exists(),
        "a usage error created the Maildir"
    );
    assert!(
        !Path::new(state).exists(),
        "a usage error created the state"
    );
}
