//! smtp-send: hand a message to an SMTP server. See `smtp-send --help`.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Context;

use mailkit::input::Replayable;
use mailkit::net::transcript::Transcript;
use mailkit::output::{self, Diagnostics};
use mailkit::smtp::Dsn;
use mailkit::smtp::queue::{self, Listing, Queue, SendRoute};
use mailkit::smtp::retry::{self, Flush};
use mailkit::smtp::submit::{self, OnProgress, Outcome, Outgoing, RecipientResult, Route};
use mailkit::tools::smtp_send::{self as tool, Args};
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
    if let Some(dir) = &args.list_queue {
        return list_queue(&args, dir, &diag);
    }
    let messages = messages(&args)?;
    if args.dry_run {
        submit::dry_run(&messages, args.output.json, &mut io::stdout().lock())?;
        return Ok(ExitStatus::Ok);
    }
    let send_route = args.send_route()?;
    let route = tool::route(&send_route, args.timeout.timeout)?;
    let results = deliver(&args, &route, (&messages, None), &mut |_| Ok(()))?;
    let mut flat = Vec::new();
    for (message, mut results) in messages.iter().zip(results) {
        // A diagnosis (--quit-after) never spools what it did not send.
        if let Some(dir) = args.queue.as_ref().filter(|_| args.quit_after.is_none()) {
            let how = (&send_route, &args.send_options().dsn);
            retry::queue_deferred(dir, message, how, &mut results)?;
        }
        flat.extend(results);
    }
    report(&args, &diag, &flat)?;
    let unqueued = submit::deferred_recipients(&flat).join(", ");
    if !unqueued.is_empty() {
        diag.note(&format!(
            "deferred and not queued (nothing will retry them; --queue DIR spools them): {unqueued}"
        ));
    }
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

/// Delivers `messages` by `route`, a result per recipient per message,
/// with `dsn` (a queue entry's) instead of the DSN options when given,
/// telling `on` of each message as it goes.
fn deliver(
    args: &Args,
    route: &Route,
    (messages, dsn): (&[Outgoing], Option<&Dsn>),
    on: &mut OnProgress,
) -> Result<Vec<Vec<RecipientResult>>, Error> {
    let mut options = args.send_options();
    options.dsn = dsn.cloned().unwrap_or(options.dsn);
    let verbose = args.common.verbose > 0;
    let mut transcript = || Transcript::stderr_if(verbose);
    submit::deliver_each(route, messages, &options, &mut transcript, on)
}

/// Results: JSON for every recipient, or a line on stderr for each one
/// not accepted; a note when a DSN request was not sent.
fn report(args: &Args, diag: &Diagnostics, results: &[RecipientResult]) -> io::Result<()> {
    if results.iter().any(|r| r.dsn_ignored) {
        diag.note("the server does not offer DSN: --notify, --ret and --envid were not sent");
    }
    // A session that broke (76) left messages unsent: said once, whatever
    // the output form, since the status alone would not say why.
    let mut broken: Vec<&str> = results
        .iter()
        .filter(|r| r.unsent_by_a_broken_session())
        .map(|r| r.reply.as_str())
        .collect();
    broken.dedup();
    broken.iter().for_each(|why| diag.error(why));
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

/// `--flush DIR`: retry what is due, each entry the way it was queued;
/// give up on what is too old.
fn flush(args: &Args, dir: &std::path::Path, diag: &Diagnostics) -> anyhow::Result<ExitStatus> {
    let how = Flush {
        max_age: args.max_age,
        force: args.force,
        route: args.send_route()?,
        route_given: args.route_given(),
        reroute: args.reroute,
    };
    // One route (and one password look-up) per way of sending.
    let mut routes: Vec<(SendRoute, Route)> = Vec::new();
    let mut deliver_batch =
        |send_route: &SendRoute, dsn: Option<&Dsn>, messages: &[Outgoing], on: &mut OnProgress| {
            if !routes.iter().any(|(r, _)| r == send_route) {
                let route = tool::route(send_route, args.timeout.timeout)?;
                routes.push((send_route.clone(), route));
            }
            let (_, route) = &routes[routes
                .iter()
                .position(|(r, _)| r == send_route)
                .unwrap_or(0)];
            deliver(args, route, (messages, dsn), on)
        };
    let flushed = retry::flush(dir, &how, &mut deliver_batch)?;
    flushed
        .warnings(&how.route)
        .iter()
        .for_each(|w| diag.warning(w));
    flushed.notes().iter().for_each(|n| diag.note(n));
    flushed
        .errors(&how.route)
        .iter()
        .for_each(|e| diag.error(e));
    report(args, diag, &flushed.results)?;
    Ok(flushed.status())
}

/// `--list-queue DIR`: each entry, oldest first, as text or JSON.
fn list_queue(
    args: &Args,
    dir: &std::path::Path,
    diag: &Diagnostics,
) -> anyhow::Result<ExitStatus> {
    let (entries, unreadable) = Queue::existing(dir)?.entries()?;
    let now = queue::now();
    let mut out = io::stdout().lock();
    for entry in &entries {
        let listing = Listing::of(entry, now);
        match args.output.json {
            true => output::write_json_record(&mut out, &listing)?,
            false => output::write_text_line(&mut out, &listing.text())?,
        }
    }
    for entry in &unreadable {
        diag.warning(&format!("unreadable queue entry {entry}"));
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}
