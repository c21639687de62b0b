//! Decoding what messages carry, one file per codec: transfer encodings
//! ([`base64`], RFC 2045 §6.8; [`quoted_printable`], RFC 2045 §6.7),
//! [`charset`] conversion (RFC 2046 §4.1.2), RFC 2047 encoded-words
//! ([`rfc2047`]), RFC 2231 parameters ([`rfc2231`]), [`utf7`] (RFC 2152),
//! [`uuencode`], and
//! [`html`] as text. This file holds what they share: [`Damage`], and the
//! [`BodyDecoder`] that picks a transfer decoder by Content-Transfer-Encoding
//! (RFC 2045 §6.1).
//!
//! Everything here reads hostile mail: no input makes it panic, every
//! function runs in time linear in its input, and the streaming decoders
//! hold a bounded amount of memory whatever they are fed. Malformed input
//! is decoded as far as it goes, the way real mail readers do, and the
//! problems met are reported as [`Damage`] rather than as errors.

pub mod base64;
pub mod charset;
pub mod html;
pub mod quoted_printable;
pub mod rfc2047;
pub mod rfc2231;
pub mod utf7;
pub mod uuencode;

pub use base64::Base64Decoder;
pub use charset::{is_known_charset, to_utf8};
pub use html::html_to_text;
pub use quoted_printable::QuotedPrintableDecoder;
pub use rfc2047::{decode_header_text, header_text};
pub use rfc2231::{param, parse_disposition, parse_mime_value};
pub use uuencode::{UuDecoder, UuEvent, UuScanner};

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
    /// A uuencoded body without its "begin" line (kept as it is), or whose
    /// file has no "end" line.
    pub uu_incomplete: Option<&'static str>,
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
        if let Some(what) = self.uu_incomplete {
            parts.push(what.to_string());
        }
        if parts.is_empty() {
            return "clean".to_string();
        }
        parts.join(", ")
    }
}

/// Decodes the content of one body part by its Content-Transfer-Encoding.
#[derive(Debug, Clone)]
pub enum BodyDecoder {
    /// 7bit, 8bit, binary or an unknown encoding: the content as it is.
    Identity,
    /// base64 (RFC 2045 §6.8).
    Base64(Base64Decoder),
    /// quoted-printable (RFC 2045 §6.7).
    QuotedPrintable(QuotedPrintableDecoder),
    /// x-uuencode, x-uue or uuencode: the file between "begin" and "end".
    Uuencode(Box<UuDecoder>),
}

impl BodyDecoder {
    /// The decoder for a Content-Transfer-Encoding value: its first word,
    /// case-insensitive; `x-uuencode`, `x-uue` and `uuencode` (never
    /// registered, but what uuencoding mailers wrote) decode the file in
    /// the body; absent or unknown ones copy the content.
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
        } else if ["x-uuencode", "x-uue", "uuencode"]
            .iter()
            .any(|uu| word.eq_ignore_ascii_case(uu))
        {
            BodyDecoder::Uuencode(Box::default())
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
            BodyDecoder::Uuencode(d) => d.feed(input, out),
        }
    }

    /// Ends the content, appending what was held back.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match self {
            BodyDecoder::Identity => {}
            BodyDecoder::Base64(d) => d.finish(out),
            BodyDecoder::QuotedPrintable(d) => d.finish(out),
            BodyDecoder::Uuencode(d) => d.finish(out),
        }
    }

    /// The problems met so far; None when the content is copied.
    pub fn damage(&self) -> Option<&Damage> {
        match self {
            BodyDecoder::Identity => None,
            BodyDecoder::Base64(d) => Some(d.damage()),
            BodyDecoder::QuotedPrintable(d) => Some(d.damage()),
            BodyDecoder::Uuencode(d) => Some(d.damage()),
        }
    }
}

#[cfg(test)]
mod tests;
