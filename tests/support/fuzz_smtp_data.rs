//! Arbitrary bytes, cut into arbitrary pieces, through the SMTP data codec
//! of `mailkit::smtp::data`: the wire must equal a simple line-by-line model,
//! must never hold a bare CR or LF nor an end-of-data line before the end,
//! and `scan`, `WireWriter` and `for_each_chunk` must agree.

use std::io::Write;

use mailkit::smtp::data::{WireStats, WireWriter, for_each_chunk, scan};

use crate::smtp_data_model::{reference, reference_stats};

/// Checks one fuzz input: the first byte chooses the BDAT chunk size, the
/// second seeds the `write` sizes, the rest is the message.
pub fn smtp_data(data: &[u8]) {
    let [chunk, seed, content @ ..] = data else {
        return;
    };
    let sizes = piece_sizes(*chunk, *seed);
    let expected = reference_stats(content);
    for dot_stuff in [false, true] {
        let (wire, stats) = written(content, &sizes, dot_stuff);
        assert_eq!(wire, reference(content, dot_stuff));
        assert_eq!(stats, expected);
        if dot_stuff {
            check_wire(&wire);
        }
    }
    assert_eq!(scan(&mut &content[..]).unwrap(), expected);
    check_chunks(content, usize::from(*chunk) + 1, &expected);
}

/// Piece sizes from 1 to about 256, from a small xorshift.
fn piece_sizes(chunk: u8, seed: u8) -> Vec<usize> {
    let mut x = u32::from(chunk) << 8 | u32::from(seed) | 1;
    let max = usize::from(seed) + 1;
    (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as usize % max + 1
        })
        .collect()
}

fn written(content: &[u8], sizes: &[usize], dot_stuff: bool) -> (Vec<u8>, WireStats) {
    let mut writer = WireWriter::new(Vec::new(), dot_stuff);
    let mut rest = content;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        writer.write_all(now).unwrap();
        rest = later;
    }
    writer.finish().unwrap()
}

/// Only CRLF line ends, and the only line that is a lone '.' is the last.
fn check_wire(wire: &[u8]) {
    for (i, &b) in wire.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(wire.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && wire[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
    let lines: Vec<&[u8]> = wire.split_inclusive(|&b| b == b'\n').collect();
    let (last, before) = lines.split_last().expect("an end-of-data line");
    assert_eq!(*last, b".\r\n");
    assert!(before.iter().all(|line| *line != b".\r\n"));
}

/// BDAT chunks: full but the last, joined they are the canonical message.
fn check_chunks(content: &[u8], size: usize, expected: &WireStats) {
    let mut joined = Vec::new();
    let mut lasts = Vec::new();
    let stats = for_each_chunk(&mut &content[..], size, |chunk, last| {
        assert!(chunk.len() <= size);
        assert!(last || chunk.len() == size);
        joined.extend_from_slice(chunk);
        lasts.push(last);
        Ok(())
    })
    .unwrap();
    assert_eq!(&stats, expected);
    assert_eq!(joined, reference(content, false));
    assert_eq!(lasts.iter().filter(|&&last| last).count(), 1);
    assert_eq!(lasts.last(), Some(&true));
}
