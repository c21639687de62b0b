//! `mx-lookup`: where does mail for this domain go?

use std::net::SocketAddr;

use clap::Parser;

use super::Section;
use crate::cli::{CommonArgs, OutputArgs, TimeoutArgs};

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
domain; warnings (an exchange that is an alias or has no address) too.",
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
  warnings   problems that do not stop delivery (absent when none)",
    },
    Section {
        title: "EXAMPLES",
        body: "\
mx-lookup example.org
mx-lookup --json alice@example.org bob@example.net
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
  75  SERVFAIL or timeout: try again later
  78  the system resolver configuration cannot be read
With several domains, the status of the first one that failed.",
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
/// are known.
#[derive(Parser, Debug)]
#[command(name = "mx-lookup", version, after_long_help = super::help_sections(SECTIONS))]
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

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(flatten)]
    pub timeout: TimeoutArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}
