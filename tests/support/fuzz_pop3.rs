//! Arbitrary bytes as what a POP3 server sends, cut into lines the way
//! `Connection::read_line` cuts them (at LF, one CR before it dropped),
//! through the public parsers of `mailkit::pop3`:
//!
//! - every line through `Response::parse`: nothing panics; a line is
//!   accepted exactly when it starts with `+OK` or `-ERR` (any case)
//!   followed by the end or a space (RFC 1939 §3); the response code is
//!   what RFC 2449 §8 brackets at the start of the text (white space
//!   before it skipped, upper case), the text the rest; `line()` parses
//!   back to the same response; `failure_kind` follows the code's first
//!   levels, unknown deeper levels ignored (RFC 2449 §8, RFC 3206);
//! - the lines after the first up to a `.` line, un-stuffed as the
//!   session's multi-line reader un-stuffs them, through
//!   `Capabilities::parse` (as text; each tag in any case, RFC 2449 §5)
//!   and `parse_numbered_line` (as octets; RFC 1939 §5, §7: accepted
//!   exactly when the first word is a decimal number from 1 to the count
//!   and a second word follows, which is the value);
//! - every such line and value through `escape_uidl`: the output is only
//!   octets 0x21–0x7E, is the input itself when that already is and has no
//!   `%`, and unescapes back to the input; two UIDL lines whose values
//!   differ as octets never give the same escaped key.

use mailkit::ErrorKind;
use mailkit::pop3::{Capabilities, Response, escape_uidl, parse_numbered_line};

/// The message counts (STAT's) each numbered line is checked against.
const COUNTS: [u32; 5] = [0, 1, 9, 300, u32::MAX];

/// Checks one fuzz input (see the module comment).
pub fn pop3_response(data: &[u8]) {
    let lines: Vec<&[u8]> = wire_lines(data).collect();
    for line in &lines {
        check_response(line);
    }
    let body = multi_line_body(&lines);
    check_uidl_keys(&body);
    let text: Vec<String> = body.iter().map(|line| lossy(line)).collect();
    check_capabilities(&text);
    for line in &body {
        check_escape(line);
        for count in COUNTS {
            check_numbered(line, count);
        }
    }
}

/// The lines `Connection::read_line` returns: each up to an LF, without
/// it and without one CR before it; an unterminated end is no line.
fn wire_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pieces: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    pieces.pop();
    pieces
        .into_iter()
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// The lines of a multi-line response as the session reads them: after
/// the status line, up to the `.` line (or the end), one leading `.`
/// taken off (CAPA's are then made text, LIST's and UIDL's are not).
fn multi_line_body<'a>(lines: &[&'a [u8]]) -> Vec<&'a [u8]> {
    lines
        .iter()
        .skip(1)
        .take_while(|line| **line != b".")
        .map(|line| line.strip_prefix(b".").unwrap_or(line))
        .collect()
}

/// One status line against the model, then its round trip and its kind.
fn check_response(line: &[u8]) {
    let parsed = Response::parse(line);
    let Some(expected) = model_response(line) else {
        assert!(parsed.is_err(), "{:?} accepted: {parsed:?}", lossy(line));
        return;
    };
    let response = parsed.unwrap_or_else(|e| panic!("{:?} refused: {e}", lossy(line)));
    assert_eq!(response, expected, "{:?}", lossy(line));
    let again = Response::parse(response.line().as_bytes());
    assert_eq!(
        again.as_ref().ok(),
        Some(&response),
        "{:?} printed as {:?}",
        lossy(line),
        response.line()
    );
    assert_eq!(response.server_reply().text, response.line());
    for otherwise in [ErrorKind::Protocol, ErrorKind::AuthRefused] {
        let kind = model_failure_kind(response.code.as_deref(), otherwise);
        assert_eq!(response.failure_kind(otherwise), kind, "{:?}", lossy(line));
        assert_eq!(response.error("TEST", otherwise).kind(), kind);
    }
}

/// The response a line is by RFC 1939 §3 and RFC 2449 §8: the status
/// word in any case, then the end or a space; white space before the
/// text skipped; a non-empty bracketed code at its start taken (upper
/// case), with the white space after it.
fn model_response(line: &[u8]) -> Option<Response> {
    let (ok, rest) = [(true, &b"+OK"[..]), (false, &b"-ERR"[..])]
        .into_iter()
        .find_map(|(ok, status)| {
            let head = line.get(..status.len())?;
            let rest = &line[status.len()..];
            let ends = rest.first().is_none_or(|&b| b == b' ');
            (head.eq_ignore_ascii_case(status) && ends).then_some((ok, rest))
        })?;
    let rest = lossy(rest);
    let rest = rest.trim_start();
    let bracketed = rest
        .strip_prefix('[')
        .and_then(|r| r.find(']').map(|end| (&r[..end], &r[end + 1..])));
    let (code, text) = match bracketed {
        Some((code, text)) if !code.is_empty() => {
            (Some(code.to_ascii_uppercase()), text.trim_start())
        }
        _ => (None, rest),
    };
    Some(Response {
        ok,
        code,
        text: text.to_string(),
    })
}

/// What a response code means (RFC 2449 §8, RFC 3206): the levels a
/// client knows decide, deeper unknown levels are ignored; a `SYS` code
/// that says neither `TEMP` nor `PERM` says nothing.
fn model_failure_kind(code: Option<&str>, otherwise: ErrorKind) -> ErrorKind {
    let levels: Vec<&str> = code.map(|c| c.split('/').collect()).unwrap_or_default();
    match levels.as_slice() {
        ["IN-USE", ..] | ["LOGIN-DELAY", ..] | ["SYS", "TEMP", ..] => ErrorKind::Deferred,
        ["SYS", "PERM", ..] => ErrorKind::Refused,
        ["AUTH", ..] => ErrorKind::AuthRefused,
        _ => otherwise,
    }
}

/// CAPA's lines: each capability is set exactly when a line's first word
/// is its tag (any case); the arguments are the words after the tag of
/// the last line that names it.
fn check_capabilities(lines: &[String]) {
    let caps = Capabilities::parse(lines);
    assert!(caps.known);
    assert_eq!(caps.lines, lines);
    let last = |tag: &str| -> Option<Vec<&str>> {
        lines.iter().rev().find_map(|line| {
            let mut words = line.split_whitespace();
            let first = words.next()?;
            first.eq_ignore_ascii_case(tag).then(|| words.collect())
        })
    };
    assert_eq!(caps.stls, last("STLS").is_some());
    assert_eq!(caps.pipelining, last("PIPELINING").is_some());
    assert_eq!(caps.uidl, last("UIDL").is_some());
    assert_eq!(caps.top, last("TOP").is_some());
    assert_eq!(caps.user, last("USER").is_some());
    assert_eq!(caps.resp_codes, last("RESP-CODES").is_some());
    assert_eq!(caps.sasl, last("SASL").unwrap_or_default());
    assert!(
        caps.sasl
            .iter()
            .all(|m| !m.is_empty() && !m.contains(char::is_whitespace))
    );
    let delay = last("LOGIN-DELAY").and_then(|args| args.first().map(|a| a.to_string()));
    assert_eq!(caps.login_delay, delay);
    let implementation = last("IMPLEMENTATION").map(|args| args.join(" "));
    assert_eq!(caps.implementation, implementation);
}

/// A LIST or UIDL line against `count`: accepted exactly when the first
/// word is decimal digits naming 1 to `count` and a second word follows
/// (words split at ASCII white space), and the value is that word, as
/// the octets sent.
fn check_numbered(line: &[u8], count: u32) {
    let got = parse_numbered_line("LIST", line, count);
    let mut words = line
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    let number = words.next().and_then(|w| decimal(w, count));
    let expected = number.zip(words.next().map(<[u8]>::to_vec));
    match (got, expected) {
        (Ok(got), Some(expected)) => {
            assert_eq!(got, expected, "{:?} with {count} messages", lossy(line));
            check_escape(&got.1);
        }
        (Err(e), None) => assert_eq!(e.kind(), ErrorKind::Protocol),
        (got, expected) => panic!(
            "{:?} with {count} messages: {got:?}, expected {expected:?}",
            lossy(line)
        ),
    }
}

/// The message number a word of decimal digits names, when it is 1 to
/// `count` (leading zeros allowed, no sign, however many digits).
fn decimal(word: &[u8], count: u32) -> Option<u32> {
    if word.is_empty() || !word.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = lossy(word);
    let digits = digits.trim_start_matches('0');
    if digits.len() > 10 {
        return None;
    }
    let number = digits.parse::<u64>().unwrap_or(0);
    (1..=u64::from(count))
        .contains(&number)
        .then(|| u32::try_from(number).unwrap())
}

/// `escape_uidl`: printable ASCII only, unchanged when the input is
/// already that without `%`, and undone by [`unescape`].
fn check_escape(uidl: &[u8]) {
    let escaped = escape_uidl(uidl);
    assert!(
        escaped.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{:?} escaped as {escaped:?}",
        lossy(uidl)
    );
    if uidl.iter().all(|b| (0x21..=0x7e).contains(b) && *b != b'%') {
        assert_eq!(escaped.as_bytes(), uidl);
    }
    assert_eq!(unescape(&escaped), uidl, "{:?} as {escaped:?}", lossy(uidl));
}

/// The octets a `%XX`-escaped UIDL stands for.
fn unescape(escaped: &str) -> Vec<u8> {
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).filter(|_| bytes[at] == b'%');
        match hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    out
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The state keys a UIDL response gives (RFC 1939 §7): two messages with
/// different UIDLs, as octets on the wire, must not share a key, or one
/// is taken for the other (`--new` skips it, `--delete` deletes it
/// unfetched). Each line is read as the session reads it (un-stuffed),
/// its value escaped.
fn check_uidl_keys(body: &[&[u8]]) {
    let mut keys = std::collections::HashMap::new();
    for raw in body {
        let Ok((_, value)) = parse_numbered_line("UIDL", raw, u32::MAX) else {
            continue;
        };
        let Some(wire) = raw
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
            .nth(1)
        else {
            continue;
        };
        if let Some(other) = keys.insert(escape_uidl(&value), wire.to_vec()) {
            assert_eq!(other, wire, "two UIDLs, one key {:?}", escape_uidl(&value));
        }
    }
}
