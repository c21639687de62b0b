//! What `imap-list` reports about folders and messages, one record each:
//! a folder from LIST (and STATUS), a message from `UID FETCH (UID FLAGS
//! RFC822.SIZE ENVELOPE)`, its header texts decoded (RFC 2047) and its date
//! written as ISO 8601.

use serde::Serialize;

use crate::decode::rfc2047;
use crate::error::Error;
use crate::imap::response::{Address, Envelope, Value, fetch_item};
use crate::imap::session::{Fetched, Folder};

/// The FETCH items a message listing asks for: nothing that sets `\Seen`.
pub const MESSAGE_ITEMS: &str = "(UID FLAGS RFC822.SIZE ENVELOPE)";

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
            crate::output::printable(&self.name),
            count(self.messages),
            count(self.unseen),
            dash_if_empty(&self.special_use.join(" ")),
        )
    }
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
        let envelope = fetch_item(&fetched.items, "ENVELOPE")
            .and_then(|value| Envelope::from_value(value).ok());
        let text = |raw: &Option<Vec<u8>>| raw.as_deref().map(rfc2047::header_text);
        Ok(MessageRecord {
            uid,
            flags,
            size,
            date: envelope.as_ref().and_then(|e| iso_date(e.date.as_deref()?)),
            from: envelope.as_ref().and_then(|e| first_address(&e.from)),
            subject: envelope.as_ref().and_then(|e| text(&e.subject)),
            message_id: envelope.as_ref().and_then(|e| text(&e.message_id)),
        })
    }

    /// The text line: UID, flags, date, size, from, subject, tab-separated,
    /// `-` for what is missing; server text made printable.
    pub fn text_line(&self) -> String {
        let shown = |v: &Option<String>| {
            v.as_deref()
                .map_or("-".into(), |v| crate::output::printable(v).into_owned())
        };
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            self.uid,
            dash_if_empty(&crate::output::printable(&self.flags.join(" "))),
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

/// The first mailbox of an address list (RFC 3501 §7.4.2: a NIL host
/// marks a group's start or end): `Name <local@domain>` or the address.
fn first_address(list: &[Address]) -> Option<String> {
    let address = list.iter().find(|a| a.host.is_some())?;
    let part =
        |raw: &Option<Vec<u8>>| String::from_utf8_lossy(raw.as_deref().unwrap_or(b"")).into_owned();
    let spec = format!("{}@{}", part(&address.mailbox), part(&address.host));
    let name = address
        .name
        .as_deref()
        .map(rfc2047::header_text)
        .filter(|n| !n.trim().is_empty());
    Some(match name {
        Some(name) => format!("{} <{spec}>", name.trim()),
        None => spec,
    })
}

/// A Date field (RFC 5322 §3.3, the obsolete zones of §4.3 too) as ISO
/// 8601 with its own offset; None when it cannot be read.
pub fn iso_date(raw: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    // A trailing comment, `(CET)`, and a day name that does not match the
    // date (written by many programs) do not make the date unreadable.
    let bare = text.rsplit_once('(').map_or(text, |(head, _)| head.trim());
    let no_day = |t: &'_ str| {
        t.split_once(',')
            .map_or(t, |(_, rest)| rest)
            .trim()
            .to_owned()
    };
    [text.to_owned(), bare.to_owned(), no_day(text), no_day(bare)]
        .iter()
        .find_map(|t| chrono::DateTime::parse_from_rfc2822(t).ok())
        .map(|date| date.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
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

    fn address(name: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> Address {
        let bytes = |v: Option<&str>| v.map(|v| v.as_bytes().to_vec());
        Address {
            name: bytes(name),
            adl: None,
            mailbox: bytes(mailbox),
            host: bytes(host),
        }
    }

    #[test]
    fn first_address_skips_group_markers_and_decodes_names() {
        let list = [
            address(None, Some("friends"), None),
            address(
                Some("=?UTF-8?Q?J=C3=BCrgen?="),
                Some("j"),
                Some("example.org"),
            ),
        ];
        assert_eq!(
            first_address(&list).as_deref(),
            Some("Jürgen <j@example.org>")
        );
        assert_eq!(
            first_address(&[address(None, Some("a"), Some("b.example"))]).as_deref(),
            Some("a@b.example")
        );
        assert_eq!(first_address(&[]), None);
    }

    #[test]
    fn special_uses_are_picked_from_the_flags() {
        let flags = ["\\HasNoChildren".to_string(), "\\sent".to_string()];
        assert_eq!(special_uses(&flags), ["\\Sent"]);
    }
}
