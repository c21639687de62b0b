//! What `smtp-send` does: prepare a message (recipients from arguments
//! and/or the header, Bcc removed, Date and Message-ID added, checked for
//! the 998-octet limit), hand it to an SMTP server in one session per
//! connection, and report a result per recipient; spool what was deferred.

use std::io::{self, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::dns::ResolverSettings;
use crate::envelope::{self, HEAD_LIMIT};
use crate::error::{Error, ErrorKind};
use crate::exit::ExitStatus;
use crate::input::Replayable;
use crate::net::connection::{TlsMode, TlsSettings};
use crate::net::session::{Endpoint, Negotiation, Stage, negotiate};
use crate::net::transcript::Transcript;
use crate::smtp::data::{self, WireStats};
use crate::smtp::{Dsn, Extensions, MailOptions, Reply, Session};

/// A message ready to send: its envelope, the header as it goes out (Bcc
/// removed, Date and Message-ID added), and the body, with what the wire
/// will carry.
pub struct Outgoing {
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO, in order.
    pub recipients: Vec<String>,
    header: Vec<u8>,
    source: Replayable,
    body_start: u64,
    /// What sending it puts on the wire.
    pub stats: WireStats,
    /// Whether an address or the header needs SMTPUTF8.
    pub smtputf8: bool,
}

impl Outgoing {
    /// The message as it is sent: the prepared header, then the body.
    pub fn reader(&self) -> io::Result<impl Read + '_> {
        let mut body = self.source.reader()?;
        io::copy(&mut (&mut body).take(self.body_start), &mut io::sink())?;
        Ok(self.header.as_slice().chain(body))
    }
}

/// Prepares `source` for sending to `recipients` (plus, with
/// `header_recipients`, those of its To, Cc and Bcc), from `sender` or its
/// From address. Bcc is always removed. 65 for an unusable message or
/// address, a line over 998 octets, or a NUL.
pub fn prepare(
    source: Replayable,
    recipients: &[String],
    header_recipients: bool,
    sender: Option<&str>,
) -> Result<Outgoing, Error> {
    let head = source
        .head(HEAD_LIMIT)
        .map_err(|e| Error::new(ErrorKind::LocalIo, format!("reading the message: {e}")))?;
    let facts = envelope::header_facts(&head)?;
    let mut all: Vec<String> = recipients.to_vec();
    if header_recipients {
        all.extend(facts.t_recipients()?.iter().cloned());
    }
    let (checked, mut smtputf8) = envelope_recipients(&all)?;
    smtputf8 |= facts.eight_bit_header && std::str::from_utf8(&head[..facts.body_start]).is_ok();
    let sender_text = match sender {
        Some(s) => s.to_string(),
        None => facts.sender()?.to_string(),
    };
    let sender = envelope::envelope_address(&sender_text, true)?;
    smtputf8 |= sender.needs_smtputf8;
    let header = envelope::prepared_header(&head, &facts, true);
    let mut prepared = Outgoing {
        sender: sender.address,
        recipients: checked,
        header,
        source,
        body_start: facts.body_start as u64,
        stats: WireStats::default(),
        smtputf8,
    };
    let stats = data::scan(&mut prepared.reader().map_err(read_error)?).map_err(read_error)?;
    if stats.longest_line > 998 {
        return Err(Error::data(format!(
            "a line of {} octets is over the limit of 998 (RFC 5321 §4.5.3.1.6); rfc822-lint --fix or mime-pack can repair it",
            stats.longest_line
        )));
    }
    if stats.nul {
        return Err(Error::data(
            "the message holds a NUL byte, which SMTP cannot carry",
        ));
    }
    prepared.stats = stats;
    Ok(prepared)
}

/// The envelope without a message, for `--quit-after` (which always stops
/// before DATA) when the input is empty: `recipients` as given, and
/// `sender` or the null reverse-path `<>` (RFC 5321 §4.5.5).
pub fn envelope_only(recipients: &[String], sender: Option<&str>) -> Result<Outgoing, Error> {
    let (recipients, mut smtputf8) = envelope_recipients(recipients)?;
    let sender = envelope::envelope_address(sender.unwrap_or("<>"), true)?;
    smtputf8 |= sender.needs_smtputf8;
    Ok(Outgoing {
        sender: sender.address,
        recipients,
        header: Vec::new(),
        source: Replayable::read_from(&mut io::empty()).map_err(read_error)?,
        body_start: 0,
        stats: WireStats::default(),
        smtputf8,
    })
}

/// The envelope recipients of `all`, checked, each once, in order, and
/// whether any needs SMTPUTF8. None at all is a usage error.
fn envelope_recipients(all: &[String]) -> Result<(Vec<String>, bool), Error> {
    let mut smtputf8 = false;
    let mut checked = Vec::new();
    for recipient in all {
        let address = envelope::envelope_address(recipient, false)?;
        smtputf8 |= address.needs_smtputf8;
        if !checked.contains(&address.address) {
            checked.push(address.address);
        }
    }
    if checked.is_empty() {
        return Err(Error::usage("no recipients: give them as arguments, or -t"));
    }
    Ok((checked, smtputf8))
}

fn read_error(e: io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("reading the message: {e}"))
}

/// What happened to one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The server took responsibility for it.
    Accepted,
    /// Refused for good (5xx).
    Rejected,
    /// Refused for now (4xx, or no connection).
    Deferred,
    /// Deferred and spooled for `--flush`.
    Queued,
}

impl Outcome {
    /// The outcome's name, as in the JSON output: `accepted`, `rejected`,
    /// `deferred`, `queued`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::Deferred => "deferred",
            Outcome::Queued => "queued",
        }
    }
}

/// One recipient's result.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientResult {
    /// The recipient.
    pub recipient: String,
    /// What happened.
    pub status: Outcome,
    /// The server's reply (or why there was none).
    pub reply: String,
    /// For a rejection: what it means for the exit status (67 a refused
    /// recipient, 69 a refused message or a null MX, 68 no mail route).
    #[serde(skip)]
    pub failure: ExitStatus,
    /// A DSN was asked for (`--notify`, `--ret`, `--envid`) but the server
    /// does not offer DSN, so the request was not sent (in JSON only when
    /// true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dsn_ignored: bool,
}

/// The step after which to stop, for diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Step {
    /// After connecting.
    Connect,
    /// After the greeting.
    Banner,
    /// After EHLO.
    Ehlo,
    /// After STARTTLS.
    Starttls,
    /// After AUTH.
    Auth,
    /// After MAIL FROM.
    Mail,
    /// After RCPT TO.
    Rcpt,
}

impl Step {
    /// The negotiation stage this step is, for the steps before AUTH.
    fn stage(self) -> Option<Stage> {
        match self {
            Step::Connect => Some(Stage::Connect),
            Step::Banner => Some(Stage::Greeting),
            Step::Ehlo => Some(Stage::Capabilities),
            Step::Starttls => Some(Stage::Tls),
            Step::Auth | Step::Mail | Step::Rcpt => None,
        }
    }
}

/// Session options.
#[derive(Default)]
pub struct SendOptions {
    /// EHLO name.
    pub helo: Option<String>,
    /// DSN parameters.
    pub dsn: Dsn,
    /// Stop after this step.
    pub quit_after: Option<Step>,
}

/// What [`deliver_each`] tells its caller about each message as it goes.
pub enum Progress<'a> {
    /// The message with this index is about to be sent.
    Sending(usize),
    /// The message with this index has its results (sent, or deferred
    /// without being sent), before the next message or the QUIT.
    Done(usize, &'a [RecipientResult]),
}

/// Takes each [`Progress`] event; an error stops the delivery.
pub type OnProgress<'a> = dyn FnMut(Progress) -> Result<(), Error> + 'a;

/// Sends `messages` over one connection (RSET between them). A temporary
/// failure (of the connection, or a 4xx for the session) before a
/// message's end, or at the RSET before it, makes that message's (and the
/// following messages') recipients deferred, the earlier messages keeping
/// their results; a permanent refusal of the whole session is an error.
pub fn send(
    endpoint: &Endpoint,
    messages: &[Outgoing],
    options: &SendOptions,
    transcript: Transcript,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    send_each(endpoint, messages, options, transcript, &mut |_| Ok(()))
}

/// [`send`], telling `on` of each message before it is sent and as soon as
/// its results are known.
fn send_each(
    endpoint: &Endpoint,
    messages: &[Outgoing],
    options: &SendOptions,
    transcript: Transcript,
    on: &mut OnProgress,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    let mut session = match open_session(endpoint, options, transcript) {
        Ok(session) => session,
        Err(e) if e.is_transient() => return finish(Vec::new(), all_deferred(messages, &e), on),
        Err(e) => return Err(e),
    };
    let Some(session_ref) = session.as_mut() else {
        return Ok(Vec::new());
    };
    let mut results = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        let reset = match index {
            0 => Ok(()),
            _ => session_ref.reset(),
        };
        // A message the server cannot take is refused alone, before any
        // of it is sent: the others still go (and a flush goes on).
        if reset.is_ok()
            && let Some(why) = unsendable(message, session_ref.extensions())
        {
            let result = all_failed(message, &why);
            on(Progress::Done(index, &result))?;
            results.push(result);
            continue;
        }
        // An error of `on` is the caller's (its queue), not the session's:
        // it stops the delivery as it is.
        let sent = match reset {
            Ok(()) => {
                on(Progress::Sending(index))?;
                send_one(session_ref, message, &message.recipients, options)
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(Some(result)) => {
                on(Progress::Done(index, &result))?;
                results.push(result);
            }
            Ok(None) => break,
            Err(e) if e.is_transient() => {
                return finish(results, all_deferred(&messages[index..], &e), on);
            }
            // The messages already sent keep their results; the others
            // were not sent (or, broken off after their data, may have
            // been taken): deferred with the break's status, never lost.
            Err(e) if index > 0 => {
                let unsent = messages[index..].iter().map(|m| all_unsent(m, &e));
                return finish(results, unsent.collect(), on);
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(session) = session.take() {
        session.quit();
    }
    Ok(results)
}

/// `done`, then the results of the messages not sent, each told to `on`.
fn finish(
    mut done: Vec<Vec<RecipientResult>>,
    rest: Vec<Vec<RecipientResult>>,
    on: &mut OnProgress,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    for result in rest {
        on(Progress::Done(done.len(), &result))?;
        done.push(result);
    }
    Ok(done)
}

/// Connect, greet, EHLO, STARTTLS (the shared negotiation) and AUTH,
/// stopping early for `--quit-after` (then `None`).
fn open_session(
    endpoint: &Endpoint,
    options: &SendOptions,
    transcript: Transcript,
) -> Result<Option<Session>, Error> {
    let mut negotiation = Negotiation::<Session> {
        stop_after: options.quit_after.and_then(Step::stage),
        on_stage: None,
    };
    let Some(mut session) = negotiate(endpoint, &options.helo, transcript, &mut negotiation)?
    else {
        return Ok(None);
    };
    if let Some(login) = &endpoint.login
        && let Err(refused) = session.auth(login)
    {
        session.quit();
        return Err(refused);
    }
    if stop(options, Step::Auth) {
        return Ok(quit(session));
    }
    Ok(Some(session))
}

fn stop(options: &SendOptions, step: Step) -> bool {
    options.quit_after == Some(step)
}

/// Ends a session that `--quit-after` stopped: QUIT, and no session.
fn quit(session: Session) -> Option<Session> {
    session.quit();
    None
}

/// Why the server cannot take `message` at all, by what it offers: over
/// its SIZE (69), 8-bit data without 8BITMIME or a need of SMTPUTF8 it
/// does not offer (65). Known before anything of the message is sent.
fn unsendable(message: &Outgoing, ext: &Extensions) -> Option<Error> {
    if let Some(limit) = ext.size.filter(|&l| l > 0 && message.stats.octets > l) {
        return Some(Error::new(
            ErrorKind::Refused,
            format!(
                "the message ({} octets) is over the server's SIZE limit of {limit} octets",
                message.stats.octets
            ),
        ));
    }
    if message.stats.eight_bit && !ext.eight_bit_mime {
        return Some(Error::data(
            "the message has 8-bit data but the server does not offer 8BITMIME; mime-pack or rfc822-lint --fix can re-encode it",
        ));
    }
    if message.smtputf8 && !ext.smtputf8 {
        return Some(Error::data(
            "the message needs SMTPUTF8 (non-ASCII addresses or header), which the server does not offer",
        ));
    }
    None
}

/// One message: the checks against what the server offers, the envelope,
/// the data. `None` when `--quit-after` stopped in the envelope.
fn send_one(
    session: &mut Session,
    message: &Outgoing,
    recipients: &[String],
    options: &SendOptions,
) -> Result<Option<Vec<RecipientResult>>, Error> {
    let ext = session.extensions().clone();
    if let Some(why) = unsendable(message, &ext) {
        return Err(why);
    }
    let mail = MailOptions {
        size: message.stats.octets,
        eight_bit: message.stats.eight_bit,
        smtputf8: message.smtputf8,
        dsn: options.dsn.clone(),
    };
    // The session leaves the DSN parameters out when DSN is not offered.
    let dsn_ignored = options.dsn.is_requested() && !ext.dsn;
    // --quit-after mail: MAIL FROM alone, no RCPT.
    let recipients = match options.quit_after {
        Some(Step::Mail) => &[][..],
        _ => recipients,
    };
    let replies = session.envelope(&message.sender, recipients, &mail)?;
    if options.quit_after == Some(Step::Mail) {
        return Ok(None);
    }
    let accepted: Vec<usize> = (0..replies.len())
        .filter(|&i| replies[i].is_success())
        .collect();
    let mut results: Vec<RecipientResult> = recipients
        .iter()
        .zip(&replies)
        .map(|(recipient, reply)| RecipientResult {
            recipient: recipient.clone(),
            status: outcome(reply),
            reply: reply.text(),
            failure: ExitStatus::NoUser,
            dsn_ignored,
        })
        .collect();
    // --quit-after rcpt: each recipient's RCPT reply is its result (an
    // address check that sends nothing).
    if accepted.is_empty() || options.quit_after == Some(Step::Rcpt) {
        return Ok(Some(results));
    }
    let mut body = message.reader().map_err(read_error)?;
    let reply = session.send_body(&mut body)?;
    for &i in &accepted {
        results[i].status = outcome(&reply);
        results[i].reply = reply.text();
        // The message itself was refused, not the recipient.
        results[i].failure = ExitStatus::Unavailable;
    }
    Ok(Some(results))
}

fn outcome(reply: &Reply) -> Outcome {
    if reply.is_success() {
        Outcome::Accepted
    } else if reply.is_transient() {
        Outcome::Deferred
    } else {
        Outcome::Rejected
    }
}

/// Every recipient of each of `messages` deferred for `why`: the one rule
/// for a temporary failure of a whole session.
fn all_deferred(messages: &[Outgoing], why: &Error) -> Vec<Vec<RecipientResult>> {
    let why = why.to_string();
    messages
        .iter()
        .map(|message| all(message, Outcome::Deferred, &why))
        .collect()
}

/// Every recipient of `message` not served for good because of `why`
/// (e.g. a server out of step, 76): its status is `why`'s.
fn all_failed(message: &Outgoing, why: &Error) -> Vec<RecipientResult> {
    let mut results = all(message, Outcome::Rejected, &why.to_string());
    for result in &mut results {
        result.failure = why.status();
    }
    results
}

/// Every recipient of `message`, not sent because the session broke with
/// `why` (e.g. a server out of step, 76): deferred, to be tried again (or
/// queued), with `why`'s status.
fn all_unsent(message: &Outgoing, why: &Error) -> Vec<RecipientResult> {
    let mut results = all(message, Outcome::Deferred, &why.to_string());
    for result in &mut results {
        result.failure = why.status();
    }
    results
}

impl RecipientResult {
    /// Deferred (or queued) because the server broke the protocol before
    /// the message was sent ([`all_unsent`]): the run's status is 76.
    pub fn unsent_by_a_broken_session(&self) -> bool {
        matches!(self.status, Outcome::Deferred | Outcome::Queued)
            && self.failure == ExitStatus::Protocol
    }
}

/// Every recipient of a message with the same result.
pub fn all(message: &Outgoing, status: Outcome, reply: &str) -> Vec<RecipientResult> {
    message
        .recipients
        .iter()
        .map(|recipient| RecipientResult {
            recipient: recipient.clone(),
            status,
            reply: reply.to_string(),
            failure: if status == Outcome::Deferred {
                ExitStatus::TempFail
            } else {
                ExitStatus::Unavailable
            },
            dsn_ignored: false,
        })
        .collect()
}

/// The exit status for a set of results, by one rule (the precedence
/// that `--help` and the README state): 0 when every recipient was
/// accepted or queued; otherwise a permanent failure wins over a temporary
/// one, and among permanent failures the one nearest the recipient wins:
/// 67 (a recipient refused, 5xx to RCPT) over 68 (a recipient domain
/// without a mail route) over 69 (the message refused, 5xx to MAIL or
/// DATA, or a null MX) over any other (the first, e.g. 76 for a broken
/// exchange); only when nothing was refused for good, 75 when any was
/// deferred.
pub fn exit_status(results: &[RecipientResult]) -> ExitStatus {
    let rejected: Vec<ExitStatus> = results
        .iter()
        .filter(|r| r.status == Outcome::Rejected)
        .map(|r| r.failure)
        .collect();
    let precedence = [
        ExitStatus::NoUser,
        ExitStatus::NoHost,
        ExitStatus::Unavailable,
    ];
    if let Some(&first) = precedence.iter().find(|s| rejected.contains(s)) {
        first
    } else if let Some(&first) = rejected.first() {
        first
    } else if results
        .iter()
        .any(RecipientResult::unsent_by_a_broken_session)
    {
        ExitStatus::Protocol
    } else if results.iter().any(|r| r.status == Outcome::Deferred) {
        ExitStatus::TempFail
    } else {
        ExitStatus::Ok
    }
}

/// The recipients of `results` that were deferred (and not queued).
pub fn deferred_recipients(results: &[RecipientResult]) -> Vec<&str> {
    results
        .iter()
        .filter(|r| r.status == Outcome::Deferred)
        .map(|r| r.recipient.as_str())
        .collect()
}

/// A file given with `--file`, or stdin, kept for reading twice.
pub fn load(path: Option<&PathBuf>) -> Result<Replayable, Error> {
    use crate::input::Checked;
    let reader = crate::input::open(path.map(PathBuf::as_path))?;
    // A header that cannot be sent (an endless line) is refused from the
    // first MiB, not spooled to its end first. Empty input is judged later
    // (it is the envelope alone for --quit-after).
    let check = |head: &[u8]| match head.is_empty() {
        true => Ok(()),
        false => envelope::header_facts(head).map(drop),
    };
    crate::input::replayable_checked(reader, HEAD_LIMIT, check).map_err(|e| match e {
        Checked::Refused(e) => e,
        Checked::Reading(e) => read_error(e),
    })
}

/// Delivers `message` to `recipients` (all of one domain) through the
/// domain's MX hosts in preference order (RFC 5321 §5.1), moving to the
/// next exchange or address on a connection failure, a protocol or TLS
/// failure (76), or when every recipient was deferred; `make_endpoint`
/// builds the endpoint for an exchange's address. A domain without a mail route rejects them all.
pub fn deliver_to_domain(
    message: &Outgoing,
    recipients: &[String],
    route: &crate::dns::MxReport,
    make_endpoint: &dyn Fn(&str, std::net::IpAddr) -> Endpoint,
    options: &SendOptions,
    transcript: &mut dyn FnMut() -> Transcript,
) -> Vec<RecipientResult> {
    use crate::dns::RouteStatus;
    let subset = |status, reply: &str, failure| -> Vec<RecipientResult> {
        recipients
            .iter()
            .map(|r| RecipientResult {
                recipient: r.clone(),
                status,
                reply: reply.to_string(),
                failure,
                dsn_ignored: false,
            })
            .collect()
    };
    let why = route.error.clone().unwrap_or_default();
    match route.status {
        RouteStatus::Ok => {}
        RouteStatus::Servfail | RouteStatus::Timeout => {
            return subset(Outcome::Deferred, &why, ExitStatus::TempFail);
        }
        other => return subset(Outcome::Rejected, &why, other.exit_status()),
    }
    let mut last = subset(
        Outcome::Deferred,
        "no exchange could be reached",
        ExitStatus::TempFail,
    );
    for exchange in &route.mx {
        for &address in &exchange.addresses {
            let endpoint = make_endpoint(&exchange.exchange, address);
            let (results, try_next) =
                match try_exchange(&endpoint, message, recipients, options, transcript()) {
                    Ok(results) => {
                        let all_deferred = results.iter().all(|r| r.status == Outcome::Deferred);
                        (results, all_deferred)
                    }
                    Err(e) => {
                        let why = format!("{}: {e}", exchange.exchange);
                        let outcome = match e.is_transient() {
                            true => Outcome::Deferred,
                            false => Outcome::Rejected,
                        };
                        // A broken exchange (76) may not be the domain's
                        // only one; a refused message (65, 69) is refused.
                        let try_next = e.is_transient() || e.is_protocol_or_tls();
                        (subset(outcome, &why, e.status()), try_next)
                    }
                };
            last = results;
            if !try_next {
                return last;
            }
        }
    }
    last
}

fn try_exchange(
    endpoint: &Endpoint,
    message: &Outgoing,
    recipients: &[String],
    options: &SendOptions,
    transcript: Transcript,
) -> Result<Vec<RecipientResult>, Error> {
    let Some(mut session) = open_session(endpoint, options, transcript)? else {
        return Ok(Vec::new());
    };
    let results = send_one(&mut session, message, recipients, options)?.unwrap_or_default();
    session.quit();
    Ok(results)
}

/// The domain of an envelope address (after the last `@`), lower case.
pub fn domain_of(address: &str) -> String {
    address
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Where messages go: one server (`--server`), or straight to each
/// recipient domain's mail exchanges.
pub enum Route {
    /// Submission to one server.
    Server(Endpoint),
    /// Delivery to the MX hosts of each recipient's domain.
    Direct(DirectDelivery),
}

/// How to deliver straight to mail exchanges.
pub struct DirectDelivery {
    /// The resolver for the MX lookups.
    pub resolver: ResolverSettings,
    /// The port of the exchanges (25).
    pub port: u16,
    /// The TLS mode; opportunistic by default, as MTAs use it.
    pub tls: TlsMode,
    /// The certificate checks.
    pub certificate: TlsSettings,
    /// The limit for each connect, read or write.
    pub timeout: Duration,
}

impl DirectDelivery {
    /// MX delivery as MTAs do it (RFC 7435): opportunistic STARTTLS unless
    /// `tls` says otherwise, the certificate unchecked unless a CA file or
    /// a pin is given (a self-signed MX still gets encryption).
    pub fn new(
        resolver: ResolverSettings,
        port: Option<u16>,
        tls: Option<TlsMode>,
        mut certificate: TlsSettings,
        timeout: Duration,
    ) -> DirectDelivery {
        if certificate.cafile.is_none() && certificate.fingerprint.is_none() {
            certificate.insecure = true;
        }
        DirectDelivery {
            resolver,
            port: port.unwrap_or(crate::smtp::MX_PORT),
            tls: tls.unwrap_or(TlsMode::Opportunistic),
            certificate,
            timeout,
        }
    }

    /// The endpoint of one exchange's address; its certificate must name
    /// the exchange.
    fn endpoint(&self, exchange: &str, address: IpAddr) -> Endpoint {
        Endpoint {
            host: address.to_string(),
            port: self.port,
            tls: self.tls,
            certificate: self.certificate.clone(),
            tls_name: Some(exchange.to_owned()),
            timeout: self.timeout,
            login: None,
            allow_plaintext_auth: false,
        }
    }
}

/// Delivers every message by `route`, a result per recipient per message;
/// each session gets the transcript `transcript` makes.
pub fn deliver(
    route: &Route,
    messages: &[Outgoing],
    options: &SendOptions,
    transcript: &mut dyn FnMut() -> Transcript,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    deliver_each(route, messages, options, transcript, &mut |_| Ok(()))
}

/// [`deliver`], telling `on` of each message before it is sent and as soon
/// as its results are known (for the queue, which removes an entry the
/// moment the server has it).
pub fn deliver_each(
    route: &Route,
    messages: &[Outgoing],
    options: &SendOptions,
    transcript: &mut dyn FnMut() -> Transcript,
    on: &mut OnProgress,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    match route {
        Route::Server(endpoint) => send_each(endpoint, messages, options, transcript(), on),
        Route::Direct(direct) => {
            let mut all = Vec::new();
            for (index, message) in messages.iter().enumerate() {
                on(Progress::Sending(index))?;
                let results = deliver_direct(direct, message, options, transcript)?;
                on(Progress::Done(index, &results))?;
                all.push(results);
            }
            Ok(all)
        }
    }
}

/// One message straight to its recipients' domains: recipients grouped by
/// domain, each domain's MX hosts in preference order.
fn deliver_direct(
    direct: &DirectDelivery,
    message: &Outgoing,
    options: &SendOptions,
    transcript: &mut dyn FnMut() -> Transcript,
) -> Result<Vec<RecipientResult>, Error> {
    let mut domains: Vec<(String, Vec<String>)> = Vec::new();
    for recipient in &message.recipients {
        let domain = domain_of(recipient);
        match domains.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, list)) => list.push(recipient.clone()),
            None => domains.push((domain, vec![recipient.clone()])),
        }
    }
    let names = domains.iter().map(|(domain, _)| domain.clone()).collect();
    let routes = crate::dns::route_all(direct.resolver.clone(), names)?;
    let mut results = Vec::new();
    for ((_, recipients), route) in domains.iter().zip(&routes) {
        results.extend(deliver_to_domain(
            message,
            recipients,
            route,
            &|exchange, address| direct.endpoint(exchange, address),
            options,
            transcript,
        ));
    }
    Ok(results)
}

/// What `--dry-run` tells of one message: its envelope, what its data is,
/// and the commands the session would send for it (to a server that
/// offers no extension); with `--json`, one such object per message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DryRun {
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO, in order.
    pub recipients: Vec<String>,
    /// Octets of the data as sent (CRLF line ends; the SIZE= value).
    pub octets: u64,
    /// The longest line in octets, without its CRLF.
    pub longest_line: u64,
    /// Whether any octet is 8-bit (BODY=8BITMIME when offered).
    pub eight_bit: bool,
    /// Whether an address or the header needs SMTPUTF8.
    pub smtputf8: bool,
    /// The MAIL command, then one RCPT command per recipient.
    pub commands: Vec<String>,
}

impl DryRun {
    /// The dry run of `message`.
    pub fn of(message: &Outgoing) -> DryRun {
        let plain = crate::smtp::Extensions::default();
        let mail = MailOptions {
            size: message.stats.octets,
            eight_bit: message.stats.eight_bit,
            smtputf8: message.smtputf8,
            dsn: Dsn::default(),
        };
        let mut commands = vec![crate::smtp::mail_command(&plain, &message.sender, &mail)];
        commands.extend(
            (message.recipients.iter()).map(|r| crate::smtp::rcpt_command(&plain, r, &mail.dsn)),
        );
        DryRun {
            sender: message.sender.clone(),
            recipients: message.recipients.clone(),
            octets: message.stats.octets,
            longest_line: message.stats.longest_line,
            eight_bit: message.stats.eight_bit,
            smtputf8: message.smtputf8,
            commands,
        }
    }
}

/// `--dry-run`: for each message the commands it would send (as the
/// session writes them to a server that offers nothing), what its data
/// is, and the message as it would go out; with `json`, one [`DryRun`]
/// object a line instead, without the message.
pub fn dry_run(messages: &[Outgoing], json: bool, out: &mut impl io::Write) -> io::Result<()> {
    for message in messages {
        let run = DryRun::of(message);
        if json {
            crate::output::write_json_record(out, &run)?;
            continue;
        }
        for command in &run.commands {
            writeln!(out, "{command}")?;
        }
        let bits = if run.eight_bit { "8-bit" } else { "7-bit" };
        let utf8 = if run.smtputf8 { ", needs SMTPUTF8" } else { "" };
        writeln!(
            out,
            "DATA: {} octets, longest line {}, {bits}{utf8}",
            run.octets, run.longest_line
        )?;
        io::copy(&mut message.reader()?, out)?;
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(status: Outcome, failure: ExitStatus) -> RecipientResult {
        RecipientResult {
            recipient: "r@example.org".into(),
            status,
            reply: String::new(),
            failure,
            dsn_ignored: false,
        }
    }

    /// Every pair of results, both orders: the exit-status rule.
    #[test]
    fn which_status_wins_when_results_mix() {
        use ExitStatus::*;
        let accepted = result(Outcome::Accepted, NoUser);
        let queued = result(Outcome::Queued, TempFail);
        let deferred = result(Outcome::Deferred, TempFail);
        let at_rcpt = result(Outcome::Rejected, NoUser);
        let no_route = result(Outcome::Rejected, NoHost);
        let at_data = result(Outcome::Rejected, Unavailable);
        let broken = result(Outcome::Rejected, Protocol);
        let cases = [
            (&accepted, &queued, Ok),
            (&accepted, &deferred, TempFail),
            (&queued, &deferred, TempFail),
            (&deferred, &at_rcpt, NoUser),
            (&deferred, &no_route, NoHost),
            (&deferred, &at_data, Unavailable),
            (&deferred, &broken, Protocol),
            (&at_rcpt, &no_route, NoUser),
            (&at_rcpt, &at_data, NoUser),
            (&at_rcpt, &broken, NoUser),
            (&no_route, &at_data, NoHost),
            (&no_route, &broken, NoHost),
            (&at_data, &broken, Unavailable),
            (&accepted, &at_data, Unavailable),
        ];
        for (a, b, expected) in cases {
            let one = [a.clone(), b.clone()];
            let other = [b.clone(), a.clone()];
            assert_eq!(exit_status(&one), expected, "{one:?}");
            assert_eq!(exit_status(&other), expected, "{other:?}");
        }
        assert_eq!(exit_status(&[]), Ok);
        assert_eq!(
            deferred_recipients(&[accepted, deferred]),
            ["r@example.org"]
        );
    }
}
