//! RFC 2047 encoded-words in header fields: where they may stand (§5), and
//! their syntax, length, charset, encoding and payload (§2, §4), read by the
//! strict mode of the one encoded-word reader, [`crate::decode::rfc2047`].

use super::address::{Kind, beside_at, lexemes};
use super::{Finding, finding};
use crate::decode::rfc2047::{EncodedWord, Lookup, QChars, check_b, check_q, encoded_word};
use crate::decode::{is_known_charset, to_utf8};
use crate::grammar::lex::{Mode, is_fws_byte, show};

/// Where a field's text may hold RFC 2047 encoded-words (RFC 2047 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordContext {
    /// Unstructured fields (Subject, Comments, X-*): an encoded-word must
    /// be a whole word, separated from other text by white space.
    Unstructured,
    /// Address fields: encoded-words as words of a display name or in
    /// comments; never inside a quoted string or an addr-spec.
    Phrase,
    /// Structured fields (Message-ID, Date, Content-Type, ...): nothing is
    /// decoded, nothing is reported.
    None,
}

/// How the encoded-words of one stretch of a value are treated.
#[derive(Debug, Clone, Copy)]
enum Zone {
    /// Decoded: every check applies.
    Words(QChars),
    /// Not decoded (the reason says where): only the placement warning.
    Forbidden(&'static str),
}

/// RFC 2047 encoded-words in a value. `context` says where the field's text
/// may hold them (see [`WordContext`]). Rules: "encoded-word-length",
/// "encoded-word-charset", "encoded-word-encoding", "encoded-word-payload"
/// (errors), "encoded-word-placement" and "encoded-word-syntax" (warnings).
/// A word that conforming readers would not decode (inside a quoted string
/// or an addr-spec) gets only the placement warning.
pub fn check_encoded_words(value: &str, context: WordContext) -> Vec<Finding> {
    let mut out = Vec::new();
    match context {
        WordContext::Unstructured => {
            scan_zone(value, (0, value.len()), Zone::Words(QChars::Text), &mut out);
        }
        WordContext::Phrase => phrase_words(value, &mut out),
        WordContext::None => {}
    }
    out
}

/// The zones of an address field, lexeme by lexeme.
fn phrase_words(value: &str, out: &mut Vec<Finding>) {
    let lexemes = lexemes(value);
    let mut in_angle = false;
    for (i, lexeme) in lexemes.iter().enumerate() {
        let zone = match lexeme.kind {
            Kind::Special(b) => {
                in_angle = (in_angle || b == b'<') && b != b'>';
                continue;
            }
            Kind::Comment => Zone::Words(QChars::Comment),
            Kind::Literal => Zone::Forbidden("inside an addr-spec"),
            _ if in_angle || beside_at(&lexemes, i) => Zone::Forbidden("inside an addr-spec"),
            Kind::Quoted => Zone::Forbidden("inside a quoted string"),
            Kind::Word => Zone::Words(QChars::Phrase),
        };
        scan_zone(value, (lexeme.start, lexeme.end), zone, out);
    }
}

/// Checks every "=?" in `value[start..end]`.
fn scan_zone(value: &str, (start, end): (usize, usize), zone: Zone, out: &mut Vec<Finding>) {
    let region = value.get(start..end).unwrap_or_default();
    let mut search = 0;
    while let Some(found) = region.get(search..).and_then(|rest| rest.find("=?")) {
        let at = search + found;
        search = at + 2;
        match encoded_word(region.get(at..).unwrap_or_default(), Mode::Strict) {
            Lookup::Word(word) => {
                examine(region, at, &word, zone, start, out);
                search = at + word.len;
            }
            Lookup::Malformed(why) if matches!(zone, Zone::Words(_)) => {
                let message = format!("malformed encoded-word: {why} (RFC 2047 §2)");
                out.push(finding("encoded-word-syntax", start + at, message));
            }
            Lookup::Malformed(_) | Lookup::NotAWord => {}
        }
    }
}

/// The findings of one well-formed word at `region[at..]`.
fn examine(
    region: &str,
    at: usize,
    word: &EncodedWord,
    zone: Zone,
    base: usize,
    out: &mut Vec<Finding>,
) {
    let offset = base + at;
    let q = match zone {
        Zone::Forbidden(place) => {
            let message =
                format!("encoded-word {place} is not decoded by conforming readers (RFC 2047 §5)");
            out.push(finding("encoded-word-placement", offset, message));
            return;
        }
        Zone::Words(q) => q,
    };
    if !is_delimited(region, at, at + word.len, q) {
        let message = "encoded-word is not separated from adjacent text by white space \
                       (RFC 2047 §5), so it is not decoded";
        out.push(finding("encoded-word-placement", offset, message));
    }
    check_word(word, offset, q, out);
}

/// Whether the word at `region[start..end]` stands alone: white space (or a
/// comment's parenthesis) or the region's edge on both sides.
fn is_delimited(region: &str, start: usize, end: usize, q: QChars) -> bool {
    let before = region.get(..start).and_then(|s| s.chars().next_back());
    let after = region.get(end..).and_then(|s| s.chars().next());
    let delimiter = |c: char| {
        c.is_ascii() && is_fws_byte(c as u8) || (q == QChars::Comment && (c == '(' || c == ')'))
    };
    before.is_none_or(delimiter) && after.is_none_or(delimiter)
}

/// Length, charset, encoding and payload of a word at `offset`.
fn check_word(word: &EncodedWord, offset: usize, q: QChars, out: &mut Vec<Finding>) {
    if word.len > 75 {
        let message = format!(
            "encoded-word is {} characters long; at most 75 are allowed (RFC 2047 §2)",
            word.len
        );
        out.push(finding("encoded-word-length", offset, message));
    }
    let charset = word.charset_name();
    let known = is_charset_known(charset);
    if !known {
        let message = format!("unknown charset {} in encoded-word", show(charset));
        out.push(finding("encoded-word-charset", offset + 2, message));
    }
    let decoded = match word.encoding {
        "b" | "B" => check_b(word.text),
        "q" | "Q" => check_q(word.text, q),
        other => {
            let message = format!("encoding {} is neither B nor Q (RFC 2047 §4)", show(other));
            out.push(finding(
                "encoded-word-encoding",
                offset + word.encoding_at,
                message,
            ));
            return;
        }
    };
    let text_at = offset + word.text_at;
    let problem = match decoded {
        Err((i, message)) => Some((text_at + i, message)),
        Ok(bytes) if known => charset_problem(&bytes, charset).map(|m| (text_at, m)),
        Ok(_) => None,
    };
    if let Some((at, message)) = problem {
        out.push(finding("encoded-word-payload", at, message));
    }
}

/// Whether readers know a charset: what [`is_known_charset`] knows, and
/// RFC 1428 "unknown-8bit".
pub(super) fn is_charset_known(label: &str) -> bool {
    is_known_charset(label) || label.trim().eq_ignore_ascii_case("unknown-8bit")
}

/// Why decoded bytes are not text in `charset`, if they are not.
fn charset_problem(bytes: &[u8], charset: &str) -> Option<String> {
    if charset.eq_ignore_ascii_case("unknown-8bit") {
        return None;
    }
    if charset.eq_ignore_ascii_case("us-ascii") && !bytes.is_ascii() {
        return Some("decoded bytes are not US-ASCII".into());
    }
    let (_, valid) = to_utf8(bytes, Some(charset));
    (!valid).then(|| format!("decoded bytes are not valid {charset}"))
}
