//! pop3-fetch: list or fetch a POP3 mailbox. See `pop3-fetch --help`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use mailkit::net::session::Endpoint;
use mailkit::output::{self, Diagnostics};
use mailkit::pop3::fetch::{self, Destination, Event, Mda, Options, Wanted};
use mailkit::pop3::{LoginMethod, Session};
use mailkit::progress::Progress;
use mailkit::store::fetch_state::{self, FetchState};
use mailkit::store::{LineEnds, Maildir, Mbox};
use mailkit::tools::pop3_fetch::{self as tool, Args};
use mailkit::{Error, ExitStatus, cli};

const TOOL: &str = "pop3-fetch";

fn main() -> ExitCode {
    cli::main(TOOL, run)
}

fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let diag = Diagnostics::new(TOOL, args.common.quiet);
    check_usage(&args)?;
    // --capabilities logs in to nothing: no password is looked up.
    let credentials = args.credentials.unless_probing(args.capabilities);
    let (server, endpoint) =
        args.connection
            .endpoint(&args.url, "pop3", &credentials, args.timeout.timeout)?;
    if args.capabilities {
        let session = connect(&args, &endpoint)?;
        return capabilities(&args, session);
    }
    let user = endpoint
        .login
        .as_ref()
        .map(|l| l.user.clone())
        .ok_or_else(|| {
            Error::usage(
                "no user to log in as: give it in the URL (pop3://USER@HOST) or with --user",
            )
        })?;
    let line_ends = match args.keep_crlf {
        true => LineEnds::Keep,
        false => LineEnds::Lf,
    };
    let wanted = match (&args.message, &args.uid) {
        (Some(n), _) => Some(Wanted::Number(*n)),
        (_, Some(uidl)) => Some(Wanted::Uidl(uidl.clone())),
        _ => None,
    };
    if let Some(wanted) = wanted {
        let mut session = logged_in(&args, &endpoint)?;
        let mut out = io::stdout().lock();
        fetch::fetch_one(&mut session, &wanted, line_ends, &mut out)?;
        let _ = session.quit_and_commit();
        return Ok(ExitStatus::Ok);
    }
    let Some(mut destination) = destination(&args, &server, &endpoint, &user, line_ends)? else {
        let session = logged_in(&args, &endpoint)?;
        return list(&args, session);
    };
    // Every fetch records what it stored, so that a later --new run does
    // not fetch it again.
    let mut state = Some(open_state(&args, &user, &endpoint)?);
    let session = logged_in(&args, &endpoint)?;
    let options = Options {
        new: args.new,
        delete: args.delete,
        limit: args.limit,
        max_size: args.max_size,
        headers_only: args.headers_only,
        line_ends,
    };
    let json = args.output.json;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut progress =
        Progress::on_terminal(!json && args.common.verbose == 0 && !args.common.quiet);
    let mut failed_output = None;
    let mut observe = |event: Event<'_>| match event {
        Event::Planned { messages, octets } => progress.plan(messages, octets),
        Event::Handled(record) => {
            if record.status == "skipped" {
                diag.note(&format!(
                    "message {} ({} octets) is larger than --max-size: skipped",
                    record.number, record.size
                ));
            } else if record.status == "gone" {
                diag.warning(&format!(
                    "message {}: the server refused RETR {} (removed by another session \
                     since the listing?): skipped",
                    record.number, record.number
                ));
            } else if record.status != "deleted" {
                progress.message_done(record.size);
            }
            if json
                && failed_output.is_none()
                && let Err(e) = output::write_json_line(&mut out, record)
            {
                failed_output = Some(e);
            }
        }
    };
    let outcome = fetch::fetch(
        session,
        &mut destination,
        state.as_mut(),
        &options,
        &mut observe,
    );
    progress.finish();
    let summary = outcome?;
    if let Some(e) = failed_output {
        return Err(e.into());
    }
    if json {
        output::write_json_line(&mut out, &summary)?;
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// Combinations that clap's groups do not cover.
fn check_usage(args: &Args) -> Result<(), Error> {
    let to_stdout = args.message.is_some()
        || args.uid.is_some()
        || args.mbox.as_deref() == Some(std::path::Path::new("-"));
    if args.delete && to_stdout {
        return Err(Error::usage(
            "--delete needs a destination that stores durably (--maildir, --mbox FILE, --mda): \
             standard output is not one",
        ));
    }
    if args.output.json && args.mbox.as_deref() == Some(std::path::Path::new("-")) {
        return Err(Error::usage(
            "--json and --mbox - would both write to standard output: choose one",
        ));
    }
    let fetching = args.maildir.is_some() || args.mbox.is_some() || args.mda.is_some();
    if !fetching && (args.new || args.delete || args.limit.is_some() || args.max_size.is_some()) {
        return Err(Error::usage(
            "--new, --delete, --limit and --max-size go with --maildir, --mbox or --mda \
             (not with --message, --uid or a listing)",
        ));
    }
    Ok(())
}

/// The destination asked for; `None` for a listing.
fn destination(
    args: &Args,
    server: &mailkit::net::url::ServerUrl,
    endpoint: &Endpoint,
    user: &str,
    line_ends: LineEnds,
) -> Result<Option<Destination>, Error> {
    if let Some(dir) = &args.maildir {
        return Ok(Some(Destination::Maildir(
            Maildir::open_or_create(dir)?.with_line_ends(line_ends),
        )));
    }
    if let Some(path) = &args.mbox {
        let mbox = match path.as_os_str() == "-" {
            true => Mbox::to_stream(Box::new(io::stdout())),
            false => Mbox::open(path)?,
        };
        return Ok(Some(Destination::Mbox(mbox.with_line_ends(LineEnds::Keep))));
    }
    Ok(args.mda.as_ref().map(|command| {
        Destination::Mda(Mda {
            command: command.clone(),
            server: format!("{}:{}", server.host, endpoint.port),
            user: user.to_string(),
        })
    }))
}

/// The state file (--state, or the default one for this user and server),
/// locked.
fn open_state(args: &Args, user: &str, endpoint: &Endpoint) -> Result<FetchState, Error> {
    let path = match &args.state {
        Some(path) => path.clone(),
        None => fetch_state::default_path("pop3", user, &endpoint.host, endpoint.port)?,
    };
    FetchState::open(&path)
}

/// A session past the TLS policy, not logged in.
fn connect(args: &Args, endpoint: &Endpoint) -> Result<Session, Error> {
    cli::open_session(endpoint, args.common.verbose > 0)
}

/// A logged-in session.
fn logged_in(args: &Args, endpoint: &Endpoint) -> Result<Session, Error> {
    let mut session = connect(args, endpoint)?;
    let login = endpoint
        .login
        .as_ref()
        .ok_or_else(|| Error::usage("no user to log in as"))?;
    session.login(login, login_method(args.auth, login.oauth)?)?;
    Ok(session)
}

/// `--auth` as a login method.
fn login_method(auth: tool::AuthMethod, oauth: bool) -> Result<LoginMethod, Error> {
    use mailkit::net::sasl::Mechanism;
    use tool::AuthMethod as A;
    let method = match auth {
        A::Auto => LoginMethod::Auto,
        A::User => LoginMethod::User,
        A::Apop => LoginMethod::Apop,
        A::Plain => LoginMethod::Sasl(Mechanism::Plain),
        A::Login => LoginMethod::Sasl(Mechanism::Login),
        A::Xoauth2 => LoginMethod::Sasl(Mechanism::XOAuth2),
        A::Oauthbearer => LoginMethod::Sasl(Mechanism::OAuthBearer),
    };
    let needs_token = matches!(auth, A::Xoauth2 | A::Oauthbearer);
    if matches!(auth, A::Auto) || needs_token == oauth {
        return Ok(method);
    }
    Err(Error::usage(match needs_token {
        true => "--auth xoauth2 and oauthbearer take an OAuth token: add --oauth",
        false => "with --oauth the secret is a token: --auth auto, xoauth2 or oauthbearer",
    }))
}

/// The listing: one line (or JSON object) per message.
fn list(args: &Args, mut session: Session) -> anyhow::Result<ExitStatus> {
    let messages = fetch::list(&mut session)?;
    session.quit_and_commit()?;
    let mut out = BufWriter::new(io::stdout().lock());
    for message in &messages {
        if args.output.json {
            let record = serde_json::json!({
                "number": message.number,
                "size": message.size,
                "uidl": message.uidl,
            });
            output::write_json_line(&mut out, &record)?;
        } else {
            let uidl = message.uidl.as_deref().unwrap_or("-");
            writeln!(
                out,
                "{}\t{}\t{}",
                message.number,
                message.size,
                output::printable(uidl)
            )?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// `--capabilities`: what the server offers, for operators.
fn capabilities(args: &Args, session: Session) -> anyhow::Result<ExitStatus> {
    let caps = session.capabilities().clone();
    let tls = session.connection().tls_info().cloned();
    let logins: Vec<String> = session
        .login_methods(args.credentials.oauth)
        .iter()
        .map(|m| match m {
            LoginMethod::Sasl(mechanism) => format!("AUTH {mechanism}"),
            LoginMethod::Apop => "APOP".into(),
            LoginMethod::User | LoginMethod::Auto => "USER/PASS".into(),
        })
        .collect();
    let greeting = session.greeting();
    mailkit::net::session::Handshake::quit(session);
    let mut out = BufWriter::new(io::stdout().lock());
    if args.output.json {
        let record = serde_json::json!({
            "greeting": greeting,
            "tls": tls.as_ref().map(|t| serde_json::json!({
                "version": t.version, "cipher": t.cipher, "verified": t.verified,
                "fingerprint": t.fingerprint,
            })),
            "capabilities": caps.lines,
            "capa_answered": caps.known,
            "logins": logins,
        });
        output::write_json_line(&mut out, &record)?;
    } else {
        writeln!(out, "greeting\t{}", output::printable(&greeting))?;
        match &tls {
            Some(t) => writeln!(
                out,
                "tls\t{} {} certificate {}",
                t.version,
                t.cipher,
                if t.verified {
                    "verified"
                } else {
                    "NOT verified (--insecure)"
                }
            )?,
            None => writeln!(out, "tls\tnone")?,
        }
        if !caps.known {
            writeln!(out, "capa\t(not answered: an RFC 1939 server without CAPA)")?;
        }
        for line in &caps.lines {
            writeln!(out, "capa\t{}", output::printable(line))?;
        }
        writeln!(out, "logins\t{}", logins.join(", "))?;
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}
