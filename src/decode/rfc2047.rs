//! RFC 2047 encoded-words ("=?charset?B|Q?text?="): the one reading of
//! their syntax (§2), of the B and Q encodings (§4) and of which characters
//! Q-encoded text may hold where (§5), in two modes: lenient decoding of
//! header text as mail readers do ([`decode_header_text`]), and strict
//! checking with byte offsets, which `rfc822-lint` reports
//! ([`crate::lint::fields::encoded_word`]).

use super::base64::{B64_VALUES, Base64Decoder};
use super::charset::{to_utf8, windows_1252};
use crate::grammar::lex::{Mode, hex_pair, is_fws_byte};

/// A well-formed encoded-word; offsets relative to its "=?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedWord<'a> {
    /// Its length in the text, "=?" to "?=".
    pub len: usize,
    /// The charset as written, an RFC 2231 §5 language suffix included.
    pub charset: &'a str,
    /// The encoding as written ("B", "q", ...).
    pub encoding: &'a str,
    /// Where the encoding starts.
    pub encoding_at: usize,
    /// The encoded text.
    pub text: &'a str,
    /// Where the encoded text starts.
    pub text_at: usize,
}

impl EncodedWord<'_> {
    /// The charset without an RFC 2231 §5 language suffix ("utf-8*en").
    pub fn charset_name(&self) -> &str {
        self.charset.split('*').next().unwrap_or_default()
    }
}

/// What a "=?" starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// A well-formed encoded-word.
    Word(EncodedWord<'a>),
    /// "=?charset?" followed by something else than an encoded-word's rest.
    Malformed(&'static str),
    /// Not an encoded-word at all.
    NotAWord,
}

/// RFC 2047 §2 token characters (charset and encoding): printable ASCII
/// but especials.
fn is_2047_token(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\"/[]?.=".contains(&b)
}

/// The encoded-word `s` starts with. Strict: charset and encoding are RFC
/// 2047 tokens, the encoded text holds no white space and is not empty.
/// Lenient, as mail readers: the charset any printable text, the encoded
/// text anything but '?' (spaces are a common violation), even empty. Each
/// attempt reads at most to the fourth '?', and a failed one is retried two
/// bytes on: linear overall.
pub fn encoded_word(s: &str, mode: Mode) -> Lookup<'_> {
    let bytes = s.as_bytes();
    let run = |from: usize, keep: &dyn Fn(u8) -> bool| {
        let rest = bytes.get(from..).unwrap_or_default();
        rest.iter().take_while(|&&b| keep(b)).count()
    };
    let charset_len = match mode {
        Mode::Strict => run(2, &is_2047_token),
        Mode::Lenient => run(2, &|b| b.is_ascii_graphic() && b != b'?'),
    };
    if !s.starts_with("=?") || charset_len == 0 || bytes.get(2 + charset_len) != Some(&b'?') {
        return Lookup::NotAWord;
    }
    let encoding_at = 3 + charset_len;
    let encoding_len = run(encoding_at, &is_2047_token);
    if encoding_len == 0 {
        return Lookup::Malformed("no encoding after the charset");
    }
    if bytes.get(encoding_at + encoding_len) != Some(&b'?') {
        return Lookup::Malformed("no '?' after the encoding");
    }
    let text_at = encoding_at + encoding_len + 1;
    let text_len = match mode {
        Mode::Strict => run(text_at, &|b| b != b'?' && !is_fws_byte(b)),
        Mode::Lenient => run(text_at, &|b| b != b'?'),
    };
    if !bytes
        .get(text_at + text_len..)
        .unwrap_or_default()
        .starts_with(b"?=")
    {
        return Lookup::Malformed("no '?=' ending the encoded text (white space inside it?)");
    }
    if text_len == 0 && mode == Mode::Strict {
        return Lookup::Malformed("empty encoded text");
    }
    Lookup::Word(EncodedWord {
        len: text_at + text_len + 2,
        charset: s.get(2..2 + charset_len).unwrap_or_default(),
        encoding: s
            .get(encoding_at..encoding_at + encoding_len)
            .unwrap_or_default(),
        encoding_at,
        text: s.get(text_at..text_at + text_len).unwrap_or_default(),
        text_at,
    })
}

/// Which characters Q-encoded text may hold as themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QChars {
    /// Unstructured text: printable ASCII but '?', '=', '_' (RFC 2047 §4.2).
    Text,
    /// In a comment: also not '(', ')', '"' (RFC 2047 §5(2)).
    Comment,
    /// In a phrase: letters, digits, "!*+-/" (RFC 2047 §5(3)).
    Phrase,
    /// Anything: how mail readers decode.
    Any,
}

impl QChars {
    /// Whether Q-encoded text may hold `b` as itself here.
    pub fn allows(self, b: u8) -> bool {
        let text = b.is_ascii_graphic() && !matches!(b, b'?' | b'=' | b'_');
        match self {
            QChars::Text => text,
            QChars::Comment => text && !matches!(b, b'(' | b')' | b'"'),
            QChars::Phrase => b.is_ascii_alphanumeric() || b"!*+-/".contains(&b),
            QChars::Any => true,
        }
    }

    /// Where this is, for messages.
    pub fn place(self) -> &'static str {
        match self {
            QChars::Text | QChars::Any => "(RFC 2047 §4.2)",
            QChars::Comment => "in a comment (RFC 2047 §5(2))",
            QChars::Phrase => "in a display name (RFC 2047 §5(3))",
        }
    }
}

/// A problem in encoded text: its offset in the text, and why.
pub type TextProblem = (usize, String);

/// The character at byte `i` of `text`, for messages.
fn char_at(text: &str, i: usize) -> char {
    text.get(i..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or('?')
}

/// The "B" encoding (RFC 2047 §4.1), decoded as mail readers do (missing
/// padding tolerated); None if it holds characters outside base64.
pub fn decode_b(text: &str) -> Option<Vec<u8>> {
    let mut decoder = Base64Decoder::new();
    let mut bytes = Vec::new();
    decoder.feed(text.as_bytes(), &mut bytes);
    decoder.finish(&mut bytes);
    (decoder.damage().invalid_chars == 0).then_some(bytes)
}

/// The "B" encoding read strictly (RFC 2047 §4.1): the alphabet, '='
/// padding at the end only, a length that is a multiple of 4.
pub fn check_b(text: &str) -> Result<Vec<u8>, TextProblem> {
    let bytes = text.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let data = bytes.get(..bytes.len() - padding).unwrap_or_default();
    if let Some(i) = data.iter().position(|&b| B64_VALUES[usize::from(b)] >= 64) {
        let c = char_at(text, i);
        let message = format!("{c:?} is not a base64 character (RFC 2047 §4.1)");
        return Err((i, message));
    }
    if padding > 2 || !bytes.len().is_multiple_of(4) {
        let message = format!(
            "B-encoded text of {} characters: base64 comes in groups of 4 with at most \
             2 '=' (RFC 2047 §4.1)",
            bytes.len()
        );
        return Err((0, message));
    }
    decode_b(text).ok_or_else(|| (0, "not base64 (RFC 2047 §4.1)".into()))
}

/// The "Q" encoding (RFC 2047 §4.2): "=XX" a byte, "_" a space, other
/// characters as themselves. Returns the bytes, a malformed "=" kept as it
/// is, and the first problem: a malformed "=" or a character that `q` does
/// not allow.
pub fn decode_q(text: &str, q: QChars) -> (Vec<u8>, Option<TextProblem>) {
    let b = text.as_bytes();
    let mut bytes = Vec::with_capacity(b.len());
    let mut problem = None;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let escaped = match (c, b.get(i + 1), b.get(i + 2)) {
            (b'=', Some(&hi), Some(&lo)) => hex_pair(hi, lo),
            _ => None,
        };
        let (byte, len) = match (c, escaped) {
            (_, Some(byte)) => (byte, 3),
            (b'_', None) => (b' ', 1),
            (c, None) => {
                if problem.is_none() {
                    problem = q_problem(text, i, q);
                }
                (c, 1)
            }
        };
        bytes.push(byte);
        i += len;
    }
    (bytes, problem)
}

/// What is wrong with the character at `i` of Q-encoded text, if anything.
fn q_problem(text: &str, i: usize, q: QChars) -> Option<TextProblem> {
    let b = text.as_bytes()[i];
    if b == b'=' {
        let message = "'=' not followed by two hexadecimal digits (RFC 2047 §4.2)";
        return Some((i, message.into()));
    }
    (!q.allows(b)).then(|| {
        let c = char_at(text, i);
        (
            i,
            format!("{c:?} is not allowed in Q-encoded text {}", q.place()),
        )
    })
}

/// The "Q" encoding read strictly: the bytes, or the first problem.
pub fn check_q(text: &str, q: QChars) -> Result<Vec<u8>, TextProblem> {
    match decode_q(text, q) {
        (bytes, None) => Ok(bytes),
        (_, Some(problem)) => Err(problem),
    }
}

/// The bytes of a word read leniently; None for an unknown encoding or B
/// text that is not base64.
fn word_bytes(word: &EncodedWord) -> Option<Vec<u8>> {
    match word.encoding {
        "B" | "b" => decode_b(word.text),
        "Q" | "q" => Some(decode_q(word.text, QChars::Any).0),
        _ => None,
    }
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
    fn add(&mut self, charset: &str, bytes: &[u8], out: &mut String) {
        if !self.charset.eq_ignore_ascii_case(charset) {
            self.flush(out);
            self.charset = charset.to_string();
        }
        self.bytes.extend_from_slice(bytes);
    }

    fn flush(&mut self, out: &mut String) {
        if !self.bytes.is_empty() {
            out.push_str(&to_utf8(&self.bytes, Some(&self.charset)).0);
            self.bytes.clear();
        }
        self.charset.clear();
    }
}

/// The word at `text`'s start read leniently, with its decoded bytes.
fn lenient_word(text: &str) -> Option<(EncodedWord<'_>, Vec<u8>)> {
    match encoded_word(text, Mode::Lenient) {
        Lookup::Word(word) => word_bytes(&word).map(|bytes| (word, bytes)),
        Lookup::Malformed(_) | Lookup::NotAWord => None,
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
        let Some((word, bytes)) = lenient_word(&value[at..]) else {
            search = at + 2;
            continue;
        };
        let between = &value[plain_start..at];
        if !in_run || !between.chars().all(is_lws) {
            run.flush(&mut out);
            out.push_str(between);
        }
        run.add(word.charset_name(), &bytes, &mut out);
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
