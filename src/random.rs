//! Unpredictable numbers for DNS query ids, MIME boundaries and
//! Message-IDs, from the keys the standard library draws from the
//! operating system for its hash maps (SipHash: without the keys the
//! output cannot be predicted).

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

/// A random 64-bit number.
pub fn u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    thread_local! {
        static KEYS: RandomState = RandomState::new();
    }
    KEYS.with(|keys| {
        let mut hasher = keys.build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        hasher.finish()
    })
}

/// `digits` random lower-case hexadecimal digits.
pub fn hex(digits: usize) -> String {
    let mut text = String::with_capacity(digits + 16);
    while text.len() < digits {
        text.push_str(&format!("{:016x}", u64()));
    }
    text.truncate(digits);
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_differ() {
        let values: std::collections::HashSet<u64> = (0..1000).map(|_| super::u64()).collect();
        assert_eq!(values.len(), 1000);
        let h = super::hex(40);
        assert_eq!(h.len(), 40);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
