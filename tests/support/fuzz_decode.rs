//! Arbitrary bytes through `mailkit::decode`: the streaming decoders must
//! not depend on the chunking and must agree with simple reference
//! decoders written from their documentation; the encoders' output must
//! decode back exactly and cleanly; the header, parameter and HTML
//! functions must not panic, must keep their output invariants, and must
//! run in linear time.

use crate::chunking::{chunk_sizes, chunks};
use crate::linear_time::assert_linear;

use std::io::Write;

use mailkit::decode::rfc2047::{Lookup, encoded_word};
use mailkit::decode::{
    BodyDecoder, Damage, UuEvent, UuScanner, decode_header_text, header_text, html_to_text, param,
    parse_disposition, parse_mime_value, to_utf8,
};
use mailkit::encode::{Base64Writer, LineEndings, Newline, QuotedPrintableWriter};
use mailkit::grammar::lex::Mode;

/// Property 1: the transfer decoders and the uuencode scanner never panic;
/// any chunking gives the same output and damage, which match the
/// reference decoders below.
pub fn transfer_decoders(data: &[u8]) {
    let [seed, content @ ..] = data else {
        return;
    };
    let sizes = chunk_sizes(u32::from(*seed) << 8 | 0x5a);
    for cte in ["base64", "quoted-printable", "8bit"] {
        let whole = decode(cte, content, &[content.len().max(1)]);
        assert_eq!(decode(cte, content, &sizes), whole, "{cte}");
        assert_eq!(decode(cte, content, &[1]), whole, "{cte}");
        let reference = match cte {
            "base64" => reference_base64(content),
            "quoted-printable" => reference_qp(content),
            _ => (content.to_vec(), None),
        };
        assert_eq!(whole, reference, "{cte}");
    }
    check_uu(content);
    for charset in [None, Some("utf-8"), Some("iso-2022-jp"), Some("x-unknown")] {
        let (text, valid) = to_utf8(content, charset);
        if charset == Some("utf-8") {
            assert_eq!(valid, std::str::from_utf8(content).is_ok());
            assert!(valid || text.contains('\u{FFFD}'));
        }
    }
}

/// Property 2: what the encoders of `mailkit::encode` write decodes back
/// exactly (line ends normalised for `LineEndings::Text`) and cleanly,
/// whatever the chunking.
pub fn round_trip(data: &[u8]) {
    let [flags, seed, content @ ..] = data else {
        return;
    };
    let newline = if flags & 1 == 0 {
        Newline::Lf
    } else {
        Newline::CrLf
    };
    let endings = if flags & 2 == 0 {
        LineEndings::Text
    } else {
        LineEndings::Exact
    };
    let sizes = chunk_sizes(u32::from(*seed) << 8 | 0x5a);
    let mut b64 = Base64Writer::new(Vec::new(), newline);
    b64.write_all(content).unwrap();
    let encoded = b64.finish().unwrap();
    let (out, damage) = decode("base64", &encoded, &sizes);
    assert_eq!(out, content);
    assert_eq!(damage, Some(Damage::default()));
    let mut qp = QuotedPrintableWriter::new(Vec::new(), newline, endings);
    qp.write_all(content).unwrap();
    let encoded = qp.finish().unwrap();
    let (out, damage) = decode("quoted-printable", &encoded, &sizes);
    assert_eq!(out, expected_text(content, endings, newline));
    assert_eq!(damage, Some(Damage::default()));
}

/// Property 3: header text, MIME parameters and HTML never panic, keep
/// their invariants, and (for one input in 32, to keep fuzzing fast) take
/// time linear in their input.
pub fn text_decoders(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_header_text(&text);
    check_mime_value(&text);
    check_html(&text);
    let raw = header_text(data);
    assert!(
        data.is_empty() || !raw.is_empty() || only_encoded_words(&text),
        "{text:?} decoded to nothing"
    );
    if data.len() % 32 == 31 {
        assert_linear(&text, 8192, decode_all);
    }
}

/// Whether `text` is only encoded-words, read leniently, with white space
/// between them (dropped, RFC 2047 §6.2): the one text that may decode to
/// nothing, as an encoded-word's text may be empty (`=?utf-8?B??=`; Python's
/// email package reads it so too).
fn only_encoded_words(text: &str) -> bool {
    let mut rest = text;
    loop {
        let Lookup::Word(word) = encoded_word(rest, Mode::Lenient) else {
            return false;
        };
        rest = &rest[word.len..];
        if rest.is_empty() {
            return true;
        }
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
    }
}

fn decode(cte: &str, content: &[u8], sizes: &[usize]) -> (Vec<u8>, Option<Damage>) {
    let mut decoder = BodyDecoder::for_encoding(Some(cte));
    let mut out = Vec::new();
    for chunk in chunks(content, sizes) {
        decoder.feed(chunk, &mut out);
    }
    decoder.finish(&mut out);
    (out, decoder.damage().cloned())
}

/// Base64 as `Base64Decoder` documents it, the whole input at once.
fn reference_base64(input: &[u8]) -> (Vec<u8>, Option<Damage>) {
    let mut damage = Damage::default();
    let pad_at = input.iter().position(|&c| c == b'=');
    let (data, tail) = input.split_at(pad_at.unwrap_or(input.len()));
    let mut sextets = Vec::new();
    for &c in data {
        match sextet(c) {
            Some(v) => sextets.push(v),
            None if b" \t\r\n".contains(&c) => {}
            None => damage.invalid_chars += 1,
        }
    }
    let mut out = Vec::new();
    for quad in sextets.chunks(4) {
        let n = (0..4).fold(0u32, |n, i| n << 6 | quad.get(i).copied().unwrap_or(0));
        let take = match quad.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => 0,
        };
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    let rem = sextets.len() % 4;
    damage.truncated = rem == 1;
    if pad_at.is_none() {
        damage.bad_padding = rem >= 2;
    } else {
        let (pads, after) = padding_zone(tail);
        damage.after_padding = after;
        damage.bad_padding = rem < 2 || pads != 4 - rem;
    }
    (out, Some(damage))
}

fn sextet(c: u8) -> Option<u32> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    alphabet.iter().position(|&a| a == c).map(|i| i as u32)
}

/// The '=' of the padding (up to the first other non-space character) and
/// the non-space characters after it.
fn padding_zone(tail: &[u8]) -> (usize, u64) {
    let mut pads = 0;
    let mut after = 0;
    for &c in tail {
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'=' if after == 0 => pads += 1,
            _ => after += 1,
        }
    }
    (pads, after)
}

/// Quoted-printable as `QuotedPrintableDecoder` documents it, line by line.
fn reference_qp(input: &[u8]) -> (Vec<u8>, Option<Damage>) {
    let mut out = Vec::new();
    let mut bad = 0;
    let mut pieces = input.split(|&b| b == b'\n').peekable();
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        let (body, newline): (&[u8], &[u8]) = match piece.strip_suffix(b"\r") {
            _ if last => (piece, b""),
            Some(body) => (body, b"\r\n"),
            None => (piece, b"\n"),
        };
        let trailing = body
            .iter()
            .rev()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let body = &body[..body.len() - trailing.min(1024)];
        let (body, newline) = match body.strip_suffix(b"=") {
            Some(body) => (body, &b""[..]),
            None => (body, newline),
        };
        bad += reference_qp_text(body, &mut out);
        out.extend_from_slice(newline);
    }
    let damage = Damage {
        bad_escapes: bad,
        ..Damage::default()
    };
    (out, Some(damage))
}

/// Decodes "=XX" in a line without its end; returns the malformed "=" count.
fn reference_qp_text(body: &[u8], out: &mut Vec<u8>) -> u64 {
    let mut bad = 0;
    let mut i = 0;
    while let Some(&b) = body.get(i) {
        let hex = body.get(i + 1..i + 3).and_then(|h| {
            let h = std::str::from_utf8(h).ok()?;
            let ok = h.bytes().all(|c| c.is_ascii_hexdigit());
            ok.then(|| u8::from_str_radix(h, 16).ok()).flatten()
        });
        match (b, hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'=', None) => {
                bad += 1;
                out.push(b);
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    bad
}

fn expected_text(content: &[u8], endings: LineEndings, newline: Newline) -> Vec<u8> {
    if endings == LineEndings::Exact {
        return content.to_vec();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = content.get(i) {
        if b == b'\r' || b == b'\n' {
            out.extend_from_slice(newline.as_bytes());
            i += if content[i..].starts_with(b"\r\n") {
                2
            } else {
                1
            };
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// Uuencode: data is only appended while a file is open, and a line
/// outside a file is text unless it begins one.
fn check_uu(content: &[u8]) {
    let mut scanner = UuScanner::new();
    let mut out = Vec::new();
    for line in content.split_inclusive(|&b| b == b'\n') {
        let open = scanner.is_open();
        let before = out.len();
        let event = scanner.line(line, &mut out);
        match event {
            UuEvent::Text => assert!(!open && !scanner.is_open()),
            UuEvent::Begin { .. } => assert!(scanner.is_open()),
            UuEvent::Data => assert!(open && scanner.is_open()),
            UuEvent::End | UuEvent::Truncated => assert!(open && !scanner.is_open()),
        }
        if !matches!(event, UuEvent::Data | UuEvent::End) && !open {
            assert_eq!(out.len(), before);
        }
    }
    let open = scanner.is_open();
    assert_eq!(scanner.finish(&mut out), open);
}

fn check_header_text(text: &str) {
    let decoded = decode_header_text(text);
    if !text.contains("=?") {
        assert_eq!(decoded, text);
    }
}

fn check_mime_value(text: &str) {
    let (kind, params) = parse_mime_value(text);
    if let Some(kind) = kind {
        assert_eq!(kind, kind.to_ascii_lowercase());
        assert_eq!(kind.matches('/').count(), 1);
    }
    for (name, _) in &params {
        assert!(!name.is_empty() && *name == name.to_ascii_lowercase());
        assert!(param(&params, name).is_some());
    }
    let (disposition, _) = parse_disposition(text);
    assert!(disposition.is_none_or(|d| !d.is_empty() && !d.contains('/')));
}

fn check_html(text: &str) {
    let plain = html_to_text(text);
    assert_eq!(plain, plain.trim());
    assert!(!plain.contains("\n\n\n\n"), "{plain:?}");
    assert!(plain.lines().all(|l| l == l.trim_end()));
    assert!(!plain.contains(['\u{200B}', '\u{FEFF}', '\u{AD}']));
}

/// The decoders' work on `text`, for the linear-time check.
fn decode_all(text: &str) {
    std::hint::black_box(decode_header_text(text));
    std::hint::black_box(parse_mime_value(text));
    std::hint::black_box(html_to_text(text));
}
