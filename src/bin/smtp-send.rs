//! smtp-send: hand a message to an SMTP server. See `smtp-send --help`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use mailkit::compose::Spool;
use mailkit::connection::{TlsMode, Transcript};
use mailkit::credentials::{self, PasswordSource};
use mailkit::output::{self, Diagnostics};
use mailkit::smtp::Dsn;
use mailkit::spool::{self, Queue, QueuedEnvelope};
use mailkit::submit::{self, Outcome, Prepared, RecipientResult, SendOptions, Target};
use mailkit::tools::smtp_send::Args;
use mailkit::url::{self, Scheme};
use mailkit::{Error, ExitStatus, cli};

const TOOL: &str = "smtp-send";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let diag = Diagnostics::new(TOOL, args.common.quiet);
    if let Some(dir) = &args.flush {
        return flush(&args, dir, &diag);
    }
    let sources = if args.files.is_empty() {
        vec![submit::load(None)?]
    } else {
        args.files
            .iter()
            .map(|f| submit::load(Some(f)))
            .collect::<Result<_, _>>()?
    };
    let messages: Vec<Prepared> = if args.quit_after.is_some() && is_empty(&sources)? {
        // A diagnosis that stops before DATA needs no message.
        vec![submit::envelope_only(
            &args.recipients,
            args.sender.as_deref(),
        )?]
    } else {
        sources
            .into_iter()
            .map(|s| {
                submit::prepare(
                    s,
                    &args.recipients,
                    args.read_recipients,
                    args.sender.as_deref(),
                )
            })
            .collect::<Result<_, _>>()?
    };
    if args.dry_run {
        return dry_run(&messages);
    }
    let results = deliver_all(&args, &messages)?;
    let mut flat = Vec::new();
    for (message, mut results) in messages.iter().zip(results) {
        // A diagnosis (--quit-after) never spools what it did not send.
        if let Some(dir) = args.queue.as_ref().filter(|_| args.quit_after.is_none()) {
            queue_deferred(dir, message, &mut results)?;
        }
        flat.extend(results);
    }
    report(&args, &diag, &flat)?;
    Ok(submit::exit_status(&flat))
}

/// True when the only input is stdin and it was empty.
fn is_empty(sources: &[Spool]) -> anyhow::Result<bool> {
    match sources {
        [only] => Ok(only.head(1).context("reading the message")?.is_empty()),
        _ => Ok(false),
    }
}

/// Where and how to connect, from --server and the connection flags.
fn target(args: &Args) -> anyhow::Result<Target> {
    let text = args
        .server
        .as_deref()
        .ok_or_else(|| Error::usage("--server is required"))?;
    let server = url::parse(text)?;
    if !matches!(server.scheme, Scheme::Smtp | Scheme::Smtps) {
        return Err(Error::usage(format!("{text}: not an smtp:// or smtps:// URL")).into());
    }
    let tls = args
        .connection
        .tls
        .unwrap_or(if server.scheme.implicit_tls() {
            TlsMode::Implicit
        } else {
            TlsMode::StartTls
        });
    let port = args.connection.port.unwrap_or(server.port);
    let user = args.credentials.user.clone().or(server.user.clone());
    let source = args.credentials.source();
    let login = match (user, source) {
        (None, None) => None,
        (user, source) => {
            let source = source.unwrap_or(PasswordSource::Netrc(None));
            let (user, secret) = credentials::load(&source, &server.host, user.as_deref())?;
            let user = user
                .ok_or_else(|| Error::config("no user to log in as (--user, or the URL's user)"))?;
            Some((user, secret))
        }
    };
    Ok(Target {
        host: server.host,
        port,
        tls,
        settings: args.connection.tls_settings(),
        login,
        oauth: args.credentials.oauth,
        allow_plaintext_auth: args.credentials.allow_plaintext_auth,
        timeout: args.timeout.timeout,
        tls_name: None,
    })
}

/// Delivers every message: through --server, or straight to each
/// recipient domain's MX hosts. A temporary failure of the session
/// defers every recipient (the caller may queue them).
fn deliver_all(args: &Args, messages: &[Prepared]) -> anyhow::Result<Vec<Vec<RecipientResult>>> {
    let options = send_options(args);
    if args.server.is_none() {
        return messages.iter().map(|m| direct(args, m, &options)).collect();
    }
    let target = target(args)?;
    match submit::send(&target, messages, &options, transcript(args)) {
        Ok(results) => Ok(results),
        Err(e) if e.is_transient() => {
            let why = e.to_string();
            Ok(messages
                .iter()
                .map(|m| submit::all(m, Outcome::Deferred, &why))
                .collect())
        }
        Err(e) => Err(e.into()),
    }
}

/// Delivery without --server: recipients grouped by domain, each domain's
/// MX hosts in preference order, opportunistic STARTTLS (encryption
/// without certificate checks unless --cafile or --fingerprint is given,
/// as MTAs do).
fn direct(
    args: &Args,
    message: &Prepared,
    options: &SendOptions,
) -> anyhow::Result<Vec<RecipientResult>> {
    let mut domains: Vec<(String, Vec<String>)> = Vec::new();
    for recipient in &message.recipients {
        let domain = submit::domain_of(recipient);
        match domains.iter_mut().find(|(d, _)| *d == domain) {
            Some((_, list)) => list.push(recipient.clone()),
            None => domains.push((domain, vec![recipient.clone()])),
        }
    }
    let reports = resolve(args, domains.iter().map(|(d, _)| d.clone()).collect())?;
    let mut tls_settings = args.connection.tls_settings();
    if tls_settings.cafile.is_none() && tls_settings.fingerprint.is_none() {
        tls_settings.insecure = true;
    }
    let make_target = |exchange: &str, address: std::net::IpAddr| Target {
        host: address.to_string(),
        port: args.connection.port.unwrap_or(25),
        tls: args.connection.tls.unwrap_or(TlsMode::Opportunistic),
        settings: tls_settings.clone(),
        login: None,
        oauth: false,
        allow_plaintext_auth: false,
        timeout: args.timeout.timeout,
        tls_name: Some(exchange.to_string()),
    };
    let mut results = Vec::new();
    for ((_, recipients), report) in domains.iter().zip(&reports) {
        results.extend(submit::deliver_to_domain(
            message,
            recipients,
            report,
            &make_target,
            options,
            &mut || transcript(args),
        ));
    }
    Ok(results)
}

/// The mail routes of `domains`, in order.
fn resolve(args: &Args, domains: Vec<String>) -> anyhow::Result<Vec<mailkit::dns::MxReport>> {
    struct Collect(Vec<mailkit::dns::MxReport>);
    impl mailkit::dns::ReportSink for Collect {
        fn report(&mut self, report: mailkit::dns::MxReport) -> io::Result<()> {
            self.0.push(report);
            Ok(())
        }
        fn idle(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let settings = mailkit::dns::ResolverSettings {
        server: args.dns_server,
        timeout: args.timeout.timeout,
        addresses: true,
    };
    let mut sink = Collect(Vec::new());
    mailkit::dns::route_each(settings, mailkit::dns::Inputs::List(domains), 16, &mut sink)?;
    Ok(sink.0)
}

fn send_options(args: &Args) -> SendOptions {
    SendOptions {
        helo: args.helo.clone(),
        dsn: Dsn {
            notify: args.notify.clone(),
            ret: args.ret.clone(),
            envid: args.envid.clone(),
        },
        quit_after: args.quit_after,
    }
}

fn transcript(args: &Args) -> Option<Transcript> {
    (args.common.verbose > 0).then(|| {
        Box::new(|line: &str| {
            let _ = writeln!(io::stderr().lock(), "{line}");
        }) as Transcript
    })
}

/// The deferred recipients of a message go to the queue, marked queued.
fn queue_deferred(
    dir: &std::path::Path,
    message: &Prepared,
    results: &mut [RecipientResult],
) -> anyhow::Result<()> {
    let deferred: Vec<String> = results
        .iter()
        .filter(|r| r.status == Outcome::Deferred)
        .map(|r| r.recipient.clone())
        .collect();
    if deferred.is_empty() {
        return Ok(());
    }
    let queue = Queue::open(dir)?;
    let now = spool::now();
    let envelope = QueuedEnvelope {
        sender: message.sender.clone(),
        recipients: deferred,
        created: now,
        attempts: 1,
        next_attempt: now + spool::backoff(1).as_secs(),
        last_error: results
            .iter()
            .find(|r| r.status == Outcome::Deferred)
            .map(|r| r.reply.clone()),
    };
    let mut reader = message.reader()?;
    queue.add(&envelope, &mut reader)?;
    for result in results.iter_mut().filter(|r| r.status == Outcome::Deferred) {
        result.status = Outcome::Queued;
    }
    Ok(())
}

/// Results: JSON for every recipient, or a line on stderr for each one
/// not accepted.
fn report(args: &Args, diag: &Diagnostics, results: &[RecipientResult]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for result in results {
        if args.output.json {
            output::write_json_record(&mut out, result)?;
        } else if result.status != Outcome::Accepted {
            let status = match result.status {
                Outcome::Rejected => "rejected",
                Outcome::Deferred => "deferred",
                Outcome::Queued => "queued",
                Outcome::Accepted => "accepted",
            };
            let line = format!("{}: {status}: {}", result.recipient, result.reply);
            if result.status == Outcome::Queued {
                diag.note(&line);
            } else {
                diag.error(&line);
            }
        }
    }
    out.flush()
}

fn dry_run(messages: &[Prepared]) -> anyhow::Result<ExitStatus> {
    let mut out = io::stdout().lock();
    for message in messages {
        writeln!(out, "MAIL FROM:<{}>", message.sender)?;
        for recipient in &message.recipients {
            writeln!(out, "RCPT TO:<{recipient}>")?;
        }
        writeln!(
            out,
            "DATA: {} octets, longest line {}, {}{}",
            message.stats.octets,
            message.stats.longest_line,
            if message.stats.eight_bit {
                "8-bit"
            } else {
                "7-bit"
            },
            if message.smtputf8 {
                ", needs SMTPUTF8"
            } else {
                ""
            }
        )?;
        io::copy(&mut message.reader()?, &mut out)?;
        writeln!(out)?;
    }
    Ok(ExitStatus::Ok)
}

/// `--flush DIR`: retry what is due, give up on what is too old.
fn flush(args: &Args, dir: &std::path::Path, diag: &Diagnostics) -> anyhow::Result<ExitStatus> {
    let queue = Queue::open(dir)?;
    let _lock = queue.lock()?;
    let (entries, problems) = queue.entries()?;
    problems
        .iter()
        .for_each(|p| diag.warning(&format!("unreadable queue entry {p}")));
    let now = spool::now();
    let mut status = ExitStatus::Ok;
    let mut all_results = Vec::new();
    for entry in entries {
        if now.saturating_sub(entry.envelope.created) > args.max_age {
            for recipient in &entry.envelope.recipients {
                diag.error(&format!(
                    "{recipient}: given up after {} attempts: {}",
                    entry.envelope.attempts,
                    entry.envelope.last_error.as_deref().unwrap_or("no reply")
                ));
            }
            queue.remove(&entry)?;
            status = status.or(ExitStatus::Unavailable);
            continue;
        }
        if entry.envelope.next_attempt > now && !args.force {
            continue;
        }
        let spool = Spool::read_from(&mut queue.message(&entry)?)?;
        let message = submit::prepare(
            spool,
            &entry.envelope.recipients,
            false,
            Some(&entry.envelope.sender),
        )?;
        let results = deliver_all(args, std::slice::from_ref(&message))?
            .pop()
            .unwrap_or_default();
        let deferred: Vec<String> = results
            .iter()
            .filter(|r| r.status == Outcome::Deferred)
            .map(|r| r.recipient.clone())
            .collect();
        if deferred.is_empty() {
            queue.remove(&entry)?;
        } else {
            let mut envelope = entry.envelope.clone();
            envelope.attempts += 1;
            envelope.next_attempt = now + spool::backoff(envelope.attempts).as_secs();
            envelope.last_error = results
                .iter()
                .find(|r| r.status == Outcome::Deferred)
                .map(|r| r.reply.clone());
            envelope.recipients = deferred;
            queue.update(&entry, &envelope)?;
        }
        all_results.extend(results);
    }
    report(args, diag, &all_results)?;
    Ok(status.or(submit::exit_status(&all_results)))
}
