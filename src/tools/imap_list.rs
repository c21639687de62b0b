//! `imap-list`: list folders and messages on an IMAP server; fetch
//! messages, read-only.

use std::path::PathBuf;

use clap::Parser;

use super::{Entry, References, Section};
use crate::cli::{CommonArgs, ConnectionArgs, CredentialArgs, OutputArgs, TimeoutArgs};

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[
        super::STATE_HOME,
        super::PASSWORD_VAR,
        super::HOME_STATE,
        super::CERT_FILE,
    ],
    files: &[
        super::NETRC,
        Entry {
            name: "$XDG_STATE_HOME/mailkit/imap-USER@HOST:PORT",
            about: "the state file of --new (--state FILE chooses another): per folder, \
                    its UIDVALIDITY and what was stored (see STORAGE)",
        },
        Entry {
            name: "STATE.lock",
            about: "held while a --new run uses the state file; a second run on the same \
                    state exits 75",
        },
    ],
    see_also: &[
        "mime-unpack(1)",
        "pop3-fetch(1)",
        "curl(1)",
        "mbsync(1)",
        "netrc(5)",
        "maildir(5)",
    ],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Without a folder, one line per folder on stdout, tab-separated:
  NAME  MESSAGES  UNSEEN  SPECIAL-USE
NAME in UTF-8 (decoded from modified UTF-7), - for a count the server did
not give (a \\Noselect folder), SPECIAL-USE the RFC 6154 flags (\\Sent,
\\Drafts, \\Trash, \\Junk, \\Archive, \\All, \\Flagged) or -.

With a folder (in the URL, or --folder), one line per message, oldest
first:
  UID  FLAGS  DATE  SIZE  FROM  SUBJECT
FLAGS space-separated or -, DATE the Date field in ISO 8601 or - (none or
unreadable), SIZE in octets as the server counts them (CRLF line ends),
FROM the first sender, FROM and SUBJECT decoded (RFC 2047). Control
characters from the server are made visible, never sent to the terminal.

--fetch UID writes the message, raw, to stdout; with --maildir or --mbox
each message given is stored there, quietly.

--structure UID prints the message's MIME tree as mime-unpack does, one
line a part: PART TYPE CHARSET ENCODING SIZE DISPOSITION FILENAME, from
the server's BODYSTRUCTURE, nothing downloaded. SIZE is exact for 7bit and
8bit parts, and for base64 and quoted-printable ones when the server offers
BINARY; otherwise it is estimated from the encoded size. --part UID PART
writes that part, fetched alone and decoded: the bytes that --fetch UID
piped into mime-unpack --part PART gives. --capabilities prints the
greeting, TLS facts and capabilities, one line each.

Nothing on the server changes: folders are opened with EXAMINE, messages
read with BODY.PEEK, and no command that sets a flag, expunges or appends
exists in imap-list.",
    },
    Section {
        title: "JSON",
        body: "\
Folders, one object each:
  name, delimiter (null for a flat name space), flags (every attribute),
  special_use, messages, unseen (null when unknown), selectable
Messages, one object each:
  uid, flags, date (ISO 8601 or null), from, subject, size, message_id
Stored messages (--fetch with --maildir or --mbox, and --new), one object
each:
  record \"message\", folder, uid, size, path (Maildir only), status:
  stored; with --new also duplicate (after a UIDVALIDITY change, the same
  Message-ID and size as a message stored before: not stored again) or
  gone (expunged by another session since the plan)
then for --new one summary: record \"summary\", folders, fetched,
duplicates, gone, bytes.
--capabilities --json: one object with greeting, tls, capabilities.",
    },
    Section {
        title: "URL",
        body: "\
imap://[USER@]HOST[:PORT][/FOLDER][;UIDVALIDITY=N][/;UID=N] (RFC 5092),
imaps://... for TLS from the start. FOLDER is percent-encoded UTF-8
(Entw%C3%BCrfe), levels separated by the server's delimiter. A URL that
pins ;UIDVALIDITY=N is refused (67) when the folder's UIDVALIDITY differs:
its UIDs may now name other messages. ;UID=N fetches that message, as
--fetch N does.",
    },
    Section {
        title: "STORAGE",
        body: "\
--maildir DIR: each message in DIR/tmp, synced, linked into DIR/new under a
unique name, DIR/new synced (cur, new and tmp are created when missing).
--mbox FILE: mboxrd, fcntl and dot-file locks, synced. Messages have LF line
ends unless --keep-crlf; otherwise they are byte-exact.

--new (download and keep, from cron) stores, folder by folder, only what
no earlier run stored. The state file remembers per folder its
UIDVALIDITY and each message stored (UID, size, Message-ID); it is synced
with each batch of messages (up to 64 or 16 MiB) before they are linked
into DIR/new or appended, so a run killed at any point repeats nothing and
loses nothing. When a folder's
UIDVALIDITY changed (the server renumbered it), a warning says so and the
folder is fetched again, leaving out each message an earlier run stored
(same Message-ID and size).",
    },
    Section {
        title: "EXAMPLES",
        body: "\
imap-list imaps://me@mail.example.org                       # folders
imap-list imaps://me@mail.example.org/INBOX --limit 20      # the newest 20
imap-list imaps://me@mail.example.org/INBOX --search 'UNSEEN SINCE 1-Nov-2026'
imap-list imaps://me@mail.example.org/INBOX --fetch 42 | mime-unpack --extract -d out/
imap-list imaps://me@mail.example.org/INBOX --structure 42
*/10 * * * * imap-list imaps://me@mail.example.org --all-folders --new --maildir ~/Archive
imap-list --capabilities imap://mail.example.org",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   done (no new mail included)
  64  usage error (a search the server cannot read too)
  67  no such folder, UID or part; the UIDVALIDITY pinned by the URL
      differs
  69  the server refused for good
  73  the destination cannot be created
  74  a message could not be stored (disk full)
  75  temporary failure: [UNAVAILABLE], a connection lost or a response cut
      short, a timeout, the state file in use by another run
  76  protocol or TLS failure; STARTTLS required but not offered; a
      PREAUTH greeting when TLS is required; the certificate refused
  77  login refused (a wrong password, LOGINDISABLED without a usable
      mechanism)
  78  configuration error (password file readable by others, bad netrc)",
    },
];

/// List folders and messages on an IMAP server; fetch messages, read-only.
///
/// Without a folder, lists the folders with their counts. With a folder
/// (in the URL or --folder), lists its messages, or fetches some with
/// --fetch. Nothing on the server changes: folders are opened read-only
/// (EXAMINE) and messages read without setting \Seen (BODY.PEEK).
#[derive(Parser, Debug)]
#[command(name = "imap-list", version, after_long_help = super::help_text(SECTIONS, &REFERENCES))]
pub struct Args {
    /// The server: imap://[USER@]HOST[:PORT][/FOLDER] (STARTTLS required)
    /// or imaps://... (TLS from the start); see URL.
    #[arg(value_name = "URL")]
    pub url: String,

    /// The folder to list or fetch from, in UTF-8 (instead of the URL's);
    /// with --new it may be repeated.
    #[arg(long, value_name = "NAME")]
    pub folder: Vec<String>,

    /// With --new: every folder that can be opened.
    #[arg(long, requires = "new", conflicts_with = "folder")]
    pub all_folders: bool,

    /// List only the newest N messages (those with the highest UIDs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// List only the messages matching these IMAP search keys (RFC 3501
    /// §6.4.4), e.g. 'UNSEEN SINCE 1-Nov-2026' or 'FROM "Jane Doe"'.
    #[arg(long, value_name = "KEYS")]
    pub search: Option<String>,

    /// Fetch the messages with these UIDs: one to stdout, raw; several into
    /// --maildir or --mbox.
    #[arg(long, value_name = "UID", num_args = 1.., group = "action",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fetch: Vec<u32>,

    /// Print the MIME structure of message UID (from BODYSTRUCTURE, as
    /// mime-unpack shows a message) without downloading it.
    #[arg(long, value_name = "UID", group = "action",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub structure: Option<u32>,

    /// Write part PART (a part number, as --structure shows) of message UID
    /// to stdout, decoded.
    #[arg(long, num_args = 2, value_names = ["UID", "PART"], group = "action")]
    pub part: Option<Vec<String>>,

    /// Print what the server offers (capabilities, TLS) and log in to
    /// nothing.
    #[arg(long, group = "action")]
    pub capabilities: bool,

    /// Store only messages that no earlier run stored (download and keep:
    /// the state file remembers what was stored); needs --maildir or
    /// --mbox.
    #[arg(long, group = "action")]
    pub new: bool,

    /// Store messages in this Maildir (created with cur, new and tmp when
    /// missing).
    #[arg(long, value_name = "DIR", group = "destination")]
    pub maildir: Option<PathBuf>,

    /// Append messages to this mbox file (mboxrd).
    #[arg(long, value_name = "FILE", group = "destination")]
    pub mbox: Option<PathBuf>,

    /// The state file of --new (default:
    /// $XDG_STATE_HOME/mailkit/imap-USER@HOST:PORT).
    #[arg(long, value_name = "FILE", requires = "new")]
    pub state: Option<PathBuf>,

    /// Store and write messages with CRLF line ends, as sent (default: LF).
    #[arg(long)]
    pub keep_crlf: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub timeout: TimeoutArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

impl Args {
    /// The message asked for by `--part UID PART`.
    pub fn part_wanted(&self) -> Result<Option<(u32, String)>, crate::Error> {
        let Some(values) = &self.part else {
            return Ok(None);
        };
        let uid = values[0]
            .parse::<u32>()
            .ok()
            .filter(|&uid| uid > 0)
            .ok_or_else(|| crate::Error::usage(format!("--part: {:?} is not a UID", values[0])))?;
        Ok(Some((uid, values[1].clone())))
    }
}
