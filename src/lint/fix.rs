//! `--fix`: a second streaming pass that writes the message back with what
//! can be repaired safely: line ends normalised, long header lines folded,
//! raw 8-bit header text RFC 2047-encoded, Date, Message-ID and MIME-Version
//! added, undeclared 8-bit bodies and text with lines over 998 octets
//! re-encoded as quoted-printable (RFC 2045 §6.7), white space before a
//! field's colon removed (RFC 5322 §4.5), a
//! multipart left open at the end closed. Everything else is copied.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::encode::{LineEndings, Newline, QuotedPrintableWriter};
use crate::error::{Error, ErrorKind};
use crate::mime_reader::{Part, PartKind, Problem, ProblemKind, RawContext, RawPiece, Visitor};

/// Writes the repaired message to `out`.
pub struct Fixer<W: Write> {
    out: W,
    newline: Newline,
    /// Parts whose 8-bit content is declared 7bit: re-encoded.
    reencode: Vec<String>,
    encoder: Option<(String, QuotedPrintableWriter<Vec<u8>>)>,
    boundaries: HashMap<String, String>,
    last_header_line: Vec<u8>,
    last_context_delimiter: bool,
    /// A delimiter line that arrived before the re-encoded part it ends
    /// was written out.
    held_delimiter: Vec<u8>,
    ends_with_newline: bool,
    pending_cr: bool,
    error: Option<io::Error>,
}

impl<W: Write> Fixer<W> {
    /// A fixer writing to `out` with `newline` line ends, re-encoding the
    /// parts listed (from the lint pass).
    pub fn new(out: W, newline: Newline, reencode: Vec<String>) -> Self {
        Fixer {
            out,
            newline,
            reencode,
            encoder: None,
            boundaries: HashMap::new(),
            last_header_line: Vec::new(),
            last_context_delimiter: false,
            held_delimiter: Vec::new(),
            ends_with_newline: true,
            pending_cr: false,
            error: None,
        }
    }

    /// The output, or the first write error.
    pub fn finish(mut self) -> io::Result<W> {
        if self.pending_cr {
            self.pending_cr = false;
            let nl = self.newline.as_bytes();
            self.write(nl);
        }
        match self.error {
            Some(e) => Err(e),
            None => {
                self.out.flush()?;
                Ok(self.out)
            }
        }
    }

    fn write(&mut self, data: &[u8]) {
        if data.is_empty() || self.error.is_some() {
            return;
        }
        if let Err(e) = self.out.write_all(data) {
            self.error = Some(e);
        }
        self.ends_with_newline = data.ends_with(b"\n");
    }

    /// Writes with every CR, LF or CRLF turned into the newline.
    fn write_text(&mut self, data: &[u8]) {
        let nl = self.newline.as_bytes();
        let mut converted = Vec::with_capacity(data.len() + 16);
        let mut rest = data;
        if self.pending_cr {
            self.pending_cr = false;
            converted.extend_from_slice(nl);
            if rest.first() == Some(&b'\n') {
                rest = &rest[1..];
            }
        }
        let mut iter = rest.iter().enumerate().peekable();
        while let Some((at, &b)) = iter.next() {
            match b {
                b'\r' if at + 1 == rest.len() => self.pending_cr = true,
                b'\r' => {
                    converted.extend_from_slice(nl);
                    if iter.peek().is_some_and(|&(_, n)| *n == b'\n') {
                        iter.next();
                    }
                }
                b'\n' => converted.extend_from_slice(nl),
                _ => converted.push(b),
            }
        }
        self.write(&converted);
    }

    fn header_block(&mut self, part: &Part, block: &[u8]) {
        let reencode = self.reencode.contains(&part.id) && part.kind != PartKind::Multipart;
        let fields = fixed_fields(part, block, reencode, self.newline);
        let nl = self.newline.as_bytes().to_vec();
        for field in fields {
            self.write(field.as_bytes());
            self.write(&nl);
        }
        self.write(&nl);
        if let Some(boundary) = boundary_of(block) {
            self.boundaries.insert(part.id.clone(), boundary);
        }
    }
}

/// A failure of the quoted-printable encoder (it writes into memory).
fn reencoding(error: &io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "re-encoding a part", error)
}

impl<W: Write> Visitor for Fixer<W> {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        if part.kind == PartKind::Leaf && self.reencode.contains(&part.id) {
            let writer = QuotedPrintableWriter::new(Vec::new(), self.newline, LineEndings::Text);
            self.encoder = Some((part.id.clone(), writer));
        }
        Ok(())
    }

    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        if let Some((id, writer)) = &mut self.encoder
            && *id == part.id
        {
            writer
                .write_all(data)
                .and_then(|()| writer.flush())
                .map_err(|e| reencoding(&e))?;
            let encoded: Vec<u8> = std::mem::take(writer.get_mut());
            self.write(&encoded);
        }
        Ok(())
    }

    fn end(&mut self, part: &Part) -> Result<(), Error> {
        if self.encoder.as_ref().is_some_and(|(id, _)| *id == part.id) {
            let (_, writer) = self.encoder.take().expect("checked");
            let rest = writer.finish().map_err(|e| reencoding(&e))?;
            self.write(&rest);
            if part.depth > 0 {
                // The line end before the next delimiter.
                let nl = self.newline.as_bytes();
                self.write(nl);
            }
            let held = std::mem::take(&mut self.held_delimiter);
            self.write_text(&held);
        }
        Ok(())
    }

    fn problem(&mut self, problem: &Problem) {
        match problem.kind {
            ProblemKind::NoBlankLine => {
                let line = std::mem::take(&mut self.last_header_line);
                self.write_text(&line);
            }
            ProblemKind::UnclosedMultipart if !self.last_context_delimiter => {
                let Some(boundary) = problem
                    .part
                    .as_ref()
                    .and_then(|id| self.boundaries.get(id))
                    .cloned()
                else {
                    return;
                };
                let nl = self.newline.as_bytes().to_vec();
                if !self.ends_with_newline {
                    self.write(&nl);
                }
                self.write(format!("--{boundary}--").as_bytes());
                self.write(&nl);
            }
            _ => {}
        }
    }

    fn raw(&mut self, piece: &RawPiece) {
        self.last_context_delimiter = matches!(piece.context, RawContext::Delimiter);
        match piece.context {
            // Only the start of a line can turn out to be the first line
            // of a body without a blank line before it; the rest of a long
            // header line is not kept.
            RawContext::Header if piece.starts_line => {
                self.last_header_line.clear();
                self.last_header_line.extend_from_slice(piece.data);
            }
            RawContext::Header => {}
            RawContext::Body(part)
                if self.encoder.as_ref().is_some_and(|(id, _)| *id == part.id) => {}
            // The part being re-encoded is written when it ends, which the
            // reader learns from this very line: keep the line until then.
            RawContext::Delimiter if self.encoder.is_some() => {
                self.held_delimiter.extend_from_slice(piece.data);
            }
            _ => self.write_text(piece.data),
        }
    }

    fn header(&mut self, part: &Part, _line: u64, block: &[u8]) {
        self.header_block(part, block);
    }
}

/// The boundary parameter of a header block's Content-Type, if any.
fn boundary_of(block: &[u8]) -> Option<String> {
    let header = crate::message::parse_header(&[block, b"\n"].concat());
    let value = header.get("content-type")?;
    let (essence, params) = crate::decode::parse_mime_value(value);
    essence.filter(|e| e.starts_with("multipart/"))?;
    crate::decode::param(&params, "boundary").map(str::to_string)
}

/// A header block's fields, repaired, one string each (folded with the
/// newline).
fn fixed_fields(part: &Part, block: &[u8], reencode: bool, newline: Newline) -> Vec<String> {
    let nl = std::str::from_utf8(newline.as_bytes()).expect("ASCII");
    let header = crate::message::parse_header(&[block, b"\n"].concat());
    let mut fields: Vec<String> = Vec::new();
    let has = |name: &str| header.get(name).is_some();
    for field in &header.fields {
        if reencode && field.is("content-transfer-encoding") {
            continue;
        }
        if reencode
            && field.is("content-type")
            && part.charset.is_none()
            && part.content_type.starts_with("text/")
        {
            // The 8-bit text gets a charset too (UTF-8, what mail uses).
            fields.push(format!("{}; charset=utf-8", fixed_field(field, nl)));
            continue;
        }
        fields.push(fixed_field(field, nl));
    }
    let is_message = part.message_header;
    if is_message && part.depth == 0 {
        if !has("date") {
            fields.push(crate::header::date_field());
        }
        if !has("message-id") {
            fields.push(crate::header::message_id_field(
                from_domain(&header).as_deref(),
            ));
        }
    }
    let uses_mime = reencode
        || header
            .fields
            .iter()
            .any(|f| f.name.to_ascii_lowercase().starts_with("content-"));
    if is_message && part.depth == 0 && uses_mime && !has("mime-version") {
        fields.push("MIME-Version: 1.0".into());
    }
    if reencode {
        if !has("content-type") {
            fields.push("Content-Type: text/plain; charset=utf-8".into());
        }
        fields.push("Content-Transfer-Encoding: quoted-printable".into());
    }
    fields
}

/// The domain of the first From mailbox, for an added Message-ID
/// (RFC 5322 §3.6.4: the right side is usually the sender's domain).
fn from_domain(header: &crate::message::Header) -> Option<String> {
    let from = crate::decode::decode_header_text(header.get("from")?);
    let list = crate::address::parse_address_list(&from).ok()?;
    let first = crate::address::mailboxes(&list).into_iter().next()?;
    Some(first.domain.clone())
}

/// One field: raw 8-bit text encoded where the field is unstructured or an
/// address list; lines over 78 octets folded at white space; else as it was.
fn fixed_field(field: &crate::message::Field, nl: &str) -> String {
    let lines: Vec<Vec<u8>> = field.lines.iter().map(|l| without_bare_cr(l)).collect();
    let mut raw: Vec<u8> = lines.join(&b"\n"[..]);
    // `Name :` (RFC 5322 §4.5) written as `Name:`.
    if let Some(colon) = memchr::memchr(b':', &raw)
        && colon > field.name.len()
    {
        raw.drain(field.name.len()..colon);
    }
    let lower = field.name.to_ascii_lowercase();
    if !raw.is_ascii()
        && let Some(encoded) = encode_8bit_field(&field.name, &lines.concat(), &lower, nl)
    {
        return encoded;
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    if text.lines().all(|l| l.len() <= 78) {
        return text.replace('\n', nl);
    }
    refold(&text.replace('\n', ""), nl)
}

/// A header line without bare CRs (RFC 5322 §2.2 allows CR only in CRLF):
/// those at its end dropped, any other made a space, since one that the
/// output turned into a line end would start a line of its own.
fn without_bare_cr(line: &[u8]) -> Vec<u8> {
    let end = line.iter().rposition(|&b| b != b'\r').map_or(0, |i| i + 1);
    let spaced = line[..end]
        .iter()
        .map(|&b| if b == b'\r' { b' ' } else { b });
    spaced.collect()
}

/// RFC 2047-encodes a field (`name`, its lines `raw`) holding raw 8-bit
/// text, if its kind allows.
fn encode_8bit_field(name: &str, raw: &[u8], lower: &str, nl: &str) -> Option<String> {
    let text = crate::decode::header_text(raw);
    let value = text.split_once(':').map(|(_, v)| v.trim()).unwrap_or("");
    let newline = if nl == "\r\n" {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    let unstructured = matches!(
        lower,
        "subject" | "comments" | "content-description" | "keywords"
    ) || lower.starts_with("x-");
    if unstructured {
        return crate::compose::unstructured_field(name, value, newline).ok();
    }
    let addresses = matches!(lower, "from" | "to" | "cc" | "bcc" | "reply-to" | "sender");
    if addresses {
        return crate::compose::address_field(name, &[value.to_string()], newline)
            .ok()
            .flatten();
    }
    None
}

/// Folds an unfolded field at white space so that lines keep to 78
/// octets where a break exists (a fold only inserts a line end before
/// white space, which unfolding removes: the value is unchanged).
fn refold(text: &str, nl: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut line_start = 0;
    let mut last_space: Option<usize> = None;
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if matches!(bytes[at], b' ' | b'\t') && at > line_start {
            last_space = Some(at);
        }
        if at - line_start >= 78
            && let Some(space) = last_space.filter(|&s| s > line_start)
        {
            out.push_str(&text[line_start..space]);
            out.push_str(nl);
            line_start = space;
            last_space = None;
        }
        at += 1;
    }
    out.push_str(&text[line_start..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn refolding_keeps_the_value() {
        let text = format!("Subject: {}", "word ".repeat(40));
        let folded = super::refold(text.trim_end(), "\n");
        assert!(folded.lines().all(|l| l.len() <= 78), "{folded}");
        assert_eq!(folded.replace('\n', ""), text.trim_end());
    }
}
