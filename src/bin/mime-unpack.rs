//! mime-unpack: show a message's MIME tree; extract parts safely. See
//! `mime-unpack --help`.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::Context;
use mailkit::input::Input;
use mailkit::mbox_reader::MboxReader;
use mailkit::mime_reader::{self, Limits, Part};
use mailkit::output::{self, Diagnostics};
use mailkit::tools::mime_unpack::Args;
use mailkit::unpack::{Extractor, Lister, PartWriter, TextCollector, write_tree};
use mailkit::{Error, ErrorKind, ExitStatus, cli};

const TOOL: &str = "mime-unpack";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let diag = Diagnostics::new(TOOL, args.common.quiet);
    let input = Input::from_arg(args.file.as_deref());
    let mut mbox = MboxReader::new(input.open()?);
    let wanted = args.message.unwrap_or(1);
    let Some(message) = mbox.nth_message(wanted).map_err(reading)? else {
        let count = mbox.count();
        let plural = if count == 1 { "" } else { "s" };
        return Err(Error::data(format!(
            "--message {wanted}: {} holds {count} message{plural}",
            output::printable(&input.name())
        ))
        .into());
    };
    let status = match message.is_mbox() {
        true => unpack(&args, message, &diag).with_context(|| format!("message {wanted}"))?,
        false => unpack(&args, message, &diag)?,
    };
    let count = mbox.count_all().map_err(reading)?;
    if count > 1 {
        let others = match count - 1 {
            1 => "the other skipped".to_string(),
            n => format!("{n} others skipped"),
        };
        diag.note(&format!(
            "{} is an mbox of {count} messages; message {wanted} shown, {others} \
             (choose one with --message N)",
            output::printable(&input.name()),
        ));
    }
    Ok(status)
}

fn reading(e: io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "reading the message", &e)
}

/// What the arguments ask of one message.
fn unpack(args: &Args, reader: impl BufRead, diag: &Diagnostics) -> anyhow::Result<ExitStatus> {
    let limits = Limits::default();
    if args.extract {
        let mut extractor = Extractor::new(&args.dir, args.all)?;
        let result = mime_reader::read_message(reader, &limits, &mut extractor);
        warn_all(diag, &extractor.warnings);
        result?;
        return print_written(args, &extractor, diag);
    }
    if let Some(id) = &args.part {
        let out = output::bulk_stdout()?;
        let mut writer = PartWriter::new(id, out);
        let result = mime_reader::read_message(reader, &limits, &mut writer);
        warn_all(diag, &writer.warnings);
        result?;
        writer.finish()?.finish().context("writing the part")?;
        return Ok(ExitStatus::Ok);
    }
    if args.text {
        let mut collector = TextCollector::default();
        mime_reader::read_message(reader, &limits, &mut collector)?;
        let (text, warnings) = collector.text();
        warn_all(diag, &warnings);
        let text = text.ok_or_else(|| Error::data("the message has no text or HTML body"))?;
        let mut out = io::stdout().lock();
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(ExitStatus::Ok);
    }
    let mut lister = Lister::default();
    let result = mime_reader::read_message(reader, &limits, &mut lister);
    warn_all(diag, &lister.warnings);
    result?;
    print_tree(args, &lister.parts)?;
    Ok(ExitStatus::Ok)
}

fn warn_all(diag: &Diagnostics, warnings: &[String]) {
    warnings.iter().for_each(|w| diag.warning(w));
}

/// One line (or JSON object) per part.
fn print_tree(args: &Args, parts: &[Part]) -> io::Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    write_tree(&mut out, parts, args.output.json)?;
    out.flush()
}

fn print_written(
    args: &Args,
    extractor: &Extractor,
    diag: &Diagnostics,
) -> anyhow::Result<ExitStatus> {
    let mut out = BufWriter::new(io::stdout().lock());
    for written in &extractor.written {
        if let Some(wanted) = &written.renamed_from {
            diag.note(&format!(
                "{} exists; part {} written as {}",
                wanted,
                written.part,
                written.path.display()
            ));
        }
        if args.output.json {
            output::write_json_record(&mut out, written)?;
        } else {
            writeln!(
                out,
                "{}",
                output::printable(&written.path.to_string_lossy())
            )?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}
