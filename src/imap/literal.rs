//! String arguments of IMAP commands on the wire, and literals in server
//! responses (RFC 3501 §4.3, §7.5, §9; LITERAL+ and LITERAL-, RFC 7888).
//!
//! # Writing
//!
//! A [`Command`] is built argument by argument. Each string takes the
//! simplest form that carries it exactly:
//!
//! - an atom, for [`Command::astring`] values made only of letters, digits
//!   and a few punctuation marks that no IMAP grammar treats specially
//!   (never `NIL`, which would read as nothing);
//! - a quoted string (RFC 3501 §4.3) with `\` and `"` escaped, for other
//!   7-bit text up to [`QUOTED_MAX`] octets;
//! - a literal `{n}` CRLF followed by the octets, for values with CR, LF
//!   or 8-bit octets, or longer. The client must wait for the server's
//!   `+` continuation before sending the octets (RFC 3501 §7.5); with
//!   LITERAL+ it sends `{n+}` and goes on at once, and with LITERAL- it
//!   may do so only up to 4096 octets (RFC 7888 §4).
//!
//! A value containing NUL cannot be sent at all: RFC 3501 §9 allows it in
//! no string form (`CHAR8` excludes it; only the BINARY extension's
//! `literal8` could carry it), so it is refused (65) rather than sent to be
//! refused or mangled by the server.
//!
//! A reply other than a continuation while the client waits (a tagged `NO`
//! or `BAD`, an untagged `BYE`) is returned as an error and the literal is
//! never sent. Untagged data the server sends meanwhile (`* 3 EXISTS`) is
//! kept for the caller.
//!
//! # The transcript
//!
//! Every line is given to the [`ImapWire`] together with what the
//! transcript shows; a [`Command::secret`] argument (a password) is shown
//! as `****`, whether it went quoted or as a literal.
//!
//! # Reading
//!
//! [`literal_at_end`] recognises a `{n}` (or `{n+}`) at the end of a server
//! line and [`read_literal`] then reads exactly n octets into a sink; a
//! size over the caller's bound is refused before anything is read, so an
//! announced `{18446744073709551615}` costs nothing.

use std::io::{self, Read, Write};

use crate::error::{Error, ErrorKind, ServerReply};

/// The longest value sent as a quoted string or an atom; longer ones go as
/// literals, so that a command line stays short (RFC 7162 §4 asks servers
/// to accept lines of 8192 octets, no more).
pub const QUOTED_MAX: usize = 1024;

/// The largest non-synchronizing literal with LITERAL- (RFC 7888 §4).
pub const LITERAL_MINUS_MAX: usize = 4096;

/// The transport under a command: lines and octets out, lines and literal
/// octets in. Small so that tests need no socket; the
/// [`crate::net::connection::Connection`] provides each method already
/// (`write_secret_line`, `write_raw`, `read_line`, `read_data`).
pub trait ImapWire {
    /// Sends (or queues) `line` and CRLF; the transcript shows `shown`.
    /// `line` never holds CR, LF or NUL.
    fn send_line(&mut self, line: &str, shown: &str) -> Result<(), Error>;

    /// Sends (or queues) literal octets as they are; the transcript shows
    /// `shown` (a size, or `****` for a secret).
    fn send_literal(&mut self, data: &[u8], shown: &str) -> Result<(), Error>;

    /// Sends anything queued, then reads one line from the server, without
    /// its CRLF.
    fn read_line(&mut self) -> Result<Vec<u8>, Error>;

    /// Reads exactly `len` octets into `sink` ([`copy_literal`] does it
    /// for any [`Read`]).
    fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error>;
}

/// Which literals the server accepts, from its capabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Literals {
    /// Synchronizing literals only: wait for `+` before each (RFC 3501).
    #[default]
    Synchronizing,
    /// `LITERAL+`: non-synchronizing literals of any size (RFC 7888 §3).
    Plus,
    /// `LITERAL-`: non-synchronizing literals up to 4096 octets (RFC 7888 §4).
    Minus,
}

impl Literals {
    /// From the server's capability names (LITERAL+ wins over LITERAL-).
    pub fn from_capabilities<'a>(capabilities: impl IntoIterator<Item = &'a str>) -> Literals {
        let mut literals = Literals::Synchronizing;
        for capability in capabilities {
            if capability.eq_ignore_ascii_case("LITERAL+") {
                return Literals::Plus;
            }
            if capability.eq_ignore_ascii_case("LITERAL-") {
                literals = Literals::Minus;
            }
        }
        literals
    }

    /// Whether a literal of `len` octets may go without waiting for `+`.
    fn without_waiting(self, len: usize) -> bool {
        match self {
            Literals::Synchronizing => false,
            Literals::Plus => true,
            Literals::Minus => len <= LITERAL_MINUS_MAX,
        }
    }
}

/// The wire form a string value takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As it is.
    Atom,
    /// Between double quotes, `\` and `"` escaped.
    Quoted,
    /// `{n}` CRLF and the octets.
    Literal,
}

/// The simplest form that carries `value` exactly; an atom only when
/// `atom_allowed` (an `astring` in the grammar). A NUL is refused (65).
pub fn form_of(value: &[u8], atom_allowed: bool) -> Result<Form, Error> {
    if value.contains(&0) {
        return Err(nul_refused());
    }
    let needs_literal = value.len() > QUOTED_MAX
        || value
            .iter()
            .any(|&b| b == b'\r' || b == b'\n' || !b.is_ascii());
    Ok(match needs_literal {
        true => Form::Literal,
        false if atom_allowed && is_safe_atom(value) => Form::Atom,
        false => Form::Quoted,
    })
}

/// An atom that means the same to every IMAP grammar rule that takes an
/// astring: no atom-specials (RFC 3501 §9: `(){ %*"\]` and controls),
/// no `[`, and not `NIL`.
fn is_safe_atom(value: &[u8]) -> bool {
    const PUNCTUATION: &[u8] = b"!#$&'+,-./:;<=>?@^_`|~";
    !value.is_empty()
        && !value.eq_ignore_ascii_case(b"NIL")
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || PUNCTUATION.contains(b))
}

/// `value` (7-bit, no CR, LF or NUL) as a quoted string.
pub fn quoted(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for &b in value {
        if b == b'"' || b == b'\\' {
            out.push('\\');
        }
        out.push(char::from(b));
    }
    out.push('"');
    out
}

/// One command being written: arguments are added in order, separated by
/// single spaces, and [`Command::send`] ends it. A literal sends the line
/// so far at once (and, unless the server allows otherwise, waits for its
/// go-ahead); the command then goes on after the literal's octets.
pub struct Command<'w, W: ImapWire + ?Sized> {
    wire: &'w mut W,
    literals: Literals,
    line: String,
    shown: String,
    untagged: Vec<Vec<u8>>,
    /// The next argument follows without a space (after `(`).
    glued: bool,
}

impl<'w, W: ImapWire + ?Sized> Command<'w, W> {
    /// A command starting with `start`, the tag and command name
    /// (`A1 LOGIN`), which must be 7-bit text without CR, LF or NUL.
    pub fn new(wire: &'w mut W, literals: Literals, start: &str) -> Result<Self, Error> {
        check_text(start)?;
        Ok(Command {
            wire,
            literals,
            line: start.to_owned(),
            shown: start.to_owned(),
            untagged: Vec::new(),
            glued: false,
        })
    }

    /// Adds `text` as it is (a number, a parenthesised list the caller
    /// built, `BODY.PEEK[]`), after a space.
    pub fn raw(&mut self, text: &str) -> Result<&mut Self, Error> {
        check_text(text)?;
        self.push(text, text);
        Ok(self)
    }

    /// Opens a parenthesised list: `(` after a space, the next argument
    /// right after it.
    pub fn open_list(&mut self) -> &mut Self {
        self.push("(", "(");
        self.glued = true;
        self
    }

    /// Closes a parenthesised list: `)` right after the last argument.
    pub fn close_list(&mut self) -> &mut Self {
        self.line.push(')');
        self.shown.push(')');
        self.glued = false;
        self
    }

    /// Adds an `astring` (RFC 3501 §9): an atom when that is safe, else a
    /// quoted string or a literal (a user name, a mailbox name).
    pub fn astring(&mut self, value: &[u8]) -> Result<&mut Self, Error> {
        self.value(value, form_of(value, true)?, false)
    }

    /// Adds a `string`: always quoted or a literal, never an atom.
    pub fn string(&mut self, value: &[u8]) -> Result<&mut Self, Error> {
        self.value(value, form_of(value, false)?, false)
    }

    /// Adds a secret `string` (a password): like [`Command::string`], shown
    /// as `****` in the transcript.
    pub fn secret(&mut self, value: &[u8]) -> Result<&mut Self, Error> {
        self.value(value, form_of(value, false)?, true)
    }

    /// Sends the rest of the command and its CRLF; the untagged responses
    /// that arrived while waiting for continuations, for the caller to
    /// handle.
    pub fn send(self) -> Result<Vec<Vec<u8>>, Error> {
        self.wire.send_line(&self.line, &self.shown)?;
        Ok(self.untagged)
    }

    fn value(&mut self, value: &[u8], form: Form, secret: bool) -> Result<&mut Self, Error> {
        match form {
            Form::Literal => self.literal(value, secret)?,
            Form::Atom | Form::Quoted => {
                let text = match form {
                    Form::Atom => String::from_utf8_lossy(value).into_owned(),
                    _ => quoted(value),
                };
                self.push(&text, if secret { "****" } else { &text });
            }
        }
        Ok(self)
    }

    /// Appends one argument after a space (after a literal, the continued
    /// line starts with that space, as RFC 3501 §9 `SP` requires).
    fn push(&mut self, text: &str, shown: &str) {
        if !std::mem::take(&mut self.glued) {
            self.line.push(' ');
            self.shown.push(' ');
        }
        self.line.push_str(text);
        self.shown.push_str(shown);
    }

    /// The marker, the go-ahead when needed, then the octets.
    fn literal(&mut self, value: &[u8], secret: bool) -> Result<(), Error> {
        let at_once = self.literals.without_waiting(value.len());
        let marker = match at_once {
            true => format!("{{{}+}}", value.len()),
            false => format!("{{{}}}", value.len()),
        };
        self.push(&marker, &marker);
        let line = std::mem::take(&mut self.line);
        let shown = std::mem::take(&mut self.shown);
        self.wire.send_line(&line, &shown)?;
        if !at_once {
            self.wait_for_continuation()?;
        }
        let shown = match secret {
            true => "****".to_owned(),
            false => format!("[{} octets]", value.len()),
        };
        self.wire.send_literal(value, &shown)
    }

    /// Reads until the server's `+`, keeping untagged lines; anything else
    /// is an error and the literal must not be sent.
    fn wait_for_continuation(&mut self) -> Result<(), Error> {
        loop {
            let line = self.wire.read_line()?;
            if line.starts_with(b"+") {
                return Ok(());
            }
            if !line.starts_with(b"* ") {
                return Err(literal_refused(&line));
            }
            if line[2..].len() >= 3 && line[2..5].eq_ignore_ascii_case(b"BYE") {
                return Err(server_closing(&line));
            }
            self.untagged.push(line);
        }
    }
}

/// A literal announced by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// Its size in octets.
    pub len: u64,
    /// Written `{n+}` (non-synchronizing, RFC 7888).
    pub non_synchronizing: bool,
}

/// The literal announced at the end of `line` (without CRLF): `{n}` or
/// `{n+}`, n decimal digits. `None` when the line does not end with one
/// (text ending in `}` that is not a number in braces included); an
/// error (76) for a size beyond 64 bits.
pub fn literal_at_end(line: &[u8]) -> Result<Option<Literal>, Error> {
    let Some(inside) = line.strip_suffix(b"}") else {
        return Ok(None);
    };
    let Some(open) = inside.iter().rposition(|&b| b == b'{') else {
        return Ok(None);
    };
    let digits = &inside[open + 1..];
    let (digits, non_synchronizing) = match digits.strip_suffix(b"+") {
        Some(digits) => (digits, true),
        None => (digits, false),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Ok(None);
    }
    let len = digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let len = len.ok_or_else(|| literal_too_long(line, u64::MAX))?;
    Ok(Some(Literal {
        len,
        non_synchronizing,
    }))
}

/// When `line` ends with a literal, reads its octets into `sink` and
/// returns its size; `None` (and nothing read) when it does not. A size
/// over `max` is an error (76) before anything is read.
pub fn read_literal<W: ImapWire + ?Sized>(
    wire: &mut W,
    line: &[u8],
    max: u64,
    sink: &mut dyn Write,
) -> Result<Option<u64>, Error> {
    let Some(literal) = literal_at_end(line)? else {
        return Ok(None);
    };
    if literal.len > max {
        return Err(literal_too_long(line, max));
    }
    wire.read_data(literal.len, sink)?;
    Ok(Some(literal.len))
}

/// Copies exactly `len` octets from `reader` into `sink`, 8 KiB at a time.
/// Errors: the reader ending first or failing, [`ExitStatus::TempFail`]
/// (75: the literal was cut short); the sink failing,
/// [`ExitStatus::IoErr`] (74).
pub fn copy_literal<R: Read + ?Sized>(
    reader: &mut R,
    len: u64,
    sink: &mut dyn Write,
) -> Result<(), Error> {
    let mut buffer = [0u8; 8192];
    let mut left = len;
    while left > 0 {
        let want = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = match reader.read(&mut buffer[..want]) {
            Ok(0) => return Err(literal_cut_short(len, len - left)),
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(literal_cut_short_by(&e)),
        };
        sink.write_all(&buffer[..got])
            .map_err(|e| sink_failed(&e))?;
        left -= got as u64;
    }
    Ok(())
}

/// Text added to a command as it is must be one 7-bit line.
fn check_text(text: &str) -> Result<(), Error> {
    match text
        .bytes()
        .all(|b| b.is_ascii() && !matches!(b, b'\r' | b'\n' | 0))
    {
        true => Ok(()),
        false => Err(Error::data(format!(
            "cannot send {:?} in an IMAP command: only 7-bit text without CR, LF or NUL",
            crate::output::printable(text)
        ))),
    }
}

/// 65: a value with NUL cannot be sent.
fn nul_refused() -> Error {
    Error::data("an IMAP string cannot contain NUL (RFC 3501 §9)")
}

/// 69 for `NO`, 76 for `BAD` or anything else: the server did not accept
/// the literal.
fn literal_refused(reply: &[u8]) -> Error {
    let text = String::from_utf8_lossy(reply);
    let kind = match reply.split(|&b| b == b' ').nth(1) {
        Some(word) if word.eq_ignore_ascii_case(b"NO") => ErrorKind::Refused,
        _ => ErrorKind::Protocol,
    };
    let message = format!(
        "the server refused a literal: {}",
        crate::output::printable(&text)
    );
    let reply = ServerReply {
        code: None,
        text: text.into_owned(),
    };
    Error::refusal(kind, reply, message)
}

/// 75: the server said BYE instead of the go-ahead.
fn server_closing(reply: &[u8]) -> Error {
    let text = String::from_utf8_lossy(reply);
    Error::new(
        ErrorKind::ConnectionLost,
        format!(
            "the server is closing the connection: {}",
            crate::output::printable(&text)
        ),
    )
}

/// 76: a literal larger than the caller allows.
fn literal_too_long(line: &[u8], max: u64) -> Error {
    let text = String::from_utf8_lossy(&line[line.len().saturating_sub(40)..]);
    Error::new(
        ErrorKind::Protocol,
        format!(
            "the server announced a literal larger than {max} octets: {}",
            crate::output::printable(&text)
        ),
    )
}

/// 75: the stream ended inside a literal.
fn literal_cut_short(len: u64, got: u64) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!("connection closed inside a literal: {got} of {len} octets received"),
    )
}

/// 75: reading a literal failed.
fn literal_cut_short_by(error: &io::Error) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!("reading a literal: {error}"),
    )
}

/// 74: the sink failed.
fn sink_failed(error: &io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("storing a literal: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    /// What happened on a scripted wire, in order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Event {
        Sent(Vec<u8>),
        Read(Vec<u8>),
    }

    /// A server that answers from a script; records what the client sent
    /// and what the transcript would show.
    struct Script {
        server: io::Cursor<Vec<u8>>,
        events: Vec<Event>,
        transcript: Vec<String>,
    }

    impl Script {
        fn new(server: &[u8]) -> Script {
            Script {
                server: io::Cursor::new(server.to_vec()),
                events: Vec::new(),
                transcript: Vec::new(),
            }
        }

        /// Every octet the client sent.
        fn sent(&self) -> Vec<u8> {
            let mut all = Vec::new();
            for event in &self.events {
                if let Event::Sent(bytes) = event {
                    all.extend_from_slice(bytes);
                }
            }
            all
        }
    }

    impl ImapWire for Script {
        fn send_line(&mut self, line: &str, shown: &str) -> Result<(), Error> {
            self.events
                .push(Event::Sent(format!("{line}\r\n").into_bytes()));
            self.transcript.push(format!("-> {shown}"));
            Ok(())
        }

        fn send_literal(&mut self, data: &[u8], shown: &str) -> Result<(), Error> {
            self.events.push(Event::Sent(data.to_vec()));
            self.transcript.push(format!("-> {shown}"));
            Ok(())
        }

        fn read_line(&mut self) -> Result<Vec<u8>, Error> {
            let mut line = Vec::new();
            io::BufRead::read_until(&mut self.server, b'\n', &mut line).unwrap();
            if !line.ends_with(b"\r\n") {
                return Err(Error::new(ErrorKind::ConnectionLost, "connection closed"));
            }
            line.truncate(line.len() - 2);
            self.events.push(Event::Read(line.clone()));
            Ok(line)
        }

        fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error> {
            copy_literal(&mut self.server, len, sink)
        }
    }

    fn login(
        script: &mut Script,
        literals: Literals,
        user: &[u8],
        password: &[u8],
    ) -> Result<Vec<Vec<u8>>, Error> {
        let mut command = Command::new(script, literals, "A1 LOGIN")?;
        command.astring(user)?.secret(password)?;
        command.send()
    }

    #[test]
    fn each_value_takes_the_simplest_exact_form() {
        let form = |v: &[u8]| form_of(v, true).unwrap();
        assert_eq!(form(b"alice@example.org"), Form::Atom);
        assert_eq!(form(b"INBOX.Sent-2024"), Form::Atom);
        for quoted in [
            &b""[..],
            b"NIL",
            b"nil",
            b"two words",
            b"50%",
            b"a*",
            b"(x)",
            b"{3}",
            b"a]",
            b"a\"b\\c",
            b"tab\there",
        ] {
            assert_eq!(form(quoted), Form::Quoted, "{quoted:?}");
        }
        for literal in [&b"a\r\nb"[..], b"line\n", b"caf\xc3\xa9", b"\xff"] {
            assert_eq!(form(literal), Form::Literal, "{literal:?}");
        }
        assert_eq!(form(&[b'a'; QUOTED_MAX]), Form::Atom);
        assert_eq!(form(&[b'a'; QUOTED_MAX + 1]), Form::Literal);
        assert_eq!(form_of(b"alice", false).unwrap(), Form::Quoted);
        assert_eq!(
            form_of(b"a\0b", true).unwrap_err().status(),
            ExitStatus::DataErr
        );
    }

    #[test]
    fn quoted_strings_escape_backslash_and_quote() {
        assert_eq!(quoted(br#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted(b""), r#""""#);
    }

    #[test]
    fn plain_values_go_on_one_line_and_a_quoted_secret_is_masked() {
        let mut script = Script::new(b"");
        login(
            &mut script,
            Literals::Synchronizing,
            b"alice",
            b"s3cret \"pw\"",
        )
        .unwrap();
        assert_eq!(script.sent(), b"A1 LOGIN alice \"s3cret \\\"pw\\\"\"\r\n");
        assert_eq!(script.transcript, ["-> A1 LOGIN alice ****"]);
    }

    #[test]
    fn a_synchronizing_literal_waits_for_the_go_ahead() {
        let mut script = Script::new(b"* 4 EXISTS\r\n+ go ahead\r\n");
        let untagged = login(
            &mut script,
            Literals::Synchronizing,
            b"alice",
            b"p\xc3\xa4ss",
        )
        .unwrap();
        assert_eq!(untagged, [b"* 4 EXISTS".to_vec()]);
        assert_eq!(
            script.events,
            [
                Event::Sent(b"A1 LOGIN alice {5}\r\n".to_vec()),
                Event::Read(b"* 4 EXISTS".to_vec()),
                Event::Read(b"+ go ahead".to_vec()),
                Event::Sent(b"p\xc3\xa4ss".to_vec()),
                Event::Sent(b"\r\n".to_vec()),
            ]
        );
        assert_eq!(
            script.transcript,
            ["-> A1 LOGIN alice {5}", "-> ****", "-> "]
        );
    }

    #[test]
    fn the_command_goes_on_after_a_literal() {
        let mut script = Script::new(b"+\r\n+ ok\r\n");
        let mut command = Command::new(&mut script, Literals::Synchronizing, "A2 RENAME").unwrap();
        command
            .astring(b"a\nb")
            .unwrap()
            .astring(b"two\rlines")
            .unwrap();
        command.raw("(x)").unwrap();
        command.send().unwrap();
        assert_eq!(
            script.sent(),
            b"A2 RENAME {3}\r\na\nb {9}\r\ntwo\rlines (x)\r\n"
        );
        assert!(script.transcript.contains(&"-> [3 octets]".to_owned()));
    }

    #[test]
    fn literal_plus_sends_at_once() {
        let mut script = Script::new(b"");
        login(&mut script, Literals::Plus, b"al ice\n", b"pw\n").unwrap();
        assert_eq!(script.sent(), b"A1 LOGIN {7+}\r\nal ice\n {3+}\r\npw\n\r\n");
        assert!(script.events.iter().all(|e| matches!(e, Event::Sent(_))));
        assert!(script.transcript.iter().all(|l| !l.contains("pw")));
    }

    #[test]
    fn literal_minus_waits_only_above_4096_octets() {
        let small = vec![b'\n'; LITERAL_MINUS_MAX];
        let mut script = Script::new(b"");
        let mut command = Command::new(&mut script, Literals::Minus, "A3 X").unwrap();
        command.string(&small).unwrap();
        command.send().unwrap();
        assert!(script.sent().starts_with(b"A3 X {4096+}\r\n"));

        let large = vec![b'\n'; LITERAL_MINUS_MAX + 1];
        let mut script = Script::new(b"+ \r\n");
        let mut command = Command::new(&mut script, Literals::Minus, "A4 X").unwrap();
        command.string(&large).unwrap();
        command.send().unwrap();
        assert!(script.sent().starts_with(b"A4 X {4097}\r\n"));
        assert_eq!(script.events[1], Event::Read(b"+ ".to_vec()));
    }

    #[test]
    fn capabilities_choose_the_literals() {
        assert_eq!(
            Literals::from_capabilities(["IMAP4rev1", "literal-"]),
            Literals::Minus
        );
        assert_eq!(
            Literals::from_capabilities(["LITERAL-", "LITERAL+"]),
            Literals::Plus
        );
        assert_eq!(
            Literals::from_capabilities(["IMAP4rev1"]),
            Literals::Synchronizing
        );
    }

    #[test]
    fn a_refused_literal_is_an_error_and_never_sent() {
        for (reply, status) in [
            (&b"A1 NO [TOOBIG] too big\r\n"[..], ExitStatus::Unavailable),
            (b"A1 BAD literal\r\n", ExitStatus::Protocol),
            (b"* BYE going down\r\n", ExitStatus::TempFail),
            (b"", ExitStatus::TempFail),
        ] {
            let mut script = Script::new(reply);
            let error =
                login(&mut script, Literals::Synchronizing, b"alice", b"pw\xff").unwrap_err();
            assert_eq!(error.status(), status, "{error}");
            assert!(!script.sent().windows(3).any(|w| w == b"pw\xff"));
            assert!(script.transcript.iter().all(|l| !l.contains("pw")));
        }
    }

    #[test]
    fn command_text_cannot_smuggle_a_line() {
        let mut script = Script::new(b"");
        assert!(Command::new(&mut script, Literals::Plus, "A1 NOOP\r\nA2 LOGOUT").is_err());
        let mut command = Command::new(&mut script, Literals::Plus, "A1 X").unwrap();
        assert!(command.raw("x\ny").is_err());
    }

    #[test]
    fn markers_at_the_end_of_a_line() {
        let at_end = |line: &[u8]| literal_at_end(line).unwrap();
        assert_eq!(
            at_end(b"* 1 FETCH (BODY[] {12}"),
            Some(Literal {
                len: 12,
                non_synchronizing: false
            })
        );
        assert_eq!(
            at_end(b"{0+}"),
            Some(Literal {
                len: 0,
                non_synchronizing: true
            })
        );
        assert_eq!(at_end(b"* OK see {x}"), None);
        assert_eq!(at_end(b"* OK {}"), None);
        assert_eq!(at_end(b"* OK {12} more"), None);
        assert_eq!(at_end(b"* OK done"), None);
        assert_eq!(
            at_end(b"{18446744073709551615}"),
            Some(Literal {
                len: u64::MAX,
                non_synchronizing: false
            })
        );
        let error = literal_at_end(b"{18446744073709551616}").unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
    }

    #[test]
    fn reads_exactly_the_literal_and_no_more() {
        let mut script = Script::new(b"hello)\r\n");
        let mut sink = Vec::new();
        let got = read_literal(&mut script, b"* 1 FETCH (BODY[] {5}", 100, &mut sink).unwrap();
        assert_eq!(got, Some(5));
        assert_eq!(sink, b"hello");
        assert_eq!(script.read_line().unwrap(), b")");
        assert_eq!(
            read_literal(&mut script, b"* OK", 100, &mut sink).unwrap(),
            None
        );
    }

    #[test]
    fn a_literal_over_the_bound_is_refused_before_reading() {
        for line in [&b"* 1 FETCH (BODY[] {18446744073709551615}"[..], b"{101}"] {
            let mut script = Script::new(b"data that must stay unread");
            let mut sink = Vec::new();
            let error = read_literal(&mut script, line, 100, &mut sink).unwrap_err();
            assert_eq!(error.status(), ExitStatus::Protocol, "{error}");
            assert!(sink.is_empty());
            assert_eq!(script.server.position(), 0);
        }
    }

    #[test]
    fn a_literal_cut_short_is_a_temporary_failure() {
        let mut script = Script::new(b"hel");
        let mut sink = Vec::new();
        let error = read_literal(&mut script, b"{5}", 100, &mut sink).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
        assert!(error.to_string().contains("3 of 5"), "{error}");
    }

    #[test]
    fn a_large_literal_streams_through() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let mut sink = Vec::new();
        copy_literal(&mut &data[..], data.len() as u64, &mut sink).unwrap();
        assert_eq!(sink, data);
    }
}
