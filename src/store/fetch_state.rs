//! The state file of a fetching tool: which messages earlier runs stored
//! (`pop3-fetch --new`, and `--delete` after a crash), so that nothing is
//! fetched twice, and the lock that keeps two runs on one state apart.
//!
//! The file is a journal: a first line naming the format, then one line
//! per stored message, `KEY` or `KEY NAME` (the Maildir file name it was
//! staged under). A line is appended and synced as each message is
//! stored, which is as atomic as a crash can test: a torn last line (no
//! line end) is ignored when read. At the start of a run the file is
//! rewritten whole (written aside, synced, renamed) with only the keys
//! still on the server.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::durable::{self, Publish};
use super::{cant_create, write_failed};
use crate::error::{Error, ErrorKind};

/// The first line of a state file.
const HEADER: &str = "# mailkit fetch state 1";

/// An open, locked state file.
#[derive(Debug)]
pub struct FetchState {
    path: PathBuf,
    journal: File,
    stored: HashMap<String, Option<String>>,
    /// Records in the file: more than `stored` holds when a key was
    /// recorded again (a download-and-keep run fetches everything).
    records: usize,
    _lock: File,
}

/// The default state file of `tool_prefix` (`pop3`) for `user` at
/// `host:port`: `$XDG_STATE_HOME/mailkit/pop3-USER@HOST:PORT`, with
/// `~/.local/state` when the variable is unset or not absolute (XDG Base
/// Directory Specification). `/` in the user or host is written `%2F`.
pub fn default_path(
    tool_prefix: &str,
    user: &str,
    host: &str,
    port: u16,
) -> Result<PathBuf, Error> {
    let base = match std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => {
            let home = std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .ok_or_else(|| {
                    Error::config("neither XDG_STATE_HOME nor HOME is set: give --state FILE")
                })?;
            PathBuf::from(home).join(".local/state")
        }
    };
    let safe = |s: &str| s.replace('%', "%25").replace('/', "%2F");
    let name = format!(
        "{tool_prefix}-{}@{}:{port}",
        safe(user),
        safe(&host.to_ascii_lowercase())
    );
    Ok(base.join("mailkit").join(name))
}

impl FetchState {
    /// Opens (or creates, with its directory, 0700/0600) the state file at
    /// `path` and takes its lock (`PATH.lock`).
    ///
    /// Errors: another run holds the lock, [`ErrorKind::Deferred`] (75);
    /// the file or its directory cannot be created, 73; read, 74; a file
    /// that is not a state file, or not a regular file at all (a
    /// directory, a FIFO that would block, a device), 78 (never
    /// overwritten).
    pub fn open(path: &Path) -> Result<FetchState, Error> {
        refuse_special(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| cant_create(dir, &e))?;
        }
        let lock = take_lock(path)?;
        if !starts_as_state_file(path) {
            return Err(not_a_state_file(path));
        }
        let text = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => {
                return Err(Error::from_io(
                    ErrorKind::LocalIo,
                    &format!("reading {}", path.display()),
                    &e,
                ));
            }
        };
        let (stored, records) = parse(&text).ok_or_else(|| not_a_state_file(path))?;
        let mut journal = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| cant_create(path, &e))?;
        if text.is_empty() {
            journal
                .write_all(format!("{HEADER}\n").as_bytes())
                .and_then(|()| journal.sync_all())
                .map_err(|e| write_failed(path.display(), &e))?;
        } else if !text.ends_with(b"\n") {
            // A torn last line was never recorded: cut it off, so that the
            // next record starts on a line of its own.
            let whole = text
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1);
            journal
                .set_len(whole as u64)
                .and_then(|()| journal.sync_all())
                .map_err(|e| write_failed(path.display(), &e))?;
        }
        Ok(FetchState {
            path: path.to_path_buf(),
            journal,
            stored,
            records,
            _lock: lock,
        })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an earlier run stored the message with `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.stored.contains_key(key)
    }

    /// The Maildir name the message with `key` was staged under, if any.
    pub fn staged_name(&self, key: &str) -> Option<&str> {
        self.stored.get(key).and_then(|n| n.as_deref())
    }

    /// The Maildir names of every record that has one.
    pub fn staged_names(&self) -> impl Iterator<Item = &str> {
        self.stored.values().filter_map(|n| n.as_deref())
    }

    /// Every record: its key and the name it was staged under, if any.
    pub fn records(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.stored.iter().map(|(k, n)| (k.as_str(), n.as_deref()))
    }

    /// How many messages are recorded.
    pub fn len(&self) -> usize {
        self.stored.len()
    }

    /// True when no message is recorded.
    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// Records the message `key` as stored (staged under the Maildir name
    /// `name`), appended and synced before this returns. Keys and names
    /// hold no white space (a UIDL cannot, RFC 1939 §7; callers escape).
    pub fn record(&mut self, key: &str, name: Option<&str>) -> Result<(), Error> {
        self.record_all(&[(key, name)])
    }

    /// [`FetchState::record`] for several messages, synced once.
    pub fn record_all(&mut self, records: &[(&str, Option<&str>)]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut lines = String::new();
        for (key, name) in records {
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(Error::bug(format!("state key {key:?} has white space")));
            }
            match name {
                Some(name) => lines.push_str(&format!("{key} {name}\n")),
                None => lines.push_str(&format!("{key}\n")),
            }
        }
        self.journal
            .write_all(lines.as_bytes())
            .and_then(|()| self.journal.sync_data())
            .map_err(|e| write_failed(self.path.display(), &e))?;
        for (key, name) in records {
            self.stored
                .insert(key.to_string(), name.map(str::to_string));
        }
        self.records += records.len();
        Ok(())
    }

    /// Rewrites the file with only the keys `keep` accepts (the messages
    /// still on the server), atomically: a crash leaves the old file or
    /// the new one.
    pub fn compact(&mut self, keep: impl Fn(&str) -> bool) -> Result<(), Error> {
        // Records repeated by download-and-keep runs are dropped too, once
        // they outnumber the messages.
        let repeated = self.records > 2 * self.stored.len() + 100;
        if !repeated && self.stored.keys().all(|k| keep(k)) {
            return Ok(());
        }
        self.stored.retain(|k, _| keep(k));
        let mut text = format!("{HEADER}\n");
        for (key, name) in &self.stored {
            match name {
                Some(name) => text.push_str(&format!("{key} {name}\n")),
                None => text.push_str(&format!("{key}\n")),
            }
        }
        let aside = self.path.with_file_name(format!(
            ".{}.{}.new",
            self.path.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = fs::remove_file(&aside);
        durable::write_new(&aside, &self.path, Publish::Replace, |f| {
            f.write_all(text.as_bytes())
        })
        .map_err(|f| write_failed(self.path.display(), &f.error))?;
        self.journal = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| cant_create(&self.path, &e))?;
        self.records = self.stored.len();
        Ok(())
    }
}

/// The records of a state file's text, and how many lines held them;
/// `None` when it is not one. An empty file is an empty state.
fn parse(text: &[u8]) -> Option<(HashMap<String, Option<String>>, usize)> {
    let mut stored = HashMap::new();
    let mut records = 0;
    if text.is_empty() {
        return Some((stored, records));
    }
    let text = String::from_utf8_lossy(text);
    let mut lines = text.split_inclusive('\n');
    if lines.next()?.trim_end() != HEADER {
        return None;
    }
    for line in lines {
        // A line without its end was torn by a crash: not recorded.
        let Some(line) = line.strip_suffix('\n') else {
            break;
        };
        let mut words = line.split(' ');
        let Some(key) = words.next().filter(|k| !k.is_empty()) else {
            continue;
        };
        let name = words.next().filter(|n| !n.is_empty()).map(str::to_string);
        stored.insert(key.to_string(), name);
        records += 1;
    }
    Some((stored, records))
}

/// Whether the file at `path` is missing, empty, or begins with the state
/// file's first line: a foreign file (a large one too) is refused after
/// reading a few octets of it, not all of it.
fn starts_as_state_file(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        // Missing (created later), or unreadable (said when read).
        return true;
    };
    let mut head = Vec::new();
    let _ = file.take(HEADER.len() as u64).read_to_end(&mut head);
    HEADER.as_bytes().starts_with(&head)
}

/// The error for a file that is not a state file (78).
fn not_a_state_file(path: &Path) -> Error {
    Error::config(format!(
        "{} is not a mailkit state file (its first line is not {HEADER:?}); \
         give another --state FILE",
        path.display()
    ))
}

/// Refuses a `path` that exists but is not a regular file: reading a
/// directory fails, a FIFO blocks until some writer comes, and a device
/// such as `/dev/zero` never ends.
fn refuse_special(path: &Path) -> Result<(), Error> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::config(format!(
            "{} is not a regular file; give another --state FILE",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Takes `PATH.lock` exclusively, or fails with 75 when another run holds
/// it (as fetchmail and mpop refuse to run twice).
fn take_lock(path: &Path) -> Result<File, Error> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| cant_create(&lock_path, &e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::new(
            ErrorKind::Deferred,
            format!(
                "{} is in use by another run (its lock {} is held); try again later",
                path.display(),
                lock_path.display()
            ),
        )),
        Err(fs::TryLockError::Error(e)) => Err(Error::from_io(
            ErrorKind::LocalIo,
            &format!("locking {}", lock_path.display()),
            &e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_torn_lines_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/pop3-a@h:110");
        let mut state = FetchState::open(&path).unwrap();
        state.record("uid1", Some("123.M1.host")).unwrap();
        state.record("uid2", None).unwrap();
        drop(state);
        let mut text = fs::read_to_string(&path).unwrap();
        text.push_str("uid3");
        fs::write(&path, text).unwrap();
        let mut state = FetchState::open(&path).unwrap();
        assert!(state.contains("uid1") && state.contains("uid2") && !state.contains("uid3"));
        assert_eq!(state.staged_name("uid1"), Some("123.M1.host"));
        state.record("uid4", None).unwrap();
        drop(state);
        let state = FetchState::open(&path).unwrap();
        assert!(
            state.contains("uid4") && !state.contains("uid3"),
            "{:?}",
            fs::read_to_string(&path)
        );
        assert_eq!(state.len(), 3);
    }

    #[test]
    fn compaction_keeps_what_is_still_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut state = FetchState::open(&path).unwrap();
        for key in ["a", "b", "c"] {
            state.record(key, None).unwrap();
        }
        state.compact(|k| k != "b").unwrap();
        state.record("d", None).unwrap();
        drop(state);
        let state = FetchState::open(&path).unwrap();
        assert!(state.contains("a") && !state.contains("b") && state.contains("d"));
        let leftovers = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 2, "the state and its lock only");
    }

    #[test]
    fn records_repeated_by_keep_runs_are_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut state = FetchState::open(&path).unwrap();
        for _ in 0..200 {
            state.record_all(&[("a", Some("n1")), ("b", None)]).unwrap();
        }
        state.compact(|_| true).unwrap();
        drop(state);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        let state = FetchState::open(&path).unwrap();
        assert!(state.contains("a") && state.contains("b"));
    }

    #[test]
    fn one_run_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let held = FetchState::open(&path).unwrap();
        let error = FetchState::open(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Deferred);
        assert!(error.to_string().contains("in use by another run"));
        drop(held);
        assert!(FetchState::open(&path).is_ok());
    }

    #[test]
    fn a_foreign_file_is_refused_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        fs::write(&path, "my notes\n").unwrap();
        assert_eq!(
            FetchState::open(&path).unwrap_err().kind(),
            ErrorKind::Config
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "my notes\n");
    }

    #[test]
    fn default_paths_follow_xdg() {
        let path = default_path("pop3", "me/x", "Mail.Example", 995).unwrap();
        assert!(
            path.ends_with("mailkit/pop3-me%2Fx@mail.example:995"),
            "{path:?}"
        );
    }
}
