//! Cutting fuzz input into chunks, shared by the fuzz property checks:
//! streaming code must give the same result whatever the chunking.

/// Chunk sizes from 1 to about 300, from a small xorshift: the low byte of
/// `seed` bounds them.
pub fn chunk_sizes(seed: u32) -> Vec<usize> {
    let mut x = seed | 1;
    let max = (seed % 64) as usize * 5 + 1;
    (0..16)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as usize % max + 1
        })
        .collect()
}

/// `content` cut into pieces of the given sizes, repeated as needed.
pub fn chunks<'a>(content: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = content;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        out.push(now);
        rest = later;
    }
    out
}
