//! MIME parameter values (RFC 2231, RFC 2045 §5.1): parameter names split
//! into name, section and extended mark (§3, §4), sections joined, extended
//! values (`charset'language'%XX`) decoded, and RFC 2047 encoded-words in a
//! plain value decoded as the fallback mailers need (RFC 2047 §5 forbids
//! them there). Also the reading of a whole Content-Type or
//! Content-Disposition value that every tool uses ([`parse_mime_value`],
//! [`parse_disposition`]), over the one parser of
//! [`crate::grammar::content_type`].

use std::collections::HashMap;

use super::charset::to_utf8;
use super::rfc2047::decode_header_text;
use crate::grammar::content_type::{self, Param};
use crate::grammar::lex::{Mode, hex_pair, show};

/// A parameter name split per RFC 2231 §3, §4: "name", "name*", "name*N",
/// "name*N*".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamName<'a> {
    /// The name without its RFC 2231 marks.
    pub base: &'a str,
    /// The section number of a continuation.
    pub section: Option<u32>,
    /// Whether the value is an extended one (percent-encoded, with a
    /// charset in the first section).
    pub extended: bool,
}

impl ParamName<'_> {
    /// The name for duplicate detection: case folded, "name*0" and
    /// "name*0*" alike, "name" and "name*" apart (RFC 2231 §4.1 fallback).
    pub fn key(&self) -> String {
        let base = self.base.to_ascii_lowercase();
        match (self.section, self.extended) {
            (Some(n), _) => format!("{base}*{n}"),
            (None, true) => format!("{base}*"),
            (None, false) => base,
        }
    }
}

/// Splits a parameter name as readers do: a trailing '*' marks an extended
/// value, and "*N" after the last other '*' a section when N is a number
/// (leading zeros taken); anything else is part of the name.
pub fn split_param_name(name: &str) -> ParamName<'_> {
    let (name, extended) = match name.strip_suffix('*') {
        Some(base) => (base, true),
        None => (name, false),
    };
    if let Some((base, digits)) = name.rsplit_once('*')
        && let Ok(section) = digits.parse::<u32>()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return ParamName {
            base,
            section: Some(section),
            extended,
        };
    }
    ParamName {
        base: name,
        section: None,
        extended,
    }
}

/// Splits a parameter name strictly: as [`split_param_name`], but a name
/// must come before the '*', and a section number has no leading zero
/// (RFC 2231 §3). Errors say why, for `rfc822-lint`.
pub fn check_param_name(name: &str) -> Result<ParamName<'_>, String> {
    let split = split_param_name(name);
    let unmarked = name.strip_suffix('*').unwrap_or(name);
    let digits = unmarked.get(split.base.len() + 1..).unwrap_or_default();
    let leading_zero = split.section.is_some() && digits.len() > 1 && digits.starts_with('0');
    if split.base.contains('*') || leading_zero {
        return Err(format!(
            "malformed RFC 2231 parameter name {}: expected name*N or name*N* with a \
             section number (RFC 2231 §3)",
            show(name)
        ));
    }
    if split.base.is_empty() {
        return Err(format!(
            "parameter name {} has no name before '*'",
            show(name)
        ));
    }
    Ok(split)
}

/// What is wrong with an RFC 2231 §4 extended value: the first section
/// starts with charset'language', and '%' is followed by two hex digits.
pub fn extended_value_problem(value: &str, section: Option<u32>) -> Option<String> {
    let mut encoded = value;
    if section.unwrap_or(0) == 0 {
        let Some((_, rest)) = split_charset(value) else {
            return Some(
                "RFC 2231 extended value must start with charset'language' (RFC 2231 §4)".into(),
            );
        };
        encoded = rest;
    }
    let bytes = encoded.as_bytes();
    let bad = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && !matches!((bytes.get(i + 1), bytes.get(i + 2)),
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
    });
    bad.then(|| "'%' not followed by two hexadecimal digits in RFC 2231 value (RFC 2231 §4)".into())
}

/// A parameter's values as written, gathered by name.
#[derive(Default)]
struct ParamParts {
    plain: Vec<String>,
    /// RFC 2231 sections: (number, percent-encoded, value); `name*=` is section 0.
    sections: Vec<(u32, bool, String)>,
}

/// Joins RFC 2231 sections and decodes values; names (lower case) in order
/// of first appearance. An RFC 2231 value wins over a plain one of the same
/// name (RFC 6266 §4.3).
pub fn assemble(params: Vec<Param>) -> Vec<(String, String)> {
    let mut order: Vec<String> = Vec::new();
    let mut parts: HashMap<String, ParamParts> = HashMap::new();
    for param in params {
        let split = split_param_name(param.name);
        if split.base.is_empty() {
            continue;
        }
        let name = split.base.to_ascii_lowercase();
        let entry = parts.entry(name.clone()).or_insert_with(|| {
            order.push(name);
            ParamParts::default()
        });
        match (split.section, split.extended) {
            (None, false) => entry.plain.push(param.value),
            (section, extended) => {
                entry
                    .sections
                    .push((section.unwrap_or(0), extended, param.value))
            }
        }
    }
    let mut assembled = Vec::new();
    for name in order {
        let Some(mut part) = parts.remove(&name) else {
            continue;
        };
        if !part.sections.is_empty() {
            let value = join_sections(&mut part.sections);
            assembled.push((name, value));
            continue;
        }
        for value in part.plain {
            let value = legacy_encoded_words(&name, value);
            assembled.push((name.clone(), value));
        }
    }
    assembled
}

/// The value of RFC 2231 sections, in numeric order whatever the order
/// written (gaps tolerated), converted from the first section's charset.
fn join_sections(sections: &mut [(u32, bool, String)]) -> String {
    sections.sort_by_key(|s| s.0);
    let mut charset = None;
    let mut bytes = Vec::new();
    for (i, (_, extended, value)) in sections.iter().enumerate() {
        if !extended {
            bytes.extend_from_slice(value.as_bytes());
            continue;
        }
        let mut encoded = value.as_str();
        if i == 0
            && let Some((cs, rest)) = split_charset(encoded)
        {
            charset = Some(cs);
            encoded = rest;
        }
        percent_decode(encoded, &mut bytes);
    }
    to_utf8(&bytes, charset).0
}

/// "charset'language'value" (RFC 2231 §4): the charset and the value.
fn split_charset(value: &str) -> Option<(&str, &str)> {
    let (charset, rest) = value.split_once('\'')?;
    let (_language, rest) = rest.split_once('\'')?;
    Some((charset, rest))
}

/// Appends the bytes of a percent-encoded value; a malformed '%' stays.
fn percent_decode(value: &str, bytes: &mut Vec<u8>) {
    let b = value.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let escaped = match (c, b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_pair(hi, lo),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                i += 3;
            }
            None => {
                bytes.push(c);
                i += 1;
            }
        }
    }
}

/// A plain value holding RFC 2047 encoded-words, which RFC 2047 §5 forbids
/// but many mailers write (`name="=?utf-8?B?...?="`): decoded, except for
/// a boundary, where "=?" is legitimate.
fn legacy_encoded_words(name: &str, value: String) -> String {
    if name == "boundary" || !value.contains("=?") {
        return value;
    }
    decode_header_text(&value)
}

/// The parameters of a Content-Type or Content-Disposition value with RFC
/// 2231 applied: sections joined in numeric order (gaps tolerated),
/// extended values (`name*=charset'lang'%XX`) decoded, plain and extended
/// sections mixed; quoted strings with quoted-pairs; comments skipped; RFC
/// 2047 encoded-words in a plain value decoded as a fallback. An RFC 2231
/// value wins over a plain one of the same name. Names are lower case.
///
/// Returns "type/subtype" in lower case, None if absent or malformed, and the parameters.
pub fn parse_mime_value(value: &str) -> (Option<String>, Vec<(String, String)>) {
    let parsed = content_type::parse(value, true, Mode::Lenient);
    let essence = match (parsed.kind, parsed.subtype) {
        (kind, Some(subtype)) if !kind.is_empty() && !subtype.is_empty() => {
            Some(format!("{kind}/{subtype}").to_ascii_lowercase())
        }
        _ => None,
    };
    (essence, assemble(parsed.params))
}

/// Like [`parse_mime_value`] for a Content-Disposition (RFC 2183): the
/// disposition type ("inline", "attachment", ...) in lower case, None if
/// absent or malformed, and the parameters.
pub fn parse_disposition(value: &str) -> (Option<String>, Vec<(String, String)>) {
    let parsed = content_type::parse(value, false, Mode::Lenient);
    let kind = (!parsed.kind.is_empty() && parsed.subtype.is_none())
        .then(|| parsed.kind.to_ascii_lowercase());
    (kind, assemble(parsed.params))
}

/// The first parameter value with this name (case-insensitive).
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
