//! A scripted IMAP server on 127.0.0.1, with real STARTTLS, for what no
//! real server does: STARTTLS refused, missing or followed by injected
//! bytes, garbage or silence instead of a TLS handshake, capabilities
//! that change across TLS, PREAUTH, referrals, hostile text, endless
//! lines and responses, huge literals, trickling, and connections reset
//! at any step.
//!
//! It answers CAPABILITY, STARTTLS, LOGIN, AUTHENTICATE, ENABLE, LIST,
//! STATUS, EXAMINE, UID SEARCH, UID FETCH and LOGOUT as a small server
//! with one folder (INBOX) holding one message (UID 1); an [`Act`] given
//! for a command (matched by the words after the tag) replaces the normal
//! answer. In replies, `$T` stands for the command's tag. Every byte
//! received is recorded (decrypted, under TLS), and so are connections
//! made after the scripted ones.

use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

use crate::common::script_wire::{self, CountsExtra, Listening, Wire};

/// The message the server keeps as UID 1 (CRLF line ends).
pub const MESSAGE: &[u8] = b"Date: Mon, 2 Nov 2026 10:00:00 +0100\r\n\
From: Ann <ann@example.org>\r\nSubject: hello\r\n\
Message-ID: <hello@example.org>\r\n\r\nHello.\r\n";

/// What the server does in place of its normal answer (or greeting).
#[derive(Clone, Debug)]
pub enum Act {
    /// Sends these bytes (`$T` replaced by the tag), then goes on.
    Reply(Vec<u8>),
    /// Sends these bytes, then reads (and records) until the client hangs
    /// up or 30 s have passed.
    ReplyThenSilence(Vec<u8>),
    /// Hangs up (FIN).
    Close,
    /// Resets the connection (RST: SO_LINGER 0, then close).
    Reset,
    /// Answers nothing; reads until the client hangs up (at most 30 s).
    Silence,
    /// For STARTTLS: these bytes (`$T` replaced) in one write, then the
    /// TLS handshake; the session goes on over TLS when it succeeds.
    StartTls(Vec<u8>),
    /// Sends these bytes (`$T` replaced), then the normal answer.
    Before(Vec<u8>),
    /// For STARTTLS: `$T OK begin TLS`, then, once the client's first TLS
    /// bytes arrived, these bytes instead of the server's handshake; then
    /// reads until the client hangs up.
    GarbageHandshake(Vec<u8>),
    /// Sends `prefix`, then `chunk` again and again until the client hangs
    /// up (or 30 s, or 4 GiB).
    Endless {
        /// Sent first (`$T` replaced).
        prefix: Vec<u8>,
        /// Repeated.
        chunk: Vec<u8>,
    },
    /// Sends `prefix` (`$T` replaced) and then closes the connection.
    ReplyThenClose(Vec<u8>),
    /// Sends `prefix` at once, then `slow` one byte a second, until done
    /// or the client hangs up (`$T` replaced in both).
    Trickle {
        /// Sent at once.
        prefix: Vec<u8>,
        /// Sent a byte a second.
        slow: Vec<u8>,
    },
}

/// What the server says.
#[derive(Clone)]
pub struct ImapScript {
    /// The greeting.
    pub greeting: Act,
    /// The capabilities before TLS.
    pub caps: String,
    /// The capabilities over TLS.
    pub tls_caps: String,
    /// (command words after the tag, action), case-insensitive prefix; the
    /// first match wins over the normal answer.
    pub overrides: Vec<(String, Act)>,
    /// The certificate and key (PEM) for STARTTLS; without them STARTTLS
    /// is answered BAD.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How many connections to serve, one after the other.
    pub connections: usize,
}

/// What the clients sent.
#[derive(Debug, Default)]
pub struct ImapLog {
    /// Every byte received in plain text.
    pub plain: Vec<u8>,
    /// Every byte received over TLS, decrypted.
    pub tls: Vec<u8>,
    /// Every command line received (CRLF removed), in order.
    pub lines: Vec<String>,
    /// The command lines received over TLS (also in `lines`).
    pub tls_lines: Vec<String>,
    /// Connections served.
    pub served: usize,
    /// Connection attempts beyond those scripted, seen once the client
    /// ended.
    pub extra_connections: usize,
}

impl ImapLog {
    /// Whether a command line with these words after the tag
    /// (case-insensitive prefix) was received.
    pub fn received(&self, words: &str) -> bool {
        let words = words.to_ascii_uppercase();
        self.lines
            .iter()
            .any(|l| command_words(l).to_ascii_uppercase().starts_with(&words))
    }

    /// Everything received, plain and TLS.
    pub fn all_bytes(&self) -> Vec<u8> {
        let mut all = self.plain.clone();
        all.extend_from_slice(&self.tls);
        all
    }
}

/// The words after a command's tag.
pub fn command_words(line: &str) -> &str {
    line.split_once(' ').map_or("", |(_, rest)| rest)
}

impl CountsExtra for ImapLog {
    fn extra_connection(&mut self) {
        self.extra_connections += 1;
    }
}

/// A running server: [`Listening::finish`] gives its log.
pub type RunningServer = Listening<ImapLog>;

impl ImapScript {
    /// A server offering STARTTLS (with `tls`, the certificate and key)
    /// and, over TLS, `IMAP4rev1 AUTH=PLAIN SASL-IR`.
    pub fn new(tls: Option<(PathBuf, PathBuf)>) -> ImapScript {
        ImapScript {
            greeting: Act::Reply(b"* OK scripted IMAP ready\r\n".to_vec()),
            caps: "IMAP4rev1 STARTTLS LOGINDISABLED".into(),
            tls_caps: "IMAP4rev1 AUTH=PLAIN SASL-IR".into(),
            overrides: Vec::new(),
            tls,
            connections: 1,
        }
    }

    /// Adds an action for commands whose words after the tag start with
    /// `words`.
    pub fn on(mut self, words: &str, act: Act) -> ImapScript {
        self.overrides.push((words.to_string(), act));
        self
    }

    /// Starts serving.
    pub fn start(self) -> RunningServer {
        let connections = self.connections;
        script_wire::serve(
            connections,
            Duration::from_secs(15),
            move |stream, log: &mut ImapLog| {
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
    script: &'a ImapScript,
    wire: Wire,
    /// The command being answered.
    command: String,
}

impl<'a> Conn<'a> {
    fn new(script: &'a ImapScript, tcp: TcpStream) -> Conn<'a> {
        Conn {
            script,
            wire: Wire::new(tcp),
            command: String::new(),
        }
    }

    /// The greeting, then commands until either side ends.
    fn converse(mut self, log: &mut ImapLog) {
        let greeting = self.script.greeting.clone();
        if let Next::Continue = self.act(&greeting, "*", log) {
            self.commands(log);
        }
        let (plain, tls) = self.wire.recorded();
        log.plain.extend_from_slice(&plain);
        log.tls.extend_from_slice(&tls);
    }

    /// Reads and answers commands until either side ends.
    fn commands(&mut self, log: &mut ImapLog) {
        while let Some(command) = self.wire.line() {
            self.record(&command, log);
            self.command = command.clone();
            if let Next::Stop = self.answer(&command, log) {
                break;
            }
        }
    }

    /// Adds a received line to the log (and to the TLS lines under TLS).
    fn record(&self, line: &str, log: &mut ImapLog) {
        log.lines.push(line.to_string());
        if self.wire.tls() {
            log.tls_lines.push(line.to_string());
        }
    }

    /// The first matching action, else the normal answer.
    fn answer(&mut self, command: &str, log: &mut ImapLog) -> Next {
        let tag = command.split(' ').next().unwrap_or("*").to_string();
        let words = command_words(command).to_ascii_uppercase();
        let action = self
            .script
            .overrides
            .iter()
            .find(|(prefix, _)| words.starts_with(&prefix.to_ascii_uppercase()))
            .map(|(_, act)| act.clone());
        match action {
            Some(act) => self.act(&act, &tag, log),
            None => self.normal(&tag, &words, command, log),
        }
    }

    /// Carries out an action.
    fn act(&mut self, act: &Act, tag: &str, log: &mut ImapLog) -> Next {
        match act {
            Act::Reply(bytes) => {
                self.wire.send(&tagged(bytes, tag));
                Next::Continue
            }
            Act::ReplyThenSilence(bytes) => {
                self.wire.send(&tagged(bytes, tag));
                self.drain(log);
                Next::Stop
            }
            Act::ReplyThenClose(bytes) => {
                self.wire.send(&tagged(bytes, tag));
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
            Act::StartTls(bytes) => self.start_tls(tag, &tagged(bytes, tag)),
            Act::Before(bytes) => {
                self.wire.send(&tagged(bytes, tag));
                let command = self.command.clone();
                let words = command_words(&command).to_ascii_uppercase();
                self.normal(tag, &words, &command, log)
            }
            Act::GarbageHandshake(garbage) => {
                self.wire.send(format!("{tag} OK begin TLS\r\n").as_bytes());
                self.wire.await_client();
                self.wire.send(garbage);
                self.drain(log);
                Next::Stop
            }
            Act::Endless { prefix, chunk } => {
                self.wire.endless(&tagged(prefix, tag), chunk);
                Next::Stop
            }
            Act::Trickle { prefix, slow } => {
                self.wire.send(&tagged(prefix, tag));
                match self
                    .wire
                    .trickle(&tagged(slow, tag), Duration::from_secs(1))
                {
                    true => Next::Continue,
                    false => Next::Stop,
                }
            }
        }
    }

    /// `reply` (the OK, maybe more), then the TLS handshake.
    fn start_tls(&mut self, tag: &str, reply: &[u8]) -> Next {
        let Some((cert, key)) = &self.script.tls else {
            self.wire
                .send(format!("{tag} BAD no TLS here\r\n").as_bytes());
            return Next::Continue;
        };
        let acceptor = script_wire::acceptor(cert, key);
        self.wire.send(reply);
        match self.wire.start_tls(&acceptor) {
            true => Next::Continue,
            false => Next::Stop,
        }
    }

    /// Reads until the client hangs up (at most 30 s), recording lines.
    fn drain(&mut self, log: &mut ImapLog) {
        while let Some(line) = self.wire.line() {
            self.record(&line, log);
        }
    }

    /// The normal answer of a small server.
    fn normal(&mut self, tag: &str, words: &str, command: &str, log: &mut ImapLog) -> Next {
        let verb = words.split(' ').next().unwrap_or("");
        let reply = match verb {
            "CAPABILITY" => {
                let caps = if self.wire.tls() {
                    &self.script.tls_caps
                } else {
                    &self.script.caps
                };
                format!("* CAPABILITY {caps}\r\n{tag} OK done\r\n").into_bytes()
            }
            "STARTTLS" => return self.start_tls(tag, format!("{tag} OK begin TLS\r\n").as_bytes()),
            "LOGIN" | "ENABLE" | "NOOP" => format!("{tag} OK done\r\n").into_bytes(),
            "AUTHENTICATE" => return self.authenticate(tag, words, log),
            "LIST" => {
                format!("* LIST (\\HasNoChildren) \"/\" INBOX\r\n{tag} OK done\r\n").into_bytes()
            }
            "STATUS" => {
                format!("* STATUS INBOX (MESSAGES 1 UNSEEN 0)\r\n{tag} OK done\r\n").into_bytes()
            }
            "EXAMINE" => format!(
                "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 2] n\r\n\
                 {tag} OK [READ-ONLY] done\r\n"
            )
            .into_bytes(),
            "UID" if words.starts_with("UID SEARCH") => {
                format!("* SEARCH 1\r\n{tag} OK done\r\n").into_bytes()
            }
            "UID" if words.starts_with("UID FETCH") => fetch_answer(tag, command),
            "LOGOUT" => {
                self.wire
                    .send(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes());
                return Next::Stop;
            }
            _ => format!("{tag} BAD unknown command\r\n").into_bytes(),
        };
        self.wire.send(&reply);
        Next::Continue
    }

    /// AUTHENTICATE: OK for an initial response on the line, else one `+`
    /// and the client's answer, then OK.
    fn authenticate(&mut self, tag: &str, words: &str, log: &mut ImapLog) -> Next {
        if words.split(' ').count() < 3 {
            self.wire.send(b"+ \r\n");
            let Some(line) = self.wire.line() else {
                return Next::Stop;
            };
            self.record(&line, log);
        }
        self.wire.send(format!("{tag} OK done\r\n").as_bytes());
        Next::Continue
    }
}

/// The answer to a UID FETCH of UID 1: the items the command asks for.
fn fetch_answer(tag: &str, command: &str) -> Vec<u8> {
    let upper = command.to_ascii_uppercase();
    let mut out = b"* 1 FETCH (UID 1".to_vec();
    if upper.contains("FLAGS") {
        out.extend_from_slice(b" FLAGS ()");
    }
    if upper.contains("RFC822.SIZE") {
        out.extend_from_slice(format!(" RFC822.SIZE {}", MESSAGE.len()).as_bytes());
    }
    if let Some(at) = upper.find("BODY.PEEK[HEADER.FIELDS") {
        let end = upper[at..].find(']').map_or(upper.len(), |e| at + e + 1);
        let section = &command[at + "BODY.PEEK".len()..end];
        let header = MESSAGE.split(|&b| b == b'\n').take(4);
        let mut text: Vec<u8> = header.flat_map(|l| [l, b"\n"].concat()).collect();
        text.extend_from_slice(b"\r\n");
        out.extend_from_slice(format!(" BODY{section} {{{}}}\r\n", text.len()).as_bytes());
        out.extend_from_slice(&text);
    }
    if upper.contains("BODY.PEEK[]") {
        out.extend_from_slice(format!(" BODY[] {{{}}}\r\n", MESSAGE.len()).as_bytes());
        out.extend_from_slice(MESSAGE);
    }
    out.extend_from_slice(format!(")\r\n{tag} OK done\r\n").as_bytes());
    out
}

/// `bytes` with every `$T` replaced by `tag` (memchr's search: replies of
/// tens of MiB are made in no time, even unoptimised).
fn tagged(bytes: &[u8], tag: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut from = 0;
    for at in memchr::memmem::find_iter(bytes, b"$T") {
        out.extend_from_slice(&bytes[from..at]);
        out.extend_from_slice(tag.as_bytes());
        from = at + 2;
    }
    out.extend_from_slice(&bytes[from..]);
    out
}
