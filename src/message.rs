//! Reading a message's header (RFC 5322 §2.2): where it ends, its fields
//! with their continuation lines, and the MIME Content-Type (RFC 2045 §5.1).

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
    if !data.starts_with(b"From ") {
        return 0;
    }
    match memchr::memchr(b'\n', data) {
        Some(at) => at + 1,
        None => data.len(),
    }
}

/// Parses the header at the start of `data` (a leading mbox `From ` line is
/// skipped). Lines end in LF or CRLF.
pub fn parse_header(data: &[u8]) -> Header {
    let mut pos = mbox_from_line_len(data);
    let mut fields: Vec<Field> = Vec::new();
    let mut malformed = Vec::new();
    loop {
        if pos >= data.len() {
            return Header {
                fields,
                malformed,
                body_start: data.len(),
                has_separator: false,
            };
        }
        let (line, next) = line_at(data, pos);
        if line.is_empty() {
            return Header {
                fields,
                malformed,
                body_start: next,
                has_separator: true,
            };
        }
        let continuation = matches!(line[0], b' ' | b'\t');
        match fields.last_mut() {
            Some(field) if continuation => {
                field.value.push_str(&String::from_utf8_lossy(line));
                field.lines.push(line.to_vec());
            }
            _ => match new_field(line) {
                Some(field) => fields.push(field),
                None => malformed.push(line.to_vec()),
            },
        }
        pos = next;
    }
}

/// The line starting at `pos` without its line end, and where the next starts.
fn line_at(data: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = &data[pos..];
    let (line, next) = match memchr::memchr(b'\n', rest) {
        Some(at) => (&rest[..at], pos + at + 1),
        None => (rest, data.len()),
    };
    (line.strip_suffix(b"\r").unwrap_or(line), next)
}

fn new_field(line: &[u8]) -> Option<Field> {
    let colon = memchr::memchr(b':', line)?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|b| (33..=126).contains(b)) {
        return None;
    }
    Some(Field {
        name: String::from_utf8_lossy(name).into_owned(),
        value: String::from_utf8_lossy(&line[colon + 1..])
            .trim_start()
            .to_string(),
        lines: vec![line.to_vec()],
    })
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

/// Parses a Content-Type value; comments are not expected. `None` when
/// the type/subtype is malformed.
pub fn parse_content_type(value: &str) -> Option<ContentType> {
    let (essence, rest) = match value.find(';') {
        Some(at) => (&value[..at], &value[at + 1..]),
        None => (value, ""),
    };
    let (kind, subtype) = essence.trim().split_once('/')?;
    let token = |s: &str| !s.is_empty() && s.bytes().all(is_token_byte);
    if !token(kind.trim()) || !token(subtype.trim()) {
        return None;
    }
    Some(ContentType {
        kind: kind.trim().to_ascii_lowercase(),
        subtype: subtype.trim().to_ascii_lowercase(),
        params: parse_params(rest),
    })
}

/// RFC 2045 token characters.
fn is_token_byte(b: u8) -> bool {
    (33..=126).contains(&b) && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// `; name=value` pairs, values as tokens or quoted strings.
pub fn parse_params(mut text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    loop {
        text = text.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
        let Some(eq) = text.find('=') else {
            return params;
        };
        let name = text[..eq].trim().to_ascii_lowercase();
        let rest = text[eq + 1..].trim_start();
        let (value, remaining) = if let Some(quoted) = rest.strip_prefix('"') {
            unquote(quoted)
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            (rest[..end].trim().to_string(), &rest[end..])
        };
        if !name.is_empty() {
            params.push((name, value));
        }
        text = remaining;
    }
}

/// The content of a quoted string whose opening quote is already consumed,
/// and the text after its closing quote.
fn unquote(text: &str) -> (String, &str) {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return (value, &text[at + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            _ => value.push(c),
        }
    }
    (value, "")
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
