//! Mailbox storage for the fetching tools: [`Maildir`] and [`Mbox`]
//! (mboxrd) delivery, under the contract's rule that a message is reported
//! stored, and may be deleted from a server, only once it is durably on
//! disk. [`durable`] is the write-sync-rename recipe they share with the
//! outgoing queue ([`crate::spool`]).
//! [`fetch_state`] and [`folder_state`] record what a fetch stored (POP3
//! UIDLs; IMAP folders, UIDVALIDITY and UIDs), so that no run stores a
//! message twice.
//!
//! Errors: an output that cannot be created (a Maildir, an mbox, a lock
//! file) is [`ExitStatus::CantCreate`] (73); a failed write, sync or
//! truncation, a full disk included, is [`ExitStatus::IoErr`] (74); an mbox
//! locked by someone else for longer than the wait is
//! [`ExitStatus::TempFail`] (75).

pub mod durable;
pub mod fetch_state;
pub mod folder_state;
pub mod maildir;
pub mod mbox;
pub mod spool;

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

pub use maildir::Maildir;
pub use mbox::{Mbox, MboxLock};

use crate::error::{Error, ErrorKind};

/// How a message's line ends are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LineEnds {
    /// Each CRLF becomes LF, the local convention of Maildir and mbox files
    /// (the fetch tools' default). A bare CR or LF is kept as it is.
    #[default]
    Lf,
    /// Byte-exact: the message as it came over the wire (`--keep-crlf`).
    Keep,
}

/// Runs `fill` with a writer into `sink` that stores line ends as
/// `line_ends` says (through an [`LfWriter`] for [`LineEnds::Lf`], finished
/// after `fill`): what fetching a message into a destination shares.
pub fn write_with_line_ends<T>(
    sink: &mut dyn Write,
    line_ends: LineEnds,
    fill: impl FnOnce(&mut dyn Write) -> Result<T, Error>,
) -> Result<T, Error> {
    match line_ends {
        LineEnds::Keep => fill(sink),
        LineEnds::Lf => {
            let mut lf = LfWriter::new(sink);
            let filled = fill(&mut lf)?;
            lf.finish()
                .map_err(|e| Error::from_io(ErrorKind::LocalIo, "storing a message", &e))?;
            Ok(filled)
        }
    }
}

/// A streaming writer that turns each CRLF into LF, across `write` calls
/// (a CR at the end of one call waits for the next). [`LfWriter::finish`]
/// writes a CR still held back. Other bytes pass unchanged.
pub struct LfWriter<W: Write> {
    inner: W,
    held_cr: bool,
}

impl<W: Write> LfWriter<W> {
    /// A converter writing into `inner`.
    pub fn new(inner: W) -> Self {
        LfWriter {
            inner,
            held_cr: false,
        }
    }

    /// Writes a CR held back at the end of the input; returns `inner`.
    pub fn finish(mut self) -> io::Result<W> {
        if std::mem::take(&mut self.held_cr) {
            self.inner.write_all(b"\r")?;
        }
        Ok(self.inner)
    }

    /// One run of input: everything up to the next CR, or the CR itself.
    fn step<'a>(&mut self, input: &'a [u8]) -> io::Result<&'a [u8]> {
        if std::mem::take(&mut self.held_cr) && input[0] != b'\n' {
            self.inner.write_all(b"\r")?;
        }
        if input[0] == b'\r' {
            self.held_cr = true;
            return Ok(&input[1..]);
        }
        let run = memchr::memchr(b'\r', input).unwrap_or(input.len());
        self.inner.write_all(&input[..run])?;
        Ok(&input[run..])
    }
}

impl<W: Write> Write for LfWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            rest = self.step(rest)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Copies `message` into `sink` with the chosen line ends; the number of
/// octets read.
fn copy_message(
    message: &mut dyn io::Read,
    sink: &mut dyn Write,
    line_ends: LineEnds,
) -> io::Result<u64> {
    match line_ends {
        LineEnds::Keep => io::copy(message, sink),
        LineEnds::Lf => {
            let mut converter = LfWriter::new(sink);
            let copied = io::copy(message, &mut converter)?;
            converter.finish()?;
            Ok(copied)
        }
    }
}

/// 73: `path` (a Maildir, an mbox, a lock file) cannot be created.
fn cant_create(path: &Path, error: &io::Error) -> Error {
    Error::new(
        ErrorKind::CannotCreate,
        format!("cannot create {}: {error}", path.display()),
    )
}

/// 74: writing to `what` (a path shown, standard output) failed: a full
/// disk, an I/O error.
fn write_failed(what: impl fmt::Display, error: &io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("writing {what}: {error}"))
}

/// 74: a failed append could not be taken back: the end of `path` may
/// hold part of a message.
fn truncate_failed(path: &Path, first: &Error, error: &io::Error) -> Error {
    Error::new(
        ErrorKind::LocalIo,
        format!(
            "{first}; truncating {} back failed too ({error}): its last message may be incomplete",
            path.display()
        ),
    )
}

/// The [`Error`] the message source failed with (a connection reader that
/// knows its own status), or `otherwise(error)` for any other I/O error.
fn own_error_or(error: io::Error, otherwise: impl FnOnce(io::Error) -> Error) -> Error {
    error.downcast::<Error>().unwrap_or_else(otherwise)
}

/// 75: `path` stayed locked by another process.
fn locked(path: &Path, how: &str) -> Error {
    Error::new(
        ErrorKind::Deferred,
        format!(
            "{} is locked by another process ({how}); try again later",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_lf(pieces: &[&[u8]]) -> Vec<u8> {
        let mut writer = LfWriter::new(Vec::new());
        for piece in pieces {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn crlf_becomes_lf_and_bare_cr_and_lf_stay() {
        assert_eq!(to_lf(&[b"a\r\nb\rc\nd\r\r\n"]), b"a\nb\rc\nd\r\n");
    }

    #[test]
    fn a_crlf_split_between_writes_is_one_line_end() {
        assert_eq!(to_lf(&[b"a\r", b"\nb\r", b"", b"\n"]), b"a\nb\n");
        assert_eq!(to_lf(&[b"a\r", b"b"]), b"a\rb");
    }

    #[test]
    fn a_cr_at_the_very_end_is_kept() {
        assert_eq!(to_lf(&[b"a\r"]), b"a\r");
        assert_eq!(to_lf(&[b"\r", b"\r"]), b"\r\r");
    }
}
