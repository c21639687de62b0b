//! `mime-pack`: build a MIME message from a body and attachments.

use std::path::PathBuf;

use clap::Parser;

use super::{Entry, References, Section};
use crate::cli::CommonArgs;

/// `-v` here: mime-pack talks to no server and has nothing more to show.
const VERBOSE: &str = "Accepted, as by every mailkit tool, and changes nothing: mime-pack talks to no server and has no transcript to show";

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[
        Entry {
            name: "EMAIL",
            about: "the From address when neither --from nor --header 'From: ...' gives \
                    one (as mail(1)); without it, LOGIN@HOST",
        },
        Entry {
            name: "LOGNAME",
            about: "the LOGIN of LOGIN@HOST when the password database has no entry \
                    for this user (then USER)",
        },
        Entry {
            name: "TMPDIR",
            about: "where the body or message read from stdin is kept, in an unnamed \
                    file, when it is over 8 MiB (smaller ones stay in memory); default /tmp",
        },
    ],
    files: &[Entry {
        name: "/etc/hosts",
        about: "this host's fully qualified name (the HOST of LOGIN@HOST, and of the \
                Message-ID when From has no domain) when the kernel's host name has no dot",
    }],
    see_also: &["mpack(1)", "mail(1)"],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "ATTACHMENTS",
        body: "\
An attachment is a path, optionally followed by settings, curl-style:
  report.pdf
  'data.bin;type=application/vnd.example'     override the media type
  'scan.pdf;name=Contract 2026.pdf'           announce another file name
  'logo.png;cid=logo'                         (--inline) the Content-ID
  -- '-;name=data.csv'                        stdin as the attachment
An unknown setting ('report.pdf;foo=bar') is refused (64), unless the
whole argument is the name of a file. `-` is stdin (after `--`, or with
--attach), read once: the text body then comes only from --body.
The media type comes from the file name's extension, else from the
content (magic numbers), else text/plain for UTF-8 text and
application/octet-stream for anything else.",
    },
    Section {
        title: "ENCODING",
        body: "\
Each part gets the lightest transfer encoding that survives any mail path:
7bit for ASCII text with lines of at most 998 octets; quoted-printable for
mostly-ASCII text with 8-bit bytes or long lines; base64 for binary and
mostly non-ASCII data. Text is declared charset=utf-8 when it is valid UTF-8;
other 8-bit text is base64 with charset=unknown-8bit (RFC 1428), never a false
claim. Attachments decode back to exactly their bytes (CR and LF included).
Non-ASCII header text is RFC 2047-encoded, non-ASCII file names RFC 2231-
encoded (with an RFC 2047 name= for older readers), header lines folded at 78
characters. Boundaries start with \"=_\", which no quoted-printable or base64
text contains and which 7bit parts are checked not to contain.
Attachments are read and encoded in chunks: memory stays constant whatever
their size.",
    },
    Section {
        title: "EXAMPLES",
        body: "\
mime-pack --from alice@example.org --to bob@example.net --subject 'Report' report.pdf < body.txt
mime-pack --from a@x.example --to b@y.example --html body.html --inline 'logo.png;cid=logo' < body.txt
mime-pack --message invoice.pdf < draft.eml | smtp-send -t
mime-pack --subject 'Grüße' --to 'Jörg <j@example.org>' < note.txt | rfc822-lint -",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   the message was written
  64  usage error: bad option, a header value with CR, LF or NUL (header
      injection), an address that is not RFC 5322 syntax, a field given
      twice, an unknown attachment setting, $EMAIL not an address
  65  --message: stdin is not a message, or its multipart is not closed
  66  a body or attachment file is missing, unreadable or a directory
      (nothing is written)
  74  reading or writing failed part-way: the output is incomplete",
    },
];

/// Build a MIME message from a text body and attachments.
///
/// The text body comes from stdin (or --body; on a terminal, type it and
/// end with Ctrl-D); --html adds an HTML
/// alternative, --inline images it references by Content-ID; the arguments
/// are attachments. The message, with Date, Message-ID and MIME-Version
/// added, goes to stdout. With --message, stdin is a complete message and
/// the attachments are added to it.
#[derive(Parser, Debug)]
#[command(name = "mime-pack", version, after_long_help = super::help_text(SECTIONS, &REFERENCES),
    mut_arg("verbose", |a| a.help(VERBOSE)))]
pub struct Args {
    /// Files to attach (PATH[;type=TYPE][;name=NAME]).
    #[arg(value_name = "ATTACHMENT")]
    pub attachments: Vec<String>,

    /// Also attach this file (repeatable; same syntax as the arguments).
    #[arg(long = "attach", value_name = "FILE")]
    pub attach: Vec<String>,

    /// Read the text body from FILE instead of stdin.
    #[arg(long, value_name = "FILE", conflicts_with = "message")]
    pub body: Option<PathBuf>,

    /// No text body: do not read stdin.
    #[arg(long, conflicts_with_all = ["body", "message"])]
    pub no_body: bool,

    /// Add FILE as an HTML alternative to the text (multipart/alternative).
    #[arg(long, value_name = "FILE", conflicts_with = "message")]
    pub html: Option<PathBuf>,

    /// Add an image the HTML shows as cid:ID (FILE[;cid=ID]; ID defaults to
    /// the file name) in multipart/related (repeatable).
    #[arg(long, value_name = "FILE", requires = "html")]
    pub inline: Vec<String>,

    /// Stdin is a complete message: keep its header fields, add the
    /// attachments (to its multipart/mixed, or around its body).
    #[arg(long)]
    pub message: bool,

    /// From: address(es). Without it (and without --header 'From: ...'),
    /// as mail(1): $EMAIL, else LOGIN@HOST (the login name at this host's
    /// fully qualified name).
    #[arg(long, value_name = "ADDRESS")]
    pub from: Vec<String>,

    /// To: address(es) (repeatable; each may be a comma-separated list).
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,

    /// Cc: address(es) (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub cc: Vec<String>,

    /// Bcc: address(es) (repeatable; `smtp-send -t` sends to them and
    /// removes the field).
    #[arg(long, value_name = "ADDRESS")]
    pub bcc: Vec<String>,

    /// Reply-To: address(es) (repeatable).
    #[arg(long, value_name = "ADDRESS")]
    pub reply_to: Vec<String>,

    /// Subject: (RFC 2047-encoded when not ASCII).
    #[arg(long, value_name = "TEXT")]
    pub subject: Option<String>,

    /// Any other field, as 'Name: value' (repeatable). A Date or
    /// Message-ID given so replaces the one mime-pack makes; a field that
    /// RFC 5322 allows once (From, To, Subject, ...) given twice, here and
    /// by its flag, is refused (64).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,

    /// Announce non-ASCII file names only in the RFC 2231 form, without the
    /// RFC 2047 `name=` that older mail readers need but RFC 2047 §5 does
    /// not allow (strict parsers such as Python's report it as a defect).
    #[arg(long)]
    pub no_legacy_names: bool,

    /// Write CRLF line ends instead of LF.
    #[arg(long)]
    pub crlf: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}
