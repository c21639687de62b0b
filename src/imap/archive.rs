//! Download-and-keep archiving of IMAP folders (`imap-list --new
//! --maildir DIR` or `--mbox FILE`): each folder's messages that no
//! earlier run stored are fetched into one destination, folder by folder,
//! and recorded in a [`FolderState`]. The server is never changed: folders
//! are opened with EXAMINE and messages read with `BODY.PEEK[]` (the
//! [`Session`] refuses anything else).
//!
//! Per folder: EXAMINE gives the UIDVALIDITY (RFC 3501 §2.3.1.1). The same
//! as recorded: `UID SEARCH UID n:*` for the UIDs above the highest stored
//! (the answer filtered: `n:*` always includes the highest UID, even when
//! it is below `n`, §6.4.8). Changed: every message is a candidate, and
//! those whose Message-ID and RFC822.SIZE equal a stored message's are not
//! stored again (recorded under the new UIDVALIDITY, reported as
//! `duplicate`). The candidates' sizes and Message-IDs are fetched first,
//! in chunks (`UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]`),
//! then the messages themselves in batches, each message text streamed
//! into its own file: memory stays bounded whatever the sizes.
//!
//! The order that makes a SIGKILL lose nothing and repeat nothing, per
//! batch: Maildir — each message written into `tmp/` unsynced, the batch
//! synced once, the state records the messages with their `tmp/` names
//! (synced), then each is linked into `new/`; a run that finds a recorded
//! name still in `tmp/` finishes the link, and removes unrecorded leftovers.
//! mbox — the batch spooled, then under the mbox's locks: the state
//! records each message with the offset its append starts at and the
//! length it adds (synced once), the appends follow in UID order (each
//! synced), then the state records them as finished; a run that finds an
//! unfinished append keeps it when the mbox holds all of it, and otherwise
//! cuts the mbox back to where it started, the message to be fetched
//! again. Records go in UID order, so the highest recorded UID
//! never passes a message not stored.
//!
//! Limits: messages without a Message-ID are fetched again after a
//! UIDVALIDITY change (storing a message twice is better than losing a
//! different one of the same size); the comparison uses the state alone,
//! not what other programs put into the destination; settling an
//! interrupted mbox append assumes that no other program appended to the
//! mbox between the killed run and the next (it judges by lengths).

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::SystemTime;

use serde::Serialize;

use super::mailbox_name;
use super::response::{Value, fetch_item};
use super::session::{Examined, Fetched, PendingFetch, Session};
use crate::error::{Error, ErrorKind};
use crate::store::folder_state::{Appending, Begin, Entry, FolderState};
use crate::store::maildir::Staged;
use crate::store::spool::Spool;
use crate::store::{LineEnds, Maildir, Mbox};

/// UIDs whose sizes and Message-IDs one `UID FETCH` asks for.
const PLAN_CHUNK: usize = 1000;
/// Most messages in a batch made durable together.
const BATCH_MESSAGES: usize = 64;
/// Most octets in a batch (a larger message makes a batch alone): a crash
/// loses at most this much received work, never a stored message.
const BATCH_OCTETS: u64 = 16 << 20;
/// What the plan fetches of each candidate.
const PLAN_ITEMS: &str = "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])";
/// What the fetch of a batch asks for: the whole message, `\Seen` unset.
const MESSAGE_ITEMS: &str = "(UID BODY.PEEK[])";

/// Where archived messages go: one destination for every folder.
#[derive(Debug)]
pub enum Destination {
    /// A Maildir (`--maildir`).
    Maildir(Maildir),
    /// An mbox file (`--mbox`), opened (and created) by the archive.
    Mbox(PathBuf),
}

/// How to archive.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Line ends as stored (the Maildir's own setting is not consulted).
    pub line_ends: LineEnds,
}

/// What happened to one message, for `--json` and notes.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Always `message`.
    pub record: &'static str,
    /// The folder, for display.
    pub folder: String,
    /// Its UID.
    pub uid: u32,
    /// Its RFC822.SIZE.
    pub size: u64,
    /// `stored`; `duplicate` (after a UIDVALIDITY change, the same
    /// Message-ID and size as a message stored before: not stored again);
    /// `gone` (expunged between the plan and its fetch).
    pub status: &'static str,
    /// The Maildir file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// The totals of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Always `summary`.
    pub record: &'static str,
    /// Folders archived.
    pub folders: u64,
    /// Messages stored.
    pub fetched: u64,
    /// Messages found stored already after a UIDVALIDITY change.
    pub duplicates: u64,
    /// Messages expunged before their fetch.
    pub gone: u64,
    /// Octets stored (RFC822.SIZE).
    pub bytes: u64,
}

/// What the archive tells its caller as it goes.
#[derive(Debug)]
pub enum Event<'a> {
    /// A folder is examined and planned: this many messages and octets
    /// to fetch.
    FolderStarted {
        /// The folder, for display.
        folder: &'a str,
        /// Messages to fetch.
        messages: u64,
        /// Their octets (RFC822.SIZE).
        octets: u64,
    },
    /// The folder's UIDVALIDITY is not the one recorded (`old`, `None`
    /// when a crash left none): its messages are compared with what is
    /// stored, and only the others fetched. A warning.
    UidValidityChanged {
        /// The folder, for display.
        folder: &'a str,
        /// The UIDVALIDITY recorded.
        old: Option<u32>,
        /// The UIDVALIDITY now.
        new: u32,
    },
    /// A message was handled.
    Handled(&'a Record),
}

/// The wire names of every selectable folder (`--all-folders`): LIST,
/// without those marked `\Noselect` or `\NonExistent`.
pub fn selectable_folders(session: &mut Session) -> Result<Vec<Vec<u8>>, Error> {
    Ok(session
        .list()?
        .into_iter()
        .filter(|f| f.selectable())
        .map(|f| f.name)
        .collect())
}

/// Archives `folders` (wire names, in this order) into `destination`:
/// first what a killed run left is finished, then each folder's new
/// messages are fetched and recorded in `state`. A folder that does not
/// exist is 67 (EXAMINE refused), after the folders before it are done.
/// The session stays open (the caller logs out).
pub fn archive(
    session: &mut Session,
    folders: &[Vec<u8>],
    destination: &mut Destination,
    state: &mut FolderState,
    options: &Options,
    observe: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, Error> {
    let mut store = Store::open(destination, options.line_ends)?;
    store.recover(state)?;
    let mut summary = Summary {
        record: "summary",
        ..Summary::default()
    };
    for folder in folders {
        let (display, _) = mailbox_name::display_name(folder, session.name_form());
        let mut run = Run {
            session: &mut *session,
            store: &mut store,
            state: &mut *state,
            folder,
            display: &display,
            summary: &mut summary,
        };
        run.folder(observe)?;
        summary.folders += 1;
    }
    Ok(summary)
}

/// The destination, open.
enum Store<'a> {
    Maildir(&'a Maildir, LineEnds),
    Mbox {
        path: PathBuf,
        mbox: Mbox,
        line_ends: LineEnds,
    },
}

impl<'a> Store<'a> {
    fn open(destination: &'a mut Destination, line_ends: LineEnds) -> Result<Store<'a>, Error> {
        Ok(match destination {
            Destination::Maildir(maildir) => Store::Maildir(maildir, line_ends),
            Destination::Mbox(path) if path.as_os_str() == "-" => {
                return Err(Error::usage(
                    "an archive goes into an mbox file, not standard output",
                ));
            }
            Destination::Mbox(path) => Store::Mbox {
                mbox: Mbox::open(path)?.with_line_ends(line_ends),
                path: path.clone(),
                line_ends,
            },
        })
    }

    /// Finishes what a killed run left: Maildir messages recorded while
    /// still in `tmp/` are delivered, unrecorded leftovers removed; mbox
    /// appends under way are settled.
    fn recover(&mut self, state: &mut FolderState) -> Result<(), Error> {
        match self {
            Store::Maildir(maildir, _) => {
                let in_tmp = maildir.tmp_names();
                let names: Vec<String> = state
                    .staged_names()
                    .filter(|n| in_tmp.contains(*n))
                    .map(str::to_string)
                    .collect();
                for name in names {
                    maildir.recover_staged(&name)?;
                }
                let recorded: HashSet<&str> = state.staged_names().collect();
                maildir.remove_stale_tmp(&|name| recorded.contains(name));
            }
            Store::Mbox { path, mbox, .. } => {
                let mut appending = state.appending();
                if appending.is_empty() {
                    return Ok(());
                }
                // In the order they were written: once one is cut off, the
                // later ones were never begun.
                appending.sort_by_key(|(_, a)| a.offset);
                let _lock = mbox.lock()?;
                for (entry, appending) in appending {
                    match settle_append(path, appending)? {
                        true => state.record(&[(&entry, None)])?,
                        false => state.forget(&entry)?,
                    }
                }
            }
        }
        Ok(())
    }
}

/// A message to handle: fetched, or only recorded as a duplicate.
#[derive(Debug, Clone)]
struct Job {
    entry: Entry,
    duplicate: bool,
}

/// A message of a batch, its file when it was received, and its status.
type Outcome = (Entry, Option<Received>, Status);

/// What became of a message of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// Received whole and stored.
    Stored,
    /// Stored before a UIDVALIDITY change: only recorded.
    Duplicate,
    /// Not sent by the server: expunged since the plan.
    Gone,
}

impl Status {
    /// The name in a [`Record`].
    fn name(self) -> &'static str {
        match self {
            Status::Stored => "stored",
            Status::Duplicate => "duplicate",
            Status::Gone => "gone",
        }
    }
}

/// A message received whole, waiting for its batch to be stored.
enum Received {
    Staged(Staged),
    Spooled(Spool),
}

/// The archive of one folder.
struct Run<'r, 's> {
    session: &'r mut Session,
    store: &'r mut Store<'s>,
    state: &'r mut FolderState,
    folder: &'r [u8],
    display: &'r str,
    summary: &'r mut Summary,
}

impl Run<'_, '_> {
    /// EXAMINE, plan, fetch in batches; after a UIDVALIDITY change the
    /// messages of the old one are forgotten once all are handled.
    fn folder(&mut self, observe: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
        let examined = self.session.examine(self.folder).map_err(|e| {
            e.prefixed(&format!(
                "folder {:?}",
                crate::output::printable(self.display)
            ))
        })?;
        let uid_validity = examined.uid_validity;
        let (after, compare) = match self.state.begin(self.folder, uid_validity)? {
            Begin::First => (0, false),
            Begin::Continue { last_uid } => (last_uid, false),
            Begin::Resumed { last_uid } => (last_uid, true),
            Begin::Changed { old } => {
                observe(Event::UidValidityChanged {
                    folder: self.display,
                    old,
                    new: uid_validity,
                });
                (0, true)
            }
        };
        let uids = new_uids(self.session, &examined, after)?;
        let stored = match compare {
            true => self.state.stored_ids(self.folder),
            false => HashSet::new(),
        };
        let jobs = self.plan(&uids, uid_validity, &stored)?;
        drop(stored);
        let fetches = jobs.iter().filter(|j| !j.duplicate);
        observe(Event::FolderStarted {
            folder: self.display,
            messages: fetches.clone().count() as u64,
            octets: fetches.map(|j| j.entry.size).sum(),
        });
        for batch in batches(jobs) {
            self.batch(batch, observe)?;
        }
        if compare {
            self.state.finish_change(self.folder, uid_validity)?;
        }
        Ok(())
    }

    /// The candidates with their sizes and Message-IDs, in UID order,
    /// those in `stored` marked as duplicates.
    fn plan(
        &mut self,
        uids: &[u32],
        uid_validity: u32,
        stored: &HashSet<(Vec<u8>, u64)>,
    ) -> Result<Vec<Job>, Error> {
        let mut jobs = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(PLAN_CHUNK) {
            let fetched = self.session.uid_fetch(&sequence_set(chunk), PLAN_ITEMS)?;
            let mut entries = Vec::with_capacity(chunk.len());
            for one in &fetched {
                entries.extend(self.entry(one, uid_validity)?);
            }
            entries.retain(|e| chunk.binary_search(&e.uid).is_ok());
            entries.sort_by_key(|e| e.uid);
            entries.dedup_by_key(|e| e.uid);
            for entry in entries {
                let duplicate = entry
                    .message_id
                    .as_ref()
                    .is_some_and(|id| stored.contains(&(id.clone(), entry.size)));
                jobs.push(Job { entry, duplicate });
            }
        }
        Ok(jobs)
    }

    /// The entry a FETCH response of the plan describes; `None` for
    /// another FETCH (a flag change the server reports meanwhile). An
    /// answer with the header but without the size is 76: skipping it
    /// would skip the message for good.
    fn entry(&self, fetched: &Fetched, uid_validity: u32) -> Result<Option<Entry>, Error> {
        let header = fetched
            .items
            .iter()
            .find(|(name, _)| name.to_ascii_uppercase().starts_with("BODY[HEADER.FIELDS"))
            .map(|(_, value)| value.as_bytes());
        let (Some(uid), Some(header)) = (fetched_uid(fetched), header) else {
            return Ok(None);
        };
        let size = fetch_item(&fetched.items, "RFC822.SIZE").and_then(Value::as_number);
        let size = size.ok_or_else(|| {
            Error::protocol(format!(
                "UID FETCH: the server gave no RFC822.SIZE for UID {uid}"
            ))
        })?;
        Ok(Some(Entry {
            folder: self.folder.to_vec(),
            uid_validity,
            uid,
            size,
            message_id: header.and_then(message_id),
        }))
    }

    /// Receives the batch's messages and stores them; after a failure the
    /// messages received whole before it are still stored and recorded.
    fn batch(&mut self, jobs: Vec<Job>, observe: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
        let wanted: Vec<u32> = jobs
            .iter()
            .filter(|j| !j.duplicate)
            .map(|j| j.entry.uid)
            .collect();
        let mut received = HashMap::new();
        let outcome = match wanted.is_empty() {
            true => Ok(()),
            false => self.receive(&wanted, &mut received),
        };
        let complete = outcome.is_ok();
        let outcomes = outcomes(jobs, received, complete);
        let stored = match self.store {
            Store::Maildir(..) => self.commit_maildir(outcomes, observe),
            Store::Mbox { .. } => self.commit_mbox(outcomes, observe),
        };
        outcome.and(stored)
    }

    /// `UID FETCH` of `wanted` (sorted), each message text into a Maildir
    /// `tmp/` file or a spool of its own.
    fn receive(
        &mut self,
        wanted: &[u32],
        received: &mut HashMap<u32, Received>,
    ) -> Result<(), Error> {
        let pending = self
            .session
            .send_uid_fetch(&sequence_set(wanted), MESSAGE_ITEMS)?;
        loop {
            let (fetched, message) = self.receive_one(&pending)?;
            let Some(fetched) = fetched else {
                return Ok(());
            };
            let uid = fetched_uid(&fetched).filter(|u| wanted.binary_search(u).is_ok());
            let text = matches!(
                fetch_item(&fetched.items, "BODY[]"),
                Some(Value::Streamed(_))
            );
            if let (Some(uid), true) = (uid, text) {
                received.insert(uid, message);
            }
        }
    }

    /// The next FETCH response, its text in a new Maildir file or spool
    /// (left empty, and dropped by the caller, for other responses).
    fn receive_one(
        &mut self,
        pending: &PendingFetch,
    ) -> Result<(Option<Fetched>, Received), Error> {
        let session = &mut *self.session;
        let mut fetched = None;
        let received = match &*self.store {
            Store::Maildir(maildir, line_ends) => Received::Staged(maildir.stage(|sink| {
                fetched = read_fetch(session, pending, sink, *line_ends)?;
                Ok(())
            })?),
            Store::Mbox { .. } => {
                let mut spool = Spool::new();
                fetched = session.read_fetch(pending, spool.writer())?;
                Received::Spooled(spool)
            }
        };
        Ok((fetched, received))
    }

    /// Maildir: the received messages synced at once, recorded with their
    /// `tmp/` names together with the duplicates, then delivered.
    fn commit_maildir(
        &mut self,
        outcomes: Vec<Outcome>,
        observe: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Error> {
        let Store::Maildir(maildir, _) = &*self.store else {
            return Err(Error::bug("a Maildir batch without a Maildir"));
        };
        let mut handled: Vec<(Entry, Status)> = Vec::new();
        let mut staged: Vec<Staged> = Vec::new();
        for (entry, message, status) in outcomes {
            if let Some(Received::Staged(one)) = message {
                staged.push(one);
            }
            handled.push((entry, status));
        }
        if !staged.is_empty() {
            maildir.sync_staged(&staged)?;
        }
        let names: Vec<String> = staged.iter().map(|s| s.name().to_string()).collect();
        let mut name = names.iter();
        let records: Vec<(&Entry, Option<&str>)> = handled
            .iter()
            .filter(|(_, status)| *status != Status::Gone)
            .map(|(entry, status)| match *status {
                Status::Stored => (entry, name.next().map(String::as_str)),
                _ => (entry, None),
            })
            .collect();
        self.state.record(&records)?;
        staged.iter_mut().for_each(Staged::keep);
        let mut paths = match staged.is_empty() {
            true => Vec::new().into_iter(),
            false => maildir.deliver_staged(staged)?.into_iter(),
        };
        for (entry, status) in handled {
            let path = match status {
                Status::Stored => paths.next(),
                _ => None,
            };
            self.report(&entry, status, path, observe);
        }
        Ok(())
    }

    /// mbox: the batch's received messages appended in UID order under
    /// one lock: first all recorded as under way with the offsets they
    /// will take (one sync), then appended (each synced), then recorded as
    /// finished together with the duplicates (one sync).
    fn commit_mbox(
        &mut self,
        mut outcomes: Vec<Outcome>,
        observe: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Error> {
        let Store::Mbox {
            path,
            mbox,
            line_ends,
        } = &mut *self.store
        else {
            return Err(Error::bug("an mbox batch without an mbox"));
        };
        let mut appends = Vec::new();
        for (entry, message, _) in &mut outcomes {
            if let Some(Received::Spooled(spool)) = message.take() {
                appends.push((&*entry, Append::prepare(spool, *line_ends)?));
            }
        }
        if !appends.is_empty() {
            let mut lock = mbox.lock()?;
            let mut offset = mbox_len(path)?;
            let mut gap = gap_before(path, offset)?;
            let mut begun = Vec::with_capacity(appends.len());
            for (entry, append) in &appends {
                let appending = Appending {
                    offset,
                    len: gap + append.len,
                };
                begun.push((*entry, appending));
                (offset, gap) = (offset + appending.len, 0);
            }
            self.state.begin_appends(&begun)?;
            for (_, append) in &mut appends {
                lock.append(&append.sender, append.received, &mut append.spool)?;
            }
        }
        let records: Vec<(&Entry, Option<&str>)> = outcomes
            .iter()
            .filter(|(_, _, status)| *status != Status::Gone)
            .map(|(entry, _, _)| (entry, None))
            .collect();
        self.state.record(&records)?;
        for (entry, _, status) in outcomes {
            self.report(&entry, status, None, observe);
        }
        Ok(())
    }

    /// Counts and reports one handled message.
    fn report(
        &mut self,
        entry: &Entry,
        status: Status,
        path: Option<PathBuf>,
        observe: &mut dyn FnMut(Event<'_>),
    ) {
        match status {
            Status::Stored => {
                self.summary.fetched += 1;
                self.summary.bytes += entry.size;
            }
            Status::Duplicate => self.summary.duplicates += 1,
            Status::Gone => self.summary.gone += 1,
        }
        observe(Event::Handled(&Record {
            record: "message",
            folder: self.display.to_string(),
            uid: entry.uid,
            size: entry.size,
            status: status.name(),
            path,
        }));
    }
}

/// The batch's messages in UID order with their files (when received)
/// and what became of them: `duplicate`, `stored` (received whole) or
/// `gone` (not sent by the server). After a failure (`complete` false)
/// the list ends before the first message not received.
fn outcomes(jobs: Vec<Job>, mut received: HashMap<u32, Received>, complete: bool) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        let message = received.remove(&job.entry.uid);
        let status = match (job.duplicate, &message) {
            (true, _) => Status::Duplicate,
            (false, Some(_)) => Status::Stored,
            (false, None) if complete => Status::Gone,
            (false, None) => break,
        };
        outcomes.push((job.entry, message, status));
    }
    outcomes
}

/// A spooled message ready for its mbox append: the `From ` line's
/// sender and time, and the octets the append writes.
struct Append {
    spool: Spool,
    sender: String,
    received: SystemTime,
    len: u64,
}

impl Append {
    fn prepare(mut spool: Spool, line_ends: LineEnds) -> Result<Append, Error> {
        spool.rewind()?;
        let sender = spool.return_path()?;
        let received = SystemTime::now();
        let len = appended_len(&mut spool, &sender, received, line_ends)?;
        spool.rewind()?;
        Ok(Append {
            spool,
            sender,
            received,
            len,
        })
    }
}

/// The UIDs above `after`, sorted: none without a search when the folder
/// is empty or UIDNEXT says nothing came since.
fn new_uids(session: &mut Session, examined: &Examined, after: u32) -> Result<Vec<u32>, Error> {
    let Some(first) = after.checked_add(1) else {
        return Ok(Vec::new());
    };
    if examined.exists == 0 || examined.uid_next.is_some_and(|next| next <= first) {
        return Ok(Vec::new());
    }
    let mut uids = session.uid_search(&format!("UID {first}:*"))?;
    // `n:*` holds the highest UID even when it is below n (§6.4.8).
    uids.retain(|&uid| uid > after);
    uids.sort_unstable();
    uids.dedup();
    Ok(uids)
}

/// The jobs cut into batches of at most [`BATCH_MESSAGES`] fetches and
/// [`BATCH_OCTETS`] (a larger message alone); duplicates ride along.
fn batches(jobs: Vec<Job>) -> Vec<Vec<Job>> {
    let mut batches = Vec::new();
    let mut batch: Vec<Job> = Vec::new();
    let (mut messages, mut octets) = (0, 0u64);
    for job in jobs {
        let full =
            messages >= BATCH_MESSAGES || octets.saturating_add(job.entry.size) > BATCH_OCTETS;
        if !job.duplicate && messages > 0 && full {
            batches.push(std::mem::take(&mut batch));
            (messages, octets) = (0, 0);
        }
        if !job.duplicate {
            messages += 1;
            octets = octets.saturating_add(job.entry.size);
        }
        batch.push(job);
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// A sorted list of UIDs as an IMAP sequence set: `1:3,7,9:12`.
fn sequence_set(uids: &[u32]) -> String {
    let mut set = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        while i + 1 < uids.len() && uids[i + 1] == uids[i].wrapping_add(1) {
            i += 1;
        }
        if !set.is_empty() {
            set.push(',');
        }
        match uids[i] == start {
            true => set.push_str(&start.to_string()),
            false => set.push_str(&format!("{start}:{}", uids[i])),
        }
        i += 1;
    }
    set
}

/// The UID item of a FETCH response.
fn fetched_uid(fetched: &Fetched) -> Option<u32> {
    fetch_item(&fetched.items, "UID")
        .and_then(Value::as_number)
        .and_then(|n| u32::try_from(n).ok())
}

/// The Message-ID in a header (RFC 5322 §3.6.4): the first
/// `Message-ID:` field's value, unfolded, white space removed; `None` when
/// there is none or it is empty.
fn message_id(header: &[u8]) -> Option<Vec<u8>> {
    let mut value: Option<Vec<u8>> = None;
    for line in header.split(|&b| b == b'\n') {
        let continued = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match (&mut value, continued) {
            (Some(value), true) => value.extend_from_slice(line),
            (Some(_), false) => break,
            (None, _) => {
                let named = line
                    .get(..11)
                    .is_some_and(|n| n.eq_ignore_ascii_case(b"message-id:"));
                if named {
                    value = Some(line[11..].to_vec());
                }
            }
        }
    }
    let id: Vec<u8> = value?
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    (!id.is_empty()).then_some(id)
}

/// Reads the next FETCH response of `pending`, its text into `sink` with
/// the line ends converted as `line_ends` says.
fn read_fetch(
    session: &mut Session,
    pending: &PendingFetch,
    sink: &mut dyn Write,
    line_ends: LineEnds,
) -> Result<Option<Fetched>, Error> {
    crate::store::write_with_line_ends(sink, line_ends, |sink| session.read_fetch(pending, sink))
}

/// The octets an append of `message` writes after any blank line needed
/// before it: the mbox form written into a counter.
fn appended_len(
    message: &mut dyn Read,
    sender: &str,
    received: SystemTime,
    line_ends: LineEnds,
) -> Result<u64, Error> {
    let count = Rc::new(Cell::new(0u64));
    let counter = Counter(Rc::clone(&count));
    Mbox::to_stream(Box::new(counter))
        .with_line_ends(line_ends)
        .append(sender, received, message)?;
    Ok(count.get())
}

/// A writer that only counts.
struct Counter(Rc<Cell<u64>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.set(self.0.get() + buf.len() as u64);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn mbox_len(path: &Path) -> Result<u64, Error> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| {
        Error::from_io(
            ErrorKind::LocalIo,
            &format!("reading {}", path.display()),
            &e,
        )
    })
}

/// The blank line an append writes before its message when the mbox of
/// `len` octets does not end in one (as [`crate::store::mbox`] does): 0,
/// 1 or 2 octets.
fn gap_before(path: &Path, len: u64) -> Result<u64, Error> {
    let mut tail = [0u8; 2];
    let start = len.saturating_sub(2);
    let tail = &mut tail[..(len - start) as usize];
    let read = File::open(path).and_then(|mut f| {
        f.seek(SeekFrom::Start(start))
            .and_then(|_| f.read_exact(tail))
    });
    read.map_err(|e| {
        Error::from_io(
            ErrorKind::LocalIo,
            &format!("reading {}", path.display()),
            &e,
        )
    })?;
    Ok(match tail {
        [] | [b'\n', b'\n'] | [b'\n'] => 0,
        [.., b'\n'] => 1,
        _ => 2,
    })
}

/// Settles an append a killed run began (the mbox locked): whether the
/// mbox holds all of it (it is long enough, and ends the message's part
/// with the blank line every append ends with). When it does not, a
/// partial append is cut off, so that the message can be fetched again.
fn settle_append(path: &Path, appending: Appending) -> Result<bool, Error> {
    let len = mbox_len(path)?;
    let end = appending.offset.saturating_add(appending.len);
    if len >= end && end >= 2 {
        let mut last = [0u8; 2];
        let read = File::open(path).and_then(|mut f| {
            f.seek(SeekFrom::Start(end - 2))
                .and_then(|_| f.read_exact(&mut last))
        });
        if read.is_ok() && &last == b"\n\n" {
            return Ok(true);
        }
        return Ok(false);
    }
    if len > appending.offset {
        let cut = OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(appending.offset).and_then(|()| f.sync_all()));
        cut.map_err(|e| {
            Error::from_io(
                ErrorKind::LocalIo,
                &format!("cutting an interrupted append off {}", path.display()),
                &e,
            )
        })?;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(uid: u32, size: u64, duplicate: bool) -> Job {
        Job {
            entry: Entry {
                folder: b"INBOX".to_vec(),
                uid_validity: 1,
                uid,
                size,
                message_id: None,
            },
            duplicate,
        }
    }

    #[test]
    fn sequence_sets_join_runs() {
        assert_eq!(sequence_set(&[1, 2, 3, 7, 9, 10, 11, 12]), "1:3,7,9:12");
        assert_eq!(sequence_set(&[5]), "5");
        assert_eq!(sequence_set(&[]), "");
        assert_eq!(
            sequence_set(&[u32::MAX - 1, u32::MAX]),
            "4294967294:4294967295"
        );
    }

    #[test]
    fn message_ids_are_unfolded_and_found_in_any_case() {
        assert_eq!(
            message_id(b"Message-ID: <a@b>\r\n\r\n").as_deref(),
            Some(&b"<a@b>"[..])
        );
        assert_eq!(
            message_id(b"message-id:\r\n  <long@x.example>\r\n\r\n").as_deref(),
            Some(&b"<long@x.example>"[..])
        );
        assert_eq!(message_id(b"\r\n"), None);
        assert_eq!(message_id(b"Message-ID:   \r\n\r\n"), None);
    }

    #[test]
    fn batches_are_bounded_by_count_and_octets() {
        let mut jobs: Vec<Job> = (1..=130).map(|uid| job(uid, 10, false)).collect();
        jobs.push(job(131, 20 << 20, false));
        jobs.push(job(132, 10, true));
        jobs.push(job(133, 10, false));
        let sizes: Vec<usize> = batches(jobs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [64, 64, 2, 2, 1]);
    }

    #[test]
    fn the_gap_before_an_append_follows_the_mbox_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        for (text, gap) in [(&b""[..], 0), (b"x\n\n", 0), (b"x\n", 1), (b"x", 2)] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(
                gap_before(&path, text.len() as u64).unwrap(),
                gap,
                "{text:?}"
            );
        }
    }

    #[test]
    fn an_interrupted_append_is_kept_whole_or_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m");
        let mut mbox = Mbox::open(&path).unwrap();
        let message = b"From: a@b\r\n\r\nbody\r\n";
        let now = SystemTime::now();
        mbox.append("", now, &mut &message[..]).unwrap();
        let offset = mbox_len(&path).unwrap();
        let len = appended_len(&mut &message[..], "", now, LineEnds::Lf).unwrap();
        let appending = Appending { offset, len };
        mbox.append("", now, &mut &message[..]).unwrap();
        assert_eq!(mbox_len(&path).unwrap(), offset + len);
        assert!(settle_append(&path, appending).unwrap());
        // Killed half way: cut back.
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..(offset + len / 2) as usize]).unwrap();
        assert!(!settle_append(&path, appending).unwrap());
        assert_eq!(mbox_len(&path).unwrap(), offset);
        // Never begun.
        assert!(!settle_append(&path, appending).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), &whole[..offset as usize]);
    }
}
