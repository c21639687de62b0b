//! Content-Transfer-Encoding (RFC 2045 §6.1 mechanisms, §6.4 the identity
//! encodings of composite types).

use super::{Finding, IntoFinding, finding};
use crate::grammar::lex::{Cursor, Mode, Parsed, is_token_byte, show};

/// Content-Transfer-Encoding (RFC 2045 §6.1): 7bit, 8bit, binary,
/// quoted-printable, base64 (any case) or an x-token, comments allowed;
/// rule "cte-syntax" otherwise.
pub fn check_transfer_encoding(value: &str) -> Vec<Finding> {
    match mechanism(value) {
        Err(problem) => vec![problem.into_finding("cte-syntax")],
        Ok((at, token)) if !is_mechanism(token) => {
            let message = format!(
                "unknown transfer encoding {}; expected 7bit, 8bit, binary, \
                 quoted-printable, base64 or an x- token",
                show(token)
            );
            vec![finding("cte-syntax", at, message)]
        }
        Ok(_) => Vec::new(),
    }
}

/// Whether a Content-Transfer-Encoding value is 7bit, 8bit or binary, the
/// only ones allowed for message/* and multipart/* (RFC 2045 §6.4). False
/// for a value that does not parse.
pub fn is_identity_encoding(value: &str) -> bool {
    mechanism(value).is_ok_and(|(_, token)| {
        ["7bit", "8bit", "binary"]
            .iter()
            .any(|known| token.eq_ignore_ascii_case(known))
    })
}

/// The one token of a Content-Transfer-Encoding value, and where it is.
fn mechanism(value: &str) -> Parsed<(usize, &str)> {
    let mut cur = Cursor::new(value);
    cur.skip_cfws(Mode::Strict)?;
    let (at, token) = cur.take(is_token_byte);
    if token.is_empty() {
        return Err(cur.expected("a transfer encoding such as 7bit or base64"));
    }
    cur.skip_cfws(Mode::Strict)?;
    if !cur.at_end() {
        return Err(cur.expected("the end of the value after the encoding"));
    }
    Ok((at, token))
}

fn is_mechanism(token: &str) -> bool {
    let known = ["7bit", "8bit", "binary", "quoted-printable", "base64"];
    let x_token = token.len() > 2 && token.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-"));
    x_token || known.iter().any(|k| token.eq_ignore_ascii_case(k))
}
