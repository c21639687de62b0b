//! MIME-Version (RFC 2045 §4): only "1.0" is defined.

use super::{Finding, IntoFinding};
use crate::grammar::lex::{Cursor, Mode, Parsed, Problem, show};

/// MIME-Version (RFC 2045 §4): "1.0", comments allowed anywhere between
/// the numbers; rule "mime-version-syntax" otherwise (2.0 and 1.1 included:
/// no other version is defined).
pub fn check_mime_version(value: &str) -> Vec<Finding> {
    match mime_version(value) {
        Ok(()) => Vec::new(),
        Err(problem) => vec![problem.into_finding("mime-version-syntax")],
    }
}

fn mime_version(value: &str) -> Parsed<()> {
    let mut cur = Cursor::new(value);
    cur.skip_cfws(Mode::Strict)?;
    let (at, major) = cur.take(|b| b.is_ascii_digit());
    if major.is_empty() {
        return Err(cur.expected("the version 1.0"));
    }
    cur.skip_cfws(Mode::Strict)?;
    if !cur.eat(b'.') {
        return Err(cur.expected("'.' in the version 1.0"));
    }
    cur.skip_cfws(Mode::Strict)?;
    let (_, minor) = cur.take(|b| b.is_ascii_digit());
    if minor.is_empty() {
        return Err(cur.expected("the minor version number (1.0)"));
    }
    cur.skip_cfws(Mode::Strict)?;
    if !cur.at_end() {
        return Err(cur.expected("the end of the value after the version"));
    }
    if major.trim_start_matches('0') != "1" || !minor.trim_start_matches('0').is_empty() {
        let version = format!("{major}.{minor}");
        let message = format!(
            "MIME-Version {}: only 1.0 is defined (RFC 2045 §4)",
            show(&version)
        );
        return Err(Problem::new(at, message));
    }
    Ok(())
}
