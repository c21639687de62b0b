//! Arbitrary bytes through `mailkit::imap::mailbox_name`, both as a wire
//! name a server sent and as names a user typed:
//!
//! - as a wire name: neither decoder panics; the lenient one gives at most
//!   one character per octet, and is flagged exactly when the strict one
//!   fails; when the strict one succeeds the lenient one gives the same
//!   text, and encoding that text gives the wire octets back (strict
//!   decoding accepts only what `encode` produces, RFC 3501 §5.1.3);
//!   `from_wire`/`display_name` agree with them in the modified UTF-7 form
//!   and with UTF-8 validity in the UTF-8 form (RFC 6855); cutting the name
//!   into levels at any delimiter and joining them gives it back;
//! - as a user's name (the octets read as UTF-8, and as UTF-16 units, so
//!   that characters outside the BMP and every plane of the BMP occur):
//!   the encoding is printable US-ASCII only and decodes strictly back to
//!   the name; cut at a printable delimiter other than `&`, the encoded
//!   name gives the encodings of the name's own levels.

use mailkit::imap::mailbox_name::{
    NameForm, decode, decode_lossy, display_name, encode, from_wire, join_levels, split_levels,
    to_wire,
};

/// Delimiters tried: the usual two, base64 characters, and `&` and `-`.
const DELIMITERS: [u8; 6] = [b'/', b'.', b'+', b',', b'&', b'-'];

/// Checks one fuzz input (see the module comment).
pub fn mailbox_name(data: &[u8]) {
    check_wire(data);
    check_name(&String::from_utf8_lossy(data));
    check_name(&utf16_name(data));
}

/// The octets as big-endian UTF-16 units, unpaired surrogates replaced.
fn utf16_name(data: &[u8]) -> String {
    let units = data
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// The octets as a server's wire name.
fn check_wire(wire: &[u8]) {
    let strict = decode(wire);
    let (text, broken) = decode_lossy(wire);
    assert!(text.chars().count() <= wire.len());
    assert_eq!(broken, strict.is_err(), "{wire:?}: {strict:?}");
    if let Ok(name) = &strict {
        assert_eq!(&text, name);
        assert_eq!(encode(name).as_bytes(), wire);
    }
    assert_eq!(from_wire(wire, NameForm::Utf7), strict);
    assert_eq!(display_name(wire, NameForm::Utf7), (text, broken));
    let utf8 = std::str::from_utf8(wire);
    assert_eq!(from_wire(wire, NameForm::Utf8).ok().as_deref(), utf8.ok());
    let (shown, bad) = display_name(wire, NameForm::Utf8);
    assert_eq!(bad, utf8.is_err());
    assert_eq!(shown, String::from_utf8_lossy(wire));
    check_levels(wire);
}

/// Cutting a wire name at each delimiter, in both forms, and joining.
fn check_levels(wire: &[u8]) {
    for delimiter in DELIMITERS {
        for form in [NameForm::Utf7, NameForm::Utf8] {
            let levels = split_levels(wire, delimiter, form);
            assert_eq!(join_levels(&levels, delimiter), wire);
            if form == NameForm::Utf8 {
                assert_eq!(levels.len(), wire.split(|&b| b == delimiter).count());
            }
        }
    }
}

/// The text as a name the user typed.
fn check_name(name: &str) {
    let wire = encode(name);
    assert!(wire.bytes().all(|b| (0x20..=0x7e).contains(&b)), "{wire:?}");
    assert_eq!(decode(wire.as_bytes()).as_deref(), Ok(name), "{wire:?}");
    assert_eq!(to_wire(name, NameForm::Utf7), wire.as_bytes());
    assert_eq!(to_wire(name, NameForm::Utf8), name.as_bytes());
    for delimiter in DELIMITERS.into_iter().filter(|&d| d != b'&') {
        let levels = split_levels(wire.as_bytes(), delimiter, NameForm::Utf7);
        let own: Vec<String> = name.split(char::from(delimiter)).map(encode).collect();
        let own: Vec<&[u8]> = own.iter().map(|level| level.as_bytes()).collect();
        assert_eq!(levels, own, "{wire:?} at {:?}", char::from(delimiter));
    }
}
