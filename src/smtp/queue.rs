//! The outgoing queue of `smtp-send --queue DIR` (a Maildir-style spool):
//! each entry is one file holding its envelope (one JSON line) and the
//! message, written into `tmp/`, synced, and renamed into `new/`, the
//! directory synced after ([`crate::store::durable`]), so that an entry is
//! either whole or absent.
//! `--flush` takes an exclusive lock, so two flushes never send one entry
//! twice.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::store::durable::{self, Publish, sync_dir};

/// The envelope of a queued message and its delivery history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEnvelope {
    /// MAIL FROM.
    pub sender: String,
    /// Recipients still to deliver to.
    pub recipients: Vec<String>,
    /// When it was queued (seconds since the epoch).
    pub created: u64,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not to be tried before this time (seconds since the epoch).
    pub next_attempt: u64,
    /// The last temporary failure, for reports.
    pub last_error: Option<String>,
}

/// A queued message.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its file in `new/`.
    pub path: PathBuf,
    /// Its envelope.
    pub envelope: QueuedEnvelope,
}

/// A spool directory.
pub struct Queue {
    dir: PathBuf,
}

/// Held while flushing.
pub struct QueueLock {
    _file: File,
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Exponential back-off after `attempts` failures: 5 minutes, doubling,
/// at most 4 hours.
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 5u64.saturating_mul(1 << attempts.saturating_sub(1).min(6));
    Duration::from_secs(minutes.min(240) * 60)
}

impl Queue {
    /// The spool in `dir`, created (with `tmp/` and `new/`) if missing.
    pub fn open(dir: &Path) -> Result<Queue, Error> {
        for sub in ["tmp", "new"] {
            fs::create_dir_all(dir.join(sub)).map_err(|e| {
                Error::new(
                    ErrorKind::CannotCreate,
                    format!("queue {}: {e}", dir.display()),
                )
            })?;
        }
        Ok(Queue {
            dir: dir.to_path_buf(),
        })
    }

    /// Queues a message durably; returns its file.
    pub fn add(&self, envelope: &QueuedEnvelope, message: &mut dyn Read) -> Result<PathBuf, Error> {
        let name = format!(
            "{}.{}.{}",
            now(),
            std::process::id(),
            crate::random::hex(16)
        );
        self.write_entry(&name, envelope, message)
    }

    fn write_entry(
        &self,
        name: &str,
        envelope: &QueuedEnvelope,
        message: &mut dyn Read,
    ) -> Result<PathBuf, Error> {
        let tmp = self.dir.join("tmp").join(name);
        let target = self.dir.join("new").join(name);
        durable::write_new(&tmp, &target, Publish::Replace, |file| {
            serde_json::to_writer(&mut *file, envelope)?;
            file.write_all(b"\n")?;
            io::copy(message, file)?;
            Ok(())
        })
        .map_err(|failure| {
            Error::new(
                ErrorKind::CannotCreate,
                format!("queueing into {}: {}", self.dir.display(), failure.error),
            )
        })?;
        Ok(target)
    }

    /// Takes the flush lock, or fails with 75 when another flush holds it.
    pub fn lock(&self) -> Result<QueueLock, Error> {
        let path = self.dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::new(ErrorKind::CannotCreate, format!("{}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(QueueLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(Error::new(
                ErrorKind::Deferred,
                format!("another flush of {} is running", self.dir.display()),
            )),
            Err(fs::TryLockError::Error(e)) => Err(Error::new(
                ErrorKind::LocalIo,
                format!("locking {}: {e}", path.display()),
            )),
        }
    }

    /// Every queued entry, oldest first. An unreadable entry is skipped
    /// with its error in the second list.
    pub fn entries(&self) -> Result<(Vec<Entry>, Vec<String>), Error> {
        let dir = self.dir.join("new");
        let listing = fs::read_dir(&dir)
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", dir.display())))?;
        let mut paths: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut entries = Vec::new();
        let mut problems = Vec::new();
        for path in paths {
            match read_envelope(&path) {
                Ok(envelope) => entries.push(Entry { path, envelope }),
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        Ok((entries, problems))
    }

    /// The message of an entry (after its envelope line).
    pub fn message(&self, entry: &Entry) -> Result<Box<dyn Read>, Error> {
        let file = File::open(&entry.path).map_err(|e| {
            Error::new(ErrorKind::LocalIo, format!("{}: {e}", entry.path.display()))
        })?;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::new(ErrorKind::LocalIo, e.to_string()))?;
        Ok(Box::new(reader))
    }

    /// Replaces an entry's envelope (the message is copied into a new file
    /// that atomically takes the old one's place).
    pub fn update(&self, entry: &Entry, envelope: &QueuedEnvelope) -> Result<(), Error> {
        let name = entry
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("entry")
            .to_string();
        let mut message = self.message(entry)?;
        let tmp_name = format!("{name}.{}", crate::random::hex(8));
        let written = self.write_entry(&tmp_name, envelope, &mut message)?;
        fs::rename(&written, &entry.path)
            .and_then(|()| sync_dir(&self.dir.join("new")))
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", entry.path.display())))
    }

    /// Removes a finished entry.
    pub fn remove(&self, entry: &Entry) -> Result<(), Error> {
        fs::remove_file(&entry.path)
            .and_then(|()| sync_dir(&self.dir.join("new")))
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", entry.path.display())))
    }
}

fn read_envelope(path: &Path) -> io::Result<QueuedEnvelope> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    serde_json::from_str(&line).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    fn envelope() -> QueuedEnvelope {
        QueuedEnvelope {
            sender: "a@example.org".into(),
            recipients: vec!["b@example.org".into()],
            // Fixed, so that two calls give equal envelopes.
            created: 1_700_000_000,
            attempts: 0,
            next_attempt: 0,
            last_error: None,
        }
    }

    #[test]
    fn add_list_update_remove() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let path = queue
            .add(&envelope(), &mut &b"Subject: x\r\n\r\nbody\r\n"[..])
            .unwrap();
        assert!(path.starts_with(dir.path().join("new")));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        let (entries, problems) = queue.entries().unwrap();
        assert!(problems.is_empty());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].envelope, envelope());
        let mut message = Vec::new();
        queue
            .message(&entries[0])
            .unwrap()
            .read_to_end(&mut message)
            .unwrap();
        assert_eq!(message, b"Subject: x\r\n\r\nbody\r\n");
        let mut later = envelope();
        later.attempts = 3;
        queue.update(&entries[0], &later).unwrap();
        let (entries, _) = queue.entries().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].envelope.attempts, 3);
        let mut again = Vec::new();
        queue
            .message(&entries[0])
            .unwrap()
            .read_to_end(&mut again)
            .unwrap();
        assert_eq!(again, message);
        queue.remove(&entries[0]).unwrap();
        assert!(queue.entries().unwrap().0.is_empty());
    }

    #[test]
    fn one_flush_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let held = queue.lock().unwrap();
        assert_eq!(queue.lock().err().unwrap().status(), ExitStatus::TempFail);
        drop(held);
        assert!(queue.lock().is_ok());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(300));
        assert_eq!(backoff(2), Duration::from_secs(600));
        assert_eq!(backoff(30), Duration::from_secs(4 * 3600));
    }
}
