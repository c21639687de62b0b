//! mx-lookup: where does mail for this domain go? See `mx-lookup --help`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use mailkit::dns::{self, MxReport, ResolverSettings, RouteStatus};
use mailkit::output::{self, Diagnostics};
use mailkit::tools::mx_lookup::Args;
use mailkit::{ExitStatus, cli, input};

const TOOL: &str = "mx-lookup";
/// An input line longer than this cannot be a domain name or an address.
const MAX_INPUT_LINE: usize = 1024;

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let diag = Diagnostics::new(TOOL, args.common.quiet);
    let settings = ResolverSettings {
        server: args.server,
        timeout: args.timeout.timeout,
        addresses: !args.no_addresses,
    };
    let read_error = Arc::new(Mutex::new(None));
    let inputs: Box<dyn Iterator<Item = String> + Send> = if args.targets.is_empty() {
        let slot = Arc::clone(&read_error);
        let stdin = input::open(None)?;
        Box::new(input::list_entries(stdin, MAX_INPUT_LINE, move |e| {
            *slot.lock().unwrap() = Some(e);
        }))
    } else {
        Box::new(args.targets.into_iter())
    };

    let mut status = ExitStatus::Ok;
    let mut stdout = io::stdout().lock();
    dns::route_each(settings, inputs, args.concurrency.into(), |report| {
        status = status.or(report.status.exit_status());
        if args.common.verbose > 0 {
            report.transcript.iter().for_each(|l| diag.transcript(l));
        }
        if args.output.json {
            output::write_json_line(&mut stdout, &report)
        } else {
            print_text(&mut stdout, &report, &diag)
        }
    })?
    .context("writing the results")?;

    if let Some(error) = read_error.lock().unwrap().take() {
        return Err(error).context("reading the domains from stdin");
    }
    Ok(status)
}

/// `DOMAIN PREFERENCE EXCHANGE ADDRESS...` per exchange; failures, notes
/// and warnings on stderr.
fn print_text(out: &mut impl Write, report: &MxReport, diag: &Diagnostics) -> io::Result<()> {
    let domain = &report.domain;
    if report.status != RouteStatus::Ok {
        let why = report.error.as_deref().unwrap_or("no mail route");
        diag.error(&format!("{domain}: {why}"));
    } else if report.implicit {
        diag.note(&format!(
            "{domain}: no MX record; its own address is the implicit MX (RFC 5321 §5.1)"
        ));
    }
    for warning in &report.warnings {
        diag.warning(&format!("{domain}: {warning}"));
    }
    if report.status != RouteStatus::Ok {
        return Ok(());
    }
    for mx in &report.mx {
        let mut line = format!("{domain} {} {}", mx.preference, mx.exchange);
        for address in &mx.addresses {
            line.push(' ');
            line.push_str(&address.to_string());
        }
        output::write_text_line(out, &line)?;
    }
    Ok(())
}
