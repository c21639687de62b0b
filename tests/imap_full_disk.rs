//! imap-list on a full disk (a 64 KiB tmpfs): `--fetch` into a Maildir, an
//! mbox or stdout, and `--new`, each with a message larger than the disk.
//! The exit status is 74 with one clear line, and no half-written message
//! is left under a final name: nothing in the Maildir's `new/` or `tmp/`,
//! the mbox cut back to its last whole message, and the state of `--new`
//! recording only what was stored. (Needs root for the mount; without it
//! each test says SKIPPED.)

mod common;

#[path = "support/small_disk.rs"]
mod small_disk;

use std::path::Path;

use common::dovecot::Dovecot;
use common::{Scratch, code, run_tool, stderr};
use small_disk::small_disk;

const BIN: &str = env!("CARGO_BIN_EXE_imap-list");

/// A message of about 200 KiB, more than the small disk holds.
fn big_message() -> Vec<u8> {
    let mut message =
        b"From: big@example.test\nSubject: big\nMessage-ID: <big@example.test>\n\n".to_vec();
    for i in 0..4000 {
        message.extend_from_slice(
            format!("line {i:05} of a message too big for the disk\n").as_bytes(),
        );
    }
    message
}

const SMALL: &[u8] =
    b"From: small@example.test\nSubject: small\nMessage-ID: <small@example.test>\n\nhi\n";

/// Dovecot with alice's INBOX holding the small message (UID 1) and the
/// big one (UID 2), and the arguments that reach it.
fn server() -> (Dovecot, Scratch, Vec<String>) {
    let dovecot = Dovecot::start();
    dovecot.deposit_many("alice", [SMALL, big_message().as_slice()]);
    let scratch = Scratch::new();
    let password = scratch.path().join("password");
    std::fs::write(&password, "alicepw\n").unwrap();
    common::set_mode(&password, 0o600);
    let args = vec![
        format!("imaps://alice@127.0.0.1:{}/INBOX", dovecot.imaps),
        "--cafile".into(),
        dovecot.cert.to_str().unwrap().into(),
        "--password-file".into(),
        password.to_str().unwrap().into(),
    ];
    (dovecot, scratch, args)
}

fn run(base: &[String], extra: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = base.iter().map(String::as_str).collect();
    all.extend(extra);
    run_tool(BIN, &all, b"")
}

/// 74, one line naming the disk's trouble.
fn assert_full_disk(out: &std::process::Output) {
    let said = stderr(out);
    assert_eq!(code(out), 74, "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.starts_with("imap-list: error: "), "{said}");
    assert!(said.contains("No space left"), "{said}");
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

#[test]
fn a_fetch_into_a_full_maildir_leaves_no_file() {
    let Some(disk) = small_disk("a_fetch_into_a_full_maildir_leaves_no_file") else {
        return;
    };
    let (_dovecot, _scratch, args) = server();
    let maildir = disk.path().join("md");
    let out = run(
        &args,
        &["--fetch", "2", "--maildir", maildir.to_str().unwrap()],
    );
    assert_full_disk(&out);
    assert_eq!(entries(&maildir.join("new")), 0);
    assert_eq!(
        entries(&maildir.join("tmp")),
        0,
        "a half-written file stays in tmp/"
    );
}

#[test]
fn a_fetch_into_a_full_mbox_keeps_the_whole_messages_only() {
    let Some(disk) = small_disk("a_fetch_into_a_full_mbox_keeps_the_whole_messages_only") else {
        return;
    };
    let (_dovecot, _scratch, args) = server();
    let mbox = disk.path().join("mbox");
    let out = run(
        &args,
        &["--fetch", "1", "2", "--mbox", mbox.to_str().unwrap()],
    );
    assert_full_disk(&out);
    let kept = std::fs::read(&mbox).unwrap();
    let text = String::from_utf8_lossy(&kept);
    assert!(text.starts_with("From "), "{text}");
    assert!(
        text.contains("Subject: small\nMessage-ID: <small@example.test>\n\nhi\n"),
        "{text}"
    );
    assert!(
        !text.contains("Subject: big"),
        "part of the big message stayed"
    );
}

#[test]
fn a_fetch_to_a_full_stdout_is_74() {
    let Some(disk) = small_disk("a_fetch_to_a_full_stdout_is_74") else {
        return;
    };
    let (_dovecot, _scratch, args) = server();
    let target = disk.path().join("out.eml");
    let file = std::fs::File::create(&target).unwrap();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--fetch", "2"]);
    let out = std::process::Command::new(BIN)
        .args(&all)
        .stdout(file)
        .output()
        .unwrap();
    assert_full_disk(&out);
}

#[test]
fn new_on_a_full_disk_records_only_what_was_stored() {
    let Some(disk) = small_disk("new_on_a_full_disk_records_only_what_was_stored") else {
        return;
    };
    let (dovecot, scratch, args) = server();
    let maildir = disk.path().join("archive");
    let state = scratch.path().join("state");
    let new = [
        "--new",
        "--maildir",
        maildir.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    let out = run(&args, &new);
    assert_full_disk(&out);
    assert_eq!(
        entries(&maildir.join("tmp")),
        0,
        "a half-written file stays in tmp/"
    );
    let recorded = std::fs::read_to_string(&state).unwrap_or_default();
    assert!(!recorded.contains("<big@example.test>"), "{recorded}");
    // Room again: the next run stores what is missing, once each.
    drop(disk);
    let roomy = scratch.path().join("roomy");
    let again = [
        "--new",
        "--maildir",
        roomy.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ];
    let out = run(&args, &again);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stored: Vec<Vec<u8>> = std::fs::read_dir(roomy.join("new"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        stored.iter().any(|m| m == &big_message()),
        "the big message was not stored"
    );
    drop(dovecot);
}
