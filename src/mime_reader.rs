//! Reading MIME messages as a stream (RFC 2045, RFC 2046): one pass, line
//! by line, bodies decoded as they go by and handed to a [`Visitor`], never
//! held whole. Parts are numbered as IMAP numbers them (RFC 3501 §6.4.5).
//! Broken mail is read as far as it goes, each problem reported as a
//! warning; hostile mail meets limits on depth, part count and header size.

use std::io::{self, BufRead};

use serde::Serialize;

use crate::decode::{self, BodyDecoder};
use crate::error::{Error, ErrorKind};

/// Bounds on the work one message may cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest nesting of multiparts and messages.
    pub max_depth: usize,
    /// Most parts (of every kind).
    pub max_parts: usize,
    /// Longest header block of one part, in octets.
    pub max_header: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_parts: 10_000,
            max_header: 256 * 1024,
        }
    }
}

/// What a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// A body: text, image, attachment...
    Leaf,
    /// A multipart/* container.
    Multipart,
    /// A message/rfc822 part: a message inside the message.
    Message,
}

/// One part, as its header describes it.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// The IMAP part number (`1`, `1.2`, `2.1.1`); `0` for a multipart
    /// message as a whole, `N.0` for the multipart body of message part N.
    #[serde(rename = "part")]
    pub id: String,
    /// Nesting depth (0 for the message itself).
    pub depth: usize,
    /// What it is.
    pub kind: PartKind,
    /// `type/subtype`, lower case.
    #[serde(rename = "type")]
    pub content_type: String,
    /// The charset parameter, if any.
    pub charset: Option<String>,
    /// The Content-Transfer-Encoding, lower case (`7bit` when absent).
    pub encoding: String,
    /// Decoded size in octets (for containers: their raw size).
    pub size: u64,
    /// The disposition as declared (`attachment`, `inline`, ...), lower
    /// case, if any. What a reader makes of the part is
    /// [`Part::is_attachment`].
    #[serde(rename = "declared_disposition")]
    pub disposition: Option<String>,
    /// The file name, decoded (RFC 2231, RFC 2047), as the sender wrote it.
    pub filename: Option<String>,
    /// The Content-ID without angle brackets.
    pub content_id: Option<String>,
    /// The Subject of a message part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The line (1-based) its header starts on.
    #[serde(skip)]
    pub line: u64,
    /// Whether its header is a message's header (the message itself, or the
    /// message inside a message/rfc822 part), not just a part's.
    #[serde(skip)]
    pub message_header: bool,
    /// Whether it is a resource of a multipart/related body (RFC 2387 §3):
    /// a child other than the root, with a Content-ID or Content-Location
    /// the root can refer to (the images an HTML body shows).
    #[serde(skip)]
    pub related_resource: bool,
}

impl Part {
    /// Whether the part is an attachment, a file to save, rather than a
    /// body part to read. The one rule every tool applies, as munpack,
    /// ripmime and `mshow -x` decide, whatever the disposition says
    /// (mpack and Apple Mail declare every attachment `inline` with a file
    /// name; RFC 2183 §2 leaves the choice to the reader):
    /// 1. a multipart is neither; a message part is judged as a leaf;
    /// 2. declared `attachment` (RFC 2183 §2.2): an attachment;
    /// 3. a resource of a multipart/related body (RFC 2387 §3), such as
    ///    an image the HTML shows: a body part, named or not;
    /// 4. a part with a file name: an attachment;
    /// 5. a part that is not text (`text/*`): an attachment;
    /// 6. what is left, unnamed text: a body part.
    pub fn is_attachment(&self) -> bool {
        if self.kind == PartKind::Multipart {
            return false;
        }
        if self.disposition.as_deref() == Some("attachment") {
            return true;
        }
        if self.related_resource {
            return false;
        }
        self.filename.is_some() || !self.content_type.starts_with("text/")
    }

    /// The disposition as [`Part::is_attachment`] decides it: `attachment`
    /// or `inline` (a body part); `None` for a multipart.
    pub fn effective_disposition(&self) -> Option<&'static str> {
        match self.kind {
            PartKind::Multipart => None,
            _ if self.is_attachment() => Some("attachment"),
            _ => Some("inline"),
        }
    }
}

/// Receives the parts of a message as they are read.
pub trait Visitor {
    /// A part begins (its header is read).
    fn start(&mut self, part: &Part) -> Result<(), Error>;
    /// Decoded content of a leaf (or the raw content of a message part).
    fn content(&mut self, part: &Part, data: &[u8]) -> Result<(), Error>;
    /// A part ends; `part.size` is final.
    fn end(&mut self, part: &Part) -> Result<(), Error>;
    /// A problem with the message; reading goes on.
    fn problem(&mut self, problem: &Problem);
    /// Raw input as it passes, with where it is (for checks on the bytes
    /// themselves: line lengths, line ends, 8-bit data).
    fn raw(&mut self, _piece: &RawPiece) {}
    /// The raw header block of a part (without its blank line), and the
    /// line it starts on.
    fn header(&mut self, _part: &Part, _line: u64, _block: &[u8]) {}
}

/// Where raw input stands.
#[derive(Debug, Clone, Copy)]
pub enum RawContext<'a> {
    /// A header block.
    Header,
    /// The body of a leaf (or a message part's raw content).
    Body(&'a Part),
    /// A delimiter line.
    Delimiter,
    /// Preamble, epilogue, or what follows a limit.
    Other,
}

/// A line, several whole lines, or a piece of a long line.
#[derive(Debug, Clone, Copy)]
pub struct RawPiece<'a> {
    /// The bytes, line ends included.
    pub data: &'a [u8],
    /// The line number (1-based) of the first byte.
    pub line: u64,
    /// Whether the data begins a line.
    pub starts_line: bool,
    /// Whether the data ends with a line end.
    pub ends_line: bool,
    /// Where it stands.
    pub context: RawContext<'a>,
}

/// What kind of problem a message has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A multipart without its closing delimiter.
    UnclosedMultipart,
    /// A multipart whose delimiter never occurs.
    BoundaryNotFound,
    /// A multipart whose closing delimiter is its only one: no body part.
    NoBodyPart,
    /// A multipart without a boundary parameter.
    MissingBoundary,
    /// A header block not ended by a blank line.
    NoBlankLine,
    /// A Content-Type that cannot be read.
    BadContentType,
    /// A body whose transfer encoding is damaged.
    DamagedEncoding,
    /// A uuencoded file without its end line.
    TruncatedUuencode,
    /// A limit (depth, parts, header size) was reached.
    Limit,
    /// A UTF-8 byte-order mark stood before the first field; skipped.
    ByteOrderMark,
}

/// A problem with the message, where it is.
#[derive(Debug, Clone)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// The part it concerns.
    pub part: Option<String>,
    /// The line (1-based) it concerns.
    pub line: u64,
    /// One line of explanation.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.part {
            Some(id) => write!(f, "part {id}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

fn problem(
    kind: ProblemKind,
    part: Option<&str>,
    line: u64,
    message: impl Into<String>,
) -> Problem {
    Problem {
        kind,
        part: part.map(str::to_string),
        line,
        message: message.into(),
    }
}

/// Reads one message from `reader` (a leading UTF-8 byte-order mark and
/// mbox `From ` line are skipped), calling `visitor` for every part. Fails with 65 when the
/// input is not a message at all (no header field), with 74 on a read
/// error, and with whatever the visitor's error says.
pub fn read_message<R: BufRead>(
    reader: R,
    limits: &Limits,
    visitor: &mut impl Visitor,
) -> Result<(), Error> {
    let mut state = Reader::new(limits.clone());
    let mut lines = Lines::new(reader);
    if lines.skip_bom_and_mbox_from_line().map_err(input_error)? {
        visitor.problem(&problem(
            ProblemKind::ByteOrderMark,
            None,
            1,
            "a UTF-8 byte-order mark before the first field; skipped",
        ));
    }
    loop {
        if state.takes_runs() && lines.next_run().map_err(input_error)? {
            state.run(&lines.piece, visitor)?;
            continue;
        }
        if !lines.next_piece().map_err(input_error)? {
            break;
        }
        state.piece(&lines.piece, visitor)?;
    }
    state.finish(visitor)
}

/// A read error of the input, as the library error (74).
fn input_error(error: io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "reading the message", &error)
}

/// A line, or a piece of a very long one.
struct Piece {
    /// The bytes, with the line end when the piece ends the line.
    data: Vec<u8>,
    /// The line number (1-based) the piece starts on.
    line: u64,
    /// Whether the piece begins a line.
    starts_line: bool,
    /// Whether the piece ends with its line end.
    ends_line: bool,
}

impl Piece {
    /// The content without its line end, and the line end.
    fn split_eol(&self) -> (&[u8], &[u8]) {
        if !self.ends_line {
            return (&self.data, &[]);
        }
        let eol = if self.data.ends_with(b"\r\n") { 2 } else { 1 };
        self.data.split_at(self.data.len() - eol)
    }
}

/// Longest piece handed on at once: a longer line comes in pieces (it
/// cannot be a boundary line, which is at most 80 octets or so).
const MAX_PIECE: usize = 64 * 1024;

/// Longest run of lines handed on at once by [`Lines::next_run`].
const MAX_RUN: usize = 256 * 1024;

/// The input cut into lines (or pieces of long lines), in one reused buffer.
struct Lines<R> {
    reader: R,
    at_line_start: bool,
    /// The line number of the next byte.
    line: u64,
    /// The current piece.
    piece: Piece,
    /// `piece` was read ahead and is the next one to hand on.
    held: bool,
}

impl<R: BufRead> Lines<R> {
    fn new(reader: R) -> Self {
        Lines {
            reader,
            at_line_start: true,
            line: 1,
            piece: Piece {
                data: Vec::with_capacity(MAX_RUN),
                line: 1,
                starts_line: true,
                ends_line: false,
            },
            held: false,
        }
    }

    /// Reads the next line, or piece of a long line, into `piece`; false at
    /// the end of input. A line is gathered across reads, so the pieces do
    /// not depend on how the input arrives (a pipe may hand over part of a
    /// line): only a line longer than [`MAX_PIECE`] comes in pieces.
    fn next_piece(&mut self) -> io::Result<bool> {
        if self.held {
            self.held = false;
            return Ok(true);
        }
        let starts_line = self.at_line_start;
        self.piece.data.clear();
        let mut ends_line = false;
        loop {
            let buf = fill(&mut self.reader)?;
            if buf.is_empty() {
                break;
            }
            let room = MAX_PIECE - self.piece.data.len();
            let window = &buf[..buf.len().min(room)];
            let take = match memchr::memchr(b'\n', window) {
                Some(at) => {
                    ends_line = true;
                    at + 1
                }
                None => window.len(),
            };
            self.piece.data.extend_from_slice(&buf[..take]);
            self.reader.consume(take);
            if ends_line || self.piece.data.len() >= MAX_PIECE {
                break;
            }
        }
        if self.piece.data.is_empty() {
            return Ok(false);
        }
        self.piece.starts_line = starts_line;
        self.piece.ends_line = ends_line;
        self.piece.line = self.line;
        self.line += u64::from(ends_line);
        self.at_line_start = ends_line;
        Ok(true)
    }

    /// Reads a run of whole lines none of which starts with `-` (so none
    /// can be a delimiter) into `piece`, as far as the input buffer holds
    /// them; false when there is none at hand (then read a piece).
    fn next_run(&mut self) -> io::Result<bool> {
        if self.held || !self.at_line_start {
            return Ok(false);
        }
        let buf = fill(&mut self.reader)?;
        let limit = buf.len().min(MAX_RUN);
        let mut end = 0;
        while end < limit && buf[end] != b'-' {
            match memchr::memchr(b'\n', &buf[end..limit]) {
                Some(at) => end += at + 1,
                None => break,
            }
        }
        if end == 0 {
            return Ok(false);
        }
        self.piece.data.clear();
        self.piece.data.extend_from_slice(&buf[..end]);
        self.piece.starts_line = true;
        self.piece.ends_line = true;
        self.piece.line = self.line;
        self.line += memchr::memchr_iter(b'\n', &buf[..end]).count() as u64;
        self.reader.consume(end);
        Ok(true)
    }

    /// Skips a UTF-8 byte-order mark at the very start (some editors and
    /// exporters write one; it belongs to no field name), then a leading
    /// mbox `From ` line. The first line is read whole (however little
    /// the first read brings); when it is not a `From ` line it is held
    /// for [`Lines::next_piece`]. True when there was a byte-order mark.
    fn skip_bom_and_mbox_from_line(&mut self) -> io::Result<bool> {
        if !self.next_piece()? {
            return Ok(false);
        }
        let bom = self.piece.data.starts_with(b"\xEF\xBB\xBF");
        if bom {
            self.piece.data.drain(..3);
            if self.piece.data.is_empty() {
                return Ok(true);
            }
        }
        if !crate::grammar::header::is_mbox_from_line(&self.piece.data) {
            self.held = true;
            return Ok(bom);
        }
        while !self.piece.ends_line && self.next_piece()? {}
        Ok(bom)
    }
}

/// The reader's buffer, refilled if empty; retries when interrupted.
fn fill<R: BufRead>(reader: &mut R) -> io::Result<&[u8]> {
    while let Err(e) = reader.fill_buf() {
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    reader.fill_buf()
}

/// Where an entity about to be read goes.
#[derive(Clone)]
enum Slot {
    /// A child of a multipart, with its number.
    Child(String),
    /// The top entity of a message: the message itself (prefix "") or a
    /// message/rfc822 part N (prefix "N"). Its number depends on its type.
    MessageRoot(String),
}

#[derive(Clone)]
struct Pending {
    slot: Slot,
    depth: usize,
    /// text/plain, or message/rfc822 inside multipart/digest (RFC 2046 §5.1.5).
    default_type: &'static str,
    /// For a child of a multipart/related: which child is the root, and
    /// whether this one is the first.
    related: Option<(RelatedRoot, bool)>,
}

/// Which child of a multipart/related is its root (RFC 2387 §3.2).
#[derive(Clone)]
enum RelatedRoot {
    /// The first, when there is no `start` parameter.
    First,
    /// The one with this Content-ID (the `start` parameter, without its
    /// angle brackets).
    ContentId(String),
}

enum FrameKind {
    Multipart {
        /// `--boundary`.
        delimiter: Vec<u8>,
        child_prefix: String,
        children: u32,
        digest: bool,
        /// For a multipart/related: which child is its root.
        related: Option<RelatedRoot>,
        /// The body before the first delimiter (bounded): shown as a text
        /// part if the delimiter never comes.
        preamble: Vec<u8>,
    },
    Message,
}

/// How much of a multipart's body is kept in case its boundary never
/// occurs (then it is shown as one text part, cut at this size).
const MAX_UNFRAMED: usize = 4 * 1024 * 1024;

struct Frame {
    kind: FrameKind,
    part: Part,
    /// For a message part: the line end held back (it may belong to the
    /// delimiter that ends the part).
    pending_eol: Vec<u8>,
    /// For a message part: its last line so far is the closing delimiter
    /// of a multipart inside it, so the line end held back is the part's
    /// own, not the next delimiter's: the closing delimiter line is whole
    /// (RFC 2046 §5.1.1), and IMAP servers count it so in BODY[ID] and
    /// BODYSTRUCTURE sizes (RFC 3501 §6.4.5).
    eol_is_own: bool,
}

struct Leaf {
    part: Part,
    decoder: BodyDecoder,
    pending_eol: Vec<u8>,
    out: Vec<u8>,
    /// For plain text bodies: uuencoded files found in them.
    uu: Option<Box<Uu>>,
}

/// uuencoded files inside a text part (old mail): each becomes a part of
/// its own, numbered `ID.uN`, while the text part keeps its bytes.
struct Uu {
    scanner: decode::UuScanner,
    file: Option<Part>,
    count: u32,
    out: Vec<u8>,
}

enum Mode {
    Header {
        pending: Pending,
        buf: Vec<u8>,
        overflow: bool,
        /// The line the header starts on (0 until its first line).
        start: u64,
    },
    Body(Box<Leaf>),
    /// Between a multipart's header and its first delimiter, or after an
    /// inner part's end: lines are not content of any part.
    Skip,
    /// The part limit was reached: the rest is not unpacked.
    Exhausted,
}

struct Reader {
    limits: Limits,
    mode: Mode,
    frames: Vec<Frame>,
    parts: usize,
    saw_field: bool,
}

const FLUSH_AT: usize = 64 * 1024;

impl Reader {
    fn new(limits: Limits) -> Self {
        Reader {
            limits,
            mode: Mode::Header {
                pending: Pending {
                    slot: Slot::MessageRoot(String::new()),
                    depth: 0,
                    default_type: "text/plain",
                    related: None,
                },
                buf: Vec::new(),
                overflow: false,
                start: 0,
            },
            frames: Vec::new(),
            parts: 0,
            saw_field: false,
        }
    }

    /// Whether the current mode takes runs of lines at once: a body that
    /// is not scanned line by line, or lines that belong to no part.
    fn takes_runs(&self) -> bool {
        match &self.mode {
            Mode::Body(leaf) => leaf.uu.is_none(),
            Mode::Skip | Mode::Exhausted => true,
            Mode::Header { .. } => false,
        }
    }

    /// A run of whole lines, none of them a delimiter.
    fn run(&mut self, run: &Piece, visitor: &mut impl Visitor) -> Result<(), Error> {
        self.report_raw(run, false, visitor);
        if matches!(self.mode, Mode::Exhausted) {
            return Ok(());
        }
        self.raw(run, None, visitor)?;
        match &mut self.mode {
            Mode::Body(leaf) => feed(leaf, run, visitor),
            _ => Ok(()),
        }
    }

    /// Shows the visitor the raw input and where it stands.
    fn report_raw(&self, piece: &Piece, delimiter: bool, visitor: &mut impl Visitor) {
        let context = match &self.mode {
            _ if delimiter => RawContext::Delimiter,
            Mode::Header { .. } => RawContext::Header,
            Mode::Body(leaf) => RawContext::Body(&leaf.part),
            Mode::Skip | Mode::Exhausted => match self.frames.last() {
                Some(frame) if matches!(frame.kind, FrameKind::Message) => {
                    RawContext::Body(&frame.part)
                }
                _ => RawContext::Other,
            },
        };
        visitor.raw(&RawPiece {
            data: &piece.data,
            line: piece.line,
            starts_line: piece.starts_line,
            ends_line: piece.ends_line,
            context,
        });
    }

    fn piece(&mut self, piece: &Piece, visitor: &mut impl Visitor) -> Result<(), Error> {
        if matches!(self.mode, Mode::Exhausted) {
            self.report_raw(piece, false, visitor);
            return Ok(());
        }
        let boundary = if piece.starts_line && piece.data.starts_with(b"--") {
            self.match_boundary(piece)
        } else {
            None
        };
        self.report_raw(piece, boundary.is_some(), visitor);
        self.raw(piece, boundary.map(|(level, _)| level), visitor)?;
        if let Some((level, close)) = boundary {
            return self.boundary(level, close, visitor);
        }
        match &mut self.mode {
            Mode::Header { .. } => self.header_piece(piece, visitor),
            Mode::Body(leaf) => feed(leaf, piece, visitor),
            Mode::Skip | Mode::Exhausted => Ok(()),
        }
    }

    /// Counts the raw piece into the containers it belongs to (all; for a
    /// delimiter, the multipart it belongs to and those around it, not the
    /// parts it ends), and hands it to message parts as their raw content.
    fn raw(
        &mut self,
        piece: &Piece,
        boundary_level: Option<usize>,
        visitor: &mut impl Visitor,
    ) -> Result<(), Error> {
        let upto = boundary_level.map_or(self.frames.len(), |level| level + 1);
        let innermost = self.frames.len();
        for (at, frame) in self.frames[..upto].iter_mut().enumerate() {
            if let FrameKind::Multipart {
                children, preamble, ..
            } = &mut frame.kind
            {
                frame.part.size += piece.data.len() as u64;
                // Before its first delimiter, the innermost multipart's
                // body may be all there is (a boundary that never occurs).
                if *children == 0 && at + 1 == innermost && preamble.len() < MAX_UNFRAMED {
                    let room = MAX_UNFRAMED - preamble.len();
                    preamble.extend_from_slice(&piece.data[..piece.data.len().min(room)]);
                }
                continue;
            }
            if !frame.pending_eol.is_empty() {
                frame.part.size += frame.pending_eol.len() as u64;
                visitor.content(&frame.part, &frame.pending_eol)?;
                frame.pending_eol.clear();
            }
            let (content, eol) = piece.split_eol();
            frame.part.size += content.len() as u64;
            visitor.content(&frame.part, content)?;
            frame.pending_eol.extend_from_slice(eol);
            frame.eol_is_own = false;
        }
        Ok(())
    }

    /// The frame whose delimiter this line is, and whether it closes it.
    fn match_boundary(&self, piece: &Piece) -> Option<(usize, bool)> {
        if !piece.ends_line && piece.data.len() >= MAX_PIECE {
            return None;
        }
        let (line, _) = piece.split_eol();
        self.frames
            .iter()
            .enumerate()
            .rev()
            .find_map(|(level, frame)| {
                let FrameKind::Multipart { delimiter, .. } = &frame.kind else {
                    return None;
                };
                // The padding is what follows the whole delimiter, which
                // may itself end in spaces (a boundary RFC 2046 §5.1.1
                // forbids, but one that is quoted and meant).
                let rest = line.strip_prefix(delimiter.as_slice())?;
                match trim_end_whitespace(rest) {
                    b"" => Some((level, false)),
                    b"--" => Some((level, true)),
                    _ => None,
                }
            })
    }

    fn header_piece(&mut self, piece: &Piece, visitor: &mut impl Visitor) -> Result<(), Error> {
        let Mode::Header {
            buf,
            overflow,
            start,
            ..
        } = &mut self.mode
        else {
            unreachable!("called in header mode");
        };
        if *start == 0 {
            *start = piece.line;
        }
        let (line, _) = piece.split_eol();
        if piece.starts_line && line.is_empty() {
            return self.begin_entity(visitor, None);
        }
        if piece.starts_line && !looks_like_header_line(line) {
            // No blank line before the body: the header ends here and this
            // line is the first of the body.
            let is_message_top = self.frames.is_empty() && buf.is_empty();
            if is_message_top {
                return Err(Error::data(
                    "not a message: the input does not begin with header fields",
                ));
            }
            return self.begin_entity(visitor, Some(piece));
        }
        if buf.len() + piece.data.len() > self.limits.max_header {
            if self.frames.is_empty() {
                // The message's own header: without it nothing can be
                // read, and the rest of an endless line need not be.
                return Err(Error::data(format!(
                    "the message header is longer than {} KiB",
                    self.limits.max_header >> 10
                )));
            }
            if !*overflow {
                *overflow = true;
                visitor.problem(&problem(
                    ProblemKind::Limit,
                    None,
                    piece.line,
                    "a header block is over the size limit; the rest of it is ignored",
                ));
            }
            return Ok(());
        }
        buf.extend_from_slice(&piece.data);
        Ok(())
    }

    /// The header of an entity is complete: start the part it describes.
    /// `first_body_line` is a body line that came without a blank line.
    fn begin_entity(
        &mut self,
        visitor: &mut impl Visitor,
        first_body_line: Option<&Piece>,
    ) -> Result<(), Error> {
        let Mode::Header {
            pending,
            buf,
            start,
            ..
        } = std::mem::replace(&mut self.mode, Mode::Skip)
        else {
            unreachable!("called in header mode");
        };
        let start = if start == 0 {
            first_body_line.map_or(0, |p| p.line)
        } else {
            start
        };
        let header = crate::message::parse_header(&[buf.as_slice(), b"\n"].concat());
        self.saw_field |= !header.fields.is_empty();
        if self.frames.is_empty() && header.fields.is_empty() {
            return Err(Error::data("not a message: no header fields"));
        }
        if self.parts >= self.limits.max_parts {
            visitor.problem(&problem(
                ProblemKind::Limit,
                None,
                start,
                format!(
                    "more than {} parts: the rest of the message is not unpacked",
                    self.limits.max_parts
                ),
            ));
            self.mode = Mode::Exhausted;
            return Ok(());
        }
        self.parts += 1;
        let boundary = header_param(&header, "content-type", "boundary").filter(|b| !b.is_empty());
        let mut part = describe(&header, &pending, boundary.is_some(), start, visitor);
        visitor.header(&part, start, &buf);
        if let Some(line) = first_body_line {
            visitor.problem(&problem(
                ProblemKind::NoBlankLine,
                Some(&part.id),
                line.line,
                "no blank line between the header and the body",
            ));
        }
        let too_deep = pending.depth >= self.limits.max_depth;
        let boundary = boundary.filter(|_| part.content_type.starts_with("multipart/"));
        match boundary {
            _ if part.content_type.starts_with("multipart/") && too_deep => {
                visitor.problem(&problem(
                    ProblemKind::Limit,
                    Some(&part.id),
                    start,
                    "nested too deeply; shown as one part",
                ));
                self.start_leaf(part, visitor, first_body_line)
            }
            Some(boundary) => {
                part.kind = PartKind::Multipart;
                visitor.start(&part)?;
                let child_prefix = match &pending.slot {
                    Slot::Child(id) => id.clone(),
                    Slot::MessageRoot(prefix) => prefix.clone(),
                };
                self.frames.push(Frame {
                    kind: FrameKind::Multipart {
                        delimiter: [b"--".as_slice(), boundary.as_bytes()].concat(),
                        child_prefix,
                        children: 0,
                        digest: part.content_type == "multipart/digest",
                        related: (part.content_type == "multipart/related").then(|| {
                            match header_param(&header, "content-type", "start") {
                                Some(start) => RelatedRoot::ContentId(
                                    start.trim().trim_matches(['<', '>']).to_string(),
                                ),
                                None => RelatedRoot::First,
                            }
                        }),
                        preamble: Vec::new(),
                    },
                    part,
                    pending_eol: Vec::new(),
                    eol_is_own: false,
                });
                // A header followed directly by its first delimiter: the
                // line is read as the body's first (RFC 2046 §5.1.1 lets
                // the preamble be empty, not the blank line; readers
                // unpack as far as it goes).
                // (Its raw bytes were shown as the header's last line.)
                if let Some((level, close)) = first_body_line
                    .filter(|line| line.data.starts_with(b"--"))
                    .and_then(|line| self.match_boundary(line))
                {
                    return self.boundary(level, close, visitor);
                }
                Ok(())
            }
            _ if part.content_type.starts_with("multipart/") => {
                visitor.problem(&problem(
                    ProblemKind::MissingBoundary,
                    Some(&part.id),
                    start,
                    "multipart without a boundary; shown as one part",
                ));
                self.start_leaf(part, visitor, first_body_line)
            }
            _ if is_embedded_message(&part) && !too_deep => {
                part.kind = PartKind::Message;
                visitor.start(&part)?;
                let id = part.id.clone();
                self.frames.push(Frame {
                    kind: FrameKind::Message,
                    part,
                    pending_eol: Vec::new(),
                    eol_is_own: false,
                });
                self.mode = Mode::Header {
                    pending: Pending {
                        slot: Slot::MessageRoot(id),
                        depth: pending.depth + 1,
                        default_type: "text/plain",
                        related: None,
                    },
                    buf: Vec::new(),
                    overflow: false,
                    start: 0,
                };
                if let Some(line) = first_body_line {
                    return self.piece(line, visitor);
                }
                Ok(())
            }
            _ => self.start_leaf(part, visitor, first_body_line),
        }
    }

    fn start_leaf(
        &mut self,
        mut part: Part,
        visitor: &mut impl Visitor,
        first_body_line: Option<&Piece>,
    ) -> Result<(), Error> {
        part.kind = PartKind::Leaf;
        visitor.start(&part)?;
        let plain_text = part.content_type == "text/plain"
            && matches!(part.encoding.as_str(), "7bit" | "8bit" | "binary");
        let mut leaf = Box::new(Leaf {
            decoder: BodyDecoder::for_encoding(Some(&part.encoding)),
            uu: plain_text.then(|| {
                Box::new(Uu {
                    scanner: decode::UuScanner::new(),
                    file: None,
                    count: 0,
                    out: Vec::new(),
                })
            }),
            part,
            pending_eol: Vec::new(),
            out: Vec::with_capacity(FLUSH_AT + 1024),
        });
        if let Some(line) = first_body_line {
            feed(&mut leaf, line, visitor)?;
        }
        self.mode = Mode::Body(leaf);
        Ok(())
    }

    /// A delimiter of the multipart at `level`: parts inside it end (those
    /// of deeper, unclosed multiparts with a warning); a new child begins
    /// unless it is the closing delimiter.
    fn boundary(
        &mut self,
        level: usize,
        close: bool,
        visitor: &mut impl Visitor,
    ) -> Result<(), Error> {
        self.end_current(visitor, false)?;
        while self.frames.len() > level + 1 {
            let mut frame = self.frames.pop().expect("deeper frames exist");
            // The line end before the delimiter belongs to the delimiter.
            if let FrameKind::Multipart { preamble, .. } = &mut frame.kind {
                let eol = match preamble.as_slice() {
                    [.., b'\r', b'\n'] => 2,
                    [.., b'\n'] => 1,
                    _ => 0,
                };
                preamble.truncate(preamble.len() - eol);
            }
            end_frame(frame, false, visitor)?;
        }
        if close {
            for frame in &mut self.frames[..level] {
                frame.eol_is_own = matches!(frame.kind, FrameKind::Message);
            }
            let frame = self.frames.pop().expect("the frame at level");
            end_frame(frame, true, visitor)?;
            self.mode = Mode::Skip;
            return Ok(());
        }
        let frame = self.frames.last_mut().expect("the frame at level");
        let FrameKind::Multipart {
            child_prefix,
            children,
            digest,
            related,
            preamble,
            ..
        } = &mut frame.kind
        else {
            unreachable!("delimiters belong to multiparts");
        };
        *children += 1;
        *preamble = Vec::new();
        let id = if child_prefix.is_empty() {
            children.to_string()
        } else {
            format!("{child_prefix}.{children}")
        };
        self.mode = Mode::Header {
            pending: Pending {
                slot: Slot::Child(id),
                depth: level + 1,
                default_type: if *digest {
                    "message/rfc822"
                } else {
                    "text/plain"
                },
                related: related.clone().map(|root| (root, *children == 1)),
            },
            buf: Vec::new(),
            overflow: false,
            start: 0,
        };
        Ok(())
    }

    /// Ends the leaf being read, or the entity whose header was being read.
    fn end_current(&mut self, visitor: &mut impl Visitor, at_end: bool) -> Result<(), Error> {
        if let Mode::Header { buf, .. } = &self.mode {
            // A part cut short by a delimiter (or the end) while its header
            // was being read: it has an empty body. At the end of input an
            // empty header after a delimiter is no part at all.
            if at_end && buf.is_empty() && !self.frames.is_empty() {
                self.mode = Mode::Skip;
            } else {
                self.begin_entity(visitor, None)?;
            }
        }
        match std::mem::replace(&mut self.mode, Mode::Skip) {
            Mode::Body(mut leaf) => {
                if at_end
                    && self
                        .frames
                        .iter()
                        .all(|f| matches!(f.kind, FrameKind::Message))
                {
                    // No delimiter follows: the last line end is content.
                    let eol = std::mem::take(&mut leaf.pending_eol);
                    leaf.decoder.feed(&eol, &mut leaf.out);
                }
                finish_leaf(*leaf, visitor)
            }
            Mode::Skip | Mode::Exhausted | Mode::Header { .. } => Ok(()),
        }
    }

    fn finish(mut self, visitor: &mut impl Visitor) -> Result<(), Error> {
        self.end_current(visitor, true)?;
        while let Some(frame) = self.frames.pop() {
            end_frame(frame, false, visitor)?;
        }
        if !self.saw_field {
            return Err(Error::data("not a message: no header fields"));
        }
        Ok(())
    }
}

/// Ends a container part: a multipart whose delimiter never came, or
/// whose closing delimiter is missing, is reported. One whose delimiter
/// never came has its body shown as one text part (as Python's email
/// package and mail-parser keep it), so that the text does not disappear.
fn end_frame(mut frame: Frame, closed: bool, visitor: &mut impl Visitor) -> Result<(), Error> {
    if frame.eol_is_own && !frame.pending_eol.is_empty() {
        frame.part.size += frame.pending_eol.len() as u64;
        visitor.content(&frame.part, &frame.pending_eol)?;
    }
    if let FrameKind::Multipart {
        children,
        child_prefix,
        preamble,
        ..
    } = frame.kind
    {
        let id = Some(frame.part.id.as_str());
        if children == 0 && closed {
            // Only the closing delimiter occurs: no body part (RFC 2046
            // §5.1.1 needs one). What came before it is the preamble; the
            // delimiter line itself is no content.
            visitor.problem(&problem(
                ProblemKind::NoBodyPart,
                id,
                frame.part.line,
                "the multipart has no body part, only its closing delimiter: its preamble is shown as one text part",
            ));
            let preamble = if preamble.len() < MAX_UNFRAMED {
                before_last_line(&preamble)
            } else {
                &preamble[..]
            };
            unframed_body(&frame.part, &child_prefix, preamble, visitor)?;
        } else if children == 0 {
            let cut = if preamble.len() >= MAX_UNFRAMED {
                format!(" (its first {MAX_UNFRAMED} octets)")
            } else {
                String::new()
            };
            visitor.problem(&problem(
                ProblemKind::BoundaryNotFound,
                id,
                frame.part.line,
                format!(
                    "the multipart's boundary never occurs: its body is shown as one text part{cut}"
                ),
            ));
            unframed_body(&frame.part, &child_prefix, &preamble, visitor)?;
        } else if !closed {
            visitor.problem(&problem(
                ProblemKind::UnclosedMultipart,
                id,
                frame.part.line,
                "multipart never closed (missing final boundary)",
            ));
        }
    }
    visitor.end(&frame.part)
}

/// `data` without its last line and the line end before it.
fn before_last_line(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let data = data.strip_suffix(b"\r").unwrap_or(data);
    match memchr::memrchr(b'\n', data) {
        Some(at) => {
            let kept = &data[..at];
            kept.strip_suffix(b"\r").unwrap_or(kept)
        }
        None => &[],
    }
}

/// The body of a multipart whose boundary never occurred, as its one text
/// part (numbered as a first child would be).
fn unframed_body(
    multipart: &Part,
    child_prefix: &str,
    body: &[u8],
    visitor: &mut impl Visitor,
) -> Result<(), Error> {
    let id = if child_prefix.is_empty() {
        "1".to_string()
    } else {
        format!("{child_prefix}.1")
    };
    let part = Part {
        id,
        depth: multipart.depth + 1,
        kind: PartKind::Leaf,
        content_type: "text/plain".into(),
        charset: None,
        encoding: multipart.encoding.clone(),
        size: body.len() as u64,
        disposition: None,
        filename: None,
        content_id: None,
        subject: None,
        line: multipart.line,
        message_header: false,
        related_resource: false,
    };
    visitor.start(&part)?;
    if !body.is_empty() {
        visitor.content(&part, body)?;
    }
    visitor.end(&part)
}

/// Hands a body line to the leaf's decoder; the line end is held back,
/// since the one before a delimiter belongs to the delimiter.
fn feed(leaf: &mut Leaf, piece: &Piece, visitor: &mut impl Visitor) -> Result<(), Error> {
    if !leaf.pending_eol.is_empty() {
        let eol = std::mem::take(&mut leaf.pending_eol);
        leaf.decoder.feed(&eol, &mut leaf.out);
    }
    let (content, eol) = piece.split_eol();
    leaf.decoder.feed(content, &mut leaf.out);
    leaf.pending_eol.extend_from_slice(eol);
    if let Some(uu) = &mut leaf.uu
        && piece.starts_line
    {
        uu_line(uu, &leaf.part, content, visitor)?;
    }
    if leaf.out.len() >= FLUSH_AT {
        leaf.part.size += leaf.out.len() as u64;
        visitor.content(&leaf.part, &leaf.out)?;
        leaf.out.clear();
    }
    Ok(())
}

/// One line of a plain text part through the uuencode scanner.
fn uu_line(uu: &mut Uu, text: &Part, line: &[u8], visitor: &mut impl Visitor) -> Result<(), Error> {
    match uu.scanner.line(line, &mut uu.out) {
        decode::UuEvent::Text => Ok(()),
        decode::UuEvent::Data => {
            if let Some(file) = &mut uu.file
                && uu.out.len() >= FLUSH_AT
            {
                file.size += uu.out.len() as u64;
                visitor.content(file, &uu.out)?;
                uu.out.clear();
            }
            Ok(())
        }
        decode::UuEvent::Begin { name, .. } => {
            end_uu_file(uu, visitor, true)?;
            uu.count += 1;
            let file = Part {
                id: format!("{}.u{}", text.id, uu.count),
                depth: text.depth + 1,
                kind: PartKind::Leaf,
                content_type: crate::media_type::from_name(std::path::Path::new(&name))
                    .unwrap_or("application/octet-stream")
                    .to_string(),
                charset: None,
                encoding: "x-uuencode".into(),
                size: 0,
                disposition: Some("attachment".into()),
                filename: Some(name),
                content_id: None,
                subject: None,
                line: text.line,
                message_header: false,
                related_resource: false,
            };
            visitor.start(&file)?;
            uu.file = Some(file);
            Ok(())
        }
        decode::UuEvent::End => end_uu_file(uu, visitor, false),
        decode::UuEvent::Truncated => end_uu_file(uu, visitor, true),
    }
}

/// Ends the uuencoded file being read, if any.
fn end_uu_file(uu: &mut Uu, visitor: &mut impl Visitor, cut_short: bool) -> Result<(), Error> {
    let Some(mut file) = uu.file.take() else {
        return Ok(());
    };
    if cut_short {
        uu.scanner.finish(&mut uu.out);
        visitor.problem(&problem(
            ProblemKind::TruncatedUuencode,
            Some(&file.id),
            file.line,
            "uuencoded file without its end line",
        ));
    }
    if !uu.out.is_empty() {
        file.size += uu.out.len() as u64;
        visitor.content(&file, &uu.out)?;
        uu.out.clear();
    }
    visitor.end(&file)
}

fn finish_leaf(mut leaf: Leaf, visitor: &mut impl Visitor) -> Result<(), Error> {
    if let Some(uu) = &mut leaf.uu {
        let open = uu.file.is_some();
        end_uu_file(uu, visitor, open)?;
    }
    leaf.decoder.finish(&mut leaf.out);
    if !leaf.out.is_empty() {
        leaf.part.size += leaf.out.len() as u64;
        visitor.content(&leaf.part, &leaf.out)?;
    }
    if let Some(damage) = leaf.decoder.damage().filter(|d| !d.is_clean()) {
        visitor.problem(&problem(
            ProblemKind::DamagedEncoding,
            Some(&leaf.part.id),
            leaf.part.line,
            format!("{}: {}", leaf.part.encoding, damage.describe()),
        ));
    }
    visitor.end(&leaf.part)
}

/// Whether a line can start or continue a header block.
fn looks_like_header_line(line: &[u8]) -> bool {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return true;
    }
    crate::grammar::header::field_name(line).is_some()
}

fn trim_end_whitespace(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(0, |at| at + 1);
    &line[..end]
}

fn is_embedded_message(part: &Part) -> bool {
    matches!(
        part.content_type.as_str(),
        "message/rfc822" | "message/global"
    ) && matches!(part.encoding.as_str(), "7bit" | "8bit" | "binary")
}

/// A parameter of a header field, decoded (RFC 2231).
fn header_param(header: &crate::message::Header, field: &str, name: &str) -> Option<String> {
    let value = header.get(field)?;
    let (_, params) = decode::parse_mime_value(value);
    decode::param(&params, name).map(str::to_string)
}

/// The part an entity header describes.
/// `container` says whether a multipart will be read as one (it has a
/// boundary): only then is it numbered as a container.
fn describe(
    header: &crate::message::Header,
    pending: &Pending,
    container: bool,
    line: u64,
    visitor: &mut impl Visitor,
) -> Part {
    let (essence, type_params) = match header.get("content-type") {
        Some(value) => decode::parse_mime_value(value),
        None => (None, Vec::new()),
    };
    let content_type = essence.unwrap_or_else(|| {
        if header.get("content-type").is_some() {
            visitor.problem(&problem(
                ProblemKind::BadContentType,
                None,
                line,
                "unreadable Content-Type; taken as text/plain",
            ));
            "text/plain".into()
        } else {
            pending.default_type.into()
        }
    });
    let is_multipart = container && content_type.starts_with("multipart/");
    let id = match &pending.slot {
        Slot::Child(id) => id.clone(),
        Slot::MessageRoot(prefix) if prefix.is_empty() => {
            if is_multipart { "0" } else { "1" }.to_string()
        }
        Slot::MessageRoot(prefix) => format!("{prefix}.{}", if is_multipart { 0 } else { 1 }),
    };
    let (disposition, disposition_params) = match header.get("content-disposition") {
        Some(value) => decode::parse_disposition(value),
        None => (None, Vec::new()),
    };
    let filename = decode::param(&disposition_params, "filename")
        .or_else(|| decode::param(&type_params, "name"))
        .map(str::to_string);
    let content_id = header.get("content-id").map(|v| {
        v.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string()
    });
    let related_resource = match &pending.related {
        None => false,
        Some(_) if content_id.is_none() && header.get("content-location").is_none() => false,
        Some((RelatedRoot::First, first)) => !first,
        Some((RelatedRoot::ContentId(root), _)) => content_id.as_deref() != Some(root),
    };
    Part {
        id,
        depth: pending.depth,
        kind: PartKind::Leaf,
        charset: decode::param(&type_params, "charset").map(|c| c.to_ascii_lowercase()),
        encoding: header
            .get("content-transfer-encoding")
            .map(|e| e.trim().to_ascii_lowercase())
            .unwrap_or_else(|| "7bit".into()),
        size: 0,
        disposition: disposition.map(|d| d.to_ascii_lowercase()),
        filename,
        content_id,
        line,
        related_resource,
        message_header: matches!(pending.slot, Slot::MessageRoot(_)),
        subject: matches!(pending.slot, Slot::MessageRoot(_))
            .then(|| header.get("subject").map(decode::decode_header_text))
            .flatten(),
        content_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unpack::Lister;

    /// (part, type, size) of every part, and the warnings, read through a
    /// buffer of `capacity` octets.
    fn parts(message: &[u8], capacity: usize) -> (Vec<(String, String, u64)>, Vec<String>) {
        let mut lister = Lister::default();
        let reader = io::BufReader::with_capacity(capacity, message);
        read_message(reader, &Limits::default(), &mut lister).unwrap();
        let parts = lister.parts.iter();
        let parts = parts.map(|p| (p.id.clone(), p.content_type.clone(), p.size));
        (parts.collect(), lister.warnings)
    }

    #[test]
    fn the_parts_do_not_depend_on_the_read_size() {
        let message = b"From: a@example.org\nMIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=\"a-rather-long-boundary\"\n\n\
            --a-rather-long-boundary\nContent-Type: text/plain\n\nhello\n\
            --a-rather-long-boundary\nContent-Type: message/rfc822\n\n\
            Subject: inner\n\ninner body\n--a-rather-long-boundary--\n";
        let whole = parts(message, 64 * 1024);
        assert_eq!(whole.0.len(), 4, "{whole:?}");
        assert!(whole.1.is_empty(), "{whole:?}");
        for capacity in [1, 2, 3, 5, 8, 13, 40] {
            assert_eq!(parts(message, capacity), whole, "read size {capacity}");
        }
    }

    /// Every message part's listed size is the length of what `--part`
    /// writes of it, whether the multipart inside it ends the part (its
    /// closing delimiter line whole, line end included) or an epilogue
    /// follows (whose last line end is the next delimiter's), nested too.
    #[test]
    fn message_part_sizes_are_what_part_writes() {
        let inner = "Subject: inner\nContent-Type: multipart/mixed; boundary=i\n\n\
            --i\n\nin\n--i--\n";
        let nested = format!(
            "Subject: middle\nContent-Type: multipart/mixed; boundary=m\n\n\
             --m\nContent-Type: message/rfc822\n\n{inner}--m--\n"
        );
        let message = format!(
            "From: a@example.org\nContent-Type: multipart/mixed; boundary=o\n\n\
             --o\nContent-Type: message/rfc822\n\n{inner}\
             --o\nContent-Type: message/rfc822\n\n{inner}epilogue\n\n\
             --o\nContent-Type: message/rfc822\n\n{nested}\
             --o\nContent-Type: message/rfc822\n\nSubject: leaf\n\nbody\n\
             --o--\n"
        );
        for crlf in [false, true] {
            let message = match crlf {
                true => message.replace('\n', "\r\n"),
                false => message.clone(),
            };
            let (parts, warnings) = parts(message.as_bytes(), 64 * 1024);
            assert!(warnings.is_empty(), "{warnings:?}");
            let messages: Vec<_> = parts
                .iter()
                .filter(|(_, kind, _)| kind == "message/rfc822")
                .collect();
            assert_eq!(messages.len(), 5, "{parts:?}");
            for (id, _, size) in messages {
                let mut writer = crate::unpack::PartWriter::new(id, Vec::new());
                read_message(message.as_bytes(), &Limits::default(), &mut writer).unwrap();
                let written = writer.finish().unwrap();
                assert_eq!(*size, written.len() as u64, "part {id} (CRLF {crlf})");
            }
        }
        let sizes: Vec<u64> = parts(message.as_bytes(), 64 * 1024)
            .0
            .into_iter()
            .filter(|(_, kind, _)| kind == "message/rfc822")
            .map(|(_, _, size)| size)
            .collect();
        // With the closing line's end; without the epilogue's last one.
        assert_eq!(sizes[0], inner.len() as u64);
        assert_eq!(sizes[1], (inner.len() + "epilogue\n".len()) as u64);
    }

    /// (part, is_attachment) of every part of `message`.
    fn attachments(message: &[u8]) -> Vec<(String, bool)> {
        let mut lister = Lister::default();
        read_message(message, &Limits::default(), &mut lister).unwrap();
        let parts = lister.parts.iter();
        parts.map(|p| (p.id.clone(), p.is_attachment())).collect()
    }

    #[test]
    fn the_attachment_rule() {
        let message = b"From: a@example.org\nMIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=m\n\n\
            --m\nContent-Type: text/plain\n\nbody\n\
            --m\nContent-Type: text/plain\nContent-Disposition: inline; filename=a.txt\n\nnamed\n\
            --m\nContent-Type: application/pdf\nContent-Disposition: inline\n\n%PDF\n\
            --m\nContent-Type: text/plain\nContent-Disposition: attachment\n\nsaved\n\
            --m\nContent-Type: text/calendar; name=invite.ics\n\nBEGIN\n\
            --m\nContent-Type: multipart/related; boundary=r\n\n\
            --r\nContent-Type: text/html\n\n<img src=cid:i>\n\
            --r\nContent-Type: image/png; name=i.png\nContent-ID: <i>\n\
            Content-Disposition: inline; filename=i.png\n\npng\n\
            --r\nContent-Type: image/png\nContent-Location: logo.png\n\npng\n\
            --r\nContent-Type: image/png; name=x.png\nContent-ID: <x>\n\
            Content-Disposition: attachment; filename=x.png\n\npng\n\
            --r--\n\
            --m\nContent-Type: message/rfc822\n\nSubject: in\n\ninner\n\
            --m--\n";
        let expected = [
            ("0", false),   // a multipart
            ("1", false),   // unnamed text
            ("2", true),    // named, though inline (mpack, Apple Mail)
            ("3", true),    // not text, though inline
            ("4", true),    // declared attachment
            ("5", true),    // named by the type's name parameter
            ("6", false),   // a multipart
            ("6.1", false), // the related root
            ("6.2", false), // the image the HTML shows
            ("6.3", false), // a resource by Content-Location
            ("6.4", true),  // declared attachment wins in a related body
            ("7", true),    // a message part: not text
            ("7.1", false), // its unnamed text
        ];
        let expected: Vec<(String, bool)> = expected
            .iter()
            .map(|(id, a)| (id.to_string(), *a))
            .collect();
        assert_eq!(attachments(message), expected);
    }

    #[test]
    fn a_boundary_ending_in_spaces_is_matched_whole() {
        let message = b"From: a@example.org\nMIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=\"b  \"\n\n\
            --b  \nContent-Type: text/plain\n\nbody\n--b \nmore\n\
            --b  --\n";
        let (parts, warnings) = parts(message, 64 * 1024);
        let expected = [("0", "multipart/mixed", 55), ("1", "text/plain", 14)];
        let expected: Vec<(String, String, u64)> = expected
            .iter()
            .map(|(id, t, n)| (id.to_string(), t.to_string(), *n))
            .collect();
        assert_eq!(parts, expected);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn an_mbox_from_line_is_skipped_however_short_the_first_read() {
        let message = b"From alice@example.org Mon Jan  1 00:00:00 2024\nSubject: hi\n\nbody\n";
        for capacity in [1, 4, 5, 64] {
            let (parts, warnings) = parts(message, capacity);
            assert_eq!(parts, [("1".into(), "text/plain".into(), 5)], "{capacity}");
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        // A first line that only looks like one at first is kept.
        let (parts, _) = parts(b"Fro: x\n\nbody\n", 2);
        assert_eq!(parts.len(), 1);
    }
}
