//! Arbitrary text through `mailkit::net::connection::parse_fingerprint`: it
//! never panics; what it accepts is exactly 64 lower-case hex digits, the
//! hex digits of the text (colons and a `sha256:`, `sha256=` or `SHA256
//! Fingerprint=` prefix aside) in lower case, and accepting it again gives
//! it back; and any 32 bytes written as OpenSSL does (`AB:CD:...`, with or
//! without its prefix) or in plain hex give their lower-case hex.

use mailkit::net::connection::parse_fingerprint;

/// Checks one fuzz input (see the module comment).
pub fn fingerprint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_fingerprint(&text) {
        Ok(hex) => {
            assert_eq!(hex.len(), 64, "{text:?}");
            assert!(
                hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{hex:?}"
            );
            assert_eq!(Some(&hex), digits_of(&text).as_ref(), "{text:?}");
            assert_eq!(parse_fingerprint(&hex).as_ref(), Ok(&hex));
        }
        Err(message) => assert!(digits_of(&text).is_none(), "{text:?}: {message}"),
    }
    let mut bytes = [0u8; 32];
    for (i, b) in data.iter().enumerate() {
        bytes[i % 32] ^= b;
    }
    let lower: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let colons = bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    for form in [
        colons.clone(),
        format!("SHA256 Fingerprint={colons}\n"),
        format!("sha256 Fingerprint={colons}"),
        format!("sha256:{}", lower.to_ascii_uppercase()),
        format!(" {lower} "),
    ] {
        assert_eq!(parse_fingerprint(&form).as_ref(), Ok(&lower), "{form:?}");
    }
}

/// What the text says, read independently: white space around it, an
/// optional prefix, then 64 hex digits, colons anywhere between them.
fn digits_of(text: &str) -> Option<String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let body = ["sha256:", "sha256=", "sha256 fingerprint="]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower);
    let hex: String = body.chars().filter(|&c| c != ':').collect();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}
