//! `smtp-send`: hand a message to an SMTP server.

use std::path::PathBuf;

use clap::Parser;

use super::Section;
use crate::cli::{CommonArgs, ConnectionArgs, CredentialArgs, OutputArgs, TimeoutArgs};
use crate::smtp::submit::Step;

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Quiet on success. Each recipient that was not accepted gets a line on stderr:
  RECIPIENT: rejected|deferred|queued: the server's reply
With --json, one object per recipient on stdout, accepted ones included.",
    },
    Section {
        title: "JSON",
        body: "\
With --json, one object per recipient and message:
  recipient   the address
  status      accepted | rejected | deferred | queued
  reply       the server's reply (or why there was none)",
    },
    Section {
        title: "SAFETY",
        body: "\
Every CR, LF or CRLF of the message goes out as CRLF, dot-stuffing is done on
the stream, and the data ends with exactly CRLF.CRLF: no input can end the
data early or smuggle a second message. Lines over 998 octets are refused
(65). STARTTLS is sent alone; bytes after its reply and before the handshake
abort the session (76). No password crosses a connection without TLS unless
--allow-plaintext-auth; the transcript (-v) shows secrets as ****.

Opportunistic TLS (--tls opportunistic, the default without --server) is
encryption without authentication, as MTAs deliver (RFC 7435): certificates
are not checked unless --cafile or --fingerprint is given; a refused STARTTLS
goes on in plain text, and a failed handshake is followed by a new plain
connection. Without --server, an exchange that fails the connection, TLS or
the protocol, or defers every recipient, is followed by the next one, in
preference order.",
    },
    Section {
        title: "EXAMPLES",
        body: "\
smtp-send --server smtps://alice@mail.example.org --password-file ~/.mailpass -t < message.eml
mime-pack --from a@example.org --to b@example.org report.pdf < body.txt | smtp-send --server smtp://mail.example.org -t
smtp-send --server smtp://mx.example.org --queue ~/.mailqueue bob@example.org < message.eml
smtp-send --server smtp://mx.example.org --flush ~/.mailqueue       # from cron
smtp-send -v --server smtp://mx.example.org --quit-after rcpt bob@example.org < /dev/null",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   every recipient accepted (or queued with --queue)
  64  usage error
  65  the message or an address cannot be sent as it is
  66  a --file cannot be read
  67  a recipient was rejected (the others still got the message)
  69  permanent failure: 5xx to MAIL or DATA, the SIZE limit, refused service
  75  temporary failure: 4xx, refused or reset connection, timeout
  76  protocol or TLS failure; STARTTLS required but not offered
  77  authentication failed
  78  configuration error (password file readable by others, bad netrc)",
    },
];

/// Hand a message to an SMTP server.
///
/// Reads one message from stdin (or each --file, all over one connection)
/// and sends it to the recipients given as arguments and/or, with -t, those
/// of its To, Cc and Bcc fields (Bcc is removed from what is sent). The
/// envelope sender is -f or the From address. Date and Message-ID are added
/// when missing.
#[derive(Parser, Debug)]
#[command(name = "smtp-send", version, after_long_help = super::help_sections(SECTIONS))]
pub struct Args {
    /// Recipients.
    #[arg(value_name = "RECIPIENT")]
    pub recipients: Vec<String>,

    /// Also send to the To, Cc and Bcc addresses of the message.
    #[arg(short = 't', long = "read-recipients")]
    pub read_recipients: bool,

    /// The envelope sender (MAIL FROM); default: the From address.
    #[arg(short = 'f', long = "from", value_name = "ADDRESS")]
    pub sender: Option<String>,

    /// Accepted for sendmail compatibility: a lone dot never ends the input.
    #[arg(short = 'i')]
    pub ignore_dots: bool,

    /// sendmail options (-oi is accepted; others are ignored).
    #[arg(short = 'o', value_name = "OPTION", hide = true)]
    pub sendmail_options: Vec<String>,

    /// Send this message file (repeatable: all over one connection).
    #[arg(long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The server: smtp://[USER@]HOST[:PORT] or smtps://... Without it, the
    /// message goes straight to each recipient domain's MX hosts (port 25,
    /// or --port; opportunistic STARTTLS).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// Without --server: the DNS resolver to ask for MX records
    /// (default: the system's).
    #[arg(long, value_name = "IP[:PORT]", value_parser = crate::dns::parse_server)]
    pub dns_server: Option<std::net::SocketAddr>,

    /// The name to give in EHLO (default: this host's fully qualified name,
    /// from the kernel or /etc/hosts, else the address literal of this end
    /// of the connection, e.g. [192.0.2.1]; RFC 5321 §4.1.1.1).
    #[arg(long, value_name = "NAME", value_parser = crate::dns::probe::parse_helo)]
    pub helo: Option<String>,

    /// DSN: when to notify (e.g. SUCCESS,FAILURE or NEVER; RFC 3461).
    #[arg(long, value_name = "WHEN")]
    pub notify: Option<String>,

    /// DSN: return FULL message or HDRS only.
    #[arg(long, value_name = "FULL|HDRS")]
    pub ret: Option<String>,

    /// DSN: envelope id.
    #[arg(long, value_name = "ID")]
    pub envid: Option<String>,

    /// Stop after this step, say QUIT, and send no message (for diagnosing a
    /// server; stdin may be empty, the sender then <> unless -f). After
    /// rcpt, each recipient's result is its RCPT reply, with the usual exit
    /// statuses: an address check. A failure before the step is reported
    /// as usual; nothing is ever queued.
    #[arg(long, value_enum, value_name = "STEP")]
    pub quit_after: Option<Step>,

    /// Show the envelope and what would be sent; connect to nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// On a temporary failure, spool the message in DIR and exit 0 with
    /// status queued.
    #[arg(long, value_name = "DIR")]
    pub queue: Option<PathBuf>,

    /// Retry every message spooled in DIR (for cron).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["queue", "files", "recipients"])]
    pub flush: Option<PathBuf>,

    /// With --flush, retry every message now, whatever its back-off says.
    #[arg(long, requires = "flush")]
    pub force: bool,

    /// With --flush, give up on messages older than this (e.g. 5d, 12h, 30m).
    #[arg(long, value_name = "AGE", default_value = "5d", value_parser = parse_age)]
    pub max_age: u64,

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

/// `5d`, `12h`, `30m`, `90s` or plain seconds, as seconds.
pub fn parse_age(text: &str) -> Result<u64, String> {
    let (number, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], c),
        _ => (text, 's'),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not an age like 5d or 12h"))?;
    let unit = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    Ok(n.saturating_mul(unit))
}
