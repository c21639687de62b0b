//! Mailbox names on the IMAP wire: modified UTF-7 (RFC 3501 §5.1.3), or
//! UTF-8 once `UTF8=ACCEPT` is enabled (RFC 6855 §3).
//!
//! # Modified UTF-7
//!
//! Printable US-ASCII (0x20–0x7E) stands for itself, except `&`, which is
//! written `&-`. Every other run of characters is written as `&`, the
//! modified base64 (`,` in place of `/`, no `=` padding) of its UTF-16BE
//! code units, and `-`; characters outside the BMP take a surrogate pair.
//! `~peter/mail/台北/日本語` is `~peter/mail/&U,BTFw-/&ZeVnLIqe-`.
//!
//! This is not the UTF-7 of RFC 2152 that message bodies use
//! (`crate::decode::utf7`): there `+` opens a run, `/` is a base64
//! character, runs may end without `-` and may encode printable text.
//!
//! # Strict and lenient decoding
//!
//! [`decode`] accepts exactly what [`encode`] produces, so that a name
//! decodes to one text and that text encodes back to the same octets. It
//! refuses (a [`NameError`], with the offset of the fault):
//!
//! - an octet outside printable US-ASCII, which must have been encoded;
//! - a run not closed by `-` (a non-base64 octet, or the end);
//! - a run that ends inside a UTF-16 unit: an odd number of octets, or a
//!   base64 character that completes no octet;
//! - non-zero bits after the last unit;
//! - a surrogate without its partner;
//! - a printable US-ASCII character inside a run, which must have been
//!   written as itself (Dovecot refuses these too);
//! - two runs back to back (`&AOQ-&APY-` is `&AOQA9g-`).
//!
//! A server may still hold names that break these rules, and RFC 3501
//! §5.1.3 asks clients not to fail on them. [`decode_lossy`] never fails:
//! runs that decode are decoded, runs that do not are kept as the octets
//! they were, 8-bit octets are read as UTF-8 (U+FFFD where they are not),
//! and the result says whether anything broke the rules. It gives the
//! same text as [`decode`] whenever that succeeds.
//!
//! # Hierarchy
//!
//! Names are not split here: a name the user types may hold the server's
//! delimiter and is sent whole. [`split_levels`] and [`join_levels`] cut
//! and build wire names at a delimiter octet without ever looking inside
//! an encoded run, where a delimiter such as `+` or `,` can appear as a
//! base64 character.

use std::fmt;

use crate::error::{Error, ErrorKind};

/// The modified base64 alphabet (RFC 3501 §5.1.3: RFC 2045's, with `,`
/// for `/`).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// How mailbox names travel on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameForm {
    /// Modified UTF-7 (RFC 3501 §5.1.3): the IMAP4rev1 default.
    Utf7,
    /// UTF-8 as it is, after `ENABLE UTF8=ACCEPT` (RFC 6855 §3); `&` is
    /// then an ordinary character.
    Utf8,
}

/// Why a wire name is not valid in its form; `at` is the offset of the
/// offending octet, or of the `&` opening the offending run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameError {
    /// An octet outside printable US-ASCII where the name is not encoded.
    Unencoded {
        /// Offset of the octet.
        at: usize,
    },
    /// A run not closed by `-`: another octet, or the end, follows its
    /// base64.
    Unterminated {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run whose base64 ends with a character that completes no octet.
    SpareCharacter {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run that decodes to an odd number of octets: half a UTF-16 unit.
    OddOctets {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run whose bits after its last unit are not all zero.
    NonZeroPadding {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run holding a surrogate without its partner.
    UnpairedSurrogate {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run holding a printable US-ASCII character, which must have been
    /// written as itself.
    PrintableEncoded {
        /// Offset of the run's `&`.
        at: usize,
    },
    /// A run right after another: the two must be one.
    AdjacentRuns {
        /// Offset of the second run's `&`.
        at: usize,
    },
    /// A UTF-8 name (RFC 6855) that is not UTF-8.
    InvalidUtf8 {
        /// Offset of the first invalid octet.
        at: usize,
    },
}

impl NameError {
    /// The offset the error points at.
    pub fn offset(self) -> usize {
        use NameError as E;
        match self {
            E::Unencoded { at }
            | E::Unterminated { at }
            | E::SpareCharacter { at }
            | E::OddOctets { at }
            | E::NonZeroPadding { at }
            | E::UnpairedSurrogate { at }
            | E::PrintableEncoded { at }
            | E::AdjacentRuns { at }
            | E::InvalidUtf8 { at } => at,
        }
    }

    /// What is wrong, without the offset.
    fn what(self) -> &'static str {
        use NameError as E;
        match self {
            E::Unencoded { .. } => "an octet outside printable US-ASCII",
            E::Unterminated { .. } => "an encoded run not closed by '-'",
            E::SpareCharacter { .. } => "an encoded run with a base64 character too many",
            E::OddOctets { .. } => "an encoded run of an odd number of octets",
            E::NonZeroPadding { .. } => "an encoded run with non-zero padding bits",
            E::UnpairedSurrogate { .. } => "an encoded run with an unpaired surrogate",
            E::PrintableEncoded { .. } => "printable US-ASCII inside an encoded run",
            E::AdjacentRuns { .. } => "two encoded runs back to back",
            E::InvalidUtf8 { .. } => "invalid UTF-8",
        }
    }
}

impl fmt::Display for NameError {
    /// `invalid mailbox name: <what> at offset N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset();
        write!(f, "invalid mailbox name: {} at offset {at}", self.what())
    }
}

impl std::error::Error for NameError {}

impl From<NameError> for Error {
    /// A server's name that breaks the rules is a protocol error.
    fn from(e: NameError) -> Self {
        Error::new(ErrorKind::Protocol, e.to_string())
    }
}

/// Whether `c` stands for itself in modified UTF-7 (RFC 3501 §5.1.3:
/// 0x20–0x7E; `&` too, though written `&-`).
fn is_printable(c: u32) -> bool {
    (0x20..=0x7e).contains(&c)
}

/// The name in modified UTF-7 (RFC 3501 §5.1.3); see the module comment.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + name.len() / 2);
    let mut units: Vec<u16> = Vec::new();
    for c in name.chars() {
        if is_printable(c as u32) {
            flush_run(&mut units, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut pair = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut pair));
        }
    }
    flush_run(&mut units, &mut out);
    out
}

/// Writes `&`, the modified base64 of `units` (UTF-16BE) and `-`, if any
/// units are pending, and empties them.
fn flush_run(units: &mut Vec<u16>, out: &mut String) {
    if units.is_empty() {
        return;
    }
    out.push('&');
    let mut bits: u32 = 0;
    let mut count: u32 = 0;
    for octet in units.iter().flat_map(|u| u.to_be_bytes()) {
        bits = (bits << 8) | u32::from(octet);
        count += 8;
        while count >= 6 {
            count -= 6;
            out.push(char::from(ALPHABET[(bits >> count) as usize & 63]));
        }
    }
    if count > 0 {
        out.push(char::from(ALPHABET[(bits << (6 - count)) as usize & 63]));
    }
    out.push('-');
    units.clear();
}

/// The name a modified UTF-7 wire name stands for, refusing any name
/// [`encode`] would not have produced (RFC 3501 §5.1.3; the list is in
/// the module comment).
pub fn decode(wire: &[u8]) -> Result<String, NameError> {
    let mut out = String::with_capacity(wire.len());
    match decode_into(wire, &mut out) {
        None => Ok(out),
        Some(e) => Err(e),
    }
}

/// The name a modified UTF-7 wire name stands for, for display: never
/// fails, and the flag is `true` when the name broke a rule (exactly when
/// [`decode`] fails). Runs that break no more than the canonical-form
/// rules (printable text inside, two runs back to back) are decoded;
/// others are kept as their octets; 8-bit octets are read as UTF-8.
pub fn decode_lossy(wire: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(wire.len());
    let broken = decode_into(wire, &mut out).is_some();
    (out, broken)
}

/// Decodes `wire` leniently into `out` and returns the first rule the
/// name breaks, if any.
fn decode_into(wire: &[u8], out: &mut String) -> Option<NameError> {
    let mut first = None;
    let mut pos = 0;
    let mut after_run = false;
    while pos < wire.len() {
        let (next, error, was_run) = match wire[pos] {
            b'&' => decode_shift(wire, pos, after_run, out),
            b if is_printable(u32::from(b)) => {
                out.push(char::from(b));
                (pos + 1, None, false)
            }
            _ => unencoded(wire, pos, out),
        };
        first = first.or(error);
        after_run = was_run;
        pos = next;
    }
    first
}

/// Copies the octets outside printable US-ASCII from `pos` on into `out`
/// as UTF-8 (U+FFFD where they are not); returns where they end.
fn unencoded(wire: &[u8], pos: usize, out: &mut String) -> (usize, Option<NameError>, bool) {
    let len = wire[pos..]
        .iter()
        .take_while(|&&b| !is_printable(u32::from(b)))
        .count();
    out.push_str(&String::from_utf8_lossy(&wire[pos..pos + len]));
    (pos + len, Some(NameError::Unencoded { at: pos }), false)
}

/// Decodes the `&` at `pos`: `&-`, or a run. Returns where it ends, the
/// first rule it breaks, and whether it was a run.
fn decode_shift(
    wire: &[u8],
    pos: usize,
    after_run: bool,
    out: &mut String,
) -> (usize, Option<NameError>, bool) {
    let body = &wire[pos + 1..];
    let len = body.iter().take_while(|&&b| sextet(b).is_some()).count();
    let closed = body.get(len) == Some(&b'-');
    let end = pos + 1 + len + usize::from(closed);
    if len == 0 && closed {
        out.push('&');
        return (end, None, false);
    }
    if !closed {
        push_ascii(&wire[pos..end], out);
        return (end, Some(NameError::Unterminated { at: pos }), true);
    }
    let adjacent = after_run.then_some(NameError::AdjacentRuns { at: pos });
    match decode_run(&body[..len], pos) {
        Ok(text) => {
            let printable = text.chars().any(|c| is_printable(c as u32));
            let error = printable.then_some(NameError::PrintableEncoded { at: pos });
            out.push_str(&text);
            (end, adjacent.or(error), true)
        }
        Err(e) => {
            push_ascii(&wire[pos..end], out);
            (end, adjacent.or(Some(e)), true)
        }
    }
}

/// Appends octets already known to be US-ASCII.
fn push_ascii(octets: &[u8], out: &mut String) {
    out.extend(octets.iter().map(|&b| char::from(b)));
}

/// The value of a modified base64 character.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b',' => Some(63),
        _ => None,
    }
}

/// The text of a run's base64 (without `&` and `-`), or the rule it
/// breaks; `at` is the offset of its `&`.
fn decode_run(base64: &[u8], at: usize) -> Result<String, NameError> {
    let units = run_units(base64, at)?;
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| NameError::UnpairedSurrogate { at })
}

/// The UTF-16 units of a run's base64, checking that it ends on a unit
/// with zero bits after it.
fn run_units(base64: &[u8], at: usize) -> Result<Vec<u16>, NameError> {
    let mut units = Vec::with_capacity(base64.len() * 3 / 8);
    let mut bits: u32 = 0;
    let mut count: u32 = 0;
    for &b in base64 {
        bits = (bits << 6) | u32::from(sextet(b).unwrap_or(0));
        count += 6;
        if count >= 16 {
            count -= 16;
            units.push((bits >> count) as u16);
        }
    }
    match count {
        8.. => Err(NameError::OddOctets { at }),
        6..8 => Err(NameError::SpareCharacter { at }),
        _ if bits & ((1 << count) - 1) != 0 => Err(NameError::NonZeroPadding { at }),
        _ => Ok(units),
    }
}

/// The wire octets of a name as the user typed it, in `form` (RFC 3501
/// §5.1.3; RFC 6855 §3). The name is taken as it is: a name that looks
/// encoded already (`Entw&APw-rfe`) is a name with an `&` in it.
pub fn to_wire(name: &str, form: NameForm) -> Vec<u8> {
    match form {
        NameForm::Utf7 => encode(name).into_bytes(),
        NameForm::Utf8 => name.as_bytes().to_vec(),
    }
}

/// The name a server's wire octets in `form` stand for, strictly: what
/// [`decode`] refuses, or a UTF-8 name that is not UTF-8.
pub fn from_wire(wire: &[u8], form: NameForm) -> Result<String, NameError> {
    match form {
        NameForm::Utf7 => decode(wire),
        NameForm::Utf8 => {
            std::str::from_utf8(wire)
                .map(str::to_owned)
                .map_err(|e| NameError::InvalidUtf8 {
                    at: e.valid_up_to(),
                })
        }
    }
}

/// The name a server's wire octets in `form` stand for, for display:
/// never fails, and the flag is `true` when [`from_wire`] would have.
pub fn display_name(wire: &[u8], form: NameForm) -> (String, bool) {
    match form {
        NameForm::Utf7 => decode_lossy(wire),
        NameForm::Utf8 => match String::from_utf8_lossy(wire) {
            std::borrow::Cow::Borrowed(text) => (text.to_owned(), false),
            std::borrow::Cow::Owned(text) => (text, true),
        },
    }
}

/// A wire name cut at each `delimiter` octet (a hierarchy level each),
/// never inside an encoded run in [`NameForm::Utf7`] (where `&` opens a
/// run that ends at `-`, so a delimiter `&` never cuts). Levels may be
/// empty; joining them with [`join_levels`] gives the name back.
pub fn split_levels(wire: &[u8], delimiter: u8, form: NameForm) -> Vec<&[u8]> {
    let mut levels = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < wire.len() {
        if form == NameForm::Utf7 && wire[pos] == b'&' {
            pos = run_end(wire, pos);
            continue;
        }
        if wire[pos] == delimiter {
            levels.push(&wire[start..pos]);
            start = pos + 1;
        }
        pos += 1;
    }
    levels.push(&wire[start..]);
    levels
}

/// Where the `&` at `pos` and its run end: after the `-`, or at the
/// first octet that is neither base64 nor `-`.
fn run_end(wire: &[u8], pos: usize) -> usize {
    let body = &wire[pos + 1..];
    let len = body.iter().take_while(|&&b| sextet(b).is_some()).count();
    pos + 1 + len + usize::from(body.get(len) == Some(&b'-'))
}

/// Wire levels joined by `delimiter` into one wire name. In modified
/// UTF-7 the result is what [`encode`] gives for the decoded levels
/// joined by the delimiter, as long as the delimiter is printable
/// US-ASCII other than `&` (a run never spans it).
pub fn join_levels<L: AsRef<[u8]>>(levels: &[L], delimiter: u8) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        out.extend_from_slice(level.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_3501_example() {
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        let name = "~peter/mail/台北/日本語";
        assert_eq!(encode(name), wire);
        assert_eq!(decode(wire.as_bytes()).unwrap(), name);
    }

    #[test]
    fn umlaut_and_ampersand() {
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(decode(b"Entw&APw-rfe").unwrap(), "Entwürfe");
        assert_eq!(encode("&"), "&-");
        assert_eq!(decode(b"&-").unwrap(), "&");
        assert_eq!(encode("a&b&&"), "a&-b&-&-");
        assert_eq!(encode("ä&"), "&AOQ-&-");
        assert_eq!(decode(b"&AOQ-&-").unwrap(), "ä&");
        assert_eq!(encode(""), "");
        assert_eq!(decode(b"").unwrap(), "");
    }

    #[test]
    fn outside_the_bmp_takes_surrogate_pairs() {
        // U+1F4E7 is D83D DCE7; U+1F600 is D83D DE00.
        assert_eq!(encode("📧"), "&2D3c5w-");
        assert_eq!(encode("Post 📧😀"), "Post &2D3c59g93gA-");
        for name in ["📧", "Post 📧😀", "a😀b", "😀 ä 𝄞"] {
            assert_eq!(decode(encode(name).as_bytes()).unwrap(), name);
        }
    }

    #[test]
    fn controls_are_encoded() {
        assert_eq!(encode("a\tb\u{7f}"), "a&AAk-b&AH8-");
        assert_eq!(decode(b"a&AAk-b&AH8-").unwrap(), "a\tb\u{7f}");
    }

    #[test]
    fn strict_rejects() {
        use NameError as E;
        let cases: [(&[u8], NameError); 14] = [
            (b"Entw\xc3\xbcrfe", E::Unencoded { at: 4 }),
            (b"a\tb", E::Unencoded { at: 1 }),
            (b"a\x7f", E::Unencoded { at: 1 }),
            (b"&APw", E::Unterminated { at: 0 }),
            (b"x&APw.", E::Unterminated { at: 1 }),
            (b"&", E::Unterminated { at: 0 }),
            (b"&APw=-", E::Unterminated { at: 0 }),
            (b"&A-", E::SpareCharacter { at: 0 }),
            (b"&APwA-", E::OddOctets { at: 0 }),
            (b"&APx-", E::NonZeroPadding { at: 0 }),
            (b"&2D0-", E::UnpairedSurrogate { at: 0 }),
            (b"&AGE-", E::PrintableEncoded { at: 0 }),
            (b"&AGEA5A-", E::PrintableEncoded { at: 0 }),
            (b"&AOQ-&APY-", E::AdjacentRuns { at: 5 }),
        ];
        for (wire, error) in cases {
            assert_eq!(
                decode(wire),
                Err(error),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
            let (_, broken) = decode_lossy(wire);
            assert!(broken);
        }
        assert_eq!(decode(b"&AGE-&AGE-"), Err(E::PrintableEncoded { at: 0 }));
        assert_eq!(decode(b"&3gA-"), Err(E::UnpairedSurrogate { at: 0 }));
        assert_eq!(decode(b"&AOQA9g-").unwrap(), "äö");
    }

    #[test]
    fn lossy_keeps_what_breaks() {
        assert_eq!(decode_lossy(b"Entw&APw-rfe"), ("Entwürfe".into(), false));
        assert_eq!(
            decode_lossy("Entwürfe".as_bytes()),
            ("Entwürfe".into(), true)
        );
        assert_eq!(decode_lossy(b"a\xffb"), ("a\u{fffd}b".into(), true));
        assert_eq!(decode_lossy(b"a&APw"), ("a&APw".into(), true));
        assert_eq!(decode_lossy(b"&2D0-x"), ("&2D0-x".into(), true));
        assert_eq!(decode_lossy(b"&AGE-"), ("a".into(), true));
        assert_eq!(decode_lossy(b"&AOQ-&APY-"), ("äö".into(), true));
        assert_eq!(decode_lossy(b"& &-"), ("& &".into(), true));
    }

    #[test]
    fn forms() {
        let name = "Entwürfe & Co";
        assert_eq!(to_wire(name, NameForm::Utf7), b"Entw&APw-rfe &- Co");
        assert_eq!(to_wire(name, NameForm::Utf8), name.as_bytes());
        for form in [NameForm::Utf7, NameForm::Utf8] {
            let wire = to_wire(name, form);
            assert_eq!(from_wire(&wire, form).unwrap(), name);
            assert_eq!(display_name(&wire, form), (name.into(), false));
        }
        assert_eq!(from_wire(b"a&b", NameForm::Utf8).unwrap(), "a&b");
        assert_eq!(
            from_wire(b"ab\xff", NameForm::Utf8),
            Err(NameError::InvalidUtf8 { at: 2 })
        );
        assert_eq!(
            display_name(b"ab\xff", NameForm::Utf8),
            ("ab\u{fffd}".into(), true)
        );
    }

    #[test]
    fn levels_never_cut_runs() {
        let wire = b"~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        let levels = split_levels(wire, b'/', NameForm::Utf7);
        assert_eq!(
            levels,
            [&b"~peter"[..], b"mail", b"&U,BTFw-", b"&ZeVnLIqe-"]
        );
        assert_eq!(join_levels(&levels, b'/'), wire);
        let comma = split_levels(b"a,&U,BTFw-,b", b',', NameForm::Utf7);
        assert_eq!(comma, [&b"a"[..], b"&U,BTFw-", b"b"]);
        let utf8 = split_levels(b"a&b/c", b'&', NameForm::Utf8);
        assert_eq!(utf8, [&b"a"[..], b"b/c"]);
        assert_eq!(split_levels(b"", b'/', NameForm::Utf7), [&b""[..]]);
        assert_eq!(
            split_levels(b"/a/", b'/', NameForm::Utf7),
            [&b""[..], b"a", b""]
        );
    }

    #[test]
    fn protocol_error() {
        let e: Error = NameError::OddOctets { at: 3 }.into();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.to_string().contains("offset 3"));
    }
}
