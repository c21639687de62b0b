//! Splitting a header block into its fields (RFC 5322 §2.2, §2.2.3): where
//! each field starts and ends with its continuation lines, where the header
//! ends (the blank line), and the mbox `From ` line that may stand before it
//! (RFC 4155).
//!
//! One splitter serves every reader; only what ends a line differs, and
//! the caller says which ([`LineEnds`]): readers of a stored message take
//! LF or CRLF (a CR alone is data, as in the MIME reader's lines), while
//! `smtp-send` takes every CR, LF or CRLF, the line ends of
//! [`crate::smtp::data`], so that the header it reads is the one the server
//! will see once the message is canonicalised.

use std::ops::Range;

/// What ends a line of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnds {
    /// LF or CRLF; a CR alone is data.
    Lf,
    /// CR, LF or CRLF: what SMTP canonicalisation makes of them.
    Any,
}

/// One field (or stray line) of the header with its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawField {
    /// Where its first line starts.
    pub start: usize,
    /// After the line end of its last line.
    pub end: usize,
    /// Each line without its line end.
    pub lines: Vec<Range<usize>>,
}

impl RawField {
    /// The field name (RFC 5322 §2.2: printable ASCII but ':'), or `None`
    /// for a line that is not a field. White space between the name and
    /// the colon (`Subject :`, the obsolete syntax of RFC 5322 §4.5, which
    /// receivers must accept) is not part of the name.
    pub fn name<'a>(&self, data: &'a [u8]) -> Option<&'a [u8]> {
        let first = data.get(self.lines.first()?.clone())?;
        field_name(first)
    }

    /// Whether white space stands between the name and the colon (the
    /// obsolete syntax of RFC 5322 §4.5).
    pub fn has_obsolete_space(&self, data: &[u8]) -> bool {
        let Some(first) = self.lines.first().and_then(|l| data.get(l.clone())) else {
            return false;
        };
        field_name(first).is_some_and(|name| first.get(name.len()) != Some(&b':'))
    }

    /// The value unfolded (line ends removed, RFC 5322 §2.2.3), leading
    /// white space trimmed, lossily decoded as UTF-8.
    pub fn value(&self, data: &[u8]) -> String {
        let mut unfolded = Vec::new();
        for line in &self.lines {
            unfolded.extend_from_slice(data.get(line.clone()).unwrap_or_default());
        }
        let after = memchr::memchr(b':', &unfolded).map_or(unfolded.len(), |c| c + 1);
        String::from_utf8_lossy(&unfolded[after..])
            .trim_start()
            .to_string()
    }
}

/// The name of the field a header line starts (RFC 5322 §2.2, §3.6.8),
/// white space before the colon allowed (obs-optional, RFC 5322 §4.5), or
/// `None` when the line does not start a field.
pub fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = memchr::memchr(b':', line)?;
    let before = &line[..colon];
    let end = before
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |at| at + 1);
    let name = &before[..end];
    let printable = !name.is_empty() && name.iter().all(|b| (33..=126).contains(b));
    printable.then_some(name)
}

/// A header block as split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The fields and stray lines, in order.
    pub fields: Vec<RawField>,
    /// Where the header starts: after a leading mbox `From ` line, or 0.
    pub header_start: usize,
    /// Where the body starts (after the blank line), or the end of the
    /// input when there is no blank line.
    pub body_start: usize,
    /// Whether a blank line ended the header.
    pub has_separator: bool,
}

/// Whether `data` starts with an mbox `From ` line (RFC 4155), which is
/// not part of the message.
pub fn is_mbox_from_line(data: &[u8]) -> bool {
    data.starts_with(b"From ")
}

/// Where a line starting at `pos` ends (before its line end) and where the
/// next line starts.
pub fn line_at(data: &[u8], pos: usize, ends: LineEnds) -> (usize, usize) {
    let rest = data.get(pos..).unwrap_or_default();
    let found = match ends {
        LineEnds::Lf => memchr::memchr(b'\n', rest),
        LineEnds::Any => memchr::memchr2(b'\r', b'\n', rest),
    };
    match found {
        None if ends == LineEnds::Lf && rest.ends_with(b"\r") => (data.len() - 1, data.len()),
        None => (data.len(), data.len()),
        Some(at) if rest[at] == b'\r' && rest[at..].starts_with(b"\r\n") => {
            (pos + at, pos + at + 2)
        }
        Some(at) if rest[at] == b'\r' => (pos + at, pos + at + 1),
        Some(at) => {
            let end = if at > 0 && rest[at - 1] == b'\r' {
                at - 1
            } else {
                at
            };
            (pos + end, pos + at + 1)
        }
    }
}

/// Splits the header at the start of `data` (a leading mbox `From ` line
/// skipped) into fields: a line starting with white space continues the
/// line before it.
pub fn split_header(data: &[u8], ends: LineEnds) -> HeaderBlock {
    let header_start = match is_mbox_from_line(data) {
        true => line_at(data, 0, ends).1,
        false => 0,
    };
    let mut fields: Vec<RawField> = Vec::new();
    let mut pos = header_start;
    while pos < data.len() {
        let (end, next) = line_at(data, pos, ends);
        if end == pos {
            return block(fields, header_start, next, true);
        }
        match fields.last_mut() {
            Some(field) if matches!(data[pos], b' ' | b'\t') => {
                field.end = next;
                field.lines.push(pos..end);
            }
            _ => fields.push(RawField {
                start: pos,
                end: next,
                lines: std::iter::once(pos..end).collect(),
            }),
        }
        pos = next;
    }
    block(fields, header_start, data.len(), false)
}

fn block(
    fields: Vec<RawField>,
    header_start: usize,
    body_start: usize,
    has_separator: bool,
) -> HeaderBlock {
    HeaderBlock {
        fields,
        header_start,
        body_start,
        has_separator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], ends: LineEnds) -> Vec<Vec<&[u8]>> {
        let block = split_header(data, ends);
        let text = |f: &RawField| f.lines.iter().map(|l| &data[l.clone()]).collect();
        block.fields.iter().map(text).collect()
    }

    #[test]
    fn a_bare_cr_ends_a_line_only_for_smtp() {
        let data = b"A: 1\rBcc: x\r\n b\nC: 2\n\nbody";
        let lf: Vec<Vec<&[u8]>> = vec![vec![b"A: 1\rBcc: x", b" b"], vec![b"C: 2"]];
        assert_eq!(lines(data, LineEnds::Lf), lf);
        let any: Vec<Vec<&[u8]>> = vec![vec![b"A: 1"], vec![b"Bcc: x", b" b"], vec![b"C: 2"]];
        assert_eq!(lines(data, LineEnds::Any), any);
        for ends in [LineEnds::Lf, LineEnds::Any] {
            let block = split_header(data, ends);
            assert_eq!((block.body_start, block.has_separator), (22, true));
        }
    }

    #[test]
    fn from_line_names_and_values() {
        let data = b"From a@x Mon Jan 1 00:00:00 2024\r\nSubject:\r\n  hi\r\nnot a field\r\n";
        let block = split_header(data, LineEnds::Lf);
        assert_eq!(block.header_start, 34);
        assert!(!block.has_separator);
        assert_eq!(block.fields[0].name(data), Some(&b"Subject"[..]));
        assert_eq!(block.fields[0].value(data), "hi");
        assert_eq!(block.fields[1].name(data), None);
        assert!(!is_mbox_from_line(b"From: a@x\n"));
    }

    #[test]
    fn white_space_before_the_colon_is_the_obsolete_syntax() {
        let data = b"Subject :  hi\nContent-Type\t: text/html\n : x\n\n";
        let block = split_header(data, LineEnds::Lf);
        assert_eq!(block.fields[0].name(data), Some(&b"Subject"[..]));
        assert!(block.fields[0].has_obsolete_space(data));
        assert_eq!(block.fields[0].value(data), "hi");
        assert_eq!(block.fields[1].name(data), Some(&b"Content-Type"[..]));
        assert_eq!(field_name(b"A B: c"), None);
        assert_eq!(field_name(b": c"), None);
        assert_eq!(field_name(b"To: a"), Some(&b"To"[..]));
    }
}
