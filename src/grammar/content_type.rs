//! Content-Type (RFC 2045 §5.1) and Content-Disposition (RFC 2183 §2)
//! values: `type "/" subtype` (or a disposition type), then `; attribute
//! "=" value` parameters, the value a token or a quoted string, comments
//! allowed wherever CFWS is (RFC 2045 §5.1 and RFC 822 §3.1.4).
//!
//! The one parser of these values. [`Mode::Strict`] is what `rfc822-lint`
//! checks: parsing stops at the first problem, which is kept with its byte
//! offset. [`Mode::Lenient`] is what every reader uses
//! ([`crate::decode::parse_mime_value`]): like mail readers it takes a value
//! without its type, a missing ';' between parameters, unquoted values
//! with spaces or special characters, unterminated comments and quoted
//! strings, and skips the parameters it cannot read.
//!
//! Parameters are returned as written: RFC 2231 names (`name*0*`) and
//! values are left to [`crate::decode::rfc2231`].

use super::lex::{Cursor, Mode, Parsed, Problem, is_fws_byte, show};

/// One parameter as written: name, value (unquoted), and where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name as written, RFC 2231 marks included.
    pub name: &'a str,
    /// Where the name starts.
    pub name_at: usize,
    /// The value, quoted-pairs undone when it was quoted.
    pub value: String,
    /// Where the value starts (its '"' when quoted).
    pub value_at: usize,
    /// Whether the value was a quoted string.
    pub quoted: bool,
}

/// A Content-Type or Content-Disposition value as far as it parses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MimeValue<'a> {
    /// The type ("multipart") or the disposition type, as written; empty
    /// when absent.
    pub kind: &'a str,
    /// The subtype after '/', as written (possibly empty); None without '/'.
    pub subtype: Option<&'a str>,
    /// The parameters, in order.
    pub params: Vec<Param<'a>>,
    /// Strict mode: the first problem; parsing stopped there.
    pub problem: Option<Problem>,
    /// Where a ';' with nothing after it ends the value.
    pub trailing_semicolon: Option<usize>,
}

/// Parses a Content-Type value (`with_subtype`) or a Content-Disposition
/// value. In lenient mode the subtype is read whenever there is a '/', and
/// `problem` stays None.
pub fn parse(value: &str, with_subtype: bool, mode: Mode) -> MimeValue<'_> {
    let mut parsed = MimeValue::default();
    let mut cur = Cursor::new(value);
    let result = match mode {
        Mode::Strict => leading_strict(&mut cur, with_subtype, &mut parsed),
        Mode::Lenient => {
            leading_lenient(&mut cur, &mut parsed);
            Ok(())
        }
    };
    parsed.problem = result
        .and_then(|()| params(&mut cur, mode, &mut parsed))
        .err();
    parsed
}

/// Whether `text` is a media type "type/subtype" and nothing else but
/// comments and white space.
pub fn is_media_type(text: &str) -> bool {
    let parsed = parse(text, true, Mode::Strict);
    parsed.problem.is_none() && parsed.params.is_empty() && parsed.trailing_semicolon.is_none()
}

/// The type (and subtype) at the start, required.
fn leading_strict<'a>(
    cur: &mut Cursor<'a>,
    with_subtype: bool,
    parsed: &mut MimeValue<'a>,
) -> Parsed<()> {
    cur.skip_cfws(Mode::Strict)?;
    let kind = cur.token();
    if kind.is_empty() {
        return Err(cur.expected(match with_subtype {
            true => "a media type such as text/plain",
            false => "a disposition type (inline, attachment or an extension token)",
        }));
    }
    parsed.kind = kind;
    if with_subtype {
        parsed.subtype = Some(subtype(cur, kind)?);
    }
    Ok(())
}

/// "/" subtype, CFWS around the '/' allowed.
fn subtype<'a>(cur: &mut Cursor<'a>, kind: &str) -> Parsed<&'a str> {
    cur.skip_cfws(Mode::Strict)?;
    if !cur.eat(b'/') {
        return Err(cur.expected(&format!("'/' and a subtype after {}", show(kind))));
    }
    cur.skip_cfws(Mode::Strict)?;
    match cur.token() {
        "" => Err(cur.expected("a subtype after '/'")),
        subtype => Ok(subtype),
    }
}

/// The type and the subtype if there is a '/'; nothing when the value
/// starts with a parameter.
fn leading_lenient<'a>(cur: &mut Cursor<'a>, parsed: &mut MimeValue<'a>) {
    let _ = cur.skip_cfws(Mode::Lenient);
    let kind = cur.token();
    let _ = cur.skip_cfws(Mode::Lenient);
    match cur.peek() {
        Some(b'/') => {
            cur.pos += 1;
            let _ = cur.skip_cfws(Mode::Lenient);
            parsed.subtype = Some(cur.token());
        }
        // No leading value at all: the first parameter starts the text.
        Some(b'=') => {
            cur.pos = 0;
            return;
        }
        _ => {}
    }
    parsed.kind = kind;
}

/// The parameters: `; name=value` to the end. Lenient: a missing ';' is
/// taken, and what is not a parameter is skipped to the next ';'.
fn params<'a>(cur: &mut Cursor<'a>, mode: Mode, parsed: &mut MimeValue<'a>) -> Parsed<()> {
    loop {
        cur.skip_cfws(mode)?;
        if cur.at_end() {
            return Ok(());
        }
        let semicolon = cur.pos;
        if cur.eat(b';') {
            cur.skip_cfws(mode)?;
            if cur.at_end() {
                parsed.trailing_semicolon = Some(semicolon);
                return Ok(());
            }
        } else if mode == Mode::Strict {
            return Err(after_value(cur, parsed.params.last()));
        }
        match param(cur, mode) {
            Ok(p) => parsed.params.push(p),
            Err(problem) if mode == Mode::Strict => return Err(problem),
            Err(_) => skip_to_semicolon(cur),
        }
    }
}

/// What is wrong where a ';' or the end was expected.
fn after_value(cur: &Cursor, last: Option<&Param>) -> Problem {
    let unquoted = last.filter(|p| !p.quoted);
    match (unquoted, cur.peek()) {
        (Some(p), Some(b)) if b.is_ascii_graphic() => Problem::new(
            cur.pos,
            format!(
                "unexpected {} in the value of {}: a value with special characters must \
                 be quoted (RFC 2045 §5.1)",
                cur.found(),
                show(p.name)
            ),
        ),
        _ => cur.expected("';' or the end of the value"),
    }
}

/// attribute "=" value, the value a token or a quoted string (lenient:
/// any unquoted text, see [`unquoted`]).
fn param<'a>(cur: &mut Cursor<'a>, mode: Mode) -> Parsed<Param<'a>> {
    let (name_at, name) = cur.take(super::lex::is_token_byte);
    if name.is_empty() {
        return Err(cur.expected("a parameter name"));
    }
    cur.skip_cfws(mode)?;
    if !cur.eat(b'=') {
        return Err(cur.expected(&format!("'=' after the parameter name {}", show(name))));
    }
    cur.skip_cfws(mode)?;
    let value_at = cur.pos;
    let quoted = cur.peek() == Some(b'"');
    let value = match (quoted, mode) {
        (true, _) => cur.quoted_string(mode)?,
        (false, Mode::Lenient) => unquoted(cur).to_string(),
        (false, Mode::Strict) => match cur.token() {
            "" => {
                let what = format!("a value for {}: a token or a quoted string", show(name));
                return Err(cur.expected(&what));
            }
            token => token.to_string(),
        },
    };
    Ok(Param {
        name,
        name_at,
        value,
        value_at,
        quoted,
    })
}

/// An unquoted value read leniently: up to ';', a comment, or the next
/// "name=" when the ';' before it is missing; spaces inside kept (a common
/// violation).
fn unquoted<'a>(cur: &mut Cursor<'a>) -> &'a str {
    let start = cur.pos;
    let mut end = start;
    loop {
        let rest = cur.rest();
        let len = rest
            .find(|c: char| c == ';' || c == '(' || (c.is_ascii() && is_fws_byte(c as u8)))
            .unwrap_or(rest.len());
        cur.pos += len;
        end = end.max(cur.pos);
        let _ = cur.skip_cfws(Mode::Lenient);
        if matches!(cur.peek(), None | Some(b';')) || at_param(cur) {
            return &cur.text[start..end];
        }
    }
}

/// Whether a "name=" starts here.
fn at_param(cur: &Cursor) -> bool {
    let rest = cur.rest();
    let len = rest
        .bytes()
        .take_while(|&b| super::lex::is_token_byte(b))
        .count();
    len > 0 && rest[len..].trim_start().starts_with('=')
}

/// Skips to the next ';' (not consumed), past any quoted strings.
fn skip_to_semicolon(cur: &mut Cursor) {
    while let Some(b) = cur.peek() {
        match b {
            b';' => return,
            b'"' => {
                let _ = cur.quoted_string(Mode::Lenient);
            }
            _ => cur.pos += cur.rest().chars().next().map_or(1, char::len_utf8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(parsed: &'a MimeValue) -> Vec<(&'a str, &'a str)> {
        parsed
            .params
            .iter()
            .map(|p| (p.name, p.value.as_str()))
            .collect()
    }

    #[test]
    fn one_parser_two_modes() {
        let value = "multipart/mixed (note); boundary*0=\"B\"; boundary*1=\"B\"";
        for mode in [Mode::Strict, Mode::Lenient] {
            let parsed = parse(value, true, mode);
            assert_eq!((parsed.kind, parsed.subtype), ("multipart", Some("mixed")));
            assert_eq!(names(&parsed), [("boundary*0", "B"), ("boundary*1", "B")]);
            assert_eq!(parsed.problem, None);
        }
    }

    #[test]
    fn strict_stops_where_lenient_reads_on() {
        let value = "text/plain; charset=utf-8 format=flowed (open";
        let strict = parse(value, true, Mode::Strict);
        assert_eq!(strict.problem.map(|p| p.offset), Some(26));
        let lenient = parse(value, true, Mode::Lenient);
        assert_eq!(
            names(&lenient),
            [("charset", "utf-8"), ("format", "flowed")]
        );
        assert_eq!(lenient.problem, None);
    }

    #[test]
    fn white_space_that_cfws_does_not_skip_ends_nothing() {
        let parsed = parse("a/b; x=1\u{c}2; y=\u{c}", true, Mode::Lenient);
        assert_eq!(names(&parsed), [("x", "1\u{c}2"), ("y", "\u{c}")]);
    }

    #[test]
    fn media_types() {
        assert!(is_media_type(" application/vnd.example (x) "));
        for bad in ["text", "text/plain garbage", "te xt/plain", "text/plain;"] {
            assert!(!is_media_type(bad), "{bad:?}");
        }
    }
}
