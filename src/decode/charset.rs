//! Charsets to UTF-8 (RFC 2046 §4.1.2, RFC 2978 names as WHATWG labels,
//! RFC 1428 "unknown-8bit", UTF-7 of RFC 2152), as mail readers convert them.

use std::borrow::Cow;

use encoding_rs::{Encoding, REPLACEMENT, WINDOWS_1252};

/// The encoding for a charset label (WHATWG labels, as encoding_rs knows
/// them), leaving out the "replacement" encoding, which would turn the
/// text into one U+FFFD.
fn encoding_for(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).filter(|&e| e != REPLACEMENT)
}

/// Whether `label` names US-ASCII (RFC 2046 §4.1.2, the default charset).
fn is_ascii_label(label: &str) -> bool {
    [
        "",
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
        "csascii",
        "iso646-us",
        "us",
    ]
    .iter()
    .any(|l| label.eq_ignore_ascii_case(l))
}

/// Labels that say the charset is not known (RFC 1428 "unknown-8bit").
fn is_unknown_label(label: &str) -> bool {
    ["unknown-8bit", "x-unknown", "unknown"]
        .iter()
        .any(|l| label.eq_ignore_ascii_case(l))
}

/// Whether [`to_utf8`] knows this charset label: a WHATWG label
/// (encoding_rs), "utf-8" and "us-ascii" included.
pub fn is_known_charset(label: &str) -> bool {
    let label = label.trim();
    !label.is_empty()
        && (is_ascii_label(label)
            || super::utf7::is_utf7_label(label)
            || encoding_for(label).is_some())
}

/// Converts text in `charset` to UTF-8. Returns the text and whether the
/// conversion is certain: the charset known and the bytes valid in it
/// (false: the caller should warn).
///
/// - None, "us-ascii" and its aliases: UTF-8 (8-bit text labelled ASCII is
///   UTF-8 more often than not), else windows-1252 (false).
/// - "unknown-8bit", "x-unknown": the same guess, certain only for ASCII.
/// - "utf-7" (RFC 2152), which encoding_rs leaves out: decoded here.
/// - Labels encoding_rs knows (WHATWG: "iso-8859-1" is windows-1252): that
///   encoding, invalid sequences as U+FFFD (false); a BOM of that encoding removed.
/// - Other labels (and the WHATWG "replacement" ones, e.g. iso-2022-kr):
///   UTF-8, invalid sequences as U+FFFD (false).
pub fn to_utf8(bytes: &[u8], charset: Option<&str>) -> (String, bool) {
    let label = charset.map_or("", str::trim);
    if is_ascii_label(label) {
        return utf8_or_windows_1252(bytes);
    }
    if is_unknown_label(label) {
        return (utf8_or_windows_1252(bytes).0, bytes.is_ascii());
    }
    if super::utf7::is_utf7_label(label) {
        return super::utf7::decode_utf7(bytes);
    }
    match encoding_for(label) {
        Some(encoding) => {
            let (text, errors) = encoding.decode_with_bom_removal(bytes);
            (text.into_owned(), !errors)
        }
        None => (String::from_utf8_lossy(bytes).into_owned(), false),
    }
}

/// UTF-8 if the bytes are valid UTF-8 (true), else windows-1252 (false).
fn utf8_or_windows_1252(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), true),
        Err(_) => (windows_1252(bytes).into_owned(), false),
    }
}

pub(crate) fn windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    WINDOWS_1252.decode_without_bom_handling(bytes).0
}
