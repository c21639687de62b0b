//! `smtp-send`'s queue at work: spooling the deferred recipients of a
//! message (`--queue DIR`), and the `--flush DIR` run from cron that
//! retries what is due with exponential back-off and gives up on what is
//! older than `--max-age`, reporting each recipient given up.

use std::path::Path;

use crate::error::Error;
use crate::input::Replayable;
use crate::smtp::queue::{self, Queue, QueuedEnvelope};
use crate::smtp::submit::{self, Outcome, Outgoing, RecipientResult};

/// The recipients of `results` that were deferred.
fn deferred(results: &[RecipientResult]) -> Vec<String> {
    results
        .iter()
        .filter(|r| r.status == Outcome::Deferred)
        .map(|r| r.recipient.clone())
        .collect()
}

/// The reply of the first deferred recipient, for the queue's report.
fn first_deferral(results: &[RecipientResult]) -> Option<String> {
    results
        .iter()
        .find(|r| r.status == Outcome::Deferred)
        .map(|r| r.reply.clone())
}

/// Spools `message` for its deferred recipients in the queue at `dir`,
/// and marks them queued; nothing is spooled when none was deferred.
pub fn queue_deferred(
    dir: &Path,
    message: &Outgoing,
    results: &mut [RecipientResult],
) -> Result<(), Error> {
    let recipients = deferred(results);
    if recipients.is_empty() {
        return Ok(());
    }
    let queue = Queue::open(dir)?;
    let now = queue::now();
    let envelope = QueuedEnvelope {
        sender: message.sender.clone(),
        recipients,
        created: now,
        attempts: 1,
        next_attempt: now + queue::backoff(1).as_secs(),
        last_error: first_deferral(results),
    };
    let mut reader = message
        .reader()
        .map_err(|e| Error::io(format!("reading the message: {e}")))?;
    queue.add(&envelope, &mut reader)?;
    for result in results.iter_mut().filter(|r| r.status == Outcome::Deferred) {
        result.status = Outcome::Queued;
    }
    Ok(())
}

/// How a flush runs.
pub struct Flush {
    /// Entries older than this many seconds are given up.
    pub max_age: u64,
    /// Retry every entry now, whatever its back-off says.
    pub force: bool,
}

/// What a flush did.
#[derive(Default)]
pub struct FlushReport {
    /// The result of each recipient tried.
    pub results: Vec<RecipientResult>,
    /// Each recipient given up: (recipient, attempts, last error).
    pub given_up: Vec<(String, u32, String)>,
    /// Queue entries that could not be read.
    pub unreadable: Vec<String>,
}

/// Retries the due entries of the queue at `dir` with `deliver`, under
/// the queue's lock (two flushes never send one entry twice): an entry
/// delivered (or refused for good) leaves the queue, one still deferred
/// stays with its back-off doubled, one too old is given up.
pub fn flush(
    dir: &Path,
    how: &Flush,
    deliver: &mut dyn FnMut(&Outgoing) -> Result<Vec<RecipientResult>, Error>,
) -> Result<FlushReport, Error> {
    let queue = Queue::open(dir)?;
    let _lock = queue.lock()?;
    let (entries, unreadable) = queue.entries()?;
    let mut report = FlushReport {
        unreadable,
        ..FlushReport::default()
    };
    let now = queue::now();
    for entry in entries {
        let envelope = &entry.envelope;
        if now.saturating_sub(envelope.created) > how.max_age {
            let why = envelope.last_error.clone().unwrap_or("no reply".into());
            for recipient in &envelope.recipients {
                report
                    .given_up
                    .push((recipient.clone(), envelope.attempts, why.clone()));
            }
            queue.remove(&entry)?;
            continue;
        }
        if envelope.next_attempt > now && !how.force {
            continue;
        }
        let spooled = Replayable::read_from(&mut queue.message(&entry)?)
            .map_err(|e| Error::io(format!("{}: {e}", entry.path.display())))?;
        let message =
            submit::prepare(spooled, &envelope.recipients, false, Some(&envelope.sender))?;
        let results = deliver(&message)?;
        let still_deferred = deferred(&results);
        if still_deferred.is_empty() {
            queue.remove(&entry)?;
        } else {
            let mut next = envelope.clone();
            next.attempts += 1;
            next.next_attempt = now + queue::backoff(next.attempts).as_secs();
            next.last_error = first_deferral(&results);
            next.recipients = still_deferred;
            queue.update(&entry, &next)?;
        }
        report.results.extend(results);
    }
    Ok(report)
}
