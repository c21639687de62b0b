//! `rfc822-lint`: check messages against RFC 5322 and MIME; repair them.

use std::path::PathBuf;

use clap::Parser;

use super::{Entry, References, Section};
use crate::cli::{CommonArgs, OutputArgs};

/// `-v` here: rfc822-lint talks to no server and has nothing more to show.
const VERBOSE: &str = "Accepted, as by every mailkit tool, and changes nothing: rfc822-lint talks to no server and has no transcript to show";

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[Entry {
        name: "TMPDIR",
        about: "with --fix, where a message read from stdin is kept, in an unnamed \
                file, when it is over 8 MiB (smaller ones stay in memory); default /tmp",
    }],
    files: &[Entry {
        name: "DIR/cur/, DIR/new/",
        about: "a Maildir given as an argument: every message in them is linted \
                (a directory that is not a Maildir: every file in it)",
    }],
    see_also: &["mpack(1)", "munpack(1)"],
};

/// The sections after the options, in `--help` and in the man page.
pub fn sections() -> Vec<Section> {
    vec![
        Section {
            title: "OUTPUT",
            body: "\
One line per finding, positions in the original bytes (1-based):
  FILE:LINE:COLUMN: error[RULE]: message
  FILE:LINE:COLUMN: warning[RULE]: message
FILE is - for stdin. At most 20 findings of one rule are shown per message;
the summary on stderr (messages, errors, warnings) counts them all.",
        },
        Section {
            title: "MBOX",
            body: "\
A FILE whose first line starts with \"From \" is an mbox (RFC 4155): it is
split into its messages as it is read (never held whole), and each is linted
on its own. A line starting with \"From \" at the start or after a blank line
begins a message; that line and the blank line before it belong to no
message. Body lines quoted as mboxrd and mboxo write them (>From, >>From)
lose one >. Positions stay lines of the file, so that an editor jumps to
them, and each finding names its message (numbered from 1):
  FILE:LINE:COLUMN: error[RULE]: message N: text
A column on a line un-quoted from >From counts in the un-quoted line. The
summary counts messages. --fix takes an mbox of one message only.",
        },
        Section {
            title: "JSON",
            body: "\
With --json, one object per finding:
  file, line, column, severity (error | warning), rule, message
and, for a message of an mbox, message_number (from 1).",
        },
        Section {
            title: "RULES",
            body: rules_text(),
        },
        Section {
            title: "FIX",
            body: "\
--fix writes the message back to stdout with what can be repaired safely:
line ends normalised (LF, or CRLF with --crlf; bare CRs become line ends),
header lines over 78 octets folded at white space (the value does not change),
raw 8-bit text in unstructured and address fields RFC 2047-encoded, missing
Date, Message-ID and MIME-Version added, 8-bit bodies declared 7bit (or not
declared) re-encoded as quoted-printable with the declaration to match, text
parts with lines over 998 octets re-encoded as quoted-printable with soft line
breaks (RFC 2045 §6.7; the decoded text is the same, and MIME-Version and
Content-Type are added when missing), white space before a field's colon
removed, a missing blank line after the header added, and a multipart cut
short at the end closed, a UTF-8 byte-order mark dropped. An added Message-ID
is on the From address's domain. What cannot be repaired safely is copied as
it is. The RULES above mark each rule it repairs \"fixed by --fix\".
The repair is linted as it is written. On stderr, each finding repaired:
  FILE:LINE:COLUMN: fixed[RULE]: message      (positions in the original)
then the findings that remain, as usual (positions in the repaired message),
and a summary. With --json, each object has \"fixed\": true or false. The
exit status is 1 when errors remain in the repair, else 0.",
        },
        Section {
            title: "EXAMPLES",
            body: "\
rfc822-lint message.eml
rfc822-lint --strict ~/Maildir            # every message in cur/ and new/
rfc822-lint ~/mbox                        # every message of an mbox
mime-pack --to b@example.org report.pdf < body.txt | rfc822-lint -
rfc822-lint --json --allow line-long *.eml | jq -r .rule | sort | uniq -c
rfc822-lint --fix broken.eml > repaired.eml",
        },
        Section {
            title: "EXIT STATUS",
            body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   no errors (warnings allowed unless --strict)
  1   errors found (or warnings, with --strict); with --fix, errors that
      remain in the repaired message
  64  usage error (an unknown rule in --allow or --deny; --fix of an mbox
      of several messages)
  66  a file could not be read (the other files are still linted)
  74  the repaired message could not be written",
        },
    ]
}

/// Every rule as a paragraph of the man page, built once.
fn rules_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = String::new();
        for rule in crate::lint::rules::all() {
            let fixable = if rule.fixable { ", fixed by --fix" } else { "" };
            text.push_str(&format!(
                "{} ({}, {}{fixable})\n{}\n\n",
                rule.id,
                rule.severity.as_str(),
                rule.rfc,
                wrap(rule.about, 76, "    ")
            ));
        }
        text.trim_end().to_string()
    })
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() + word.len() + 1 > width && !line.trim().is_empty() {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}

fn help() -> String {
    super::help_text(&sections(), &REFERENCES)
}

/// Check messages against RFC 5322 and MIME, with positions and rule ids;
/// optionally repair them.
///
/// Lints each FILE (a message, an mbox: each of its messages, or a
/// Maildir or directory: every message in its cur/ and new/, or in it), or
/// stdin. Works on the raw bytes in one
/// streaming pass, so it finds what parsers hide, in time linear in the
/// input and bounded memory.
#[derive(Parser, Debug)]
#[command(name = "rfc822-lint", version, after_long_help = help(),
    mut_arg("verbose", |a| a.help(VERBOSE)))]
pub struct Args {
    /// Messages, mboxes, Maildirs or directories; stdin when none or -.
    #[arg(value_name = "FILE|DIR")]
    pub inputs: Vec<PathBuf>,

    /// Count warnings as errors for the exit status.
    #[arg(long)]
    pub strict: bool,

    /// Do not report RULE (repeatable, or comma-separated).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub allow: Vec<String>,

    /// Report RULE as an error (repeatable, or comma-separated).
    #[arg(long, value_name = "RULE", value_delimiter = ',')]
    pub deny: Vec<String>,

    /// Accept UTF-8 in header fields (RFC 6532, for SMTPUTF8 mail).
    #[arg(long)]
    pub smtputf8: bool,

    /// Write the message repaired to stdout (one input only); findings go
    /// to stderr.
    #[arg(long)]
    pub fix: bool,

    /// With --fix, write CRLF line ends instead of LF.
    #[arg(long, requires = "fix")]
    pub crlf: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}
