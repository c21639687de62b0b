//! Whole messages, arbitrary bytes, through the MIME reader
//! (`mailkit::mime_reader::read_message` with the visitors `mime-unpack`
//! uses) and through the linter (`mailkit::lint::lint_message` and
//! `fix_message`, what `rfc822-lint` runs): no panic, no failure on input
//! that merely is not mail, the same result whatever the read sizes, work
//! linear in the input, and a repair that leaves none of the errors it
//! claims to repair.

use std::io::BufReader;
use std::sync::atomic::{AtomicU64, Ordering};

use mailkit::ErrorKind;
use mailkit::encode::Newline;
use mailkit::lint::{self, Options, Report, Severity};
use mailkit::mime_reader::{Limits, read_message};
use mailkit::unpack::{Lister, PartWriter, TextCollector};

use crate::linear_time::assert_linear;

/// Calls of each check so far: one in 512 (the first included) is timed,
/// chosen by count so that the fuzzer does not come to favour timed inputs.
static MIME_CALLS: AtomicU64 = AtomicU64::new(0);
static LINT_CALLS: AtomicU64 = AtomicU64::new(0);

/// Errors `--fix` repairs whatever the message (see FIX in the manual):
/// none may be left in its output. (`bare-cr` is not among them: a bare CR
/// inside a header line is copied as it is.)
pub const FIXED: &[&str] = &["bare-lf", "missing-date", "mime-version-missing"];

/// The first byte chooses the read size (1 to 256 octets, through a
/// `BufReader` of that capacity); the rest is the message.
fn split(data: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, message) = data.split_first()?;
    Some((usize::from(first) + 1, message))
}

/// The parts and warnings the MIME tree listing gives for `message`, read
/// `capacity` octets at a time (`None`: all at once).
fn listing(message: &[u8], capacity: Option<usize>) -> (String, Vec<String>, bool) {
    let mut lister = Lister::default();
    let result = match capacity {
        Some(n) => read_message(
            BufReader::with_capacity(n, message),
            &Limits::default(),
            &mut lister,
        ),
        None => read_message(message, &Limits::default(), &mut lister),
    };
    let not_mail = match result {
        Ok(()) => false,
        Err(e) if e.kind() == ErrorKind::BadInput => true,
        Err(e) => panic!("reading from memory failed: {e:?}"),
    };
    let parts = serde_json::to_string(&lister.parts).unwrap();
    (parts, lister.warnings, not_mail)
}

/// Checks one input for the MIME reader.
pub fn mime_read(data: &[u8]) {
    let Some((capacity, message)) = split(data) else {
        return;
    };
    let whole = listing(message, None);
    assert_eq!(
        listing(message, Some(capacity)),
        whole,
        "read size {capacity}"
    );
    if !whole.2 {
        let parts: Vec<serde_json::Value> = serde_json::from_str(&whole.0).unwrap();
        assert!(!parts.is_empty());
        for part in parts.iter().take(8) {
            let id = part["part"].as_str().unwrap();
            let mut writer = PartWriter::new(id, Vec::new());
            let _ = read_message(message, &Limits::default(), &mut writer);
            assert!(writer.found, "listed part {id} not found");
        }
    }
    let mut text = TextCollector::default();
    let _ = read_message(message, &Limits::default(), &mut text);
    let _ = text.text();
    if MIME_CALLS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(512)
    {
        let text = String::from_utf8_lossy(message);
        assert_linear(&text, 64 * 1024, |m| {
            let _ = listing(m.as_bytes(), None);
        });
    }
}

fn lint_report(message: &[u8], capacity: usize, options: &Options) -> Report {
    lint::lint_message(BufReader::with_capacity(capacity, message), options)
        .expect("linting from memory cannot fail")
}

/// Checks one input for the linter: the second byte chooses `--smtputf8`.
pub fn lint(data: &[u8]) {
    let Some((capacity, rest)) = split(data) else {
        return;
    };
    let Some((&flags, message)) = rest.split_first() else {
        return;
    };
    let options = Options {
        smtputf8: flags & 1 == 1,
        ..Options::default()
    };
    let report = lint_report(message, 64 * 1024, &options);
    let again = lint_report(message, capacity, &options);
    assert_eq!(
        again.diagnostics, report.diagnostics,
        "read size {capacity}"
    );
    assert_eq!(again.more, report.more);
    assert_eq!(again.undeclared_8bit, report.undeclared_8bit);
    let newline = if flags & 2 == 2 {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    let fixed = lint::fix_message(message, Vec::new(), newline, &report)
        .expect("fixing into memory cannot fail");
    let after = lint_report(&fixed, 64 * 1024, &options);
    let left: Vec<_> = after
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error && FIXED.contains(&d.rule))
        .collect();
    assert!(
        left.is_empty(),
        "--fix left {left:?} in {:?}",
        String::from_utf8_lossy(&fixed)
    );
    if LINT_CALLS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(512)
    {
        let text = String::from_utf8_lossy(message);
        assert_linear(&text, 64 * 1024, |m| {
            let _ = lint_report(m.as_bytes(), 64 * 1024, &options);
        });
    }
}
