//! Content-Disposition (RFC 2183 §2): the disposition type, parameters as
//! in Content-Type, and the values RFC 2183 defines (dates, size).

use super::content_type::{check_params, trailing_semicolon};
use super::date::date_findings;
use super::{Finding, IntoFinding, finding};
use crate::grammar::content_type::{Param, parse};
use crate::grammar::lex::{Mode, show};

/// Content-Disposition (RFC 2183 §2): a disposition-type token (inline,
/// attachment, or an extension token), then parameters as in Content-Type;
/// creation-date, modification-date and read-date must be quoted RFC 5322
/// date-times with numeric zones, size a number. Rule "disposition-syntax";
/// a repeated parameter is "content-type-duplicate-param".
pub fn check_disposition(value: &str) -> Vec<Finding> {
    let parsed = parse(value, false, Mode::Strict);
    let mut out = Vec::new();
    check_params(&parsed.params, "disposition-syntax", &mut out);
    for p in &parsed.params {
        disposition_param(p, &mut out);
    }
    trailing_semicolon(&parsed, &mut out);
    if let Some(problem) = parsed.problem {
        out.push(problem.into_finding("disposition-syntax"));
    }
    out.sort_by_key(|f| f.offset);
    out
}

/// The shape of the values RFC 2183 §2 defines.
fn disposition_param(p: &Param, out: &mut Vec<Finding>) {
    let name = p.name.to_ascii_lowercase();
    let problem = match name.as_str() {
        "creation-date" | "modification-date" | "read-date" => date_param_problem(p),
        "size" if p.value.is_empty() || !p.value.bytes().all(|b| b.is_ascii_digit()) => Some(
            format!("size {} must be a number of octets", show(&p.value)),
        ),
        _ => None,
    };
    if let Some(problem) = problem {
        let message = format!("{problem} (RFC 2183 §2)");
        out.push(finding("disposition-syntax", p.value_at, message));
    }
}

fn date_param_problem(p: &Param) -> Option<String> {
    if !p.quoted {
        return Some(format!("{} must be a quoted date-time", p.name));
    }
    let (findings, alpha_zone) = date_findings(&p.value);
    if let Some(f) = findings.iter().find(|f| f.rule != "date-obsolete") {
        return Some(format!(
            "{} is not a valid date-time: {}",
            p.name, f.message
        ));
    }
    alpha_zone.then(|| format!("{} must use a numeric zone (+hhmm or -hhmm)", p.name))
}
