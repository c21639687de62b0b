//! The checks every adversarial-server suite makes of a run: within its
//! time and memory bounds, nothing raw on the terminal, and the password
//! sent nowhere in any form.

use std::process::Output;
use std::time::Duration;

/// The run took less than `limit` and at most `max_kib` of memory, and
/// no raw control character reached its stdout or stderr.
pub fn assert_bounded(
    out: &Output,
    (took, limit): (Duration, Duration),
    (kib, max_kib): (i64, i64),
    what: &str,
) {
    assert!(took < limit, "{what}: took {took:?}");
    assert!(kib < max_kib, "{what}: {kib} KiB at most");
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let raw = bytes
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f);
        assert!(
            raw.is_none(),
            "{what}: raw control character {raw:?} on {name}: {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// `password` and every base64 form of it (at each alignment, alone or
/// inside SASL PLAIN's `authzid NUL alice NUL password`) are not in
/// `text`.
pub fn assert_password_absent(text: &str, password: &str, what: &str) {
    assert!(!text.contains(password), "{what}: the password was sent");
    for form in base64_forms(password) {
        assert!(
            !text.contains(&form),
            "{what}: the password was sent in base64 ({form})"
        );
    }
}

/// The base64 characters that depend only on `secret`, for the three
/// positions it can have relative to a base64 group, and alice's PLAIN
/// forms.
fn base64_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut forms = Vec::new();
    for k in 0..3usize {
        let mut data = vec![0u8; k];
        data.extend_from_slice(secret.as_bytes());
        let encoded = engine.encode(&data);
        let first = (8 * k).div_ceil(6);
        let last = 8 * (k + secret.len()) / 6;
        forms.push(encoded[first..last].to_string());
    }
    forms.push(engine.encode(format!("\0alice\0{secret}")));
    forms.push(engine.encode(format!("alice\0alice\0{secret}")));
    forms
}
