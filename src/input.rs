//! Input the way every tool takes it: file arguments or stdin (none or
//! `-`), and line-oriented lists with blank lines and `#` comments skipped.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use crate::exit::{Error, ExitStatus};

/// Opens `path` for reading, or stdin for `None` or `-`; a missing or
/// unreadable file is status 66.
pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, Error> {
    match path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => File::open(p)
            .map(|f| Box::new(BufReader::with_capacity(64 * 1024, f)) as Box<dyn BufRead + Send>)
            .map_err(|e| Error::new(ExitStatus::NoInput, format!("{}: {e}", p.display()))),
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

/// The entries of a list, one a line: trimmed, blank lines and lines
/// starting with `#` skipped, each line cut at `max` bytes (a cut entry
/// keeps enough to be recognised as invalid). Reading stops at the first
/// I/O error, which is handed to `on_error`.
pub fn list_entries<R: BufRead + Send + 'static>(
    mut reader: R,
    max: usize,
    mut on_error: impl FnMut(io::Error) + Send + 'static,
) -> impl Iterator<Item = String> + Send + 'static {
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        loop {
            match read_bounded_line(&mut reader, &mut buf, max) {
                Ok(LineRead::End) => return None,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&buf);
                    let entry = text.trim();
                    if !entry.is_empty() && !entry.starts_with('#') {
                        return Some(entry.to_string());
                    }
                }
                Err(e) => {
                    on_error(e);
                    return None;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn lists_skip_blanks_and_comments() {
        let input: &'static [u8] = b"# header\n\n  a.test  \r\n#x\nb.test";
        let entries: Vec<String> = list_entries(input, 100, |_| {}).collect();
        assert_eq!(entries, ["a.test", "b.test"]);
    }
}
