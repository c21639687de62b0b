//! Queue entries of `mailkit::smtp::queue` on disk, read back through the public
//! `Queue` (`entries` reads each envelope line, `message` what follows):
//! an arbitrary file, corrupted or truncated, never makes the reader
//! panic; it is one entry whose envelope is exactly what its first line
//! holds as JSON and whose message is the rest, or one reported problem;
//! and an envelope built from the input, written by the queue's own
//! writer (`add`, `update`), reads back equal with its message, and still
//! does when the file is cut anywhere after the envelope line (anywhere
//! before it, the entry is a problem).

use std::fs;
use std::io::Read;
use std::path::Path;

use mailkit::smtp::queue::{Queue, QueuedEnvelope};

/// Checks one fuzz input (see the module comment), in a queue of its own.
pub fn spool_envelope(data: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::open(dir.path()).unwrap();
    arbitrary_file(&queue, dir.path(), data);
    round_trip(&queue, data);
}

/// `data` as an entry file written by someone else (or damaged).
fn arbitrary_file(queue: &Queue, dir: &Path, data: &[u8]) {
    fs::write(dir.join("new/1.2.entry"), data).unwrap();
    let (line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(end) => (&data[..end], &data[end + 1..]),
        None => (data, &b""[..]),
    };
    // As the queue reads it: the fields it knows must be valid, a field it
    // does not know is skipped even when its bytes are not UTF-8.
    let expected = serde_json::from_slice::<QueuedEnvelope>(line).ok();
    let Some(envelope) = expected else {
        let (entries, problems) = queue.entries().unwrap();
        assert!(entries.is_empty(), "{entries:?} from {data:?}");
        assert_eq!(problems.len(), 1);
        fs::remove_file(dir.join("new/1.2.entry")).unwrap();
        return;
    };
    assert_eq!(read_back(queue), (envelope.clone(), rest.to_vec()));
    let (entries, _) = queue.entries().unwrap();
    let mut later = envelope;
    later.attempts = later.attempts.wrapping_add(1);
    later.last_error = Some("452 4.2.2 over quota\r\n\0\u{2028}".into());
    queue.update(&entries[0], &later).unwrap();
    assert_eq!(read_back(queue), (later, rest.to_vec()));
    queue.remove(&entries[0]).unwrap();
    assert!(queue.entries().unwrap().0.is_empty());
}

/// An envelope from the input written with `add`, read back, cut short,
/// and rewritten with `update`.
fn round_trip(queue: &Queue, data: &[u8]) {
    let mut input = Input(data);
    let envelope = QueuedEnvelope {
        sender: input.text(),
        recipients: (0..input.byte() % 5).map(|_| input.text()).collect(),
        created: input.number(),
        attempts: input.number() as u32,
        next_attempt: input.number(),
        last_error: (input.byte() % 2 == 1).then(|| input.text()),
        route: None,
        dsn: None,
    };
    let cut = usize::from(input.byte()) << 8 | usize::from(input.byte());
    let message = input.0;
    let path = queue.add(&envelope, &mut &message[..]).unwrap();
    assert_eq!(read_back(queue), (envelope.clone(), message.to_vec()));

    let file = fs::read(&path).unwrap();
    let line_end = file.iter().position(|&b| b == b'\n').unwrap();
    let cut = cut % (file.len() + 1);
    fs::write(&path, &file[..cut]).unwrap();
    let (entries, problems) = queue.entries().unwrap();
    let kept = if cut < line_end {
        assert!(entries.is_empty() && problems.len() == 1, "cut at {cut}");
        fs::write(&path, &file).unwrap();
        message
    } else {
        let rest = file.get(line_end + 1..cut).unwrap_or_default();
        assert!(problems.is_empty(), "cut at {cut}: {problems:?}");
        assert_eq!(read_back(queue), (envelope.clone(), rest.to_vec()));
        rest
    };

    let (entries, _) = queue.entries().unwrap();
    let mut later = envelope;
    later.recipients.reverse();
    later.next_attempt = later.next_attempt.wrapping_mul(3);
    later.last_error = later.last_error.map(|e| e + "\n+");
    queue.update(&entries[0], &later).unwrap();
    assert_eq!(read_back(queue), (later, kept.to_vec()));
    queue.remove(&entries[0]).unwrap();
}

/// The one entry of the queue: its envelope and message.
fn read_back(queue: &Queue) -> (QueuedEnvelope, Vec<u8>) {
    let (entries, problems) = queue.entries().unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(entries.len(), 1);
    let mut message = Vec::new();
    queue
        .message(&entries[0])
        .unwrap()
        .read_to_end(&mut message)
        .unwrap();
    (entries[0].envelope.clone(), message)
}

/// Fields taken from the front of the input; zeros when it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    /// Up to 63 bytes, as text (any character, CR, LF and NUL included).
    fn text(&mut self) -> String {
        let n = usize::from(self.byte() % 64).min(self.0.len());
        let (text, rest) = self.0.split_at(n);
        self.0 = rest;
        String::from_utf8_lossy(text).into_owned()
    }

    /// 0, the largest, one byte, or eight.
    fn number(&mut self) -> u64 {
        match self.byte() % 4 {
            0 => 0,
            1 => u64::MAX,
            2 => u64::from(self.byte()),
            _ => (0..8).fold(0, |n, _| n << 8 | u64::from(self.byte())),
        }
    }
}
