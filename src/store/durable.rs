//! Writing a new file so that it is either whole or absent: create it
//! exclusively under a temporary name, write, `fsync`, move it to its final
//! name, `fsync` the directory (the Maildir recipe, also used by the
//! outgoing queue of [`crate::spool`]). A crash at any moment leaves at most
//! a stray temporary file, never a partial file under the final name.
//! Files are created 0600: mail and queue entries are the owner's alone
//! (as maildrop, mpop and fetchmail write them).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// How the finished file takes its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// `rename(2)`: an existing file of that name is replaced atomically
    /// (for a file the caller owns, such as a spool entry being updated).
    Replace,
    /// `link(2)` then `unlink(2)` of the temporary name: an existing file is
    /// never replaced, the failure is [`io::ErrorKind::AlreadyExists`]
    /// (Maildir delivery). On a file system without hard links it falls
    /// back to a rename after checking that the name is free; the names
    /// used are unique, so the gap between check and rename is harmless.
    NoReplace,
}

/// The step of [`write_new`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Creating the temporary file (the output cannot be created).
    Create,
    /// Writing or syncing its content (an I/O error: a full disk, ...).
    Write,
    /// Moving it to its final name.
    Publish,
    /// Syncing the directory after the move: the file has its final name
    /// but may not survive a crash.
    SyncDir,
}

/// A failed [`write_new`]: which step, and the system's error.
#[derive(Debug)]
pub struct Failure {
    /// The step that failed.
    pub step: Step,
    /// Why.
    pub error: io::Error,
}

/// Writes a new file at `target` durably: `tmp` is created exclusively
/// (`O_CREAT|O_EXCL`, so an existing file is never truncated), `fill` writes
/// the content, the file is synced, moved to `target` as `publish` says, and
/// `target`'s directory is synced. On any later failure the temporary file
/// is removed (one that existed before is left alone); `target` exists only
/// when everything up to its move succeeded.
pub fn write_new(
    tmp: &Path,
    target: &Path,
    publish: Publish,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), Failure> {
    write_temporary(tmp, fill)?.publish(target, publish)
}

/// The first half of [`write_new`]: `tmp` created exclusively, filled and
/// synced. The result removes the file when dropped unpublished, so that
/// a caller can try [`Temporary::publish`] under several names.
pub fn write_temporary(
    tmp: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<Temporary, Failure> {
    write_temporary_unsynced(tmp, |file| fill(file).and_then(|()| file.sync_all()))
}

/// [`write_temporary`] without the sync: for a batch of files made
/// durable together ([`sync_batch`]) before any is published.
pub fn write_temporary_unsynced(
    tmp: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<Temporary, Failure> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|error| failed(Step::Create, error))?;
    let temporary = Temporary {
        path: tmp.to_path_buf(),
        published: false,
    };
    fill(&mut file).map_err(|error| failed(Step::Write, error))?;
    Ok(temporary)
}

/// Makes every file written so far on the file system that holds `dir`
/// durable with one `syncfs(2)` (which reports write-back errors since
/// Linux 5.8), the barrier of a batch of [`write_temporary_unsynced`]
/// files; where `syncfs` fails, each of `files` is synced instead.
pub fn sync_batch(dir: &Path, files: &[&Path]) -> io::Result<()> {
    let synced = File::open(dir).and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from));
    if synced.is_ok() {
        return Ok(());
    }
    for file in files {
        File::open(file)?.sync_all()?;
    }
    Ok(())
}

/// A complete, synced file under its temporary name; removed on drop
/// unless published.
#[derive(Debug)]
pub struct Temporary {
    path: PathBuf,
    published: bool,
}

impl Temporary {
    /// Moves the file to `target` as `publish` says and syncs `target`'s
    /// directory. After a failure with [`Publish::NoReplace`] and
    /// [`io::ErrorKind::AlreadyExists`] the file is still there, so another
    /// name can be tried.
    pub fn publish(&mut self, target: &Path, publish: Publish) -> Result<(), Failure> {
        move_into_place(&self.path, target, publish).map_err(|e| failed(Step::Publish, e))?;
        self.published = true;
        sync_parent(target).map_err(|e| failed(Step::SyncDir, e))
    }
}

impl Temporary {
    /// Moves the file to `target` as `publish` says, without syncing the
    /// directory (the caller syncs it once for a batch, [`sync_dir`]).
    pub fn publish_unsynced(&mut self, target: &Path, publish: Publish) -> Result<(), Failure> {
        move_into_place(&self.path, target, publish).map_err(|e| failed(Step::Publish, e))?;
        self.published = true;
        Ok(())
    }

    /// The file's temporary path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps the file when this is dropped unpublished: its name is
    /// recorded somewhere, and a later run finishes the publication.
    pub fn keep(&mut self) {
        self.published = true;
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn failed(step: Step, error: io::Error) -> Failure {
    Failure { step, error }
}

/// Gives the synced temporary file its final name.
fn move_into_place(tmp: &Path, target: &Path, publish: Publish) -> io::Result<()> {
    match publish {
        Publish::Replace => fs::rename(tmp, target),
        Publish::NoReplace => link_without_replacing(tmp, target),
    }
}

fn link_without_replacing(tmp: &Path, target: &Path) -> io::Result<()> {
    match fs::hard_link(tmp, target) {
        // Delivered; a temporary name left behind is only litter.
        Ok(()) => {
            let _ = fs::remove_file(tmp);
            Ok(())
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Err(error),
        Err(_) => rename_if_free(tmp, target),
    }
}

/// The fallback when hard links are not supported.
fn rename_if_free(tmp: &Path, target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(target) {
        Ok(_) => Err(io::ErrorKind::AlreadyExists.into()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => fs::rename(tmp, target),
        Err(error) => Err(error),
    }
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
        _ => sync_dir(Path::new(".")),
    }
}

/// `fsync` of a directory, so that a file created, renamed or removed in it
/// survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_file_appears_whole_and_the_temporary_name_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, target) = (dir.path().join("t"), dir.path().join("f"));
        write_new(&tmp, &target, Publish::NoReplace, |f| f.write_all(b"abc")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"abc");
        assert!(!tmp.exists());
    }

    #[test]
    fn no_replace_keeps_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, target) = (dir.path().join("t"), dir.path().join("f"));
        fs::write(&target, b"old").unwrap();
        let failure =
            write_new(&tmp, &target, Publish::NoReplace, |f| f.write_all(b"new")).unwrap_err();
        assert_eq!(failure.step, Step::Publish);
        assert_eq!(failure.error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert!(!tmp.exists());
    }

    #[test]
    fn replace_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, target) = (dir.path().join("t"), dir.path().join("f"));
        fs::write(&target, b"old").unwrap();
        write_new(&tmp, &target, Publish::Replace, |f| f.write_all(b"new")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_failing_fill_removes_the_temporary_file_and_never_publishes() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, target) = (dir.path().join("t"), dir.path().join("f"));
        let failure = write_new(&tmp, &target, Publish::Replace, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(failure.step, Step::Write);
        assert!(!tmp.exists() && !target.exists());
    }

    #[test]
    fn an_existing_temporary_name_is_never_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, target) = (dir.path().join("t"), dir.path().join("f"));
        fs::write(&tmp, b"someone else's").unwrap();
        let failure = write_new(&tmp, &target, Publish::Replace, |_| Ok(())).unwrap_err();
        assert_eq!(failure.step, Step::Create);
        assert_eq!(failure.error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&tmp).unwrap(), b"someone else's");
    }
}
