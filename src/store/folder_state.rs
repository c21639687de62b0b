//! The state file of an IMAP download-and-keep archive (`imap-list --new`):
//! per folder, keyed by its wire name, the UIDVALIDITY last seen (RFC 3501
//! §2.3.1.1) and every message stored, with its UID, its RFC822.SIZE and
//! its Message-ID. The highest stored UID of the current UIDVALIDITY says
//! where the next run starts; the (Message-ID, size) pairs of all records
//! of a folder are what a fetch after a UIDVALIDITY change compares with,
//! so that nothing already stored is stored again.
//!
//! It is a [`FetchState`] journal (the same file format, lock and atomic
//! compaction as `pop3-fetch`'s state), one key per line:
//!
//! - `v:FOLDER:UIDVALIDITY`: the folder's current UIDVALIDITY (at most one
//!   per folder: the old one is compacted away before a new one is
//!   recorded, so a crash between the two leaves none, which reads as a
//!   change);
//! - `m:FOLDER:UIDVALIDITY:UID:SIZE:MESSAGE-ID` (the Message-ID empty when
//!   the message has none), followed by the Maildir name it was staged
//!   under, or by `mbox:OFFSET:LENGTH` while an mbox append is under way
//!   (the record is written again without it once the append is synced).
//!
//! FOLDER and MESSAGE-ID are written with every octet outside `!`..`~`,
//! and `%` and `:`, as `%XX`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::fetch_state::FetchState;
use crate::error::Error;

/// The name prefix of a record whose mbox append is under way.
const APPENDING: &str = "mbox:";

/// An open, locked archive state.
#[derive(Debug)]
pub struct FolderState {
    journal: FetchState,
    folders: HashMap<Vec<u8>, Folder>,
}

/// What the state knows of one folder.
#[derive(Debug, Default)]
struct Folder {
    /// The current UIDVALIDITY, when recorded (exactly once).
    uid_validity: Option<u32>,
    /// `v:` records seen: more than one is read as none.
    validities: usize,
    /// The highest UID stored, per UIDVALIDITY.
    last_uid: HashMap<u32, u32>,
}

/// One stored message as the state records it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The folder's wire name.
    pub folder: Vec<u8>,
    /// The folder's UIDVALIDITY when the message was stored.
    pub uid_validity: u32,
    /// Its UID.
    pub uid: u32,
    /// Its RFC822.SIZE, as the server counts it.
    pub size: u64,
    /// Its Message-ID (`<...>` as in the header, unfolded), if it has one.
    pub message_id: Option<Vec<u8>>,
}

/// An mbox append that a run began and may not have finished: the mbox
/// was `offset` octets long, and the message takes `len` octets more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appending {
    /// The mbox's length before the append.
    pub offset: u64,
    /// The octets the append writes.
    pub len: u64,
}

/// Where a folder's archive goes on, from [`FolderState::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Nothing of the folder is recorded: every message is new.
    First,
    /// The same UIDVALIDITY: the messages above `last_uid` are new.
    Continue {
        /// The highest UID stored (0 when none).
        last_uid: u32,
    },
    /// The UIDVALIDITY changed (`old`; `None` when a crash left it
    /// unrecorded): every message is fetched again, except those whose
    /// Message-ID and size were stored before ([`FolderState::stored_ids`]).
    Changed {
        /// The UIDVALIDITY recorded before.
        old: Option<u32>,
    },
    /// The same UIDVALIDITY, but a run after a change did not finish
    /// ([`FolderState::finish_change`]): the messages above `last_uid` are
    /// new, and still compared with what is stored.
    Resumed {
        /// The highest UID stored under this UIDVALIDITY (0 when none).
        last_uid: u32,
    },
}

impl FolderState {
    /// Opens (or creates) the state at `path` and takes its lock, as
    /// [`FetchState::open`] (75 when another run holds it). A state file
    /// with records of another kind (a `pop3-fetch` state) is 78.
    pub fn open(path: &Path) -> Result<FolderState, Error> {
        let journal = FetchState::open(path)?;
        let mut folders: HashMap<Vec<u8>, Folder> = HashMap::new();
        for (key, _) in journal.records() {
            match parse_key(key) {
                Some(Key::Validity(folder, uid_validity)) => {
                    let entry = folders.entry(folder).or_default();
                    entry.uid_validity = Some(uid_validity);
                    entry.validities += 1;
                }
                Some(Key::Message(entry)) => {
                    let folder = folders.entry(entry.folder.clone()).or_default();
                    note_uid(folder, &entry);
                }
                None => {
                    return Err(Error::config(format!(
                        "{} is not the state of an IMAP archive (it holds {key:?}); \
                         give another --state FILE",
                        path.display()
                    )));
                }
            }
        }
        for folder in folders.values_mut().filter(|f| f.validities > 1) {
            folder.uid_validity = None;
        }
        Ok(FolderState { journal, folders })
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        self.journal.path()
    }

    /// Starts a folder whose EXAMINE gave `uid_validity`: records it when
    /// it is new or changed, and says which messages are new.
    pub fn begin(&mut self, folder: &[u8], uid_validity: u32) -> Result<Begin, Error> {
        let known = self.folders.get(folder);
        let current = known.and_then(|f| f.uid_validity);
        if let (Some(folder), true) = (known, current == Some(uid_validity)) {
            let last_uid = folder.last_uid.get(&uid_validity).copied().unwrap_or(0);
            return Ok(match folder.last_uid.keys().any(|&v| v != uid_validity) {
                true => Begin::Resumed { last_uid },
                false => Begin::Continue { last_uid },
            });
        }
        let begin = match known {
            None => Begin::First,
            Some(_) => Begin::Changed { old: current },
        };
        let prefix = validity_key(folder, None);
        self.journal.compact(|key| !key.starts_with(&prefix))?;
        self.journal
            .record(&validity_key(folder, Some(uid_validity)), None)?;
        let entry = self.folders.entry(folder.to_vec()).or_default();
        entry.uid_validity = Some(uid_validity);
        entry.validities = 1;
        Ok(begin)
    }

    /// Ends the comparison a UIDVALIDITY change started, once every
    /// message of the folder was handled under `uid_validity`: the records
    /// of the other UIDVALIDITYs are dropped (the messages still on the
    /// server were recorded again, as stored or duplicates).
    pub fn finish_change(&mut self, folder: &[u8], uid_validity: u32) -> Result<(), Error> {
        self.journal.compact(|key| match parse_key(key) {
            Some(Key::Message(e)) => e.folder != folder || e.uid_validity == uid_validity,
            _ => true,
        })?;
        self.recount();
        Ok(())
    }

    /// The (Message-ID, size) of every message of `folder` stored under
    /// any UIDVALIDITY: what is in the destination already.
    pub fn stored_ids(&self, folder: &[u8]) -> HashSet<(Vec<u8>, u64)> {
        self.entries()
            .filter(|(e, _)| e.folder == folder)
            .filter_map(|(e, _)| Some((e.message_id?, e.size)))
            .collect()
    }

    /// Records messages as stored (synced once before this returns), each
    /// with the Maildir name it was staged under, if any.
    pub fn record(&mut self, stored: &[(&Entry, Option<&str>)]) -> Result<(), Error> {
        let keys: Vec<String> = stored.iter().map(|(e, _)| message_key(e)).collect();
        let records: Vec<(&str, Option<&str>)> = keys
            .iter()
            .zip(stored)
            .map(|(key, (_, name))| (key.as_str(), *name))
            .collect();
        self.journal.record_all(&records)?;
        for (entry, _) in stored {
            note_uid(self.folders.entry(entry.folder.clone()).or_default(), entry);
        }
        Ok(())
    }

    /// Records that messages are being appended to an mbox, each as its
    /// [`Appending`] says (synced once): a run killed before
    /// [`FolderState::record`] follows leaves them for
    /// [`FolderState::appending`] to settle.
    pub fn begin_appends(&mut self, appends: &[(&Entry, Appending)]) -> Result<(), Error> {
        let lines: Vec<(String, String)> = appends
            .iter()
            .map(|(entry, a)| {
                let name = format!("{APPENDING}{}:{}", a.offset, a.len);
                (message_key(entry), name)
            })
            .collect();
        let records: Vec<(&str, Option<&str>)> = lines
            .iter()
            .map(|(key, name)| (key.as_str(), Some(name.as_str())))
            .collect();
        self.journal.record_all(&records)?;
        for (entry, _) in appends {
            note_uid(self.folders.entry(entry.folder.clone()).or_default(), entry);
        }
        Ok(())
    }

    /// The mbox appends begun and never recorded as finished.
    pub fn appending(&self) -> Vec<(Entry, Appending)> {
        self.entries()
            .filter_map(|(entry, name)| Some((entry, parse_appending(name?)?)))
            .collect()
    }

    /// Forgets `entry`: an append that never reached the mbox.
    pub fn forget(&mut self, entry: &Entry) -> Result<(), Error> {
        let key = message_key(entry);
        self.journal.compact(|k| k != key)?;
        self.recount();
        Ok(())
    }

    /// The Maildir names messages were staged under.
    pub fn staged_names(&self) -> impl Iterator<Item = &str> {
        self.journal
            .staged_names()
            .filter(|n| !n.starts_with(APPENDING))
    }

    /// Every message record and its name.
    fn entries(&self) -> impl Iterator<Item = (Entry, Option<&str>)> {
        self.journal
            .records()
            .filter_map(|(key, name)| match parse_key(key)? {
                Key::Message(entry) => Some((entry, name)),
                Key::Validity(..) => None,
            })
    }

    /// The highest UIDs again, after a record was removed.
    fn recount(&mut self) {
        let entries: Vec<Entry> = self.entries().map(|(e, _)| e).collect();
        for folder in self.folders.values_mut() {
            folder.last_uid.clear();
        }
        for entry in entries {
            note_uid(
                self.folders.entry(entry.folder.clone()).or_default(),
                &entry,
            );
        }
    }
}

/// Notes `entry`'s UID as stored in its folder.
fn note_uid(folder: &mut Folder, entry: &Entry) {
    let last = folder.last_uid.entry(entry.uid_validity).or_insert(0);
    *last = (*last).max(entry.uid);
}

/// A record's key, parsed.
enum Key {
    Validity(Vec<u8>, u32),
    Message(Entry),
}

fn parse_key(key: &str) -> Option<Key> {
    let fields: Vec<&str> = key.split(':').collect();
    match fields.as_slice() {
        ["v", folder, uid_validity] => {
            Some(Key::Validity(unescape(folder)?, uid_validity.parse().ok()?))
        }
        ["m", folder, uid_validity, uid, size, message_id] => Some(Key::Message(Entry {
            folder: unescape(folder)?,
            uid_validity: uid_validity.parse().ok()?,
            uid: uid.parse().ok()?,
            size: size.parse().ok()?,
            message_id: match message_id.is_empty() {
                true => None,
                false => Some(unescape(message_id)?),
            },
        })),
        _ => None,
    }
}

/// `v:FOLDER:UIDVALIDITY`, or without `uid_validity` the prefix of every
/// such key of the folder (`v:FOLDER:`).
fn validity_key(folder: &[u8], uid_validity: Option<u32>) -> String {
    let value = uid_validity.map(|v| v.to_string()).unwrap_or_default();
    format!("v:{}:{value}", escape(folder))
}

fn message_key(entry: &Entry) -> String {
    format!(
        "m:{}:{}:{}:{}:{}",
        escape(&entry.folder),
        entry.uid_validity,
        entry.uid,
        entry.size,
        entry.message_id.as_deref().map(escape).unwrap_or_default()
    )
}

fn parse_appending(name: &str) -> Option<Appending> {
    let (offset, len) = name.strip_prefix(APPENDING)?.split_once(':')?;
    Some(Appending {
        offset: offset.parse().ok()?,
        len: len.parse().ok()?,
    })
}

/// Octets outside `!`..`~`, `%` and `:` as `%XX`.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'%' | b':' => out.push_str(&format!("%{b:02X}")),
            b'!'..=b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn unescape(text: &str) -> Option<Vec<u8>> {
    crate::net::url::percent_decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn entry(folder: &[u8], uid_validity: u32, uid: u32, id: Option<&str>) -> Entry {
        Entry {
            folder: folder.to_vec(),
            uid_validity,
            uid,
            size: 100 + u64::from(uid),
            message_id: id.map(|i| i.as_bytes().to_vec()),
        }
    }

    #[test]
    fn folders_continue_where_they_stopped_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imap-a@h:143");
        let mut state = FolderState::open(&path).unwrap();
        let odd = b"a \"b\":%\x01 c".to_vec();
        assert_eq!(state.begin(b"INBOX", 7).unwrap(), Begin::First);
        assert_eq!(state.begin(&odd, 9).unwrap(), Begin::First);
        let (one, two) = (
            entry(b"INBOX", 7, 3, Some("<1@x>")),
            entry(&odd, 9, 5, None),
        );
        state
            .record(&[(&one, Some("123.M1.h")), (&two, None)])
            .unwrap();
        assert_eq!(
            state.begin(b"INBOX", 7).unwrap(),
            Begin::Continue { last_uid: 3 }
        );
        drop(state);
        let mut state = FolderState::open(&path).unwrap();
        assert_eq!(
            state.begin(&odd, 9).unwrap(),
            Begin::Continue { last_uid: 5 }
        );
        assert_eq!(state.staged_names().collect::<Vec<_>>(), ["123.M1.h"]);
        let ids = state.stored_ids(b"INBOX");
        assert!(ids.contains(&(b"<1@x>".to_vec(), 103)) && ids.len() == 1);
        assert!(state.stored_ids(&odd).is_empty(), "no Message-ID");
    }

    #[test]
    fn a_changed_uidvalidity_keeps_the_old_messages_for_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut state = FolderState::open(&path).unwrap();
        state.begin(b"INBOX", 7).unwrap();
        state
            .record(&[(&entry(b"INBOX", 7, 3, Some("<1@x>")), None)])
            .unwrap();
        assert_eq!(
            state.begin(b"INBOX", 8).unwrap(),
            Begin::Changed { old: Some(7) }
        );
        assert_eq!(
            state.begin(b"INBOX", 8).unwrap(),
            Begin::Resumed { last_uid: 0 }
        );
        assert_eq!(state.stored_ids(b"INBOX").len(), 1);
        state
            .record(&[(&entry(b"INBOX", 8, 4, Some("<1@x>")), None)])
            .unwrap();
        state.finish_change(b"INBOX", 8).unwrap();
        assert_eq!(
            state.begin(b"INBOX", 8).unwrap(),
            Begin::Continue { last_uid: 4 }
        );
        assert_eq!(state.stored_ids(b"INBOX").len(), 1);
        state.begin(b"INBOX", 9).unwrap();
        drop(state);
        // A crash between compaction and the new record: no UIDVALIDITY,
        // records still there: a change.
        let text = std::fs::read_to_string(&path).unwrap();
        let without: String = text
            .lines()
            .filter(|l| !l.starts_with("v:"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&path, without).unwrap();
        let mut state = FolderState::open(&path).unwrap();
        assert_eq!(
            state.begin(b"INBOX", 9).unwrap(),
            Begin::Changed { old: None }
        );
    }

    #[test]
    fn an_append_under_way_is_settled_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut state = FolderState::open(&path).unwrap();
        state.begin(b"INBOX", 7).unwrap();
        let (done, cut) = (entry(b"INBOX", 7, 1, None), entry(b"INBOX", 7, 2, None));
        let appending = Appending {
            offset: 10,
            len: 20,
        };
        state.begin_appends(&[(&done, appending)]).unwrap();
        state.record(&[(&done, None)]).unwrap();
        state.begin_appends(&[(&cut, appending)]).unwrap();
        drop(state);
        let mut state = FolderState::open(&path).unwrap();
        assert_eq!(state.appending(), [(cut.clone(), appending)]);
        assert_eq!(state.staged_names().count(), 0);
        state.forget(&cut).unwrap();
        assert!(state.appending().is_empty());
        assert_eq!(
            state.begin(b"INBOX", 7).unwrap(),
            Begin::Continue { last_uid: 1 }
        );
    }

    #[test]
    fn another_kind_of_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        let mut pop3 = FetchState::open(&path).unwrap();
        pop3.record("uidl1", None).unwrap();
        drop(pop3);
        let error = FolderState::open(&path).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
    }

    #[test]
    fn escaping_round_trips() {
        for raw in [&b""[..], b"INBOX", b"a b:c%d\x00\xff", "日本語".as_bytes()] {
            let text = escape(raw);
            assert!(!text.contains([' ', ':']));
            assert_eq!(unescape(&text).unwrap(), raw);
        }
    }
}
