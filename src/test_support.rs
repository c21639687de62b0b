//! Helpers shared by the unit tests: deterministic pseudo-random data, the
//! reference models the fuzz property checks share, and the integration
//! tests' certificate recipe and scripted server (one copy each).

#[path = "../tests/support/smtp_data_model.rs"]
pub mod smtp_data_model;

// Each test binary uses part of these.
#[allow(dead_code)]
#[path = "../tests/common/tlscert.rs"]
pub mod tlscert;

#[allow(dead_code)]
#[path = "../tests/common/scripted.rs"]
pub mod scripted;

/// Deterministic pseudo-random bytes (xorshift64).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `count` strings, each up to `max_pieces - 1` of `pieces` joined, drawn
/// by a fixed-seed linear congruential generator.
pub fn joined_pieces(
    pieces: &'static [&'static str],
    count: usize,
    max_pieces: usize,
) -> impl Iterator<Item = String> {
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count).map(move |_| {
        let len = next() % max_pieces;
        (0..len).map(|_| pieces[next() % pieces.len()]).collect()
    })
}

/// A reader that hands out at most `.1` octets a call, so that a consumer
/// sees every way its input can be split.
pub struct Trickle<'a>(pub &'a [u8], pub usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.0.len()).min(self.1);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}
