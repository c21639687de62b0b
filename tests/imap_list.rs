//! imap-list against a real Dovecot started by the test, with special-use
//! folders, folder names that need quoting, modified UTF-7 or nesting,
//! messages written straight into its Maildirs, and a folder of 100 000
//! messages. What the server holds is seen independently through Python's
//! imaplib (EXAMINE and UID FETCH only); what imap-list prints and stores
//! is compared with that and with the files deposited.
//!
//! Dovecot keeps each message as deposited (LF line ends here) and sends
//! it with CRLF; RFC822.SIZE counts the CRLF form. imap-list, like
//! pop3-fetch, writes fetched messages with LF line ends, so a fetched
//! LF file comes back byte for byte.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::dovecot::{Dovecot, DovecotOptions, SPECIAL_USE};
use common::{Scratch, code, run_tool_env, set_mode, stderr, stdout};
use serde_json::Value;

/// The tool under test.
const BIN: &str = env!("CARGO_BIN_EXE_imap-list");

/// alice's password, which must never show in any output.
const PASSWORD: &str = "alicepw";

/// A message of the fixture: where it goes, its file, its Maildir flags
/// (`None`: unseen in `new/`), and for INBOX messages what the listing
/// shows for it.
struct Mail {
    folder: &'static str,
    file: Vec<u8>,
    flags: Option<&'static str>,
    shown: Option<Shown>,
}

/// What the message listing shows for a message: DATE, FROM and SUBJECT
/// (SUBJECT `None` when only its ASCII ends are certain: raw bytes that
/// are no UTF-8).
struct Shown {
    date: &'static str,
    from: &'static str,
    subject: Option<String>,
}

/// A long subject that Dovecot sends as a literal (over 1 000 octets),
/// folded once in the header.
fn long_subject() -> String {
    let words: Vec<String> = (0..150).map(|i| format!("word{i}")).collect();
    words.join(" ")
}

/// The INBOX messages, oldest first: seen and plain; RFC 2047 in From and
/// Subject, answered and flagged; raw UTF-8 with a quote and a backslash
/// (a literal) and no Date; a folded 1 000-octet subject (a literal);
/// Latin-1 bytes that are no UTF-8, in the subject and the body; a subject
/// for `SUBJECT "x y"`; and a file with CRLF line ends, seen.
fn inbox() -> Vec<Mail> {
    let long = long_subject();
    let raw = [
        (
            Some("S"),
            "From: Carol Example <carol@example.test>\nTo: alice@example.test\n\
             Subject: first and seen\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n\
             Message-ID: <m1@example.test>\n\nHello Alice.\n"
                .as_bytes()
                .to_vec(),
            Shown {
                date: "2026-11-02T09:00:00+00:00",
                from: "Carol Example <carol@example.test>",
                subject: Some("first and seen".into()),
            },
        ),
        (
            Some("FR"),
            "From: =?UTF-8?B?SsO8cmdlbg==?= <juergen@example.test>\nTo: alice@example.test\n\
             Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?= und\n =?ISO-8859-1?Q?caf=E9?= \
             =?ISO-8859-1?Q?_cr=E8me?=\nDate: Tue, 03 Nov 2026 14:05:09 +0100\n\
             Message-ID: <m2@example.test>\n\nGr\u{fc}\u{df}e.\n"
                .as_bytes()
                .to_vec(),
            Shown {
                date: "2026-11-03T14:05:09+01:00",
                from: "J\u{fc}rgen <juergen@example.test>",
                subject: Some("Gr\u{fc}\u{df}e aus K\u{f6}ln und caf\u{e9} cr\u{e8}me".into()),
            },
        ),
        (
            None,
            "From: dave@example.test\nTo: alice@example.test\n\
             Subject: \u{dc}berweisung \u{2713} \"quoted\" and back\\slash\n\
             Message-ID: <m3@example.test>\n\nNo date here.\n"
                .as_bytes()
                .to_vec(),
            Shown {
                date: "-",
                from: "dave@example.test",
                subject: Some("\u{dc}berweisung \u{2713} \"quoted\" and back\\slash".into()),
            },
        ),
        (
            None,
            format!(
                "From: Jane Doe <jane@example.test>\nTo: alice@example.test\n\
                 Subject: {long}\n continued after the fold\n\
                 Date: Wed, 4 Nov 2026 23:59:59 -0800\nMessage-ID: <m4@example.test>\n\n\
                 A long subject.\n"
            )
            .into_bytes(),
            Shown {
                date: "2026-11-04T23:59:59-08:00",
                from: "Jane Doe <jane@example.test>",
                subject: Some(format!("{long} continued after the fold")),
            },
        ),
        (
            None,
            b"From: eve@example.test\nTo: alice@example.test\n\
              Subject: latin \xe9t\xe9 raw\nDate: Thu, 05 Nov 2026 08:00:00 +0000\n\
              Message-ID: <m5@example.test>\n\nbytes \xff\xfe\x80 and caf\xc3\xa9\n"
                .to_vec(),
            Shown {
                date: "2026-11-05T08:00:00+00:00",
                from: "eve@example.test",
                subject: None,
            },
        ),
        (
            None,
            "From: Frank <frank@example.test>\nTo: alice@example.test\n\
             Subject: meeting x y notes\nDate: Fri, 06 Nov 2026 10:00:00 +0000\n\
             Message-ID: <m6@example.test>\n\nNotes.\n"
                .as_bytes()
                .to_vec(),
            Shown {
                date: "2026-11-06T10:00:00+00:00",
                from: "Frank <frank@example.test>",
                subject: Some("meeting x y notes".into()),
            },
        ),
        (
            Some("S"),
            "From: grace@example.test\r\nTo: alice@example.test\r\n\
             Subject: crlf lines\r\nDate: Sat, 07 Nov 2026 10:00:00 +0000\r\n\
             Message-ID: <m7@example.test>\r\n\r\nbody\r\n"
                .as_bytes()
                .to_vec(),
            Shown {
                date: "2026-11-07T10:00:00+00:00",
                from: "grace@example.test",
                subject: Some("crlf lines".into()),
            },
        ),
    ];
    raw.into_iter()
        .map(|(flags, file, shown)| Mail {
            folder: "INBOX",
            file,
            flags,
            shown: Some(shown),
        })
        .collect()
}

/// Every folder of the fixture with its MESSAGES, UNSEEN and special-use
/// attribute (`-` for none), as the folder listing shows them.
const FOLDERS: [(&str, u32, u32, &str); 12] = [
    ("INBOX", 7, 5, "-"),
    ("Entw\u{fc}rfe", 2, 1, "-"),
    ("\u{65e5}\u{672c}\u{8a9e}", 3, 3, "-"),
    ("a \"quoted\" name", 1, 0, "-"),
    ("back\\slash", 4, 2, "-"),
    ("Projects", 0, 0, "-"),
    ("Projects/2026", 0, 0, "-"),
    ("Projects/2026/Q4", 1, 1, "-"),
    ("Sent", 2, 0, "\\Sent"),
    ("Drafts", 1, 0, "\\Drafts"),
    ("Trash", 0, 0, "\\Trash"),
    ("Junk", 1, 1, "\\Junk"),
];

/// A small message for the other folders, different for each folder and
/// `i`.
fn note(folder: &str, i: usize) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.test>\nTo: alice@example.test\n\
         Subject: note {i} in {}\nDate: Sun, 01 Nov 2026 12:00:0{i} +0000\n\
         Message-ID: <{i}.{}@example.test>\n\nNote {i}.\n",
        folder.escape_default(),
        folder.len(),
    )
    .into_bytes()
}

/// The messages of the other folders: as many as [`FOLDERS`] says, the
/// first `MESSAGES - UNSEEN` of them seen (drafts also `\Draft`).
fn other_mail() -> Vec<Mail> {
    let mut mail = Vec::new();
    for (folder, messages, unseen, special) in FOLDERS {
        if folder == "INBOX" {
            continue;
        }
        let seen = messages - unseen;
        for i in 0..messages {
            let flags = match (
                i < seen,
                special == "\\Drafts" || folder.starts_with("Entw"),
            ) {
                (true, true) => Some("DS"),
                (true, false) => Some("S"),
                (false, _) => None,
            };
            mail.push(Mail {
                folder,
                file: note(folder, i as usize),
                flags,
                shown: None,
            });
        }
    }
    mail
}

/// LF line ends as CRLF (what IMAP sends; RFC822.SIZE counts this form);
/// CRLF stays CRLF.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Each CRLF as LF: what imap-list writes by default.
fn lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if !(b == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

/// A Dovecot with the special-use folders, a scratch directory and
/// alice's password in a 0600 file.
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
        let password_file = password_file(&dir, "password", PASSWORD);
        Server {
            dovecot,
            dir,
            password_file,
        }
    }

    /// A Dovecot with special-use folders, every folder of [`FOLDERS`] and
    /// their messages.
    fn populated() -> Server {
        let server = Server::start_with(&DovecotOptions {
            special_use: true,
            ..DovecotOptions::default()
        });
        for (folder, ..) in FOLDERS {
            server.dovecot.create_folder("alice", folder);
        }
        for mail in inbox().iter().chain(&other_mail()) {
            server.put(mail);
        }
        server
    }

    /// Deposits one message.
    fn put(&self, mail: &Mail) {
        let dovecot = &self.dovecot;
        match mail.flags {
            None => dovecot.deposit_in("alice", mail.folder, &mail.file),
            Some(flags) => dovecot.deposit_with_flags("alice", mail.folder, &mail.file, flags),
        };
    }

    /// `imap://alice@127.0.0.1:PORT` (STARTTLS), then `path`.
    fn url(&self, path: &str) -> String {
        format!("imap://alice@127.0.0.1:{}{path}", self.dovecot.imap)
    }

    /// `imaps://alice@127.0.0.1:PORT` (implicit TLS), then `path`.
    fn url_tls(&self, path: &str) -> String {
        format!("imaps://alice@127.0.0.1:{}{path}", self.dovecot.imaps)
    }

    /// A path in the scratch directory, as text.
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// imap-list on [`Server::url`] with `extra`.
    fn list(&self, extra: &[&str]) -> Output {
        self.run(&self.url(""), extra)
    }

    /// imap-list on `url` with the test CA, alice's password file and
    /// `extra`. Whatever happened, the password shows nowhere.
    fn run(&self, url: &str, extra: &[&str]) -> Output {
        self.run_with_password(url, &self.password_file, extra)
    }

    /// [`Server::run`] with another password file.
    fn run_with_password(&self, url: &str, password: &Path, extra: &[&str]) -> Output {
        let cafile = self.dovecot.cert.to_str().unwrap();
        let password = password.to_str().unwrap();
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
        let out = run_tool_env(BIN, &args, b"", &[]);
        assert_no_password(&out);
        out
    }

    /// What Python's imaplib sees (see [`View`]) of `folders`.
    fn view(&self, folders: &[&str]) -> View {
        python_view(&self.dovecot, folders)
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

/// A folder name as IMAP sends it: levels in modified UTF-7.
fn wire(folder: &str) -> String {
    mailkit::imap::mailbox_name::encode(folder)
}

/// What imaplib sees: capabilities after login, LIST, and for each folder
/// asked about its UIDVALIDITY and its messages' UIDs, flags (`\Recent`
/// included) and RFC822.SIZE, in UID order.
#[derive(Debug, PartialEq)]
struct View {
    capabilities: Vec<String>,
    /// Decoded name → (attributes, delimiter).
    list: BTreeMap<String, (Vec<String>, String)>,
    /// Decoded name → (UIDVALIDITY, its messages).
    folders: BTreeMap<String, (u64, Vec<Seen>)>,
}

/// A message as imaplib sees it: UID, flags, RFC822.SIZE.
type Seen = (u64, BTreeSet<String>, u64);

/// imaplib over STARTTLS with the test CA; EXAMINE and UID FETCH only, so
/// that it changes nothing itself (Dovecot gives `\Recent` to no
/// read-only session).
const VIEW_SCRIPT: &str = r#"
import imaplib, json, os, re, ssl, sys
c = imaplib.IMAP4("127.0.0.1", int(os.environ["IMAP_PORT"]), timeout=60)
c.starttls(ssl_context=ssl.create_default_context(cafile=os.environ["CAFILE"]))
c.login("alice", os.environ["IMAP_PASSWORD"])
typ, caps = c.capability()
def quoted(name):
    return '"' + name.replace('\\', '\\\\').replace('"', '\\"') + '"'
typ, data = c.list()
assert typ == "OK", data
listed = []
for line in data:
    m = re.match(rb'\((.*?)\) (NIL|"(?:\\.|[^"])") (.*)$', line)
    assert m, line
    name = m.group(3)
    if name.startswith(b'"'):
        name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
    listed.append([m.group(1).decode().split(), m.group(2).decode().strip('"'), name.decode()])
folders = {}
for name in json.loads(os.environ["FOLDERS"]):
    typ, data = c.select(quoted(name), readonly=True)
    assert typ == "OK", (name, data)
    validity = int(c.response("UIDVALIDITY")[1][0])
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS RFC822.SIZE)")
    assert typ == "OK", data
    messages = []
    for item in data:
        if item is None:
            continue
        uid = int(re.search(rb"UID (\d+)", item).group(1))
        flags = re.search(rb"FLAGS \(([^)]*)\)", item).group(1).decode().split()
        size = int(re.search(rb"RFC822.SIZE (\d+)", item).group(1))
        messages.append([uid, flags, size])
    messages.sort()
    folders[name] = [validity, messages]
c.logout()
json.dump({"capabilities": caps[0].decode().split(), "list": listed, "folders": folders}, sys.stdout)
"#;

/// Runs [`VIEW_SCRIPT`] on `folders` (names as shown).
fn python_view(dovecot: &Dovecot, folders: &[&str]) -> View {
    let wire_names: Vec<String> = folders.iter().map(|f| wire(f)).collect();
    let out = Command::new("python3")
        .arg("-c")
        .arg(VIEW_SCRIPT)
        .env("IMAP_PORT", dovecot.imap.to_string())
        .env("IMAP_PASSWORD", PASSWORD)
        .env("CAFILE", &dovecot.cert)
        .env("FOLDERS", serde_json::to_string(&wire_names).unwrap())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let decode = |name: &str| mailkit::imap::mailbox_name::decode(name.as_bytes()).unwrap();
    let mut list = BTreeMap::new();
    for entry in value["list"].as_array().unwrap() {
        let name = decode(entry[2].as_str().unwrap());
        let attributes = strings(&entry[0]);
        let delimiter = entry[1].as_str().unwrap().to_string();
        assert!(list.insert(name, (attributes, delimiter)).is_none());
    }
    let mut seen = BTreeMap::new();
    for (name, entry) in value["folders"].as_object().unwrap() {
        let messages = entry[1]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let flags = strings(&m[1]).into_iter().collect();
                (m[0].as_u64().unwrap(), flags, m[2].as_u64().unwrap())
            })
            .collect();
        seen.insert(decode(name), (entry[0].as_u64().unwrap(), messages));
    }
    View {
        capabilities: strings(&value["capabilities"]),
        list,
        folders: seen,
    }
}

/// The fixture is what the tests below take it for, seen through imaplib:
/// SPECIAL-USE offered, every folder once with `/` as delimiter and its
/// special-use attribute, messages numbered in the order deposited, seen
/// where the file name says so, sizes counted with CRLF.
#[test]
fn the_fixture_is_what_imaplib_sees() {
    let server = Server::populated();
    let names: Vec<&str> = FOLDERS.iter().map(|f| f.0).collect();
    let view = server.view(&names);
    assert!(
        view.capabilities.iter().any(|c| c == "SPECIAL-USE"),
        "{:?}",
        view.capabilities
    );
    let listed: BTreeSet<&str> = view.list.keys().map(String::as_str).collect();
    assert_eq!(listed, names.iter().copied().collect());
    for (folder, messages, unseen, special) in FOLDERS {
        let (attributes, delimiter) = &view.list[folder];
        assert_eq!(delimiter, "/");
        if special != "-" {
            assert!(attributes.iter().any(|a| a == special), "{attributes:?}");
        }
        let (validity, seen) = &view.folders[folder];
        assert!(*validity > 0);
        assert_eq!(seen.len() as u32, messages, "{folder}");
        let unseen_now = seen.iter().filter(|m| !m.1.contains("\\Seen")).count();
        assert_eq!(unseen_now as u32, unseen, "{folder}");
        let uids: Vec<u64> = seen.iter().map(|m| m.0).collect();
        assert_eq!(uids, (1..=u64::from(messages)).collect::<Vec<_>>());
    }
    for (name, attribute) in SPECIAL_USE {
        assert!(view.list[name].0.iter().any(|a| a == attribute), "{name}");
    }
    let inbox_view = &view.folders["INBOX"].1;
    for (mail, (_, flags, size)) in inbox().iter().zip(inbox_view) {
        assert_eq!(*size, crlf(&mail.file).len() as u64);
        let expected: BTreeSet<String> = match mail.flags {
            Some("S") => ["\\Seen"].map(String::from).into(),
            Some("FR") => ["\\Flagged", "\\Answered"].map(String::from).into(),
            _ => ["\\Recent"].map(String::from).into(),
        };
        let mut got = flags.clone();
        if mail.flags.is_some() {
            got.remove("\\Recent");
        }
        assert_eq!(got, expected);
    }
}

/// The folder listing's text lines as name → (MESSAGES, UNSEEN, SPECIAL),
/// failing on a name listed twice.
fn folder_lines(out: &Output) -> BTreeMap<String, (u32, u32, String)> {
    let mut folders = BTreeMap::new();
    for line in stdout(out).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line:?}");
        let counts = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let entry = (counts.0, counts.1, fields[3].to_string());
        let before = folders.insert(fields[0].to_string(), entry);
        assert!(before.is_none(), "{:?} listed twice", fields[0]);
    }
    folders
}

/// Without a folder: every folder exactly once with its UTF-8 name, its
/// counts and its special-use attribute, in text and in JSON.
#[test]
fn folders_are_listed_once_each_with_counts_and_special_use() {
    let server = Server::populated();
    let out = server.list(&[]);
    assert_code(&out, 0);
    let listed = folder_lines(&out);
    let expected: BTreeMap<String, (u32, u32, String)> = FOLDERS
        .iter()
        .map(|&(name, messages, unseen, special)| {
            (name.to_string(), (messages, unseen, special.to_string()))
        })
        .collect();
    assert_eq!(listed, expected, "{}", stdout(&out));

    let out = server.list(&["--json"]);
    assert_code(&out, 0);
    let objects = json_lines(&out);
    assert_eq!(objects.len(), FOLDERS.len(), "{}", stdout(&out));
    let mut names = BTreeSet::new();
    for object in &objects {
        let name = object["name"].as_str().expect("a name");
        assert!(names.insert(name.to_string()), "{name:?} twice");
        let (_, messages, unseen, special) = FOLDERS
            .iter()
            .find(|f| f.0 == name)
            .unwrap_or_else(|| panic!("unexpected folder {object}"));
        assert_eq!(object["messages"], *messages, "{object}");
        assert_eq!(object["unseen"], *unseen, "{object}");
        assert_eq!(object["delimiter"], "/", "{object}");
        assert_eq!(object["selectable"], true, "{object}");
        assert!(object["flags"].is_array(), "{object}");
        let special_use: Vec<&str> = object["special_use"]
            .as_array()
            .expect("special_use")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        match *special {
            "-" => assert!(special_use.is_empty(), "{object}"),
            flag => assert_eq!(special_use, [flag], "{object}"),
        }
    }
}

/// The message lines of a folder listing, split into their six fields.
fn message_lines(out: &Output) -> Vec<Vec<String>> {
    stdout(out)
        .lines()
        .map(|line| {
            let fields: Vec<String> = line.splitn(6, '\t').map(str::to_string).collect();
            assert_eq!(fields.len(), 6, "{line:?}");
            fields
        })
        .collect()
}

/// Each folder by the name the folder listing printed (`--folder`) and by
/// the URL path (percent-encoded UTF-8, `/` between levels): the folder
/// asked for and no other, with as many messages as listed. A folder that
/// does not exist is 67 both ways.
#[test]
fn every_folder_name_printed_opens_that_folder() {
    let server = Server::populated();
    let out = server.list(&[]);
    assert_code(&out, 0);
    for (name, (messages, _, _)) in folder_lines(&out) {
        let out = server.list(&["--folder", &name]);
        assert_code(&out, 0);
        let lines = message_lines(&out);
        assert_eq!(lines.len() as u32, messages, "{name}: {}", stdout(&out));
        if name != "INBOX" {
            // The notes say where they are.
            let escaped = name.escape_default().to_string();
            for line in &lines {
                assert!(line[5].ends_with(&format!(" in {escaped}")), "{line:?}");
            }
        }
    }
    let paths = [
        ("/%E6%97%A5%E6%9C%AC%E8%AA%9E", 3),
        ("/Entw%C3%BCrfe", 2),
        ("/a%20%22quoted%22%20name", 1),
        ("/back%5Cslash", 4),
        ("/Projects/2026/Q4", 1),
        ("/Sent", 2),
        ("/INBOX", 7),
    ];
    for (path, messages) in paths {
        let out = server.run(&server.url(path), &[]);
        assert_code(&out, 0);
        assert_eq!(message_lines(&out).len(), messages, "{path}");
    }
    let out = server.list(&["--folder", "Nowhere"]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
    let out = server.run(&server.url("/Projects/2027"), &[]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
}

/// INBOX's messages, oldest first: UID and flags as imaplib sees them
/// (`\Recent` aside), the Date header as ISO 8601 with its own offset or
/// `-`, RFC822.SIZE (the file counted with CRLF), the first sender, the
/// subject decoded (RFC 2047, raw UTF-8, literals); the same in JSON.
#[test]
fn messages_are_listed_oldest_first_with_decoded_fields() {
    let server = Server::populated();
    let view = server.view(&["INBOX"]);
    let seen = &view.folders["INBOX"].1;
    let mails = inbox();
    let out = server.list(&["--folder", "INBOX"]);
    assert_code(&out, 0);
    let lines = message_lines(&out);
    assert_eq!(lines.len(), mails.len(), "{}", stdout(&out));
    for ((line, mail), (uid, flags, size)) in lines.iter().zip(&mails).zip(seen) {
        let shown = mail.shown.as_ref().unwrap();
        assert_eq!(line[0], uid.to_string(), "{line:?}");
        let printed: BTreeSet<&str> = match line[1].as_str() {
            "-" => BTreeSet::new(),
            text => text.split(' ').collect(),
        };
        let printed: BTreeSet<&str> = printed.into_iter().filter(|f| *f != "\\Recent").collect();
        let expected: BTreeSet<&str> = flags
            .iter()
            .map(String::as_str)
            .filter(|f| *f != "\\Recent")
            .collect();
        assert_eq!(printed, expected, "{line:?}");
        assert_eq!(line[2], shown.date, "{line:?}");
        assert_eq!(line[3], size.to_string(), "{line:?}");
        assert_eq!(line[3], crlf(&mail.file).len().to_string(), "{line:?}");
        assert_eq!(line[4], shown.from, "{line:?}");
        match &shown.subject {
            Some(subject) => assert_eq!(&line[5], subject, "{line:?}"),
            None => {
                assert!(line[5].starts_with("latin "), "{line:?}");
                assert!(line[5].ends_with(" raw"), "{line:?}");
                assert!(!line[5].chars().any(char::is_control), "{line:?}");
            }
        }
    }
    assert!(lines[0][1].contains("\\Seen"));
    assert!(lines[1][1].contains("\\Answered") && lines[1][1].contains("\\Flagged"));
    assert!(!lines[2][1].contains("\\Seen"));

    let out = server.list(&["--folder", "INBOX", "--json"]);
    assert_code(&out, 0);
    let objects = json_lines(&out);
    assert_eq!(objects.len(), mails.len());
    for ((object, line), mail) in objects.iter().zip(&lines).zip(&mails) {
        assert_eq!(object["uid"].to_string(), line[0], "{object}");
        assert_eq!(object["size"].to_string(), line[3], "{object}");
        assert_eq!(object["from"], line[4].as_str(), "{object}");
        assert_eq!(object["subject"], line[5].as_str(), "{object}");
        match line[2].as_str() {
            "-" => assert!(object["date"].is_null(), "{object}"),
            date => assert_eq!(object["date"], date, "{object}"),
        }
        let flags: BTreeSet<&str> = object["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let printed: BTreeSet<&str> = match line[1].as_str() {
            "-" => BTreeSet::new(),
            text => text.split(' ').collect(),
        };
        assert_eq!(flags, printed, "{object}");
        let id = String::from_utf8_lossy(&mail.file)
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: ").map(|v| v.trim().to_string()))
            .unwrap();
        assert_eq!(object["message_id"], id.as_str(), "{object}");
    }

    // --limit 2: the newest two, still oldest first.
    let out = server.list(&["--folder", "INBOX", "--limit", "2"]);
    assert_code(&out, 0);
    assert_eq!(message_lines(&out), lines[lines.len() - 2..]);
}

/// `--search`: IMAP search keys, with a quoted string; keys that try to
/// end the command and start another are refused or harmless: the folder
/// they would delete is still there, with its message.
#[test]
fn search_keys_are_passed_safely() {
    let server = Server::populated();
    server.dovecot.deposit_in("alice", "Keep", &note("Keep", 1));
    let out = server.list(&["--folder", "INBOX"]);
    assert_code(&out, 0);
    let all = message_lines(&out);

    let out = server.list(&["--folder", "INBOX", "--search", "UNSEEN"]);
    assert_code(&out, 0);
    let unseen: Vec<Vec<String>> = all
        .iter()
        .filter(|l| !l[1].contains("\\Seen"))
        .cloned()
        .collect();
    assert_eq!(unseen.len(), 5);
    assert_eq!(message_lines(&out), unseen);

    let out = server.list(&["--folder", "INBOX", "--search", "SUBJECT \"x y\""]);
    assert_code(&out, 0);
    let lines = message_lines(&out);
    assert_eq!(lines.len(), 1, "{}", stdout(&out));
    assert_eq!(lines[0][5], "meeting x y notes");

    let out = server.list(&["--folder", "INBOX", "--search", "SEEN SUBJECT crlf"]);
    assert_code(&out, 0);
    assert_eq!(message_lines(&out), all[6..]);
    // Non-ASCII (CHARSET UTF-8, a literal), a backslash, a word that looks
    // like a literal: each a string.
    let strings = [
        ("SUBJECT Gr\u{fc}\u{df}e", &all[1..2]),
        (
            "OR SUBJECT K\u{f6}ln FROM Frank",
            &[all[1].clone(), all[5].clone()][..],
        ),
        ("SUBJECT \"back\\\\slash\"", &all[2..3]),
        ("SUBJECT \"\\\"quoted\\\"\"", &all[2..3]),
        ("SUBJECT {4+}", &[][..]),
        ("SUBJECT {4}", &[][..]),
        ("BODY Notes.", &all[5..6]),
    ];
    for (keys, expected) in strings {
        let out = server.list(&["--folder", "INBOX", "--search", keys]);
        assert_code(&out, 0);
        assert_eq!(message_lines(&out), expected, "{keys:?}");
    }

    let attacks = [
        "ALL\r\nX1 DELETE Keep",
        "ALL\r\nX1 DELETE Keep\r\n",
        "ALL\nX1 DELETE Keep",
        "SUBJECT {4}\r\nnote\r\nX1 DELETE Keep",
        "SUBJECT {4+}\r\nnote DELETE Keep",
        "SUBJECT \"x\"\r\nX1 DELETE Keep\r\nX2 NOOP \"",
        "ALL) (DELETE Keep",
    ];
    for attack in attacks {
        let out = server.list(&["--folder", "INBOX", "--search", attack]);
        assert!(
            ![70, 101].contains(&code(&out)),
            "{attack:?}: {}",
            stderr(&out)
        );
        for line in message_lines(&out) {
            assert!(all.contains(&line), "{attack:?}: {line:?}");
        }
    }
    let injected_folder = ["Keep\r\nX1 DELETE Keep", "Keep\" DELETE \"Keep"];
    for name in injected_folder {
        let out = server.list(&["--folder", name]);
        assert!(
            [64, 65, 67].contains(&code(&out)),
            "{name:?}: {}",
            stderr(&out)
        );
    }
    assert!(
        server
            .dovecot
            .folder_dir("alice", "Keep")
            .join("cur")
            .is_dir()
    );
    let view = server.view(&["Keep"]);
    assert_eq!(view.folders["Keep"].1.len(), 1);
    assert_eq!(
        server.dovecot.mail_files_in("alice", "Keep").len(),
        1,
        "{}",
        server.dovecot.log()
    );
}

/// The messages a Maildir holds (`new/` and `cur/`; `tmp/` must be
/// empty), sorted by content.
fn maildir_messages(dir: &Path) -> Vec<Vec<u8>> {
    let files = |sub: &str| -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| std::fs::read(e.path()).unwrap())
            .collect()
    };
    assert!(files("tmp").is_empty(), "tmp/ is not empty");
    let mut messages = files("new");
    messages.extend(files("cur"));
    messages.sort();
    messages
}

/// The messages of an mboxrd file: each starts with a `From ` line (body
/// lines that start with `From ` are quoted, so every one is a separator)
/// and ends with an empty line, which is not part of it; one `>` is
/// removed from each `>…>From ` line.
fn read_mboxrd(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
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
        assert!(message.ends_with(b"\n\n"), "no empty line after a message");
        message.pop();
    }
    messages
}

/// Messages that are hard to keep byte for byte: `From ` lines (quoted in
/// an mbox), lines of dots, a bare CR, mixed line ends, no final line end,
/// 8-bit bytes.
fn shapes() -> Vec<Vec<u8>> {
    [
        &b"Subject: from\n\nFrom the start\n>From quoted\n>>From twice\nFrom\n"[..],
        b"Subject: dots\n\n.one dot\n..two dots\n.\nend\n",
        b"Subject: bare cr\n\nbare cr\rinside\n",
        b"Subject: mixed\r\n\nlf line\ncrlf line\r\n",
        b"Subject: no final newline\n\nthe last line",
        b"Subject: eight bit \xc3\xa9\n\ncaf\xc3\xa9 \xff\xfe\x80 raw\n",
    ]
    .map(<[u8]>::to_vec)
    .to_vec()
}

/// `--fetch UID` writes the message to stdout as deposited (with LF line
/// ends: an LF file comes back byte for byte); several UIDs go into a
/// Maildir or an mbox, not to stdout; a UID or a folder that is not there
/// is 67 with nothing written.
#[test]
fn fetch_writes_messages_as_deposited() {
    let server = Server::populated();
    let mails = inbox();
    for (i, mail) in mails.iter().enumerate() {
        let uid = (i + 1).to_string();
        let out = server.list(&["--folder", "INBOX", "--fetch", &uid]);
        assert_code(&out, 0);
        assert!(
            out.stdout == lf(&mail.file),
            "message {uid} differs:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = server.run(
        &server.url("/%E6%97%A5%E6%9C%AC%E8%AA%9E"),
        &["--fetch", "2"],
    );
    assert_code(&out, 0);
    assert_eq!(out.stdout, note("\u{65e5}\u{672c}\u{8a9e}", 1));
    let out = server.list(&["--folder", "a \"quoted\" name", "--fetch", "1"]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, note("a \"quoted\" name", 0));

    let picked: Vec<Vec<u8>> = [1, 2, 4].iter().map(|&i| lf(&mails[i].file)).collect();
    let maildir = server.path("picked");
    let out = server.list(&[
        "--folder",
        "INBOX",
        "--fetch",
        "2",
        "3",
        "5",
        "--maildir",
        &maildir,
    ]);
    assert_code(&out, 0);
    let mut expected = picked.clone();
    expected.sort();
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    // --keep-crlf: as sent (a CRLF file byte for byte).
    for i in [4, 6] {
        let uid = (i + 1).to_string();
        let out = server.list(&["--folder", "INBOX", "--fetch", &uid, "--keep-crlf"]);
        assert_code(&out, 0);
        assert!(
            out.stdout == crlf(&mails[i].file),
            "message {uid} with CRLF"
        );
    }
    // --json: one record per message stored, naming its file.
    let maildir = server.path("picked-json");
    let out = server.list(&[
        "--folder",
        "INBOX",
        "--fetch",
        "2",
        "3",
        "--maildir",
        &maildir,
        "--json",
    ]);
    assert_code(&out, 0);
    let records = json_lines(&out);
    assert_eq!(records.len(), 2, "{}", stdout(&out));
    for (record, uid) in records.iter().zip([2, 3]) {
        assert_eq!(record["record"], "message", "{record}");
        assert_eq!(record["uid"], uid, "{record}");
        assert_eq!(record["folder"], "INBOX", "{record}");
        assert_eq!(record["status"], "stored", "{record}");
        let path = Path::new(record["path"].as_str().expect("a path"));
        let stored = std::fs::read(path).unwrap();
        assert_eq!(record["size"], stored.len(), "{record}");
        assert!(stored == lf(&mails[uid - 1].file), "{record}");
    }

    let mbox = server.path("picked.mbox");
    let out = server.list(&[
        "--folder", "INBOX", "--fetch", "2", "3", "5", "--mbox", &mbox,
    ]);
    assert_code(&out, 0);
    assert!(read_mboxrd(&std::fs::read(&mbox).unwrap()) == picked);

    // Awkward shapes, one at a time and all in one mbox.
    let shapes = shapes();
    for shape in &shapes {
        server.dovecot.deposit_in("alice", "Shapes", shape);
    }
    let mut all = vec!["--folder", "Shapes", "--mbox", &mbox, "--fetch"];
    let uids: Vec<String> = (1..=shapes.len()).map(|u| u.to_string()).collect();
    std::fs::remove_file(&mbox).unwrap();
    all.extend(uids.iter().map(String::as_str));
    let out = server.list(&all);
    assert_code(&out, 0);
    // An mbox message ends in a line end: one is added where none was.
    let expected: Vec<Vec<u8>> = shapes
        .iter()
        .map(|s| {
            let mut message = lf(&crlf(s));
            if !message.ends_with(b"\n") {
                message.push(b'\n');
            }
            message
        })
        .collect();
    assert!(read_mboxrd(&std::fs::read(&mbox).unwrap()) == expected);
    for (uid, shape) in uids.iter().zip(&shapes) {
        let out = server.list(&["--folder", "Shapes", "--fetch", uid]);
        assert_code(&out, 0);
        assert!(
            out.stdout == lf(&crlf(shape)),
            "{:?} came back as {:?}",
            String::from_utf8_lossy(shape),
            String::from_utf8_lossy(&out.stdout)
        );
    }

    let out = server.list(&["--folder", "INBOX", "--fetch", "2", "3"]);
    assert_code(&out, 64);
    assert!(out.stdout.is_empty());
    let out = server.list(&["--folder", "INBOX", "--fetch", "99"]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
    let out = server.list(&["--folder", "Nowhere", "--fetch", "1"]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
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

/// The command name of a client line (`TAG COMMAND …`), upper case; for
/// `UID FETCH` and the like, `UID FETCH`.
fn command_of(line: &str) -> String {
    let words: Vec<String> = line
        .split(' ')
        .skip(1)
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    match words.first().map(String::as_str) {
        Some("UID") => words.join(" "),
        Some(word) => word.to_string(),
        None => String::new(),
    }
}

/// Whether a client line sends a credential.
fn is_login(line: &str) -> bool {
    ["LOGIN", "AUTHENTICATE"].contains(&command_of(line).as_str())
}

/// Fails unless every command sent is one that leaves the mailbox as it
/// is: no SELECT, STORE, EXPUNGE, APPEND, COPY, MOVE, CREATE, DELETE or
/// RENAME, and no FETCH item that sets `\Seen` (`BODY[…]` without
/// `.PEEK`, `RFC822`, `RFC822.TEXT`).
fn assert_read_only(out: &Output) {
    let sent = sent_lines(out);
    assert!(!sent.is_empty(), "no transcript: {}", stderr(out));
    for line in &sent {
        let command = command_of(line);
        let allowed = [
            "CAPABILITY",
            "STARTTLS",
            "LOGIN",
            "AUTHENTICATE",
            "ENABLE",
            "ID",
            "NAMESPACE",
            "LIST",
            "LSUB",
            "STATUS",
            "EXAMINE",
            "UID SEARCH",
            "UID FETCH",
            "SEARCH",
            "FETCH",
            "NOOP",
            "CLOSE",
            "UNSELECT",
            "LOGOUT",
        ];
        assert!(allowed.contains(&command.as_str()), "{line:?} sent");
        if command.ends_with("FETCH") {
            let items = line.to_ascii_uppercase();
            let unpeeked = items.match_indices("BODY[").count();
            assert_eq!(unpeeked, 0, "{line:?} would set \\Seen");
            for item in items.split([' ', '(', ')']) {
                assert!(
                    item != "RFC822" && item != "RFC822.TEXT",
                    "{line:?} would set \\Seen"
                );
            }
        }
    }
}

/// Listing every folder, listing each folder's messages, searching and
/// fetching (to stdout, a Maildir, an mbox) leave the server as it was:
/// a second connection sees the same UIDs, flags (`\Recent` too) and
/// sizes before and after, Dovecot's files keep their names (their flags)
/// and bytes, and the transcript shows only commands that change nothing.
#[test]
fn listing_and_fetching_change_nothing() {
    let server = Server::populated();
    let names: Vec<&str> = FOLDERS.iter().map(|f| f.0).collect();
    let before = server.view(&names);
    let files = |s: &Server| -> Vec<BTreeMap<String, Vec<u8>>> {
        names
            .iter()
            .map(|n| s.dovecot.mail_files_in("alice", n))
            .collect()
    };
    let files_before = files(&server);
    // Something to lose: unseen messages that sit in new/ are \Recent.
    let recent = before.folders["INBOX"].1.iter();
    assert_eq!(recent.filter(|m| m.1.contains("\\Recent")).count(), 7);
    assert!(
        files_before[0].keys().any(|k| k.starts_with("new/")),
        "{:?}",
        files_before[0].keys()
    );

    let mut runs = vec![server.list(&["-v"]), server.list(&["-v", "--json"])];
    for name in &names {
        runs.push(server.list(&["-v", "--folder", name]));
    }
    runs.push(server.list(&["-v", "--folder", "INBOX", "--search", "UNSEEN"]));
    runs.push(server.list(&["-v", "--folder", "INBOX", "--limit", "2", "--json"]));
    for uid in 1..=7 {
        let uid = uid.to_string();
        runs.push(server.list(&["-v", "--folder", "INBOX", "--fetch", &uid]));
    }
    let maildir = server.path("all");
    let mbox = server.path("all.mbox");
    let uids = ["1", "2", "3", "4", "5", "6", "7"];
    for (flag, path) in [("--maildir", &maildir), ("--mbox", &mbox)] {
        let mut args = vec!["-v", "--folder", "INBOX", flag, path, "--fetch"];
        args.extend(uids);
        runs.push(server.list(&args));
    }
    runs.push(server.list(&["-v", "--folder", "Entw\u{fc}rfe", "--fetch", "2"]));
    for out in &runs {
        assert_code(out, 0);
        assert_read_only(out);
    }
    let mut expected: Vec<Vec<u8>> = inbox().iter().map(|m| lf(&m.file)).collect();
    assert!(read_mboxrd(&std::fs::read(&mbox).unwrap()) == expected);
    expected.sort();
    assert!(maildir_messages(Path::new(&maildir)) == expected);

    let after = server.view(&names);
    for name in &names {
        assert_eq!(after.folders[*name], before.folders[*name], "{name}");
    }
    assert_eq!(after.folders, before.folders);
    // The folders are the same (Dovecot's \Marked and \UnMarked hints
    // may appear once a folder was opened at all, by anyone).
    assert!(after.list.keys().eq(before.list.keys()));
    for ((name, now), then) in names.iter().zip(files(&server)).zip(&files_before) {
        let (now, then): (Vec<_>, Vec<_>) = (now.keys().collect(), then.keys().collect());
        assert_eq!(now, then, "{name}: files renamed, added or removed");
    }
    assert!(files(&server) == files_before, "a file's bytes changed");
}

/// A URL may pin the folder's UIDVALIDITY (RFC 5092): right, the fetch and
/// the listing work; wrong, 67 with nothing written anywhere. `/;UID=N`
/// fetches that message to stdout.
#[test]
fn a_pinned_uidvalidity_must_match_and_a_url_may_name_the_uid() {
    let server = Server::populated();
    let japanese = "\u{65e5}\u{672c}\u{8a9e}";
    let view = server.view(&["INBOX", japanese]);
    let validity = view.folders["INBOX"].0;
    let mails = inbox();

    let good = server.url(&format!("/INBOX;UIDVALIDITY={validity}"));
    let out = server.run(&good, &["--fetch", "3"]);
    assert_code(&out, 0);
    assert!(out.stdout == lf(&mails[2].file));
    let out = server.run(&good, &[]);
    assert_code(&out, 0);
    assert_eq!(message_lines(&out).len(), mails.len());

    let wrong = server.url(&format!("/INBOX;UIDVALIDITY={}", validity + 1));
    let out = server.run(&wrong, &["--fetch", "3"]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("UIDVALIDITY"), "{}", stderr(&out));
    let out = server.run(&wrong, &[]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    let (maildir, mbox) = (server.path("wrong"), server.path("wrong.mbox"));
    let out = server.run(&wrong, &["--fetch", "1", "2", "--maildir", &maildir]);
    assert_code(&out, 67);
    assert!(maildir_messages(Path::new(&maildir)).is_empty());
    let out = server.run(&wrong, &["--fetch", "1", "2", "--mbox", &mbox]);
    assert_code(&out, 67);
    assert!(std::fs::read(&mbox).unwrap_or_default().is_empty());

    let one = server.url(&format!("/INBOX;UIDVALIDITY={validity}/;UID=4"));
    let out = server.run(&one, &[]);
    assert_code(&out, 0);
    assert!(out.stdout == lf(&mails[3].file));
    let out = server.run(&server.url("/INBOX/;UID=2"), &[]);
    assert_code(&out, 0);
    assert!(out.stdout == lf(&mails[1].file));
    let validity = view.folders[japanese].0;
    let path = format!("/%E6%97%A5%E6%9C%AC%E8%AA%9E;UIDVALIDITY={validity}/;UID=3");
    let out = server.run(&server.url(&path), &[]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, note(japanese, 2));
    let out = server.run(&server.url("/INBOX/;UID=99"), &[]);
    assert_code(&out, 67);
    assert!(out.stdout.is_empty());
}

/// A plain Dovecot (separator `.`) with two INBOX messages.
fn plain_server(options: &DovecotOptions) -> Server {
    let server = Server::start_with(options);
    for mail in &inbox()[..2] {
        server.put(mail);
    }
    server
}

/// imap:// with STARTTLS (the login only after TLS) and imaps:// list the
/// same; a wrong password is 77 with nothing on stdout.
#[test]
fn starttls_and_implicit_tls_work_and_a_wrong_password_is_77() {
    let server = plain_server(&DovecotOptions::default());
    let out = server.run(&server.url("/INBOX"), &["-v"]);
    assert_code(&out, 0);
    let listing = stdout(&out);
    assert_eq!(message_lines(&out).len(), 2, "{listing}");
    let transcript = stderr(&out);
    let plain: Vec<&str> = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("-> "))
        .collect();
    assert!(
        plain.iter().any(|l| command_of(l) == "STARTTLS"),
        "{transcript}"
    );
    assert!(!plain.iter().any(|l| is_login(l)), "{transcript}");
    let secure: Vec<&str> = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("~> "))
        .collect();
    assert!(secure.iter().any(|l| is_login(l)), "{transcript}");

    let out = server.run(&server.url_tls("/INBOX"), &["-v"]);
    assert_code(&out, 0);
    assert_eq!(stdout(&out), listing);
    assert!(!stderr(&out).contains("\n-> "), "{}", stderr(&out));
    assert!(!stderr(&out).starts_with("-> "), "{}", stderr(&out));

    let wrong = password_file(&server.dir, "wrong", "not-alicepw");
    for url in [server.url("/INBOX"), server.url_tls("")] {
        let out = server.run_with_password(&url, &wrong, &[]);
        assert_code(&out, 77);
        assert!(out.stdout.is_empty(), "{}", stdout(&out));
    }
}

/// A Dovecot without TLS: imap:// is 76 before any credential, and
/// Dovecot sees no login attempt; `--tls none` still sends no password
/// without `--allow-plaintext-auth`.
#[test]
fn without_starttls_no_password_is_sent() {
    let server = plain_server(&DovecotOptions {
        no_tls: true,
        ..DovecotOptions::default()
    });
    let out = server.run(&server.url("/INBOX"), &["-v"]);
    assert_code(&out, 76);
    assert!(stderr(&out).contains("STARTTLS"), "{}", stderr(&out));
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.dovecot.log().contains("no auth attempts") {
        assert!(Instant::now() < deadline, "{}", server.dovecot.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = server.run(&server.url("/INBOX"), &["-v", "--tls", "none"]);
    assert_code(&out, 76);
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
    assert!(
        !server.dovecot.log().contains("user=<alice>"),
        "{}",
        server.dovecot.log()
    );
    let out = server.run(
        &server.url("/INBOX"),
        &["--tls", "none", "--allow-plaintext-auth"],
    );
    assert_code(&out, 0);
    assert_eq!(message_lines(&out).len(), 2);
}

/// `--capabilities` shows what the server offers after TLS (no STARTTLS
/// any more), in text and JSON, and looks up no password: the password
/// file named does not exist, and no login is sent.
#[test]
fn capabilities_are_shown_after_tls_without_a_password() {
    let server = plain_server(&DovecotOptions::default());
    let home = Scratch::new();
    let missing = home.path().join("no-such-password-file");
    let cafile = server.dovecot.cert.to_str().unwrap();
    let url = server.url("");
    let args = [
        url.as_str(),
        "--capabilities",
        "--cafile",
        cafile,
        "--password-file",
        missing.to_str().unwrap(),
        "-v",
    ];
    let home_dir = [("HOME", home.path().to_str().unwrap())];
    let out = run_tool_env(BIN, &args, b"", &home_dir);
    assert_code(&out, 0);
    let text = stdout(&out);
    for capability in ["IMAP4rev1", "AUTH=PLAIN", "LITERAL+"] {
        assert!(text.contains(capability), "{capability}: {text}");
    }
    assert!(text.contains("TLS"), "{text}");
    assert!(text.contains("greeting\tDovecot"), "{text}");
    assert!(
        !sent_lines(&out).iter().any(|l| is_login(l)),
        "{}",
        stderr(&out)
    );
    assert!(sent_lines(&out).iter().any(|l| command_of(l) == "STARTTLS"));

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let out = run_tool_env(BIN, &json_args, b"", &home_dir);
    assert_code(&out, 0);
    let value: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let listed: Vec<&str> = value["capabilities"]
        .as_array()
        .expect("capabilities")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(listed.contains(&"IMAP4rev1"), "{value}");
    assert!(listed.contains(&"AUTH=PLAIN"), "{value}");
    assert!(
        !listed.contains(&"STARTTLS"),
        "asked again after TLS: {value}"
    );
}

/// Runs imap-list under GNU time (whose own small process is the parent,
/// so the figure is the tool's alone) with `args`, handing its stdout to
/// `read`; the exit status and the tool's peak resident memory in KiB.
fn measured<T>(args: &[&str], read: impl FnOnce(std::process::ChildStdout) -> T) -> (i32, u64, T) {
    let scratch = Scratch::new();
    let report = scratch.path().join("rusage");
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start /usr/bin/time (package time; run tests/run)");
    let stdout = child.stdout.take().unwrap();
    let mut errors = child.stderr.take().unwrap();
    let collector = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut errors, &mut text);
        text
    });
    let result = read(stdout);
    let status = child.wait().expect("wait for the tool");
    let errors = collector.join().unwrap();
    let rusage = std::fs::read_to_string(&report).expect("GNU time's report");
    let rss = rusage
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected GNU time report {rusage:?}"));
    let code = status.code().expect("killed by a signal");
    assert!(code == 0, "exit {code}: {errors}");
    (code, rss, result)
}

/// The arguments for imap-list on `url` with the test CA and the password
/// file, then `extra`.
fn args<'a>(server: &'a Server, url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        url,
        "--cafile",
        server.dovecot.cert.to_str().unwrap(),
        "--password-file",
        server.password_file.to_str().unwrap(),
        "--timeout",
        "30",
    ];
    args.extend_from_slice(extra);
    args
}

/// A 20 MiB message of numbered 76-octet lines.
fn twenty_mib() -> Vec<u8> {
    let mut file = b"From: big@example.test\nSubject: twenty MiB\n\n".to_vec();
    let mut i = 0u64;
    while file.len() < 20 << 20 {
        file.extend_from_slice(format!("{i:075}\n").as_bytes());
        i += 1;
    }
    file
}

/// A 20 MiB message goes to stdout byte for byte while the tool holds
/// only a bounded part of it (well under the message's size).
#[test]
fn a_20_mib_message_streams_to_stdout_in_bounded_memory() {
    let server = Server::start_with(&DovecotOptions::default());
    let big = twenty_mib();
    server
        .dovecot
        .deposit_in("alice", "Big", b"Subject: small\n\nfirst\n");
    server.dovecot.deposit_in("alice", "Big", &big);
    let url = server.url_tls("/Big");
    let (_, rss, fetched) = measured(&args(&server, &url, &["--fetch", "2"]), |mut out| {
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut data).unwrap();
        data
    });
    assert_eq!(fetched.len(), big.len());
    assert!(fetched == big, "the 20 MiB message differs");
    // A small message for the tool's own footprint: the big one may add a
    // bounded buffer (imap-list spools up to 8 MiB in memory before it
    // writes), never the message.
    let (_, small, _) = measured(&args(&server, &url, &["--fetch", "1"]), |mut out| {
        std::io::copy(&mut out, &mut std::io::sink()).unwrap()
    });
    assert!(
        rss < small + 12 * 1024,
        "peak RSS {rss} KiB for a 20 MiB message, {small} KiB for a small one"
    );
    // The listing shows its size as Dovecot counts it (CRLF).
    let out = server.run(&url, &[]);
    assert_code(&out, 0);
    let lines = message_lines(&out);
    assert_eq!(lines[1][3], crlf(&big).len().to_string());
}

/// A small message, different for each `i`.
fn small(i: usize) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.test>\nSubject: small {i}\n\
         Date: Sun, 01 Nov 2026 12:00:00 +0000\nMessage-ID: <{i}@example.test>\n\nbody {i}\n"
    )
    .into_bytes()
}

/// Lists `folder` of `count` small messages under GNU time and checks the
/// listing as it streams by: one line each, UIDs 1 to `count` in order,
/// the right subjects at both ends. Returns the peak RSS in KiB.
fn list_measured(server: &Server, folder: &str, count: usize) -> u64 {
    let url = server.url(&format!("/{folder}"));
    let (_, rss, lines) = measured(&args(server, &url, &[]), |out| {
        let mut lines = 0usize;
        for line in BufReader::new(out).lines() {
            let line = line.unwrap();
            let fields: Vec<&str> = line.splitn(6, '\t').collect();
            assert_eq!(fields[0], (lines + 1).to_string(), "{line:?}");
            if lines == 0 || lines + 1 == count {
                assert_eq!(fields[5], format!("small {lines}"), "{line:?}");
            }
            lines += 1;
        }
        lines
    });
    assert_eq!(lines, count, "{folder}");
    rss
}

/// A folder of 100 000 messages (written as Maildir files on tmpfs, ~3 s)
/// is listed in full, oldest first, with peak memory about what 10 000
/// need. Part of the default run: ~15 s in all, most of it Dovecot
/// reading the 110 000 files for their envelopes.
#[test]
fn hundred_thousand_messages_are_listed_in_flat_memory() {
    let started = Instant::now();
    let server = Server::start_with(&DovecotOptions {
        mail_in_memory: true,
        ..DovecotOptions::default()
    });
    server
        .dovecot
        .deposit_many_in("alice", "Ten", (0..10_000).map(small));
    server
        .dovecot
        .deposit_many_in("alice", "Big", (0..100_000).map(small));
    let written = started.elapsed();
    let ten = list_measured(&server, "Ten", 10_000);
    let big = list_measured(&server, "Big", 100_000);
    eprintln!(
        "written in {written:?}; peak RSS 10 000: {ten} KiB, 100 000: {big} KiB; {:?} in all",
        started.elapsed()
    );
    assert!(
        big < ten + 8 * 1024,
        "10 000: {ten} KiB, 100 000: {big} KiB"
    );
    assert!(big < 40 * 1024, "100 000: {big} KiB");
}

/// Control characters from the server (a folder name with a tab and a
/// BEL, an encoded subject with a tab and an ESC sequence, a raw tab, an
/// encoded sender with ESC) never reach the text output as they are, so
/// the columns stay six (four) and the terminal safe; JSON keeps them, as
/// JSON escapes.
#[test]
fn control_characters_are_made_printable_in_text() {
    let server = Server::start_with(&DovecotOptions::default());
    let odd = "bell\u{7}tab\there";
    let messages = [
        "From: =?UTF-8?Q?Evil=1B=5B2J?= <evil@example.test>\nSubject: =?UTF-8?Q?a=09b=1B[31mred?=\n\
         Date: Mon, 02 Nov 2026 09:00:00 +0000\n\nx\n",
        "From: plain@example.test\nSubject: raw\ttab\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n\nx\n",
    ];
    for message in messages {
        server.dovecot.deposit_in("alice", odd, message.as_bytes());
    }
    let clean = |text: &str| !text.chars().any(|c| c.is_control() && !"\t\n".contains(c));

    let out = server.list(&[]);
    assert_code(&out, 0);
    assert!(clean(&stdout(&out)), "{:?}", stdout(&out));
    let lines = folder_lines(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (shown, counts) = lines.iter().find(|(n, _)| *n != "INBOX").unwrap();
    assert!(
        shown.starts_with("bell") && shown.ends_with("here"),
        "{shown:?}"
    );
    assert_eq!(counts.0, 2);
    let out = server.list(&["--json"]);
    assert_code(&out, 0);
    let names: Vec<Value> = json_lines(&out).iter().map(|o| o["name"].clone()).collect();
    assert!(names.contains(&Value::from(odd)), "{names:?}");

    let out = server.list(&["--folder", odd]);
    assert_code(&out, 0);
    assert!(clean(&stdout(&out)), "{:?}", stdout(&out));
    let lines = message_lines(&out);
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    for line in &lines {
        assert!(
            !line[5].contains('\t'),
            "a tab in the last column: {line:?}"
        );
    }
    assert!(
        lines[0][4].starts_with("Evil") && lines[0][4].ends_with("<evil@example.test>"),
        "{:?}",
        lines[0]
    );
    assert!(
        lines[0][5].starts_with('a') && lines[0][5].ends_with("red"),
        "{:?}",
        lines[0]
    );
    assert!(
        lines[1][5].starts_with("raw") && lines[1][5].ends_with("tab"),
        "{:?}",
        lines[1]
    );
    let out = server.list(&["--folder", odd, "--json"]);
    assert_code(&out, 0);
    let objects = json_lines(&out);
    assert_eq!(objects[0]["subject"], "a\tb\u{1b}[31mred");
    assert_eq!(objects[0]["from"], "Evil\u{1b}[2J <evil@example.test>");
    // White space in a raw header may be kept or made one space.
    let raw = objects[1]["subject"].as_str().unwrap();
    assert!(raw == "raw\ttab" || raw == "raw tab", "{raw:?}");
}

/// A server that announces only `IMAP4rev1 LITERAL+` (no LIST-STATUS,
/// SPECIAL-USE, SASL-IR or ENABLE): plain LIST and a STATUS per folder give
/// the same listing; special-use attributes sent anyway are shown; a
/// parent that is no folder (`\NonExistent`: Maildir++ `.Lonely.Child`
/// without `.Lonely`) is listed without counts, not selectable, and
/// opening it is 67.
#[test]
fn a_plain_imap4rev1_server_and_a_parent_that_is_no_folder() {
    let server = Server::start_with(&DovecotOptions {
        special_use: true,
        imap_capability: Some("IMAP4rev1 LITERAL+".into()),
        ..DovecotOptions::default()
    });
    server
        .dovecot
        .deposit_in("alice", "Entw\u{fc}rfe", &note("Entw\u{fc}rfe", 0));
    server
        .dovecot
        .deposit_with_flags("alice", "Sent", &note("Sent", 0), "S");
    server
        .dovecot
        .deposit_in("alice", "Lonely/Child", &note("Lonely/Child", 0));
    let parent = server.dovecot.folder_dir("alice", "Lonely");
    std::fs::remove_dir_all(parent).unwrap();

    let out = server.list(&["-v"]);
    assert_code(&out, 0);
    let expected: BTreeMap<String, (u32, u32, String)> = [
        ("INBOX", 0, 0, "-"),
        ("Entw\u{fc}rfe", 1, 1, "-"),
        ("Lonely/Child", 1, 1, "-"),
        ("Sent", 1, 0, "\\Sent"),
        ("Drafts", 0, 0, "\\Drafts"),
        ("Trash", 0, 0, "\\Trash"),
        ("Junk", 0, 0, "\\Junk"),
    ]
    .iter()
    .map(|&(n, m, u, s)| (n.to_string(), (m, u, s.to_string())))
    .collect();
    let text = stdout(&out);
    assert!(text.lines().any(|l| l == "Lonely\t-\t-\t-"), "{text}");
    let rest: String = text
        .lines()
        .filter(|l| !l.starts_with("Lonely\t"))
        .map(|l| format!("{l}\n"))
        .collect();
    let listed = folder_lines(&Output {
        stdout: rest.into_bytes(),
        ..out.clone()
    });
    assert_eq!(listed, expected, "{text}");
    let sent = sent_lines(&out);
    assert!(
        sent.iter()
            .any(|l| command_of(l) == "LIST" && !l.contains("RETURN")),
        "{sent:?}"
    );
    let statuses = sent.iter().filter(|l| command_of(l) == "STATUS").count();
    assert_eq!(statuses, expected.len(), "{sent:?}");

    let out = server.list(&["--json"]);
    assert_code(&out, 0);
    let lonely = json_lines(&out)
        .into_iter()
        .find(|o| o["name"] == "Lonely")
        .expect("Lonely listed");
    assert_eq!(lonely["selectable"], false, "{lonely}");
    assert!(
        lonely["messages"].is_null() && lonely["unseen"].is_null(),
        "{lonely}"
    );

    let out = server.list(&["--folder", "Lonely"]);
    assert_code(&out, 67);
    let out = server.list(&["--folder", "Lonely/Child", "--fetch", "1"]);
    assert_code(&out, 0);
    assert_eq!(out.stdout, note("Lonely/Child", 0));
    let out = server.list(&[
        "--folder",
        "Entw\u{fc}rfe",
        "--search",
        "SUBJECT \"note 0\"",
    ]);
    assert_code(&out, 0);
    assert_eq!(message_lines(&out).len(), 1, "{}", stdout(&out));
}
