//! A message received whole before it is stored or written: in memory up
//! to a bound, in an unnamed temporary file beyond it. A connection lost
//! mid-message then leaves nothing half-written at its destination.

use std::io::{self, Read, Seek, Write};

use crate::error::{Error, ErrorKind};

/// Messages up to this size are spooled in memory; larger ones in an
/// unnamed temporary file.
const IN_MEMORY: usize = 8 << 20;

/// A message read whole into memory or an unnamed temporary file, ready
/// to be read from the start.
pub struct Spool {
    file: tempfile::SpooledTempFile,
    len: u64,
}

impl Read for Spool {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl Default for Spool {
    fn default() -> Self {
        Spool::new()
    }
}

impl Spool {
    /// An empty spool, to be filled through [`Spool::writer`].
    pub fn new() -> Spool {
        Spool {
            file: tempfile::SpooledTempFile::new(IN_MEMORY),
            len: 0,
        }
    }

    /// Where the message is written.
    pub fn writer(&mut self) -> &mut dyn Write {
        &mut self.file
    }

    /// The message is whole: `len` octets as received; it is read from
    /// the start next.
    pub fn ready(&mut self, len: u64) -> Result<(), Error> {
        self.len = len;
        self.rewind()
    }

    /// Reads the message from the start again.
    pub fn rewind(&mut self) -> Result<(), Error> {
        self.file
            .rewind()
            .map_err(|e| Error::from_io(ErrorKind::LocalIo, "spooling a message", &e))
    }

    /// The octets received for the message.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was received.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the whole message to `out` and flushes it.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> Result<(), Error> {
        io::copy(&mut self.file, out)
            .and_then(|_| out.flush())
            .map(drop)
            .map_err(|e| Error::from_io(ErrorKind::LocalIo, "writing the message", &e))
    }

    /// The address of the message's `Return-Path:` field, for the mbox
    /// `From ` line (empty when there is none, or `<>`: the mbox writes
    /// MAILER-DAEMON then); the spool is read again from the start after.
    pub fn return_path(&mut self) -> Result<String, Error> {
        let mut head = Vec::with_capacity(8192);
        let read = (&mut self.file)
            .take(64 * 1024)
            .read_to_end(&mut head)
            .and_then(|_| self.file.rewind());
        read.map_err(|e| Error::from_io(ErrorKind::LocalIo, "reading a spooled message", &e))?;
        Ok(return_path(&head).unwrap_or_default())
    }
}

/// The address in the first `Return-Path:` field of a header (RFC 5322
/// §3.6.7), without its angle brackets.
pub fn return_path(head: &[u8]) -> Option<String> {
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None;
        }
        let Some(value) = line
            .get(..12)
            .filter(|name| name.eq_ignore_ascii_case(b"return-path:"))
            .map(|_| &line[12..])
        else {
            continue;
        };
        let value = String::from_utf8_lossy(value);
        let address = value.trim().trim_start_matches('<').trim_end_matches('>');
        return Some(address.trim().to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_path_names_the_mbox_sender() {
        let head = b"Received: x\r\nreturn-path: <bounce@example.org>\r\nFrom: a@b\r\n\r\nReturn-Path: <no>";
        assert_eq!(return_path(head).as_deref(), Some("bounce@example.org"));
        assert_eq!(return_path(b"Return-Path: <>\n\n").as_deref(), Some(""));
        assert_eq!(return_path(b"From: a@b\n\nReturn-Path: <x@y>\n"), None);
    }
}
