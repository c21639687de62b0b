//! Linting messages against RFC 5322 and MIME (RFC 2045-2049): rules with
//! ids, diagnostics with positions in the original bytes, and `--fix`.

pub mod check;
pub mod fields;
pub mod fix;
pub mod report;
pub mod rules;

use std::io::{self, BufRead, BufReader, Write};

pub use check::{Diagnostic, Options};
pub use report::{Totals, write_fix_report, write_report};
pub use rules::Severity;

use crate::encode::Newline;
use crate::error::{Error, ErrorKind};
use crate::mbox_reader::MboxReader;
use crate::mime_reader::{self, Limits};

/// What linting one message found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The findings kept, in order of position.
    pub diagnostics: Vec<Diagnostic>,
    /// Rules with more findings than were kept, and how many more.
    pub more: Vec<(&'static str, u64)>,
    /// Parts with 8-bit data declared 7bit (what `--fix` re-encodes).
    pub undeclared_8bit: Vec<String>,
    /// Text parts with lines over 998 octets sent as they are (what
    /// `--fix` re-encodes too).
    pub long_lines: Vec<String>,
    /// The message's number (from 1) when it is one of an mbox's.
    pub message: Option<u64>,
}

impl Report {
    /// How many findings of `severity` there were, kept or not.
    pub fn count(&self, severity: Severity) -> u64 {
        let kept = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count() as u64;
        let more: u64 = self
            .more
            .iter()
            .filter(|(rule, _)| {
                self.diagnostics
                    .iter()
                    .find(|d| d.rule == *rule)
                    .is_some_and(|d| d.severity == severity)
            })
            .map(|(_, n)| n)
            .sum();
        kept + more
    }
}

/// Lints one message. Fails only when the input cannot be read; input
/// that is not a message is a finding (`not-a-message`).
pub fn lint_message<R: BufRead>(reader: R, options: &Options) -> Result<Report, Error> {
    let mut linter = check::Linter::new(options.clone());
    let result = mime_reader::read_message(reader, &Limits::default(), &mut linter);
    let undeclared_8bit = linter.undeclared_8bit_parts().to_vec();
    let long_lines = linter.long_line_parts().to_vec();
    let (mut diagnostics, more) = linter.finish();
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::BadInput => diagnostics.insert(
            0,
            Diagnostic {
                line: 1,
                column: 1,
                severity: Severity::Error,
                rule: "not-a-message",
                message: e.to_string(),
            },
        ),
        Err(e) => return Err(e),
    }
    Ok(Report {
        diagnostics,
        more,
        undeclared_8bit,
        long_lines,
        message: None,
    })
}

/// Lints every message of `reader`, each on its own: an mbox message by
/// message ([`crate::mbox_reader`]), any other input as one message. Each
/// report goes to `each` as it is made, numbered when the input is an
/// mbox, with its positions moved to lines of the input (a column on a
/// line un-quoted from `>From ` counts in the un-quoted line). Fails when
/// the input cannot be read, or with what `each` fails with.
pub fn lint_messages<R: BufRead>(
    reader: R,
    options: &Options,
    mut each: impl FnMut(Report) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut mbox = MboxReader::new(reader);
    while let Some(message) = mbox.next_message().map_err(reading)? {
        let (number, offset) = (message.number(), message.first_line() - 1);
        let mut report = lint_message(message, options)?;
        if mbox.is_mbox() {
            report.message = Some(number);
            for d in &mut report.diagnostics {
                d.line += offset;
            }
        }
        each(report)?;
        if !mbox.is_mbox() {
            // One message only: what it left unread is not read.
            break;
        }
    }
    Ok(())
}

fn reading(error: io::Error) -> Error {
    Error::from_io(ErrorKind::LocalIo, "reading the message", &error)
}

/// Writes `message` repaired to `out`, using what linting it found.
pub fn fix_message<R: BufRead, W: Write>(
    message: R,
    out: W,
    newline: Newline,
    report: &Report,
) -> Result<W, Error> {
    let mut reencode = report.undeclared_8bit.clone();
    reencode.extend(
        report
            .long_lines
            .iter()
            .filter(|id| !report.undeclared_8bit.contains(id))
            .cloned(),
    );
    let mut fixer = fix::Fixer::new(out, newline, reencode);
    match mime_reader::read_message(message, &Limits::default(), &mut fixer) {
        // Not a message: written back as it is.
        Err(e) if e.kind() != ErrorKind::BadInput => return Err(e),
        _ => {}
    }
    fixer
        .finish()
        .map_err(|e| Error::from_io(ErrorKind::LocalIo, "writing the message", &e))
}

/// What `--fix` did: the findings it repaired and those that remain.
#[derive(Debug, Clone, Default)]
pub struct FixOutcome {
    /// Findings of the original message whose rule no longer fires on the
    /// repaired one (positions in the original).
    pub repaired: Vec<Diagnostic>,
    /// The repaired message's own findings (positions in the repair).
    pub remaining: Report,
}

impl FixOutcome {
    /// Sorts the findings of `before` (the original) and `after` (the
    /// repair): a finding is repaired when its rule no longer fires.
    pub fn new(before: &Report, after: Report) -> FixOutcome {
        let repaired = before
            .diagnostics
            .iter()
            .filter(|d| !after.diagnostics.iter().any(|a| a.rule == d.rule))
            .cloned()
            .collect();
        FixOutcome {
            repaired,
            remaining: after,
        }
    }
}

/// [`fix_message`], linting the repair as it is written (through a pipe
/// to a second linter, so the message is never held whole): the repair
/// goes to `out`, and what was repaired and what remains comes back.
pub fn fix_and_check<R: BufRead, W: Write>(
    message: R,
    out: W,
    newline: Newline,
    report: &Report,
    options: &Options,
) -> Result<(W, FixOutcome), Error> {
    let pipe_error = |e: &io::Error| Error::from_io(ErrorKind::LocalIo, "checking the repair", e);
    let (reader, writer) = io::pipe().map_err(|e| pipe_error(&e))?;
    let options = options.clone();
    let checker = std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let result = lint_message(&mut reader, &options);
        // Whatever the linter left unread, so the writer never blocks.
        let _ = io::copy(&mut reader, &mut io::sink());
        result
    });
    let fixed = fix_message(
        message,
        Tee {
            out,
            copy: Some(writer),
        },
        newline,
        report,
    );
    let out = fixed.map(|tee| tee.out);
    let after = checker
        .join()
        .map_err(|_| Error::new(ErrorKind::Bug, "the check of the repair failed"))?;
    let out = out?;
    Ok((out, FixOutcome::new(report, after?)))
}

/// Writes to `out` and a copy to the checking pipe (dropped at the end,
/// which ends the checker's input).
struct Tee<W> {
    out: W,
    copy: Option<io::PipeWriter>,
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.out.write(data)?;
        if let Some(copy) = &mut self.copy
            && copy.write_all(&data[..n]).is_err()
        {
            self.copy = None;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
