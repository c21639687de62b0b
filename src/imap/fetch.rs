//! Messages out of an examined folder, by UID: each fetched whole with
//! `BODY.PEEK[]` (never setting `\Seen`, RFC 3501 §6.4.5) into a
//! [`Spool`], and only then written to stdout, a Maildir or an mbox, so
//! that a connection lost mid-message leaves nothing half-written. The
//! listing of a folder's messages is read in UID chunks, memory bounded
//! whatever the folder's size.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;

use crate::decode::Damage;
use crate::error::{Error, ErrorKind};
use crate::imap::body_structure::{self, PartDecoder};
use crate::imap::response::{Value, fetch_item};
use crate::imap::session::{Fetched, Session};
use crate::imap::summary::{self, MESSAGE_ITEMS, MessageRecord};
use crate::mime_reader::Part;
use crate::store::spool::Spool;
use crate::store::{LineEnds, Maildir, Mbox};

/// UIDs listed per `UID FETCH` command: a few MiB of ENVELOPEs at most.
const LIST_CHUNK: usize = 2000;

/// Where messages fetched by UID go.
pub enum Destination {
    /// Files in a Maildir's `new/`.
    Maildir(Maildir),
    /// Appended to an mbox.
    Mbox(Mbox),
}

/// One message stored, for the report (`--json`: `record` `"message"`,
/// `status` `"stored"`).
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    /// `"message"`.
    pub record: &'static str,
    /// The folder, in UTF-8.
    pub folder: String,
    /// Its UID.
    pub uid: u32,
    /// Octets received.
    pub size: u64,
    /// The Maildir file written (Maildir only).
    pub path: Option<std::path::PathBuf>,
    /// `"stored"`.
    pub status: &'static str,
}

/// The message with `uid` in the folder examined, spooled: 67 when the
/// folder has no such UID (the server answers a UID FETCH of a missing
/// UID with no data, RFC 3501 §6.4.8).
pub fn spool_message(session: &mut Session, uid: u32, line_ends: LineEnds) -> Result<Spool, Error> {
    let mut spool = Spool::new();
    let mut received = Counter::default();
    let fetched = fetch_converted(
        session,
        uid,
        "(UID BODY.PEEK[])",
        line_ends,
        &mut Tee(spool.writer(), &mut received),
    )?;
    let found = fetched
        .iter()
        .any(|f| summary::fetched_uid(f).ok() == Some(uid));
    if !found {
        return Err(no_such_uid(uid));
    }
    spool.ready(received.0)?;
    Ok(spool)
}

/// `UID FETCH uid items`, the message text written to `sink` with its line
/// ends as `line_ends` says.
fn fetch_converted(
    session: &mut Session,
    uid: u32,
    items: &str,
    line_ends: LineEnds,
    sink: &mut dyn std::io::Write,
) -> Result<Vec<Fetched>, Error> {
    crate::store::write_with_line_ends(sink, line_ends, |sink| {
        session.uid_fetch_to(&uid.to_string(), items, sink)
    })
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
    folder: &str,
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
            record: "message",
            folder: folder.to_owned(),
            uid,
            size: spool.len(),
            path,
            status: "stored",
        });
    }
    Ok(())
}

/// The MIME part tree of message `uid` from its BODYSTRUCTURE, as
/// mime-unpack reads it from the message ([`body_structure::parts`]),
/// without fetching the message: 67 when there is no such UID. Where the
/// server offers BINARY (RFC 3516), the decoded sizes of encoded leaves
/// are asked for; a server that refuses (a damaged part) leaves the
/// estimates.
pub fn structure(session: &mut Session, uid: u32) -> Result<Vec<Part>, Error> {
    let fetched = session.uid_fetch(&uid.to_string(), "(UID BODYSTRUCTURE ENVELOPE)")?;
    let answer = fetched
        .iter()
        .find(|f| summary::fetched_uid(f).ok() == Some(uid))
        .ok_or_else(|| no_such_uid(uid))?;
    let mut parts = body_structure::parts_of_fetch(&answer.items)?;
    let Some(items) = body_structure::binary_size_items(&parts).filter(|_| session.has("BINARY"))
    else {
        return Ok(parts);
    };
    match session.uid_fetch(&uid.to_string(), &format!("(UID {items})")) {
        Ok(sizes) => {
            let mine = sizes
                .iter()
                .filter(|f| summary::fetched_uid(f).ok() == Some(uid));
            for answer in mine {
                body_structure::apply_binary_sizes(&mut parts, &answer.items);
            }
        }
        Err(e) if e.is_refusal() && e.kind() != ErrorKind::ConnectionLost => {}
        Err(e) => return Err(e),
    }
    Ok(parts)
}

/// Writes part `id` of message `uid` to `out`, decoded as `mime-unpack
/// --part` decodes it, once the part arrived whole (`BODY.PEEK[section]`,
/// spooled). With [`LineEnds::Lf`] the part's CRLF line ends become LF
/// before decoding, as in a message stored by `--fetch`: the output is
/// what `imap-list --fetch UID | mime-unpack --part ID` writes. A part
/// number the message does not have is 67, naming those it has. Returns
/// the damage met in decoding, for a warning.
pub fn write_part(
    session: &mut Session,
    uid: u32,
    id: &str,
    line_ends: LineEnds,
    out: &mut dyn std::io::Write,
) -> Result<Option<PartDamage>, Error> {
    let parts = structure(session, uid)?;
    let Some(part) = parts.iter().find(|p| p.id == id) else {
        let ids: Vec<String> = parts.iter().map(|p| p.id.clone()).collect();
        let refused = crate::unpack::no_such_part(id, &ids);
        return Err(Error::new(ErrorKind::NoSuchRecipient, refused.to_string()));
    };
    let mut spool = Spool::new();
    let items = format!("(UID BODY.PEEK[{}])", body_structure::section(id));
    let mut received = Counter::default();
    let fetched = fetch_converted(
        session,
        uid,
        &items,
        line_ends,
        &mut Tee(spool.writer(), &mut received),
    )?;
    let streamed = fetched.iter().any(|f| {
        summary::fetched_uid(f).ok() == Some(uid)
            && f.items.iter().any(|(_, v)| matches!(v, Value::Streamed(_)))
    });
    if !streamed {
        return Err(Error::new(
            ErrorKind::NoSuchRecipient,
            format!("the server sent no content for part {id} of UID {uid}"),
        ));
    }
    spool.ready(received.0)?;
    let mut decoder = PartDecoder::new(part, out);
    spool.copy_to(&mut decoder)?;
    let (_, damage) = decoder.finish()?;
    Ok(damage.map(|damage| PartDamage {
        encoding: part.encoding.clone(),
        damage,
    }))
}

/// Damage met decoding a part: its transfer encoding and what was wrong.
#[derive(Debug, Clone)]
pub struct PartDamage {
    /// The part's Content-Transfer-Encoding.
    pub encoding: String,
    /// What was wrong.
    pub damage: Damage,
}

/// Lists the messages with `uids` (ascending), oldest first: a `UID
/// FETCH` per chunk of [`LIST_CHUNK`] UIDs, the next one sent before the
/// current one is read so that the server never waits for the client.
/// Each record goes to `each` once its chunk is complete, in UID order
/// whatever the order of the responses; memory holds two chunks at most.
/// A UID expunged meanwhile is left out.
pub fn list_messages(
    session: &mut Session,
    uids: &[u32],
    each: &mut dyn FnMut(MessageRecord) -> Result<(), Error>,
) -> Result<(), Error> {
    let chunks: Vec<&[u32]> = uids.chunks(LIST_CHUNK).collect();
    let mut tags = std::collections::VecDeque::new();
    let mut received: BTreeMap<u32, MessageRecord> = BTreeMap::new();
    for chunk in chunks.iter().take(2) {
        tags.push_back(session.send_uid_fetch(&uid_set(chunk), MESSAGE_ITEMS)?);
    }
    for (at, chunk) in chunks.iter().enumerate() {
        let tag = tags
            .pop_front()
            .ok_or_else(|| Error::bug("a chunk without its tag"))?;
        session.read_fetches(&tag, &mut |fetched| {
            keep_listed(&mut received, uids, &fetched);
            Ok(())
        })?;
        if let Some(next) = chunks.get(at + 2) {
            tags.push_back(session.send_uid_fetch(&uid_set(next), MESSAGE_ITEMS)?);
        }
        let last = chunk[chunk.len() - 1];
        let later = match last.checked_add(1) {
            Some(next) => received.split_off(&next),
            None => BTreeMap::new(),
        };
        for (_, record) in std::mem::replace(&mut received, later) {
            each(record)?;
        }
    }
    Ok(())
}

/// Keeps the record of a FETCH response that answers the listing. A
/// server may send FETCH responses of its own at any time (RFC 3501
/// §7.4.2: flags changed by another session), without UID or header:
/// such a response only updates the flags of a message already received.
fn keep_listed(received: &mut BTreeMap<u32, MessageRecord>, uids: &[u32], fetched: &Fetched) {
    let Ok(record) = MessageRecord::from_fetched(fetched) else {
        return;
    };
    if uids.binary_search(&record.uid).is_err() {
        return;
    }
    let answers = summary::answers_listing(fetched);
    match received.get_mut(&record.uid) {
        Some(known) if !answers && fetch_item(&fetched.items, "FLAGS").is_some() => {
            known.flags = record.flags
        }
        _ if answers => {
            received.insert(record.uid, record);
        }
        _ => {}
    }
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
