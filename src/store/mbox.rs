//! mbox delivery in the mboxrd form (the `mbox(5)` family, as described in
//! <https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml>
//! and by qmail's `mbox(5)`): each message starts with a separator line
//! `From SENDER DATE`, every line of the message matching `>*From ` gets
//! one more `>` (so that reading strips one and gives the message back
//! exactly), and a blank line follows each message.
//!
//! # Locking
//!
//! Every writer of a mailbox must exclude the others. While a message is
//! appended both locks that mail programs use are held, taken in the order
//! procmail and mutt take them:
//!
//! 1. a dot-lock, `FILE.lock`, created with `O_EXCL`; a lock file whose
//!    last change is older than [`STALE_LOCK`] is taken as left over by a
//!    crashed writer and removed (the simple rule of procmail's
//!    `LOCKTIMEOUT`). mailkit writes `PID HOST` into its own lock files:
//!    one of those written on this host by a process that is gone (a run
//!    killed mid-append) is removed at once. Any other lock file waits for
//!    the age rule, since its owner may live on another host of a shared
//!    file system;
//! 2. an `fcntl(F_SETLK)` write lock on the whole file (POSIX record lock).
//!
//! Both are tried again every 100 ms until the wait set with
//! [`Mbox::with_lock_wait`] is over; a mailbox still locked then is
//! [`ExitStatus::TempFail`] (75).
//!
//! # Nothing half written
//!
//! The file's length is noted before a message is appended; the message is
//! written, then the file is synced. When anything fails on the way (a full
//! disk), the file is truncated back to that length and synced, so a half
//! message never stays. Standard output (`-`) is written without locking
//! and cannot be truncated.
//!
//! [`ExitStatus::TempFail`]: crate::exit::ExitStatus::TempFail

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rustix::fs::{FlockOperation, fcntl_lock};

use crate::store::maildir;

use super::{
    LineEnds, cant_create, copy_message, locked, own_error_or, truncate_failed, write_failed,
};
use crate::error::Error;

/// A dot-lock file older than this is taken as stale and removed.
pub const STALE_LOCK: Duration = Duration::from_secs(10 * 60);
/// How long [`Mbox::lock`] waits for other writers by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);
/// The pause between two attempts to take a lock.
const RETRY: Duration = Duration::from_millis(100);

/// An mbox to append messages to: a file, or a stream such as standard
/// output.
pub struct Mbox {
    sink: Sink,
    line_ends: LineEnds,
    lock_wait: Duration,
}

enum Sink {
    File { path: PathBuf, file: File },
    Stream(Box<dyn Write>),
}

impl Mbox {
    /// The mbox at `path`, created (mode 0600) when missing; `-` is
    /// standard output ([`Mbox::to_stream`]). Messages are stored with LF
    /// line ends unless [`Mbox::with_line_ends`] says otherwise.
    ///
    /// Errors: a file that cannot be opened or created is
    /// [`ExitStatus::CantCreate`] (73).
    ///
    /// [`ExitStatus::CantCreate`]: crate::exit::ExitStatus::CantCreate
    pub fn open(path: &Path) -> Result<Mbox, Error> {
        if path == Path::new("-") {
            return Ok(Mbox::to_stream(Box::new(io::stdout())));
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| cant_create(path, &e))?;
        let path = path.to_path_buf();
        Ok(Mbox::new(Sink::File { path, file }))
    }

    /// An mbox stream written into `out` as it goes: no locking, no
    /// syncing, and a failed message cannot be taken back.
    pub fn to_stream(out: Box<dyn Write>) -> Mbox {
        Mbox::new(Sink::Stream(out))
    }

    fn new(sink: Sink) -> Mbox {
        Mbox {
            sink,
            line_ends: LineEnds::default(),
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }

    /// The same mbox, storing line ends as `line_ends` says.
    pub fn with_line_ends(mut self, line_ends: LineEnds) -> Mbox {
        self.line_ends = line_ends;
        self
    }

    /// The same mbox, waiting at most `wait` for other writers' locks.
    pub fn with_lock_wait(mut self, wait: Duration) -> Mbox {
        self.lock_wait = wait;
        self
    }

    /// Takes both locks (see the module documentation), so that several
    /// messages can be appended under one lock. Released on drop.
    ///
    /// Errors: the lock file cannot be created, [`ExitStatus::CantCreate`]
    /// (73); still locked by another writer after the wait,
    /// [`ExitStatus::TempFail`] (75); `fcntl` failing otherwise,
    /// [`ExitStatus::IoErr`] (74).
    ///
    /// [`ExitStatus::CantCreate`]: crate::exit::ExitStatus::CantCreate
    /// [`ExitStatus::TempFail`]: crate::exit::ExitStatus::TempFail
    /// [`ExitStatus::IoErr`]: crate::exit::ExitStatus::IoErr
    pub fn lock(&mut self) -> Result<MboxLock<'_>, Error> {
        let deadline = Instant::now() + self.lock_wait;
        let dot_lock = match &self.sink {
            Sink::File { path, file } => {
                let dot_lock = DotLock::take(path, deadline)?;
                lock_file(path, file, deadline)?;
                Some(dot_lock)
            }
            Sink::Stream(_) => None,
        };
        Ok(MboxLock {
            mbox: self,
            _dot_lock: dot_lock,
        })
    }

    /// Appends one message under the locks, taken and released for it;
    /// see [`MboxLock::append`].
    pub fn append(
        &mut self,
        sender: &str,
        received: SystemTime,
        message: &mut dyn Read,
    ) -> Result<(), Error> {
        self.lock()?.append(sender, received, message)
    }
}

/// An mbox locked for appending; the locks go when this is dropped.
pub struct MboxLock<'a> {
    mbox: &'a mut Mbox,
    _dot_lock: Option<DotLock>,
}

impl MboxLock<'_> {
    /// Appends `message` (read to its end) with the separator line
    /// `From SENDER DATE` (`received` in `asctime` form, UTC; an empty
    /// sender is `MAILER-DAEMON`, and spaces and control characters in it
    /// become `_`), mboxrd quoting, a final line end when the message has
    /// none, and a blank line; the file is synced before this returns. A
    /// failure truncates the file back to where it was.
    ///
    /// Errors: writing, syncing or reading the message,
    /// [`ExitStatus::IoErr`] (74), unless `message` fails with a
    /// [`crate::error::Error`] of its own, whose status is kept.
    ///
    /// [`ExitStatus::IoErr`]: crate::exit::ExitStatus::IoErr
    pub fn append(
        &mut self,
        sender: &str,
        received: SystemTime,
        message: &mut dyn Read,
    ) -> Result<(), Error> {
        let separator = separator_line(sender, received);
        let line_ends = self.mbox.line_ends;
        match &mut self.mbox.sink {
            Sink::File { path, file } => append_to_file(path, file, &separator, message, line_ends),
            Sink::Stream(out) => write_message(out, &separator, message, line_ends)
                .map_err(|e| own_error_or(e, |e| write_failed("standard output", &e))),
        }
    }
}

impl Drop for MboxLock<'_> {
    fn drop(&mut self) {
        if let Sink::File { file, .. } = &self.mbox.sink {
            let _ = fcntl_lock(file, FlockOperation::NonBlockingUnlock);
        }
    }
}

/// Appends to a locked file, truncating it back on failure.
fn append_to_file(
    path: &Path,
    file: &mut File,
    separator: &str,
    message: &mut dyn Read,
    line_ends: LineEnds,
) -> Result<(), Error> {
    let before = file
        .seek(SeekFrom::End(0))
        .map_err(|e| write_failed(path.display(), &e))?;
    let written = blank_line_needed(file, before)
        .and_then(|gap| file.write_all(gap))
        .and_then(|()| write_message(&mut *file, separator, message, line_ends))
        .and_then(|()| file.sync_all());
    written.map_err(|e| {
        let error = own_error_or(e, |e| write_failed(path.display(), &e));
        match file.set_len(before).and_then(|()| file.sync_all()) {
            Ok(()) => error,
            Err(e) => truncate_failed(path, &error, &e),
        }
    })
}

/// What must come before a new message so that it follows a blank line:
/// nothing for an empty file or one that ends in a blank line.
fn blank_line_needed(file: &mut File, len: u64) -> io::Result<&'static [u8]> {
    let mut tail = [0u8; 2];
    let start = len.saturating_sub(2);
    file.seek(SeekFrom::Start(start))?;
    let tail = &mut tail[..(len - start) as usize];
    file.read_exact(tail)?;
    file.seek(SeekFrom::End(0))?;
    Ok(match tail {
        [] | [b'\n', b'\n'] | [b'\n'] => b"",
        [.., b'\n'] => b"\n",
        _ => b"\n\n",
    })
}

/// The separator, the quoted message with a final line end, the blank line.
fn write_message(
    out: &mut dyn Write,
    separator: &str,
    message: &mut dyn Read,
    line_ends: LineEnds,
) -> io::Result<()> {
    let mut buffered = BufWriter::new(out);
    buffered.write_all(separator.as_bytes())?;
    let mut quoter = FromQuoter::new(&mut buffered);
    copy_message(message, &mut quoter, line_ends)?;
    quoter.finish()?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// `From SENDER Thu Jan  1 00:00:00 1970` and LF.
pub fn separator_line(sender: &str, received: SystemTime) -> String {
    let date = chrono::DateTime::<chrono::Utc>::from(received).format("%a %b %e %H:%M:%S %Y");
    format!("From {} {date}\n", separator_sender(sender))
}

fn separator_sender(sender: &str) -> String {
    let bare = sender.trim().trim_start_matches('<').trim_end_matches('>');
    if bare.is_empty() {
        return "MAILER-DAEMON".to_owned();
    }
    bare.chars()
        .map(|c| match c.is_whitespace() || c.is_control() {
            true => '_',
            false => c,
        })
        .collect()
}

/// Streaming mboxrd quoting: a line matching `>*From ` gets one more `>`
/// in front, whatever the `write` boundaries; [`FromQuoter::finish`] ends
/// an unfinished last line with LF. Memory is constant: the `>`s at a line
/// start are counted, not buffered.
pub struct FromQuoter<W: Write> {
    inner: W,
    at_line_start: bool,
    /// `>`s seen at the start of the current line, not yet written.
    quotes: u64,
    /// Octets of `From ` matched after them, not yet written.
    matched: usize,
    /// Nothing written yet, or the last octet written was LF.
    ends_with_lf: bool,
}

const FROM: &[u8] = b"From ";

impl<W: Write> FromQuoter<W> {
    /// A quoter writing into `inner`.
    pub fn new(inner: W) -> Self {
        FromQuoter {
            inner,
            at_line_start: true,
            quotes: 0,
            matched: 0,
            ends_with_lf: true,
        }
    }

    /// Writes what a line start still holds back and a final LF when the
    /// last line has none; returns `inner`.
    pub fn finish(mut self) -> io::Result<W> {
        self.release(false)?;
        if !self.ends_with_lf {
            self.inner.write_all(b"\n")?;
        }
        Ok(self.inner)
    }

    /// Writes the held-back start of a line, with one more `>` when it is
    /// a `>*From ` line.
    fn release(&mut self, quote: bool) -> io::Result<()> {
        let quotes = self.quotes + u64::from(quote);
        self.write_quotes(quotes)?;
        let matched = std::mem::take(&mut self.matched);
        self.emit(&FROM[..matched])?;
        self.quotes = 0;
        self.at_line_start = false;
        Ok(())
    }

    fn write_quotes(&mut self, mut count: u64) -> io::Result<()> {
        const QUOTES: [u8; 64] = [b'>'; 64];
        while count > 0 {
            let n = count.min(QUOTES.len() as u64) as usize;
            self.emit(&QUOTES[..n])?;
            count -= n as u64;
        }
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> io::Result<()> {
        if let Some(&last) = bytes.last() {
            self.inner.write_all(bytes)?;
            self.ends_with_lf = last == b'\n';
        }
        Ok(())
    }

    /// Takes in what it can of `input` at a line start; the rest.
    fn line_start<'a>(&mut self, input: &'a [u8]) -> io::Result<&'a [u8]> {
        let byte = input[0];
        if self.matched == 0 && byte == b'>' {
            self.quotes += 1;
        } else if byte == FROM[self.matched] {
            self.matched += 1;
            if self.matched == FROM.len() {
                self.release(true)?;
            }
        } else {
            self.release(false)?;
            return Ok(input);
        }
        Ok(&input[1..])
    }

    /// Writes line content up to and including the next LF; the rest.
    fn in_line<'a>(&mut self, input: &'a [u8]) -> io::Result<&'a [u8]> {
        let (run, rest) = match memchr::memchr(b'\n', input) {
            Some(at) => {
                self.at_line_start = true;
                input.split_at(at + 1)
            }
            None => (input, &[][..]),
        };
        self.emit(run)?;
        Ok(rest)
    }
}

impl<W: Write> Write for FromQuoter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            rest = match self.at_line_start {
                true => self.line_start(rest)?,
                false => self.in_line(rest)?,
            };
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A dot-lock file, removed on drop.
struct DotLock {
    path: PathBuf,
}

impl DotLock {
    /// Creates `MBOX.lock` exclusively, waiting until `deadline` while
    /// another writer holds it, removing it once when it is stale.
    fn take(mbox: &Path, deadline: Instant) -> Result<DotLock, Error> {
        let mut name = mbox.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut file) => {
                    let _ = writeln!(file, "{} {}", std::process::id(), maildir::host_name());
                    return Ok(DotLock { path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if !remove_if_stale(&path) {
                        wait_or_give_up(deadline, || locked(mbox, "lock file exists"))?;
                    }
                }
                Err(e) => return Err(cant_create(&path, &e)),
            }
        }
    }
}

impl Drop for DotLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Removes a lock file last changed longer than [`STALE_LOCK`] ago, or
/// one of ours whose process is gone; true when it did (or the file is
/// gone already).
fn remove_if_stale(path: &Path) -> bool {
    let age = fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|changed| changed.elapsed().unwrap_or_default());
    match age {
        Ok(age) if age > STALE_LOCK || owner_gone(path) => fs::remove_file(path).is_ok(),
        Ok(_) => false,
        Err(e) => e.kind() == io::ErrorKind::NotFound,
    }
}

/// Whether `path` is a lock file mailkit wrote on this host (`PID HOST`)
/// for a process that no longer runs.
fn owner_gone(path: &Path) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    let mut words = text.split_whitespace();
    let (Some(pid), Some(host), None) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == maildir::host_name() && !maildir::process_running(pid)
}

/// The whole-file `fcntl` write lock, tried until `deadline`.
fn lock_file(path: &Path, file: &File, deadline: Instant) -> Result<(), Error> {
    loop {
        match fcntl_lock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(()),
            Err(e) if e == rustix::io::Errno::INTR => {}
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::ACCESS => {
                wait_or_give_up(deadline, || locked(path, "fcntl lock held"))?;
            }
            Err(e) => return Err(write_failed(path.display(), &e.into())),
        }
    }
}

/// Sleeps before the next attempt, or fails with `give_up()` once the
/// deadline is past.
fn wait_or_give_up(deadline: Instant, give_up: impl FnOnce() -> Error) -> Result<(), Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(give_up());
    }
    std::thread::sleep(left.min(RETRY));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;
    use std::time::UNIX_EPOCH;

    fn quoted(pieces: &[&[u8]]) -> Vec<u8> {
        let mut quoter = FromQuoter::new(Vec::new());
        for piece in pieces {
            quoter.write_all(piece).unwrap();
        }
        quoter.finish().unwrap()
    }

    #[test]
    fn from_lines_get_one_more_quote() {
        assert_eq!(
            quoted(&[b"From a\n>From b\n>>From c\nFrom\n Fro\nFromage\n"]),
            b">From a\n>>From b\n>>>From c\nFrom\n Fro\nFromage\n"
        );
    }

    #[test]
    fn quoting_holds_across_write_boundaries() {
        let input = b"x\n>>From y\nFrom z\n>Frog\n>\nFrom";
        let whole = quoted(&[input]);
        assert_eq!(whole, b"x\n>>>From y\n>From z\n>Frog\n>\nFrom\n");
        for size in 1..input.len() {
            let pieces: Vec<&[u8]> = input.chunks(size).collect();
            assert_eq!(quoted(&pieces), whole, "pieces of {size}");
        }
    }

    #[test]
    fn only_line_starts_are_quoted() {
        assert_eq!(quoted(&[b"a From b\n"]), b"a From b\n");
        assert_eq!(quoted(&[b"a >From b"]), b"a >From b\n");
    }

    #[test]
    fn a_long_run_of_quotes_is_not_buffered() {
        let mut line = vec![b'>'; 100_000];
        line.extend_from_slice(b"From x\n");
        let out = quoted(&[&line]);
        assert_eq!(out.len(), line.len() + 1);
        assert!(out.starts_with(b">>"));
    }

    #[test]
    fn a_final_line_end_is_added_only_when_missing() {
        assert_eq!(quoted(&[b"a"]), b"a\n");
        assert_eq!(quoted(&[b"a\n"]), b"a\n");
        assert_eq!(quoted(&[b""]), b"");
    }

    #[test]
    fn separator_line_in_asctime_form() {
        let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            separator_line("<a@example.org>", time),
            "From a@example.org Tue Nov 14 22:13:20 2023\n"
        );
        assert!(separator_line("", time).starts_with("From MAILER-DAEMON Tue"));
        assert!(separator_line("a b\tc", time).starts_with("From a_b_c Tue"));
        assert_eq!(
            separator_line("x", UNIX_EPOCH),
            "From x Thu Jan  1 00:00:00 1970\n"
        );
    }

    #[test]
    fn appends_after_a_blank_line_even_when_the_file_lacks_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbox");
        fs::write(&path, b"From x Thu Jan  1 00:00:00 1970\nno end").unwrap();
        let mut mbox = Mbox::open(&path).unwrap();
        mbox.append("y", UNIX_EPOCH, &mut &b"b\r\n"[..]).unwrap();
        assert_eq!(
            fs::read(&path).unwrap(),
            b"From x Thu Jan  1 00:00:00 1970\nno end\n\nFrom y Thu Jan  1 00:00:00 1970\nb\n\n"
        );
    }

    #[test]
    fn a_second_dot_locker_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbox");
        let mut first = Mbox::open(&path).unwrap();
        let held = first.lock().unwrap();
        assert!(dir.path().join("mbox.lock").exists());
        let mut second = Mbox::open(&path)
            .unwrap()
            .with_lock_wait(Duration::from_millis(300));
        let started = Instant::now();
        let error = second.lock().err().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
        drop(held);
        assert!(!dir.path().join("mbox.lock").exists());
        second.lock().unwrap();
    }

    #[test]
    fn a_stale_lock_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbox");
        let lock = dir.path().join("mbox.lock");
        let file = File::create(&lock).unwrap();
        file.set_modified(SystemTime::now() - STALE_LOCK - Duration::from_secs(1))
            .unwrap();
        let mut mbox = Mbox::open(&path).unwrap().with_lock_wait(Duration::ZERO);
        mbox.append("a", UNIX_EPOCH, &mut &b"x\n"[..]).unwrap();
        assert!(!lock.exists());
    }

    #[test]
    fn a_lock_file_of_ours_whose_process_is_gone_is_removed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbox");
        let lock = dir.path().join("mbox.lock");
        let try_with = |content: String| {
            fs::write(&lock, content).unwrap();
            let mut mbox = Mbox::open(&path).unwrap().with_lock_wait(Duration::ZERO);
            mbox.append("a", UNIX_EPOCH, &mut &b"x\n"[..]).err()
        };
        let host = maildir::host_name();
        // A pid above the kernel's limit (2^22) never runs.
        assert!(try_with(format!("{} {host}\n", 1u32 << 23)).is_none());
        assert!(!lock.exists());
        // Alive (this process), another host, or not ours: left alone.
        for content in [
            format!("{} {host}\n", std::process::id()),
            format!("{} elsewhere.example\n", 1u32 << 23),
            String::new(),
            format!("{}\n", 1u32 << 23),
        ] {
            let error = try_with(content.clone()).expect(&content);
            assert_eq!(error.status(), ExitStatus::TempFail, "{content:?}");
            assert!(lock.exists());
        }
    }

    #[test]
    fn a_failing_source_truncates_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mbox");
        let mut mbox = Mbox::open(&path).unwrap();
        mbox.append("a", UNIX_EPOCH, &mut &b"first\n"[..]).unwrap();
        let before = fs::read(&path).unwrap();
        let mut failing = (&b"From half a message\n"[..]).chain(Broken);
        let error = mbox.append("b", UNIX_EPOCH, &mut failing).unwrap_err();
        assert_eq!(error.status(), ExitStatus::IoErr);
        assert_eq!(fs::read(&path).unwrap(), before);
        assert!(!dir.path().join("mbox.lock").exists());
    }

    struct Broken;

    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("connection reset"))
        }
    }

    #[test]
    fn a_stream_gets_the_same_bytes_without_locks() {
        let out = SharedBuffer::default();
        let mut mbox = Mbox::to_stream(Box::new(out.clone()));
        mbox.append("a", UNIX_EPOCH, &mut &b"From me\n"[..])
            .unwrap();
        assert_eq!(
            *out.0.borrow(),
            b"From a Thu Jan  1 00:00:00 1970\n>From me\n\n"
        );
    }

    #[derive(Clone, Default)]
    struct SharedBuffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for SharedBuffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
