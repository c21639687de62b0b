//! `smtp-send`: hand a message to an SMTP server.

use std::path::PathBuf;

use clap::Parser;

use super::{Entry, References, Section};
use crate::cli::{CommonArgs, ConnectionArgs, CredentialArgs, OutputArgs, TimeoutArgs};
use crate::error::Error;
use crate::smtp::Dsn;
use crate::smtp::queue::SendRoute;
use crate::smtp::submit::{DirectDelivery, Route, SendOptions, Step};

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[
        Entry {
            name: "VAR",
            about: "the variable that --password-env VAR names: the password (or with --oauth the access \
                    token); a queue entry records the name, and --flush reads it again",
        },
        Entry {
            name: "HOME",
            about: "where ~/.netrc is",
        },
        Entry {
            name: "SSL_CERT_FILE",
            about: "a PEM file of trusted roots instead of the system's (OpenSSL's \
                    variable), when --cafile is not given",
        },
        Entry {
            name: "SSL_CERT_DIR",
            about: "a directory of trusted roots (hashed names, as c_rehash makes them) \
                    instead of the system's, when --cafile is not given",
        },
        Entry {
            name: "TMPDIR",
            about: "where a message read from stdin is kept, in an unnamed file, while it \
                    is sent, when it is over 8 MiB (smaller ones stay in memory); default /tmp",
        },
    ],
    files: &[
        super::NETRC,
        Entry {
            name: "DIR/new/",
            about: "the queue (--queue DIR, --flush DIR, --list-queue DIR): one file per \
                    queued message, 0600 in a 0700 directory, holding the envelope, the \
                    route and the message",
        },
        Entry {
            name: "DIR/tmp/",
            about: "queue entries being written; they move to DIR/new/ once complete",
        },
        Entry {
            name: "DIR/lock",
            about: "held by a --flush while it runs; a second flush exits 75",
        },
        Entry {
            name: "/etc/resolv.conf",
            about: "without --server, the resolvers asked for the recipients' MX \
                    records (unless --dns-server)",
        },
        Entry {
            name: "/etc/hosts",
            about: "this host's fully qualified name for EHLO when --helo is not \
                    given and the kernel's host name has no dot",
        },
    ],
    see_also: &["swaks(1)", "msmtp(1)", "sendmail(8)", "netrc(5)"],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Quiet on success. Each recipient that was not accepted gets a line on stderr:
  RECIPIENT: rejected|deferred|queued: the server's reply
Without --queue, a note then names the recipients that were deferred and not
queued: nobody will retry them unless the command is run again for them.
A DSN request (--notify, --ret, --envid) to a server that does not offer DSN
is not sent, and a note says so.
With --json, one object per recipient on stdout, accepted ones included.

--list-queue DIR prints one line per queued message, tab-separated:
  ID  AGE  ATTEMPTS  SENDER  RECIPIENTS  LAST-REPLY
the age as 3d4h, 2h5m or 40s, recipients comma-separated, - for no reply.",
    },
    Section {
        title: "JSON",
        body: "\
With --json, one object per recipient and message:
  recipient   the address
  status      accepted | rejected | deferred | queued
  reply       the server's reply (or why there was none)
  dsn_ignored true, only when a DSN was asked for and the server does not
              offer DSN (the request was not sent)

With --list-queue DIR --json, one object per queued message:
  id            the entry's file name in DIR/new
  sender        the envelope sender
  recipients    the recipients still to deliver to
  created       when it was queued (seconds since the epoch)
  age           seconds since then
  attempts      delivery attempts so far
  next_attempt  not retried before this time (seconds since the epoch)
  last_reply    the last temporary failure, or null
  route         how it is sent, as options (--server URL ...), or null for
                an entry queued by an earlier version

With --dry-run --json, one object per message, and not the message itself:
  sender        the envelope sender (MAIL FROM)
  recipients    the envelope recipients (RCPT TO), in order
  octets        the size of the data as sent (CRLF line ends): SIZE=
  longest_line  the longest line in octets, without its CRLF
  eight_bit     true when an octet is 8-bit (BODY=8BITMIME when offered)
  smtputf8      true when an address or the header needs SMTPUTF8
  commands      the MAIL command, then each RCPT command, as sent to a
                server that offers no extension",
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
        title: "QUEUE",
        body: "\
With --queue DIR, deferred recipients are spooled in DIR (created 0700, each
entry 0600) with the message and the way it was sent: the server URL or MX
delivery, --port, --tls, --cafile, --fingerprint, --insecure, --dns-server,
the user and where the password comes from (--password-file, --password-env,
--password-command, --netrc-file; never the password itself). Relative paths
are recorded as absolute ones. A DSN request (--notify, --ret, --envid) is
recorded too, and a flush repeats it.

--flush DIR sends each entry the way it was queued: it needs no route
options. A flush that gives route options (a server, connection or
credential options) must give exactly the recorded route; an entry recorded
for another one is kept, not sent, and reported, and the exit status is 64,
unless --reroute is given: then it is sent the flush's way, which it records
from then on. An entry from an earlier version, which records no route, is
sent the flush's way (without --server: to the recipients' MX hosts) with a
warning. Deferred again, an entry waits twice as long (5 minutes, doubling,
at most 4 hours); older than --max-age, it is given up and reported (69).",
    },
    Section {
        title: "EXAMPLES",
        body: "\
smtp-send --server smtps://alice@mail.example.org --password-file ~/.mailpass -t < message.eml
mime-pack --from a@example.org --to b@example.org report.pdf < body.txt | smtp-send --server smtp://mail.example.org -t
smtp-send --server smtp://mx.example.org --queue ~/.mailqueue bob@example.org < message.eml
smtp-send --flush ~/.mailqueue       # from cron: each entry as it was queued
smtp-send --list-queue ~/.mailqueue
smtp-send -v --server smtp://mx.example.org --quit-after rcpt bob@example.org < /dev/null",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   every recipient accepted (or queued with --queue)
  64  usage error; a --flush entry recorded for another route (--reroute)
  65  the message or an address cannot be sent as it is
  66  a --file or the --list-queue directory cannot be read
  67  a recipient was rejected (the others still got the message)
  68  a recipient domain does not exist or has no mail route (without --server)
  69  permanent failure: 5xx to MAIL or DATA, the SIZE limit, a null MX,
      refused service; a queued message given up after --max-age
  73  the queue directory or an entry cannot be created
  75  temporary failure: 4xx (454 to a required STARTTLS too), refused or
      reset connection, timeout
  76  protocol or TLS failure; STARTTLS required but not offered or refused
      for good; a server out of step between messages (those not yet sent
      are deferred, and queued with --queue)
  77  authentication failed
  78  configuration error (password file readable by others, bad netrc)
When results mix, one rule decides: a permanent failure wins over a
temporary one, and among permanent ones the one nearest the recipient: 67
(5xx to RCPT) over 68 (no mail route) over 69 (5xx to MAIL or DATA). So 550
to one RCPT and 451 to another is 67, and the deferred one is only retried
with --queue (the note on stderr names it); 550 to one RCPT and 554 to DATA
for the others is 67; 451 to one RCPT and 554 to DATA is 69.",
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
#[command(name = "smtp-send", version, after_long_help = super::help_text(SECTIONS, &REFERENCES))]
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

    /// Show the envelope and what would be sent; connect to nothing. With
    /// --json, one object per message instead (see JSON).
    #[arg(long)]
    pub dry_run: bool,

    /// On a temporary failure, spool the message in DIR and exit 0 with
    /// status queued.
    #[arg(long, value_name = "DIR")]
    pub queue: Option<PathBuf>,

    /// Retry every message spooled in DIR (for cron), each the way it was
    /// queued (see QUEUE).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["queue", "files", "recipients"])]
    pub flush: Option<PathBuf>,

    /// With --flush, send entries queued for another route by the route
    /// this command gives (otherwise they are kept and reported).
    #[arg(long, requires = "flush")]
    pub reroute: bool,

    /// List the messages spooled in DIR, as mailq does: each entry, its
    /// recipients, age, attempts and last reply; nothing is sent.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["queue", "flush", "files", "recipients", "dry_run"]
    )]
    pub list_queue: Option<PathBuf>,

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

impl Args {
    /// The route these options give, as a queue entry records it: the
    /// server URL in canonical form (explicit port), paths made absolute,
    /// the password's source and never the password. 64 for a server URL
    /// that is not one (a URL with a password is refused without
    /// repeating it).
    pub fn send_route(&self) -> Result<SendRoute, Error> {
        let connection = &self.connection;
        let credentials = &self.credentials;
        let absolute = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        };
        let server = match &self.server {
            Some(text) => Some(crate::net::url::parse(text)?.to_string()),
            None => None,
        };
        Ok(SendRoute {
            server,
            dns_server: self.dns_server.map(|a| a.to_string()),
            port: connection.port,
            tls: connection
                .tls
                .and_then(|t| clap::ValueEnum::to_possible_value(&t))
                .map(|v| v.get_name().to_string()),
            cafile: absolute(&connection.cafile),
            fingerprint: connection.fingerprint.clone(),
            insecure: connection.insecure,
            user: credentials.user.clone(),
            password_file: absolute(&credentials.password_file),
            password_env: credentials.password_env.clone(),
            password_command: credentials.password_command.clone(),
            netrc_file: absolute(&credentials.netrc_file),
            oauth: credentials.oauth,
            allow_plaintext_auth: credentials.allow_plaintext_auth,
        })
    }

    /// Whether any route option (server, connection, credentials, DNS
    /// server) was given.
    pub fn route_given(&self) -> bool {
        let credentials = &self.credentials;
        self.server.is_some()
            || self.dns_server.is_some()
            || self.connection.is_given()
            || credentials.user.is_some()
            || credentials.source().is_some()
            || credentials.oauth
            || credentials.allow_plaintext_auth
    }

    /// The session options: EHLO name, DSN, --quit-after.
    pub fn send_options(&self) -> SendOptions {
        SendOptions {
            helo: self.helo.clone(),
            dsn: Dsn {
                notify: self.notify.clone(),
                ret: self.ret.clone(),
                envid: self.envid.clone(),
            },
            quit_after: self.quit_after,
        }
    }
}

/// Where messages go by `recorded`: its server, or each recipient
/// domain's MX hosts; the password is loaded from its source now.
pub fn route(recorded: &SendRoute, timeout: std::time::Duration) -> Result<Route, Error> {
    let tls = match &recorded.tls {
        Some(name) => Some(
            <crate::net::connection::TlsMode as clap::ValueEnum>::from_str(name, true).map_err(
                |_| Error::config(format!("unknown TLS mode {name:?} in a queue entry")),
            )?,
        ),
        None => None,
    };
    let connection = ConnectionArgs {
        port: recorded.port,
        tls,
        cafile: recorded.cafile.clone(),
        fingerprint: recorded.fingerprint.clone(),
        insecure: recorded.insecure,
    };
    let Some(server) = &recorded.server else {
        let dns_server = match &recorded.dns_server {
            Some(text) => Some(crate::dns::parse_server(text)?),
            None => None,
        };
        let resolver = crate::dns::ResolverSettings {
            server: dns_server,
            timeout,
            addresses: true,
        };
        let certificate = connection.tls_settings();
        let direct = DirectDelivery::new(resolver, connection.port, tls, certificate, timeout);
        return Ok(Route::Direct(direct));
    };
    let credentials = CredentialArgs {
        user: recorded.user.clone(),
        password_file: recorded.password_file.clone(),
        password_env: recorded.password_env.clone(),
        password_command: recorded.password_command.clone(),
        netrc_file: recorded.netrc_file.clone(),
        oauth: recorded.oauth,
        allow_plaintext_auth: recorded.allow_plaintext_auth,
        without_login: false,
    };
    let (_, endpoint) = connection.endpoint(server, "smtp", &credentials, timeout)?;
    Ok(Route::Server(endpoint))
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

#[cfg(test)]
mod route_tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("smtp-send").chain(list.iter().copied())).unwrap()
    }

    #[test]
    fn the_recorded_route_is_canonical_and_holds_no_password() {
        let given = args(&[
            "--flush",
            "q",
            "--server",
            "smtp://alice@MAIL.example.org",
            "--password-file",
            "pw",
            "--tls",
            "starttls",
        ]);
        assert!(given.route_given());
        let route = given.send_route().unwrap();
        assert_eq!(
            route.server.as_deref(),
            Some("smtp://alice@mail.example.org:25")
        );
        assert_eq!(route.tls.as_deref(), Some("starttls"));
        let file = route.password_file.unwrap();
        assert!(file.is_absolute() && file.ends_with("pw"), "{file:?}");
        let plain = args(&["--flush", "q", "--force", "--timeout", "5", "-v"]);
        assert!(!plain.route_given());
        assert_eq!(plain.send_route().unwrap(), SendRoute::default());
        let secret = args(&["--flush", "q", "--server", "smtp://a:s3cret@h"]);
        let error = secret.send_route().unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::Usage);
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
