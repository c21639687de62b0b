//! An SMTP client session (RFC 5321), one method per protocol step, over a
//! [`Connection`]: greeting, EHLO (HELO fallback), STARTTLS (RFC 3207),
//! AUTH (RFC 4954), the envelope with PIPELINING (RFC 2920), DATA or BDAT
//! (RFC 3030), RSET, QUIT. It never prints and never exits: replies and
//! errors go back to the caller, which decides per recipient.

pub mod data;
pub mod queue;
pub mod retry;
pub mod submit;

use std::io::Read;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, ServerReply};
use crate::net::connection::Connection;
use crate::net::sasl;
use crate::net::session::{Handshake, Login, TlsAnswer};

/// The port of mail exchanges: 25, the registered `smtp` service that
/// relays speak to each other on.
pub const MX_PORT: u16 = 25;

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; servers go
/// beyond it, memory must not).
const MAX_REPLY_LINE: usize = 64 * 1024;
/// Most lines in one reply.
const MAX_REPLY_LINES: usize = 1000;
/// Most octets of text in one reply: far above any real reply (an EHLO
/// reply is a few hundred octets), far below what memory must never hold
/// for one (1000 lines of 64 KiB).
const MAX_REPLY_OCTETS: usize = 1 << 20;
/// BDAT chunk size.
const CHUNK: usize = 1 << 20;

/// One server reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of each line, without the code.
    pub lines: Vec<String>,
}

impl Reply {
    /// 2xx: the command completed (RFC 5321 §4.2.1). A 3xx is no
    /// success: it asks for more, and only where the protocol expects it
    /// (354 to DATA, 334 to AUTH, 220 to STARTTLS is a 2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 5xx: refused for good.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// The reply as one line: `550 5.1.1 no such user`.
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
    }

    /// The error this reply means after `what` when it is not the one
    /// expected (4xx: deferred; 5xx: `permanent`; any other, a 2xx or 3xx
    /// where it makes no sense, e.g. a 354 greeting: the server is out of
    /// step, a protocol error), keeping the reply.
    pub fn error(&self, what: &str, permanent: ErrorKind) -> Error {
        let kind = if self.is_transient() {
            ErrorKind::Deferred
        } else if self.is_permanent() {
            permanent
        } else {
            return self.out_of_step(what);
        };
        let message = format!("{what}: the server said {}", self.text());
        Error::refusal(kind, self.server_reply(), message)
    }

    /// The protocol error (76) of a reply that makes no sense after
    /// `what`: the server is out of step.
    pub fn out_of_step(&self, what: &str) -> Error {
        let message = format!(
            "{what}: the server broke the protocol: it said {}, which is no answer to it",
            self.text()
        );
        Error::refusal(ErrorKind::Protocol, self.server_reply(), message)
    }

    /// The reply itself when it is a completion (2xx), a deferral (4xx) or
    /// a refusal (5xx) of `what`; a 3xx is a protocol error (76).
    pub fn completion(self, what: &str) -> Result<Reply, Error> {
        match self.code {
            300..400 => Err(self.out_of_step(what)),
            _ => Ok(self),
        }
    }

    /// The reply as the error type keeps it.
    pub fn server_reply(&self) -> ServerReply {
        ServerReply {
            code: Some(self.code),
            text: self.lines.join(" / "),
        }
    }
}

/// What the server's EHLO reply offers (RFC 5321 §4.1.1.1).
#[derive(Debug, Clone, Default)]
pub struct Extensions {
    /// SIZE (RFC 1870), with its limit (0: none given).
    pub size: Option<u64>,
    /// 8BITMIME (RFC 6152).
    pub eight_bit_mime: bool,
    /// SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
    /// PIPELINING (RFC 2920).
    pub pipelining: bool,
    /// CHUNKING (RFC 3030).
    pub chunking: bool,
    /// DSN (RFC 3461).
    pub dsn: bool,
    /// STARTTLS (RFC 3207).
    pub starttls: bool,
    /// ENHANCEDSTATUSCODES (RFC 2034).
    pub enhanced_status: bool,
    /// AUTH mechanisms (RFC 4954).
    pub auth: Vec<String>,
    /// Every keyword line as offered.
    pub lines: Vec<String>,
}

impl Extensions {
    /// What an EHLO reply offers: each line after the first (the
    /// greeting) is a keyword with its parameters, keywords in any case.
    /// A SIZE without a usable number counts as SIZE 0 (no limit given).
    pub fn parse(reply: &Reply) -> Extensions {
        let mut ext = Extensions::default();
        for line in reply.lines.iter().skip(1) {
            ext.lines.push(line.clone());
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "SIZE" => ext.size = Some(words.next().and_then(|n| n.parse().ok()).unwrap_or(0)),
                "8BITMIME" => ext.eight_bit_mime = true,
                "SMTPUTF8" => ext.smtputf8 = true,
                "PIPELINING" => ext.pipelining = true,
                "CHUNKING" => ext.chunking = true,
                "DSN" => ext.dsn = true,
                "STARTTLS" => ext.starttls = true,
                "ENHANCEDSTATUSCODES" => ext.enhanced_status = true,
                "AUTH" => ext.auth.extend(words.map(str::to_ascii_uppercase)),
                _ => {}
            }
        }
        ext
    }
}

/// DSN parameters (RFC 3461).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dsn {
    /// NOTIFY=, e.g. `SUCCESS,FAILURE` or `NEVER`.
    pub notify: Option<String>,
    /// RET=FULL or HDRS.
    pub ret: Option<String>,
    /// ENVID=, xtext-encoded by the session.
    pub envid: Option<String>,
}

impl Dsn {
    /// Whether any DSN parameter was asked for.
    pub fn is_requested(&self) -> bool {
        self.notify.is_some() || self.ret.is_some() || self.envid.is_some()
    }
}

/// How the message is to be sent: the MAIL FROM parameters it needs.
#[derive(Debug, Clone, Default)]
pub struct MailOptions {
    /// The message size for SIZE=.
    pub size: u64,
    /// The message has 8-bit bytes: BODY=8BITMIME.
    pub eight_bit: bool,
    /// An address or header needs SMTPUTF8.
    pub smtputf8: bool,
    /// DSN parameters.
    pub dsn: Dsn,
}

/// An SMTP client session over one connection.
pub struct Session {
    conn: Connection,
    ext: Extensions,
    helo_name: String,
    /// The greeting line.
    pub banner: String,
}

impl Session {
    /// Reads the greeting (220); a 554 (any 5xx) greeting is a refusal
    /// (69), a 4xx a temporary one (75), anything else a protocol error
    /// (76).
    pub fn greet(mut conn: Connection) -> Result<Session, Error> {
        let reply = read_reply(&mut conn).map_err(|e| e.prefixed("waiting for the greeting"))?;
        if reply.code != 220 {
            return Err(reply.error("greeting", ErrorKind::Refused));
        }
        Ok(Session {
            conn,
            ext: Extensions::default(),
            helo_name: String::new(),
            banner: reply.text(),
        })
    }

    /// What the server offered in its last EHLO reply.
    pub fn extensions(&self) -> &Extensions {
        &self.ext
    }

    /// The connection, e.g. for its TLS facts.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The name to give in EHLO when none was chosen (RFC 5321 §4.1.1.1,
    /// §4.1.3): this host's fully qualified domain name
    /// ([`crate::domain::local_fqdn`]),
    /// else the address literal of this end of the connection
    /// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
    pub fn default_name(&self) -> String {
        crate::domain::local_fqdn().unwrap_or_else(|| {
            let ip = self.conn.local_address().map(|a| a.ip());
            address_literal(ip.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()))
        })
    }

    /// EHLO, falling back to HELO when the server refuses it (5xx, RFC
    /// 5321 §3.2). A 4xx is a temporary failure (75); any other answer
    /// than 250 (a second 220 greeting, a 354) means the server is out of
    /// step (76).
    pub fn hello(&mut self, name: &str) -> Result<(), Error> {
        self.helo_name = name.to_string();
        let reply = self.command(&format!("EHLO {name}"))?;
        if reply.code == 250 {
            self.ext = Extensions::parse(&reply);
            return Ok(());
        }
        if !reply.is_permanent() {
            return Err(reply.error("EHLO", ErrorKind::Refused));
        }
        let reply = self.command(&format!("HELO {name}"))?;
        if reply.code != 250 {
            return Err(reply.error("HELO", ErrorKind::Refused));
        }
        self.ext = Extensions::default();
        Ok(())
    }

    /// Shows `=== text` in the transcript.
    pub fn note(&mut self, text: &str) {
        self.conn.note(text);
    }

    /// AUTH with the strongest mechanism offered (RFC 4954), the
    /// exchange driven by [`sasl::Client`] (initial response sent with the
    /// command, RFC 4954 §4); 535 and other refusals are 77, 4xx 75.
    pub fn auth(&mut self, login: &Login) -> Result<(), Error> {
        let mechanism = sasl::choose(&self.ext.auth, login.oauth).ok_or_else(|| {
            Error::new(
                ErrorKind::AuthRefused,
                format!(
                    "no usable AUTH mechanism offered ({})",
                    self.ext.auth.join(" ")
                ),
            )
        })?;
        // RFC 7628 §3.1: the server's host and port as connected to.
        let (host, port) = (self.conn.host().to_owned(), self.conn.port());
        let mut client =
            sasl::Client::new(mechanism, &login.user, login.secret.expose(), &host, port);
        let mut reply = match client.initial_response() {
            Some(first) => self.secret_command(
                &format!("AUTH {mechanism} {}", first.line),
                &format!("AUTH {mechanism} ****"),
            )?,
            None => self.command(&format!("AUTH {mechanism}"))?,
        };
        while reply.code == 334 {
            let response = client
                .respond(&reply.lines.concat())
                .map_err(|why| why.prefixed("AUTH"))?;
            reply = match response.secret {
                true => self.secret_command(&response.line, "****")?,
                false => self.command(&response.line)?,
            };
        }
        if reply.code == 235 {
            return Ok(());
        }
        let kind = if reply.is_transient() {
            ErrorKind::Deferred
        } else if reply.is_permanent() {
            ErrorKind::AuthRefused
        } else {
            return Err(reply.out_of_step("AUTH"));
        };
        let detail = client
            .oauth_error()
            .map_or_else(String::new, |d| format!(" (token refused: {d})"));
        Err(Error::refusal(
            kind,
            reply.server_reply(),
            format!(
                "authentication failed: the server said {}{detail}",
                reply.text()
            ),
        ))
    }

    /// MAIL FROM and every RCPT TO, pipelined when offered; returns the
    /// MAIL reply and one reply per recipient. A refused MAIL is an error.
    pub fn envelope(
        &mut self,
        sender: &str,
        recipients: &[String],
        options: &MailOptions,
    ) -> Result<Vec<Reply>, Error> {
        let mail = mail_command(&self.ext, sender, options);
        let rcpts: Vec<String> = recipients
            .iter()
            .map(|r| rcpt_command(&self.ext, r, &options.dsn))
            .collect();
        if self.ext.pipelining {
            self.conn.write_line(&mail)?;
            for rcpt in &rcpts {
                self.conn.write_line(rcpt)?;
            }
            self.conn.flush()?;
            let reply = read_reply(&mut self.conn)?;
            let replies = rcpts
                .iter()
                .map(|_| read_reply(&mut self.conn)?.completion("RCPT TO"))
                .collect::<Result<Vec<_>, _>>()?;
            if !reply.is_success() {
                return Err(reply.error("MAIL FROM", ErrorKind::Refused));
            }
            return Ok(replies);
        }
        let reply = self.command(&mail)?;
        if !reply.is_success() {
            return Err(reply.error("MAIL FROM", ErrorKind::Refused));
        }
        rcpts
            .iter()
            .map(|rcpt| self.command(rcpt)?.completion("RCPT TO"))
            .collect()
    }

    /// Sends the message with DATA (canonical line ends, dot-stuffed,
    /// ending with exactly CRLF.CRLF) or, when offered, BDAT (RFC 3030).
    /// The reply is the final one (2xx, 4xx or 5xx), or DATA's refusal; a
    /// DATA answered other than 354, 4xx or 5xx, or a 3xx final reply, is
    /// a protocol error (76). A connection lost (or timed out) once the
    /// whole message was sent leaves it unknown whether the server took
    /// it (RFC 1047): the error says so.
    pub fn send_body(&mut self, body: &mut dyn Read) -> Result<Reply, Error> {
        if self.ext.chunking {
            return self.bdat(body);
        }
        let reply = self.command("DATA")?;
        if reply.code != 354 {
            if reply.is_transient() || reply.is_permanent() {
                return Ok(reply);
            }
            return Err(reply.out_of_step("DATA"));
        }
        let buffered = std::io::BufWriter::with_capacity(CHUNK, ConnWriter(&mut self.conn));
        let mut writer = data::WireWriter::new(buffered, true);
        std::io::copy(body, &mut writer).map_err(io_error)?;
        let (buffered, _) = writer.finish().map_err(io_error)?;
        buffered
            .into_inner()
            .map_err(|e| io_error(e.into_error()))?;
        self.conn.flush()?;
        final_reply(&mut self.conn)
    }

    fn bdat(&mut self, mut body: &mut dyn Read) -> Result<Reply, Error> {
        let mut outcome: Result<Option<Reply>, Error> = Ok(None);
        let conn = &mut self.conn;
        let streamed = data::for_each_chunk(&mut body, CHUNK, |chunk, last| {
            match send_chunk(conn, chunk, last) {
                Ok(reply) => {
                    // A refused chunk ends the transaction (RFC 3030 §2).
                    let refused = !reply.is_success() && !last;
                    outcome = Ok(Some(reply));
                    if refused {
                        return Err(std::io::Error::other("BDAT refused"));
                    }
                    Ok(())
                }
                Err(e) => {
                    outcome = Err(e);
                    Err(std::io::Error::other("BDAT failed"))
                }
            }
        });
        match (outcome?, streamed) {
            (Some(reply), _) => Ok(reply),
            (None, Err(e)) => Err(io_error(e)),
            (None, Ok(_)) => Err(Error::new(ErrorKind::Protocol, "BDAT: no reply")),
        }
    }

    /// RSET, between messages on one connection.
    pub fn reset(&mut self) -> Result<(), Error> {
        let reply = self.command("RSET")?;
        if reply.code != 250 {
            return Err(reply.error("RSET", ErrorKind::Protocol));
        }
        Ok(())
    }

    /// QUIT. The reply does not matter once the mail is accepted, and some
    /// servers hold it back until the client closes: it is not awaited.
    pub fn quit(mut self) {
        if self.conn.write_line("QUIT").is_ok() {
            let _ = self.conn.flush();
        }
    }

    fn command(&mut self, line: &str) -> Result<Reply, Error> {
        self.conn.write_line(line)?;
        self.conn.flush()?;
        read_reply(&mut self.conn)
    }

    fn secret_command(&mut self, line: &str, shown: &str) -> Result<Reply, Error> {
        self.conn.write_secret_line(line, shown)?;
        self.conn.flush()?;
        read_reply(&mut self.conn)
    }

    /// Changes the timeout of every later read and write.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.conn.set_timeout(timeout);
    }
}

/// The SMTP steps of the shared negotiation ([`crate::net::session`]):
/// the 220 greeting, EHLO (HELO fallback), STARTTLS (RFC 3207).
impl Handshake for Session {
    /// The EHLO name; `None` for [`Session::default_name`].
    type Options = Option<String>;

    fn greet(conn: Connection, helo: &Option<String>) -> Result<Session, Error> {
        let mut session = Session::greet(conn)?;
        session.helo_name = helo.clone().unwrap_or_else(|| session.default_name());
        Ok(session)
    }

    fn capabilities(&mut self) -> Result<(), Error> {
        let name = self.helo_name.clone();
        self.hello(&name)
    }

    fn offers_tls(&self) -> bool {
        self.ext.starttls
    }

    /// STARTTLS, sent alone (never pipelined). On 220 what the server
    /// offered before TLS is forgotten (RFC 3207 §4.2).
    fn request_tls(&mut self) -> Result<TlsAnswer, Error> {
        let reply = self.command("STARTTLS")?;
        if reply.code != 220 {
            if reply.is_transient() || reply.is_permanent() {
                return Ok(TlsAnswer::Refused(reply.server_reply()));
            }
            // A 354 or a 250 is no go-ahead (RFC 3207 §4: 220).
            return Err(reply.out_of_step("STARTTLS"));
        }
        self.ext = Extensions::default();
        Ok(TlsAnswer::Proceed)
    }

    fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn quit(self) {
        Session::quit(self);
    }
}

/// `MAIL FROM:<sender>` with the parameters `options` needs and the
/// server's extensions `ext` allow: SIZE (RFC 1870), BODY=8BITMIME (RFC
/// 6152), SMTPUTF8 (RFC 6531), RET and ENVID (RFC 3461).
pub fn mail_command(ext: &Extensions, sender: &str, options: &MailOptions) -> String {
    let mut command = format!("MAIL FROM:<{sender}>");
    if ext.size.is_some() {
        command.push_str(&format!(" SIZE={}", options.size));
    }
    if options.eight_bit && ext.eight_bit_mime {
        command.push_str(" BODY=8BITMIME");
    }
    if options.smtputf8 && ext.smtputf8 {
        command.push_str(" SMTPUTF8");
    }
    if ext.dsn {
        if let Some(ret) = &options.dsn.ret {
            command.push_str(&format!(" RET={ret}"));
        }
        if let Some(envid) = &options.dsn.envid {
            command.push_str(&format!(" ENVID={}", xtext(envid)));
        }
    }
    command
}

/// `RCPT TO:<recipient>`, with NOTIFY (RFC 3461) when the server offers
/// DSN.
pub fn rcpt_command(ext: &Extensions, recipient: &str, dsn: &Dsn) -> String {
    let mut command = format!("RCPT TO:<{recipient}>");
    if ext.dsn
        && let Some(notify) = &dsn.notify
    {
        command.push_str(&format!(" NOTIFY={notify}"));
    }
    command
}

/// An address literal for EHLO (RFC 5321 §4.1.3).
pub fn address_literal(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("[{v4}]"),
        std::net::IpAddr::V6(v6) => format!("[IPv6:{v6}]"),
    }
}

/// Reads one (possibly multi-line) reply, bounded in line length, line
/// count and octets (76 beyond), and due whole within the timeout (75
/// after it), however its lines trickle in: RFC 5321 §4.5.3.2 times a
/// command's reply, not each of its lines.
pub fn read_reply(conn: &mut Connection) -> Result<Reply, Error> {
    let deadline = Instant::now() + conn.timeout();
    let mut octets = 0usize;
    reply_from_lines(|| {
        let line = conn.read_line_by(MAX_REPLY_LINE, deadline)?;
        octets += line.len();
        if octets > MAX_REPLY_OCTETS {
            return Err(Error::protocol(format!(
                "the server's reply is longer than {} KiB",
                MAX_REPLY_OCTETS >> 10
            )));
        }
        Ok(line)
    })
}

/// The reply to the end of a message (the final dot, or BDAT LAST): a
/// completion ([`Reply::completion`]). When it does not come (a lost
/// connection, a timeout), the server may have taken the message all the
/// same: the error says so (RFC 1047), and a retry may deliver it twice.
fn final_reply(conn: &mut Connection) -> Result<Reply, Error> {
    match read_reply(conn) {
        Ok(reply) => reply.completion("the end of the message"),
        Err(e) if e.is_transient() => Err(e.suffixed(
            "; the whole message was sent: the server may have accepted it \
             (sending it again may deliver it twice, RFC 1047)",
        )),
        Err(e) => Err(e),
    }
}

/// A reply assembled from the lines `next_line` gives, up to the last one
/// (RFC 5321 §4.2.1). Every line must carry the same code: a reply that
/// mixes codes means client and server are out of step (76), as does one
/// of more than 1000 lines.
pub fn reply_from_lines(
    mut next_line: impl FnMut() -> Result<Vec<u8>, Error>,
) -> Result<Reply, Error> {
    let mut lines = Vec::new();
    let mut first = None;
    loop {
        let (code, last, text) = parse_reply_line(&next_line()?)?;
        if let Some(first) = first.filter(|&first| first != code) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("the server broke the protocol: one reply with codes {first} and {code}"),
            ));
        }
        first = Some(code);
        lines.push(text);
        if lines.len() > MAX_REPLY_LINES {
            return Err(Error::new(
                ErrorKind::Protocol,
                "the server's reply has too many lines",
            ));
        }
        if last {
            return Ok(Reply { code, lines });
        }
    }
}

/// One reply line as [`Connection::read_line`] gives it (without its line
/// end): the code, whether it is the reply's last line (`250 ` or a bare
/// code, rather than `250-`), and the text after the separator (invalid
/// UTF-8 replaced). A line that is not a reply line (RFC 5321 §4.2: a
/// code of `2`-`5`, `0`-`5` and a digit, then nothing, SP or `-`) is a
/// protocol error (76). [`read_reply`] reads lines until the last one.
pub fn parse_reply_line(line: &[u8]) -> Result<(u16, bool, String), Error> {
    let malformed = || {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "the server broke the protocol: {:?} is not a reply line",
                crate::output::printable(&String::from_utf8_lossy(&line[..line.len().min(80)]))
            ),
        )
    };
    if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    let code: u16 = std::str::from_utf8(&line[..3])
        .map_err(|_| malformed())?
        .parse()
        .map_err(|_| malformed())?;
    // RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39.
    if !(200..600).contains(&code) || code / 10 % 10 > 5 {
        return Err(malformed());
    }
    let last = match line.get(3) {
        None | Some(b' ') => true,
        Some(b'-') => false,
        _ => return Err(malformed()),
    };
    let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).into_owned();
    Ok((code, last, text))
}

/// One BDAT chunk and its reply.
fn send_chunk(conn: &mut Connection, chunk: &[u8], last: bool) -> Result<Reply, Error> {
    let command = if last {
        format!("BDAT {} LAST", chunk.len())
    } else {
        format!("BDAT {}", chunk.len())
    };
    conn.write_line(&command)?;
    conn.write_raw(chunk)?;
    conn.flush()?;
    match last {
        true => final_reply(conn),
        false => read_reply(conn)?.completion("BDAT"),
    }
}

/// xtext (RFC 3461 §4): `+XX` for '+', '=', and bytes outside 33..=126.
pub fn xtext(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if (33..=126).contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

fn io_error(e: std::io::Error) -> Error {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
        Some(inner) => inner.clone(),
        None => Error::new(ErrorKind::Deferred, format!("sending the message: {e}")),
    }
}

/// A `Write` over the connection for the DATA codec.
struct ConnWriter<'a>(&'a mut Connection);

impl std::io::Write for ConnWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.write_raw(data).map_err(std::io::Error::other)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    #[test]
    fn address_literals_follow_rfc_5321() {
        assert_eq!(address_literal("192.0.2.1".parse().unwrap()), "[192.0.2.1]");
        assert_eq!(
            address_literal("2001:db8::1".parse().unwrap()),
            "[IPv6:2001:db8::1]"
        );
        for literal in ["[192.0.2.1]", "[IPv6:2001:db8::1]"] {
            assert_eq!(crate::dns::probe::parse_helo(literal).unwrap(), literal);
        }
    }

    /// The reply that `lines` make, as the server would send them.
    fn reply_of(lines: &[&str]) -> Result<Reply, Error> {
        let mut lines = lines.iter();
        reply_from_lines(|| Ok(lines.next().expect("a line too many").as_bytes().to_vec()))
    }

    #[test]
    fn replies_gather_lines_of_one_code() {
        let reply = reply_of(&["250-mx Hello", "250-SIZE 100", "250 HELP"]).unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(reply.lines, ["mx Hello", "SIZE 100", "HELP"]);
        let mixed = reply_of(&["250-mx Hello", "550 no"]).unwrap_err();
        assert_eq!(mixed.status(), ExitStatus::Protocol);
        assert!(mixed.to_string().contains("codes 250 and 550"), "{mixed}");
        let many: Vec<&str> = std::iter::repeat_n("250-x", MAX_REPLY_LINES + 1).collect();
        let error = reply_of(&many).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
    }

    #[test]
    fn only_4xx_and_5xx_are_refusals_and_only_2xx_completes() {
        let reply = |code| Reply {
            code,
            lines: vec!["text".into()],
        };
        let status = |code| reply(code).error("MAIL FROM", ErrorKind::Refused).status();
        assert_eq!(status(421), ExitStatus::TempFail);
        assert_eq!(status(554), ExitStatus::Unavailable);
        // A 2xx or 3xx where it is no answer: out of step.
        assert_eq!(status(250), ExitStatus::Protocol);
        assert_eq!(status(354), ExitStatus::Protocol);
        for code in [250, 451, 550] {
            assert_eq!(reply(code).completion("RCPT TO").unwrap().code, code);
        }
        let error = reply(354).completion("RCPT TO").unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(error.to_string().contains("RCPT TO"), "{error}");
        assert!(reply(250).is_success() && !reply(354).is_success());
    }

    #[test]
    fn reply_lines() {
        assert_eq!(
            parse_reply_line(b"250-mx.example Hello").unwrap(),
            (250, false, "mx.example Hello".into())
        );
        assert_eq!(
            parse_reply_line(b"250 OK").unwrap(),
            (250, true, "OK".into())
        );
        assert_eq!(
            parse_reply_line(b"354").unwrap(),
            (354, true, String::new())
        );
        for bad in [&b"25"[..], b"abc def", b"250x", b"999 no", b"\x1b[2J"] {
            assert!(parse_reply_line(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extensions_from_ehlo() {
        let reply = Reply {
            code: 250,
            lines: [
                "mx Hello",
                "SIZE 10485760",
                "8BITMIME",
                "PIPELINING",
                "AUTH PLAIN login",
                "CHUNKING",
                "STARTTLS",
                "SMTPUTF8",
                "DSN",
            ]
            .map(String::from)
            .to_vec(),
        };
        let ext = Extensions::parse(&reply);
        assert_eq!(ext.size, Some(10_485_760));
        assert!(
            ext.eight_bit_mime
                && ext.pipelining
                && ext.chunking
                && ext.starttls
                && ext.smtputf8
                && ext.dsn
        );
        assert_eq!(ext.auth, ["PLAIN", "LOGIN"]);
    }

    #[test]
    fn xtext_encoding() {
        assert_eq!(xtext("a+b=c d"), "a+2Bb+3Dc+20d");
    }
}
