//! UTF-7 (RFC 2152) to UTF-8: the registered charset some mailers (Outlook
//! 2000 among them) label RFC 2047 encoded-words and bodies with. Not the
//! modified UTF-7 of IMAP folder names (RFC 3501 §5.1.3), which uses `&`
//! and `,`.

/// Whether `label` names UTF-7 (the IANA name and its aliases).
pub fn is_utf7_label(label: &str) -> bool {
    ["utf-7", "csutf7", "unicode-1-1-utf-7", "csunicode11utf7"]
        .iter()
        .any(|l| label.trim().eq_ignore_ascii_case(l))
}

/// The value of a modified-base64 character (RFC 2152 Rule 2: the base64
/// alphabet of RFC 2045 without `=`), or `None`.
fn sextet(b: u8) -> Option<u32> {
    let value = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Decodes UTF-7 text. Returns the text and whether it was well formed;
/// what is not (8-bit bytes, unpaired surrogates, a shifted sequence
/// ending with bits that are not zero padding) becomes U+FFFD, and
/// decoding goes on. Linear in the input.
pub fn decode_utf7(bytes: &[u8]) -> (String, bool) {
    let mut out = String::with_capacity(bytes.len());
    let mut valid = true;
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        at += 1;
        if b != b'+' {
            if b.is_ascii() {
                out.push(char::from(b));
            } else {
                out.push(char::REPLACEMENT_CHARACTER);
                valid = false;
            }
            continue;
        }
        // Rule 2: "+-" is a plus sign.
        if bytes.get(at) == Some(&b'-') {
            out.push('+');
            at += 1;
            continue;
        }
        let mut bits: u32 = 0;
        let mut count = 0;
        let mut units: Vec<u16> = Vec::new();
        while let Some(value) = bytes.get(at).copied().and_then(sextet) {
            at += 1;
            bits = (bits << 6 | value) & 0xFF_FFFF;
            count += 6;
            if count >= 16 {
                count -= 16;
                units.push((bits >> count) as u16);
            }
        }
        // Leftover bits must be fewer than six and zero (RFC 2152 Rule 2).
        if count >= 6 || bits & ((1 << count) - 1) != 0 {
            valid = false;
        }
        // A '-' ending the shifted sequence is absorbed.
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        for unit in char::decode_utf16(units) {
            match unit {
                Ok(c) => out.push(c),
                Err(_) => {
                    out.push(char::REPLACEMENT_CHARACTER);
                    valid = false;
                }
            }
        }
    }
    (out, valid)
}

#[cfg(test)]
mod tests {
    use super::decode_utf7;

    #[test]
    fn the_examples_of_rfc_2152() {
        // RFC 2152 §"Examples".
        assert_eq!(
            decode_utf7(b"A+ImIDkQ."),
            ("A\u{2262}\u{391}.".into(), true)
        );
        assert_eq!(
            decode_utf7(b"Hi Mom -+Jjo--!"),
            ("Hi Mom -\u{263A}-!".into(), true)
        );
        assert_eq!(decode_utf7(b"+ZeVnLIqe-"), ("日本語".into(), true));
        assert_eq!(decode_utf7(b"1 +- 1 = 2"), ("1 + 1 = 2".into(), true));
        // A surrogate pair: U+1F600.
        assert_eq!(decode_utf7(b"+2D3eAA-"), ("\u{1F600}".into(), true));
        assert_eq!(decode_utf7(b"Gr+APw-+AN8-e"), ("Grüße".into(), true));
    }

    #[test]
    fn damage_is_replaced_and_reported() {
        assert_eq!(decode_utf7(b"caf\xe9"), ("caf\u{FFFD}".into(), false));
        // An unpaired high surrogate.
        assert_eq!(decode_utf7(b"+2D0-x"), ("\u{FFFD}x".into(), false));
        // Bits left that are not zero padding.
        assert!(!decode_utf7(b"+AAB-").1);
        assert_eq!(decode_utf7(b"+").0, "");
    }
}
