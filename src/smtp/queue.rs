//! The outgoing queue of `smtp-send --queue DIR` (a Maildir-style spool):
//! each entry is one file holding its envelope (one JSON line) and the
//! message, written into `tmp/`, synced, and renamed into `new/`, the
//! directory synced after ([`crate::store::durable`]), so that an entry is
//! either whole or absent. A changed envelope is written the same way and
//! renamed over the old entry, so that an entry is never there twice.
//! `--flush` takes an exclusive lock, so two flushes never send one entry
//! twice. While a flush sends an entry, the entry is in `cur/`: a flush
//! killed then leaves it there, and the next flush puts it back (see
//! [`Queue::recover`]): sent again, never lost, and said to be possibly
//! delivered twice, since no SMTP reply can tell whether the server took
//! a message whose end it may have received (RFC 5321 §6.1, RFC 1047). The spool directories are created 0700 and each entry 0600: a
//! queued message is nobody else's to read.
//!
//! Each entry records how it was to be sent ([`SendRoute`]: the server or
//! MX delivery, the TLS and certificate settings, the user and where the
//! password comes from, never the password), so that a flush sends it the
//! same way. Entries written before the route was recorded have none.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::output::printable;
use crate::smtp::Dsn;
use crate::store::durable::{self, Publish, sync_dir};
use crate::store::maildir;

/// The envelope of a queued message and its delivery history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
    /// How it was to be sent; `None` in entries written by versions that
    /// did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<SendRoute>,
    /// The DSN request it was sent with (`--notify`, `--ret`, `--envid`),
    /// repeated by a flush; `None` when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<Dsn>,
}

/// How a message was to be sent, as recorded in its queue entry: the
/// server URL or delivery straight to the recipients' MX hosts, the
/// connection and certificate settings, the user and the source of the
/// password (a file, a variable, a command or a netrc file), never the
/// password itself. Paths are absolute, so that a flush from another
/// directory (cron) finds the same files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendRoute {
    /// The server URL (`--server`); `None` for MX delivery.
    pub server: Option<String>,
    /// For MX delivery, the resolver (`--dns-server`).
    pub dns_server: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--tls`, by its command-line name.
    pub tls: Option<String>,
    /// `--cafile`.
    pub cafile: Option<PathBuf>,
    /// `--fingerprint`.
    pub fingerprint: Option<String>,
    /// `--insecure`.
    pub insecure: bool,
    /// `--user`.
    pub user: Option<String>,
    /// `--password-file`.
    pub password_file: Option<PathBuf>,
    /// `--password-env`: the variable's name.
    pub password_env: Option<String>,
    /// `--password-command`.
    pub password_command: Option<String>,
    /// `--netrc-file`.
    pub netrc_file: Option<PathBuf>,
    /// `--oauth`.
    pub oauth: bool,
    /// `--allow-plaintext-auth`.
    pub allow_plaintext_auth: bool,
}

impl SendRoute {
    /// The route as the options that give it, e.g. `--server
    /// smtp://mail.example:587 --tls starttls --password-file /home/a/pw`,
    /// or `MX delivery` followed by its options.
    pub fn describe(&self) -> String {
        let mut words = vec![match &self.server {
            Some(url) => format!("--server {url}"),
            None => "MX delivery".to_string(),
        }];
        let mut option = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                words.push(format!("--{name} {value}"));
            }
        };
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        option("dns-server", self.dns_server.clone());
        option("port", self.port.map(|p| p.to_string()));
        option("tls", self.tls.clone());
        option("cafile", path(&self.cafile));
        option("fingerprint", self.fingerprint.clone());
        option("user", self.user.clone());
        option("password-file", path(&self.password_file));
        option("password-env", self.password_env.clone());
        option("password-command", self.password_command.clone());
        option("netrc-file", path(&self.netrc_file));
        for (flag, on) in [
            ("--insecure", self.insecure),
            ("--oauth", self.oauth),
            ("--allow-plaintext-auth", self.allow_plaintext_auth),
        ] {
            if on {
                words.push(flag.to_string());
            }
        }
        words.join(" ")
    }
}

/// The spool's directories: entries being written, queued, being sent.
const DIRECTORIES: [&str; 3] = ["tmp", "new", "cur"];

/// A queued message.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its file in `new/` (in `cur/` once [`Queue::take`]n).
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
    /// The spool in `dir`, created (with `tmp/`, `new/` and `cur/`, each
    /// 0700) if missing. Those made by earlier versions, open to others,
    /// are closed to 0700, so that no entry in them can be reached.
    pub fn open(dir: &Path) -> Result<Queue, Error> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        for sub in DIRECTORIES {
            let path = dir.join(sub);
            let cannot = |e: io::Error| {
                Error::new(
                    ErrorKind::CannotCreate,
                    format!("queue {}: {e}", dir.display()),
                )
            };
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&path)
                .map_err(cannot)?;
            let mode = fs::metadata(&path).map_err(cannot)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(cannot)?;
            }
        }
        Ok(Queue {
            dir: dir.to_path_buf(),
        })
    }

    /// The spool in `dir`, which must exist (for listing): 66 when it
    /// does not.
    pub fn existing(dir: &Path) -> Result<Queue, Error> {
        if !dir.join("new").is_dir() {
            return Err(Error::new(
                ErrorKind::MissingInput,
                format!("{}: no queue there", dir.display()),
            ));
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
        let target = self.dir.join("new").join(name);
        self.write_entry(&target, envelope, message)?;
        Ok(target)
    }

    /// Writes an entry into `tmp/` under a name that tells its writer's
    /// process (so that [`Queue::recover`] can tell an abandoned one), syncs
    /// it, and renames it to `target`, replacing what is there.
    fn write_entry(
        &self,
        target: &Path,
        envelope: &QueuedEnvelope,
        message: &mut dyn Read,
    ) -> Result<(), Error> {
        let tmp = self.dir.join("tmp").join(maildir::unique_name());
        durable::write_new(&tmp, target, Publish::Replace, |file| {
            // Before a byte of the message is written (and the directory is
            // 0700 besides): only the owner may read an entry.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o600))?;
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
        })
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

    /// Every queued entry, oldest first, with those a flush is sending (or
    /// a killed flush left in `cur/`). An unreadable entry is skipped with
    /// its error in the second list.
    pub fn entries(&self) -> Result<(Vec<Entry>, Vec<String>), Error> {
        let mut paths = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.dir.join(sub);
            let listing = fs::read_dir(&dir)
                .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", dir.display())));
            match listing {
                Ok(listing) => paths.extend(listing.filter_map(|e| e.ok().map(|e| e.path()))),
                // A queue made before `cur/` existed.
                Err(_) if sub == "cur" => {}
                Err(e) => return Err(e),
            }
        }
        // An entry updated in `new/` by a flush killed before it removed
        // the copy it took into `cur/` is the one in `new/`.
        let in_new = |p: &PathBuf| p.parent().is_some_and(|d| d.ends_with("new"));
        let names: std::collections::HashSet<_> = (paths.iter().filter(|p| in_new(p)))
            .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
            .collect();
        paths.retain(|p| in_new(p) || !p.file_name().is_some_and(|n| names.contains(n)));
        paths.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
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
        let failed =
            |e: io::Error| Error::new(ErrorKind::LocalIo, format!("{}: {e}", entry.path.display()));
        let mut reader = open_entry(&entry.path).map_err(failed)?;
        envelope_line(&mut reader, &mut Vec::new()).map_err(failed)?;
        Ok(Box::new(reader))
    }

    /// Replaces an entry's envelope: the message is copied into a new file
    /// that atomically takes the place of the entry in `new/`; the copy a
    /// flush took into `cur/` goes after.
    pub fn update(&self, entry: &Entry, envelope: &QueuedEnvelope) -> Result<(), Error> {
        let mut message = self.message(entry)?;
        let queued = self.queued_path(entry);
        self.write_entry(&queued, envelope, &mut message)?;
        if entry.path != queued {
            self.remove(entry)?;
        }
        Ok(())
    }

    /// Removes a finished entry.
    pub fn remove(&self, entry: &Entry) -> Result<(), Error> {
        let parent = entry.path.parent().unwrap_or(&self.dir);
        fs::remove_file(&entry.path)
            .and_then(|()| sync_dir(parent))
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", entry.path.display())))
    }

    /// Moves an entry from `new/` into `cur/` before it is sent: a flush
    /// killed while sending leaves it there for [`Queue::recover`].
    pub fn take(&self, entry: &Entry) -> Result<Entry, Error> {
        let taken = self.dir.join("cur").join(entry.name());
        self.rename(&entry.path, &taken)?;
        Ok(Entry {
            path: taken,
            envelope: entry.envelope.clone(),
        })
    }

    /// Puts an entry [`Queue::take`]n back into `new/` as it was (nothing
    /// to do for one in `new/`).
    pub fn put_back(&self, entry: &Entry) -> Result<(), Error> {
        let queued = self.queued_path(entry);
        match entry.path == queued {
            true => Ok(()),
            false => self.rename(&entry.path, &queued),
        }
    }

    /// Where an entry is while it waits: `new/NAME`.
    pub fn queued_path(&self, entry: &Entry) -> PathBuf {
        self.dir.join("new").join(entry.name())
    }

    fn rename(&self, from: &Path, to: &Path) -> Result<(), Error> {
        let synced = |dir: Option<&Path>| dir.map_or(Ok(()), sync_dir);
        fs::rename(from, to)
            .and_then(|()| synced(to.parent()))
            .and_then(|()| synced(from.parent()))
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", from.display())))
    }

    /// Repairs what a flush killed mid-way left (call under the lock):
    /// each entry in `cur/` goes back into `new/` (or, when an updated copy
    /// already took its place there, is removed), and files left in `tmp/`
    /// by processes that are gone are removed. Returns the files of the
    /// entries put back: each was being sent, and may have been delivered.
    pub fn recover(&self) -> Result<Vec<String>, Error> {
        maildir::remove_abandoned(&self.dir.join("tmp"), &|_| false);
        let cur = self.dir.join("cur");
        let listing = fs::read_dir(&cur)
            .map_err(|e| Error::new(ErrorKind::LocalIo, format!("{}: {e}", cur.display())))?;
        let mut put_back = Vec::new();
        for file in listing.flatten() {
            let entry = Entry {
                path: file.path(),
                envelope: QueuedEnvelope::default(),
            };
            if self.dir.join("new").join(entry.name()).exists() {
                self.remove(&entry)?;
            } else {
                self.put_back(&entry)?;
                let queued = self.dir.join("new").join(entry.name());
                put_back.push(queued.display().to_string());
            }
        }
        put_back.sort();
        Ok(put_back)
    }
}

impl Entry {
    /// The entry's file name, the same in `new/` and `cur/`.
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    }
}

/// One entry as `--list-queue` shows it (a JSON record with `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The entry's file name in `new/`.
    pub id: String,
    /// MAIL FROM.
    pub sender: String,
    /// The recipients still to deliver to.
    pub recipients: Vec<String>,
    /// When it was queued (seconds since the epoch).
    pub created: u64,
    /// Seconds since it was queued.
    pub age: u64,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// The next attempt is not before this time (seconds since the epoch).
    pub next_attempt: u64,
    /// The last temporary failure.
    pub last_reply: Option<String>,
    /// How it is to be sent ([`SendRoute::describe`]); `None` for an entry
    /// that records no route.
    pub route: Option<String>,
}

impl Listing {
    /// The listing of `entry` at time `now`.
    pub fn of(entry: &Entry, now: u64) -> Listing {
        let envelope = &entry.envelope;
        Listing {
            id: entry
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sender: envelope.sender.clone(),
            recipients: envelope.recipients.clone(),
            created: envelope.created,
            age: now.saturating_sub(envelope.created),
            attempts: envelope.attempts,
            next_attempt: envelope.next_attempt,
            last_reply: envelope.last_error.clone(),
            route: envelope.route.as_ref().map(SendRoute::describe),
        }
    }

    /// The text line: `ID AGE ATTEMPTS SENDER RECIPIENTS LAST-REPLY`,
    /// tab-separated, recipients comma-separated, the age as `3d4h`,
    /// `2h5m` or `40s`, `<>` for the null sender, `-` for no reply yet;
    /// a tab in a field is a space, and control characters (the reply is
    /// a server's text) are shown escaped.
    pub fn text(&self) -> String {
        let field = |text: &str| printable(&text.replace('\t', " ")).into_owned();
        let sender = match self.sender.as_str() {
            "" => "<>",
            s => s,
        };
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            field(&self.id),
            age_text(self.age),
            self.attempts,
            field(sender),
            field(&self.recipients.join(",")),
            field(self.last_reply.as_deref().unwrap_or("-"))
        )
    }
}

/// `3d4h`, `2h5m`, `7m`, `40s`: the two largest units.
pub fn age_text(seconds: u64) -> String {
    let (d, h, m) = (seconds / 86_400, seconds / 3600 % 24, seconds / 60 % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

/// The longest envelope line read from an entry: a file in the spool
/// that is not an entry (no line end in the first MiB) is refused, not
/// read whole into memory.
const MAX_ENVELOPE: u64 = 1 << 20;

/// Opens a queue entry: a regular file only (a FIFO would block the
/// flush, a device never end).
fn open_entry(path: &Path) -> io::Result<BufReader<File>> {
    if !fs::metadata(path)?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok(BufReader::new(File::open(path)?))
}

/// Reads the envelope line of an entry (at most [`MAX_ENVELOPE`] octets,
/// with its line end, which an entry cut short after its envelope lacks)
/// into `line`.
fn envelope_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<()> {
    reader.take(MAX_ENVELOPE).read_until(b'\n', line)?;
    if !line.ends_with(b"\n") && line.len() as u64 >= MAX_ENVELOPE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no envelope line in its first MiB (not a queue entry)",
        ));
    }
    Ok(())
}

/// The envelope of the entry at `path`: the fields it needs must be
/// valid; a field this version does not know is skipped whatever its
/// bytes (serde_json does not check a skipped string's UTF-8), so that a
/// damaged octet there does not strand the message.
fn read_envelope(path: &Path) -> io::Result<QueuedEnvelope> {
    let mut reader = open_entry(path)?;
    let mut line = Vec::new();
    envelope_line(&mut reader, &mut line)?;
    serde_json::from_slice(&line).map_err(io::Error::other)
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
            route: Some(SendRoute {
                server: Some("smtp://alice@mail.example.org:587".into()),
                password_file: Some("/home/alice/pw".into()),
                ..SendRoute::default()
            }),
            dsn: None,
        }
    }

    #[test]
    fn entries_are_0600_in_0700_directories() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("q");
        let queue = Queue::open(&spool).unwrap();
        let path = queue.add(&envelope(), &mut &b"x"[..]).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        for d in [spool.clone(), spool.join("new"), spool.join("tmp")] {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        let (entries, _) = queue.entries().unwrap();
        queue.update(&entries[0], &envelope()).unwrap();
        assert_eq!(mode(&path), 0o600);
        // A spool an earlier version made open to others is closed.
        fs::set_permissions(spool.join("new"), fs::Permissions::from_mode(0o755)).unwrap();
        Queue::open(&spool).unwrap();
        assert_eq!(mode(&spool.join("new")), 0o700);
    }

    #[test]
    fn an_entry_without_a_route_still_reads() {
        let line = r#"{"sender":"a@x","recipients":["b@y"],"created":1,"attempts":1,"next_attempt":2,"last_error":null}"#;
        let envelope: QueuedEnvelope = serde_json::from_str(line).unwrap();
        assert_eq!(envelope.route, None);
        let text = serde_json::to_string(&self::envelope()).unwrap();
        assert!(
            text.contains(r#""password_file":"/home/alice/pw""#),
            "{text}"
        );
    }

    #[test]
    fn a_route_is_described_by_its_options() {
        let route = envelope().route.unwrap();
        assert_eq!(
            route.describe(),
            "--server smtp://alice@mail.example.org:587 --password-file /home/alice/pw"
        );
        assert_eq!(SendRoute::default().describe(), "MX delivery");
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
    fn an_entry_taken_by_a_killed_flush_comes_back_once() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let message = b"Subject: x\r\n\r\nbody\r\n";
        for _ in 0..2 {
            queue.add(&envelope(), &mut &message[..]).unwrap();
        }
        let (entries, _) = queue.entries().unwrap();
        // The first was being sent, the second updated but not yet removed
        // from cur/ when the flush was killed.
        let first = queue.take(&entries[0]).unwrap();
        assert!(first.path.starts_with(dir.path().join("cur")));
        // Listed still, as being sent.
        let listed = queue.entries().unwrap().0;
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].path, first.path);
        let second = queue.take(&entries[1]).unwrap();
        let mut later = envelope();
        later.attempts = 2;
        queue
            .write_entry(
                &entries[1].path,
                &later,
                &mut queue.message(&second).unwrap(),
            )
            .unwrap();
        // And a writer killed in tmp/ (a process that is gone).
        let abandoned =
            maildir::unique_name().replace(&format!("P{}Q", std::process::id()), "P999999999Q");
        fs::write(dir.path().join("tmp").join(&abandoned), b"half").unwrap();
        assert_eq!(
            queue.recover().unwrap(),
            vec![entries[0].path.display().to_string()]
        );
        let (after, _) = queue.entries().unwrap();
        assert_eq!(after.len(), 2);
        assert_eq!(after[0].envelope, envelope());
        assert_eq!(after[1].envelope, later);
        for entry in &after {
            let mut read = Vec::new();
            queue
                .message(entry)
                .unwrap()
                .read_to_end(&mut read)
                .unwrap();
            assert_eq!(read, message);
        }
        assert_eq!(fs::read_dir(dir.path().join("cur")).unwrap().count(), 0);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn an_update_of_a_taken_entry_leaves_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        queue.add(&envelope(), &mut &b"m"[..]).unwrap();
        let (entries, _) = queue.entries().unwrap();
        let taken = queue.take(&entries[0]).unwrap();
        let mut later = envelope();
        later.attempts = 5;
        queue.update(&taken, &later).unwrap();
        let (after, _) = queue.entries().unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].path, entries[0].path);
        assert_eq!(after[0].envelope.attempts, 5);
        assert!(queue.recover().unwrap().is_empty());
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
    fn a_listing_line_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let mut queued = envelope();
        queued.recipients.push("c@example.org".into());
        queued.last_error = Some("451 try\tlater\x1b[2J".into());
        queue.add(&queued, &mut &b"x"[..]).unwrap();
        let (entries, _) = queue.entries().unwrap();
        let listing = Listing::of(&entries[0], 1_700_000_000 + 3 * 3600 + 120);
        assert_eq!(listing.age, 10_920);
        let text = listing.text();
        let fields: Vec<&str> = text.split('\t').collect();
        assert_eq!(
            fields[1..],
            [
                "3h2m",
                "0",
                "a@example.org",
                "b@example.org,c@example.org",
                "451 try later\\u{1b}[2J"
            ]
        );
        assert_eq!(age_text(40), "40s");
        assert_eq!(age_text(2 * 86_400 + 5 * 3600 + 7), "2d5h");
        assert!(Queue::existing(&dir.path().join("none")).is_err());
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(300));
        assert_eq!(backoff(2), Duration::from_secs(600));
        assert_eq!(backoff(30), Duration::from_secs(4 * 3600));
    }
}
