//! Tests of the field checks: clean values, each rule with its offset, hostile input.

use super::date::{is_leap, weekday};
use super::*;

/// (rule, offset) of each finding.
fn found(findings: &[Finding]) -> Vec<(&'static str, usize)> {
    findings.iter().map(|f| (f.rule, f.offset)).collect()
}

fn assert_clean(findings: Vec<Finding>, value: &str) {
    assert!(findings.is_empty(), "{value:?}: {findings:?}");
}

fn addresses(value: &str) -> Vec<(&'static str, usize)> {
    found(&check_address_list(value, true, false, false, false))
}

// ---- FIELD_RULES ----

#[test]
fn rule_table_is_complete_and_unique() {
    let mut ids: Vec<&str> = FIELD_RULES.iter().map(|r| r.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), FIELD_RULES.len());
    assert_eq!(ids.len(), 20);
    for (id, severity, section, text) in FIELD_RULES {
        assert!(matches!(*severity, "error" | "warning"), "{id}");
        assert!(section.starts_with("RFC "), "{id}");
        assert!(text.len() > 80, "{id}");
    }
    assert_eq!(severity("date-obsolete"), Some("warning"));
    assert_eq!(severity("cte-syntax"), Some("error"));
    assert_eq!(severity("no-such-rule"), None);
}

// ---- dates ----

#[test]
fn dates_clean() {
    for value in [
        "Mon, 01 Jan 2024 00:00:00 +0000",
        "1 Jan 2024 00:00 +0100",
        "(Mon) 01 Jan 2024 00:00:00 +0000 (UTC)",
        "  Thu, 29 Feb 2024 12:30:59 -0800",
        "Tue, 29 Feb 2000 00:00:00 +0000",
        "sun, 31 dec 2023 23:59:60 +1400",
        "Mon,01 Jan 2024 00:00:00 -0000",
        "Mon, 01 Jan 2024 00:00:00 +0000 (Coordinated\r\n Universal Time)",
    ] {
        assert_clean(check_date(value), value);
    }
}

#[test]
fn dates_invalid() {
    let cases: &[(&str, usize)] = &[
        ("Tue, 01 Jan 2024 00:00:00 +0000", 0),
        ("31 Feb 2024 00:00:00 +0000", 0),
        ("29 Feb 2023 00:00:00 +0000", 0),
        ("29 Feb 1900 00:00:00 +0000", 0),
        ("00 Jan 2024 00:00:00 +0000", 0),
        ("31 Apr 2024 00:00:00 +0000", 0),
        ("Mon, 01 Jan 2024 24:00:00 +0000", 17),
        ("01 Jan 2024 00:60:00 +0000", 15),
        ("01 Jan 2024 00:00:61 +0000", 18),
        ("01 Jan 2024 00:00:00 +0160", 21),
        ("01 Jan 1899 00:00:00 +0000", 7),
    ];
    for &(value, offset) in cases {
        assert_eq!(
            found(&check_date(value)),
            [("date-invalid", offset)],
            "{value}"
        );
    }
    let message = &check_date("Tue, 01 Jan 2024 00:00:00 +0000")[0].message;
    assert!(
        message.contains("Mon") && message.contains("Tue"),
        "{message}"
    );
}

#[test]
fn dates_obsolete() {
    assert_eq!(
        found(&check_date("01 Jan 24 00:00:00 GMT")),
        [("date-obsolete", 7), ("date-obsolete", 19)]
    );
    assert_eq!(
        found(&check_date("01 Jan 124 00:00 +0000")),
        [("date-obsolete", 7)]
    );
    assert_eq!(
        found(&check_date("01 Jan 2024 00:00 Z")),
        [("date-obsolete", 18)]
    );
    assert_eq!(
        found(&check_date("01 Jan 2024 00 : 00 +0000")),
        [("date-obsolete", 15)]
    );
    // 99 is 1999, whose 1 Jan was a Friday.
    assert_clean(
        check_date("Fri, 01 Jan 99 00:00 +0000")
            .into_iter()
            .filter(|f| f.rule != "date-obsolete")
            .collect(),
        "2-digit year weekday",
    );
}

#[test]
fn dates_syntax() {
    let cases: &[(&str, usize)] = &[
        ("2024-01-01T00:00:00Z", 0),
        ("Mon 01 Jan 2024 00:00:00 +0000", 4),
        ("Monday, 01 Jan 2024 00:00:00 +0000", 0),
        ("01 January 2024 00:00:00 +0000", 3),
        ("01Jan 2024 00:00:00 +0000", 2),
        ("01 Jan 2024 00:00:00+0000", 20),
        ("01 Jan 2024 00:00:00", 20),
        ("01 Jan 2024 0:00:00 +0000", 12),
        ("01 Jan 2 00:00 +0000", 7),
        ("01 Jan 2024 00:00:00 +000", 21),
        ("01 Jan 2024 00:00:00 CET", 21),
        ("01 Jan 2024 00:00:00 J", 21),
        ("01 Jan 2024 00:00:00 +0000 x", 27),
        ("01 Jan 2024 00:00:00 +0000 (open", 27),
        ("", 0),
    ];
    for &(value, offset) in cases {
        assert_eq!(
            found(&check_date(value)),
            [("date-syntax", offset)],
            "{value}"
        );
    }
}

#[test]
fn weekdays_over_the_calendar() {
    assert_eq!(weekday(1, 0, 2024 % 400), 1);
    assert_eq!(weekday(29, 1, 2000 % 400), 2);
    assert_eq!(weekday(4, 6, 1776 % 400), 4);
    assert_eq!(weekday(1, 0, 1900 % 400), 1);
    assert!(is_leap(2000 % 400) && !is_leap(1900 % 400) && !is_leap(2023 % 400));
    let big = "Fri, 01 Jan 99999999999999999999999 00:00 +0000";
    // 10^23 - 1 is 399 modulo 400; 1 Jan 2399 is a Friday.
    assert_clean(check_date(big), big);
}

// ---- addresses ----

#[test]
fn groups_refused_where_mailboxes_are_required() {
    let from = |v| found(&check_address_list(v, false, false, false, false));
    assert_eq!(from("a@b, Group: c@d;"), [("address-syntax", 5)]);
    assert_eq!(from("Group: c@d;"), [("address-syntax", 0)]);
    assert!(from("a@b, C <c@d>").is_empty());
    assert!(addresses("a@b, Group: c@d;").is_empty());
}

#[test]
fn sender_holds_one_mailbox() {
    let sender = |v| found(&check_address_list(v, false, true, false, false));
    assert_eq!(sender("a@b, c@d"), [("address-syntax", 5)]);
    assert_eq!(sender("A <a@b>, \"C, D\" <c@d>"), [("address-syntax", 9)]);
    assert!(sender("A <a@b>").is_empty());
}

#[test]
fn empty_lists() {
    let bcc = |v| found(&check_address_list(v, true, false, true, false));
    assert!(bcc("").is_empty());
    assert!(bcc("   ").is_empty());
    assert!(bcc(" (hidden) ").is_empty());
    assert_eq!(bcc("(open"), [("address-syntax", 0)]);
    assert_eq!(addresses(""), [("address-syntax", 0)]);
    assert_eq!(addresses("  "), [("address-syntax", 2)]);
    assert!(addresses("undisclosed-recipients:;").is_empty());
}

#[test]
fn parser_errors_keep_their_offsets() {
    assert_eq!(addresses("a@b c"), [("address-syntax", 4)]);
    assert_eq!(addresses("a..b@x"), [("address-syntax", 2)]);
    assert!(addresses("John (the man) Smith <js@example.org>").is_empty());
}

#[test]
fn non_ascii_addresses_need_smtputf8() {
    let plain = |v| found(&check_address_list(v, true, false, false, false));
    let utf8 = |v| found(&check_address_list(v, true, false, false, true));
    assert_eq!(plain("jöran@example.org"), [("address-syntax", 1)]);
    assert_eq!(plain("J <j@exämple.org>"), [("address-syntax", 7)]);
    assert_eq!(plain("\"jö\" (c) @x.org"), [("address-syntax", 2)]);
    assert!(utf8("jöran@exämple.org").is_empty());
    assert!(plain("Jöran (Zoë) <j@example.org>").is_empty());
    assert!(plain("j@[1.2.3.4]").is_empty());
}

#[test]
fn mailbox_counts() {
    assert_eq!(mailbox_count("a@b"), 1);
    assert_eq!(mailbox_count("a@b, G: c@d, e@f;, g@h"), 4);
    assert_eq!(mailbox_count("G:;"), 0);
    assert_eq!(mailbox_count("not an address"), 0);
}

// ---- msg-id ----

#[test]
fn msg_ids_clean() {
    for value in [
        "<a.b@c.d>",
        "<a@[1.2.3.4]>",
        " <x!#$%@example.org> (comment)",
    ] {
        assert_clean(check_msg_ids(value, false), value);
    }
    let refs = "<a@b.example>\r\n <c.d@e.example> (third:) <f@[g]>";
    assert_clean(check_msg_ids(refs, true), refs);
    assert_clean(check_msg_ids("<a@b><c@d>", true), "adjacent");
}

#[test]
fn msg_ids_syntax() {
    let one: &[(&str, usize)] = &[
        ("a@b", 0),
        ("<a@b> <c@d>", 6),
        ("<a b@c>", 3),
        ("<a..b@c>", 3),
        ("<.a@c>", 1),
        ("<a@b.>", 5),
        ("<a@b", 4),
        ("<@b>", 1),
        ("<a>", 2),
        ("<a@[b\u{1}]>", 5),
        ("", 0),
        ("(only a comment)", 16),
    ];
    for &(value, offset) in one {
        assert_eq!(
            found(&check_msg_ids(value, false)),
            [("msgid-syntax", offset)],
            "{value}"
        );
    }
    assert_eq!(
        found(&check_msg_ids("<a@b> c@d", true)),
        [("msgid-syntax", 6)]
    );
    assert_eq!(
        found(&check_msg_ids("<a@b>, <c@d>", true)),
        [("msgid-syntax", 5)]
    );
}

#[test]
fn msg_ids_obsolete() {
    assert_eq!(
        found(&check_msg_ids("<\"a b\"@c>", false)),
        [("msgid-obsolete", 1)]
    );
    assert_eq!(
        found(&check_msg_ids("< a@b>", false)),
        [("msgid-obsolete", 1)]
    );
    assert_eq!(
        found(&check_msg_ids("<a@[1. 2]>", false)),
        [("msgid-obsolete", 3)]
    );
    assert_eq!(
        found(&check_msg_ids(
            "Your message of today <a@b> \"x\" <c@d>",
            true
        )),
        [("msgid-obsolete", 0)]
    );
    assert_eq!(
        found(&check_msg_ids("Your message", true)),
        [("msgid-obsolete", 0), ("msgid-syntax", 12)]
    );
}

// ---- encoded-words ----

fn words(value: &str, context: WordContext) -> Vec<(&'static str, usize)> {
    found(&check_encoded_words(value, context))
}

fn subject(value: &str) -> Vec<(&'static str, usize)> {
    words(value, WordContext::Unstructured)
}

#[test]
fn encoded_words_clean() {
    for value in [
        "=?utf-8?q?caf=C3=A9?=",
        "=?UTF-8?Q?caf=c3=a9?= =?utf-8?b?Y2Fmw6k=?=",
        "=?iso-8859-1?q?caf=E9?=",
        "=?utf-8*en?q?a_b?=",
        "Re: =?us-ascii?q?plain?= text",
        "=?unknown-8bit?q?=FF?=",
        "price =? none",
        "a=?b",
    ] {
        assert_clean(check_encoded_words(value, WordContext::Unstructured), value);
    }
    let phrase = "=?utf-8?q?J=C3=B6ran?= (=?utf-8?q?a\"b?= x) <j@example.org>";
    assert_eq!(
        words(phrase, WordContext::Phrase),
        [("encoded-word-payload", 35)]
    );
    let phrase = "=?utf-8?q?J=C3=B6ran?= (=?utf-8?q?hi?=) <j@example.org>";
    assert!(words(phrase, WordContext::Phrase).is_empty());
    assert!(words("=?utf-8?x?abc?=", WordContext::None).is_empty());
}

#[test]
fn encoded_word_length() {
    let word = |len: usize| format!("=?utf-8?q?{}?=", "a".repeat(len - 12));
    assert_eq!(subject(&word(76)), [("encoded-word-length", 0)]);
    assert!(subject(&word(75)).is_empty());
}

#[test]
fn encoded_word_encoding_and_charset() {
    assert_eq!(subject("=?utf-8?x?abc?="), [("encoded-word-encoding", 8)]);
    assert_eq!(subject("=?no-such?q?a?="), [("encoded-word-charset", 2)]);
    assert!(subject("=?iso-8859-15?q?a?=").is_empty());
}

#[test]
fn encoded_word_payload() {
    assert_eq!(subject("=?utf-8?b?!!!!?="), [("encoded-word-payload", 10)]);
    assert_eq!(
        subject("=?utf-8?b?Y2Fmw6?="),
        [("encoded-word-payload", 10)]
    );
    assert_eq!(
        subject("=?utf-8?b?Y2F===?="),
        [("encoded-word-payload", 10)]
    );
    assert_eq!(
        subject("=?utf-8?q?caf=E9?="),
        [("encoded-word-payload", 10)]
    );
    assert_eq!(
        subject("=?utf-8?q?caf=G9?="),
        [("encoded-word-payload", 13)]
    );
    assert_eq!(subject("=?utf-8?q?caf=C?="), [("encoded-word-payload", 13)]);
    assert_eq!(subject("=?utf-8?q?café?="), [("encoded-word-payload", 13)]);
    assert_eq!(
        subject("=?us-ascii?q?=E9?="),
        [("encoded-word-payload", 13)]
    );
    assert_eq!(
        words("=?utf-8?q?a.b?= <a@b>", WordContext::Phrase),
        [("encoded-word-payload", 11)]
    );
    assert!(subject("=?utf-8?q?a.b?=").is_empty());
}

#[test]
fn encoded_word_placement() {
    let phrase = |v| words(v, WordContext::Phrase);
    assert_eq!(
        phrase("\"=?utf-8?q?a?=\" <a@b>"),
        [("encoded-word-placement", 1)]
    );
    assert_eq!(phrase("<=?utf-8?q?a?=@b>"), [("encoded-word-placement", 1)]);
    assert_eq!(phrase("=?utf-8?q?a?=@b"), [("encoded-word-placement", 0)]);
    assert_eq!(
        phrase("x=?utf-8?q?a?= <a@b>"),
        [("encoded-word-placement", 1)]
    );
    assert!(phrase("=?utf-8?q?a?= <a@b>").is_empty());
    assert!(phrase("=?utf-8?q?G?=: a@b;").is_empty());
    assert_eq!(subject("abc=?utf-8?q?a?="), [("encoded-word-placement", 3)]);
    assert_eq!(
        subject("=?utf-8?q?a?==?utf-8?q?b?="),
        [
            ("encoded-word-placement", 0),
            ("encoded-word-placement", 13)
        ]
    );
    assert_eq!(subject("(=?utf-8?q?a?=)"), [("encoded-word-placement", 1)]);
    assert!(subject("abc =?utf-8?q?a?=\tdef").is_empty());
}

#[test]
fn encoded_word_syntax() {
    assert_eq!(subject("=?utf-8?q?abc"), [("encoded-word-syntax", 0)]);
    assert_eq!(subject("x =?utf-8?q?a b?="), [("encoded-word-syntax", 2)]);
    assert_eq!(subject("=?utf-8??abc?="), [("encoded-word-syntax", 0)]);
    assert_eq!(subject("=?utf-8?q??="), [("encoded-word-syntax", 0)]);
    assert_eq!(subject("=?utf-8?q"), [("encoded-word-syntax", 0)]);
    assert!(subject("=?utf-8").is_empty());
    assert!(words("\"=?utf-8?q?a b?=\" <a@b>", WordContext::Phrase).is_empty());
}

// ---- Content-Type ----

fn content_type(value: &str) -> Vec<(&'static str, usize)> {
    found(&check_content_type(value))
}

#[test]
fn content_types_clean() {
    for value in [
        "text/plain; charset=utf-8",
        "text/plain; charset=\"utf-8\"",
        "Text/Plain ; Charset = US-ASCII (plain text)",
        "multipart/mixed; boundary=\"----=_Part_0 1\"",
        "multipart/alternative;\r\n boundary=abc",
        "text/plain; charset=unknown-8bit",
        "application/x-stuff; name*0*=utf-8''%C3%A9; name*1=\".txt\"",
        "application/octet-stream; name=\"a\"; name*=utf-8''b",
    ] {
        assert_clean(check_content_type(value), value);
    }
}

#[test]
fn content_type_syntax() {
    let cases: &[(&str, usize)] = &[
        ("text", 4),
        ("text/", 5),
        ("/plain", 0),
        ("text/plain; charset", 19),
        ("text/plain; charset=", 20),
        ("text/plain charset=utf-8", 11),
        ("text/plain; charset=utf-8 format=flowed", 26),
        ("text/plain; name=a=b", 18),
        ("text/plain; name=\"a", 17),
        ("text/plain; name*=a", 18),
        ("text/plain; name*01=a", 12),
        ("text/plain; name*0*=utf-8''%G1", 20),
    ];
    for &(value, offset) in cases {
        assert_eq!(
            content_type(value),
            [("content-type-syntax", offset)],
            "{value}"
        );
    }
}

#[test]
fn a_lone_trailing_semicolon_is_only_a_warning() {
    for value in [
        "text/plain;",
        "text/plain; charset=utf-8;",
        "text/plain; charset=utf-8 ; ",
    ] {
        let findings = check_content_type(value);
        assert_eq!(findings.len(), 1, "{value}");
        assert_eq!(findings[0].rule, "mime-trailing-semicolon", "{value}");
        assert_eq!(severity(findings[0].rule), Some("warning"));
    }
    assert_eq!(
        check_content_type("text/plain; charset=utf-8;")[0].offset,
        25
    );
    let findings = check_disposition("attachment; filename=a.txt;");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, "mime-trailing-semicolon");
    // Two in a row is still a syntax error.
    assert_eq!(content_type("text/plain;;"), [("content-type-syntax", 11)]);
}

#[test]
fn boundaries() {
    assert_eq!(content_type("multipart/mixed"), [("boundary-syntax", 0)]);
    let long = format!("multipart/mixed; boundary=\"{}\"", "b".repeat(71));
    assert_eq!(content_type(&long), [("boundary-syntax", 26)]);
    let ok = format!("multipart/mixed; boundary=\"{}\"", "b".repeat(70));
    assert!(content_type(&ok).is_empty());
    assert_eq!(
        content_type("multipart/mixed; boundary=\"ab \""),
        [("boundary-syntax", 26)]
    );
    assert_eq!(
        content_type("multipart/mixed; boundary=\"a*b\""),
        [("boundary-syntax", 26)]
    );
    assert_eq!(
        content_type("multipart/mixed; boundary=\"\""),
        [("boundary-syntax", 26)]
    );
    assert!(content_type("text/plain").is_empty());
    // RFC 2231 sections, joined as readers join them.
    assert!(content_type("multipart/mixed; boundary*0=\"a\"; boundary*1=b").is_empty());
    assert_eq!(
        content_type("multipart/mixed; boundary*0=\"a \"; boundary*1=\" \""),
        [("boundary-syntax", 28)]
    );
}

#[test]
fn charsets_and_duplicates() {
    assert_eq!(
        content_type("text/plain; charset=klingon"),
        [("charset-unknown", 20)]
    );
    assert_eq!(
        content_type("text/plain; format=flowed; format=fixed"),
        [("content-type-duplicate-param", 27)]
    );
    assert_eq!(
        content_type("text/plain; A*0=x; a*0*=utf-8''y"),
        [("content-type-duplicate-param", 19)]
    );
    assert!(content_type("text/plain; format=flowed; delsp=yes").is_empty());
}

// ---- Content-Transfer-Encoding ----

#[test]
fn transfer_encodings() {
    for value in [
        "Base64",
        "x-uue",
        " 7bit (plain)",
        "QUOTED-PRINTABLE",
        "binary",
    ] {
        assert_clean(check_transfer_encoding(value), value);
    }
    assert_eq!(
        found(&check_transfer_encoding("base-64")),
        [("cte-syntax", 0)]
    );
    assert_eq!(found(&check_transfer_encoding(" x-")), [("cte-syntax", 1)]);
    assert_eq!(
        found(&check_transfer_encoding("8bit 7bit")),
        [("cte-syntax", 5)]
    );
    assert_eq!(found(&check_transfer_encoding("")), [("cte-syntax", 0)]);
    assert!(is_identity_encoding("7BIT") && is_identity_encoding("binary (raw)"));
    assert!(!is_identity_encoding("base64") && !is_identity_encoding("8bit x"));
}

// ---- Content-Disposition ----

#[test]
fn dispositions() {
    for value in [
        "attachment; filename=\"a.pdf\"",
        "attachment; filename*=utf-8''%C3%A9.pdf",
        "inline",
        "x-custom; size=1024",
        "attachment; creation-date=\"Mon, 01 Jan 2024 00:00:00 +0000\"",
    ] {
        assert_clean(check_disposition(value), value);
    }
    let cases: &[(&str, usize)] = &[
        ("; filename=a", 0),
        ("attachment; filename=a b", 23),
        ("inline/x", 6),
        ("attachment; size=12k", 17),
        ("attachment; read-date=\"01 Jan 2024 00:00:00 GMT\"", 22),
        ("attachment; read-date=\"31 Feb 2024 00:00:00 +0000\"", 22),
        ("attachment; filename*=%C3%A9", 22),
    ];
    for &(value, offset) in cases {
        assert_eq!(
            found(&check_disposition(value)),
            [("disposition-syntax", offset)],
            "{value}"
        );
    }
    assert_eq!(
        found(&check_disposition("attachment; filename=a; FILENAME=b")),
        [("content-type-duplicate-param", 24)]
    );
}

// ---- MIME-Version ----

#[test]
fn mime_versions() {
    for value in ["1.0", "1.0 (produced by X)", " 1.(odd)0", "(c) 1 . 0"] {
        assert_clean(check_mime_version(value), value);
    }
    let cases: &[(&str, usize)] = &[("2.0", 0), ("1.1", 0), ("1", 1), ("1.0 x", 4), ("", 0)];
    for &(value, offset) in cases {
        assert_eq!(
            found(&check_mime_version(value)),
            [("mime-version-syntax", offset)],
            "{value}"
        );
    }
}

// ---- hostile input ----

/// Pseudo-random strings of the fragments that matter to the checks.
fn odd_strings(count: usize) -> impl Iterator<Item = String> {
    const PIECES: &[&str] = &[
        "=?",
        "?=",
        "?",
        "utf-8",
        "q",
        "b",
        "=C3",
        "=",
        "_",
        "é",
        "\"",
        "\\",
        "(",
        ")",
        "<",
        ">",
        "@",
        ",",
        ";",
        ":",
        ".",
        "[",
        "]",
        " ",
        "\r\n ",
        "\0",
        "Mon",
        "Jan",
        "01",
        "2024",
        "+0000",
        "GMT",
        "/",
        "*",
        "'",
        "%",
        "boundary",
        "multipart/x",
        "a",
    ];
    crate::test_support::joined_pieces(PIECES, count, 10)
}

fn check_everything(value: &str) -> usize {
    let mut all = check_date(value);
    all.extend(check_address_list(value, false, true, true, false));
    all.extend(check_msg_ids(value, true));
    all.extend(check_msg_ids(value, false));
    for context in [WordContext::Unstructured, WordContext::Phrase] {
        all.extend(check_encoded_words(value, context));
    }
    all.extend(check_content_type(value));
    all.extend(check_transfer_encoding(value));
    all.extend(check_disposition(value));
    all.extend(check_mime_version(value));
    let _ = (mailbox_count(value), is_identity_encoding(value));
    for f in &all {
        assert!(f.offset <= value.len(), "{value:?}: {f:?}");
        assert!(value.is_char_boundary(f.offset), "{value:?}: {f:?}");
        assert!(severity(f.rule).is_some(), "{value:?}: {f:?}");
        assert!(!f.message.contains('\n'), "{value:?}: {f:?}");
    }
    all.len()
}

#[test]
fn odd_input_does_not_panic() {
    let total: usize = odd_strings(30_000).map(|s| check_everything(&s)).sum();
    assert!(total > 10_000);
}

#[test]
fn large_input_stays_linear() {
    for piece in [
        "(",
        "=?a",
        "=?a?b?",
        "\"",
        "<a@b>",
        "=?utf-8?q?a?= ",
        "a.",
        "\\",
        "a(c)",
        "(c)",
        "=?=?",
        "x=?utf-8?q?",
        "a@b,",
        "G:",
        "1 ",
        "<a@[",
        "; a=b",
    ] {
        let value = piece.repeat(200_000);
        check_everything(&value);
    }
}
