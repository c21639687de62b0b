//! A scripted POP3 server on 127.0.0.1 for the faults no real server makes
//! (a connection lost or reset inside RETR or the TLS handshake, a
//! response without its terminating line, STLS response injection,
//! garbage instead of a TLS handshake, capabilities that change across
//! TLS, RFC 2449 response codes, endless lines and multi-line responses,
//! silence, a byte at a time, no UIDL, commands sent before an answer
//! without PIPELINING).
//!
//! It keeps a small maildrop and answers CAPA, USER, PASS, AUTH (any
//! mechanism, any credential), STAT, LIST, UIDL, TOP, RETR, DELE, RSET,
//! NOOP and QUIT as RFC 1939 says, with multi-line responses dot-stuffed
//! and ended by `.`; an [`Action`] given for a command prefix (over TLS
//! only, or always) replaces the normal answer. Every line received is
//! recorded (apart: those in plain text, those over TLS), and with
//! [`Pop3Script::lockstep_check`] so is every command that arrived before
//! the previous one was answered.

use std::io::Read;
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::script_wire::{self, Wire};

/// What the server does instead of its normal answer.
#[derive(Clone, Debug)]
pub enum Action {
    /// Sends these bytes as they are (several lines may be in one write).
    Reply(Vec<u8>),
    /// Sends these bytes, then answers nothing more, reading until the
    /// client hangs up or 30 s have passed.
    ReplyThenSilence(Vec<u8>),
    /// Hangs up.
    Close,
    /// Answers nothing, reading (and recording) until the client hangs up
    /// or 30 s have passed.
    Silence,
    /// For RETR: `+OK`, then only the first `octets` of the stuffed
    /// message and its terminating line, then hangs up.
    CutRetr {
        /// How much of the message is sent.
        octets: usize,
    },
    /// For RETR: `+OK` and the whole stuffed message, but no terminating
    /// `.` line; then hangs up.
    NoTerminator,
    /// For RETR: `+OK`, the first `octets` of the stuffed message, then
    /// nothing more until the client hangs up (at most 30 s).
    Stall {
        /// How much of the message is sent.
        octets: usize,
    },
    /// For RETR: `+OK`, then the stuffed message one octet every
    /// `every`, until the client hangs up (at most 30 s).
    Trickle {
        /// The pause between octets.
        every: std::time::Duration,
    },
    /// Sends `prefix`, then `x` without a line end until `total` octets
    /// are sent or the client hangs up.
    Endless {
        /// The start of the line.
        prefix: Vec<u8>,
        /// How many octets at most.
        total: usize,
    },
    /// For STLS: `+OK begin TLS` and `injected` in one write, then the TLS
    /// handshake with [`Pop3Script::tls`], then the session goes on over
    /// TLS.
    StartTls {
        /// Bytes sent after the `+OK` line, before the handshake.
        injected: Vec<u8>,
    },
    /// Resets the connection (RST: SO_LINGER 0, then close).
    Reset,
    /// Sends these bytes, then hangs up.
    ReplyThenClose(Vec<u8>),
    /// Sends these bytes, then resets the connection.
    ReplyThenReset(Vec<u8>),
    /// For STLS: `+OK begin TLS`, then, once the client's first TLS bytes
    /// arrived, resets the connection.
    ResetInHandshake,
    /// For STLS: `+OK begin TLS`, then, once the client's first TLS bytes
    /// arrived, these bytes instead of the server's handshake; then reads
    /// until the client hangs up.
    GarbageHandshake(Vec<u8>),
    /// Sends `prefix`, then `line` again and again, `$N` in it replaced by
    /// 1, 2, 3, ..., until the client hangs up (or 30 s, or 4 GiB).
    EndlessLines {
        /// Sent first.
        prefix: Vec<u8>,
        /// Repeated, numbered.
        line: String,
    },
    /// Sends `prefix` at once, then `slow` one octet every `every`, until
    /// done or the client hangs up; then the session goes on.
    Slow {
        /// Sent at once.
        prefix: Vec<u8>,
        /// Sent an octet at a time.
        slow: Vec<u8>,
        /// The pause before each octet.
        every: Duration,
    },
}

/// What the server says and keeps.
#[derive(Clone)]
pub struct Pop3Script {
    /// The first line (with its CRLF), or an action in its place.
    pub greeting: Action,
    /// The CAPA lines; `None` answers CAPA with `-ERR`.
    pub capa: Option<Vec<String>>,
    /// The CAPA lines over TLS, when they differ from `capa`.
    pub tls_capa: Option<Vec<String>>,
    /// The messages (CRLF line ends, as on the wire before stuffing).
    pub messages: Vec<Vec<u8>>,
    /// Whether UIDL is answered (else `-ERR`).
    pub uidl: bool,
    /// (command prefix, action), case-insensitive; the first match wins
    /// over the normal answer.
    pub overrides: Vec<(String, Action)>,
    /// Like `overrides`, only over TLS, and before them.
    pub tls_overrides: Vec<(String, Action)>,
    /// Before each answer, waits a little and records the command if
    /// another one already arrived (for servers without PIPELINING).
    pub lockstep_check: bool,
    /// How many connections to serve, one after the other.
    pub connections: usize,
    /// The certificate and key (PEM files) for STLS; without them STLS
    /// is answered with `-ERR`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Asked at each DELE whether the client has stored that message
    /// (by number); a no is recorded in [`Pop3Log::dele_before_store`].
    pub stored_check: Option<StoredCheck>,
}

/// Whether message NUMBER is stored where the client keeps messages.
pub type StoredCheck = Arc<dyn Fn(usize) -> bool + Send + Sync>;

/// What the clients did, once all connections ended.
#[derive(Debug, Default)]
pub struct Pop3Log {
    /// Every line received, line end removed.
    pub lines: Vec<String>,
    /// The lines received over TLS (also in `lines`).
    pub tls_lines: Vec<String>,
    /// The lines received in plain text (also in `lines`).
    pub plain_lines: Vec<String>,
    /// Commands after which another command had already arrived before
    /// the answer (only with `lockstep_check`).
    pub early: Vec<String>,
    /// Message numbers deleted by a QUIT that was answered.
    pub committed_deletions: Vec<usize>,
    /// Message numbers whose DELE came before [`Pop3Script::stored_check`]
    /// found them stored.
    pub dele_before_store: Vec<usize>,
}

/// Questions about what the clients sent.
impl Pop3Log {
    /// Whether a line starting with `prefix` (case-insensitive) was received.
    pub fn received(&self, prefix: &str) -> bool {
        let prefix = prefix.to_ascii_uppercase();
        self.lines
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with(&prefix))
    }
}

/// Building and starting a script.
impl Pop3Script {
    /// A server with USER, UIDL and TOP (no STLS, no PIPELINING) keeping
    /// `messages`.
    pub fn new(messages: Vec<Vec<u8>>) -> Pop3Script {
        Pop3Script {
            greeting: Action::Reply(b"+OK scripted POP3 ready\r\n".to_vec()),
            capa: Some(capa(&["USER", "UIDL", "TOP", "RESP-CODES"])),
            tls_capa: None,
            messages,
            uidl: true,
            overrides: Vec::new(),
            tls_overrides: Vec::new(),
            lockstep_check: false,
            connections: 1,
            tls: None,
            stored_check: None,
        }
    }

    /// Adds an action for commands starting with `prefix`.
    pub fn on(mut self, prefix: &str, action: Action) -> Pop3Script {
        self.overrides.push((prefix.to_string(), action));
        self
    }

    /// Adds an action for commands starting with `prefix` sent over TLS.
    pub fn on_tls(mut self, prefix: &str, action: Action) -> Pop3Script {
        self.tls_overrides.push((prefix.to_string(), action));
        self
    }

    /// The UIDL of message `number` (1-based): `uid-NUMBER`.
    pub fn uidl_of(number: usize) -> String {
        format!("uid-{number}")
    }

    /// Starts serving; gives the port and a handle that yields the log once
    /// all connections ended (or none came within 30 s).
    pub fn start(self) -> (u16, JoinHandle<Pop3Log>) {
        let connections = self.connections;
        let server =
            script_wire::serve(connections, Duration::from_secs(30), move |stream, log| {
                Session::new(&self, stream).converse(log)
            });
        let port = server.port;
        (port, std::thread::spawn(move || server.join()))
    }
}

/// CAPA lines from words.
pub fn capa(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|l| l.to_string()).collect()
}

/// Dot-stuffs a message and ends it with the terminating line.
pub fn stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    let mut at_line_start = true;
    for &byte in message {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Whether the session goes on after a command.
enum Next {
    /// Read the next command.
    Continue,
    /// End the session (the connection is closed).
    Stop,
}

/// One connection.
struct Session<'a> {
    /// What to say.
    script: &'a Pop3Script,
    /// The connection.
    wire: Wire,
    /// Which messages DELE marked.
    deleted: Vec<bool>,
}

/// The conversation.
impl<'a> Session<'a> {
    /// A plain session on an accepted connection.
    fn new(script: &'a Pop3Script, tcp: TcpStream) -> Session<'a> {
        Session {
            deleted: vec![false; script.messages.len()],
            script,
            wire: Wire::new(tcp),
        }
    }

    /// The greeting, then each command answered until the session ends.
    fn converse(mut self, log: &mut Pop3Log) {
        if let Next::Stop = self.act(&self.script.greeting.clone(), log) {
            return;
        }
        while let Some(command) = self.wire.line() {
            self.record(&command, log);
            if self.script.lockstep_check && self.more_arrived() {
                log.early.push(command.clone());
            }
            if let Next::Stop = self.answer(&command, log) {
                return;
            }
        }
    }

    /// Adds a received line to the log (and to the TLS lines under TLS).
    fn record(&self, line: &str, log: &mut Pop3Log) {
        log.lines.push(line.to_string());
        match self.wire.tls() {
            true => log.tls_lines.push(line.to_string()),
            false => log.plain_lines.push(line.to_string()),
        }
    }

    /// Whether more input is there already, after a short wait.
    fn more_arrived(&mut self) -> bool {
        if !self.wire.reader().buffer().is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(40));
        if self.wire.tls() {
            return false;
        }
        let mut byte = [0u8; 1];
        let tcp = self.wire.tcp();
        tcp.set_nonblocking(true).unwrap();
        let waiting = matches!(tcp.peek(&mut byte), Ok(n) if n > 0);
        tcp.set_nonblocking(false).unwrap();
        waiting
    }

    /// The first matching action, else the RFC 1939 answer.
    fn answer(&mut self, command: &str, log: &mut Pop3Log) -> Next {
        let upper = command.to_ascii_uppercase();
        let tls_overrides = match self.wire.tls() {
            true => &self.script.tls_overrides[..],
            false => &[],
        };
        let action = tls_overrides
            .iter()
            .chain(&self.script.overrides)
            .find(|(prefix, _)| upper.starts_with(&prefix.to_ascii_uppercase()))
            .map(|(_, action)| action.clone());
        if let Some(action) = action {
            return self.act_on(&action, command, log);
        }
        self.normal(command, log)
    }

    /// Carries out an action for `command` (RETR faults need the message).
    fn act_on(&mut self, action: &Action, command: &str, log: &mut Pop3Log) -> Next {
        match action {
            Action::CutRetr { octets } => {
                let mut data = self.retr_data(command);
                data.extend_from_slice(b".\r\n");
                let cut = &data[..(*octets).min(data.len())];
                self.send(format!("+OK {} octets\r\n", data.len()).as_bytes());
                self.send(cut);
                Next::Stop
            }
            Action::NoTerminator => {
                let data = self.retr_data(command);
                self.send(format!("+OK {} octets\r\n", data.len()).as_bytes());
                self.send(&data);
                Next::Stop
            }
            Action::Trickle { every } => {
                let data = self.retr_data(command);
                self.send(format!("+OK {} octets\r\n", data.len()).as_bytes());
                self.wire.trickle(&data, *every);
                Next::Stop
            }
            Action::Stall { octets } => {
                let data = self.retr_data(command);
                self.send(format!("+OK {} octets\r\n", data.len()).as_bytes());
                self.send(&data[..(*octets).min(data.len())]);
                self.drain(log);
                Next::Stop
            }
            other => self.act(other, log),
        }
    }

    /// The stuffed message a `RETR n` names (without the terminating line).
    fn retr_data(&self, command: &str) -> Vec<u8> {
        let number = argument(command).unwrap_or(1);
        stuffed(&self.script.messages[number - 1])
    }

    /// Carries out an action that needs no command.
    fn act(&mut self, action: &Action, log: &mut Pop3Log) -> Next {
        match action {
            Action::Reply(bytes) => {
                self.send(bytes);
                Next::Continue
            }
            Action::Close => Next::Stop,
            Action::ReplyThenSilence(bytes) => {
                self.send(bytes);
                self.drain(log);
                Next::Stop
            }
            Action::Silence => {
                self.drain(log);
                Next::Stop
            }
            Action::Endless { prefix, total } => {
                self.endless(prefix, *total);
                Next::Stop
            }
            Action::StartTls { injected } => self.start_tls(injected),
            Action::Reset => {
                self.wire.reset();
                Next::Stop
            }
            Action::ReplyThenClose(bytes) => {
                self.send(bytes);
                Next::Stop
            }
            Action::ReplyThenReset(bytes) => {
                self.send(bytes);
                self.wire.reset();
                Next::Stop
            }
            Action::ResetInHandshake => {
                self.send(b"+OK begin TLS\r\n");
                self.wire.await_client();
                self.wire.reset();
                Next::Stop
            }
            Action::GarbageHandshake(garbage) => {
                self.send(b"+OK begin TLS\r\n");
                self.wire.await_client();
                self.send(garbage);
                self.drain(log);
                Next::Stop
            }
            Action::EndlessLines { prefix, line } => {
                self.endless_lines(prefix, line);
                Next::Stop
            }
            Action::Slow {
                prefix,
                slow,
                every,
            } => {
                self.send(prefix);
                match self.wire.trickle(slow, *every) {
                    true => Next::Continue,
                    false => Next::Stop,
                }
            }
            Action::CutRetr { .. }
            | Action::NoTerminator
            | Action::Stall { .. }
            | Action::Trickle { .. } => Next::Stop,
        }
    }

    /// `+OK`, the injected bytes, then the TLS handshake; the session goes
    /// on over TLS when it succeeds.
    fn start_tls(&mut self, injected: &[u8]) -> Next {
        let Some((cert, key)) = &self.script.tls else {
            self.send(b"-ERR no TLS here\r\n");
            return Next::Continue;
        };
        let mut reply = b"+OK begin TLS\r\n".to_vec();
        reply.extend_from_slice(injected);
        let acceptor = script_wire::acceptor(cert, key);
        self.send(&reply);
        match self.wire.start_tls(&acceptor) {
            true => Next::Continue,
            false => Next::Stop,
        }
    }

    /// Reads until the client hangs up (at most 30 s), recording lines.
    fn drain(&mut self, log: &mut Pop3Log) {
        while let Some(line) = self.wire.line() {
            self.record(&line, log);
        }
    }

    /// `prefix` and then `x` until `total` octets or the client hangs up.
    fn endless(&mut self, prefix: &[u8], total: usize) {
        self.send(prefix);
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = prefix.len();
        while sent < total {
            if !self.send_checked(&chunk) {
                return;
            }
            sent += chunk.len();
        }
        // Let the client read what is in flight before the connection goes.
        let mut sink = [0u8; 1024];
        let _ = self
            .wire
            .tcp()
            .set_read_timeout(Some(Duration::from_secs(10)));
        while matches!(self.wire.reader().get_mut().read(&mut sink), Ok(n) if n > 0) {}
    }

    /// `prefix`, then `line` numbered again and again until the client
    /// hangs up (or 30 s, or 4 GiB).
    fn endless_lines(&mut self, prefix: &[u8], line: &str) {
        self.send(prefix);
        let started = Instant::now();
        let numbered = line.contains("$N");
        let (mut n, mut sent) = (1u64, 0usize);
        let mut block = Vec::with_capacity(64 * 1024);
        while sent < (4 << 30) && started.elapsed() < Duration::from_secs(30) {
            if numbered || block.is_empty() {
                block.clear();
                while block.len() < 60 * 1024 {
                    block.extend_from_slice(line.replace("$N", &n.to_string()).as_bytes());
                    n += 1;
                }
            }
            if !self.send_checked(&block) {
                return;
            }
            sent += block.len();
        }
    }

    /// Writes and flushes; a client that hung up is not an error here.
    fn send(&mut self, bytes: &[u8]) {
        self.wire.send(bytes);
    }

    /// Sends `bytes`; whether the client still takes them.
    fn send_checked(&mut self, bytes: &[u8]) -> bool {
        self.wire.send_checked(bytes)
    }

    /// The RFC 1939 answer.
    fn normal(&mut self, command: &str, log: &mut Pop3Log) -> Next {
        let upper = command.to_ascii_uppercase();
        let verb = upper.split(' ').next().unwrap_or("").to_string();
        let reply = match verb.as_str() {
            "CAPA" => self.capa(),
            "USER" | "PASS" | "NOOP" => b"+OK\r\n".to_vec(),
            "AUTH" => self.auth(command, log),
            "STAT" => self.stat(),
            "LIST" => self.list(command),
            "UIDL" if self.script.uidl => self.uidl(command),
            "RETR" => self.retr(command, None),
            "TOP" => self.top(command),
            "DELE" => self.dele(command, log),
            "STLS" => return self.start_tls(b""),
            "RSET" => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                b"+OK\r\n".to_vec()
            }
            "QUIT" => {
                self.send(b"+OK bye\r\n");
                let gone = (1..=self.deleted.len()).filter(|n| self.deleted[n - 1]);
                log.committed_deletions.extend(gone);
                return Next::Stop;
            }
            _ => b"-ERR unknown command\r\n".to_vec(),
        };
        self.send(&reply);
        Next::Continue
    }

    /// The AUTH answer (RFC 5034): any login succeeds; without an
    /// initial response the empty challenge is sent and the response read.
    fn auth(&mut self, command: &str, log: &mut Pop3Log) -> Vec<u8> {
        if command.split(' ').count() < 3 {
            self.send(b"+ \r\n");
            let Some(line) = self.wire.line() else {
                return Vec::new();
            };
            self.record(&line, log);
        }
        b"+OK logged in\r\n".to_vec()
    }

    /// The CAPA answer (over TLS, `tls_capa` when given).
    fn capa(&self) -> Vec<u8> {
        let capa = match (self.wire.tls(), &self.script.tls_capa) {
            (true, Some(lines)) => Some(lines),
            _ => self.script.capa.as_ref(),
        };
        let Some(lines) = capa else {
            return b"-ERR no CAPA\r\n".to_vec();
        };
        let mut out = b"+OK capabilities\r\n".to_vec();
        for line in lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    /// The numbers of the messages not marked as deleted.
    fn present(&self) -> Vec<usize> {
        (1..=self.deleted.len())
            .filter(|n| !self.deleted[n - 1])
            .collect()
    }

    /// The message a command argument names, if present.
    fn named(&self, command: &str) -> Option<usize> {
        argument(command).filter(|n| self.present().contains(n))
    }

    /// The STAT answer: messages not marked as deleted, and their octets.
    fn stat(&self) -> Vec<u8> {
        let present = self.present();
        let total: usize = present
            .iter()
            .map(|n| self.script.messages[n - 1].len())
            .sum();
        format!("+OK {} {total}\r\n", present.len()).into_bytes()
    }

    /// The LIST answer: sizes with CRLF line ends.
    fn list(&self, command: &str) -> Vec<u8> {
        self.listing(command, |n| self.script.messages[n - 1].len().to_string())
    }

    /// The UIDL answer: `uid-NUMBER`.
    fn uidl(&self, command: &str) -> Vec<u8> {
        self.listing(command, Pop3Script::uidl_of)
    }

    /// LIST or UIDL, for one message or all.
    fn listing(&self, command: &str, value: impl Fn(usize) -> String) -> Vec<u8> {
        if command.contains(' ') {
            return match self.named(command) {
                Some(n) => format!("+OK {n} {}\r\n", value(n)).into_bytes(),
                None => b"-ERR no such message\r\n".to_vec(),
            };
        }
        let mut out = b"+OK\r\n".to_vec();
        for n in self.present() {
            out.extend_from_slice(format!("{n} {}\r\n", value(n)).as_bytes());
        }
        out.extend_from_slice(b".\r\n");
        out
    }

    /// RETR, or TOP with `lines` lines of the body.
    fn retr(&self, command: &str, lines: Option<usize>) -> Vec<u8> {
        let Some(n) = self.named(command) else {
            return b"-ERR no such message\r\n".to_vec();
        };
        let message = &self.script.messages[n - 1];
        let body = match lines {
            Some(k) => head_and_lines(message, k),
            None => message.clone(),
        };
        let mut out = format!("+OK {} octets\r\n", message.len()).into_bytes();
        out.extend_from_slice(&stuffed(&body));
        out.extend_from_slice(b".\r\n");
        out
    }

    /// The TOP answer: the header and the first lines of the body.
    fn top(&self, command: &str) -> Vec<u8> {
        let lines = command.split(' ').nth(2).and_then(|k| k.parse().ok());
        match lines {
            Some(k) => self.retr(command, Some(k)),
            None => b"-ERR TOP needs a message and a line count\r\n".to_vec(),
        }
    }

    /// The DELE answer; marks the message, after asking the stored check.
    fn dele(&mut self, command: &str, log: &mut Pop3Log) -> Vec<u8> {
        match self.named(command) {
            Some(n) => {
                if let Some(check) = &self.script.stored_check
                    && !check(n)
                {
                    log.dele_before_store.push(n);
                }
                self.deleted[n - 1] = true;
                b"+OK deleted\r\n".to_vec()
            }
            None => b"-ERR no such message\r\n".to_vec(),
        }
    }
}

/// The first argument of a command, as a number.
fn argument(command: &str) -> Option<usize> {
    command.split(' ').nth(1)?.trim().parse().ok()
}

/// The header, the empty line and the first `k` body lines.
fn head_and_lines(message: &[u8], k: usize) -> Vec<u8> {
    let end_of_header = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(message.len());
    let mut out = message[..end_of_header].to_vec();
    let body = &message[end_of_header..];
    for line in body.split_inclusive(|&b| b == b'\n').take(k) {
        out.extend_from_slice(line);
    }
    out
}
