//! What `pop3-fetch` does over a logged-in [`Session`]: list the
//! maildrop, choose what to fetch (`--new`, `--limit`, `--max-size`),
//! fetch it into a [`Destination`] with RETR pipelined when the server
//! offers PIPELINING (RFC 2449 §6.6), record each stored message in the
//! state file, and delete it only after that (download and delete).
//!
//! The order that makes a crash lose nothing and repeat nothing, per
//! message: RETR into the destination's own safe place (Maildir `tmp/`,
//! synced; or a spool for the others, so that a response cut short never
//! reaches an mbox or an MDA) → the destination holds it durably → the
//! state file records its UIDL (synced) → DELE → QUIT commits. A Maildir
//! message is recorded while still in `tmp/` with its name, and linked
//! into `new/` after; a run that finds such a name still in `tmp/`
//! finishes the link ([`Maildir::recover_staged`]). An mbox append or an
//! MDA that completed just before a crash, with the record not yet
//! written, is done again by the next run (as with every POP3 client):
//! the window is one sync long.

use std::collections::{HashSet, VecDeque};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::SystemTime;

use serde::Serialize;

use super::{Listed, Session};
use crate::error::{Error, ErrorKind};
use crate::net::dot_reader::DotOptions;
use crate::store::fetch_state::FetchState;
use crate::store::maildir::Staged;
use crate::store::spool::Spool;
use crate::store::{LineEnds, Maildir, Mbox};

/// Commands in flight at most with PIPELINING: enough to keep the
/// connection busy, far too few (short lines) to fill a socket buffer,
/// which could deadlock a server that writes while we write (RFC 2449
/// §6.6).
const WINDOW: usize = 32;
/// Most messages in a batch made durable together (one file-system sync,
/// one state record sync, one sync of `new/`).
const BATCH_MESSAGES: usize = 64;
/// Most octets in a batch: a crash loses at most this much received work
/// (fetched again by the next run), never a stored message.
const BATCH_OCTETS: u64 = 16 << 20;

/// Where fetched messages go.
pub enum Destination {
    /// A Maildir (`--maildir`).
    Maildir(Maildir),
    /// An mbox file or stdout (`--mbox`).
    Mbox(Mbox),
    /// A command per message (`--mda`).
    Mda(Mda),
}

/// An MDA command and the facts its environment gets besides each
/// message's own.
pub struct Mda {
    /// The command, run with `sh -c`.
    pub command: String,
    /// `host:port`, for `MAILKIT_SERVER`.
    pub server: String,
    /// The user, for `MAILKIT_USER`.
    pub user: String,
}

/// What to fetch and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only messages the state file does not hold (`--new`).
    pub new: bool,
    /// Delete each message once stored (`--delete`).
    pub delete: bool,
    /// Fetch at most this many (`--limit`).
    pub limit: Option<u64>,
    /// Skip messages larger than this (`--max-size`).
    pub max_size: Option<u64>,
    /// Store the header of larger ones instead (`--headers-only`).
    pub headers_only: bool,
    /// Line ends as stored.
    pub line_ends: LineEnds,
}

/// What happened to one message, for `--json` and notes.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Always `message`.
    pub record: &'static str,
    /// Its number in this session.
    pub number: u32,
    /// Its size as LIST gave it.
    pub size: u64,
    /// Its UIDL.
    pub uidl: Option<String>,
    /// `stored`, `header_stored`, `skipped` (too large), `gone` (RETR
    /// refused: another session removed it meanwhile), or `deleted`
    /// (stored by an earlier run, deleted now).
    pub status: &'static str,
    /// The Maildir file written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// The totals of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Always `summary`.
    pub record: &'static str,
    /// Messages stored (header-only ones included).
    pub fetched: u64,
    /// Messages skipped as too large, or gone before their RETR.
    pub skipped: u64,
    /// Messages deleted from the server.
    pub deleted: u64,
    /// Octets stored.
    pub bytes: u64,
}

/// What the fetch tells its caller as it goes.
pub enum Event<'a> {
    /// The plan: this many messages and octets (LIST sizes) to fetch.
    Planned {
        /// Messages to fetch.
        messages: u64,
        /// Their octets.
        octets: u64,
    },
    /// A message was handled.
    Handled(&'a Record),
}

/// The maildrop listed with UIDLs (when the server has them), and nothing
/// changed.
pub fn list(session: &mut Session) -> Result<Vec<Listed>, Error> {
    let (count, _) = session.stat()?;
    let caps = session.capabilities();
    let with_uidl = caps.uidl || !caps.known;
    session.list(count, with_uidl)
}

/// One message, by number or by UIDL, written raw to `out` once it is
/// complete (spooled first: a response cut short writes nothing). No such
/// message is [`ErrorKind::NoSuchRecipient`] (67).
pub fn fetch_one(
    session: &mut Session,
    wanted: &Wanted,
    line_ends: LineEnds,
    out: &mut dyn Write,
) -> Result<Listed, Error> {
    let messages = list(session)?;
    let found = messages.into_iter().find(|m| match wanted {
        Wanted::Number(n) => m.number == *n,
        Wanted::Uidl(uidl) => m.uidl.as_deref() == Some(uidl.as_str()),
    });
    let message = found.ok_or_else(|| {
        Error::new(
            ErrorKind::NoSuchRecipient,
            format!("no message {wanted} on the server"),
        )
    })?;
    session.send_retrieve(message.number, false)?;
    let mut spool = spool_message(session, &message, line_ends)?;
    spool.copy_to(out)?;
    Ok(message)
}

/// A message asked for by `--message N` or `--uid UIDL`.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// By number.
    Number(u32),
    /// By UIDL.
    Uidl(String),
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::Number(n) => write!(f, "{n}"),
            Wanted::Uidl(uidl) => write!(f, "with UIDL {uidl:?}"),
        }
    }
}

/// One step of the work, in the order of the commands sent.
#[derive(Debug, Clone)]
enum Job {
    /// RETR (or TOP n 0) and store.
    Fetch { message: Listed, header_only: bool },
    /// DELE of a message stored before.
    Delete { message: Listed, earlier: bool },
    /// Nothing sent: a message too large, reported in its place.
    Skip { message: Listed },
}

/// Fetches the maildrop into `destination` as `options` say, with `state`
/// (every stored message is recorded; with `--new` what it holds is not
/// fetched again, and with `--new --delete` a message stored by an
/// interrupted run is deleted, not fetched again). Deletions are
/// committed by QUIT, which ends the session; an error ends it too
/// (committing what was stored and deleted when the connection still
/// works).
pub fn fetch(
    mut session: Session,
    destination: &mut Destination,
    mut state: Option<&mut FetchState>,
    options: &Options,
    observe: &mut dyn FnMut(Event<'_>),
) -> Result<Summary, Error> {
    let messages = list(&mut session)?;
    if let Some(state) = state.as_deref_mut() {
        prepare_state(state, &messages, destination, options)?;
    }
    // After the recovery above, which delivers what was recorded.
    if let Destination::Maildir(maildir) = destination {
        let recorded: HashSet<&str> = state
            .as_deref()
            .map(|s| s.staged_names().collect())
            .unwrap_or_default();
        maildir.remove_stale_tmp(&|name| recorded.contains(name));
    }
    let jobs = plan(&messages, state.as_deref(), options, observe);
    let mut run = Run {
        session,
        destination,
        state,
        options,
        summary: Summary {
            record: "summary",
            ..Summary::default()
        },
        deletes_sent: false,
        in_flight: 0,
        batch: Vec::new(),
        batch_octets: 0,
        deleted: Vec::new(),
    };
    let outcome = run.execute(jobs, observe);
    let Run {
        session,
        summary,
        deletes_sent,
        in_flight,
        deleted,
        state,
        ..
    } = run;
    let in_step = in_flight == 0;
    finish(session, outcome, deletes_sent, in_step)?;
    // Gone from the server for good: a server that gives the UIDL to a
    // new message later (RFC 1939 §7 asks it not to) gets it fetched.
    if let Some(state) = state {
        let deleted: HashSet<String> = deleted.into_iter().collect();
        state.compact(|key| !deleted.contains(key))?;
    }
    Ok(summary)
}

/// Ends the session after the work: QUIT commits the deletions. After a
/// failure that left the conversation in step (a full disk, an MDA that
/// failed, a refusal, with no command still unanswered) what was stored
/// and deleted before is committed too; otherwise nothing more is sent,
/// and the next `--delete` run deletes what this one stored.
fn finish(
    session: Session,
    outcome: Result<(), Error>,
    deletes_sent: bool,
    in_step: bool,
) -> Result<(), Error> {
    match outcome {
        Ok(()) => match session.quit_and_commit() {
            Ok(()) => Ok(()),
            Err(e) if deletes_sent => Err(e),
            Err(_) => Ok(()),
        },
        Err(error) if in_step && still_talking(&error) => {
            let _ = session.quit_and_commit();
            Err(error)
        }
        Err(error) => Err(error),
    }
}

/// A failure after which the connection still works: anything but a
/// broken connection, TLS or protocol.
fn still_talking(error: &Error) -> bool {
    !matches!(
        error.kind(),
        ErrorKind::ConnectionLost
            | ErrorKind::Timeout
            | ErrorKind::Protocol
            | ErrorKind::Tls
            | ErrorKind::Certificate
    )
}

/// Finishes Maildir deliveries a crash interrupted, then forgets the
/// messages no longer on the server. `--new` needs UIDLs.
fn prepare_state(
    state: &mut FetchState,
    messages: &[Listed],
    destination: &Destination,
    options: &Options,
) -> Result<(), Error> {
    if let Destination::Maildir(maildir) = destination {
        // Every record, on the server still or not: a message deleted by
        // another client since is stored here only.
        let in_tmp = maildir.tmp_names();
        for name in state.staged_names().filter(|n| in_tmp.contains(*n)) {
            maildir.recover_staged(name)?;
        }
    }
    let on_server: HashSet<&str> = messages.iter().filter_map(|m| m.uidl.as_deref()).collect();
    if on_server.len() < messages.len() {
        if options.new {
            return Err(Error::protocol(
                "the server gives no UIDL for every message, which --new needs to know \
                 what an earlier run stored",
            ));
        }
        return Ok(());
    }
    state.compact(|key| on_server.contains(key.strip_suffix(HEADER_SUFFIX).unwrap_or(key)))
}

/// The state key of a message whose header alone was stored
/// (`--headers-only`): `--new` does not store it again, and the whole
/// message is still fetched once the size limit allows it.
fn header_key(uidl: &str) -> String {
    format!("{uidl}{HEADER_SUFFIX}")
}

/// Marks a header-only record in the state file. An escaped UIDL never
/// ends so ([`crate::pop3::escape_uidl`] writes `%` only before two hex
/// digits), so no message's own key can be taken for it.
const HEADER_SUFFIX: &str = "%H";

/// The jobs, in message order: with `--new`, messages already stored (by
/// the state) are deleted with `--delete` and otherwise left; the rest fetched up to
/// `--limit`, the too large skipped (or their header fetched).
fn plan(
    messages: &[Listed],
    state: Option<&FetchState>,
    options: &Options,
    observe: &mut dyn FnMut(Event<'_>),
) -> Vec<Job> {
    let stored = |key: &str| state.is_some_and(|s| s.contains(key));
    let mut jobs = Vec::new();
    let (mut fetches, mut octets) = (0u64, 0u64);
    for message in messages {
        let uidl = message.uidl.as_deref();
        if uidl.is_some_and(stored) && options.new {
            if options.delete {
                jobs.push(Job::Delete {
                    message: message.clone(),
                    earlier: true,
                });
            }
            continue;
        }
        let too_large = options.max_size.is_some_and(|max| message.size > max);
        if too_large && !options.headers_only {
            jobs.push(Job::Skip {
                message: message.clone(),
            });
            continue;
        }
        if too_large && options.new && uidl.is_some_and(|u| stored(&header_key(u))) {
            continue;
        }
        if options.limit.is_some_and(|limit| fetches >= limit) {
            continue;
        }
        fetches += 1;
        // A size of 2^64 - 1 is a number a server may send.
        octets = octets.saturating_add(message.size);
        jobs.push(Job::Fetch {
            message: message.clone(),
            header_only: too_large,
        });
    }
    observe(Event::Planned {
        messages: fetches,
        octets,
    });
    jobs
}

fn record(message: &Listed, status: &'static str, path: Option<PathBuf>) -> Record {
    Record {
        record: "message",
        number: message.number,
        size: message.size,
        uidl: message.uidl.clone(),
        status,
        path,
    }
}

/// The state of one fetch run.
struct Run<'a, 's> {
    session: Session,
    destination: &'a mut Destination,
    state: Option<&'s mut FetchState>,
    options: &'a Options,
    summary: Summary,
    deletes_sent: bool,
    /// Commands sent and not yet answered.
    in_flight: usize,
    /// Messages received, not yet durable and recorded.
    batch: Vec<Fetched>,
    /// Their octets.
    batch_octets: u64,
    /// The UIDLs of the messages deleted (DELE answered).
    deleted: Vec<String>,
}

/// A message read and written, waiting until its batch is durable.
struct Fetched {
    message: Listed,
    header_only: bool,
    /// Not fetched, only reported: `skipped` (too large) or `gone` (the
    /// server no longer had it).
    not_fetched: Option<&'static str>,
    /// The state key, when the server gives UIDLs.
    key: Option<String>,
    octets: u64,
    /// The Maildir file, staged in `tmp/`.
    staged: Option<Staged>,
}

impl Fetched {
    /// A message only reported, with `status` (`skipped`, `gone`).
    fn not_fetched(message: Listed, status: &'static str) -> Fetched {
        Fetched {
            message,
            header_only: false,
            not_fetched: Some(status),
            key: None,
            octets: 0,
            staged: None,
        }
    }
}

impl Run<'_, '_> {
    /// Sends the jobs' commands, up to the window ahead of the answers
    /// read (one at a time without PIPELINING), and handles each answer in
    /// order; a DELE is queued once its message is stored. After a
    /// failure, the messages received whole are still made durable and
    /// recorded (not deleted), so that the next run does not fetch them
    /// again.
    fn execute(&mut self, jobs: Vec<Job>, observe: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
        let outcome = self.exchange(jobs, observe);
        if outcome.is_err() && !self.batch.is_empty() {
            let _ = self.commit_batch(observe);
        }
        outcome
    }

    fn exchange(
        &mut self,
        jobs: Vec<Job>,
        observe: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Error> {
        let window = match self.session.capabilities().pipelining {
            true => WINDOW,
            false => 1,
        };
        let mut waiting: VecDeque<Job> = jobs.into();
        let mut in_flight: VecDeque<Job> = VecDeque::new();
        loop {
            while in_flight.len() < window {
                let Some(job) = waiting.pop_front() else {
                    break;
                };
                self.send(&job)?;
                in_flight.push_back(job);
            }
            let Some(job) = in_flight.pop_front() else {
                return Ok(());
            };
            // Should answering this job fail, these stay unanswered.
            self.in_flight = in_flight.len();
            self.answer(job, observe)?;
            let more_coming = in_flight.iter().chain(&waiting).any(Job::is_fetch);
            if self.batch_due(more_coming) {
                // Ahead of the fetches not yet sent: DELE goes out at once.
                for delete in self.commit_batch(observe)?.into_iter().rev() {
                    waiting.push_front(delete);
                }
            }
        }
    }

    fn send(&mut self, job: &Job) -> Result<(), Error> {
        match job {
            Job::Fetch {
                message,
                header_only,
            } => self.session.send_retrieve(message.number, *header_only),
            Job::Delete { message, .. } => {
                self.deletes_sent = true;
                self.session.send_delete(message.number)
            }
            Job::Skip { .. } => Ok(()),
        }
    }

    /// Reads the answer to `job`'s command: a message goes into the batch.
    fn answer(&mut self, job: Job, observe: &mut dyn FnMut(Event<'_>)) -> Result<(), Error> {
        match job {
            Job::Delete { message, earlier } => {
                self.session.read_deleted(message.number)?;
                self.summary.deleted += 1;
                self.deleted.extend(message.uidl.clone());
                if earlier {
                    observe(Event::Handled(&record(&message, "deleted", None)));
                }
            }
            Job::Fetch {
                message,
                header_only,
            } => {
                let fetched = match self.receive(message.clone(), header_only) {
                    Err(e) if is_gone(&e) => Fetched::not_fetched(message, "gone"),
                    fetched => fetched?,
                };
                self.batch_octets += fetched.octets;
                self.batch.push(fetched);
            }
            // In the batch, so that it is reported in message order.
            Job::Skip { message } => self.batch.push(Fetched::not_fetched(message, "skipped")),
        }
        Ok(())
    }

    /// Whether the batch is to be made durable now: it is full, or no
    /// other message is coming. An mbox or MDA message is stored already:
    /// it is recorded at once.
    fn batch_due(&self, more_coming: bool) -> bool {
        let maildir = matches!(self.destination, Destination::Maildir(_));
        !self.batch.is_empty()
            && (!maildir
                || !more_coming
                || self.batch.len() >= BATCH_MESSAGES
                || self.batch_octets >= BATCH_OCTETS)
    }

    /// Receives one message whose RETR (or TOP) was sent: into a Maildir's
    /// `tmp/` (durable later, with its batch), or spooled whole and then
    /// stored at once in an mbox or by the MDA.
    fn receive(&mut self, message: Listed, header_only: bool) -> Result<Fetched, Error> {
        let key = message.uidl.as_deref().map(|u| match header_only {
            true => header_key(u),
            false => u.to_string(),
        });
        let dot = DotOptions {
            line_ends: self.options.line_ends,
            max_octets: most_octets(message.size),
        };
        let number = message.number;
        if let Destination::Maildir(maildir) = &*self.destination {
            let session = &mut self.session;
            let mut octets = 0;
            let staged = maildir.stage(|sink| {
                octets = session.read_message(number, sink, &dot)?.octets;
                Ok(())
            })?;
            return Ok(Fetched {
                message,
                header_only,
                not_fetched: None,
                key,
                octets,
                staged: Some(staged),
            });
        }
        let mut spool = spool_message(&mut self.session, &message, self.options.line_ends)?;
        match &mut *self.destination {
            Destination::Mbox(mbox) => {
                let sender = spool.return_path()?;
                mbox.append(&sender, SystemTime::now(), &mut spool)?
            }
            Destination::Mda(mda) => run_mda(mda, &message, &mut spool)?,
            Destination::Maildir(_) => unreachable!("handled above"),
        }
        Ok(Fetched {
            message,
            header_only,
            not_fetched: None,
            key,
            octets: spool.len(),
            staged: None,
        })
    }

    /// Makes the batch durable (Maildir: one sync for all, then the
    /// records, then the links into `new/`; the others are stored
    /// already: their records), reports each message, and returns the
    /// DELE jobs of those to delete.
    fn commit_batch(&mut self, observe: &mut dyn FnMut(Event<'_>)) -> Result<Vec<Job>, Error> {
        let mut batch = std::mem::take(&mut self.batch);
        self.batch_octets = 0;
        let mut staged: Vec<Staged> = batch.iter_mut().filter_map(|f| f.staged.take()).collect();
        let maildir = match &*self.destination {
            Destination::Maildir(maildir) => Some(maildir),
            _ => None,
        };
        if let Some(maildir) = maildir {
            maildir.sync_staged(&staged)?;
        }
        if let Some(state) = self.state.as_deref_mut() {
            let mut names = staged.iter().map(Staged::name);
            let records: Vec<(&str, Option<&str>)> = batch
                .iter()
                .filter(|f| f.not_fetched.is_none())
                .filter_map(|f| {
                    let name = maildir.and_then(|_| names.next());
                    Some((f.key.as_deref()?, name))
                })
                .collect();
            state.record_all(&records)?;
            staged.iter_mut().for_each(Staged::keep);
        }
        let mut delivered = match maildir {
            Some(maildir) => maildir.deliver_staged(staged)?.into_iter(),
            None => Vec::new().into_iter(),
        };
        let mut paths: Vec<Option<PathBuf>> = batch
            .iter()
            .map(|f| match f.not_fetched.is_some() || maildir.is_none() {
                true => None,
                false => delivered.next(),
            })
            .collect();
        let mut deletes = Vec::new();
        for (fetched, path) in batch.into_iter().zip(paths.drain(..)) {
            if let Some(status) = fetched.not_fetched {
                self.summary.skipped += 1;
                observe(Event::Handled(&record(&fetched.message, status, None)));
                continue;
            }
            self.summary.fetched += 1;
            self.summary.bytes += fetched.octets;
            let status = match fetched.header_only {
                true => "header_stored",
                false => "stored",
            };
            observe(Event::Handled(&record(&fetched.message, status, path)));
            if self.options.delete && !fetched.header_only {
                deletes.push(Job::Delete {
                    message: fetched.message,
                    earlier: false,
                });
            }
        }
        Ok(deletes)
    }
}

impl Job {
    fn is_fetch(&self) -> bool {
        matches!(self, Job::Fetch { .. })
    }
}

/// A plain `-ERR` to RETR or TOP: the message is not there (another
/// session removed it after the LIST); the others are still fetched. A
/// response code (`[SYS/TEMP]`, `[IN-USE]`) is a failure of the run.
fn is_gone(error: &Error) -> bool {
    error.kind() == ErrorKind::NoSuchRecipient && error.reply().is_some()
}

/// How much more than its LIST size a message may bring before its
/// transfer is refused (76). Sizes are counted loosely (RFC 1939 §11: the
/// octet count on the server may differ from the one a message is given,
/// by local line-end conventions), so the bound is twice the size, or 8
/// MiB more, whichever is larger: a server sending a message without end
/// is stopped there, not at a full disk or a run without end.
const SIZE_SLACK: u64 = 8 << 20;

/// The most octets message data of `size` (LIST's) may bring.
fn most_octets(size: u64) -> u64 {
    size.saturating_mul(2).max(size.saturating_add(SIZE_SLACK))
}

/// Reads the answer to a RETR sent before into a spool.
fn spool_message(
    session: &mut Session,
    message: &Listed,
    line_ends: LineEnds,
) -> Result<Spool, Error> {
    let mut spool = Spool::new();
    let dot = DotOptions {
        line_ends,
        max_octets: most_octets(message.size),
    };
    let complete = session.read_message(message.number, spool.writer(), &dot)?;
    spool.ready(complete.octets)?;
    Ok(spool)
}

/// Runs the MDA for one message: `sh -c COMMAND`, the message on its
/// standard input, its facts in the environment (never in the command).
/// Exit 0 is stored; 75 (EX_TEMPFAIL) is a temporary failure; anything
/// else, a failure to store (74).
fn run_mda(mda: &Mda, message: &Listed, spool: &mut Spool) -> Result<(), Error> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(&mda.command)
        .env("MAILKIT_NUMBER", message.number.to_string())
        .env("MAILKIT_UIDL", message.uidl.as_deref().unwrap_or(""))
        .env("MAILKIT_SIZE", message.size.to_string())
        .env("MAILKIT_SERVER", &mda.server)
        .env("MAILKIT_USER", &mda.user)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| Error::from_io(ErrorKind::LocalIo, "starting the MDA (/bin/sh)", &e))?;
    let fed = child
        .stdin
        .take()
        .map(|mut stdin| io::copy(spool, &mut stdin).map(|_| ()));
    let status = child
        .wait()
        .map_err(|e| Error::from_io(ErrorKind::LocalIo, "waiting for the MDA", &e))?;
    let what = format!("the MDA for message {}", message.number);
    match status.code() {
        Some(0) => {}
        Some(75) => {
            return Err(Error::new(
                ErrorKind::Deferred,
                format!("{what} exited 75 (temporary failure); the message stays on the server"),
            ));
        }
        Some(code) => {
            return Err(Error::io(format!(
                "{what} exited {code}; the message stays on the server"
            )));
        }
        None => {
            return Err(Error::io(format!(
                "{what} was killed by a signal; the message stays on the server"
            )));
        }
    }
    // An MDA that exits 0 without reading all of its input (a filter that
    // discards) did take the message.
    match fed {
        Some(Err(e)) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::from_io(
            ErrorKind::LocalIo,
            &format!("giving message {} to the MDA", message.number),
            &e,
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(number: u32, size: u64, uidl: &str) -> Listed {
        Listed {
            number,
            size,
            uidl: Some(uidl.to_string()),
        }
    }

    fn jobs(messages: &[Listed], state: Option<&FetchState>, options: &Options) -> Vec<String> {
        let mut planned = None;
        let mut events = |e: Event<'_>| {
            if let Event::Planned { messages, octets } = e {
                planned = Some((messages, octets));
            }
        };
        let jobs = plan(messages, state, options, &mut events);
        assert!(planned.is_some());
        jobs.iter()
            .map(|j| match j {
                Job::Fetch {
                    message,
                    header_only: false,
                } => format!("RETR {}", message.number),
                Job::Fetch { message, .. } => format!("TOP {}", message.number),
                Job::Delete { message, .. } => format!("DELE {}", message.number),
                Job::Skip { message } => format!("SKIP {}", message.number),
            })
            .collect()
    }

    #[test]
    fn a_header_only_key_is_no_message_key() {
        let header = header_key(&crate::pop3::escape_uidl(b"x"));
        assert_ne!(crate::pop3::escape_uidl(header.as_bytes()), header);
        assert_ne!(crate::pop3::escape_uidl(b"x%H"), header);
    }

    #[test]
    fn the_plan_follows_state_limit_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = FetchState::open(&dir.path().join("s")).unwrap();
        state.record("b", None).unwrap();
        let messages = [
            listed(1, 10, "a"),
            listed(2, 10, "b"),
            listed(3, 500, "c"),
            listed(4, 10, "d"),
        ];
        let all = Options::default();
        assert_eq!(
            jobs(&messages, Some(&state), &all),
            ["RETR 1", "RETR 2", "RETR 3", "RETR 4"]
        );
        let new = Options {
            new: true,
            ..Options::default()
        };
        assert_eq!(
            jobs(&messages, Some(&state), &new),
            ["RETR 1", "RETR 3", "RETR 4"]
        );
        let delete = Options {
            new: true,
            delete: true,
            ..Options::default()
        };
        assert_eq!(
            jobs(&messages, Some(&state), &delete),
            ["RETR 1", "DELE 2", "RETR 3", "RETR 4"]
        );
        let small = Options {
            new: true,
            max_size: Some(100),
            limit: Some(1),
            ..Options::default()
        };
        assert_eq!(jobs(&messages, Some(&state), &small), ["RETR 1", "SKIP 3"]);
        let headers = Options {
            max_size: Some(100),
            headers_only: true,
            ..Options::default()
        };
        assert_eq!(
            jobs(&messages, None, &headers),
            ["RETR 1", "RETR 2", "TOP 3", "RETR 4"]
        );
    }
}
