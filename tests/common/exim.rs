//! Exim 4 (exim4-daemon-light), a real MTA, on loopback: it accepts mail
//! for `example.test` and delivers it over LMTP into a [`Dovecot`]'s
//! Maildirs (see shared/notes/real-servers.md, section 4.1).
//!
//! What a client sees (Exim 4.96, default [`EximOptions`]):
//!
//! ```text
//! 220 mx.example.test ESMTP Exim 4.96 <date>
//! EHLO client.test
//! 250-mx.example.test Hello client.test [127.0.0.1]
//! 250-SIZE 1048576
//! 250-8BITMIME
//! 250-DSN
//! 250-PIPELINING
//! 250-PIPECONNECT
//! 250-AUTH PLAIN LOGIN      (not before STARTTLS with auth_before_tls: false)
//! 250-CHUNKING
//! 250-STARTTLS              (not after STARTTLS, nor with starttls: false)
//! 250-SMTPUTF8
//! 250 HELP
//! ```
//!
//! Users and passwords are Dovecot's (alice/alicepw, bob/bobpw, …), looked
//! up at each AUTH and RCPT in the Dovecot's users file: so the Dovecot must
//! outlive the Exim (declare it first; locals drop in reverse order), and
//! [`Dovecot::add_user`] works for Exim too. AUTH takes the bare user name
//! (`alice`), not `alice@example.test`.
//!
//! Mail for other domains is refused ("550 relay not permitted") unless the
//! client has authenticated; then it is accepted and lands in the Maildir of
//! Dovecot's user `relay`, with a header `X-Relayed-To: <original address>`
//! added at the end of the header section.
//!
//! Replies (no enhanced status codes; Exim offers none):
//!
//! ```text
//! MAIL … SIZE=<over the limit>  552 Message size exceeds maximum permitted
//! DATA/BDAT over the limit      552 Message size exceeds maximum permitted
//! RCPT unknown local user       550 Unrouteable address
//! RCPT other domain, no AUTH    550 relay not permitted
//! RCPT tempfail@example.test    450 Temporary failure for <tempfail@example.test> (test)
//! MAIL without AUTH (require_auth)  530 Authentication required
//! accepted message              250 OK id=1xV0bP-0003xp-1O
//! AUTH ok / bad                 235 Authentication succeeded / 535 Incorrect authentication data
//! STARTTLS                      220 TLS go ahead (TLS 1.3)
//! QUIT                          221 mx.example.test closing connection
//! ```
//!
//! Behaviour worth knowing:
//! - Exim holds the 221 to QUIT back for up to 200 ms, until the client
//!   closes; half-close (shutdown write) after sending QUIT to get it at once.
//! - A single BDAT chunk over the limit gets 552 before Exim has read the
//!   chunk; the rest is then taken as commands ("554 SMTP synchronization
//!   error") and the connection is closed.
//! - Lines over 998 bytes are accepted, but delivery over LMTP then fails
//!   ("message has lines too long for transport") and a bounce goes to the
//!   sender (a local sender gets it in its Maildir).
//! - NOTIFY=SUCCESS gets a success DSN ("relayed to non-DSN-aware mailer")
//!   delivered to a local sender's Maildir.
//! - An SMTPUTF8 sender is passed to LMTP in A-label form
//!   (`jörg@…` → `Return-Path: <xn--jrg-sna@…>`); headers stay UTF-8.
//! - Exim adds no Message-ID or Date to mail from SMTP clients. A
//!   delivered file is: Return-Path, Delivered-To and Received (Dovecot),
//!   Received (Exim), then the message as sent, with LF line ends and dots
//!   unstuffed.
//! - The Maildir file appears a little before Exim logs the delivery: use
//!   [`Exim::wait_for_log`] for log lines.
//! - With [`EximOptions::oauth_token`], alice can also log in with XOAUTH2
//!   and OAUTHBEARER (Exim's `plaintext` driver, which compares the whole
//!   decoded initial response). A refused token gets `535 Incorrect
//!   authentication data` at once, with no RFC 7628 error challenge (`334`
//!   and base64 JSON) to answer first:
//!   `AUTH XOAUTH2 <base64>` / `535 Incorrect authentication data`.
//! - The arrival line (`<=`) names the authenticator and the user:
//!   `A=plain:alice`, `A=xoauth2:alice`, `A=oauthbearer:alice`; a refusal
//!   is logged as `xoauth2 authenticator failed for (HELO) [127.0.0.1]:
//!   535 Incorrect authentication data (set_id=USER)`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::dovecot::{Dovecot, free_ports, greets, is_root, retry_port_clash};
use super::tlscert::TlsCert;
use super::{Daemon, Scratch};

/// How the Exim behaves; `EximOptions::default()` is the common case.
#[derive(Clone, Debug)]
pub struct EximOptions {
    /// Offer STARTTLS (default true). With false, `tls_advertise_hosts` is
    /// empty: EHLO lacks STARTTLS and the command gets
    /// `503 STARTTLS command used when not advertised`.
    pub starttls: bool,
    /// Offer AUTH PLAIN LOGIN on plain-text connections too (default true).
    /// With false, AUTH is offered only after STARTTLS, and an AUTH before
    /// it gets `503 AUTH command used when not advertised`.
    pub auth_before_tls: bool,
    /// `message_size_limit` in bytes, advertised as `SIZE n` (default
    /// 1 MiB, so that tests can exceed it cheaply).
    pub size_limit: u64,
    /// Local parts at example.test that get a temporary failure at RCPT:
    /// `450 Temporary failure for <LOCAL@example.test> (test)` (default
    /// `["tempfail"]`). Checked before the user exists, so these need no
    /// user.
    pub tempfail: Vec<String>,
    /// Refuse MAIL FROM without AUTH first (a submission server):
    /// `530 Authentication required` (default false).
    pub require_auth: bool,
    /// An OAuth 2.0 access token for alice (default none). With one, Exim
    /// also offers the token mechanisms in `oauth_mechanisms`, after PLAIN
    /// and LOGIN (`AUTH PLAIN LOGIN XOAUTH2 OAUTHBEARER`); see the module
    /// documentation. The token must be an RFC 6750 `b64token`.
    pub oauth_token: Option<&'static str>,
    /// Which of `XOAUTH2` and `OAUTHBEARER` to offer with `oauth_token`,
    /// in this order (default both).
    pub oauth_mechanisms: Vec<&'static str>,
}

impl Default for EximOptions {
    fn default() -> EximOptions {
        EximOptions {
            starttls: true,
            auth_before_tls: true,
            size_limit: 1024 * 1024,
            tempfail: vec!["tempfail".to_string()],
            require_auth: false,
            oauth_token: None,
            oauth_mechanisms: vec!["XOAUTH2", "OAUTHBEARER"],
        }
    }
}

/// A running Exim (stopped on drop, ~10 ms, along with anything it forked)
/// listening on 127.0.0.1.
pub struct Exim {
    /// The SMTP port (plain, with STARTTLS).
    pub port: u16,
    /// The submissions port: TLS from the first byte (RFC 8314).
    pub smtps: u16,
    /// The server certificate (the same as the Dovecot's), which is also
    /// the trust root to use.
    pub cert: PathBuf,
    /// The options it was started with.
    pub options: EximOptions,
    dir: PathBuf,
    // Stopped first by `drop`, then the processes it forked are waited for,
    // then the directory goes.
    daemon: Option<Daemon>,
    _scratch: Scratch,
}

impl Exim {
    /// Starts Exim in front of `dovecot` and waits for its banner (~25 ms).
    pub fn start(dovecot: &Dovecot, options: EximOptions) -> Exim {
        retry_port_clash(|| Exim::start_once(dovecot, options.clone()))
    }

    fn start_once(dovecot: &Dovecot, options: EximOptions) -> Exim {
        let scratch = Scratch::new();
        let e = scratch.subdir("exim");
        let spool = scratch.subdir("exim/spool");
        let log = scratch.subdir("exim/log");
        // A copy of Dovecot's certificate: one trust root for both servers.
        let tls = TlsCert {
            cert: dovecot.cert.clone(),
            key: dovecot.key.clone(),
        }
        .copy_to(&e);
        let ports = free_ports(2);
        let (port, smtps) = (ports[0], ports[1]);
        let run_as = if is_root() {
            // Exim drops to Debian-exim for an untrusted -C configuration:
            // spool and log must be its, and the key readable (mode 644).
            for dir in [&spool, &log] {
                let status = Command::new("chown")
                    .arg("Debian-exim:Debian-exim")
                    .arg(dir)
                    .status()
                    .expect("run chown");
                assert!(status.success(), "chown Debian-exim {}", dir.display());
            }
            String::new()
        } else {
            let name = |flag: &str| {
                let output = Command::new("id").arg(flag).output().expect("run id");
                String::from_utf8(output.stdout).unwrap().trim().to_string()
            };
            format!(
                "exim_user = {}\nexim_group = {}\n",
                name("-un"),
                name("-gn")
            )
        };
        let users = dovecot.users_file();
        let users = users.display();
        let tls_hosts = if options.starttls { "*" } else { "" };
        let auth_hosts = if options.auth_before_tls {
            "*"
        } else {
            "${if eq{$tls_in_cipher}{}{}{*}}"
        };
        let require_auth = if options.require_auth {
            "  deny    message = 530 Authentication required\n          !authenticated = *\n"
        } else {
            ""
        };
        let tempfail = if options.tempfail.is_empty() {
            String::new()
        } else {
            format!(
                "  defer   message = 450 Temporary failure for <$local_part@$domain> (test)\n          \
                 domains = +local_domains\n          local_parts = {}\n",
                options.tempfail.join(" : ")
            )
        };
        let oauth = match options.oauth_token {
            Some(token) => oauth_authenticators(token, &options.oauth_mechanisms, [port, smtps]),
            None => String::new(),
        };
        let conf = format!(
            "{run_as}\
             primary_hostname = mx.example.test\n\
             qualify_domain = example.test\n\
             domainlist local_domains = example.test\n\
             spool_directory = {spool}\n\
             log_file_path = {log}/%slog\n\
             pid_file_path = {e}/exim.pid\n\
             daemon_smtp_ports = {port} : {smtps}\n\
             tls_on_connect_ports = {smtps}\n\
             local_interfaces = 127.0.0.1\n\
             helo_lookup_domains =\n\
             host_lookup =\n\
             rfc1413_hosts =\n\
             daemon_startup_retries = 0\n\
             keep_environment =\n\
             message_size_limit = {size}\n\
             smtp_accept_queue_per_connection = 0\n\
             tls_advertise_hosts = {tls_hosts}\n\
             tls_certificate = {cert}\n\
             tls_privatekey = {key}\n\
             auth_advertise_hosts = {auth_hosts}\n\
             dsn_advertise_hosts = *\n\
             smtputf8_advertise_hosts = *\n\
             chunking_advertise_hosts = *\n\
             acl_smtp_mail = acl_mail\n\
             acl_smtp_rcpt = acl_rcpt\n\
             \n\
             begin acl\n\
             acl_mail:\n\
             {require_auth}\
             \x20 accept\n\
             \n\
             acl_rcpt:\n\
             {tempfail}\
             \x20 deny    message = relay not permitted\n\
             \x20         !domains = +local_domains\n\
             \x20         !authenticated = *\n\
             \x20 require verify = recipient\n\
             \x20 accept\n\
             \n\
             begin routers\n\
             relay:\n\
             \x20 driver = redirect\n\
             \x20 domains = ! +local_domains\n\
             \x20 headers_add = X-Relayed-To: $local_part@$domain\n\
             \x20 data = relay@example.test\n\
             dovecot:\n\
             \x20 driver = accept\n\
             \x20 domains = +local_domains\n\
             \x20 local_parts = lsearch;{users}\n\
             \x20 transport = dovecot_lmtp\n\
             \n\
             begin transports\n\
             dovecot_lmtp:\n\
             \x20 driver = smtp\n\
             \x20 protocol = lmtp\n\
             \x20 hosts = 127.0.0.1\n\
             \x20 port = {lmtp}\n\
             \x20 hosts_override\n\
             \x20 allow_localhost\n\
             \x20 hosts_avoid_tls = *\n\
             \n\
             begin retry\n\
             *  *  F,1m,10s\n\
             \n\
             begin authenticators\n\
             plain:\n\
             \x20 driver = plaintext\n\
             \x20 public_name = PLAIN\n\
             \x20 server_prompts = :\n\
             \x20 server_condition = ${{if eq{{$auth3}}{{${{lookup{{$auth2}}lsearch{{{users}}}{{$value}}fail}}}}}}\n\
             \x20 server_set_id = $auth2\n\
             login:\n\
             \x20 driver = plaintext\n\
             \x20 public_name = LOGIN\n\
             \x20 server_prompts = Username:: : Password::\n\
             \x20 server_condition = ${{if eq{{$auth2}}{{${{lookup{{$auth1}}lsearch{{{users}}}{{$value}}fail}}}}}}\n\
             \x20 server_set_id = $auth1\n\
             {oauth}",
            spool = spool.display(),
            log = log.display(),
            e = e.display(),
            size = options.size_limit,
            cert = tls.cert.display(),
            key = tls.key.display(),
            lmtp = dovecot.lmtp,
        );
        std::fs::write(e.join("exim.conf"), conf).expect("write exim.conf");
        let mut command = Command::new("/usr/sbin/exim4");
        command.arg("-bdf").arg("-C").arg(e.join("exim.conf"));
        let daemon = Daemon::start("exim", command, e.join("stdout.log"), || {
            greets(port, "220 ")
        });
        Exim {
            port,
            smtps,
            cert: tls.cert,
            options,
            dir: e,
            daemon: Some(daemon),
            _scratch: scratch,
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The main log (one line per connection event, acceptance `<=`,
    /// delivery `=>`, rejection), then whatever Exim wrote to stdout and
    /// stderr (where the log lines go when not running as root).
    pub fn log(&self) -> String {
        let main = std::fs::read_to_string(self.dir.join("log/mainlog")).unwrap_or_default();
        let out = std::fs::read_to_string(self.dir.join("stdout.log")).unwrap_or_default();
        format!("{main}{out}")
    }

    /// Waits until the log contains `needle` and returns the log; panics
    /// with it after `timeout`. Exim logs a delivery (`=> bob@example.test`)
    /// only after Dovecot has answered, which is a little after the file
    /// appears in the Maildir.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if Instant::now() > deadline {
                panic!("no {needle:?} in the Exim log after {timeout:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The configuration file (for `exim4 -C FILE -bp` and the like).
    pub fn config(&self) -> PathBuf {
        self.dir.join("exim.conf")
    }
}

impl Drop for Exim {
    /// Stops the daemon, then waits (at most 1 s) for the processes it
    /// forked, which it does not stop: a delivery in progress, or the
    /// handler of a client that is still connected; then kills any left.
    /// Otherwise they could recreate spool or log directories, owned by
    /// Debian-exim, after the scratch directory is gone.
    fn drop(&mut self) {
        drop(self.daemon.take());
        let config = self.config();
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let left = processes_using(&config);
            if left.is_empty() {
                return;
            }
            if Instant::now() > deadline {
                for pid in left {
                    // SAFETY: only processes whose command line names this
                    // instance's own configuration file are signalled.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                std::thread::sleep(Duration::from_millis(20));
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Exim's `plaintext` driver playing XOAUTH2 and OAUTHBEARER for alice
/// and `token`: with `server_prompts = :` the initial response, decoded,
/// is `$auth1` (split only at NULs, so the ^A separators stay in it).
/// XOAUTH2's must be exactly `user=alice^Aauth=Bearer TOKEN^A^A`;
/// OAUTHBEARER's (RFC 7628 §3.1) the GS2 header `n,a=alice,`, then ^A,
/// `host=localhost`, `port=` one of `ports` (the server's name and port
/// as the client connected to them), `auth=Bearer TOKEN`, each ending in
/// ^A, then a final ^A. `server_set_id` is the user
/// the client named, so the log says `A=xoauth2:alice` or
/// `A=oauthbearer:alice`.
fn oauth_authenticators(token: &str, mechanisms: &[&str], ports: [u16; 2]) -> String {
    // RFC 6750 §2.1: nothing Exim's expansion or PCRE's \Q…\E would read.
    let body = token.trim_end_matches('=');
    assert!(
        !body.is_empty()
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)),
        "{token:?} is not an RFC 6750 b64token"
    );
    const XOAUTH2: &str = r"xoauth2:
  driver = plaintext
  public_name = XOAUTH2
  server_prompts = :
  server_condition = ${if eq{$auth1}{user=alice\x01auth=Bearer TOKEN\x01\x01}}
  server_set_id = ${if match{$auth1}{\N^user=([^\x01]*)\x01\N}{$1}}
";
    const OAUTHBEARER: &str = r"oauthbearer:
  driver = plaintext
  public_name = OAUTHBEARER
  server_prompts = :
  server_condition = ${if match{$auth1}{\N^n,a=alice,\x01host=localhost\x01port=(?:PORTS)\x01auth=Bearer \QTOKEN\E\x01\x01\z\N}}
  server_set_id = ${if match{$auth1}{\N^n,a=([^,]*),\N}{$1}}
";
    mechanisms
        .iter()
        .map(|mechanism| match *mechanism {
            "XOAUTH2" => XOAUTH2.replace("TOKEN", token),
            "OAUTHBEARER" => OAUTHBEARER
                .replace("TOKEN", token)
                .replace("PORTS", &format!("{}|{}", ports[0], ports[1])),
            other => panic!("no OAuth mechanism {other:?}"),
        })
        .collect()
}

/// Live processes whose command line contains `config` (Exim passes `-C
/// FILE` on when it re-executes itself; forked children keep the daemon's).
fn processes_using(config: &Path) -> Vec<libc::pid_t> {
    let needle = config.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|line| line.windows(needle.len()).any(|w| w == needle))
        })
        .collect()
}
