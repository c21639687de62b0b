//! Header fields as they go on the wire: RFC 2047 encoded-words, RFC 2231
//! parameters, folding (RFC 5322 §2.2.3).
//!
//! The encoders return tokens: pieces between which a line may be folded.
//! [`fold`] joins them into a field. Tokens never contain CR or LF: control
//! characters in text are encoded, never written raw, though callers should
//! still refuse them in user input with [`forbidden_char`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::address::{self, Mailbox};
use crate::domain::ascii_domain;

/// Longest line a field should have, without the line break (RFC 5322 §2.1.1).
pub const MAX_LINE: usize = 78;
/// Longest encoded-word (RFC 2047 §2).
pub const MAX_ENCODED_WORD: usize = 75;
/// Shortest `max_len` [`encoded_words`] honours: room for one 4-byte
/// character in Q (12 characters) besides the 12 of `=?utf-8?Q??=`.
pub const MIN_ENCODED_WORD: usize = 24;
/// Longest plain word kept as is: with the leading space of a continuation
/// line it just fits in [`MAX_LINE`].
const MAX_PLAIN_WORD: usize = MAX_LINE - 1;
/// `=?utf-8?Q?` + `?=`.
const ENCODED_WORD_OVERHEAD: usize = 12;
/// Longest first encoded-word of a field: it fits the first line after a
/// field name of up to 19 characters (`Content-Description: `). Python's
/// email package keeps the white space of a fold right after the colon in
/// an unstructured value, so the first token should not need one.
const MAX_FIRST_ENCODED_WORD: usize = MAX_LINE - "Content-Description: ".len();
/// Longest `key=value` that [`rfc2231_param`] returns, with room for a `;`
/// and the leading space of a continuation line.
const MAX_PARAM: usize = 76;
/// Longest ASCII value [`rfc2231_param`] writes as a plain quoted string.
const MAX_PLAIN_PARAM: usize = 60;

/// Whether `name` is a valid field name (RFC 5322 §3.6.8: printable US-ASCII
/// except colon, 1..=76 characters).
pub fn is_field_name(name: &str) -> bool {
    (1..=76).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// The CR, LF or NUL in a user-supplied field value (header injection), if any.
pub fn forbidden_char(value: &str) -> Option<char> {
    value.chars().find(|c| matches!(c, '\r' | '\n' | '\0'))
}

/// Encodes unstructured text (Subject, Comments, X-fields) per RFC 2047
/// §5(1) and returns the tokens to fold.
///
/// Pure-ASCII words of at most 77 characters stay as they are; each run of
/// other words (non-ASCII, control characters, longer, or containing
/// something like an encoded-word `=?…?=`) becomes UTF-8 encoded-words,
/// the white space inside the run encoded with it, since decoders drop
/// white space between adjacent encoded-words (RFC 2047 §6.2). Leading and
/// trailing white space is dropped; a run of white space between words
/// keeps its length, its last character becoming the space [`fold`] writes.
pub fn encode_unstructured(text: &str) -> Vec<String> {
    let words = split_words(text);
    encode_words(&words, |word| !needs_encoding(word))
}

/// Encodes a display name, a phrase (RFC 2047 §5(3)), into tokens to fold.
///
/// ASCII atoms stay; other ASCII text becomes one quoted-string (`"` and
/// `\` escaped) when it fits a line; everything else becomes encoded-words
/// limited to the characters §5(3) allows in a phrase. Runs of white space
/// between words become single spaces, as a phrase's words are separated by
/// CFWS. Empty or blank text gives no tokens.
pub fn encode_phrase(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    if words.iter().all(|word| is_plain_atom(word)) {
        return words.into_iter().map(str::to_string).collect();
    }
    if is_quotable(text) {
        return vec![address::quote_string(text)];
    }
    let spaced: Vec<(&str, &str)> = words.iter().map(|word| (*word, " ")).collect();
    encode_words(&spaced, is_plain_atom)
}

/// Formats a mailbox for a header field: the display name's tokens then
/// `<addr-spec>`, or the addr-spec alone when there is no name.
///
/// The domain is converted to A-labels unless it is a domain literal.
/// Fails when the local part is not ASCII (that needs SMTPUTF8, RFC 6531)
/// or has control characters, or when the domain is invalid.
pub fn mailbox_tokens(mailbox: &Mailbox) -> Result<Vec<String>, String> {
    let spec = wire_addr_spec(mailbox)?;
    let mut tokens = mailbox
        .name
        .as_deref()
        .map(encode_phrase)
        .unwrap_or_default();
    if tokens.is_empty() {
        return Ok(vec![spec]);
    }
    tokens.push(format!("<{spec}>"));
    Ok(tokens)
}

/// Folds a field: `name:` then the tokens separated by single spaces,
/// breaking lines (`newline` then one space) between tokens, or after the
/// colon, so that every line is at most 78 characters where possible; a
/// token longer than that gets a line of its own. Empty tokens are skipped;
/// with no tokens the result is `name:`. For lists, give the tokens with
/// their separators attached (`a@example.org,`). No trailing newline.
///
/// The encoders keep their first encoded-word short enough to follow a
/// field name of up to 19 characters on the first line, because Python's
/// email package reads a break right after the colon as a leading space of
/// an unstructured value.
pub fn fold(name: &str, tokens: &[String], newline: &str) -> String {
    let mut field = format!("{name}:");
    let mut line_len = field.chars().count();
    for token in tokens.iter().filter(|token| !token.is_empty()) {
        let len = token.chars().count();
        if line_len + 1 + len > MAX_LINE {
            field.push_str(newline);
            line_len = 0;
        }
        field.push(' ');
        field.push_str(token);
        line_len += 1 + len;
    }
    field
}

/// Encoded-words (RFC 2047 §4) for `text` as UTF-8, each at most `max_len`
/// characters (clamped to `MIN_ENCODED_WORD..=75`), never splitting a
/// character between words. Q is chosen unless B is at least 5 characters
/// shorter (the rule of Python's email package), so mostly-ASCII text stays
/// readable; Q writes literally only the characters RFC 2047 §5(3) allows
/// in a phrase, so the words fit anywhere. Empty text gives no words.
pub fn encoded_words(text: &str, max_len: usize) -> Vec<String> {
    encoded_words_after(text, max_len, max_len)
}

/// An RFC 2231 parameter as `key=value` strings, to be joined with `;`.
///
/// ASCII without control characters or `=?`, up to 60 characters, gives one
/// `name="value"`. Anything else is percent-encoded UTF-8 (everything but
/// the attribute-chars of RFC 2231 §7 / RFC 5987), as one `name*=utf-8''…`
/// if it fits, else as `name*0*=utf-8''…`, `name*1*=…` continuations. Each
/// string is at most 76 characters (room for `;` and a fold's space) unless
/// `name` is too long for even one character per segment. Segments never
/// split a character, since some decoders (Python's) decode each one alone.
pub fn rfc2231_param(name: &str, value: &str) -> Vec<String> {
    if is_plain_param(value) && value.len() <= MAX_PLAIN_PARAM {
        return vec![format!("{name}={}", address::quote_string(value))];
    }
    let units: Vec<String> = value.chars().map(percent_encode).collect();
    let single = format!("{name}*=utf-8''{}", units.concat());
    if single.len() < MAX_PARAM {
        return vec![single];
    }
    continuations(name, &units)
}

/// A MIME parameter value (RFC 2045 §5.1): as is when it is a token, else a
/// quoted-string. For ASCII values; use [`rfc2231_param`] for others, and
/// refuse control characters with [`forbidden_char`] first.
pub fn param_value(value: &str) -> String {
    let is_token = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b));
    if is_token {
        value.to_string()
    } else {
        address::quote_string(value)
    }
}

// ---- words and runs ----

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Each word of `text` with the white space after it (empty for the last).
fn split_words(text: &str) -> Vec<(&str, &str)> {
    let mut words = Vec::new();
    let mut rest = text.trim_matches(is_wsp);
    while !rest.is_empty() {
        let word_end = rest.find(is_wsp).unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_end);
        let space_end = after.find(|c| !is_wsp(c)).unwrap_or(after.len());
        let (space, next) = after.split_at(space_end);
        words.push((word, space));
        rest = next;
    }
    words
}

/// Whether a parameter value can go as a plain quoted string: ASCII
/// without control characters, and nothing a reader might decode as an
/// encoded-word (most decode them inside quoted parameter values, as most
/// mail programs write names so, though RFC 2047 §5 does not allow it).
pub fn is_plain_param(value: &str) -> bool {
    value.is_ascii() && !value.bytes().any(|b| b.is_ascii_control()) && !looks_encoded(value)
}

/// Whether a decoder might take `word` for (or find in it) the start of an
/// encoded-word: any `=?`, since the `?=` that ends it may come in a later
/// word (lenient decoders, Python's and mailkit's among them, take
/// `=?utf-8?q?a ?=` for one).
fn looks_encoded(word: &str) -> bool {
    word.contains("=?")
}

/// Whether an unstructured word must be encoded (RFC 2047 §5(1)).
fn needs_encoding(word: &str) -> bool {
    !word.is_ascii()
        || word.bytes().any(|b| b.is_ascii_control())
        || word.len() > MAX_PLAIN_WORD
        || looks_encoded(word)
}

fn is_plain_atom(word: &str) -> bool {
    word.is_ascii()
        && word.len() <= MAX_PLAIN_WORD
        && word.chars().all(address::is_atext)
        && !looks_encoded(word)
}

/// ASCII text that a quoted-string can carry on one continuation line.
fn is_quotable(text: &str) -> bool {
    text.is_ascii()
        && text.chars().all(|c| c == ' ' || c.is_ascii_graphic())
        && !looks_encoded(text)
        && address::quote_string(text).len() < MAX_LINE
}

/// All but the last character of a white-space run: the last one is the
/// space that [`fold`] writes between tokens.
fn extra_space(space: &str) -> &str {
    space.get(..space.len().saturating_sub(1)).unwrap_or("")
}

/// Tokens for `words`: `plain` ones as they are (with their extra white
/// space), each maximal run of the others as encoded-words, the white space
/// inside the run, and the extra white space after it, encoded with it.
fn encode_words(words: &[(&str, &str)], plain: impl Fn(&str) -> bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut run = String::new();
    for (i, &(word, space)) in words.iter().enumerate() {
        if plain(word) {
            tokens.push(format!("{word}{}", extra_space(space)));
            continue;
        }
        run.push_str(word);
        let run_continues = words.get(i + 1).is_some_and(|&(next, _)| !plain(next));
        if run_continues {
            run.push_str(space);
        } else {
            run.push_str(extra_space(space));
            let first_max = if tokens.is_empty() {
                MAX_FIRST_ENCODED_WORD
            } else {
                MAX_ENCODED_WORD
            };
            tokens.extend(encoded_words_after(&run, first_max, MAX_ENCODED_WORD));
            run.clear();
        }
    }
    tokens
}

// ---- encoded-words ----

/// [`encoded_words`] with its own limit for the first word.
fn encoded_words_after(text: &str, first_max: usize, max_len: usize) -> Vec<String> {
    let payload =
        |max: usize| max.clamp(MIN_ENCODED_WORD, MAX_ENCODED_WORD) - ENCODED_WORD_OVERHEAD;
    let payloads = (payload(first_max), payload(max_len));
    let q_len: usize = text.chars().map(q_char_len).sum();
    let b_len = text.len().div_ceil(3) * 4;
    if q_len < b_len + 5 {
        q_words(text, payloads)
    } else {
        b_words(text, payloads)
    }
}

/// The payload limit for the next word: `.0` for the first, `.1` after.
fn next_payload(words: &[String], payloads: (usize, usize)) -> usize {
    if words.is_empty() {
        payloads.0
    } else {
        payloads.1
    }
}

/// Characters Q may write literally in a phrase (RFC 2047 §5(3)), less `=`
/// and `_`, which Q itself gives meaning.
fn is_q_literal(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '!' | '*' | '+' | '-' | '/')
}

fn q_char_len(c: char) -> usize {
    if c == ' ' || is_q_literal(c) {
        1
    } else {
        3 * c.len_utf8()
    }
}

fn push_q(encoded: &mut String, c: char) {
    if c == ' ' {
        encoded.push('_');
    } else if is_q_literal(c) {
        encoded.push(c);
    } else {
        let mut buf = [0u8; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            encoded.push_str(&format!("={byte:02X}"));
        }
    }
}

fn q_words(text: &str, payloads: (usize, usize)) -> Vec<String> {
    let mut words = Vec::new();
    let mut encoded = String::new();
    for c in text.chars() {
        let payload = next_payload(&words, payloads);
        if !encoded.is_empty() && encoded.len() + q_char_len(c) > payload {
            words.push(format!("=?utf-8?Q?{encoded}?="));
            encoded.clear();
        }
        push_q(&mut encoded, c);
    }
    if !encoded.is_empty() {
        words.push(format!("=?utf-8?Q?{encoded}?="));
    }
    words
}

fn b_words(text: &str, payloads: (usize, usize)) -> Vec<String> {
    let mut words = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices() {
        let max_bytes = next_payload(&words, payloads) / 4 * 3;
        if at > start && at + c.len_utf8() - start > max_bytes {
            words.push(b_word(text.get(start..at).unwrap_or("")));
            start = at;
        }
    }
    if start < text.len() {
        words.push(b_word(text.get(start..).unwrap_or("")));
    }
    words
}

fn b_word(chunk: &str) -> String {
    format!("=?utf-8?B?{}?=", STANDARD.encode(chunk))
}

// ---- addresses ----

/// The addr-spec as it may go into a header without SMTPUTF8.
fn wire_addr_spec(mailbox: &Mailbox) -> Result<String, String> {
    let local = &mailbox.local;
    if local.is_empty() {
        return Err("empty local part".into());
    }
    if !local.is_ascii() {
        return Err(format!(
            "local part {local:?} is not ASCII: that needs SMTPUTF8 (RFC 6531)"
        ));
    }
    if local.bytes().any(|b| b.is_ascii_control()) {
        return Err(format!("control character in local part {local:?}"));
    }
    let domain = wire_domain(&mailbox.domain)?;
    Ok(format!("{}@{domain}", address::quote_local_part(local)))
}

fn wire_domain(domain: &str) -> Result<String, String> {
    let Some(inner) = domain.strip_prefix('[') else {
        return ascii_domain(domain).map_err(|e| format!("domain {domain:?}: {e}"));
    };
    let valid = inner.strip_suffix(']').is_some_and(|inner| {
        !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_graphic() && !b"[]\\".contains(&b))
    });
    if valid {
        Ok(domain.to_string())
    } else {
        Err(format!("invalid domain literal {domain:?}"))
    }
}

// ---- RFC 2231 ----

/// One character, percent-encoded unless it is an attribute-char.
fn percent_encode(c: char) -> String {
    if c.is_ascii_alphanumeric() || "!#$&+-.^_`|~".contains(c) {
        return c.to_string();
    }
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect()
}

/// `name*N*=` segments (RFC 2231 §3, §4.1), the first with the charset.
fn continuations(name: &str, units: &[String]) -> Vec<String> {
    let mut params = Vec::new();
    let mut segment = String::from("utf-8''");
    let mut segment_units = 0;
    for unit in units {
        let key = format!("{name}*{}*=", params.len());
        let room = (MAX_PARAM - 1).saturating_sub(key.len());
        if segment_units > 0 && segment.len() + unit.len() > room {
            params.push(format!("{key}{segment}"));
            segment.clear();
            segment_units = 0;
        }
        segment.push_str(unit);
        segment_units += 1;
    }
    if segment_units > 0 {
        params.push(format!("{name}*{}*={segment}", params.len()));
    }
    params
}

/// `Date:` now, in the local time zone (RFC 5322 §3.3).
pub fn date_field() -> String {
    format!("Date: {}", chrono::Local::now().to_rfc2822())
}

/// A unique `Message-ID:` (RFC 5322 §3.6.4) on the sender's domain, or
/// this host's fully qualified name, or `mailkit.invalid`.
pub fn message_id_field(domain: Option<&str>) -> String {
    let right = domain
        .map(str::to_string)
        .filter(|d| crate::address::is_dot_atom(d) && d.is_ascii())
        .or_else(crate::domain::local_fqdn)
        .unwrap_or_else(|| "mailkit.invalid".into());
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    format!("Message-ID: <{stamp}.{}@{right}>", crate::random::hex(20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Test-only RFC 2047 decoder for the words this module writes.
    fn decode_word(word: &str) -> String {
        let inner = word
            .strip_prefix("=?utf-8?")
            .and_then(|w| w.strip_suffix("?="))
            .unwrap_or_else(|| panic!("not an encoded-word: {word:?}"));
        let bytes = match inner.split_at(2) {
            ("B?", data) => STANDARD.decode(data).unwrap(),
            ("Q?", data) => decode_q(data),
            _ => panic!("unknown encoding in {word:?}"),
        };
        String::from_utf8(bytes).unwrap_or_else(|_| panic!("{word:?} splits a character"))
    }

    fn decode_q(data: &str) -> Vec<u8> {
        let bytes = data.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'_' => out.push(b' '),
                b'=' => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                b => {
                    assert!(is_q_literal(b as char), "{data:?} has {:?}", b as char);
                    out.push(b);
                }
            }
            i += 1;
        }
        out
    }

    /// Decodes tokens as an RFC 2047 decoder would after unfolding: white
    /// space between adjacent encoded-words is dropped.
    fn decode_tokens(tokens: &[String]) -> String {
        let mut text = String::new();
        let mut previous_encoded = false;
        for token in tokens {
            let encoded = token.starts_with("=?");
            let adjacent_encoded = encoded && previous_encoded;
            if !text.is_empty() && !adjacent_encoded {
                text.push(' ');
            }
            if encoded {
                let word = token.trim_end_matches([' ', '\t']);
                text.push_str(&decode_word(word));
                text.push_str(&token[word.len()..]);
            } else {
                text.push_str(token);
            }
            previous_encoded = encoded;
        }
        text
    }

    fn percent_decode(text: &str) -> Vec<u8> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        out
    }

    /// Runs a Python script on a message (stdin) and returns the JSON it prints.
    fn python(script: &str, message: &str) -> serde_json::Value {
        let mut child = Command::new("python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 must be installed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "python3 failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    const PY_PRELUDE: &str = "\
import sys, json, email, email.policy, email.header
raw = sys.stdin.buffer.read()
m = email.message_from_bytes(raw, policy=email.policy.default)
legacy = email.message_from_bytes(raw)
def defects(h): return [repr(d) for d in list(h.defects) + list(m.defects)]
";

    fn message(field: &str) -> String {
        let mut text = field.to_string();
        text.push_str("\r\nMIME-Version: 1.0\r\n\r\nbody\r\n");
        text
    }

    fn assert_lines_fit(field: &str) {
        for line in field.split("\r\n") {
            assert!(line.chars().count() <= MAX_LINE, "long line {line:?}");
        }
    }

    const LONG_SUBJECT: &str = "Größenänderung: Ärger über Öl — 東京の天気は晴れ、\
        ☃ snow; «quotes» and emoji 🦀🦀 plus ünïcödé everywhere ";

    fn long_text() -> String {
        LONG_SUBJECT.repeat(4).chars().take(300).collect()
    }

    #[test]
    fn field_names() {
        for good in [
            "Subject",
            "X-Mailer",
            "a",
            "!#$%&'*+-./^_`{|}~",
            &"x".repeat(76),
        ] {
            assert!(is_field_name(good), "{good:?}");
        }
        for bad in [
            "",
            "Sub ject",
            "Subject:",
            "Süb",
            "a\tb",
            "a\r\nb",
            &"x".repeat(77),
        ] {
            assert!(!is_field_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn header_injection() {
        assert_eq!(forbidden_char("hello\r\nBcc: x@y"), Some('\r'));
        assert_eq!(forbidden_char("a\nb"), Some('\n'));
        assert_eq!(forbidden_char("a\0b"), Some('\0'));
        assert_eq!(forbidden_char("tab\tand ünïcode"), None);
        let tokens = encode_unstructured("x\r\nBcc: victim@example.org");
        assert!(
            tokens.iter().all(|t| forbidden_char(t).is_none()),
            "{tokens:?}"
        );
        assert_eq!(decode_tokens(&tokens), "x\r\nBcc: victim@example.org");
    }

    #[test]
    fn encoded_words_fit_and_round_trip() {
        let texts = [
            "Wörld".to_string(),
            "a b  c\t_=?=".to_string(),
            "日本語のテキスト".repeat(20),
            "🦀".repeat(50),
            long_text(),
            "ascii only but needs encoding anyway ".repeat(5),
        ];
        for text in &texts {
            for max_len in [0, 24, 30, 40, 75, 200] {
                let words = encoded_words(text, max_len);
                let limit = max_len.clamp(MIN_ENCODED_WORD, MAX_ENCODED_WORD);
                assert!(words.iter().all(|w| w.len() <= limit), "{words:?}");
                // Each word decodes alone: no character is split.
                let decoded: String = words.iter().map(|w| decode_word(w)).collect();
                assert_eq!(&decoded, text);
            }
        }
        assert!(encoded_words("", 75).is_empty());
        assert!(encoded_words("Hello Wörld", 75)[0].starts_with("=?utf-8?Q?"));
        assert!(encoded_words("日本語", 75)[0].starts_with("=?utf-8?B?"));
    }

    #[test]
    fn unstructured_ascii_unchanged() {
        let tokens = encode_unstructured("Meeting notes for Tuesday (draft)");
        assert_eq!(tokens, ["Meeting", "notes", "for", "Tuesday", "(draft)"]);
        assert_eq!(
            fold("Subject", &tokens, "\r\n"),
            "Subject: Meeting notes for Tuesday (draft)"
        );
        assert!(encode_unstructured("  ").is_empty());
    }

    #[test]
    fn unstructured_mixed_keeps_ascii_words_plain() {
        let tokens = encode_unstructured("Hello Wörld again");
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0], "Hello");
        assert_eq!(tokens[2], "again");
        assert_eq!(decode_word(&tokens[1]), "Wörld");
        assert_eq!(decode_tokens(&tokens), "Hello Wörld again");
    }

    #[test]
    fn unstructured_spaces_inside_runs_are_encoded() {
        let text = "Grüße aus Köln und München und so";
        let tokens = encode_unstructured(text);
        assert_eq!(decode_tokens(&tokens), text);
        // Inside a run white space is kept exactly; between plain words its
        // last character becomes the folding space.
        let text = "café  crème\tbrûlée  with   many\tspaces";
        let expected = "café  crème\tbrûlée  with   many spaces";
        assert_eq!(decode_tokens(&encode_unstructured(text)), expected);
        for text in ["=?utf-8?q?fake?= word", &"x".repeat(78)] {
            let tokens = encode_unstructured(text);
            assert!(tokens[0].starts_with("=?utf-8?"), "{tokens:?}");
            assert_eq!(decode_tokens(&tokens), text);
        }
    }

    #[test]
    fn long_non_ascii_subject_folds() {
        let text = long_text();
        let tokens = encode_unstructured(&text);
        assert!(tokens.iter().all(|t| t.len() <= MAX_ENCODED_WORD));
        let field = fold("Subject", &tokens, "\r\n");
        assert!(field.lines().count() > 3);
        assert_lines_fit(&field);
        // The first token follows the colon, even after a long field name.
        for name in ["Subject", "Content-Description"] {
            let field = fold(name, &tokens, "\r\n");
            assert!(field.starts_with(&format!("{name}: =?utf-8?")), "{field}");
            assert_lines_fit(&field);
        }
        assert_eq!(decode_tokens(&tokens), text.trim_end());
    }

    #[test]
    fn fold_limits() {
        let tokens: Vec<String> = (1..=76).cycle().take(200).map(|n| "w".repeat(n)).collect();
        let field = fold("X-Long-Field-Name", &tokens, "\r\n");
        assert_lines_fit(&field);
        assert_eq!(
            field.replace("\r\n", ""),
            format!("X-Long-Field-Name: {}", tokens.join(" "))
        );
        let long = vec!["a".into(), "b".repeat(90), "c".into()];
        assert_eq!(
            fold("S", &long, "\n"),
            format!("S: a\n {}\n c", "b".repeat(90))
        );
        assert_eq!(fold("S", &[], "\n"), "S:");
        let first = vec!["x".repeat(75)];
        assert_eq!(
            fold("Subject", &first, "\n"),
            format!("Subject:\n {}", "x".repeat(75))
        );
    }

    #[test]
    fn phrases() {
        assert_eq!(encode_phrase("John Smith"), ["John", "Smith"]);
        assert_eq!(encode_phrase("Doe, John"), [r#""Doe, John""#]);
        assert_eq!(encode_phrase(r#"say "hi" \o/"#), [r#""say \"hi\" \\o/""#]);
        assert!(encode_phrase(" ").is_empty());
        let tokens = encode_phrase("Jöran Smith");
        assert_eq!(tokens[1], "Smith");
        assert_eq!(decode_tokens(&tokens), "Jöran Smith");
        // Every character of a phrase-encoded Q word is allowed by §5(3).
        let tokens = encode_phrase("Müller, Hans (Vertrieb) \"HM\"");
        assert_eq!(decode_tokens(&tokens), "Müller, Hans (Vertrieb) \"HM\"");
        let long = "a.b ".repeat(30);
        let tokens = encode_phrase(&long);
        assert!(tokens.iter().all(|t| t.starts_with("=?")), "{tokens:?}");
        assert_eq!(decode_tokens(&tokens), long.trim_end());
    }

    #[test]
    fn mailbox_formatting() {
        let mailbox = |name: Option<&str>, local: &str, domain: &str| Mailbox {
            name: name.map(str::to_string),
            local: local.into(),
            domain: domain.into(),
        };
        assert_eq!(
            mailbox_tokens(&mailbox(None, "a", "Bücher.example")).unwrap(),
            ["a@xn--bcher-kva.example"]
        );
        assert_eq!(
            mailbox_tokens(&mailbox(Some("Doe, John"), "john doe", "[192.0.2.1]")).unwrap(),
            [r#""Doe, John""#, r#"<"john doe"@[192.0.2.1]>"#]
        );
        assert_eq!(
            mailbox_tokens(&mailbox(Some(""), "a", "b.example")).unwrap(),
            ["a@b.example"]
        );
        for (local, domain) in [
            ("jöran", "example.org"),
            ("", "example.org"),
            ("a\r\nb", "example.org"),
            ("a", "bad_domain.example"),
            ("a", "[1.2.3.4"),
            ("a", "[]"),
        ] {
            assert!(
                mailbox_tokens(&mailbox(None, local, domain)).is_err(),
                "{local}@{domain}"
            );
        }
    }

    #[test]
    fn rfc2231_parameters() {
        assert_eq!(
            rfc2231_param("filename", "report.pdf"),
            [r#"filename="report.pdf""#]
        );
        assert_eq!(
            rfc2231_param("filename", r#"a"b\c"#),
            [r#"filename="a\"b\\c""#]
        );
        assert_eq!(
            rfc2231_param("filename", "Grüße.txt"),
            ["filename*=utf-8''Gr%C3%BC%C3%9Fe.txt"]
        );
        // Readers decode encoded-words inside quotes: =? is never plain.
        assert_eq!(
            rfc2231_param("filename", "a=?b?q?c?=.txt"),
            ["filename*=utf-8''a%3D%3Fb%3Fq%3Fc%3F%3D.txt"]
        );
        let name = long_text();
        let params = rfc2231_param("filename", &name);
        assert!(params.len() > 5);
        let mut joined = String::new();
        for (n, param) in params.iter().enumerate() {
            assert!(param.len() <= 76, "{param:?}");
            let (key, value) = param.split_once('=').unwrap();
            assert_eq!(key, format!("filename*{n}*"));
            let value = if n == 0 {
                value.strip_prefix("utf-8''").unwrap()
            } else {
                value
            };
            // Each segment decodes alone: no character is split.
            String::from_utf8(percent_decode(value)).unwrap();
            joined.push_str(value);
        }
        assert_eq!(String::from_utf8(percent_decode(&joined)).unwrap(), name);
        let ascii_long = "x".repeat(61);
        assert_eq!(
            rfc2231_param("n", &ascii_long),
            [format!("n*=utf-8''{ascii_long}")]
        );
        // A name too long for any room still gives one character per segment.
        let params = rfc2231_param(&"k".repeat(80), "éé");
        assert_eq!(params.len(), 2);
    }

    #[test]
    fn parameter_values() {
        assert_eq!(param_value("text/plain"), r#""text/plain""#);
        assert_eq!(param_value("us-ascii"), "us-ascii");
        assert_eq!(param_value(""), r#""""#);
        assert_eq!(param_value("a b"), r#""a b""#);
        assert_eq!(param_value(r#"a"b"#), r#""a\"b""#);
    }

    #[test]
    fn python_decodes_subjects() {
        let subjects = [
            long_text(),
            "Hello Wörld again".to_string(),
            "Plain ASCII subject, nothing to see".to_string(),
            "Grüße aus Köln und München und so".to_string(),
            "=?utf-8?q?not_an_encoded_word?= really".to_string(),
        ];
        let script = format!(
            "{PY_PRELUDE}print(json.dumps({{'value': str(m['Subject']), \
             'defects': defects(m['Subject']), \
             'legacy': str(email.header.make_header(email.header.decode_header(legacy['Subject'])))}}))"
        );
        for subject in subjects {
            let field = fold("Subject", &encode_unstructured(&subject), "\r\n");
            assert_lines_fit(&field);
            let result = python(&script, &message(&field));
            assert_eq!(result["value"], subject.trim(), "{field}");
            assert_eq!(result["legacy"], subject.trim(), "{field}");
            assert_eq!(result["defects"], serde_json::json!([]), "{field}");
        }
    }

    #[test]
    fn python_decodes_address_fields() {
        let names = [
            "Jöran Smith",
            "Doe, John",
            "Müller, Hans (Vertrieb) \"HM\"",
            "東京 太郎",
            "Plain Name",
        ];
        let mut tokens = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let mailbox = Mailbox {
                name: Some(name.to_string()),
                local: format!("user {i}"),
                domain: "bücher.example".into(),
            };
            let mut mailbox_tokens = mailbox_tokens(&mailbox).unwrap();
            if i + 1 < names.len() {
                mailbox_tokens.last_mut().unwrap().push(',');
            }
            tokens.extend(mailbox_tokens);
        }
        let field = fold("To", &tokens, "\r\n");
        assert_lines_fit(&field);
        let script = format!(
            "{PY_PRELUDE}h = m['To']\nprint(json.dumps({{\
             'names': [a.display_name for a in h.addresses], \
             'specs': [a.addr_spec for a in h.addresses], \
             'defects': defects(h)}}))"
        );
        let result = python(&script, &message(&field));
        assert_eq!(result["defects"], serde_json::json!([]), "{field}");
        assert_eq!(result["names"], serde_json::json!(names), "{field}");
        let specs: Vec<String> = (0..names.len())
            .map(|i| format!("\"user {i}\"@xn--bcher-kva.example"))
            .collect();
        assert_eq!(result["specs"], serde_json::json!(specs), "{field}");
        // Our own parser reads the addresses back from the unfolded field.
        let value = field.strip_prefix("To:").unwrap().replace("\r\n", "");
        let parsed = address::parse_address_list(&value).unwrap();
        let parsed: Vec<String> = address::mailboxes(&parsed)
            .iter()
            .map(|m| m.addr_spec())
            .collect();
        assert_eq!(parsed, specs);
    }

    #[test]
    fn python_decodes_rfc2231_filename() {
        for name in [
            long_text(),
            "Grüße.txt".into(),
            "plain name.pdf".into(),
            "x".repeat(100),
        ] {
            let mut tokens = vec!["attachment;".to_string()];
            let params = rfc2231_param("filename", &name);
            let last = params.len() - 1;
            for (i, param) in params.into_iter().enumerate() {
                tokens.push(if i < last { format!("{param};") } else { param });
            }
            let field = fold("Content-Disposition", &tokens, "\r\n");
            assert_lines_fit(&field);
            let script = format!(
                "{PY_PRELUDE}h = m['Content-Disposition']\nprint(json.dumps({{\
                 'filename': m.get_filename(), \
                 'param': h.params.get('filename'), \
                 'defects': defects(h)}}))"
            );
            let result = python(&script, &message(&field));
            assert_eq!(result["filename"], name, "{field}");
            assert_eq!(result["param"], name, "{field}");
            assert_eq!(result["defects"], serde_json::json!([]), "{field}");
        }
    }
}
