//! The linter: a [`Visitor`] of the streaming MIME reader that checks the
//! raw bytes (lines, line ends, 8-bit data, transfer encodings), every
//! header block (field syntax, required and duplicate fields) and every
//! text part's charset, and records diagnostics with 1-based positions in
//! the original bytes.

use std::collections::HashMap;

use serde::Serialize;

use super::fields::{self, Finding, WordContext};
use super::rules::{self, Severity};
use crate::error::Error;
use crate::mime_reader::{Part, PartKind, Problem, ProblemKind, RawContext, RawPiece, Visitor};

/// One finding, where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Line, 1-based.
    pub line: u64,
    /// Column (octet in the line), 1-based.
    pub column: u64,
    /// Error or warning.
    pub severity: Severity,
    /// The rule id.
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
}

/// How to lint.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Accept UTF-8 in header fields (RFC 6532).
    pub smtputf8: bool,
    /// Rules not to report.
    pub allow: Vec<String>,
    /// Rules to report as errors.
    pub deny: Vec<String>,
}

/// Diagnostics kept per rule; further ones are only counted.
const KEEP_PER_RULE: u64 = 20;
/// Longest field value checked (a longer one is checked in part).
const MAX_FIELD: usize = 64 * 1024;

/// Fields that may occur at most once in a message header (RFC 5322 §3.6).
const ONCE: &[&str] = &[
    "date",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "message-id",
    "in-reply-to",
    "references",
    "subject",
];

/// The linter's state while one message streams past.
pub struct Linter {
    options: Options,
    diagnostics: Vec<Diagnostic>,
    counts: HashMap<&'static str, u64>,
    lines: LineState,
    header: HeaderState,
    body: Option<BodyState>,
    boundaries: Vec<(String, String)>,
    undeclared_8bit: Vec<String>,
    /// Text parts sent as they are with lines over 998 octets.
    long_lines: Vec<String>,
    /// Where each part's Content-Type field is, to point at it.
    type_lines: HashMap<String, u64>,
}

#[derive(Default)]
struct LineState {
    /// Length so far of the line being read.
    len: u64,
    /// Line number of the line being read.
    number: u64,
    /// The first line's end: true for CRLF.
    crlf: Option<bool>,
    mixed_reported: bool,
    /// Bytes of the current line so far (bounded), for classifying a line
    /// the reader took as the end of a header.
    text: Vec<u8>,
    /// The previous complete line, bounded.
    previous: Vec<u8>,
}

#[derive(Default)]
struct HeaderState {
    /// A line without a colon ended a header: decided by the next line.
    pending_separator: Option<(u64, Vec<u8>)>,
    /// Whether the previous raw input was header context.
    in_header: bool,
    /// Lines of the current header block seen.
    lines_seen: u64,
}

struct BodyState {
    id: String,
    encoding: String,
    reported_8bit: bool,
    base64_chars: u64,
    base64_padding: bool,
    base64_reported: bool,
    charset: Option<CharsetCheck>,
    line: u64,
}

struct CharsetCheck {
    label: String,
    decoder: Option<encoding_rs::Decoder>,
    ascii_only: bool,
    reported: bool,
    scratch: String,
}

impl Linter {
    /// A linter with `options`.
    pub fn new(options: Options) -> Self {
        Linter {
            options,
            diagnostics: Vec::new(),
            counts: HashMap::new(),
            lines: LineState {
                number: 1,
                ..LineState::default()
            },
            header: HeaderState::default(),
            body: None,
            boundaries: Vec::new(),
            undeclared_8bit: Vec::new(),
            long_lines: Vec::new(),
            type_lines: HashMap::new(),
        }
    }

    /// The diagnostics in the order of their position, and how many more
    /// of each rule were found but not kept.
    pub fn finish(mut self) -> (Vec<Diagnostic>, Vec<(&'static str, u64)>) {
        if let Some((line, text)) = self.header.pending_separator.take() {
            self.classify_header_end(line, &text, false);
        }
        self.diagnostics.sort_by_key(|d| (d.line, d.column));
        let mut more: Vec<(&'static str, u64)> = self
            .counts
            .iter()
            .filter(|(_, n)| **n > KEEP_PER_RULE)
            .map(|(rule, n)| (*rule, n - KEEP_PER_RULE))
            .collect();
        more.sort();
        (self.diagnostics, more)
    }

    /// Parts whose 8-bit content is declared 7bit (for `--fix`).
    pub fn undeclared_8bit_parts(&self) -> &[String] {
        &self.undeclared_8bit
    }

    /// Text parts in an identity encoding (7bit, 8bit, binary) with lines
    /// over 998 octets (for `--fix`, which re-encodes them as
    /// quoted-printable, RFC 2045 §6.7).
    pub fn long_line_parts(&self) -> &[String] {
        &self.long_lines
    }

    /// Records a finding of `rule` unless allowed; the severity is the
    /// rule's, or error when denied.
    fn report(&mut self, line: u64, column: u64, rule: &'static str, message: String) {
        if self.options.allow.iter().any(|a| a == rule) {
            return;
        }
        let count = self.counts.entry(rule).or_insert(0);
        *count += 1;
        if *count > KEEP_PER_RULE {
            return;
        }
        let severity = if self.options.deny.iter().any(|d| d == rule) {
            Severity::Error
        } else {
            rules::find(rule).map_or(Severity::Error, |r| r.severity)
        };
        self.diagnostics.push(Diagnostic {
            line,
            column,
            severity,
            rule,
            message,
        });
    }

    // ---- raw lines ----

    fn raw_line(
        &mut self,
        segment: &[u8],
        ends_line: bool,
        starts_line: bool,
        context: RawContext<'_>,
    ) {
        if starts_line {
            self.start_line(segment, context);
        }
        let content = if ends_line {
            segment.strip_suffix(b"\n").unwrap_or(segment)
        } else {
            segment
        };
        let (content, crlf) = match content.strip_suffix(b"\r") {
            Some(stripped) if ends_line => (stripped, true),
            _ => (content, false),
        };
        self.scan_bytes(content, context);
        self.lines.len += content.len() as u64;
        // Only header lines are looked at again (the line the reader took
        // as the end of a header): body lines are not copied.
        if matches!(context, RawContext::Header) && self.lines.text.len() < 1024 {
            let room = 1024 - self.lines.text.len();
            self.lines
                .text
                .extend_from_slice(&content[..content.len().min(room)]);
        }
        if ends_line {
            self.end_line(crlf, context);
        }
    }

    fn start_line(&mut self, first: &[u8], context: RawContext<'_>) {
        if let Some((line, text)) = self.header.pending_separator.take() {
            self.classify_header_end(line, &text, looks_like_field(first));
        }
        let in_header = matches!(context, RawContext::Header);
        if in_header && !self.header.in_header {
            self.header.lines_seen = 0;
        }
        self.header.in_header = in_header;
        if in_header {
            self.header.lines_seen += 1;
            if self.header.lines_seen == 1 && matches!(first.first(), Some(b' ' | b'\t')) {
                let line = self.lines.number;
                self.report(
                    line,
                    1,
                    "continuation-without-field",
                    "the header starts with a continuation line".into(),
                );
            }
        }
    }

    /// A line the reader took as the end of a header: a field with a bad
    /// name, a stray line among fields, or the body without a blank line.
    fn classify_header_end(&mut self, line: u64, text: &[u8], next_is_field: bool) {
        let bad_name = memchr::memchr(b':', text).and_then(|colon| {
            text[..colon]
                .iter()
                .position(|b| !(33..=126).contains(b))
                .filter(|_| colon > 0 && !matches!(text[0], b' ' | b'\t'))
        });
        if let Some(at) = bad_name {
            let name = printable(&text[..memchr::memchr(b':', text).unwrap_or(0)]);
            self.report(
                line,
                at as u64 + 1,
                "field-name-syntax",
                format!("field name {name:?} has a character outside 33-126"),
            );
        } else if next_is_field && !text.starts_with(b"--") {
            // (A line starting with `--` is a multipart's first delimiter
            // right after its header: the blank line is what is missing.)
            self.report(
                line,
                1,
                "header-no-colon",
                format!("header line without a colon: {:?}", printable(text)),
            );
        } else {
            self.report(line, 1, "no-blank-line", "the header is not followed by an empty line: this line was taken as the start of the body".into());
        }
    }

    fn end_line(&mut self, crlf: bool, context: RawContext<'_>) {
        let line = self.lines.number;
        let len = self.lines.len;
        if len > 998 {
            if let RawContext::Body(part) = context
                && reencodable_long_lines(part)
                && !self.long_lines.contains(&part.id)
            {
                self.long_lines.push(part.id.clone());
            }
            self.report(
                line,
                999,
                "line-too-long",
                format!("line of {len} octets; the limit is 998"),
            );
        } else if len > 78 {
            self.report(
                line,
                79,
                "line-long",
                format!("line of {len} octets; lines should keep to 78"),
            );
        }
        self.line_end(line, len, crlf);
        if matches!(context, RawContext::Header) {
            let text = std::mem::take(&mut self.lines.text);
            if !text.is_empty() && text.iter().all(|b| matches!(b, b' ' | b'\t')) {
                self.report(
                    line,
                    1,
                    "whitespace-only-line",
                    "a continuation line holds only white space".into(),
                );
            }
            self.lines.text = text;
        }
        self.body_line_end(context);
        if matches!(context, RawContext::Header) {
            std::mem::swap(&mut self.lines.previous, &mut self.lines.text);
        }
        self.lines.text.clear();
        self.lines.number += 1;
        self.lines.len = 0;
    }

    fn line_end(&mut self, line: u64, len: u64, crlf: bool) {
        match self.lines.crlf {
            None => self.lines.crlf = Some(crlf),
            Some(true) if !crlf => {
                self.report(
                    line,
                    len + 1,
                    "bare-lf",
                    "line ends in LF alone; the message's lines end in CRLF".into(),
                );
                self.mixed(line);
            }
            Some(false) if crlf => self.mixed(line),
            _ => {}
        }
    }

    fn mixed(&mut self, line: u64) {
        if !self.lines.mixed_reported {
            self.lines.mixed_reported = true;
            self.report(
                line,
                1,
                "mixed-line-endings",
                "this line ends differently from the first line".into(),
            );
        }
    }

    /// Bare CRs, NULs and 8-bit bytes in a line's content.
    fn scan_bytes(&mut self, content: &[u8], context: RawContext<'_>) {
        let line = self.lines.number;
        let base = self.lines.len;
        for cr in memchr::memchr_iter(b'\r', content) {
            self.report(
                line,
                base + cr as u64 + 1,
                "bare-cr",
                "CR not followed by LF".into(),
            );
        }
        if let Some(nul) = memchr::memchr(0, content) {
            self.report(line, base + nul as u64 + 1, "nul-byte", "NUL byte".into());
        }
        match context {
            RawContext::Header => self.header_bytes(content, line, base),
            RawContext::Body(part) if part.kind == PartKind::Leaf => {
                self.body_bytes(content, line, base)
            }
            _ => {}
        }
    }

    fn header_bytes(&mut self, content: &[u8], line: u64, base: u64) {
        let Some(first) = content.iter().position(|&b| b >= 0x80) else {
            return;
        };
        if self.options.smtputf8 && std::str::from_utf8(content).is_ok() {
            return;
        }
        let why = if self.options.smtputf8 {
            "8-bit bytes that are not UTF-8 in a header field"
        } else {
            "8-bit bytes in a header field (use RFC 2047 encoded-words, or --smtputf8 for RFC 6532)"
        };
        self.report(line, base + first as u64 + 1, "raw-8bit-header", why.into());
    }

    fn body_bytes(&mut self, content: &[u8], line: u64, base: u64) {
        let Some(mut body) = self.body.take() else {
            return;
        };
        let eight_bit = content.iter().position(|&b| b >= 0x80);
        match body.encoding.as_str() {
            "7bit" => {
                if let Some(at) = eight_bit.filter(|_| !body.reported_8bit) {
                    body.reported_8bit = true;
                    self.undeclared_8bit.push(body.id.clone());
                    self.report(
                        line,
                        base + at as u64 + 1,
                        "8bit-undeclared",
                        format!("part {}: 8-bit data in a 7bit body", body.id),
                    );
                }
            }
            "quoted-printable" => self.qp_line(content, line, base, eight_bit),
            "base64" => self.base64_bytes(&mut body, content, line, base),
            _ => {}
        }
        self.body = Some(body);
    }

    fn qp_line(&mut self, content: &[u8], line: u64, base: u64, eight_bit: Option<usize>) {
        if let Some(at) = eight_bit {
            self.report(
                line,
                base + at as u64 + 1,
                "qp-8bit",
                "raw 8-bit byte in a quoted-printable body".into(),
            );
        }
        for at in memchr::memchr_iter(b'=', content) {
            let rest = &content[at + 1..];
            let soft_break = rest.iter().all(|b| matches!(b, b' ' | b'\t'));
            let escape =
                rest.len() >= 2 && rest[0].is_ascii_hexdigit() && rest[1].is_ascii_hexdigit();
            if !soft_break && !escape {
                self.report(
                    line,
                    base + at as u64 + 1,
                    "qp-invalid",
                    "= not followed by two hexadecimal digits or a line end".into(),
                );
            }
        }
    }

    fn base64_bytes(&mut self, body: &mut BodyState, content: &[u8], line: u64, base: u64) {
        // The common case, a clean line before any padding, in one pass.
        if !body.base64_padding && content.iter().all(|&b| BASE64_ALPHABET[usize::from(b)]) {
            body.base64_chars += content.len() as u64;
            return;
        }
        for (at, &b) in content.iter().enumerate() {
            let valid = BASE64_ALPHABET[usize::from(b)];
            let bad = if b == b'=' {
                body.base64_padding = true;
                body.base64_chars += 1;
                false
            } else if valid {
                body.base64_chars += 1;
                body.base64_padding
            } else {
                !matches!(b, b' ' | b'\t')
            };
            if bad && !body.base64_reported {
                body.base64_reported = true;
                let why = if valid {
                    "base64 data after the = padding"
                } else {
                    "character outside the base64 alphabet"
                };
                self.report(line, base + at as u64 + 1, "base64-invalid", why.into());
            }
        }
    }

    /// Transfer-encoding line lengths, checked when a body line ends.
    fn body_line_end(&mut self, context: RawContext<'_>) {
        let RawContext::Body(part) = context else {
            return;
        };
        if part.kind != PartKind::Leaf || self.lines.len <= 76 {
            return;
        }
        let rule = match part.encoding.as_str() {
            "base64" => "base64-line-length",
            "quoted-printable" => "qp-line-length",
            _ => return,
        };
        let (line, len) = (self.lines.number, self.lines.len);
        self.report(
            line,
            77,
            rule,
            format!(
                "{} line of {len} characters; the limit is 76",
                part.encoding
            ),
        );
    }

    // ---- header blocks ----

    fn check_header(&mut self, part: &Part, line: u64, block: &[u8]) {
        let fields = split_fields(block, line);
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut mime_fields = false;
        for field in &fields {
            let lower = field.name.to_ascii_lowercase();
            if field.obsolete_space {
                self.report(
                    field.line,
                    field.name.len() as u64 + 1,
                    "obsolete-field-syntax",
                    format!(
                        "white space between the field name {:?} and its colon",
                        printable(field.name.as_bytes())
                    ),
                );
            }
            if let Some(bad) = field.name.bytes().position(|b| !(33..=126).contains(&b)) {
                self.report(
                    field.line,
                    bad as u64 + 1,
                    "field-name-syntax",
                    format!(
                        "field name {:?} has a character outside 33-126",
                        printable(field.name.as_bytes())
                    ),
                );
                continue;
            }
            if part.message_header && ONCE.contains(&lower.as_str()) && seen.contains_key(&lower) {
                self.report(
                    field.line,
                    1,
                    "duplicate-field",
                    format!("{} occurs more than once", field.name),
                );
            }
            mime_fields |= lower.starts_with("content-");
            seen.entry(lower.clone()).or_insert(field.line);
            let findings = self.field_findings(part, &lower, &field.value);
            for finding in findings {
                let (l, c) = field.position(finding.offset);
                self.report(
                    l,
                    c,
                    finding.rule,
                    format!("{}: {}", field.name, finding.message),
                );
            }
        }
        if part.message_header {
            self.message_rules(part, line, &fields, &seen, mime_fields);
        }
        if let Some(line) = field_line(&fields, "content-type") {
            self.type_lines.insert(part.id.clone(), line);
        }
        self.mime_structure(part, &fields);
        self.file_name(part, &fields);
    }

    /// The file name of a part that is an attachment (by the reader's one
    /// rule, [`Part::is_attachment`]: the names a reader writes files
    /// under) must not hide what it is: no control or invisible
    /// characters, no path separators (RFC 2183 §5).
    fn file_name(&mut self, part: &Part, fields: &[Field]) {
        // The header is read before a multipart is known as one.
        if part.content_type.starts_with("multipart/") || !part.is_attachment() {
            return;
        }
        let Some(name) = &part.filename else {
            return;
        };
        let hidden = name
            .chars()
            .find(|&c| c.is_control() || crate::output::is_invisible(c));
        let why = match hidden {
            Some(c) => format!("holds the invisible character U+{:04X}", c as u32),
            None if name.contains(['/', '\\']) => "holds a path separator".to_string(),
            None => return,
        };
        let line = field_line(fields, "content-disposition")
            .filter(|_| {
                fields.iter().any(|f| {
                    f.name.eq_ignore_ascii_case("content-disposition")
                        && crate::decode::param(
                            &crate::decode::parse_disposition(&f.value).1,
                            "filename",
                        )
                        .is_some()
                })
            })
            .or_else(|| field_line(fields, "content-type"))
            .unwrap_or(part.line);
        self.report(
            line,
            1,
            "filename-deceptive",
            format!(
                "part {}: the file name \"{}\" {why}",
                part.id,
                crate::output::printable(name)
            ),
        );
    }

    /// The line of a part's Content-Type field, or `fallback`.
    fn type_line(&self, part: Option<&str>, fallback: u64) -> u64 {
        part.and_then(|id| self.type_lines.get(id))
            .copied()
            .unwrap_or(fallback)
    }

    /// Required fields and their relations, for a message's own header.
    fn message_rules(
        &mut self,
        part: &Part,
        line: u64,
        fields: &[Field],
        seen: &HashMap<String, u64>,
        mime_fields: bool,
    ) {
        if part.depth == 0 {
            if !seen.contains_key("date") {
                self.report(line, 1, "missing-date", "no Date field".into());
            }
            if !seen.contains_key("from") {
                self.report(line, 1, "missing-from", "no From field".into());
            }
        }
        if let Some(from) = fields.iter().find(|f| f.name.eq_ignore_ascii_case("from"))
            && fields::mailbox_count(&from.value) > 1
            && !seen.contains_key("sender")
        {
            self.report(
                from.line,
                1,
                "sender-required",
                "From names several mailboxes but there is no Sender".into(),
            );
        }
        if part.depth == 0 && mime_fields && !seen.contains_key("mime-version") {
            self.report(
                line,
                1,
                "mime-version-missing",
                "MIME fields without MIME-Version".into(),
            );
        }
    }

    /// The findings of one field value, by field name.
    fn field_findings(&self, part: &Part, lower: &str, value: &str) -> Vec<Finding> {
        let utf8 = self.options.smtputf8;
        let message = part.message_header;
        match lower {
            "date" | "resent-date" if message => fields::check_date(value),
            "from" | "resent-from" if message => address_findings(value, false, false, false, utf8),
            "sender" | "resent-sender" if message => {
                address_findings(value, false, true, false, utf8)
            }
            "to" | "cc" | "reply-to" | "resent-to" | "resent-cc" if message => {
                address_findings(value, true, false, false, utf8)
            }
            "bcc" | "resent-bcc" if message => address_findings(value, true, false, true, utf8),
            "message-id" | "resent-message-id" if message => fields::check_msg_ids(value, false),
            "in-reply-to" | "references" if message => fields::check_msg_ids(value, true),
            "content-type" => fields::check_content_type(value),
            "content-transfer-encoding" => fields::check_transfer_encoding(value),
            "content-disposition" => fields::check_disposition(value),
            "mime-version" if message => fields::check_mime_version(value),
            "subject" | "comments" | "content-description" | "keywords" => {
                fields::check_encoded_words(value, WordContext::Unstructured)
            }
            other if message && other.starts_with("x-") => {
                fields::check_encoded_words(value, WordContext::Unstructured)
            }
            _ => Vec::new(),
        }
    }

    /// Composite types' encodings and nested boundaries.
    fn mime_structure(&mut self, part: &Part, fields: &[Field]) {
        let composite = part.content_type.starts_with("multipart/")
            || matches!(
                part.content_type.as_str(),
                "message/rfc822" | "message/global"
            );
        if composite && !fields::is_identity_encoding(&part.encoding) {
            let line = field_line(fields, "content-transfer-encoding").unwrap_or(part.line);
            self.report(
                line,
                1,
                "cte-not-allowed",
                format!("{} cannot be {}", part.content_type, part.encoding),
            );
        }
        let boundary = fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case("content-type"))
            .and_then(|f| {
                crate::decode::param(&crate::decode::parse_mime_value(&f.value).1, "boundary")
                    .map(str::to_string)
            });
        let Some(boundary) = boundary.filter(|_| part.content_type.starts_with("multipart/"))
        else {
            return;
        };
        let clash = self
            .boundaries
            .iter()
            .find(|(_, outer)| {
                boundary.starts_with(outer.as_str()) || outer.starts_with(boundary.as_str())
            })
            .map(|(id, _)| id.clone());
        if let Some(outer) = clash {
            let line = field_line(fields, "content-type").unwrap_or(part.line);
            self.report(
                line,
                1,
                "boundary-prefix",
                format!(
                    "boundary {boundary:?} and that of part {outer} are prefixes of one another"
                ),
            );
        }
        self.boundaries.push((part.id.clone(), boundary));
    }

    // ---- charsets ----

    fn start_body(&mut self, part: &Part) {
        let charset = part.content_type.starts_with("text/").then(|| {
            let label = part.charset.clone().unwrap_or_else(|| "us-ascii".into());
            let ascii_only = matches!(label.as_str(), "us-ascii" | "ascii" | "ansi_x3.4-1968");
            let decoder = (!ascii_only)
                .then(|| encoding_rs::Encoding::for_label(label.as_bytes()))
                .flatten()
                .map(|e| e.new_decoder_without_bom_handling());
            CharsetCheck {
                label,
                decoder,
                ascii_only,
                reported: false,
                scratch: String::with_capacity(8192),
            }
        });
        self.body = Some(BodyState {
            id: part.id.clone(),
            encoding: part.encoding.clone(),
            reported_8bit: false,
            base64_chars: 0,
            base64_padding: false,
            base64_reported: false,
            charset,
            line: part.line,
        });
    }

    fn check_charset(&mut self, data: &[u8], last: bool) {
        let Some(body) = &mut self.body else {
            return;
        };
        let (id, line) = (
            body.id.clone(),
            self.type_lines.get(&body.id).copied().unwrap_or(body.line),
        );
        let Some(check) = body.charset.as_mut().filter(|c| !c.reported) else {
            return;
        };
        let invalid = if check.ascii_only {
            !data.is_ascii()
        } else if let Some(decoder) = &mut check.decoder {
            malformed(decoder, &mut check.scratch, data, last)
        } else {
            false
        };
        if invalid {
            check.reported = true;
            let label = check.label.clone();
            self.report(
                line,
                1,
                "charset-invalid",
                format!("part {id}: text not valid in its charset {label}"),
            );
        }
    }

    fn end_body(&mut self, part: &Part) {
        if self.body.as_ref().is_some_and(|b| b.id == part.id) {
            self.check_charset(&[], true);
            let body = self.body.take().expect("checked");
            if body.encoding == "base64"
                && !body.base64_chars.is_multiple_of(4)
                && !body.base64_reported
            {
                self.report(
                    part.line,
                    1,
                    "base64-invalid",
                    format!("part {}: base64 ends with an incomplete group", part.id),
                );
            }
        }
        if part.kind == PartKind::Multipart
            && self.boundaries.last().is_some_and(|(id, _)| *id == part.id)
        {
            self.boundaries.pop();
        }
    }
}

/// The base64 alphabet (RFC 2045 §6.8 Table 1), without the pad.
const BASE64_ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        b += 1;
    }
    table
};

/// Whether decoding `data` meets malformed input.
fn malformed(
    decoder: &mut encoding_rs::Decoder,
    scratch: &mut String,
    mut data: &[u8],
    last: bool,
) -> bool {
    loop {
        scratch.clear();
        let (result, read) = decoder.decode_to_string_without_replacement(data, scratch, last);
        data = &data[read..];
        match result {
            encoding_rs::DecoderResult::Malformed(..) => return true,
            encoding_rs::DecoderResult::InputEmpty => return false,
            encoding_rs::DecoderResult::OutputFull => {
                if scratch.capacity() < 64 * 1024 {
                    scratch.reserve(scratch.capacity());
                }
            }
        }
    }
}

fn address_findings(
    value: &str,
    allow_group: bool,
    single: bool,
    allow_empty: bool,
    smtputf8: bool,
) -> Vec<Finding> {
    let mut findings =
        fields::check_address_list(value, allow_group, single, allow_empty, smtputf8);
    findings.extend(fields::check_encoded_words(value, WordContext::Phrase));
    findings
}

fn field_line(fields: &[Field], name: &str) -> Option<u64> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| f.line)
}

/// Whether `--fix` can re-encode a part's long lines as quoted-printable
/// and keep its decoded text: a text leaf sent as it is.
fn reencodable_long_lines(part: &Part) -> bool {
    part.kind == PartKind::Leaf
        && part.content_type.starts_with("text/")
        && fields::is_identity_encoding(&part.encoding)
}

fn looks_like_field(line: &[u8]) -> bool {
    crate::grammar::header::field_name(line).is_some()
}

fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(60)]);
    crate::output::printable(&text).into_owned()
}

/// A header field with where its value's pieces stand.
struct Field {
    name: String,
    /// White space stood between the name and the colon (RFC 5322 §4.5).
    obsolete_space: bool,
    value: String,
    line: u64,
    /// (offset in value, line, column of that offset).
    segments: Vec<(usize, u64, u64)>,
}

impl Field {
    /// Line and column of a byte offset in the value.
    fn position(&self, offset: usize) -> (u64, u64) {
        let (start, line, column) = self
            .segments
            .iter()
            .rev()
            .find(|(start, _, _)| *start <= offset)
            .copied()
            .unwrap_or((0, self.line, 1));
        (line, column + (offset - start) as u64)
    }
}

/// The fields of a header block, values unfolded, positions kept.
fn split_fields(block: &[u8], first_line: u64) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for (index, raw) in block.split(|&b| b == b'\n').enumerate() {
        let line_no = first_line + index as u64;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(raw);
        if matches!(raw[0], b' ' | b'\t') {
            if let Some(field) = fields.last_mut()
                && field.value.len() < MAX_FIELD
            {
                field.segments.push((field.value.len(), line_no, 1));
                field.value.push_str(&text);
            }
            continue;
        }
        let Some(colon) = text.find(':') else {
            continue;
        };
        let name = &text[..colon];
        let trimmed = name.trim_end_matches([' ', '\t']);
        let is_field = crate::grammar::header::field_name(raw).is_some();
        let obsolete_space = is_field && trimmed.len() < name.len();
        let name = if is_field { trimmed } else { name };
        fields.push(Field {
            name: name.to_string(),
            obsolete_space,
            value: text[colon + 1..].to_string(),
            line: line_no,
            segments: vec![(0, line_no, colon as u64 + 2)],
        });
    }
    fields
}

impl Visitor for Linter {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        if part.kind == PartKind::Leaf {
            self.start_body(part);
        }
        Ok(())
    }

    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        if part.kind == PartKind::Leaf {
            self.check_charset(data, false);
        }
        Ok(())
    }

    fn end(&mut self, part: &Part) -> Result<(), Error> {
        self.end_body(part);
        Ok(())
    }

    fn problem(&mut self, problem: &Problem) {
        let part = problem.part.as_deref().unwrap_or("message");
        let type_line = self.type_line(problem.part.as_deref(), problem.line);
        match problem.kind {
            ProblemKind::UnclosedMultipart => self.report(
                type_line,
                1,
                "multipart-unclosed",
                format!("part {part}: multipart without its closing delimiter"),
            ),
            ProblemKind::BoundaryNotFound => self.report(
                type_line,
                1,
                "boundary-not-found",
                format!("part {part}: the boundary never occurs"),
            ),
            ProblemKind::NoBodyPart => self.report(
                type_line,
                1,
                "boundary-not-found",
                format!(
                    "part {part}: only the closing delimiter occurs: the multipart has no body part"
                ),
            ),
            ProblemKind::NoBlankLine => {
                let text = std::mem::take(&mut self.lines.previous);
                self.header.pending_separator = Some((problem.line, text));
            }
            ProblemKind::Limit => self.report(problem.line, 1, "limit", problem.message.clone()),
            ProblemKind::ByteOrderMark => self.report(
                1,
                1,
                "byte-order-mark",
                "a UTF-8 byte-order mark before the first field (skipped)".into(),
            ),
            // Reported by other rules, with positions.
            ProblemKind::MissingBoundary
            | ProblemKind::BadContentType
            | ProblemKind::DamagedEncoding
            | ProblemKind::TruncatedUuencode => {}
        }
    }

    fn raw(&mut self, piece: &RawPiece) {
        let mut data = piece.data;
        let mut starts_line = piece.starts_line;
        while !data.is_empty() {
            let (segment, ends_line) = match memchr::memchr(b'\n', data) {
                Some(at) => (&data[..=at], true),
                None => (data, piece.ends_line),
            };
            self.raw_line(
                segment,
                ends_line && segment.ends_with(b"\n"),
                starts_line,
                piece.context,
            );
            data = &data[segment.len()..];
            starts_line = true;
        }
    }

    fn header(&mut self, part: &Part, line: u64, block: &[u8]) {
        self.check_header(part, line, block);
    }
}
