//! Content-Transfer-Encodings (RFC 2045 §6): choosing one for a body by
//! scanning it, and streaming encoders for 7bit, quoted-printable and base64.
//!
//! Everything here works in constant memory on content of any size, fed in
//! chunks of any size; the result never depends on how the content was cut.
//! Every encoder must be ended with its `finish` method, which writes the
//! output still held back and returns the inner writer: dropping an encoder
//! loses that output.

use std::io::{self, Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use memchr::{memchr, memchr2_iter};

mod base64_lines;

use base64_lines::{LINE_IN, LINE_OUT};

/// Longest line allowed on the wire, in octets without its CRLF (RFC 5322 §2.1.1).
pub const MAX_LINE_LEN: u64 = 998;

/// Longest encoded line for quoted-printable and base64, in characters (RFC 2045 §6.7, §6.8).
pub const MAX_ENCODED_LINE_LEN: usize = 76;

/// Size of the output buffer that the encoders fill before writing it whole.
const OUT_CAP: usize = 64 * 1024;

/// Size of the read buffer of [`copy_encoded`] and of the slices the encoders work on.
const CHUNK: usize = 64 * 1024;

/// How lines end in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newline {
    /// A line feed alone, as in files on Unix.
    Lf,
    /// Carriage return and line feed, as on the wire (RFC 5322 §2.1).
    CrLf,
}

impl Newline {
    /// The line end as bytes: `b"\n"` or `b"\r\n"`.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            Newline::Lf => b"\n",
            Newline::CrLf => b"\r\n",
        }
    }
}

/// How the content's own line ends are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEndings {
    /// Text: every CR, LF or CRLF in the content is a line end and becomes the output newline (a message body).
    Text,
    /// Exact: the bytes must decode back exactly (an attachment); only the output newline sequence itself (LF, or CRLF) is a line break, any other CR or LF is data.
    Exact,
}

/// A Content-Transfer-Encoding (RFC 2045 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferEncoding {
    /// Short lines of ASCII without NUL, sent as they are (RFC 2045 §2.7).
    SevenBit,
    /// Short lines that may hold 8-bit bytes, sent as they are (RFC 2045 §2.8); needs 8BITMIME.
    EightBit,
    /// Mostly readable text with escapes (RFC 2045 §6.7).
    QuotedPrintable,
    /// Any bytes, four characters per three bytes (RFC 2045 §6.8).
    Base64,
}

impl TransferEncoding {
    /// The value of the Content-Transfer-Encoding header field.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferEncoding::SevenBit => "7bit",
            TransferEncoding::EightBit => "8bit",
            TransferEncoding::QuotedPrintable => "quoted-printable",
            TransferEncoding::Base64 => "base64",
        }
    }
}

/// Streaming UTF-8 validation: a sequence cut by a chunk boundary is
/// carried over and completed with the start of the next chunk.
#[derive(Debug, Clone, Default)]
struct Utf8Check {
    invalid: bool,
    carry: [u8; 4],
    carry_len: usize,
}

impl Utf8Check {
    fn update(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        let rest = if self.carry_len == 0 {
            Some(chunk)
        } else {
            self.complete_carry(chunk)
        };
        if let Some(rest) = rest {
            self.check(rest);
        }
    }

    /// Validates the carried bytes followed by the start of `chunk`; returns
    /// the part of `chunk` still to check, or None if there is none.
    fn complete_carry<'a>(&mut self, chunk: &'a [u8]) -> Option<&'a [u8]> {
        let held = self.carry_len;
        let take = chunk.len().min(3);
        let mut window = [0u8; 7];
        window[..held].copy_from_slice(&self.carry[..held]);
        window[held..held + take].copy_from_slice(&chunk[..take]);
        let window = &window[..held + take];
        self.carry_len = 0;
        match std::str::from_utf8(window) {
            Ok(_) => chunk.get(take..),
            Err(e) if e.error_len().is_some() => {
                self.invalid = true;
                None
            }
            // The cut sequence is complete; check again from where the next one starts.
            Err(e) if e.valid_up_to() >= held => chunk.get(e.valid_up_to() - held..),
            // Still cut: the whole chunk was too short to complete it.
            Err(_) => {
                self.hold(window);
                None
            }
        }
    }

    fn check(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(_) => {}
            Err(e) if e.error_len().is_some() => self.invalid = true,
            Err(e) => self.hold(&bytes[e.valid_up_to()..]),
        }
    }

    fn hold(&mut self, tail: &[u8]) {
        match self.carry.get_mut(..tail.len()) {
            Some(carry) => {
                carry.copy_from_slice(tail);
                self.carry_len = tail.len();
            }
            None => self.invalid = true,
        }
    }

    fn finish(&mut self) {
        if self.carry_len > 0 {
            self.invalid = true;
            self.carry_len = 0;
        }
    }
}

/// Facts about content, gathered chunk by chunk.
///
/// Feed the content to [`update`](Self::update) in chunks of any size, then
/// call [`finish`](Self::finish); the facts do not depend on the chunking.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    len: u64,
    eight_bit: u64,
    /// Bytes that quoted-printable must escape: 8-bit bytes and control
    /// characters other than tab, CR and LF.
    escapes: u64,
    nul: bool,
    bare_cr: bool,
    bare_lf: bool,
    crlf: bool,
    eq_underscore: bool,
    max_line: u64,
    line: u64,
    /// The last byte seen was a CR whose follower is not known yet.
    pending_cr: bool,
    last: Option<u8>,
    utf8: Utf8Check,
}

impl Analysis {
    /// An analysis of empty content.
    pub fn new() -> Self {
        Self::default()
    }

    /// The finished analysis of the whole `content`.
    pub fn of(content: &[u8]) -> Self {
        let mut analysis = Self::new();
        analysis.update(content);
        analysis.finish();
        analysis
    }

    /// Adds the next chunk of content; any chunking gives the same result.
    pub fn update(&mut self, chunk: &[u8]) {
        let Some(&last) = chunk.last() else {
            return;
        };
        self.len += chunk.len() as u64;
        self.count_bytes(chunk);
        self.scan_lines(chunk);
        self.find_eq_underscore(chunk);
        self.utf8.update(chunk);
        self.last = Some(last);
    }

    /// Marks the end of the content: a CR or UTF-8 sequence left open is
    /// resolved (a sequence cut at the end is invalid).
    pub fn finish(&mut self) {
        if self.pending_cr {
            self.bare_cr = true;
            self.pending_cr = false;
        }
        self.utf8.finish();
    }

    fn count_bytes(&mut self, chunk: &[u8]) {
        let eight_bit = chunk.iter().filter(|&&b| b >= 0x80).count();
        let controls = chunk.iter().filter(|&&b| is_escaped_control(b)).count();
        self.eight_bit += eight_bit as u64;
        self.escapes += (eight_bit + controls) as u64;
        self.nul = self.nul || memchr(0, chunk).is_some();
    }

    fn scan_lines(&mut self, chunk: &[u8]) {
        let mut start = 0;
        for i in memchr2_iter(b'\r', b'\n', chunk) {
            self.line_bytes(i - start);
            self.max_line = self.max_line.max(self.line);
            self.line = 0;
            self.line_end(chunk[i]);
            start = i + 1;
        }
        self.line_bytes(chunk.len() - start);
    }

    /// Counts `n` bytes that are not line ends; any such byte after a CR makes it bare.
    fn line_bytes(&mut self, n: usize) {
        if n > 0 {
            self.bare_cr |= self.pending_cr;
            self.pending_cr = false;
            self.line += n as u64;
        }
    }

    fn line_end(&mut self, byte: u8) {
        if byte == b'\n' {
            self.crlf |= self.pending_cr;
            self.bare_lf |= !self.pending_cr;
            self.pending_cr = false;
        } else {
            self.bare_cr |= self.pending_cr;
            self.pending_cr = true;
        }
    }

    fn find_eq_underscore(&mut self, chunk: &[u8]) {
        if self.eq_underscore {
            return;
        }
        let across = self.last == Some(b'=') && chunk.first() == Some(&b'_');
        self.eq_underscore = across || memchr::memmem::find(chunk, b"=_").is_some();
    }

    /// Length of the content in octets.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every byte is below 0x80.
    pub fn is_ascii(&self) -> bool {
        self.eight_bit == 0
    }

    /// Whether the content is valid UTF-8 so far (after [`finish`](Self::finish): the whole content).
    pub fn is_utf8(&self) -> bool {
        !self.utf8.invalid
    }

    /// Whether the content holds a NUL byte.
    pub fn has_nul(&self) -> bool {
        self.nul
    }

    /// How many bytes are 0x80 or above.
    pub fn eight_bit_bytes(&self) -> u64 {
        self.eight_bit
    }

    /// The longest line in octets, not counting its line end; CR, LF and CRLF all end a line.
    pub fn max_line_len(&self) -> u64 {
        self.max_line.max(self.line)
    }

    /// Whether a CR not followed by LF occurs (a CR at the very end counts once finished).
    pub fn has_bare_cr(&self) -> bool {
        self.bare_cr
    }

    /// Whether an LF not preceded by CR occurs.
    pub fn has_bare_lf(&self) -> bool {
        self.bare_lf
    }

    /// Whether a CRLF pair occurs.
    pub fn has_crlf(&self) -> bool {
        self.crlf
    }

    /// Whether the content's last byte is a CR or an LF.
    pub fn ends_with_newline(&self) -> bool {
        matches!(self.last, Some(b'\r' | b'\n'))
    }

    /// Whether the two bytes "=_" occur anywhere. Multipart boundaries made by mailkit start with "=_", which quoted-printable and base64 output can never contain; 7bit content that contains "=_" must therefore not be sent as 7bit.
    pub fn has_eq_underscore(&self) -> bool {
        self.eq_underscore
    }

    /// True once the content is certainly binary (a NUL byte, or invalid UTF-8): a caller choosing an encoding may stop reading.
    pub fn is_certainly_binary(&self) -> bool {
        self.nul || self.utf8.invalid
    }

    /// The encoding to use so that the content passes any 7-bit MTA (never 8bit):
    ///  - SevenBit: ASCII, no NUL, every line <= 998 octets (RFC 5322 §2.1.1), no "=_", and line ends representable: with Text any of CR/LF/CRLF is fine (they are normalised); with Exact the content's line ends must already be exactly the output newline (only LF and no CR at all for Newline::Lf; only CRLF, no bare CR or bare LF, for Newline::CrLf).
    ///  - QuotedPrintable: no NUL, valid UTF-8 (or ASCII), and mostly ASCII: bytes needing escapes (8-bit, control chars other than tab and line ends) at most 1/6 of the content.
    ///  - Base64: everything else (binary, non-UTF-8 text, mostly non-ASCII text).
    ///
    /// Call [`finish`](Self::finish) first.
    pub fn choose(&self, endings: LineEndings, newline: Newline) -> TransferEncoding {
        if self.is_certainly_binary() {
            TransferEncoding::Base64
        } else if self.fits_7bit(endings, newline) {
            TransferEncoding::SevenBit
        } else if self.escapes.saturating_mul(6) <= self.len {
            TransferEncoding::QuotedPrintable
        } else {
            TransferEncoding::Base64
        }
    }

    fn fits_7bit(&self, endings: LineEndings, newline: Newline) -> bool {
        self.is_ascii()
            && self.max_line_len() <= MAX_LINE_LEN
            && !self.eq_underscore
            && self.line_ends_fit(endings, newline)
    }

    fn line_ends_fit(&self, endings: LineEndings, newline: Newline) -> bool {
        match (endings, newline) {
            (LineEndings::Text, _) => true,
            (LineEndings::Exact, Newline::Lf) => !self.bare_cr && !self.crlf && !self.pending_cr,
            (LineEndings::Exact, Newline::CrLf) => {
                !self.bare_cr && !self.bare_lf && !self.pending_cr
            }
        }
    }
}

/// Control characters that quoted-printable escapes and 7bit tolerates badly.
fn is_escaped_control(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f
}

/// Writes `out` whole to `inner` once it has grown to [`OUT_CAP`].
fn drain_if_full<W: Write>(inner: &mut W, out: &mut Vec<u8>) -> io::Result<()> {
    if out.len() >= OUT_CAP {
        drain(inner, out)?;
    }
    Ok(())
}

fn drain<W: Write>(inner: &mut W, out: &mut Vec<u8>) -> io::Result<()> {
    if !out.is_empty() {
        inner.write_all(out)?;
        out.clear();
    }
    Ok(())
}

/// Bytes of output the base64 encoder gathers before writing them: big
/// writes, few system calls.
const B64_OUT_CAP: usize = 256 * 1024;

/// Size of the read buffer of [`copy_encoded`] for base64: whole lines, so
/// that full reads need no carry from one to the next.
const B64_CHUNK: usize = LINE_IN * 4096;

/// Base64 encoder (RFC 2045 §6.8): lines of exactly 76 characters but the
/// last, separated by the newline.
///
/// The output does not end with a newline: the caller writes the line break
/// that precedes the next boundary. Empty content gives empty output.
///
/// Whole lines are encoded straight from the caller's buffer into the
/// output buffer, newlines included ([`base64_lines`]); only a line cut by
/// the end of a write is copied, to be completed by the next.
pub struct Base64Writer<W: Write> {
    inner: W,
    newline: Newline,
    /// Input short of a whole line: `pending[..pending_len]`.
    pending: [u8; LINE_IN],
    pending_len: usize,
    /// Output buffer, of which `filled` bytes are waiting to be written.
    out: Box<[u8]>,
    filled: usize,
    /// Whether a line has been written: every later line is preceded by a newline.
    started: bool,
}

impl<W: Write> Base64Writer<W> {
    /// An encoder writing to `inner`, with `newline` between lines.
    pub fn new(inner: W, newline: Newline) -> Self {
        Base64Writer {
            inner,
            newline,
            pending: [0; LINE_IN],
            pending_len: 0,
            out: vec![0; B64_OUT_CAP].into_boxed_slice(),
            filled: 0,
            started: false,
        }
    }

    /// Encodes the held input (the last line, padded), writes all output to
    /// the inner writer, flushes it and returns it. No newline is added.
    pub fn finish(mut self) -> io::Result<W> {
        if self.pending_len > 0 {
            let nl = self.newline.as_bytes();
            if self.room() < nl.len() + LINE_OUT {
                self.drain()?;
            }
            let mut at = self.filled;
            if self.started {
                self.out[at..at + nl.len()].copy_from_slice(nl);
                at += nl.len();
            }
            let n = STANDARD
                .encode_slice(&self.pending[..self.pending_len], &mut self.out[at..])
                .map_err(io::Error::other)?;
            self.filled = at + n;
            self.pending_len = 0;
        }
        self.drain()?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn room(&self) -> usize {
        self.out.len() - self.filled
    }

    fn drain(&mut self) -> io::Result<()> {
        if self.filled > 0 {
            self.inner.write_all(&self.out[..self.filled])?;
            self.filled = 0;
        }
        Ok(())
    }

    /// Encodes `input`, whole lines, as many as fit in the output buffer
    /// (draining it first if not one does); returns the bytes consumed.
    fn encode_lines(&mut self, input: &[u8]) -> io::Result<usize> {
        let stride = LINE_OUT + self.newline.as_bytes().len();
        if self.room() < stride {
            self.drain()?;
        }
        let lines = (input.len() / LINE_IN).min(self.room() / stride);
        let n = lines * LINE_IN;
        self.filled += base64_lines::encode_lines(
            &input[..n],
            self.newline.as_bytes(),
            self.started,
            &mut self.out[self.filled..],
        );
        self.started |= lines > 0;
        Ok(n)
    }

    /// Completes the held line with the start of `input`, encoding it when
    /// whole; returns the bytes taken.
    fn complete_pending(&mut self, input: &[u8]) -> io::Result<usize> {
        let take = input.len().min(LINE_IN - self.pending_len);
        self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&input[..take]);
        self.pending_len += take;
        if self.pending_len == LINE_IN {
            let line = self.pending;
            self.encode_lines(&line)?;
            self.pending_len = 0;
        }
        Ok(take)
    }
}

impl<W: Write> Write for Base64Writer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let n = if self.pending_len > 0 || rest.len() < LINE_IN {
                self.complete_pending(rest)?
            } else {
                self.encode_lines(rest)?
            };
            rest = &rest[n..];
        }
        Ok(buf.len())
    }

    /// Writes the finished lines to the inner writer and flushes it; input
    /// short of a whole line stays held until more comes or `finish`.
    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        self.inner.flush()
    }
}

/// Bytes of content the quoted-printable encoder looks ahead: enough to see
/// "rom " after an 'F', and a CRLF after a space.
const QP_LOOKAHEAD: usize = 4;

/// Quoted-printable encoding state: the output buffer and the current line.
struct QpCore {
    newline: Newline,
    endings: LineEndings,
    line_len: usize,
    out: Vec<u8>,
}

impl QpCore {
    /// Encodes `data`, stopping where the next byte would need lookahead past
    /// its end unless `eof`; returns how many bytes were consumed.
    fn encode(&mut self, data: &[u8], eof: bool) -> usize {
        let limit = if eof {
            data.len()
        } else {
            data.len().saturating_sub(QP_LOOKAHEAD)
        };
        let mut i = 0;
        while i < limit {
            let run = self.plain_run(&data[i..]);
            i += if run > 0 {
                run
            } else {
                self.step(&data[i..data.len().min(i + 1 + QP_LOOKAHEAD)])
            };
        }
        i
    }

    /// Fast path: encodes bytes whose encoding needs no lookahead, inside a
    /// line and short of its limit, so that no soft break or "From " check
    /// can be due. Returns the bytes consumed.
    fn plain_run(&mut self, data: &[u8]) -> usize {
        if self.line_len == 0 {
            return 0;
        }
        // Each byte's four table bytes are copied whole and `width` of them
        // kept: no branch on the kind of byte (binary content is unpredictable).
        let base = self.out.len();
        self.out.resize(base + MAX_ENCODED_LINE_LEN + 4, 0);
        let (mut pos, mut i) = (0, 0);
        while let Some(&b) = data.get(i) {
            let code = QP_CODES[usize::from(b)];
            let width = plain_width(code, data.get(i + 1));
            let Some(dst) = self.out.get_mut(base + pos..base + pos + 4) else {
                break;
            };
            if width == 0 || self.line_len + pos + width >= MAX_ENCODED_LINE_LEN {
                break;
            }
            dst.copy_from_slice(&code);
            pos += width;
            i += 1;
        }
        self.out.truncate(base + pos);
        self.line_len += pos;
        i
    }

    /// Encodes the first byte of `window` (or the line break it starts),
    /// the rest being lookahead that is either full or reaches the end of
    /// the content. Returns the bytes consumed.
    fn step(&mut self, window: &[u8]) -> usize {
        if let Some(n) = self.hard_break_len(window) {
            self.out.extend_from_slice(self.newline.as_bytes());
            self.line_len = 0;
            return n;
        }
        let Some((&b, next)) = window.split_first() else {
            return 1;
        };
        let literal = match b {
            // RFC 2045 §6.7 rule 3: no white space right before a line break.
            b' ' | b'\t' => !self.ends_line(next),
            _ => is_qp_safe(b),
        };
        self.put(b, literal, next);
        1
    }

    fn put(&mut self, b: u8, literal: bool, next: &[u8]) {
        if !self.fits(if literal { 1 } else { 3 }, next) {
            self.out.extend_from_slice(b"=");
            self.out.extend_from_slice(self.newline.as_bytes());
            self.line_len = 0;
        }
        // "From " at a line start gets mangled in mbox files: escape the F.
        let from = self.line_len == 0 && b == b'F' && next.starts_with(b"rom ");
        if literal && !from {
            self.out.push(b);
            self.line_len += 1;
        } else {
            self.escape(b);
        }
    }

    /// Whether a token of `width` characters fits on the line: 75 leave room
    /// for a soft break's '=', the 76th only if the line ends right after it.
    fn fits(&self, width: usize, next: &[u8]) -> bool {
        let end = self.line_len + width;
        end < MAX_ENCODED_LINE_LEN || (end == MAX_ENCODED_LINE_LEN && self.ends_line(next))
    }

    fn escape(&mut self, b: u8) {
        let hex = [b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]];
        self.out.extend_from_slice(&hex);
        self.line_len += 3;
    }

    /// Whether the content ends or a hard line break starts at `next`.
    fn ends_line(&self, next: &[u8]) -> bool {
        next.is_empty() || self.hard_break_len(next).is_some()
    }

    /// The length of the hard line break that `data` starts with, if any.
    fn hard_break_len(&self, data: &[u8]) -> Option<usize> {
        match (self.endings, self.newline, data) {
            (LineEndings::Text, _, [b'\r', b'\n', ..]) => Some(2),
            (LineEndings::Text, _, [b'\r' | b'\n', ..]) => Some(1),
            (LineEndings::Exact, Newline::Lf, [b'\n', ..]) => Some(1),
            (LineEndings::Exact, Newline::CrLf, [b'\r', b'\n', ..]) => Some(2),
            _ => None,
        }
    }
}

/// Bytes written literally wherever they fall (RFC 2045 §6.7 rule 2).
fn is_qp_safe(b: u8) -> bool {
    (33..=126).contains(&b) && b != b'='
}

/// Upper-case hexadecimal digits for "=XX" escapes (RFC 2045 §6.7 rule 1).
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Width code of white space in [`QP_CODES`]: literal before a plain byte, else unknown.
const WHITE: u8 = 4;

/// For each byte, its encoding inside a line where no lookahead matters, and
/// in the last place its width: 1 (literal), 3 (escape), [`WHITE`] (space or
/// tab) or 0 (a line end). Odd widths mark bytes that are neither white
/// space nor line ends.
const QP_CODES: [[u8; 4]; 256] = qp_codes();

/// The width that a byte with `code` takes before `next` in [`QpCore::plain_run`], or 0.
fn plain_width(code: [u8; 4], next: Option<&u8>) -> usize {
    // White space is literal unless a line end or the content's end follows;
    // anything but white space or a line end rules both out.
    let before_plain = || next.is_some_and(|&c| QP_CODES[usize::from(c)][3] & 1 == 1);
    match code[3] {
        WHITE if before_plain() => 1,
        width => usize::from(width & 3),
    }
}

const fn qp_codes() -> [[u8; 4]; 256] {
    let mut codes = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let (hi, lo) = (HEX[b >> 4], HEX[b & 15]);
        codes[b] = match byte {
            b' ' | b'\t' => [byte, 0, 0, WHITE],
            b'\r' | b'\n' => [0; 4],
            33..=126 if byte != b'=' => [byte, 0, 0, 1],
            _ => [b'=', hi, lo, 3],
        };
        b += 1;
    }
    codes
}

/// Quoted-printable encoder (RFC 2045 §6.7).
///
/// Encoded lines are at most 76 characters including the '=' of a soft
/// break. Line breaks of the content become hard breaks as `endings` says;
/// the output ends exactly where the content ends (with a hard break only if
/// the content ends with a line break). An 'F' starting a line before "rom "
/// is written "=46". Up to 4 bytes of input are held back for lookahead
/// until more input comes or `finish`.
pub struct QuotedPrintableWriter<W: Write> {
    inner: W,
    /// Input not encoded yet: at most the lookahead, between writes.
    input: Vec<u8>,
    core: QpCore,
}

impl<W: Write> QuotedPrintableWriter<W> {
    /// The inner writer, for a caller that drains what was flushed to it.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// An encoder writing to `inner`, with hard and soft breaks as `newline`.
    pub fn new(inner: W, newline: Newline, endings: LineEndings) -> Self {
        QuotedPrintableWriter {
            inner,
            input: Vec::with_capacity(CHUNK + QP_LOOKAHEAD),
            core: QpCore {
                newline,
                endings,
                line_len: 0,
                out: Vec::with_capacity(OUT_CAP + 3 * CHUNK + CHUNK / 8),
            },
        }
    }

    /// Encodes the held input as the end of the content, writes all output
    /// to the inner writer, flushes it and returns it.
    pub fn finish(mut self) -> io::Result<W> {
        self.core.encode(&self.input, true);
        self.input.clear();
        drain(&mut self.inner, &mut self.core.out)?;
        self.inner.flush()?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for QuotedPrintableWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.chunks(CHUNK) {
            self.input.extend_from_slice(piece);
            let n = self.core.encode(&self.input, false);
            self.input.drain(..n);
            drain_if_full(&mut self.inner, &mut self.core.out)?;
        }
        Ok(buf.len())
    }

    /// Writes the encoded output to the inner writer and flushes it; the
    /// held lookahead stays held.
    fn flush(&mut self) -> io::Result<()> {
        drain(&mut self.inner, &mut self.core.out)?;
        self.inner.flush()
    }
}

/// 7bit (or 8bit) writer: copies content through, converting line ends to
/// the newline with [`LineEndings::Text`] and leaving bytes as they are with
/// [`LineEndings::Exact`].
///
/// It trusts an earlier [`Analysis`], but a NUL or (unless
/// [`allow_8bit`](Self::allow_8bit)) a byte of 0x80 or above fails with
/// [`io::ErrorKind::InvalidData`]: the content changed since it was analysed.
pub struct SevenBitWriter<W: Write> {
    inner: W,
    newline: Newline,
    endings: LineEndings,
    allow_8bit: bool,
    /// The last byte written was a CR: an LF right after it is the same line end.
    pending_cr: bool,
    out: Vec<u8>,
}

impl<W: Write> SevenBitWriter<W> {
    /// A 7bit writer to `inner`.
    pub fn new(inner: W, newline: Newline, endings: LineEndings) -> Self {
        SevenBitWriter {
            inner,
            newline,
            endings,
            allow_8bit: false,
            pending_cr: false,
            out: Vec::with_capacity(2 * OUT_CAP),
        }
    }

    /// Lets bytes of 0x80 and above through, for 8bit (RFC 2045 §2.8).
    pub fn allow_8bit(mut self) -> Self {
        self.allow_8bit = true;
        self
    }

    /// Writes all output to the inner writer, flushes it and returns it.
    pub fn finish(mut self) -> io::Result<W> {
        drain(&mut self.inner, &mut self.out)?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    fn check(&self, piece: &[u8]) -> io::Result<()> {
        let bad_8bit = !self.allow_8bit && !piece.is_ascii();
        if bad_8bit || memchr(0, piece).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "NUL or 8-bit byte in 7bit content: the content changed since it was analysed",
            ));
        }
        Ok(())
    }

    fn normalise(&mut self, piece: &[u8]) {
        let mut start = 0;
        for i in memchr2_iter(b'\r', b'\n', piece) {
            self.copy(&piece[start..i]);
            self.line_end(piece[i]);
            start = i + 1;
        }
        self.copy(&piece[start..]);
    }

    fn copy(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.out.extend_from_slice(bytes);
            self.pending_cr = false;
        }
    }

    fn line_end(&mut self, byte: u8) {
        if byte == b'\n' && self.pending_cr {
            self.pending_cr = false;
        } else {
            self.out.extend_from_slice(self.newline.as_bytes());
            self.pending_cr = byte == b'\r';
        }
    }
}

impl<W: Write> Write for SevenBitWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for piece in buf.chunks(CHUNK) {
            self.check(piece)?;
            match self.endings {
                LineEndings::Text => self.normalise(piece),
                LineEndings::Exact => self.out.extend_from_slice(piece),
            }
            drain_if_full(&mut self.inner, &mut self.out)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        drain(&mut self.inner, &mut self.out)?;
        self.inner.flush()
    }
}

/// Streams `reader` to `out` in `encoding` and returns `out`, flushed.
///
/// EightBit is copied like SevenBit but lets 8-bit bytes through. Nothing
/// is added after the content: a base64 body does not end with a newline.
pub fn copy_encoded<R: Read, W: Write>(
    reader: &mut R,
    out: W,
    encoding: TransferEncoding,
    endings: LineEndings,
    newline: Newline,
) -> io::Result<W> {
    match encoding {
        TransferEncoding::SevenBit => {
            let mut writer = SevenBitWriter::new(out, newline, endings);
            pump(reader, &mut writer)?;
            writer.finish()
        }
        TransferEncoding::EightBit => {
            let mut writer = SevenBitWriter::new(out, newline, endings).allow_8bit();
            pump(reader, &mut writer)?;
            writer.finish()
        }
        TransferEncoding::QuotedPrintable => {
            let mut writer = QuotedPrintableWriter::new(out, newline, endings);
            pump(reader, &mut writer)?;
            writer.finish()
        }
        TransferEncoding::Base64 => {
            let mut writer = Base64Writer::new(out, newline);
            pump_in(reader, &mut writer, B64_CHUNK)?;
            writer.finish()
        }
    }
}

fn pump<R: Read, E: Write>(reader: &mut R, encoder: &mut E) -> io::Result<()> {
    pump_in(reader, encoder, CHUNK)
}

/// Copies `reader` to `encoder` through a buffer of `size` bytes.
fn pump_in<R: Read, E: Write>(reader: &mut R, encoder: &mut E, size: usize) -> io::Result<()> {
    let mut buf = vec![0u8; size];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => encoder.write_all(buf.get(..n).ok_or_else(bad_read)?)?,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn bad_read() -> io::Error {
    io::Error::other("reader returned more bytes than its buffer holds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use quoted_printable::ParseMode;

    const NEWLINES: [Newline; 2] = [Newline::Lf, Newline::CrLf];
    const SIZES: [usize; 5] = [1, 7, 57, 1000, 65537];

    use crate::test_support::noise;

    /// Writes `data` in pieces whose sizes cycle through `sizes`.
    fn write_in<W: Write>(w: &mut W, data: &[u8], sizes: &[usize]) {
        let mut rest = data;
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(size.min(rest.len()));
            w.write_all(now).unwrap();
            rest = later;
        }
    }

    fn analyse_in(data: &[u8], size: usize) -> Analysis {
        let mut a = Analysis::new();
        for chunk in data.chunks(size.max(1)) {
            a.update(chunk);
        }
        a.finish();
        a
    }

    fn choose(data: &[u8], endings: LineEndings, newline: Newline) -> TransferEncoding {
        Analysis::of(data).choose(endings, newline)
    }

    fn split_lines(out: &[u8], newline: Newline) -> Vec<&[u8]> {
        let nl = newline.as_bytes();
        let mut lines = Vec::new();
        let mut rest = out;
        while let Some(i) = memchr::memmem::find(rest, nl) {
            lines.push(&rest[..i]);
            rest = &rest[i + nl.len()..];
        }
        lines.push(rest);
        lines
    }

    fn normalised(data: &[u8], newline: Newline) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                b'\r' | b'\n' => {
                    out.extend_from_slice(newline.as_bytes());
                    i += if data[i..].starts_with(b"\r\n") { 2 } else { 1 };
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    // ---- Analysis and choose() ----

    #[test]
    fn short_ascii_lines_are_7bit() {
        let text = b"Hello,\n\nthis is a short note.\n-- \nme\n";
        assert_eq!(
            choose(text, LineEndings::Text, Newline::CrLf),
            TransferEncoding::SevenBit
        );
        assert_eq!(
            choose(b"", LineEndings::Exact, Newline::Lf),
            TransferEncoding::SevenBit
        );
    }

    #[test]
    fn line_of_999_octets_is_qp_and_998_is_7bit() {
        let mut text = vec![b'a'; 998];
        text.push(b'\n');
        assert_eq!(Analysis::of(&text).max_line_len(), 998);
        assert_eq!(
            choose(&text, LineEndings::Text, Newline::Lf),
            TransferEncoding::SevenBit
        );
        text.insert(0, b'a');
        assert_eq!(Analysis::of(&text).max_line_len(), 999);
        assert_eq!(
            choose(&text, LineEndings::Text, Newline::Lf),
            TransferEncoding::QuotedPrintable
        );
    }

    #[test]
    fn french_text_is_qp() {
        let text = "Le cœur a ses raisons que la raison ne connaît point.\n\
                    On le sait en mille choses. Voilà ce que c'est.\n";
        let a = Analysis::of(text.as_bytes());
        assert!(a.is_utf8() && !a.is_ascii());
        assert_eq!(
            a.choose(LineEndings::Text, Newline::CrLf),
            TransferEncoding::QuotedPrintable
        );
    }

    #[test]
    fn russian_and_cjk_text_are_base64() {
        let russian = "Все счастливые семьи похожи друг на друга.\n";
        let cjk = "吾輩は猫である。名前はまだ無い。\n";
        for text in [russian, cjk] {
            let a = Analysis::of(text.as_bytes());
            assert!(a.is_utf8() && !a.is_certainly_binary());
            assert_eq!(
                a.choose(LineEndings::Text, Newline::Lf),
                TransferEncoding::Base64
            );
        }
    }

    #[test]
    fn nul_is_base64() {
        let a = Analysis::of(b"plain text\0with a NUL\n");
        assert!(a.has_nul() && a.is_certainly_binary());
        assert_eq!(
            a.choose(LineEndings::Exact, Newline::Lf),
            TransferEncoding::Base64
        );
    }

    #[test]
    fn latin1_is_base64() {
        let a = Analysis::of(b"caf\xe9 cr\xe8me\n");
        assert!(!a.is_utf8() && a.is_certainly_binary());
        assert_eq!(a.eight_bit_bytes(), 2);
        assert_eq!(
            a.choose(LineEndings::Text, Newline::Lf),
            TransferEncoding::Base64
        );
    }

    #[test]
    fn eq_underscore_is_qp() {
        let a = Analysis::of(b"boundary=_mk_123\n");
        assert!(a.has_eq_underscore());
        assert_eq!(
            a.choose(LineEndings::Text, Newline::Lf),
            TransferEncoding::QuotedPrintable
        );
        let split = analyse_in(b"ab=_cd", 3);
        assert!(split.has_eq_underscore());
        assert!(!Analysis::of(b"a = _b").has_eq_underscore());
    }

    #[test]
    fn crlf_text_depends_on_endings_and_newline() {
        let text = b"one\r\ntwo\r\n";
        let a = Analysis::of(text);
        assert!(a.has_crlf() && !a.has_bare_cr() && !a.has_bare_lf() && a.ends_with_newline());
        assert_eq!(
            a.choose(LineEndings::Exact, Newline::Lf),
            TransferEncoding::QuotedPrintable
        );
        assert_eq!(
            a.choose(LineEndings::Exact, Newline::CrLf),
            TransferEncoding::SevenBit
        );
        assert_eq!(
            a.choose(LineEndings::Text, Newline::Lf),
            TransferEncoding::SevenBit
        );
        let lf = Analysis::of(b"one\ntwo");
        assert_eq!(
            lf.choose(LineEndings::Exact, Newline::CrLf),
            TransferEncoding::QuotedPrintable
        );
        assert_eq!(
            lf.choose(LineEndings::Exact, Newline::Lf),
            TransferEncoding::SevenBit
        );
    }

    #[test]
    fn bare_cr_at_the_end_is_known_after_finish() {
        let mut a = Analysis::new();
        a.update(b"x\r");
        assert!(!a.has_bare_cr());
        a.finish();
        assert!(a.has_bare_cr() && !a.has_crlf() && a.ends_with_newline());
    }

    #[test]
    fn escapes_above_one_sixth_are_base64() {
        let data = "\x01\x02\x03\x04ab é\n".repeat(10);
        assert_eq!(
            choose(data.as_bytes(), LineEndings::Text, Newline::Lf),
            TransferEncoding::Base64
        );
        // "é" is two bytes to escape: 12 bytes in all is exactly 1/6, 11 is more.
        let at_limit = "é0123456789".repeat(50);
        assert_eq!(
            choose(at_limit.as_bytes(), LineEndings::Text, Newline::Lf),
            TransferEncoding::QuotedPrintable
        );
        let over = "é012345678".repeat(50);
        assert_eq!(
            choose(over.as_bytes(), LineEndings::Text, Newline::Lf),
            TransferEncoding::Base64
        );
        // Control characters alone are 7bit data (RFC 2045 §2.7).
        assert_eq!(
            choose(b"\x01\x1b[0m\n", LineEndings::Text, Newline::Lf),
            TransferEncoding::SevenBit
        );
    }

    #[test]
    fn utf8_cut_at_the_end_is_invalid() {
        let mut a = Analysis::new();
        a.update("ok €".as_bytes().split_last().unwrap().1);
        assert!(a.is_utf8(), "valid so far");
        a.finish();
        assert!(!a.is_utf8());
    }

    type Facts = (
        u64,
        bool,
        bool,
        bool,
        u64,
        u64,
        [bool; 5],
        Vec<TransferEncoding>,
    );

    fn facts(a: &Analysis) -> Facts {
        let choices = [LineEndings::Text, LineEndings::Exact]
            .iter()
            .flat_map(|&e| NEWLINES.map(|n| a.choose(e, n)))
            .collect();
        let flags = [
            a.has_bare_cr(),
            a.has_bare_lf(),
            a.has_crlf(),
            a.ends_with_newline(),
            a.has_eq_underscore(),
        ];
        let basics = (a.len(), a.is_ascii(), a.is_utf8(), a.has_nul());
        (
            basics.0,
            basics.1,
            basics.2,
            basics.3,
            a.eight_bit_bytes(),
            a.max_line_len(),
            flags,
            choices,
        )
    }

    #[test]
    fn analysis_does_not_depend_on_chunking() {
        let samples: Vec<Vec<u8>> = vec![
            "é€😀 ab\r\ncd\re=_f\n\nx€😀\r".as_bytes().to_vec(),
            "naïve\r\n".repeat(40).into_bytes(),
            b"ab\xe2\x82cd\r\n".to_vec(),
            b"tail cut \xf0\x9f\x98".to_vec(),
            b"\0\xff\r\r\n\n=".to_vec(),
            noise(5000, 7),
        ];
        for data in &samples {
            let whole = facts(&Analysis::of(data));
            for size in [1, 2, 3, 64] {
                assert_eq!(
                    facts(&analyse_in(data, size)),
                    whole,
                    "size {size}: {data:?}"
                );
            }
        }
        let split = analyse_in("€".as_bytes(), 1);
        assert!(split.is_utf8() && split.eight_bit_bytes() == 3);
    }

    #[test]
    fn line_lengths_count_cr_lf_and_crlf_as_line_ends() {
        let a = analyse_in(b"abc\r\nabcdef\rab\nabcd", 1);
        assert_eq!(a.max_line_len(), 6);
        assert!(a.has_bare_cr() && a.has_bare_lf() && a.has_crlf() && !a.ends_with_newline());
    }

    // ---- Base64 ----

    fn base64_in(data: &[u8], newline: Newline, sizes: &[usize]) -> Vec<u8> {
        let mut w = Base64Writer::new(Vec::new(), newline);
        write_in(&mut w, data, sizes);
        w.finish().unwrap()
    }

    fn expected_base64(data: &[u8], newline: Newline) -> Vec<u8> {
        let flat = STANDARD.encode(data).into_bytes();
        flat.chunks(76).collect::<Vec<_>>().join(newline.as_bytes())
    }

    fn check_base64(data: &[u8], out: &[u8], newline: Newline) {
        assert_eq!(out, expected_base64(data, newline), "length {}", data.len());
        let lines = split_lines(out, newline);
        let (last, full) = lines.split_last().unwrap();
        assert!(full.iter().all(|l| l.len() == 76) && last.len() <= 76);
        assert_eq!(STANDARD.decode(lines.concat()).unwrap(), data);
    }

    #[test]
    fn base64_matches_the_base64_crate_for_short_inputs() {
        let data = noise(200, 3);
        for newline in NEWLINES {
            for len in 0..=200 {
                for size in SIZES {
                    let input = &data[..len];
                    check_base64(input, &base64_in(input, newline, &[size]), newline);
                }
            }
        }
        assert!(base64_in(b"", Newline::CrLf, &[1]).is_empty());
    }

    #[test]
    fn base64_matches_for_megabytes_with_mixed_writes() {
        let data = noise(3 * 1024 * 1024 + 11, 5);
        for newline in NEWLINES {
            let out = base64_in(&data, newline, &SIZES);
            check_base64(&data, &out, newline);
            assert!(!out.ends_with(b"\n"));
            assert_eq!(out, base64_in(&data, newline, &[data.len()]));
        }
    }

    /// Write sizes from 1 to `max`, from a xorshift seeded with `seed`.
    fn random_sizes(seed: u64, max: usize, count: usize) -> Vec<usize> {
        let mut x = seed | 1;
        (0..count)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % max as u64) as usize + 1
            })
            .collect()
    }

    #[test]
    fn base64_matches_for_random_buffers_cut_at_random_writes() {
        for seed in 1..=12u64 {
            let len = random_sizes(seed * 7919, 2 * B64_OUT_CAP, 1)[0] + seed as usize;
            let data = noise(len, seed);
            // Small, medium and large writes: a line cut anywhere, lines
            // that fill the output buffer exactly or not, writes bigger than it.
            let max = [3, 200, 5000, 3 * B64_OUT_CAP][seed as usize % 4];
            let sizes = random_sizes(seed, max, 64);
            for newline in NEWLINES {
                check_base64(&data, &base64_in(&data, newline, &sizes), newline);
            }
        }
        // The output buffer filled to the last byte, and writes of whole lines.
        for lines in [
            1,
            2,
            B64_OUT_CAP / 77,
            B64_OUT_CAP / 78,
            B64_OUT_CAP / 78 + 1,
        ] {
            for extra in [0, 1, LINE_IN - 1] {
                let data = noise(lines * LINE_IN + extra, 3);
                for newline in NEWLINES {
                    let out = base64_in(&data, newline, &[LINE_IN, lines * LINE_IN]);
                    check_base64(&data, &out, newline);
                }
            }
        }
    }

    // ---- Quoted-printable ----

    fn qp_in(data: &[u8], newline: Newline, endings: LineEndings, sizes: &[usize]) -> Vec<u8> {
        let mut w = QuotedPrintableWriter::new(Vec::new(), newline, endings);
        write_in(&mut w, data, sizes);
        w.finish().unwrap()
    }

    /// Decodes line by line with the quoted_printable crate, hard breaks
    /// becoming `newline` (the crate alone would make them CRLF).
    fn qp_decode(out: &[u8], newline: Newline) -> Vec<u8> {
        let lines = split_lines(out, newline);
        let mut decoded = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            decoded.extend(quoted_printable::decode(line, ParseMode::Robust).unwrap());
            if i + 1 < lines.len() && !line.ends_with(b"=") {
                decoded.extend_from_slice(newline.as_bytes());
            }
        }
        decoded
    }

    fn check_qp_lines(out: &[u8], newline: Newline) {
        for line in split_lines(out, newline) {
            assert!(
                line.len() <= 76,
                "line of {}: {:?}",
                line.len(),
                String::from_utf8_lossy(line)
            );
            let ok = |&b: &u8| (b' '..=b'~').contains(&b) || b == b'\t';
            assert!(line.iter().all(ok), "{line:?}");
            assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"));
            assert!(!line.starts_with(b"From "));
        }
    }

    /// Encodes whole and in several chunkings, checks the output is the
    /// same, well formed, and decodes back to `expected`.
    fn qp_round_trip(data: &[u8], newline: Newline, endings: LineEndings) -> Vec<u8> {
        let out = qp_in(data, newline, endings, &[data.len().max(1)]);
        for sizes in [&[1][..], &[2], &[3], &[5], &SIZES] {
            assert_eq!(qp_in(data, newline, endings, sizes), out, "sizes {sizes:?}");
        }
        check_qp_lines(&out, newline);
        let expected = match endings {
            LineEndings::Exact => data.to_vec(),
            LineEndings::Text => normalised(data, newline),
        };
        assert_eq!(
            qp_decode(&out, newline),
            expected,
            "{:?}",
            String::from_utf8_lossy(&out)
        );
        out
    }

    fn qp_round_trip_all(data: &[u8]) {
        for newline in NEWLINES {
            for endings in [LineEndings::Text, LineEndings::Exact] {
                qp_round_trip(data, newline, endings);
            }
        }
    }

    #[test]
    fn qp_round_trips_binary_without_nul() {
        let mut data = noise(20_000, 11);
        data.iter_mut().filter(|b| **b == 0).for_each(|b| *b = 1);
        for newline in NEWLINES {
            qp_round_trip(&data, newline, LineEndings::Exact);
        }
        let all: Vec<u8> = (1..=255).collect();
        qp_round_trip_all(&all);
    }

    #[test]
    fn qp_exact_keeps_crlf_text_exact() {
        let text = b"line one\r\nline two\rthree\nfour\r\n\r\n";
        let lf = qp_round_trip(text, Newline::Lf, LineEndings::Exact);
        assert!(lf.starts_with(b"line one=0D\nline two=0Dthree\n"));
        let crlf = qp_round_trip(text, Newline::CrLf, LineEndings::Exact);
        assert!(crlf.starts_with(b"line one\r\nline two=0Dthree=0Afour\r\n"));
        assert_eq!(
            qp_in(b"a\r\nb", Newline::Lf, LineEndings::Exact, &[4]),
            b"a=0D\nb"
        );
        // The crate's own whole-text decoding makes every hard break CRLF.
        let decoded = quoted_printable::decode(&crlf, ParseMode::Strict).unwrap();
        assert_eq!(decoded, text);
    }

    #[test]
    fn qp_text_normalises_line_ends() {
        let text = b"a\rb\nc\r\nd\r\r\n";
        let out = qp_round_trip(text, Newline::Lf, LineEndings::Text);
        assert_eq!(out, b"a\nb\nc\nd\n\n");
        let out = qp_round_trip(text, Newline::CrLf, LineEndings::Text);
        assert_eq!(out, b"a\r\nb\r\nc\r\nd\r\n\r\n");
    }

    #[test]
    fn qp_escapes_trailing_white_space() {
        let text = b"tail  \nmore\t\r\nsoft \t";
        let out = qp_in(text, Newline::Lf, LineEndings::Text, &[1]);
        assert_eq!(out, b"tail =20\nmore=09\nsoft =09");
        qp_round_trip_all(text);
        qp_round_trip_all(b" ");
        qp_round_trip_all(b"   \n   \r\n\t");
    }

    #[test]
    fn qp_breaks_long_lines_softly() {
        let long: Vec<u8> = (0..5000).map(|i| b'a' + (i % 26) as u8).collect();
        qp_round_trip_all(&long);
        let out = qp_in(&long, Newline::Lf, LineEndings::Text, &[7]);
        assert!(
            split_lines(&out, Newline::Lf)
                .iter()
                .rev()
                .skip(1)
                .all(|l| l.ends_with(b"="))
        );
        let escaped = "é".repeat(2000);
        qp_round_trip_all(escaped.as_bytes());
    }

    #[test]
    fn qp_lines_of_75_76_77_characters() {
        for len in 70..=80 {
            let line = vec![b'x'; len];
            let mut text = line.clone();
            text.extend_from_slice(b"\n");
            text.extend_from_slice(&line);
            let out = qp_round_trip(&text, Newline::Lf, LineEndings::Text);
            let soft = out.iter().filter(|&&b| b == b'=').count();
            assert_eq!(soft, if len <= 76 { 0 } else { 2 }, "len {len}");
            // A space that would be the 76th character before a break is escaped instead.
            let mut spaced = vec![b'x'; len];
            spaced.extend_from_slice(b" \nz ");
            qp_round_trip_all(&spaced);
            let mut eq = vec![b'x'; len];
            eq.extend_from_slice(b"=\r\n=");
            qp_round_trip_all(&eq);
        }
    }

    #[test]
    fn qp_protects_from_lines() {
        let text = b"From me\nFrom\nFromage\n>From x\nFrom ";
        let out = qp_round_trip(text, Newline::Lf, LineEndings::Text);
        assert_eq!(out, b"=46rom me\nFrom\nFromage\n>From x\n=46rom=20");
        // After a soft break, too.
        let mut soft = vec![b'y'; 75];
        soft.extend_from_slice(b"From here");
        let out = qp_round_trip(&soft, Newline::Lf, LineEndings::Text);
        assert!(
            out.ends_with(b"=\n=46rom here"),
            "{:?}",
            String::from_utf8_lossy(&out)
        );
        qp_round_trip_all(b".\n.\r\n..\n");
    }

    #[test]
    fn qp_escapes_equals_signs() {
        let out = qp_round_trip(b"a=b==\n=", Newline::Lf, LineEndings::Exact);
        assert_eq!(out, b"a=3Db=3D=3D\n=3D");
        assert!(memchr::memmem::find(&out, b"=_").is_none());
    }

    #[test]
    fn qp_round_trips_noise_of_every_kind() {
        let base = noise(4000, 21);
        let alphabet = b" \t\r\n=Fabc.\xc3\xa9\x01";
        let text: Vec<u8> = base
            .iter()
            .map(|&b| alphabet[b as usize % alphabet.len()])
            .collect();
        qp_round_trip_all(&text);
        qp_round_trip_all(b"");
    }

    // ---- 7bit ----

    fn seven_in(chunks: &[&[u8]], newline: Newline, endings: LineEndings) -> io::Result<Vec<u8>> {
        let mut w = SevenBitWriter::new(Vec::new(), newline, endings);
        for chunk in chunks {
            w.write_all(chunk)?;
        }
        w.finish()
    }

    #[test]
    fn seven_bit_normalises_line_ends_split_across_writes() {
        let chunks: [&[u8]; 6] = [b"a\r", b"\nb\r", b"\r", b"\n", b"c\n", b"\r"];
        let lf = seven_in(&chunks, Newline::Lf, LineEndings::Text).unwrap();
        assert_eq!(lf, b"a\nb\n\nc\n\n");
        let crlf = seven_in(&chunks, Newline::CrLf, LineEndings::Text).unwrap();
        assert_eq!(crlf, b"a\r\nb\r\n\r\nc\r\n\r\n");
        let exact = seven_in(&chunks, Newline::Lf, LineEndings::Exact).unwrap();
        assert_eq!(exact, chunks.concat());
    }

    #[test]
    fn seven_bit_rejects_content_that_changed() {
        let err = seven_in(&[b"ok\n", b"caf\xc3\xa9"], Newline::Lf, LineEndings::Text);
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let err = seven_in(&[b"a\0b"], Newline::Lf, LineEndings::Exact);
        assert_eq!(err.unwrap_err().kind(), io::ErrorKind::InvalidData);
        let mut eight =
            SevenBitWriter::new(Vec::new(), Newline::Lf, LineEndings::Text).allow_8bit();
        eight.write_all(b"caf\xc3\xa9\r\n").unwrap();
        assert_eq!(eight.finish().unwrap(), b"caf\xc3\xa9\n");
    }

    // ---- copy_encoded ----

    #[test]
    fn copy_encoded_matches_the_writers() {
        let data = b"Voil\xc3\xa0 =_ From x\r\nline two \n".repeat(5000);
        let run = |enc| {
            copy_encoded(
                &mut &data[..],
                Vec::new(),
                enc,
                LineEndings::Text,
                Newline::CrLf,
            )
            .unwrap()
        };
        assert_eq!(
            run(TransferEncoding::Base64),
            base64_in(&data, Newline::CrLf, &[data.len()])
        );
        let qp = qp_in(&data, Newline::CrLf, LineEndings::Text, &[data.len()]);
        assert_eq!(run(TransferEncoding::QuotedPrintable), qp);
        assert_eq!(
            run(TransferEncoding::EightBit),
            normalised(&data, Newline::CrLf)
        );
        let seven = copy_encoded(
            &mut &b"a\nb"[..],
            Vec::new(),
            TransferEncoding::SevenBit,
            LineEndings::Text,
            Newline::CrLf,
        );
        assert_eq!(seven.unwrap(), b"a\r\nb");
    }

    #[test]
    fn encoders_write_in_large_chunks() {
        struct Count(usize);
        impl Write for Count {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0 += 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let data = noise(1 << 20, 9);
        let mut b64 = Base64Writer::new(Count(0), Newline::CrLf);
        write_in(&mut b64, &data, &[100]);
        assert!(b64.finish().unwrap().0 <= 30);
        let mut qp = QuotedPrintableWriter::new(Count(0), Newline::CrLf, LineEndings::Exact);
        write_in(&mut qp, &data, &[100]);
        assert!(qp.finish().unwrap().0 <= 60);
    }

    /// Throughput, by hand: `cargo test --release --lib encode -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let size = 256 << 20;
        let binary = noise(size, 13);
        let text = "Voilà une ligne de texte ordinaire, comme dans un courriel.\n"
            .repeat(size / 60)
            .into_bytes();
        let time = |name: &str, data: &[u8], encoding| {
            let start = std::time::Instant::now();
            let reader = &mut &data[..];
            copy_encoded(
                reader,
                io::sink(),
                encoding,
                LineEndings::Text,
                Newline::CrLf,
            )
            .unwrap();
            let secs = start.elapsed().as_secs_f64();
            let rate = data.len() as f64 / secs / 1e6;
            println!(
                "{name}: {} MiB in {secs:.3} s = {rate:.0} MB/s",
                data.len() >> 20
            );
        };
        time("base64", &binary, TransferEncoding::Base64);
        time(
            "quoted-printable (French text)",
            &text,
            TransferEncoding::QuotedPrintable,
        );
        time(
            "quoted-printable (binary)",
            &binary,
            TransferEncoding::QuotedPrintable,
        );
        time("7bit text", &text, TransferEncoding::EightBit);
        let start = std::time::Instant::now();
        let mut gib = io::repeat(b'x').take(1 << 30);
        copy_encoded(
            &mut gib,
            io::sink(),
            TransferEncoding::Base64,
            LineEndings::Exact,
            Newline::Lf,
        )
        .unwrap();
        println!(
            "base64, 1 GiB streamed: {:.3} s",
            start.elapsed().as_secs_f64()
        );
        let start = std::time::Instant::now();
        let mut a = Analysis::new();
        text.chunks(CHUNK).for_each(|c| a.update(c));
        a.finish();
        println!(
            "analysis: {:.0} MB/s",
            text.len() as f64 / start.elapsed().as_secs_f64() / 1e6
        );
    }
}
