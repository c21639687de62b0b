//! What every tool's command line shares: argument groups flattened into
//! each tool (so the tools feel like one family), usage errors with status
//! 64, and the single error line at the edge.

use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Args, Parser};

use crate::error::Error;
use crate::exit::{self, ExitStatus};
use crate::output::Diagnostics;

/// `-v` and `-q`, in every tool. The `-v` help here is the one of the
/// tools that talk to servers; a tool for which `-v` shows something else
/// (or nothing) says so with `#[command(mut_arg("verbose", ...))]`.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Show the conversation with servers on stderr (`->` sent, `<-`
    /// received; `~>`/`<~` once TLS is up; secrets as `****`).
    #[arg(short, long, action = ArgAction::Count, help_heading = "Common options")]
    pub verbose: u8,
    /// Print no warnings or notes on stderr; errors are still printed.
    #[arg(
        short,
        long,
        conflicts_with = "verbose",
        help_heading = "Common options"
    )]
    pub quiet: bool,
}

/// `--json`, in every tool that prints records.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Print JSON Lines on stdout: one object per record, snake_case keys.
    #[arg(long, help_heading = "Common options")]
    pub json: bool,
}

/// `--timeout`, in every tool that waits for a network peer.
#[derive(Args, Debug, Clone)]
pub struct TimeoutArgs {
    /// Give up on a connection, lookup, read or write after SECS seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value = "60",
        value_parser = parse_seconds,
        help_heading = "Common options"
    )]
    pub timeout: Duration,
}

/// Parses a positive number of seconds, fractions allowed, at most a day.
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 86_400.0) {
        return Err(format!("{text:?} must be more than 0 and at most 86400"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses the command line; on a usage error prints clap's message and
/// gives status 64 (sysexits EX_USAGE), on `--help`/`--version` status 0.
pub fn parse<A: Parser>() -> Result<A, ExitStatus> {
    parse_from(std::env::args_os())
}

/// [`parse`] over explicit arguments.
pub fn parse_from<A: Parser, I, T>(args: I) -> Result<A, ExitStatus>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    A::try_parse_from(args).map_err(|error| {
        // Printing can only fail when stdout/stderr are gone: nothing to add.
        let _ = error.print();
        if error.use_stderr() {
            ExitStatus::Usage
        } else {
            ExitStatus::Ok
        }
    })
}

/// The whole life of a tool: parse, run, report the error as one line
/// (`TOOL: error: what failed: why`) and turn the outcome into the exit
/// status of the contract.
pub fn main<A: Parser>(
    tool: &'static str,
    run: impl FnOnce(A) -> anyhow::Result<ExitStatus>,
) -> ExitCode {
    crate::input::set_tool(tool);
    let args = match parse::<A>() {
        Ok(args) => args,
        Err(status) => return status.into(),
    };
    match run(args) {
        Ok(status) => status.into(),
        Err(error) if is_broken_pipe(&error) => ExitStatus::Ok.into(),
        Err(error) => {
            Diagnostics::new(tool, false).error(&format!("{error:#}"));
            exit::status_of(&error).into()
        }
    }
}

/// A reader that went away (`| head`) is not a failure of the tool.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let io = cause.downcast_ref::<std::io::Error>();
        io.is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<Error>()
                .is_some_and(Error::is_broken_pipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        timeout: TimeoutArgs,
        #[command(flatten)]
        common: CommonArgs,
    }

    #[test]
    fn usage_errors_are_64_and_help_is_0() {
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "--bogus"]).unwrap_err(),
            ExitStatus::Usage
        );
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "--timeout", "0"]).unwrap_err(),
            ExitStatus::Usage
        );
        assert_eq!(
            parse_from::<Probe, _, _>(["probe", "-v", "-q"]).unwrap_err(),
            ExitStatus::Usage
        );
        let probe = parse_from::<Probe, _, _>(["probe", "--timeout", "1.5", "-vv"]).unwrap();
        assert_eq!(probe.timeout.timeout, Duration::from_millis(1500));
        assert_eq!(probe.common.verbose, 2);
    }
}

/// A session with the server at `endpoint`, past its TLS policy, not
/// logged in; the transcript on stderr when `verbose`.
pub fn open_session<S: crate::net::session::Handshake<Options = ()>>(
    endpoint: &crate::net::session::Endpoint,
    verbose: bool,
) -> Result<S, Error> {
    use crate::net::session::{Negotiation, negotiate};
    let transcript = crate::net::transcript::Transcript::stderr_if(verbose);
    negotiate::<S>(endpoint, &(), transcript, &mut Negotiation::default())?
        .ok_or_else(|| Error::bug("the negotiation stopped early"))
}

/// Where and how to connect, in every tool that talks to a mail server:
/// `--port`, `--tls`, `--cafile`, `--fingerprint`, `--insecure`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Connect to PORT instead of the URL's (or the scheme's default).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// How to use TLS. Default: implicit for smtps, pop3s and imaps;
    /// starttls (required, or fail with status 76) for the others.
    #[arg(long, value_enum)]
    pub tls: Option<crate::net::connection::TlsMode>,
    /// Trust the certificates in this PEM file instead of the system's
    /// roots (a private CA or a self-signed server, as curl's --cacert);
    /// the host name is still checked.
    #[arg(long, value_name = "FILE")]
    pub cafile: Option<std::path::PathBuf>,
    /// Accept only the server certificate with this SHA-256 fingerprint
    /// (hex, colons optional, as `openssl x509 -fingerprint -sha256`
    /// prints it), whoever signed it.
    #[arg(long, value_name = "SHA256", value_parser = crate::net::connection::parse_fingerprint)]
    pub fingerprint: Option<String>,
    /// Do not verify the server's certificate. The connection is still
    /// encrypted, but anyone in between can read it.
    #[arg(long)]
    pub insecure: bool,
}

impl ConnectionArgs {
    /// The server URL `text` (of `protocol`: `smtp`, `pop3` or `imap`) and
    /// its endpoint, built in one place for every tool: the URL's port unless
    /// `--port`, TLS implicit on the `s` schemes and required STARTTLS on
    /// the others unless `--tls`, and the login from `credentials` (the
    /// URL's user unless `--user`; the password never from the command
    /// line, `~/.netrc` when no source is given).
    pub fn endpoint(
        &self,
        text: &str,
        protocol: &str,
        credentials: &CredentialArgs,
        timeout: std::time::Duration,
    ) -> Result<(crate::net::url::ServerUrl, crate::net::session::Endpoint), Error> {
        use crate::net::connection::TlsMode;
        let server = crate::net::url::parse(text)?;
        if server.scheme.protocol() != protocol {
            return Err(Error::usage(format!(
                "{text}: not a URL for this tool: it takes {protocol}:// or {protocol}s://"
            )));
        }
        if let Some(cafile) = &self.cafile {
            regular_file(cafile, "CA file")?;
        }
        let tls = self.tls.unwrap_or(match server.scheme.implicit_tls() {
            true => TlsMode::Implicit,
            false => TlsMode::StartTls,
        });
        let endpoint = crate::net::session::Endpoint {
            host: server.host.clone(),
            port: self.port.unwrap_or(server.port),
            tls,
            certificate: self.tls_settings(),
            tls_name: None,
            timeout,
            login: match credentials.without_login {
                true => None,
                false => {
                    let _open = credentials.wait_for_files(timeout)?;
                    credentials.login(&server)?
                }
            },
            allow_plaintext_auth: credentials.allow_plaintext_auth,
        };
        Ok((server, endpoint))
    }

    /// Whether any of these flags was given.
    pub fn is_given(&self) -> bool {
        self.port.is_some()
            || self.tls.is_some()
            || self.cafile.is_some()
            || self.fingerprint.is_some()
            || self.insecure
    }

    /// The certificate checks asked for.
    pub fn tls_settings(&self) -> crate::net::connection::TlsSettings {
        crate::net::connection::TlsSettings {
            cafile: self.cafile.clone(),
            fingerprint: self.fingerprint.clone(),
            insecure: self.insecure,
        }
    }
}

/// Who to log in as and where the password comes from (never the command
/// line): `--user`, one of `--password-file`, `--password-env`,
/// `--password-command`, `--netrc-file`, and `--allow-plaintext-auth`.
#[derive(Args, Debug, Clone, Default)]
#[command(
    next_help_heading = "Credentials",
    group = clap::ArgGroup::new("password_source").multiple(false)
)]
pub struct CredentialArgs {
    /// Log in as USER (instead of the URL's user).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Read the password from the first line of FILE, which only its
    /// owner may access (chmod 600).
    #[arg(long, value_name = "FILE", group = "password_source")]
    pub password_file: Option<std::path::PathBuf>,
    /// Take the password from the environment variable VAR.
    #[arg(long, value_name = "VAR", group = "password_source")]
    pub password_env: Option<String>,
    /// Take the password from the first line CMD prints (run with sh -c,
    /// e.g. "pass show mail"); CMD must exit 0.
    #[arg(long, value_name = "CMD", group = "password_source")]
    pub password_command: Option<String>,
    /// Look the user and password up in this netrc file instead of
    /// ~/.netrc (which only its owner may access).
    #[arg(long, value_name = "FILE", group = "password_source")]
    pub netrc_file: Option<std::path::PathBuf>,
    /// The password is an OAuth 2.0 access token: log in with XOAUTH2 or
    /// OAUTHBEARER.
    #[arg(long)]
    pub oauth: bool,
    /// Allow a password to cross a connection that is not encrypted.
    #[arg(long)]
    pub allow_plaintext_auth: bool,
    /// Set by a tool that only connects (`pop3-fetch --capabilities`):
    /// no login, and no password looked up, whatever the URL's user.
    #[arg(skip)]
    pub without_login: bool,
}

impl CredentialArgs {
    /// The login for `server`, when a user or a password source is given:
    /// the password from the source, or from `~/.netrc`.
    pub fn login(
        &self,
        server: &crate::net::url::ServerUrl,
    ) -> Result<Option<crate::net::session::Login>, Error> {
        use crate::net::credentials::{self, PasswordSource};
        let user = self.user.clone().or(server.user.clone());
        let source = match (&user, self.source()) {
            (None, None) => return Ok(None),
            (_, source) => source.unwrap_or(PasswordSource::Netrc(None)),
        };
        let (user, secret) = credentials::load(&source, &server.host, user.as_deref())?;
        // A netrc without a login for the host is its configuration's
        // fault (78); a password given without saying whose, the
        // command line's (64).
        let user = user.ok_or_else(|| match source {
            PasswordSource::Netrc(_) => {
                Error::config("no user to log in as (--user, or the URL's user)")
            }
            _ => Error::usage(format!(
                "no user to log in as: give it in the URL ({}://USER@HOST) or with --user",
                server.scheme
            )),
        })?;
        Ok(Some(crate::net::session::Login {
            user,
            secret,
            oauth: self.oauth,
        }))
    }

    /// These credentials, or with `probing` (`--capabilities`) none at
    /// all: the tool connects without logging in and looks up no password.
    pub fn unless_probing(&self, probing: bool) -> CredentialArgs {
        CredentialArgs {
            without_login: probing,
            ..self.clone()
        }
    }

    /// Waits, at most `timeout`, until the password file or netrc file
    /// given, when it is a pipe (`--password-file <(pass show mail)`),
    /// has something to read, so that reading it cannot block for ever
    /// (a FIFO nobody writes to is 78). The pipes stay open, each with a
    /// reader, until the returned guards are dropped.
    pub fn wait_for_files(&self, timeout: Duration) -> Result<Vec<std::fs::File>, Error> {
        let files = [
            (&self.password_file, "password file"),
            (&self.netrc_file, "netrc file"),
        ];
        let mut open = Vec::new();
        for (path, what) in files {
            if let Some(path) = path {
                open.extend(wait_for_pipe(path, what, timeout)?);
            }
        }
        Ok(open)
    }

    /// The password source given, if any. With none, a tool that must log
    /// in uses `~/.netrc` ([`crate::net::credentials::PasswordSource::Netrc`]
    /// with `None`).
    pub fn source(&self) -> Option<crate::net::credentials::PasswordSource> {
        use crate::net::credentials::PasswordSource;
        if let Some(path) = &self.password_file {
            return Some(PasswordSource::File(path.clone()));
        }
        if let Some(name) = &self.password_env {
            return Some(PasswordSource::Env(name.clone()));
        }
        if let Some(command) = &self.password_command {
            return Some(PasswordSource::Command(command.clone()));
        }
        self.netrc_file
            .clone()
            .map(|path| PasswordSource::Netrc(Some(path)))
    }
}

/// Refuses a `path` (a `what` such as "CA file") that exists but is not a
/// regular file (78): a directory, a device, or a FIFO that would block
/// the run until some writer comes.
fn regular_file(path: &std::path::Path, what: &str) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::config(format!(
            "{what} {} is not a regular file",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// When `path` is a pipe (`--password-file <(pass show mail)`), opens
/// it without waiting for a writer and waits at most `timeout` until it
/// can be read (data, or its writer gone); the open pipe is returned, to
/// be kept while the file is read again by name. A named FIFO is refused
/// (78): opening it again by name would wait for a writer, for ever once
/// the writer is gone. Anything else: nothing to wait for.
fn wait_for_pipe(
    path: &std::path::Path,
    what: &str,
    timeout: Duration,
) -> Result<Option<std::fs::File>, Error> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    if !std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo()) {
        return Ok(None);
    }
    let shown = path.display();
    if !is_anonymous_pipe(path) {
        return Err(Error::config(format!(
            "{what} {shown} is a FIFO, not a regular file"
        )));
    }
    let pipe = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::config(format!("cannot read {what} {shown}: {e}")))?;
    let mut poll = libc::pollfd {
        fd: pipe.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd for a descriptor that stays open here.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    match ready {
        1.. => Ok(Some(pipe)),
        _ => Err(Error::config(format!(
            "{what} {shown} is a pipe with nothing to read after {} s",
            timeout.as_secs()
        ))),
    }
}

/// Whether `path` names a pipe without a name of its own (`/dev/fd/N`
/// of a shell's process substitution), which opens without waiting.
fn is_anonymous_pipe(path: &std::path::Path) -> bool {
    /// `PIPEFS_MAGIC` of linux/magic.h.
    const PIPEFS_MAGIC: i64 = 0x5049_5045;
    let Ok(name) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: a zeroed statfs is a valid out-parameter.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and out-parameter.
    let found = unsafe { libc::statfs(name.as_ptr(), &mut fs) } == 0;
    found && fs.f_type as i64 == PIPEFS_MAGIC
}

#[cfg(test)]
mod connection_args_tests {
    use super::*;
    use crate::net::connection::TlsMode;
    use crate::net::credentials::PasswordSource;

    #[derive(Parser, Debug)]
    struct Probe {
        #[command(flatten)]
        connection: ConnectionArgs,
        #[command(flatten)]
        credentials: CredentialArgs,
    }

    fn probe(args: &[&str]) -> Result<Probe, ExitStatus> {
        parse_from::<Probe, _, _>(std::iter::once("probe").chain(args.iter().copied()))
    }

    #[test]
    fn connection_flags_make_tls_settings() {
        let colons = vec!["AB"; 32].join(":");
        let parsed = probe(&[
            "--port",
            "2525",
            "--tls",
            "starttls",
            "--fingerprint",
            &colons,
        ])
        .unwrap()
        .connection;
        assert_eq!(
            (parsed.port, parsed.tls),
            (Some(2525), Some(TlsMode::StartTls))
        );
        let settings = parsed.tls_settings();
        assert_eq!(settings.fingerprint, Some("ab".repeat(32)));
        assert!(!settings.insecure && settings.cafile.is_none());
        for tls in ["implicit", "opportunistic", "none"] {
            assert!(probe(&["--tls", tls]).is_ok(), "{tls}");
        }
        assert_eq!(
            probe(&["--fingerprint", "abc"]).unwrap_err(),
            ExitStatus::Usage
        );
        assert_eq!(probe(&["--tls", "ssl"]).unwrap_err(), ExitStatus::Usage);
    }

    #[test]
    fn one_password_source_at_most() {
        let parsed = probe(&["--user", "alice", "--password-env", "PW"])
            .unwrap()
            .credentials;
        assert_eq!(parsed.source(), Some(PasswordSource::Env("PW".into())));
        assert_eq!(parsed.user.as_deref(), Some("alice"));
        let parsed = probe(&["--netrc-file", "n"]).unwrap().credentials;
        assert_eq!(
            parsed.source(),
            Some(PasswordSource::Netrc(Some("n".into())))
        );
        assert_eq!(probe(&[]).unwrap().credentials.source(), None);
        let both = probe(&["--password-file", "f", "--password-command", "c"]);
        assert_eq!(both.unwrap_err(), ExitStatus::Usage);
    }
}
