//! Decoding what messages carry: transfer encodings (streaming), RFC 2047
//! encoded-words, RFC 2231 parameters, charsets, uuencode, and HTML as text.
//!
//! Everything here reads hostile mail: no input makes it panic, every
//! function runs in time linear in its input, and the streaming decoders
//! hold a bounded amount of memory whatever they are fed. Malformed input
//! is decoded as far as it goes, the way real mail readers do, and the
//! problems met are reported as [`Damage`] rather than as errors.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use encoding_rs::{Encoding, REPLACEMENT, WINDOWS_1252};
use memchr::{memchr, memchr3, memchr3_iter};

// ---- damage ----

/// Problems met while decoding; decoding always goes on as far as it can.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Damage {
    /// Characters outside the base64 alphabet, skipped.
    pub invalid_chars: u64,
    /// Base64 padding missing, misplaced or too long.
    pub bad_padding: bool,
    /// Non-space characters after the base64 padding, ignored.
    pub after_padding: u64,
    /// The base64 data ended one character into a quantum; that character was dropped.
    pub truncated: bool,
    /// Malformed quoted-printable "=" sequences, kept as they are.
    pub bad_escapes: u64,
}

impl Damage {
    /// Whether nothing went wrong.
    pub fn is_clean(&self) -> bool {
        *self == Damage::default()
    }

    /// The damage as one line for a warning, e.g. "2 invalid base64
    /// characters skipped, bad base64 padding"; "clean" when there is none.
    pub fn describe(&self) -> String {
        let count = |n: u64, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if self.invalid_chars > 0 {
            parts.push(count(self.invalid_chars, "invalid base64 character") + " skipped");
        }
        if self.bad_padding {
            parts.push("bad base64 padding".to_string());
        }
        if self.after_padding > 0 {
            parts
                .push(count(self.after_padding, "character") + " after the base64 padding ignored");
        }
        if self.truncated {
            parts.push("base64 cut inside a quantum (1 character dropped)".to_string());
        }
        if self.bad_escapes > 0 {
            parts.push(count(self.bad_escapes, "malformed quoted-printable escape") + " kept");
        }
        if parts.is_empty() {
            return "clean".to_string();
        }
        parts.join(", ")
    }
}

// ---- base64 ----

/// [`B64_VALUES`] entry of a character outside the alphabet.
const B64_INVALID: u8 = 0xFF;
/// [`B64_VALUES`] entry of white space and line ends, ignored (RFC 2045 §6.8).
const B64_SPACE: u8 = 0xFE;
/// [`B64_VALUES`] entry of the pad character '='.
const B64_PAD: u8 = 0xFD;

/// For each byte, its 6-bit value in the base64 alphabet (RFC 2045 table 1), or one of the markers above.
const B64_VALUES: [u8; 256] = b64_values();

const fn b64_values() -> [u8; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut values = [B64_INVALID; 256];
    let mut i = 0;
    while i < 64 {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values[b' ' as usize] = B64_SPACE;
    values[b'\t' as usize] = B64_SPACE;
    values[b'\r' as usize] = B64_SPACE;
    values[b'\n' as usize] = B64_SPACE;
    values[b'=' as usize] = B64_PAD;
    values
}

/// Input handled at once by the base64 fast path: bounds its buffers.
const B64_BLOCK: usize = 64 * 1024;

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
type FastEngine = base64::engine::Simd;
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
type FastEngine = base64::engine::GeneralPurpose;

/// The engine of the base64 fast path, made once (it detects the CPU's SIMD instructions).
fn engine() -> &'static FastEngine {
    static ENGINE: std::sync::OnceLock<FastEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(fast_engine)
}

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
fn fast_engine() -> FastEngine {
    base64::engine::Simd::standard(base64::engine::general_purpose::PAD)
}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
fn fast_engine() -> FastEngine {
    base64::engine::general_purpose::STANDARD
}

/// Streaming base64 decoder (RFC 2045 §6.8), tolerant like real mail
/// readers: white space and line ends are ignored; other characters
/// outside the alphabet are skipped; missing padding is tolerated; what
/// follows the '=' padding is ignored; a final quantum of 2 or 3 characters
/// is decoded and a lone final character dropped. Each of these but the
/// first is counted in [`damage`](Self::damage).
///
/// Runs of whole quanta are decoded at once by the `base64` crate's SIMD
/// engine; only the characters around damage go one by one.
#[derive(Debug, Clone)]
pub struct Base64Decoder {
    /// The 6-bit values of the quantum begun, `held` of them.
    quad: [u8; 4],
    held: usize,
    /// Where the stream is: data, padding, or after it.
    padding: Padding,
    /// Characters of the current block without line ends, for the fast path.
    compact: Vec<u8>,
    /// Output of the fast path before it is appended, allocated once.
    decoded: Vec<u8>,
    damage: Damage,
}

impl Default for Base64Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Base64Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Base64Decoder {
            quad: [0; 4],
            held: 0,
            padding: Padding::Data,
            compact: Vec::new(),
            decoded: Vec::new(),
            damage: Damage::default(),
        }
    }

    /// Decodes `input`, appending the bytes to `out`. Any chunking of the
    /// stream gives the same output and damage.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for block in input.chunks(B64_BLOCK) {
            if self.padding != Padding::Data {
                self.slow(block, out);
                continue;
            }
            let mut compact = std::mem::take(&mut self.compact);
            let used = compact_block(block, &mut compact);
            self.decode_run(&compact, out);
            self.compact = compact;
            self.slow(&block[used..], out);
        }
    }

    /// Ends the stream: decodes a held partial quantum and notes missing
    /// padding. The decoder then starts a new stream, keeping its damage.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match (self.padding, self.held) {
            (Padding::Pads(wanted), _) => self.damage.bad_padding |= wanted > 0,
            (Padding::After, _) | (Padding::Data, 0) => {}
            (Padding::Data, 1) => self.damage.truncated = true,
            (Padding::Data, _) => {
                self.flush_partial(out);
                self.damage.bad_padding = true;
            }
        }
        self.held = 0;
        self.padding = Padding::Data;
    }

    /// The problems met so far.
    pub fn damage(&self) -> &Damage {
        &self.damage
    }

    /// Decodes characters without line ends or '=' (the fast path's input).
    fn decode_run(&mut self, chars: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < chars.len() {
            // A quantum begun (or broken) goes character by character.
            if self.held > 0 {
                self.slow(&chars[i..i + 1], out);
                i += 1;
                continue;
            }
            let whole = (chars.len() - i) / 4 * 4;
            if whole == 0 {
                self.slow(&chars[i..], out);
                return;
            }
            let used = self.fast(&chars[i..i + whole], out);
            i += used;
            if used < whole {
                // The quantum holding an invalid character starts here.
                self.slow(&chars[i..i + 1], out);
                i += 1;
            }
        }
    }

    /// Decodes whole quanta of `run` (a multiple of 4 characters) at once;
    /// returns how many characters it used: all, or those before the
    /// quantum that holds the first character outside the alphabet.
    fn fast(&mut self, run: &[u8], out: &mut Vec<u8>) -> usize {
        if self.decode_quanta(run, out) {
            return run.len();
        }
        let bad = run.iter().position(|&c| B64_VALUES[usize::from(c)] >= 64);
        let start = bad.map_or(run.len(), |at| at / 4 * 4);
        if !self.decode_quanta(&run[..start], out) {
            // Cannot happen (the prefix is all alphabet), but stay correct.
            self.slow(&run[..start], out);
        }
        if bad.is_none() {
            self.slow(&run[start..], out);
            return run.len();
        }
        start
    }

    /// Decodes `run` (whole quanta) with the engine; false if it has a
    /// character outside the alphabet, nothing appended then.
    fn decode_quanta(&mut self, run: &[u8], out: &mut Vec<u8>) -> bool {
        let len = run.len() / 4 * 3;
        if self.decoded.len() < len {
            self.decoded.resize(len, 0);
        }
        match engine().decode_slice(run, &mut self.decoded[..len]) {
            Ok(n) => {
                out.extend_from_slice(&self.decoded[..n]);
                true
            }
            Err(_) => false,
        }
    }

    /// Decodes character by character: the reference the fast path follows.
    fn slow(&mut self, chars: &[u8], out: &mut Vec<u8>) {
        for &c in chars {
            match (B64_VALUES[usize::from(c)], self.padding) {
                (B64_SPACE, _) => {}
                (B64_PAD, Padding::Data) => self.start_padding(out),
                (B64_PAD, Padding::Pads(0)) => self.damage.bad_padding = true,
                (B64_PAD, Padding::Pads(n)) => self.padding = Padding::Pads(n - 1),
                (_, Padding::Pads(wanted)) => {
                    self.damage.bad_padding |= wanted > 0;
                    self.damage.after_padding += 1;
                    self.padding = Padding::After;
                }
                (_, Padding::After) => self.damage.after_padding += 1,
                (B64_INVALID, Padding::Data) => self.damage.invalid_chars += 1,
                (value, Padding::Data) => self.push_sextet(value, out),
            }
        }
    }

    fn push_sextet(&mut self, value: u8, out: &mut Vec<u8>) {
        self.quad[self.held] = value;
        self.held += 1;
        if self.held == 4 {
            let n = self.quantum();
            out.extend_from_slice(&n.to_be_bytes()[1..]);
            self.held = 0;
        }
    }

    /// The first '=': it ends the data (RFC 2045 §6.8) after 2 or 3
    /// characters of a quantum, which then want 2 or 1 pad characters.
    fn start_padding(&mut self, out: &mut Vec<u8>) {
        let wanted = match self.held {
            2 => 1,
            3 => 0,
            held => {
                self.damage.truncated |= held == 1;
                self.damage.bad_padding = true;
                0
            }
        };
        self.flush_partial(out);
        self.padding = Padding::Pads(wanted);
    }

    /// Decodes a quantum of 2 or 3 characters into 1 or 2 bytes; a lone character is dropped.
    fn flush_partial(&mut self, out: &mut Vec<u8>) {
        let n = self.quantum().to_be_bytes();
        if self.held >= 2 {
            out.extend_from_slice(&n[1..self.held]);
        }
        self.held = 0;
    }

    /// The held characters as 24 bits, missing ones as zeros.
    fn quantum(&self) -> u32 {
        let [a, b, c, d] = self.quad.map(u32::from);
        let c = if self.held > 2 { c } else { 0 };
        let d = if self.held > 3 { d } else { 0 };
        a << 18 | b << 12 | c << 6 | d
    }
}

/// Where a base64 stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Padding {
    /// Before any '='.
    Data,
    /// Inside the padding, wanting this many more '='.
    Pads(u8),
    /// After the padding and something else: all is ignored.
    After,
}

/// Copies `block` into `compact` without CR and LF, up to the first '=';
/// returns how many bytes of `block` that covered.
fn compact_block(block: &[u8], compact: &mut Vec<u8>) -> usize {
    compact.clear();
    let mut start = 0;
    for at in memchr3_iter(b'\r', b'\n', b'=', block) {
        compact.extend_from_slice(&block[start..at]);
        if block[at] == b'=' {
            return at;
        }
        start = at + 1;
    }
    compact.extend_from_slice(&block[start..]);
    block.len()
}

// ---- quoted-printable ----

/// Most trailing white space a line loses (RFC 2045 §6.7 rule 3): a longer
/// run keeps its start, which bounds the memory held.
const QP_MAX_TRAILING: usize = 1024;

/// Where a quoted-printable "=" sequence stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Escape {
    #[default]
    None,
    /// An "=" was read, maybe followed by white space (held).
    Eq,
    /// "=" and one hexadecimal digit were read.
    EqHex(u8),
}

/// Streaming quoted-printable decoder (RFC 2045 §6.7): "=XX" (hex in
/// either case) is decoded; a soft line break ("=" before a line end, even
/// with white space between) is removed, as is an "=" at the very end of
/// the content (a body part ends with a soft break when the content did not
/// end with a line end); white space at the end of a line is removed (rule
/// 3; at most 1024 bytes of it); other "=" sequences are kept as they are
/// and counted as damage. Line ends (LF or CRLF) are output as they come;
/// a CR alone is data. Any chunking gives the same output and damage.
#[derive(Debug, Clone, Default)]
pub struct QuotedPrintableDecoder {
    escape: Escape,
    /// White space not known yet to be trailing, at most 2 × [`QP_MAX_TRAILING`].
    held: Vec<u8>,
    /// A CR was read; whether an LF follows is not known yet.
    cr: bool,
    damage: Damage,
}

impl QuotedPrintableDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes `input`, appending the bytes to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < input.len() {
            if self.escape != Escape::None || self.cr {
                self.step(input[i], out);
                i += 1;
                continue;
            }
            let end = memchr3(b'=', b'\r', b'\n', &input[i..]).map_or(input.len(), |k| i + k);
            self.text_run(&input[i..end], out);
            if let Some(&b) = input.get(end) {
                self.step(b, out);
            }
            i = end + 1;
        }
    }

    /// Ends the stream: held white space is trailing, a held "=" a soft break.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.cr) {
            self.literal(b'\r', out);
        }
        self.line_end(b"", out);
    }

    /// The problems met so far.
    pub fn damage(&self) -> &Damage {
        &self.damage
    }

    /// Bytes without '=', CR or LF: all literal, but white space at the end may be trailing.
    fn text_run(&mut self, run: &[u8], out: &mut Vec<u8>) {
        match run.iter().rposition(|&b| !is_wsp(b)) {
            Some(last) => {
                out.append(&mut self.held);
                out.extend_from_slice(&run[..=last]);
                self.hold(&run[last + 1..], out);
            }
            None => self.hold(run, out),
        }
    }

    /// Decodes one byte: the reference that [`text_run`](Self::text_run) follows.
    fn step(&mut self, b: u8, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.cr) {
            if b == b'\n' {
                return self.line_end(b"\r\n", out);
            }
            self.literal(b'\r', out);
        }
        match self.escape {
            Escape::EqHex(h) => match hex_pair(h, b) {
                Some(byte) => {
                    self.escape = Escape::None;
                    return out.push(byte);
                }
                None => self.resolve(out),
            },
            Escape::Eq if self.held.is_empty() && b.is_ascii_hexdigit() => {
                self.escape = Escape::EqHex(b);
                return;
            }
            _ => {}
        }
        match b {
            b' ' | b'\t' => self.hold(&[b], out),
            b'\n' => self.line_end(b"\n", out),
            b'\r' => self.cr = true,
            b'=' => {
                self.resolve(out);
                self.escape = Escape::Eq;
            }
            _ => self.literal(b, out),
        }
    }

    fn literal(&mut self, b: u8, out: &mut Vec<u8>) {
        self.resolve(out);
        out.push(b);
    }

    /// Something other than a line end follows: a pending "=" sequence is
    /// malformed and kept, held white space is data.
    fn resolve(&mut self, out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.escape, Escape::None) {
            Escape::None => {}
            Escape::Eq => self.bad_escape(b"=", out),
            Escape::EqHex(h) => self.bad_escape(&[b'=', h], out),
        }
        out.append(&mut self.held);
    }

    fn bad_escape(&mut self, kept: &[u8], out: &mut Vec<u8>) {
        self.damage.bad_escapes += 1;
        out.extend_from_slice(kept);
    }

    fn hold(&mut self, space: &[u8], out: &mut Vec<u8>) {
        self.held.extend_from_slice(space);
        if self.held.len() > 2 * QP_MAX_TRAILING {
            self.trim_held(out);
        }
    }

    /// Outputs all but the last [`QP_MAX_TRAILING`] bytes of held white
    /// space: white space that cannot all be trailing. An "=" before it is
    /// then not a soft break.
    fn trim_held(&mut self, out: &mut Vec<u8>) {
        let Some(excess) = self.held.len().checked_sub(QP_MAX_TRAILING) else {
            return;
        };
        if self.escape == Escape::Eq {
            self.escape = Escape::None;
            self.bad_escape(b"=", out);
        }
        out.extend(self.held.drain(..excess));
    }

    /// A line ends (with `newline`, or the content does): trailing white
    /// space goes, a pending "=" makes the break soft.
    fn line_end(&mut self, newline: &[u8], out: &mut Vec<u8>) {
        if self.held.len() > QP_MAX_TRAILING {
            self.trim_held(out);
        }
        self.held.clear();
        match std::mem::replace(&mut self.escape, Escape::None) {
            Escape::Eq => {}
            Escape::EqHex(h) => {
                self.bad_escape(&[b'=', h], out);
                out.extend_from_slice(newline);
            }
            Escape::None => out.extend_from_slice(newline),
        }
    }
}

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The byte that two hexadecimal digits (either case) stand for.
fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

// ---- body decoder ----

/// Decodes the content of one body part by its Content-Transfer-Encoding.
#[derive(Debug, Clone)]
pub enum BodyDecoder {
    /// 7bit, 8bit, binary or an unknown encoding: the content as it is.
    Identity,
    /// base64 (RFC 2045 §6.8).
    Base64(Base64Decoder),
    /// quoted-printable (RFC 2045 §6.7).
    QuotedPrintable(QuotedPrintableDecoder),
}

impl BodyDecoder {
    /// The decoder for a Content-Transfer-Encoding value: its first word,
    /// case-insensitive; absent or unknown ones (x-uuencode included: see
    /// [`UuScanner`]) copy the content.
    pub fn for_encoding(cte: Option<&str>) -> BodyDecoder {
        let word = cte
            .unwrap_or("")
            .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
            .find(|w| !w.is_empty())
            .unwrap_or("");
        if word.eq_ignore_ascii_case("base64") {
            BodyDecoder::Base64(Base64Decoder::new())
        } else if word.eq_ignore_ascii_case("quoted-printable") {
            BodyDecoder::QuotedPrintable(QuotedPrintableDecoder::new())
        } else {
            BodyDecoder::Identity
        }
    }

    /// Decodes the next chunk of content, appending to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        match self {
            BodyDecoder::Identity => out.extend_from_slice(input),
            BodyDecoder::Base64(d) => d.feed(input, out),
            BodyDecoder::QuotedPrintable(d) => d.feed(input, out),
        }
    }

    /// Ends the content, appending what was held back.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self {
            BodyDecoder::Identity => {}
            BodyDecoder::Base64(d) => d.finish(out),
            BodyDecoder::QuotedPrintable(d) => d.finish(out),
        }
    }

    /// The problems met so far; None when the content is copied.
    pub fn damage(&self) -> Option<&Damage> {
        match self {
            BodyDecoder::Identity => None,
            BodyDecoder::Base64(d) => Some(d.damage()),
            BodyDecoder::QuotedPrintable(d) => Some(d.damage()),
        }
    }
}

// ---- charsets ----

/// The encoding for a charset label (WHATWG labels, as encoding_rs knows
/// them), leaving out the "replacement" encoding, which would turn the
/// text into one U+FFFD.
fn encoding_for(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).filter(|&e| e != REPLACEMENT)
}

/// Whether `label` names US-ASCII (RFC 2046 §4.1.2, the default charset).
fn is_ascii_label(label: &str) -> bool {
    [
        "",
        "us-ascii",
        "ascii",
        "ansi_x3.4-1968",
        "csascii",
        "iso646-us",
        "us",
    ]
    .iter()
    .any(|l| label.eq_ignore_ascii_case(l))
}

/// Labels that say the charset is not known (RFC 1428 "unknown-8bit").
fn is_unknown_label(label: &str) -> bool {
    ["unknown-8bit", "x-unknown", "unknown"]
        .iter()
        .any(|l| label.eq_ignore_ascii_case(l))
}

/// Whether [`to_utf8`] knows this charset label: a WHATWG label
/// (encoding_rs), "utf-8" and "us-ascii" included.
pub fn is_known_charset(label: &str) -> bool {
    let label = label.trim();
    !label.is_empty() && (is_ascii_label(label) || encoding_for(label).is_some())
}

/// Converts text in `charset` to UTF-8. Returns the text and whether the
/// conversion is certain: the charset known and the bytes valid in it
/// (false: the caller should warn).
///
/// - None, "us-ascii" and its aliases: UTF-8 (8-bit text labelled ASCII is
///   UTF-8 more often than not), else windows-1252 (false).
/// - "unknown-8bit", "x-unknown": the same guess, certain only for ASCII.
/// - Labels encoding_rs knows (WHATWG: "iso-8859-1" is windows-1252): that
///   encoding, invalid sequences as U+FFFD (false); a BOM of that encoding removed.
/// - Other labels (and the WHATWG "replacement" ones, e.g. iso-2022-kr):
///   UTF-8, invalid sequences as U+FFFD (false).
pub fn to_utf8(bytes: &[u8], charset: Option<&str>) -> (String, bool) {
    let label = charset.map_or("", str::trim);
    if is_ascii_label(label) {
        return utf8_or_windows_1252(bytes);
    }
    if is_unknown_label(label) {
        return (utf8_or_windows_1252(bytes).0, bytes.is_ascii());
    }
    match encoding_for(label) {
        Some(encoding) => {
            let (text, errors) = encoding.decode_with_bom_removal(bytes);
            (text.into_owned(), !errors)
        }
        None => (String::from_utf8_lossy(bytes).into_owned(), false),
    }
}

/// UTF-8 if the bytes are valid UTF-8 (true), else windows-1252 (false).
fn utf8_or_windows_1252(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), true),
        Err(_) => (windows_1252(bytes).into_owned(), false),
    }
}

fn windows_1252(bytes: &[u8]) -> Cow<'_, str> {
    WINDOWS_1252.decode_without_bom_handling(bytes).0
}

// ---- RFC 2047 ----

/// One encoded-word (RFC 2047 §2): its charset and decoded bytes, and its length in the text.
struct EncodedWord<'a> {
    charset: &'a str,
    bytes: Vec<u8>,
    len: usize,
}

/// The encoded-word `text` starts with ("=?charset?B|Q?text?="), if well formed.
///
/// The encoded text may hold spaces (a common violation) but no '?': each
/// attempt reads at most to the third '?', which keeps
/// [`decode_header_text`] linear.
fn encoded_word(text: &str) -> Option<EncodedWord<'_>> {
    let rest = text.strip_prefix("=?")?;
    let (charset, rest) = rest.split_once('?')?;
    let valid_charset = !charset.is_empty() && charset.bytes().all(|b| b.is_ascii_graphic());
    let (&[kind, b'?'], encoded) = (rest.as_bytes().get(..2)?, rest.get(2..)?) else {
        return None;
    };
    let end = encoded.find('?')?;
    if !valid_charset || !encoded[end..].starts_with("?=") {
        return None;
    }
    let len = "=?".len() + charset.len() + "?B?".len() + end + "?=".len();
    let encoded = &encoded[..end];
    let bytes = match kind {
        b'B' | b'b' => decode_b(encoded)?,
        b'Q' | b'q' => decode_q(encoded),
        _ => return None,
    };
    // An RFC 2231 §5 language suffix: "utf-8*en".
    let charset = charset.split('*').next().unwrap_or(charset);
    Some(EncodedWord {
        charset,
        bytes,
        len,
    })
}

/// The "B" encoding (RFC 2047 §4.1); None if it holds characters outside base64.
fn decode_b(encoded: &str) -> Option<Vec<u8>> {
    let mut decoder = Base64Decoder::new();
    let mut bytes = Vec::new();
    decoder.feed(encoded.as_bytes(), &mut bytes);
    decoder.finish(&mut bytes);
    (decoder.damage().invalid_chars == 0).then_some(bytes)
}

/// The "Q" encoding (RFC 2047 §4.2): "_" is a space, "=XX" a byte; a malformed "=" stays.
fn decode_q(encoded: &str) -> Vec<u8> {
    let b = encoded.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let escaped = match (c, b.get(i + 1), b.get(i + 2)) {
            (b'=', Some(&hi), Some(&lo)) => hex_pair(hi, lo),
            _ => None,
        };
        match (c, escaped) {
            (_, Some(byte)) => {
                bytes.push(byte);
                i += 3;
            }
            (b'_', None) => {
                bytes.push(b' ');
                i += 1;
            }
            (c, None) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    bytes
}

fn is_lws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Decoded bytes of adjacent encoded-words in one charset, converted
/// together: encoders split multi-byte characters across words.
#[derive(Default)]
struct WordRun {
    charset: String,
    bytes: Vec<u8>,
}

impl WordRun {
    fn add(&mut self, word: &EncodedWord, out: &mut String) {
        if !self.charset.eq_ignore_ascii_case(word.charset) {
            self.flush(out);
            self.charset = word.charset.to_string();
        }
        self.bytes.extend_from_slice(&word.bytes);
    }

    fn flush(&mut self, out: &mut String) {
        if !self.bytes.is_empty() {
            out.push_str(&to_utf8(&self.bytes, Some(&self.charset)).0);
            self.bytes.clear();
        }
        self.charset.clear();
    }
}

/// Decodes the RFC 2047 encoded-words in a header value.
///
/// B and Q encodings (Q's "_" is a space); charsets through [`to_utf8`]
/// (an RFC 2231 language suffix such as "utf-8*en" allowed; unknown
/// charsets as UTF-8, lossily); white space between adjacent encoded-words
/// dropped (RFC 2047 §6.2), their bytes joined before conversion when the
/// charset is the same. Malformed words stay as they are. Like mail readers,
/// it also decodes the words that RFC 2047 §5 does not allow: inside quoted
/// strings, and glued to other text.
pub fn decode_header_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = WordRun::default();
    let mut in_run = false;
    let (mut plain_start, mut search) = (0, 0);
    while let Some(at) = value[search..].find("=?").map(|k| search + k) {
        let Some(word) = encoded_word(&value[at..]) else {
            search = at + 2;
            continue;
        };
        let between = &value[plain_start..at];
        if !in_run || !between.chars().all(is_lws) {
            run.flush(&mut out);
            out.push_str(between);
        }
        run.add(&word, &mut out);
        in_run = true;
        plain_start = at + word.len;
        search = plain_start;
    }
    run.flush(&mut out);
    out.push_str(&value[plain_start..]);
    out
}

/// Raw header bytes to text: valid UTF-8 as it is (RFC 6532), otherwise
/// windows-1252 (what mail readers do with raw 8-bit headers); then
/// [`decode_header_text`].
pub fn header_text(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => decode_header_text(text),
        Err(_) => decode_header_text(&windows_1252(raw)),
    }
}

// ---- MIME parameters (RFC 2045 §5.1, RFC 2231) ----

/// A cursor over a structured header value.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Skips white space and comments (RFC 5322 §3.2.2), nested ones too.
    fn skip_cfws(&mut self) {
        let mut depth = 0usize;
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b'\\' if depth > 0 => self.pos += 1,
                _ if depth > 0 || b.is_ascii_whitespace() => {}
                _ => return,
            }
            self.pos += 1;
        }
        self.pos = self.pos.min(self.text.len());
    }

    /// A run of token characters (RFC 2045 §5.1).
    fn token(&mut self) -> &'a str {
        let rest = self.rest();
        let len = rest.bytes().take_while(|&b| is_token_byte(b)).count();
        self.pos += len;
        &rest[..len]
    }

    /// Skips to the next ';' (not consumed), past any quoted strings.
    fn skip_to_semicolon(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b';' => return,
                b'"' => {
                    self.pos += 1;
                    self.quoted();
                }
                _ => self.pos += self.rest().chars().next().map_or(1, char::len_utf8),
            }
        }
    }

    /// The content of a quoted string whose opening quote is consumed, with
    /// quoted-pairs undone; an unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        let mut value = String::new();
        let mut chars = self.rest().char_indices();
        let start = self.pos;
        while let Some((at, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = start + at + 1;
                    return value;
                }
                '\\' => value.extend(chars.next().map(|(_, c)| c)),
                _ => value.push(c),
            }
        }
        self.pos = self.text.len();
        value
    }

    /// An unquoted value: up to ';', a comment, or the next "name=" when
    /// the ';' before it is missing; spaces inside kept (a common violation).
    fn unquoted(&mut self) -> &'a str {
        let start = self.pos;
        let mut end = start;
        loop {
            let rest = self.rest();
            let len = rest
                .find(|c: char| c == ';' || c == '(' || c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            self.pos += len;
            end = end.max(self.pos);
            self.skip_cfws();
            if matches!(self.peek(), None | Some(b';')) || self.at_param() {
                return &self.text[start..end];
            }
        }
    }

    /// Whether a "name=" starts here.
    fn at_param(&self) -> bool {
        let rest = self.rest();
        let len = rest.bytes().take_while(|&b| is_token_byte(b)).count();
        len > 0 && rest[len..].trim_start().starts_with('=')
    }
}

/// RFC 2045 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// A parameter as written: its name without RFC 2231 marks (lower case),
/// section number, whether the value is percent-encoded, and the value.
struct RawParam {
    name: String,
    section: Option<u32>,
    extended: bool,
    value: String,
}

/// The leading "type/subtype" (or lone token) of a value and its parameters.
fn split_value(value: &str) -> (Option<String>, Option<String>, Vec<RawParam>) {
    let mut cursor = Cursor {
        text: value,
        pos: 0,
    };
    cursor.skip_cfws();
    let kind = cursor.token();
    cursor.skip_cfws();
    let mut subtype = None;
    if cursor.peek() == Some(b'/') {
        cursor.pos += 1;
        cursor.skip_cfws();
        subtype = Some(cursor.token().to_ascii_lowercase());
    } else if cursor.peek() == Some(b'=') {
        // No leading value at all: the first parameter starts the text.
        cursor.pos = 0;
        return (None, None, raw_params(&mut cursor));
    }
    let kind = (!kind.is_empty()).then(|| kind.to_ascii_lowercase());
    (kind, subtype, raw_params(&mut cursor))
}

fn raw_params(cursor: &mut Cursor) -> Vec<RawParam> {
    let mut params = Vec::new();
    loop {
        cursor.skip_cfws();
        match cursor.peek() {
            None => return params,
            Some(b';') => cursor.pos += 1,
            Some(_) => {
                if let Some(param) = raw_param(cursor) {
                    params.push(param);
                }
            }
        }
    }
}

/// One `name=value`; None (skipping to the next ';') when malformed.
fn raw_param(cursor: &mut Cursor) -> Option<RawParam> {
    let name = cursor.token();
    cursor.skip_cfws();
    if name.is_empty() || cursor.peek() != Some(b'=') {
        cursor.skip_to_semicolon();
        return None;
    }
    cursor.pos += 1;
    cursor.skip_cfws();
    let value = if cursor.peek() == Some(b'"') {
        cursor.pos += 1;
        cursor.quoted()
    } else {
        cursor.unquoted().to_string()
    };
    let (name, section, extended) = split_param_name(name);
    (!name.is_empty()).then(|| RawParam {
        name: name.to_ascii_lowercase(),
        section,
        extended,
        value,
    })
}

/// "name", "name*", "name*N" or "name*N*" (RFC 2231 §3, §4): the name,
/// the section number and whether the value is percent-encoded.
fn split_param_name(name: &str) -> (&str, Option<u32>, bool) {
    let (name, extended) = match name.strip_suffix('*') {
        Some(base) => (base, true),
        None => (name, false),
    };
    if let Some((base, digits)) = name.rsplit_once('*')
        && let Ok(section) = digits.parse::<u32>()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return (base, Some(section), extended);
    }
    (name, None, extended)
}

/// A parameter's values as written, gathered by name.
#[derive(Default)]
struct ParamParts {
    plain: Vec<String>,
    /// RFC 2231 sections: (number, percent-encoded, value); `name*=` is section 0.
    sections: Vec<(u32, bool, String)>,
}

/// Joins RFC 2231 sections and decodes values; names in order of first appearance.
fn assemble(raw: Vec<RawParam>) -> Vec<(String, String)> {
    let mut order: Vec<String> = Vec::new();
    let mut parts: HashMap<String, ParamParts> = HashMap::new();
    for param in raw {
        let entry = parts.entry(param.name.clone()).or_insert_with(|| {
            order.push(param.name.clone());
            ParamParts::default()
        });
        match (param.section, param.extended) {
            (None, false) => entry.plain.push(param.value),
            (section, extended) => {
                entry
                    .sections
                    .push((section.unwrap_or(0), extended, param.value))
            }
        }
    }
    let mut params = Vec::new();
    for name in order {
        let Some(mut part) = parts.remove(&name) else {
            continue;
        };
        if !part.sections.is_empty() {
            // RFC 6266 §4.3: the RFC 2231 form wins over a plain fallback.
            let value = join_sections(&mut part.sections);
            params.push((name, value));
            continue;
        }
        for value in part.plain {
            let value = legacy_encoded_words(&name, value);
            params.push((name.clone(), value));
        }
    }
    params
}

/// The value of RFC 2231 sections, in numeric order whatever the order
/// written (gaps tolerated), converted from the first section's charset.
fn join_sections(sections: &mut [(u32, bool, String)]) -> String {
    sections.sort_by_key(|s| s.0);
    let mut charset = None;
    let mut bytes = Vec::new();
    for (i, (_, extended, value)) in sections.iter().enumerate() {
        if !extended {
            bytes.extend_from_slice(value.as_bytes());
            continue;
        }
        let mut encoded = value.as_str();
        if i == 0
            && let Some((cs, rest)) = split_charset(encoded)
        {
            charset = Some(cs);
            encoded = rest;
        }
        percent_decode(encoded, &mut bytes);
    }
    to_utf8(&bytes, charset).0
}

/// "charset'language'value" (RFC 2231 §4): the charset and the value.
fn split_charset(value: &str) -> Option<(&str, &str)> {
    let (charset, rest) = value.split_once('\'')?;
    let (_language, rest) = rest.split_once('\'')?;
    Some((charset, rest))
}

/// Appends the bytes of a percent-encoded value; a malformed '%' stays.
fn percent_decode(value: &str, bytes: &mut Vec<u8>) {
    let b = value.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let escaped = match (c, b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) => hex_pair(hi, lo),
            _ => None,
        };
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                i += 3;
            }
            None => {
                bytes.push(c);
                i += 1;
            }
        }
    }
}

/// A plain value holding RFC 2047 encoded-words, which RFC 2047 §5 forbids
/// but many mailers write (`name="=?utf-8?B?...?="`): decoded, except for
/// a boundary, where "=?" is legitimate.
fn legacy_encoded_words(name: &str, value: String) -> String {
    if name == "boundary" || !value.contains("=?") {
        return value;
    }
    decode_header_text(&value)
}

/// The parameters of a Content-Type or Content-Disposition value with RFC
/// 2231 applied: sections joined in numeric order (gaps tolerated),
/// extended values (`name*=charset'lang'%XX`) decoded, plain and extended
/// sections mixed; quoted strings with quoted-pairs; comments skipped; RFC
/// 2047 encoded-words in a plain value decoded as a fallback. An RFC 2231
/// value wins over a plain one of the same name. Names are lower case.
///
/// Returns "type/subtype" in lower case, None if absent or malformed, and the parameters.
pub fn parse_mime_value(value: &str) -> (Option<String>, Vec<(String, String)>) {
    let (kind, subtype, raw) = split_value(value);
    let essence = match (kind, subtype) {
        (Some(kind), Some(subtype)) if !subtype.is_empty() => Some(format!("{kind}/{subtype}")),
        _ => None,
    };
    (essence, assemble(raw))
}

/// Like [`parse_mime_value`] for a Content-Disposition (RFC 2183): the
/// disposition type ("inline", "attachment", ...) in lower case, None if
/// absent or malformed, and the parameters.
pub fn parse_disposition(value: &str) -> (Option<String>, Vec<(String, String)>) {
    let (kind, subtype, raw) = split_value(value);
    (kind.filter(|_| subtype.is_none()), assemble(raw))
}

/// The first parameter value with this name (case-insensitive).
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

// ---- uuencode ----

/// What one line of a text part is to [`UuScanner`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UuEvent {
    /// Ordinary text, not part of a uuencoded file: the caller keeps it.
    Text,
    /// A "begin MODE NAME" (or "begin-base64 MODE NAME") line: a file
    /// starts. If a file was open, it ended here without its "end" line.
    /// The name is as written: sanitize it before using it as a path.
    Begin {
        /// The file name as written.
        name: String,
        /// The permission bits (octal in the line).
        mode: u32,
    },
    /// A line of the file: its bytes were appended to `out`.
    Data,
    /// The "end" line ("====" after "begin-base64"): the file is complete.
    End,
    /// The open file ended without its "end" line: this line is not part
    /// of it and is ordinary text.
    Truncated,
}

/// The file being read, if any.
#[derive(Debug, Clone, Default)]
enum UuState {
    #[default]
    Outside,
    /// Classic uuencode (POSIX uuencode).
    Uu,
    /// `uuencode -m`: base64 lines, "====" at the end.
    Base64(Box<Base64Decoder>),
}

/// Finds uuencoded files in a text part fed line by line ("begin MODE
/// NAME", data lines, "end"; also the base64 form of `uuencode -m`).
///
/// Tolerant: trailing spaces a transport stripped from data lines are
/// restored as zeros; a missing "end" is reported (as [`UuEvent::Truncated`]
/// before the first line that is not data, or by [`finish`](Self::finish)).
#[derive(Debug, Clone, Default)]
pub struct UuScanner {
    state: UuState,
}

impl UuScanner {
    /// A scanner outside any file.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads one line (its line end, LF or CRLF, optional): says what it is
    /// and appends the bytes of a data line to `out`.
    pub fn line(&mut self, line: &[u8], out: &mut Vec<u8>) -> UuEvent {
        let line = strip_line_end(line);
        if let Some((base64, mode, name)) = parse_begin(line) {
            self.finish(out);
            self.state = if base64 {
                UuState::Base64(Box::default())
            } else {
                UuState::Uu
            };
            return UuEvent::Begin { name, mode };
        }
        match &mut self.state {
            UuState::Outside => UuEvent::Text,
            UuState::Uu => self.uu_line(line, out),
            UuState::Base64(decoder) => {
                if line.trim_ascii_end() == b"====" {
                    decoder.finish(out);
                    self.state = UuState::Outside;
                    UuEvent::End
                } else if line
                    .iter()
                    .all(|&b| B64_VALUES[usize::from(b)] != B64_INVALID)
                {
                    decoder.feed(line, out);
                    UuEvent::Data
                } else {
                    self.finish(out);
                    UuEvent::Truncated
                }
            }
        }
    }

    /// Whether a file is open (begun, not ended).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, UuState::Outside)
    }

    /// Ends the text: appends what is held and returns whether a file was
    /// still open, i.e. cut short without its "end" line.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> bool {
        match std::mem::take(&mut self.state) {
            UuState::Outside => false,
            UuState::Uu => true,
            UuState::Base64(mut decoder) => {
                decoder.finish(out);
                true
            }
        }
    }

    fn uu_line(&mut self, line: &[u8], out: &mut Vec<u8>) -> UuEvent {
        if line.trim_ascii_end() == b"end" {
            self.state = UuState::Outside;
            return UuEvent::End;
        }
        if decode_uu_line(line, out) {
            UuEvent::Data
        } else {
            self.state = UuState::Outside;
            UuEvent::Truncated
        }
    }
}

fn strip_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// "begin MODE NAME" or "begin-base64 MODE NAME": (base64, mode, name).
fn parse_begin(line: &[u8]) -> Option<(bool, u32, String)> {
    let (base64, rest) = if let Some(rest) = line.strip_prefix(b"begin-base64 ") {
        (true, rest)
    } else {
        (false, line.strip_prefix(b"begin ")?)
    };
    let space = memchr(b' ', rest)?;
    let (mode, name) = (&rest[..space], rest[space + 1..].trim_ascii());
    let octal = (1..=4).contains(&mode.len()) && mode.iter().all(|b| (b'0'..=b'7').contains(b));
    if !octal || name.is_empty() {
        return None;
    }
    let mode = mode.iter().fold(0, |m, &d| m * 8 + u32::from(d - b'0'));
    let name = match std::str::from_utf8(name) {
        Ok(name) => name.to_string(),
        Err(_) => windows_1252(name).into_owned(),
    };
    Some((base64, mode, name))
}

/// Decodes one uuencoded line (a length character, then 4 characters per 3
/// bytes, all between ' ' and '`'); characters missing at the end count as
/// zeros. False if the line is not one.
fn decode_uu_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    if !line.iter().all(|b| (b' '..=b'`').contains(b)) {
        return false;
    }
    let Some((&first, chars)) = line.split_first() else {
        // An empty line: the zero-length line with its ' ' stripped.
        return true;
    };
    let sextet = |i: usize| chars.get(i).map_or(0, |&c| u32::from((c - b' ') & 0x3F));
    let len = usize::from((first - b' ') & 0x3F);
    for group in 0..len.div_ceil(3) {
        let n = (0..4).fold(0, |n, k| n << 6 | sextet(group * 4 + k));
        let take = (len - group * 3).min(3);
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    true
}

// ---- HTML to text ----

/// HTML to readable plain text: tags removed; the content of script,
/// style and title dropped; block elements end lines (p, h1-h6, pre,
/// blockquote, table and lists with a blank line); li items as "* ",
/// indented by nesting; a link's URL after its text (" <url>") unless they
/// are the same; character references decoded (numeric ones, and the
/// common named ones: HTML 4's Latin-1 set, typography, arrows); white
/// space collapsed outside pre; zero-width characters dropped; lines
/// trimmed at the end, at most two blank lines in a row, the whole trimmed.
///
/// Linear time; malformed HTML (unclosed tags, '<' in text, comments,
/// CDATA) is read as browsers roughly do, never with a panic.
pub fn html_to_text(html: &str) -> String {
    let mut reader = HtmlReader {
        html,
        pos: 0,
        out: TextOut::default(),
        link: None,
    };
    reader.run();
    reader.close_link();
    reader.out.finish()
}

/// Raw text elements whose content is dropped.
const HTML_DROPPED: &[&str] = &["script", "style", "title", "template"];

/// Elements that start and end a paragraph: a blank line around them.
const HTML_PARAGRAPHS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "table",
    "ul",
    "ol",
    "dl",
];

/// Elements that start and end a line.
const HTML_LINES: &[&str] = &[
    "div",
    "tr",
    "li",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "main",
    "form",
    "address",
    "figure",
    "figcaption",
    "caption",
    "center",
    "hr",
    "fieldset",
    "details",
    "summary",
];

/// A start or end tag as read.
struct Tag {
    name: String,
    end: bool,
    href: Option<String>,
}

struct HtmlReader<'a> {
    html: &'a str,
    pos: usize,
    out: TextOut,
    /// The open link: where its text starts in the output, and its URL.
    link: Option<(usize, String)>,
}

impl HtmlReader<'_> {
    fn run(&mut self) {
        while let Some(rest) = self.html.get(self.pos..).filter(|r| !r.is_empty()) {
            let Some(at) = memchr::memchr2(b'<', b'&', rest.as_bytes()) else {
                self.out.push_text(rest);
                return;
            };
            self.out.push_text(&rest[..at]);
            self.pos += at;
            if rest.as_bytes()[at] == b'<' {
                self.markup();
            } else {
                let (text, len) = char_reference(&rest[at..]);
                self.out.push_text(&text);
                self.pos += len;
            }
        }
    }

    /// Reads what starts with '<' at `pos`.
    fn markup(&mut self) {
        let rest = &self.html[self.pos + 1..];
        if rest.starts_with("!--") {
            self.skip_past(4, "-->");
        } else if let Some(body) = rest.strip_prefix("![CDATA[") {
            let end = body.find("]]>").unwrap_or(body.len());
            self.out.push_text(&body[..end]);
            self.pos = (self.pos + "<![CDATA[".len() + end + "]]>".len()).min(self.html.len());
        } else if rest.starts_with(['!', '?']) {
            self.skip_past(1, ">");
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic())
            || (rest.starts_with('/') && rest[1..].starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            self.tag();
        } else {
            self.out.push_text("<");
            self.pos += 1;
        }
    }

    /// Moves past the next `end` found `from` bytes after `pos`, or to the end.
    fn skip_past(&mut self, from: usize, end: &str) {
        let start = (self.pos + from).min(self.html.len());
        self.pos = self.html[start..]
            .find(end)
            .map_or(self.html.len(), |at| start + at + end.len());
    }

    fn tag(&mut self) {
        let Some(tag) = self.read_tag() else {
            // A tag cut by the end of the text: dropped, as browsers do.
            self.pos = self.html.len();
            return;
        };
        if tag.end {
            self.end_tag(&tag.name);
        } else {
            self.start_tag(tag);
        }
    }

    /// Reads a tag from '<' to '>' (quoted attribute values may hold '>').
    fn read_tag(&mut self) -> Option<Tag> {
        let bytes = self.html.as_bytes();
        let mut i = self.pos + 1;
        let end = bytes.get(i) == Some(&b'/');
        i += usize::from(end);
        let name_len = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = self.html[i..i + name_len].to_ascii_lowercase();
        i += name_len;
        let mut href = None;
        loop {
            while bytes
                .get(i)
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'/')
            {
                i += 1;
            }
            match bytes.get(i)? {
                b'>' => break,
                _ => {
                    let (attr, value, next) = attribute(self.html, i)?;
                    if attr.eq_ignore_ascii_case("href") {
                        href = value;
                    }
                    i = next;
                }
            }
        }
        self.pos = i + 1;
        Some(Tag { name, end, href })
    }

    fn start_tag(&mut self, tag: Tag) {
        let name = tag.name.as_str();
        if HTML_DROPPED.contains(&name) {
            return self.skip_raw_text(name);
        }
        self.block_start(name);
        match name {
            "br" => self.out.br(),
            "pre" => self.out.pre += 1,
            "ul" | "ol" => self.out.lists += 1,
            "li" => self.out.bullet(),
            "td" | "th" => self.out.space = true,
            "a" => {
                self.close_link();
                self.link = tag.href.map(|url| (self.out.text.len(), url));
            }
            _ => {}
        }
    }

    fn end_tag(&mut self, name: &str) {
        match name {
            "pre" => self.out.pre = self.out.pre.saturating_sub(1),
            "ul" | "ol" => self.out.lists = self.out.lists.saturating_sub(1),
            "a" => self.close_link(),
            _ => {}
        }
        self.block_start(name);
    }

    /// The line or paragraph break of a block element, at its start or end.
    fn block_start(&mut self, name: &str) {
        let nested_list = matches!(name, "ul" | "ol") && self.out.lists > 0;
        if HTML_PARAGRAPHS.contains(&name) && !nested_list {
            self.out.blank_line();
        } else if HTML_LINES.contains(&name) || nested_list {
            self.out.line_break();
        }
    }

    /// Skips the content of a raw text element up to its end tag (or the end).
    fn skip_raw_text(&mut self, name: &str) {
        let bytes = self.html.as_bytes();
        let mut i = self.pos;
        while let Some(at) = memchr(b'<', &bytes[i..]).map(|k| i + k) {
            let closes = bytes.get(at + 1) == Some(&b'/')
                && bytes
                    .get(at + 2..at + 2 + name.len())
                    .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()));
            if closes {
                self.pos = at;
                // The end tag itself; cut short, it ends the text.
                if self.read_tag().is_none() {
                    self.pos = self.html.len();
                }
                return;
            }
            i = at + 1;
        }
        self.pos = self.html.len();
    }

    /// Ends the open link: its URL follows its text when they differ.
    fn close_link(&mut self) {
        let Some((start, url)) = self.link.take() else {
            return;
        };
        let url = url.trim();
        let text = self.out.text.get(start..).unwrap_or("").trim();
        let hidden = url.is_empty()
            || url.starts_with('#')
            || url
                .get(..11)
                .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"));
        let same = text == url || url.strip_prefix("mailto:") == Some(text);
        if !hidden && !same {
            self.out.push_text(" <");
            self.out.push_text(url);
            self.out.push_text(">");
        }
    }
}

/// The attribute at `i` of a tag: its name, its value (character
/// references decoded) if it has one, and where the next one starts; None
/// if the text ends inside it.
fn attribute(html: &str, mut i: usize) -> Option<(&str, Option<String>, usize)> {
    let bytes = html.as_bytes();
    let start = i;
    while bytes
        .get(i)
        .is_some_and(|&b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
    {
        i += 1;
    }
    // A lone '=' or '/' is skipped as a nameless attribute.
    let name_end = i.max(start + 1);
    let name = html.get(start..name_end)?;
    i = name_end;
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    if name == "=" || bytes[i] != b'=' {
        return Some((name, None, i));
    }
    i += 1;
    while bytes.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    let (raw, next) = match bytes[i] {
        quote @ (b'"' | b'\'') => {
            let len = memchr(quote, &bytes[i + 1..])?;
            (&html[i + 1..i + 1 + len], i + len + 2)
        }
        _ => {
            let len = bytes[i..]
                .iter()
                .take_while(|&&b| !b.is_ascii_whitespace() && b != b'>')
                .count();
            (&html[i..i + len], i + len)
        }
    };
    Some((name, Some(decode_char_references(raw)), next))
}

/// Text with its character references decoded.
fn decode_char_references(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (decoded, len) = char_reference(&rest[at..]);
        out.push_str(&decoded);
        rest = &rest[at + len..];
    }
    out.push_str(rest);
    out
}

/// The character reference `text` starts with ('&' first) and its length;
/// a lone '&' if there is none.
fn char_reference(text: &str) -> (Cow<'static, str>, usize) {
    let found = match text.as_bytes().get(1) {
        Some(b'#') => numeric_reference(text),
        _ => named_reference(text),
    };
    match found {
        Some((c, len)) => (Cow::Owned(c.to_string()), len),
        None => (Cow::Borrowed("&"), 1),
    }
}

/// "&#NN;" or "&#xHH;" (the ';' optional): U+FFFD for what is no
/// character, windows-1252 for 128-159 (HTML §13.2.5.80).
fn numeric_reference(text: &str) -> Option<(char, usize)> {
    let b = text.as_bytes();
    let hex = matches!(b.get(2), Some(b'x' | b'X'));
    let start = 2 + usize::from(hex);
    let digits = b[start.min(b.len())..]
        .iter()
        .take_while(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 {
        return None;
    }
    let number = u32::from_str_radix(&text[start..start + digits], if hex { 16 } else { 10 });
    let c = match number {
        Ok(n @ 0x80..=0x9F) => windows_1252(&[n as u8]).chars().next(),
        Ok(0) | Err(_) => None,
        Ok(n) => char::from_u32(n),
    };
    let len = start + digits + usize::from(b.get(start + digits) == Some(&b';'));
    Some((c.unwrap_or('\u{FFFD}'), len))
}

/// "&name;" for the names in [`HTML_ENTITIES`] and [`LATIN1_ENTITIES`].
fn named_reference(text: &str) -> Option<(char, usize)> {
    let name_len = text[1..]
        .bytes()
        .take(10)
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let name = &text[1..1 + name_len];
    if text.as_bytes().get(1 + name_len) != Some(&b';') {
        return None;
    }
    let latin1 = LATIN1_ENTITIES
        .iter()
        .position(|&n| n == name)
        .and_then(|i| char::from_u32(0xA0 + i as u32));
    let c = latin1.or_else(|| HTML_ENTITIES.iter().find(|(n, _)| *n == name).map(|e| e.1))?;
    Some((c, name_len + 2))
}

/// HTML 4 names of U+00A0 to U+00FF, in order.
const LATIN1_ENTITIES: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// Other common named character references.
const HTML_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("euro", '€'),
    ("hellip", '…'),
    ("mdash", '—'),
    ("ndash", '–'),
    ("lsquo", '‘'),
    ("rsquo", '’'),
    ("sbquo", '‚'),
    ("ldquo", '“'),
    ("rdquo", '”'),
    ("bdquo", '„'),
    ("bull", '•'),
    ("trade", '™'),
    ("dagger", '†'),
    ("Dagger", '‡'),
    ("permil", '‰'),
    ("larr", '←'),
    ("rarr", '→'),
    ("uarr", '↑'),
    ("darr", '↓'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
];

/// Characters that show nothing: dropped from the text (newsletters pad
/// their preview text with them).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{34F}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// The text being written, with white space collapsed and line breaks merged.
#[derive(Default)]
struct TextOut {
    text: String,
    /// White space was read since the last character written.
    space: bool,
    /// Depth of pre elements.
    pre: usize,
    /// Depth of lists.
    lists: usize,
    /// Where the last bullet ends: a block right after it stays on its line.
    bullet_end: Option<usize>,
}

impl TextOut {
    fn push_text(&mut self, text: &str) {
        for c in text.chars() {
            self.push_char(c);
        }
    }

    fn push_char(&mut self, c: char) {
        if is_invisible(c) || (self.pre > 0 && c == '\r') {
            return;
        }
        if self.pre > 0 {
            self.text.push(c);
        } else if c == '\u{A0}' {
            // A no-break space is never collapsed.
            self.text.push(' ');
            self.space = false;
        } else if c.is_whitespace() {
            self.space = true;
        } else {
            if self.space && !self.at_line_start() {
                self.text.push(' ');
            }
            self.space = false;
            self.text.push(c);
        }
    }

    fn at_line_start(&self) -> bool {
        self.text.is_empty() || self.text.ends_with('\n')
    }

    fn line_break(&mut self) {
        if self.bullet_end == Some(self.text.len()) {
            return;
        }
        self.space = false;
        if !self.at_line_start() {
            self.text.push('\n');
        }
    }

    fn blank_line(&mut self) {
        if self.bullet_end == Some(self.text.len()) {
            return;
        }
        self.line_break();
        if !self.text.is_empty() && !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }

    fn br(&mut self) {
        self.space = false;
        self.text.push('\n');
    }

    /// A list item: on its own line, indented by the depth of lists.
    fn bullet(&mut self) {
        self.line_break();
        for _ in 1..self.lists.min(8) {
            self.text.push_str("  ");
        }
        self.text.push('*');
        self.space = true;
        self.bullet_end = Some(self.text.len());
    }

    /// Lines trimmed at the end, at most two blank lines in a row, the whole trimmed.
    fn finish(self) -> String {
        let mut out = String::with_capacity(self.text.len());
        let mut blanks = 0;
        for line in self.text.split('\n') {
            let line = line.trim_end();
            blanks = if line.is_empty() { blanks + 1 } else { 0 };
            if blanks <= 2 {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{Base64Writer, LineEndings, Newline, QuotedPrintableWriter};
    use std::io::Write;

    /// Chunk sizes every streaming decoder is checked with; 0 stands for the whole input.
    const CHUNKINGS: [usize; 7] = [1, 2, 3, 7, 76, 1000, 0];

    use crate::test_support::noise;

    fn pieces(input: &[u8], size: usize) -> std::slice::Chunks<'_, u8> {
        input.chunks(if size == 0 { input.len().max(1) } else { size })
    }

    fn b64(input: &[u8], size: usize) -> (Vec<u8>, Damage) {
        let mut decoder = Base64Decoder::new();
        let mut out = Vec::new();
        pieces(input, size).for_each(|p| decoder.feed(p, &mut out));
        decoder.finish(&mut out);
        (out, decoder.damage().clone())
    }

    fn qp(input: &[u8], size: usize) -> (Vec<u8>, Damage) {
        let mut decoder = QuotedPrintableDecoder::new();
        let mut out = Vec::new();
        pieces(input, size).for_each(|p| decoder.feed(p, &mut out));
        decoder.finish(&mut out);
        (out, decoder.damage().clone())
    }

    /// Decodes with every chunking, checks they agree and returns the result.
    fn every_chunking(
        decode: fn(&[u8], usize) -> (Vec<u8>, Damage),
        input: &[u8],
    ) -> (Vec<u8>, Damage) {
        let whole = decode(input, 0);
        for size in CHUNKINGS {
            assert_eq!(decode(input, size), whole, "chunks of {size}: {input:?}");
        }
        whole
    }

    fn b64_all(input: &[u8]) -> (Vec<u8>, Damage) {
        every_chunking(b64, input)
    }

    fn qp_all(input: &[u8]) -> (Vec<u8>, Damage) {
        every_chunking(qp, input)
    }

    fn damage(f: impl FnOnce(&mut Damage)) -> Damage {
        let mut d = Damage::default();
        f(&mut d);
        d
    }

    // ---- base64 ----

    fn base64_encoded(data: &[u8], newline: Newline) -> Vec<u8> {
        let mut w = Base64Writer::new(Vec::new(), newline);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn base64_round_trips_with_every_chunking() {
        let data = noise(3000, 5);
        for newline in [Newline::Lf, Newline::CrLf] {
            for len in (0..=200).chain([2999, 3000]) {
                let encoded = base64_encoded(&data[..len], newline);
                let (out, damage) = b64_all(&encoded);
                assert_eq!(out, &data[..len], "length {len}");
                assert!(damage.is_clean(), "{}", damage.describe());
            }
        }
    }

    #[test]
    fn base64_round_trips_megabytes_across_blocks() {
        let data = noise(3 << 20, 9);
        let encoded = base64_encoded(&data, Newline::CrLf);
        for size in [65_535, 65_537, 0] {
            let (out, damage) = b64(&encoded, size);
            assert!(out == data && damage.is_clean(), "chunks of {size}");
        }
    }

    #[test]
    fn base64_ignores_white_space_anywhere() {
        let (out, damage) = b64_all(b" QU\tJD\r\n\r\nR E\nU=\n");
        assert_eq!(out, b"ABCDE");
        assert!(damage.is_clean());
    }

    #[test]
    fn base64_skips_junk_characters() {
        let (out, damage) = b64_all(b"QU*JD\0R\xffEV-G");
        assert_eq!(out, b"ABCDEF");
        assert_eq!(damage, damage_with(|d| d.invalid_chars = 4));
        // Junk inside long clean runs takes the fast path around it.
        let clean = base64_encoded(&noise(5000, 3), Newline::Lf);
        let mut dirty = clean.clone();
        for at in [10, 11, 500, 2001, 4003, 6000] {
            dirty.insert(at, b'!');
        }
        let (out, damage) = b64_all(&dirty);
        assert_eq!(out, noise(5000, 3));
        assert_eq!(damage.invalid_chars, 6);
    }

    fn damage_with(f: impl FnOnce(&mut Damage)) -> Damage {
        damage(f)
    }

    #[test]
    fn base64_tolerates_missing_padding() {
        assert_eq!(b64_all(b"QUI").0, b"AB");
        assert_eq!(
            b64_all(b"QQ\r\n"),
            (b"A".to_vec(), damage(|d| d.bad_padding = true))
        );
        assert_eq!(b64_all(b"QQ=").1, damage(|d| d.bad_padding = true));
        assert_eq!(b64_all(b"QQ=\r\n=").1, Damage::default());
    }

    #[test]
    fn base64_ignores_data_after_padding() {
        let (out, d) = b64_all(b"QQ==QkM=\r\n");
        assert_eq!(out, b"A");
        assert_eq!(d, damage(|d| d.after_padding = 4));
        let (out, d) = b64_all(b"QUI===");
        assert_eq!(out, b"AB");
        assert_eq!(d, damage(|d| d.bad_padding = true));
    }

    #[test]
    fn base64_drops_a_lone_final_character() {
        let (out, d) = b64_all(b"QUJDR");
        assert_eq!(out, b"ABC");
        assert_eq!(d, damage(|d| d.truncated = true));
        let (out, d) = b64_all(b"QUJDR==");
        assert_eq!(out, b"ABC");
        assert!(d.truncated && d.bad_padding);
        assert_eq!(b64_all(b"QUJD=").1, damage(|d| d.bad_padding = true));
    }

    #[test]
    fn damage_describes_itself_in_one_line() {
        assert_eq!(Damage::default().describe(), "clean");
        let (_, d) = b64_all(b"Q*U*JDR");
        assert_eq!(
            d.describe(),
            "2 invalid base64 characters skipped, base64 cut inside a quantum (1 character dropped)"
        );
        let (_, d) = qp_all(b"=ZZ");
        assert_eq!(d.describe(), "1 malformed quoted-printable escape kept");
        assert!(!d.describe().contains('\n') && !d.is_clean());
    }

    #[test]
    fn base64_decoder_starts_again_after_finish() {
        let mut decoder = Base64Decoder::new();
        let mut out = Vec::new();
        decoder.feed(b"QQ", &mut out);
        decoder.finish(&mut out);
        decoder.feed(b"Qg==", &mut out);
        decoder.finish(&mut out);
        assert_eq!(out, b"AB");
        assert!(decoder.damage().bad_padding);
    }

    // ---- quoted-printable ----

    fn qp_encoded(data: &[u8], newline: Newline, endings: LineEndings) -> Vec<u8> {
        let mut w = QuotedPrintableWriter::new(Vec::new(), newline, endings);
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn text_newlines(data: &[u8], newline: Newline) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&b) = data.get(i) {
            if b == b'\r' || b == b'\n' {
                out.extend_from_slice(newline.as_bytes());
                i += if data[i..].starts_with(b"\r\n") { 2 } else { 1 };
            } else {
                out.push(b);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn qp_round_trips_with_every_chunking() {
        let alphabet = b" \t\r\n=Fabc.\xc3\xa9\x01";
        let text: Vec<u8> = noise(3000, 21)
            .iter()
            .map(|&b| alphabet[usize::from(b) % alphabet.len()])
            .collect();
        let binary = noise(3000, 8);
        let long_line = [b"x".repeat(300), b"  \t\n".to_vec(), b"y =".repeat(100)].concat();
        for data in [&text[..], &binary, &long_line, b"", b" ", b"=\r\n"] {
            for newline in [Newline::Lf, Newline::CrLf] {
                for endings in [LineEndings::Exact, LineEndings::Text] {
                    let encoded = qp_encoded(data, newline, endings);
                    let (out, damage) = qp_all(&encoded);
                    let expected = match endings {
                        LineEndings::Exact => data.to_vec(),
                        LineEndings::Text => text_newlines(data, newline),
                    };
                    assert!(out == expected, "{:?}", String::from_utf8_lossy(&encoded));
                    assert!(damage.is_clean());
                }
            }
        }
    }

    #[test]
    fn qp_decodes_escapes_in_either_case() {
        assert_eq!(
            qp_all(b"caf=C3=a9 =3D=3d"),
            (b"caf\xc3\xa9 ==".to_vec(), Damage::default())
        );
    }

    #[test]
    fn qp_removes_soft_line_breaks() {
        assert_eq!(qp_all(b"a=\nb=\r\nc=").0, b"abc");
        // RFC 2045 §6.7 rule 3: white space after the "=" was added in transport.
        assert_eq!(
            qp_all(b"a= \t\nb=  \r\nc"),
            (b"abc".to_vec(), Damage::default())
        );
        assert_eq!(qp_all(b"soft at the end= ").0, b"soft at the end");
    }

    #[test]
    fn qp_keeps_line_ends_and_drops_trailing_white_space() {
        let (out, d) = qp_all(b"a  \nb\t\r\nc \t \r\n\r\nd  ");
        assert_eq!(out, b"a\nb\r\nc\r\n\r\nd");
        assert!(d.is_clean());
        // A CR alone is data: white space before it stays.
        assert_eq!(qp_all(b"a \rb \r").0, b"a \rb \r");
        // Inner white space stays, as does white space before a soft break.
        assert_eq!(qp_all(b"a \t b  =\nc").0, b"a \t b  c");
    }

    #[test]
    fn qp_keeps_malformed_escapes() {
        let bad = |input: &[u8], expected: &[u8], n: u64| {
            assert_eq!(
                qp_all(input),
                (expected.to_vec(), damage(|d| d.bad_escapes = n))
            );
        };
        bad(b"=ZZ", b"=ZZ", 1);
        bad(b"a=4", b"a=4", 1);
        bad(b"a=4\r\nb", b"a=4\r\nb", 1);
        bad(b"==41", b"=A", 1);
        bad(b"= x", b"= x", 1);
        bad(b"=4=5G", b"=4=5G", 2);
        bad(b"=\rx", b"=\rx", 1);
        bad(b"x =\r", b"x =\r", 1);
    }

    #[test]
    fn qp_bounds_held_white_space() {
        let mut input = vec![b' '; 5000];
        input.extend_from_slice(b"\nx");
        let (out, d) = qp_all(&input);
        assert_eq!(out.len(), 5000 - QP_MAX_TRAILING + 2);
        assert!(d.is_clean());
        let mut soft = b"=".to_vec();
        soft.extend(vec![b' '; 3000]);
        soft.extend_from_slice(b"\nx");
        let (out, d) = qp_all(&soft);
        assert_eq!(out.len(), 1 + 3000 - QP_MAX_TRAILING + 2);
        assert_eq!(d.bad_escapes, 1);
    }

    // ---- body decoder ----

    #[test]
    fn body_decoder_follows_the_transfer_encoding() {
        let decode = |cte: Option<&str>, input: &[u8]| {
            let mut decoder = BodyDecoder::for_encoding(cte);
            let mut out = Vec::new();
            decoder.feed(input, &mut out);
            decoder.finish(&mut out);
            (out, decoder.damage().cloned())
        };
        assert_eq!(
            decode(Some(" Base64 "), b"QUJD"),
            (b"ABC".to_vec(), Some(Damage::default()))
        );
        assert_eq!(decode(Some("QUOTED-PRINTABLE"), b"=41").0, b"A");
        assert_eq!(decode(Some("base64 (sure)"), b"QUJD").0, b"ABC");
        for cte in [
            None,
            Some("7bit"),
            Some("8BIT"),
            Some("binary"),
            Some("x-uuencode"),
            Some(""),
        ] {
            assert_eq!(decode(cte, b"QUJD=41"), (b"QUJD=41".to_vec(), None));
        }
    }

    // ---- RFC 2047 ----

    #[test]
    fn encoded_words_b_and_q() {
        assert_eq!(decode_header_text("=?UTF-8?B?w6l0w6k=?="), "été");
        assert_eq!(decode_header_text("=?utf-8?q?=C3=A9t=c3=a9?="), "été");
        assert_eq!(decode_header_text("=?utf-8?Q?a_b?="), "a b");
        assert_eq!(decode_header_text("=?utf-8?Q??="), "");
        assert_eq!(decode_header_text("=?utf-8*en?Q?hi?="), "hi");
    }

    #[test]
    fn white_space_between_adjacent_encoded_words_is_dropped() {
        assert_eq!(decode_header_text("=?utf-8?q?a?= =?utf-8?q?b?="), "ab");
        assert_eq!(
            decode_header_text("=?utf-8?q?a?=\r\n\t=?iso-8859-1?q?=E9?="),
            "aé"
        );
        assert_eq!(
            decode_header_text("Re: =?utf-8?q?caf=C3=A9?= ok =?utf-8?q?x?=!"),
            "Re: café ok x!"
        );
        // A character split across words is joined before conversion.
        assert_eq!(decode_header_text("=?utf-8?Q?=C3?= =?UTF-8?Q?=A9?="), "é");
        assert_eq!(decode_header_text("=?utf-8?B?ww?= =?utf-8?B?qQ?="), "é");
    }

    #[test]
    fn encoded_words_in_legacy_charsets() {
        assert_eq!(decode_header_text("=?ISO-8859-1?Q?Andr=E9?="), "André");
        assert_eq!(
            decode_header_text("=?windows-1252?Q?=93hi=94_=80?="),
            "“hi” €"
        );
        assert_eq!(
            decode_header_text("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="),
            "テスト"
        );
        assert_eq!(decode_header_text("=?Shift_JIS?B?g2WDWINn?="), "テスト");
        assert_eq!(decode_header_text("=?koi8-r?B?0NLJ18XU?="), "привет");
        // Unknown charsets are read as UTF-8.
        assert_eq!(decode_header_text("=?x-martian?Q?caf=C3=A9?="), "café");
    }

    #[test]
    fn malformed_encoded_words_stay() {
        for text in [
            "=?utf-8?X?abc?=",
            "=?utf-8?q?abc",
            "=??q?abc?=",
            "=?utf-8?B?w6l0*w6k=?=",
            "=?utf 8?q?a?=",
            "=?utf-8?qq?a?=",
            "a =? b ?= c",
            "=?",
            "?=",
        ] {
            assert_eq!(decode_header_text(text), text);
        }
        assert_eq!(decode_header_text("=?=?utf-8?q?x?="), "=?x");
    }

    #[test]
    fn encoded_words_glued_or_quoted_are_decoded() {
        assert_eq!(decode_header_text("x=?utf-8?q?y?=z"), "xyz");
        assert_eq!(
            decode_header_text("\"=?utf-8?q?J=C3=B6rg?=\" <j@example.org>"),
            "\"Jörg\" <j@example.org>"
        );
        assert_eq!(decode_header_text("=?utf-8?q?spaced text?="), "spaced text");
    }

    #[test]
    fn raw_header_bytes() {
        assert_eq!(header_text(b"Caf\xe9 \x93ok\x94"), "Café “ok”");
        assert_eq!(header_text("Café =?utf-8?q?=C3=A9?=".as_bytes()), "Café é");
    }

    // ---- RFC 2231 parameters ----

    #[test]
    fn rfc_2231_continuations_and_charset() {
        // RFC 2231 §4.1.
        let (kind, params) = parse_mime_value(
            "message/external-body; access-type=URL;\r\n title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n title*2=\"isn't it!\"",
        );
        assert_eq!(kind.as_deref(), Some("message/external-body"));
        assert_eq!(
            param(&params, "title"),
            Some("This is even more ***fun*** isn't it!")
        );
        assert_eq!(param(&params, "ACCESS-TYPE"), Some("URL"));
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn rfc_2231_sections_out_of_order_or_missing() {
        let (_, params) = parse_mime_value("a/b; name*2=c; name*0=a; name*1=\"b\"");
        assert_eq!(param(&params, "name"), Some("abc"));
        let (_, params) = parse_mime_value("a/b; name*0*=utf-8''%C3%A9; name*2*=%C3%A9");
        assert_eq!(param(&params, "name"), Some("éé"));
        let (_, params) = parse_mime_value("a/b; name*=iso-8859-1'fr'caf%E9; n*=''100%");
        assert_eq!(param(&params, "name"), Some("café"));
        assert_eq!(param(&params, "n"), Some("100%"));
    }

    #[test]
    fn rfc_2231_long_utf8_file_name_round_trips() {
        let name: String = "日本語のファイル名-ü".chars().cycle().take(300).collect();
        let value = format!(
            "attachment; {}",
            crate::header::rfc2231_param("filename", &name).join(";\r\n ")
        );
        assert!(value.contains("filename*2*="));
        let (kind, params) = parse_disposition(&value);
        assert_eq!(kind.as_deref(), Some("attachment"));
        assert_eq!(param(&params, "filename"), Some(name.as_str()));
    }

    #[test]
    fn rfc_2231_value_wins_over_plain_fallback() {
        let (_, params) =
            parse_mime_value("a/b; filename=\"fallback.txt\"; filename*=utf-8''%C3%A9.txt");
        assert_eq!(params, vec![("filename".to_string(), "é.txt".to_string())]);
    }

    #[test]
    fn legacy_encoded_words_in_parameters() {
        let (_, params) = parse_mime_value(
            "application/pdf; name=\"=?utf-8?B?w6l0w6kucGRm?=\"; boundary=\"=?x?q?y?=\"",
        );
        assert_eq!(param(&params, "name"), Some("été.pdf"));
        assert_eq!(param(&params, "boundary"), Some("=?x?q?y?="));
    }

    #[test]
    fn mime_values_quoted_comments_and_sloppy_ones() {
        let (kind, params) = parse_mime_value(
            "Text/HTML (rich) ; Charset=UTF-8 (Unicode); x=\"a\\\"b\\\\c;d\"; empty=\"\"",
        );
        assert_eq!(kind.as_deref(), Some("text/html"));
        assert_eq!(param(&params, "charset"), Some("UTF-8"));
        assert_eq!(param(&params, "x"), Some("a\"b\\c;d"));
        assert_eq!(param(&params, "empty"), Some(""));
        let (_, params) = parse_mime_value("text/plain; charset=utf-8 format=flowed");
        assert_eq!(param(&params, "charset"), Some("utf-8"));
        assert_eq!(param(&params, "format"), Some("flowed"));
        let (_, params) = parse_disposition("attachment; filename=my file.pdf ;size=3");
        assert_eq!(param(&params, "filename"), Some("my file.pdf"));
        assert_eq!(param(&params, "size"), Some("3"));
        let (_, params) = parse_mime_value("text/plain; junk; a=1; =2; b=\"unterminated");
        assert_eq!(
            params,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "unterminated".into())
            ]
        );
    }

    #[test]
    fn malformed_types_give_none() {
        for value in ["", "text", "text/", "/plain", "te xt/plain", "text/plain/x"] {
            let (kind, _) = parse_mime_value(value);
            assert!(kind.is_none() || value == "text/plain/x", "{value:?}");
        }
        assert_eq!(
            parse_mime_value("charset=utf-8").1,
            vec![("charset".into(), "utf-8".into())]
        );
        assert_eq!(parse_disposition("Inline").0.as_deref(), Some("inline"));
        assert!(parse_disposition("text/plain").0.is_none());
    }

    // ---- charsets ----

    #[test]
    fn charsets_to_utf8() {
        assert_eq!(
            to_utf8(b"caf\xe9", Some("ISO-8859-1")),
            ("café".into(), true)
        );
        assert_eq!(
            to_utf8(b"\xd0\xd2\xc9\xd7\xc5\xd4", Some(" koi8-r ")),
            ("привет".into(), true)
        );
        assert_eq!(
            to_utf8(b"a\xffb", Some("utf-8")),
            ("a\u{FFFD}b".into(), false)
        );
        assert_eq!(to_utf8("é".as_bytes(), None), ("é".into(), true));
        assert_eq!(to_utf8(b"caf\xe9", None), ("café".into(), false));
        assert_eq!(
            to_utf8(b"caf\xe9", Some("US-ASCII")),
            ("café".into(), false)
        );
        assert_eq!(
            to_utf8(b"caf\xe9", Some("unknown-8bit")),
            ("café".into(), false)
        );
        assert_eq!(to_utf8(b"plain", Some("x-unknown")), ("plain".into(), true));
        assert_eq!(
            to_utf8("é".as_bytes(), Some("x-martian")),
            ("é".into(), false)
        );
        assert_eq!(
            to_utf8(b"\xef\xbb\xbfbom", Some("utf-8")),
            ("bom".into(), true)
        );
        // The WHATWG "replacement" encoding would lose the text.
        assert_eq!(to_utf8(b"abc", Some("iso-2022-kr")).0, "abc");
    }

    #[test]
    fn known_charsets() {
        for label in [
            "utf-8",
            "UTF8",
            "us-ascii",
            "iso-8859-15",
            "windows-1251",
            "gb2312",
            "Shift_JIS",
        ] {
            assert!(is_known_charset(label), "{label}");
        }
        for label in ["", "x-martian", "unknown-8bit", "iso-2022-kr", "utf-7"] {
            assert!(!is_known_charset(label), "{label}");
        }
    }

    // ---- uuencode ----

    /// `binascii.b2a_uu` of (0..256).step_by(7) followed by "hello uu\0\xff".
    const UU_LINES: [&[u8]; 2] = [
        b"M``<.%1PC*C$X/T9-5%MB:7!W?H6,DYJAJ*^VO<3+TMG@Y^[U_&AE;&QO('5U\n",
        b"\"`/\\`\n",
    ];

    fn uu_data() -> Vec<u8> {
        let mut data: Vec<u8> = (0..=255u8).step_by(7).collect();
        data.extend_from_slice(b"hello uu\0\xff");
        data
    }

    fn scan(lines: &[&[u8]]) -> (Vec<UuEvent>, Vec<u8>, bool) {
        let mut scanner = UuScanner::new();
        let mut out = Vec::new();
        let events = lines.iter().map(|l| scanner.line(l, &mut out)).collect();
        let open = scanner.finish(&mut out);
        (events, out, open)
    }

    #[test]
    fn uuencoded_file_in_text() {
        let lines: Vec<&[u8]> = [&b"Here it is:\r\n"[..], b"begin 644 data.bin\r\n"]
            .into_iter()
            .chain(UU_LINES)
            .chain([&b"`\n"[..], b"end\n", b"bye"])
            .collect();
        let (events, out, open) = scan(&lines);
        let begin = UuEvent::Begin {
            name: "data.bin".into(),
            mode: 0o644,
        };
        use UuEvent::{Data, End, Text};
        assert_eq!(events, [Text, begin, Data, Data, Data, End, Text]);
        assert_eq!(out, uu_data());
        assert!(!open);
    }

    #[test]
    fn uuencode_truncated_or_stripped() {
        let (events, out, open) = scan(&[b"begin 600 a b.txt", UU_LINES[0]]);
        assert_eq!(
            events[0],
            UuEvent::Begin {
                name: "a b.txt".into(),
                mode: 0o600
            }
        );
        assert!(open && out == uu_data()[..45]);
        let (events, _, open) = scan(&[b"begin 644 x", UU_LINES[0], b"thanks, bye", b"end"]);
        assert_eq!(events[2..], [UuEvent::Truncated, UuEvent::Text]);
        assert!(!open);
        // A transport stripped the trailing spaces (zeros) of a line.
        let (_, out, _) = scan(&[b"begin 644 z", b"1            04(", b" ", b"end"]);
        assert_eq!(out, b"\0\0\0\0\0\0\0\0\0AB\0\0\0\0\0\0");
        // A new begin while a file is open ends the first one.
        let (events, _, _) = scan(&[b"begin 644 x", b"begin 644 y"]);
        assert!(matches!(&events[1], UuEvent::Begin { name, .. } if name == "y"));
    }

    #[test]
    fn uuencode_base64_form() {
        let (events, out, open) = scan(&[
            b"begin-base64 755 s.sh",
            b"IyEvYmluL3No",
            b"Cg==",
            b"====",
            b"x",
        ]);
        assert!(matches!(events[0], UuEvent::Begin { mode: 0o755, .. }));
        assert_eq!(events[3..], [UuEvent::End, UuEvent::Text]);
        assert_eq!(out, b"#!/bin/sh\n");
        assert!(!open);
    }

    #[test]
    fn not_uuencode() {
        for line in [
            &b"begin 64a x"[..],
            b"begin 644",
            b"begin 644 ",
            b"beginning 644 x",
            b"begin 12345 x",
        ] {
            assert_eq!(scan(&[line]).0, [UuEvent::Text], "{line:?}");
        }
    }

    // ---- HTML ----

    #[test]
    fn html_newsletter() {
        let html = r#"<!DOCTYPE html><html><head><title>News</title>
<style>p { color: red; }</style><script>var a = "<p>no</p>";</script></head>
<body><h1>Weekly   news</h1><p>Hello&nbsp;there,
   welcome &amp; enjoy&hellip;</p>
<ul><li>First <b>item</b></li><li>Second<ul><li>nested</li></ul></li></ul>
<table><tr><td>Price</td><td>10&euro;</td></tr></table>
<p>Read <a href="https://example.org/a?x=1&amp;y=2">the article</a> or
<a href="https://example.org/">https://example.org/</a>.<br>Bye<br/><br><br><br><br>
<a href="mailto:me@example.org">me@example.org</a></p></body></html>"#;
        let expected = "Weekly news\n\nHello there, welcome & enjoy…\n\n* First item\n* Second\n  * nested\n\nPrice 10€\n\nRead the article <https://example.org/a?x=1&y=2> or https://example.org/.\nBye\n\n\nme@example.org";
        assert_eq!(html_to_text(html), expected);
    }

    #[test]
    fn html_character_references() {
        assert_eq!(
            html_to_text(
                "&lt;&gt;&quot;&apos;&copy;&reg;&mdash;&ndash;&laquo;&raquo;&eacute;&szlig;&times;"
            ),
            "<>\"'©®—–«»éß×"
        );
        assert_eq!(
            html_to_text("&#65;&#x42;&#X43;&#68&#150;&#0;&#xD800;&#99999999999;"),
            "ABCD–\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(
            html_to_text("a &unknown; b & c &amp"),
            "a &unknown; b & c &amp"
        );
        assert_eq!(html_to_text("pre&zwnj;&shy;view&#8203;"), "preview");
    }

    #[test]
    fn html_pre_keeps_white_space() {
        assert_eq!(
            html_to_text("<p>a   b</p><pre>  x\r\n    y  z</pre>c"),
            "a b\n\n  x\n    y  z\n\nc"
        );
    }

    #[test]
    fn html_malformed_input() {
        assert_eq!(html_to_text("a < b && c > d"), "a < b && c > d");
        assert_eq!(html_to_text("x<!-- comment <p> -->y<!-- unclosed"), "xy");
        assert_eq!(html_to_text("<![CDATA[<raw> & ]]>text"), "<raw> & text");
        assert_eq!(html_to_text("<p title='a>b'>ok</p><div class=\"x"), "ok");
        assert_eq!(html_to_text("<script>never closed <p>hidden"), "");
        assert_eq!(html_to_text("<SCRIPT>x</ScRiPt >shown"), "shown");
        assert_eq!(html_to_text("<a href=\"u\">open link"), "open link <u>");
        assert_eq!(html_to_text("</p></ul></pre>text<li>"), "text\n*");
        assert_eq!(
            html_to_text("<ul><li><p>para</p></li><li><div>div</div>"),
            "* para\n\n* div"
        );
        assert_eq!(
            html_to_text("<a href='#top'>top</a> <a href='javascript:x()'>js</a>"),
            "top js"
        );
        assert_eq!(html_to_text("<=<a =x>b</a>"), "<=b");
    }

    // ---- throughput ----

    /// By hand: `cargo test --release --lib decode:: -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn throughput() {
        let data = noise(256 << 20, 13);
        let encoded = base64_encoded(&data, Newline::CrLf);
        let rate = |name: &str, bytes: usize, f: &mut dyn FnMut()| {
            let start = std::time::Instant::now();
            f();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{name}: {} MiB in {secs:.3} s = {:.0} MB/s",
                bytes >> 20,
                bytes as f64 / secs / 1e6
            );
        };
        let mut out = Vec::with_capacity(70_000);
        let mut decoder = Base64Decoder::new();
        let mut total = 0;
        rate(
            "base64 decode (encoded size, 64 KiB chunks)",
            encoded.len(),
            &mut || {
                for chunk in encoded.chunks(64 * 1024) {
                    decoder.feed(chunk, &mut out);
                    total += out.len();
                    out.clear();
                }
                decoder.finish(&mut out);
            },
        );
        assert!(total == data.len() && decoder.damage().is_clean());
        let spaced: Vec<u8> = encoded[..64 << 20]
            .split(|&b| b == b'\n')
            .flat_map(|line| [line, b" \n"].concat())
            .collect();
        let junk: Vec<u8> = encoded[..64 << 20]
            .chunks(4)
            .flat_map(|q| [q, b"!"].concat())
            .collect();
        for (name, input) in [
            ("space at line ends", &spaced),
            ("junk every quantum", &junk),
        ] {
            let mut decoder = Base64Decoder::new();
            rate(&format!("base64 decode, {name}"), input.len(), &mut || {
                for chunk in input.chunks(64 * 1024) {
                    decoder.feed(chunk, &mut out);
                    out.clear();
                }
            });
        }
        let qp_text = qp_encoded(
            &"Voilà une ligne de texte ordinaire, comme dans un courriel.\n"
                .repeat(1 << 20)
                .into_bytes(),
            Newline::CrLf,
            LineEndings::Text,
        );
        let mut decoder = QuotedPrintableDecoder::new();
        rate(
            "quoted-printable decode (French text)",
            qp_text.len(),
            &mut || {
                for chunk in qp_text.chunks(64 * 1024) {
                    decoder.feed(chunk, &mut out);
                    out.clear();
                }
            },
        );
        let html =
            "<p>Hello <b>there</b> &amp; <a href=\"https://x.org/\">link</a></p>\n".repeat(1 << 18);
        rate("html_to_text", html.len(), &mut || {
            std::hint::black_box(html_to_text(&html));
        });
    }
}
