//! A POP3 client session (RFC 1939), one method per command, over a
//! [`Connection`]: the greeting with its APOP timestamp, CAPA and the
//! response codes of RFC 2449, STLS (RFC 2595), logins by USER/PASS, APOP
//! and SASL (RFC 5034), then STAT, LIST, UIDL, TOP, RETR, DELE, RSET,
//! NOOP and QUIT. Multi-line responses go through the shared
//! dot-terminated reader ([`crate::net::dot_reader`]). It never prints
//! and never exits: [`crate::pop3::fetch`] drives it.
//!
//! Nothing here depends on a server's response texts: only `+OK`/`-ERR`,
//! the bracketed response codes (RFC 2449 §8) and the numbers that RFC 1939
//! fixes are read.

pub mod fetch;

use std::io::Write;

use crate::error::{Error, ErrorKind, ServerReply};
use crate::net::connection::Connection;
use crate::net::dot_reader::{Complete, DotOptions};
use crate::net::sasl;
use crate::net::session::{Handshake, Login, TlsAnswer};

/// Longest response line accepted (RFC 2449 §4 allows 512 octets; memory
/// must not depend on the server keeping to it).
const MAX_LINE: usize = 64 * 1024;
/// The longest AUTH command with an initial response (RFC 5034 §4): a
/// longer one is sent without, and the response follows the empty
/// challenge.
const MAX_AUTH_COMMAND: usize = 255;
/// Most CAPA lines accepted.
const MAX_CAPA_LINES: usize = 1000;
/// Most octets of a CAPA response (its lines together): a real one is
/// well under 1 KiB, and 1000 lines of 64 KiB would be 64 MiB kept.
const MAX_CAPA_OCTETS: usize = 256 * 1024;
/// Most messages a maildrop may hold for this client (STAT's count), as
/// for IMAP untagged responses per command: what the LIST and UIDL
/// responses bring is kept for the session, so a server claiming 2^32 - 1
/// messages and listing without end must not grow memory without bound.
pub const MAX_MESSAGES: u32 = 1 << 17;
/// Most octets of UIDLs kept for one session (escaped): 2^17 UIDLs of
/// the 70 octets RFC 1939 §7 allows fit.
const MAX_UIDL_OCTETS: usize = 12 << 20;

/// A single-line response: `+OK` or `-ERR`, the RFC 2449 response code in
/// brackets if any, and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `+OK`.
    pub ok: bool,
    /// The response code, as `IN-USE` or `SYS/TEMP` (upper case).
    pub code: Option<String>,
    /// The rest of the line.
    pub text: String,
}

impl Response {
    /// Parses a status line; anything but `+OK` or `-ERR` first is a
    /// protocol error (76).
    pub fn parse(line: &[u8]) -> Result<Response, Error> {
        let line = String::from_utf8_lossy(line);
        let (ok, rest) = if let Some(rest) = strip_status(&line, "+OK") {
            (true, rest)
        } else if let Some(rest) = strip_status(&line, "-ERR") {
            (false, rest)
        } else {
            return Err(Error::protocol(format!(
                "the server sent {:?}, not +OK or -ERR",
                crate::output::printable(&truncated(&line))
            )));
        };
        let rest = rest.trim_start();
        let (code, text) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((code, text)) if !code.is_empty() => {
                (Some(code.to_ascii_uppercase()), text.trim_start())
            }
            _ => (None, rest),
        };
        Ok(Response {
            ok,
            code,
            text: text.to_string(),
        })
    }

    /// The response as the error type keeps it.
    pub fn server_reply(&self) -> ServerReply {
        ServerReply {
            code: None,
            text: self.line(),
        }
    }

    /// The line as the server sent it (without the line end).
    pub fn line(&self) -> String {
        let status = if self.ok { "+OK" } else { "-ERR" };
        match (&self.code, self.text.is_empty()) {
            (Some(code), _) => format!("{status} [{code}] {}", self.text),
            (None, true) => status.to_string(),
            (None, false) => format!("{status} {}", self.text),
        }
    }

    /// The kind of failure a `-ERR` means after a command whose refusal
    /// is `otherwise`: the response code decides when there is one (RFC
    /// 2449 §8.1, RFC 3206): `IN-USE`, `LOGIN-DELAY` and `SYS/TEMP` are
    /// temporary (75), `AUTH` a refused login (77), `SYS/PERM` a refused
    /// service (69).
    pub fn failure_kind(&self, otherwise: ErrorKind) -> ErrorKind {
        // Codes are hierarchical: deeper levels a client does not know
        // are ignored (RFC 2449 §8).
        let mut levels = self.code.as_deref().unwrap_or("").split('/');
        match (levels.next(), levels.next()) {
            (Some("IN-USE" | "LOGIN-DELAY"), _) => ErrorKind::Deferred,
            (Some("SYS"), Some("TEMP")) => ErrorKind::Deferred,
            (Some("SYS"), Some("PERM")) => ErrorKind::Refused,
            (Some("AUTH"), _) => ErrorKind::AuthRefused,
            _ => otherwise,
        }
    }

    /// The error a `-ERR` to `what` means (see [`Response::failure_kind`]),
    /// with the server's line and, for a login delay, what it means.
    pub fn error(&self, what: &str, otherwise: ErrorKind) -> Error {
        let mut message = format!(
            "{what}: the server said {}",
            crate::output::printable(&self.line())
        );
        match self.code.as_deref() {
            Some("LOGIN-DELAY") => message.push_str(
                " (LOGIN-DELAY: the server allows a login only so often; run again later)",
            ),
            Some("IN-USE") => {
                message.push_str(" (IN-USE: another session holds the mailbox; run again later)")
            }
            _ => {}
        }
        Error::refusal(self.failure_kind(otherwise), self.server_reply(), message)
    }
}

/// The status word at the start of `line`, followed by the end or a space
/// (RFC 1939 §3); the rest of the line.
fn strip_status<'a>(line: &'a str, status: &str) -> Option<&'a str> {
    let head = line.get(..status.len())?;
    if !head.eq_ignore_ascii_case(status) {
        return None;
    }
    let rest = &line[status.len()..];
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// At most 200 characters of a line, for an error message.
fn truncated(line: &str) -> String {
    line.chars().take(200).collect()
}

/// What the server offers (CAPA, RFC 2449 §5).
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// CAPA was answered; without it (an RFC 1939-only server) nothing
    /// beyond the base commands is known.
    pub known: bool,
    /// Every capability line as sent.
    pub lines: Vec<String>,
    /// STLS (RFC 2595).
    pub stls: bool,
    /// PIPELINING (RFC 2449 §6.6).
    pub pipelining: bool,
    /// UIDL.
    pub uidl: bool,
    /// TOP.
    pub top: bool,
    /// USER (USER/PASS allowed).
    pub user: bool,
    /// RESP-CODES.
    pub resp_codes: bool,
    /// SASL mechanisms (RFC 5034 §6).
    pub sasl: Vec<String>,
    /// LOGIN-DELAY's argument, the seconds between logins.
    pub login_delay: Option<String>,
    /// IMPLEMENTATION's text.
    pub implementation: Option<String>,
}

impl Capabilities {
    /// The capabilities of CAPA's lines; tags in any case.
    pub fn parse(lines: &[String]) -> Capabilities {
        let mut caps = Capabilities {
            known: true,
            lines: lines.to_vec(),
            ..Capabilities::default()
        };
        for line in lines {
            let mut words = line.split_whitespace();
            let Some(tag) = words.next() else { continue };
            match tag.to_ascii_uppercase().as_str() {
                "STLS" => caps.stls = true,
                "PIPELINING" => caps.pipelining = true,
                "UIDL" => caps.uidl = true,
                "TOP" => caps.top = true,
                "USER" => caps.user = true,
                "RESP-CODES" => caps.resp_codes = true,
                "SASL" => caps.sasl = words.map(str::to_string).collect(),
                "LOGIN-DELAY" => caps.login_delay = words.next().map(str::to_string),
                "IMPLEMENTATION" => caps.implementation = Some(words.collect::<Vec<_>>().join(" ")),
                _ => {}
            }
        }
        caps
    }
}

/// How to log in (`pop3-fetch --auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// The strongest offered: see [`Session::login`].
    Auto,
    /// USER and PASS (RFC 1939 §7).
    User,
    /// APOP (RFC 1939 §7).
    Apop,
    /// AUTH with this SASL mechanism (RFC 5034).
    Sasl(sasl::Mechanism),
}

/// One message in the maildrop: its number in this session, its size as
/// LIST gives it (CRLF line ends), and its UIDL when the server has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The message number (RFC 1939 §5, 1-based).
    pub number: u32,
    /// Octets, as the server counts them.
    pub size: u64,
    /// The unique id (RFC 1939 §7 UIDL), when offered.
    pub uidl: Option<String>,
}

/// A POP3 client session over one connection.
pub struct Session {
    conn: Connection,
    greeting: Response,
    caps: Capabilities,
}

impl Session {
    /// Reads the greeting: `+OK`, or `-ERR` (refused; its response code
    /// decides the status), or anything else (76).
    pub fn greet(mut conn: Connection) -> Result<Session, Error> {
        let line = conn
            .read_line(MAX_LINE)
            .map_err(|e| e.prefixed("waiting for the greeting"))?;
        let greeting = Response::parse(&line).map_err(|e| e.prefixed("greeting"))?;
        if !greeting.ok {
            return Err(greeting.error("greeting", ErrorKind::Refused));
        }
        Ok(Session {
            conn,
            greeting,
            caps: Capabilities::default(),
        })
    }

    /// The greeting line.
    pub fn greeting(&self) -> String {
        self.greeting.line()
    }

    /// The APOP timestamp of the greeting, when there is one.
    pub fn apop_timestamp(&self) -> Option<String> {
        sasl::apop_timestamp(&self.greeting.line()).map(str::to_string)
    }

    /// What the server offered in its last CAPA response.
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// The connection, e.g. for its TLS facts.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// CAPA (RFC 2449 §5); a `-ERR` leaves the capabilities unknown.
    pub fn ask_capabilities(&mut self) -> Result<(), Error> {
        let response = self.command("CAPA")?;
        if !response.ok {
            self.caps = Capabilities::default();
            return Ok(());
        }
        let lines = self.read_lines("CAPA", MAX_CAPA_LINES, MAX_CAPA_OCTETS)?;
        self.caps = Capabilities::parse(&lines);
        Ok(())
    }

    /// The login methods this session can use, strongest first, as
    /// `--auth auto` tries them: without TLS APOP first (it does not send
    /// the password); then SASL (the mechanisms offered that
    /// [`sasl::choose`] takes), APOP, USER/PASS (when offered, or when CAPA
    /// said nothing). With an OAuth token only SASL.
    pub fn login_methods(&self, oauth: bool) -> Vec<LoginMethod> {
        let mut methods = Vec::new();
        let apop = self.apop_timestamp().is_some() && !oauth;
        if apop && !self.conn.is_tls() {
            methods.push(LoginMethod::Apop);
        }
        if let Some(mechanism) = sasl::choose(&self.caps.sasl, oauth) {
            methods.push(LoginMethod::Sasl(mechanism));
        }
        if apop && self.conn.is_tls() {
            methods.push(LoginMethod::Apop);
        }
        if !oauth && (self.caps.user || !self.caps.known) {
            methods.push(LoginMethod::User);
        }
        methods
    }

    /// Logs in with `method`, or with the strongest of
    /// [`Session::login_methods`] for [`LoginMethod::Auto`]. A refusal is
    /// 77 unless its response code says otherwise (75 for `IN-USE`,
    /// `LOGIN-DELAY` and `SYS/TEMP`, 69 for `SYS/PERM`).
    pub fn login(&mut self, login: &Login, method: LoginMethod) -> Result<(), Error> {
        let method = match method {
            LoginMethod::Auto => *self.login_methods(login.oauth).first().ok_or_else(|| {
                Error::new(
                    ErrorKind::AuthRefused,
                    format!(
                        "no usable login method offered (SASL: {}; USER: {}; APOP: {})",
                        none_if_empty(&self.caps.sasl.join(" ")),
                        if self.caps.user { "yes" } else { "no" },
                        if self.apop_timestamp().is_some() {
                            "yes"
                        } else {
                            "no"
                        },
                    ),
                )
            })?,
            method => method,
        };
        match method {
            LoginMethod::User | LoginMethod::Auto => self.user_pass(login),
            LoginMethod::Apop => self.apop(login),
            LoginMethod::Sasl(mechanism) => self.auth(login, mechanism),
        }
    }

    /// USER then PASS (RFC 1939 §7).
    fn user_pass(&mut self, login: &Login) -> Result<(), Error> {
        check_argument("user name", &login.user)?;
        let response = self.command(&format!("USER {}", login.user))?;
        if !response.ok {
            return Err(response.error("USER", ErrorKind::AuthRefused));
        }
        let line = format!("PASS {}", login.secret.expose());
        let response = self.secret_command(&line, "PASS ****")?;
        if !response.ok {
            return Err(response.error("login", ErrorKind::AuthRefused));
        }
        Ok(())
    }

    /// APOP with the greeting's timestamp (RFC 1939 §7).
    fn apop(&mut self, login: &Login) -> Result<(), Error> {
        check_argument("user name", &login.user)?;
        let timestamp = self.apop_timestamp().ok_or_else(|| {
            Error::new(
                ErrorKind::AuthRefused,
                "APOP: the server's greeting has no timestamp, so it does not offer APOP",
            )
        })?;
        let digest = sasl::apop_digest(&timestamp, login.secret.expose());
        let line = format!("APOP {} {digest}", login.user);
        let response = self.secret_command(&line, &format!("APOP {} ****", login.user))?;
        if !response.ok {
            return Err(response.error("APOP login", ErrorKind::AuthRefused));
        }
        Ok(())
    }

    /// AUTH (RFC 5034): the initial response with the command when it
    /// fits in 255 octets, then each `+ ` challenge answered by
    /// [`sasl::Client`].
    fn auth(&mut self, login: &Login, mechanism: sasl::Mechanism) -> Result<(), Error> {
        let (host, port) = (self.conn.host().to_owned(), self.conn.port());
        let mut client =
            sasl::Client::new(mechanism, &login.user, login.secret.expose(), &host, port);
        let mut line = match client.initial_response() {
            Some(first) if 6 + mechanism.name().len() + first.line.len() <= MAX_AUTH_COMMAND => {
                let line = match first.line.is_empty() {
                    true => "=".to_string(),
                    false => first.line,
                };
                let shown = format!("AUTH {mechanism} ****");
                self.conn
                    .write_secret_line(&format!("AUTH {mechanism} {line}"), &shown)?;
                self.conn.read_line(MAX_LINE)?
            }
            // Too long: the response goes with the first (empty) challenge.
            _ => {
                self.conn.write_line(&format!("AUTH {mechanism}"))?;
                self.conn.read_line(MAX_LINE)?
            }
        };
        while let Some(challenge) = line
            .strip_prefix(b"+ ")
            .or(line.strip_prefix(b"+").filter(|r| r.is_empty()))
        {
            let challenge = String::from_utf8_lossy(challenge).into_owned();
            let response = client.respond(&challenge).map_err(|e| e.prefixed("AUTH"))?;
            match response.secret {
                true => self.conn.write_secret_line(&response.line, "****")?,
                false => self.conn.write_line(&response.line)?,
            }
            line = self.conn.read_line(MAX_LINE)?;
        }
        let response = Response::parse(&line).map_err(|e| e.prefixed("AUTH"))?;
        if response.ok {
            return Ok(());
        }
        let error = response.error(&format!("AUTH {mechanism}"), ErrorKind::AuthRefused);
        Err(match client.oauth_error() {
            Some(detail) => error.suffixed(&format!(" (token refused: {detail})")),
            None => error,
        })
    }

    /// STAT: the number of messages and their total size.
    pub fn stat(&mut self) -> Result<(u32, u64), Error> {
        let response = self.command("STAT")?;
        if !response.ok {
            return Err(response.error("STAT", ErrorKind::Protocol));
        }
        let mut words = response.text.split_whitespace();
        let count = words.next().and_then(|w| w.parse().ok());
        let size = words.next().and_then(|w| w.parse().ok());
        match (count, size) {
            (Some(count), _) if count > MAX_MESSAGES => Err(Error::protocol(format!(
                "STAT: the server says it holds {count} messages, more than the \
                 {MAX_MESSAGES} this client lists in one session"
            ))),
            (Some(count), Some(size)) => Ok((count, size)),
            _ => Err(Error::protocol(format!(
                "STAT: the server said {:?}, not a count and a size",
                crate::output::printable(&response.line())
            ))),
        }
    }

    /// LIST and, when `with_uidl`, UIDL, pipelined when offered; `count`
    /// (from STAT) bounds the lines read. A server without UIDL (`-ERR`)
    /// gives messages without one.
    pub fn list(&mut self, count: u32, with_uidl: bool) -> Result<Vec<Listed>, Error> {
        let pipelined = with_uidl && self.caps.pipelining;
        self.conn.write_line("LIST")?;
        if pipelined {
            self.conn.write_line("UIDL")?;
        }
        let mut messages = Vec::with_capacity(count.min(MAX_MESSAGES) as usize);
        self.numbered_lines("LIST", count, |number, size| {
            let size = decimal(size).ok_or_else(|| {
                Error::protocol(format!(
                    "LIST: {:?} is not the size of message {number}",
                    crate::output::printable(&truncated(&String::from_utf8_lossy(size)))
                ))
            })?;
            messages.push(Listed {
                number,
                size,
                uidl: None,
            });
            Ok(())
        })?;
        if !with_uidl {
            return Ok(messages);
        }
        if !pipelined {
            self.conn.write_line("UIDL")?;
        }
        let mut uidls = Vec::with_capacity(messages.len());
        let mut kept = 0usize;
        let read = self.numbered_lines("UIDL", count, |number, uidl| {
            let uidl = escape_uidl(uidl);
            kept += uidl.len();
            if kept > MAX_UIDL_OCTETS {
                return Err(Error::protocol(format!(
                    "UIDL: the server sent more than {} MiB of UIDLs",
                    MAX_UIDL_OCTETS >> 20
                )));
            }
            uidls.push((number, uidl));
            Ok(())
        });
        match read {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Refused && e.reply().is_some() => return Ok(messages),
            Err(e) => return Err(e),
        }
        attach_uidls(&mut messages, uidls)?;
        Ok(messages)
    }

    /// The lines of a multi-line `NUMBER VALUE` response to the command
    /// just sent, each given to `take` as it is read: at most `count` of
    /// them, numbers between 1 and `count` (RFC 1939 §5), each once (a
    /// number twice would have one message stored twice, or deleted
    /// unseen). A `-ERR` is a refusal (69) carrying the reply.
    fn numbered_lines(
        &mut self,
        what: &str,
        count: u32,
        mut take: impl FnMut(u32, &[u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let response = self.read_response(what)?;
        if !response.ok {
            return Err(response.error(what, ErrorKind::Refused));
        }
        let mut seen = vec![false; count.min(MAX_MESSAGES) as usize + 1];
        let mut lines = 0usize;
        while let Some(line) = self.next_line(what, &mut lines, count as usize, usize::MAX)? {
            let (number, value) = parse_numbered_line(what, &line, count)?;
            let once = seen.get_mut(number as usize).ok_or_else(|| {
                Error::protocol(format!("{what}: message {number} is beyond STAT's count"))
            })?;
            if std::mem::replace(once, true) {
                return Err(Error::protocol(format!(
                    "{what}: the server listed message {number} twice"
                )));
            }
            take(number, &value)?;
        }
        Ok(())
    }

    /// Sends `RETR n` (or `TOP n 0` with `header_only`) without waiting,
    /// for pipelining; [`Session::read_message`] reads the answer.
    pub fn send_retrieve(&mut self, number: u32, header_only: bool) -> Result<(), Error> {
        match header_only {
            true => self.conn.write_line(&format!("TOP {number} 0")),
            false => self.conn.write_line(&format!("RETR {number}")),
        }
    }

    /// Reads the answer to a RETR or TOP sent before: the message into
    /// `sink`, un-stuffed, complete only with its terminating line. A
    /// `-ERR` is an error (67 when the message is not there).
    pub fn read_message(
        &mut self,
        number: u32,
        sink: &mut dyn Write,
        options: &DotOptions,
    ) -> Result<Complete, Error> {
        let what = format!("RETR {number}");
        let response = self.read_response(&what)?;
        if !response.ok {
            return Err(response.error(&what, ErrorKind::NoSuchRecipient));
        }
        self.conn
            .read_dot_terminated(sink, options)
            .map_err(|e| e.prefixed(&format!("message {number}")))
    }

    /// Sends `DELE n` without waiting; [`Session::read_deleted`] reads the
    /// answer.
    pub fn send_delete(&mut self, number: u32) -> Result<(), Error> {
        self.conn.write_line(&format!("DELE {number}"))
    }

    /// Reads the answer to a DELE sent before.
    pub fn read_deleted(&mut self, number: u32) -> Result<(), Error> {
        let what = format!("DELE {number}");
        let response = self.read_response(&what)?;
        if !response.ok {
            return Err(response.error(&what, ErrorKind::Refused));
        }
        Ok(())
    }

    /// Sends what is queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.conn.flush()
    }

    /// NOOP.
    pub fn noop(&mut self) -> Result<(), Error> {
        let response = self.command("NOOP")?;
        match response.ok {
            true => Ok(()),
            false => Err(response.error("NOOP", ErrorKind::Protocol)),
        }
    }

    /// RSET: unmarks every message marked as deleted.
    pub fn reset(&mut self) -> Result<(), Error> {
        let response = self.command("RSET")?;
        match response.ok {
            true => Ok(()),
            false => Err(response.error("RSET", ErrorKind::Protocol)),
        }
    }

    /// QUIT, and its answer: the UPDATE state, where messages marked as
    /// deleted go (RFC 1939 §6). A `-ERR` means some were not removed.
    pub fn quit_and_commit(mut self) -> Result<(), Error> {
        let response = self.command("QUIT")?;
        match response.ok {
            true => Ok(()),
            false => {
                Err(response.error("QUIT (removing the deleted messages)", ErrorKind::Deferred))
            }
        }
    }

    /// Shows `=== text` in the transcript.
    pub fn note(&mut self, text: &str) {
        self.conn.note(text);
    }

    fn command(&mut self, line: &str) -> Result<Response, Error> {
        self.conn.write_line(line)?;
        let what = line.split(' ').next().unwrap_or(line).to_string();
        self.read_response(&what)
    }

    fn secret_command(&mut self, line: &str, shown: &str) -> Result<Response, Error> {
        self.conn.write_secret_line(line, shown)?;
        let what = shown.split(' ').next().unwrap_or(shown).to_string();
        self.read_response(&what)
    }

    /// Reads one status line (queued commands are sent first).
    fn read_response(&mut self, what: &str) -> Result<Response, Error> {
        let line = self
            .conn
            .read_line(MAX_LINE)
            .map_err(|e| e.prefixed(what))?;
        Response::parse(&line).map_err(|e| e.prefixed(what))
    }

    /// The lines of a multi-line response up to its terminating `.`,
    /// un-stuffed; more than `max` lines, or more than `max_octets` in
    /// them, is a protocol error (76).
    fn read_lines(
        &mut self,
        what: &str,
        max: usize,
        max_octets: usize,
    ) -> Result<Vec<String>, Error> {
        let mut lines = Vec::new();
        let (mut count, mut octets) = (0usize, 0usize);
        while let Some(line) = self.next_line(what, &mut count, max, max_octets - octets)? {
            octets += line.len();
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        Ok(lines)
    }

    /// The next line of a multi-line response, un-stuffed, or `None` at its
    /// terminating `.`; `read` counts the lines, which may be at most
    /// `max`, and the line at most `room` octets (both 76 past that).
    fn next_line(
        &mut self,
        what: &str,
        read: &mut usize,
        max: usize,
        room: usize,
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut line = self
            .conn
            .read_line(MAX_LINE)
            .map_err(|e| e.prefixed(what))?;
        if line == b"." {
            return Ok(None);
        }
        if *read == max {
            return Err(Error::protocol(format!(
                "{what}: the server sent more than {max} lines"
            )));
        }
        if line.len() > room {
            return Err(Error::protocol(format!(
                "{what}: the server sent more than the response may hold"
            )));
        }
        *read += 1;
        if line.first() == Some(&b'.') {
            line.remove(0);
        }
        Ok(Some(line))
    }
}

/// One line of a LIST or UIDL response (RFC 1939 §5, §7): a message
/// number from 1 to `count` (STAT's), a space, and a value (a size, a
/// UIDL); anything after the value is ignored (RFC 1939 §5 allows it). A
/// line that is not that is a protocol error (76).
pub fn parse_numbered_line(what: &str, line: &[u8], count: u32) -> Result<(u32, Vec<u8>), Error> {
    let mut words = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty());
    let number = words.next().and_then(decimal);
    match (number, words.next()) {
        (Some(n), Some(value)) if (1..=count).contains(&n) => Ok((n, value.to_vec())),
        _ => Err(Error::protocol(format!(
            "{what}: the server sent {:?}, not a message number (1 to {count}) and a value",
            crate::output::printable(&truncated(&String::from_utf8_lossy(line)))
        ))),
    }
}

/// A number of decimal digits only (no sign, RFC 1939 §5), if it fits.
pub fn decimal<T: std::str::FromStr>(digits: &[u8]) -> Option<T> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Puts each UIDL (escaped by [`escape_uidl`]) on its message; a number
/// LIST did not give, or a UIDL two messages share, is a protocol error
/// (RFC 1939 §7 makes each unique: the state file knows a message by it,
/// so a shared one would have a message never stored deleted as stored).
/// A UIDL is 1 to 70 octets from 0x21 to 0x7E (RFC 1939 §7); one outside
/// that is kept with its other octets escaped as `%XX`, so that it still
/// works as a key and prints safely.
fn attach_uidls(messages: &mut [Listed], uidls: Vec<(u32, String)>) -> Result<(), Error> {
    let position: std::collections::HashMap<u32, usize> = messages
        .iter()
        .enumerate()
        .map(|(at, m)| (m.number, at))
        .collect();
    for (number, uidl) in uidls {
        let at = position.get(&number).ok_or_else(|| {
            Error::protocol(format!(
                "UIDL: message {number} is not in the LIST response"
            ))
        })?;
        messages[*at].uidl = Some(uidl);
    }
    let mut seen = std::collections::HashMap::with_capacity(messages.len());
    for message in messages.iter() {
        let Some(uidl) = message.uidl.as_deref() else {
            continue;
        };
        if let Some(first) = seen.insert(uidl, message.number) {
            return Err(Error::protocol(format!(
                "UIDL: messages {first} and {} have the same UIDL {:?}",
                message.number,
                crate::output::printable(&truncated(uidl))
            )));
        }
    }
    Ok(())
}

/// A UIDL with `%` and octets outside 0x21–0x7E as `%XX`.
pub fn escape_uidl(uidl: &[u8]) -> String {
    let mut escaped = String::with_capacity(uidl.len());
    for &byte in uidl {
        match byte {
            b'%' => escaped.push_str("%25"),
            0x21..=0x7e => escaped.push(byte as char),
            _ => escaped.push_str(&format!("%{byte:02X}")),
        }
    }
    escaped
}

/// Refuses an argument that would break the command line.
fn check_argument(what: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(Error::usage(format!(
            "the {what} {:?} cannot be sent in a POP3 command (empty, a space or a control character)",
            crate::output::printable(value)
        )));
    }
    Ok(())
}

fn none_if_empty(text: &str) -> &str {
    if text.is_empty() { "none" } else { text }
}

/// The POP3 steps of the shared negotiation ([`crate::net::session`]):
/// the greeting, CAPA, STLS (RFC 2595 §4).
impl Handshake for Session {
    type Options = ();
    const TLS_COMMAND: &'static str = "STLS";

    fn greet(conn: Connection, _: &()) -> Result<Session, Error> {
        Session::greet(conn)
    }

    fn capabilities(&mut self) -> Result<(), Error> {
        self.ask_capabilities()
    }

    fn offers_tls(&self) -> bool {
        self.caps.stls
    }

    /// STLS, alone. On `+OK` what the server offered before TLS is
    /// forgotten (RFC 2595 §4).
    fn request_tls(&mut self) -> Result<TlsAnswer, Error> {
        let response = self.command("STLS")?;
        if !response.ok {
            return Ok(TlsAnswer::Refused(response.server_reply()));
        }
        self.caps = Capabilities::default();
        Ok(TlsAnswer::Proceed)
    }

    fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// QUIT without waiting for the answer (a session that changed
    /// nothing).
    fn quit(mut self) {
        if self.conn.write_line("QUIT").is_ok() {
            let _ = self.conn.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_and_response_codes() {
        let ok = Response::parse(b"+OK 2 320").unwrap();
        assert!(ok.ok && ok.code.is_none());
        assert_eq!(ok.text, "2 320");
        let bare = Response::parse(b"+OK").unwrap();
        assert!(bare.ok && bare.text.is_empty());
        let busy = Response::parse(b"-ERR [in-use] locked").unwrap();
        assert_eq!(busy.code.as_deref(), Some("IN-USE"));
        assert_eq!(busy.text, "locked");
        assert_eq!(busy.line(), "-ERR [IN-USE] locked");
        assert!(Response::parse(b"+OKAY").is_err());
        assert!(Response::parse(b"* OK imap").is_err());
        assert!(Response::parse(b"").is_err());
        let spaced = Response::parse(b"+OK ready ").unwrap();
        assert_eq!(Response::parse(spaced.line().as_bytes()).unwrap(), spaced);
        let bracket = Response::parse(b"-ERR [no end").unwrap();
        assert_eq!((bracket.code, bracket.text.as_str()), (None, "[no end"));
    }

    #[test]
    fn response_codes_decide_the_kind() {
        let kind = |line: &[u8]| {
            Response::parse(line)
                .unwrap()
                .failure_kind(ErrorKind::AuthRefused)
        };
        assert_eq!(kind(b"-ERR [IN-USE] x"), ErrorKind::Deferred);
        assert_eq!(kind(b"-ERR [LOGIN-DELAY] x"), ErrorKind::Deferred);
        assert_eq!(kind(b"-ERR [SYS/TEMP] x"), ErrorKind::Deferred);
        assert_eq!(kind(b"-ERR [SYS/PERM] x"), ErrorKind::Refused);
        assert_eq!(kind(b"-ERR [AUTH] x"), ErrorKind::AuthRefused);
        assert_eq!(kind(b"-ERR [UNKNOWN/CODE] x"), ErrorKind::AuthRefused);
        assert_eq!(kind(b"-ERR [SYS/TEMP/FULL] x"), ErrorKind::Deferred);
        assert_eq!(kind(b"-ERR [SYS] x"), ErrorKind::AuthRefused);
        assert_eq!(kind(b"-ERR wrong"), ErrorKind::AuthRefused);
        let delay = Response::parse(b"-ERR [LOGIN-DELAY] wait").unwrap();
        assert!(
            delay
                .error("login", ErrorKind::AuthRefused)
                .to_string()
                .contains("LOGIN-DELAY")
        );
    }

    #[test]
    fn capa_lines() {
        let lines: Vec<String> = [
            "TOP",
            "uidl",
            "RESP-CODES",
            "PIPELINING",
            "SASL PLAIN LOGIN",
            "STLS",
            "USER",
            "LOGIN-DELAY 900",
            "IMPLEMENTATION Shlemazle-Plotz-v302",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let caps = Capabilities::parse(&lines);
        assert!(caps.known && caps.top && caps.uidl && caps.pipelining && caps.stls && caps.user);
        assert_eq!(caps.sasl, ["PLAIN", "LOGIN"]);
        assert_eq!(caps.login_delay.as_deref(), Some("900"));
        assert_eq!(caps.implementation.as_deref(), Some("Shlemazle-Plotz-v302"));
        assert!(!Capabilities::default().known);
    }

    #[test]
    fn uidls_are_attached_and_escaped() {
        let mut messages = vec![
            Listed {
                number: 1,
                size: 10,
                uidl: None,
            },
            Listed {
                number: 2,
                size: 20,
                uidl: None,
            },
        ];
        attach_uidls(
            &mut messages,
            vec![
                (2, "whqtswO00WBw418f9t5JxYwZ".into()),
                (1, escape_uidl("a%b\u{e9}".as_bytes())),
            ],
        )
        .unwrap();
        assert_eq!(
            messages[1].uidl.as_deref(),
            Some("whqtswO00WBw418f9t5JxYwZ")
        );
        assert_eq!(messages[0].uidl.as_deref(), Some("a%25b%C3%A9"));
        assert!(attach_uidls(&mut messages, vec![(3, "x".into())]).is_err());
        let same = vec![(1, "x".into()), (2, "x".into())];
        assert!(attach_uidls(&mut messages, same).is_err());
        assert_ne!(escape_uidl(b"a\xff"), escape_uidl(b"a\xfe"));
        assert!(parse_numbered_line("LIST", b"+1 87", 5).is_err());
        assert_eq!(
            parse_numbered_line("LIST", b"2\t87 extra", 5).unwrap(),
            (2, b"87".to_vec())
        );
    }

    #[test]
    fn arguments_that_break_a_command_are_refused() {
        assert!(check_argument("user", "alice@example.org").is_ok());
        for bad in ["", "a b", "a\r\nDELE 1", "a\0"] {
            assert_eq!(
                check_argument("user", bad).unwrap_err().kind(),
                ErrorKind::Usage
            );
        }
    }
}
