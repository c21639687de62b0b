//! The message as it goes on the wire after SMTP `DATA` (RFC 5321 §4.5.2,
//! §2.3.8) or in `BDAT` chunks (RFC 3030): canonical CRLF line ends,
//! dot-stuffing, the end-of-data line, and the counts a client needs before
//! it sends (`SIZE=`, `BODY=8BITMIME`, the 998-octet line limit).
//!
//! Every CR, LF or CRLF of the input is one line end and goes out as CRLF,
//! a bare CR included, so that no input can put a bare CR or a bare LF on
//! the wire. That closes the SMTP smuggling class (CVE-2023-51764), where a
//! server and the next hop disagree on whether `<LF>.<LF>` or `<CR>.<CR>`
//! ends the data. Dot-stuffing is done on the canonical lines and keeps its
//! state across `write` calls, so a chunk boundary anywhere (between CR and
//! LF, just before a '.') changes nothing.
//!
//! # The canonical message
//!
//! The canonical form of an input is its lines, each followed by CRLF; a
//! last line without a line end gets one. Empty input has no lines and
//! stays empty. [`WireStats`] always describe the canonical form, never the
//! transport encoding, so [`scan`], [`WireWriter`] (with or without
//! dot-stuffing) and [`for_each_chunk`] report the same numbers for the same
//! input.
//!
//! # End of data
//!
//! With dot-stuffing, [`WireWriter::finish`] writes `.` CRLF after the
//! canonical message. A non-empty message ends in CRLF, so the wire ends in
//! exactly CRLF `.` CRLF (RFC 5321 §4.1.1.4), and since every line that
//! starts with '.' was given a second one, no earlier line can be a lone
//! '.'. An empty message is sent as `.` CRLF alone: the CRLF that ends the
//! `DATA` command line is the "previous line" of the terminator, and the
//! server receives a message of zero octets.

use std::io::{self, Read, Write};

/// Input is canonicalised this many bytes at a time, so that the output
/// buffer stays bounded (at most twice this plus a few bytes).
const BLOCK: usize = 16 * 1024;

/// What a message looks like on the wire (its canonical form, see the
/// module documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Octets of the canonical message: CRLF line ends, the final CRLF
    /// supplied when missing; without stuffing dots and without the
    /// end-of-data line. The value for `SIZE=` (RFC 1870 §3) and the
    /// total of the `BDAT` chunk sizes.
    pub octets: u64,
    /// The longest line in octets, without its CRLF and without a stuffing
    /// dot (RFC 5322 §2.1.1 and RFC 5321 §4.5.3.1.6 limit it to 998).
    pub longest_line: u64,
    /// Whether any octet is 0x80 or above (needs `BODY=8BITMIME`, RFC 6152).
    pub eight_bit: bool,
    /// Whether any octet is NUL (not allowed even with 8BITMIME, RFC 6152 §2).
    pub nul: bool,
    /// Lines in the canonical message (CRLFs in it).
    pub lines: u64,
}

impl WireStats {
    /// Counts a run of line content (no CR or LF in it).
    fn text(&mut self, run: &[u8], line_len: &mut u64) {
        self.octets += run.len() as u64;
        *line_len += run.len() as u64;
        self.eight_bit |= !run.is_ascii();
        self.nul |= memchr::memchr(0, run).is_some();
    }

    /// Counts a line end, closing a line of `line_len` octets.
    fn line_end(&mut self, line_len: u64) {
        self.octets += 2;
        self.lines += 1;
        self.longest_line = self.longest_line.max(line_len);
    }
}

/// Streaming canonicaliser for SMTP data: every CR, LF or CRLF of the input
/// is a line end and goes out as CRLF (a bare CR too, so no input can
/// produce a bare CR or bare LF on the wire: the SMTP smuggling class,
/// CVE-2023-51764). With `dot_stuff`, a line starting with '.' gets an extra
/// '.' (RFC 5321 §4.5.2), correctly across `write` boundaries.
/// [`WireWriter::finish`] ends the data (see the module documentation for
/// the exact bytes). Memory use is constant whatever the size of a `write`.
///
/// After an error from the inner writer the data on the wire is incomplete,
/// and every later call fails: the SMTP transaction must be abandoned.
pub struct WireWriter<W: Write> {
    inner: W,
    dot_stuff: bool,
    /// Nothing of the current line has been written yet.
    at_line_start: bool,
    /// The last input byte was a CR: an LF right after it is the same line end.
    after_cr: bool,
    line_len: u64,
    stats: WireStats,
    out: Vec<u8>,
    failed: bool,
}

impl<W: Write> WireWriter<W> {
    /// A writer that canonicalises into `inner`, dot-stuffing when
    /// `dot_stuff` (for `DATA`; not for `BDAT`, RFC 3030 §2).
    pub fn new(inner: W, dot_stuff: bool) -> Self {
        WireWriter {
            inner,
            dot_stuff,
            at_line_start: true,
            after_cr: false,
            line_len: 0,
            stats: WireStats::default(),
            out: Vec::new(),
            failed: false,
        }
    }

    /// The counts so far (the final line end is counted by `finish`).
    pub fn stats(&self) -> WireStats {
        self.stats
    }

    /// Ends the data: a CRLF when the last line had none, then, with
    /// dot-stuffing, the end-of-data line `.` CRLF; flushes the inner
    /// writer and hands it back with the counts.
    pub fn finish(mut self) -> io::Result<(W, WireStats)> {
        self.check_usable()?;
        self.out.clear();
        if !self.at_line_start {
            self.end_line();
        }
        if self.dot_stuff {
            self.out.extend_from_slice(b".\r\n");
        }
        self.inner.write_all(&self.out)?;
        self.inner.flush()?;
        Ok((self.inner, self.stats))
    }

    fn check_usable(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("SMTP data writer used after an error"));
        }
        Ok(())
    }

    /// Canonicalises `input` into `self.out`.
    fn canonicalise(&mut self, mut input: &[u8]) {
        while let Some((&first, rest)) = input.split_first() {
            let was_cr = std::mem::replace(&mut self.after_cr, false);
            match first {
                b'\n' if was_cr => input = rest,
                b'\r' | b'\n' => {
                    self.end_line();
                    self.after_cr = first == b'\r';
                    input = rest;
                }
                _ => {
                    let len = memchr::memchr2(b'\r', b'\n', input).unwrap_or(input.len());
                    let (run, tail) = input.split_at(len);
                    self.text(run);
                    input = tail;
                }
            }
        }
    }

    /// A run of line content, stuffed when it starts a line with '.'.
    fn text(&mut self, run: &[u8]) {
        if self.at_line_start && self.dot_stuff && run.first() == Some(&b'.') {
            self.out.push(b'.');
        }
        self.at_line_start = false;
        self.stats.text(run, &mut self.line_len);
        self.out.extend_from_slice(run);
    }

    fn end_line(&mut self) {
        self.out.extend_from_slice(b"\r\n");
        self.stats.line_end(self.line_len);
        self.line_len = 0;
        self.at_line_start = true;
    }
}

impl<W: Write> Write for WireWriter<W> {
    /// Takes up to 16 KiB of `buf` at a time; the canonical bytes for them
    /// are written to the inner writer before this returns.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.check_usable()?;
        let take = buf.len().min(BLOCK);
        self.out.clear();
        self.canonicalise(&buf[..take]);
        if let Err(error) = self.inner.write_all(&self.out) {
            self.failed = true;
            return Err(error);
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check_usable()?;
        self.inner.flush()
    }
}

/// Scans a message without writing it: the same [`WireStats`] that sending
/// it would give, for `SIZE=` (RFC 1870), `BODY=8BITMIME` (RFC 6152) and the
/// 998-octet line check before anything is sent. Constant memory.
pub fn scan<R: Read>(reader: &mut R) -> io::Result<WireStats> {
    let mut writer = WireWriter::new(io::sink(), false);
    io::copy(reader, &mut writer)?;
    Ok(writer.finish()?.1)
}

/// `BDAT` chunking (RFC 3030 §2): splits the canonical (not dot-stuffed)
/// message into chunks of exactly `chunk` octets, the last one of 1 to
/// `chunk`, and calls `f` with each chunk and whether it is the last.
/// An empty message gives one empty last chunk (`BDAT 0 LAST`). Streaming:
/// memory is one chunk. A `chunk` of 0 is an `InvalidInput` error; an error
/// from `f` stops the chunking and is returned.
pub fn for_each_chunk<R: Read>(
    reader: &mut R,
    chunk: usize,
    f: impl FnMut(&[u8], bool) -> io::Result<()>,
) -> io::Result<WireStats> {
    if chunk == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "BDAT chunk size must be at least one octet",
        ));
    }
    let sink = Chunker {
        buf: Vec::with_capacity(chunk),
        chunk,
        f,
    };
    let mut writer = WireWriter::new(sink, false);
    io::copy(reader, &mut writer)?;
    let (mut sink, stats) = writer.finish()?;
    (sink.f)(&sink.buf, true)?;
    Ok(stats)
}

/// Collects bytes into chunks; a full chunk is handed on (as not the last)
/// only when more bytes arrive, so the last chunk is known at the end.
struct Chunker<F> {
    buf: Vec<u8>,
    chunk: usize,
    f: F,
}

impl<F: FnMut(&[u8], bool) -> io::Result<()>> Write for Chunker<F> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.buf.len() == self.chunk {
            (self.f)(&self.buf, false)?;
            self.buf.clear();
        }
        let take = data.len().min(self.chunk - self.buf.len());
        self.buf.extend_from_slice(&data[..take]);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::Trickle;
    use crate::test_support::noise;
    use crate::test_support::smtp_data_model::{reference, reference_stats};

    /// What goes on the wire for `input` written in one call.
    fn wire(input: &[u8], dot_stuff: bool) -> Vec<u8> {
        let mut writer = WireWriter::new(Vec::new(), dot_stuff);
        writer.write_all(input).unwrap();
        writer.finish().unwrap().0
    }

    /// `input` written in pieces of the given sizes (cycled), and the stats.
    fn wire_in_pieces(input: &[u8], sizes: &[usize], dot_stuff: bool) -> (Vec<u8>, WireStats) {
        let mut writer = WireWriter::new(Vec::new(), dot_stuff);
        let mut rest = input;
        for &size in sizes.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (piece, tail) = rest.split_at(size.clamp(1, rest.len()));
            writer.write_all(piece).unwrap();
            rest = tail;
        }
        writer.finish().unwrap()
    }

    /// Undoes the dot-stuffing of a complete `DATA` transmission.
    fn unstuff(wire: &[u8]) -> Vec<u8> {
        let body = wire.strip_suffix(b".\r\n").expect("end-of-data line");
        let mut out = Vec::new();
        for line in body.split_inclusive(|&b| b == b'\n') {
            out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
        }
        out
    }

    /// Input bytes that exercise every state: dots, CR, LF, 8-bit, NUL.
    fn tricky(len: usize, seed: u64) -> Vec<u8> {
        const ALPHABET: &[u8] = b"..\r\r\n\nab \x00\xc3";
        noise(len, seed)
            .into_iter()
            .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()])
            .collect()
    }

    fn piece_sizes(count: usize, max: usize, seed: u64) -> Vec<usize> {
        noise(count, seed)
            .into_iter()
            .map(|b| usize::from(b) % max + 1)
            .collect()
    }

    #[test]
    fn dot_alone_on_lf_lines() {
        assert_eq!(wire(b"a\n.\nb", true), b"a\r\n..\r\nb\r\n.\r\n");
    }

    #[test]
    fn dot_line_with_crlf() {
        assert_eq!(wire(b"a\n.\r\nb\r\n", true), b"a\r\n..\r\nb\r\n.\r\n");
    }

    #[test]
    fn dot_between_bare_crs() {
        assert_eq!(wire(b"a\r.\rb", true), b"a\r\n..\r\nb\r\n.\r\n");
    }

    #[test]
    fn dot_after_crlf_before_bare_cr() {
        assert_eq!(wire(b"a\r\n.\r", true), b"a\r\n..\r\n.\r\n");
    }

    #[test]
    fn dot_line_at_the_very_start() {
        assert_eq!(wire(b".\nx", true), b"..\r\nx\r\n.\r\n");
        assert_eq!(wire(b".hidden\n", true), b"..hidden\r\n.\r\n");
    }

    #[test]
    fn lone_dot_at_the_end_without_line_end() {
        assert_eq!(wire(b"a\n.", true), b"a\r\n..\r\n.\r\n");
        assert_eq!(wire(b".", true), b"..\r\n.\r\n");
    }

    #[test]
    fn bare_cr_at_the_end_is_the_last_line_end() {
        assert_eq!(wire(b"a\r", true), b"a\r\n.\r\n");
        assert_eq!(wire(b"a\r", false), b"a\r\n");
    }

    #[test]
    fn mixed_line_ends_each_become_one_crlf() {
        assert_eq!(
            wire(b"a\rb\nc\r\nd\n\re\r\r\nf", false),
            b"a\r\nb\r\nc\r\nd\r\n\r\ne\r\n\r\nf\r\n"
        );
    }

    #[test]
    fn dots_not_at_line_start_are_kept() {
        assert_eq!(wire(b"a.b\n x.\n", true), b"a.b\r\n x.\r\n.\r\n");
    }

    #[test]
    fn empty_message_is_the_end_of_data_line_alone() {
        assert_eq!(wire(b"", true), b".\r\n");
        assert_eq!(wire(b"", false), b"");
        assert_eq!(scan(&mut &b""[..]).unwrap(), WireStats::default());
    }

    #[test]
    fn smuggling_attempts_stay_inside_the_data() {
        let attack = b"x\n.\nMAIL FROM:<a@b>\r\n.\r\nRSET\r.\rQUIT\r\n.";
        let out = wire(attack, true);
        let end = out.len() - 5;
        assert!(out.ends_with(b"\r\n.\r\n"));
        assert!(!out[..end + 2].windows(5).any(|w| w == b"\r\n.\r\n"));
        assert_eq!(
            out,
            b"x\r\n..\r\nMAIL FROM:<a@b>\r\n..\r\nRSET\r\n..\r\nQUIT\r\n..\r\n.\r\n"
        );
    }

    #[test]
    fn boundary_between_cr_and_lf() {
        let (out, stats) = wire_in_pieces(b"a\r\n.\r\nb", &[2, 1, 2, 1], true);
        assert_eq!(out, b"a\r\n..\r\nb\r\n.\r\n");
        assert_eq!(stats.lines, 3);
    }

    #[test]
    fn boundary_before_a_dot() {
        let (out, _) = wire_in_pieces(b"a\n.b\n.", &[2, 3, 1], true);
        assert_eq!(out, b"a\r\n..b\r\n..\r\n.\r\n");
    }

    #[test]
    fn stats_count_the_canonical_message() {
        let input = b".ab\r\ncd\n\xc3\xa9\x00\rlast";
        let mut writer = WireWriter::new(Vec::new(), true);
        writer.write_all(input).unwrap();
        let (_, stats) = writer.finish().unwrap();
        let expected = WireStats {
            octets: 5 + 4 + 5 + 6,
            longest_line: 4,
            eight_bit: true,
            nul: true,
            lines: 4,
        };
        assert_eq!(stats, expected);
        assert_eq!(scan(&mut &input[..]).unwrap(), expected);
    }

    #[test]
    fn megabyte_in_random_pieces_with_dots_at_every_boundary() {
        let endings: [&[u8]; 4] = [b"\n", b"\r", b"\r\n", b"\r"];
        let prefixes: [&[u8]; 3] = [b".", b"\n.", b".."];
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let mut total = 0;
        let mut seed = 1;
        while total < 1 << 20 {
            seed += 1;
            let mut piece = prefixes[pieces.len() % prefixes.len()].to_vec();
            piece.extend(tricky(usize::from(noise(1, seed)[0]), seed));
            piece.extend_from_slice(endings[pieces.len() % endings.len()]);
            total += piece.len();
            pieces.push(piece);
        }
        let input = pieces.concat();
        let mut writer = WireWriter::new(Vec::new(), true);
        for piece in &pieces {
            writer.write_all(piece).unwrap();
        }
        let (out, stats) = writer.finish().unwrap();
        assert_eq!(out, wire(&input, true));
        assert_eq!(unstuff(&out), wire(&input, false));
        assert_eq!(stats, scan(&mut &input[..]).unwrap());
    }

    #[test]
    fn agrees_with_the_reference_over_random_inputs_and_chunkings() {
        for seed in 1..400u64 {
            let input = tricky((seed as usize * 7) % 300, seed);
            let sizes = piece_sizes(8, 1 + (seed as usize % 9), seed ^ 0xabc);
            for dot_stuff in [false, true] {
                let (out, stats) = wire_in_pieces(&input, &sizes, dot_stuff);
                assert_eq!(out, reference(&input, dot_stuff), "{input:?} {sizes:?}");
                assert_eq!(stats, reference_stats(&input), "{input:?}");
            }
        }
    }

    #[test]
    fn wire_has_no_bare_cr_or_lf() {
        for seed in 1..200u64 {
            let out = wire(&tricky(200, seed), true);
            for (i, &b) in out.iter().enumerate() {
                match b {
                    b'\r' => assert_eq!(out.get(i + 1), Some(&b'\n')),
                    b'\n' => assert_eq!(out[i - 1], b'\r'),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn large_single_write_is_taken_in_blocks() {
        let input = tricky(3 * BLOCK + 17, 9);
        let mut writer = WireWriter::new(Vec::new(), true);
        assert_eq!(writer.write(&input).unwrap(), BLOCK);
        writer.write_all(&input[BLOCK..]).unwrap();
        assert_eq!(writer.finish().unwrap().0, reference(&input, true));
    }

    fn chunks_of(input: &[u8], chunk: usize) -> (Vec<(Vec<u8>, bool)>, WireStats) {
        let mut chunks = Vec::new();
        let stats = for_each_chunk(&mut Trickle(input, 5), chunk, |data, last| {
            chunks.push((data.to_vec(), last));
            Ok(())
        })
        .unwrap();
        (chunks, stats)
    }

    #[test]
    fn chunks_are_full_except_the_last() {
        let (chunks, stats) = chunks_of(b"ab\n.cd\r", 4);
        let expected: Vec<(Vec<u8>, bool)> = vec![
            (b"ab\r\n".to_vec(), false),
            (b".cd\r".to_vec(), false),
            (b"\n".to_vec(), true),
        ];
        assert_eq!(chunks, expected);
        assert_eq!(stats.octets, 9);
    }

    #[test]
    fn chunk_boundary_at_the_end_gives_no_empty_last_chunk() {
        let (chunks, _) = chunks_of(b"abc", 5);
        assert_eq!(chunks, vec![(b"abc\r\n".to_vec(), true)]);
    }

    #[test]
    fn empty_message_is_one_empty_last_chunk() {
        let (chunks, stats) = chunks_of(b"", 10);
        assert_eq!(chunks, vec![(Vec::new(), true)]);
        assert_eq!(stats.octets, 0);
    }

    #[test]
    fn chunks_join_to_the_canonical_message() {
        for seed in 1..100u64 {
            let input = tricky(500, seed);
            let size = seed as usize % 37 + 1;
            let (chunks, stats) = chunks_of(&input, size);
            let joined: Vec<u8> = chunks.iter().flat_map(|(c, _)| c.clone()).collect();
            assert_eq!(joined, reference(&input, false));
            assert_eq!(stats, reference_stats(&input));
            let (last, rest) = chunks.split_last().unwrap();
            assert!(last.1 && !last.0.is_empty() && last.0.len() <= size);
            assert!(rest.iter().all(|(c, l)| !l && c.len() == size));
        }
    }

    #[test]
    fn zero_chunk_size_is_refused() {
        let err = for_each_chunk(&mut &b"a"[..], 0, |_, _| Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn an_error_from_the_chunk_callback_stops_the_chunking() {
        let mut calls = 0;
        let result = for_each_chunk(&mut &b"abcdefgh"[..], 2, |_, _| {
            calls += 1;
            Err(io::Error::other("connection lost"))
        });
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    /// Fails every write after the first `ok` bytes.
    struct Breaking {
        ok: usize,
    }

    impl Write for Breaking {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("broken pipe"));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_end_of_data_after_an_inner_error() {
        let mut writer = WireWriter::new(Breaking { ok: 3 }, true);
        assert!(writer.write_all(b"hello\n").is_err());
        assert!(writer.write_all(b"more\n").is_err());
        assert!(writer.finish().is_err());
    }
}
