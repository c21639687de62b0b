//! A scripted SMTP server on 127.0.0.1, with real STARTTLS (RFC 3207), for
//! what no real server does: STARTTLS missing, refused or followed by
//! injected bytes, garbage or silence instead of a TLS handshake,
//! extensions that change across TLS, invalid greetings, hostile text,
//! endless lines and replies, trickling, and connections reset or closed
//! at any step.
//!
//! It answers EHLO, HELO, STARTTLS, AUTH (PLAIN and LOGIN), MAIL, RCPT,
//! DATA, BDAT, RSET, NOOP and QUIT as a small server that accepts everything;
//! an [`Act`] given for a command (matched by the start of its line,
//! case-insensitive) replaces the normal answer. The end of message data
//! (the lone `.`) is the command `.`. A key starting with `~` matches only
//! over TLS. Every byte received is recorded (decrypted, under TLS), and
//! so are the messages the server accepted and the connections made after
//! the scripted ones.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::script_wire::{self, CountsExtra, Listening, Wire};

/// What the server does in place of its normal answer (or greeting).
#[derive(Clone, Debug)]
pub enum Act {
    /// Sends these bytes, then goes on.
    Reply(Vec<u8>),
    /// Sends these bytes, then reads (and records) until the client hangs
    /// up or 30 s have passed.
    ReplyThenSilence(Vec<u8>),
    /// Sends these bytes, then closes the connection (FIN).
    ReplyThenClose(Vec<u8>),
    /// Hangs up (FIN).
    Close,
    /// Resets the connection (RST: SO_LINGER 0, then close).
    Reset,
    /// Answers nothing; reads until the client hangs up (at most 30 s).
    Silence,
    /// For STARTTLS: these bytes in one write, then the TLS handshake; the
    /// session goes on over TLS when it succeeds.
    StartTls(Vec<u8>),
    /// For STARTTLS: `220 go ahead`, then, once the client's first TLS
    /// bytes arrived, these bytes instead of the server's handshake; then
    /// reads until the client hangs up.
    GarbageHandshake(Vec<u8>),
    /// For STARTTLS: `220 go ahead`, then the TLS handshake with the
    /// server's side of it written one byte every `every` (reading at full
    /// speed), until it completes or the client hangs up.
    SlowHandshake(Duration),
    /// Sends `prefix`, then `chunk` again and again until the client hangs
    /// up (or 30 s, or 4 GiB).
    Endless {
        /// Sent first.
        prefix: Vec<u8>,
        /// Repeated.
        chunk: Vec<u8>,
    },
    /// Sends `prefix` at once, then `slow` one byte every `every`, until
    /// done or the client hangs up; then goes on.
    Trickle {
        /// Sent at once.
        prefix: Vec<u8>,
        /// Sent a byte at a time.
        slow: Vec<u8>,
        /// The pause after each byte of `slow`.
        every: Duration,
    },
}

/// What the server says.
#[derive(Clone)]
pub struct SmtpScript {
    /// The greeting.
    pub greeting: Act,
    /// The EHLO keywords before TLS (one a line, after the first line).
    pub caps: Vec<String>,
    /// The EHLO keywords over TLS.
    pub tls_caps: Vec<String>,
    /// (start of the command line, action), case-insensitive; `~` first:
    /// over TLS only. The first match wins over the normal answer.
    pub overrides: Vec<(String, Act)>,
    /// The certificate and key (PEM) for STARTTLS; without them STARTTLS
    /// is answered 454.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How many connections to serve, one after the other.
    pub connections: usize,
}

/// What the clients sent.
#[derive(Debug, Default)]
pub struct SmtpLog {
    /// Every byte received in plain text.
    pub plain: Vec<u8>,
    /// Every byte received over TLS, decrypted.
    pub tls: Vec<u8>,
    /// Every command line received (CRLF removed; message data not
    /// included), in order.
    pub lines: Vec<String>,
    /// The command lines received over TLS (also in `lines`).
    pub tls_lines: Vec<String>,
    /// The messages the server accepted (250 to the final dot), as
    /// received (dot-stuffed, CRLF).
    pub delivered: Vec<Vec<u8>>,
    /// Connections served.
    pub served: usize,
    /// Connection attempts beyond those scripted, seen once the client
    /// ended.
    pub extra_connections: usize,
}

impl SmtpLog {
    /// Whether a command line starting with `words` (case-insensitive)
    /// was received.
    pub fn received(&self, words: &str) -> bool {
        let words = words.to_ascii_uppercase();
        self.lines
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with(&words))
    }

    /// Everything received, plain and TLS.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut all = self.plain.clone();
        all.extend_from_slice(&self.tls);
        all
    }
}

impl CountsExtra for SmtpLog {
    fn extra_connection(&mut self) {
        self.extra_connections += 1;
    }
}

/// A running server: [`Listening::finish`] gives its log.
pub type RunningServer = Listening<SmtpLog>;

impl SmtpScript {
    /// A server offering `PIPELINING 8BITMIME STARTTLS` before TLS (with
    /// `tls`, the certificate and key) and `PIPELINING 8BITMIME AUTH
    /// PLAIN LOGIN` over it.
    pub fn new(tls: Option<(PathBuf, PathBuf)>) -> SmtpScript {
        let words = |list: &[&str]| list.iter().map(|w| w.to_string()).collect();
        SmtpScript {
            greeting: Act::Reply(b"220 scripted ESMTP ready\r\n".to_vec()),
            caps: words(&["PIPELINING", "8BITMIME", "STARTTLS"]),
            tls_caps: words(&["PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN"]),
            overrides: Vec::new(),
            tls,
            connections: 1,
        }
    }

    /// Adds an action for command lines starting with `words` (`~` first:
    /// over TLS only; `.` for the end of message data).
    pub fn on(mut self, words: &str, act: Act) -> SmtpScript {
        self.overrides.push((words.to_string(), act));
        self
    }

    /// Starts serving.
    pub fn start(self) -> RunningServer {
        let connections = self.connections;
        script_wire::serve(
            connections,
            Duration::from_secs(15),
            move |stream, log: &mut SmtpLog| {
                log.served += 1;
                Conn::new(&self, stream).converse(log);
            },
        )
    }
}

/// Whether the conversation goes on.
enum Next {
    Continue,
    Stop,
}

/// One connection.
struct Conn<'a> {
    script: &'a SmtpScript,
    wire: Wire,
    /// The BDAT chunks of the message under way.
    chunks: Vec<u8>,
}

impl<'a> Conn<'a> {
    fn new(script: &'a SmtpScript, tcp: TcpStream) -> Conn<'a> {
        Conn {
            script,
            wire: Wire::new(tcp),
            chunks: Vec::new(),
        }
    }

    /// The greeting, then commands until either side ends.
    fn converse(mut self, log: &mut SmtpLog) {
        let greeting = self.script.greeting.clone();
        if let Next::Continue = self.act(&greeting, log) {
            self.commands(log);
        }
        let (plain, tls) = self.wire.recorded();
        log.plain.extend_from_slice(&plain);
        log.tls.extend_from_slice(&tls);
    }

    /// Reads and answers commands until either side ends.
    fn commands(&mut self, log: &mut SmtpLog) {
        while let Some(command) = self.wire.line() {
            self.record(&command, log);
            if let Next::Stop = self.answer(&command, log) {
                break;
            }
        }
    }

    /// Adds a received line to the log (and to the TLS lines under TLS).
    fn record(&self, line: &str, log: &mut SmtpLog) {
        log.lines.push(line.to_string());
        if self.wire.tls() {
            log.tls_lines.push(line.to_string());
        }
    }

    /// The action the script gives for `command`, if any.
    fn scripted(&self, command: &str) -> Option<Act> {
        let upper = command.to_ascii_uppercase();
        self.script
            .overrides
            .iter()
            .find(|(key, _)| {
                let (key, tls_only) = match key.strip_prefix('~') {
                    Some(key) => (key, true),
                    None => (key.as_str(), false),
                };
                (self.wire.tls() || !tls_only) && upper.starts_with(&key.to_ascii_uppercase())
            })
            .map(|(_, act)| act.clone())
    }

    /// The first matching action, else the normal answer.
    fn answer(&mut self, command: &str, log: &mut SmtpLog) -> Next {
        match self.scripted(command) {
            Some(act) => {
                let to_data = command.eq_ignore_ascii_case("DATA")
                    && matches!(&act, Act::Reply(r) if r.starts_with(b"354"));
                match self.act(&act, log) {
                    Next::Continue if to_data => self.data(log),
                    next => next,
                }
            }
            None => self.normal(command, log),
        }
    }

    /// Carries out an action.
    fn act(&mut self, act: &Act, log: &mut SmtpLog) -> Next {
        match act {
            Act::Reply(bytes) => {
                self.wire.send(bytes);
                Next::Continue
            }
            Act::ReplyThenSilence(bytes) => {
                self.wire.send(bytes);
                self.drain(log);
                Next::Stop
            }
            Act::ReplyThenClose(bytes) => {
                self.wire.send(bytes);
                Next::Stop
            }
            Act::Close => Next::Stop,
            Act::Reset => {
                self.wire.reset();
                Next::Stop
            }
            Act::Silence => {
                self.drain(log);
                Next::Stop
            }
            Act::StartTls(bytes) => self.start_tls(bytes),
            Act::SlowHandshake(every) => {
                self.wire.send(b"220 2.0.0 go ahead\r\n");
                if let Some(acceptor) = self.acceptor() {
                    self.wire.slow_handshake(&acceptor, *every);
                }
                Next::Stop
            }
            Act::GarbageHandshake(garbage) => {
                self.wire.send(b"220 2.0.0 go ahead\r\n");
                self.wire.await_client();
                self.wire.send(garbage);
                self.drain(log);
                Next::Stop
            }
            Act::Endless { prefix, chunk } => {
                self.wire.endless(prefix, chunk);
                Next::Stop
            }
            Act::Trickle {
                prefix,
                slow,
                every,
            } => {
                self.wire.send(prefix);
                match self.wire.trickle(slow, *every) {
                    true => Next::Continue,
                    false => Next::Stop,
                }
            }
        }
    }

    /// The TLS acceptor of the script's certificate, if it has one.
    fn acceptor(&self) -> Option<openssl::ssl::SslAcceptor> {
        let (cert, key) = self.script.tls.as_ref()?;
        Some(script_wire::acceptor(cert, key))
    }

    /// `reply` (the 220, maybe more), then the TLS handshake.
    fn start_tls(&mut self, reply: &[u8]) -> Next {
        let Some(acceptor) = self.acceptor() else {
            self.wire.send(b"454 4.7.0 no TLS here\r\n");
            return Next::Continue;
        };
        self.wire.send(reply);
        match self.wire.start_tls(&acceptor) {
            true => Next::Continue,
            false => Next::Stop,
        }
    }

    /// Reads until the client hangs up (at most 30 s), recording lines.
    fn drain(&mut self, log: &mut SmtpLog) {
        while let Some(line) = self.wire.line() {
            self.record(&line, log);
        }
    }

    /// The EHLO reply: the greeting line, then the keywords of this side of
    /// TLS.
    fn ehlo_reply(&self) -> Vec<u8> {
        let caps = match self.wire.tls() {
            true => &self.script.tls_caps,
            false => &self.script.caps,
        };
        let mut lines = vec!["scripted greets you".to_string()];
        lines.extend(caps.iter().cloned());
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            out.push_str(&format!("250{sep}{line}\r\n"));
        }
        out.into_bytes()
    }

    /// The normal answer of a small server that accepts everything.
    fn normal(&mut self, command: &str, log: &mut SmtpLog) -> Next {
        let upper = command.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("");
        let reply: Vec<u8> = match verb {
            "EHLO" => self.ehlo_reply(),
            "HELO" => b"250 scripted\r\n".to_vec(),
            "STARTTLS" => return self.start_tls(b"220 2.0.0 go ahead\r\n"),
            "AUTH" => return self.auth(&upper, log),
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.0.0 ok\r\n".to_vec(),
            "DATA" => {
                self.wire.send(b"354 go ahead\r\n");
                return self.data(log);
            }
            "BDAT" => return self.bdat(&upper, log),
            "QUIT" => {
                self.wire.send(b"221 2.0.0 bye\r\n");
                return Next::Stop;
            }
            _ => b"500 5.5.1 unknown command\r\n".to_vec(),
        };
        self.wire.send(&reply);
        Next::Continue
    }

    /// AUTH: 235 for an initial response on the line, else 334 and the
    /// client's answers (two for LOGIN), then 235.
    fn auth(&mut self, upper: &str, log: &mut SmtpLog) -> Next {
        let words: Vec<&str> = upper.split(' ').collect();
        let rounds = match (words.get(1), words.len()) {
            (Some(&"LOGIN"), 2) => 2,
            (Some(&"LOGIN"), _) => 1,
            (_, 2) => 1,
            _ => 0,
        };
        for _ in 0..rounds {
            self.wire.send(b"334 \r\n");
            let Some(line) = self.wire.line() else {
                return Next::Stop;
            };
            self.record(&line, log);
        }
        self.wire.send(b"235 2.7.0 ok\r\n");
        Next::Continue
    }

    /// Message data up to the lone `.`, which is then answered as the
    /// command `.` (normally 250, and the message counts as delivered).
    fn data(&mut self, log: &mut SmtpLog) -> Next {
        let mut message = Vec::new();
        loop {
            let Some(line) = self.wire.raw_line() else {
                return Next::Stop;
            };
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            message.extend_from_slice(&line);
        }
        self.record(".", log);
        match self.scripted(".") {
            Some(act) => self.act(&act, log),
            None => {
                self.wire.send(b"250 2.0.0 queued as 1\r\n");
                log.delivered.push(message);
                Next::Continue
            }
        }
    }
}

impl Conn<'_> {
    /// BDAT (RFC 3030): the chunk's octets, then 250; after `LAST` the
    /// message (the chunks since the last transaction's end) counts as
    /// delivered.
    fn bdat(&mut self, upper: &str, log: &mut SmtpLog) -> Next {
        let mut words = upper.split(' ').skip(1);
        let size: usize = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let last = words.next() == Some("LAST");
        let mut chunk = vec![0u8; size];
        if self.wire.reader().read_exact(&mut chunk).is_err() {
            return Next::Stop;
        }
        self.chunks.extend_from_slice(&chunk);
        self.wire.send(b"250 2.0.0 chunk ok\r\n");
        if last {
            log.delivered.push(std::mem::take(&mut self.chunks));
        }
        Next::Continue
    }
}
