//! Content-Type (RFC 2045 §5.1) and its parameters: RFC 2231 names and
//! extended values, the multipart boundary (RFC 2046 §5.1.1), the charset
//! (RFC 2046 §4.1.2), duplicates. The value is read by the strict mode of
//! the one Content-Type parser, [`crate::grammar::content_type`].

use std::collections::HashSet;

use super::encoded_word::is_charset_known;
use super::{Finding, IntoFinding, finding};
use crate::decode::rfc2231::{
    assemble, check_param_name, extended_value_problem, param, split_param_name,
};
use crate::grammar::content_type::{MimeValue, Param, parse};
use crate::grammar::lex::{Mode, show};

/// Name syntax, duplicates and RFC 2231 extended values.
pub(super) fn check_params(params: &[Param], syntax_rule: &'static str, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for p in params {
        let name = match check_param_name(p.name) {
            Ok(name) => name,
            Err(message) => {
                out.push(finding(syntax_rule, p.name_at, message));
                continue;
            }
        };
        if !seen.insert(name.key()) {
            let message = format!(
                "parameter {} appears more than once; readers disagree on which counts",
                show(p.name)
            );
            out.push(finding("content-type-duplicate-param", p.name_at, message));
        }
        if name.extended
            && let Some(message) = extended_value_problem(&p.value, name.section)
        {
            out.push(finding(syntax_rule, p.value_at, message));
        }
    }
}

/// The first plain (not RFC 2231) parameter of this name.
fn plain_param<'p, 'a>(params: &'p [Param<'a>], name: &str) -> Option<&'p Param<'a>> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Content-Type (RFC 2045 §5.1): type "/" subtype tokens, then `;
/// attribute=value` parameters (value a token or a quoted string; RFC 2231
/// attribute*=, attribute*N=, attribute*N*= accepted, extended values'
/// shape checked), comments allowed, nothing else. Rules
/// "content-type-syntax" (the first problem; parsing stops there),
/// "boundary-syntax" (multipart/* without a valid boundary, RFC 2046
/// §5.1.1), "charset-unknown", "content-type-duplicate-param".
pub fn check_content_type(value: &str) -> Vec<Finding> {
    let parsed = parse(value, true, Mode::Strict);
    let mut out = Vec::new();
    check_params(&parsed.params, "content-type-syntax", &mut out);
    if let Some(charset) = plain_param(&parsed.params, "charset")
        && !is_charset_known(&charset.value)
    {
        let message = format!(
            "unknown charset {}; readers will have to guess (RFC 2046 §4.1.2)",
            show(&charset.value)
        );
        out.push(finding("charset-unknown", charset.value_at, message));
    }
    if parsed.kind.eq_ignore_ascii_case("multipart") {
        check_boundary(&parsed, &mut out);
    }
    trailing_semicolon(&parsed, &mut out);
    if let Some(problem) = parsed.problem {
        out.push(problem.into_finding("content-type-syntax"));
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// Rule "mime-trailing-semicolon".
pub(super) fn trailing_semicolon(parsed: &MimeValue, out: &mut Vec<Finding>) {
    if let Some(at) = parsed.trailing_semicolon {
        let message = "';' not followed by a parameter; readers ignore it (RFC 2045 §5.1)";
        out.push(finding("mime-trailing-semicolon", at, message));
    }
}

/// The boundary readers take, RFC 2231 sections joined as
/// [`crate::decode::parse_mime_value`] does, and where the value of its
/// first piece starts.
fn boundary_param(params: &[Param]) -> Option<(String, usize)> {
    let value = param(&assemble(params.to_vec()), "boundary")?.to_string();
    let is_boundary = |p: &&Param| {
        split_param_name(p.name)
            .base
            .eq_ignore_ascii_case("boundary")
    };
    let sectioned = |p: &&Param| is_boundary(p) && !p.name.eq_ignore_ascii_case("boundary");
    let first = params
        .iter()
        .find(sectioned)
        .or_else(|| params.iter().find(is_boundary))?;
    Some((value, first.value_at))
}

/// A multipart boundary: present (plain or in RFC 2231 sections), 1-70
/// bchars, not ending in a space.
fn check_boundary(parsed: &MimeValue, out: &mut Vec<Finding>) {
    let Some((text, value_at)) = boundary_param(&parsed.params) else {
        // A value that stopped parsing early may have had one further on.
        if parsed.problem.is_none() {
            let message = "multipart type without a boundary parameter (RFC 2046 §5.1.1)";
            out.push(finding("boundary-syntax", 0, message));
        }
        return;
    };
    let text = text.as_str();
    let is_bchar = |c: char| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c);
    let problem = if text.is_empty() || text.len() > 70 {
        Some(format!(
            "boundary is {} characters long; 1 to 70 are allowed",
            text.len()
        ))
    } else if let Some(c) = text.chars().find(|&c| !is_bchar(c)) {
        Some(format!("{c:?} is not allowed in a boundary"))
    } else if text.ends_with(' ') {
        Some("boundary ends with a space".into())
    } else {
        None
    };
    if let Some(problem) = problem {
        let message = format!("{problem} (RFC 2046 §5.1.1)");
        out.push(finding("boundary-syntax", value_at, message));
    }
}
