//! rfc822-lint: check messages against RFC 5322 and MIME; repair them. See
//! `rfc822-lint --help`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use mailkit::encode::Newline;
use mailkit::input::{self, Input, Kept};
use mailkit::lint::{self, Options, Report, Severity, Totals};
use mailkit::output::{self, Diagnostics};
use mailkit::tools::rfc822_lint::Args;
use mailkit::{Error, ErrorKind, ExitStatus, cli};

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
        lint_input(input, &options, &diag, &mut totals, |report| {
            lint::write_report(&mut out, args.output.json, &input.name(), report)
        })?;
    }
    out.flush()?;
    if !args.common.quiet {
        eprintln!("{TOOL}: {}", totals.summary());
    }
    Ok(totals.status(args.strict))
}

/// Lints every message of one input (each of an mbox on its own), handing
/// each report to `write` and counting it; an unreadable input is
/// reported and counted. Fails only when `write` does.
fn lint_input(
    input: &Input,
    options: &Options,
    diag: &Diagnostics,
    totals: &mut Totals,
    mut write: impl FnMut(&Report) -> io::Result<()>,
) -> io::Result<()> {
    let mut written = Ok(());
    let result = input
        .open()
        .map_err(anyhow::Error::from)
        .and_then(|reader| {
            lint::lint_messages(reader, options, |report| {
                totals.add(&report);
                written = write(&report);
                written
                    .as_ref()
                    .map_err(|e| Error::from_io(ErrorKind::LocalIo, "writing", e))
                    .copied()
            })
            .map_err(|e| anyhow::Error::new(e).context(input.name()))
        });
    written?;
    if let Err(error) = result {
        diag.error(&format!("{error:#}"));
        totals.unreadable = true;
    }
    Ok(())
}

/// Lints `input` for `--fix` and keeps it for the repair: a regular file
/// is reopened; stdin, or a FIFO or pipe (`<(zcat m.gz)`), whose content
/// a second open would not give again, is recorded as the linter reads it, and the rest read
/// after only when there is a repair to make of it (input that is not a
/// message, such as an endless first header line, is not read to its
/// end).
fn lint_kept(input: &Input, options: &Options) -> anyhow::Result<(Kept, Vec<Report>)> {
    let mut reports = Vec::new();
    let collect = |report| {
        reports.push(report);
        Ok(())
    };
    let regular = match input {
        Input::File(path) => std::fs::metadata(path).is_ok_and(|m| m.is_file()),
        Input::Stdin => false,
    };
    let message = match input {
        Input::File(_) if regular => {
            let kept = input.keep()?;
            lint::lint_messages(kept.reader()?, options, collect).with_context(|| input.name())?;
            kept
        }
        // Stdin, or a pipe or FIFO named as the file: read once.
        _ => {
            let mut recording = io::BufReader::new(input::Recording::new(input.open()?));
            lint::lint_messages(&mut recording, options, collect).with_context(|| input.name())?;
            let unusable = reports
                .iter()
                .any(|r| r.diagnostics.iter().any(|d| d.rule == "not-a-message"));
            if !unusable {
                io::copy(&mut recording, &mut io::sink())
                    .map_err(|e| Error::from_io(ErrorKind::LocalIo, "reading stdin", &e))?;
            }
            Kept::Replayable(recording.into_inner().finish())
        }
    };
    Ok((message, reports))
}

/// `--fix`: lint once, write the repair while a second linter checks it,
/// then say on stderr what was repaired and what remains.
fn fix(args: &Args, inputs: &[Input], options: &Options) -> anyhow::Result<ExitStatus> {
    let [input] = inputs else {
        return Err(Error::usage("--fix takes exactly one message").into());
    };
    let (message, reports) = lint_kept(input, options)?;
    let report = match <[Report; 1]>::try_from(reports) {
        Ok([report]) => report,
        Err(reports) => {
            return Err(Error::usage(format!(
                "--fix takes one message; {} is an mbox of {} messages",
                input.name(),
                reports.len()
            ))
            .into());
        }
    };
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
