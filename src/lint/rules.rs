//! The rules: each with an id, a severity, the RFC section it follows, and
//! a paragraph for the man page.

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look; the message is still valid.
    Warning,
    /// The message breaks a MUST of the RFCs.
    Error,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }

    fn parse(text: &str) -> Severity {
        if text == "error" {
            Severity::Error
        } else {
            Severity::Warning
        }
    }
}

/// One rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The id, as `--allow`/`--deny` and the diagnostics name it.
    pub id: &'static str,
    /// Its severity unless adjusted.
    pub severity: Severity,
    /// The RFC section it follows.
    pub rfc: &'static str,
    /// What it checks and why.
    pub about: &'static str,
    /// Whether `--fix` repairs what it finds (the man page says so).
    pub fixable: bool,
}

/// The rules whose findings `--fix` repairs, every one of them (see
/// [`super::fix`]): a finding of these never remains in the repair.
/// (`line-too-long` in a part that is not text, or inside a header value
/// without white space to fold at, is the exception the man page names.)
const FIXABLE: &[&str] = &[
    "no-blank-line",
    "raw-8bit-header",
    "line-too-long",
    "bare-cr",
    "bare-lf",
    "mixed-line-endings",
    "missing-date",
    "mime-version-missing",
    "multipart-unclosed",
    "8bit-undeclared",
    "obsolete-field-syntax",
    "byte-order-mark",
];

/// Rules about the message as a whole: lines, structure, required fields,
/// MIME bodies. (Rules about single field values are in `fields`.)
const STRUCTURE_RULES: &[(&str, &str, &str, &str)] = &[
    (
        "no-blank-line",
        "error",
        "RFC 5322 §2.1",
        "The header must end with an empty line before the body. A line without a colon followed by body text means the empty line is missing: readers take the rest of the header as body, or the body as header.",
    ),
    (
        "header-no-colon",
        "error",
        "RFC 5322 §2.2",
        "Every header line is a field (name, colon, value) or the continuation of one (starting with white space). A line without a colon in the middle of the header ends the header early for most readers.",
    ),
    (
        "field-name-syntax",
        "error",
        "RFC 5322 §3.6.8",
        "A field name is one or more printable US-ASCII characters (33-126) other than the colon: no spaces, no control characters, no 8-bit bytes.",
    ),
    (
        "continuation-without-field",
        "error",
        "RFC 5322 §2.2.3",
        "The first line of a header starts with white space, so it continues a field that does not exist.",
    ),
    (
        "byte-order-mark",
        "warning",
        "RFC 5322 §2.1, RFC 3629 §6",
        "The message starts with a UTF-8 byte-order mark (EF BB BF), which is no part of a field name: readers that do not skip it see no header at all. --fix removes it.",
    ),
    (
        "obsolete-field-syntax",
        "warning",
        "RFC 5322 §4.5",
        "White space stands between a field name and its colon (`Subject :`): obsolete syntax that readers must accept but writers must not produce. --fix removes the white space.",
    ),
    (
        "whitespace-only-line",
        "warning",
        "RFC 5322 §3.2.2",
        "A folded field has a continuation line holding nothing but white space. RFC 5322 only accepts this as obsolete syntax (§4.2), and some readers end the header there.",
    ),
    (
        "raw-8bit-header",
        "error",
        "RFC 5322 §2.2, RFC 6532",
        "Header fields must be US-ASCII; non-ASCII text belongs in RFC 2047 encoded-words. With --smtputf8 (RFC 6532) UTF-8 is allowed, but other 8-bit bytes never are.",
    ),
    (
        "line-too-long",
        "error",
        "RFC 5322 §2.1.1",
        "A line is longer than 998 octets (without its line end): SMTP servers may refuse the message or break the line. --fix re-encodes a text part sent as it is as quoted-printable (RFC 2045 §6.7) and folds a header line at white space; a part that is not text, or a header line without white space, stays as it is.",
    ),
    (
        "line-long",
        "warning",
        "RFC 5322 §2.1.1",
        "A line is longer than 78 octets, the length RFC 5322 says lines SHOULD keep to.",
    ),
    (
        "bare-cr",
        "error",
        "RFC 5322 §2.3",
        "A CR that is not followed by LF. CR and LF must only occur together as a line end; SMTP servers treat bare CRs differently (SMTP smuggling).",
    ),
    (
        "bare-lf",
        "error",
        "RFC 5322 §2.3",
        "A LF without CR in a message whose lines otherwise end in CRLF. (A message stored with LF line ends throughout, as Unix mail files are, is not reported.)",
    ),
    (
        "mixed-line-endings",
        "warning",
        "RFC 5322 §2.3",
        "Some lines end in CRLF and others in LF: the message was put together from pieces that were not converted.",
    ),
    (
        "nul-byte",
        "error",
        "RFC 5322 §2.3, RFC 2045 §2.7",
        "A NUL byte: not allowed in a message, even in 8bit data; only binary data transfer (BDAT, RFC 3030) could carry it.",
    ),
    (
        "missing-date",
        "error",
        "RFC 5322 §3.6",
        "The Date field is required.",
    ),
    (
        "missing-from",
        "error",
        "RFC 5322 §3.6",
        "The From field is required.",
    ),
    (
        "duplicate-field",
        "error",
        "RFC 5322 §3.6",
        "A field that may occur at most once (Date, From, Sender, Reply-To, To, Cc, Bcc, Message-ID, In-Reply-To, References, Subject) occurs again.",
    ),
    (
        "sender-required",
        "error",
        "RFC 5322 §3.6.2",
        "From names several mailboxes, so a Sender field must say which one sent the message.",
    ),
    (
        "mime-version-missing",
        "error",
        "RFC 2045 §4",
        "The message uses MIME fields (Content-Type, Content-Transfer-Encoding) but has no MIME-Version field, so readers need not interpret them.",
    ),
    (
        "boundary-not-found",
        "error",
        "RFC 2046 §5.1.1",
        "A multipart's boundary never occurs as a delimiter line in its body, or only its closing delimiter does: the multipart has no parts (mime-unpack shows its body, or the preamble before the closing delimiter, as one text part).",
    ),
    (
        "multipart-unclosed",
        "error",
        "RFC 2046 §5.1.1",
        "A multipart has no closing delimiter (--boundary--): the message was cut short, or the boundary is wrong.",
    ),
    (
        "boundary-prefix",
        "error",
        "RFC 2046 §5.1.2",
        "A nested multipart's boundary begins with the boundary of an enclosing one (or the other way round): a delimiter of one can be taken for the other.",
    ),
    (
        "cte-not-allowed",
        "error",
        "RFC 2045 §6.4",
        "A multipart or message/rfc822 part is declared base64 or quoted-printable: only 7bit, 8bit or binary are allowed for composite types.",
    ),
    (
        "8bit-undeclared",
        "error",
        "RFC 2045 §2.7, §6.2",
        "A body declared 7bit (or without a Content-Transfer-Encoding, which means 7bit) holds 8-bit bytes.",
    ),
    (
        "base64-invalid",
        "error",
        "RFC 2045 §6.8",
        "A base64 body holds characters outside the base64 alphabet, padding in the wrong place, or an incomplete last group.",
    ),
    (
        "base64-line-length",
        "warning",
        "RFC 2045 §6.8",
        "A base64 line is longer than 76 characters.",
    ),
    (
        "qp-invalid",
        "error",
        "RFC 2045 §6.7",
        "A quoted-printable body has an = not followed by two hexadecimal digits or a line end.",
    ),
    (
        "qp-line-length",
        "warning",
        "RFC 2045 §6.7",
        "A quoted-printable line is longer than 76 characters.",
    ),
    (
        "qp-8bit",
        "error",
        "RFC 2045 §6.7",
        "A quoted-printable body holds raw 8-bit bytes, which it exists to avoid.",
    ),
    (
        "charset-invalid",
        "error",
        "RFC 2046 §4.1.2",
        "A text part's decoded bytes are not valid in the charset it declares (UTF-8 by default for 8-bit text is not assumed: us-ascii is).",
    ),
    (
        "filename-deceptive",
        "warning",
        "RFC 2183 §5",
        "The file name of an attachment (filename or name parameter, decoded) holds a control character, an invisible Unicode format character (a bidirectional control such as U+202E, a zero-width character, U+FEFF) or a path separator: it shows as a name it is not (invoice<U+202E>fdp.exe shows as invoiceexe.pdf) or asks to be written elsewhere. Checked on the parts that are attachments by mime-unpack's rule (declared attachment, named, or not text; not the images an HTML body shows).",
    ),
    (
        "not-a-message",
        "error",
        "RFC 5322 §2.1",
        "The input does not begin with header fields: it is not a message at all (empty, binary, or a body alone).",
    ),
    (
        "limit",
        "warning",
        "-",
        "A limit of the linter was reached (nesting depth 64, 10 000 parts, 256 KiB of header per part): the rest is checked less closely.",
    ),
];

/// Every rule, structure rules first, then field rules; ids unique.
pub fn all() -> &'static [Rule] {
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    RULES.get_or_init(build)
}

fn build() -> Vec<Rule> {
    STRUCTURE_RULES
        .iter()
        .chain(super::fields::FIELD_RULES.iter())
        .map(|&(id, severity, rfc, about)| Rule {
            id,
            severity: Severity::parse(severity),
            rfc,
            about,
            fixable: FIXABLE.contains(&id),
        })
        .collect()
}

/// The rule with this id.
pub fn find(id: &str) -> Option<Rule> {
    all().iter().find(|rule| rule.id == id).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_kebab_case() {
        let rules = super::all();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(before, ids.len(), "duplicate rule ids");
        for id in ids {
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id}"
            );
        }
    }
}
