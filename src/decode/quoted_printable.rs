//! Streaming quoted-printable decoding of body parts (RFC 2045 §6.7).

use memchr::memchr3;

use super::Damage;
use crate::grammar::lex::{hex_pair, is_wsp};

/// Most trailing white space a line loses (RFC 2045 §6.7 rule 3): a longer
/// run keeps its start, which bounds the memory held.
pub(super) const QP_MAX_TRAILING: usize = 1024;

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
