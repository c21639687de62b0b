//! A check that work grows linearly with its input, shared by the fuzz
//! property checks: a quadratic parser turns a large hostile input into a
//! hang.

use std::time::{Duration, Instant};

/// Fails if `work` takes much more than 4 times as long on `text` repeated
/// to 4 times `base` bytes as on `text` repeated to `base` bytes (a
/// quadratic one takes 16 times as long). Each is timed 3 times, the
/// fastest kept, with a margin for noise.
pub fn assert_linear(text: &str, base: usize, work: impl Fn(&str)) {
    if text.is_empty() {
        return;
    }
    let small = text.repeat(base / text.len() + 1);
    let large = small.repeat(4);
    let (t_small, t_large) = (fastest(&small, &work), fastest(&large, &work));
    assert!(
        t_large < t_small * 10 + Duration::from_millis(30),
        "{} bytes: {t_small:?}, 4 times as many: {t_large:?}",
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
