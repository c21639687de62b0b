//! The inner loop of the base64 encoder: whole lines of 57 input bytes, each
//! becoming 76 characters (RFC 2045 §6.8), with the newline between lines
//! written in the same pass, so the characters are stored once, where they
//! belong in the output.
//!
//! On x86-64 with SSSE3 (every x86-64 processor since about 2008) twelve
//! bytes become sixteen characters in a few vector instructions (the method
//! of Wojciech Muła and Daniel Lemire, "Faster Base64 Encoding and Decoding
//! using AVX2 Instructions", 2018); elsewhere a scalar loop looks up two
//! characters per twelve bits in a table. Both give the same characters as
//! the `base64` crate, which the tests check.

/// Input bytes per line.
pub const LINE_IN: usize = 57;

/// Characters per line.
pub const LINE_OUT: usize = 76;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// The two characters of every 12-bit value, first the high six bits.
static PAIRS: [[u8; 2]; 4096] = pairs();

const fn pairs() -> [[u8; 2]; 4096] {
    let mut table = [[0u8; 2]; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = [ALPHABET[i >> 6], ALPHABET[i & 63]];
        i += 1;
    }
    table
}

/// Output bytes for `lines` whole lines, each but the first preceded by a
/// newline of `newline_len` bytes, and the first too if `lead`.
pub fn encoded_len(lines: usize, newline_len: usize, lead: bool) -> usize {
    let newlines = if lead { lines } else { lines.saturating_sub(1) };
    lines * LINE_OUT + newlines * newline_len
}

/// Encodes `input`, whole lines of [`LINE_IN`] bytes, into the start of
/// `out`: each line's 76 characters, preceded by `newline` (one or two
/// bytes) except for the first line when `lead` is false. Returns the bytes
/// written, [`encoded_len`]; `out` must hold them.
///
/// # Panics
///
/// If `input` is not whole lines, `newline` is not one or two bytes, or
/// `out` is too short.
pub fn encode_lines(input: &[u8], newline: &[u8], lead: bool, out: &mut [u8]) -> usize {
    assert!(input.len().is_multiple_of(LINE_IN), "whole lines only");
    assert!(matches!(newline.len(), 1 | 2), "a newline is LF or CRLF");
    let len = encoded_len(input.len() / LINE_IN, newline.len(), lead);
    let out = &mut out[..len];
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the processor has SSSE3, the only feature the function enables.
        unsafe { ssse3::encode_lines(input, newline, lead, out) };
        return len;
    }
    each_line(input, newline, lead, out, scalar_line);
    len
}

/// Calls `line` for each input line and its place in `out`, writing the
/// newlines between; `out` is exactly [`encoded_len`] long.
#[inline(always)]
fn each_line(
    input: &[u8],
    newline: &[u8],
    lead: bool,
    out: &mut [u8],
    mut line: impl FnMut(&[u8; LINE_IN], &mut [u8; LINE_OUT]),
) {
    // Both newline bytes are always stored and the position advances by the
    // newline's length: after an LF the second byte is overwritten by the
    // line that follows, so every store has a fixed size.
    let nl = [newline[0], newline[newline.len() - 1]];
    let mut pos = 0;
    for (i, src) in input.chunks_exact(LINE_IN).enumerate() {
        if lead || i > 0 {
            out[pos..pos + 2].copy_from_slice(&nl);
            pos += newline.len();
        }
        let dst: &mut [u8; LINE_OUT] = (&mut out[pos..pos + LINE_OUT]).try_into().expect("76");
        line(src.try_into().expect("57"), dst);
        pos += LINE_OUT;
    }
}

/// One line without vector instructions: six bytes at a time through a
/// big-endian 64-bit load, two table lookups per three bytes.
fn scalar_line(src: &[u8; LINE_IN], dst: &mut [u8; LINE_OUT]) {
    // Nine groups of six bytes (the last 8-byte load ends at byte 56), then three.
    for g in 0..9 {
        let word = u64::from_be_bytes(src[g * 6..g * 6 + 8].try_into().expect("8"));
        let at = g * 8;
        for (k, shift) in [52, 40, 28, 16].into_iter().enumerate() {
            let pair = PAIRS[(word >> shift) as usize & 0xfff];
            dst[at + 2 * k..at + 2 * k + 2].copy_from_slice(&pair);
        }
    }
    let last = u32::from(src[54]) << 16 | u32::from(src[55]) << 8 | u32::from(src[56]);
    dst[72..74].copy_from_slice(&PAIRS[(last >> 12) as usize]);
    dst[74..76].copy_from_slice(&PAIRS[(last & 0xfff) as usize]);
}

#[cfg(target_arch = "x86_64")]
mod ssse3 {
    use std::arch::x86_64::*;

    use super::{LINE_IN, LINE_OUT, each_line};

    /// See [`super::encode_lines`]; the caller has checked the lengths.
    #[target_feature(enable = "ssse3")]
    pub fn encode_lines(input: &[u8], newline: &[u8], lead: bool, out: &mut [u8]) {
        each_line(input, newline, lead, out, |src, dst| line(src, dst));
    }

    /// One line in five steps of twelve bytes: input 0, 12, 24, 36 (the
    /// first twelve bytes of a 16-byte load) and 45 (the last twelve of the
    /// load at 41, so no load reads past the line), to characters 0, 16,
    /// 32, 48 and 60 (60..64 are written twice, alike).
    #[target_feature(enable = "ssse3")]
    #[inline]
    fn line(src: &[u8; LINE_IN], dst: &mut [u8; LINE_OUT]) {
        let head = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
        let tail = _mm_add_epi8(head, _mm_set1_epi8(4));
        for (at_in, at_out) in [(0, 0), (12, 16), (24, 32), (36, 48)] {
            store(dst, at_out, encode12(load(src, at_in), head));
        }
        store(dst, 60, encode12(load(src, 41), tail));
    }

    #[target_feature(enable = "ssse3")]
    #[inline]
    fn load(src: &[u8; LINE_IN], at: usize) -> __m128i {
        let bytes: &[u8; 16] = src[at..at + 16].try_into().expect("16");
        // SAFETY: `bytes` is 16 readable bytes; the load is unaligned.
        unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) }
    }

    #[target_feature(enable = "ssse3")]
    #[inline]
    fn store(dst: &mut [u8; LINE_OUT], at: usize, value: __m128i) {
        let bytes: &mut [u8; 16] = (&mut dst[at..at + 16]).try_into().expect("16");
        // SAFETY: `bytes` is 16 writable bytes; the store is unaligned.
        unsafe { _mm_storeu_si128(bytes.as_mut_ptr().cast(), value) }
    }

    /// The twelve bytes that `shuffle` picks from `input` (three at a time,
    /// as b1 b0 b2 b1 in each 32-bit lane) as sixteen base64 characters.
    #[target_feature(enable = "ssse3")]
    #[inline]
    fn encode12(input: __m128i, shuffle: __m128i) -> __m128i {
        let lanes = _mm_shuffle_epi8(input, shuffle);
        // The four 6-bit indices of each lane, one per byte: the first and
        // third by shifts (the published method multiplies, which LLVM
        // turns into a longer sequence), the second and fourth by a multiply.
        let high = _mm_or_si128(
            _mm_and_si128(_mm_srli_epi32(lanes, 10), _mm_set1_epi32(0x0000_003f)),
            _mm_and_si128(_mm_srli_epi32(lanes, 6), _mm_set1_epi32(0x003f_0000)),
        );
        let low = _mm_mullo_epi16(
            _mm_and_si128(lanes, _mm_set1_epi32(0x003f_03f0)),
            _mm_set1_epi32(0x0100_0010),
        );
        let indices = _mm_or_si128(high, low);
        // Index to character: add an offset chosen by the index's range
        // (0..26 'A', 26..52 'a', 52..62 '0', 62 '+', 63 '/').
        let mut class = _mm_subs_epu8(indices, _mm_set1_epi8(51));
        let below_26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), indices);
        class = _mm_or_si128(class, _mm_and_si128(below_26, _mm_set1_epi8(13)));
        let offsets = _mm_setr_epi8(
            OFFSET_LOWER,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_DIGIT,
            OFFSET_PLUS,
            OFFSET_SLASH,
            b'A' as i8,
            0,
            0,
        );
        _mm_add_epi8(_mm_shuffle_epi8(offsets, class), indices)
    }

    const OFFSET_LOWER: i8 = (b'a' - 26) as i8;
    const OFFSET_DIGIT: i8 = (b'0' as i8) - 52;
    const OFFSET_PLUS: i8 = (b'+' as i8) - 62;
    const OFFSET_SLASH: i8 = (b'/' as i8) - 63;
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn reference(input: &[u8], newline: &[u8], lead: bool) -> Vec<u8> {
        let flat = STANDARD.encode(input).into_bytes();
        let mut out = Vec::new();
        for (i, line) in flat.chunks(LINE_OUT).enumerate() {
            if lead || i > 0 {
                out.extend_from_slice(newline);
            }
            out.extend_from_slice(line);
        }
        out
    }

    #[test]
    fn lines_match_the_base64_crate() {
        let data = crate::test_support::noise(LINE_IN * 300, 17);
        // Every byte value in every position of a line.
        let mut sweep = Vec::new();
        for b in 0..=255u8 {
            sweep.extend((0..LINE_IN).map(|i| b.wrapping_add(i as u8)));
        }
        for input in [&data[..], &sweep, &[0u8; LINE_IN], &[0xff; LINE_IN * 2]] {
            for newline in [&b"\n"[..], b"\r\n"] {
                for lead in [false, true] {
                    let mut out = vec![0u8; encoded_len(input.len() / LINE_IN, 2, true)];
                    let n = encode_lines(input, newline, lead, &mut out);
                    assert_eq!(out[..n], reference(input, newline, lead));
                    let mut scalar = vec![0u8; n];
                    each_line(input, newline, lead, &mut scalar, scalar_line);
                    assert_eq!(scalar, out[..n]);
                }
            }
        }
        assert_eq!(encode_lines(&[], b"\n", true, &mut []), 0);
    }

    /// Speed of the line loop alone, in memory, best of five:
    /// `cargo test --release --lib base64_lines -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn line_loop_throughput() {
        let input = crate::test_support::noise(LINE_IN * 4096, 5);
        let mut out = vec![0u8; encoded_len(4096, 2, true)];
        let rounds = 256;
        let mut time = |name: &str, encode: &mut dyn FnMut(&mut [u8])| {
            let best = (0..5)
                .map(|_| {
                    let start = std::time::Instant::now();
                    for _ in 0..rounds {
                        encode(std::hint::black_box(&mut out));
                    }
                    start.elapsed().as_secs_f64()
                })
                .fold(f64::MAX, f64::min);
            let bytes = (input.len() * rounds) as f64;
            println!("{name}: {:.2} GB/s of input", bytes / best / 1e9);
        };
        time("encode_lines", &mut |out| {
            encode_lines(&input, b"\r\n", true, out);
        });
        time("scalar", &mut |out| {
            each_line(&input, b"\r\n", true, out, scalar_line)
        });
    }
}
