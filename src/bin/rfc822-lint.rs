//! rfc822-lint: check messages against RFC 5322 and MIME; repair them. See
//! `rfc822-lint --help`.

use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use mailkit::compose::Spool;
use mailkit::encode::Newline;
use mailkit::lint::{self, Options, Report, Severity};
use mailkit::output::{self, Diagnostics};
use mailkit::tools::rfc822_lint::Args;
use mailkit::{Error, ExitStatus, cli, input};
use serde::Serialize;

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
    let inputs = expand(&args.inputs, &diag);
    if args.fix {
        return fix(&args, &inputs, &options, &diag);
    }
    let mut totals = Totals::default();
    let mut out = BufWriter::new(io::stdout().lock());
    for input in &inputs {
        let Some(report) = lint_input(input, &options, &diag, &mut totals) else {
            continue;
        };
        print_report(&mut out, &args, &display_name(input), &report)?;
    }
    out.flush()?;
    Ok(totals.finish(&args, &diag))
}

/// Errors, warnings, files and unreadable files seen so far.
#[derive(Default)]
struct Totals {
    messages: u64,
    errors: u64,
    warnings: u64,
    unreadable: bool,
}

impl Totals {
    fn finish(&self, args: &Args, diag: &Diagnostics) -> ExitStatus {
        if !args.common.quiet {
            let plural = if self.messages == 1 { "" } else { "s" };
            eprintln!(
                "{TOOL}: {} message{plural}: {} error(s), {} warning(s)",
                self.messages, self.errors, self.warnings
            );
        }
        let _ = diag;
        if self.unreadable {
            ExitStatus::NoInput
        } else if self.errors > 0 || (args.strict && self.warnings > 0) {
            ExitStatus::Negative
        } else {
            ExitStatus::Ok
        }
    }
}

/// Lints one input; an unreadable one is reported and counted.
fn lint_input(
    input: &Option<PathBuf>,
    options: &Options,
    diag: &Diagnostics,
    totals: &mut Totals,
) -> Option<Report> {
    let result = input::open(input.as_deref())
        .map_err(anyhow::Error::from)
        .and_then(|reader| {
            lint::lint_message(reader, options)
                .map_err(|e| anyhow::Error::new(e).context(display_name(input)))
        });
    match result {
        Ok(report) => {
            totals.messages += 1;
            totals.errors += report.count(Severity::Error);
            totals.warnings += report.count(Severity::Warning);
            Some(report)
        }
        Err(error) => {
            diag.error(&format!("{error:#}"));
            totals.unreadable = true;
            None
        }
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    line: u64,
    column: u64,
    severity: Severity,
    rule: &'a str,
    message: &'a str,
}

fn print_report(out: &mut impl Write, args: &Args, name: &str, report: &Report) -> io::Result<()> {
    for d in &report.diagnostics {
        if args.output.json {
            output::write_json_record(
                out,
                &JsonDiagnostic {
                    file: name,
                    line: d.line,
                    column: d.column,
                    severity: d.severity,
                    rule: d.rule,
                    message: &d.message,
                },
            )?;
        } else {
            writeln!(
                out,
                "{}:{}:{}: {}[{}]: {}",
                output::printable(name),
                d.line,
                d.column,
                d.severity.as_str(),
                d.rule,
                output::printable(&d.message)
            )?;
        }
    }
    if !args.output.json {
        for (rule, n) in &report.more {
            writeln!(
                out,
                "{}: {n} more [{rule}] not shown",
                output::printable(name)
            )?;
        }
    }
    Ok(())
}

/// `--fix`: lint once (findings on stderr), then write the repair.
fn fix(
    args: &Args,
    inputs: &[Option<PathBuf>],
    options: &Options,
    diag: &Diagnostics,
) -> anyhow::Result<ExitStatus> {
    let [input] = inputs else {
        return Err(Error::usage("--fix takes exactly one message").into());
    };
    let spool = match input {
        Some(path) => Source::File(path.clone()),
        None => Source::Stdin(Spool::read_from(&mut io::stdin().lock()).context("reading stdin")?),
    };
    let mut totals = Totals::default();
    let report =
        lint::lint_message(spool.reader()?, options).with_context(|| display_name(input))?;
    totals.messages = 1;
    let mut err = io::stderr().lock();
    print_report(&mut err, args, &display_name(input), &report)?;
    drop(err);
    let newline = if args.crlf {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    let out = output::bulk_stdout()?;
    let out = lint::fix_message(spool.reader()?, out, newline, &report)
        .context("writing the repaired message")?;
    out.finish().context("writing the repaired message")?;
    let _ = diag;
    totals.errors = report.count(Severity::Error);
    totals.warnings = report.count(Severity::Warning);
    Ok(if totals.errors > 0 {
        ExitStatus::Negative
    } else {
        ExitStatus::Ok
    })
}

/// A message read twice: a file reopened, or stdin kept.
enum Source {
    File(PathBuf),
    Stdin(Spool),
}

impl Source {
    fn reader(&self) -> anyhow::Result<Box<dyn BufRead + '_>> {
        match self {
            Source::File(path) => Ok(input::open(Some(path))?),
            Source::Stdin(spool) => Ok(Box::new(io::BufReader::new(spool.reader()?))),
        }
    }
}

fn display_name(input: &Option<PathBuf>) -> String {
    match input {
        Some(path) => path.display().to_string(),
        None => "-".into(),
    }
}

/// Files to lint: each argument, a directory's messages (a Maildir's cur/
/// and new/), or stdin.
fn expand(args: &[PathBuf], diag: &Diagnostics) -> Vec<Option<PathBuf>> {
    if args.is_empty() {
        return vec![None];
    }
    let mut inputs = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            inputs.push(None);
        } else if arg.is_dir() {
            inputs.extend(directory_messages(arg, diag).into_iter().map(Some));
        } else {
            inputs.push(Some(arg.clone()));
        }
    }
    inputs
}

fn directory_messages(dir: &Path, diag: &Diagnostics) -> Vec<PathBuf> {
    let maildir = dir.join("cur").is_dir() && dir.join("new").is_dir();
    let dirs = if maildir {
        vec![dir.join("cur"), dir.join("new")]
    } else {
        vec![dir.to_path_buf()]
    };
    let mut files = Vec::new();
    for d in dirs {
        match std::fs::read_dir(&d) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(e) => diag.error(&format!("{}: {e}", d.display())),
        }
    }
    files
}
