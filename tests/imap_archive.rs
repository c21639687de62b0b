//! Download-and-keep archiving (`mailkit::imap::archive`, the library of
//! `imap-list --new`) against a real Dovecot on loopback: each run stores
//! only what no earlier run stored, folder by folder, into a Maildir or
//! an mbox; a changed UIDVALIDITY stores no duplicate; the server's
//! messages and flags stay as they were; a run killed with SIGKILL at any
//! point and the runs after it store every message exactly once.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::dovecot::Dovecot;
use mailkit::error::{Error, ErrorKind};
use mailkit::imap::archive::{self, Destination, Event, Options, Summary};
use mailkit::imap::session::Session;
use mailkit::net::connection::{TlsMode, TlsSettings};
use mailkit::net::credentials::Secret;
use mailkit::net::session::{Endpoint, Login, Negotiation, negotiate};
use mailkit::net::transcript::Transcript;
use mailkit::store::Maildir;
use mailkit::store::folder_state::{Entry, FolderState};

/// A message with a Message-ID made of `tag` and `n`, and `body_len`
/// octets of body.
fn message(tag: &str, n: usize, body_len: usize) -> Vec<u8> {
    let mut text = format!(
        "From: Bob <bob@example.test>\nTo: alice@example.test\n\
         Subject: {tag} {n}\nMessage-ID: <{tag}.{n}@example.test>\n\n"
    )
    .into_bytes();
    let line = format!("line of {tag} {n} .........................................\n");
    while text.len() < body_len {
        text.extend_from_slice(line.as_bytes());
    }
    text
}

/// A session logged in as alice over STARTTLS.
fn session(dovecot: &Dovecot) -> Session {
    connect(dovecot.imap, &dovecot.cert)
}

/// A session logged in as alice over STARTTLS to `port` on 127.0.0.1,
/// trusting `cafile`.
fn connect(port: u16, cafile: &Path) -> Session {
    let login = Login {
        user: "alice".into(),
        secret: Secret::new("alicepw".into()),
        oauth: false,
    };
    let endpoint = Endpoint {
        host: "127.0.0.1".into(),
        port,
        tls: TlsMode::StartTls,
        certificate: TlsSettings {
            cafile: Some(cafile.to_path_buf()),
            ..TlsSettings::default()
        },
        tls_name: None,
        timeout: Duration::from_secs(20),
        login: Some(login),
        allow_plaintext_auth: false,
    };
    let transcript = Transcript::off();
    let mut session: Session = negotiate(&endpoint, &(), transcript, &mut Negotiation::default())
        .expect("negotiate")
        .expect("a session");
    session
        .login(endpoint.login.as_ref().unwrap())
        .expect("login");
    session
}

/// The Maildir++ directory of `folder` (`INBOX` is the Maildir itself),
/// created with its three subdirectories, owned as the Maildir is.
fn folder_dir(dovecot: &Dovecot, folder: &str) -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let maildir = dovecot.maildir("alice");
    if folder == "INBOX" {
        return maildir;
    }
    let owner = std::fs::metadata(&maildir).expect("the Maildir");
    let dir = maildir.join(format!(".{folder}"));
    for sub in ["", "cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::os::unix::fs::chown(dir.join(sub), Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    dir
}

/// Puts messages into a folder's `new/` as if delivered, numbered from
/// `first` under a name that orders them.
fn put(dovecot: &Dovecot, folder: &str, first: usize, messages: &[Vec<u8>]) {
    if folder == "INBOX" {
        dovecot.deposit_many("alice", messages.iter().map(Vec::as_slice));
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = folder_dir(dovecot, folder);
    let owner = std::fs::metadata(&dir).unwrap();
    for (i, m) in messages.iter().enumerate() {
        let path = dir.join(format!("new/{}.M{}P1.test", 1_700_000_000 + first + i, i));
        std::fs::write(&path, m).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}

/// What one run reported.
#[derive(Debug, Default)]
struct Reported {
    /// `folder uid status` per message.
    handled: Vec<String>,
    /// (folder, messages, octets) per folder started.
    started: Vec<(String, u64, u64)>,
    /// UIDVALIDITY changes: (folder, old, new).
    changed: Vec<(String, Option<u32>, u32)>,
}

/// One archive run of `folders` into `destination` with the state at
/// `state`, in a session of its own, logged out after.
fn run(
    dovecot: &Dovecot,
    folders: &[&str],
    destination: &mut Destination,
    state: &Path,
) -> Result<(Summary, Reported), Error> {
    let mut session = session(dovecot);
    let mut state = FolderState::open(state)?;
    let wire: Vec<Vec<u8>> = folders.iter().map(|f| session.wire_name(f)).collect();
    let mut reported = Reported::default();
    let mut observe = |event: Event<'_>| match event {
        Event::Handled(r) => {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!(json["record"], "message");
            reported
                .handled
                .push(format!("{} {} {}", r.folder, r.uid, r.status));
        }
        Event::FolderStarted {
            folder,
            messages,
            octets,
        } => reported
            .started
            .push((folder.to_string(), messages, octets)),
        Event::UidValidityChanged { folder, old, new } => {
            reported.changed.push((folder.to_string(), old, new))
        }
    };
    let summary = archive::archive(
        &mut session,
        &wire,
        destination,
        &mut state,
        &Options::default(),
        &mut observe,
    )?;
    session.logout().expect("LOGOUT");
    Ok((summary, reported))
}

/// The messages of an archive Maildir (`new/` and `cur/`), sorted.
fn archived(dir: &Path) -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for sub in ["new", "cur"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            all.push(std::fs::read(entry.path()).unwrap());
        }
    }
    all.sort();
    all
}

fn sorted(mut messages: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    messages.sort();
    messages
}

/// Each Maildir file name without its flags (Dovecot moves `new/` to
/// `cur/` when it opens a folder, adding `:2,`) with the flags and the
/// bytes: what must not change.
fn server_messages(dovecot: &Dovecot) -> BTreeMap<String, (String, Vec<u8>)> {
    dovecot
        .mail_files("alice")
        .into_iter()
        .map(|(path, bytes)| {
            let name = path.split_once('/').unwrap().1;
            let (base, flags) = name.split_once(":2,").unwrap_or((name, ""));
            (base.to_string(), (flags.to_string(), bytes))
        })
        .collect()
}

/// The INBOX's UIDs with their flags, `\Recent` included, as a session
/// of its own sees them.
fn flags_seen_from_another_session(dovecot: &Dovecot) -> Vec<(u64, Vec<String>)> {
    use mailkit::imap::response::{Value, fetch_item};
    let mut probe = session(dovecot);
    probe.examine(b"INBOX").unwrap();
    let fetched = probe.uid_fetch("1:*", "(UID FLAGS)").unwrap();
    probe.logout().unwrap();
    let mut flags: Vec<(u64, Vec<String>)> = fetched
        .iter()
        .map(|f| {
            let uid = fetch_item(&f.items, "UID").and_then(Value::as_number);
            let list = fetch_item(&f.items, "FLAGS").and_then(Value::as_atoms);
            let mut list: Vec<String> = list.unwrap().into_iter().map(String::from).collect();
            list.sort();
            (uid.unwrap(), list)
        })
        .collect();
    flags.sort();
    flags
}

#[test]
fn each_run_stores_only_what_no_earlier_run_stored_and_the_server_is_unchanged() {
    let dovecot = Dovecot::start();
    let first: Vec<Vec<u8>> = (1..=3).map(|n| message("inbox", n, 300)).collect();
    put(&dovecot, "INBOX", 1, &first);
    let before = server_messages(&dovecot);
    let flags_before = flags_seen_from_another_session(&dovecot);
    // \Recent stays with a message until a session that may change the
    // folder has seen it: EXAMINE and BODY.PEEK leave it.
    assert!(
        flags_before.iter().all(|(_, f)| f == &["\\Recent"]),
        "{flags_before:?}"
    );
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state = scratch.path().join("state/imap-alice");
    let mut maildir = Destination::Maildir(Maildir::open_or_create(&dest).unwrap());

    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    assert_eq!((summary.folders, summary.fetched), (1, 3), "{reported:?}");
    let octets: u64 = first
        .iter()
        .map(|m| (m.len() + m.iter().filter(|&&b| b == b'\n').count()) as u64)
        .sum();
    assert_eq!(reported.started, [("INBOX".to_string(), 3, octets)]);
    assert_eq!(summary.bytes, octets, "RFC822.SIZE counts CRLF");
    assert_eq!(archived(&dest), sorted(first.clone()));
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["record"], "summary");
    assert_eq!(json["fetched"], 3);

    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    assert_eq!(summary.fetched, 0, "{reported:?}");
    assert!(reported.handled.is_empty());
    assert_eq!(reported.started, [("INBOX".to_string(), 0, 0)]);

    assert_eq!(flags_seen_from_another_session(&dovecot), flags_before);
    let after = server_messages(&dovecot);
    assert_eq!(before.len(), 3);
    for (name, (flags, bytes)) in &before {
        let (flags_now, bytes_now) = &after[name];
        assert_eq!(flags_now.trim_end_matches(':'), flags.as_str(), "{name}");
        assert!(!flags_now.contains('S'), "{name} marked \\Seen");
        assert_eq!(bytes_now, bytes);
    }

    // UID 4 given and expunged: UIDNEXT says something came, and
    // `UID SEARCH UID 4:*` answers 3, the highest UID (RFC 3501 §6.4.8).
    let expunged = dovecot.deposit("alice", &message("expunged", 4, 100));
    let mut probe = session(&dovecot);
    assert_eq!(probe.examine(b"INBOX").unwrap().uid_next, Some(5));
    probe.logout().unwrap();
    let name = expunged.file_name().unwrap().to_str().unwrap();
    for (path, _) in dovecot.mail_files("alice") {
        if path.contains(name) {
            std::fs::remove_file(dovecot.maildir("alice").join(path)).unwrap();
        }
    }
    let mut probe = session(&dovecot);
    probe.examine(b"INBOX").unwrap();
    assert_eq!(probe.uid_search("UID 4:*").unwrap(), [3]);
    probe.logout().unwrap();
    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    assert_eq!(summary.fetched, 0, "{reported:?}");

    let more: Vec<Vec<u8>> = (5..=6).map(|n| message("inbox", n, 300)).collect();
    put(&dovecot, "INBOX", 5, &more);
    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    assert_eq!(summary.fetched, 2, "{reported:?}");
    assert_eq!(reported.handled, ["INBOX 5 stored", "INBOX 6 stored"]);
    let all: Vec<Vec<u8>> = first.into_iter().chain(more).collect();
    assert_eq!(archived(&dest), sorted(all));
    assert_eq!(std::fs::read_dir(dest.join("tmp")).unwrap().count(), 0);
}

#[test]
fn two_folders_a_20_mib_message_and_a_missing_folder() {
    let dovecot = Dovecot::start();
    let inbox: Vec<Vec<u8>> = (1..=2).map(|n| message("in", n, 200)).collect();
    put(&dovecot, "INBOX", 1, &inbox);
    let large = message("large", 1, 20 << 20);
    let other = vec![message("other", 1, 100), large.clone()];
    put(&dovecot, "Entw&APw-rfe", 1, &other);
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state = scratch.path().join("state");
    let mut maildir = Destination::Maildir(Maildir::open_or_create(&dest).unwrap());

    let (summary, reported) = run(&dovecot, &["INBOX", "Entwürfe"], &mut maildir, &state).unwrap();
    assert_eq!((summary.folders, summary.fetched), (2, 4), "{reported:?}");
    assert_eq!(reported.started[1].0, "Entwürfe");
    assert!(reported.started[1].2 > 20 << 20);
    let all: Vec<Vec<u8>> = inbox.into_iter().chain(other).collect();
    assert_eq!(archived(&dest), sorted(all.clone()));

    // One new message in each; the missing folder comes last: 67, after
    // the others are stored.
    put(&dovecot, "INBOX", 3, &[message("in", 3, 200)]);
    put(&dovecot, "Entw&APw-rfe", 3, &[message("other", 3, 200)]);
    let error = run(
        &dovecot,
        &["INBOX", "Entwürfe", "Nowhere"],
        &mut maildir,
        &state,
    )
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoSuchRecipient, "{error}");
    assert_eq!(archived(&dest).len(), 6);
    let (summary, _) = run(&dovecot, &["INBOX", "Entwürfe"], &mut maildir, &state).unwrap();
    assert_eq!(summary.fetched, 0);
}

#[test]
fn all_folders_skips_those_that_cannot_be_selected() {
    let dovecot = Dovecot::start();
    // `.a.b` without `.a`: `a` is listed, \Noselect (or \NonExistent).
    put(&dovecot, "a.b", 1, &[message("nested", 1, 100)]);
    put(&dovecot, "INBOX", 1, &[message("in", 1, 100)]);
    let mut session = session(&dovecot);
    let listed = session.list().unwrap();
    let a = listed.iter().find(|f| f.name == b"a");
    assert!(a.is_some_and(|a| !a.selectable()), "{listed:?}");
    let folders = archive::selectable_folders(&mut session).unwrap();
    assert!(folders.contains(&b"INBOX".to_vec()) && folders.contains(&b"a.b".to_vec()));
    assert!(!folders.contains(&b"a".to_vec()), "{folders:?}");
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let mut state = FolderState::open(&scratch.path().join("state")).unwrap();
    let mut maildir = Destination::Maildir(Maildir::open_or_create(&dest).unwrap());
    let summary = archive::archive(
        &mut session,
        &folders,
        &mut maildir,
        &mut state,
        &Options::default(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!((summary.folders, summary.fetched), (2, 2));
}

/// Makes Dovecot forget the INBOX's UIDs: a new UIDVALIDITY when it next
/// opens the folder.
fn forget_uids(dovecot: &Dovecot) {
    let maildir = dovecot.maildir("alice");
    for entry in std::fs::read_dir(&maildir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "dovecot-uidlist" || name.starts_with("dovecot.index") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
}

#[test]
fn a_changed_uidvalidity_is_reported_and_stores_no_duplicate() {
    let dovecot = Dovecot::start();
    let no_id = b"From: x@example.test\nSubject: no id\n\nbody\n".to_vec();
    let mut first: Vec<Vec<u8>> = (1..=3).map(|n| message("uv", n, 200)).collect();
    first.push(no_id.clone());
    put(&dovecot, "INBOX", 1, &first);
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state = scratch.path().join("state");
    let mut maildir = Destination::Maildir(Maildir::open_or_create(&dest).unwrap());
    let old = session(&dovecot).examine(b"INBOX").unwrap().uid_validity;
    run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();

    forget_uids(&dovecot);
    std::thread::sleep(Duration::from_millis(1100));
    // New: another message, and one with the Message-ID of the first but
    // another size.
    let new = vec![message("uv", 4, 200), message("uv", 1, 400)];
    put(&dovecot, "INBOX", 5, &new);
    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    let now = session(&dovecot).examine(b"INBOX").unwrap().uid_validity;
    assert_ne!(old, now, "Dovecot kept its UIDVALIDITY");
    assert_eq!(reported.changed, [("INBOX".to_string(), Some(old), now)]);
    // The message without a Message-ID cannot be told from another one
    // of its size: stored again rather than risk losing one.
    assert_eq!(
        (summary.fetched, summary.duplicates),
        (3, 3),
        "{reported:?}"
    );
    assert_eq!(reported.started[0].1, 3);
    let all: Vec<Vec<u8>> = first.into_iter().chain(new).chain([no_id]).collect();
    assert_eq!(archived(&dest), sorted(all));

    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state).unwrap();
    assert!(reported.changed.is_empty());
    assert_eq!(
        (summary.fetched, summary.duplicates),
        (0, 0),
        "{reported:?}"
    );
}

#[test]
fn a_message_recorded_in_tmp_by_a_killed_run_is_delivered_not_fetched_again() {
    let dovecot = Dovecot::start();
    let messages: Vec<Vec<u8>> = (1..=2).map(|n| message("tmp", n, 200)).collect();
    put(&dovecot, "INBOX", 1, &messages);
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state_path = scratch.path().join("state");
    let mut probe = session(&dovecot);
    let uid_validity = probe.examine(b"INBOX").unwrap().uid_validity;
    let uids = probe.uid_search("ALL").unwrap();
    probe.logout().unwrap();
    // What a run killed between its record and the link into new/
    // leaves: the first message in tmp/ under the name recorded.
    let mut maildir = Destination::Maildir(Maildir::open_or_create(&dest).unwrap());
    let name = mailkit::store::maildir::unique_name();
    std::fs::write(dest.join("tmp").join(&name), &messages[0]).unwrap();
    let mut state = FolderState::open(&state_path).unwrap();
    state.begin(b"INBOX", uid_validity).unwrap();
    let entry = Entry {
        folder: b"INBOX".to_vec(),
        uid_validity,
        uid: uids[0],
        size: messages[0].len() as u64 + 7,
        message_id: Some(b"<tmp.1@example.test>".to_vec()),
    };
    state.record(&[(&entry, Some(&name))]).unwrap();
    drop(state);

    let (summary, reported) = run(&dovecot, &["INBOX"], &mut maildir, &state_path).unwrap();
    assert_eq!(reported.handled, [format!("INBOX {} stored", uids[1])]);
    assert_eq!(summary.fetched, 1);
    assert_eq!(archived(&dest), sorted(messages));
    assert!(dest.join("new").join(&name).exists());
    assert_eq!(std::fs::read_dir(dest.join("tmp")).unwrap().count(), 0);
}

#[test]
fn an_mbox_archive_appends_each_message_once() {
    let dovecot = Dovecot::start();
    let first: Vec<Vec<u8>> = (1..=3).map(|n| message("mbox", n, 200)).collect();
    put(&dovecot, "INBOX", 1, &first);
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("archive.mbox");
    let state = scratch.path().join("state");
    let mut mbox = Destination::Mbox(path.clone());
    let (summary, _) = run(&dovecot, &["INBOX"], &mut mbox, &state).unwrap();
    assert_eq!(summary.fetched, 3);
    let (summary, _) = run(&dovecot, &["INBOX"], &mut mbox, &state).unwrap();
    assert_eq!(summary.fetched, 0);
    put(&dovecot, "INBOX", 4, &[message("mbox", 4, 200)]);
    let (summary, _) = run(&dovecot, &["INBOX"], &mut mbox, &state).unwrap();
    assert_eq!(summary.fetched, 1);
    let text = std::fs::read(&path).unwrap();
    let expected: Vec<u8> = (1..=4)
        .flat_map(|n| {
            let mut m = message("mbox", n, 200);
            m.push(b'\n');
            m
        })
        .collect();
    assert_eq!(without_separators(&text), expected);
}

/// An mbox without its `From ` separator lines.
fn without_separators(text: &[u8]) -> Vec<u8> {
    text.split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"From "))
        .flatten()
        .copied()
        .collect()
}

#[test]
fn one_run_at_a_time_per_state() {
    let scratch = tempfile::tempdir().unwrap();
    let state = scratch.path().join("state");
    let held = FolderState::open(&state).unwrap();
    let error = FolderState::open(&state).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Deferred);
    assert_eq!(error.status().code(), 75);
    drop(held);
    // Another test's thread may fork while the lock is held: its child
    // shares the lock's file until it execs, so the lock can outlive the
    // drop by that long.
    let free = (0..100).any(|_| {
        FolderState::open(&state).is_ok() || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            false
        }
    });
    assert!(free, "the lock was still held 2 s after the run ended");
}

// SIGKILL at many points. The runs to kill are this test binary itself,
// running `archive_run_for_a_parent` (a child's settings in the
// environment), so that the library is killed as the tool would be.

/// The environment variable that makes `archive_run_for_a_parent` run:
/// `PORT|CAFILE|maildir or mbox|DESTINATION|STATE`.
const CHILD: &str = "MAILKIT_TEST_ARCHIVE_CHILD";

#[test]
#[ignore = "a child of the SIGKILL tests, which set its environment"]
fn archive_run_for_a_parent() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let fields: Vec<&str> = spec.split('|').collect();
    let [port, cafile, kind, dest, state] = fields[..] else {
        panic!("bad {CHILD}: {spec}");
    };
    let mut session = connect(port.parse().unwrap(), Path::new(cafile));
    let mut destination = match kind {
        "maildir" => Destination::Maildir(Maildir::open_or_create(Path::new(dest)).unwrap()),
        _ => Destination::Mbox(dest.into()),
    };
    let mut state = FolderState::open(Path::new(state)).unwrap();
    let mut observe = |event: Event<'_>| {
        if let Event::Handled(r) = event {
            eprintln!("handled {} {}", r.uid, r.status);
        }
    };
    let folders = [b"INBOX".to_vec(), b"Second".to_vec()];
    archive::archive(
        &mut session,
        &folders,
        &mut destination,
        &mut state,
        &Options::default(),
        &mut observe,
    )
    .unwrap();
    eprintln!("finished");
}

/// Runs `archive_run_for_a_parent` for `spec`, killed with SIGKILL after
/// `delay` (unless it finished before); what it wrote on stderr when it
/// finished.
fn run_child(spec: &str, delay: Option<Duration>) -> Option<String> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "archive_run_for_a_parent",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(status.success(), "the child failed: {err}");
            assert!(err.contains("finished"), "{err}");
            return Some(err);
        }
        let due = delay.is_some_and(|d| started.elapsed() >= d);
        if due || started.elapsed() > Duration::from_secs(120) {
            // Our own child, not yet reaped: SIGKILL.
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
}

/// The messages of the kill tests: INBOX and `Second`, some large
/// enough to be caught in the middle.
fn kill_test_messages(dovecot: &Dovecot) -> Vec<Vec<u8>> {
    let inbox: Vec<Vec<u8>> = (1..=30)
        .map(|n| message("kill", n, if n % 6 == 0 { 4 << 20 } else { 2000 }))
        .collect();
    let second: Vec<Vec<u8>> = (31..=45).map(|n| message("kill", n, 5000)).collect();
    put(dovecot, "INBOX", 1, &inbox);
    put(dovecot, "Second", 1, &second);
    inbox.into_iter().chain(second).collect()
}

/// Kills runs at delays spread over a whole run's time (each killed run
/// leaves work the next one finishes or does again), then lets one
/// finish, and one more; returns how many were killed.
fn kill_runs(spec: &str) -> usize {
    let started = Instant::now();
    // A first run to learn the time a whole run takes is not possible
    // (it would store everything): delays grow until a run finishes.
    let mut killed = 0;
    let mut interrupted = 0;
    let mut delay = Duration::from_millis(20);
    while run_child(spec, Some(delay)).is_none() {
        killed += 1;
        // A run killed while appending to an mbox leaves its dot-lock;
        // the next run sees that its process is gone and removes it.
        let fields: Vec<&str> = spec.split('|').collect();
        let state = FolderState::open(Path::new(fields[4])).unwrap();
        let tmp = std::fs::read_dir(Path::new(fields[3]).join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0);
        let records = std::fs::read_to_string(state.path())
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("m:") && !l.contains(" mbox:"))
            .count();
        let left = (records, state.appending().len(), tmp);
        eprintln!("killed after {delay:?}: (records, appends under way, files in tmp/) {left:?}");
        if left != (0, 0, 0) {
            interrupted += 1;
        }
        delay += Duration::from_millis(3 + (killed as u64 * 7) % 11);
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no run finished"
        );
    }
    assert!(
        interrupted >= 3,
        "only {interrupted} of {killed} runs were killed with work under way"
    );
    // One more, unkilled: nothing left to do.
    let last = run_child(spec, None).expect("a run that is not killed finishes");
    assert!(!last.contains("handled"), "{last}");
    killed
}

#[test]
fn sigkill_at_many_points_stores_each_message_once_in_a_maildir() {
    let dovecot = Dovecot::start();
    let messages = kill_test_messages(&dovecot);
    let before = server_messages(&dovecot);
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state = scratch.path().join("state");
    let spec = format!(
        "{}|{}|maildir|{}|{}",
        dovecot.imap,
        dovecot.cert.display(),
        dest.display(),
        state.display()
    );
    let killed = kill_runs(&spec);
    assert!(killed >= 10, "only {killed} runs killed");
    assert_eq!(archived(&dest), sorted(messages));
    assert_eq!(std::fs::read_dir(dest.join("tmp")).unwrap().count(), 0);
    let after = server_messages(&dovecot);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    assert!(after.values().all(|(flags, _)| !flags.contains('S')));
}

#[test]
fn sigkill_at_many_points_stores_each_message_once_in_an_mbox() {
    let dovecot = Dovecot::start();
    let messages = kill_test_messages(&dovecot);
    let scratch = tempfile::tempdir().unwrap();
    let path = scratch.path().join("archive.mbox");
    let state = scratch.path().join("state");
    let spec = format!(
        "{}|{}|mbox|{}|{}",
        dovecot.imap,
        dovecot.cert.display(),
        path.display(),
        state.display()
    );
    let killed = kill_runs(&spec);
    assert!(killed >= 10, "only {killed} runs killed");
    let expected: Vec<u8> = messages
        .into_iter()
        .flat_map(|mut m| {
            m.push(b'\n');
            m
        })
        .collect();
    let text = std::fs::read(&path).unwrap();
    assert!(
        without_separators(&text) == expected,
        "the mbox differs: {} octets, {} expected",
        text.len(),
        expected.len()
    );
}

/// The same against the tool: `imap-list --new`.
#[test]
fn imap_list_new_killed_and_run_again_stores_each_message_once() {
    let bin = env!("CARGO_BIN_EXE_imap-list");
    let dovecot = Dovecot::start();
    let messages = kill_test_messages(&dovecot);
    let scratch = tempfile::tempdir().unwrap();
    let dest = scratch.path().join("archive");
    let state = scratch.path().join("state");
    let password = scratch.path().join("password");
    std::fs::write(&password, "alicepw\n").unwrap();
    common::set_mode(&password, 0o600);
    let url = format!("imap://alice@127.0.0.1:{}", dovecot.imap);
    let args = [
        url.as_str(),
        "--cafile",
        dovecot.cert.to_str().unwrap(),
        "--password-file",
        password.to_str().unwrap(),
        "--new",
        "--maildir",
        dest.to_str().unwrap(),
        "--folder",
        "INBOX",
        "--folder",
        "Second",
        "--state",
        state.to_str().unwrap(),
    ];
    let mut killed = 0;
    let mut delay = Duration::from_millis(20);
    loop {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                break true;
            }
            if started.elapsed() >= delay {
                child.kill().unwrap();
                child.wait().unwrap();
                break false;
            }
            std::thread::sleep(Duration::from_micros(300));
        };
        if finished {
            break;
        }
        killed += 1;
        delay += Duration::from_millis(11);
    }
    assert!(killed >= 5, "only {killed} runs killed");
    assert_eq!(archived(&dest), sorted(messages));
}
