//! Arbitrary bytes, cut into arbitrary chunks, through every encoder of
//! `mailkit::encode`: the output must not depend on the chunking, must keep
//! to the line limits, and must decode back to the content.

use crate::chunking::{chunk_sizes, chunks};

use std::io::Write;

use mailkit::encode::{
    Analysis, Base64Writer, LineEndings, Newline, QuotedPrintableWriter, SevenBitWriter,
    TransferEncoding,
};

/// Checks one fuzz input (see the module comment).
pub fn check(data: &[u8]) {
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
    let sizes = chunk_sizes(u32::from(*flags) << 8 | u32::from(*seed));
    check_analysis(content, &sizes, endings, newline);
    check_base64(content, &sizes, newline);
    check_qp(content, &sizes, endings, newline);
    check_seven_bit(content, &sizes, endings, newline);
}

fn write_all<W: Write>(w: &mut W, content: &[u8], sizes: &[usize]) -> std::io::Result<()> {
    chunks(content, sizes)
        .into_iter()
        .try_for_each(|c| w.write_all(c))
}

fn check_analysis(content: &[u8], sizes: &[usize], endings: LineEndings, newline: Newline) {
    let whole = Analysis::of(content);
    let mut cut = Analysis::new();
    chunks(content, sizes)
        .into_iter()
        .for_each(|c| cut.update(c));
    cut.finish();
    assert_eq!(facts(&whole), facts(&cut));
    assert_eq!(whole.is_utf8(), std::str::from_utf8(content).is_ok());
    assert_eq!(whole.is_ascii(), content.is_ascii());
    assert_eq!(whole.has_nul(), content.contains(&0));
    let longest = content
        .split(|&b| b == b'\r' || b == b'\n')
        .map(<[u8]>::len)
        .max();
    assert_eq!(whole.max_line_len(), longest.unwrap_or(0) as u64);
    if whole.choose(endings, newline) == TransferEncoding::SevenBit {
        let mut w = SevenBitWriter::new(Vec::new(), newline, endings);
        write_all(&mut w, content, sizes).expect("7bit content");
        let out = w.finish().unwrap();
        assert!(!out.windows(2).any(|w| w == b"=_"));
        assert!(lines(&out, newline).iter().all(|l| l.len() <= 998));
        let data = lines(&out, newline).concat();
        assert!(
            !data.contains(&b'\r') && !data.contains(&b'\n'),
            "line ends are the newline"
        );
    }
}

fn facts(a: &Analysis) -> String {
    let choices = [LineEndings::Text, LineEndings::Exact]
        .map(|e| [Newline::Lf, Newline::CrLf].map(|n| a.choose(e, n)));
    format!(
        "{} {} {} {} {} {} {} {} {} {} {} {} {choices:?}",
        a.len(),
        a.is_ascii(),
        a.is_utf8(),
        a.has_nul(),
        a.eight_bit_bytes(),
        a.max_line_len(),
        a.has_bare_cr(),
        a.has_bare_lf(),
        a.has_crlf(),
        a.ends_with_newline(),
        a.has_eq_underscore(),
        a.is_certainly_binary(),
    )
}

fn check_base64(content: &[u8], sizes: &[usize], newline: Newline) {
    let encode = |sizes: &[usize]| {
        let mut w = Base64Writer::new(Vec::new(), newline);
        write_all(&mut w, content, sizes).unwrap();
        w.finish().unwrap()
    };
    let out = encode(sizes);
    assert_eq!(out, encode(&[content.len().max(1)]));
    let lines = lines(&out, newline);
    if let Some((last, full)) = lines.split_last() {
        assert!(full.iter().all(|l| l.len() == 76));
        assert!(last.len() <= 76 && last.is_empty() == content.is_empty());
    }
    assert_eq!(base64_decode(&lines.concat()), content);
}

fn check_qp(content: &[u8], sizes: &[usize], endings: LineEndings, newline: Newline) {
    let encode = |sizes: &[usize]| {
        let mut w = QuotedPrintableWriter::new(Vec::new(), newline, endings);
        write_all(&mut w, content, sizes).unwrap();
        w.finish().unwrap()
    };
    let out = encode(sizes);
    assert_eq!(out, encode(&[content.len().max(1)]));
    for line in lines(&out, newline) {
        assert!(line.len() <= 76);
        assert!(
            line.iter()
                .all(|&b| (b' '..=b'~').contains(&b) || b == b'\t')
        );
        assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"));
        assert!(!line.starts_with(b"From "));
    }
    assert!(!out.windows(2).any(|w| w == b"=_"));
    assert_eq!(
        qp_decode(&out, newline),
        expected(content, endings, newline)
    );
}

fn check_seven_bit(content: &[u8], sizes: &[usize], endings: LineEndings, newline: Newline) {
    for allow_8bit in [false, true] {
        let mut w = SevenBitWriter::new(Vec::new(), newline, endings);
        if allow_8bit {
            w = w.allow_8bit();
        }
        let result = write_all(&mut w, content, sizes).and_then(|()| w.finish());
        let bad = content.contains(&0) || (!allow_8bit && !content.is_ascii());
        match result {
            Ok(out) => {
                assert!(!bad);
                assert_eq!(out, expected(content, endings, newline));
            }
            Err(e) => assert!(bad && e.kind() == std::io::ErrorKind::InvalidData),
        }
    }
}

/// The content as it should decode: with Text endings, every CR, LF and
/// CRLF becomes the newline.
fn expected(content: &[u8], endings: LineEndings, newline: Newline) -> Vec<u8> {
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

fn lines(out: &[u8], newline: Newline) -> Vec<&[u8]> {
    let nl = newline.as_bytes();
    let mut lines = Vec::new();
    let mut rest = out;
    while let Some(i) = rest.windows(nl.len()).position(|w| w == nl) {
        lines.push(&rest[..i]);
        rest = &rest[i + nl.len()..];
    }
    lines.push(rest);
    lines
}

fn base64_decode(text: &[u8]) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'+' => 62,
        b'/' => 63,
        other => panic!("not base64: {other:#x}"),
    };
    assert_eq!(text.len() % 4, 0);
    let mut out = Vec::new();
    for quad in text.chunks(4) {
        let pad = quad.iter().filter(|&&c| c == b'=').count();
        let n = quad[..4 - pad].iter().fold(0, |n, &c| n << 6 | value(c)) << (6 * pad);
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    out
}

/// A strict decoder: every '=' starts "=XX" in upper-case hex or ends the line.
fn qp_decode(out: &[u8], newline: Newline) -> Vec<u8> {
    let lines = lines(out, newline);
    let mut decoded = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let soft = line.ends_with(b"=");
        assert!(!soft || n + 1 < lines.len(), "no soft break at the end");
        let body = if soft { &line[..line.len() - 1] } else { line };
        let mut i = 0;
        while let Some(&b) = body.get(i) {
            if b == b'=' {
                let hex = std::str::from_utf8(&body[i + 1..i + 3]).unwrap();
                assert_eq!(hex, hex.to_ascii_uppercase());
                decoded.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                decoded.push(b);
                i += 1;
            }
        }
        if n + 1 < lines.len() && !soft {
            decoded.extend_from_slice(newline.as_bytes());
        }
    }
    decoded
}
