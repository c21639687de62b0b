//! Arbitrary text as a user's `--search` through
//! `mailkit::imap::search::Query` and onto the wire as `UID SEARCH` sends
//! it (`mailkit::imap::literal::Command`, with each kind of literal the
//! server may allow, with and without `CHARSET UTF-8`):
//!
//! - the text is either refused as a usage error (64), and then only for
//!   what the parser documents (CR, LF or NUL, an unclosed quote or
//!   parenthesis, a `)` too many, nothing at all), or it gives tokens;
//! - the tokens written back in the search syntax parse to the same tokens;
//! - the octets sent make exactly one command (RFC 3501 §2.2.1): lines
//!   without CR, LF or NUL, each but the last ending in a literal marker
//!   `{n}` or `{n+}` (RFC 3501 §4.3, RFC 7888) whose n octets follow, a
//!   go-ahead awaited before each synchronizing literal and never before
//!   another;
//! - reading the command back with the grammar of RFC 3501 §9 (atoms,
//!   quoted strings, literals, parenthesised lists, single spaces) gives
//!   the same tokens, `CHARSET UTF-8` first exactly when asked for a
//!   string that is not ASCII.

use mailkit::ErrorKind;
use mailkit::error::Error;
use mailkit::imap::literal::{Command, ImapWire, LITERAL_MINUS_MAX, Literals};
use mailkit::imap::search::{Query, Token};

/// The command's tag and name.
const START: &str = "a1 UID SEARCH";

/// Checks one input (see the module comment).
pub fn imap_search(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let query = match Query::parse(&text) {
        Ok(query) => query,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Usage, "{text:?}: {e}");
            assert!(may_be_refused(&text), "{text:?} refused: {e}");
            return;
        }
    };
    assert!(!query.tokens.is_empty());
    let typed = retyped(&query.tokens);
    let again = Query::parse(&typed).expect("tokens written back parse");
    assert_eq!(
        again.tokens, query.tokens,
        "{text:?} written back as {typed:?}"
    );
    for literals in [Literals::Synchronizing, Literals::Plus, Literals::Minus] {
        for charset in [false, true] {
            check_wire(&query, literals, charset);
        }
    }
}

/// Whether the parser may refuse `text`: it holds CR, LF or NUL, a quote
/// or a parenthesis (which may be unbalanced), or only white space.
fn may_be_refused(text: &str) -> bool {
    text.contains(['\r', '\n', '\0', '"', '(', ')']) || text.trim().is_empty()
}

/// The tokens typed again: atoms as they are, strings quoted with `\` and
/// `"` escaped.
fn retyped(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        match token {
            Token::Atom(atom) => out.push_str(atom),
            Token::Text(bytes) => {
                out.push('"');
                for c in String::from_utf8(bytes.clone())
                    .expect("typed text")
                    .chars()
                {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            Token::Open => out.push('('),
            Token::Close => out.push(')'),
        }
        out.push(' ');
    }
    out
}

/// Everything a command sends, as the server reads it, and how many
/// go-aheads it asked for.
#[derive(Default)]
struct Wire {
    sent: Vec<u8>,
    go_aheads: usize,
}

impl ImapWire for Wire {
    fn send_line(&mut self, line: &str, _: &str) -> Result<(), Error> {
        self.sent.extend_from_slice(line.as_bytes());
        self.sent.extend_from_slice(b"\r\n");
        Ok(())
    }
    fn send_literal(&mut self, data: &[u8], _: &str) -> Result<(), Error> {
        self.sent.extend_from_slice(data);
        Ok(())
    }
    fn read_line(&mut self) -> Result<Vec<u8>, Error> {
        self.go_aheads += 1;
        // The marker just sent ends the last line and must be synchronizing.
        let marker = marker(last_line(&self.sent)).expect("a go-ahead only after a marker");
        assert!(
            !marker.1,
            "a go-ahead awaited for a non-synchronizing literal"
        );
        Ok(b"+ go ahead".to_vec())
    }
    fn read_data(&mut self, _: u64, _: &mut dyn std::io::Write) -> Result<(), Error> {
        unreachable!("a search command reads no literal")
    }
}

/// The last complete line of `sent`, without its CRLF.
fn last_line(sent: &[u8]) -> &[u8] {
    let body = sent.strip_suffix(b"\r\n").expect("a line was sent");
    let start = body
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(0, |at| at + 2);
    &body[start..]
}

/// The literal marker `{n}` or `{n+}` ending `line`: its size and whether
/// it is non-synchronizing.
fn marker(line: &[u8]) -> Option<(usize, bool)> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = &inner[open + 1..];
    let (digits, plus) = match digits.strip_suffix(b"+") {
        Some(d) => (d, true),
        None => (digits, false),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((std::str::from_utf8(digits).ok()?.parse().ok()?, plus))
}

/// Sends `query` as `UID SEARCH` does and checks what went out.
fn check_wire(query: &Query, literals: Literals, charset: bool) {
    let mut wire = Wire::default();
    let mut start = START.to_string();
    let charset = charset && query.needs_charset();
    if charset {
        start.push_str(" CHARSET UTF-8");
    }
    let mut command = Command::new(&mut wire, literals, &start).expect("the start is text");
    for token in &query.tokens {
        match token {
            Token::Atom(atom) => command.raw(atom).expect("an atom goes"),
            Token::Text(text) => command.string(text).expect("a string goes"),
            Token::Open => command.open_list(),
            Token::Close => command.close_list(),
        };
    }
    let untagged = command.send().expect("sent");
    assert!(untagged.is_empty());
    let (line, synchronizing) = one_command(&wire.sent, literals);
    assert_eq!(wire.go_aheads, synchronizing);
    let rest = line
        .strip_prefix(START.as_bytes())
        .expect("the command starts with its tag and name");
    let rest = match charset {
        true => rest
            .strip_prefix(b" CHARSET UTF-8")
            .expect("CHARSET UTF-8 first"),
        false => rest,
    };
    let read = Reader::new(rest).tokens();
    assert_eq!(
        read.as_ref(),
        Ok(&query.tokens),
        "sent as {:?}",
        String::from_utf8_lossy(&wire.sent)
    );
}

/// One piece of a command as the server reads it.
enum Piece<'a> {
    /// Line text, CRLF excluded.
    Line(&'a [u8]),
    /// The octets of a literal.
    Literal(&'a [u8]),
}

/// Cuts `sent` into exactly one command: lines (without CR, LF or NUL)
/// and literals, each announced by the line before it; checks that each
/// literal's marker suits `literals`. Returns the command with every
/// literal's octets in place after its marker line (markers kept, so that
/// the reader sees `{n}` then the octets), and the number of synchronizing
/// literals.
fn one_command(sent: &[u8], literals: Literals) -> (Vec<u8>, usize) {
    let mut pieces = Vec::new();
    let mut at = 0;
    let mut synchronizing = 0;
    loop {
        let end = at
            + sent[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("every line ends with CRLF");
        let line = &sent[at..end];
        assert!(
            !line.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0),
            "CR, LF or NUL in a line: {line:?}"
        );
        pieces.push(Piece::Line(line));
        let Some((len, plus)) = marker(line) else {
            assert_eq!(end + 2, sent.len(), "octets after the command's last line");
            break;
        };
        match literals {
            Literals::Synchronizing => assert!(!plus),
            Literals::Plus => assert!(plus),
            Literals::Minus => assert_eq!(plus, len <= LITERAL_MINUS_MAX),
        }
        synchronizing += usize::from(!plus);
        at = end + 2 + len;
        assert!(at <= sent.len(), "a literal cut short");
        pieces.push(Piece::Literal(&sent[end + 2..at]));
    }
    let mut command = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Line(line) => command.extend_from_slice(line),
            // The reader knows the size from the marker: a NUL-free
            // separator cannot be told from data, so lengths decide.
            Piece::Literal(data) => command.extend_from_slice(data),
        }
    }
    (command, synchronizing)
}

/// Reads search keys by the grammar of RFC 3501 §9: items separated by
/// one space, `(` followed and `)` preceded by none.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Every token up to the end.
    fn tokens(mut self) -> Result<Vec<Token>, String> {
        let mut tokens = Vec::new();
        let mut glued = false;
        while self.pos < self.data.len() {
            if self.peek() == Some(b')') {
                self.pos += 1;
                tokens.push(Token::Close);
                glued = false;
                continue;
            }
            if !std::mem::take(&mut glued) {
                if self.peek() != Some(b' ') {
                    return Err(format!("no space at {}", self.pos));
                }
                self.pos += 1;
            }
            match self.peek() {
                Some(b'(') => {
                    self.pos += 1;
                    tokens.push(Token::Open);
                    glued = true;
                }
                Some(b'"') => tokens.push(Token::Text(self.quoted()?)),
                Some(b'{') => tokens.push(Token::Text(self.literal()?)),
                _ => tokens.push(Token::Atom(self.atom()?)),
            }
        }
        Ok(tokens)
    }

    /// `quoted`: QUOTED-CHARs (7-bit, no CR or LF), `\` only before `\`
    /// or `"`.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let b = self.peek().ok_or("an unclosed quoted string")?;
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => match self.peek() {
                    Some(c @ (b'"' | b'\\')) => {
                        self.pos += 1;
                        out.push(c);
                    }
                    other => return Err(format!("\\ before {other:?}")),
                },
                b'\r' | b'\n' | 0 | 0x80.. => return Err(format!("{b:#x} quoted")),
                _ => out.push(b),
            }
        }
    }

    /// `literal`: `{n}` or `{n+}` (the line's end), then n octets.
    fn literal(&mut self) -> Result<Vec<u8>, String> {
        let close = self.data[self.pos..]
            .iter()
            .position(|&b| b == b'}')
            .ok_or("an unclosed literal marker")?;
        let marker = &self.data[self.pos + 1..self.pos + close];
        let digits = marker.strip_suffix(b"+").unwrap_or(marker);
        let len: usize = std::str::from_utf8(digits)
            .ok()
            .and_then(|d| d.parse().ok())
            .ok_or("a bad literal size")?;
        self.pos += close + 1;
        let end = self.pos + len;
        let octets = self.data.get(self.pos..end).ok_or("a literal cut short")?;
        self.pos = end;
        Ok(octets.to_vec())
    }

    /// An atom as search keys take it: ATOM-CHARs (no atom-specials
    /// `(){ %*"\]` and no controls), `*` (sequence sets), and a leading
    /// `\` (flags).
    fn atom(&mut self) -> Result<String, String> {
        let start = self.pos;
        if self.peek() == Some(b'\\') {
            self.pos += 1;
        }
        let body = self.pos;
        while let Some(b) = self.peek() {
            if !b.is_ascii_graphic() || b"(){%\"\\]".contains(&b) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == body {
            return Err(format!("no atom at {start}"));
        }
        Ok(String::from_utf8(self.data[start..self.pos].to_vec()).expect("ASCII"))
    }
}
