//! Search keys as a user types them (`UNSEEN SINCE 1-Nov-2026`,
//! `SUBJECT "quarterly report"`), checked and split into the parts of an
//! IMAP search (RFC 3501 §6.4.4), so that nothing a user types can end the
//! command or start another one.
//!
//! Words made of atom characters (keys, dates, numbers, sequence sets such
//! as `1:*` or `5,7:9`, flags such as `\Seen`) go as they are; quoted
//! strings and any other word go as IMAP strings, quoted or as literals
//! ([`crate::imap::literal::Command`]); parentheses group. CR, LF and NUL
//! are refused anywhere (64): no key takes them.

use crate::error::Error;

/// One part of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A key, a number, a date, a sequence set or a flag, sent as it is.
    Atom(String),
    /// A string argument, sent quoted or as a literal.
    Text(Vec<u8>),
    /// `(`
    Open,
    /// `)`
    Close,
}

/// A search, parsed from the user's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The parts in order.
    pub tokens: Vec<Token>,
}

impl Query {
    /// Parses `text`: words split at white space, `"..."` a string (with
    /// `\"` and `\\` inside), `(` and `)` grouping. Unbalanced quotes or
    /// parentheses, an empty search, and CR, LF or NUL are usage errors.
    pub fn parse(text: &str) -> Result<Query, Error> {
        if let Some(c) = text.chars().find(|c| matches!(c, '\r' | '\n' | '\0')) {
            return Err(Error::usage(format!(
                "--search: {c:?} cannot be part of a search"
            )));
        }
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        let mut depth = 0usize;
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '(' => {
                    chars.next();
                    depth += 1;
                    tokens.push(Token::Open);
                }
                ')' => {
                    chars.next();
                    depth = depth.checked_sub(1).ok_or_else(|| {
                        Error::usage("--search: a ')' without its '('".to_string())
                    })?;
                    tokens.push(Token::Close);
                }
                '"' => {
                    chars.next();
                    tokens.push(Token::Text(quoted(&mut chars)?.into_bytes()));
                }
                _ => tokens.push(word(&mut chars)),
            }
        }
        if depth > 0 {
            return Err(Error::usage("--search: a '(' is not closed"));
        }
        if tokens.is_empty() {
            return Err(Error::usage("--search: no search keys given"));
        }
        Ok(Query { tokens })
    }

    /// Whether a string argument has non-ASCII text: the search then
    /// names its charset (`CHARSET UTF-8`, RFC 3501 §6.4.4).
    pub fn needs_charset(&self) -> bool {
        self.tokens
            .iter()
            .any(|t| matches!(t, Token::Text(text) if !text.is_ascii()))
    }
}

/// The rest of a quoted string, its closing quote consumed.
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, Error> {
    let mut text = String::new();
    loop {
        match chars.next() {
            None => return Err(Error::usage("--search: a '\"' is not closed")),
            Some('"') => return Ok(text),
            Some('\\') => match chars.next() {
                Some(c) => text.push(c),
                None => return Err(Error::usage("--search: a '\"' is not closed")),
            },
            Some(c) => text.push(c),
        }
    }
}

/// A bare word: an atom when every character may be in one, otherwise a
/// string (`SUBJECT Grüße` searches for the word as typed).
fn word(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Token {
    let mut text = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
            break;
        }
        text.push(c);
        chars.next();
    }
    match is_atom(&text) {
        true => Token::Atom(text),
        false => Token::Text(text.into_bytes()),
    }
}

/// ATOM-CHAR (RFC 3501 §9) plus what sequence sets (`*`) and flags (a
/// leading `\`) need; `%`, `{`, `]` and quotes make a word a string.
fn is_atom(word: &str) -> bool {
    let body = word.strip_prefix('\\').unwrap_or(word);
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){}%\"\\]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Token> {
        Query::parse(text).unwrap().tokens
    }

    #[test]
    fn keys_dates_and_sets_are_atoms() {
        assert_eq!(
            parse("UNSEEN SINCE 1-Nov-2026 UID 5,7:*"),
            ["UNSEEN", "SINCE", "1-Nov-2026", "UID", "5,7:*"]
                .map(|a| Token::Atom(a.into()))
                .to_vec()
        );
        assert_eq!(
            parse("KEYWORD \\Seen"),
            vec![Token::Atom("KEYWORD".into()), Token::Atom("\\Seen".into())]
        );
    }

    #[test]
    fn strings_and_groups() {
        assert_eq!(
            parse(r#"OR (SUBJECT "a \"b\" c") FROM Grüße"#),
            vec![
                Token::Atom("OR".into()),
                Token::Open,
                Token::Atom("SUBJECT".into()),
                Token::Text(b"a \"b\" c".to_vec()),
                Token::Close,
                Token::Atom("FROM".into()),
                Token::Text("Grüße".as_bytes().to_vec()),
            ]
        );
        assert!(Query::parse("FROM Grüße").unwrap().needs_charset());
        assert!(!Query::parse("FROM x").unwrap().needs_charset());
    }

    #[test]
    fn words_that_could_break_the_command_are_strings() {
        for word in ["{5}", "a%b", "x]", "\\", "a\\b"] {
            assert_eq!(
                parse(&format!("SUBJECT {word}"))[1],
                Token::Text(word.as_bytes().to_vec()),
                "{word}"
            );
        }
    }

    #[test]
    fn line_ends_unbalanced_and_empty_are_refused() {
        for bad in [
            "ALL\r\na2 DELETE INBOX",
            "ALL\n",
            "A\0",
            "(ALL",
            "ALL)",
            "SUBJECT \"x",
            "SUBJECT \"x\\",
            "",
            "   ",
        ] {
            let e = Query::parse(bad).unwrap_err();
            assert_eq!(e.kind(), crate::error::ErrorKind::Usage, "{bad:?}");
        }
    }

    /// Everything a command sends, as the server reads it.
    #[derive(Default)]
    struct Wire(Vec<u8>);

    impl crate::imap::literal::ImapWire for Wire {
        fn send_line(&mut self, line: &str, _: &str) -> Result<(), Error> {
            self.0.extend_from_slice(line.as_bytes());
            self.0.extend_from_slice(b"\r\n");
            Ok(())
        }
        fn send_literal(&mut self, data: &[u8], _: &str) -> Result<(), Error> {
            self.0.extend_from_slice(data);
            Ok(())
        }
        fn read_line(&mut self) -> Result<Vec<u8>, Error> {
            Ok(b"+ go ahead".to_vec())
        }
        fn read_data(&mut self, _: u64, _: &mut dyn std::io::Write) -> Result<(), Error> {
            Ok(())
        }
    }

    /// The command lines a server reads from `sent`: each CRLF ends the
    /// command unless a literal marker `{n}` or `{n+}` stands before it,
    /// whose `n` octets are data. None when the octets do not make
    /// exactly one command.
    fn one_command(sent: &[u8]) -> Option<usize> {
        let mut at = 0;
        let mut literals = 0;
        loop {
            let end = at + sent[at..].windows(2).position(|w| w == b"\r\n")?;
            let line = &sent[at..end];
            if line.contains(&b'\r') || line.contains(&b'\n') {
                return None;
            }
            let marker = line.strip_suffix(b"}").and_then(|l| {
                l.iter()
                    .rposition(|&b| b == b'{')
                    .map(|open| &l[open + 1..])
            });
            let Some(marker) = marker else {
                return (end + 2 == sent.len()).then_some(literals);
            };
            let digits = marker.strip_suffix(b"+").unwrap_or(marker);
            let len: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
            at = end + 2 + len;
            literals += 1;
            if at > sent.len() {
                return None;
            }
        }
    }

    #[test]
    fn no_search_typed_can_end_the_command_or_start_another() {
        use crate::imap::literal::{Command, Literals};
        let alphabet: Vec<char> = "aZ09 ()\"\\{}+%*:,]\r\n\0üé日-".chars().collect();
        let mut sent = 0;
        for round in 0..20_000u64 {
            let mut seed = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let len = (next() % 24) as usize;
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let Ok(query) = Query::parse(&text) else {
                continue;
            };
            sent += 1;
            for literals in [
                Literals::from_capabilities(["LITERAL+"]),
                Literals::from_capabilities([]),
            ] {
                let mut wire = Wire::default();
                let mut command = Command::new(&mut wire, literals, "a1 UID SEARCH").unwrap();
                for token in &query.tokens {
                    match token {
                        Token::Atom(atom) => {
                            command.raw(atom).unwrap();
                        }
                        Token::Text(bytes) => {
                            command.string(bytes).unwrap();
                        }
                        Token::Open => {
                            command.open_list();
                        }
                        Token::Close => {
                            command.close_list();
                        }
                    }
                }
                command.send().unwrap();
                assert!(
                    one_command(&wire.0).is_some(),
                    "{text:?} sent as {:?}",
                    String::from_utf8_lossy(&wire.0)
                );
            }
        }
        assert!(sent > 1000, "only {sent} searches were valid");
        // The check itself tells a second command, or a cut literal, apart.
        assert_eq!(
            one_command(b"a1 UID SEARCH {3+}\r\nx\r\n TEXT y\r\n"),
            Some(1)
        );
        assert_eq!(
            one_command(b"a1 UID SEARCH ALL\r\na2 DELETE INBOX\r\n"),
            None
        );
        assert_eq!(one_command(b"a1 UID SEARCH {9+}\r\nx\r\n"), None);
    }
}
