//! Preparing a message for SMTP: envelope addresses checked for `MAIL FROM`
//! and `RCPT TO` (RFC 5321 §4.1.2, RFC 6531), facts read from the header
//! (recipients for `-t`, the From address, Date and Message-ID present),
//! and the header as it is to be sent (Bcc removed, Date and Message-ID
//! added when missing).
//!
//! The header is read by the one header splitter,
//! [`crate::grammar::header`], with the line ends of [`crate::smtp::data`]:
//! every CR, LF or CRLF ends a line. So the header seen here is the header the server
//! and the recipients will see once the message is canonicalised; a bare CR
//! cannot hide a `Bcc:` line inside another field.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::address::{self, Mailbox};
use crate::error::Error;
use crate::grammar::header::{HeaderBlock, LineEnds, RawField, split_header};

/// How much of the message [`header_facts`] must be given: a header that
/// does not end within it is refused.
pub const HEAD_LIMIT: usize = 1 << 20;

/// Longest reverse-path or forward-path, angle brackets included
/// (RFC 5321 §4.5.3.1.3).
const MAX_PATH_OCTETS: usize = 256;

/// An envelope address checked for SMTP (RFC 5321 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeAddress {
    /// The address as it goes between the angle brackets of
    /// `MAIL FROM:<...>` or `RCPT TO:<...>`; empty for the null
    /// reverse-path `<>`.
    pub address: String,
    /// Whether the address has non-ASCII characters, so that the server
    /// must offer SMTPUTF8 and `MAIL FROM` must carry it (RFC 6531 §3.4).
    pub needs_smtputf8: bool,
}

/// Checks an envelope address for SMTP (RFC 5321 §4.1.2): an addr-spec
/// only, angle brackets tolerated around it, surrounding spaces trimmed; no
/// control characters (CR, LF, NUL and the rest), no unbalanced '<' or '>',
/// no spaces or comments outside quotes, no source route. The null
/// reverse-path `<>` is allowed only with `allow_null` (for `MAIL FROM`).
///
/// The local part is re-quoted only when it must be. With an ASCII local
/// part, an IDN domain is converted to A-labels (and lower-cased), so that
/// SMTPUTF8 is not needed; with a non-ASCII local part SMTPUTF8 is needed
/// anyway (RFC 6531) and the domain is kept as written. Address literals
/// must be IPv4 or `IPv6:` (RFC 5321 §4.1.3). Errors are status 65.
pub fn envelope_address(text: &str, allow_null: bool) -> Result<EnvelopeAddress, Error> {
    let fail = |why: String| Error::data(format!("envelope address {text:?}: {why}"));
    refuse_controls(text).map_err(fail)?;
    let inner = strip_angles(text.trim_matches(' ')).map_err(fail)?;
    if inner.is_empty() {
        return null_path(allow_null).map_err(fail);
    }
    refuse_outside_quotes(inner).map_err(fail)?;
    if inner.starts_with('@') && inner.contains(':') {
        return Err(fail(
            "source routes are obsolete (RFC 5321 appendix C)".into(),
        ));
    }
    let mailbox = address::parse_mailbox(inner).map_err(|e| fail(e.to_string()))?;
    let address = smtp_address(&mailbox).map_err(fail)?;
    if address.len() + 2 > MAX_PATH_OCTETS {
        return Err(fail(format!(
            "longer than the {MAX_PATH_OCTETS} octets SMTP allows (RFC 5321 §4.5.3.1.3)"
        )));
    }
    Ok(EnvelopeAddress {
        needs_smtputf8: !address.is_ascii(),
        address,
    })
}

fn refuse_controls(text: &str) -> Result<(), String> {
    match text.chars().find(char::is_ascii_control) {
        Some('\r') => Err("carriage return in an address".into()),
        Some('\n') => Err("line feed in an address".into()),
        Some('\0') => Err("NUL character in an address".into()),
        Some(c) => Err(format!("control character {c:?} in an address")),
        None => Ok(()),
    }
}

/// The text between a leading '<' and its closing '>', or the whole text.
fn strip_angles(text: &str) -> Result<&str, String> {
    match text.strip_prefix('<') {
        Some(rest) => rest
            .strip_suffix('>')
            .ok_or_else(|| "'<' without its closing '>'".to_string()),
        None if text.ends_with('>') && text.contains('<') => {
            Err("a display name is not allowed; give the address alone".into())
        }
        None if text.ends_with('>') => Err("'>' without an opening '<'".into()),
        None if text.is_empty() => Err("empty address (the null reverse-path is <>)".into()),
        None => Ok(text),
    }
}

/// The null reverse-path `<>` (RFC 5321 §4.1.1.2), when allowed.
fn null_path(allow_null: bool) -> Result<EnvelopeAddress, String> {
    if !allow_null {
        return Err("the null path <> is allowed only as the envelope sender".into());
    }
    Ok(EnvelopeAddress {
        address: String::new(),
        needs_smtputf8: false,
    })
}

/// Refuses what an addr-spec may not have outside quoted strings and
/// domain literals: spaces, angle brackets, comments.
fn refuse_outside_quotes(text: &str) -> Result<(), String> {
    let (mut quoted, mut literal, mut escaped) = (false, false, false);
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if quoted {
            (quoted, escaped) = (c != '"', c == '\\');
        } else if literal {
            literal = c != ']';
        } else {
            match c {
                '"' => quoted = true,
                '[' => literal = true,
                ' ' => return Err("space outside quotes".into()),
                '<' | '>' => return Err(format!("unbalanced '{c}'")),
                '(' | ')' => return Err("comments are not allowed in an envelope address".into()),
                _ => {}
            }
        }
    }
    Ok(())
}

/// `local@domain` for the SMTP command, or why the domain will not do.
fn smtp_address(mailbox: &Mailbox) -> Result<String, String> {
    if mailbox.name.is_some() {
        return Err("a display name is not allowed in an envelope address".into());
    }
    let local = address::quote_local_part(&mailbox.local);
    let domain = match mailbox.domain.strip_prefix('[') {
        Some(literal) => address_literal(literal.strip_suffix(']').unwrap_or(literal))?,
        None => smtp_domain(&mailbox.domain, local.is_ascii())?,
    };
    Ok(format!("{local}@{domain}"))
}

/// An address literal (RFC 5321 §4.1.3), re-bracketed.
fn address_literal(inside: &str) -> Result<String, String> {
    let valid = match inside.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => inside[5..].parse::<Ipv6Addr>().is_ok(),
        _ => inside.parse::<Ipv4Addr>().is_ok(),
    };
    if !valid {
        return Err(format!(
            "[{inside}] is not an IPv4 or IPv6: address literal"
        ));
    }
    Ok(format!("[{inside}]"))
}

/// The domain checked (RFC 1035, RFC 1123 syntax; IDNA), as A-labels when
/// `to_ascii`, else as written.
fn smtp_domain(domain: &str, to_ascii: bool) -> Result<String, String> {
    let ascii = crate::domain::ascii_domain(domain).map_err(|e| format!("domain: {e}"))?;
    Ok(if to_ascii { ascii } else { domain.to_string() })
}

/// What the header of a message says that matters for sending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderFacts {
    /// The recipients for `-t`: the addr-specs of To, Cc and Bcc, or, when
    /// any `Resent-` field is present, of Resent-To, Resent-Cc and
    /// Resent-Bcc instead (as sendmail and Postfix do). Groups flattened,
    /// duplicates dropped (local part exact, domain case-insensitive; the
    /// first spelling is kept). Each still goes through [`envelope_address`].
    pub recipients: Vec<String>,
    /// Why a recipient field did not parse (`"Cc: ..."`, the first one);
    /// its addresses are missing from `recipients`.
    pub recipient_error: Option<String>,
    /// The first mailbox of the first From field, as an addr-spec.
    pub from: Option<String>,
    /// Why there is no `from`: no From field, no mailbox in it, bad syntax.
    pub from_error: Option<String>,
    /// Whether the header has a Date field.
    pub has_date: bool,
    /// Whether the header has a Message-ID field.
    pub has_message_id: bool,
    /// Whether any header byte is 0x80 or above (RFC 6532 needs SMTPUTF8).
    pub eight_bit_header: bool,
    /// Offset of the first header field (after a leading mbox `From ` line,
    /// which is not sent).
    pub header_start: usize,
    /// Offset of the body: after the blank line, or the end of the header
    /// when the message has no body.
    pub body_start: usize,
    /// Byte ranges of the Bcc and Resent-Bcc fields, continuation lines and
    /// line ends included, in order: what is removed before sending.
    pub bcc_lines: Vec<(usize, usize)>,
}

impl HeaderFacts {
    /// The recipients for `-t`, or 65 when a recipient field did not parse
    /// (sending to some of them only would be wrong).
    pub fn t_recipients(&self) -> Result<&[String], Error> {
        match &self.recipient_error {
            Some(why) => Err(Error::data(format!(
                "cannot take the recipients from the header: {why}"
            ))),
            None => Ok(&self.recipients),
        }
    }

    /// The From address as the default envelope sender, or 65 with why not.
    pub fn sender(&self) -> Result<&str, Error> {
        match (&self.from, &self.from_error) {
            (Some(from), _) => Ok(from),
            (None, why) => Err(Error::data(format!(
                "no envelope sender (give -f): {}",
                why.as_deref().unwrap_or("no From field")
            ))),
        }
    }
}

/// The facts of the header at the start of `head` (the first
/// [`HEAD_LIMIT`] bytes of the message, or all of it when shorter). 65 when
/// the message does not start with a header field, or when its header does
/// not end within [`HEAD_LIMIT`].
pub fn header_facts(head: &[u8]) -> Result<HeaderFacts, Error> {
    let HeaderBlock {
        fields: raw,
        header_start,
        body_start,
        has_separator: ended,
    } = split_header(head, LineEnds::Any);
    if !ended && head.len() >= HEAD_LIMIT {
        return Err(Error::data("the message header is longer than 1 MiB"));
    }
    let fields: Vec<(String, &RawField)> = raw
        .iter()
        .filter_map(|f| field_name(head, f).map(|name| (name, f)))
        .collect();
    if raw
        .first()
        .is_none_or(|first| field_name(head, first).is_none())
    {
        return Err(Error::data(
            "the message does not start with a header field",
        ));
    }
    let value = |f: &RawField| f.value(head);
    let has = |name: &str| fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let (recipients, recipient_error) = recipients(&fields, value);
    let (from, from_error) = from_address(&fields, value);
    Ok(HeaderFacts {
        recipients,
        recipient_error,
        from,
        from_error,
        has_date: has("Date"),
        has_message_id: has("Message-ID"),
        eight_bit_header: !head[header_start..body_start].is_ascii(),
        header_start,
        body_start,
        bcc_lines: bcc_ranges(&fields),
    })
}

/// The field name, or `None` for a line that is not a field.
fn field_name(head: &[u8], field: &RawField) -> Option<String> {
    field
        .name(head)
        .map(|name| String::from_utf8_lossy(name).into_owned())
}

/// The recipient addr-specs for `-t`, and why a recipient field did not
/// parse.
fn recipients(
    fields: &[(String, &RawField)],
    value: impl Fn(&RawField) -> String,
) -> (Vec<String>, Option<String>) {
    let resent = fields
        .iter()
        .any(|(n, _)| starts_with_ignore_case(n, "Resent-"));
    let wanted: [&str; 3] = if resent {
        ["Resent-To", "Resent-Cc", "Resent-Bcc"]
    } else {
        ["To", "Cc", "Bcc"]
    };
    let mut found = Recipients::default();
    let mut error = None;
    for (name, field) in fields {
        if !wanted.iter().any(|w| name.eq_ignore_ascii_case(w)) {
            continue;
        }
        let text = value(field);
        if text.trim().is_empty() {
            continue;
        }
        match address::parse_address_list(&text) {
            Ok(list) => address::mailboxes(&list)
                .into_iter()
                .for_each(|m| found.add(m)),
            Err(e) => error = error.or(Some(format!("{name}: {e}"))),
        }
    }
    (found.list, error)
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Addr-specs in order, without duplicates.
#[derive(Default)]
struct Recipients {
    list: Vec<String>,
    seen: Vec<(String, String)>,
}

impl Recipients {
    /// Adds a mailbox unless one with the same local part and the same
    /// domain (ignoring case and IDN spelling) is there already.
    fn add(&mut self, mailbox: &Mailbox) {
        let domain = crate::domain::ascii_domain(&mailbox.domain)
            .unwrap_or_else(|_| mailbox.domain.to_lowercase());
        let key = (mailbox.local.clone(), domain);
        if !self.seen.contains(&key) {
            self.seen.push(key);
            self.list.push(mailbox.addr_spec());
        }
    }
}

/// The first mailbox of the first From field, or why there is none.
fn from_address(
    fields: &[(String, &RawField)],
    value: impl Fn(&RawField) -> String,
) -> (Option<String>, Option<String>) {
    let Some((_, field)) = fields.iter().find(|(n, _)| n.eq_ignore_ascii_case("From")) else {
        return (None, Some("the message has no From field".into()));
    };
    match address::parse_address_list(&value(field)) {
        Ok(list) => match address::mailboxes(&list).first() {
            Some(mailbox) => (Some(mailbox.addr_spec()), None),
            None => (None, Some("the From field names no mailbox".into())),
        },
        Err(e) => (None, Some(format!("From: {e}"))),
    }
}

fn bcc_ranges(fields: &[(String, &RawField)]) -> Vec<(usize, usize)> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Bcc") || n.eq_ignore_ascii_case("Resent-Bcc"))
        .map(|(_, f)| (f.start, f.end))
        .collect()
}

/// The header as it is to be sent: Date and Message-ID added at the top
/// when missing (Message-ID on the From domain, see
/// [`crate::header::message_id_field`]), a leading mbox `From ` line
/// dropped, and with `strip_bcc` the Bcc and Resent-Bcc fields removed
/// (RFC 5322 §3.6.3: the other recipients must not see them). The fields
/// keep their bytes; added fields use the line end of the first header
/// line. The blank line after the header is included; the caller sends
/// `head[facts.body_start..]` and the rest of the message after it.
/// `facts` must come from [`header_facts`] on the same `head`.
pub fn prepared_header(head: &[u8], facts: &HeaderFacts, strip_bcc: bool) -> Vec<u8> {
    let newline = newline_of(head, facts.header_start);
    let mut out = Vec::new();
    if !facts.has_date {
        push_field(&mut out, &crate::header::date_field(), newline);
    }
    if !facts.has_message_id {
        let domain = facts.from.as_deref().and_then(ascii_domain_of);
        push_field(
            &mut out,
            &crate::header::message_id_field(domain.as_deref()),
            newline,
        );
    }
    let mut pos = facts.header_start;
    let removed: &[(usize, usize)] = if strip_bcc { &facts.bcc_lines } else { &[] };
    for &(start, end) in removed {
        if start >= pos {
            out.extend_from_slice(head.get(pos..start).unwrap_or_default());
            pos = end;
        }
    }
    out.extend_from_slice(head.get(pos..facts.body_start).unwrap_or_default());
    out
}

fn push_field(out: &mut Vec<u8>, field: &str, newline: &[u8]) {
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(newline);
}

/// LF when the first header line ends in a bare LF, else CRLF.
fn newline_of(head: &[u8], start: usize) -> &'static [u8] {
    let end = head
        .get(start..)
        .and_then(|rest| memchr::memchr2(b'\r', b'\n', rest));
    match end.and_then(|at| head.get(start + at)) {
        Some(b'\n') => b"\n",
        _ => b"\r\n",
    }
}

/// The A-label domain of an addr-spec, when it has a valid one.
fn ascii_domain_of(addr_spec: &str) -> Option<String> {
    let (_, domain) = addr_spec.rsplit_once('@')?;
    crate::domain::ascii_domain(domain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    fn ok(text: &str, allow_null: bool) -> EnvelopeAddress {
        envelope_address(text, allow_null).unwrap()
    }

    fn refused(text: &str, allow_null: bool) -> String {
        let err = envelope_address(text, allow_null).unwrap_err();
        assert_eq!(err.status(), ExitStatus::DataErr);
        err.to_string()
    }

    #[test]
    fn plain_and_bracketed_addresses() {
        assert_eq!(ok("<a@b.example>", false).address, "a@b.example");
        assert_eq!(ok("a@b.example", false).address, "a@b.example");
        assert_eq!(ok("  <a@B.Example> ", false).address, "a@b.example");
        assert!(!ok("a@b.example", false).needs_smtputf8);
    }

    #[test]
    fn unbalanced_angle_brackets_are_refused() {
        assert!(refused("a@b.example>", false).contains("'>'"));
        assert!(refused("<a@b.example", false).contains("'<'"));
        assert!(refused("<a@b>.example>", false).contains("unbalanced"));
        assert!(refused("Name <a@b.example>", false).contains("display name"));
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(refused("a\r\n@b", false).contains("carriage return"));
        assert!(refused("a@b\n", false).contains("line feed"));
        assert!(refused("a@b\0", false).contains("NUL"));
        assert!(refused("a@b\x7f", false).contains("control"));
        assert!(refused("\"a\tb\"@c.example", false).contains("control"));
    }

    #[test]
    fn null_path_only_for_the_sender() {
        assert_eq!(ok("<>", true).address, "");
        assert!(refused("<>", false).contains("envelope sender"));
        assert!(refused("", true).contains("empty"));
    }

    #[test]
    fn non_ascii_local_part_needs_smtputf8() {
        let address = ok("jörg@example.org", false);
        assert_eq!(address.address, "jörg@example.org");
        assert!(address.needs_smtputf8);
        let idn = ok("jörg@bücher.example", false);
        assert_eq!(idn.address, "jörg@bücher.example");
    }

    #[test]
    fn idn_domain_becomes_a_labels() {
        let address = ok("user@bücher.example", false);
        assert_eq!(address.address, "user@xn--bcher-kva.example");
        assert!(!address.needs_smtputf8);
    }

    #[test]
    fn spaces_and_comments_outside_quotes_are_refused() {
        assert!(refused("a b@c", false).contains("space"));
        assert!(refused("a(x)@c.example", false).contains("comments"));
    }

    #[test]
    fn quoted_local_parts() {
        assert_eq!(ok("\"a b\"@c.example", false).address, "\"a b\"@c.example");
        assert_eq!(
            ok("<\"a<b\"@c.example>", false).address,
            "\"a<b\"@c.example"
        );
        assert_eq!(ok("\"plain\"@c.example", false).address, "plain@c.example");
        assert_eq!(
            ok("\"a\\\"b\"@c.example", false).address,
            "\"a\\\"b\"@c.example"
        );
    }

    #[test]
    fn bad_domains_and_literals() {
        assert!(refused("a@b_c.example", false).contains("domain"));
        assert!(refused("a", false).contains("'@'"));
        assert_eq!(ok("a@[192.0.2.1]", false).address, "a@[192.0.2.1]");
        assert_eq!(
            ok("a@[IPv6:2001:db8::1]", false).address,
            "a@[IPv6:2001:db8::1]"
        );
        assert!(refused("a@[300.1.1.1]", false).contains("literal"));
        assert!(refused("<@relay.example:a@b.example>", false).contains("source route"));
    }

    #[test]
    fn over_long_path_is_refused() {
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(refused(&long, false).contains("256"));
    }

    fn facts(head: &str) -> HeaderFacts {
        header_facts(head.as_bytes()).unwrap()
    }

    #[test]
    fn t_recipients_from_to_cc_bcc() {
        let head = "From: Me <me@x.example>\r\n\
                    To: \"Bob, B.\" <bob@y.example>, carol@Z.example\r\n\
                    Cc: team: dave@y.example, Bob@y.example;, undisclosed:;\r\n\
                    Bcc: BOB@Y.EXAMPLE, bob@Y.example, carol@z.EXAMPLE\r\n\
                    Subject: hi\r\n\r\nbody To: nobody@x.example\r\n";
        let facts = facts(head);
        assert_eq!(
            facts.recipients,
            [
                "bob@y.example",
                "carol@Z.example",
                "dave@y.example",
                "Bob@y.example",
                "BOB@Y.EXAMPLE"
            ]
        );
        assert_eq!(facts.from.as_deref(), Some("me@x.example"));
        assert_eq!(facts.t_recipients().unwrap().len(), 5);
        assert_eq!(facts.sender().unwrap(), "me@x.example");
    }

    #[test]
    fn idn_spellings_of_a_domain_are_one_recipient() {
        let facts = facts("To: a@bücher.example, a@XN--BCHER-KVA.example\n\n");
        assert_eq!(facts.recipients, ["a@bücher.example"]);
    }

    #[test]
    fn resent_fields_replace_the_original_recipients() {
        let head = "Resent-From: r@x.example\nResent-To: new@y.example\n\
                    Resent-Bcc: hidden@y.example\nFrom: a@x.example\nTo: old@y.example\n\n";
        let facts = facts(head);
        assert_eq!(facts.recipients, ["new@y.example", "hidden@y.example"]);
        assert_eq!(facts.bcc_lines.len(), 1);
        let sent = prepared_header(head.as_bytes(), &facts, true);
        assert!(!String::from_utf8(sent).unwrap().contains("hidden"));
    }

    #[test]
    fn empty_bcc_is_no_recipient_and_bad_list_is_reported() {
        let facts = facts("From: a@x.example\nTo: b@y.example\nBcc:\nCc: not an address\n\n");
        assert_eq!(facts.recipients, ["b@y.example"]);
        assert!(
            facts
                .recipient_error
                .as_deref()
                .unwrap()
                .starts_with("Cc: ")
        );
        assert_eq!(
            facts.t_recipients().unwrap_err().status(),
            ExitStatus::DataErr
        );
    }

    #[test]
    fn missing_or_unusable_from() {
        assert!(facts("To: a@b.example\n\n").sender().is_err());
        let group = facts("From: nobody:;\n\n");
        assert_eq!(group.from, None);
        assert!(group.from_error.unwrap().contains("no mailbox"));
        let two = facts("From: a@x.example, b@x.example\nSender: a@x.example\n\n");
        assert_eq!(two.from.as_deref(), Some("a@x.example"));
    }

    #[test]
    fn no_header_is_refused() {
        for head in [
            "",
            "\n\nbody",
            "just text\nTo: a@b.example\n\n",
            " folded: x\n\n",
        ] {
            let err = header_facts(head.as_bytes()).unwrap_err();
            assert_eq!(err.status(), ExitStatus::DataErr, "{head:?}");
        }
    }

    #[test]
    fn header_longer_than_the_limit_is_refused() {
        let mut head = b"Subject: x\n".to_vec();
        head.resize(HEAD_LIMIT, b'a');
        assert_eq!(
            header_facts(&head).unwrap_err().status(),
            ExitStatus::DataErr
        );
    }

    #[test]
    fn header_facts_flags() {
        let facts =
            facts("Date: Thu, 1 Jan 2026 00:00:00 +0000\nMESSAGE-id: <a@b>\nSubject: é\n\nx");
        assert!(facts.has_date && facts.has_message_id && facts.eight_bit_header);
        let plain = self::facts("Subject: x\n\n\u{e9}");
        assert!(!plain.has_date && !plain.has_message_id && !plain.eight_bit_header);
    }

    #[test]
    fn body_start_with_every_line_end() {
        assert_eq!(facts("A: b\r\n\r\nbody").body_start, 8);
        assert_eq!(facts("A: b\n\nbody").body_start, 6);
        assert_eq!(facts("A: b\r\rbody").body_start, 6);
        assert_eq!(facts("A: b").body_start, 4);
    }

    fn prepared(head: &str, strip_bcc: bool) -> String {
        let facts = facts(head);
        let mut sent = prepared_header(head.as_bytes(), &facts, strip_bcc);
        sent.extend_from_slice(&head.as_bytes()[facts.body_start..]);
        String::from_utf8(sent).unwrap()
    }

    const DATED: &str = "Date: Thu, 1 Jan 2026 00:00:00 +0000\nMessage-ID: <1@x.example>\n";

    #[test]
    fn bcc_fields_are_removed_with_their_continuation_lines() {
        let head = format!(
            "{DATED}From: a@x.example\nBcc: one@y.example,\n two@y.example\n\
             To: b@y.example\nbcc: three@y.example\n\nBcc: in the body\n"
        );
        let expected = format!("{DATED}From: a@x.example\nTo: b@y.example\n\nBcc: in the body\n");
        assert_eq!(prepared(&head, true), expected);
        assert_eq!(prepared(&head, false), head);
    }

    #[test]
    fn bcc_lookalike_in_a_continuation_is_kept() {
        let head = format!("{DATED}Subject: about\n Bcc: this is the subject\n\tBcc: too\n\nx");
        assert!(facts(&head).bcc_lines.is_empty());
        assert_eq!(prepared(&head, true), head);
    }

    #[test]
    fn bare_cr_cannot_hide_a_bcc_line() {
        let head = format!("{DATED}Subject: x\rBcc: secret@y.example\r\n\r\nbody");
        let facts = facts(&head);
        assert_eq!(facts.recipients, ["secret@y.example"]);
        assert!(!prepared(&head, true).contains("secret"));
    }

    #[test]
    fn last_field_bcc_without_body() {
        let head = format!("{DATED}To: b@y.example\nBcc: c@y.example");
        assert_eq!(prepared(&head, true), format!("{DATED}To: b@y.example\n"));
    }

    #[test]
    fn date_and_message_id_added_only_when_missing() {
        let sent = prepared("From: a@bücher.example\r\nSubject: x\r\n\r\nbody", true);
        let lines: Vec<&str> = sent.split("\r\n").collect();
        assert!(lines[0].starts_with("Date: "), "{sent}");
        assert!(lines[1].starts_with("Message-ID: <"), "{sent}");
        assert!(lines[1].ends_with("@xn--bcher-kva.example>"), "{sent}");
        assert_eq!(
            lines[2..],
            ["From: a@bücher.example", "Subject: x", "", "body"]
        );
        let only_id = prepared("Date: Thu, 1 Jan 2026 00:00:00 +0000\nSubject: x\n\n", true);
        assert!(only_id.starts_with("Message-ID: <") && only_id.matches("Date:").count() == 1);
        let complete = format!("{DATED}Subject: x\n\nbody");
        assert_eq!(prepared(&complete, true), complete);
    }

    #[test]
    fn mbox_from_line_is_not_sent() {
        let head = format!("From a@x.example Thu Jan  1 00:00:00 2026\n{DATED}To: b@y.example\n\n");
        let facts = facts(&head);
        assert!(facts.header_start > 0);
        assert_eq!(prepared(&head, true), format!("{DATED}To: b@y.example\n\n"));
    }
}
