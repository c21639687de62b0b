//! Reading a dot-terminated multi-line response (POP3 `RETR`, `TOP`,
//! `LIST`, `UIDL`: RFC 1939 §3; the same framing as SMTP `DATA`, RFC 5321
//! §4.5.2, whose writing side is [`crate::smtp::data`]) into a sink, as a
//! stream.
//!
//! RFC 1939 §3: each line ends with CRLF; a line that begins with the
//! termination octet `.` has it removed ("byte-stuffing" undone: `..x`
//! gives `.x`, and so does a lone `.x`), and a line that is `.` alone ends
//! the response. The CRLF before that line belongs to the last line of
//! the data. A lone LF is tolerated as a line end too (servers that store
//! mail with LF send it so); a CR not followed by LF is data.
//!
//! # What is guaranteed
//!
//! - Only the terminating line makes [`read_dot_terminated`] return `Ok`
//!   ([`Complete`]); a stream that ends anywhere before it, even inside the
//!   terminating line (`.` CR, then nothing), is an error with
//!   [`ExitStatus::TempFail`] (75), so a message cut short can never be
//!   taken as complete.
//! - Nothing after the terminating line is consumed: a pipelined response
//!   that follows stays in the reader.
//! - Memory is bounded by the reader's own buffer: lines of any length are
//!   passed to the sink in the pieces [`BufRead::fill_buf`] returns, never
//!   collected whole.
//! - Byte-exact apart from the un-stuffing, or with each CRLF turned into
//!   LF ([`LineEnds::Lf`]).
//!
//! # The reader
//!
//! Generic over [`Chunks`]: any [`std::io::BufRead`] (a byte slice in
//! tests), or the [`crate::net::connection::Connection`] over its own bounded
//! buffer with its timeout ([`crate::net::connection::Connection::read_dot_terminated`];
//! its `read_data_line` would collect a whole line, which this must not do).

use std::io::{self, BufRead, Write};

use crate::error::{Error, ErrorKind};
use crate::store::LineEnds;

/// How a response is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotOptions {
    /// Line ends in the sink: [`LineEnds::Keep`] writes them as received,
    /// [`LineEnds::Lf`] turns each CRLF into LF.
    pub line_ends: LineEnds,
    /// The most octets the sink may receive; a longer response is an error
    /// ([`ExitStatus::Protocol`], 76) once it would pass the bound.
    pub max_octets: u64,
}

impl Default for DotOptions {
    /// Line ends kept, no bound.
    fn default() -> Self {
        DotOptions {
            line_ends: LineEnds::Keep,
            max_octets: u64::MAX,
        }
    }
}

/// A response that ended with its terminating line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Complete {
    /// Octets written to the sink.
    pub octets: u64,
    /// Lines of data (line ends seen before the terminating line).
    pub lines: u64,
}

/// A source read in the pieces it holds: any [`BufRead`] (its read errors
/// become lost-connection errors), or the
/// [`crate::net::connection::Connection`], which reads with its timeout and
/// reports its own typed errors.
pub trait Chunks {
    /// The octets available now, reading more when none are; empty at the
    /// end of the stream.
    fn chunk(&mut self) -> Result<&[u8], Error>;
    /// Marks the first `used` octets of the last chunk as read.
    fn consume_chunk(&mut self, used: usize);
}

impl<R: BufRead + ?Sized> Chunks for R {
    fn chunk(&mut self) -> Result<&[u8], Error> {
        self.fill_buf().map_err(|e| read_failed(&e))
    }

    fn consume_chunk(&mut self, used: usize) {
        self.consume(used);
    }
}

/// Reads one dot-terminated response from `reader` up to and including its
/// terminating line, writing the un-stuffed data into `sink` (flushed at
/// the end). See the module documentation for the guarantees.
///
/// Errors: the stream ending before the terminating line, or failing to
/// read, [`ExitStatus::TempFail`] (75); more than
/// [`DotOptions::max_octets`], [`ExitStatus::Protocol`] (76); the sink
/// failing, [`ExitStatus::IoErr`] (74). After an error the reader's
/// position is unknown: the connection cannot be used further.
pub fn read_dot_terminated<R: Chunks + ?Sized>(
    reader: &mut R,
    sink: &mut dyn Write,
    options: &DotOptions,
) -> Result<Complete, Error> {
    let mut unstuffer = Unstuffer {
        sink,
        options: *options,
        state: State::LineStart,
        done: Complete::default(),
    };
    loop {
        let buf = reader.chunk()?;
        if buf.is_empty() {
            return Err(closed_early(unstuffer.done));
        }
        let (used, ended) = unstuffer.feed(buf)?;
        reader.consume_chunk(used);
        if ended {
            unstuffer.sink.flush().map_err(|e| sink_failed(&e))?;
            return Ok(unstuffer.done);
        }
    }
}

/// Where in a line the reader is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing of the current line seen yet.
    LineStart,
    /// A line started with `.` (dropped); it may be the terminating line.
    AfterDot,
    /// `.` CR at a line start: LF next ends the response.
    AfterDotCr,
    /// Inside a line of data.
    InLine,
    /// Inside a line, after a CR held back (with [`LineEnds::Lf`]).
    InLineCr,
}

struct Unstuffer<'a> {
    sink: &'a mut dyn Write,
    options: DotOptions,
    state: State,
    done: Complete,
}

impl Unstuffer<'_> {
    /// Takes in `buf`: the octets used, and whether the terminating line
    /// ended among them (nothing after it is used).
    fn feed(&mut self, buf: &[u8]) -> Result<(usize, bool), Error> {
        let mut at = 0;
        while at < buf.len() {
            let byte = buf[at];
            match self.state {
                State::LineStart if byte == b'.' => self.state = State::AfterDot,
                State::AfterDot | State::AfterDotCr if byte == b'\n' => return Ok((at + 1, true)),
                State::AfterDot if byte == b'\r' => self.state = State::AfterDotCr,
                State::InLineCr if byte == b'\n' => self.end_line(b"\n")?,
                State::InLine => {
                    at += self.line_run(&buf[at..])?;
                    continue;
                }
                state => {
                    self.leave(state)?;
                    continue;
                }
            }
            at += 1;
        }
        Ok((buf.len(), false))
    }

    /// Goes from a line-start state into [`State::InLine`] without using the
    /// current octet, writing a CR that turned out to be data.
    fn leave(&mut self, state: State) -> Result<(), Error> {
        if matches!(state, State::AfterDotCr | State::InLineCr) {
            self.emit(b"\r")?;
        }
        self.state = State::InLine;
        Ok(())
    }

    /// Writes line content from the start of `input` up to the next line
    /// end (included, or held back when it is a CR); the octets used.
    fn line_run(&mut self, input: &[u8]) -> Result<usize, Error> {
        let stop = match self.options.line_ends {
            LineEnds::Keep => memchr::memchr(b'\n', input),
            LineEnds::Lf => memchr::memchr2(b'\r', b'\n', input),
        };
        let Some(stop) = stop else {
            self.emit(input)?;
            return Ok(input.len());
        };
        if input[stop] == b'\r' {
            self.emit(&input[..stop])?;
            self.state = State::InLineCr;
        } else {
            self.end_line(&input[..=stop])?;
        }
        Ok(stop + 1)
    }

    /// Writes the end of a line (`tail` ends with LF).
    fn end_line(&mut self, tail: &[u8]) -> Result<(), Error> {
        self.emit(tail)?;
        self.done.lines += 1;
        self.state = State::LineStart;
        Ok(())
    }

    fn emit(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let total = self.done.octets.saturating_add(bytes.len() as u64);
        if total > self.options.max_octets {
            return Err(too_long(self.options.max_octets));
        }
        self.sink.write_all(bytes).map_err(|e| sink_failed(&e))?;
        self.done.octets = total;
        Ok(())
    }
}

/// 75: the stream ended before the terminating line.
fn closed_early(so_far: Complete) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!(
            "connection closed in the middle of a multi-line response \
             (after {} octets, before its terminating line)",
            so_far.octets
        ),
    )
}

/// 75: reading failed (a timeout, a reset).
fn read_failed(error: &io::Error) -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        format!("reading a multi-line response: {error}"),
    )
}

/// 76: the response is longer than the caller allows.
fn too_long(max: u64) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("the server sent a multi-line response longer than {max} octets"),
    )
}

/// 74: the sink (a file, standard output) failed.
fn sink_failed(error: &io::Error) -> Error {
    Error::new(
        ErrorKind::LocalIo,
        format!("storing a multi-line response: {error}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;
    use crate::test_support::Trickle;
    use std::io::Read;

    const KEEP: DotOptions = DotOptions {
        line_ends: LineEnds::Keep,
        max_octets: u64::MAX,
    };
    const TO_LF: DotOptions = DotOptions {
        line_ends: LineEnds::Lf,
        max_octets: u64::MAX,
    };

    /// The data and what is left unread, reading `input` `n` octets at a time.
    fn read_in(
        input: &[u8],
        n: usize,
        options: &DotOptions,
    ) -> (Result<Complete, Error>, Vec<u8>, Vec<u8>) {
        let mut reader = io::BufReader::with_capacity(64, Trickle(input, n));
        let mut out = Vec::new();
        let result = read_dot_terminated(&mut reader, &mut out, options);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        (result, out, rest)
    }

    fn data(input: &[u8], options: &DotOptions) -> Vec<u8> {
        let (result, out, _) = read_in(input, usize::MAX, options);
        result.unwrap();
        out
    }

    const SAMPLE: &[u8] = b"Subject: x\r\n\r\n..stuffed\r\n.lone\r\nend.\r\n .\r\n\r\n.\r\n";

    #[test]
    fn unstuffs_and_stops_at_the_terminating_line() {
        let (result, out, rest) = read_in(&[SAMPLE, b"+OK next"].concat(), 1000, &KEEP);
        assert_eq!(
            out,
            b"Subject: x\r\n\r\n.stuffed\r\nlone\r\nend.\r\n .\r\n\r\n"
        );
        assert_eq!(
            result.unwrap(),
            Complete {
                octets: out.len() as u64,
                lines: 7
            }
        );
        assert_eq!(rest, b"+OK next");
    }

    #[test]
    fn cut_short_anywhere_is_never_complete() {
        for cut in 0..SAMPLE.len() {
            for options in [KEEP, TO_LF] {
                let (result, _, _) = read_in(&SAMPLE[..cut], 7, &options);
                let error = result.unwrap_err();
                assert_eq!(
                    error.status(),
                    ExitStatus::TempFail,
                    "cut at {cut}: {error}"
                );
            }
        }
    }

    #[test]
    fn a_dot_ends_only_alone_at_a_line_start() {
        assert_eq!(data(b"a.\r\n.\r\n", &KEEP), b"a.\r\n");
        assert_eq!(data(b" .\r\n.\r\n", &KEEP), b" .\r\n");
        assert_eq!(data(b".\rx\r\n.\r\n", &KEEP), b"\rx\r\n");
        assert_eq!(data(b"..\r\n.\r\n", &KEEP), b".\r\n");
        assert_eq!(data(b".\r\n", &KEEP), b"");
    }

    #[test]
    fn lone_lf_line_ends_are_tolerated() {
        assert_eq!(data(b"a\n..b\n.\n", &KEEP), b"a\n.b\n");
        assert_eq!(data(b"a\r\n.\n", &TO_LF), b"a\n");
    }

    #[test]
    fn crlf_to_lf_keeps_bare_crs() {
        assert_eq!(
            data(b"a\r\nb\rc\r\r\n.\r\rx\r\n.\r\n", &TO_LF),
            b"a\nb\rc\r\n\r\rx\n"
        );
    }

    #[test]
    fn every_chunking_gives_the_same_result() {
        let input = [SAMPLE, b"tail"].concat();
        for options in [KEEP, TO_LF] {
            let (_, whole, _) = read_in(&input, usize::MAX, &options);
            for n in 1..=input.len() {
                let (result, out, rest) = read_in(&input, n, &options);
                assert!(result.is_ok(), "{n}");
                assert_eq!(out, whole, "{n}");
                assert_eq!(rest, b"tail", "{n}");
            }
        }
    }

    /// Counts what it receives and the largest single write.
    #[derive(Default)]
    struct Counter {
        octets: u64,
        largest: usize,
    }

    impl Write for Counter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.octets += buf.len() as u64;
            self.largest = self.largest.max(buf.len());
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// 10 MB of one line, then the end, generated as it is read.
    struct LongLine(u64);

    impl Read for LongLine {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            const TAIL: &[u8] = b"\r\n.\r\n";
            let tail_at = 10_000_000;
            if self.0 < tail_at {
                let n = out.len().min((tail_at - self.0) as usize);
                out[..n].fill(b'x');
                self.0 += n as u64;
                return Ok(n);
            }
            let done = (self.0 - tail_at) as usize;
            let n = out.len().min(TAIL.len() - done);
            out[..n].copy_from_slice(&TAIL[done..done + n]);
            self.0 += n as u64;
            Ok(n)
        }
    }

    #[test]
    fn a_ten_megabyte_line_streams_through_a_small_buffer() {
        let mut reader = io::BufReader::with_capacity(8192, LongLine(0));
        let mut counter = Counter::default();
        let done = read_dot_terminated(&mut reader, &mut counter, &KEEP).unwrap();
        assert_eq!(
            done,
            Complete {
                octets: 10_000_002,
                lines: 1
            }
        );
        assert_eq!(counter.octets, 10_000_002);
        assert!(counter.largest <= 8192, "{}", counter.largest);
    }

    #[test]
    fn the_bound_is_enforced_before_writing_past_it() {
        let options = DotOptions {
            max_octets: 5,
            ..KEEP
        };
        let mut out = Vec::new();
        let error =
            read_dot_terminated(&mut &b"abc\r\ndef\r\n.\r\n"[..], &mut out, &options).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Protocol);
        assert!(out.len() <= 5);
        let options = DotOptions {
            max_octets: 10,
            ..KEEP
        };
        assert!(
            read_dot_terminated(&mut &b"abc\r\ndef\r\n.\r\n"[..], &mut Vec::new(), &options)
                .is_ok()
        );
    }

    #[test]
    fn a_failing_sink_is_a_local_error() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("No space left on device"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let error = read_dot_terminated(&mut &b"a\r\n.\r\n"[..], &mut Full, &KEEP).unwrap_err();
        assert_eq!(error.status(), ExitStatus::IoErr);
    }
}
