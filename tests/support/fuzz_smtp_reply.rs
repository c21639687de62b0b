//! Arbitrary bytes as what an SMTP server sends, cut into lines the way
//! `Connection::read_line` cuts them (at LF, one CR before it dropped),
//! through `mailkit::smtp::parse_reply_line`, gathered into replies by
//! `reply_from_lines` (as `read_reply` does; one code per reply), and
//! every 250 reply through
//! `Extensions::parse` as EHLO does. Nothing panics; a line is accepted
//! exactly when it has an RFC 5321 §4.2 reply code (`%x32-35 %x30-35
//! %x30-39`) followed by nothing, SP or `-`; the code, the last-line flag
//! and the text are what the line says (the text never holds the line
//! end, which the reader has taken off; a bare CR inside a line is kept
//! as text, and every sink makes it printable); the extensions are what
//! the keyword lines say, and SIZE never overflows.

use mailkit::smtp::{Extensions, Reply, parse_reply_line, reply_from_lines};
use mailkit::{Error, ErrorKind};

/// `read_reply`'s bound on the lines of one reply.
const MAX_REPLY_LINES: usize = 1000;

/// Checks one fuzz input (see the module comment): replies are read with
/// `reply_from_lines` one after another, as a session reads them, and
/// each must be what the grammar says of the lines it took.
pub fn smtp_reply(data: &[u8]) {
    let lines: Vec<&[u8]> = wire_lines(data).collect();
    let mut rest = &lines[..];
    while !rest.is_empty() {
        let mut taken = 0;
        let got = reply_from_lines(|| {
            let line = rest
                .get(taken)
                .ok_or_else(|| Error::new(ErrorKind::ConnectionLost, "closed"))?;
            taken += 1;
            Ok(line.to_vec())
        });
        let expected = model_reply(&rest[..taken]);
        match (got, expected) {
            (Ok(reply), Some(expected)) => {
                assert_eq!(reply, expected);
                if reply.code == 250 {
                    check_extensions(&reply);
                }
            }
            // The session stops at a broken or unfinished reply.
            (Err(_), None) => return,
            (got, expected) => panic!("{got:?}, expected {expected:?}"),
        }
        rest = &rest[taken..];
    }
}

/// The reply that `lines` make by the grammar, when they make a whole
/// one: every line well formed, all of one code, only the last marked
/// last, at most `MAX_REPLY_LINES` of them.
fn model_reply(lines: &[&[u8]]) -> Option<Reply> {
    let mut texts = Vec::new();
    let mut code = None;
    for (i, line) in lines.iter().enumerate() {
        let (this, last, text) = check_line(line)?;
        if code.is_some_and(|code| code != this) || texts.len() == MAX_REPLY_LINES {
            return None;
        }
        code = Some(this);
        texts.push(text);
        assert!(
            !last || i + 1 == lines.len(),
            "the reader went past a last line"
        );
    }
    let (_, last, _) = lines.last().and_then(|line| check_line(line))?;
    let code = code?;
    last.then_some(Reply { code, lines: texts })
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

/// One line against the RFC 5321 §4.2 grammar: `Reply-code [ SP
/// textstring ]` ends a reply, `Reply-code "-" [ textstring ]` goes on.
fn check_line(line: &[u8]) -> Option<(u16, bool, String)> {
    let grammar = match line {
        [a @ b'2'..=b'5', b @ b'0'..=b'5', c @ b'0'..=b'9', rest @ ..] => {
            let code = [a, b, c]
                .iter()
                .fold(0, |n, &&d| n * 10 + u16::from(d - b'0'));
            match rest.first() {
                None | Some(b' ') => Some((code, true)),
                Some(b'-') => Some((code, false)),
                Some(_) => None,
            }
        }
        _ => None,
    };
    let parsed = parse_reply_line(line);
    let Some((code, last)) = grammar else {
        assert!(parsed.is_err(), "{:?} accepted: {parsed:?}", lossy(line));
        return None;
    };
    let (got_code, got_last, text) =
        parsed.unwrap_or_else(|e| panic!("{:?} refused: {e}", lossy(line)));
    assert_eq!((got_code, got_last), (code, last), "{:?}", lossy(line));
    assert!((200..=599).contains(&got_code));
    assert_eq!(text, lossy(line.get(4..).unwrap_or_default()));
    Some((got_code, got_last, text))
}

/// The extensions are what the keyword lines (all but the greeting) say.
fn check_extensions(reply: &Reply) {
    let ext = Extensions::parse(reply);
    let keywords = &reply.lines[1..];
    assert_eq!(ext.lines, keywords);
    let offers = |name: &str| {
        keywords.iter().any(|line| {
            words(line)
                .first()
                .is_some_and(|k| k.eq_ignore_ascii_case(name))
        })
    };
    assert_eq!(ext.eight_bit_mime, offers("8BITMIME"));
    assert_eq!(ext.smtputf8, offers("SMTPUTF8"));
    assert_eq!(ext.pipelining, offers("PIPELINING"));
    assert_eq!(ext.chunking, offers("CHUNKING"));
    assert_eq!(ext.dsn, offers("DSN"));
    assert_eq!(ext.starttls, offers("STARTTLS"));
    assert_eq!(ext.enhanced_status, offers("ENHANCEDSTATUSCODES"));
    let mut auth = Vec::new();
    let mut size = None;
    for line in keywords {
        let words = words(line);
        match words.first() {
            Some(k) if k.eq_ignore_ascii_case("AUTH") => {
                auth.extend(words[1..].iter().map(|m| m.to_ascii_uppercase()));
            }
            Some(k) if k.eq_ignore_ascii_case("SIZE") => size = Some(words.get(1).copied()),
            _ => {}
        }
    }
    assert_eq!(ext.auth, auth);
    assert!(
        ext.auth
            .iter()
            .all(|m| !m.is_empty() && !m.contains(char::is_whitespace))
    );
    assert_eq!(ext.size.is_some(), size.is_some());
    if let (Some(limit), Some(Some(word))) = (ext.size, size) {
        check_size(limit, word);
    }
}

/// RFC 1870 `SIZE [1*DIGIT]`: a number that fits is the limit; one too
/// large for 64 bits is no limit (0), never a wrapped-around smaller one.
fn check_size(limit: u64, word: &str) {
    if word.bytes().all(|b| b.is_ascii_digit()) {
        let digits = word.trim_start_matches('0');
        let fits = digits.len() < 20 || (digits.len() == 20 && digits <= "18446744073709551615");
        let expected = if fits { digits.parse().unwrap_or(0) } else { 0 };
        assert_eq!(limit, expected, "SIZE {word:?}");
    } else if limit != 0 {
        assert_eq!(
            Some(limit),
            word.strip_prefix('+').and_then(|n| n.parse().ok())
        );
    }
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
