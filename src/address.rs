//! RFC 5322 §3.4 addresses: mailboxes, groups and address lists.
//!
//! A recursive-descent parser over the lexical tokens of RFC 5322 §3.2
//! (CFWS, quoted-string, atom, dot-atom, domain-literal), with the UTF-8
//! extensions of RFC 6532 §3.2: non-ASCII is accepted wherever atext,
//! qtext, ctext or dtext is, and the caller decides whether it is wanted.
//! The obsolete syntax of RFC 5322 §4.4 (source routes, empty list
//! elements, quoted words in dotted local parts) is refused.
//!
//! Encoded-words (RFC 2047) in display names are not decoded: they parse as
//! atoms and are returned as written.

use std::fmt;

use crate::grammar::lex;

/// One mailbox: an optional display name and an addr-spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, unquoted, its words joined by single spaces; never
    /// `Some("")`.
    pub name: Option<String>,
    /// The local part, unquoted (quoted-pairs resolved, folds removed).
    pub local: String,
    /// The domain as written: a dot-atom, or a domain literal with its
    /// brackets (`[192.0.2.1]`).
    pub domain: String,
}

impl Mailbox {
    /// `local@domain`, the local part re-quoted if it is not a dot-atom,
    /// e.g. `"john doe"@example.org`.
    pub fn addr_spec(&self) -> String {
        format!("{}@{}", quote_local_part(&self.local), self.domain)
    }
}

/// An address: a mailbox, or a named group of mailboxes (RFC 5322 §3.4 group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A single mailbox.
    Mailbox(Mailbox),
    /// `name: member, member;` — the member list may be empty.
    Group {
        /// The group's display name.
        name: String,
        /// The mailboxes of the group, in order.
        members: Vec<Mailbox>,
    },
}

/// Why text is not an address list; `offset` is the byte offset in the
/// input where parsing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError {
    /// Byte offset into the parsed text.
    pub offset: usize,
    /// What was wrong there.
    pub message: String,
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at byte {})", self.message, self.offset)
    }
}

impl std::error::Error for AddressError {}

/// Parses an RFC 5322 address-list: comma-separated mailboxes and groups,
/// with comments and folding whitespace wherever CFWS may appear. An empty
/// list is an error. Domains are kept as written (no IDN conversion).
pub fn parse_address_list(text: &str) -> Result<Vec<Address>, AddressError> {
    Parser::new(text)?.address_list()
}

/// Parses a single mailbox (name-addr or addr-spec); groups are refused.
pub fn parse_mailbox(text: &str) -> Result<Mailbox, AddressError> {
    let mut parser = Parser::new(text)?;
    let mailbox = parser.mailbox()?;
    parser.expect_end()?;
    Ok(mailbox)
}

/// Every mailbox of a list, groups flattened, in order.
pub fn mailboxes(list: &[Address]) -> Vec<&Mailbox> {
    list.iter()
        .flat_map(|address| match address {
            Address::Mailbox(mailbox) => std::slice::from_ref(mailbox),
            Address::Group { members, .. } => members.as_slice(),
        })
        .collect()
}

/// Whether `c` is atext (RFC 5322 §3.2.3, with RFC 6532 UTF-8).
pub fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// Whether `text` is a dot-atom-text: atext runs separated by single dots.
pub fn is_dot_atom(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

/// `text` as a quoted-string (RFC 5322 §3.2.4), `"` and `\` escaped.
pub fn quote_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A local part as it must be written: as is when a dot-atom, else quoted.
pub fn quote_local_part(local: &str) -> String {
    if is_dot_atom(local) {
        local.to_string()
    } else {
        quote_string(local)
    }
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// VCHAR, extended to UTF-8 by RFC 6532 §3.2.
fn is_vchar(c: char) -> bool {
    c.is_ascii_graphic() || !c.is_ascii()
}

/// dtext (RFC 5322 §3.4.1, RFC 6532 §3.2): VCHAR except `[`, `]`, `\`.
fn is_dtext(c: char) -> bool {
    is_vchar(c) && !matches!(c, '[' | ']' | '\\')
}

/// Where a dot-atom-text goes wrong, and how.
fn dot_atom_error(run: &str) -> Option<(usize, &'static str)> {
    if run.starts_with('.') {
        return Some((0, "begins with '.'"));
    }
    if let Some(at) = run.find("..") {
        return Some((at + 1, "has two consecutive dots"));
    }
    if run.ends_with('.') {
        return Some((run.len() - 1, "ends with '.'"));
    }
    None
}

/// Refuses CR, LF and NUL except CRLF followed by WSP (a fold, RFC 5322
/// §3.2.2), so that the parser can treat every CR as the start of a fold.
fn check_line_breaks(text: &str) -> Result<(), AddressError> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = bytes
        .get(from..)
        .and_then(|rest| memchr::memchr3(b'\r', b'\n', 0, rest))
    {
        let at = from + found;
        let folded = bytes
            .get(at..at + 3)
            .is_some_and(|b| b[0] == b'\r' && b[1] == b'\n' && (b[2] == b' ' || b[2] == b'\t'));
        if !folded {
            let message = match bytes[at] {
                0 => "NUL character",
                b'\r' => "carriage return that does not start a folded line",
                _ => "line feed that does not belong to a folded line",
            };
            return Err(AddressError {
                offset: at,
                message: message.into(),
            });
        }
        from = at + 3;
    }
    Ok(())
}

/// What a mailbox production began with: a complete mailbox, or the display
/// name of a group (the parser then stands on its `:`).
enum Start {
    Mailbox(Mailbox),
    GroupName(String),
}

type Parsed<T> = Result<T, AddressError>;

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parsed<Self> {
        check_line_breaks(text)?;
        Ok(Parser { text, pos: 0 })
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, wanted: char) -> bool {
        let found = self.peek() == Some(wanted);
        if found {
            self.pos += wanted.len_utf8();
        }
        found
    }

    fn fail<T>(&self, offset: usize, message: impl Into<String>) -> Parsed<T> {
        Err(AddressError {
            offset,
            message: message.into(),
        })
    }

    /// "expected `what`, found …" at the current position.
    fn expected<T>(&self, what: &str) -> Parsed<T> {
        let found = match self.peek() {
            Some(c) => format!("{c:?}"),
            None => "end of input".into(),
        };
        self.fail(self.pos, format!("expected {what}, found {found}"))
    }

    fn expect_end(&self) -> Parsed<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => self.expected("end of input"),
        }
    }

    // ---- RFC 5322 §3.2.2: folding white space and comments ----

    fn skip_fws(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t') => self.pos += 1,
                // check_line_breaks guarantees CRLF WSP here.
                Some('\r') => self.pos += 2,
                _ => return,
            }
        }
    }

    /// CFWS (RFC 5322 §3.2.2), comments nested, read by the one lexer
    /// ([`lex::Cursor::skip_cfws`], strict).
    fn skip_cfws(&mut self) -> Parsed<()> {
        let mut cursor = lex::Cursor {
            text: self.text,
            pos: self.pos,
        };
        let skipped = cursor.skip_cfws(lex::Mode::Strict);
        self.pos = cursor.pos;
        skipped.map(drop).map_err(|problem| AddressError {
            offset: problem.offset,
            message: problem.message,
        })
    }

    /// The character after a backslash (RFC 5322 §3.2.1 quoted-pair).
    fn quoted_pair(&mut self, open: usize, inside: &str) -> Parsed<char> {
        let at = self.pos;
        match self.bump() {
            Some(c) if is_wsp(c) || is_vchar(c) => Ok(c),
            None => self.fail(open, format!("unterminated {inside}")),
            Some(c) => self.fail(at, format!("control character {c:?} after '\\'")),
        }
    }

    // ---- RFC 5322 §3.2.3, §3.2.4: atoms and quoted strings ----

    /// The longest run of atext (and dots, when `dots`) at the position.
    fn atom_run(&mut self, dots: bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !(is_atext(c) || (dots && c == '.')) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn dot_atom(&mut self, what: &str) -> Parsed<String> {
        let start = self.pos;
        let run = self.atom_run(true);
        if run.is_empty() {
            return self.expected(what);
        }
        if let Some((at, problem)) = dot_atom_error(run) {
            return self.fail(start + at, format!("{what} {problem}"));
        }
        Ok(run.to_string())
    }

    /// The content of a quoted-string; the parser stands on its `"`.
    fn quoted_string(&mut self) -> Parsed<String> {
        let open = self.pos;
        self.pos += 1;
        let mut content = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return self.fail(open, "unterminated quoted string: missing '\"'"),
                Some('"') => return Ok(content),
                Some('\\') => content.push(self.quoted_pair(open, "quoted string")?),
                // Unfolding removes the CRLF and keeps the WSP after it.
                Some('\r') => self.pos += 1,
                Some(c) if is_wsp(c) || is_vchar(c) => content.push(c),
                Some(c) => {
                    return self.fail(at, format!("control character {c:?} in a quoted string"));
                }
            }
        }
    }

    /// RFC 5322 §3.2.5 phrase, with the obs-phrase dots after the first word
    /// (`John Q. Public`), since they are common in real mail.
    fn phrase(&mut self) -> Parsed<String> {
        let mut words: Vec<String> = Vec::new();
        loop {
            self.skip_cfws()?;
            match self.peek() {
                Some('"') => words.push(self.quoted_string()?),
                Some(c) if is_atext(c) || (c == '.' && !words.is_empty()) => {
                    words.push(self.atom_run(true).to_string());
                }
                _ => break,
            }
        }
        if words.is_empty() {
            return self.expected("an address");
        }
        words.retain(|word| !word.is_empty());
        Ok(words.join(" "))
    }

    // ---- RFC 5322 §3.4.1: addr-spec ----

    fn addr_spec(&mut self) -> Parsed<(String, String)> {
        self.skip_cfws()?;
        let local = self.local_part()?;
        self.skip_cfws()?;
        if !self.eat('@') {
            return self.expected("'@'");
        }
        self.skip_cfws()?;
        let domain = self.domain()?;
        self.skip_cfws()?;
        Ok((local, domain))
    }

    fn local_part(&mut self) -> Parsed<String> {
        let start = self.pos;
        let local = match self.peek() {
            Some('"') => self.quoted_string()?,
            Some('@') => return self.fail(start, "missing local part before '@'"),
            _ => self.dot_atom("local part")?,
        };
        if local.is_empty() {
            return self.fail(start, "empty local part");
        }
        Ok(local)
    }

    fn domain(&mut self) -> Parsed<String> {
        match self.peek() {
            Some('[') => self.domain_literal(),
            Some(c) if is_atext(c) || c == '.' => self.dot_atom("domain"),
            None => self.fail(self.pos, "missing domain after '@'"),
            Some(_) => self.expected("a domain"),
        }
    }

    /// `[dtext…]`, returned with its brackets and without white space.
    fn domain_literal(&mut self) -> Parsed<String> {
        let open = self.pos;
        self.pos += 1;
        let mut literal = String::from("[");
        loop {
            self.skip_fws();
            let at = self.pos;
            match self.bump() {
                None => return self.fail(open, "unterminated domain literal: missing ']'"),
                Some(']') if literal.len() == 1 => return self.fail(open, "empty domain literal"),
                Some(']') => break,
                Some(c) if is_dtext(c) => literal.push(c),
                Some(c) => {
                    return self.fail(at, format!("{c:?} is not allowed in a domain literal"));
                }
            }
        }
        literal.push(']');
        Ok(literal)
    }

    // ---- RFC 5322 §3.4: mailboxes, groups, lists ----

    /// `<addr-spec>` and the CFWS after it; the parser stands on the `<`.
    fn angle_addr(&mut self) -> Parsed<(String, String)> {
        self.pos += 1;
        self.skip_cfws()?;
        match self.peek() {
            Some('@') => {
                return self.fail(
                    self.pos,
                    "obsolete source route (RFC 5322 §4.4) is not supported",
                );
            }
            Some('>') => return self.fail(self.pos, "empty address in '<>'"),
            _ => {}
        }
        let spec = self.addr_spec()?;
        if !self.eat('>') {
            return self.expected("'>'");
        }
        self.skip_cfws()?;
        Ok(spec)
    }

    /// Whether an addr-spec starts here: a local-part candidate, then `@`.
    /// A phrase can never be followed by `@`, so this decides between
    /// addr-spec and name-addr without backtracking over errors.
    fn at_addr_spec(&mut self) -> Parsed<bool> {
        let start = self.pos;
        let has_word = if self.peek() == Some('"') {
            self.quoted_string()?;
            true
        } else {
            !self.atom_run(true).is_empty()
        };
        let found = has_word && {
            self.skip_cfws()?;
            self.peek() == Some('@')
        };
        self.pos = start;
        Ok(found)
    }

    fn mailbox_start(&mut self) -> Parsed<Start> {
        self.skip_cfws()?;
        let mailbox = |name, (local, domain)| {
            Start::Mailbox(Mailbox {
                name,
                local,
                domain,
            })
        };
        match self.peek() {
            None => return self.expected("an address"),
            Some('<') => return Ok(mailbox(None, self.angle_addr()?)),
            Some('@') => return self.fail(self.pos, "missing local part before '@'"),
            _ => {}
        }
        if self.at_addr_spec()? {
            return Ok(mailbox(None, self.addr_spec()?));
        }
        let name = self.phrase()?;
        match self.peek() {
            Some('<') => {
                let name = Some(name).filter(|name| !name.is_empty());
                Ok(mailbox(name, self.angle_addr()?))
            }
            Some(':') => Ok(Start::GroupName(name)),
            Some('@') => self.fail(
                self.pos,
                "unexpected '@': neither a valid local part nor a display name before '<'",
            ),
            None | Some(',' | ';') if !name.contains(' ') => {
                self.fail(self.pos, format!("missing '@' in address {name:?}"))
            }
            _ => self.expected("'<' after the display name"),
        }
    }

    fn mailbox(&mut self) -> Parsed<Mailbox> {
        match self.mailbox_start()? {
            Start::Mailbox(mailbox) => Ok(mailbox),
            Start::GroupName(_) => self.fail(self.pos, "a group is not allowed here"),
        }
    }

    fn address(&mut self) -> Parsed<Address> {
        match self.mailbox_start()? {
            Start::Mailbox(mailbox) => Ok(Address::Mailbox(mailbox)),
            Start::GroupName(name) => self.group(name),
        }
    }

    /// The rest of a group after its display name; the parser stands on `:`.
    fn group(&mut self, name: String) -> Parsed<Address> {
        self.pos += 1;
        self.skip_cfws()?;
        let mut members = Vec::new();
        if !self.eat(';') {
            loop {
                members.push(self.mailbox()?);
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(';') => {
                        self.pos += 1;
                        break;
                    }
                    None => return self.fail(self.pos, "unterminated group: missing ';'"),
                    Some(_) => return self.expected("',' or ';'"),
                }
            }
        }
        self.skip_cfws()?;
        Ok(Address::Group { name, members })
    }

    fn address_list(&mut self) -> Parsed<Vec<Address>> {
        self.skip_cfws()?;
        if self.peek().is_none() {
            return self.fail(self.pos, "empty address list");
        }
        let mut list = Vec::new();
        loop {
            list.push(self.address()?);
            match self.peek() {
                None => return Ok(list),
                Some(',') => self.pos += 1,
                Some(_) => return self.expected("',' or end of input"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbox(name: Option<&str>, local: &str, domain: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_string),
            local: local.into(),
            domain: domain.into(),
        }
    }

    fn one(text: &str) -> Mailbox {
        match parse_address_list(text) {
            Ok(list) => match list.as_slice() {
                [Address::Mailbox(m)] => m.clone(),
                other => panic!("{text:?} gave {other:?}"),
            },
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn error_at(text: &str) -> usize {
        match parse_address_list(text) {
            Ok(list) => panic!("{text:?} accepted as {list:?}"),
            Err(e) => e.offset,
        }
    }

    #[test]
    fn quoted_display_name_with_comma_and_second_address() {
        let list =
            parse_address_list(r#""Doe, John" <john@example.org>, jane@example.org"#).unwrap();
        assert_eq!(
            list,
            vec![
                Address::Mailbox(mbox(Some("Doe, John"), "john", "example.org")),
                Address::Mailbox(mbox(None, "jane", "example.org")),
            ]
        );
    }

    #[test]
    fn groups() {
        assert_eq!(
            parse_address_list("Undisclosed recipients:;").unwrap(),
            vec![Address::Group {
                name: "Undisclosed recipients".into(),
                members: vec![]
            }]
        );
        let list = parse_address_list("Team: a@x.example, B <b@y.example>; , c@z.example").unwrap();
        assert_eq!(list.len(), 2);
        let flat: Vec<String> = mailboxes(&list).iter().map(|m| m.addr_spec()).collect();
        assert_eq!(flat, ["a@x.example", "b@y.example", "c@z.example"]);
        assert_eq!(
            list[0],
            Address::Group {
                name: "Team".into(),
                members: vec![
                    mbox(None, "a", "x.example"),
                    mbox(Some("B"), "b", "y.example")
                ]
            }
        );
    }

    #[test]
    fn comments_and_folding() {
        assert_eq!(
            one("(comment) a@b.example (another)"),
            mbox(None, "a", "b.example")
        );
        assert_eq!(
            one("a(x)@(y (nested \\) ) z)b.example"),
            mbox(None, "a", "b.example")
        );
        assert_eq!(
            one("John (the man)\r\n Smith <js@example.org> (work)"),
            mbox(Some("John Smith"), "js", "example.org")
        );
        assert_eq!(
            one("\"folded\r\n\tname\" <a@b>"),
            mbox(Some("folded\tname"), "a", "b")
        );
        assert_eq!(one("< a@b >"), mbox(None, "a", "b"));
    }

    #[test]
    fn local_parts_and_domains() {
        assert_eq!(one("a@[192.0.2.1]"), mbox(None, "a", "[192.0.2.1]"));
        assert_eq!(
            one("a@[IPv6:2001:db8::1]").addr_spec(),
            "a@[IPv6:2001:db8::1]"
        );
        let quoted = one("\"a b\"@example.org");
        assert_eq!(quoted, mbox(None, "a b", "example.org"));
        assert_eq!(quoted.addr_spec(), "\"a b\"@example.org");
        assert_eq!(one(r#""a\"b\\c"@x"#).local, r#"a"b\c"#);
        assert_eq!(one(r#""a\"b\\c"@x"#).addr_spec(), r#""a\"b\\c"@x"#);
        assert_eq!(one("\"quoted.ok\"@x").addr_spec(), "quoted.ok@x");
        assert_eq!(
            one("first.last+tag@sub.example.org").addr_spec(),
            "first.last+tag@sub.example.org"
        );
        assert_eq!(one("!#$%&'*+-/=?^_`{|}~@x").local, "!#$%&'*+-/=?^_`{|}~");
    }

    #[test]
    fn utf8_names_and_addresses() {
        assert_eq!(
            one("Jöran <j@example.org>"),
            mbox(Some("Jöran"), "j", "example.org")
        );
        assert_eq!(one("用户@例子.广告"), mbox(None, "用户", "例子.广告"));
        assert_eq!(one("\"Zoë Ø\" <z@x>").name.as_deref(), Some("Zoë Ø"));
    }

    #[test]
    fn display_names() {
        assert_eq!(
            one("John Q. Public <jqp@example.org>").name.as_deref(),
            Some("John Q. Public")
        );
        assert_eq!(
            one("  \"Smith\"   \"Jr.\"  <s@x>").name.as_deref(),
            Some("Smith Jr.")
        );
        assert_eq!(one("\"\" <a@b>").name, None);
        assert_eq!(one("\"\" \"\" <a@b>").name, None);
        assert_eq!(one("\"\" Smith <a@b>").name.as_deref(), Some("Smith"));
        assert_eq!(one("<a@b>").name, None);
        assert_eq!(
            one("=?utf-8?q?J=C3=B6ran?= <j@x>").name.as_deref(),
            Some("=?utf-8?q?J=C3=B6ran?=")
        );
    }

    #[test]
    fn single_mailbox() {
        assert_eq!(
            parse_mailbox("Ann <ann@example.org>").unwrap(),
            mbox(Some("Ann"), "ann", "example.org")
        );
        for bad in ["", "a@b, c@d", "G: a@b;", "a@b>"] {
            assert!(parse_mailbox(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn refused_with_offsets() {
        let cases: &[(&str, usize)] = &[
            ("a..b@x", 2),
            (".a@x", 0),
            ("a.@x", 1),
            ("a@", 2),
            ("@x", 0),
            ("a@b c", 4),
            ("a@b,", 4),
            ("\"unterminated@x", 0),
            ("a\n@b", 1),
            ("a\r@b", 1),
            ("a@b\r\n", 3),
            ("a\0@b", 1),
            ("<@route:a@b>", 1),
            ("a@b..c", 4),
            ("a@b.", 3),
            ("a@[1.2.3.4", 2),
            ("a@[]", 2),
            ("a@[1[2]", 4),
            ("(unclosed a@b", 0),
            ("a@b)", 3),
            ("<a@b", 4),
            ("<>", 1),
            ("a", 1),
            ("John Smith", 10),
            ("John Smith@x", 10),
            ("\"\"@x", 0),
            ("a@b,,c@d", 4),
            ("G: a@b", 6),
            ("G: a@b, ;", 8),
            ("G: H: a@b;;", 4),
            ("", 0),
            ("  (just a comment) ", 19),
            ("a@b\x01", 3),
            ("\"a\x01\"@b", 2),
        ];
        for &(text, offset) in cases {
            assert_eq!(error_at(text), offset, "{text:?}");
        }
    }

    #[test]
    fn error_messages_name_the_problem() {
        let e = parse_address_list("a..b@x").unwrap_err();
        assert_eq!(e.message, "local part has two consecutive dots");
        assert_eq!(
            e.to_string(),
            "local part has two consecutive dots (at byte 2)"
        );
        let e = parse_address_list("a@b c").unwrap_err();
        assert_eq!(e.message, "expected ',' or end of input, found 'c'");
        assert!(
            parse_address_list("<@route:a@b>")
                .unwrap_err()
                .message
                .contains("route")
        );
        assert!(
            parse_address_list("a")
                .unwrap_err()
                .message
                .contains("missing '@'")
        );
    }

    /// Pseudo-random strings of the fragments that matter to the parser.
    fn odd_strings(count: usize) -> impl Iterator<Item = String> {
        const PIECES: &[&str] = &[
            "a",
            "b.c",
            "é",
            "\"q \\\" s\"",
            "\"\"",
            "\"x(",
            "@",
            "@",
            "x.example",
            "[1.2.3.4]",
            "[",
            "]",
            "<",
            ">",
            " ",
            "(c)",
            "(",
            ")",
            ",",
            ":",
            ";",
            ".",
            "\r\n ",
            "\n",
            "\0",
        ];
        crate::test_support::joined_pieces(PIECES, count, 8)
    }

    #[test]
    fn addr_spec_parses_back() {
        let mut parsed = 0;
        for text in odd_strings(100_000) {
            let _ = parse_mailbox(&text);
            let Ok(list) = parse_address_list(&text) else {
                continue;
            };
            for mailbox in mailboxes(&list) {
                parsed += 1;
                let again = parse_mailbox(&mailbox.addr_spec()).unwrap();
                assert_eq!(again.local, mailbox.local, "{text:?}");
                assert_eq!(again.domain, mailbox.domain, "{text:?}");
            }
        }
        assert!(parsed > 50, "only {parsed} mailboxes parsed");
    }

    #[test]
    fn deep_nesting_and_odd_input_do_not_panic() {
        let deep = format!("{}a@b", "(".repeat(100_000));
        assert!(parse_address_list(&deep).is_err());
        let closed = format!("{}{}a@b", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(one(&closed), mbox(None, "a", "b"));
        for text in [
            "\\", "\"\\", "(\\", "[", "a@[", "<", ":", ";", ",", "\u{7f}", "é", "\r\n ",
        ] {
            let _ = parse_address_list(text);
            let _ = parse_mailbox(text);
        }
    }
}
