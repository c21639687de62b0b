//! The protocol-neutral session layer: where to connect and how
//! ([`Endpoint`]), and the one negotiator that applies the TLS and login
//! policy for SMTP, POP3 and IMAP alike ([`negotiate`]). A protocol
//! session supplies only its own steps through [`Handshake`]: how it reads
//! the greeting, asks for capabilities and asks for STARTTLS/STLS.
//!
//! The policy (contract: "Connection tools"):
//! - implicit TLS from the first byte on `smtps`, `pop3s`, `imaps`;
//! - STARTTLS/STLS required on the plain schemes: not offered or refused is
//!   a protocol error (76) before any credential is sent;
//! - opportunistic (MX delivery, RFC 7435): used when offered, a refusal
//!   goes on in plain text, a failed handshake is retried on a new plain
//!   connection;
//! - capabilities are asked again after TLS (RFC 3207 §4.2, RFC 2595
//!   §3.1; the connection refuses bytes injected before the handshake);
//! - no password crosses a connection without TLS unless allowed.

use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, ServerReply};
use crate::net::connection::{Connection, TlsMode, TlsSettings};
use crate::net::credentials::Secret;
use crate::net::transcript::Transcript;

/// Who to log in as.
#[derive(Debug)]
pub struct Login {
    /// The user name.
    pub user: String,
    /// The password, or the OAuth token with `oauth`.
    pub secret: Secret,
    /// The secret is an OAuth 2.0 access token (XOAUTH2/OAUTHBEARER).
    pub oauth: bool,
}

/// Where to connect and how: everything a protocol session needs to reach
/// and secure a server, built once from the URL and the shared connection
/// and credential arguments ([`crate::cli::ConnectionArgs::endpoint`]).
#[derive(Debug)]
pub struct Endpoint {
    /// The host to connect to (a name, or an address).
    pub host: String,
    /// The port.
    pub port: u16,
    /// How TLS is used.
    pub tls: TlsMode,
    /// How the certificate is checked.
    pub certificate: TlsSettings,
    /// The name the certificate must carry when it is not `host` (an MX
    /// reached by its address).
    pub tls_name: Option<String>,
    /// The limit for connecting and for each read or write.
    pub timeout: Duration,
    /// The login, if any.
    pub login: Option<Login>,
    /// Allow a password without TLS (`--allow-plaintext-auth`).
    pub allow_plaintext_auth: bool,
}

impl Endpoint {
    /// The name the server's certificate must carry.
    pub fn tls_name(&self) -> &str {
        self.tls_name.as_deref().unwrap_or(&self.host)
    }

    /// A TCP connection to the endpoint, with TLS started at once for
    /// implicit TLS (RFC 8314).
    pub fn connect(&self, transcript: Transcript) -> Result<Connection, Error> {
        let mut conn = Connection::open(&self.host, self.port, self.timeout, transcript)?;
        if self.tls == TlsMode::Implicit {
            conn.start_implicit_tls(self.tls_name(), &self.certificate)?;
        }
        Ok(conn)
    }

    /// The same endpoint with TLS off, for the plain retry of
    /// opportunistic TLS.
    fn without_tls(&self) -> Endpoint {
        Endpoint {
            host: self.host.clone(),
            port: self.port,
            tls: TlsMode::None,
            certificate: self.certificate.clone(),
            tls_name: self.tls_name.clone(),
            timeout: self.timeout,
            login: None,
            allow_plaintext_auth: self.allow_plaintext_auth,
        }
    }

    /// Refuses to log in over a connection without TLS unless allowed
    /// (76, before any credential is sent).
    pub fn check_login_allowed(&self, conn: &Connection) -> Result<(), Error> {
        if self.login.is_some() && !conn.is_tls() && !self.allow_plaintext_auth {
            return Err(Error::protocol(
                "refusing to send the password over a connection without TLS \
                 (--allow-plaintext-auth allows it)",
            ));
        }
        Ok(())
    }
}

/// What the server answered to a STARTTLS/STLS request.
#[derive(Debug)]
pub enum TlsAnswer {
    /// Go ahead: start the handshake.
    Proceed,
    /// Refused, with the server's reply; the session is still in plain
    /// text.
    Refused(ServerReply),
}

/// The steps of one protocol that the negotiator drives.
pub trait Handshake: Sized {
    /// What the protocol needs beyond the connection (SMTP: the EHLO name).
    type Options;
    /// Reads the greeting on a fresh connection.
    fn greet(conn: Connection, options: &Self::Options) -> Result<Self, Error>;
    /// Asks for the server's capabilities (EHLO, CAPA, CAPABILITY); called
    /// again after TLS, when everything learnt before is forgotten.
    fn capabilities(&mut self) -> Result<(), Error>;
    /// The protocol's name for the TLS upgrade, as errors name it:
    /// `STARTTLS` (SMTP, IMAP) or `STLS` (POP3).
    const TLS_COMMAND: &'static str = "STARTTLS";
    /// Whether the server offers STARTTLS/STLS.
    fn offers_tls(&self) -> bool;
    /// Asks for STARTTLS/STLS, alone, and reads the answer.
    fn request_tls(&mut self) -> Result<TlsAnswer, Error>;
    /// The connection under the session.
    fn connection_mut(&mut self) -> &mut Connection;
    /// Ends the session politely (QUIT, LOGOUT).
    fn quit(self);
}

/// The steps of a negotiation, in order, for stopping early
/// (`smtp-send --quit-after`) and for timing them (`mx-lookup --probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// TCP connected (and implicit TLS up).
    Connect,
    /// The greeting read.
    Greeting,
    /// Capabilities read.
    Capabilities,
    /// STARTTLS/STLS done (or skipped).
    Tls,
}

/// Told each stage reached, how long it took, and the session once there
/// is one.
pub type StageObserver<'a, S> = &'a mut dyn FnMut(Stage, Duration, Option<&S>);

/// How a negotiation runs beyond the endpoint.
pub struct Negotiation<'a, S> {
    /// Stop after this stage: the session is ended (QUIT) and `None`
    /// returned.
    pub stop_after: Option<Stage>,
    /// Told each stage reached, with how long it took.
    pub on_stage: Option<StageObserver<'a, S>>,
}

/// Connects to `endpoint`, reads the greeting, asks for capabilities and
/// applies the TLS policy; the session is ready to log in (the login
/// policy checked) and returned, or `None` when `stop_after` stopped it.
pub fn negotiate<S: Handshake>(
    endpoint: &Endpoint,
    options: &S::Options,
    transcript: Transcript,
    negotiation: &mut Negotiation<'_, S>,
) -> Result<Option<S>, Error> {
    let started = Instant::now();
    let conn = endpoint.connect(transcript)?;
    if negotiation.reached(Stage::Connect, started, None) {
        return Ok(None);
    }
    let started = Instant::now();
    let mut session = S::greet(conn, options)?;
    if negotiation.reached(Stage::Greeting, started, Some(&session)) {
        return Ok(quit(session));
    }
    let started = Instant::now();
    if let Err(error) = session.capabilities() {
        // A refusal leaves the conversation in step: end it politely.
        if error.is_refusal() {
            session.quit();
        }
        return Err(error);
    }
    if negotiation.reached(Stage::Capabilities, started, Some(&session)) {
        return Ok(quit(session));
    }
    let started = Instant::now();
    let mut session = match secure(session, endpoint)? {
        Secured::Session(session) => session,
        Secured::RetryPlain(transcript) => {
            // The login check below is the original endpoint's.
            let plain = endpoint.without_tls();
            let mut retry = Negotiation {
                stop_after: negotiation.stop_after,
                on_stage: None,
            };
            let Some(session) = negotiate(&plain, options, transcript, &mut retry)? else {
                return Ok(None);
            };
            session
        }
    };
    if negotiation.reached(Stage::Tls, started, Some(&session)) {
        return Ok(quit(session));
    }
    endpoint.check_login_allowed(session.connection_mut())?;
    Ok(Some(session))
}

impl<S> Default for Negotiation<'_, S> {
    /// Runs to the end, observed by nobody.
    fn default() -> Self {
        Negotiation {
            stop_after: None,
            on_stage: None,
        }
    }
}

impl<S> Negotiation<'_, S> {
    /// Reports `stage` and says whether to stop there.
    fn reached(&mut self, stage: Stage, started: Instant, session: Option<&S>) -> bool {
        if let Some(observer) = self.on_stage.as_mut() {
            observer(stage, started.elapsed(), session);
        }
        self.stop_after == Some(stage)
    }
}

/// What [`secure`] made of a session.
enum Secured<S> {
    /// Secured as the policy asks (or left plain where it allows).
    Session(S),
    /// Opportunistic TLS failed in the handshake: connect again in plain
    /// text, with this transcript.
    RetryPlain(Transcript),
}

/// Applies the endpoint's TLS mode to a greeted session.
fn secure<S: Handshake>(mut session: S, endpoint: &Endpoint) -> Result<Secured<S>, Error> {
    match endpoint.tls {
        TlsMode::Implicit | TlsMode::None => Ok(Secured::Session(session)),
        TlsMode::StartTls => {
            if !session.offers_tls() {
                return Err(Error::protocol(format!(
                    "{}:{} does not offer {}, which is required by default; \
                     --tls opportunistic goes on without it, --tls none never asks",
                    endpoint.host,
                    endpoint.port,
                    S::TLS_COMMAND
                )));
            }
            start_tls(&mut session, endpoint, false)?;
            Ok(Secured::Session(session))
        }
        TlsMode::Opportunistic if !session.offers_tls() => Ok(Secured::Session(session)),
        TlsMode::Opportunistic => match start_tls(&mut session, endpoint, true) {
            Ok(()) => Ok(Secured::Session(session)),
            // A connection reset in the handshake too: a middlebox that
            // breaks TLS is the usual cause, and plain text gets through
            // (as Postfix retries at its `may` level).
            Err(why) if why.is_protocol_or_tls() || why.kind() == ErrorKind::ConnectionLost => {
                // The failed handshake left the connection unusable.
                let conn = session.connection_mut();
                conn.note(&format!(
                    "{why}; connecting again without TLS (opportunistic)"
                ));
                Ok(Secured::RetryPlain(conn.take_transcript()))
            }
            Err(why) => Err(why),
        },
    }
}

/// STARTTLS/STLS, the handshake, and the capabilities asked again. With
/// `refusal_ok` (opportunistic TLS) a refusal leaves the session in plain
/// text; otherwise it is a protocol error (76).
pub fn start_tls<S: Handshake>(
    session: &mut S,
    endpoint: &Endpoint,
    refusal_ok: bool,
) -> Result<(), Error> {
    match session.request_tls()? {
        TlsAnswer::Proceed => {}
        TlsAnswer::Refused(reply) if refusal_ok => {
            session.connection_mut().note(&format!(
                "{} refused ({reply}); going on without TLS (opportunistic)",
                S::TLS_COMMAND
            ));
            return Ok(());
        }
        // RFC 3207 §4: 454 is "TLS not available due to temporary
        // reason": 75, to be tried again later (with --queue, queued);
        // nothing is sent without TLS either way.
        TlsAnswer::Refused(reply) if reply.code.is_some_and(|c| (400..500).contains(&c)) => {
            let message = format!(
                "{} refused for now: the server said {reply}",
                S::TLS_COMMAND
            );
            return Err(Error::refusal(ErrorKind::Deferred, reply, message));
        }
        TlsAnswer::Refused(reply) => {
            let message = format!("{} refused: the server said {reply}", S::TLS_COMMAND);
            return Err(Error::refusal(ErrorKind::Protocol, reply, message));
        }
    }
    session
        .connection_mut()
        .start_tls(endpoint.tls_name(), &endpoint.certificate)?;
    session.capabilities()
}

/// Ends a session stopped early: QUIT, and no session.
fn quit<S: Handshake>(session: S) -> Option<S> {
    session.quit();
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::credentials::Secret;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A line protocol for the tests: a greeting, `CAPS` answered with the
    /// capabilities on one line, `TLS` answered `go` or a refusal, `QUIT`.
    struct Toy {
        conn: Connection,
        caps: String,
    }

    impl Handshake for Toy {
        type Options = ();
        fn greet(mut conn: Connection, _: &()) -> Result<Toy, Error> {
            conn.read_line(1000)?;
            Ok(Toy {
                conn,
                caps: String::new(),
            })
        }
        fn capabilities(&mut self) -> Result<(), Error> {
            self.conn.write_line("CAPS")?;
            self.caps = String::from_utf8_lossy(&self.conn.read_line(1000)?).into_owned();
            Ok(())
        }
        fn offers_tls(&self) -> bool {
            self.caps.split(' ').any(|c| c == "TLS")
        }
        fn request_tls(&mut self) -> Result<TlsAnswer, Error> {
            self.conn.write_line("TLS")?;
            let answer = String::from_utf8_lossy(&self.conn.read_line(1000)?).into_owned();
            Ok(match answer.as_str() {
                "go" => TlsAnswer::Proceed,
                _ => TlsAnswer::Refused(ServerReply {
                    code: None,
                    text: answer,
                }),
            })
        }
        fn connection_mut(&mut self) -> &mut Connection {
            &mut self.conn
        }
        fn quit(mut self) {
            let _ = self.conn.write_line("QUIT");
            let _ = self.conn.flush();
        }
    }

    /// A server that greets, answers each line from `answers` (by the
    /// line's first word) and records every line it got.
    fn server(answers: &'static [(&'static str, &'static str)]) -> (u16, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&got);
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            writer.write_all(b"hello\r\n").unwrap();
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                log.lock().unwrap().push(line.clone());
                if let Some((_, answer)) = answers.iter().find(|(word, _)| line == *word) {
                    let _ = writer.write_all(format!("{answer}\r\n").as_bytes());
                }
            }
        });
        (port, got)
    }

    fn endpoint(port: u16, tls: TlsMode) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port,
            tls,
            certificate: TlsSettings::default(),
            tls_name: None,
            timeout: Duration::from_secs(5),
            login: None,
            allow_plaintext_auth: false,
        }
    }

    fn run(endpoint: &Endpoint, stop_after: Option<Stage>) -> Result<Option<Toy>, Error> {
        let mut negotiation = Negotiation {
            stop_after,
            on_stage: None,
        };
        negotiate(endpoint, &(), Transcript::off(), &mut negotiation)
    }

    /// Waits until the server has got `count` lines, then returns them.
    fn lines(got: &Arc<Mutex<Vec<String>>>, count: usize) -> Vec<String> {
        for _ in 0..500 {
            if got.lock().unwrap().len() >= count {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        got.lock().unwrap().clone()
    }

    #[test]
    fn required_starttls_not_offered_fails_before_anything_else() {
        let (port, got) = server(&[("CAPS", "PLAIN")]);
        let error = run(&endpoint(port, TlsMode::StartTls), None).err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
        assert!(error.to_string().contains("does not offer STARTTLS"));
        assert_eq!(lines(&got, 1), ["CAPS"]);
    }

    #[test]
    fn required_starttls_refused_is_a_protocol_error_with_the_reply() {
        let (port, _) = server(&[("CAPS", "TLS"), ("TLS", "no thanks")]);
        let error = run(&endpoint(port, TlsMode::StartTls), None).err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol);
        assert_eq!(error.reply().unwrap().text, "no thanks");
    }

    #[test]
    fn opportunistic_refusal_goes_on_in_plain_text() {
        let (port, got) = server(&[("CAPS", "TLS"), ("TLS", "no")]);
        let session = run(&endpoint(port, TlsMode::Opportunistic), None).unwrap();
        assert!(!session.unwrap().conn.is_tls());
        assert_eq!(lines(&got, 2), ["CAPS", "TLS"]);
    }

    #[test]
    fn a_stop_ends_the_session_with_quit() {
        let (port, got) = server(&[("CAPS", "TLS")]);
        let stopped = run(&endpoint(port, TlsMode::StartTls), Some(Stage::Greeting)).unwrap();
        assert!(stopped.is_none());
        assert_eq!(lines(&got, 1), ["QUIT"]);
    }

    #[test]
    fn no_password_without_tls_unless_allowed() {
        let (port, _) = server(&[("CAPS", "PLAIN")]);
        let mut plain = endpoint(port, TlsMode::None);
        plain.login = Some(Login {
            user: "alice".into(),
            secret: Secret::new("pw".into()),
            oauth: false,
        });
        let error = run(&plain, None).err().unwrap();
        assert_eq!(error.kind(), ErrorKind::Protocol);
        assert!(error.to_string().contains("--allow-plaintext-auth"));
        let (port, _) = server(&[("CAPS", "PLAIN")]);
        plain.port = port;
        plain.allow_plaintext_auth = true;
        assert!(run(&plain, None).unwrap().is_some());
    }

    #[test]
    fn stages_are_reported_in_order() {
        let (port, _) = server(&[("CAPS", "PLAIN")]);
        let mut seen = Vec::new();
        let mut record = |stage: Stage, _: Duration, _: Option<&Toy>| seen.push(stage);
        let mut negotiation = Negotiation {
            stop_after: None,
            on_stage: Some(&mut record),
        };
        let endpoint = endpoint(port, TlsMode::None);
        negotiate(&endpoint, &(), Transcript::off(), &mut negotiation).unwrap();
        assert_eq!(
            seen,
            [
                Stage::Connect,
                Stage::Greeting,
                Stage::Capabilities,
                Stage::Tls
            ]
        );
    }
}
