//! imap-list: list folders and messages on an IMAP server; fetch messages,
//! read-only. See `imap-list --help`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use mailkit::imap::fetch::{self, Destination};
use mailkit::imap::search::Query;
use mailkit::imap::session::{Examined, Session};
use mailkit::imap::summary::FolderRecord;
use mailkit::net::session::Endpoint;
use mailkit::net::url::ServerUrl;
use mailkit::output::{self, Diagnostics};
use mailkit::store::{LineEnds, Maildir, Mbox};
use mailkit::tools::imap_list::Args;
use mailkit::{Error, ExitStatus, cli};

const TOOL: &str = "imap-list";

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
            .endpoint(&args.url, "imap", &credentials, args.timeout.timeout)?;
    if args.capabilities {
        return capabilities(&args, connect(&args, &endpoint)?);
    }
    if endpoint.login.is_none() {
        return Err(Error::usage(
            "no user to log in as: give it in the URL (imap://USER@HOST) or with --user",
        )
        .into());
    }
    let folders = folders_asked(&args, &server)?;
    if args.new {
        return archive::run(&args, &endpoint, &folders, &diag);
    }
    let mut session = logged_in(&args, &endpoint)?;
    let status = match folders.first() {
        None => list_folders(&args, &mut session)?,
        Some(folder) => in_folder(&args, &server, &mut session, folder, &diag)?,
    };
    let _ = session.logout();
    Ok(status)
}

/// Combinations that clap's groups do not cover.
fn check_usage(args: &Args) -> Result<(), Error> {
    let storing = args.maildir.is_some() || args.mbox.is_some();
    if args.new && !storing {
        return Err(Error::usage("--new needs --maildir DIR or --mbox FILE"));
    }
    if storing && !args.new && args.fetch.is_empty() {
        return Err(Error::usage(
            "--maildir and --mbox go with --fetch UID... or --new",
        ));
    }
    if args.fetch.len() > 1 && !storing {
        return Err(Error::usage(
            "several --fetch UIDs need --maildir DIR or --mbox FILE (one message goes to \
             stdout)",
        ));
    }
    if args.folder.len() > 1 && !args.new {
        return Err(Error::usage(
            "--folder may be repeated only with --new (one folder is listed at a time)",
        ));
    }
    let listing = args.fetch.is_empty()
        && args.structure.is_none()
        && args.part.is_none()
        && !args.capabilities
        && !args.new;
    if !listing && (args.limit.is_some() || args.search.is_some()) {
        return Err(Error::usage(
            "--limit and --search go with a listing of messages, not with --fetch, \
             --structure, --part, --new or --capabilities",
        ));
    }
    args.part_wanted()?;
    if let Some(keys) = &args.search {
        Query::parse(keys)?;
    }
    Ok(())
}

/// The folders named: `--folder` (repeatable with `--new`), else the
/// URL's path.
fn folders_asked(args: &Args, server: &ServerUrl) -> Result<Vec<String>, Error> {
    let folders = match (&args.folder[..], &server.path) {
        ([], Some(path)) if !path.is_empty() => vec![path.clone()],
        (given, _) => given.to_vec(),
    };
    let needs_folder = !args.fetch.is_empty()
        || args.structure.is_some()
        || args.part.is_some()
        || args.limit.is_some()
        || args.search.is_some()
        || server.param("UID").is_some();
    if folders.is_empty() && needs_folder {
        return Err(Error::usage(
            "which folder? give it in the URL (imaps://HOST/INBOX) or with --folder",
        ));
    }
    if args.all_folders && !folders.is_empty() {
        return Err(Error::usage(
            "--all-folders walks every folder: leave the folder out of the URL",
        ));
    }
    if folders.is_empty() && args.new && !args.all_folders {
        return Err(Error::usage(
            "--new needs folders: in the URL, with --folder (repeatable) or --all-folders",
        ));
    }
    Ok(folders)
}

/// A session past the TLS policy, not logged in.
fn connect(args: &Args, endpoint: &Endpoint) -> Result<Session, Error> {
    cli::open_session(endpoint, args.common.verbose > 0)
}

/// A logged-in session, with UTF-8 names when the server offers them.
fn logged_in(args: &Args, endpoint: &Endpoint) -> Result<Session, Error> {
    let mut session = connect(args, endpoint)?;
    let login = endpoint
        .login
        .as_ref()
        .ok_or_else(|| Error::usage("no user to log in as"))?;
    session.login(login)?;
    session.enable_utf8()?;
    Ok(session)
}

/// Every folder, one line or JSON object each.
fn list_folders(args: &Args, session: &mut Session) -> anyhow::Result<ExitStatus> {
    let folders = session.list()?;
    let mut out = BufWriter::new(io::stdout().lock());
    for folder in &folders {
        let record = FolderRecord::from(folder);
        match args.output.json {
            true => output::write_json_line(&mut out, &record)?,
            false => writeln!(out, "{}", record.text_line())?,
        }
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// What is asked of one folder: open it read-only, check the URL's pin,
/// then fetch, show a structure or a part, or list.
fn in_folder(
    args: &Args,
    server: &ServerUrl,
    session: &mut Session,
    folder: &str,
    diag: &Diagnostics,
) -> anyhow::Result<ExitStatus> {
    let examined = examine(session, server, folder)?;
    let line_ends = line_ends(args);
    let pinned_uid = server.param("UID").map(parse_uid).transpose()?;
    let mut uids: Vec<u32> = args.fetch.iter().copied().chain(pinned_uid).collect();
    uids.sort_unstable();
    uids.dedup();
    if let Some(uid) = args.structure {
        return structure::show(args, session, uid).map_err(|e| in_folder_anyhow(e, folder));
    }
    if let Some((uid, part)) = args.part_wanted()? {
        return structure::write_part(session, uid, &part, line_ends, diag)
            .map_err(|e| in_folder_anyhow(e, folder));
    }
    if !uids.is_empty() {
        return fetch_messages(args, session, folder, &uids, line_ends);
    }
    list_messages(args, session, &examined)
}

/// EXAMINE of a folder named in UTF-8, checked against the URL's
/// `;UIDVALIDITY=` (RFC 5092 §6): a different one is 67.
fn examine(session: &mut Session, server: &ServerUrl, folder: &str) -> Result<Examined, Error> {
    let wire = session.wire_name(folder);
    let shown = output::printable(folder).into_owned();
    let examined = session
        .examine(&wire)
        .map_err(|e| in_folder_named(e, folder))?;
    if let Some(pinned) = server.param("UIDVALIDITY") {
        let pinned: u32 = pinned.parse().map_err(|_| {
            Error::usage(format!("the URL's ;UIDVALIDITY={pinned} is not a number"))
        })?;
        if pinned != examined.uid_validity {
            return Err(Error::new(
                mailkit::error::ErrorKind::NoSuchRecipient,
                format!(
                    "folder {shown:?} has UIDVALIDITY {}, not {pinned} as the URL says: its \
                     UIDs may name other messages now; nothing fetched",
                    examined.uid_validity
                ),
            ));
        }
    }
    Ok(examined)
}

/// An error about a message, with the folder named.
fn in_folder_named(error: Error, folder: &str) -> Error {
    error.prefixed(&format!("folder {:?}", output::printable(folder)))
}

/// [`in_folder_named`] for an error at the edge.
fn in_folder_anyhow(error: anyhow::Error, folder: &str) -> anyhow::Error {
    match error.downcast::<Error>() {
        Ok(error) => in_folder_named(error, folder).into(),
        Err(other) => other,
    }
}

/// How messages are stored and written: LF line ends unless --keep-crlf.
fn line_ends(args: &Args) -> LineEnds {
    match args.keep_crlf {
        true => LineEnds::Keep,
        false => LineEnds::Lf,
    }
}

/// A URL's `;UID=N`.
fn parse_uid(text: &str) -> Result<u32, Error> {
    text.parse::<u32>()
        .ok()
        .filter(|&uid| uid > 0)
        .ok_or_else(|| Error::usage(format!("the URL's ;UID={text} is not a UID")))
}

/// The folder's messages (all, searched, or the newest `--limit`), oldest
/// first.
fn list_messages(
    args: &Args,
    session: &mut Session,
    examined: &Examined,
) -> anyhow::Result<ExitStatus> {
    let mut uids = match (&args.search, examined.exists) {
        (None, 0) => Vec::new(),
        (None, _) => session.uid_search("ALL")?,
        (Some(keys), _) => session.uid_search_query(&Query::parse(keys)?)?,
    };
    if let Some(limit) = args.limit {
        let keep = usize::try_from(limit).unwrap_or(usize::MAX).min(uids.len());
        uids.drain(..uids.len() - keep);
    }
    let mut out = BufWriter::new(io::stdout().lock());
    let json = args.output.json;
    let mut written = Ok(());
    fetch::list_messages(session, &uids, &mut |record| {
        written = match json {
            true => output::write_json_line(&mut out, &record),
            false => writeln!(out, "{}", record.text_line()),
        };
        written
            .as_ref()
            .map_err(|e| Error::from_io(mailkit::error::ErrorKind::LocalIo, "writing", e))
            .map(drop)
    })?;
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// `--fetch`: one message to stdout, or each into the destination.
fn fetch_messages(
    args: &Args,
    session: &mut Session,
    folder: &str,
    uids: &[u32],
    line_ends: LineEnds,
) -> anyhow::Result<ExitStatus> {
    let mut destination = match (&args.maildir, &args.mbox) {
        (Some(dir), _) => {
            Destination::Maildir(Maildir::open_or_create(dir)?.with_line_ends(line_ends))
        }
        (_, Some(path)) => Destination::Mbox(Mbox::open(path)?.with_line_ends(LineEnds::Keep)),
        (None, None) => {
            let mut out = io::stdout().lock();
            fetch::fetch_to(session, uids[0], line_ends, &mut out)
                .map_err(|e| in_folder_named(e, folder))?;
            return Ok(ExitStatus::Ok);
        }
    };
    let json = args.output.json;
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = None;
    let mut report = |stored: fetch::Stored| {
        if json
            && failed.is_none()
            && let Err(e) = output::write_json_line(&mut out, &stored)
        {
            failed = Some(e);
        }
    };
    fetch::fetch_into(
        session,
        folder,
        uids,
        &mut destination,
        line_ends,
        &mut report,
    )
    .map_err(|e| in_folder_named(e, folder))?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// `--capabilities`: what the server offers, for operators.
fn capabilities(args: &Args, session: Session) -> anyhow::Result<ExitStatus> {
    let caps = session.capabilities().to_vec();
    let tls = session.connection().tls_info().cloned();
    let preauth = session.is_preauth();
    let greeting = session.greeting().to_string();
    let _ = session.logout();
    let mut out = BufWriter::new(io::stdout().lock());
    if args.output.json {
        let record = serde_json::json!({
            "greeting": greeting,
            "preauth": preauth,
            "tls": tls.as_ref().map(|t| serde_json::json!({
                "version": t.version, "cipher": t.cipher, "verified": t.verified,
                "fingerprint": t.fingerprint,
            })),
            "capabilities": caps,
        });
        output::write_json_line(&mut out, &record)?;
    } else {
        let greeting = output::printable(&greeting);
        match preauth {
            true => writeln!(
                out,
                "greeting\tPREAUTH {greeting} (logged in by the server already)"
            )?,
            false => writeln!(out, "greeting\t{greeting}")?,
        }
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
        for name in &caps {
            writeln!(out, "capability\t{}", output::printable(name))?;
        }
    }
    out.flush()?;
    Ok(ExitStatus::Ok)
}

/// `--structure` and `--part`.
mod structure {
    use super::*;
    use mailkit::imap::fetch;

    /// Prints the MIME structure of message `uid`, as mime-unpack does.
    pub fn show(args: &Args, session: &mut Session, uid: u32) -> anyhow::Result<ExitStatus> {
        let parts = fetch::structure(session, uid)?;
        let mut out = BufWriter::new(io::stdout().lock());
        mailkit::unpack::write_tree(&mut out, &parts, args.output.json)?;
        out.flush()?;
        Ok(ExitStatus::Ok)
    }

    /// Writes one part of message `uid`, decoded, to stdout; damage in
    /// its encoding is a warning, as in mime-unpack.
    pub fn write_part(
        session: &mut Session,
        uid: u32,
        part: &str,
        line_ends: LineEnds,
        diag: &Diagnostics,
    ) -> anyhow::Result<ExitStatus> {
        let mut out = io::stdout().lock();
        if let Some(damage) = fetch::write_part(session, uid, part, line_ends, &mut out)? {
            // Worded as mime-unpack words the same damage.
            diag.warning(&format!(
                "part {part}: {}: {}",
                damage.encoding,
                damage.damage.describe()
            ));
        }
        Ok(ExitStatus::Ok)
    }
}

/// `--new`: download and keep.
mod archive {
    use super::*;
    use mailkit::imap::archive::{self as library, Event, Options};
    use mailkit::progress::Progress;
    use mailkit::store::fetch_state;
    use mailkit::store::folder_state::FolderState;

    /// Archives the folders asked for (or every selectable one) into the
    /// destination, recording what was stored in the state file.
    pub fn run(
        args: &Args,
        endpoint: &Endpoint,
        folders: &[String],
        diag: &Diagnostics,
    ) -> anyhow::Result<ExitStatus> {
        let mut destination = match (&args.maildir, &args.mbox) {
            (Some(dir), _) => library::Destination::Maildir(Maildir::open_or_create(dir)?),
            (_, Some(path)) => library::Destination::Mbox(path.clone()),
            (None, None) => return Err(Error::usage("--new needs --maildir or --mbox").into()),
        };
        let mut state = open_state(args, endpoint)?;
        let mut session = logged_in(args, endpoint)?;
        let wire: Vec<Vec<u8>> = match args.all_folders {
            true => library::selectable_folders(&mut session)?,
            false => folders.iter().map(|f| session.wire_name(f)).collect(),
        };
        let options = Options {
            line_ends: line_ends(args),
        };
        let json = args.output.json;
        let mut out = BufWriter::new(io::stdout().lock());
        let mut progress =
            Progress::on_terminal(!json && args.common.verbose == 0 && !args.common.quiet);
        let mut failed_output = None;
        let mut observe = |event: Event<'_>| match event {
            Event::FolderStarted {
                folder,
                messages,
                octets,
            } => progress.plan_named(folder, messages, octets),
            Event::UidValidityChanged { folder, old, new } => diag.warning(&format!(
                "folder {:?}: UIDVALIDITY is {new}, not {} as when it was last archived: the \
                 server renumbered its messages; fetching again what is not stored yet \
                 (same Message-ID and size)",
                output::printable(folder),
                old.map_or("known".into(), |n| n.to_string()),
            )),
            Event::Handled(record) => {
                if record.status == "stored" {
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
        let outcome = library::archive(
            &mut session,
            &wire,
            &mut destination,
            &mut state,
            &options,
            &mut observe,
        );
        progress.finish();
        let summary = outcome?;
        let _ = session.logout();
        if let Some(e) = failed_output {
            return Err(e.into());
        }
        if json {
            output::write_json_line(&mut out, &summary)?;
        }
        out.flush()?;
        Ok(ExitStatus::Ok)
    }

    /// The state file (--state, or the default one for this user and
    /// server), locked.
    fn open_state(args: &Args, endpoint: &Endpoint) -> Result<FolderState, Error> {
        let user = endpoint.login.as_ref().map_or("", |l| l.user.as_str());
        let path = match &args.state {
            Some(path) => path.clone(),
            None => fetch_state::default_path("imap", user, &endpoint.host, endpoint.port)?,
        };
        FolderState::open(&path)
    }
}
