//! Uuencoded files inside text parts (POSIX `uuencode`, "begin MODE NAME"
//! ... "end", and the base64 form `begin-base64` of `uuencode -m`), as
//! mail readers find them (the de-facto x-uuencode of RFC 1341 era mail).

use memchr::memchr;

use super::base64::{B64_INVALID, B64_VALUES, Base64Decoder};
use super::charset::windows_1252;

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

/// Longest line gathered; a longer one is no uuencoded line (61 octets)
/// and is passed on in pieces as text.
const MAX_LINE: usize = 4096;
/// Text held before a "begin" line; past this the body is taken as not
/// uuencoded at all and copied.
const MAX_BEFORE_BEGIN: usize = 64 * 1024;

/// Decodes a body declared `Content-Transfer-Encoding: x-uuencode` (or
/// `x-uue`, `uuencode`), fed in chunks of any size: the bytes of the first
/// file between "begin" and "end". Text around the file is dropped; a body
/// without a "begin" line is copied as it is (and reported as damage).
#[derive(Debug, Clone, Default)]
pub struct UuDecoder {
    scanner: UuScanner,
    line: Vec<u8>,
    /// Text seen before any "begin" line (bounded).
    before: Vec<u8>,
    state: UuBody,
    damage: super::Damage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum UuBody {
    /// No "begin" line yet.
    #[default]
    Before,
    /// In the file, or after it.
    Begun,
    /// No "begin" line came early: the body is copied as it is.
    Copying,
}

impl UuDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes the next chunk, appending the file's bytes to `out`.
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        while !input.is_empty() {
            if self.state == UuBody::Copying {
                out.extend_from_slice(input);
                return;
            }
            let (take, ends) = match memchr(b'\n', input) {
                Some(at) => (at + 1, true),
                None => (input.len(), false),
            };
            self.line.extend_from_slice(&input[..take]);
            input = &input[take..];
            if ends || self.line.len() >= MAX_LINE {
                let line = std::mem::take(&mut self.line);
                self.one_line(&line, out);
                self.line = line;
                self.line.clear();
            }
        }
    }

    fn one_line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        match self.scanner.line(line, out) {
            UuEvent::Begin { .. } if self.state == UuBody::Before => {
                self.before = Vec::new();
                self.state = UuBody::Begun;
            }
            UuEvent::Text if self.state == UuBody::Before => {
                self.before.extend_from_slice(line);
                if self.before.len() > MAX_BEFORE_BEGIN {
                    self.copy_instead(out);
                }
            }
            // A second file, or text after the end: not this part's.
            _ => {}
        }
    }

    /// No "begin" line: what was held is the content after all.
    fn copy_instead(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.before);
        self.state = UuBody::Copying;
        self.damage.uu_incomplete = Some("no uuencode \"begin\" line: the body is kept as it is");
    }

    /// Ends the body, appending what is held.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if self.state == UuBody::Copying {
                out.extend_from_slice(&line);
            } else {
                self.one_line(&line, out);
            }
        }
        match self.state {
            UuBody::Before => self.copy_instead(out),
            UuBody::Begun if self.scanner.finish(out) => {
                self.damage.uu_incomplete = Some("uuencoded file without its \"end\" line");
            }
            _ => {}
        }
    }

    /// The problems met so far.
    pub fn damage(&self) -> &super::Damage {
        &self.damage
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

#[cfg(test)]
mod tests {
    use super::UuDecoder;

    fn decode(body: &[u8], chunk: usize) -> (Vec<u8>, Option<&'static str>) {
        let mut decoder = UuDecoder::new();
        let mut out = Vec::new();
        for piece in body.chunks(chunk) {
            decoder.feed(piece, &mut out);
        }
        decoder.finish(&mut out);
        (out, decoder.damage().uu_incomplete)
    }

    #[test]
    fn the_file_between_begin_and_end_whatever_the_chunks() {
        // `printf 'Cat' | uuencode cat.txt`
        let body = b"intro text\nbegin 644 cat.txt\n#0V%T\n`\nend\ntrailing\n";
        for chunk in [1, 2, 5, 64] {
            assert_eq!(decode(body, chunk), (b"Cat".to_vec(), None), "{chunk}");
        }
        let (cut, damage) = decode(b"begin 644 cat.txt\r\n#0V%T\r\n", 3);
        assert_eq!(cut, b"Cat");
        assert!(damage.is_some());
    }

    #[test]
    fn a_body_without_begin_is_kept() {
        let (out, damage) = decode(b"not uuencoded\nat all", 4);
        assert_eq!(out, b"not uuencoded\nat all");
        assert!(damage.is_some());
    }
}
