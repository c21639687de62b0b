//! Streaming base64 decoding (RFC 2045 §6.8), tolerant like real mail
//! readers, with a SIMD fast path: body parts, uuencode's base64 form, and
//! the "B" encoding of RFC 2047 §4.1.

use ::base64::Engine as _;
use memchr::memchr3_iter;

use super::Damage;

/// [`B64_VALUES`] entry of a character outside the alphabet.
pub(super) const B64_INVALID: u8 = 0xFF;
/// [`B64_VALUES`] entry of white space and line ends, ignored (RFC 2045 §6.8).
const B64_SPACE: u8 = 0xFE;
/// [`B64_VALUES`] entry of the pad character '='.
const B64_PAD: u8 = 0xFD;

/// For each byte, its 6-bit value in the base64 alphabet (RFC 2045 table 1), or one of the markers above.
pub(super) const B64_VALUES: [u8; 256] = b64_values();

const fn b64_values() -> [u8; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut values = [B64_INVALID; 256];
    let mut i = 0;
    while i < 64 {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values[b' ' as usize] = B64_SPACE;
    values[b'\t' as usize] = B64_SPACE;
    values[b'\r' as usize] = B64_SPACE;
    values[b'\n' as usize] = B64_SPACE;
    values[b'=' as usize] = B64_PAD;
    values
}

/// Input handled at once by the base64 fast path: bounds its buffers.
const B64_BLOCK: usize = 64 * 1024;

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
type FastEngine = base64::engine::Simd;
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
type FastEngine = base64::engine::GeneralPurpose;

/// The engine of the base64 fast path, made once (it detects the CPU's SIMD instructions).
fn engine() -> &'static FastEngine {
    static ENGINE: std::sync::OnceLock<FastEngine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(fast_engine)
}

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
fn fast_engine() -> FastEngine {
    base64::engine::Simd::standard(base64::engine::general_purpose::PAD)
}
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
)))]
fn fast_engine() -> FastEngine {
    base64::engine::general_purpose::STANDARD
}

/// Streaming base64 decoder (RFC 2045 §6.8), tolerant like real mail
/// readers: white space and line ends are ignored; other characters
/// outside the alphabet are skipped; missing padding is tolerated; what
/// follows the '=' padding is ignored; a final quantum of 2 or 3 characters
/// is decoded and a lone final character dropped. Each of these but the
/// first is counted in [`damage`](Self::damage).
///
/// Runs of whole quanta are decoded at once by the `base64` crate's SIMD
/// engine; only the characters around damage go one by one.
#[derive(Debug, Clone)]
pub struct Base64Decoder {
    /// The 6-bit values of the quantum begun, `held` of them.
    quad: [u8; 4],
    held: usize,
    /// Where the stream is: data, padding, or after it.
    padding: Padding,
    /// Characters of the current block without line ends, for the fast path.
    compact: Vec<u8>,
    /// Output of the fast path before it is appended, allocated once.
    decoded: Vec<u8>,
    damage: Damage,
}

impl Default for Base64Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Base64Decoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Base64Decoder {
            quad: [0; 4],
            held: 0,
            padding: Padding::Data,
            compact: Vec::new(),
            decoded: Vec::new(),
            damage: Damage::default(),
        }
    }

    /// Decodes `input`, appending the bytes to `out`. Any chunking of the
    /// stream gives the same output and damage.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for block in input.chunks(B64_BLOCK) {
            if self.padding != Padding::Data {
                self.slow(block, out);
                continue;
            }
            let mut compact = std::mem::take(&mut self.compact);
            let used = compact_block(block, &mut compact);
            self.decode_run(&compact, out);
            self.compact = compact;
            self.slow(&block[used..], out);
        }
    }

    /// Ends the stream: decodes a held partial quantum and notes missing
    /// padding. The decoder then starts a new stream, keeping its damage.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        match (self.padding, self.held) {
            (Padding::Pads(wanted), _) => self.damage.bad_padding |= wanted > 0,
            (Padding::After, _) | (Padding::Data, 0) => {}
            (Padding::Data, 1) => self.damage.truncated = true,
            (Padding::Data, _) => {
                self.flush_partial(out);
                self.damage.bad_padding = true;
            }
        }
        self.held = 0;
        self.padding = Padding::Data;
    }

    /// The problems met so far.
    pub fn damage(&self) -> &Damage {
        &self.damage
    }

    /// Decodes characters without line ends or '=' (the fast path's input).
    fn decode_run(&mut self, chars: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < chars.len() {
            // A quantum begun (or broken) goes character by character.
            if self.held > 0 {
                self.slow(&chars[i..i + 1], out);
                i += 1;
                continue;
            }
            let whole = (chars.len() - i) / 4 * 4;
            if whole == 0 {
                self.slow(&chars[i..], out);
                return;
            }
            let used = self.fast(&chars[i..i + whole], out);
            i += used;
            if used < whole {
                // The quantum holding an invalid character starts here.
                self.slow(&chars[i..i + 1], out);
                i += 1;
            }
        }
    }

    /// Decodes whole quanta of `run` (a multiple of 4 characters) at once;
    /// returns how many characters it used: all, or those before the
    /// quantum that holds the first character outside the alphabet.
    fn fast(&mut self, run: &[u8], out: &mut Vec<u8>) -> usize {
        if self.decode_quanta(run, out) {
            return run.len();
        }
        let bad = run.iter().position(|&c| B64_VALUES[usize::from(c)] >= 64);
        let start = bad.map_or(run.len(), |at| at / 4 * 4);
        if !self.decode_quanta(&run[..start], out) {
            // Cannot happen (the prefix is all alphabet), but stay correct.
            self.slow(&run[..start], out);
        }
        if bad.is_none() {
            self.slow(&run[start..], out);
            return run.len();
        }
        start
    }

    /// Decodes `run` (whole quanta) with the engine; false if it has a
    /// character outside the alphabet, nothing appended then.
    fn decode_quanta(&mut self, run: &[u8], out: &mut Vec<u8>) -> bool {
        let len = run.len() / 4 * 3;
        if self.decoded.len() < len {
            self.decoded.resize(len, 0);
        }
        match engine().decode_slice(run, &mut self.decoded[..len]) {
            Ok(n) => {
                out.extend_from_slice(&self.decoded[..n]);
                true
            }
            Err(_) => false,
        }
    }

    /// Decodes character by character: the reference the fast path follows.
    fn slow(&mut self, chars: &[u8], out: &mut Vec<u8>) {
        for &c in chars {
            match (B64_VALUES[usize::from(c)], self.padding) {
                (B64_SPACE, _) => {}
                (B64_PAD, Padding::Data) => self.start_padding(out),
                (B64_PAD, Padding::Pads(0)) => self.damage.bad_padding = true,
                (B64_PAD, Padding::Pads(n)) => self.padding = Padding::Pads(n - 1),
                (_, Padding::Pads(wanted)) => {
                    self.damage.bad_padding |= wanted > 0;
                    self.damage.after_padding += 1;
                    self.padding = Padding::After;
                }
                (_, Padding::After) => self.damage.after_padding += 1,
                (B64_INVALID, Padding::Data) => self.damage.invalid_chars += 1,
                (value, Padding::Data) => self.push_sextet(value, out),
            }
        }
    }

    fn push_sextet(&mut self, value: u8, out: &mut Vec<u8>) {
        self.quad[self.held] = value;
        self.held += 1;
        if self.held == 4 {
            let n = self.quantum();
            out.extend_from_slice(&n.to_be_bytes()[1..]);
            self.held = 0;
        }
    }

    /// The first '=': it ends the data (RFC 2045 §6.8) after 2 or 3
    /// characters of a quantum, which then want 2 or 1 pad characters.
    fn start_padding(&mut self, out: &mut Vec<u8>) {
        let wanted = match self.held {
            2 => 1,
            3 => 0,
            held => {
                self.damage.truncated |= held == 1;
                self.damage.bad_padding = true;
                0
            }
        };
        self.flush_partial(out);
        self.padding = Padding::Pads(wanted);
    }

    /// Decodes a quantum of 2 or 3 characters into 1 or 2 bytes; a lone character is dropped.
    fn flush_partial(&mut self, out: &mut Vec<u8>) {
        let n = self.quantum().to_be_bytes();
        if self.held >= 2 {
            out.extend_from_slice(&n[1..self.held]);
        }
        self.held = 0;
    }

    /// The held characters as 24 bits, missing ones as zeros.
    fn quantum(&self) -> u32 {
        let [a, b, c, d] = self.quad.map(u32::from);
        let c = if self.held > 2 { c } else { 0 };
        let d = if self.held > 3 { d } else { 0 };
        a << 18 | b << 12 | c << 6 | d
    }
}

/// Where a base64 stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Padding {
    /// Before any '='.
    Data,
    /// Inside the padding, wanting this many more '='.
    Pads(u8),
    /// After the padding and something else: all is ignored.
    After,
}

/// Copies `block` into `compact` without CR and LF, up to the first '=';
/// returns how many bytes of `block` that covered.
fn compact_block(block: &[u8], compact: &mut Vec<u8>) -> usize {
    compact.clear();
    let mut start = 0;
    for at in memchr3_iter(b'\r', b'\n', b'=', block) {
        compact.extend_from_slice(&block[start..at]);
        if block[at] == b'=' {
            return at;
        }
        start = at + 1;
    }
    compact.extend_from_slice(&block[start..]);
    block.len()
}
