//! Messages built by `mailkit::compose` (what `mime-pack` runs: `prepare`,
//! `build_tree`, `write_message`, `unstructured_field`, `address_field`,
//! `custom_field`) from arbitrary bodies, file names, Content-IDs and
//! header text, then read back with `mailkit::mime_reader` as
//! `mime-unpack` reads:
//!
//! - a header value with CR, LF or NUL is refused as a usage error (64),
//!   as is a bad `--header`; anything else gives a field;
//! - the message reads back without a single warning, with the parts in
//!   the order they were given and their media types, charsets
//!   (`utf-8`, else `unknown-8bit`, RFC 1428) and transfer encodings;
//! - each part's content decodes to the bytes given: exactly for an
//!   attachment, after line-end canonicalisation (CR, LF and CRLF all one
//!   line end) for a text body and an embedded message, a single-part
//!   message ending with a line end like a text file;
//! - each file name and Content-ID reads back exactly, the Subject and
//!   the other unstructured fields decode back to their text (white space
//!   at the ends dropped, a tab between words possibly a space; a U+FEFF
//!   that starts encoded text is taken for a byte-order mark and dropped
//!   by the reader's charset conversion);
//! - the header has exactly the fields written (no injected field);
//! - every line is at most 998 octets (RFC 5322 §2.1.1), every line end is
//!   the chosen newline, no NUL anywhere, every header block is ASCII, and
//!   the body is ASCII unless a part went 8bit (an embedded message with
//!   8-bit text, RFC 2046 §5.2.1); a part holding the string to avoid goes
//!   as base64.

use std::rc::Rc;

use mailkit::ErrorKind;
use mailkit::compose::{self, Disposition, Leaf, Node, Plan, ScannedLeaf, Source};
use mailkit::encode::{Newline, TransferEncoding};
use mailkit::error::Error;
use mailkit::input::Replayable;
use mailkit::mime_reader::{Limits, Part, PartKind, Problem, Visitor, read_message};

/// The most leaves one input makes.
const MAX_LEAVES: usize = 8;
/// The longest header text (a name, a Content-ID, a Subject) made.
const MAX_TEXT: usize = 1100;
/// The deepest nesting of multiparts built from one input.
const MAX_DEPTH: u8 = 4;
/// Subtypes of the multiparts built.
const SUBTYPES: [&str; 5] = ["mixed", "alternative", "related", "digest", "parallel"];
/// Media types given (`None`: from the file name, then the content).
const MEDIA_TYPES: [Option<&str>; 8] = [
    None,
    Some("text/plain"),
    Some("text/html"),
    Some("application/octet-stream"),
    Some("image/png"),
    Some("message/rfc822"),
    Some("TEXT/Plain"),
    None,
];
/// Field names tried with `--header`.
const CUSTOM_NAMES: [&str; 6] = [
    "X-Note",
    "Comments",
    "Keywords",
    "To",
    "Content-Type",
    "Bad Name",
];

/// The fuzz input, taken a choice at a time (zeros once it is used up).
struct Choices<'a> {
    data: &'a [u8],
}

impl<'a> Choices<'a> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A piece of the input: its length from two bytes, then grown by
    /// repetition when a third asks (long lines and long names).
    fn chunk(&mut self) -> Vec<u8> {
        let len = usize::from(u16::from_le_bytes([self.byte(), self.byte()]));
        let grow = self.byte();
        let (now, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        let mut out = now.to_vec();
        if grow & 0x80 != 0 && !out.is_empty() {
            let target = usize::from(grow & 0x7f) * 64;
            while out.len() < target {
                out.extend_from_within(..out.len().min(target - out.len()));
            }
        }
        out
    }

    /// Text from a piece: UTF-8 (lossily), at most [`MAX_TEXT`]
    /// characters (longer than a line; more only slows the search down).
    fn text(&mut self) -> String {
        String::from_utf8_lossy(&self.chunk())
            .chars()
            .take(MAX_TEXT)
            .collect()
    }

    /// Content in a form the next byte chooses: as it is, its line ends
    /// changed, or its text in Latin-1 (8-bit, not UTF-8).
    fn content(&mut self) -> Vec<u8> {
        let form = self.byte();
        let raw = self.chunk();
        match form % 5 {
            1 => replace(&raw, b"\n", b"\r\n"),
            2 => replace(&raw, b"\n", b"\r"),
            3 => String::from_utf8_lossy(&raw)
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            _ => raw,
        }
    }
}

fn replace(data: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut rest = data;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// A leaf as given, kept to compare with what reads back.
#[derive(Clone, Debug)]
struct Given {
    content: Vec<u8>,
    media_type: Option<String>,
    filename: Option<String>,
    disposition: Option<Disposition>,
    content_id: Option<String>,
    is_body: bool,
    legacy_name: bool,
}

impl Given {
    fn leaf(&self) -> Leaf {
        Leaf {
            source: Source::Replayable(Rc::new(Replayable::Memory(self.content.clone()))),
            media_type: self.media_type.clone(),
            filename: self.filename.clone(),
            disposition: self.disposition,
            content_id: self.content_id.clone(),
            is_body: self.is_body,
            legacy_name: self.legacy_name,
        }
    }
}

/// A leaf from the input.
fn given(choices: &mut Choices, is_body: bool) -> Given {
    let kind = choices.byte();
    let media_type = MEDIA_TYPES[usize::from(kind & 7)].map(str::to_string);
    let filename = (kind & 0x08 != 0).then(|| choices.text());
    let disposition = match (kind >> 4) & 3 {
        0 => None,
        1 => Some(Disposition::Inline),
        _ => Some(Disposition::Attachment),
    };
    let content_id = (kind & 0x40 != 0).then(|| choices.text());
    Given {
        content: choices.content(),
        media_type,
        filename,
        disposition,
        content_id,
        is_body,
        legacy_name: kind & 0x80 != 0,
    }
}

/// What a message is built from.
struct Built {
    tree: Node,
    /// The leaves in the order they are written.
    leaves: Vec<Given>,
}

/// The tree the way `mime-pack` makes it: text and HTML bodies, inline
/// parts (only with HTML), attachments.
fn planned(choices: &mut Choices, newline: Newline) -> Result<Built, Error> {
    let shape = choices.byte();
    let body = |choices: &mut Choices, media_type: &str| {
        let mut leaf = given(choices, true);
        leaf.media_type = Some(media_type.into());
        leaf.filename = None;
        leaf.disposition = None;
        leaf.content_id = None;
        leaf
    };
    let text = (shape & 1 != 0).then(|| body(choices, "text/plain"));
    let html = (shape & 2 != 0).then(|| body(choices, "text/html"));
    let mut related = Vec::new();
    if html.is_some() {
        for _ in 0..(shape >> 2) & 3 {
            let mut leaf = given(choices, false);
            leaf.disposition = Some(Disposition::Inline);
            related.push(leaf);
        }
    }
    let mut attachments = Vec::new();
    for _ in 0..(shape >> 4) & 3 {
        let mut leaf = given(choices, false);
        leaf.disposition = Some(Disposition::Attachment);
        attachments.push(leaf);
    }
    let leaves: Vec<Given> = text
        .iter()
        .chain(&html)
        .chain(&related)
        .chain(&attachments)
        .cloned()
        .collect();
    let plan = Plan {
        text: text.as_ref().map(Given::leaf),
        html: html.as_ref().map(Given::leaf),
        related: related.iter().map(Given::leaf).collect(),
        attachments: attachments.iter().map(Given::leaf).collect(),
    };
    match compose::build_tree(plan, newline) {
        Ok(tree) => Ok(Built { tree, leaves }),
        Err(e) => {
            match leaves
                .iter()
                .find(|l| !l.content_id.as_deref().is_none_or(is_content_id))
            {
                Some(leaf) => content_id_refused(leaf, &e),
                None => assert!(leaves.is_empty(), "refused: {e}"),
            }
            Err(e)
        }
    }
}

/// Whether `id` can stand between the angle brackets of a Content-ID
/// (RFC 2045 §7): printable ASCII but `<` and `>`, on one line.
fn is_content_id(id: &str) -> bool {
    id.len() <= 984
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// A leaf refused for its Content-ID: a usage error, for a bad one only.
fn content_id_refused(leaf: &Given, e: &Error) {
    assert_eq!(e.kind(), ErrorKind::Usage, "{leaf:?}: {e}");
    let id = leaf
        .content_id
        .as_deref()
        .expect("refused for its Content-ID");
    assert!(!is_content_id(id), "{id:?} refused: {e}");
}

/// Any tree of multiparts (never empty) down to [`MAX_DEPTH`], each leaf
/// through `prepare`, some with a string to avoid.
fn nested(choices: &mut Choices, newline: Newline, depth: u8, leaves: &mut Vec<Given>) -> Node {
    let shape = choices.byte();
    let leaf_here =
        depth > 0 && (shape & 1 == 0 || depth >= MAX_DEPTH || leaves.len() >= MAX_LEAVES);
    if leaf_here {
        let mut leaf = given(choices, shape & 2 != 0);
        let avoid: Option<&[u8]> = (shape & 4 != 0).then_some(b"--=_avoid");
        let scanned = match compose::prepare(leaf.leaf(), newline, avoid) {
            Ok(scanned) => scanned,
            Err(e) => {
                content_id_refused(&leaf, &e);
                leaf.content_id = None;
                compose::prepare(leaf.leaf(), newline, avoid).expect("content in memory")
            }
        };
        if avoid.is_some_and(|a| leaf.content.windows(a.len()).any(|w| w == a)) {
            assert_eq!(scanned.encoding(), TransferEncoding::Base64);
        }
        leaves.push(leaf);
        return Node::Leaf(Box::new(scanned));
    }
    let subtype = SUBTYPES[usize::from(shape >> 1) % SUBTYPES.len()];
    let count = 1 + usize::from(shape >> 5) % 3;
    let children = (0..count)
        .map(|_| nested(choices, newline, depth + 1, leaves))
        .collect();
    Node::Multipart(subtype, children)
}

/// The scanned leaves of `tree` in the order they are written.
fn scanned_leaves<'t>(tree: &'t Node, out: &mut Vec<&'t ScannedLeaf>) {
    match tree {
        Node::Leaf(leaf) => out.push(leaf),
        Node::Multipart(_, children) => children.iter().for_each(|c| scanned_leaves(c, out)),
    }
}

/// A header field the input asks for, and what it must decode to (for an
/// unstructured one).
struct FieldSpec {
    name: String,
    rendered: String,
    text: Option<String>,
}

/// The header fields: Subject, an address field, a `--header`. Refusals
/// are checked and leave the field out.
fn fields(choices: &mut Choices, newline: Newline) -> Vec<FieldSpec> {
    let which = choices.byte();
    let mut fields = Vec::new();
    if which & 1 != 0 {
        let subject = choices.text();
        match compose::unstructured_field("Subject", &subject, newline) {
            Ok(rendered) => fields.push(FieldSpec {
                name: "Subject".into(),
                rendered,
                text: Some(subject),
            }),
            Err(e) => refused(&e, &subject),
        }
    }
    if which & 2 != 0 {
        let to = choices.text();
        match compose::address_field("To", std::slice::from_ref(&to), newline) {
            Ok(Some(rendered)) => fields.push(FieldSpec {
                name: "To".into(),
                rendered,
                text: None,
            }),
            Ok(None) => panic!("one value gives a field"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Usage, "{to:?}: {e}"),
        }
    }
    if which & 4 != 0 {
        let name = CUSTOM_NAMES[usize::from(which >> 3) % CUSTOM_NAMES.len()];
        let value = choices.text();
        let spec = format!("{name}: {value}");
        match compose::custom_field(&spec, newline) {
            Ok((name, rendered)) => {
                // The value is taken without white space at its ends.
                let text = (name != "To").then(|| value.trim().to_string());
                fields.push(FieldSpec {
                    name,
                    rendered,
                    text,
                });
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Usage, "{spec:?}: {e}");
                let documented = name.contains(' ')
                    || name.starts_with("Content-")
                    || name == "To"
                    || value.trim().contains(['\r', '\n', '\0']);
                assert!(documented, "{spec:?} refused: {e}");
            }
        }
    }
    let named: Vec<(String, String)> = fields
        .iter()
        .map(|f| (f.name.clone(), f.rendered.clone()))
        .collect();
    if let Err(e) = compose::refuse_repeated(&named) {
        assert_eq!(e.kind(), ErrorKind::Usage);
        fields.retain(|f| f.name != "To");
    }
    fields
}

/// A refused unstructured value: a usage error, and only for CR, LF, NUL.
fn refused(e: &Error, value: &str) {
    assert_eq!(e.kind(), ErrorKind::Usage, "{value:?}: {e}");
    assert!(value.contains(['\r', '\n', '\0']), "{value:?} refused: {e}");
}

/// Everything the reader gives, by part.
#[derive(Default)]
struct Collected {
    parts: Vec<Part>,
    contents: Vec<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
    problems: Vec<Problem>,
}

impl Visitor for Collected {
    fn start(&mut self, part: &Part) -> Result<(), Error> {
        self.parts.push(part.clone());
        self.contents.push(Vec::new());
        Ok(())
    }
    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error> {
        let at = self
            .parts
            .iter()
            .rposition(|p| p.id == part.id)
            .expect("started");
        self.contents[at].extend_from_slice(data);
        Ok(())
    }
    fn end(&mut self, _: &Part) -> Result<(), Error> {
        Ok(())
    }
    fn problem(&mut self, problem: &Problem) {
        self.problems.push(problem.clone());
    }
    fn header(&mut self, part: &Part, _: u64, block: &[u8]) {
        self.headers.push((part.id.clone(), block.to_vec()));
    }
}

/// Checks one input (see the module comment).
pub fn mime_build(data: &[u8]) {
    let mut choices = Choices { data };
    let flags = choices.byte();
    let newline = match flags & 1 {
        0 => Newline::Lf,
        _ => Newline::CrLf,
    };
    let fields = fields(&mut choices, newline);
    let built = match flags & 2 {
        0 => match planned(&mut choices, newline) {
            Ok(built) => built,
            Err(_) => return,
        },
        _ => {
            let mut leaves = Vec::new();
            let tree = nested(&mut choices, newline, 0, &mut leaves);
            Built { tree, leaves }
        }
    };
    let rendered: Vec<String> = fields.iter().map(|f| f.rendered.clone()).collect();
    let mut out = Vec::new();
    compose::write_message(&mut out, &rendered, &built.tree, newline).expect("into memory");
    let mut scanned = Vec::new();
    scanned_leaves(&built.tree, &mut scanned);
    assert_eq!(scanned.len(), built.leaves.len());
    let eight_bit = scanned
        .iter()
        .any(|s| s.encoding() == TransferEncoding::EightBit);
    check_lines(&out, newline, eight_bit);
    check_header(&out, &fields);
    let mut read = Collected::default();
    read_message(out.as_slice(), &Limits::default(), &mut read).expect("reads back");
    let shown = || String::from_utf8_lossy(&out).into_owned();
    let messages = message_parts(&read);
    let problems: Vec<String> = read
        .problems
        .iter()
        .filter(|p| !p.part.as_deref().is_some_and(|id| within(id, &messages)))
        .map(Problem::to_string)
        .collect();
    assert!(problems.is_empty(), "{problems:?} in {}", shown());
    check_headers_ascii(&read, &messages);
    let single = matches!(built.tree, Node::Leaf(_));
    let leaves = top_leaves(&read);
    assert_eq!(leaves.len(), built.leaves.len(), "{}", shown());
    for ((given, scanned), at) in built.leaves.iter().zip(&scanned).zip(leaves) {
        check_part(
            given,
            scanned,
            &read.parts[at],
            &read.contents[at],
            single,
            newline,
        );
    }
}

/// The indexes of the parts that are leaves or message parts, in order,
/// leaving out the parts inside a message part.
fn top_leaves(read: &Collected) -> Vec<usize> {
    let mut inside: Option<String> = None;
    let mut found = Vec::new();
    for (at, part) in read.parts.iter().enumerate() {
        if let Some(prefix) = &inside {
            if part.id.starts_with(prefix.as_str()) {
                continue;
            }
            inside = None;
        }
        match part.kind {
            PartKind::Multipart => {}
            PartKind::Leaf => found.push(at),
            PartKind::Message => {
                found.push(at);
                inside = Some(format!("{}.", part.id));
            }
        }
    }
    found
}

/// Line lengths, line ends, NUL and 8-bit octets in the whole output.
fn check_lines(out: &[u8], newline: Newline, eight_bit: bool) {
    let shown = || String::from_utf8_lossy(&out[..out.len().min(4096)]).into_owned();
    assert!(!out.contains(&0), "a NUL in the message: {}", shown());
    assert!(
        out.is_ascii() || eight_bit,
        "8-bit octets, no 8bit part: {}",
        shown()
    );
    let nl = newline.as_bytes();
    let body = out
        .strip_suffix(nl)
        .expect("the message ends with a line end");
    let count = body.split(|&b| b == b'\n').count();
    for (n, line) in body.split(|&b| b == b'\n').enumerate() {
        let line_shown = || String::from_utf8_lossy(line);
        let line = match newline {
            Newline::CrLf if n + 1 < count => line
                .strip_suffix(b"\r")
                .unwrap_or_else(|| panic!("line {n} ends in a bare LF: {:?}", line_shown())),
            _ => line,
        };
        assert!(
            !line.contains(&b'\r'),
            "line {n} has a bare CR: {:?}",
            line_shown()
        );
        assert!(line.len() <= 998, "line {n} has {} octets", line.len());
    }
}

/// The message's own header: exactly the fields written and MIME-Version
/// and Content-Type, each unstructured one decoding back to its text.
fn check_header(out: &[u8], fields: &[FieldSpec]) {
    let header = mailkit::message::parse_header(out);
    assert!(header.malformed.is_empty());
    let names: Vec<&str> = header.fields.iter().map(|f| f.name.as_str()).collect();
    let mut wanted: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    wanted.push("MIME-Version");
    let content = names.get(wanted.len()..).unwrap_or_default();
    assert!(
        names.starts_with(&wanted)
            && !content.is_empty()
            && content.iter().all(|n| n.starts_with("Content-")),
        "fields {names:?}, written {wanted:?}"
    );
    for (field, spec) in header.fields.iter().zip(fields) {
        let Some(text) = &spec.text else {
            continue;
        };
        let decoded = mailkit::decode::decode_header_text(&field.value);
        assert_eq!(
            unstructured(&decoded),
            unstructured(text),
            "{} {:?} written as {:?}",
            spec.name,
            text,
            field.value
        );
    }
}

/// Unstructured text as it reads back: white space at the ends dropped,
/// tabs as spaces.
fn unstructured(text: &str) -> String {
    without_bom(text)
        .trim_matches([' ', '\t'])
        .replace('\t', " ")
}

/// Text without U+FEFF: the charset conversion of encoded text removes a
/// byte-order mark at its start (`mailkit::decode::to_utf8`), so a name
/// or Subject starting with one (or a run of encoded words in a Subject)
/// reads back without it.
fn without_bom(text: &str) -> String {
    text.replace('\u{feff}', "")
}

/// The ids of the message parts (embedded messages, which are not
/// encoded and may be anything).
fn message_parts(read: &Collected) -> Vec<String> {
    read.parts
        .iter()
        .filter(|p| p.kind == PartKind::Message)
        .map(|p| p.id.clone())
        .collect()
}

/// Whether part `id` is one of `messages` or inside one.
fn within(id: &str, messages: &[String]) -> bool {
    messages.iter().any(|m| {
        id == m
            || id
                .strip_prefix(m.as_str())
                .is_some_and(|r| r.starts_with('.'))
    })
}

/// Every header block but those inside an embedded message is ASCII.
fn check_headers_ascii(read: &Collected, messages: &[String]) {
    for (id, block) in &read.headers {
        let inside = messages.iter().any(|m| {
            id.strip_prefix(m.as_str())
                .is_some_and(|r| r.starts_with('.'))
        });
        if !inside {
            let shown = String::from_utf8_lossy(block);
            assert!(block.is_ascii(), "part {id}: {shown:?}");
        }
    }
}

/// One part read back against what was given.
fn check_part(
    given: &Given,
    scanned: &ScannedLeaf,
    part: &Part,
    content: &[u8],
    single: bool,
    newline: Newline,
) {
    let what = format!("part {} ({given:?})", part.id);
    let message = scanned.media_type() == "message/rfc822";
    assert_eq!(part.kind == PartKind::Message, message, "{what}");
    if !message {
        assert_eq!(part.content_type, scanned.media_type(), "{what}");
    }
    assert_eq!(part.encoding, scanned.encoding().as_str(), "{what}");
    let charset = std::str::from_utf8(&given.content).map_or("unknown-8bit", |_| "utf-8");
    let wanted_charset = scanned.media_type().starts_with("text/").then_some(charset);
    assert_eq!(part.charset.as_deref(), wanted_charset, "{what}");
    assert_eq!(
        part.filename.as_deref().map(without_bom),
        given.filename.as_deref().map(without_bom),
        "{what}"
    );
    assert_eq!(part.content_id, given.content_id, "{what}");
    let text = given.is_body || message;
    let mut wanted = given.content.clone();
    let ends_with_eol = wanted.ends_with(b"\n") || wanted.ends_with(b"\r");
    if single && scanned.encoding() != TransferEncoding::Base64 && !ends_with_eol {
        wanted.extend_from_slice(newline.as_bytes());
    }
    match text {
        true => assert_eq!(canonical(content), canonical(&wanted), "{what}"),
        false => assert_eq!(content, wanted, "{what}"),
    }
}

/// Text with every CRLF, CR and LF as one LF.
fn canonical(text: &[u8]) -> Vec<u8> {
    replace(&replace(text, b"\r\n", b"\n"), b"\r", b"\n")
}
