//! `smtp-send --flush` under faults, against a real MTA (Exim delivering
//! into Dovecot): killed with SIGKILL at many points over many runs, and
//! with its queue on a full disk. Afterwards every message is delivered or
//! still queued, never queued twice, never truncated; a message goes to
//! the server a second time only when a flush was killed after the server
//! had it and before the entry left the queue, the one case no SMTP client
//! can tell (RFC 5321 §6.1), and the next flush says so.

mod common;

#[path = "support/small_disk.rs"]
#[allow(dead_code)]
mod small_disk;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::dovecot::Dovecot;
use common::exim::{Exim, EximOptions};
use common::killed::{self, KillAt};
use common::{Scratch, code, run_tool, stderr};

const BIN: &str = env!("CARGO_BIN_EXE_smtp-send");

/// The `i`th message: its own Message-ID, a body long enough to span
/// several writes.
fn message(i: usize) -> Vec<u8> {
    let mut text = format!(
        "From: a@example.test\nTo: bob@example.test\nSubject: queued {i}\n\
         Message-ID: <q{i}@flush.test>\n\n"
    );
    for line in 0..200 {
        text.push_str(&format!(
            "message {i} line {line} ..............................\n"
        ));
    }
    text.into_bytes()
}

/// Queues `messages` (one file each) for recipients `to` by a route where
/// nothing listens: each is deferred and queued.
fn queue_all(dir: &Scratch, queue: &Path, messages: &[Vec<u8>], to: &[&str]) {
    let dead = format!("smtp://localhost:{}", common::free_port());
    let mut files = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let file = dir.path().join(format!("m{i}.eml"));
        std::fs::write(&file, m).unwrap();
        files.push(file.to_str().unwrap().to_string());
    }
    let mut args = vec!["--server", &dead, "--tls", "none"];
    args.extend(["--queue", queue.to_str().unwrap()]);
    for file in &files {
        args.extend(["--file", file.as_str()]);
    }
    args.extend(to);
    let before = queued(queue).len();
    let out = run_tool(BIN, &args, b"");
    assert_eq!(code(&out), 0, "queueing: {}", stderr(&out));
    assert_eq!(queued(queue).len(), before + messages.len());
}

/// Each entry of the queue (in `new/`, and in `cur/` unless an updated
/// copy of it is in `new/`): its Message-ID and message bytes.
fn queued(queue: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(files) = std::fs::read_dir(queue.join(sub)) else {
            continue;
        };
        for file in files.flatten() {
            if sub == "cur" && queue.join("new").join(file.file_name()).exists() {
                continue;
            }
            let bytes = std::fs::read(file.path()).unwrap();
            let start = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
            let message = bytes[start..].to_vec();
            all.push((message_id(&message), message));
        }
    }
    all
}

/// `data` with CR LF line ends as LF.
fn lf(data: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(data)
        .replace("\r\n", "\n")
        .into_bytes()
}

fn message_id(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let line = text
        .lines()
        .find(|l| l.starts_with("Message-ID:"))
        .unwrap_or("");
    let id = line.trim_start_matches("Message-ID:").trim();
    id.trim_start_matches('<').trim_end_matches('>').to_string()
}

/// How many times the server accepted each Message-ID, from Exim's log
/// (one `<=` line per message received).
fn accepted(exim: &Exim) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in exim.log().lines().filter(|l| l.contains(" <= ")) {
        if let Some(id) = line.split(" id=").nth(1) {
            let id = id.split_whitespace().next().unwrap_or("");
            *counts.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// Checks the queue after a run: no message queued twice, none changed.
fn assert_queue_sound(queue: &Path, originals: &BTreeMap<String, Vec<u8>>, when: &str) {
    let mut seen = BTreeMap::new();
    for (id, message) in queued(queue) {
        *seen.entry(id.clone()).or_insert(0) += 1;
        let original = &originals[&id];
        // smtp-send adds the Date field a message lacks; the rest is as
        // given, whole.
        assert!(
            lf(&message).ends_with(&lf(original)),
            "{when}: {id} changed in the queue ({} octets queued)",
            message.len()
        );
    }
    for (id, n) in seen {
        assert_eq!(n, 1, "{when}: {id} queued {n} times");
    }
}

/// Runs a flush with `-v`, killed with SIGKILL as `kill` says; its status
/// (`None` when killed) and its standard error.
fn flush_killed(args: &[String], kill: Option<KillAt>) -> (Option<i32>, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, transcript) = killed::run_killed(BIN, &args, kill);
    (status.code(), transcript)
}

/// A small deterministic generator (xorshift), so a failure repeats.
struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The kill points of round `round`: each step of the protocol in turn
/// (at a varying message), then random moments.
fn kill_point(round: usize, random: &mut Random) -> KillAt {
    // Exim offers CHUNKING: the message goes as BDAT. One connection per
    // flush: its STARTTLS and QUIT come once, the rest once per entry.
    const STEPS: [(&str, u64); 8] = [
        ("-> STARTTLS", 1),
        ("=== TLS", 1),
        ("~> MAIL", 8),
        ("~> RCPT", 8),
        ("~> BDAT", 6),
        ("~> [", 6),
        ("<~ 250 OK id=", 6),
        ("~> QUIT", 1),
    ];
    let (line, most) = STEPS[(round / 2) % STEPS.len()];
    match round % 2 {
        0 => KillAt::Line(line, 1 + random.below(most) as usize),
        _ => KillAt::After(Duration::from_millis(random.below(60))),
    }
}

/// A flush of `queue` into `exim`, every entry now, whatever server it
/// was queued for.
fn flush_args(exim: &Exim, queue: &Path) -> Vec<String> {
    let url = format!("smtp://localhost:{}", exim.port);
    let (cafile, queue) = (exim.cert.to_str().unwrap(), queue.to_str().unwrap());
    let args = ["--server", &url, "--cafile", cafile, "--flush", queue];
    let mut args = args.map(String::from).to_vec();
    args.extend(["--force", "--reroute"].map(String::from));
    args
}

struct Setup {
    _dovecot: Dovecot,
    exim: Exim,
    dir: Scratch,
    queue: PathBuf,
    flush: Vec<String>,
    originals: BTreeMap<String, Vec<u8>>,
    /// The Message-IDs queued for `tempfail` too.
    tempfail_ids: Vec<String>,
}

/// A flush of `queue`, every entry now, to the scripted server on `port`
/// (plain SMTP).
fn flush_to_script(port: u16, queue: &Path) -> std::process::Output {
    let url = format!("smtp://localhost:{port}");
    let queue = queue.to_str().unwrap();
    let args = ["--server", &url, "--tls", "none", "--flush", queue];
    run_tool(BIN, &[&args[..], &["--force", "--reroute"]].concat(), b"")
}

/// Exim and Dovecot, and a queue of `count` messages for bob (every third
/// also for `tempfail`, which Exim always defers, so that its entry is
/// updated by every flush), queued for a server that was not there; the
/// flush sends them to the Exim.
fn setup(count: usize) -> Setup {
    let dovecot = Dovecot::start();
    let exim = Exim::start(&dovecot, EximOptions::default());
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    let messages: Vec<Vec<u8>> = (0..count).map(message).collect();
    let pick = |third: bool| -> Vec<Vec<u8>> {
        (messages.iter().enumerate())
            .filter(|(i, _)| (i % 3 == 0) == third)
            .map(|(_, m)| m.clone())
            .collect()
    };
    queue_all(&dir, &queue, &pick(false), &["bob@example.test"]);
    let both = ["bob@example.test", "tempfail@example.test"];
    queue_all(&dir, &queue, &pick(true), &both);
    let tempfail_ids = pick(true).iter().map(|m| message_id(m)).collect();
    let originals = messages
        .iter()
        .map(|m| (message_id(m), m.clone()))
        .collect();
    let flush = flush_args(&exim, &queue);
    Setup {
        _dovecot: dovecot,
        exim,
        dir,
        queue,
        flush,
        originals,
        tempfail_ids,
    }
}

impl Setup {
    /// Queues new messages for bob alone until `want` of them wait, so
    /// that every flush has messages to send when it is killed.
    fn top_up(&mut self, want: usize) {
        let waiting = queued(&self.queue)
            .len()
            .saturating_sub(self.tempfail_entries());
        let first = self.originals.len();
        let fresh: Vec<Vec<u8>> = (first..first + want.saturating_sub(waiting))
            .map(message)
            .collect();
        if fresh.is_empty() {
            return;
        }
        queue_all(&self.dir, &self.queue, &fresh, &["bob@example.test"]);
        self.originals
            .extend(fresh.into_iter().map(|m| (message_id(&m), m)));
    }

    /// The entries that also go to `tempfail` (every third of the first
    /// ones): they never leave the queue.
    fn tempfail_entries(&self) -> usize {
        let ids = queued(&self.queue).into_iter().map(|(id, _)| id);
        ids.filter(|id| self.tempfail_ids.contains(id)).count()
    }
}

/// The entries a flush left in `cur/` (it was sending them when killed).
fn being_sent(queue: &Path) -> Vec<String> {
    let Ok(files) = std::fs::read_dir(queue.join("cur")) else {
        return Vec::new();
    };
    let ids = files
        .flatten()
        .map(|f| message_id(&std::fs::read(f.path()).unwrap()));
    ids.collect()
}

/// Waits until Exim's log has stopped growing (what it received before
/// a kill is logged).
fn settle(exim: &Exim) -> BTreeMap<String, usize> {
    let mut last = accepted(exim);
    loop {
        std::thread::sleep(Duration::from_millis(60));
        let now = accepted(exim);
        if now == last {
            return now;
        }
        last = now;
    }
}

#[test]
fn sigkill_at_many_points_loses_nothing_and_queues_nothing_twice() {
    let mut setup = setup(24);
    let mut random = Random(0x5eed_f105);
    // Messages whose entry a killed flush left in cur/ after the server
    // had accepted them: the one case that may be delivered twice.
    let mut ambiguous = 0;
    let mut killed = 0;
    for round in 0..40 {
        setup.top_up(8);
        let kill = kill_point(round, &mut random);
        let before = settle(&setup.exim);
        let (status, transcript) = flush_killed(&setup.flush, Some(kill));
        let after = settle(&setup.exim);
        let when = format!("round {round} ({kill:?})");
        if status.is_none() {
            killed += 1;
        }
        if std::env::var_os("SHOW_FLUSH").is_some() {
            let tail: Vec<&str> = transcript.lines().rev().take(4).collect();
            eprintln!(
                "{when}: {status:?} cur={:?} last={tail:?}",
                being_sent(&setup.queue)
            );
        }
        assert!(!transcript.contains("panicked"), "{when}: {transcript}");
        assert_queue_sound(&setup.queue, &setup.originals, &when);
        for id in being_sent(&setup.queue) {
            if after.get(&id) > before.get(&id) {
                ambiguous += 1;
            }
        }
        // Nothing lost: each message was accepted by the server or is
        // still queued.
        let queued: Vec<String> = queued(&setup.queue).into_iter().map(|(id, _)| id).collect();
        for id in setup.originals.keys() {
            assert!(
                after.contains_key(id) || queued.contains(id),
                "{when}: {id} neither delivered nor queued; the server's log:\n{}",
                setup.exim.log()
            );
        }
        assert!(
            !transcript.contains("-> AUTH") && !transcript.contains("~> AUTH"),
            "{when}: no credential was asked for"
        );
    }
    assert!(killed >= 32, "only {killed} of 40 runs were killed");
    // Runs to the end: every message for bob delivered, the tempfail
    // entries still queued for tempfail alone.
    let (status, transcript) = flush_killed(&setup.flush, None);
    assert_eq!(status, Some(75), "{transcript}");
    let (status, transcript) = flush_killed(&setup.flush, None);
    assert_eq!(status, Some(75), "{transcript}");
    assert!(
        !transcript.contains("an earlier flush stopped"),
        "a finished flush left something behind: {transcript}"
    );
    let counts = settle(&setup.exim);
    let left = queued(&setup.queue);
    assert_eq!(left.len(), 8, "only the tempfail entries stay");
    for (_, message) in &left {
        let text = String::from_utf8_lossy(message);
        assert!(text.contains("Message-ID: <q"), "{} octets", text.len());
    }
    let entries = std::fs::read_dir(setup.queue.join("new")).unwrap();
    for entry in entries.flatten() {
        let head = std::fs::read_to_string(entry.path()).unwrap();
        let envelope = head.lines().next().unwrap();
        assert!(
            envelope.contains(r#""recipients":["tempfail@example.test"]"#),
            "bob was delivered to, so only tempfail is left: {envelope}"
        );
    }
    let mut twice = 0;
    for id in setup.originals.keys() {
        let n = counts.get(id).copied().unwrap_or(0);
        assert!(n >= 1, "{id} was never delivered");
        twice += n - 1;
    }
    assert!(
        twice <= ambiguous,
        "{twice} messages delivered twice, but only {ambiguous} kills came after the server had one and before its entry left the queue"
    );
    for sub in ["tmp", "cur"] {
        let left = std::fs::read_dir(setup.queue.join(sub)).unwrap().count();
        assert_eq!(left, 0, "{sub}/ not empty after a finished flush");
    }
    eprintln!(
        "{killed} runs killed; {ambiguous} after the server had a message; {twice} delivered twice"
    );
}

#[test]
fn an_entry_a_killed_flush_was_sending_is_sent_again_with_a_warning() {
    let setup = setup(3);
    // As a flush killed while sending it leaves it: in cur/.
    let new = setup.queue.join("new");
    let mut names: Vec<_> = std::fs::read_dir(&new)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    names.sort();
    let cur = setup.queue.join("cur").join(&names[1]);
    std::fs::rename(new.join(&names[1]), &cur).unwrap();
    let id = message_id(&std::fs::read(&cur).unwrap());
    let (status, transcript) = flush_killed(&setup.flush, None);
    assert_eq!(status, Some(75), "tempfail is still deferred: {transcript}");
    let warning = format!(
        "{}: an earlier flush stopped while sending it: back in the queue (its recipients may get it twice)",
        new.join(&names[1]).display()
    );
    assert_eq!(transcript.matches(&warning).count(), 1, "{transcript}");
    let counts = settle(&setup.exim);
    assert_eq!(counts.get(&id), Some(&1), "{counts:?}");
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(being_sent(&setup.queue).is_empty());
    assert_eq!(queued(&setup.queue).len(), 1, "the tempfail entry alone");
    // Said once: the next flush has nothing to say about it.
    let (_, transcript) = flush_killed(&setup.flush, None);
    assert!(
        !transcript.contains("an earlier flush stopped"),
        "{transcript}"
    );
}

/// Fills the file system that holds `dir` (a small tmpfs) to the last
/// block.
fn fill(dir: &Path) {
    use std::io::Write;
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = [b'x'; 1024];
    while filler.write_all(&block).is_ok() {}
    while filler.write_all(b"x").is_ok() {}
}

#[test]
fn queueing_onto_a_full_disk_is_73_and_says_the_message_was_not_queued() {
    let Some(disk) = small_disk::small_disk("queueing_onto_a_full_disk_is_73") else {
        return;
    };
    let queue = disk.path().join("queue");
    std::fs::create_dir(&queue).unwrap();
    let dead = format!("smtp://localhost:{}", common::free_port());
    fill(disk.path());
    let args = [
        "--server",
        &dead,
        "--tls",
        "none",
        "--queue",
        queue.to_str().unwrap(),
        "bob@example.test",
    ];
    let out = run_tool(BIN, &args, &message(1));
    assert_eq!(code(&out), 73, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("queued"), "nothing may look queued: {err}");
    for sub in ["tmp", "new"] {
        let left = std::fs::read_dir(queue.join(sub)).map_or(0, |d| d.count());
        assert_eq!(left, 0, "{sub}/ holds a file");
    }
}

#[test]
fn a_flush_on_a_full_disk_keeps_every_entry_whole() {
    let Some(disk) = small_disk::small_disk("a_flush_on_a_full_disk_keeps_every_entry_whole")
    else {
        return;
    };
    let dovecot = Dovecot::start();
    let exim = Exim::start(&dovecot, EximOptions::default());
    let queue = disk.path().join("queue");
    let dir = Scratch::new();
    let small: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            format!(
                "From: a@example.test\nSubject: s{i}\nMessage-ID: <s{i}@flush.test>\n\nsmall {i}\n"
            )
            .into_bytes()
        })
        .collect();
    queue_all(
        &dir,
        &queue,
        &small,
        &["bob@example.test", "tempfail@example.test"],
    );
    let before: Vec<_> = std::fs::read_dir(queue.join("new"))
        .unwrap()
        .flatten()
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap()))
        .collect();
    fill(disk.path());
    let flush = flush_args(&exim, &queue);
    let flush: Vec<&str> = flush.iter().map(String::as_str).collect();
    let out = run_tool(BIN, &flush, b"");
    assert_eq!(code(&out), 73, "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.matches("kept as it was, so it will be sent again to every recipient it had")
            .count(),
        3,
        "{err}"
    );
    // Each entry as it was, whole; nothing in tmp/ or cur/.
    for (name, bytes) in &before {
        let now = std::fs::read(queue.join("new").join(name)).unwrap();
        assert_eq!(&now, bytes, "{name:?} changed");
    }
    for sub in ["tmp", "cur"] {
        assert_eq!(
            std::fs::read_dir(queue.join(sub)).unwrap().count(),
            0,
            "{sub}/"
        );
    }
    // With room again, the next flush goes on where this one left off.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let out = run_tool(BIN, &flush, b"");
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(queued(&queue).len(), 3);
}

#[test]
fn a_flush_sends_the_entries_of_one_route_over_one_connection() {
    let setup = setup(6);
    let (status, transcript) = flush_killed(&setup.flush, None);
    assert_eq!(status, Some(75), "tempfail is still deferred: {transcript}");
    assert_eq!(
        transcript.matches("=== Connected to").count(),
        1,
        "{transcript}"
    );
    assert_eq!(
        transcript.matches("~> MAIL FROM:").count(),
        6,
        "{transcript}"
    );
    assert_eq!(transcript.matches("~> RSET").count(), 5, "{transcript}");
    // Each entry left the queue (or was updated) before the QUIT.
    let counts = settle(&setup.exim);
    assert_eq!(counts.len(), 6, "{counts:?}");
    assert_eq!(queued(&setup.queue).len(), 2, "the two tempfail entries");
}

#[test]
fn a_server_out_of_step_mid_flush_leaves_the_unsent_entries_queued() {
    use common::scripted::Script;
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    let messages: Vec<Vec<u8>> = (0..3).map(message).collect();
    queue_all(&dir, &queue, &messages, &["bob@example.test"]);
    // The RSET before the second message is answered out of step.
    let (port, server) = Script::smtp(vec![("RSET", b"354 go ahead\r\n")]).start();
    let out = flush_to_script(port, &queue);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(stderr(&out).contains("354"), "{}", stderr(&out));
    let received = server.join().unwrap();
    assert_eq!(received.iter().filter(|l| l.starts_with("MAIL")).count(), 1);
    let left: Vec<String> = queued(&queue).into_iter().map(|(id, _)| id).collect();
    assert_eq!(left.len(), 2, "the two unsent entries stay: {left:?}");
    let sent = received
        .iter()
        .find(|l| l.starts_with("Message-ID:"))
        .unwrap();
    let sent = message_id(sent.as_bytes());
    assert!(
        !left.contains(&sent),
        "the sent one left: {sent} in {left:?}"
    );
    for sub in ["tmp", "cur"] {
        assert_eq!(
            std::fs::read_dir(queue.join(sub)).unwrap().count(),
            0,
            "{sub}/"
        );
    }
}

#[test]
fn an_entry_the_server_cannot_take_is_refused_alone_and_the_flush_goes_on() {
    use common::scripted::Script;
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    // One route, one batch, one connection: the 8-bit entry among the
    // others.
    let eight_bit =
        b"From: a@example.test\nMessage-ID: <g@flush.test>\n\nGr\xc3\xbc\xc3\x9fe\n".to_vec();
    queue_all(&dir, &queue, &[eight_bit], &["carol@example.test"]);
    queue_all(
        &dir,
        &queue,
        &[message(1), message(2)],
        &["bob@example.test"],
    );
    let script = Script::smtp(vec![("EHLO", b"250 plain\r\n")]);
    let (port, server) = script.start();
    let out = flush_to_script(port, &queue);
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("carol@example.test: rejected"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("8BITMIME"), "{}", stderr(&out));
    let received = server.join().unwrap();
    assert_eq!(received.iter().filter(|l| l.starts_with("MAIL")).count(), 2);
    assert!(queued(&queue).is_empty(), "every entry settled");
}
