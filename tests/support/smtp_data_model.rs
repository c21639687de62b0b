//! The reference model of SMTP message data, shared by the unit tests of
//! `mailkit::smtp::data` (through `src/test_support.rs`) and by the fuzz
//! property check: the simplest possible reading of RFC 5321 §4.5.2, to
//! hold the streaming codec against.

use mailkit::smtp::data::WireStats;

/// What goes on the wire for `input`: lines split at CRLF, CR or LF, each
/// sent with CRLF, a leading dot doubled when `dot_stuff`, then the
/// end-of-data line.
pub fn reference(input: &[u8], dot_stuff: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for line in reference_lines(input) {
        if dot_stuff && line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
    }
    if dot_stuff {
        out.extend_from_slice(b".\r\n");
    }
    out
}

/// The lines of `input`, without their ends: CRLF, a lone CR and a lone LF
/// each end a line; a last line without an end counts unless empty.
pub fn reference_lines(input: &[u8]) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'\r' if input.get(i + 1) == Some(&b'\n') => {
                lines.push(std::mem::take(&mut line));
                i += 1;
            }
            b'\r' | b'\n' => lines.push(std::mem::take(&mut line)),
            b => line.push(b),
        }
        i += 1;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The counts the codec must report for `input`.
pub fn reference_stats(input: &[u8]) -> WireStats {
    let lines = reference_lines(input);
    WireStats {
        octets: lines.iter().map(|l| l.len() as u64 + 2).sum(),
        longest_line: lines.iter().map(|l| l.len() as u64).max().unwrap_or(0),
        eight_bit: input.iter().any(|&b| b >= 0x80),
        nul: input.contains(&0),
        lines: lines.len() as u64,
    }
}
