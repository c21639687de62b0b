//! `mx-lookup`: where does mail for this domain go?

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use super::{Entry, References, Section};
use crate::cli::{CommonArgs, ConnectionArgs, OutputArgs};

/// `-v` here: the DNS questions, and the probes' SMTP conversations.
const VERBOSE: &str = "Show on stderr each DNS question with the resolver asked (`->`) and its \
answer, or why none came (`<-`); with --probe, also the conversation with each exchange \
(`->` sent, `<-` received; `~>`/`<~` once TLS is up)";

/// ENVIRONMENT, FILES and SEE ALSO of the man page.
pub const REFERENCES: References = References {
    environment: &[
        Entry {
            name: "SSL_CERT_FILE",
            about: "with --probe, a PEM file of trusted roots instead of the system's \
                    (OpenSSL's variable), when --cafile is not given",
        },
        Entry {
            name: "SSL_CERT_DIR",
            about: "with --probe, a directory of trusted roots (hashed names, as \
                    c_rehash makes them) instead of the system's, when --cafile is not given",
        },
    ],
    files: &[
        Entry {
            name: "/etc/resolv.conf",
            about: "the resolvers asked (its nameserver lines) when --server is not given",
        },
        Entry {
            name: "/etc/hosts",
            about: "with --probe, this host's fully qualified name for EHLO when --helo \
                    is not given and the kernel's host name has no dot",
        },
    ],
    see_also: &["dig(1)", "host(1)", "swaks(1)", "resolv.conf(5)"],
};

/// The sections after the options, in `--help` and in the man page.
pub const SECTIONS: &[Section] = &[
    Section {
        title: "OUTPUT",
        body: "\
Text: one line per exchange, space-separated, in the order a sender tries them:
  DOMAIN PREFERENCE EXCHANGE [ADDRESS...]
A domain with no MX record but an address (the implicit MX of RFC 5321 §5.1)
is shown with preference 0 and the domain itself as exchange, with a note on
stderr. Failures (NXDOMAIN, null MX, SERVFAIL, ...) go to stderr, one line per
domain; warnings (an exchange that is an alias or has no address) too.

With --probe, each exchange line is followed by one indented probe line:
  probe ADDRESS:PORT STEP, STEP, ...
The steps, as far as the probe got, each with the milliseconds it took:
  connect N ms
  banner \"TEXT\" N ms            the greeting, terminal-safe
  EHLO N ms
  STARTTLS VERSION verified N ms
  STARTTLS VERSION not verified (WHY) N ms
  no STARTTLS                   when the server does not offer it
  KEYWORD KEYWORD ...           the extensions offered before TLS
  error: WHY                    why the probe stopped early
for example:
  probe 192.0.2.10:25 connect 12 ms, banner \"220 mx1.example.org ESMTP\" 30 ms,
  EHLO 11 ms, STARTTLS TLSv1.3 verified 45 ms, SIZE 8BITMIME PIPELINING STARTTLS
(one line). The first address of each exchange is probed (A records come
first); an exchange without an address is not probed and has no probe line.
The certificate must be valid for the exchange's name (the system roots, or
--cafile instead). When it is not, the verdict says why, and STARTTLS is tried once
more on a new connection without the check, for the TLS facts. VERSION is
the negotiated protocol (TLSv1.3, TLSv1.2, ...). Probes run after
the lookups, a few at a time; the output stays in input order.

The Connection options go with --probe: --port (default 25); --tls
starttls or opportunistic (the default: STARTTLS when offered), implicit
(TLS from the first byte, for port 465; shown as TLS instead of STARTTLS)
or none (EHLO only); --cafile, --fingerprint and --insecure for the
certificate check.",
    },
    Section {
        title: "JSON",
        body: "\
With --json, one object per input, in input order:
  domain     the domain asked for, in A-labels
  input      the input as given
  status     ok | nxdomain | no_mail | null_mx | servfail | timeout | invalid
  implicit   true when the route is the domain's own address (no MX record)
  mx         [{preference, exchange, addresses, cname}], in the order a sender
             tries them; cname is the target when the exchange is an alias
             (forbidden by RFC 5321 §5.1), otherwise null
  error      why the status is not ok (absent when ok)
  warnings   problems that do not stop delivery (absent when none)
With --probe, each mx entry that was probed also has
  probe      {address, port, connected_ms, banner, banner_ms, ehlo_ms,
             extensions, starttls, error}: the address and port connected
             to; the milliseconds each step took (null when not reached);
             the greeting as sent (the lines of a multi-line greeting joined
             with \" / \"); extensions, the EHLO reply's lines before TLS
             ([\"SIZE 1048576\", \"PIPELINING\", \"STARTTLS\", ...]); starttls,
             null when not offered or not reached, else {version, cipher,
             verified, verdict, fingerprint, ms}: version the negotiated
             protocol (\"TLSv1.3\"), cipher OpenSSL's name of the cipher
             suite (\"TLS_AES_256_GCM_SHA384\"); verdict is \"verified\" or why not
             (e.g. \"self-signed certificate\", \"hostname mismatch\"),
             fingerprint the SHA-256 of the server's certificate in hex, ms
             the time of STARTTLS, the handshake and the EHLO after it;
             error, why the probe stopped early, or null.",
    },
    Section {
        title: "EXAMPLES",
        body: "\
mx-lookup example.org
mx-lookup --json alice@example.org bob@example.net
mx-lookup --probe example.org
mx-lookup --probe --json example.org | jq '.mx[].probe.starttls.verdict'
cut -d@ -f2 addresses.txt | sort -u | mx-lookup --no-addresses
mx-lookup --server 127.0.0.1:5353 --json < domains.txt | jq -r 'select(.status != \"ok\") | .domain'",
    },
    Section {
        title: "EXIT STATUS",
        body: "\
sysexits.h numbering, the same in every mailkit tool:
  0   every domain has a mail route
  64  usage error
  65  an input is not a valid domain name
  68  NXDOMAIN, or no mail route
  69  null MX: the domain accepts no mail (RFC 7505)
  74  output could not be written
  75  SERVFAIL, timeout, or a resolver where nothing listens (refused at
      once): try again later
  78  the system resolver configuration, or the --cafile, cannot be read
With several domains, the status of the first one that failed. The status is
about DNS only: a probe that fails (a refused connection, a bad certificate)
is reported in the output and does not change it.",
    },
];

/// Where does mail for a domain go? MX records in preference order, with
/// each exchange's addresses.
///
/// Prints each domain's MX records in the order a sender tries them (RFC
/// 5321 §5.1) with every exchange's A and AAAA addresses; the implicit MX
/// when there is no MX record; null MX (RFC 7505) as a domain that accepts
/// no mail. Domains (IDN names are converted to
/// A-labels) or e-mail addresses (the domain after the last @) come as
/// arguments, or one a line on stdin. Many domains are looked up
/// concurrently, and the results come out in input order as soon as they
/// are known. With --probe, each exchange is also connected to, to see its
/// banner, extensions, STARTTLS and certificate.
#[derive(Parser, Debug)]
#[command(name = "mx-lookup", version, after_long_help = super::help_text(SECTIONS, &REFERENCES),
    mut_arg("verbose", |a| a.help(VERBOSE)))]
pub struct Args {
    /// Domains or e-mail addresses; when none, one a line on stdin (blank
    /// lines and # comments skipped).
    #[arg(value_name = "DOMAIN|ADDRESS")]
    pub targets: Vec<String>,

    /// Ask this resolver (UDP, then TCP when the answer is truncated)
    /// instead of the system's (/etc/resolv.conf).
    #[arg(long, value_name = "IP[:PORT]", value_parser = crate::dns::parse_server)]
    pub server: Option<SocketAddr>,

    /// Do not look up the exchanges' A and AAAA records.
    #[arg(long)]
    pub no_addresses: bool,

    /// How many domains to look up at once.
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,

    /// Connect to each exchange's first address (A before AAAA) and report
    /// what a sending server sees: the banner, EHLO and its extensions,
    /// STARTTLS with the TLS version and the certificate verdict, and the
    /// time of each step. Nothing is sent beyond EHLO, STARTTLS and QUIT.
    /// Probe failures are reported, but do not change the exit status.
    #[arg(long, conflicts_with = "no_addresses", help_heading = "Probe")]
    pub probe: bool,

    // With --probe: the port (default 25), TLS mode (default: STARTTLS
    // when offered; implicit for port 465; none to skip it) and the
    // certificate checks of each probe.
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// The name to give in EHLO (default: this host's fully qualified name,
    /// from the kernel or /etc/hosts, else the address literal of this end
    /// of the connection, e.g. [192.0.2.1]; RFC 5321 §4.1.1.1).
    #[arg(long, value_name = "NAME", value_parser = crate::dns::probe::parse_helo,
          requires = "probe", help_heading = "Probe")]
    pub helo: Option<String>,

    #[command(flatten)]
    pub output: OutputArgs,

    /// Give up on a domain's lookup after SECS seconds (default 15: a
    /// resolver answers fast or not at all; questions are sent again
    /// within it, and a refused one, nothing listening, ends at once); with
    /// --probe, also on each connection, read or write (default 60, as in
    /// every mailkit tool).
    #[arg(
        long,
        value_name = "SECS",
        value_parser = crate::cli::parse_seconds,
        help_heading = "Common options"
    )]
    pub timeout: Option<Duration>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The probes' limit for a connection, read or write when --timeout is
/// not given (the shared default of every connection tool).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

impl Args {
    /// The limit for one domain's lookup: --timeout, else
    /// [`crate::dns::DEFAULT_TIMEOUT`].
    pub fn dns_timeout(&self) -> Duration {
        self.timeout.unwrap_or(crate::dns::DEFAULT_TIMEOUT)
    }

    /// The limit for each step of a probe: --timeout, else
    /// [`PROBE_TIMEOUT`].
    pub fn probe_timeout(&self) -> Duration {
        self.timeout.unwrap_or(PROBE_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dns_default_is_15_seconds_and_the_probes_keep_60() {
        let args = Args::try_parse_from(["mx-lookup", "example.org"]).unwrap();
        assert_eq!(args.dns_timeout(), Duration::from_secs(15));
        assert_eq!(args.probe_timeout(), Duration::from_secs(60));
        let args = Args::try_parse_from(["mx-lookup", "--timeout", "2.5", "x.org"]).unwrap();
        assert_eq!(args.dns_timeout(), Duration::from_millis(2500));
        assert_eq!(args.probe_timeout(), Duration::from_millis(2500));
        assert!(Args::try_parse_from(["mx-lookup", "--timeout", "0", "x.org"]).is_err());
    }
}
