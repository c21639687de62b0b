//! smtp-send: hand a message to an SMTP server. See `smtp-send --help`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use mailkit::dns::ResolverSettings;
use mailkit::input::Replayable;
use mailkit::net::transcript::Transcript;
use mailkit::output::{self, Diagnostics};
use mailkit::smtp::Dsn;
use mailkit::smtp::retry::{self, Flush};
use mailkit::smtp::submit::{
    self, DirectDelivery, Outcome, Outgoing, RecipientResult, Route, SendOptions,
};
use mailkit::tools::smtp_send::Args;
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
    let messages = messages(&args)?;
    if args.dry_run {
        submit::dry_run(&messages, &mut io::stdout().lock())?;
        return Ok(ExitStatus::Ok);
    }
    let results = deliver(&args, &route(&args)?, &messages)?;
    let mut flat = Vec::new();
    for (message, mut results) in messages.iter().zip(results) {
        // A diagnosis (--quit-after) never spools what it did not send.
        if let Some(dir) = args.queue.as_ref().filter(|_| args.quit_after.is_none()) {
            retry::queue_deferred(dir, message, &mut results)?;
        }
        flat.extend(results);
    }
    report(&args, &diag, &flat)?;
    Ok(submit::exit_status(&flat))
}

/// The messages to send: stdin or each --file, prepared; for a diagnosis
/// that stops before DATA (--quit-after) an empty stdin is the envelope
/// alone.
fn messages(args: &Args) -> anyhow::Result<Vec<Outgoing>> {
    let sources: Vec<Replayable> = match args.files.is_empty() {
        true => vec![submit::load(None)?],
        false => (args.files.iter().map(|f| submit::load(Some(f)))).collect::<Result<_, _>>()?,
    };
    if args.quit_after.is_some() && is_empty(&sources)? {
        let sender = args.sender.as_deref();
        return Ok(vec![submit::envelope_only(&args.recipients, sender)?]);
    }
    let prepare = |s| {
        submit::prepare(
            s,
            &args.recipients,
            args.read_recipients,
            args.sender.as_deref(),
        )
    };
    Ok(sources.into_iter().map(prepare).collect::<Result<_, _>>()?)
}

/// True when the only input is stdin and it was empty.
fn is_empty(sources: &[Replayable]) -> anyhow::Result<bool> {
    match sources {
        [only] => Ok(only.head(1).context("reading the message")?.is_empty()),
        _ => Ok(false),
    }
}

/// Where the messages go: --server, or each recipient domain's MX hosts.
fn route(args: &Args) -> Result<Route, Error> {
    let connection = &args.connection;
    let timeout = args.timeout.timeout;
    let Some(server) = &args.server else {
        let resolver = ResolverSettings {
            server: args.dns_server,
            timeout,
            addresses: true,
        };
        let certificate = connection.tls_settings();
        let direct = DirectDelivery::new(
            resolver,
            connection.port,
            connection.tls,
            certificate,
            timeout,
        );
        return Ok(Route::Direct(direct));
    };
    let (_, endpoint) = connection.endpoint(server, "smtp", &args.credentials, timeout)?;
    Ok(Route::Server(endpoint))
}

/// Delivers `messages` by `route`, a result per recipient per message.
fn deliver(
    args: &Args,
    route: &Route,
    messages: &[Outgoing],
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    let options = SendOptions {
        helo: args.helo.clone(),
        dsn: Dsn {
            notify: args.notify.clone(),
            ret: args.ret.clone(),
            envid: args.envid.clone(),
        },
        quit_after: args.quit_after,
    };
    let verbose = args.common.verbose > 0;
    let mut transcript = || Transcript::stderr_if(verbose);
    submit::deliver(route, messages, &options, &mut transcript)
}

/// Results: JSON for every recipient, or a line on stderr for each one
/// not accepted.
fn report(args: &Args, diag: &Diagnostics, results: &[RecipientResult]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    for result in results {
        if args.output.json {
            output::write_json_record(&mut out, result)?;
            continue;
        }
        let line = format!(
            "{}: {}: {}",
            result.recipient,
            result.status.name(),
            result.reply
        );
        match result.status {
            Outcome::Accepted => {}
            Outcome::Queued => diag.note(&line),
            Outcome::Rejected | Outcome::Deferred => diag.error(&line),
        }
    }
    out.flush()
}

/// `--flush DIR`: retry what is due, give up on what is too old.
fn flush(args: &Args, dir: &std::path::Path, diag: &Diagnostics) -> anyhow::Result<ExitStatus> {
    let how = Flush {
        max_age: args.max_age,
        force: args.force,
    };
    let route = route(args)?;
    let mut deliver_one = |message: &Outgoing| {
        let results = deliver(args, &route, std::slice::from_ref(message))?;
        Ok(results.into_iter().next().unwrap_or_default())
    };
    let flushed = retry::flush(dir, &how, &mut deliver_one)?;
    for entry in &flushed.unreadable {
        diag.warning(&format!("unreadable queue entry {entry}"));
    }
    for (recipient, attempts, why) in &flushed.given_up {
        diag.error(&format!(
            "{recipient}: given up after {attempts} attempts: {why}"
        ));
    }
    report(args, diag, &flushed.results)?;
    let status = match flushed.given_up.is_empty() {
        true => ExitStatus::Ok,
        false => ExitStatus::Unavailable,
    };
    Ok(status.or(submit::exit_status(&flushed.results)))
}
