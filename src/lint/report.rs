//! Reports as `rfc822-lint` writes them: one line per finding
//! (`FILE:LINE:COL: error[rule]: message`) or one JSON object, and the
//! totals over every message that make the exit status.

use std::io::{self, Write};

use serde::Serialize;

use super::{FixOutcome, Report, Severity};
use crate::exit::ExitStatus;
use crate::output;

/// Messages, errors and warnings seen so far, and whether an input could
/// not be read.
#[derive(Debug, Default)]
pub struct Totals {
    /// Messages linted.
    pub messages: u64,
    /// Errors found, shown or not.
    pub errors: u64,
    /// Warnings found, shown or not.
    pub warnings: u64,
    /// An input could not be opened or read.
    pub unreadable: bool,
}

impl Totals {
    /// Counts one message's findings.
    pub fn add(&mut self, report: &Report) {
        self.messages += 1;
        self.errors += report.count(Severity::Error);
        self.warnings += report.count(Severity::Warning);
    }

    /// The summary line: `N message(s): E error(s), W warning(s)`.
    pub fn summary(&self) -> String {
        let plural = if self.messages == 1 { "" } else { "s" };
        format!(
            "{} message{plural}: {} error(s), {} warning(s)",
            self.messages, self.errors, self.warnings
        )
    }

    /// 66 when an input could not be read, else 1 for errors (or warnings
    /// when `strict`), else 0.
    pub fn status(&self, strict: bool) -> ExitStatus {
        if self.unreadable {
            ExitStatus::NoInput
        } else if self.errors > 0 || (strict && self.warnings > 0) {
            ExitStatus::Negative
        } else {
            ExitStatus::Ok
        }
    }
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    /// The message's number in an mbox; absent for a lone message.
    #[serde(skip_serializing_if = "Option::is_none")]
    message_number: Option<u64>,
    line: u64,
    column: u64,
    severity: Severity,
    rule: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    #[serde(flatten)]
    diagnostic: JsonDiagnostic<'a>,
    fixed: bool,
}

/// Writes what `--fix` did to the message `name`: each finding repaired as
/// `FILE:LINE:COL: fixed[rule]: message` (positions in the original), then
/// the findings that remain in the repair as usual (positions in the
/// repaired message); with `json`, one object each with `fixed` true or
/// false.
pub fn write_fix_report(
    out: &mut impl Write,
    json: bool,
    name: &str,
    outcome: &FixOutcome,
) -> io::Result<()> {
    let repaired = outcome.repaired.iter().map(|d| (d, true));
    let remaining = outcome.remaining.diagnostics.iter().map(|d| (d, false));
    for (d, fixed) in repaired.chain(remaining) {
        let label = if fixed { "fixed" } else { d.severity.as_str() };
        if json {
            output::write_json_record(
                out,
                &JsonFix {
                    diagnostic: JsonDiagnostic {
                        file: name,
                        message_number: None,
                        line: d.line,
                        column: d.column,
                        severity: d.severity,
                        rule: d.rule,
                        message: &d.message,
                    },
                    fixed,
                },
            )?;
        } else {
            writeln!(
                out,
                "{}:{}:{}: {label}[{}]: {}",
                output::printable(name),
                d.line,
                d.column,
                d.rule,
                output::printable(&d.message)
            )?;
        }
    }
    Ok(())
}

/// Writes the findings of the message `name`: text lines (then a line for
/// each rule with findings not shown), or JSON Lines when `json`. A message
/// of an mbox is named in each line (`FILE:LINE:COL: error[rule]: message
/// N: ...`, `FILE: message N: ...`) and by a `message_number` key in JSON.
pub fn write_report(
    out: &mut impl Write,
    json: bool,
    name: &str,
    report: &Report,
) -> io::Result<()> {
    let which = report
        .message
        .map_or(String::new(), |n| format!("message {n}: "));
    for d in &report.diagnostics {
        if json {
            output::write_json_record(
                out,
                &JsonDiagnostic {
                    file: name,
                    message_number: report.message,
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
                "{}:{}:{}: {}[{}]: {which}{}",
                output::printable(name),
                d.line,
                d.column,
                d.severity.as_str(),
                d.rule,
                output::printable(&d.message)
            )?;
        }
    }
    if !json {
        for (rule, n) in &report.more {
            writeln!(
                out,
                "{}: {which}{n} more [{rule}] not shown",
                output::printable(name)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::Diagnostic;

    fn report() -> Report {
        Report {
            diagnostics: vec![Diagnostic {
                line: 3,
                column: 1,
                severity: Severity::Warning,
                rule: "line-long",
                message: "line over 78 octets".into(),
            }],
            more: vec![("line-long", 2)],
            undeclared_8bit: Vec::new(),
            long_lines: Vec::new(),
            message: None,
        }
    }

    #[test]
    fn totals_make_the_status_and_the_summary() {
        let mut totals = Totals::default();
        totals.add(&report());
        assert_eq!(totals.summary(), "1 message: 0 error(s), 3 warning(s)");
        assert_eq!(totals.status(false), ExitStatus::Ok);
        assert_eq!(totals.status(true), ExitStatus::Negative);
        totals.add(&Report::default());
        assert_eq!(totals.summary(), "2 messages: 0 error(s), 3 warning(s)");
        totals.unreadable = true;
        assert_eq!(totals.status(false), ExitStatus::NoInput);
    }

    #[test]
    fn text_and_json_lines() {
        let mut text = Vec::new();
        write_report(&mut text, false, "m\x1b.eml", &report()).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "m\\u{1b}.eml:3:1: warning[line-long]: line over 78 octets\n\
             m\\u{1b}.eml: 2 more [line-long] not shown\n"
        );
        let mut json = Vec::new();
        write_report(&mut json, true, "-", &report()).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["file"], "-");
        assert_eq!(value["severity"], "warning");
        assert_eq!(json.iter().filter(|&&b| b == b'\n').count(), 1);
        assert!(value.get("message_number").is_none());
    }

    #[test]
    fn a_message_of_an_mbox_is_named() {
        let report = Report {
            message: Some(2),
            ..report()
        };
        let mut text = Vec::new();
        write_report(&mut text, false, "box", &report).unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "box:3:1: warning[line-long]: message 2: line over 78 octets\n\
             box: message 2: 2 more [line-long] not shown\n"
        );
        let mut json = Vec::new();
        write_report(&mut json, true, "box", &report).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["message_number"], 2);
    }
}
