//! rfc822-lint: check messages against RFC 5322 and MIME; repair them. See
//! `rfc822-lint --help`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use mailkit::encode::Newline;
use mailkit::input::{self, Input};
use mailkit::lint::{self, Options, Report, Severity, Totals};
use mailkit::output::{self, Diagnostics};
use mailkit::tools::rfc822_lint::Args;
use mailkit::{Error, ExitStatus, cli};

const TOOL: &str = "rfc822-lint";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let diag = Diagnostics::new(TOOL, args.common.quiet);
    for rule in args.allow.iter().chain(&args.deny) {
        if lint::rules::find(rule).is_none() {
            return Err(Error::usage(format!(
                "unknown rule {rule:?} (see the RULES section of the manual)"
            ))
            .into());
        }
    }
    let options = Options {
        smtputf8: args.smtputf8,
        allow: args.allow.clone(),
        deny: args.deny.clone(),
    };
    let inputs = input::expand(&args.inputs, |problem| diag.error(&problem.to_string()));
    if args.fix {
        return fix(&args, &inputs, &options);
    }
    let mut totals = Totals::default();
    let mut out = BufWriter::new(io::stdout().lock());
    for input in &inputs {
        let Some(report) = lint_input(input, &options, &diag, &mut totals) else {
            continue;
        };
        lint::write_report(&mut out, args.output.json, &input.name(), &report)?;
    }
    out.flush()?;
    if !args.common.quiet {
        eprintln!("{TOOL}: {}", totals.summary());
    }
    Ok(totals.status(args.strict))
}

/// Lints one input; an unreadable one is reported and counted.
fn lint_input(
    input: &Input,
    options: &Options,
    diag: &Diagnostics,
    totals: &mut Totals,
) -> Option<Report> {
    let result = input
        .open()
        .map_err(anyhow::Error::from)
        .and_then(|reader| {
            lint::lint_message(reader, options)
                .map_err(|e| anyhow::Error::new(e).context(input.name()))
        });
    match result {
        Ok(report) => {
            totals.add(&report);
            Some(report)
        }
        Err(error) => {
            diag.error(&format!("{error:#}"));
            totals.unreadable = true;
            None
        }
    }
}

/// `--fix`: lint once, write the repair while a second linter checks it,
/// then say on stderr what was repaired and what remains.
fn fix(args: &Args, inputs: &[Input], options: &Options) -> anyhow::Result<ExitStatus> {
    let [input] = inputs else {
        return Err(Error::usage("--fix takes exactly one message").into());
    };
    let message = input.keep()?;
    let report = lint::lint_message(message.reader()?, options).with_context(|| input.name())?;
    let newline = if args.crlf {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    let out = output::bulk_stdout()?;
    let (out, outcome) = lint::fix_and_check(message.reader()?, out, newline, &report, options)
        .context("writing the repaired message")?;
    out.finish().context("writing the repaired message")?;
    let mut err = io::stderr().lock();
    lint::write_fix_report(&mut err, args.output.json, &input.name(), &outcome)?;
    let errors = outcome.remaining.count(Severity::Error);
    if !args.common.quiet {
        writeln!(
            err,
            "{TOOL}: {} finding(s) repaired; {errors} error(s), {} warning(s) remain",
            outcome.repaired.len(),
            outcome.remaining.count(Severity::Warning)
        )?;
    }
    Ok(if errors > 0 {
        ExitStatus::Negative
    } else {
        ExitStatus::Ok
    })
}
