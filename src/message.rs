//! Reading a message's header (RFC 5322 §2.2): where it ends, its fields
//! with their continuation lines, and the MIME Content-Type (RFC 2045 §5.1),
//! as owned values over the grammars of [`crate::grammar`].

use crate::grammar::header::{self, LineEnds};

/// One header field as it stands in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name as written.
    pub name: String,
    /// The value unfolded (line ends removed, CR/LF before whitespace
    /// dropped), leading whitespace trimmed, lossily decoded as UTF-8.
    pub value: String,
    /// The field's lines as written, without their line ends.
    pub lines: Vec<Vec<u8>>,
}

impl Field {
    /// Whether the field has this name (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A message split into its header fields and where the body starts.
#[derive(Debug, Clone)]
pub struct Header {
    /// The fields, in order.
    pub fields: Vec<Field>,
    /// Lines of the header that are not fields (no colon): kept, reported.
    pub malformed: Vec<Vec<u8>>,
    /// Byte offset of the body (after the blank line), or the end of the
    /// input when there is no blank line.
    pub body_start: usize,
    /// Whether a blank line separated header and body.
    pub has_separator: bool,
}

impl Header {
    /// The value of the first field with this name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.is(name))
            .map(|f| f.value.as_str())
    }
}

/// Length of a leading mbox `From ` line (with its line end), or 0.
pub fn mbox_from_line_len(data: &[u8]) -> usize {
    match header::is_mbox_from_line(data) {
        true => header::line_at(data, 0, LineEnds::Lf).1,
        false => 0,
    }
}

/// Parses the header at the start of `data` (a leading mbox `From ` line is
/// skipped) with the one header splitter, [`header::split_header`]. Lines
/// end in LF or CRLF; a CR alone is data.
pub fn parse_header(data: &[u8]) -> Header {
    let block = header::split_header(data, LineEnds::Lf);
    let mut fields = Vec::new();
    let mut malformed = Vec::new();
    for raw in &block.fields {
        let lines = raw.lines.iter().map(|l| data[l.clone()].to_vec());
        match raw.name(data) {
            Some(name) => fields.push(Field {
                name: String::from_utf8_lossy(name).into_owned(),
                value: raw.value(data),
                lines: lines.collect(),
            }),
            None => malformed.extend(lines),
        }
    }
    Header {
        fields,
        malformed,
        body_start: block.body_start,
        has_separator: block.has_separator,
    }
}

/// A parsed Content-Type (RFC 2045 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// Top-level type, lower case.
    pub kind: String,
    /// Subtype, lower case.
    pub subtype: String,
    /// Parameters (names lower case), values unquoted.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// `type/subtype`.
    pub fn essence(&self) -> String {
        format!("{}/{}", self.kind, self.subtype)
    }

    /// A parameter's value by (case-insensitive) name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a Content-Type value with the one lenient reader,
/// [`crate::decode::parse_mime_value`]: comments, RFC 2231 continuations
/// and charsets taken. `None` when the type/subtype is missing or malformed.
pub fn parse_content_type(value: &str) -> Option<ContentType> {
    let (essence, params) = crate::decode::parse_mime_value(value);
    let (kind, subtype) = essence?
        .split_once('/')
        .map(|(k, s)| (k.into(), s.into()))?;
    Some(ContentType {
        kind,
        subtype,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_body() {
        let msg = b"From alice@x Mon Jan 1 00:00:00 2024\nSubject: hi\n  there\r\nX-A:b\nnot a field\n\nbody\n";
        let h = parse_header(msg);
        assert_eq!(h.fields.len(), 2);
        assert_eq!(h.get("subject"), Some("hi  there"));
        assert_eq!(h.fields[0].lines.len(), 2);
        assert_eq!(h.get("x-a"), Some("b"));
        assert_eq!(h.malformed, vec![b"not a field".to_vec()]);
        assert!(h.has_separator);
        assert_eq!(&msg[h.body_start..], b"body\n");
    }

    #[test]
    fn no_blank_line() {
        let h = parse_header(b"A: b\nC: d");
        assert!(!h.has_separator);
        assert_eq!(h.body_start, 9);
        assert_eq!(h.fields.len(), 2);
    }

    #[test]
    fn content_types() {
        let ct = parse_content_type(
            "Multipart/Mixed; boundary=\"a b;\\\"c\"; charset=utf-8 ; x=\"unterminated",
        )
        .unwrap();
        assert_eq!(ct.essence(), "multipart/mixed");
        assert_eq!(ct.param("BOUNDARY"), Some("a b;\"c"));
        assert_eq!(ct.param("charset"), Some("utf-8"));
        assert_eq!(ct.param("x"), Some("unterminated"));
        assert!(parse_content_type("text").is_none());
        assert!(parse_content_type("te xt/plain").is_none());
    }
}
