//! `pop3-fetch`: list or fetch a POP3 mailbox.

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
        Entry {
            name: "MAILKIT_*",
            about: "set for each --mda command: MAILKIT_NUMBER, MAILKIT_UIDL, MAILKIT_SIZE, \
                    MAILKIT_SERVER, MAILKIT_USER (see MDA)",
        },
    ],
    files: &[
        super::NETRC,
        Entry {
            name: "$XDG_STATE_HOME/mailkit/pop3-USER@HOST:PORT",
            about: "the state file (--state FILE chooses another), a journal: a first \
                    line naming the format, then one line per stored message, its UIDL and, \
                    for a Maildir, the file name it was written under (a UIDL followed by %H: \
                    its header alone, --headers-only); appended and synced as messages are \
                    stored, rewritten at the start of a run with only the messages still on \
                    the server",
        },
        Entry {
            name: "STATE.lock",
            about: "held while a run uses the state file; a second run on the same state \
                    exits 75",
        },
    ],
    see_also: &[
        "mpop(1)",
        "fetchmail(1)",
        "curl(1)",
        "netrc(5)",
        "maildir(5)",
    ],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Without a destination, one line per message on stdout, tab-separated:
  NUMBER  SIZE  UIDL
(- as the UIDL when the server offers no UIDL). Nothing on the server
changes.

Fetching is quiet on success. A message skipped by --max-size gets a note on
stderr. A progress bar is shown on stderr when it is a terminal (never in
pipes or cron). No new mail is not an error: exit 0.

--capabilities prints what the server offers, one line each:
  greeting, TLS (version and cipher, certificate verdict), each CAPA line,
  and the login methods it allows.",
    },
    Section {
        title: "JSON",
        body: "\
Listing, one object per message:
  number  the message number in this session
  size    octets, as the server counts them (CRLF line ends)
  uidl    the unique id, or null when the server has no UIDL

Fetching, one object per message handled:
  record  \"message\"
  number, size, uidl  as above
  status  stored | header_stored | skipped | gone | deleted
          header_stored: the header alone (--headers-only), the message
          left on the server; skipped: larger than --max-size; gone: the
          server refused its RETR (removed by another session since the
          listing; a warning says so); deleted: stored by an earlier run,
          deleted now (--delete)
  path    the Maildir file written (Maildir only)
then one summary object:
  record  \"summary\"
  fetched, skipped (skipped and gone), deleted, bytes

--capabilities --json: one object with greeting, tls (version, cipher,
verified), capabilities (each CAPA line), logins.",
    },
    Section {
        title: "STORAGE",
        body: "\
--maildir DIR: each message is written in DIR/tmp; a batch of them (up to
64 messages or 16 MiB) is synced at once, recorded, linked into DIR/new under
unique names, and the directory synced (cur, new and tmp are created when
missing). --mbox FILE: mboxrd, with fcntl and dot-file locks,
synced. --mda CMD: each message on the standard input of `sh -c CMD`, which
must exit 0 (see MDA). Stored messages have LF line ends, otherwise
byte-exact; --keep-crlf keeps CRLF as sent.

Every message stored is recorded in the state file. With --delete it is
deleted (DELE) only after that, and deletions are committed by QUIT: a run
killed at any point loses nothing and, with --new, repeats nothing: a
message an earlier run stored that is still on the server is deleted by the
next --new --delete run without being fetched again. Without --new every
message is fetched, stored ones too (into another destination, say).",
    },
    Section {
        title: "MDA",
        body: "\
--mda CMD runs CMD with sh -c once per message, the message on its standard
input. Nothing from the message is put in the command: its facts are in the
environment, MAILKIT_NUMBER, MAILKIT_UIDL (empty without UIDL), MAILKIT_SIZE,
MAILKIT_SERVER (host:port) and MAILKIT_USER. The message counts as stored
when CMD exits 0. Any other status stops the run before the message is
deleted: 75 when CMD exited 75 (EX_TEMPFAIL), 74 otherwise.",
    },
    Section {
        title: "EXAMPLES",
        body: "\
pop3-fetch pop3s://me@mail.example.org                 # list
*/5 * * * * pop3-fetch pop3s://me@mail.example.org --netrc-file ~/.netrc --new --delete --maildir ~/Mail
pop3-fetch pop3s://me@mail.example.org --message 3 | mime-unpack
pop3-fetch pop3://me@mail.example.org --mda 'maildrop' --new
pop3-fetch --capabilities pop3://mail.example.org",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   done (no new mail included)
  64  usage error
  67  no such message (--message N, --uid UIDL)
  69  the server refused for good ([SYS/PERM], a refused command)
  73  the destination cannot be created
  74  a message could not be stored (disk full, MDA failed)
  75  temporary failure: [IN-USE], [SYS/TEMP], a connection lost or
      reset (in the TLS handshake too) or a response cut short, a timeout,
      the state file in use by another run; nothing was lost: run again
  76  protocol or TLS failure; STLS required but not offered; the
      certificate refused; a server past the bounds: more than 131072
      messages, a message listed twice, a UIDL two messages share, a
      message over twice its LIST size (and over it by 8 MiB)
  77  login refused ([AUTH], a wrong password, no usable login method)
  78  configuration error (password file readable by others, bad netrc)",
    },
];

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMethod {
    /// The strongest the server offers: SASL (OAUTHBEARER, XOAUTH2 with
    /// --oauth; PLAIN, LOGIN), then APOP, then USER/PASS.
    Auto,
    /// USER and PASS (RFC 1939 §7).
    User,
    /// APOP, the MD5 digest of the greeting's timestamp and the password.
    Apop,
    /// AUTH PLAIN (RFC 5034, RFC 4616).
    Plain,
    /// AUTH LOGIN.
    Login,
    /// AUTH XOAUTH2 (with --oauth).
    Xoauth2,
    /// AUTH OAUTHBEARER (RFC 7628, with --oauth).
    Oauthbearer,
}

/// List or fetch a POP3 mailbox.
///
/// Without a destination, lists the messages (number, size, UIDL) and
/// changes nothing. With --maildir, --mbox or --mda, fetches them; with
/// --message N or --uid UIDL, writes one message to stdout. Download and
/// keep unless --delete.
#[derive(Parser, Debug)]
#[command(name = "pop3-fetch", version, after_long_help = super::help_text(SECTIONS, &REFERENCES))]
pub struct Args {
    /// The server: pop3://[USER@]HOST[:PORT] (STLS required) or
    /// pop3s://... (TLS from the start).
    #[arg(value_name = "URL")]
    pub url: String,

    /// Store messages in this Maildir (created with cur, new and tmp when
    /// missing).
    #[arg(long, value_name = "DIR", group = "destination")]
    pub maildir: Option<PathBuf>,

    /// Append messages to this mbox file (mboxrd); - writes to stdout.
    #[arg(long, value_name = "FILE", group = "destination")]
    pub mbox: Option<PathBuf>,

    /// Pipe each message to this command (run with sh -c), which must exit
    /// 0; message facts are in its environment (see MDA).
    #[arg(long, value_name = "CMD", group = "destination")]
    pub mda: Option<String>,

    /// Write message number N, raw, to stdout.
    #[arg(long, value_name = "N", group = "destination", value_parser = clap::value_parser!(u32).range(1..))]
    pub message: Option<u32>,

    /// Write the message with this UIDL, raw, to stdout.
    #[arg(long, value_name = "UIDL", group = "destination")]
    pub uid: Option<String>,

    /// Print what the server offers (capabilities, TLS, login methods) and
    /// fetch nothing.
    #[arg(long, conflicts_with = "destination")]
    pub capabilities: bool,

    /// Fetch only messages that no earlier run stored (by UIDL, recorded in
    /// the state file).
    #[arg(long)]
    pub new: bool,

    /// The state file (default: $XDG_STATE_HOME/mailkit/pop3-USER@HOST:PORT).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Delete each message from the server once it is stored (download and
    /// delete); never before.
    #[arg(long)]
    pub delete: bool,

    /// Fetch at most N messages in this run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,

    /// Skip messages larger than BYTES (reported; with --headers-only
    /// their header is stored instead).
    #[arg(long, value_name = "BYTES", value_parser = crate::tools::parse_size)]
    pub max_size: Option<u64>,

    /// With --max-size, store the header of a larger message (TOP n 0)
    /// instead of skipping it; the message stays on the server.
    #[arg(long, requires = "max_size")]
    pub headers_only: bool,

    /// Store messages with CRLF line ends, as sent (default: LF).
    #[arg(long)]
    pub keep_crlf: bool,

    /// How to log in (default: the strongest the server offers).
    #[arg(long, value_enum, value_name = "METHOD", default_value = "auto")]
    pub auth: AuthMethod,

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
