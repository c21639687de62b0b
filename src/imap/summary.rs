//! What `imap-list` reports about folders and messages, one record each:
//! a folder from LIST (and STATUS), a message from `UID FETCH (UID FLAGS
//! RFC822.SIZE ENVELOPE)`, its header texts decoded (RFC 2047) and its date
//! written as ISO 8601.

use serde::Serialize;

use crate::decode::rfc2047;
use crate::error::Error;
use crate::imap::response::{Value, fetch_item};
use crate::imap::session::{Fetched, Folder};

/// The FETCH items a message listing asks for: nothing that sets `\Seen`.
/// The four header fields shown, raw, rather than ENVELOPE: servers send
/// them with less work, and a literal per message parses with far fewer
/// values than the ten fields and six address lists of an envelope.
pub const MESSAGE_ITEMS: &str =
    "(UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (DATE FROM SUBJECT MESSAGE-ID)])";

/// The item that answers the header fields: `BODY[HEADER.FIELDS (...)]`,
/// however the server spells the field list.
const HEADER_ITEM: &str = "BODY[HEADER.FIELDS";

/// The special-use attributes (RFC 6154 §2, and `\Important` of RFC 8457).
const SPECIAL_USES: [&str; 8] = [
    "\\All",
    "\\Archive",
    "\\Drafts",
    "\\Flagged",
    "\\Junk",
    "\\Sent",
    "\\Trash",
    "\\Important",
];

/// A folder as listed.
#[derive(Debug, Clone, Serialize)]
pub struct FolderRecord {
    /// The name in UTF-8 (decoded from modified UTF-7 when it travels so).
    pub name: String,
    /// The hierarchy delimiter, when the server has one.
    pub delimiter: Option<String>,
    /// Every name attribute, as sent.
    pub flags: Vec<String>,
    /// The special uses among them (`\Sent`, `\Drafts`, ...).
    pub special_use: Vec<String>,
    /// The number of messages, when known.
    pub messages: Option<u64>,
    /// The number of messages without `\Seen`, when known.
    pub unseen: Option<u64>,
    /// Whether it can be opened (not `\Noselect`).
    pub selectable: bool,
}

impl From<&Folder> for FolderRecord {
    fn from(folder: &Folder) -> Self {
        FolderRecord {
            name: folder.display.clone(),
            delimiter: folder.delimiter.map(String::from),
            flags: folder.flags.clone(),
            special_use: special_uses(&folder.flags),
            messages: folder.messages,
            unseen: folder.unseen,
            selectable: folder.selectable(),
        }
    }
}

impl FolderRecord {
    /// The text line: name, messages, unseen, special uses, tab-separated,
    /// `-` for what is not known.
    pub fn text_line(&self) -> String {
        let count = |n: Option<u64>| n.map_or("-".into(), |n| n.to_string());
        format!(
            "{}\t{}\t{}\t{}",
            column(&self.name),
            count(self.messages),
            count(self.unseen),
            dash_if_empty(&self.special_use.join(" ")),
        )
    }
}

/// Server text for one tab-separated column: made printable, and a tab
/// (which [`crate::output::printable`] keeps) shown as `\t`, so that a
/// name or subject with a tab cannot shift the columns after it.
fn column(text: &str) -> String {
    crate::output::printable(text).replace('\t', "\\t")
}

/// The special uses among a folder's attributes, spelled as RFC 6154 does.
fn special_uses(flags: &[String]) -> Vec<String> {
    SPECIAL_USES
        .iter()
        .filter(|name| flags.iter().any(|f| f.eq_ignore_ascii_case(name)))
        .map(|name| name.to_string())
        .collect()
}

/// A message as listed.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRecord {
    /// Its UID.
    pub uid: u32,
    /// Its flags (`\Seen`, `\Answered`, keywords), as sent.
    pub flags: Vec<String>,
    /// The Date field as ISO 8601 (`2026-11-01T10:00:00+01:00`); null
    /// when absent or unreadable.
    pub date: Option<String>,
    /// The first From address, `Name <addr>` or `addr`, decoded.
    pub from: Option<String>,
    /// The Subject, decoded (RFC 2047).
    pub subject: Option<String>,
    /// RFC822.SIZE: octets with CRLF line ends, as the server counts them.
    pub size: Option<u64>,
    /// The Message-ID, as written.
    pub message_id: Option<String>,
}

impl MessageRecord {
    /// The record of one FETCH response to [`MESSAGE_ITEMS`]. A response
    /// without UID is a protocol error (RFC 3501 §6.4.8 requires it); an
    /// ENVELOPE the parser cannot read leaves the header fields null
    /// rather than dropping the message.
    pub fn from_fetched(fetched: &Fetched) -> Result<MessageRecord, Error> {
        let uid = fetched_uid(fetched)?;
        let flags = fetch_item(&fetched.items, "FLAGS")
            .and_then(Value::as_atoms)
            .map(|atoms| atoms.into_iter().map(String::from).collect())
            .unwrap_or_default();
        let size = fetch_item(&fetched.items, "RFC822.SIZE").and_then(Value::as_number);
        let fields = header_fields(&fetched.items);
        Ok(MessageRecord {
            uid,
            flags,
            size,
            date: fields.date.as_deref().and_then(iso_date),
            from: fields.from.and_then(first_mailbox),
            subject: fields
                .subject
                .map(|raw| rfc2047::header_text(&raw).trim().to_owned()),
            message_id: fields
                .message_id
                .map(|raw| rfc2047::header_text(&raw).trim().to_owned()),
        })
    }

    /// The text line: UID, flags, date, size, from, subject, tab-separated,
    /// `-` for what is missing; server text made printable.
    pub fn text_line(&self) -> String {
        let shown = |v: &Option<String>| v.as_deref().map_or("-".into(), column);
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            self.uid,
            dash_if_empty(&column(&self.flags.join(" "))),
            shown(&self.date),
            self.size.map_or("-".into(), |n| n.to_string()),
            shown(&self.from),
            shown(&self.subject),
        )
    }
}

/// The UID of a FETCH response.
pub fn fetched_uid(fetched: &Fetched) -> Result<u32, Error> {
    fetch_item(&fetched.items, "UID")
        .and_then(Value::as_number)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            Error::protocol(format!(
                "the FETCH response for message {} has no UID",
                fetched.seq
            ))
        })
}

/// `-` for an empty text.
fn dash_if_empty(text: &str) -> String {
    match text.is_empty() {
        true => "-".into(),
        false => text.into(),
    }
}

/// Whether a FETCH response carries the header fields of a listing (not
/// just flags the server sent on its own).
pub fn answers_listing(fetched: &Fetched) -> bool {
    header_item(&fetched.items).is_some()
}

/// The header fields item of a FETCH response, if any.
fn header_item(items: &[(String, Value)]) -> Option<&[u8]> {
    items
        .iter()
        .find(|(name, _)| {
            name.get(..HEADER_ITEM.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(HEADER_ITEM))
        })
        .and_then(|(_, value)| value.as_nstring().flatten())
}

/// The raw, unfolded values of the fields a listing shows.
#[derive(Default)]
struct Fields {
    date: Option<Vec<u8>>,
    from: Option<Vec<u8>>,
    subject: Option<Vec<u8>>,
    message_id: Option<Vec<u8>>,
}

/// The fields of the header text in a FETCH response, each the first of
/// its name, unfolded (RFC 5322 §2.2.3).
fn header_fields(items: &[(String, Value)]) -> Fields {
    let mut fields = Fields::default();
    let Some(data) = header_item(items) else {
        return fields;
    };
    let block = crate::grammar::header::split_header(data, crate::grammar::header::LineEnds::Lf);
    for field in &block.fields {
        let Some(name) = field.name(data) else {
            continue;
        };
        let slot = match name.to_ascii_lowercase().as_slice() {
            b"date" => &mut fields.date,
            b"from" => &mut fields.from,
            b"subject" => &mut fields.subject,
            b"message-id" => &mut fields.message_id,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(unfolded_value(field, data));
        }
    }
    fields
}

/// A field's value: its lines joined without their line ends, from after
/// the colon, leading white space removed.
fn unfolded_value(field: &crate::grammar::header::RawField, data: &[u8]) -> Vec<u8> {
    let mut value = Vec::new();
    for line in &field.lines {
        value.extend_from_slice(data.get(line.clone()).unwrap_or_default());
    }
    let after = memchr::memchr(b':', &value).map_or(value.len(), |colon| colon + 1);
    let start = value[after..]
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .map_or(value.len(), |at| after + at);
    value.split_off(start)
}

/// The first mailbox of a From field, `Name <local@domain>` or the
/// address, its name decoded (RFC 2047); the whole field decoded when it
/// is not an address list.
fn first_mailbox(raw: Vec<u8>) -> Option<String> {
    let text = match std::str::from_utf8(&raw) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        // Raw 8-bit that is not UTF-8: what mail readers take it for.
        Err(_) => crate::decode::charset::windows_1252(&raw),
    };
    let parsed = crate::address::parse_address_list(&text).ok();
    let first = parsed
        .as_deref()
        .and_then(|list| crate::address::mailboxes(list).first().copied().cloned());
    let Some(mailbox) = first else {
        let whole = rfc2047::decode_header_text(&text);
        return Some(whole.trim().to_owned()).filter(|w| !w.is_empty());
    };
    let name = mailbox
        .name
        .as_deref()
        .map(rfc2047::decode_header_text)
        .filter(|n| !n.trim().is_empty());
    Some(match name {
        Some(name) => format!("{} <{}>", name.trim(), mailbox.addr_spec()),
        None => mailbox.addr_spec(),
    })
}

/// A date without its day name: `Mon, 2 Nov 2026 ...` as `2 Nov 2026 ...`.
fn without_day(text: &str) -> &str {
    text.split_once(',').map_or(text, |(_, rest)| rest).trim()
}

/// A Date field (RFC 5322 §3.3, the obsolete zones of §4.3 too) as ISO
/// 8601 with its own offset; None when it cannot be read.
pub fn iso_date(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    let parse = |t: &str| chrono::DateTime::parse_from_rfc2822(t).ok();
    // A trailing comment, `(CET)`, and a day name that does not match the
    // date (written by many programs) do not make the date unreadable.
    let bare = text.rsplit_once('(').map_or(text, |(head, _)| head.trim());
    let date = parse(text)
        .or_else(|| parse(bare))
        .or_else(|| parse(without_day(text)))
        .or_else(|| parse(without_day(bare)))?;
    // RFC 3339 with seconds and the date's own offset.
    Some(date.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_iso() {
        for (raw, iso) in [
            (
                "Sun, 1 Nov 2026 10:00:00 +0100",
                "2026-11-01T10:00:00+01:00",
            ),
            (
                "1 Nov 2026 10:00:00 +0100 (CET)",
                "2026-11-01T10:00:00+01:00",
            ),
            ("Tue, 3 Nov 2026 08:05 GMT", "2026-11-03T08:05:00+00:00"),
            ("Tue, 3 Nov 2026 08:05:09 EST", "2026-11-03T08:05:09-05:00"),
            (
                "Mon, 3 Nov 2026 08:05:09 +0000 (UTC)",
                "2026-11-03T08:05:09+00:00",
            ),
        ] {
            assert_eq!(iso_date(raw.as_bytes()).as_deref(), Some(iso), "{raw}");
        }
        assert_eq!(iso_date(b"yesterday"), None);
        assert_eq!(iso_date(b""), None);
    }

    #[test]
    fn the_first_mailbox_of_from_with_its_name_decoded() {
        let from = |raw: &[u8]| first_mailbox(raw.to_vec());
        assert_eq!(
            from(b"=?UTF-8?Q?J=C3=BCrgen?= <j@example.org>, b@example.org").as_deref(),
            Some("J\u{fc}rgen <j@example.org>")
        );
        assert_eq!(
            from(b"\"Doe, Jane\" <jane@example.org>").as_deref(),
            Some("Doe, Jane <jane@example.org>")
        );
        assert_eq!(
            from(b"friends: a@b.example, c@d.example;").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(
            from(b"J\xfcrgen <j@example.org>").as_deref(),
            Some("J\u{fc}rgen <j@example.org>")
        );
        assert_eq!(from(b"not an address").as_deref(), Some("not an address"));
        assert_eq!(from(b"").as_deref(), None);
    }

    #[test]
    fn header_fields_are_found_whatever_the_item_spelling() {
        let items = vec![(
            "BODY[HEADER.FIELDS (\"DATE\" \"FROM\")]".to_string(),
            Value::String(
                b"subject: one\r\n two\r\nFrom: a@b.example\r\nSubject: later\r\n\r\n".to_vec(),
            ),
        )];
        let fields = header_fields(&items);
        assert_eq!(fields.subject.as_deref(), Some(&b"one two"[..]));
        assert_eq!(fields.from.as_deref(), Some(&b"a@b.example"[..]));
        assert_eq!(fields.date, None);
    }

    #[test]
    fn special_uses_are_picked_from_the_flags() {
        let flags = ["\\HasNoChildren".to_string(), "\\sent".to_string()];
        assert_eq!(special_uses(&flags), ["\\Sent"]);
    }
}
