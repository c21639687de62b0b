//! Linting messages against RFC 5322 and MIME (RFC 2045-2049): rules with
//! ids, diagnostics with positions in the original bytes, and `--fix`.

pub mod check;
pub mod fields;
pub mod fix;
pub mod report;
pub mod rules;

use std::io::{BufRead, Write};

pub use check::{Diagnostic, Options};
pub use report::{Totals, write_report};
pub use rules::Severity;

use crate::encode::Newline;
use crate::error::{Error, ErrorKind};
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
    })
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
