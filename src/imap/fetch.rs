//! Messages out of an examined folder, by UID: each fetched whole with
//! `BODY.PEEK[]` (never setting `\Seen`, RFC 3501 §6.4.5) into a
//! [`Spool`], and only then written to stdout, a Maildir or an mbox, so
//! that a connection lost mid-message leaves nothing half-written. The
//! listing of a folder's messages is read in UID chunks, memory bounded
//! whatever the folder's size.

use std::time::SystemTime;

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::imap::session::Session;
use crate::imap::summary::{self, MESSAGE_ITEMS, MessageRecord};
use crate::store::spool::Spool;
use crate::store::{LfWriter, LineEnds, Maildir, Mbox};

/// UIDs listed per `UID FETCH` command: a few MiB of ENVELOPEs at most.
const LIST_CHUNK: usize = 1000;

/// Where messages fetched by UID go.
pub enum Destination {
    /// Files in a Maildir's `new/`.
    Maildir(Maildir),
    /// Appended to an mbox.
    Mbox(Mbox),
}

/// One message stored, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    /// Its UID.
    pub uid: u32,
    /// Octets received.
    pub size: u64,
    /// The Maildir file written (Maildir only).
    pub path: Option<std::path::PathBuf>,
}

/// The message with `uid` in the folder examined, spooled: 67 when the
/// folder has no such UID (the server answers a UID FETCH of a missing
/// UID with no data, RFC 3501 §6.4.8).
pub fn spool_message(session: &mut Session, uid: u32, line_ends: LineEnds) -> Result<Spool, Error> {
    let mut spool = Spool::new();
    let mut received = Counter::default();
    let fetched = match line_ends {
        LineEnds::Keep => {
            let mut sink = Tee(spool.writer(), &mut received);
            session.uid_fetch_to(&uid.to_string(), "(UID BODY.PEEK[])", &mut sink)?
        }
        LineEnds::Lf => {
            let mut lf = LfWriter::new(Tee(spool.writer(), &mut received));
            let fetched = session.uid_fetch_to(&uid.to_string(), "(UID BODY.PEEK[])", &mut lf)?;
            lf.finish()
                .map_err(|e| Error::from_io(ErrorKind::LocalIo, "spooling a message", &e))?;
            fetched
        }
    };
    let found = fetched
        .iter()
        .any(|f| summary::fetched_uid(f).ok() == Some(uid));
    if !found {
        return Err(no_such_uid(uid));
    }
    spool.ready(received.0)?;
    Ok(spool)
}

/// The error for a UID the folder does not have.
pub fn no_such_uid(uid: u32) -> Error {
    Error::new(
        ErrorKind::NoSuchRecipient,
        format!("no message with UID {uid} in the folder"),
    )
}

/// Writes the message with `uid` to `out` once it has arrived whole.
pub fn fetch_to(
    session: &mut Session,
    uid: u32,
    line_ends: LineEnds,
    out: &mut dyn std::io::Write,
) -> Result<u64, Error> {
    let mut spool = spool_message(session, uid, line_ends)?;
    spool.copy_to(out)?;
    Ok(spool.len())
}

/// Stores the messages with `uids` into `destination`, one at a time, each
/// reported to `stored` once durable. A missing UID is 67 before anything
/// is fetched.
pub fn fetch_into(
    session: &mut Session,
    uids: &[u32],
    destination: &mut Destination,
    line_ends: LineEnds,
    stored: &mut dyn FnMut(Stored),
) -> Result<(), Error> {
    let existing = session.uid_search(&format!("UID {}", uid_set(uids)))?;
    if let Some(missing) = uids.iter().find(|uid| existing.binary_search(uid).is_err()) {
        return Err(no_such_uid(*missing));
    }
    for &uid in uids {
        let mut spool = spool_message(session, uid, line_ends)?;
        let path = match destination {
            Destination::Maildir(maildir) => Some(maildir.deliver(&mut spool)?),
            Destination::Mbox(mbox) => {
                let sender = spool.return_path()?;
                mbox.append(&sender, SystemTime::now(), &mut spool)?;
                None
            }
        };
        stored(Stored {
            uid,
            size: spool.len(),
            path,
        });
    }
    Ok(())
}

/// Lists the messages with `uids` (ascending), oldest first, in chunks of
/// [`LIST_CHUNK`]: each record goes to `each` as its chunk arrives. A UID
/// expunged meanwhile is left out.
pub fn list_messages(
    session: &mut Session,
    uids: &[u32],
    each: &mut dyn FnMut(MessageRecord) -> Result<(), Error>,
) -> Result<(), Error> {
    for chunk in uids.chunks(LIST_CHUNK) {
        let fetched = session.uid_fetch(&uid_set(chunk), MESSAGE_ITEMS)?;
        let mut records = fetched
            .iter()
            .map(MessageRecord::from_fetched)
            .collect::<Result<Vec<_>, _>>()?;
        // RFC 3501 gives FETCH responses no order; a UID asked for once
        // is shown once even if the server repeats it.
        records.sort_by_key(|r| r.uid);
        records.dedup_by_key(|r| r.uid);
        for record in records {
            if chunk.binary_search(&record.uid).is_ok() {
                each(record)?;
            }
        }
    }
    Ok(())
}

/// A UID set (RFC 3501 §9 `sequence-set`) for ascending UIDs, runs
/// written as ranges: `1:5,7,9:12`.
pub fn uid_set(uids: &[u32]) -> String {
    let mut set = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !set.is_empty() {
            set.push(',');
        }
        match start == end {
            true => set.push_str(&start.to_string()),
            false => set.push_str(&format!("{start}:{end}")),
        }
        i += 1;
    }
    set
}

/// Counts the octets written through it.
#[derive(Default)]
struct Counter(u64);

/// Writes into `.0`, counting into `.1`.
struct Tee<'a>(&'a mut dyn std::io::Write, &'a mut Counter);

impl std::io::Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.0 += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_write_runs_as_ranges() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }
}
