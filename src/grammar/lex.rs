//! The lexical layer every header grammar shares (RFC 5322 §3.2, RFC 2045
//! §5.1): white space, comments and CFWS, quoted strings with their
//! quoted-pairs, RFC 2045 tokens, and hexadecimal pairs.
//!
//! One [`Cursor`] reads a field value by bytes and keeps byte offsets, so
//! that a checker can point at the problem. It has two modes: [`Mode::Strict`]
//! stops at the first problem (an unterminated comment or quoted string, a
//! control character where none may be), [`Mode::Lenient`] reads on the way
//! real mail readers do: an unterminated comment or quoted string runs to the
//! end of the value, and control characters are taken as they come.
//!
//! Input is hostile: nothing here panics, and every function runs in time
//! linear in its input (nested comments are counted, not recursed).

/// How a grammar treats what its RFC does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stop at the first problem and say where it is (checking).
    Strict,
    /// Read on as mail readers do (reading): an unterminated comment or
    /// quoted string runs to the end of the value, control characters are
    /// data.
    Lenient,
}

/// Why a parse stopped: where (a byte offset in the value) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Byte offset into the value.
    pub offset: usize,
    /// What is wrong there.
    pub message: String,
}

impl Problem {
    /// A problem at `offset`.
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        Problem {
            offset,
            message: message.into(),
        }
    }
}

/// The result of one step of a parse.
pub type Parsed<T> = Result<T, Problem>;

/// WSP (RFC 5234): a space or a horizontal tab.
pub fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// White space in a field value: WSP, and the CR and LF of a fold that an
/// unfolded value may still hold (RFC 5322 §3.2.2).
pub fn is_fws_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A control character that no quoted string or comment may hold.
pub fn is_ctl(b: u8) -> bool {
    b.is_ascii_control() && !is_fws_byte(b)
}

/// RFC 2045 §5.1 token characters: printable ASCII but tspecials.
pub fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// The byte that two hexadecimal digits (either case) stand for.
pub fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

/// Text from a value, quoted and escaped, cut after 40 characters: for
/// messages.
pub fn show(text: &str) -> String {
    let cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// A cursor over a structured field value; `pos` is a byte offset.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    /// The whole value.
    pub text: &'a str,
    /// Where the cursor stands.
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    /// The byte at the position.
    pub fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// The text from the position on.
    pub fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Whether the whole value is read.
    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Steps over `wanted` if it is next; whether it was.
    pub fn eat(&mut self, wanted: u8) -> bool {
        let found = self.peek() == Some(wanted);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The character at the position, for messages.
    pub fn found(&self) -> String {
        match self.rest().chars().next() {
            Some(c) => format!("{c:?}"),
            None => "the end of the value".into(),
        }
    }

    /// "expected `what`, found …" at the position.
    pub fn expected(&self, what: &str) -> Problem {
        Problem::new(self.pos, format!("expected {what}, found {}", self.found()))
    }

    /// The run of bytes that `keep` accepts, and where it starts. The
    /// predicates used treat all non-ASCII bytes alike, so runs end on
    /// character boundaries.
    pub fn take(&mut self, keep: impl Fn(u8) -> bool) -> (usize, &'a str) {
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..).unwrap_or_default();
        self.pos += rest.iter().take_while(|&&b| keep(b)).count();
        (start, self.text.get(start..self.pos).unwrap_or_default())
    }

    /// A run of RFC 2045 token characters.
    pub fn token(&mut self) -> &'a str {
        self.take(is_token_byte).1
    }

    /// Skips CFWS (RFC 5322 §3.2.2): white space and comments, nested ones
    /// too; whether anything was skipped. Strict: an unterminated comment or
    /// a control character in one is a problem. Lenient: an unterminated
    /// comment runs to the end of the value, and never fails.
    pub fn skip_cfws(&mut self, mode: Mode) -> Parsed<bool> {
        let start = self.pos;
        loop {
            self.take(is_fws_byte);
            if self.peek() != Some(b'(') {
                return Ok(self.pos > start);
            }
            self.comment(mode)?;
        }
    }

    /// A comment, nesting counted; the cursor stands on its '('.
    pub fn comment(&mut self, mode: Mode) -> Parsed<()> {
        let open = self.pos;
        let mut depth = 0usize;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => depth += 1,
                b')' if depth <= 1 => return Ok(()),
                b')' => depth -= 1,
                b'\\' => self.quoted_pair(open, "comment", mode)?,
                _ if is_ctl(b) && mode == Mode::Strict => {
                    let message = format!("control character {:?} in a comment", b as char);
                    return Err(Problem::new(self.pos - 1, message));
                }
                _ => {}
            }
        }
        match mode {
            Mode::Strict => Err(Problem::new(open, "unterminated comment: missing ')'")),
            Mode::Lenient => Ok(()),
        }
    }

    /// The byte after a backslash (RFC 5322 §3.2.1 quoted-pair: WSP or
    /// VCHAR, UTF-8 per RFC 6532), stepped over. Strict: a missing one ends
    /// the comment or string unterminated, a control character is a problem.
    fn quoted_pair(&mut self, open: usize, inside: &str, mode: Mode) -> Parsed<()> {
        let at = self.pos;
        match self.peek() {
            None if mode == Mode::Strict => {
                Err(Problem::new(open, format!("unterminated {inside}")))
            }
            Some(b) if is_ctl(b) && mode == Mode::Strict => Err(Problem::new(
                at,
                format!("control character {:?} after '\\'", b as char),
            )),
            None => Ok(()),
            Some(_) => {
                self.pos += 1;
                Ok(())
            }
        }
    }

    /// The content of a quoted string (RFC 5322 §3.2.4), quoted-pairs
    /// undone and the CR and LF of folds removed; the cursor stands on its
    /// '"'. Strict: an unterminated string or a control character is a
    /// problem. Lenient: an unterminated string runs to the end of the
    /// value, and never fails.
    pub fn quoted_string(&mut self, mode: Mode) -> Parsed<String> {
        let open = self.pos;
        self.pos += 1;
        let mut content = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => return Ok(String::from_utf8_lossy(&content).into_owned()),
                b'\\' => {
                    let at = self.pos;
                    self.quoted_pair(open, "quoted string", mode)?;
                    content.extend(self.text.as_bytes().get(at..self.pos).unwrap_or_default());
                }
                b'\r' | b'\n' => {}
                _ if is_ctl(b) && mode == Mode::Strict => {
                    let message = format!("control character {:?} in a quoted string", b as char);
                    return Err(Problem::new(self.pos - 1, message));
                }
                _ => content.push(b),
            }
        }
        match mode {
            Mode::Strict => Err(Problem::new(
                open,
                "unterminated quoted string: missing closing '\"'",
            )),
            Mode::Lenient => Ok(String::from_utf8_lossy(&content).into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(text: &str, mode: Mode) -> Parsed<usize> {
        let mut cur = Cursor::new(text);
        cur.skip_cfws(mode).map(|_| cur.pos)
    }

    #[test]
    fn cfws_nested_comments_and_folds() {
        for mode in [Mode::Strict, Mode::Lenient] {
            assert_eq!(skipped(" (a (b) \\) c)\r\n\tx", mode), Ok(16));
            assert_eq!(skipped("x", mode), Ok(0));
        }
    }

    #[test]
    fn an_unterminated_comment_fails_strict_and_runs_to_the_end_lenient() {
        let strict = skipped("  (open (nested)", Mode::Strict).unwrap_err();
        assert_eq!(strict.offset, 2);
        assert!(strict.message.contains("unterminated comment"));
        assert_eq!(skipped("  (open (nested)", Mode::Lenient), Ok(16));
        assert_eq!(skipped("(a\\", Mode::Lenient), Ok(3));
        assert!(skipped("(a\\", Mode::Strict).is_err());
    }

    #[test]
    fn control_characters_only_matter_when_strict() {
        assert_eq!(skipped("(a\u{1}b) x", Mode::Strict).unwrap_err().offset, 2);
        assert_eq!(skipped("(a\u{1}b) x", Mode::Lenient), Ok(6));
        let err = skipped("(a\\\u{1})", Mode::Strict).unwrap_err();
        assert_eq!((err.offset, err.message.contains("after '\\'")), (3, true));
    }

    #[test]
    fn quoted_strings() {
        let read = |text: &str, mode| Cursor::new(text).quoted_string(mode);
        for mode in [Mode::Strict, Mode::Lenient] {
            assert_eq!(read("\"a\\\"b\\\\c;é\"", mode).unwrap(), "a\"b\\c;é");
            assert_eq!(read("\"a\r\n b\"", mode).unwrap(), "a b");
        }
        assert_eq!(read("\"open", Mode::Lenient).unwrap(), "open");
        assert_eq!(read("\"open", Mode::Strict).unwrap_err().offset, 0);
        assert_eq!(read("\"a\u{0}\"", Mode::Lenient).unwrap(), "a\u{0}");
        assert_eq!(read("\"a\u{0}\"", Mode::Strict).unwrap_err().offset, 2);
    }

    #[test]
    fn tokens_and_hex() {
        assert_eq!(Cursor::new("text/plain").token(), "text");
        assert!(!is_token_byte(b'=') && is_token_byte(b'*'));
        assert_eq!(hex_pair(b'f', b'F'), Some(0xff));
        assert_eq!(hex_pair(b'g', b'0'), None);
    }
}
