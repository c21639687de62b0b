//! Maildir delivery (<https://cr.yp.to/proto/maildir.html>, as qmail,
//! Dovecot and mutt read it): a message is written into `tmp/` under a
//! unique name, synced, linked into `new/` under the same name (never over
//! an existing file), and `new/` is synced; only then is it delivered. A
//! reader of the Maildir never sees a partial message in `new/`.

use std::fs::{self, DirBuilder, File};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::durable::{self, Publish, Step, Temporary};
use super::{LineEnds, cant_create, copy_message, own_error_or, write_failed};
use crate::error::Error;

/// Names tried, in `tmp/` and again in `new/`, before giving up when each
/// is taken (a clash needs the same second, microsecond, pid, counter and
/// 32 random bits: it does not happen, unless something else writes files
/// named like ours). A name taken in `new/` is replaced by a fresh one for
/// the link, the file in `tmp/` staying as it is.
const NAME_ATTEMPTS: usize = 8;

/// A Maildir: a directory with `cur/`, `new/` and `tmp/`.
#[derive(Debug, Clone)]
pub struct Maildir {
    root: PathBuf,
    line_ends: LineEnds,
}

impl Maildir {
    /// The Maildir at `dir`, created with its `cur/`, `new/` and `tmp/`
    /// (mode 0700) where missing; the directory `dir` is in must exist.
    /// Storing converts CRLF to LF
    /// ([`LineEnds::Lf`]) unless [`Maildir::with_line_ends`] says otherwise.
    ///
    /// Errors: a directory that cannot be created, or a name that exists
    /// but is not a directory, is [`ExitStatus::CantCreate`] (73).
    ///
    /// [`ExitStatus::CantCreate`]: crate::exit::ExitStatus::CantCreate
    pub fn open_or_create(dir: &Path) -> Result<Maildir, Error> {
        // DIR itself, never its parents: a mistyped parent is an error,
        // not a new tree somewhere.
        let subs = ["cur", "new", "tmp"].map(|sub| dir.join(sub));
        for path in std::iter::once(dir).chain(subs.iter().map(PathBuf::as_path)) {
            match DirBuilder::new().mode(0o700).create(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(e) => return Err(cant_create(path, &e)),
            }
        }
        Ok(Maildir {
            root: dir.to_path_buf(),
            line_ends: LineEnds::default(),
        })
    }

    /// The same Maildir, storing line ends as `line_ends` says.
    pub fn with_line_ends(mut self, line_ends: LineEnds) -> Maildir {
        self.line_ends = line_ends;
        self
    }

    /// The Maildir's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Delivers one message read to its end from `message`; returns its
    /// path under `new/` once it is there durably. On any failure nothing
    /// is left in `tmp/` and nothing appears in `new/`; an existing file is
    /// never replaced (a name already taken in `new/` gets another name).
    ///
    /// Errors: the file cannot be created, [`ExitStatus::CantCreate`] (73);
    /// reading the message, writing or syncing (a full disk),
    /// [`ExitStatus::IoErr`] (74), unless `message` fails with a
    /// [`crate::error::Error`] of its own, whose status is kept. When only
    /// the final sync of `new/` fails (74), the file is in `new/` but not
    /// known to be durable: the message must not be taken as stored.
    ///
    /// [`ExitStatus::CantCreate`]: crate::exit::ExitStatus::CantCreate
    /// [`ExitStatus::IoErr`]: crate::exit::ExitStatus::IoErr
    pub fn deliver(&self, message: &mut dyn Read) -> Result<PathBuf, Error> {
        self.deliver_named(message, &mut unique_name)
    }

    /// [`Maildir::deliver`] with the names drawn from `names`.
    fn deliver_named(
        &self,
        message: &mut dyn Read,
        names: &mut dyn FnMut() -> String,
    ) -> Result<PathBuf, Error> {
        let (mut temporary, name) = self.write_into_tmp(message, names)?;
        let target = self.link_into_new(&mut temporary, &name, names)?;
        let new = self.root.join("new");
        durable::sync_dir(&new).map_err(|e| write_failed(new.display(), &e))?;
        Ok(target)
    }

    /// Writes a message into `tmp/` with `fill` (which writes it as it is
    /// to be stored: no line ends are converted here), not synced yet; see
    /// [`Staged`]. Errors: as [`Maildir::deliver`]'s, and `fill`'s own.
    pub fn stage(
        &self,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), Error>,
    ) -> Result<Staged, Error> {
        let name = unique_name();
        let tmp = self.root.join("tmp").join(&name);
        let write = |file: &mut File| {
            let mut sink = BufWriter::with_capacity(64 * 1024, file);
            fill(&mut sink).map_err(io::Error::other)?;
            sink.flush()
        };
        match durable::write_temporary_unsynced(&tmp, write) {
            Ok(temporary) => Ok(Staged { temporary, name }),
            Err(f) if f.step == Step::Create => Err(cant_create(&tmp, &f.error)),
            Err(f) => Err(own_error_or(f.error, |e| write_failed(tmp.display(), &e))),
        }
    }

    /// Makes staged messages durable in `tmp/`: one file-system sync for
    /// the batch ([`durable::sync_batch`]). Errors: 74.
    pub fn sync_staged(&self, staged: &[Staged]) -> Result<(), Error> {
        let paths: Vec<&Path> = staged.iter().map(|s| s.temporary.path()).collect();
        let tmp = self.root.join("tmp");
        durable::sync_batch(&tmp, &paths).map_err(|e| write_failed(tmp.display(), &e))
    }

    /// Delivers synced staged messages: each linked into `new/` under its
    /// name (another if taken), then `new/` synced once; returns their
    /// paths there, in order. On an error the messages not yet linked stay
    /// in `tmp/` if [`Staged::keep`] was called, and are removed if not.
    pub fn deliver_staged(&self, staged: Vec<Staged>) -> Result<Vec<PathBuf>, Error> {
        let new = self.root.join("new");
        let mut delivered = Vec::with_capacity(staged.len());
        for mut one in staged {
            let name = one.name.clone();
            delivered.push(self.link_into_new(&mut one.temporary, &name, &mut unique_name)?);
        }
        durable::sync_dir(&new).map_err(|e| write_failed(new.display(), &e))?;
        Ok(delivered)
    }

    /// Links a complete file of `tmp/` into `new/` under `name`, or under
    /// one of `names` while a name is taken; `new/` is not synced.
    fn link_into_new(
        &self,
        temporary: &mut Temporary,
        name: &str,
        names: &mut dyn FnMut() -> String,
    ) -> Result<PathBuf, Error> {
        let new = self.root.join("new");
        let mut target = new.join(name);
        for _ in 0..NAME_ATTEMPTS {
            match temporary.publish_unsynced(&target, Publish::NoReplace) {
                Ok(()) => return Ok(target),
                Err(f) if is_taken(&f.error) => target = new.join(names()),
                Err(f) => return Err(cant_create(&target, &f.error)),
            }
        }
        Err(cant_create(&target, &io::ErrorKind::AlreadyExists.into()))
    }

    /// The names of the files in `tmp/` (none when it cannot be read).
    pub fn tmp_names(&self) -> std::collections::HashSet<String> {
        fs::read_dir(self.root.join("tmp"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Removes what killed deliveries of mailkit left in `tmp/`
    /// ([`remove_abandoned`]), except the files in `keep` (recorded, to be
    /// delivered). Returns how many were removed.
    pub fn remove_stale_tmp(&self, keep: &dyn Fn(&str) -> bool) -> usize {
        remove_abandoned(&self.root.join("tmp"), keep)
    }

    /// Finishes a delivery that a crash interrupted after the message was
    /// staged and recorded: `tmp/NAME`, when it is still there, is linked
    /// into `new/` (or only removed when `new/NAME` already holds it).
    /// Returns the path in `new/`, or `None` when there was nothing to do.
    pub fn recover_staged(&self, name: &str) -> Result<Option<PathBuf>, Error> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Ok(None);
        }
        let tmp = self.root.join("tmp").join(name);
        let Ok(meta) = fs::symlink_metadata(&tmp) else {
            return Ok(None);
        };
        if !meta.is_file() {
            return Ok(None);
        }
        // Linked already (the crash came before the temporary name was
        // removed): the message is in new/ or, moved by a reader, in cur/.
        if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
            let _ = fs::remove_file(&tmp);
            return Ok(None);
        }
        let target = self.root.join("new").join(name);
        match fs::hard_link(&tmp, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(cant_create(&target, &e)),
        }
        durable::sync_dir(&self.root.join("new"))
            .map_err(|e| write_failed(self.root.join("new").display(), &e))?;
        let _ = fs::remove_file(&tmp);
        Ok(Some(target))
    }

    /// The message, complete and synced in `tmp/`, and its name.
    fn write_into_tmp(
        &self,
        message: &mut dyn Read,
        names: &mut dyn FnMut() -> String,
    ) -> Result<(Temporary, String), Error> {
        let mut tmp = PathBuf::new();
        for _ in 0..NAME_ATTEMPTS {
            let name = names();
            tmp = self.root.join("tmp").join(&name);
            match durable::write_temporary(&tmp, |file| self.fill(file, message)) {
                Ok(temporary) => return Ok((temporary, name)),
                Err(f) if f.step == Step::Create && is_taken(&f.error) => continue,
                Err(f) if f.step == Step::Create => return Err(cant_create(&tmp, &f.error)),
                Err(f) => return Err(own_error_or(f.error, |e| write_failed(tmp.display(), &e))),
            }
        }
        Err(cant_create(&tmp, &io::ErrorKind::AlreadyExists.into()))
    }

    /// Writes the message into the new file.
    fn fill(&self, file: &mut File, message: &mut dyn Read) -> io::Result<()> {
        let mut sink = BufWriter::new(file);
        copy_message(message, &mut sink, self.line_ends)?;
        sink.flush()
    }
}

/// A message written into `tmp/`, not yet delivered: a batch of them is
/// made durable at once ([`Maildir::sync_staged`]), their names can be
/// recorded (a fetch state) and then they are linked into `new/`
/// ([`Maildir::deliver_staged`]); a crash after the record is finished by
/// [`Maildir::recover_staged`] rather than repeated. Dropped undelivered,
/// the file is removed, unless [`Staged::keep`] said its name was
/// recorded.
#[derive(Debug)]
pub struct Staged {
    temporary: Temporary,
    name: String,
}

impl Staged {
    /// The file's name in `tmp/`, and in `new/` once delivered.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Keeps the file in `tmp/` even if it is never delivered: its name is
    /// recorded, and the next run delivers it.
    pub fn keep(&mut self) {
        self.temporary.keep();
    }
}

/// The name is already taken: another one can be tried.
fn is_taken(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::AlreadyExists
}

/// A name unique to this delivery, in the Maildir form
/// `SECONDS.M<usec>P<pid>Q<count>R<random>.HOST`: the time, this process,
/// a per-process delivery counter and 32 random bits, and the host name
/// with `/` and `:` written as `\057` and `\072`.
pub fn unique_name() -> String {
    static DELIVERIES: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{}.M{}P{}Q{}R{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        DELIVERIES.fetch_add(1, Ordering::Relaxed),
        crate::random::hex(8),
        host_name()
    )
}

/// The process id in `name` when it has the form [`unique_name`] gives
/// on this host: `DIGITS.M<digits>P<pid>Q<digits>R<hex>.HOST`.
fn our_name_pid(name: &str) -> Option<u32> {
    let (seconds, rest) = name.split_once('.')?;
    let (unique, host) = rest.split_once('.')?;
    let (usec, rest) = unique.strip_prefix('M')?.split_once('P')?;
    let (pid, rest) = rest.split_once('Q')?;
    let (count, random) = rest.split_once('R')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ours = digits(seconds)
        && digits(usec)
        && digits(count)
        && !random.is_empty()
        && random.bytes().all(|b| b.is_ascii_hexdigit())
        && host == host_name();
    ours.then(|| pid.parse().ok()).flatten()
}

/// Whether process `pid` is running: this one, or one `/proc` shows.
pub(crate) fn process_running(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes from `dir` the files named as [`unique_name`] makes them on
/// this host, except those in `keep` and those of a process that is still
/// running (another writer at work), unless they are older than 36 hours
/// (the age after which the Maildir convention lets a reader clean
/// `tmp/`). Other programs' files are left alone. Returns how many were
/// removed; a file that cannot be removed is skipped.
pub fn remove_abandoned(dir: &Path, keep: &dyn Fn(&str) -> bool) -> usize {
    const STALE: std::time::Duration = std::time::Duration::from_secs(36 * 3600);
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = our_name_pid(&name) else {
            continue;
        };
        let Some(age) = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .map(|modified| now.duration_since(modified).unwrap_or_default())
        else {
            continue;
        };
        let abandoned = !keep(&name) && !process_running(pid);
        if (abandoned || age > STALE) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// This host's name for Maildir file names, read once per process.
pub(crate) fn host_name() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let name = fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        let name = if name.is_empty() { "localhost" } else { &name };
        name.replace('/', "\\057").replace(':', "\\072")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn files(dir: &Path) -> Vec<PathBuf> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn creates_cur_new_and_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("inbox");
        let maildir = Maildir::open_or_create(&root).unwrap();
        assert_eq!(maildir.path(), root);
        for sub in ["cur", "new", "tmp"] {
            assert!(root.join(sub).is_dir(), "{sub}");
        }
        Maildir::open_or_create(&root).unwrap();
    }

    #[test]
    fn a_missing_parent_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("Mial/inbox");
        let error = Maildir::open_or_create(&root).unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::CantCreate);
        assert!(!dir.path().join("Mial").exists());
    }

    #[test]
    fn a_file_in_the_way_cannot_be_created() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("new"), b"").unwrap();
        let error = Maildir::open_or_create(dir.path()).unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::CantCreate);
    }

    #[test]
    fn delivers_into_new_and_leaves_tmp_empty() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let path = maildir
            .deliver(&mut &b"Subject: x\r\n\r\nbody\r\n"[..])
            .unwrap();
        assert_eq!(path.parent().unwrap(), dir.path().join("new"));
        assert_eq!(fs::read(&path).unwrap(), b"Subject: x\n\nbody\n");
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    #[test]
    fn keep_crlf_is_byte_exact() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path())
            .unwrap()
            .with_line_ends(LineEnds::Keep);
        let message = b"A: b\r\n\r\nbare\rcr and lf\n\x00\xff\r\n";
        let path = maildir.deliver(&mut &message[..]).unwrap();
        assert_eq!(fs::read(path).unwrap(), message);
    }

    #[test]
    fn names_are_unique_and_well_formed() {
        let names: HashSet<String> = (0..1000).map(|_| unique_name()).collect();
        assert_eq!(names.len(), 1000);
        for name in &names {
            assert!(!name.contains('/') && !name.contains(':'), "{name}");
            assert!(!name.starts_with('.'), "{name}");
            assert_eq!(
                name.split('.').count(),
                3 + host_name().matches('.').count()
            );
        }
    }

    #[test]
    fn every_delivery_gets_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        for i in 0..50 {
            maildir
                .deliver(&mut format!("n: {i}\n").as_bytes())
                .unwrap();
        }
        assert_eq!(files(&dir.path().join("new")).len(), 50);
    }

    /// Names from a list, then fresh ones.
    fn these_names(list: &'static [&'static str]) -> impl FnMut() -> String {
        let mut list = list.iter();
        move || list.next().map_or_else(unique_name, |n| (*n).to_owned())
    }

    #[test]
    fn a_name_taken_in_new_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        fs::write(dir.path().join("new/taken"), b"old").unwrap();
        let mut names = these_names(&["taken", "fresh"]);
        let path = maildir
            .deliver_named(&mut &b"new\n"[..], &mut names)
            .unwrap();
        assert_eq!(path, dir.path().join("new/fresh"));
        assert_eq!(fs::read(dir.path().join("new/taken")).unwrap(), b"old");
        assert_eq!(fs::read(path).unwrap(), b"new\n");
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    #[test]
    fn a_name_taken_in_tmp_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        fs::write(dir.path().join("tmp/busy"), b"another writer").unwrap();
        let mut names = these_names(&["busy", "free"]);
        let path = maildir.deliver_named(&mut &b"m\n"[..], &mut names).unwrap();
        assert_eq!(path, dir.path().join("new/free"));
        assert_eq!(
            fs::read(dir.path().join("tmp/busy")).unwrap(),
            b"another writer"
        );
    }

    #[test]
    fn gives_up_when_every_name_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        fs::write(dir.path().join("new/same"), b"old").unwrap();
        let mut names = || "same".to_owned();
        let error = maildir
            .deliver_named(&mut &b"m\n"[..], &mut names)
            .unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::CantCreate);
        assert_eq!(fs::read(dir.path().join("new/same")).unwrap(), b"old");
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    /// A message source that fails after a few bytes.
    struct Failing(usize);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("connection reset"));
            }
            let n = self.0.min(buf.len());
            buf[..n].fill(b'x');
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_failing_source_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let error = maildir.deliver(&mut Failing(10_000)).unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::IoErr);
        assert!(files(&dir.path().join("new")).is_empty());
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    #[test]
    fn a_source_error_keeps_its_own_status() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let own = Error::new(crate::error::ErrorKind::ConnectionLost, "closed early");
        let mut source = io::Cursor::new(b"x".to_vec()).chain(ErrReader(Some(own)));
        let error = maildir.deliver(&mut source).unwrap_err();
        assert_eq!(error.status(), crate::exit::ExitStatus::TempFail);
        assert_eq!(error.to_string(), "closed early");
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    struct ErrReader(Option<Error>);

    impl Read for ErrReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other(self.0.take().unwrap()))
        }
    }

    fn staged(maildir: &Maildir, text: &'static [u8]) -> Staged {
        maildir
            .stage(|sink| sink.write_all(text).map_err(|e| Error::io(e.to_string())))
            .unwrap()
    }

    #[test]
    fn a_staged_batch_is_delivered_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let batch = vec![staged(&maildir, b"one"), staged(&maildir, b"two")];
        maildir.sync_staged(&batch).unwrap();
        let paths = maildir.deliver_staged(batch).unwrap();
        assert_eq!(fs::read(&paths[0]).unwrap(), b"one");
        assert_eq!(fs::read(&paths[1]).unwrap(), b"two");
        assert!(files(&dir.path().join("tmp")).is_empty());
    }

    #[test]
    fn a_staged_message_is_removed_unless_kept_and_then_recovered_once() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        drop(staged(&maildir, b"dropped"));
        assert!(files(&dir.path().join("tmp")).is_empty());
        let mut kept = staged(&maildir, b"kept");
        kept.keep();
        let name = kept.name().to_string();
        drop(kept);
        let recovered = maildir.recover_staged(&name).unwrap().unwrap();
        assert_eq!(fs::read(&recovered).unwrap(), b"kept");
        assert!(files(&dir.path().join("tmp")).is_empty());
        assert_eq!(maildir.recover_staged(&name).unwrap(), None);
        assert_eq!(files(&dir.path().join("new")).len(), 1);
    }

    #[test]
    fn a_crash_between_link_and_unlink_is_not_delivered_twice() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let mut kept = staged(&maildir, b"linked");
        kept.keep();
        let name = kept.name().to_string();
        drop(kept);
        let tmp = dir.path().join("tmp").join(&name);
        // Linked, then moved to cur/ by a reader; the tmp name stayed.
        fs::hard_link(&tmp, dir.path().join("cur").join(format!("{name}:2,S"))).unwrap();
        assert_eq!(maildir.recover_staged(&name).unwrap(), None);
        assert!(files(&dir.path().join("new")).is_empty());
        assert!(!tmp.exists());
        assert_eq!(maildir.recover_staged("../escape").unwrap(), None);
    }

    #[test]
    fn only_abandoned_or_stale_files_of_ours_leave_tmp() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = Maildir::open_or_create(dir.path()).unwrap();
        let tmp = dir.path().join("tmp");
        let ours = unique_name();
        assert_eq!(our_name_pid(&ours), Some(std::process::id()));
        // A process that has exited: a child, reaped.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let abandoned = ours.replace(&format!("P{}Q", std::process::id()), &format!("P{dead}Q"));
        let recorded = abandoned.replace("Q", "Q9");
        let old = SystemTime::now() - std::time::Duration::from_secs(40 * 3600);
        let other = "1700000000.M1P1.other-program";
        for name in [ours.as_str(), &abandoned, &recorded, other] {
            File::create(tmp.join(name))
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let fresh = unique_name();
        File::create(tmp.join(&fresh)).unwrap();
        let keep = |name: &str| name == recorded;
        assert_eq!(maildir.remove_stale_tmp(&keep), 3);
        assert!(!tmp.join(&ours).exists() && !tmp.join(&abandoned).exists());
        assert!(!tmp.join(&recorded).exists(), "older than 36 hours");
        assert!(tmp.join(other).exists());
        assert!(tmp.join(&fresh).exists(), "this process is running");
    }
}
