//! `smtp-send`'s queue at work: spooling the deferred recipients of a
//! message (`--queue DIR`), and the `--flush DIR` run from cron that
//! retries what is due with exponential back-off and gives up on what is
//! older than `--max-age`, reporting each recipient given up.
//!
//! The route rule: an entry goes the way it was queued ([`SendRoute`]).
//! A flush that gives route options of its own (a server, connection or
//! credential options) must give exactly the recorded route; an entry
//! recorded for another route is kept and not sent, unless the flush says
//! `--reroute`. An entry that records no route (written by an earlier
//! version) goes by the flush's route, as it always did, with a warning.

use std::path::Path;

use crate::error::Error;
use crate::exit::ExitStatus;
use crate::input::Replayable;
use crate::smtp::Dsn;
use crate::smtp::queue::{self, Entry, Queue, QueuedEnvelope, SendRoute};
use crate::smtp::submit::{self, OnProgress, Outcome, Outgoing, Progress, RecipientResult};

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
/// with the `route` and the `dsn` request it was sent with, and marks them
/// queued; nothing is spooled when none was deferred.
pub fn queue_deferred(
    dir: &Path,
    message: &Outgoing,
    (route, dsn): (&SendRoute, &Dsn),
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
        route: Some(route.clone()),
        dsn: dsn.is_requested().then(|| dsn.clone()),
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
    /// The route the flush's own options give.
    pub route: SendRoute,
    /// Whether the flush gave route options at all (else each entry goes
    /// by its recorded route).
    pub route_given: bool,
    /// Send entries recorded for another route by the flush's route.
    pub reroute: bool,
}

/// Which way one entry goes.
enum Way {
    /// By this route.
    Send(SendRoute),
    /// Not at all: recorded for another route.
    Hold(SendRoute),
}

impl Flush {
    /// The way for an entry that recorded `recorded`, noted in `report`.
    fn way(&self, entry: &str, recorded: Option<&SendRoute>, report: &mut FlushReport) -> Way {
        match recorded {
            None => {
                report.unrouted.push(entry.to_string());
                Way::Send(self.route.clone())
            }
            Some(recorded) if !self.route_given || *recorded == self.route => {
                Way::Send(recorded.clone())
            }
            Some(recorded) if self.reroute => {
                report
                    .rerouted
                    .push((entry.to_string(), recorded.describe()));
                Way::Send(self.route.clone())
            }
            Some(recorded) => Way::Hold(recorded.clone()),
        }
    }
}

/// The note for the entries that had recorded one route, rerouted.
fn rerouted_note(recorded: &str, entries: &[&str]) -> String {
    const NAMED: usize = 3;
    if let [entry] = entries {
        return format!("{entry}: queued for {recorded}: rerouted");
    }
    let mut named = entries[..entries.len().min(NAMED)].join(", ");
    if entries.len() > NAMED {
        named += &format!(" and {} more", entries.len() - NAMED);
    }
    format!(
        "{} entries queued for {recorded}: rerouted ({named})",
        entries.len()
    )
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
    /// Entries without a recorded route, sent by the flush's route.
    pub unrouted: Vec<String>,
    /// Entries sent by the flush's route with `--reroute`: (entry, the
    /// route it recorded).
    pub rerouted: Vec<(String, String)>,
    /// Entries kept unsent because they recorded another route: (entry,
    /// that route).
    pub held: Vec<(String, String)>,
    /// Entries an earlier flush was sending when it stopped: sent again.
    pub interrupted: Vec<String>,
    /// Entries whose new envelope could not be written after a delivery
    /// attempt: (entry, why). Each is kept as it was.
    pub not_updated: Vec<(String, String)>,
}

impl FlushReport {
    /// The warnings to show: unreadable entries, and entries without a
    /// recorded route, sent by the flush's `route`.
    pub fn warnings(&self, route: &SendRoute) -> Vec<String> {
        let unreadable = self.unreadable.iter();
        let unreadable = unreadable.map(|e| format!("unreadable queue entry {e}"));
        let unrouted = self.unrouted.iter().map(|entry| {
            format!(
                "{entry}: queued by an earlier version, which recorded no route: sent by {}",
                route.describe()
            )
        });
        let interrupted = self.interrupted.iter().map(|entry| {
            format!(
                "{entry}: an earlier flush stopped while sending it: back in the queue (its recipients may get it twice)"
            )
        });
        unreadable.chain(unrouted).chain(interrupted).collect()
    }

    /// The notes to show: entries rerouted, one line for each route they
    /// had recorded (a queue of thousands rerouted is a few lines, not
    /// thousands), naming the first few entries.
    pub fn notes(&self) -> Vec<String> {
        let mut by_route: Vec<(&str, Vec<&str>)> = Vec::new();
        for (entry, recorded) in &self.rerouted {
            match by_route.iter_mut().find(|(route, _)| route == recorded) {
                Some((_, entries)) => entries.push(entry),
                None => by_route.push((recorded, vec![entry])),
            }
        }
        (by_route.into_iter())
            .map(|(recorded, entries)| rerouted_note(recorded, &entries))
            .collect()
    }

    /// The errors to show: entries kept for their route (the flush gave
    /// `route`), recipients given up.
    pub fn errors(&self, route: &SendRoute) -> Vec<String> {
        let held = self.held.iter().map(|(entry, recorded)| {
            format!(
                "{entry}: queued for {recorded}, not {}: kept, not sent (--reroute sends it this way)",
                route.describe()
            )
        });
        let given_up = (self.given_up.iter()).map(|(recipient, attempts, why)| {
            format!("{recipient}: given up after {attempts} attempts: {why}")
        });
        let not_updated = self.not_updated.iter().map(|(entry, why)| {
            format!(
                "{entry}: kept as it was, so it will be sent again to every recipient it had: {why}"
            )
        });
        held.chain(given_up).chain(not_updated).collect()
    }

    /// The exit status of the flush: 73 when the queue could not be
    /// updated, else 69 when a recipient was given up, else 64 when an
    /// entry was kept for its route, else that of the recipients tried.
    pub fn status(&self) -> ExitStatus {
        let own = match (self.given_up.is_empty(), self.held.is_empty()) {
            _ if !self.not_updated.is_empty() => ExitStatus::CantCreate,
            (false, _) => ExitStatus::Unavailable,
            (true, false) => ExitStatus::Usage,
            (true, true) => ExitStatus::Ok,
        };
        own.or(submit::exit_status(&self.results))
    }
}

/// The function that sends messages by a route, over one connection
/// where the route allows, with the DSN request their entries recorded
/// (if any), telling `on` of each message as it goes.
pub type Deliver<'a> = dyn FnMut(
        &SendRoute,
        Option<&Dsn>,
        &[Outgoing],
        &mut OnProgress,
    ) -> Result<Vec<Vec<RecipientResult>>, Error>
    + 'a;

/// At most this many entries go over one connection, and at most
/// [`BATCH_OCTETS`] of them (each is held, in memory up to 8 MiB, while
/// its batch is sent).
const BATCH_ENTRIES: usize = 64;

/// See [`BATCH_ENTRIES`].
const BATCH_OCTETS: u64 = 16 << 20;

/// Due entries that go the same way (route and DSN request), in queue
/// order.
struct Batch {
    route: SendRoute,
    dsn: Option<Dsn>,
    entries: Vec<Entry>,
    octets: u64,
}

/// Retries the due entries of the queue at `dir` with `deliver`, under
/// the queue's lock (two flushes never send one entry twice), each by its
/// route (the module's route rule), entries that go the same way over one
/// connection: an entry delivered (or refused for good) leaves the queue
/// as soon as the server's reply says so, one still deferred stays with
/// its back-off doubled, one too old is given up, one held for its route
/// stays as it is.
pub fn flush(dir: &Path, how: &Flush, deliver: &mut Deliver) -> Result<FlushReport, Error> {
    let queue = Queue::open(dir)?;
    let _lock = queue.lock()?;
    let interrupted = queue.recover()?;
    let (entries, unreadable) = queue.entries()?;
    let mut report = FlushReport {
        unreadable,
        interrupted,
        ..FlushReport::default()
    };
    let now = queue::now();
    for batch in batches(&queue, entries, how, now, &mut report)? {
        send_batch(&queue, batch, now, deliver, &mut report)?;
    }
    Ok(report)
}

/// The due entries in batches, the rest handled: too old given up
/// (removed, reported), held for their route (reported).
fn batches(
    queue: &Queue,
    entries: Vec<Entry>,
    how: &Flush,
    now: u64,
    report: &mut FlushReport,
) -> Result<Vec<Batch>, Error> {
    let mut batches: Vec<Batch> = Vec::new();
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
        let id = entry.path.display().to_string();
        let route = match how.way(&id, envelope.route.as_ref(), report) {
            Way::Send(route) => route,
            Way::Hold(recorded) => {
                report.held.push((id, recorded.describe()));
                continue;
            }
        };
        let octets = std::fs::metadata(&entry.path).map_or(0, |m| m.len());
        let dsn = envelope.dsn.clone();
        let joins = |b: &&mut Batch| {
            b.route == route
                && b.dsn == dsn
                && b.entries.len() < BATCH_ENTRIES
                && b.octets + octets <= BATCH_OCTETS.max(octets)
        };
        match batches.iter_mut().rev().find(joins) {
            Some(batch) => {
                batch.entries.push(entry);
                batch.octets += octets;
            }
            None => batches.push(Batch {
                route,
                dsn,
                entries: vec![entry],
                octets,
            }),
        }
    }
    Ok(batches)
}

/// Sends one batch: each entry moves into `cur/` just before it is sent
/// and is settled ([`settle`]) as soon as its results are known.
fn send_batch(
    queue: &Queue,
    batch: Batch,
    now: u64,
    deliver: &mut Deliver,
    report: &mut FlushReport,
) -> Result<(), Error> {
    let mut messages = Vec::new();
    for entry in &batch.entries {
        let spooled = Replayable::read_from(&mut queue.message(entry)?)
            .map_err(|e| Error::io(format!("{}: {e}", entry.path.display())))?;
        let envelope = &entry.envelope;
        let sender = Some(envelope.sender.as_str());
        messages.push(submit::prepare(
            spooled,
            &envelope.recipients,
            false,
            sender,
        )?);
    }
    let mut taken: Vec<Option<Entry>> = vec![None; batch.entries.len()];
    let mut on = |progress: Progress| match progress {
        Progress::Sending(i) => {
            taken[i] = Some(queue.take(&batch.entries[i])?);
            Ok(())
        }
        Progress::Done(i, results) => {
            let entry = taken[i].take().unwrap_or_else(|| batch.entries[i].clone());
            settle(queue, (&entry, &batch.route), results, now, report)
        }
    };
    let delivered = deliver(&batch.route, batch.dsn.as_ref(), &messages, &mut on);
    // An entry taken and not settled (the delivery failed on the way) goes
    // back as it was.
    for entry in taken.iter().flatten() {
        queue.put_back(entry)?;
    }
    report.results.extend(delivered?.into_iter().flatten());
    Ok(())
}

/// An entry whose results are known: removed when no recipient is
/// deferred, else its envelope updated (back-off doubled, the deferred
/// recipients only); when that cannot be written, kept as it was.
fn settle(
    queue: &Queue,
    (entry, route): (&Entry, &SendRoute),
    results: &[RecipientResult],
    now: u64,
    report: &mut FlushReport,
) -> Result<(), Error> {
    let still_deferred = deferred(results);
    if still_deferred.is_empty() {
        return queue.remove(entry);
    }
    let mut next = entry.envelope.clone();
    next.attempts += 1;
    next.next_attempt = now + queue::backoff(next.attempts).as_secs();
    next.last_error = first_deferral(results);
    next.recipients = still_deferred;
    next.route = Some(route.clone());
    if let Err(e) = queue.update(entry, &next) {
        queue.put_back(entry)?;
        let id = queue.queued_path(entry).display().to_string();
        report.not_updated.push((id, e.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rerouted(pairs: &[(&str, &str)]) -> FlushReport {
        let rerouted = pairs.iter().map(|(e, r)| (e.to_string(), r.to_string()));
        FlushReport {
            rerouted: rerouted.collect(),
            ..FlushReport::default()
        }
    }

    #[test]
    fn one_rerouted_entry_is_named_alone() {
        let report = rerouted(&[("q1", "smtp://a:25")]);
        assert_eq!(report.notes(), ["q1: queued for smtp://a:25: rerouted"]);
    }

    #[test]
    fn rerouted_entries_make_one_note_per_recorded_route() {
        let pairs: Vec<(String, &str)> = (1..=1000)
            .map(|n| {
                (
                    format!("q{n}"),
                    if n % 2 == 0 {
                        "smtp://b:25"
                    } else {
                        "smtp://a:25"
                    },
                )
            })
            .collect();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(e, r)| (e.as_str(), *r)).collect();
        assert_eq!(
            rerouted(&pairs).notes(),
            [
                "500 entries queued for smtp://a:25: rerouted (q1, q3, q5 and 497 more)",
                "500 entries queued for smtp://b:25: rerouted (q2, q4, q6 and 497 more)",
            ]
        );
        let two = rerouted(&[("q1", "smtp://a:25"), ("q2", "smtp://a:25")]);
        assert_eq!(
            two.notes(),
            ["2 entries queued for smtp://a:25: rerouted (q1, q2)"]
        );
    }
}
