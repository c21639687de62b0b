//! A message's BODYSTRUCTURE (RFC 3501 §7.4.2, RFC 9051 §7.5.2) as the
//! same part tree [`crate::mime_reader`] reads from the message itself:
//! the same part numbers, depths, kinds, types, charsets, encodings,
//! dispositions, file names and Content-IDs, so that `imap-list
//! --structure` shows what `mime-unpack` would without downloading the
//! message; and the decoding of one part fetched with `BODY.PEEK[section]`.
//!
//! Part numbers are IMAP's (RFC 3501 §6.4.5) as mime_reader gives them:
//! `0` for a multipart message as a whole (`1` for a message of one part),
//! `1`, `1.2` for the parts inside, and for a message/rfc822 part `N` the
//! message inside as `N.0` (a multipart) or `N.1` (one part). [`section`]
//! turns a number into the section to fetch.
//!
//! What a BODYSTRUCTURE cannot say, or says otherwise, and so differs
//! from mime-unpack:
//! - sizes: see [`parts`];
//! - uuencoded files inside a text part (mime-unpack's `ID.uN` parts)
//!   are not seen: they are in the body;
//! - a text part without a charset has RFC 2045's default, `us-ascii`,
//!   from servers that fill it in (Dovecot, Cyrus);
//! - a multipart's own Content-Transfer-Encoding and Content-ID are not
//!   given: shown as `7bit` and none;
//! - subjects are the ENVELOPE's, unfolded as the server unfolds them;
//! - damaged mail (a multipart whose boundary never occurs, a header
//!   without its blank line, malformed encodings) is described as the
//!   server read it.
//!
//! Servers are read leniently: strings in any case, NIL where a string
//! belongs, extension data absent, NIL or present, the non-extensible
//! `BODY` form. Only a value that is not a body at all is an error (76).

use std::io::{self, Write};

use crate::decode::rfc2231::assemble;
use crate::decode::{self, BodyDecoder, Damage};
use crate::error::{Error, ErrorKind};
use crate::grammar::content_type::Param;
use crate::imap::response::{Value, fetch_item};
use crate::mime_reader::{Limits, Part, PartKind};

/// The parts of a message described by its BODYSTRUCTURE (or BODY) value,
/// in the order mime_reader meets them (a container before what it
/// holds).
///
/// Sizes: a BODYSTRUCTURE gives the encoded size of each body
/// (`body-fld-octets`, line ends counted as CRLF), where mime-unpack shows
/// a leaf's decoded size. So:
/// - a leaf in `7bit`, `8bit`, `binary` (or an encoding mailkit does not
///   decode): its octets, which are its decoded size, exact;
/// - a leaf in `base64`: the size decoded from its octets, less the line
///   ends (two a line: the line count for `text/*`, else lines of 76
///   characters, the most RFC 2045 §6.8 allows and what most mailers
///   write), three octets for every four characters: within two octets
///   of the truth (the padding is not known) when the lines are as
///   assumed, within about 1% for other line lengths, further off for
///   damaged base64;
/// - a leaf in `quoted-printable` (or `x-uuencode`): its encoded octets,
///   an upper bound;
/// - a message/rfc822 part: its octets (the message inside, raw, as
///   `mime-unpack --part` writes it); mime-unpack's listing shows two
///   fewer when the message inside is a multipart (it leaves the line end
///   after the inner closing delimiter to the delimiter that follows);
/// - a multipart: the octets of the bodies it holds added up (no size is
///   given for a multipart; mime-unpack shows its raw size, which also
///   counts the part headers and delimiters).
///
/// Where the server offers BINARY (RFC 3516), [`binary_size_items`] and
/// [`apply_binary_sizes`] replace the estimates with the decoded sizes
/// the server computes.
///
/// The subject of the message itself is not in its BODYSTRUCTURE:
/// [`parts_of_fetch`] takes it from the ENVELOPE. Fails with 76 when the
/// value is not a body structure.
pub fn parts(value: &Value) -> Result<Vec<Part>, Error> {
    let mut walk = Walk::default();
    walk.body(value, Slot::Root(String::new(), None), 0, None)?;
    Ok(walk.parts)
}

/// The parts of a message from the items of its FETCH response:
/// `BODYSTRUCTURE` (or `BODY`, the non-extensible form) as [`parts`], and
/// the message's subject from `ENVELOPE` when it was fetched too (as
/// mime_reader gives the subject of the message to its first part).
/// Fails with 76 when neither is there or the value is not a body.
pub fn parts_of_fetch(items: &[(String, Value)]) -> Result<Vec<Part>, Error> {
    let value = fetch_item(items, "BODYSTRUCTURE")
        .or_else(|| fetch_item(items, "BODY"))
        .ok_or_else(|| Error::protocol("the FETCH response has no BODYSTRUCTURE"))?;
    let mut parts = parts(value)?;
    if let (Some(top), Some(envelope)) = (parts.first_mut(), fetch_item(items, "ENVELOPE")) {
        top.subject = envelope_subject(envelope);
    }
    Ok(parts)
}

/// The section of a part number for `BODY.PEEK[section]` (RFC 3501
/// §6.4.5): the number itself, but `TEXT` for `0` (the body of a
/// multipart message) and `N.TEXT` for `N.0` (the body of the multipart
/// message inside part N), which IMAP does not number. What comes back is
/// what `mime-unpack --part` writes for the same number before decoding.
pub fn section(id: &str) -> String {
    match id {
        "0" => "TEXT".to_string(),
        _ => match id.strip_suffix(".0") {
            Some(message) => format!("{message}.TEXT"),
            None => id.to_string(),
        },
    }
}

/// The FETCH items asking for the decoded size of every leaf whose size
/// [`parts`] could only estimate (`BINARY.SIZE[1] BINARY.SIZE[2.1]`, RFC
/// 3516 §4.2), or `None` when there is none: the leaves in base64 or
/// quoted-printable, the encodings RFC 3516 servers decode (not
/// x-uuencode, which mailkit decodes but servers refuse with
/// `[UNKNOWN-CTE]`), but a message/rfc822 part in base64 (Dovecot gives
/// its size as 0). Only for a server that announces `BINARY`; one that
/// finds a part damaged refuses the whole FETCH (Dovecot: NO `[PARSE]`),
/// and then the estimates stand.
pub fn binary_size_items(parts: &[Part]) -> Option<String> {
    let items: Vec<String> = parts
        .iter()
        .filter(|p| p.kind == PartKind::Leaf && !p.content_type.starts_with("message/"))
        .filter(|p| matches!(p.encoding.as_str(), "base64" | "quoted-printable"))
        .map(|p| format!("BINARY.SIZE[{}]", p.id))
        .collect();
    (!items.is_empty()).then(|| items.join(" "))
}

/// Puts the decoded sizes of a FETCH of [`binary_size_items`] on the
/// parts; parts without a `BINARY.SIZE[id]` item keep their size.
pub fn apply_binary_sizes(parts: &mut [Part], items: &[(String, Value)]) {
    for part in parts.iter_mut().filter(|p| p.kind == PartKind::Leaf) {
        let name = format!("BINARY.SIZE[{}]", part.id);
        if let Some(size) = fetch_item(items, &name).and_then(Value::as_number) {
            part.size = size;
        }
    }
}

/// Decodes one part as it is fetched: the octets of `BODY.PEEK[section]`
/// written to it (in pieces of any size) come out decoded by the part's
/// transfer encoding, as `mime-unpack --part` writes the same part: a
/// leaf decoded (base64, quoted-printable, x-uuencode; other encodings
/// as they are), a message part or a multipart as it stands.
pub struct PartDecoder<W: Write> {
    decoder: BodyDecoder,
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> PartDecoder<W> {
    /// A decoder of `part`'s content into `out`.
    pub fn new(part: &Part, out: W) -> Self {
        let decoder = match part.kind {
            PartKind::Leaf => BodyDecoder::for_encoding(Some(&part.encoding)),
            PartKind::Multipart | PartKind::Message => BodyDecoder::Identity,
        };
        PartDecoder {
            decoder,
            out,
            buf: Vec::new(),
        }
    }

    /// Ends the content: writes what the decoder held back and gives back
    /// the output (flushed) with the damage met, if any (a warning, as
    /// mime-unpack gives it). Fails with 74 when a write fails.
    pub fn finish(mut self) -> Result<(W, Option<Damage>), Error> {
        self.buf.clear();
        self.decoder.finish(&mut self.buf);
        let written = self
            .out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush());
        written.map_err(|e| Error::from_io(ErrorKind::LocalIo, "writing the part", &e))?;
        let damage = self.decoder.damage().filter(|d| !d.is_clean()).cloned();
        Ok((self.out, damage))
    }
}

impl<W: Write> Write for PartDecoder<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.clear();
        self.decoder.feed(data, &mut self.buf);
        self.out.write_all(&self.buf)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Where a body stands: a child of a multipart with its number, or the
/// top of a message (prefix "" for the message itself, `N` for the one
/// inside part N) with that message's subject.
enum Slot {
    Child(String),
    Root(String, Option<String>),
}

/// For a child of a multipart/related: which child is its root (the
/// Content-ID of the `start` parameter, else the first, RFC 2387 §3.2),
/// and whether this one is the first.
struct Related<'a> {
    start: Option<&'a str>,
    first: bool,
}

/// The parts found so far.
#[derive(Default)]
struct Walk {
    parts: Vec<Part>,
}

impl Walk {
    /// Adds the parts of one body (and all it holds); returns its encoded
    /// octets.
    fn body(
        &mut self,
        value: &Value,
        slot: Slot,
        depth: usize,
        related: Option<Related>,
    ) -> Result<u64, Error> {
        let fields = value
            .as_list()
            .ok_or_else(|| Error::protocol("a BODYSTRUCTURE body is not a list"))?;
        if self.parts.len() >= Limits::default().max_parts {
            return Err(Error::protocol(format!(
                "a BODYSTRUCTURE of more than {} parts",
                Limits::default().max_parts
            )));
        }
        // A multipart starts with the bodies it holds, each a list.
        match fields.iter().position(|f| f.as_list().is_none()) {
            Some(0) => self.single(fields, slot, depth, related),
            Some(at) => self.multipart(fields, at, slot, depth, related),
            None if fields.is_empty() => self.single(fields, slot, depth, related),
            None => self.multipart(fields, fields.len(), slot, depth, related),
        }
    }

    /// `body-type-mpart`: the bodies before `at`, then the subtype and the
    /// extension data.
    fn multipart(
        &mut self,
        fields: &[Value],
        at: usize,
        slot: Slot,
        depth: usize,
        related: Option<Related>,
    ) -> Result<u64, Error> {
        let subtype = lower(fields.get(at)).unwrap_or_else(|| "mixed".into());
        let params = params(fields.get(at + 1));
        let ext = Extension::read(fields.get(at + 2..).unwrap_or_default());
        let (id, prefix, subject, message_header) = match slot {
            Slot::Child(id) => (id.clone(), id, None, false),
            Slot::Root(prefix, subject) if prefix.is_empty() => ("0".into(), prefix, subject, true),
            Slot::Root(prefix, subject) => (format!("{prefix}.0"), prefix, subject, true),
        };
        let mut part = new_part(id, depth, format!("multipart/{subtype}"), &params, &ext);
        part.kind = PartKind::Multipart;
        part.subject = subject;
        part.message_header = message_header;
        part.related_resource = is_related_resource(related, None, &ext);
        let too_deep = depth >= Limits::default().max_depth;
        if too_deep {
            part.kind = PartKind::Leaf;
        }
        let index = self.parts.len();
        self.parts.push(part);
        if too_deep {
            return Ok(0);
        }
        let start = (subtype == "related").then(|| decode::param(&params, "start"));
        let mut octets = 0u64;
        for (n, child) in fields[..at].iter().enumerate() {
            let id = match prefix.is_empty() {
                true => (n + 1).to_string(),
                false => format!("{prefix}.{}", n + 1),
            };
            let related = start.map(|start| Related {
                start: start.map(|s| s.trim().trim_matches(['<', '>'])),
                first: n == 0,
            });
            octets =
                octets.saturating_add(self.body(child, Slot::Child(id), depth + 1, related)?);
        }
        self.parts[index].size = octets;
        Ok(octets)
    }

    /// `body-type-1part`: a leaf, or a message part and the message inside.
    fn single(
        &mut self,
        fields: &[Value],
        slot: Slot,
        depth: usize,
        related: Option<Related>,
    ) -> Result<u64, Error> {
        let content_type = single_type(fields);
        let tail = Tail::read(fields, &content_type);
        let (id, subject, message_header) = match slot {
            Slot::Child(id) => (id, None, false),
            Slot::Root(prefix, subject) if prefix.is_empty() => ("1".into(), subject, true),
            Slot::Root(prefix, subject) => (format!("{prefix}.1"), subject, true),
        };
        let mut part = new_part(id, depth, content_type, &params(fields.get(2)), &tail.ext);
        part.encoding = lower(fields.get(5)).map_or_else(|| "7bit".into(), |e| e.trim().into());
        part.content_id = nstring(fields.get(3)).map(|id| {
            let id = id.trim().trim_start_matches('<');
            id.trim_end_matches('>').to_string()
        });
        part.subject = subject;
        part.message_header = message_header;
        part.related_resource = is_related_resource(related, part.content_id.as_deref(), &tail.ext);
        let octets = fields.get(6).and_then(Value::as_number).unwrap_or(0);
        // A message part is read into as mime_reader reads into it.
        let message = tail.embedded.filter(|_| {
            matches!(
                part.content_type.as_str(),
                "message/rfc822" | "message/global"
            ) && matches!(part.encoding.as_str(), "7bit" | "8bit" | "binary")
                && depth < Limits::default().max_depth
        });
        let Some((envelope, body)) = message else {
            part.size = leaf_size(&part, octets, tail.lines);
            self.parts.push(part);
            return Ok(octets);
        };
        part.kind = PartKind::Message;
        part.size = octets;
        let prefix = part.id.clone();
        self.parts.push(part);
        let root = Slot::Root(prefix, envelope_subject(envelope));
        self.body(body, root, depth + 1, None)?;
        Ok(octets)
    }
}

/// The `type/subtype` of a single part in lower case; a type or subtype
/// missing or empty makes it text/plain, as mime_reader takes a
/// Content-Type it cannot read.
fn single_type(fields: &[Value]) -> String {
    match (lower(fields.first()), lower(fields.get(1))) {
        (Some(kind), Some(subtype)) if !kind.is_empty() && !subtype.is_empty() => {
            format!("{kind}/{subtype}")
        }
        _ => "text/plain".to_string(),
    }
}

/// What follows `body-fields` in a single part: for a message part the
/// ENVELOPE and body of the message inside, the line count (text and
/// message parts), and the extension data.
struct Tail<'a> {
    embedded: Option<(&'a Value, &'a Value)>,
    lines: Option<u64>,
    ext: Extension,
}

impl<'a> Tail<'a> {
    fn read(fields: &'a [Value], content_type: &str) -> Tail<'a> {
        let embedded = match (fields.get(7), fields.get(8)) {
            (Some(envelope @ Value::List(list)), Some(body @ Value::List(_)))
                if content_type.starts_with("message/") && list.len() == 10 =>
            {
                Some((envelope, body))
            }
            _ => None,
        };
        let lines = match embedded {
            Some(_) => fields.get(9),
            None if content_type.starts_with("text/") => fields.get(7),
            None => None,
        }
        .and_then(Value::as_number);
        let md5_at = match embedded {
            Some(_) => 10,
            None if lines.is_some() => 8,
            None => 7,
        };
        // body-ext-1part: body-fld-md5 first, then what multiparts have.
        let ext = Extension::read(fields.get(md5_at + 1..).unwrap_or_default());
        Tail {
            embedded,
            lines,
            ext,
        }
    }
}

/// The extension data a body may end with after its own fields
/// (`body-fld-dsp`, `body-fld-lang`, `body-fld-loc`), what of it counts
/// here.
#[derive(Default)]
struct Extension {
    disposition: Option<String>,
    disposition_params: Vec<(String, String)>,
    location: bool,
}

impl Extension {
    /// From the values after the parameters (multipart) or the MD5
    /// (single part): disposition, language, location.
    fn read(values: &[Value]) -> Extension {
        let (disposition, disposition_params) = match values.first() {
            Some(Value::List(dsp)) => (lower(dsp.first()), params(dsp.get(1))),
            // A bare string where the list belongs: the type alone.
            other => (lower(other), Vec::new()),
        };
        let location = nstring(values.get(2)).is_some_and(|l| !l.trim().is_empty());
        Extension {
            disposition,
            disposition_params,
            location,
        }
    }
}

/// A part with what every kind has: its type, charset, disposition and
/// file name (the disposition's `filename`, else the type's `name`).
fn new_part(
    id: String,
    depth: usize,
    content_type: String,
    params: &[(String, String)],
    ext: &Extension,
) -> Part {
    let filename = decode::param(&ext.disposition_params, "filename")
        .or_else(|| decode::param(params, "name"))
        .map(str::to_string);
    Part {
        id,
        depth,
        kind: PartKind::Leaf,
        content_type,
        charset: decode::param(params, "charset").map(|c| c.to_ascii_lowercase()),
        encoding: "7bit".into(),
        size: 0,
        disposition: ext.disposition.clone(),
        filename,
        content_id: None,
        subject: None,
        line: 0,
        message_header: false,
        related_resource: false,
    }
}

/// Whether a child of a multipart/related is one of its resources, as
/// mime_reader decides it: not the root, with a Content-ID or
/// Content-Location.
fn is_related_resource(
    related: Option<Related>,
    content_id: Option<&str>,
    ext: &Extension,
) -> bool {
    let Some(related) = related else {
        return false;
    };
    if content_id.is_none() && !ext.location {
        return false;
    }
    match related.start {
        None => !related.first,
        Some(root) => content_id != Some(root),
    }
}

/// The size shown for a leaf of `octets` encoded octets (see [`parts`]).
fn leaf_size(part: &Part, octets: u64, lines: Option<u64>) -> u64 {
    if part.encoding != "base64" {
        return octets;
    }
    let characters = match lines {
        Some(lines) => octets.saturating_sub(lines.saturating_mul(2)),
        None => base64_characters(octets),
    };
    characters / 4 * 3 + characters % 4 * 3 / 4
}

/// The base64 characters in `octets` of lines of 76 characters, each
/// ended by CRLF but perhaps the last: whole lines of 78 octets, and a
/// last line whose length is a multiple of 4 (so a remainder of 2 more
/// than that is its CRLF).
fn base64_characters(octets: u64) -> u64 {
    if octets == 0 {
        return 0;
    }
    let lines = (octets - 1) / 78;
    let rest = octets - lines * 78;
    let last = match rest % 4 {
        2 => rest - 2,
        _ => rest,
    };
    lines * 76 + last
}

/// A string (or an atom, from a lenient server) in lower case; `None` for
/// NIL or anything else.
fn lower(value: Option<&Value>) -> Option<String> {
    nstring(value).map(|s| s.to_ascii_lowercase())
}

/// A string (or an atom) as text, invalid UTF-8 replaced (as mime_reader
/// reads header values); `None` for NIL or anything else.
fn nstring(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::Atom(atom) => Some(atom.clone()),
        _ => None,
    }
}

/// `body-fld-param`: NIL, or a list of names and values, as mime_reader's
/// parameters: RFC 2231 sections joined and values decoded, RFC 2047
/// words in a plain value decoded, names in lower case. A pair that is
/// not two strings is skipped.
fn params(value: Option<&Value>) -> Vec<(String, String)> {
    let Some(list) = value.and_then(Value::as_list) else {
        return Vec::new();
    };
    let pairs: Vec<(String, String)> = list
        .chunks_exact(2)
        .filter_map(|pair| Some((nstring(pair.first())?, nstring(pair.get(1))?)))
        .collect();
    let params = pairs
        .iter()
        .map(|(name, value)| Param {
            name,
            name_at: 0,
            value: value.clone(),
            value_at: 0,
            quoted: true,
        })
        .collect();
    assemble(params)
}

/// The decoded subject of an ENVELOPE value, if it has one.
fn envelope_subject(envelope: &Value) -> Option<String> {
    let subject = nstring(envelope.as_list()?.get(1))?;
    Some(decode::decode_header_text(&subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_sizes_from_octets() {
        // 100 octets: 136 characters, a line of 76 and one of 60.
        assert_eq!(base64_characters(76 + 2 + 60), 136);
        assert_eq!(base64_characters(76 + 2 + 60 + 2), 136);
        assert_eq!(base64_characters(76), 76);
        assert_eq!(base64_characters(78), 76);
        assert_eq!(base64_characters(78 * 3 + 4), 76 * 3 + 4);
        assert_eq!(base64_characters(0), 0);
        assert_eq!(base64_characters(1), 1);
    }

    #[test]
    fn sections() {
        assert_eq!(section("0"), "TEXT");
        assert_eq!(section("1"), "1");
        assert_eq!(section("2.0"), "2.TEXT");
        assert_eq!(section("2.1.0"), "2.1.TEXT");
        assert_eq!(section("10"), "10");
    }
}
