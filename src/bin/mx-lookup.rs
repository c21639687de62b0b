//! mx-lookup: where does mail for this domain go? See `mx-lookup --help`.

use std::io::{self, BufWriter, StdoutLock, Write};
use std::process::ExitCode;

use mailkit::dns::probe::{self, ProbeOf, ProbeSettings};
use mailkit::dns::{self, Inputs, MxReport, ReportSink, ResolverSettings, RouteStatus};
use mailkit::net::connection::TlsMode;
use mailkit::output::{self, Diagnostics};
use mailkit::tools::mx_lookup::Args;
use mailkit::{Error, ExitStatus, cli};

const TOOL: &str = "mx-lookup";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let settings = ResolverSettings {
        server: args.server,
        timeout: args.dns_timeout(),
        addresses: !args.no_addresses,
    };
    if !args.probe && args.connection.is_given() {
        return Err(Error::usage(
            "--port, --tls, --cafile, --fingerprint and --insecure go with --probe",
        )
        .into());
    }
    let probes = args.probe.then(|| probe_settings(&args));
    let inputs = if args.targets.is_empty() {
        Inputs::Lines(Box::new(mailkit::input::open_stdin()?))
    } else {
        Inputs::List(args.targets)
    };
    let mut printer = Printer {
        out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        diag: Diagnostics::new(TOOL, args.common.quiet),
        json: args.output.json,
        verbose: args.common.verbose > 0,
        status: ExitStatus::Ok,
    };
    let concurrency = args.concurrency.into();
    match probes {
        Some(probes) => probe::probe_each(settings, inputs, concurrency, probes, &mut printer)?,
        None => dns::route_each(settings, inputs, concurrency, &mut printer)?,
    }
    Ok(printer.status)
}

/// What `--probe` needs, from the shared connection flags.
fn probe_settings(args: &Args) -> ProbeSettings {
    let connection = &args.connection;
    ProbeSettings {
        port: connection.port.unwrap_or(probe::SMTP_PORT),
        timeout: args.probe_timeout(),
        helo: args.helo.clone(),
        mode: connection.tls.unwrap_or(TlsMode::StartTls),
        tls: connection.tls_settings(),
        transcript: args.common.verbose > 0,
    }
}

/// Prints reports as they come and keeps the first failing status.
struct Printer {
    out: BufWriter<StdoutLock<'static>>,
    diag: Diagnostics,
    json: bool,
    verbose: bool,
    status: ExitStatus,
}

impl<X: ProbeOf + serde::Serialize> ReportSink<MxReport<X>> for Printer {
    fn report(&mut self, report: MxReport<X>) -> io::Result<()> {
        self.status = self.status.or(report.status.exit_status());
        if self.verbose {
            // Keep the transcript next to the output it explains.
            self.out.flush()?;
            report
                .transcript
                .iter()
                .for_each(|l| self.diag.transcript(l));
            for probe in report.mx.iter().filter_map(|mx| mx.extra.probe()) {
                probe
                    .transcript
                    .iter()
                    .for_each(|l| self.diag.transcript(l));
            }
        }
        if self.json {
            output::write_json_record(&mut self.out, &report)
        } else {
            self.print_text(&report)
        }
    }

    fn idle(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Printer {
    /// `DOMAIN PREFERENCE EXCHANGE ADDRESS...` per exchange, each followed
    /// by its indented probe line with `--probe`; failures, notes and
    /// warnings on stderr.
    fn print_text<X: ProbeOf>(&mut self, report: &MxReport<X>) -> io::Result<()> {
        let domain = &report.domain;
        if report.status != RouteStatus::Ok || !report.warnings.is_empty() || report.implicit {
            // Diagnostics go straight to stderr: flush first to keep order.
            self.out.flush()?;
        }
        if report.status != RouteStatus::Ok {
            let why = report.error.as_deref().unwrap_or("no mail route");
            self.diag.error(&format!("{domain}: {why}"));
        } else if report.implicit {
            self.diag.note(&format!(
                "{domain}: no MX record; its own address is the implicit MX (RFC 5321 §5.1)"
            ));
        }
        for warning in &report.warnings {
            self.diag.warning(&format!("{domain}: {warning}"));
        }
        if report.status != RouteStatus::Ok {
            return Ok(());
        }
        for mx in &report.mx {
            write!(self.out, "{domain} {} {}", mx.preference, mx.exchange)?;
            for address in &mx.addresses {
                write!(self.out, " {address}")?;
            }
            self.out.write_all(b"\n")?;
            if let Some(probe) = mx.extra.probe() {
                writeln!(self.out, "  {}", probe.text_line())?;
            }
        }
        Ok(())
    }
}
