//! Building MIME messages (RFC 2045-2049): leaf parts read from files or
//! stdin, multipart structure, header fields, and streaming output in
//! constant memory. Every input is opened and scanned before the first byte
//! is written, so an unreadable file fails before any output.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::encode::{self, Analysis, LineEndings, Newline, TransferEncoding};
use crate::error::{Error, ErrorKind};
use crate::header;
use crate::input::Replayable;
use crate::media_type;

/// How much of a part is used to recognise its type from its content.
const SNIFF_LEN: usize = 512;
const CHUNK: usize = 64 * 1024;

/// Where a leaf part's content comes from.
pub enum Source {
    /// A file, opened when needed (twice: scanned, then encoded).
    File(PathBuf),
    /// Content already read.
    Replayable(std::rc::Rc<Replayable>),
    /// A FIFO or pipe named as a file, read once and kept.
    Spooled(PathBuf, Replayable),
}

impl Source {
    fn open(&self) -> Result<Box<dyn Read + '_>, Error> {
        match self {
            Source::File(path) => crate::input::open_file(path)
                .map(|f| Box::new(io::BufReader::with_capacity(CHUNK, f)) as Box<dyn Read>),
            Source::Replayable(spool) => spool
                .reader()
                .map_err(|e| Error::new(ErrorKind::LocalIo, format!("reading stdin: {e}"))),
            Source::Spooled(path, spool) => spool.reader().map_err(|e| {
                Error::new(
                    ErrorKind::LocalIo,
                    format!("reading {}: {e}", path.display()),
                )
            }),
        }
    }

    /// The content of the file at `path` (`-`: stdin, read by the caller).
    /// A regular file is opened when needed, twice; a FIFO or pipe
    /// (`<(command)`), which a second open would wait on for ever or find
    /// empty, is read once, now, and kept (in memory, or an unnamed
    /// temporary file when large). Unreadable: 66.
    pub fn from_path(path: &Path) -> Result<Source, Error> {
        let special = path.as_os_str() != "-"
            && std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir());
        if !special {
            return Ok(Source::File(path.to_path_buf()));
        }
        let mut file = crate::input::open_file(path)?;
        let spool = Replayable::read_from(&mut file).map_err(|e| {
            Error::new(
                ErrorKind::MissingInput,
                format!("reading {}: {e}", path.display()),
            )
        })?;
        Ok(Source::Spooled(path.to_path_buf(), spool))
    }

    /// True for the attachment `-`: stdin, to be read by the caller and
    /// given as [`Source::Replayable`].
    pub fn is_stdin(&self) -> bool {
        matches!(self, Source::File(path) if path.as_os_str() == "-")
    }

    fn describe(&self) -> String {
        match self {
            Source::File(path) | Source::Spooled(path, _) => path.display().to_string(),
            Source::Replayable(_) => "stdin".into(),
        }
    }
}

/// How a part is presented (RFC 2183).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// A file to save.
    Attachment,
    /// Shown with the message (images of an HTML body).
    Inline,
}

/// One leaf part as the user asked for it.
pub struct Leaf {
    /// The content.
    pub source: Source,
    /// The media type; `None` to decide from the file name, then content.
    pub media_type: Option<String>,
    /// The file name to announce.
    pub filename: Option<String>,
    /// Attachment or inline; `None` for a body part.
    pub disposition: Option<Disposition>,
    /// A Content-ID (without angle brackets).
    pub content_id: Option<String>,
    /// A message body: line ends are text (normalised). Attachments keep
    /// their bytes exactly.
    pub is_body: bool,
    /// Also announce a non-ASCII file name RFC 2047-encoded in `name=`.
    pub legacy_name: bool,
}

/// A leaf after scanning: everything needed to write it.
pub struct ScannedLeaf {
    leaf: Leaf,
    media_type: String,
    charset: Option<&'static str>,
    encoding: TransferEncoding,
    ends_with_newline: bool,
}

impl ScannedLeaf {
    /// The chosen media type.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The chosen transfer encoding.
    pub fn encoding(&self) -> TransferEncoding {
        self.encoding
    }

    fn endings(&self) -> LineEndings {
        if self.leaf.is_body || self.media_type == "message/rfc822" {
            LineEndings::Text
        } else {
            LineEndings::Exact
        }
    }
}

/// Scans a leaf (opening it: a missing file fails here, with 66) and
/// decides its media type, charset and transfer encoding. `avoid` is a
/// string that must not appear in a part sent as 7bit or quoted-printable
/// (a boundary chosen by someone else); such a part goes as base64 (a
/// message/rfc822 one as application/octet-stream, since an embedded
/// message is never encoded, RFC 2046 §5.2.1). A Content-ID that cannot go in the field is refused (64).
pub fn prepare(leaf: Leaf, newline: Newline, avoid: Option<&[u8]>) -> Result<ScannedLeaf, Error> {
    if let Some(id) = &leaf.content_id {
        check_content_id(id)?;
    }
    let scan = scan(&leaf.source, avoid)?;
    let media_type = leaf
        .media_type
        .clone()
        .or_else(|| {
            leaf.filename
                .as_deref()
                .and_then(|n| media_type::from_name(Path::new(n)))
                .map(str::to_string)
        })
        .or_else(|| media_type::sniff(&scan.head).map(str::to_string))
        .unwrap_or_else(|| {
            if scan.analysis.is_utf8() && !scan.analysis.has_nul() {
                "text/plain".into()
            } else {
                "application/octet-stream".into()
            }
        })
        .to_ascii_lowercase();
    let mut media_type = media_type;
    let endings = if leaf.is_body {
        LineEndings::Text
    } else {
        LineEndings::Exact
    };
    let mut encoding = scan.analysis.choose(endings, newline);
    if media_type == "message/rfc822" {
        match embedded_message_encoding(&scan.analysis) {
            // Holding the boundary, it must be encoded (below).
            Some(kind) if !scan.contains_avoided => encoding = kind,
            // RFC 2046 §5.2.1 allows only 7bit, 8bit or binary here.
            _ => media_type = "application/octet-stream".into(),
        }
    }
    if scan.contains_avoided && encoding != TransferEncoding::Base64 {
        encoding = TransferEncoding::Base64;
    }
    let charset = media_type.starts_with("text/").then(|| {
        if scan.analysis.is_utf8() {
            "utf-8"
        } else {
            // RFC 1428: honest about 8-bit text in an unknown charset.
            "unknown-8bit"
        }
    });
    Ok(ScannedLeaf {
        leaf,
        media_type,
        charset,
        encoding,
        ends_with_newline: scan.analysis.ends_with_newline(),
    })
}

/// The longest Content-ID: `Content-ID: <ID>` fits a line of 998 octets
/// (RFC 5322 §2.1.1).
const MAX_CONTENT_ID: usize = 998 - "Content-ID: <>".len();

/// Refuses (64) a Content-ID that cannot be written as it is between the
/// angle brackets of a msg-id (RFC 2045 §7, RFC 5322 §3.6.4), which has
/// no encoded form and is never folded: anything but printable US-ASCII
/// (a line break would start a field of its own), `<` or `>`, or too long
/// for one line. A name used as the Content-ID is checked the same way.
fn check_content_id(id: &str) -> Result<(), Error> {
    let bad = id
        .chars()
        .find(|&c| !c.is_ascii_graphic() || c == '<' || c == '>');
    if let Some(c) = bad {
        return Err(Error::usage(format!(
            "Content-ID {:?}: {c:?} cannot be part of a Content-ID (RFC 2045 §7); give one with ;cid=ID",
            crate::output::printable(id)
        )));
    }
    if id.len() > MAX_CONTENT_ID {
        return Err(Error::usage(format!(
            "a Content-ID of {} octets is longer than a line can carry ({MAX_CONTENT_ID})",
            id.len()
        )));
    }
    Ok(())
}

/// A message/rfc822 part is never encoded (RFC 2046 §5.2.1): 7bit when
/// it is ASCII, 8bit when it has 8-bit bytes; `None` when it cannot be
/// sent as is (NUL, lines over 998 octets). Its content is not encoded, so
/// what would keep a 7bit leaf from 7bit (an `=_` that looks like the
/// start of a boundary) does not make it 8bit.
fn embedded_message_encoding(analysis: &Analysis) -> Option<TransferEncoding> {
    if analysis.has_nul() || analysis.max_line_len() > 998 {
        None
    } else if analysis.is_ascii() {
        Some(TransferEncoding::SevenBit)
    } else {
        Some(TransferEncoding::EightBit)
    }
}

struct Scan {
    analysis: Analysis,
    head: Vec<u8>,
    contains_avoided: bool,
}

/// Reads the content once: facts for the encoding choice, the first bytes
/// for sniffing, and whether `avoid` occurs. Stops early once the content
/// is certainly binary (it goes as base64 whatever follows).
fn scan(source: &Source, avoid: Option<&[u8]>) -> Result<Scan, Error> {
    let mut reader = source.open()?;
    let mut analysis = Analysis::new();
    let mut head = Vec::new();
    let mut contains_avoided = false;
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                // Nothing is written yet: an unreadable file (a directory,
                // a device error) is bad input, like a missing one.
                let kind = match source {
                    Source::File(_) => ErrorKind::MissingInput,
                    Source::Replayable(_) | Source::Spooled(..) => ErrorKind::LocalIo,
                };
                return Err(Error::new(
                    kind,
                    format!("reading {}: {e}", source.describe()),
                ));
            }
        };
        let chunk = &buf[..n];
        analysis.update(chunk);
        if head.len() < SNIFF_LEN {
            head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_LEN - head.len())]);
        }
        if let Some(needle) = avoid {
            carry.extend_from_slice(chunk);
            contains_avoided |= memchr::memmem::find(&carry, needle).is_some();
            let keep = needle.len().saturating_sub(1).min(carry.len());
            carry.drain(..carry.len() - keep);
        }
        if analysis.is_certainly_binary() && head.len() >= SNIFF_LEN {
            break;
        }
    }
    analysis.finish();
    Ok(Scan {
        analysis,
        head,
        contains_avoided,
    })
}

/// A MIME tree.
pub enum Node {
    /// One part.
    Leaf(Box<ScannedLeaf>),
    /// A multipart/SUBTYPE of parts.
    Multipart(&'static str, Vec<Node>),
}

/// A fresh boundary. It starts with `=_`, which quoted-printable and base64
/// never produce and which [`prepare`] keeps out of 7bit parts, so it
/// cannot occur in any content mailkit encodes (RFC 2046 §5.1.1).
pub fn new_boundary() -> String {
    format!("=_mk{}", crate::random::hex(28))
}

/// Writes the header fields of `node` (Content-Type and friends) and its
/// body. Top-level callers write their own fields first.
pub fn write_node(out: &mut impl Write, node: &Node, newline: Newline) -> io::Result<()> {
    let nl = newline.as_bytes();
    match node {
        Node::Leaf(part) => {
            for field in leaf_fields(part, newline) {
                out.write_all(field.as_bytes())?;
                out.write_all(nl)?;
            }
            out.write_all(nl)?;
            write_content(out, part, newline)
        }
        Node::Multipart(subtype, children) => {
            let boundary = new_boundary();
            let content_type = header::fold(
                "Content-Type",
                &[
                    format!("multipart/{subtype};"),
                    format!("boundary=\"{boundary}\""),
                ],
                std::str::from_utf8(nl).expect("ASCII"),
            );
            out.write_all(content_type.as_bytes())?;
            out.write_all(nl)?;
            out.write_all(nl)?;
            write_children(out, &boundary, children, newline)
        }
    }
}

/// The parts of a multipart body and its closing delimiter.
pub fn write_children(
    out: &mut impl Write,
    boundary: &str,
    children: &[Node],
    newline: Newline,
) -> io::Result<()> {
    let nl = newline.as_bytes();
    for child in children {
        write!(out, "--{boundary}")?;
        out.write_all(nl)?;
        write_node(out, child, newline)?;
        // This line end belongs to the delimiter (RFC 2046 §5.1.1).
        out.write_all(nl)?;
    }
    write!(out, "--{boundary}--")?;
    out.write_all(nl)
}

fn write_content(out: &mut impl Write, part: &ScannedLeaf, newline: Newline) -> io::Result<()> {
    let mut reader = part
        .leaf
        .source
        .open()
        .map_err(|e| io::Error::other(e.to_string()))?;
    encode::copy_encoded(&mut reader, out, part.encoding, part.endings(), newline)?;
    Ok(())
}

/// Content-Type, Content-Transfer-Encoding, Content-Disposition and
/// Content-ID of a leaf, folded.
fn leaf_fields(part: &ScannedLeaf, newline: Newline) -> Vec<String> {
    let nl = std::str::from_utf8(newline.as_bytes()).expect("ASCII");
    let mut type_params = Vec::new();
    if let Some(charset) = part.charset {
        type_params.push(vec![format!("charset={charset}")]);
    }
    if let Some(name) = &part.leaf.filename {
        type_params.extend(name_params(name, part.leaf.legacy_name));
    }
    let mut fields = vec![header::fold(
        "Content-Type",
        &with_params(&part.media_type, type_params),
        nl,
    )];
    fields.push(format!(
        "Content-Transfer-Encoding: {}",
        part.encoding.as_str()
    ));
    if let Some(disposition) = part.leaf.disposition {
        let kind = match disposition {
            Disposition::Attachment => "attachment",
            Disposition::Inline => "inline",
        };
        let params = part
            .leaf
            .filename
            .iter()
            .flat_map(|name| header::rfc2231_param("filename", name))
            .map(|p| vec![p])
            .collect();
        fields.push(header::fold(
            "Content-Disposition",
            &with_params(kind, params),
            nl,
        ));
    }
    if let Some(id) = &part.leaf.content_id {
        fields.push(format!("Content-ID: <{id}>"));
    }
    fields
}

/// The longest name written as a plain quoted `name=`, as
/// [`header::rfc2231_param`] writes `filename=`: a quoted string cannot be
/// folded, and a longer one would make a line too long (RFC 5322 §2.1.1).
const MAX_PLAIN_NAME: usize = 60;

/// The `name=` parameter(s): the plain quoted name when it is short ASCII;
/// else, for readers that predate RFC 2231, RFC 2047 encoded-words inside
/// the quotes as most mail programs write them (RFC 2047 §5 does not allow
/// them there, and strict parsers say so), or with `legacy` off, the
/// RFC 2231 form.
fn name_params(name: &str, legacy: bool) -> Vec<Vec<String>> {
    if header::is_plain_param(name) && name.len() <= MAX_PLAIN_NAME {
        return vec![vec![format!("name={}", crate::address::quote_string(name))]];
    }
    if !legacy {
        return header::rfc2231_param("name", name)
            .into_iter()
            .map(|p| vec![p])
            .collect();
    }
    let mut words = header::encoded_words(name, 60);
    if let Some(first) = words.first_mut() {
        *first = format!("name=\"{first}");
    }
    if let Some(last) = words.last_mut() {
        last.push('"');
    }
    vec![words]
}

/// `value; p1; p2` as fold tokens: each parameter may be several tokens,
/// and all but the last parameter end with `;`.
fn with_params(value: &str, params: Vec<Vec<String>>) -> Vec<String> {
    let mut tokens = vec![value.to_string()];
    for param in params {
        if let Some(last) = tokens.last_mut() {
            last.push(';');
        }
        tokens.extend(param);
    }
    tokens
}

/// The parts a message is made of, as given.
#[derive(Default)]
pub struct Plan {
    /// The plain text body.
    pub text: Option<Leaf>,
    /// The HTML alternative.
    pub html: Option<Leaf>,
    /// Images and the like that the HTML references by Content-ID.
    pub related: Vec<Leaf>,
    /// Attachments.
    pub attachments: Vec<Leaf>,
}

/// Scans every part and arranges them: text and HTML as
/// multipart/alternative (plain text first, RFC 2046 §5.1.4), the HTML with
/// its inline parts as multipart/related (RFC 2387), and attachments after
/// the body in multipart/mixed.
pub fn build_tree(plan: Plan, newline: Newline) -> Result<Node, Error> {
    let leaf = |l: Leaf| prepare(l, newline, None).map(|p| Node::Leaf(Box::new(p)));
    let text = plan.text.map(leaf).transpose()?;
    let html = plan.html.map(leaf).transpose()?;
    let related: Vec<Node> = plan
        .related
        .into_iter()
        .map(leaf)
        .collect::<Result<_, _>>()?;
    let attachments: Vec<Node> = plan
        .attachments
        .into_iter()
        .map(leaf)
        .collect::<Result<_, _>>()?;
    let html = match html {
        Some(html) if !related.is_empty() => {
            let mut parts = vec![html];
            parts.extend(related);
            Some(Node::Multipart("related", parts))
        }
        other => other,
    };
    let body = match (text, html) {
        (Some(text), Some(html)) => Some(Node::Multipart("alternative", vec![text, html])),
        (text, html) => text.or(html),
    };
    if attachments.is_empty() {
        return body.ok_or_else(|| Error::usage("nothing to pack: no body and no attachment"));
    }
    let mut parts: Vec<Node> = body.into_iter().collect();
    parts.extend(attachments);
    Ok(Node::Multipart("mixed", parts))
}

/// Writes a whole message: the given header fields (already folded), then
/// `MIME-Version` and the tree.
pub fn write_message(
    out: &mut impl Write,
    fields: &[String],
    tree: &Node,
    newline: Newline,
) -> io::Result<()> {
    let nl = newline.as_bytes();
    for field in fields {
        out.write_all(field.as_bytes())?;
        out.write_all(nl)?;
    }
    out.write_all(b"MIME-Version: 1.0")?;
    out.write_all(nl)?;
    write_node(out, tree, newline)?;
    if let Node::Leaf(part) = tree
        && (part.encoding == TransferEncoding::Base64 || !part.ends_with_newline)
    {
        // A single-part message ends with a line end, like a text file.
        out.write_all(nl)?;
    }
    out.flush()
}

/// The longest header block `--message` accepts.
pub const MAX_HEADER: usize = 1 << 20;

/// Checks the first [`MAX_HEADER`] + 1 octets of a message for
/// `--message`: a header block that does not end within [`MAX_HEADER`], or
/// no header field at all, is unusable (65), whatever follows.
pub fn check_message_head(head: &[u8]) -> Result<(), Error> {
    let header = crate::message::parse_header(head);
    if !header.has_separator && head.len() > MAX_HEADER {
        return Err(Error::data("the message header is longer than 1 MiB"));
    }
    if header.fields.is_empty() {
        return Err(Error::data(
            "stdin is not a message: it has no header fields",
        ));
    }
    Ok(())
}

/// Field names that mailkit writes itself for the body it builds.
fn is_content_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("content-") || lower == "mime-version"
}

/// Adds `attachments` to the complete message in `message`: a
/// multipart/mixed message gets them as further parts (its own boundary is
/// kept, and parts that could contain it go as base64); any other message
/// becomes the first part of a new multipart/mixed. `fields` replace the
/// message's fields of the same names (or are added); Date, Message-ID and
/// MIME-Version are added when missing. Line ends become `newline`.
pub fn write_onto_message(
    out: &mut impl Write,
    message: &Replayable,
    fields: &[(String, String)],
    attachments: Vec<Leaf>,
    newline: Newline,
) -> Result<(), Error> {
    let head = message.head(MAX_HEADER + 1).map_err(read_error)?;
    check_message_head(&head)?;
    let header = crate::message::parse_header(&head);
    let content_type = header
        .get("content-type")
        .and_then(crate::message::parse_content_type);
    let mixed_boundary = content_type
        .filter(|ct| ct.essence() == "multipart/mixed")
        .and_then(|ct| ct.param("boundary").map(str::to_string));
    let body_start = header.body_start as u64;
    // The body is copied as it is (8bit at most): a NUL cannot go
    // (RFC 2045 §2.8, RFC 5322 §2.3), so say so before writing anything.
    if find(message, body_start, b"\0")?.is_some() {
        return Err(Error::data(
            "the message body holds a NUL byte, which a message cannot carry as it is",
        ));
    }
    match mixed_boundary {
        Some(boundary) => {
            let close = format!("\n--{boundary}--");
            let at = find(message, body_start, close.as_bytes())?.ok_or_else(|| {
                Error::data("the multipart/mixed message is never closed (no final boundary)")
            })? + 1;
            let avoid = format!("--{boundary}");
            let parts = prepare_all(attachments, newline, Some(avoid.as_bytes()))?;
            let kept = merged_fields(&header, fields, false, newline);
            write_merged_mixed(
                out,
                message,
                &kept,
                (body_start, at),
                &boundary,
                &parts,
                newline,
            )
            .map_err(write_error)
        }
        None => {
            let parts = prepare_all(attachments, newline, None)?;
            let boundary = loop {
                let candidate = new_boundary();
                let needle = format!("--{candidate}");
                if find(message, body_start, needle.as_bytes())?.is_none() {
                    break candidate;
                }
            };
            let kept = merged_fields(&header, fields, true, newline);
            let content: Vec<&crate::message::Field> = header
                .fields
                .iter()
                .filter(|f| is_content_field(&f.name) && !f.is("mime-version"))
                .collect();
            write_wrapped(
                out, message, &kept, &content, body_start, &boundary, &parts, newline,
            )
            .map_err(write_error)
        }
    }
}

fn prepare_all(
    leaves: Vec<Leaf>,
    newline: Newline,
    avoid: Option<&[u8]>,
) -> Result<Vec<Node>, Error> {
    leaves
        .into_iter()
        .map(|l| prepare(l, newline, avoid).map(|p| Node::Leaf(Box::new(p))))
        .collect()
}

fn read_error(e: io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("reading the message: {e}"))
}

fn write_error(e: io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("writing the message: {e}"))
}

/// The header of the result: the original fields (as written) with
/// replacements, Date, Message-ID and MIME-Version added where missing;
/// with `drop_content`, the original Content-* fields are left out (they
/// move to the first part).
fn merged_fields(
    header: &crate::message::Header,
    replacements: &[(String, String)],
    drop_content: bool,
    newline: Newline,
) -> Vec<String> {
    let nl = std::str::from_utf8(newline.as_bytes()).expect("ASCII");
    let mut fields = Vec::new();
    for field in &header.fields {
        let replaced = replacements.iter().any(|(name, _)| field.is(name));
        if replaced || (drop_content && is_content_field(&field.name)) {
            continue;
        }
        fields.push(raw_field(field, nl));
    }
    fields.extend(replacements.iter().map(|(_, rendered)| rendered.clone()));
    let given = |name: &str| {
        replacements
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    if header.get("date").is_none() && !given("date") {
        fields.push(header::date_field());
    }
    if header.get("message-id").is_none() && !given("message-id") {
        let domain = header
            .get("from")
            .and_then(|from| crate::address::parse_address_list(from).ok())
            .and_then(|list| {
                crate::address::mailboxes(&list)
                    .first()
                    .map(|m| m.domain.clone())
            });
        fields.push(header::message_id_field(domain.as_deref()));
    }
    if drop_content || header.get("mime-version").is_none() {
        fields.push("MIME-Version: 1.0".into());
    }
    fields
}

fn raw_field(field: &crate::message::Field, nl: &str) -> String {
    field
        .lines
        .iter()
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .collect::<Vec<_>>()
        .join(nl)
}

fn write_fields(out: &mut impl Write, fields: &[String], newline: Newline) -> io::Result<()> {
    for field in fields {
        out.write_all(field.as_bytes())?;
        out.write_all(newline.as_bytes())?;
    }
    Ok(())
}

/// The original multipart/mixed with new parts before its final boundary.
fn write_merged_mixed(
    out: &mut impl Write,
    message: &Replayable,
    fields: &[String],
    (body_start, close_at): (u64, u64),
    boundary: &str,
    parts: &[Node],
    newline: Newline,
) -> io::Result<()> {
    write_fields(out, fields, newline)?;
    out.write_all(newline.as_bytes())?;
    copy_range(
        out,
        message,
        body_start,
        Some(close_at - body_start),
        newline,
    )?;
    for part in parts {
        write!(out, "--{boundary}")?;
        out.write_all(newline.as_bytes())?;
        write_node(out, part, newline)?;
        out.write_all(newline.as_bytes())?;
    }
    copy_range(out, message, close_at, None, newline)?;
    out.flush()
}

/// A new multipart/mixed: the original body (with its Content-* fields)
/// first, then the new parts.
#[allow(clippy::too_many_arguments)]
fn write_wrapped(
    out: &mut impl Write,
    message: &Replayable,
    fields: &[String],
    content_fields: &[&crate::message::Field],
    body_start: u64,
    boundary: &str,
    parts: &[Node],
    newline: Newline,
) -> io::Result<()> {
    let nl = newline.as_bytes();
    let nl_text = std::str::from_utf8(nl).expect("ASCII");
    write_fields(out, fields, newline)?;
    let content_type = header::fold(
        "Content-Type",
        &[
            "multipart/mixed;".to_string(),
            format!("boundary=\"{boundary}\""),
        ],
        nl_text,
    );
    write_fields(out, &[content_type], newline)?;
    out.write_all(nl)?;
    write!(out, "--{boundary}")?;
    out.write_all(nl)?;
    let first: Vec<String> = content_fields
        .iter()
        .map(|f| raw_field(f, nl_text))
        .collect();
    write_fields(out, &first, newline)?;
    out.write_all(nl)?;
    copy_range(out, message, body_start, None, newline)?;
    out.write_all(nl)?;
    for part in parts {
        write!(out, "--{boundary}")?;
        out.write_all(nl)?;
        write_node(out, part, newline)?;
        out.write_all(nl)?;
    }
    write!(out, "--{boundary}--")?;
    out.write_all(nl)?;
    out.flush()
}

/// Copies `len` bytes (or all) of the message from `start`, line ends
/// turned into `newline`.
fn copy_range(
    out: &mut impl Write,
    message: &Replayable,
    start: u64,
    len: Option<u64>,
    newline: Newline,
) -> io::Result<()> {
    let mut reader = message.reader()?;
    io::copy(&mut (&mut reader).take(start), &mut io::sink())?;
    let mut limited = reader.take(len.unwrap_or(u64::MAX));
    encode::copy_encoded(
        &mut limited,
        out,
        TransferEncoding::EightBit,
        LineEndings::Text,
        newline,
    )?;
    Ok(())
}

/// The offset of the first occurrence of `needle` at or after `from`.
fn find(message: &Replayable, from: u64, needle: &[u8]) -> Result<Option<u64>, Error> {
    let mut reader = message.reader().map_err(read_error)?;
    io::copy(&mut (&mut reader).take(from), &mut io::sink()).map_err(read_error)?;
    let finder = memchr::memmem::Finder::new(needle);
    let mut window: Vec<u8> = Vec::new();
    let mut window_start = from;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = reader.read(&mut buf).map_err(read_error)?;
        if n == 0 {
            return Ok(None);
        }
        window.extend_from_slice(&buf[..n]);
        if let Some(at) = finder.find(&window) {
            return Ok(Some(window_start + at as u64));
        }
        let keep = needle.len().saturating_sub(1).min(window.len());
        let dropped = window.len() - keep;
        window.drain(..dropped);
        window_start += dropped as u64;
    }
}

/// A field of addresses from command-line values (each an RFC 5322
/// address list), or `None` when there are none. Refuses (64) a CR, LF or
/// NUL and anything that is not RFC 5322 address syntax.
pub fn address_field(
    name: &str,
    values: &[String],
    newline: Newline,
) -> Result<Option<String>, Error> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut tokens: Vec<String> = Vec::new();
    for value in values {
        refuse_injection(name, value)?;
        let list = crate::address::parse_address_list(value).map_err(|e| {
            Error::usage(format!("{name}: {value:?} is not an RFC 5322 address: {e}"))
        })?;
        for address in &list {
            tokens.extend(address_tokens(name, address)?);
            if let Some(last) = tokens.last_mut() {
                last.push(',');
            }
        }
    }
    if let Some(last) = tokens.last_mut() {
        last.pop();
    }
    let nl = std::str::from_utf8(newline.as_bytes()).expect("ASCII");
    Ok(Some(header::fold(name, &tokens, nl)))
}

fn address_tokens(field: &str, address: &crate::address::Address) -> Result<Vec<String>, Error> {
    use crate::address::Address;
    let mailbox = |m| header::mailbox_tokens(m).map_err(|e| Error::usage(format!("{field}: {e}")));
    match address {
        Address::Mailbox(m) => mailbox(m),
        Address::Group { name, members } => {
            let mut tokens = header::encode_phrase(name);
            match tokens.last_mut() {
                Some(last) => last.push(':'),
                None => tokens.push(":".into()),
            }
            for (i, member) in members.iter().enumerate() {
                tokens.extend(mailbox(member)?);
                if i + 1 < members.len() {
                    tokens.last_mut().expect("a mailbox has tokens").push(',');
                }
            }
            tokens.last_mut().expect("tokens").push(';');
            Ok(tokens)
        }
    }
}

/// An unstructured field (Subject, or one given with `--header`), RFC 2047
/// encoded where needed. Refuses (64) a CR, LF or NUL.
pub fn unstructured_field(name: &str, value: &str, newline: Newline) -> Result<String, Error> {
    refuse_injection(name, value)?;
    let nl = std::str::from_utf8(newline.as_bytes()).expect("ASCII");
    Ok(header::fold(name, &header::encode_unstructured(value), nl))
}

/// A `Name: value` field given by the user. Refuses (64) a bad field name,
/// a field mailkit writes itself (MIME-Version, Content-*), and injection.
pub fn custom_field(spec: &str, newline: Newline) -> Result<(String, String), Error> {
    let (name, value) = spec
        .split_once(':')
        .ok_or_else(|| Error::usage(format!("--header {spec:?}: want 'Name: value'")))?;
    let name = name.trim();
    if !header::is_field_name(name) {
        return Err(Error::usage(format!(
            "--header: {name:?} is not a valid field name"
        )));
    }
    if is_content_field(name) {
        return Err(Error::usage(format!(
            "--header: {name} is written by mime-pack itself"
        )));
    }
    let value = value.trim();
    let rendered = match ADDRESS_FIELDS.iter().find(|f| f.eq_ignore_ascii_case(name)) {
        Some(field) => {
            address_field(field, &[value.to_string()], newline)?.expect("one value gives a field")
        }
        None => unstructured_field(name, value, newline)?,
    };
    Ok((name.to_string(), rendered))
}

/// Fields whose value is an address list (RFC 5322 §3.6.2, §3.6.3).
const ADDRESS_FIELDS: &[&str] = &["From", "Sender", "Reply-To", "To", "Cc", "Bcc"];

/// Fields that RFC 5322 §3.6 allows at most once.
const SINGLE_FIELDS: &[&str] = &[
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
];

/// Refuses (64) a field that RFC 5322 §3.6 allows once but that the
/// command line gives twice (`--from` and `--header 'From: ...'`, or two
/// `--header`s), naming it.
pub fn refuse_repeated(fields: &[(String, String)]) -> Result<(), Error> {
    for single in SINGLE_FIELDS {
        let count = fields
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(single))
            .count();
        if count > 1 {
            return Err(Error::usage(format!(
                "{single} is given {count} times (a flag and --header, or --header twice); a message has one {single} field (RFC 5322 §3.6)"
            )));
        }
    }
    Ok(())
}

/// The From address when none is given, as mail(1) finds it: `$EMAIL`
/// when set, else the login name at this host's name. Refuses (64) an
/// `$EMAIL` that is not an address.
pub fn default_from() -> Result<String, Error> {
    if let Some(email) = std::env::var_os("EMAIL").filter(|v| !v.is_empty()) {
        let email = email.to_string_lossy().into_owned();
        crate::address::parse_address_list(&email).map_err(|e| {
            Error::usage(format!(
                "no --from, and $EMAIL ({email:?}) is not an RFC 5322 address: {e}"
            ))
        })?;
        return Ok(email);
    }
    let user = login_name().ok_or_else(|| {
        Error::usage("no --from, no $EMAIL, and no login name for this user: give --from")
    })?;
    let host = crate::domain::local_fqdn()
        .or_else(|| {
            let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
            crate::domain::ascii_domain(name.trim()).ok()
        })
        .unwrap_or_else(|| "localhost".into());
    Ok(format!("{user}@{host}"))
}

/// The name of the effective user, from the password database, else
/// `$LOGNAME` or `$USER`; only when it is a valid local part.
fn login_name() -> Option<String> {
    let from_passwd = {
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: getpwuid_r writes into `entry` and `buf`, which outlive
        // the call; `pw_name` points into `buf` and is read before it goes.
        let rc = unsafe {
            libc::getpwuid_r(
                libc::geteuid(),
                &mut entry,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        (rc == 0 && !found.is_null() && !entry.pw_name.is_null()).then(|| {
            // SAFETY: a NUL-terminated string inside `buf`.
            unsafe { std::ffi::CStr::from_ptr(entry.pw_name) }
                .to_string_lossy()
                .into_owned()
        })
    };
    from_passwd
        .into_iter()
        .chain(
            ["LOGNAME", "USER"]
                .iter()
                .filter_map(|v| std::env::var(v).ok()),
        )
        .find(|name| crate::address::is_dot_atom(name) && name.is_ascii())
}

fn refuse_injection(name: &str, value: &str) -> Result<(), Error> {
    match header::forbidden_char(value) {
        Some(c) => Err(Error::usage(format!(
            "{name}: the value contains {c:?}: a line break or NUL cannot be part of a header field"
        ))),
        None => Ok(()),
    }
}

/// A leaf from a command-line spec `PATH[;type=TYPE][;name=NAME][;cid=ID]`
/// (settings are recognised from the end, so a path may contain `;`; an
/// unknown setting is refused (64) unless the whole spec names a file).
/// The path `-` is stdin ([`Source::is_stdin`]), without a file name
/// unless `name=` gives one.
pub fn leaf_from_spec(
    spec: &str,
    disposition: Disposition,
    legacy_name: bool,
) -> Result<Leaf, Error> {
    let mut path = spec;
    let (mut media_type, mut name, mut cid) = (None, None, None);
    while let Some(at) = path.rfind(';') {
        let Some((key, value)) = path[at + 1..].split_once('=') else {
            break;
        };
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "type" => &mut media_type,
            "name" | "filename" => &mut name,
            "cid" => &mut cid,
            // A `;` and `=` in the file's own name.
            _ if Path::new(path).exists() => break,
            unknown if is_setting_name(unknown) => {
                return Err(Error::usage(format!(
                    "{spec:?}: unknown setting {unknown:?} (known: type, name, cid)"
                )));
            }
            _ => break,
        };
        *slot = Some(value.to_string());
        path = &path[..at];
    }
    if path.is_empty() {
        return Err(Error::usage(format!("{spec:?}: no file name")));
    }
    for value in [&media_type, &name, &cid].into_iter().flatten() {
        refuse_injection(spec, value)?;
    }
    if let Some(kind) = &media_type
        && !crate::grammar::content_type::is_media_type(kind)
    {
        return Err(Error::usage(format!(
            "{spec:?}: {kind:?} is not a media type"
        )));
    }
    let stdin = path == "-";
    let filename = name.or_else(|| {
        // Stdin has no name unless one is given.
        (!stdin).then_some(())?;
        Path::new(path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
    });
    let content_id = match disposition {
        Disposition::Inline => Some(cid.or_else(|| filename.clone()).unwrap_or_default()),
        Disposition::Attachment => cid,
    };
    Ok(Leaf {
        source: Source::from_path(Path::new(path))?,
        media_type,
        filename,
        disposition: Some(disposition),
        content_id,
        is_body: false,
        legacy_name,
    })
}

/// A word that can only be meant as a setting name (`foo` in
/// `report.pdf;foo=bar`).
fn is_setting_name(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
