//! Input the way every tool takes it: file arguments or stdin (none or
//! `-`), and line-oriented lists with blank lines and `#` comments skipped.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, ErrorKind};

/// Opens `path` for reading, or stdin for `None` or `-`; a missing or
/// unreadable file is status 66.
pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, Error> {
    match path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => File::open(p)
            .map(|f| Box::new(BufReader::with_capacity(64 * 1024, f)) as Box<dyn BufRead + Send>)
            .map_err(|e| Error::new(ErrorKind::MissingInput, format!("{}: {e}", p.display()))),
    }
}

/// What [`read_bounded_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line (without its line end) is in the buffer.
    Line,
    /// The line was longer than the bound: the buffer holds its first
    /// `max` bytes and the rest was skipped up to the line end.
    TooLong,
    /// End of input and nothing read.
    End,
}

/// Reads one line ending in LF (a CR before it is removed) into `buf`,
/// keeping at most `max` bytes, so that no input can grow memory without
/// bound. A last line without LF counts as a line.
pub fn read_bounded_line<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (piece, used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], at + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if piece.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        reader.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(LineRead::End);
    }
    if buf.last() == Some(&b'\r') && !too_long {
        buf.pop();
    }
    Ok(if too_long {
        LineRead::TooLong
    } else {
        LineRead::Line
    })
}

/// Splits a list (one entry a line: trimmed, blank lines and lines starting
/// with `#` skipped, each cut at a bound) into batches: each
/// batch holds the entries completed by one `read` of the underlying input,
/// so a pipe full of lines gives large batches while an interactive writer
/// gets each line handled as soon as it is typed.
pub struct ListBatches<R> {
    reader: R,
    max: usize,
    partial: Vec<u8>,
    skipping: bool,
    done: bool,
}

impl<R: Read> ListBatches<R> {
    /// Batches from `reader`, each entry cut at `max` bytes.
    pub fn new(reader: R, max: usize) -> Self {
        ListBatches {
            reader,
            max,
            partial: Vec::new(),
            skipping: false,
            done: false,
        }
    }

    fn take_line(&mut self, batch: &mut Vec<String>) {
        let text = String::from_utf8_lossy(&self.partial);
        let entry = text.trim();
        if !entry.is_empty() && !entry.starts_with('#') {
            batch.push(entry.to_string());
        }
        self.partial.clear();
        self.skipping = false;
    }

    fn absorb(&mut self, mut data: &[u8], batch: &mut Vec<String>) {
        while !data.is_empty() {
            let (piece, ends_line) = match memchr::memchr(b'\n', data) {
                Some(at) => (&data[..at], Some(at + 1)),
                None => (data, None),
            };
            if !self.skipping {
                let room = self.max.saturating_sub(self.partial.len());
                self.partial
                    .extend_from_slice(&piece[..piece.len().min(room)]);
                self.skipping = piece.len() > room;
            }
            match ends_line {
                Some(used) => {
                    self.take_line(batch);
                    data = &data[used..];
                }
                None => data = &[],
            }
        }
    }
}

impl<R: Read> Iterator for ListBatches<R> {
    type Item = io::Result<Vec<String>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = [0u8; 64 * 1024];
        let mut batch = Vec::new();
        while batch.is_empty() && !self.done {
            match self.reader.read(&mut buf) {
                Ok(0) => {
                    self.done = true;
                    self.take_line(&mut batch);
                }
                Ok(n) => self.absorb(&buf[..n], &mut batch),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    #[test]
    fn missing_file_is_66() {
        let err = open(Some(Path::new("/nonexistent/mailkit-test")))
            .err()
            .unwrap();
        assert_eq!(err.status(), ExitStatus::NoInput);
        assert!(err.to_string().starts_with("/nonexistent/mailkit-test: "));
    }

    #[test]
    fn bounded_lines() {
        let mut input: &[u8] = b"short\r\nway too long line\nlast";
        let mut buf = Vec::new();
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::TooLong
        );
        assert_eq!(buf, b"way too ");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"last");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::End
        );
    }

    #[test]
    fn batches_follow_reads() {
        /// Hands out the given pieces, one per read.
        struct Pieces(Vec<&'static [u8]>);
        impl Read for Pieces {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let piece = self.0.remove(0);
                out[..piece.len()].copy_from_slice(piece);
                Ok(piece.len())
            }
        }
        let reader = Pieces(vec![
            b"a.test\nb.te",
            b"st\n# c\n\n",
            b"x\n",
            b"waytoolong\nlast",
        ]);
        let batches: Vec<Vec<String>> = ListBatches::new(reader, 4).map(Result::unwrap).collect();
        assert_eq!(
            batches,
            vec![
                vec!["a.te"],
                vec!["b.te"],
                vec!["x"],
                vec!["wayt"],
                vec!["last"]
            ]
        );
    }
}
