//! BODYSTRUCTURE as mime-unpack's part tree (`mailkit::imap::body_structure`),
//! against a real Dovecot on loopback: every message of the MIME test set
//! (`tests/fixtures/mime`: mpack, Apple Mail, Thunderbird, Outlook, Gmail,
//! nested multiparts, multipart/related, message/rfc822 inside, RFC 2231
//! names, broken mail) is put in a Maildir, its BODYSTRUCTURE fetched, and
//! the parts compared with what `mailkit::mime_reader` reads from the
//! same bytes as the server gives them (`BODY.PEEK[]`); every part fetched
//! with `BODY.PEEK[section]` and decoded must be what `mime-unpack --part`
//! writes. Hand-written BODYSTRUCTUREs cover RFC 3501's examples and what
//! other servers send.

mod common;
#[path = "support/fuzz_imap_response.rs"]
#[allow(dead_code)]
mod imap_response_props;

use std::path::Path;

use common::dovecot::Dovecot;
use common::{run_tool, stdout};
use imap_response_props::read_all;
use mailkit::imap::body_structure::{
    PartDecoder, apply_binary_sizes, binary_size_items, parts, parts_of_fetch, section,
};
use mailkit::imap::response::{Value, fetch_item};
use mailkit::imap::session::{Fetched, Session};
use mailkit::mime_reader::{self, Limits, Part, PartKind};
use mailkit::net::connection::TlsMode;
use mailkit::net::session::{Negotiation, negotiate};
use mailkit::net::transcript::Transcript;
use mailkit::unpack::{Lister, PartWriter, write_tree};

const UNPACK: &str = env!("CARGO_BIN_EXE_mime-unpack");

/// What the server reads otherwise than mime_reader in the MIME test
/// messages: (message, what differs, why). What differs is one of
/// [`differences`]' kinds.
const KNOWN: &[(&str, &[&str], &str)] = &[
    (
        "no-boundary.eml",
        &["tree"],
        "a multipart without a boundary: mime_reader shows it as one part, \
         Dovecot as a multipart holding one empty text part",
    ),
    (
        "no-blank-line.eml",
        &["size", "part"],
        "a header not ended by a blank line: mime_reader ends it at the first \
         line that is not a field, Dovecot reads the body as header",
    ),
    (
        "bad-base64.eml",
        &["size", "binary"],
        "characters outside the base64 alphabet are counted in the estimate; \
         Dovecot refuses BINARY.SIZE of a damaged part",
    ),
];

/// The MIME test messages, by file name.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime");
    let mut messages: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    messages.sort();
    assert!(messages.len() >= 20, "{} messages", messages.len());
    messages
}

/// A session logged in as alice over IMAPS, INBOX examined.
fn session(dovecot: &Dovecot) -> Session {
    let endpoint = dovecot.endpoint(dovecot.imaps, TlsMode::Implicit, "alicepw");
    let mut session: Session = negotiate(
        &endpoint,
        &(),
        Transcript::off(),
        &mut Negotiation::default(),
    )
    .expect("negotiate")
    .expect("a session");
    session.login(endpoint.login.as_ref().unwrap()).unwrap();
    session.examine(b"INBOX").unwrap();
    session
}

/// The parts mime_reader reads from `message`.
fn read_parts(message: &[u8]) -> Vec<Part> {
    let mut lister = Lister::default();
    mime_reader::read_message(message, &Limits::default(), &mut lister).unwrap();
    lister.parts
}

/// What `mime-unpack --part ID` writes for `message`.
fn unpacked_part(message: &[u8], id: &str) -> Vec<u8> {
    let mut writer = PartWriter::new(id, Vec::new());
    mime_reader::read_message(message, &Limits::default(), &mut writer).unwrap();
    writer.finish().unwrap()
}

/// The fields both readers must agree on, sizes aside. A text part
/// without a charset has RFC 2045's default in a BODYSTRUCTURE.
fn shape(part: &Part) -> String {
    let mut part = part.clone();
    if part.content_type.starts_with("text/") && part.charset.is_none() {
        part.charset = Some("us-ascii".into());
    }
    format!(
        "{} depth={} {:?} {} charset={:?} {} dsp={:?} name={:?} cid={:?} subject={:?} \
         related={} header={}",
        part.id,
        part.depth,
        part.kind,
        part.content_type,
        part.charset,
        part.encoding,
        part.disposition,
        part.filename,
        part.content_id,
        part.subject,
        part.related_resource,
        part.message_header,
    )
}

/// Whether a size estimated by the rule of `parts` fits the real one.
fn size_fits(estimate: &Part, real: &Part) -> bool {
    match (estimate.kind, estimate.encoding.as_str()) {
        (PartKind::Multipart, _) => estimate.size <= real.size,
        // Dovecot counts the line end after the closing delimiter of a
        // multipart that ends a message part (as `BODY[N]` gives it);
        // mime_reader leaves it to the delimiter after it.
        (PartKind::Message, _) => matches!(estimate.size.checked_sub(real.size), Some(0 | 2)),
        // Exact but for the padding with lines of 76 characters; within
        // 1% for other line lengths.
        (PartKind::Leaf, "base64") => estimate.size.abs_diff(real.size) <= 2 + real.size / 100,
        (PartKind::Leaf, "7bit" | "8bit" | "binary") => estimate.size == real.size,
        // quoted-printable, x-uuencode: the encoded size, an upper bound.
        _ => estimate.size >= real.size,
    }
}

#[test]
fn the_tree_of_every_test_message_is_mime_unpacks() {
    let dovecot = Dovecot::start();
    let messages = corpus();
    dovecot.deposit_many("alice", messages.iter().map(|(_, m)| m.as_slice()));
    let mut session = session(&dovecot);
    assert!(session.has("BINARY"), "Dovecot offers BINARY");
    let fetched = session
        .uid_fetch("1:*", "(UID BODYSTRUCTURE ENVELOPE)")
        .unwrap();
    assert_eq!(fetched.len(), messages.len());
    for ((name, _), fetch) in messages.iter().zip(&fetched) {
        let found = differences(&mut session, fetch);
        let mut kinds: Vec<&str> = found.iter().map(|(kind, _)| *kind).collect();
        kinds.dedup();
        let known = KNOWN.iter().find(|(message, _, _)| message == name);
        let expected = known.map_or(&[][..], |(_, kinds, _)| kinds);
        assert_eq!(kinds, expected, "{name}: {found:#?}");
    }
    session.logout().unwrap();
}

/// How what the server says of a fetched message differs from what
/// mime_reader reads from its bytes (`BODY.PEEK[]`), in order: "tree"
/// (the parts, sizes aside: nothing else is compared then), "tool"
/// (`write_tree` against mime-unpack's listing), "size" (the estimate of
/// [`parts`] does not fit), "binary" (`BINARY.SIZE` refused or not the
/// decoded size), "part" (a part fetched by its section and decoded is
/// not what `mime-unpack --part` writes).
fn differences(session: &mut Session, fetch: &Fetched) -> Vec<(&'static str, String)> {
    let uid = fetch_item(&fetch.items, "UID").and_then(Value::as_number);
    let uid = uid.unwrap().to_string();
    let mut served = Vec::new();
    session
        .uid_fetch_to(&uid, "BODY.PEEK[]", &mut served)
        .unwrap();
    let expected = read_parts(&served);
    // uuencoded files are inside a text body: no BODYSTRUCTURE shows them.
    let expected: Vec<&Part> = expected.iter().filter(|p| !p.id.contains(".u")).collect();
    let mut got = parts_of_fetch(&fetch.items).unwrap();
    let want: Vec<String> = expected.iter().map(|p| shape(p)).collect();
    let have: Vec<String> = got.iter().map(shape).collect();
    if have != want {
        return vec![("tree", tree_difference(&have, &want))];
    }
    let mut found = Vec::new();
    if let Some(listing) = the_tool_differs(&got, &served) {
        found.push(("tool", listing));
    }
    for (estimate, real) in got.iter().zip(&expected) {
        if !size_fits(estimate, real) {
            let what = format!(
                "part {}: {} {} shown as {}, is {}",
                real.id, real.encoding, real.content_type, estimate.size, real.size
            );
            found.push(("size", what));
        }
    }
    found.extend(binary_sizes(session, &uid, &mut got, &expected));
    found.extend(parts_fetched(session, &uid, &got, &served));
    found
}

/// The parts that differ (or are missing on one side), one a line.
fn tree_difference(have: &[String], want: &[String]) -> String {
    let mut lines = Vec::new();
    for at in 0..have.len().max(want.len()) {
        let (ours, theirs) = (have.get(at), want.get(at));
        if ours != theirs {
            lines.push(format!("{ours:?}\n  where mime_reader has {theirs:?}"));
        }
    }
    lines.join("\n")
}

/// With BINARY.SIZE, every leaf has its exact decoded size.
fn binary_sizes(
    session: &mut Session,
    uid: &str,
    got: &mut [Part],
    real: &[&Part],
) -> Vec<(&'static str, String)> {
    let Some(items) = binary_size_items(got) else {
        return Vec::new();
    };
    let sizes = match session.uid_fetch(uid, &format!("({items})")) {
        Ok(sizes) => sizes,
        Err(e) => return vec![("binary", e.to_string())],
    };
    apply_binary_sizes(got, &sizes[0].items);
    let leaves = got
        .iter()
        .zip(real)
        .filter(|(p, _)| p.kind == PartKind::Leaf);
    leaves
        .filter(|(part, real)| part.size != real.size)
        .map(|(part, real)| {
            let what = format!("part {}: {} where it is {}", part.id, part.size, real.size);
            ("binary", what)
        })
        .collect()
}

/// Every part fetched by its section and decoded must be what
/// `mime-unpack --part` writes.
fn parts_fetched(
    session: &mut Session,
    uid: &str,
    got: &[Part],
    served: &[u8],
) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    for part in got {
        let mut decoder = PartDecoder::new(part, Vec::new());
        let item = format!("BODY.PEEK[{}]", section(&part.id));
        session.uid_fetch_to(uid, &item, &mut decoder).unwrap();
        let (decoded, _) = decoder.finish().unwrap();
        let unpacked = unpacked_part(served, &part.id);
        if decoded != unpacked {
            let what = format!(
                "{item}: {:?} where mime-unpack writes {:?}",
                String::from_utf8_lossy(&decoded),
                String::from_utf8_lossy(&unpacked)
            );
            found.push(("part", what));
        }
    }
    found
}

/// `write_tree` of the parts against mime-unpack's listing of the
/// message, but for the size column (and RFC 2045's default charset):
/// both listings when they differ.
fn the_tool_differs(got: &[Part], served: &[u8]) -> Option<String> {
    let without_sizes = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| {
                let mut columns: Vec<&str> = l.split('\t').collect();
                columns.remove(4);
                if columns[1].starts_with("text/") && columns[2] == "-" {
                    columns[2] = "us-ascii";
                }
                columns.join("\t")
            })
            .filter(|l| !l.split('\t').next().unwrap().contains(".u"))
            .collect()
    };
    let mut ours = Vec::new();
    write_tree(&mut ours, got, false).unwrap();
    let ours = without_sizes(&String::from_utf8(ours).unwrap());
    let theirs = without_sizes(&stdout(&run_tool(UNPACK, &[], served)));
    (ours != theirs).then(|| format!("{ours:#?} where mime-unpack lists {theirs:#?}"))
}

// ---- hand-written BODYSTRUCTUREs ----

/// The value of a BODYSTRUCTURE written as IMAP sends it.
fn value(text: &str) -> Value {
    use mailkit::imap::response::{Limits, Response, Untagged};
    let stream = format!("* 1 FETCH (BODYSTRUCTURE {text})\r\n");
    let mut responses = read_all(stream.as_bytes(), &Limits::default(), false);
    match responses.pop() {
        Some((Response::Untagged(Untagged::Fetch { items, .. }), _)) => {
            items.into_iter().next().unwrap().1
        }
        other => panic!("{text}: {other:?}"),
    }
}

/// The tree as `mime-unpack` lists it.
fn listing(text: &str) -> String {
    let mut out = Vec::new();
    write_tree(&mut out, &parts(&value(text)).unwrap(), false).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn rfc_3501_examples() {
    // RFC 3501 §7.4.2, the multipart example.
    let text = r#"(("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff") "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73) "MIXED")"#;
    assert_eq!(
        listing(text),
        "0\tmultipart/mixed\t-\t7bit\t5706\t-\t-\n\
         1\ttext/plain\tus-ascii\t7bit\t1152\tinline\t-\n\
         2\ttext/plain\tus-ascii\tbase64\t3306\tattachment\tcc.diff\n"
    );
    let tree = parts(&value(text)).unwrap();
    assert_eq!(
        tree[2].content_id.as_deref(),
        Some("960723163407.20117h@cac.washington.edu")
    );
    assert!(tree[0].message_header && !tree[1].message_header);
    assert_eq!(tree.iter().map(|p| p.depth).collect::<Vec<_>>(), [0, 1, 1]);
    // The single-part example.
    let text = r#"("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)"#;
    assert_eq!(
        listing(text),
        "1\ttext/plain\tus-ascii\t7bit\t3028\tinline\t-\n"
    );
}

#[test]
fn a_message_inside_is_numbered_as_mime_unpack_numbers_it() {
    let text = r#"(("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 300 (NIL "=?utf-8?q?F=C3=BCr?= you" NIL NIL NIL NIL NIL NIL NIL NIL) (("text" "plain" ("charset" "UTF-8") NIL NIL "quoted-printable" 20 1 NIL NIL NIL NIL)("image" "png" ("name" "a.png") "<a@b>" NIL "base64" 138 NIL NIL NIL NIL) "alternative" ("boundary" "x") NIL NIL NIL) 12 NIL ("attachment" ("filename" "fwd.eml")) NIL NIL)("message" "rfc822" NIL NIL NIL "7bit" 40 (NIL "single" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "html" NIL NIL NIL "7bit" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) "mixed" ("boundary" "m") NIL NIL NIL)"#;
    assert_eq!(
        listing(text),
        "0\tmultipart/mixed\t-\t7bit\t345\t-\t-\n\
         1\ttext/plain\t-\t7bit\t5\tinline\t-\n\
         2\tmessage/rfc822\t-\t7bit\t300\tattachment\tfwd.eml\n\
         2.0\tmultipart/alternative\t-\t7bit\t158\t-\t-\n\
         2.1\ttext/plain\tutf-8\tquoted-printable\t20\tinline\t-\n\
         2.2\timage/png\t-\tbase64\t102\tattachment\ta.png\n\
         3\tmessage/rfc822\t-\t7bit\t40\tattachment\t-\n\
         3.1\ttext/html\t-\t7bit\t10\tinline\t-\n"
    );
    let tree = parts(&value(text)).unwrap();
    let subjects: Vec<(&str, Option<&str>)> = tree
        .iter()
        .map(|p| (p.id.as_str(), p.subject.as_deref()))
        .filter(|(_, s)| s.is_some())
        .collect();
    assert_eq!(
        subjects,
        [("2.0", Some("Für you")), ("3.1", Some("single"))]
    );
    let depths: Vec<usize> = tree.iter().map(|p| p.depth).collect();
    assert_eq!(depths, [0, 1, 1, 2, 3, 3, 1, 2]);
    assert!(tree[3].message_header && tree[7].message_header && !tree[2].message_header);
    assert_eq!(section(&tree[3].id), "2.TEXT");
}

#[test]
fn odd_server_shapes_are_read_leniently() {
    // The non-extensible BODY form, NIL parameters and encoding, upper
    // and lower case, an atom where a string belongs.
    let text = r#"(("TEXT" "Plain" NIL NIL NIL NIL 3 1)(APPLICATION "OCTET-STREAM" ("Name" "x.bin") NIL NIL "Base64" 8) "Mixed")"#;
    assert_eq!(
        listing(text),
        "0\tmultipart/mixed\t-\t7bit\t11\t-\t-\n\
         1\ttext/plain\t-\t7bit\t3\tinline\t-\n\
         2\tapplication/octet-stream\t-\tbase64\t6\tattachment\tx.bin\n"
    );
    // Extension data with a disposition of NIL parameters, a bare
    // disposition string, language lists and a location.
    let text = r#"(("text" "html" ("charset" "utf-8") NIL NIL "7bit" 9 1 NIL NIL NIL NIL)("image" "gif" NIL NIL NIL "base64" 4 NIL ("inline" NIL) ("en" "de") "logo.gif")("image" "gif" NIL NIL NIL "base64" 4 NIL "INLINE" NIL NIL) "related" NIL NIL NIL NIL)"#;
    let tree = parts(&value(text)).unwrap();
    let related: Vec<bool> = tree.iter().map(|p| p.related_resource).collect();
    assert_eq!(related, [false, false, true, false]);
    assert_eq!(tree[2].disposition.as_deref(), Some("inline"));
    assert_eq!(tree[3].disposition.as_deref(), Some("inline"));
    // The related root named by `start`.
    let text = r#"(("text" "html" NIL "<root>" NIL "7bit" 9 1)("image" "gif" NIL "<img>" NIL "base64" 4) "related" ("start" "<img>" "boundary" "r"))"#;
    let tree = parts(&value(text)).unwrap();
    let related: Vec<bool> = tree.iter().map(|p| p.related_resource).collect();
    assert_eq!(related, [false, true, false]);
    // RFC 2231 sections, charset and RFC 2047 in names, as a server that
    // passes them through sends them.
    let text = r#"("application" "pdf" ("name" "=?utf-8?B?w5xiZXJzaWNodC5wZGY=?=") NIL NIL "7bit" 7 NIL ("attachment" ("filename*0*" "utf-8''%C3%9Cber" "filename*1" " alles.pdf")) NIL NIL)"#;
    let tree = parts(&value(text)).unwrap();
    assert_eq!(tree[0].filename.as_deref(), Some("Über alles.pdf"));
    let text = r#"("application" "pdf" ("NAME" "=?utf-8?B?w5xiZXJzaWNodC5wZGY=?=") NIL NIL "7bit" 7 NIL NIL NIL NIL)"#;
    let tree = parts(&value(text)).unwrap();
    assert_eq!(tree[0].filename.as_deref(), Some("Übersicht.pdf"));
    // A message/rfc822 in base64 is a leaf, as mime_reader has it.
    let text = r#"("message" "rfc822" NIL NIL NIL "base64" 80 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" NIL NIL NIL "7bit" 1 1) 2)"#;
    assert_eq!(
        listing(text),
        "1\tmessage/rfc822\t-\tbase64\t57\tattachment\t-\n"
    );
}

#[test]
fn what_is_not_a_body_is_an_error_and_nothing_panics() {
    for text in ["NIL", "\"text\"", "42"] {
        let error = parts(&value(text)).unwrap_err();
        assert_eq!(error.status().code(), 76, "{text}: {error}");
    }
    for text in [
        "()",
        "(NIL)",
        "((\"text\"))",
        "(() \"mixed\")",
        "((()) NIL (NIL NIL) NIL)",
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) NIL 1)",
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"x\") 1)",
    ] {
        let _ = parts(&value(text));
    }
    // As deep as the response parser allows: bounded, no stack overflow.
    let deep = format!(
        "{}\"text\" \"plain\"{}",
        "(".repeat(99),
        " \"mixed\")".repeat(99)
    );
    let tree = parts(&value(&deep)).unwrap();
    assert!(tree.len() <= 100, "{}", tree.len());
}

/// The outside corpora of tests/corpus.rs that this repository holds.
const CORPUS_SETS: [&str; 6] = [
    "mail-parser/rfc",
    "mail-parser/thirdparty",
    "mail-parser/legacy",
    "mail-parser/malformed",
    "mime4j/testmsgs",
    "mime4j/mimetools-testmsgs",
];

const BROKEN: &str = "broken MIME (boundaries missing, malformed or too long, header \
    blocks without their blank line, unknown encodings): Dovecot and mime_reader \
    each read it their own way";
const MULTIPART_HEADER: &str = "a multipart's own Content-Transfer-Encoding and \
    Content-ID are not in a BODYSTRUCTURE: shown as 7bit and none";
const UNFOLDED: &str = "Dovecot's ENVELOPE unfolds a subject folded with more \
    white space to one space";
const DAMAGED: &str = "damaged base64 or quoted-printable: the size estimate is off, \
    and Dovecot refuses BINARY.SIZE ([PARSE] or [UNKNOWN-CTE])";
const SHORT_LINES: &str = "a small part in short base64 lines: the estimate, for \
    lines of 76 characters, is off by more than 1%";

/// What differs in the outside corpora: (message, kinds, why).
const KNOWN_CORPUS: &[(&str, &[&str], &str)] = &[
    ("mail-parser/legacy/026.eml", &["binary"], DAMAGED),
    ("mail-parser/malformed/001.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/002.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/003.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/004.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/006.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/007.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/008.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/009.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/011.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/012.eml", &["size", "part"], BROKEN),
    ("mail-parser/malformed/013.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/014.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/016.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/017.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/018.eml", &["binary"], DAMAGED),
    ("mail-parser/malformed/019.eml", &["tree"], BROKEN),
    ("mail-parser/malformed/020.eml", &["tree"], MULTIPART_HEADER),
    ("mail-parser/malformed/021.eml", &["tree"], MULTIPART_HEADER),
    ("mail-parser/malformed/022.eml", &["size", "part"], BROKEN),
    ("mail-parser/rfc/000.eml", &["size", "binary"], DAMAGED),
    ("mail-parser/rfc/001.eml", &["tree"], MULTIPART_HEADER),
    (
        "mail-parser/thirdparty/002.eml",
        &["size", "binary"],
        DAMAGED,
    ),
    ("mail-parser/thirdparty/004.eml", &["tree"], BROKEN),
    (
        "mail-parser/thirdparty/005.eml",
        &["size", "binary", "part"],
        BROKEN,
    ),
    ("mail-parser/thirdparty/015.eml", &["size", "part"], BROKEN),
    ("mail-parser/thirdparty/016.eml", &["binary"], DAMAGED),
    ("mail-parser/thirdparty/017.eml", &["binary"], DAMAGED),
    ("mail-parser/thirdparty/018.eml", &["binary"], DAMAGED),
    ("mail-parser/thirdparty/019.eml", &["binary"], DAMAGED),
    (
        "mime4j/mimetools-testmsgs/2002_06_12_doublebound.msg",
        &["tree"],
        MULTIPART_HEADER,
    ),
    (
        "mime4j/mimetools-testmsgs/badbound.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/mimetools-testmsgs/bluedot-postcard.msg",
        &["tree"],
        MULTIPART_HEADER,
    ),
    (
        "mime4j/mimetools-testmsgs/double-semicolon.msg",
        &["tree"],
        BROKEN,
    ),
    ("mime4j/mimetools-testmsgs/frag.msg", &["tree"], UNFOLDED),
    (
        "mime4j/mimetools-testmsgs/hdr-fakeout.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/mimetools-testmsgs/jt-0498.msg",
        &["binary", "part"],
        BROKEN,
    ),
    (
        "mime4j/mimetools-testmsgs/multi-bad.msg",
        &["tree"],
        MULTIPART_HEADER,
    ),
    (
        "mime4j/mimetools-testmsgs/multi-frag.msg",
        &["size", "binary"],
        DAMAGED,
    ),
    (
        "mime4j/mimetools-testmsgs/uu-junk-target.msg",
        &["size"],
        SHORT_LINES,
    ),
    (
        "mime4j/testmsgs/basic-plain-with-bad-header-separator.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/ending-boundaries.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/malformedHeader-nocrlfcrlf.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/malformedHeaderStartsBody-nocrlfcrlf.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/missing-boundary.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/missing-inner-boundary.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/missing-inner-start-boundary.msg",
        &["size", "part"],
        BROKEN,
    ),
    (
        "mime4j/testmsgs/multipartnopart.msg",
        &["size", "part"],
        BROKEN,
    ),
    ("mime4j/testmsgs/obsolete.msg", &["tree"], UNFOLDED),
    ("mime4j/testmsgs/very-long-boundary.msg", &["tree"], BROKEN),
    (
        "mime4j/testmsgs/very-very-long-boundary.msg",
        &["tree"],
        BROKEN,
    ),
];

#[test]
fn the_outside_corpora_differ_only_where_known() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let mut messages = Vec::new();
    for set in CORPUS_SETS {
        for entry in std::fs::read_dir(root.join(set)).unwrap() {
            let path = entry.unwrap().path();
            if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("eml" | "msg")
            ) {
                let name = format!("{set}/{}", path.file_name().unwrap().to_string_lossy());
                messages.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    messages.sort();
    assert!(messages.len() > 150, "{} messages", messages.len());
    let dovecot = Dovecot::start();
    dovecot.deposit_many("alice", messages.iter().map(|(_, m)| m.as_slice()));
    let mut session = session(&dovecot);
    let fetched = session
        .uid_fetch("1:*", "(UID BODYSTRUCTURE ENVELOPE)")
        .unwrap();
    assert_eq!(fetched.len(), messages.len());
    let mut unexpected = Vec::new();
    for ((name, message), fetch) in messages.iter().zip(&fetched) {
        // Two are not messages at all (no header): nothing to compare.
        let mut lister = Lister::default();
        if mime_reader::read_message(&message[..], &Limits::default(), &mut lister).is_err() {
            continue;
        }
        let found = differences(&mut session, fetch);
        let mut kinds: Vec<&str> = found.iter().map(|(kind, _)| *kind).collect();
        kinds.dedup();
        let known = KNOWN_CORPUS.iter().find(|(message, _, _)| message == name);
        if kinds != known.map_or(&[][..], |(_, kinds, _)| *kinds) {
            unexpected.push(format!("{name} {kinds:?}: {found:#?}"));
        }
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    session.logout().unwrap();
}
