//! Tests of the decoders: chunkings, damage, round trips with the encoders.

use super::quoted_printable::QP_MAX_TRAILING;
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
        Some("x-unknown"),
        Some(""),
    ] {
        assert_eq!(decode(cte, b"QUJD=41"), (b"QUJD=41".to_vec(), None));
    }
    for cte in ["x-uuencode", "X-UUE", "uuencode"] {
        assert_eq!(
            decode(Some(cte), b"begin 644 a\n#04)#\n`\nend\n"),
            (b"ABC".to_vec(), Some(Damage::default()))
        );
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
    assert_eq!(
        to_utf8(b"Gr+APw-+AN8-e", Some("UTF-7")),
        ("Grüße".into(), true)
    );
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
        "utf-7",
        "UTF-7",
    ] {
        assert!(is_known_charset(label), "{label}");
    }
    for label in ["", "x-martian", "unknown-8bit", "iso-2022-kr"] {
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

#[test]
fn utf7_encoded_words_are_decoded() {
    // As Outlook 2000 wrote them: Q and B forms (RFC 2047 §4, RFC 2152).
    assert_eq!(
        decode_header_text("=?utf-7?Q?Gr+APw-+AN8-e_aus_K+APY-ln?="),
        "Grüße aus Köln"
    );
    // base64 of "Caf+AOk-"
    assert_eq!(decode_header_text("=?UTF-7?B?Q2FmK0FPay0=?="), "Café");
}
