//! Address fields (RFC 5322 §3.4, §3.6.2, §3.6.3; RFC 6532 §3.2): the list
//! parsed by [`crate::address`], the rules on groups, single mailboxes and
//! non-ASCII addresses, and the lexemes that locate them.

use crate::address::{self, Address};
use crate::grammar::lex::{Cursor, Mode, is_fws_byte, show};

use super::{Finding, finding, is_atext_byte};

// ---- lexemes of address fields (RFC 5322 §3.2, §3.4) ----

/// What a lexeme of an address field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A run of atext and dots.
    Word,
    Quoted,
    /// A domain literal, "[...]".
    Literal,
    Comment,
    /// Any other ASCII character: `<`, `>`, `@`, `,`, `:`, `;`, ...
    Special(u8),
}

/// One lexeme: its kind and byte range, delimiters included.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lexeme {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// The lexemes of a value, white space left out. Never fails: an
/// unterminated quoted string, literal or comment runs to the end.
pub(super) fn lexemes(text: &str) -> Vec<Lexeme> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(&b) = bytes.get(pos) {
        let start = pos;
        let kind = match b {
            _ if is_fws_byte(b) => {
                pos += 1;
                continue;
            }
            b'"' => Kind::Quoted,
            b'[' => Kind::Literal,
            b'(' => Kind::Comment,
            _ if is_atext_byte(b) || b == b'.' => Kind::Word,
            _ => Kind::Special(b),
        };
        pos = lexeme_end(text, start, kind);
        out.push(Lexeme {
            kind,
            start,
            end: pos,
        });
    }
    out
}

/// Where the lexeme of `kind` starting at `start` ends.
fn lexeme_end(text: &str, start: usize, kind: Kind) -> usize {
    let rest = text.as_bytes().get(start..).unwrap_or_default();
    let end = match kind {
        Kind::Word => rest
            .iter()
            .take_while(|&&b| is_atext_byte(b) || b == b'.')
            .count(),
        Kind::Special(_) => 1,
        Kind::Quoted => delimited_end(rest, b'"'),
        Kind::Literal => delimited_end(rest, b']'),
        Kind::Comment => {
            let mut cur = Cursor { text, pos: start };
            let _ = cur.comment(Mode::Lenient);
            cur.pos - start
        }
    };
    start + end.min(rest.len())
}

/// Length of a quoted string or literal up to its `close`, quoted-pairs
/// skipped; the whole of `rest` when it is not closed.
fn delimited_end(rest: &[u8], close: u8) -> usize {
    let mut i = 1;
    while let Some(&b) = rest.get(i) {
        match b {
            b'\\' => i += 2,
            _ if b == close => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// Whether the lexeme at `i` is next to an '@' (comments aside): then it is
/// the local part or the domain of an addr-spec.
pub(super) fn beside_at(lexemes: &[Lexeme], i: usize) -> bool {
    let is_at = |l: &Lexeme| l.kind == Kind::Special(b'@');
    let not_comment = |l: &&Lexeme| l.kind != Kind::Comment;
    let before = lexemes.get(..i).unwrap_or_default();
    let after = lexemes.get(i + 1..).unwrap_or_default();
    before.iter().rev().find(not_comment).is_some_and(is_at)
        || after.iter().find(not_comment).is_some_and(is_at)
}

// ---- address lists (RFC 5322 §3.4, §3.6.2, §3.6.3) ----

/// Address lists (From, To, Cc, Bcc, Reply-To, Resent-*), parsed by
/// [`crate::address::parse_address_list`]; rule "address-syntax" for its
/// error, at its offset. `allow_group` false for From/Sender (RFC 5322
/// §3.6.2: a mailbox-list or a mailbox, no group); `single` true for Sender
/// (exactly one mailbox); `allow_empty` for Bcc (RFC 5322 §3.6.3: empty or
/// only comments). A non-ASCII local part or domain is an "address-syntax"
/// finding unless `smtputf8` (RFC 6532 §3.2); non-ASCII display names and
/// comments are not (raw 8-bit bytes are the caller's rule).
pub fn check_address_list(
    value: &str,
    allow_group: bool,
    single: bool,
    allow_empty: bool,
    smtputf8: bool,
) -> Vec<Finding> {
    if allow_empty && is_blank(value) {
        return Vec::new();
    }
    let list = match address::parse_address_list(value) {
        Ok(list) => list,
        Err(e) => return vec![finding("address-syntax", e.offset, e.message)],
    };
    let lexemes = lexemes(value);
    let starts = address_starts(&lexemes);
    let mut out = Vec::new();
    if !allow_group {
        group_findings(&list, &starts, &mut out);
    }
    if single {
        single_findings(&list, &starts, allow_group, &mut out);
    }
    if !smtputf8 {
        non_ascii_findings(value, &lexemes, &mut out);
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// How many mailboxes a From value names, group members included (0 if it
/// does not parse), for "Sender required when From has several mailboxes"
/// (RFC 5322 §3.6.2), which the caller reports.
pub fn mailbox_count(value: &str) -> usize {
    address::parse_address_list(value).map_or(0, |list| address::mailboxes(&list).len())
}

/// Whether the value holds only white space and comments.
fn is_blank(value: &str) -> bool {
    let mut cursor = Cursor::new(value);
    cursor.skip_cfws(Mode::Strict).is_ok() && cursor.at_end()
}

/// Where each top-level address of a parsed list starts.
fn address_starts(lexemes: &[Lexeme]) -> Vec<usize> {
    let mut starts = Vec::new();
    let (mut in_angle, mut in_group, mut next_starts) = (false, false, true);
    for lexeme in lexemes.iter().filter(|l| l.kind != Kind::Comment) {
        if next_starts {
            starts.push(lexeme.start);
            next_starts = false;
        }
        match lexeme.kind {
            Kind::Special(b'<') => in_angle = true,
            Kind::Special(b'>') => in_angle = false,
            Kind::Special(b':') if !in_angle => in_group = true,
            Kind::Special(b';') => in_group = false,
            Kind::Special(b',') if !in_angle && !in_group => next_starts = true,
            _ => {}
        }
    }
    starts
}

fn group_findings(list: &[Address], starts: &[usize], out: &mut Vec<Finding>) {
    for (i, address) in list.iter().enumerate() {
        if let Address::Group { name, .. } = address {
            let message = format!(
                "group {} is not allowed here: this field takes mailboxes only \
                 (RFC 5322 §3.6.2)",
                show(name)
            );
            out.push(finding("address-syntax", offset_of(starts, i), message));
        }
    }
}

fn single_findings(list: &[Address], starts: &[usize], allow_group: bool, out: &mut Vec<Finding>) {
    let count = address::mailboxes(list).len();
    let several = list.len() > 1;
    // A lone group was reported as a group when groups are refused.
    if several || (allow_group && count != 1) {
        let message =
            format!("exactly one mailbox is allowed here (RFC 5322 §3.6.2), found {count}");
        let at = if several { offset_of(starts, 1) } else { 0 };
        out.push(finding("address-syntax", at, message));
    }
}

fn offset_of(starts: &[usize], i: usize) -> usize {
    starts.get(i).copied().unwrap_or(0)
}

/// Non-ASCII local parts and domains: the lexemes on either side of each '@'.
fn non_ascii_findings(value: &str, lexemes: &[Lexeme], out: &mut Vec<Finding>) {
    let mut code = lexemes.iter().filter(|l| l.kind != Kind::Comment);
    let mut previous: Option<&Lexeme> = None;
    while let Some(lexeme) = code.next() {
        if lexeme.kind == Kind::Special(b'@') {
            let parts = [(previous, "local part"), (code.clone().next(), "domain")];
            for (part, what) in parts {
                if let Some(at) = part.and_then(|l| first_non_ascii(value, l)) {
                    out.push(finding("address-syntax", at, non_ascii_message(what)));
                }
            }
        }
        previous = Some(lexeme);
    }
}

fn first_non_ascii(value: &str, lexeme: &Lexeme) -> Option<usize> {
    let text = value.as_bytes().get(lexeme.start..lexeme.end)?;
    text.iter()
        .position(|b| !b.is_ascii())
        .map(|i| lexeme.start + i)
}

fn non_ascii_message(what: &str) -> String {
    match what {
        "domain" => "non-ASCII domain without SMTPUTF8 (RFC 6532 §3.2); write it as \
                     A-labels (xn--..., RFC 5890)"
            .into(),
        _ => "non-ASCII local part without SMTPUTF8 (RFC 6532 §3.2): only SMTPUTF8 \
              transport can deliver it"
            .into(),
    }
}
