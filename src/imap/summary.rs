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
        // The four fields shown, read in place (RFC 3501 §7.4.2: date,
        // subject, from, ..., message-id); a malformed ENVELOPE leaves them
        // null rather than dropping the message.
        let fields = fetch_item(&fetched.items, "ENVELOPE")
            .and_then(Value::as_list)
            .filter(|fields| fields.len() == 10);
        let field = |at: usize| fields.and_then(|f| f[at].as_nstring()).flatten();
        Ok(MessageRecord {
            uid,
            flags,
            size,
            date: field(0).and_then(iso_date),
            from: fields.and_then(|f| first_address(&f[2])),
            subject: field(1).map(rfc2047::header_text),
            message_id: field(9).map(rfc2047::header_text),
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

/// The first mailbox of an ENVELOPE address list (RFC 3501 §7.4.2: each
/// address a list of name, route, mailbox and host; a NIL host marks a
/// group's start or end): `Name <local@domain>` or the address.
fn first_address(list: &Value) -> Option<String> {
    let parts = list.as_list()?.iter().find_map(|address| {
        let parts = address.as_list().filter(|p| p.len() == 4)?;
        parts[3].as_nstring().flatten().is_some().then_some(parts)
    })?;
    let text = |at: usize| parts[at].as_nstring().flatten().unwrap_or(b"");
    let spec = format!(
        "{}@{}",
        String::from_utf8_lossy(text(2)),
        String::from_utf8_lossy(text(3))
    );
    let name = rfc2047::header_text(text(0));
    Some(match name.trim() {
        "" => spec,
        name => format!("{name} <{spec}>"),
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

    fn address(name: Option<&str>, mailbox: Option<&str>, host: Option<&str>) -> Value {
        let text = |v: Option<&str>| v.map_or(Value::Nil, |v| Value::String(v.into()));
        Value::List(vec![text(name), Value::Nil, text(mailbox), text(host)])
    }

    #[test]
    fn first_address_skips_group_markers_and_decodes_names() {
        let list = Value::List(vec![
            address(None, Some("friends"), None),
            address(
                Some("=?UTF-8?Q?J=C3=BCrgen?="),
                Some("j"),
                Some("example.org"),
            ),
        ]);
        assert_eq!(
            first_address(&list).as_deref(),
            Some("Jürgen <j@example.org>")
        );
        let one = Value::List(vec![address(None, Some("a"), Some("b.example"))]);
        assert_eq!(first_address(&one).as_deref(), Some("a@b.example"));
        assert_eq!(first_address(&Value::Nil), None);
    }

    #[test]
    fn special_uses_are_picked_from_the_flags() {
        let flags = ["\\HasNoChildren".to_string(), "\\sent".to_string()];
        assert_eq!(special_uses(&flags), ["\\Sent"]);
    }
}
