//! Arbitrary bytes, read in arbitrary pieces, through
//! `mailkit::net::dot_reader`: the data must equal a simple line-by-line model of
//! RFC 1939 §3, nothing after the terminating line may be consumed, the
//! bound must hold, and an input without its terminating line (every input
//! cut short included) must never be reported complete.

use std::io::{self, BufRead, Read};

use mailkit::ExitStatus;
use mailkit::net::dot_reader::{DotOptions, read_dot_terminated};
use mailkit::store::LineEnds;

use crate::chunking::chunk_sizes;

/// Checks one fuzz input: the first byte chooses the line ends and the
/// bound, the second seeds the piece sizes, the rest is the response.
pub fn dot_reader(data: &[u8]) {
    let [flags, seed, content @ ..] = data else {
        return;
    };
    let line_ends = match flags & 1 {
        0 => LineEnds::Keep,
        _ => LineEnds::Lf,
    };
    let max_octets = match flags & 2 {
        0 => u64::MAX,
        _ => u64::from(flags >> 2) * 3,
    };
    let options = DotOptions {
        line_ends,
        max_octets,
    };
    let sizes = chunk_sizes(u32::from(*flags) << 8 | u32::from(*seed));
    match reference(content, line_ends) {
        Some((expected, end)) => {
            check_complete(content, &sizes, &options, &expected, end);
            check_cut_short(&content[..end - 1], &sizes, &options);
            check_cut_short(&content[..end / 2], &sizes, &options);
        }
        None => check_cut_short(content, &sizes, &options),
    }
}

fn check_complete(
    content: &[u8],
    sizes: &[usize],
    options: &DotOptions,
    expected: &[u8],
    end: usize,
) {
    let (result, out, consumed) = run(content, sizes, options);
    if expected.len() as u64 > options.max_octets {
        assert_eq!(result.unwrap_err().status(), ExitStatus::Protocol);
        assert!(out.len() as u64 <= options.max_octets);
        return;
    }
    let done = result.expect("a terminated response is complete");
    assert_eq!(out, expected);
    assert_eq!(done.octets, expected.len() as u64);
    assert_eq!(consumed, end, "nothing after the terminating line is read");
}

/// Without its terminating line a response is an error: 75, unless the
/// bound was passed first.
fn check_cut_short(content: &[u8], sizes: &[usize], options: &DotOptions) {
    let (result, out, _) = run(content, sizes, options);
    let error = result.expect_err("a response cut short is never complete");
    assert!(out.len() as u64 <= options.max_octets);
    if content.len() as u64 <= options.max_octets {
        assert_eq!(error.status(), ExitStatus::TempFail, "{error}");
    }
}

fn run(
    content: &[u8],
    sizes: &[usize],
    options: &DotOptions,
) -> (
    Result<mailkit::net::dot_reader::Complete, mailkit::Error>,
    Vec<u8>,
    usize,
) {
    let mut reader = Pieces {
        data: content,
        sizes: sizes.iter().cycle(),
        at: 0,
        piece_end: 0,
    };
    let mut out = Vec::new();
    let result = read_dot_terminated(&mut reader, &mut out, options);
    (result, out, reader.at)
}

/// The model: lines split after each LF; `.` CRLF or `.` LF ends; any other
/// line starting with `.` loses it; CRLF becomes LF when asked. `None` when
/// no line ends the response; else the data and the octets up to the end.
fn reference(content: &[u8], line_ends: LineEnds) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in content.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        if !line.ends_with(b"\n") {
            return None;
        }
        if line == b".\r\n" || line == b".\n" {
            return Some((out, at));
        }
        let line = line.strip_prefix(b".").unwrap_or(line);
        match line_ends {
            LineEnds::Lf if line.ends_with(b"\r\n") => {
                out.extend_from_slice(&line[..line.len() - 2]);
                out.push(b'\n');
            }
            _ => out.extend_from_slice(line),
        }
    }
    None
}

/// A `BufRead` that hands out its data in pieces of the given sizes.
struct Pieces<'a, I> {
    data: &'a [u8],
    sizes: I,
    at: usize,
    piece_end: usize,
}

impl<'a, I: Iterator<Item = &'a usize>> BufRead for Pieces<'a, I> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at == self.piece_end {
            let size = *self.sizes.next().unwrap_or(&1);
            self.piece_end = (self.at + size).min(self.data.len());
        }
        Ok(&self.data[self.at..self.piece_end])
    }

    fn consume(&mut self, amount: usize) {
        self.at += amount;
    }
}

impl<'a, I: Iterator<Item = &'a usize>> Read for Pieces<'a, I> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.fill_buf()?.len().min(out.len());
        out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.consume(n);
        Ok(n)
    }
}
