//! What `smtp-send` does: prepare a message (recipients from arguments
//! and/or the header, Bcc removed, Date and Message-ID added, checked for
//! the 998-octet limit), hand it to an SMTP server in one session per
//! connection, and report a result per recipient; spool what was deferred.

use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::compose::Spool;
use crate::connection::{Connection, TlsMode, TlsSettings, Transcript};
use crate::credentials::Secret;
use crate::envelope::{self, HEAD_LIMIT};
use crate::error::{Error, ErrorKind};
use crate::exit::ExitStatus;
use crate::smtp::{Dsn, MailOptions, Reply, Session, StartTls};
use crate::smtp_data::{self, WireStats};

/// A message ready to send.
pub struct Prepared {
    /// MAIL FROM.
    pub sender: String,
    /// RCPT TO, in order.
    pub recipients: Vec<String>,
    header: Vec<u8>,
    source: Spool,
    body_start: u64,
    /// What sending it puts on the wire.
    pub stats: WireStats,
    /// Whether an address or the header needs SMTPUTF8.
    pub smtputf8: bool,
}

impl Prepared {
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
    source: Spool,
    recipients: &[String],
    header_recipients: bool,
    sender: Option<&str>,
) -> Result<Prepared, Error> {
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
    let mut prepared = Prepared {
        sender: sender.address,
        recipients: checked,
        header,
        source,
        body_start: facts.body_start as u64,
        stats: WireStats::default(),
        smtputf8,
    };
    let stats = smtp_data::scan(&mut prepared.reader().map_err(read_error)?).map_err(read_error)?;
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
pub fn envelope_only(recipients: &[String], sender: Option<&str>) -> Result<Prepared, Error> {
    let (recipients, mut smtputf8) = envelope_recipients(recipients)?;
    let sender = envelope::envelope_address(sender.unwrap_or("<>"), true)?;
    smtputf8 |= sender.needs_smtputf8;
    Ok(Prepared {
        sender: sender.address,
        recipients,
        header: Vec::new(),
        source: Spool::read_from(&mut io::empty()).map_err(read_error)?,
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
}

/// Where to deliver and how.
pub struct Target {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TLS mode.
    pub tls: TlsMode,
    /// Certificate checks.
    pub settings: TlsSettings,
    /// Login, if any.
    pub login: Option<(String, Secret)>,
    /// Use XOAUTH2/OAUTHBEARER.
    pub oauth: bool,
    /// Allow a password without TLS.
    pub allow_plaintext_auth: bool,
    /// Per-step timeout.
    pub timeout: Duration,
    /// The name the certificate must carry, when `host` is an address
    /// (delivery to an MX).
    pub tls_name: Option<String>,
}

impl Target {
    /// The name the server's certificate must carry.
    fn tls_name(&self) -> &str {
        self.tls_name.as_deref().unwrap_or(&self.host)
    }
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

/// Sends `messages` over one connection (RSET between them). A failure of
/// the connection or the session before a message's end makes that
/// message's (and the following messages') recipients deferred; a
/// permanent refusal of the whole session is an error.
pub fn send(
    target: &Target,
    messages: &[Prepared],
    options: &SendOptions,
    transcript: Option<Transcript>,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    let mut session = open_session(target, options, transcript)?;
    let Some(session_ref) = session.as_mut() else {
        return Ok(Vec::new());
    };
    let mut results = Vec::new();
    for (index, message) in messages.iter().enumerate() {
        if index > 0 {
            session_ref.reset()?;
        }
        match send_one(session_ref, message, &message.recipients, options) {
            Ok(Some(result)) => results.push(result),
            Ok(None) => break,
            Err(e) if e.is_transient() => {
                let why = e.to_string();
                for rest in &messages[index..] {
                    results.push(all(rest, Outcome::Deferred, &why));
                }
                return Ok(results);
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(session) = session.take() {
        session.quit();
    }
    Ok(results)
}

/// Connect, greet, EHLO, STARTTLS and AUTH, stopping early for
/// `--quit-after` (then `None`).
fn open_session(
    target: &Target,
    options: &SendOptions,
    transcript: Option<Transcript>,
) -> Result<Option<Session>, Error> {
    open_session_with(target, target.tls, options, transcript)
}

/// [`open_session`] with `tls` in place of the target's mode, so that
/// opportunistic TLS can fall back to a plain connection.
fn open_session_with(
    target: &Target,
    tls: TlsMode,
    options: &SendOptions,
    transcript: Option<Transcript>,
) -> Result<Option<Session>, Error> {
    let mut conn = Connection::open(&target.host, target.port, target.timeout, None, transcript)?;
    if tls == TlsMode::Implicit {
        conn.start_tls(target.tls_name(), &target.settings)?;
    }
    if options.quit_after == Some(Step::Connect) {
        return Ok(None);
    }
    let mut session = Session::greet(conn)?;
    if stop(options, Step::Banner) {
        return Ok(quit(session));
    }
    let name = options
        .helo
        .clone()
        .unwrap_or_else(|| session.default_name());
    session.hello(&name)?;
    if stop(options, Step::Ehlo) {
        return Ok(quit(session));
    }
    let offered = session.extensions().starttls;
    match tls {
        TlsMode::StartTls if !offered => {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "{}:{} does not offer STARTTLS, which is required (--tls)",
                    target.host, target.port
                ),
            ));
        }
        TlsMode::StartTls => session.starttls(target.tls_name(), &target.settings)?,
        TlsMode::Opportunistic if offered => {
            if let Err(why) = opportunistic_starttls(&mut session, target) {
                if !why.is_protocol_or_tls() {
                    return Err(why);
                }
                // The failed handshake left the connection unusable.
                session.note(&format!(
                    "{why}; connecting again without TLS (opportunistic)"
                ));
                let transcript = session.into_transcript();
                return open_session_with(target, TlsMode::None, options, transcript);
            }
        }
        _ => {}
    }
    if stop(options, Step::Starttls) {
        return Ok(quit(session));
    }
    if let Some((user, secret)) = &target.login {
        if !session.connection().is_tls() && !target.allow_plaintext_auth {
            return Err(Error::new(
                ErrorKind::Protocol,
                "refusing to send the password over a connection without TLS (--allow-plaintext-auth allows it)",
            ));
        }
        if let Err(refused) = session.auth(user, secret, target.oauth) {
            session.quit();
            return Err(refused);
        }
    }
    if stop(options, Step::Auth) {
        return Ok(quit(session));
    }
    Ok(Some(session))
}

/// Opportunistic STARTTLS (RFC 7435): a refusal leaves the session in
/// plain text, as it was; a failed handshake is the error returned: after
/// a TLS failure (76) the caller connects again without TLS, as MTAs do,
/// and passes a timeout or a dropped connection (75) up as such.
fn opportunistic_starttls(session: &mut Session, target: &Target) -> Result<(), Error> {
    match session.try_starttls(target.tls_name(), &target.settings) {
        Ok(StartTls::Started) => Ok(()),
        Ok(StartTls::Refused(reply)) => {
            session.note(&format!(
                "STARTTLS refused ({}); going on without TLS (opportunistic)",
                reply.text()
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn stop(options: &SendOptions, step: Step) -> bool {
    options.quit_after == Some(step)
}

/// Ends a session that `--quit-after` stopped: QUIT, and no session.
fn quit(session: Session) -> Option<Session> {
    session.quit();
    None
}

/// One message: the checks against what the server offers, the envelope,
/// the data. `None` when `--quit-after` stopped in the envelope.
fn send_one(
    session: &mut Session,
    message: &Prepared,
    recipients: &[String],
    options: &SendOptions,
) -> Result<Option<Vec<RecipientResult>>, Error> {
    let ext = session.extensions().clone();
    if let Some(limit) = ext.size.filter(|&l| l > 0 && message.stats.octets > l) {
        return Err(Error::new(
            ErrorKind::Refused,
            format!(
                "the message ({} octets) is over the server's SIZE limit of {limit} octets",
                message.stats.octets
            ),
        ));
    }
    if message.stats.eight_bit && !ext.eight_bit_mime {
        return Err(Error::data(
            "the message has 8-bit data but the server does not offer 8BITMIME; mime-pack or rfc822-lint --fix can re-encode it",
        ));
    }
    if message.smtputf8 && !ext.smtputf8 {
        return Err(Error::data(
            "the message needs SMTPUTF8 (non-ASCII addresses or header), which the server does not offer",
        ));
    }
    let mail = MailOptions {
        size: message.stats.octets,
        eight_bit: message.stats.eight_bit,
        smtputf8: message.smtputf8,
        dsn: options.dsn.clone(),
    };
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
        .filter(|&i| replies[i].is_positive())
        .collect();
    let mut results: Vec<RecipientResult> = recipients
        .iter()
        .zip(&replies)
        .map(|(recipient, reply)| RecipientResult {
            recipient: recipient.clone(),
            status: outcome(reply),
            reply: reply.text(),
            failure: ExitStatus::NoUser,
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
    if reply.is_positive() {
        Outcome::Accepted
    } else if reply.is_transient() {
        Outcome::Deferred
    } else {
        Outcome::Rejected
    }
}

/// Every recipient of a message with the same result.
pub fn all(message: &Prepared, status: Outcome, reply: &str) -> Vec<RecipientResult> {
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
        })
        .collect()
}

/// The exit status for a set of results (contract: 0 all accepted or
/// queued; 67 any recipient rejected; else the first other rejection, 69
/// for a refused message or a null MX, 68 for a domain without a mail
/// route; else 75 when any was deferred).
pub fn exit_status(results: &[RecipientResult]) -> ExitStatus {
    let rejected: Vec<ExitStatus> = results
        .iter()
        .filter(|r| r.status == Outcome::Rejected)
        .map(|r| r.failure)
        .collect();
    if rejected.contains(&ExitStatus::NoUser) {
        ExitStatus::NoUser
    } else if let Some(&first) = rejected.first() {
        first
    } else if results.iter().any(|r| r.status == Outcome::Deferred) {
        ExitStatus::TempFail
    } else {
        ExitStatus::Ok
    }
}

/// A file given with `--file`, or stdin, kept for reading twice.
pub fn load(path: Option<&PathBuf>) -> Result<Spool, Error> {
    let mut reader = crate::input::open(path.map(PathBuf::as_path))?;
    Spool::read_from(&mut reader).map_err(read_error)
}

/// Delivers `message` to `recipients` (all of one domain) through the
/// domain's MX hosts in preference order (RFC 5321 §5.1), moving to the
/// next exchange or address on a connection failure, a protocol or TLS
/// failure (76), or when every recipient was deferred; `make_target`
/// builds the target for an exchange's address. A domain without a mail route rejects them all.
pub fn deliver_to_domain(
    message: &Prepared,
    recipients: &[String],
    route: &crate::dns::MxReport,
    make_target: &dyn Fn(&str, std::net::IpAddr) -> Target,
    options: &SendOptions,
    transcript: &mut dyn FnMut() -> Option<Transcript>,
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
            let target = make_target(&exchange.exchange, address);
            let (results, try_next) =
                match try_exchange(&target, message, recipients, options, transcript()) {
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
    target: &Target,
    message: &Prepared,
    recipients: &[String],
    options: &SendOptions,
    transcript: Option<Transcript>,
) -> Result<Vec<RecipientResult>, Error> {
    let Some(mut session) = open_session(target, options, transcript)? else {
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
