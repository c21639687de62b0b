//! Checks of single header field values, for `rfc822-lint`.
//!
//! Each `check_*` function takes one field's value: the text after the
//! colon, unfolded (the CRLF or LF of each fold removed, the white space
//! after it kept). Leading and trailing white space may be kept or trimmed:
//! every [`Finding::offset`] is a byte offset into the value exactly as
//! passed, so the caller maps it back through whatever it removed. CR and
//! LF left in a value count as white space here; bare line ends and raw
//! 8-bit bytes are the caller's to report.
//!
//! Every rule id, with its severity, RFC section and explanation, is in
//! [`FIELD_RULES`]. The checks read hostile mail: no input makes them
//! panic, each runs in time linear in the value, and nested comments are
//! counted, not recursed.
//!
//! One file per field grammar; the lexical layer (CFWS, quoted strings,
//! tokens) is [`crate::grammar::lex`], the Content-Type parser
//! [`crate::grammar::content_type`], and the RFC 2047 and RFC 2231 codecs
//! [`crate::decode::rfc2047`] and [`crate::decode::rfc2231`], each in its
//! strict mode, shared with the readers:
//!
//! | file | field | grammar |
//! | --- | --- | --- |
//! | [`date`] | Date, Resent-Date | RFC 5322 §3.3, §4.3 |
//! | [`address`] | From, To, Cc, Bcc, Sender, Reply-To, Resent-* | RFC 5322 §3.4, §3.6.2, §3.6.3 |
//! | [`message_id`] | Message-ID, In-Reply-To, References | RFC 5322 §3.6.4, §4.5.4 |
//! | [`encoded_word`] | unstructured text and phrases | RFC 2047 §2, §4, §5 |
//! | [`content_type`] | Content-Type and its parameters | RFC 2045 §5.1, RFC 2046 §5.1.1, RFC 2231 |
//! | [`transfer_encoding`] | Content-Transfer-Encoding | RFC 2045 §6.1, §6.4 |
//! | [`disposition`] | Content-Disposition | RFC 2183 §2 |
//! | [`mime_version`] | MIME-Version | RFC 2045 §4 |

pub mod address;
pub mod content_type;
pub mod date;
pub mod disposition;
pub mod encoded_word;
pub mod message_id;
pub mod mime_version;
pub mod transfer_encoding;

pub use address::{check_address_list, mailbox_count};
pub use content_type::check_content_type;
pub use date::check_date;
pub use disposition::check_disposition;
pub use encoded_word::{WordContext, check_encoded_words};
pub use message_id::check_msg_ids;
pub use mime_version::check_mime_version;
pub use transfer_encoding::{check_transfer_encoding, is_identity_encoding};

use crate::grammar::lex::Problem;

/// One problem in a field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule id (kebab-case, one of [`FIELD_RULES`]).
    pub rule: &'static str,
    /// Byte offset in the value where the problem is (0 if it concerns the
    /// whole value).
    pub offset: usize,
    /// One line, specific: what is wrong and what was expected.
    pub message: String,
}

/// Every rule this module emits: id, severity ("error" or "warning"), RFC
/// section, and a paragraph for the man page.
pub const FIELD_RULES: &[(&str, &str, &str, &str)] = &[
    (
        "date-syntax",
        "error",
        "RFC 5322 §3.3",
        "A Date or Resent-Date value must be a date-time: an optional day name and comma, \
         the day of the month (1 or 2 digits), a month name, the year, hh:mm or hh:mm:ss, and \
         a zone +hhmm or -hhmm, separated by white space; comments may appear between the \
         parts. Readers that cannot parse the date sort and thread the message wrongly.",
    ),
    (
        "date-invalid",
        "error",
        "RFC 5322 §3.3",
        "A date-time that parses but cannot be true: a day the month does not have (31 Feb, \
         29 Feb in a common year), an hour above 23, a minute above 59, a second above 60, \
         zone minutes above 59, a year before 1900, or a day name that is not the weekday of \
         the date.",
    ),
    (
        "date-obsolete",
        "warning",
        "RFC 5322 §4.3",
        "A date-time in the obsolete syntax that RFC 5322 tells readers to accept but writers \
         not to generate: a 2- or 3-digit year, an alphabetic zone (UT, GMT, EST, ..., or a \
         military letter, which carries no usable offset), or white space around the ':' of \
         the time.",
    ),
    (
        "address-syntax",
        "error",
        "RFC 5322 §3.4, §3.6.2, §3.6.3; RFC 6532 §3.2",
        "An address field (From, Sender, Reply-To, To, Cc, Bcc, Resent-*) must be a list of \
         mailboxes and groups; From and Sender take mailboxes only (no groups), Sender exactly \
         one, and only Bcc may be empty. A non-ASCII local part or domain needs SMTPUTF8 \
         (RFC 6532); otherwise the domain must be written as A-labels.",
    ),
    (
        "msgid-syntax",
        "error",
        "RFC 5322 §3.6.4",
        "Message-ID holds exactly one msg-id, In-Reply-To and References one or more: \
         \"<\" id-left \"@\" id-right \">\", the left part a dot-atom-text, the right part a \
         dot-atom-text or a [literal]. Threading breaks when identifiers cannot be parsed.",
    ),
    (
        "msgid-obsolete",
        "warning",
        "RFC 5322 §4.5.4",
        "A msg-id in the obsolete syntax: a quoted string in the left part, white space or \
         comments inside the angle brackets, white space or quoted-pairs in a [literal], or \
         phrase words between the msg-ids of In-Reply-To or References.",
    ),
    (
        "encoded-word-length",
        "error",
        "RFC 2047 §2",
        "An encoded-word (=?charset?encoding?text?=) may be at most 75 characters long, \
         delimiters included; longer text must be split into several encoded-words separated \
         by white space.",
    ),
    (
        "encoded-word-placement",
        "warning",
        "RFC 2047 §5",
        "An encoded-word is only decoded where it stands as a whole word: separated from \
         adjacent text by white space (or by the parentheses of a comment), as a word of a \
         display name, or in a comment. Inside a quoted string or an addr-spec, or glued to \
         other text, conforming readers show it undecoded.",
    ),
    (
        "encoded-word-charset",
        "error",
        "RFC 2047 §2, §3",
        "The charset of an encoded-word is not one that readers know (a WHATWG label, \
         us-ascii, or unknown-8bit), so its text cannot be decoded. An RFC 2231 language \
         suffix (utf-8*en) is allowed.",
    ),
    (
        "encoded-word-encoding",
        "error",
        "RFC 2047 §4",
        "The encoding of an encoded-word must be B (base64) or Q (a quoted-printable \
         variant), in either case.",
    ),
    (
        "encoded-word-payload",
        "error",
        "RFC 2047 §4.1, §4.2, §5",
        "The encoded text of an encoded-word does not decode: B text with characters outside \
         base64 or a length that is not a multiple of 4; Q text with a malformed =XX or a \
         character not allowed where the word stands (in a display name only letters, digits \
         and !*+-/=_); or decoded bytes that are not valid in the declared charset.",
    ),
    (
        "encoded-word-syntax",
        "warning",
        "RFC 2047 §2",
        "Text that starts like an encoded-word (=?charset?) but lacks its encoding, its \
         encoded text, or the closing ?=; it will be shown as is, often by mistake (a space \
         inside the encoded text is the usual cause).",
    ),
    (
        "content-type-syntax",
        "error",
        "RFC 2045 §5.1; RFC 2231 §3, §4",
        "A Content-Type value must be type \"/\" subtype followed by \"; attribute=value\" \
         parameters, values being tokens or quoted strings (a value with special characters \
         such as = or / must be quoted); RFC 2231 names (name*, name*0, name*0*) and \
         charset'language'%XX values are accepted when well formed. Nothing else may follow \
         (a lone ';' at the end is the warning mime-trailing-semicolon).",
    ),
    (
        "mime-trailing-semicolon",
        "warning",
        "RFC 2045 §5.1; RFC 2183 §2",
        "A Content-Type or Content-Disposition value ends with a ';' that no parameter \
         follows. The grammar does not allow it, but it is common and every reader \
         ignores it; a strict parser may not.",
    ),
    (
        "boundary-syntax",
        "error",
        "RFC 2046 §5.1.1",
        "A multipart Content-Type needs a boundary parameter of 1 to 70 characters drawn from \
         letters, digits, space and '()+_,-./:=? and not ending in a space; without a valid \
         boundary the parts cannot be found.",
    ),
    (
        "charset-unknown",
        "warning",
        "RFC 2046 §4.1.2; RFC 2978",
        "The charset parameter of a Content-Type names a charset that readers do not know \
         (not a WHATWG label, us-ascii or unknown-8bit): the text will be shown as a guess.",
    ),
    (
        "content-type-duplicate-param",
        "warning",
        "RFC 2045 §5.1; RFC 2183 §2",
        "A Content-Type or Content-Disposition parameter appears twice (compared without \
         regard to case; name and name* are different parameters, as are RFC 2231 sections). \
         Readers disagree on which value counts, which attackers use to hide attachments.",
    ),
    (
        "cte-syntax",
        "error",
        "RFC 2045 §6.1",
        "Content-Transfer-Encoding must be one of 7bit, 8bit, binary, quoted-printable or \
         base64 (in any case), or an x- token; any other value leaves the body undecodable.",
    ),
    (
        "disposition-syntax",
        "error",
        "RFC 2183 §2",
        "A Content-Disposition value must be a disposition type (inline, attachment or an \
         extension token) followed by parameters as in Content-Type; creation-date, \
         modification-date and read-date must be quoted RFC 5322 date-times with numeric \
         zones, and size a number of octets.",
    ),
    (
        "mime-version-syntax",
        "error",
        "RFC 2045 §4",
        "MIME-Version must be 1.0, the only version defined, optionally with comments; \
         readers may treat the message as non-MIME otherwise.",
    ),
];

/// The severity ("error" or "warning") of a rule in [`FIELD_RULES`].
pub fn severity(rule: &str) -> Option<&'static str> {
    FIELD_RULES.iter().find(|r| r.0 == rule).map(|r| r.1)
}

fn finding(rule: &'static str, offset: usize, message: impl Into<String>) -> Finding {
    Finding {
        rule,
        offset,
        message: message.into(),
    }
}

/// A parse's problem as a finding of `rule`.
trait IntoFinding {
    fn into_finding(self, rule: &'static str) -> Finding;
}

impl IntoFinding for Problem {
    fn into_finding(self, rule: &'static str) -> Finding {
        finding(rule, self.offset, self.message)
    }
}

/// atext (RFC 5322 §3.2.3, UTF-8 per RFC 6532) as bytes.
fn is_atext_byte(b: u8) -> bool {
    b >= 0x80 || crate::address::is_atext(b as char)
}

#[cfg(test)]
mod tests;
