//! Mailbox storage against the real file system: Maildir and mbox on a
//! full disk (a small tmpfs), mboxrd quoting read back, and the mbox's
//! `fcntl` lock against another process's POSIX lock.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, UNIX_EPOCH};

use mailkit::ExitStatus;
use mailkit::store::{LineEnds, Maildir, Mbox};

#[path = "support/small_disk.rs"]
mod small_disk;
use small_disk::small_disk;

fn entries(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// A message far bigger than the small disk.
fn big_message() -> Vec<u8> {
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    while message.len() < 512 * 1024 {
        message.extend_from_slice(b"From the start, a line of a long body.\r\n");
    }
    message
}

fn assert_storage_error(status: ExitStatus) {
    assert!(
        matches!(status, ExitStatus::CantCreate | ExitStatus::IoErr),
        "{status:?}"
    );
}

#[test]
fn maildir_on_a_full_disk_keeps_new_and_tmp_clean() {
    let Some(disk) = small_disk("maildir_on_a_full_disk_keeps_new_and_tmp_clean") else {
        return;
    };
    let root = disk.path().join("Maildir");
    let maildir = Maildir::open_or_create(&root).unwrap();
    let error = maildir.deliver(&mut &big_message()[..]).unwrap_err();
    assert_storage_error(error.status());
    assert!(error.to_string().contains("No space left"), "{error}");
    assert!(entries(&root.join("new")).is_empty());
    assert!(entries(&root.join("tmp")).is_empty());
    // The space of the removed file is free again.
    let path = maildir
        .deliver(&mut &b"Subject: small\r\n\r\nok\r\n"[..])
        .unwrap();
    assert_eq!(fs::read(path).unwrap(), b"Subject: small\n\nok\n");
}

#[test]
fn mbox_on_a_full_disk_is_truncated_back() {
    let Some(disk) = small_disk("mbox_on_a_full_disk_is_truncated_back") else {
        return;
    };
    let path = disk.path().join("mbox");
    let mut mbox = Mbox::open(&path).unwrap();
    mbox.append(
        "a@example.org",
        UNIX_EPOCH,
        &mut &b"Subject: one\r\n\r\n1\r\n"[..],
    )
    .unwrap();
    let before = fs::read(&path).unwrap();
    let error = mbox
        .append("b@example.org", UNIX_EPOCH, &mut &big_message()[..])
        .unwrap_err();
    assert_storage_error(error.status());
    assert_eq!(fs::read(&path).unwrap(), before);
    assert!(!disk.path().join("mbox.lock").exists());
    mbox.append(
        "c@example.org",
        UNIX_EPOCH,
        &mut &b"Subject: three\r\n\r\n3\r\n"[..],
    )
    .unwrap();
    assert_eq!(read_mbox(&fs::read(&path).unwrap()).len(), 2);
}

#[test]
fn a_maildir_that_cannot_be_created_is_73() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("file"), b"").unwrap();
    let error = Maildir::open_or_create(&dir.path().join("file/Maildir")).unwrap_err();
    assert_eq!(error.status(), ExitStatus::CantCreate);
    let error = Mbox::open(&dir.path().join("file/mbox")).err().unwrap();
    assert_eq!(error.status(), ExitStatus::CantCreate);
}

/// An mboxrd reader, as simple as can be: a `From ` line after a blank
/// line (or first) starts a message, `>+From ` loses one `>`, and the
/// blank line before the next separator is not part of the message.
fn read_mbox(mbox: &[u8]) -> Vec<Vec<u8>> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut previous_blank = true;
    for line in mbox.split_inclusive(|&b| b == b'\n') {
        if previous_blank && line.starts_with(b"From ") {
            if let Some(last) = messages.last_mut() {
                last.pop();
            }
            messages.push(Vec::new());
        } else {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            let unquoted = match quotes > 0 && line[quotes..].starts_with(b"From ") {
                true => &line[1..],
                false => line,
            };
            messages.last_mut().unwrap().extend_from_slice(unquoted);
        }
        previous_blank = line == b"\n";
    }
    if let Some(last) = messages.last_mut() {
        last.pop();
    }
    messages
}

#[test]
fn mboxrd_quoting_reads_back_exactly() {
    let messages: [&[u8]; 4] = [
        b"Subject: a\n\nFrom here\n>From there\n>>From everywhere\nFrom\n",
        b"Subject: b\n\n\nFrom \n>>>>From x\n >From y\nno final line end",
        b"",
        b"From the first line\n\n\n",
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mbox");
    let mut mbox = Mbox::open(&path).unwrap();
    for message in messages {
        mbox.append("s@example.org", UNIX_EPOCH, &mut &message[..])
            .unwrap();
    }
    let stored = fs::read(&path).unwrap();
    let text = String::from_utf8_lossy(&stored);
    assert!(text.contains("\n>From here\n>>From there\n>>>From everywhere\nFrom\n"));
    let read = read_mbox(&stored);
    assert_eq!(read.len(), messages.len(), "{text}");
    for (got, sent) in read.iter().zip(messages) {
        let mut expected = sent.to_vec();
        if !expected.is_empty() && !expected.ends_with(b"\n") {
            expected.push(b'\n');
        }
        assert_eq!(
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(&expected)
        );
    }
}

#[test]
fn mbox_line_ends_converted_or_kept() {
    let dir = tempfile::tempdir().unwrap();
    let message = b"A: b\r\n\r\nFrom x\r\nbare\rcr\r\n";
    let lf = dir.path().join("lf");
    Mbox::open(&lf)
        .unwrap()
        .append("s", UNIX_EPOCH, &mut &message[..])
        .unwrap();
    let stored = fs::read(&lf).unwrap();
    assert!(stored.ends_with(b"\n>From x\nbare\rcr\n\n"));
    assert_eq!(read_mbox(&stored), [b"A: b\n\nFrom x\nbare\rcr\n".to_vec()]);
    let kept = dir.path().join("kept");
    Mbox::open(&kept)
        .unwrap()
        .with_line_ends(LineEnds::Keep)
        .append("s", UNIX_EPOCH, &mut &message[..])
        .unwrap();
    assert_eq!(read_mbox(&fs::read(&kept).unwrap()), [message.to_vec()]);
}

/// Another process holding a POSIX `fcntl` write lock on `path` (Python's
/// `fcntl.lockf`, as other mail programs take it) for `seconds`; returns
/// once the lock is held. `None` when python3 is missing.
fn foreign_lock(path: &Path, seconds: f64) -> Option<Child> {
    let script = "import fcntl, sys, time\n\
                  f = open(sys.argv[1], 'a')\n\
                  fcntl.lockf(f, fcntl.LOCK_EX)\n\
                  print('locked', flush=True)\n\
                  time.sleep(float(sys.argv[2]))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(seconds.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| eprintln!("SKIPPED: python3 is needed as the other locker: {e}"))
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "locked\n");
    Some(child)
}

#[test]
fn another_process_fcntl_lock_makes_the_append_wait_or_fail() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mbox");
    let Some(mut holder) = foreign_lock(&path, 2.0) else {
        return;
    };
    let mut impatient = Mbox::open(&path)
        .unwrap()
        .with_lock_wait(Duration::from_millis(300));
    let error = impatient
        .append("s", UNIX_EPOCH, &mut &b"x\n"[..])
        .unwrap_err();
    assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
    assert!(error.to_string().contains("fcntl"), "{error}");
    assert!(!dir.path().join("mbox.lock").exists());
    assert_eq!(fs::read(&path).unwrap(), b"");

    let mut patient = Mbox::open(&path)
        .unwrap()
        .with_lock_wait(Duration::from_secs(20));
    let started = Instant::now();
    patient.append("s", UNIX_EPOCH, &mut &b"x\n"[..]).unwrap();
    assert!(started.elapsed() > Duration::from_millis(500));
    holder.wait().unwrap();
    assert_eq!(read_mbox(&fs::read(&path).unwrap()), [b"x\n".to_vec()]);
}
