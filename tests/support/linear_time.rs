//! A check that work grows linearly with its input, shared by the fuzz
//! property checks: a quadratic parser turns a large hostile input into a
//! hang.

use std::time::{Duration, Instant};

/// Fails if `work` takes much more than 4 times as long on `text` repeated
/// to 4 times `base` bytes as on `text` repeated to `base` bytes (a
/// quadratic one takes 16 times as long). Each is timed 3 times, the
/// fastest kept, with a margin for noise; a pair over the bound is timed
/// again, up to 3 times, since a busy machine can stall one run while a
/// quadratic cost shows every time.
pub fn assert_linear(text: &str, base: usize, work: impl Fn(&str)) {
    if text.is_empty() {
        return;
    }
    let small = text.repeat(base / text.len() + 1);
    let large = small.repeat(4);
    let mut times = Vec::new();
    for _ in 0..3 {
        let (t_small, t_large) = (fastest(&small, &work), fastest(&large, &work));
        if t_large < t_small * 10 + Duration::from_millis(30) {
            return;
        }
        times.push((t_small, t_large));
    }
    panic!(
        "{} bytes, then 4 times as many, 3 times over: {times:?}",
        small.len()
    );
}

fn fastest(text: &str, work: &impl Fn(&str)) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            work(std::hint::black_box(text));
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}
