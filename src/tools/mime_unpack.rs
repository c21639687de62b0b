//! `mime-unpack`: show a message's MIME tree; extract parts safely.

use std::path::PathBuf;

use clap::{ArgGroup, Parser};

use super::{Entry, References, Section};
use crate::cli::{CommonArgs, OutputArgs};

/// `-v` here: mime-unpack talks to no server and has nothing more to show.
const VERBOSE: &str = "Accepted, as by every mailkit tool, and changes nothing: mime-unpack talks to no server and has no transcript to show";

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[],
    files: &[Entry {
        name: "DIR",
        about: "--extract -d DIR (default: the current directory): where the files \
                are written, created when missing; a file in it is never replaced, \
                and nothing is written outside it",
    }],
    see_also: &["munpack(1)", "ripmime(1)", "mshow(1)"],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Without an action, the MIME tree: one line per part, tab-separated:
  PART  TYPE  CHARSET  ENCODING  SIZE  DISPOSITION  FILENAME
PART is the IMAP part number (RFC 3501 §6.4.5): 1, 1.2, 2.1.1; a multipart
message as a whole is 0, the multipart body of message part N is N.0. SIZE is
the decoded size in octets (of a message or multipart part: the octets --part
writes of it). DISPOSITION is what mime-unpack makes of the
part (see ATTACHMENTS), not what its header declares: attachment or inline.
- stands for an empty column.
--extract prints each path it wrote, one a line. Warnings about broken mail
go to stderr, one line each.",
    },
    Section {
        title: "JSON",
        body: "\
With --json, the tree is one object per part:
  part, depth, kind (leaf | multipart | message), type, charset, encoding,
  size, declared_disposition (as the header says), filename, content_id,
  subject (message parts), disposition (attachment | inline, as in the
  listing; null for a multipart)
and --extract prints one object per file written:
  part, path, type, size, filename (as the message gave it),
  renamed_from (the safe name that was taken, when another was used)
Strings keep the message's text, with control and invisible characters
written as escapes (\\u202e), so that a terminal shows them as such.",
    },
    Section {
        title: "ATTACHMENTS",
        body: "\
A part is an attachment (listed as such, written by --extract) or a body
part (inline: written only with --all) by one rule, whatever its
Content-Disposition says (mpack and Apple Mail declare every attachment
inline with a file name), as munpack, ripmime and mshow -x decide:
  1. a multipart is neither; a message/rfc822 part is judged as a leaf;
  2. declared attachment: an attachment;
  3. a resource of a multipart/related body (RFC 2387), a part other than
     the root with a Content-ID or Content-Location (the images the HTML
     shows): a body part, named or not;
  4. a part with a file name (filename or name parameter): an attachment;
  5. a part that is not text/*: an attachment;
  6. an unnamed text part: a body part.",
    },
    Section {
        title: "PARTS",
        body: "\
--part ID writes a leaf decoded, and a message part (message/rfc822) or a
multipart as it stands, byte for byte as an IMAP server (Dovecot) gives
BODY[ID] (RFC 3501 §6.4.5): a message part's header and body; a
multipart's body without its own header (IMAP's ID.MIME): preamble,
delimiters and parts, its closing delimiter line and its epilogue. The
line end before the delimiter that ends a part belongs to that delimiter
(RFC 2046 §5.1.1) and is not written, unless it ends a closing delimiter
line inside the part, which is written whole (as IMAP servers give it). --part 0 writes the whole body of a
multipart message (IMAP's BODY[TEXT]). A number not in the message exits
65 naming those that are.",
    },
    Section {
        title: "MBOX",
        body: "\
An input whose first line starts with \"From \" is an mbox (RFC 4155), read as
it comes, never held whole: a line starting with \"From \" at the start or after
a blank line begins a message (that line and the blank line before it belong
to no message), and body lines quoted >From or >>From (mboxrd, mboxo) lose
one >. mime-unpack works on the first message, or on message N with
--message N (from 1), and says on stderr how many it skipped:
  mime-unpack: note: FILE is an mbox of 3 messages; message 1 shown,
  2 others skipped (choose one with --message N)
A number beyond the last message exits 65 naming how many there are; any
input that is not an mbox is message 1.",
    },
    Section {
        title: "SAFETY",
        body: "\
File names come from the sender. They are decoded (RFC 2047, RFC 2231),
then only the last path component is kept (both / and \\ count), control
characters and invisible ones (Unicode format characters such as the
bidirectional controls U+061C, U+200E, U+200F, U+202A-U+202E,
U+2066-U+2069, zero-width U+200B-U+200D, U+2060, U+FEFF) become _, so
that invoice<U+202E>fdp.exe cannot show as invoiceexe.pdf; leading dots
and .. go, and names are cut to 255 octets keeping the extension. Ordinary
letters of every script stay. Names and other text from the message are
shown on the terminal with such characters escaped (\\u{202e}).
A part without a usable name is written as part-ID.EXT. Files are created
exclusively: an existing file is never replaced (report.pdf, report-1.pdf,
...) and a symbolic link planted in the directory is never followed. Nothing is written outside the directory.
Hostile structure meets limits: nesting depth 64, 10 000 parts, 256 KiB of
header per part; each limit reached is reported.",
    },
    Section {
        title: "EXAMPLES",
        body: "\
mime-unpack message.eml
mime-unpack --extract -d attachments/ < message.eml
mime-unpack --part 2 message.eml > invoice.pdf
mime-unpack --text message.eml | less
mime-unpack --message 3 --extract -d out/ ~/mbox
mime-pack --to b@example.org report.pdf < body.txt | mime-unpack --extract -d out/",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   done (broken mail unpacked as far as it goes, with warnings)
  64  usage error (--json with --text or --part, which write content,
      not records)
  65  the input is not a message; --part names no part; --text finds no text;
      --message names a message beyond the last
  66  the input file is missing or unreadable
  73  the directory or a file in it cannot be created
  74  reading or writing failed",
    },
];

/// A message number for --message: counted from 1.
fn message_number(arg: &str) -> Result<u64, String> {
    match arg.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("messages are numbered from 1".into()),
    }
}

/// Show a message's MIME tree; extract attachments and parts safely.
///
/// Reads one message (a file, or stdin; of an mbox the first, or the one
/// --message picks, see MBOX) in one streaming pass: bodies are decoded as they go by, never
/// held whole. Without an action it lists the parts; --extract writes the
/// attachments into a directory under safe names; --part writes one decoded
/// part to stdout; --text prints the readable body as UTF-8.
#[derive(Parser, Debug)]
#[command(
    name = "mime-unpack",
    version,
    after_long_help = super::help_text(SECTIONS, &REFERENCES),
    group(ArgGroup::new("action").args(["extract", "part", "text"])),
    mut_arg("verbose", |a| a.help(VERBOSE))
)]
pub struct Args {
    /// The message; stdin when absent or -.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Write every attachment into DIR and print the paths written.
    #[arg(long)]
    pub extract: bool,

    /// Where --extract writes (created if missing).
    #[arg(
        short = 'd',
        long = "dir",
        value_name = "DIR",
        default_value = ".",
        requires = "extract"
    )]
    pub dir: PathBuf,

    /// Work on message N (from 1) of an mbox, not the first.
    #[arg(long, value_name = "N", value_parser = message_number)]
    pub message: Option<u64>,

    /// With --extract, also write the body parts (unnamed text, HTML, the
    /// images it shows).
    #[arg(long, requires = "extract")]
    pub all: bool,

    /// Write part ID (e.g. 2 or 1.2) to stdout: a leaf decoded, a
    /// message or multipart part as it stands (see PARTS); its bytes, so
    /// not with --json.
    #[arg(long, value_name = "ID", conflicts_with = "json")]
    pub part: Option<String>,

    /// Print the readable body as UTF-8: the text/plain part, else the
    /// HTML rendered as text (plain text, so not with --json).
    #[arg(long, conflicts_with = "json")]
    pub text: bool,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}
