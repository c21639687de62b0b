//! What every tool's command line shares: argument groups flattened into
//! each tool (so the tools feel like one family), usage errors with status
//! 64, and the single error line at the edge.

use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Args, Parser};

use crate::exit::{self, ExitStatus};
use crate::output::Diagnostics;

/// `-v` and `-q`, in every tool.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Show the conversation with servers on stderr (`->` sent, `<-`
    /// received; `~>`/`<~` once TLS is up; secrets as `****`).
    #[arg(short, long, action = ArgAction::Count, help_heading = "Common options")]
    pub verbose: u8,
    /// Print no warnings or notes on stderr; errors are still printed.
    #[arg(
        short,
        long,
        conflicts_with = "verbose",
        help_heading = "Common options"
    )]
    pub quiet: bool,
}

/// `--json`, in every tool that prints records.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Print JSON Lines on stdout: one object per record, snake_case keys.
    #[arg(long, help_heading = "Common options")]
    pub json: bool,
}

/// `--timeout`, in every tool that waits for a network peer.
#[derive(Args, Debug, Clone)]
pub struct TimeoutArgs {
    /// Give up on a connection, lookup, read or write after SECS seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "60",
        value_parser = parse_seconds,
        help_heading = "Common options"
    )]
    pub timeout: Duration,
}

/// Parses a positive number of seconds, fractions allowed, at most a day.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!("{text:?} must be more than 0 and at most 86400"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses the command line; on a usage error prints clap's message and
/// gives status 64 (sysexits EX_USAGE), on `--help`/`--version` status 0.
pub fn parse<A: Parser>() -> Result<A, ExitStatus> {
    parse_from(std::env::args_os())
}

/// [`parse`] over explicit arguments.
pub fn parse_from<A: Parser, I, T>(args: I) -> Result<A, ExitStatus>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    A::try_parse_from(args).map_err(|error| {
        // Printing can only fail when stdout/stderr are gone: nothing to add.
        let _ = error.print();
        if error.use_stderr() {
            ExitStatus::Usage
        } else {
            ExitStatus::Ok
        }
    })
}

/// The whole life of a tool: parse, run, report the error as one line
/// (`TOOL: error: what failed: why`) and turn the outcome into the exit
/// status of the contract.
pub fn main<A: Parser>(
    tool: &'static str,
    run: impl FnOnce(A) -> anyhow::Result<ExitStatus>,
) -> ExitCode {
    let args = match parse::<A>() {
        Ok(args) => args,
        Err(status) => return status.into(),
    };
    match run(args) {
        Ok(status) => status.into(),
        Err(error) if is_broken_pipe(&error) => ExitStatus::Ok.into(),
        Err(error) => {
            Diagnostics::new(tool, false).error(&format!("{error:#}"));
            exit::status_of(&error).into()
        }
    }
}

/// A reader that went away (`| head`) is not a failure of the tool.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        timeout: TimeoutArgs,
        #[command(flatten)]
        common: CommonArgs,
    }

    #[test]
    fn usage_errors_are_64_and_help_is_0() {
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "--bogus"]).unwrap_err(),
            ExitStatus::Usage
        );
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "--timeout", "0"]).unwrap_err(),
            ExitStatus::Usage
        );
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "-v", "-q"]).unwrap_err(),
            ExitStatus::Usage
        );
        let probe = parse_from::<Probe, _, _>(["probe", "--timeout", "1.5", "-vv"]).unwrap();
        assert_eq!(probe.timeout.timeout, Duration::from_millis(1500));
        assert_eq!(probe.common.verbose, 2);
    }
}
