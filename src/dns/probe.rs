//! `mx-lookup --probe`: what a sending server sees at a mail exchange.
//!
//! A probe connects to one address of an exchange (port 25 by default),
//! reads the banner, says EHLO, and when STARTTLS is offered starts TLS
//! with the certificate checked against the exchange's name; then it says
//! QUIT. Each step is timed. Nothing else is ever sent: no MAIL, RCPT, AUTH
//! or message data (HELO only when the server refuses EHLO).
//!
//! When the certificate check fails, its reason becomes the verdict and the
//! probe starts TLS once more, on a new connection and without the check,
//! to learn the TLS version and the certificate's fingerprint all the same.
//!
//! Probes are blocking (std threads). [`probe_each`] runs them in a small
//! pool after the (asynchronous) DNS lookups of [`crate::dns::route_each`],
//! and hands the reports on in input order, each exchange with its probe.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::dns::{self, Inputs, MxReport, ReportSink, ResolverSettings, output_failed};
use crate::error::Error;
use crate::net::connection::{TlsInfo, TlsMode, TlsSettings};
use crate::net::session::{Endpoint, Handshake, Negotiation, Stage, negotiate, start_tls};
use crate::net::transcript::Transcript;
use crate::output::printable;
use crate::smtp::Session;

/// The SMTP port of mail exchanges (RFC 5321 §4.5.4.2).
pub const SMTP_PORT: u16 = crate::smtp::MX_PORT;

/// Most probes running at once, whatever the DNS concurrency.
const MAX_PROBES: usize = 16;

/// What one exchange address answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Probe {
    /// The address connected to.
    pub address: IpAddr,
    /// The port connected to.
    pub port: u16,
    /// How long the TCP connection took; `None` when it failed.
    pub connected_ms: Option<u64>,
    /// The greeting as one line (the lines of a multi-line greeting joined
    /// with ` / `), as the server sent it; `None` when none came.
    pub banner: Option<String>,
    /// How long the greeting took to arrive after the connection.
    pub banner_ms: Option<u64>,
    /// How long EHLO took (with the HELO fallback when EHLO is refused).
    pub ehlo_ms: Option<u64>,
    /// The EHLO reply's extension lines before TLS, as sent (`SIZE
    /// 1048576`, `AUTH PLAIN LOGIN`, `STARTTLS`, ...); empty after HELO.
    pub extensions: Vec<String>,
    /// The STARTTLS outcome; `None` when not offered or not reached.
    pub starttls: Option<TlsProbe>,
    /// Why the probe stopped early, if it did.
    pub error: Option<String>,
    /// The conversation, swaks style, when asked for (`-v`).
    #[serde(skip)]
    pub transcript: Vec<String>,
    /// TLS was implicit (`--tls implicit`): the TLS outcome in
    /// [`Probe::starttls`] is of the connection itself, shown as `TLS`.
    #[serde(skip)]
    pub implicit_tls: bool,
}

/// The STARTTLS step of a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsProbe {
    /// The negotiated protocol version: `TLSv1.3`, `TLSv1.2`, ...
    pub version: String,
    /// The negotiated cipher suite (OpenSSL's name).
    pub cipher: String,
    /// True when the certificate was verified for the exchange's name.
    pub verified: bool,
    /// `verified`, or why not, e.g. `self-signed certificate` or
    /// `hostname mismatch`.
    pub verdict: String,
    /// SHA-256 of the server certificate (64 lower-case hex digits).
    pub fingerprint: String,
    /// How long STARTTLS, the handshake and the EHLO after it took (on the
    /// second connection when the certificate check failed).
    pub ms: u64,
}

/// How to probe, for [`probe_each`].
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// The port to connect to (25 for MX).
    pub port: u16,
    /// The limit for the connection and for each read or write.
    pub timeout: Duration,
    /// The name to give in EHLO; the default is
    /// [`crate::smtp::Session::default_name`].
    pub helo: Option<String>,
    /// How TLS is used: STARTTLS when offered (the default, also for
    /// `starttls` and `opportunistic`), TLS from the first byte
    /// (`implicit`, for port 465), or not at all (`none`).
    pub mode: TlsMode,
    /// The certificate checks (a CA file instead of the system roots, a
    /// pin, or none).
    pub tls: TlsSettings,
    /// Keep each probe's conversation in [`Probe::transcript`].
    pub transcript: bool,
}

/// Probes `address` of `exchange` on `port`: connect, banner, EHLO as
/// `helo`, STARTTLS when offered (the certificate checked against
/// `exchange` and `tls`), QUIT. Failures are recorded in the result, never
/// returned.
pub fn probe(
    exchange: &str,
    address: IpAddr,
    port: u16,
    timeout: Duration,
    helo: Option<&str>,
    tls: &TlsSettings,
) -> Probe {
    let settings = ProbeSettings {
        port,
        timeout,
        helo: helo.map(str::to_owned),
        mode: TlsMode::StartTls,
        tls: tls.clone(),
        transcript: false,
    };
    probe_with(exchange, address, &settings)
}

/// [`probe`] with its settings in one value.
pub fn probe_with(exchange: &str, address: IpAddr, settings: &ProbeSettings) -> Probe {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut probe = Probe {
        address,
        port: settings.port,
        connected_ms: None,
        banner: None,
        banner_ms: None,
        ehlo_ms: None,
        extensions: Vec::new(),
        starttls: None,
        error: None,
        transcript: Vec::new(),
        implicit_tls: settings.mode == TlsMode::Implicit,
    };
    let prober = Prober {
        exchange,
        address: SocketAddr::new(address, settings.port),
        settings,
        log: settings.transcript.then(|| Arc::clone(&log)),
    };
    if let Err(error) = prober.run(&mut probe) {
        probe.error = Some(error.to_string());
    }
    probe.transcript = std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    probe
}

/// One probe's fixed facts.
struct Prober<'a> {
    exchange: &'a str,
    address: SocketAddr,
    settings: &'a ProbeSettings,
    log: Option<Arc<Mutex<Vec<String>>>>,
}

impl Prober<'_> {
    fn run(&self, probe: &mut Probe) -> Result<(), Error> {
        match self.settings.mode {
            TlsMode::Implicit => return self.implicit_tls(probe),
            TlsMode::None => {
                let endpoint = self.endpoint(TlsMode::None, self.settings.tls.clone());
                self.hello(&endpoint, Some(probe))?.quit();
                return Ok(());
            }
            TlsMode::StartTls | TlsMode::Opportunistic => {}
        }
        let endpoint = self.endpoint(TlsMode::None, self.settings.tls.clone());
        let mut session = self.hello(&endpoint, Some(probe))?;
        if !session.offers_tls() {
            session.quit();
            return Ok(());
        }
        let started = Instant::now();
        match start_tls(&mut session, &endpoint, false) {
            Ok(()) => {
                probe.starttls = tls_probe(&session, None, millis(started));
                session.quit();
                Ok(())
            }
            Err(error) => {
                let Some(verdict) = error.certificate_reason().map(str::to_owned) else {
                    return Err(quit_after(session, error));
                };
                // That connection is dead: a new one without the check.
                drop(session);
                let tls = self.insecure_starttls(&verdict).map_err(|again| {
                    again.prefixed(&format!(
                        "STARTTLS: certificate not trusted: {verdict}; \
                         the retry without verification failed"
                    ))
                })?;
                probe.starttls = Some(tls);
                Ok(())
            }
        }
    }

    /// TLS from the first byte: its facts as the TLS outcome; a refused
    /// certificate is reported as the verdict after a second connection
    /// without the check, as for STARTTLS.
    fn implicit_tls(&self, probe: &mut Probe) -> Result<(), Error> {
        let endpoint = self.endpoint(TlsMode::Implicit, self.settings.tls.clone());
        let started = Instant::now();
        let error = match self.hello(&endpoint, Some(probe)) {
            Ok(session) => {
                probe.starttls = tls_probe(&session, None, millis(started));
                session.quit();
                return Ok(());
            }
            Err(error) => error,
        };
        let Some(verdict) = error.certificate_reason().map(str::to_owned) else {
            return Err(error);
        };
        let insecure = self.endpoint(TlsMode::Implicit, self.insecure_settings());
        let started = Instant::now();
        let session = self.hello(&insecure, None)?;
        probe.starttls = tls_probe(&session, Some(&verdict), millis(started));
        session.quit();
        Ok(())
    }

    /// The certificate settings without any check, to learn what the
    /// server offers after a refused certificate.
    fn insecure_settings(&self) -> TlsSettings {
        TlsSettings {
            insecure: true,
            fingerprint: None,
            ..self.settings.tls.clone()
        }
    }

    /// The exchange's address with this TLS mode and these certificate
    /// checks, for the name of the exchange; STARTTLS is started by the
    /// probe itself.
    fn endpoint(&self, tls: TlsMode, certificate: TlsSettings) -> Endpoint {
        Endpoint {
            host: self.address.ip().to_string(),
            port: self.address.port(),
            tls,
            certificate,
            tls_name: Some(self.exchange.to_owned()),
            timeout: self.settings.timeout,
            login: None,
            allow_plaintext_auth: false,
        }
    }

    /// Connects, reads the greeting and says EHLO (the shared
    /// negotiation); the times and what the server said go into `probe`
    /// when given.
    fn hello(&self, endpoint: &Endpoint, mut probe: Option<&mut Probe>) -> Result<Session, Error> {
        let mut record = |stage: Stage, took: Duration, session: Option<&Session>| {
            let Some(probe) = probe.as_deref_mut() else {
                return;
            };
            let ms = Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
            match (stage, session) {
                (Stage::Connect, _) => probe.connected_ms = ms,
                (Stage::Greeting, Some(session)) => {
                    probe.banner_ms = ms;
                    probe.banner = Some(session.banner.clone());
                }
                (Stage::Capabilities, Some(session)) => {
                    probe.ehlo_ms = ms;
                    probe.extensions = session.extensions().lines.clone();
                }
                _ => {}
            }
        };
        let mut negotiation = Negotiation {
            stop_after: None,
            on_stage: Some(&mut record),
        };
        let session = negotiate(
            endpoint,
            &self.settings.helo,
            self.transcript(),
            &mut negotiation,
        )?;
        session.ok_or_else(|| Error::bug("the probe's negotiation stopped early"))
    }

    /// The TLS step again on a new connection, accepting any certificate.
    fn insecure_starttls(&self, verdict: &str) -> Result<TlsProbe, Error> {
        let endpoint = self.endpoint(TlsMode::None, self.insecure_settings());
        let mut session = self.hello(&endpoint, None)?;
        if !session.offers_tls() {
            session.quit();
            return Err(Error::protocol("STARTTLS is no longer offered"));
        }
        let started = Instant::now();
        start_tls(&mut session, &endpoint, false)?;
        let tls = tls_probe(&session, Some(verdict), millis(started));
        session.quit();
        tls.ok_or_else(|| Error::bug("TLS facts missing"))
    }

    /// A transcript kept for the report, when asked for.
    fn transcript(&self) -> Transcript {
        match &self.log {
            Some(log) => Transcript::kept_in(Arc::clone(log)),
            None => Transcript::off(),
        }
    }
}

/// Says QUIT when `error` is a refusal by the server, which leaves the
/// conversation in step (after a timeout or a broken connection a QUIT
/// would only wait again); returns `error`.
fn quit_after(session: Session, error: Error) -> Error {
    if error.is_refusal() {
        session.quit();
    }
    error
}

/// The TLS facts of `session`; `failed` is the reason the certificate
/// check failed, when it did.
fn tls_probe(session: &Session, failed: Option<&str>, ms: u64) -> Option<TlsProbe> {
    let info: &TlsInfo = session.connection().tls_info()?;
    let verified = failed.is_none() && info.verified;
    let verdict = match failed {
        Some(why) => why.to_string(),
        None if info.verified => "verified".to_string(),
        None => "not checked".to_string(),
    };
    Some(TlsProbe {
        version: info.version.clone(),
        cipher: info.cipher.clone(),
        verified,
        verdict,
        fingerprint: info.fingerprint.clone(),
        ms,
    })
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Probe {
    /// The probe as one text line (without indentation or newline), server
    /// text made terminal-safe:
    ///
    /// `probe 192.0.2.1:25 connect 1 ms, banner "220 mx ESMTP" 2 ms, EHLO
    /// 3 ms, STARTTLS TLSv1.3 verified 12 ms, SIZE PIPELINING STARTTLS`
    ///
    /// A failure ends the line with `error: WHY`.
    pub fn text_line(&self) -> String {
        let mut steps: Vec<String> = Vec::new();
        if let Some(ms) = self.connected_ms {
            steps.push(format!("connect {ms} ms"));
        }
        if let (Some(banner), Some(ms)) = (&self.banner, self.banner_ms) {
            steps.push(format!("banner \"{}\" {ms} ms", printable(banner)));
        }
        if let Some(ms) = self.ehlo_ms {
            steps.push(format!("EHLO {ms} ms"));
            let how = if self.implicit_tls { "TLS" } else { "STARTTLS" };
            match &self.starttls {
                Some(tls) if tls.verified => {
                    steps.push(format!("{how} {} verified {} ms", tls.version, tls.ms));
                }
                Some(tls) => steps.push(format!(
                    "{how} {} not verified ({}) {} ms",
                    tls.version,
                    printable(&tls.verdict),
                    tls.ms
                )),
                None if self.offers("STARTTLS") => {}
                None => steps.push("no STARTTLS".to_string()),
            }
            let keywords: Vec<String> = self
                .extensions
                .iter()
                .filter_map(|line| line.split_whitespace().next())
                .map(|keyword| printable(keyword).into_owned())
                .collect();
            if !keywords.is_empty() {
                steps.push(keywords.join(" "));
            }
        }
        if let Some(error) = &self.error {
            steps.push(format!("error: {}", printable(error)));
        }
        format!(
            "probe {} {}",
            SocketAddr::new(self.address, self.port),
            steps.join(", ")
        )
    }

    /// Whether the EHLO reply offered `keyword`.
    pub fn offers(&self, keyword: &str) -> bool {
        self.extensions.iter().any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
    }
}

/// An EHLO name as given with `--helo`: a domain name or an address
/// literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`). For use as a clap value
/// parser.
pub fn parse_helo(text: &str) -> Result<String, String> {
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        let ip = inner
            .get(..5)
            .filter(|tag| tag.eq_ignore_ascii_case("IPv6:"))
            .map_or(inner, |_| &inner[5..]);
        return match ip.parse::<IpAddr>() {
            Ok(_) => Ok(text.to_string()),
            Err(_) => Err(format!("{:?} is not an address literal", printable(text))),
        };
    }
    crate::domain::ascii_domain(text)
        .map_err(|why| format!("{:?} is not a host name: {why}", printable(text)))
}

/// What a probe adds to an exchange of a DNS answer: the probe's result,
/// shown as the exchange's `probe` in JSON; absent when not probed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Probed {
    /// What the exchange answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
}

/// A DNS answer with the probe of each exchange.
pub type ProbedReport = MxReport<Probed>;

/// The probe of an exchange, for printing reports with or without probes.
pub trait ProbeOf {
    /// The probe result, if the exchange was probed.
    fn probe(&self) -> Option<&Probe>;
}

impl ProbeOf for () {
    fn probe(&self) -> Option<&Probe> {
        None
    }
}

impl ProbeOf for Probed {
    fn probe(&self) -> Option<&Probe> {
        self.probe.as_ref()
    }
}

/// A report whose probes are under way, in input order.
type Pending = (MxReport, Vec<Option<mpsc::Receiver<Probe>>>);

/// One exchange address to probe, and where the result goes.
struct Task {
    exchange: String,
    address: IpAddr,
    reply: mpsc::Sender<Probe>,
}

/// [`dns::route_each`] with a probe of every exchange: the first address
/// of each (A records come first; the others are not probed). The lookups
/// run as in `route_each` on a thread of their own; the probes in a pool of
/// at most 16 threads; `sink` gets each report, its exchanges' `probe` set,
/// in input order on the calling thread. Reports that are not `ok` and
/// exchanges without an address are not probed.
///
/// The lookups are never held up by slow probes (a stalled resolver would
/// see its lookups time out): instead, reading of [`Inputs::Lines`] waits
/// while too many reports wait for their probes, so memory stays bounded.
pub fn probe_each(
    resolver: ResolverSettings,
    inputs: Inputs,
    concurrency: usize,
    settings: ProbeSettings,
    sink: &mut impl ReportSink<ProbedReport>,
) -> Result<(), Error> {
    settings.tls.check()?;
    let concurrency = concurrency.max(1);
    let settings = Arc::new(settings);
    let (task_sender, tasks) = mpsc::channel::<Task>();
    let tasks = Arc::new(Mutex::new(tasks));
    for _ in 0..concurrency.min(MAX_PROBES) {
        let tasks = Arc::clone(&tasks);
        let settings = Arc::clone(&settings);
        thread::spawn(move || {
            loop {
                // The guard goes at the end of the statement, before the probe.
                let next = tasks.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(task) = next else { return };
                let probe = probe_with(&task.exchange, task.address, &settings);
                let _ = task.reply.send(probe);
            }
        });
    }
    let gate = Gate::new(concurrency.max(MAX_PROBES));
    let inputs = match inputs {
        Inputs::Lines(read) => Inputs::Lines(Box::new(GatedRead {
            inner: read,
            gate: gate.clone(),
        })),
        list => list,
    };
    let (pending_sender, pending) = mpsc::channel::<Pending>();
    let forward_gate = gate.clone();
    let lookups = thread::spawn(move || {
        let mut forward = Forward {
            pending: pending_sender,
            tasks: task_sender,
            gate: forward_gate,
        };
        dns::route_each(resolver, inputs, concurrency, &mut forward)
    });
    loop {
        let next = match pending.try_recv() {
            Ok(next) => next,
            Err(mpsc::TryRecvError::Empty) => {
                sink.idle().map_err(|e| output_failed(&e))?;
                match pending.recv() {
                    Ok(next) => next,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        let (report, receivers) = next;
        let mut probes = Vec::with_capacity(receivers.len());
        for receiver in receivers {
            let probe = match receiver.map(|r| (r.try_recv(), r)) {
                None => None,
                Some((Ok(probe), _)) => Some(probe),
                Some((Err(_), receiver)) => {
                    sink.idle().map_err(|e| output_failed(&e))?;
                    receiver.recv().ok()
                }
            };
            probes.push(probe);
        }
        let mut probes = probes.into_iter();
        let report = report.with_extras(|_| Probed {
            probe: probes.next().flatten(),
        });
        sink.report(report).map_err(|e| output_failed(&e))?;
        gate.leave();
    }
    sink.idle().map_err(|e| output_failed(&e))?;
    match lookups.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The sink of the lookup thread: starts the probes of each report and
/// passes it on, never waiting.
struct Forward {
    pending: mpsc::Sender<Pending>,
    tasks: mpsc::Sender<Task>,
    gate: Gate,
}

impl ReportSink for Forward {
    fn report(&mut self, report: MxReport) -> std::io::Result<()> {
        let probed = report.status == dns::RouteStatus::Ok;
        let mut receivers = Vec::with_capacity(report.mx.len());
        for exchange in &report.mx {
            let receiver = match exchange.addresses.first() {
                Some(&address) if probed => {
                    let (reply, receiver) = mpsc::channel();
                    let task = Task {
                        exchange: exchange.exchange.clone(),
                        address,
                        reply,
                    };
                    self.tasks.send(task).map_err(|_| stopped())?;
                    Some(receiver)
                }
                _ => None,
            };
            receivers.push(receiver);
        }
        self.gate.enter();
        self.pending
            .send((report, receivers))
            .map_err(|_| stopped())
    }

    fn idle(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Counts the reports that wait for their probes; the input is not read
/// while there are `limit` or more.
#[derive(Clone)]
struct Gate {
    waiting: Arc<(Mutex<usize>, Condvar)>,
    limit: usize,
}

impl Gate {
    fn new(limit: usize) -> Gate {
        Gate {
            waiting: Arc::default(),
            limit,
        }
    }

    fn enter(&self) {
        *self.waiting.0.lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }

    fn leave(&self) {
        let (count, changed) = &*self.waiting;
        let mut count = count.lock().unwrap_or_else(|p| p.into_inner());
        *count = count.saturating_sub(1);
        changed.notify_all();
    }

    /// Blocks while too many reports wait.
    fn pass(&self) {
        let (count, changed) = &*self.waiting;
        let mut count = count.lock().unwrap_or_else(|p| p.into_inner());
        while *count >= self.limit {
            count = changed.wait(count).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The input of the lookups, held back by the [`Gate`]. It is read on a
/// thread of its own (see [`dns::route_each`]), so waiting here stalls
/// nothing else.
struct GatedRead {
    inner: Box<dyn Read + Send>,
    gate: Gate,
}

impl Read for GatedRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.gate.pass();
        self.inner.read(buf)
    }
}

/// The output side is gone (its own error is the one reported).
fn stopped() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the output stopped")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::test_support::scripted::Script;
    use std::net::TcpListener;

    /// A one-connection SMTP server: `banner`, `ehlo` to EHLO, 454 to
    /// STARTTLS, 221 to QUIT, 502 to anything else; returns the port and a
    /// handle yielding the commands it received.
    fn scripted(
        banner: &'static str,
        ehlo: &'static str,
    ) -> (u16, thread::JoinHandle<Vec<String>>) {
        let rules = vec![
            ("EHLO", ehlo.as_bytes()),
            ("QUIT", &b"221 bye\r\n"[..]),
            ("STARTTLS", &b"454 TLS not available now\r\n"[..]),
        ];
        Script {
            banner: banner.as_bytes(),
            rules,
            otherwise: b"502 no\r\n",
            connections: 1,
        }
        .start()
    }

    fn settings(port: u16) -> ProbeSettings {
        ProbeSettings {
            port,
            timeout: Duration::from_secs(10),
            helo: Some("client.test".into()),
            mode: TlsMode::StartTls,
            tls: TlsSettings::default(),
            transcript: true,
        }
    }

    #[test]
    fn a_server_without_starttls_gets_ehlo_and_quit_only() {
        let (port, server) = scripted(
            "220 mx.test ESMTP \x1b[2Jready\r\n",
            "250-mx.test hi\r\n250-SIZE 1000\r\n250 PIPELINING\r\n",
        );
        let probe = probe_with("mx.test", "127.0.0.1".parse().unwrap(), &settings(port));
        assert_eq!(server.join().unwrap(), ["EHLO client.test", "QUIT"]);
        assert_eq!(probe.error, None);
        assert_eq!(
            probe.banner.as_deref(),
            Some("220 mx.test ESMTP \x1b[2Jready")
        );
        assert_eq!(probe.extensions, ["SIZE 1000", "PIPELINING"]);
        assert!(probe.starttls.is_none());
        assert!(probe.connected_ms.is_some() && probe.ehlo_ms.is_some());
        let line = probe.text_line();
        assert!(
            line.starts_with(&format!("probe 127.0.0.1:{port} connect ")),
            "{line}"
        );
        assert!(
            line.contains("banner \"220 mx.test ESMTP \\u{1b}[2Jready\""),
            "{line}"
        );
        assert!(line.ends_with(", no STARTTLS, SIZE PIPELINING"), "{line}");
        assert!(
            probe
                .transcript
                .contains(&"-> EHLO client.test".to_string())
        );
    }

    #[test]
    fn a_refused_starttls_is_recorded() {
        let (port, server) = scripted("220 mx.test\r\n", "250-mx.test\r\n250 STARTTLS\r\n");
        let probe = probe_with("mx.test", "127.0.0.1".parse().unwrap(), &settings(port));
        assert_eq!(
            server.join().unwrap(),
            ["EHLO client.test", "STARTTLS", "QUIT"]
        );
        let error = probe.error.clone().unwrap();
        assert!(error.contains("STARTTLS refused"), "{error}");
        assert!(probe.starttls.is_none());
        let line = probe.text_line();
        assert!(
            line.ends_with(
                ", STARTTLS, error: STARTTLS refused for now: the server said 454 TLS not available now"
            ),
            "{line}"
        );
    }

    #[test]
    fn a_refused_ehlo_and_helo_end_with_quit() {
        let (port, server) = scripted("220 mx.test\r\n", "550 go away\r\n");
        let probe = probe_with("mx.test", "127.0.0.1".parse().unwrap(), &settings(port));
        assert_eq!(
            server.join().unwrap(),
            ["EHLO client.test", "HELO client.test", "QUIT"]
        );
        assert_eq!(probe.ehlo_ms, None);
        assert_eq!(probe.error.as_deref(), Some("HELO: the server said 502 no"));
    }

    #[test]
    fn a_closed_port_is_an_error_not_a_panic() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let probe = probe(
            "mx.test",
            "127.0.0.1".parse().unwrap(),
            port,
            Duration::from_secs(5),
            Some("client.test"),
            &TlsSettings::default(),
        );
        assert_eq!(probe.connected_ms, None);
        assert!(probe.transcript.is_empty());
        assert_eq!(
            probe.text_line(),
            format!(
                "probe 127.0.0.1:{port} error: connecting to 127.0.0.1:{port}: connection refused"
            )
        );
        let json = serde_json::to_value(&probe).unwrap();
        assert_eq!(json["connected_ms"], serde_json::Value::Null);
        assert!(json.get("transcript").is_none());
    }

    #[test]
    fn certificate_verdicts_come_from_the_error_kind() {
        let error = Error::certificate(
            "self-signed certificate",
            "TLS with 127.0.0.1:25: certificate not trusted: self-signed certificate",
        );
        assert_eq!(error.certificate_reason(), Some("self-signed certificate"));
        let error = Error::new(
            ErrorKind::Tls,
            "TLS with 127.0.0.1:25: certificate not trusted: a server's own words",
        );
        assert_eq!(error.certificate_reason(), None);
    }

    #[test]
    fn the_gate_holds_the_input_back_while_too_many_reports_wait() {
        let gate = Gate::new(2);
        gate.enter();
        gate.enter();
        let (passed, told) = mpsc::channel();
        let waiting = gate.clone();
        let reader = thread::spawn(move || {
            let mut read = GatedRead {
                inner: Box::new(&b"example.test\n"[..]),
                gate: waiting,
            };
            let mut buf = [0u8; 64];
            let n = read.read(&mut buf).unwrap();
            passed.send(n).unwrap();
        });
        assert!(told.recv_timeout(Duration::from_millis(200)).is_err());
        gate.leave();
        assert_eq!(told.recv_timeout(Duration::from_secs(10)).unwrap(), 13);
        reader.join().unwrap();
    }

    #[test]
    fn helo_names() {
        assert_eq!(parse_helo("Client.Example").unwrap(), "client.example");
        assert_eq!(parse_helo("[192.0.2.1]").unwrap(), "[192.0.2.1]");
        assert_eq!(
            parse_helo("[IPv6:2001:db8::1]").unwrap(),
            "[IPv6:2001:db8::1]"
        );
        assert!(parse_helo("a b").is_err());
        assert!(parse_helo("x\r\nMAIL FROM:<a@b>").is_err());
        assert!(parse_helo("[nonsense]").is_err());
    }
}
