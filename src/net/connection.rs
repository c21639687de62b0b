//! A blocking client connection to a mail server: TCP with timeouts,
//! implicit TLS or STARTTLS (RFC 3207, RFC 2595), certificate checks,
//! bounded line reading, buffered writing and the protocol transcript.
//!
//! TLS is OpenSSL's, through the `openssl` crate rather than `native-tls`
//! (which wraps the same library on Unix) because an operator needs what
//! `native-tls` hides: the negotiated protocol version and cipher, and the
//! verifier's own reason for refusing a certificate.
//!
//! The SMTP, POP3 and IMAP clients speak their protocols over a
//! [`Connection`]; it knows lines and bytes, not commands. It never prints:
//! what a user may see goes to the [`Transcript`], made terminal-safe:
//! `<- `/`-> ` lines (`<~`/`~>` once TLS is up), `****` for secrets,
//! `[N octets of message data]` for data, `=== ` notes.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::ssl::{
    HandshakeError, MidHandshakeSslStream, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode,
    SslOptions, SslStream, SslVerifyMode,
};
use openssl::x509::verify::X509CheckFlags;
use openssl::x509::{X509, X509VerifyResult};

use crate::error::{Error, ErrorKind};
use crate::net::host_lookup::{self, LookupFailure};
use crate::net::transcript::Transcript;
use crate::net::url::host_port;
use crate::output::printable;

/// Bytes read from the socket at a time (and the most buffered at once).
const READ_BUFFER: usize = 16 * 1024;
/// Bytes collected before queued writes go out without an explicit flush.
const WRITE_BUFFER: usize = 64 * 1024;
/// How much later than a line's deadline a read may time out: the socket
/// timeout is not set again for less.
const TIMEOUT_SLACK: Duration = Duration::from_millis(50);

/// How TLS is used, as chosen with `--tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TlsMode {
    /// TLS from the first byte (smtps, pop3s, imaps; RFC 8314).
    Implicit,
    /// Plain connection upgraded with STARTTLS/STLS; fail (76) when the
    /// server does not offer it.
    #[value(name = "starttls")]
    StartTls,
    /// STARTTLS/STLS when the server offers it, plain text otherwise.
    Opportunistic,
    /// No TLS at all.
    None,
}

/// How the server's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// A PEM file of trusted certificates, trusted instead of the system
    /// roots (as curl's `--cacert`).
    pub cafile: Option<PathBuf>,
    /// A SHA-256 fingerprint of the server's certificate (hex, colons
    /// optional): the certificate must be this one, whoever signed it.
    pub fingerprint: Option<String>,
    /// Accept any certificate (an explicit opt-out, `--insecure`).
    pub insecure: bool,
}

impl TlsSettings {
    /// Checks that a CA file, when given, can be read and holds a
    /// certificate (78 otherwise), so that a run fails once, at its start,
    /// rather than at every connection.
    pub fn check(&self) -> Result<(), Error> {
        match &self.cafile {
            Some(path) => load_cafile(path).map(drop),
            None => Ok(()),
        }
    }
}

/// What is known about an established TLS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// The negotiated protocol version: `TLSv1.3`, `TLSv1.2`, ...
    pub version: String,
    /// The negotiated cipher suite, OpenSSL's name for it
    /// (`TLS_AES_256_GCM_SHA384`).
    pub cipher: String,
    /// True when the certificate was verified: against the trusted roots
    /// and the host name, or by the pinned fingerprint. False only with
    /// [`TlsSettings::insecure`] and no pin.
    pub verified: bool,
    /// SHA-256 of the server certificate's DER form: 64 lower-case hex
    /// digits, the form [`parse_fingerprint`] gives.
    pub fingerprint: String,
}

/// The byte stream under a connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<SslStream<TcpStream>>),
    /// After a failed TLS handshake: nothing can be read or written.
    Closed,
}

impl Stream {
    fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(tcp) => Some(tcp),
            Stream::Tls(tls) => Some(tls.get_ref()),
            Stream::Closed => None,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
            Stream::Closed => Err(io::ErrorKind::NotConnected.into()),
        }
    }
}

/// A blocking connection to one server.
///
/// Every read and write has a timeout; a line read has a length bound and
/// a deadline. Writes are queued and go out on [`Connection::flush`] (or
/// before the next read, or when 64 KiB are queued), so that a client can
/// pipeline commands. After any error the conversation is in an unknown
/// state: drop the connection.
pub struct Connection {
    stream: Stream,
    host: String,
    port: u16,
    peer: String,
    address: SocketAddr,
    local: Option<SocketAddr>,
    input: Box<[u8]>,
    start: usize,
    end: usize,
    output: Vec<u8>,
    secret_queued: bool,
    timeout: Duration,
    /// The read timeout last set on the socket, so that reads with the
    /// same wait (a message streamed in) set it once, not once per read.
    read_timeout_set: Option<Duration>,
    /// Octets read from the server so far (after TLS decryption).
    received: u64,
    /// While a dot-terminated response is read: when the next
    /// [`READ_BUFFER`] octets must have arrived, and how many have since
    /// that deadline was set.
    progress: Option<(Instant, usize)>,
    transcript: Transcript,
    tls: Option<TlsInfo>,
}

/// A TLS session ends with close_notify (RFC 8446 §6.1), so that the
/// server sees an orderly end rather than a truncation.
impl Drop for Connection {
    fn drop(&mut self) {
        if let Stream::Tls(tls) = &mut self.stream {
            let _ = tls.shutdown();
        }
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("address", &self.address)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects over TCP to `host:port`, trying each resolved address in
    /// turn with `timeout` each. For implicit TLS (RFC 8314) call
    /// [`Connection::start_tls`] at once.
    ///
    /// Errors: host name not found is [`ExitStatus::NoHost`] (68); refused,
    /// unreachable, reset or timed out is [`ExitStatus::TempFail`] (75); a
    /// TLS or certificate failure is [`ExitStatus::Protocol`] (76).
    pub fn open(
        host: &str,
        port: u16,
        timeout: Duration,
        transcript: Transcript,
    ) -> Result<Connection, Error> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let peer = host_port(host, port);
        let timeout = timeout.max(Duration::from_millis(1));
        let addresses = resolve(host, port, timeout, &peer)?;
        let mut connection = Connection {
            stream: Stream::Closed,
            host: host.to_owned(),
            port,
            peer,
            // Set to the address that answers, in connect_any.
            address: SocketAddr::from(([0, 0, 0, 0], port)),
            local: None,
            input: vec![0; READ_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            output: Vec::new(),
            secret_queued: false,
            timeout,
            read_timeout_set: None,
            received: 0,
            progress: None,
            transcript,
            tls: None,
        };
        connection.connect_any(&addresses)?;
        Ok(connection)
    }

    /// Tries each address in turn; the last failure is reported.
    fn connect_any(&mut self, addresses: &[SocketAddr]) -> Result<(), Error> {
        let mut last = io::Error::from(io::ErrorKind::NotFound);
        for address in addresses {
            self.note(&format!("Trying {address}..."));
            match TcpStream::connect_timeout(address, self.timeout) {
                Ok(tcp) => {
                    self.note(&format!("Connected to {address}"));
                    self.address = *address;
                    return self.use_tcp(tcp);
                }
                Err(error) => last = error,
            }
        }
        let mut error = self.io_error("connecting to", &last);
        if addresses.len() > 1 {
            error = error.suffixed(&format!(" ({} addresses tried)", addresses.len()));
        }
        Err(error)
    }

    /// Sets the timeouts on a fresh TCP stream and adopts it.
    fn use_tcp(&mut self, tcp: TcpStream) -> Result<(), Error> {
        let setup = tcp
            .set_read_timeout(Some(self.timeout))
            .and_then(|()| tcp.set_write_timeout(Some(self.timeout)))
            .and_then(|()| tcp.set_nodelay(true));
        setup.map_err(|e| self.io_error("connecting to", &e))?;
        self.read_timeout_set = Some(self.timeout);
        self.local = tcp.local_addr().ok();
        self.stream = Stream::Plain(tcp);
        Ok(())
    }

    /// Upgrades the connection to TLS after the server's STARTTLS (SMTP,
    /// IMAP) or STLS (POP3) success reply, checking the certificate against
    /// `host` and `settings`.
    ///
    /// Response injection (CVE-2020-14954 class): a byte the server sent
    /// after its success line and before the handshake was sent in plain
    /// text and must not be read as if it came over TLS. This fails with
    /// [`ExitStatus::Protocol`] (76) when such a byte is in the read buffer
    /// or already waiting on the socket (a non-blocking peek). Commands
    /// queued but not yet sent are a caller bug ([`ExitStatus::Software`]):
    /// STARTTLS must be sent alone and its reply read first.
    ///
    /// After the upgrade the caller must forget everything it learnt before
    /// it (capabilities, greeting facts) and ask again (RFC 3207 §4.2, RFC
    /// 2595 §3.1).
    pub fn start_tls(&mut self, host: &str, settings: &TlsSettings) -> Result<(), Error> {
        if self.is_tls() {
            return Err(Error::new(ErrorKind::Bug, "TLS is already active"));
        }
        if !self.output.is_empty() {
            return Err(Error::new(
                ErrorKind::Bug,
                "commands were queued after STARTTLS, before the TLS handshake",
            ));
        }
        if self.start < self.end {
            return Err(self.injection());
        }
        self.check_silence()?;
        self.handshake(host.trim_start_matches('[').trim_end_matches(']'), settings)
    }

    /// Starts TLS at once on a fresh connection (implicit TLS, RFC 8314),
    /// checking the certificate against `host` and `settings`.
    pub fn start_implicit_tls(&mut self, host: &str, settings: &TlsSettings) -> Result<(), Error> {
        if self.is_tls() {
            return Err(Error::bug("TLS is already active"));
        }
        self.handshake(host.trim_start_matches('[').trim_end_matches(']'), settings)
    }

    /// Fails when the server already sent something on the socket.
    fn check_silence(&mut self) -> Result<(), Error> {
        let Stream::Plain(tcp) = &self.stream else {
            return Err(self.io_error("starting TLS with", &io::ErrorKind::NotConnected.into()));
        };
        let peeked = peek_now(tcp);
        match peeked {
            Ok(0) => Err(self.closed("starting TLS with")),
            Ok(_) => Err(self.injection()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(self.io_error("starting TLS with", &e)),
        }
    }

    /// The error for plain-text bytes after the STARTTLS go-ahead.
    fn injection(&self) -> Error {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "starting TLS with {}: the server sent data after its go-ahead, \
                 before the TLS handshake (response injection?); giving up",
                self.peer
            ),
        )
    }

    /// The TLS handshake over the plain stream, then the certificate check.
    fn handshake(&mut self, host: &str, settings: &TlsSettings) -> Result<(), Error> {
        let checks_name = !(settings.insecure || settings.fingerprint.is_some());
        let ssl = client_session(&build_context(settings)?, host, checks_name)
            .map_err(|e| setup_error(&e))?;
        // The last line read may have shortened the read timeout.
        self.set_timeout(self.timeout);
        let tcp = match std::mem::replace(&mut self.stream, Stream::Closed) {
            Stream::Plain(tcp) => tcp,
            _ => return Err(self.closed("starting TLS with")),
        };
        // Each read waits at most the timeout; the whole handshake too, or a
        // server sending it a byte at a time would hold it for hours.
        let watch = HandshakeWatch::start(&tcp, self.timeout);
        let connected = ssl.connect(tcp);
        if watch.stop() {
            return Err(self.handshake_timeout());
        }
        let tls = connected.map_err(|e| self.handshake_error(e))?;
        let info = self.check_peer(&tls, settings)?;
        self.note(&format!(
            "TLS started: {} {}, certificate {}, SHA-256 {}",
            info.version,
            info.cipher,
            if info.verified {
                "verified"
            } else {
                "NOT verified"
            },
            info.fingerprint
        ));
        self.stream = Stream::Tls(Box::new(tls));
        self.tls = Some(info);
        self.start = 0;
        self.end = 0;
        Ok(())
    }

    /// A failed handshake as an error: timeout or reset 75, anything else
    /// 76.
    fn handshake_error(&self, error: HandshakeError<TcpStream>) -> Error {
        match error {
            HandshakeError::WouldBlock(_) => self.handshake_timeout(),
            HandshakeError::Failure(stream) => handshake_failure(&self.peer, &stream),
            HandshakeError::SetupFailure(e) => setup_error(&e),
        }
    }

    /// The handshake took longer than the timeout (75).
    fn handshake_timeout(&self) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "TLS with {}: handshake timed out after {}",
                self.peer,
                seconds(self.timeout)
            ),
        )
    }

    /// The session's facts, after checking a pinned fingerprint.
    fn check_peer(
        &self,
        tls: &SslStream<TcpStream>,
        settings: &TlsSettings,
    ) -> Result<TlsInfo, Error> {
        let fingerprint = peer_fingerprint(tls).ok_or_else(|| {
            Error::new(
                ErrorKind::Tls,
                format!("TLS with {}: the server sent no certificate", self.peer),
            )
        })?;
        if let Some(pin) = &settings.fingerprint {
            let pin = parse_fingerprint(pin).map_err(Error::usage)?;
            if pin != fingerprint {
                let reason = format!(
                    "certificate fingerprint mismatch: the server's is \
                     SHA-256 {fingerprint}, the pinned one {pin}"
                );
                let message = format!("TLS with {}: {reason}", self.peer);
                return Err(Error::certificate(reason, message));
            }
        }
        let session = tls.ssl();
        Ok(TlsInfo {
            version: session.version_str().to_owned(),
            cipher: session
                .current_cipher()
                .map_or_else(|| "(no cipher)".to_owned(), |c| c.name().to_owned()),
            verified: settings.fingerprint.is_some() || !settings.insecure,
            fingerprint,
        })
    }

    /// Reads one line, without its CRLF (or bare LF), of at most `max`
    /// octets, and shows it in the transcript. Queued writes are flushed
    /// first.
    ///
    /// The whole line must arrive within the timeout. Errors: a longer line
    /// is [`ExitStatus::Protocol`] (76), and at most `max` plus 16 KiB are
    /// held meanwhile; the server closing the connection, even in the middle
    /// of a line, or a timeout is [`ExitStatus::TempFail`] (75).
    pub fn read_line(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        self.flush()?;
        let deadline = Instant::now() + self.timeout;
        self.read_line_by(max, deadline)
    }

    /// [`Connection::read_line`] with the line due by `deadline` instead of
    /// within the timeout from now: the lines of one SMTP reply share one
    /// deadline, so that a server sending a line at a time, each just in
    /// time, still ends within the timeout.
    pub fn read_line_by(&mut self, max: usize, deadline: Instant) -> Result<Vec<u8>, Error> {
        let line = self.read_line_until(max, deadline)?;
        if self.transcript.is_on() {
            let text = String::from_utf8_lossy(&line).into_owned();
            self.log_in(&text);
        }
        Ok(line)
    }

    /// [`Connection::read_line`] without the transcript line, for message
    /// data (a POP3 RETR body); see [`Connection::note_received`].
    pub fn read_data_line(&mut self, max: usize) -> Result<Vec<u8>, Error> {
        self.flush()?;
        let deadline = Instant::now() + self.timeout;
        self.read_line_until(max, deadline)
    }

    /// One line, due by `deadline`, without the transcript line.
    fn read_line_until(&mut self, max: usize, deadline: Instant) -> Result<Vec<u8>, Error> {
        self.flush()?;
        let mut line = Vec::new();
        loop {
            let available = &self.input[self.start..self.end];
            if let Some(at) = memchr::memchr(b'\n', available) {
                line.extend_from_slice(&available[..at]);
                self.start += at + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return self.bounded(line, max);
            }
            line.extend_from_slice(available);
            self.start = self.end;
            // One more for a CR that the LF may still follow.
            if line.len() > max.saturating_add(1) {
                return Err(self.too_long(max));
            }
            if self.fill(Some(deadline))? == 0 {
                return Err(self.closed_in_line(line.is_empty()));
            }
        }
    }

    /// `line` if it is at most `max` octets long.
    fn bounded(&self, line: Vec<u8>, max: usize) -> Result<Vec<u8>, Error> {
        if line.len() > max {
            return Err(self.too_long(max));
        }
        Ok(line)
    }

    fn too_long(&self, max: usize) -> Error {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "reading from {}: the server sent a line longer than {max} octets",
                self.peer
            ),
        )
    }

    fn closed_in_line(&self, at_line_start: bool) -> Error {
        if at_line_start {
            return self.closed("reading from");
        }
        Error::new(
            ErrorKind::ConnectionLost,
            format!(
                "reading from {}: connection closed by the server in the middle of a line",
                self.peer
            ),
        )
    }

    fn closed(&self, doing: &str) -> Error {
        Error::new(
            ErrorKind::ConnectionLost,
            format!("{doing} {}: connection closed by the server", self.peer),
        )
    }

    /// Reads exactly `len` octets (an IMAP literal, RFC 3501 §4.3) into
    /// `sink`, a buffer at a time; the transcript shows `<- [len octets of
    /// data]`. Each [`READ_BUFFER`] octets (or the rest, when less) must
    /// arrive within the timeout, so that a server trickling a byte at a
    /// time times out (75) as it would within a line. A failing sink is a
    /// local I/O error (74).
    pub fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error> {
        self.flush()?;
        self.note_received(len);
        let mut left = len;
        let mut deadline = Instant::now() + self.timeout;
        let mut since_deadline = 0usize;
        while left > 0 {
            if self.start == self.end && self.fill(Some(deadline))? == 0 {
                return Err(self.closed("reading from"));
            }
            let take = (self.end - self.start).min(usize::try_from(left).unwrap_or(usize::MAX));
            since_deadline += take;
            if since_deadline >= READ_BUFFER {
                since_deadline = 0;
                deadline = Instant::now() + self.timeout;
            }
            let chunk = &self.input[self.start..self.start + take];
            sink.write_all(chunk)
                .map_err(|e| Error::io(format!("storing data from {}: {e}", self.peer)))?;
            self.start += take;
            left -= take as u64;
        }
        Ok(())
    }

    /// Reads a dot-terminated multi-line response (POP3 RETR, LIST, UIDL,
    /// TOP; RFC 1939 §3) into `sink`, un-stuffed, streamed through the
    /// read buffer (lines of any length, memory bounded), each 16 KiB (or
    /// the rest) within the timeout, as [`Connection::read_data`] reads a
    /// literal, so that a server trickling a byte at a time times out (75); the transcript shows `<- [N octets of data]`. Only the
    /// terminating line makes it `Ok`: a connection closed first is an
    /// error, so a message cut short is never taken as complete.
    pub fn read_dot_terminated(
        &mut self,
        sink: &mut dyn Write,
        options: &crate::net::dot_reader::DotOptions,
    ) -> Result<crate::net::dot_reader::Complete, Error> {
        self.flush()?;
        self.progress = Some((Instant::now() + self.timeout, 0));
        let complete = crate::net::dot_reader::read_dot_terminated(self, sink, options);
        self.progress = None;
        let complete = complete?;
        self.note_received(complete.octets);
        Ok(complete)
    }

    /// The octets read from the server so far (read ahead into the buffer
    /// included), for bounds on what one command may bring.
    pub fn received_octets(&self) -> u64 {
        self.received
    }

    /// Shows `<- [N octets of data]` in the transcript, for data read
    /// without a line each ([`Connection::read_data_line`]).
    pub fn note_received(&mut self, octets: u64) {
        self.log_in(&format!("[{octets} octets of data]"));
    }

    /// Refills the read buffer; 0 at the end of the stream. With a
    /// deadline, the read waits only until then.
    fn fill(&mut self, deadline: Option<Instant>) -> Result<usize, Error> {
        self.start = 0;
        self.end = 0;
        let wait = match deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => self.timeout,
        };
        if wait.is_zero() {
            return Err(self.io_error("reading from", &io::ErrorKind::TimedOut.into()));
        }
        // A timeout already set that ends at most a little after the
        // deadline is kept: each line's deadline moves the wait by
        // microseconds, and setting it for every read costs a system call.
        let close_enough = self
            .read_timeout_set
            .is_some_and(|set| set >= wait && set - wait <= TIMEOUT_SLACK);
        if let Some(tcp) = self.stream.tcp()
            && !close_enough
        {
            // Failing to set a timeout leaves the longer one: still bounded.
            let _ = tcp.set_read_timeout(Some(wait));
            self.read_timeout_set = Some(wait);
        }
        loop {
            match self.stream.read(&mut self.input) {
                Ok(n) => {
                    self.end = n;
                    self.received += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error("reading from", &e)),
            }
        }
    }

    /// Queues `line` and CRLF; the transcript shows it. A line containing
    /// CR, LF or NUL is refused ([`ExitStatus::DataErr`], 65): it would
    /// smuggle a second command.
    pub fn write_line(&mut self, line: &str) -> Result<(), Error> {
        check_line(line)
            .map_err(|why| Error::data(format!("cannot send {:?}: {why}", printable(line))))?;
        self.log_out(line);
        self.queue_line(line)
    }

    /// Queues a line holding a secret (AUTH response, PASS, LOGIN); the
    /// transcript shows `shown` instead, e.g. `AUTH PLAIN ****`. The queued
    /// copy is overwritten once sent.
    pub fn write_secret_line(&mut self, line: &str, shown: &str) -> Result<(), Error> {
        check_line(line)
            .map_err(|why| Error::data(format!("cannot send {:?}: {why}", printable(shown))))?;
        self.log_out(shown);
        self.secret_queued = true;
        self.queue_line(line)
    }

    fn queue_line(&mut self, line: &str) -> Result<(), Error> {
        self.queue(line.as_bytes())?;
        self.queue(b"\r\n")
    }

    /// Queues message data as it is (the caller has done any dot-stuffing
    /// and line-end conversion); the transcript shows one line,
    /// `-> [N octets of message data]`, per call.
    pub fn write_raw(&mut self, data: &[u8]) -> Result<(), Error> {
        self.log_out(&format!("[{} octets of message data]", data.len()));
        self.queue(data)
    }

    /// Queues data holding a secret (an IMAP literal with a password); the
    /// transcript shows `shown` instead, and the queued copy is
    /// overwritten once sent.
    pub fn write_secret_data(&mut self, data: &[u8], shown: &str) -> Result<(), Error> {
        self.log_out(shown);
        self.secret_queued = true;
        self.queue(data)
    }

    /// Adds to the write buffer, sending when it would exceed 64 KiB.
    fn queue(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.output.len() + data.len() > WRITE_BUFFER {
            self.flush()?;
            if data.len() > WRITE_BUFFER {
                return self.send(data);
            }
        }
        self.output.extend_from_slice(data);
        Ok(())
    }

    /// Sends every queued write.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.output.is_empty() {
            return Ok(());
        }
        let output = std::mem::take(&mut self.output);
        let sent = self.send(&output);
        self.output = output;
        if self.secret_queued {
            self.output.fill(0);
            std::hint::black_box(&self.output);
            self.secret_queued = false;
        }
        self.output.clear();
        sent
    }

    /// Writes `data` to the stream at once.
    fn send(&mut self, data: &[u8]) -> Result<(), Error> {
        let result = self
            .stream
            .write_all(data)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.io_error("writing to", &e))
    }

    /// True once TLS is up (implicit or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The TLS session's facts, once TLS is up.
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// `host:port` as given to [`Connection::open`], for messages.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// The host as given to [`Connection::open`] (a name, or an address
    /// without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port connected to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The address actually connected to.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// This end's address of the connection, when the system says.
    pub fn local_address(&self) -> Option<SocketAddr> {
        self.local
    }

    /// The limit for each read and write (and for each line).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sets the timeout for each later read and write (and the deadline of
    /// each line).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout.max(Duration::from_millis(1));
        if let Some(tcp) = self.stream.tcp() {
            // On failure the old timeout stays: still bounded.
            let _ = tcp.set_read_timeout(Some(self.timeout));
            let _ = tcp.set_write_timeout(Some(self.timeout));
            self.read_timeout_set = Some(self.timeout);
        }
    }

    /// Takes the transcript sink away from this connection (to hand it to
    /// the next one); nothing more is shown for this one.
    pub fn take_transcript(&mut self) -> Transcript {
        self.transcript.take()
    }

    /// Shows `=== text` in the transcript (made printable).
    pub fn note(&mut self, text: &str) {
        self.log("===", text);
    }

    fn log_in(&mut self, text: &str) {
        let arrow = if self.is_tls() { "<~" } else { "<-" };
        self.log(arrow, text);
    }

    fn log_out(&mut self, text: &str) {
        let arrow = if self.is_tls() { "~>" } else { "->" };
        self.log(arrow, text);
    }

    fn log(&mut self, mark: &str, text: &str) {
        if self.transcript.is_on() {
            self.transcript.line(mark, &printable(text));
        }
    }

    /// An I/O error while `doing` ("reading from") as a one-line error.
    fn io_error(&self, doing: &str, error: &io::Error) -> Error {
        let (kind, why) = describe_io(error, self.timeout, self.is_tls());
        Error::new(kind, format!("{doing} {}: {why}", self.peer))
    }
}

/// The connection as a source of octets in the pieces its read buffer
/// holds, for [`crate::net::dot_reader`]: each read waits at most the timeout.
impl crate::net::dot_reader::Chunks for Connection {
    fn chunk(&mut self) -> Result<&[u8], Error> {
        if self.start == self.end {
            let deadline = self.progress.map(|(deadline, _)| deadline);
            self.fill(deadline)?;
        }
        Ok(&self.input[self.start..self.end])
    }

    fn consume_chunk(&mut self, used: usize) {
        let used = used.min(self.end - self.start);
        self.start += used;
        if let Some((deadline, since)) = &mut self.progress {
            *since += used;
            if *since >= READ_BUFFER {
                *since = 0;
                *deadline = Instant::now() + self.timeout;
            }
        }
    }
}

/// Ends a TLS handshake that outlives its limit: a thread shuts the
/// socket down at the deadline, unless stopped first.
struct HandshakeWatch {
    done: Option<mpsc::Sender<()>>,
    fired: Option<std::thread::JoinHandle<bool>>,
}

impl HandshakeWatch {
    /// Watches `tcp` for `limit` (unwatched when the socket cannot be
    /// shared: each read is still bounded by the timeout).
    fn start(tcp: &TcpStream, limit: Duration) -> HandshakeWatch {
        let Ok(socket) = tcp.try_clone() else {
            return HandshakeWatch {
                done: None,
                fired: None,
            };
        };
        let (done, wait) = mpsc::channel::<()>();
        let fired = std::thread::spawn(move || match wait.recv_timeout(limit) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = socket.shutdown(std::net::Shutdown::Both);
                true
            }
            _ => false,
        });
        HandshakeWatch {
            done: Some(done),
            fired: Some(fired),
        }
    }

    /// Stops watching; whether the deadline came first (the socket is then
    /// shut down, whatever the handshake did).
    fn stop(mut self) -> bool {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        self.fired
            .take()
            .is_some_and(|fired| fired.join().unwrap_or(false))
    }
}

/// The kind and wording of a network I/O error: a timeout, a lost
/// connection (refused, reset, closed, unreachable), or an error from
/// inside TLS.
fn describe_io(error: &io::Error, timeout: Duration, tls: bool) -> (ErrorKind, String) {
    use io::ErrorKind as K;
    let why = match error.kind() {
        K::WouldBlock | K::TimedOut => {
            return (
                ErrorKind::Timeout,
                format!("timed out after {}", seconds(timeout)),
            );
        }
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset | K::ConnectionAborted => "connection reset".into(),
        K::BrokenPipe | K::UnexpectedEof => "connection closed by the server".into(),
        K::NotConnected => "not connected".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::Other if tls => return (ErrorKind::Tls, format!("TLS error: {error}")),
        _ => error.to_string(),
    };
    (ErrorKind::ConnectionLost, why)
}

/// `1.5 s`, `60 s`.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// Why a line cannot be sent as one protocol line, if it cannot.
fn check_line(line: &str) -> Result<(), &'static str> {
    if line.contains(['\r', '\n', '\0']) {
        return Err("a protocol line cannot contain CR, LF or NUL");
    }
    Ok(())
}

/// The addresses of `host`, looked up by the system resolver within
/// `timeout`: not found is 68, a lookup failure or timeout 75.
fn resolve(host: &str, port: u16, timeout: Duration, peer: &str) -> Result<Vec<SocketAddr>, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (sender, receiver) = mpsc::channel();
    let name = host.to_owned();
    // The thread outlives a timed-out lookup; it ends when getaddrinfo does.
    std::thread::spawn(move || {
        let _ = sender.send(host_lookup::lookup(&name, port));
    });
    let looked_up = receiver.recv_timeout(timeout).map_err(|_| {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "connecting to {peer}: host name lookup timed out after {}",
                seconds(timeout)
            ),
        )
    })?;
    match looked_up {
        Ok(addresses) if !addresses.is_empty() => Ok(addresses),
        Ok(_) => Err(Error::new(
            ErrorKind::NoSuchHost,
            format!("connecting to {peer}: host name has no address"),
        )),
        Err(why) => Err(lookup_error(&why, peer)),
    }
}

/// A failed lookup: a name that does not exist is 68, a resolver failure
/// (EAI_AGAIN, EAI_FAIL) 75.
fn lookup_error(why: &LookupFailure, peer: &str) -> Error {
    match why {
        LookupFailure::NotFound => Error::new(
            ErrorKind::NoSuchHost,
            format!("connecting to {peer}: host name not found"),
        ),
        LookupFailure::Failed(detail) => Error::new(
            ErrorKind::Deferred,
            format!("connecting to {peer}: host name lookup failed: {detail}"),
        ),
    }
}

/// A zero-wait peek at the socket: `WouldBlock` when nothing is there.
fn peek_now(tcp: &TcpStream) -> io::Result<usize> {
    tcp.set_nonblocking(true)?;
    let mut byte = [0u8; 1];
    let peeked = loop {
        match tcp.peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    tcp.set_nonblocking(false)?;
    peeked
}

/// The TLS client context for `settings`, set up as `openssl`'s
/// `SslConnector` sets up its own (no SSLv2/3 or compression, strong
/// ciphers), with one difference: the trusted roots are the CA file alone
/// when one is given (as curl's `--cacert`, msmtp's `tls_trust_file` and
/// swaks' `--tls-ca-path` do), else the system's. Loading the system store
/// costs OpenSSL about 20 ms a process, which a run given its own CA need
/// not pay. No chain check with a pin (the pin is checked instead) or when
/// insecure.
fn build_context(settings: &TlsSettings) -> Result<SslContext, Error> {
    let setup = |e: openssl::error::ErrorStack| setup_error(&e);
    let mut builder = SslContextBuilder::new(SslMethod::tls_client()).map_err(setup)?;
    let options = SslOptions::ALL
        | SslOptions::NO_COMPRESSION
        | SslOptions::NO_SSLV2
        | SslOptions::NO_SSLV3
        | SslOptions::SINGLE_DH_USE
        | SslOptions::SINGLE_ECDH_USE;
    builder.set_options(options & !SslOptions::DONT_INSERT_EMPTY_FRAGMENTS);
    // Buffers are kept (one connection: RELEASE_BUFFERS would free and
    // allocate them again between records), and read-ahead takes what the
    // socket holds in one read instead of a record header and its body in
    // two: a long listing is hundreds of thousands of records.
    builder.set_mode(
        SslMode::AUTO_RETRY | SslMode::ACCEPT_MOVING_WRITE_BUFFER | SslMode::ENABLE_PARTIAL_WRITE,
    );
    builder.set_read_ahead(true);
    builder
        .set_cipher_list("DEFAULT:!aNULL:!eNULL:!MD5:!3DES:!DES:!RC4:!IDEA:!SEED:!aDSS:!SRP:!PSK")
        .map_err(setup)?;
    match &settings.cafile {
        Some(path) => {
            for certificate in load_cafile(path)? {
                builder
                    .cert_store_mut()
                    .add_cert(certificate)
                    .map_err(setup)?;
            }
        }
        None => builder.set_default_verify_paths().map_err(setup)?,
    }
    let verify = match settings.insecure || settings.fingerprint.is_some() {
        true => SslVerifyMode::NONE,
        false => SslVerifyMode::PEER,
    };
    builder.set_verify(verify);
    Ok(builder.build())
}

/// One client session of `context` for `host`: SNI when it is a name (RFC
/// 6066 §3 forbids an address), and with `checks_name` the certificate
/// must name it (RFC 6125: DNS name, or IP address; no partial
/// wildcards).
fn client_session(
    context: &SslContext,
    host: &str,
    checks_name: bool,
) -> Result<Ssl, openssl::error::ErrorStack> {
    let mut ssl = Ssl::new(context)?;
    let address = host.parse::<IpAddr>().ok();
    if address.is_none() {
        ssl.set_hostname(host)?;
    }
    if checks_name {
        let param = ssl.param_mut();
        param.set_hostflags(X509CheckFlags::NO_PARTIAL_WILDCARDS);
        match address {
            Some(ip) => param.set_ip(ip)?,
            None => param.set_host(host)?,
        }
    }
    Ok(ssl)
}

/// TLS could not be set up on this side at all (76).
fn setup_error(error: &openssl::error::ErrorStack) -> Error {
    Error::new(ErrorKind::Tls, format!("cannot set up TLS: {error}"))
}

/// The certificates of a PEM file; unreadable, not a regular file (a FIFO
/// would block), over 16 MiB (a system bundle is well under 1 MiB) or
/// without any certificate is 78.
fn load_cafile(path: &Path) -> Result<Vec<X509>, Error> {
    const MAX_CAFILE: u64 = 16 << 20;
    let shown = path.display();
    let cannot = |e: io::Error| Error::config(format!("cannot read CA file {shown}: {e}"));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(Error::config(format!(
            "CA file {shown} is not a regular file"
        )));
    }
    let mut pem = Vec::new();
    let file = std::fs::File::open(path).map_err(cannot)?;
    file.take(MAX_CAFILE + 1)
        .read_to_end(&mut pem)
        .map_err(cannot)?;
    if pem.len() as u64 > MAX_CAFILE {
        return Err(Error::config(format!("CA file {shown} is over 16 MiB")));
    }
    match X509::stack_from_pem(&pem) {
        Ok(certificates) if !certificates.is_empty() => Ok(certificates),
        Ok(_) => Err(Error::config(format!("no certificate in CA file {shown}"))),
        Err(e) => Err(Error::config(format!("bad CA file {shown}: {e}"))),
    }
}

/// SHA-256 of the peer certificate's DER, in lower-case hex.
fn peer_fingerprint(tls: &SslStream<TcpStream>) -> Option<String> {
    let digest = tls
        .ssl()
        .peer_certificate()?
        .digest(MessageDigest::sha256())
        .ok()?;
    Some(hex(&digest))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A failed handshake, in words a user can act on: a refused certificate
/// with the verifier's own reason (`certificate not trusted: hostname
/// mismatch`), else a TLS failure with what OpenSSL or the socket said.
fn handshake_failure(peer: &str, stream: &MidHandshakeSslStream<TcpStream>) -> Error {
    let verdict = stream.ssl().verify_result();
    if verdict != X509VerifyResult::OK {
        let reason = verdict.error_string();
        let message = format!("TLS with {peer}: certificate not trusted: {reason}");
        return Error::certificate(reason, message);
    }
    let error = stream.error();
    // A reset or a close inside the handshake is a lost connection, as
    // anywhere else (75): the network or the server went away, TLS itself
    // did not fail. Which of the two a client sees when a server closes
    // depends on whether it had read the ClientHello first.
    let lost = |what: &str| {
        let message = format!("TLS with {peer}: {what} in the TLS handshake");
        Error::new(ErrorKind::ConnectionLost, message)
    };
    let why = match (error.io_error(), error.ssl_error()) {
        (Some(io), _)
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ) =>
        {
            return lost("connection reset");
        }
        (None, None) => return lost("the server closed the connection"),
        (Some(io), _) => io.to_string(),
        (None, Some(stack)) => stack_reason(stack),
    };
    Error::new(
        ErrorKind::Tls,
        format!("TLS with {peer}: TLS handshake failed: {why}"),
    )
}

/// The reasons in an OpenSSL error stack, without its codes and source
/// positions: `unsupported protocol`, `sslv3 alert handshake failure`.
fn stack_reason(stack: &openssl::error::ErrorStack) -> String {
    let reasons: Vec<&str> = stack.errors().iter().filter_map(|e| e.reason()).collect();
    if reasons.is_empty() {
        return stack.to_string();
    }
    reasons.join("; ")
}

/// A SHA-256 fingerprint as users write it (hex, upper or lower case,
/// colons optional, e.g. from `openssl x509 -fingerprint -sha256`,
/// optionally prefixed `sha256:`), as 64 lower-case hex digits. For use as
/// a clap value parser.
pub fn parse_fingerprint(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let digits = ["sha256:", "sha256=", "sha256 fingerprint="]
        .iter()
        .find_map(|prefix| {
            trimmed
                .get(..prefix.len())
                .filter(|head| head.eq_ignore_ascii_case(prefix))
                .map(|_| &trimmed[prefix.len()..])
        })
        .unwrap_or(trimmed);
    let hex: String = digits.chars().filter(|&c| c != ':').collect();
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{:?} is not a SHA-256 fingerprint (64 hex digits, colons optional)",
            printable(text)
        ));
    }
    Ok(hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::thread::{self, JoinHandle};

    const SECOND: Duration = Duration::from_secs(1);
    const TEN_SECONDS: Duration = Duration::from_secs(10);

    /// A one-connection server on 127.0.0.1 running `script`.
    fn server(script: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = thread::spawn(move || {
            if let Ok((tcp, _)) = listener.accept() {
                script(tcp);
            }
        });
        (port, handle)
    }

    /// A transcript sink and what it received.
    fn recorder() -> (Transcript, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        (Transcript::kept_in(Arc::clone(&lines)), lines)
    }

    fn open(port: u16, timeout: Duration, transcript: Option<Transcript>) -> Connection {
        Connection::open("127.0.0.1", port, timeout, transcript.unwrap_or_default()).unwrap()
    }

    /// The client's next line; empty when it closed or broke off (the
    /// callers compare it with what they expect).
    fn read_client_line(reader: &mut impl BufRead) -> String {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() {
            line.clear();
        }
        line
    }

    /// A self-signed certificate for localhost and 127.0.0.1: (cert PEM,
    /// key PEM), made once with the openssl command.
    fn certificate() -> &'static (Vec<u8>, Vec<u8>) {
        static PAIR: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
        PAIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let pair = crate::test_support::tlscert::TlsCert::generate(dir.path());
            (
                std::fs::read(pair.cert).unwrap(),
                std::fs::read(pair.key).unwrap(),
            )
        })
    }

    /// A server-side TLS setup with the test certificate.
    fn acceptor_builder() -> openssl::ssl::SslAcceptorBuilder {
        use openssl::pkey::PKey;
        use openssl::ssl::SslAcceptor;
        let (cert, key) = certificate();
        let mut builder = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
        builder
            .set_certificate(&X509::from_pem(cert).unwrap())
            .unwrap();
        builder
            .set_private_key(&PKey::private_key_from_pem(key).unwrap())
            .unwrap();
        builder
    }

    fn acceptor() -> openssl::ssl::SslAcceptor {
        acceptor_builder().build()
    }

    fn certificate_fingerprint() -> String {
        let certificate = X509::from_pem(&certificate().0).unwrap();
        hex(&certificate.digest(MessageDigest::sha256()).unwrap())
    }

    /// A CA file holding the test certificate, in a directory kept alive.
    fn cafile() -> (tempfile::TempDir, TlsSettings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, &certificate().0).unwrap();
        let settings = TlsSettings {
            cafile: Some(path),
            ..TlsSettings::default()
        };
        (dir, settings)
    }

    /// An implicit-TLS server that answers one line with `250 ok`.
    fn tls_server() -> (u16, JoinHandle<()>) {
        tls_server_with(acceptor())
    }

    /// An implicit-TLS server with `acceptor` that answers one line with
    /// `250 ok`.
    fn tls_server_with(acceptor: openssl::ssl::SslAcceptor) -> (u16, JoinHandle<()>) {
        server(move |tcp| {
            if let Ok(tls) = acceptor.accept(tcp) {
                let mut reader = BufReader::new(tls);
                let line = read_client_line(&mut reader);
                if line == "NOOP\r\n" {
                    let _ = reader.get_mut().write_all(b"250 ok\r\n");
                }
            }
        })
    }

    fn open_tls(port: u16, host: &str, settings: &TlsSettings) -> Result<Connection, Error> {
        let mut connection = Connection::open(host, port, TEN_SECONDS, Transcript::off())?;
        connection.start_implicit_tls(host, settings)?;
        Ok(connection)
    }

    fn noop(connection: &mut Connection) {
        connection.write_line("NOOP").unwrap();
        assert_eq!(connection.read_line(512).unwrap(), b"250 ok");
    }

    #[test]
    fn a_line_longer_than_the_bound_is_a_protocol_error() {
        let (port, handle) = server(|mut tcp| {
            let _ = tcp.write_all(b"250 short\r\n");
            let mut long = vec![b'x'; 100 * 1024];
            long.extend_from_slice(b"\r\n");
            let _ = tcp.write_all(&long);
        });
        let mut connection = open(port, TEN_SECONDS, None);
        assert_eq!(connection.read_line(64 * 1024).unwrap(), b"250 short");
        let error = connection.read_line(64 * 1024).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol, "{error}");
        assert!(
            error.to_string().contains("longer than 65536 octets"),
            "{error}"
        );
        assert_eq!(connection.input.len(), READ_BUFFER);
        drop(connection);
        handle.join().unwrap();
    }

    #[test]
    fn the_bound_counts_octets_without_the_line_end() {
        let (port, handle) = server(|mut tcp| {
            let _ = tcp.write_all(b"12345678\r\n12345678\n123456789\r\n");
        });
        let mut connection = open(port, TEN_SECONDS, None);
        assert_eq!(connection.read_line(8).unwrap(), b"12345678");
        assert_eq!(connection.read_line(8).unwrap(), b"12345678");
        let error = connection.read_line(8).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        handle.join().unwrap();
    }

    #[test]
    fn end_of_stream_in_a_line_or_between_lines_is_a_temporary_failure() {
        let (port, handle) = server(|mut tcp| {
            let _ = tcp.write_all(b"220 partial");
        });
        let mut connection = open(port, TEN_SECONDS, None);
        let error = connection.read_line(512).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
        assert!(error.to_string().contains("middle of a line"), "{error}");
        handle.join().unwrap();

        let (port, handle) = server(drop);
        let mut connection = open(port, TEN_SECONDS, None);
        let error = connection.read_line(512).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
        assert_eq!(
            error.to_string(),
            format!("reading from 127.0.0.1:{port}: connection closed by the server")
        );
        handle.join().unwrap();
    }

    #[test]
    fn a_silent_server_times_out() {
        let (port, handle) = server(|tcp| {
            thread::sleep(Duration::from_secs(3));
            drop(tcp);
        });
        let mut connection = open(port, SECOND, None);
        let started = Instant::now();
        let error = connection.read_line(512).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(2500));
        assert_eq!(error.status(), ExitStatus::TempFail);
        assert!(
            error.to_string().ends_with("timed out after 1 s"),
            "{error}"
        );
        handle.join().unwrap();
    }

    #[test]
    fn a_trickling_server_times_out_within_one_line() {
        let (port, handle) = server(|mut tcp| {
            for _ in 0..30 {
                if tcp.write_all(b"x").is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut connection = open(port, SECOND, None);
        let started = Instant::now();
        let error = connection.read_line(512).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(2000));
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
        handle.join().unwrap();
    }

    #[test]
    fn a_tls_handshake_trickled_a_byte_at_a_time_times_out() {
        // The start of a 16 KiB handshake record, a byte every 100 ms:
        // every read is in time, the handshake as a whole is not.
        let (port, handle) = server(|mut tcp| {
            let mut hello = [0u8; 2048];
            let _ = tcp.read(&mut hello);
            let mut record = b"\x16\x03\x03\x40\x00".to_vec();
            record.resize(40, 0);
            for byte in record {
                if tcp.write_all(&[byte]).is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut connection = open(port, SECOND, None);
        let started = Instant::now();
        let error = connection
            .start_implicit_tls("localhost", &TlsSettings::default())
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(2000));
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
        assert!(error.to_string().contains("handshake timed out"), "{error}");
        handle.join().unwrap();
    }

    #[test]
    fn a_literal_trickled_a_byte_at_a_time_times_out() {
        let (port, handle) = server(|mut tcp| {
            for _ in 0..30 {
                if tcp.write_all(b"x").is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(100));
            }
        });
        let mut connection = open(port, SECOND, None);
        let started = Instant::now();
        let error = connection.read_data(1000, &mut Vec::new()).unwrap_err();
        assert!(started.elapsed() < Duration::from_millis(2000));
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
        handle.join().unwrap();
    }

    #[test]
    fn a_refused_connection_is_a_temporary_failure() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (transcript, lines) = recorder();
        let error = Connection::open("127.0.0.1", port, SECOND, transcript).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail);
        assert_eq!(
            error.to_string(),
            format!("connecting to 127.0.0.1:{port}: connection refused")
        );
        assert_eq!(
            *lines.lock().unwrap(),
            [format!("=== Trying 127.0.0.1:{port}...")]
        );
    }

    #[test]
    fn lookup_failures_are_no_host_or_temporary() {
        let not_found = LookupFailure::NotFound;
        assert_eq!(
            lookup_error(&not_found, "x.invalid:25").status(),
            ExitStatus::NoHost
        );
        assert_eq!(
            lookup_error(&not_found, "x.invalid:25").to_string(),
            "connecting to x.invalid:25: host name not found"
        );
        let again = LookupFailure::Failed("Temporary failure in name resolution".into());
        assert_eq!(lookup_error(&again, "x:25").status(), ExitStatus::TempFail);
    }

    #[test]
    fn transcript_shows_both_directions_and_escapes_server_control_characters() {
        let (port, handle) = server(|mut tcp| {
            let _ = tcp.write_all(b"220 \x1b[2Jevil\x07 banner\r\n");
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            assert_eq!(read_client_line(&mut reader), "EHLO client.example\r\n");
            let _ = tcp.write_all(b"250 ok\r\n");
        });
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        assert_eq!(
            connection.read_line(512).unwrap(),
            b"220 \x1b[2Jevil\x07 banner"
        );
        connection.write_line("EHLO client.example").unwrap();
        connection.read_line(512).unwrap();
        let lines = lines.lock().unwrap();
        assert_eq!(
            lines[2..],
            [
                "<- 220 \\u{1b}[2Jevil\\u{7} banner",
                "-> EHLO client.example",
                "<- 250 ok"
            ]
        );
        handle.join().unwrap();
    }

    #[test]
    fn secrets_show_only_masked_and_lines_cannot_smuggle_commands() {
        let (port, handle) = server(|tcp| {
            let mut reader = BufReader::new(tcp);
            assert_eq!(
                read_client_line(&mut reader),
                "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n"
            );
            assert_eq!(read_client_line(&mut reader), "QUIT\r\n");
        });
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        connection
            .write_secret_line("AUTH PLAIN AGFsaWNlAHMzY3JldA==", "AUTH PLAIN ****")
            .unwrap();
        let error = connection.write_line("RCPT TO:<a@b>\r\nDATA").unwrap_err();
        assert_eq!(error.status(), ExitStatus::DataErr);
        let error = connection
            .write_secret_line("PASS s3cret\r\nX", "PASS ****")
            .unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        connection.write_line("QUIT").unwrap();
        connection.flush().unwrap();
        assert!(connection.output.is_empty());
        handle.join().unwrap();
        let lines = lines.lock().unwrap();
        assert!(
            lines.contains(&"-> AUTH PLAIN ****".to_owned()),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .all(|l| !l.contains("AGFsaWNl") && !l.contains("s3cret"))
        );
    }

    #[test]
    fn raw_data_is_summarised_and_literals_are_read_exactly() {
        let (port, handle) = server(|mut tcp| {
            let mut data = vec![0u8; 100_000];
            tcp.read_exact(&mut data).unwrap();
            assert!(data.iter().all(|&b| b == b'm'));
            let _ = tcp.write_all(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n");
        });
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        connection.write_raw(&[b'm'; 60_000]).unwrap();
        connection.write_raw(&[b'm'; 40_000]).unwrap();
        assert_eq!(connection.read_line(512).unwrap(), b"* 1 FETCH (BODY[] {5}");
        let mut literal = Vec::new();
        connection.read_data(5, &mut literal).unwrap();
        assert_eq!(literal, b"hello");
        assert_eq!(connection.read_line(512).unwrap(), b")");
        handle.join().unwrap();
        let lines = lines.lock().unwrap();
        assert_eq!(
            lines[2..],
            [
                "-> [60000 octets of message data]",
                "-> [40000 octets of message data]",
                "<- * 1 FETCH (BODY[] {5}",
                "<- [5 octets of data]",
                "<- )"
            ]
        );
    }

    /// A server that greets, takes STARTTLS, says `go_ahead` (then sleeps
    /// `pause` and sends `late`), and, after a handshake, answers NOOP.
    fn starttls_server(go_ahead: &'static [u8], late: &'static [u8]) -> (u16, JoinHandle<()>) {
        server(move |mut tcp| {
            let _ = tcp.write_all(b"220 ready\r\n");
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            if read_client_line(&mut reader) != "STARTTLS\r\n" {
                return;
            }
            let _ = tcp.write_all(go_ahead);
            if !late.is_empty() {
                thread::sleep(Duration::from_millis(100));
                let _ = tcp.write_all(late);
            }
            if let Ok(tls) = acceptor().accept(tcp) {
                let mut reader = BufReader::new(tls);
                if read_client_line(&mut reader) == "NOOP\r\n" {
                    let _ = reader.get_mut().write_all(b"250 ok\r\n");
                }
            }
        })
    }

    fn send_starttls(connection: &mut Connection) {
        assert_eq!(connection.read_line(512).unwrap(), b"220 ready");
        connection.write_line("STARTTLS").unwrap();
        connection.flush().unwrap();
        assert_eq!(connection.read_line(512).unwrap(), b"220 go ahead");
    }

    #[test]
    fn starttls_refuses_bytes_buffered_after_the_go_ahead() {
        let (port, handle) = starttls_server(b"220 go ahead\r\nINJECTED\r\n", b"");
        let (_dir, settings) = cafile();
        let mut connection = open(port, TEN_SECONDS, None);
        send_starttls(&mut connection);
        let error = connection.start_tls("localhost", &settings).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(error.to_string().contains("response injection"), "{error}");
        assert!(!connection.is_tls());
        drop(connection);
        handle.join().unwrap();
    }

    #[test]
    fn starttls_refuses_bytes_waiting_on_the_socket() {
        let (port, handle) = starttls_server(b"220 go ahead\r\n", b"INJECTED\r\n");
        let (_dir, settings) = cafile();
        let mut connection = open(port, TEN_SECONDS, None);
        send_starttls(&mut connection);
        thread::sleep(Duration::from_millis(500));
        assert_eq!(connection.start, connection.end);
        let error = connection.start_tls("localhost", &settings).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(error.to_string().contains("response injection"), "{error}");
        drop(connection);
        handle.join().unwrap();
    }

    #[test]
    fn starttls_upgrades_with_a_ca_file_and_marks_the_transcript() {
        let (port, handle) = starttls_server(b"220 go ahead\r\n", b"");
        let (_dir, settings) = cafile();
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        send_starttls(&mut connection);
        connection.start_tls("localhost", &settings).unwrap();
        noop(&mut connection);
        let info = connection.tls_info().unwrap().clone();
        assert!(info.verified);
        assert_eq!(info.fingerprint, certificate_fingerprint());
        handle.join().unwrap();
        let lines = lines.lock().unwrap();
        assert_eq!(
            lines[2..5],
            ["<- 220 ready", "-> STARTTLS", "<- 220 go ahead"]
        );
        assert!(
            lines[5].starts_with(
                "=== TLS started: TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified"
            ),
            "{}",
            lines[5]
        );
        assert_eq!(lines[6..], ["~> NOOP", "<~ 250 ok"]);
    }

    #[test]
    fn starttls_checks_the_host_name() {
        let (port, handle) = starttls_server(b"220 go ahead\r\n", b"");
        let (_dir, settings) = cafile();
        let mut connection = open(port, TEN_SECONDS, None);
        send_starttls(&mut connection);
        let error = connection.start_tls("mail.example", &settings).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(
            error
                .to_string()
                .ends_with("certificate not trusted: hostname mismatch"),
            "{error}"
        );
        let error = connection
            .write_line("NOOP")
            .and_then(|()| connection.flush());
        assert_eq!(error.unwrap_err().status(), ExitStatus::TempFail);
        drop(connection);
        handle.join().unwrap();
    }

    #[test]
    fn implicit_tls_refuses_an_untrusted_certificate() {
        let (port, handle) = tls_server();
        let error = open_tls(port, "localhost", &TlsSettings::default()).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        let message = error.to_string();
        assert!(
            message
                == format!(
                    "TLS with localhost:{port}: certificate not trusted: self-signed certificate"
                ),
            "{message}"
        );
        handle.join().unwrap();
    }

    #[test]
    fn implicit_tls_with_a_ca_file_verifies_ip_addresses_too() {
        let (port, handle) = tls_server();
        let (_dir, settings) = cafile();
        let mut connection = open_tls(port, "127.0.0.1", &settings).unwrap();
        assert!(connection.is_tls());
        noop(&mut connection);
        handle.join().unwrap();
    }

    #[test]
    fn insecure_accepts_anything_and_says_so() {
        let (port, handle) = tls_server();
        let settings = TlsSettings {
            insecure: true,
            ..TlsSettings::default()
        };
        let mut connection = open_tls(port, "localhost", &settings).unwrap();
        let info = connection.tls_info().unwrap();
        assert!(!info.verified);
        assert_eq!(info.version, "TLSv1.3");
        assert_eq!(info.cipher, "TLS_AES_256_GCM_SHA384");
        noop(&mut connection);
        handle.join().unwrap();
    }

    #[test]
    fn a_pinned_fingerprint_must_match() {
        let (port, handle) = tls_server();
        let colons: Vec<String> = certificate_fingerprint()
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).to_uppercase())
            .collect();
        let settings = TlsSettings {
            fingerprint: Some(colons.join(":")),
            ..TlsSettings::default()
        };
        let mut connection = open_tls(port, "localhost", &settings).unwrap();
        assert!(connection.tls_info().unwrap().verified);
        noop(&mut connection);
        handle.join().unwrap();

        let (port, handle) = tls_server();
        let settings = TlsSettings {
            fingerprint: Some("00".repeat(32)),
            ..TlsSettings::default()
        };
        let error = open_tls(port, "localhost", &settings).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(
            error.to_string().contains("fingerprint mismatch"),
            "{error}"
        );
        handle.join().unwrap();
    }

    #[test]
    fn a_pin_or_insecure_skips_the_host_name_check() {
        let pinned = TlsSettings {
            fingerprint: Some(certificate_fingerprint()),
            ..TlsSettings::default()
        };
        let insecure = TlsSettings {
            insecure: true,
            ..TlsSettings::default()
        };
        for (settings, verified) in [(pinned, true), (insecure, false)] {
            let (port, handle) = starttls_server(b"220 go ahead\r\n", b"");
            let mut connection = open(port, TEN_SECONDS, None);
            send_starttls(&mut connection);
            connection.start_tls("mail.example", &settings).unwrap();
            assert_eq!(connection.tls_info().unwrap().verified, verified);
            noop(&mut connection);
            handle.join().unwrap();
        }
    }

    #[test]
    fn a_tls_server_closing_without_close_notify_is_a_temporary_failure() {
        let (port, handle) = server(|tcp| {
            if let Ok(mut tls) = acceptor().accept(tcp) {
                let _ = tls.write_all(b"220 half");
                let _ = tls.get_ref().shutdown(std::net::Shutdown::Both);
            }
        });
        let (_dir, settings) = cafile();
        let mut connection = open_tls(port, "localhost", &settings).unwrap();
        let error = connection.read_line(512).unwrap_err();
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
        handle.join().unwrap();
    }

    #[test]
    fn fingerprints_are_parsed_in_the_usual_forms() {
        let plain = "ab".repeat(32);
        assert_eq!(parse_fingerprint(&plain).unwrap(), plain);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&colons).unwrap(), plain);
        assert_eq!(
            parse_fingerprint(&format!("SHA256 Fingerprint={colons}")).unwrap(),
            plain
        );
        assert_eq!(
            parse_fingerprint(&format!("sha256:{plain}")).unwrap(),
            plain
        );
        assert!(parse_fingerprint("abcd").is_err());
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }

    /// A server that offers only TLS 1.2: the client reports it.
    #[test]
    fn the_negotiated_version_is_reported() {
        let mut builder = acceptor_builder();
        builder
            .set_max_proto_version(Some(openssl::ssl::SslVersion::TLS1_2))
            .unwrap();
        let (port, handle) = tls_server_with(builder.build());
        let (_dir, settings) = cafile();
        let mut connection = open_tls(port, "localhost", &settings).unwrap();
        let info = connection.tls_info().unwrap().clone();
        assert_eq!(info.version, "TLSv1.2");
        assert!(info.cipher.starts_with("ECDHE-ECDSA-"), "{}", info.cipher);
        noop(&mut connection);
        handle.join().unwrap();
    }

    #[test]
    fn a_plain_text_server_fails_the_handshake_readably() {
        let (port, handle) = server(|mut tcp| {
            let _ = tcp.write_all(b"220 plain text here\r\n");
            thread::sleep(Duration::from_millis(200));
        });
        let (_dir, settings) = cafile();
        let error = open_tls(port, "localhost", &settings).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!(
                "TLS with localhost:{port}: TLS handshake failed: "
            )),
            "{message}"
        );
        assert!(!message.contains("error:0A"), "{message}");
        handle.join().unwrap();
    }

    #[test]
    fn dot_terminated_responses_stream_through_the_read_buffer() {
        // A 100 000-octet line in pieces, a stuffed line, and a pipelined
        // reply after the terminator that must stay unread.
        let long = "x".repeat(100_000);
        let body = format!("{long}\r\n..dot\r\n.\r\n+OK next\r\n");
        let (port, handle) = server(move |mut tcp| {
            for piece in body.as_bytes().chunks(7_000) {
                tcp.write_all(piece).unwrap();
                thread::sleep(Duration::from_millis(2));
            }
            thread::sleep(Duration::from_millis(200));
        });
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        let mut sink = Vec::new();
        let options = crate::net::dot_reader::DotOptions::default();
        let complete = connection.read_dot_terminated(&mut sink, &options).unwrap();
        assert_eq!(sink, format!("{long}\r\n.dot\r\n").into_bytes());
        assert_eq!((complete.lines, complete.octets), (2, sink.len() as u64));
        assert_eq!(connection.read_line(100).unwrap(), b"+OK next");
        let shown = lines.lock().unwrap().clone();
        assert!(
            shown.contains(&format!("<- [{} octets of data]", sink.len())),
            "{shown:?}"
        );
        handle.join().unwrap();
    }

    #[test]
    fn a_dot_terminated_response_cut_short_is_never_complete() {
        let (port, handle) = server(|mut tcp| {
            tcp.write_all(b"line one\r\nline tw").unwrap();
        });
        let mut connection = open(port, TEN_SECONDS, None);
        let options = crate::net::dot_reader::DotOptions::default();
        let error = connection
            .read_dot_terminated(&mut Vec::new(), &options)
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionLost, "{error}");
        handle.join().unwrap();
    }

    #[test]
    fn imap_literals_wait_for_the_go_ahead_and_hide_secrets() {
        use crate::imap::literal::{Command, Literals};
        let (port, handle) = server(|tcp| {
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            let mut writer = tcp;
            assert_eq!(read_client_line(&mut reader), "A1 LOGIN \"alice\" {4}\r\n");
            writer.write_all(b"+ go ahead\r\n").unwrap();
            let mut literal = [0u8; 6];
            reader.read_exact(&mut literal).unwrap();
            assert_eq!(&literal, b"p\"w\n\r\n");
            writer.write_all(b"A1 OK done\r\n").unwrap();
        });
        let (transcript, lines) = recorder();
        let mut connection = open(port, TEN_SECONDS, Some(transcript));
        let mut command =
            Command::new(&mut connection, Literals::Synchronizing, "A1 LOGIN").unwrap();
        command.string(b"alice").unwrap().secret(b"p\"w\n").unwrap();
        command.send().unwrap();
        let reply = crate::imap::literal::ImapWire::read_line(&mut connection).unwrap();
        assert_eq!(reply, b"A1 OK done");
        let shown = lines.lock().unwrap().join("\n");
        assert!(!shown.contains("p\"w"), "{shown}");
        assert!(shown.contains("****"), "{shown}");
        handle.join().unwrap();
    }
}
