//! mime-unpack: exact trees and exact bytes for every feature and every kind
//! of broken mail; hostile names never write outside the directory; and
//! agreement with Python's email package on a varied corpus.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Scratch, code, run_tool, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mime-unpack");
const PACK: &str = env!("CARGO_BIN_EXE_mime-pack");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mime")
            .join(name),
    )
    .unwrap()
}

fn tree(name: &str) -> (String, String, i32) {
    let out = run_tool(BIN, &[], &fixture(name));
    (stdout(&out), stderr(&out), code(&out))
}

/// Files in a directory: name and bytes, sorted by name.
type Files = Vec<(String, Vec<u8>)>;

/// Extracts `message` into a fresh directory; returns the directory, the
/// files in it, stdout, stderr and the exit status.
fn extract(message: &[u8], extra: &[&str]) -> (Scratch, Files, String, String, i32) {
    let dir = Scratch::new();
    let target = dir.path().join("out");
    let mut args = vec!["--extract", "-d", target.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = run_tool(BIN, &args, message);
    let files = list_files(&target);
    (dir, files, stdout(&out), stderr(&out), code(&out))
}

fn list_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

fn pdf_bytes() -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.extend(0..=255u8);
    pdf.extend_from_slice(b"\n%%EOF\n");
    pdf
}

#[test]
fn single_part_tree() {
    let (out, err, status) = tree("simple.eml");
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "1\ttext/plain\t-\t7bit\t22\t-\t-\n");
    assert_eq!(err, "");
}

#[test]
fn mixed_tree_and_bytes() {
    let (out, err, status) = tree("mixed.eml");
    assert_eq!(status, 0, "{err}");
    let pdf = pdf_bytes();
    assert_eq!(
        out,
        format!(
            "0\tmultipart/mixed\t-\t7bit\t{}\t-\t-\n\
             1\ttext/plain\tutf-8\tquoted-printable\t32\t-\t-\n\
             2\tapplication/pdf\t-\tbase64\t{}\tattachment\treport.pdf\n\
             3\ttext/csv\tus-ascii\t7bit\t8\tattachment\tdata.csv\n",
            out.lines().next().unwrap().split('\t').nth(4).unwrap(),
            pdf.len()
        )
    );
    let (_dir, files, printed, err, status) = extract(&fixture("mixed.eml"), &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(names(&files), ["data.csv", "report.pdf"]);
    assert_eq!(files[0].1, b"a,b\n1,2\n");
    assert_eq!(files[1].1, pdf);
    assert_eq!(printed.lines().count(), 2);
    assert!(printed.lines().all(|l| l.contains("/out/")), "{printed}");
    let part = run_tool(BIN, &["--part", "1"], &fixture("mixed.eml"));
    assert_eq!(stdout(&part), "Café au lait, long line joined.");
    let text = run_tool(BIN, &["--text"], &fixture("mixed.eml"));
    assert_eq!(stdout(&text), "Café au lait, long line joined.\n");
}

#[test]
fn nested_numbering_follows_imap() {
    let (out, err, status) = tree("nested.eml");
    assert_eq!(status, 0, "{err}");
    let ids: Vec<(&str, &str)> = out
        .lines()
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap(), f.next().unwrap())
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("0", "multipart/mixed"),
            ("1", "multipart/alternative"),
            ("1.1", "text/plain"),
            ("1.2", "multipart/related"),
            ("1.2.1", "text/html"),
            ("1.2.2", "image/png"),
            ("2", "application/octet-stream"),
        ]
    );
    let (_dir, files, _, err, status) = extract(&fixture("nested.eml"), &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(names(&files), ["part-2.bin"]);
    assert_eq!(files[0].1, [0u8, 1, 2, 3]);
    let (_dir, files, _, _, _) = extract(&fixture("nested.eml"), &["--all"]);
    assert_eq!(
        names(&files),
        [
            "part-1.1.txt",
            "part-1.2.1.html",
            "part-1.2.2.png",
            "part-2.bin"
        ]
    );
    assert_eq!(files[0].1, b"plain text");
}

#[test]
fn embedded_message_parts() {
    let (out, err, status) = tree("rfc822.eml");
    assert_eq!(status, 0, "{err}");
    let ids: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(ids, ["0", "1", "2", "2.0", "2.1", "2.2"]);
    assert!(
        out.lines()
            .nth(2)
            .unwrap()
            .starts_with("2\tmessage/rfc822\t")
    );
    let (_dir, files, _, err, status) = extract(&fixture("rfc822.eml"), &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(names(&files), ["fwd.eml", "inner.txt"]);
    assert!(
        files[0]
            .1
            .starts_with(b"From: c@example.org\nSubject: inner subject\n")
    );
    assert!(
        files[0].1.ends_with(b"--f2--"),
        "{:?}",
        String::from_utf8_lossy(&files[0].1)
    );
    assert_eq!(files[1].1, b"inner attachment");
    let json = run_tool(BIN, &["--json"], &fixture("rfc822.eml"));
    let inner: serde_json::Value =
        serde_json::from_str(stdout(&json).lines().nth(3).unwrap()).unwrap();
    assert_eq!(inner["part"], "2.0");
    assert_eq!(inner["subject"], "inner subject");
    assert_eq!(inner["kind"], "multipart");
}

#[test]
fn rfc2231_and_rfc2047_names() {
    let (_dir, files, _, err, status) = extract(&fixture("rfc2231.eml"), &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        names(&files),
        ["café.txt", "Übersicht über alles.pdf", "Übersicht.pdf"]
    );
    let text = files.iter().find(|(n, _)| n == "café.txt").unwrap();
    assert_eq!(text.1, b"latin");
}

#[test]
fn signed_and_digest_are_shown_as_they_are() {
    let (out, _, status) = tree("signed.eml");
    assert_eq!(status, 0);
    assert!(out.starts_with("0\tmultipart/signed\t"));
    assert!(out.contains("\n2\tapplication/pgp-signature\t-\t7bit\t"));
    let (out, _, status) = tree("digest.eml");
    assert_eq!(status, 0);
    let types: Vec<&str> = out.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    assert_eq!(
        types,
        [
            "multipart/digest",
            "message/rfc822",
            "text/plain",
            "message/rfc822",
            "text/plain"
        ]
    );
}

#[test]
fn missing_final_boundary_is_unpacked_with_a_warning() {
    let (_dir, files, _, err, status) = extract(&fixture("missing-final-boundary.eml"), &[]);
    assert_eq!(status, 0);
    assert_eq!(names(&files), ["cut.bin"]);
    assert_eq!(files[0].1, [0u8, 1, 2, 3, 4, 5]);
    assert!(err.contains("never closed"), "{err}");
}

#[test]
fn multipart_without_boundary_is_one_part() {
    let (out, err, status) = tree("no-boundary.eml");
    assert_eq!(status, 0);
    assert!(out.starts_with("1\tmultipart/mixed\t"), "{out}");
    assert!(err.contains("without a boundary"), "{err}");
}

#[test]
fn damaged_base64_is_decoded_as_far_as_it_goes() {
    let (_dir, files, _, err, status) = extract(&fixture("bad-base64.eml"), &[]);
    assert_eq!(status, 0);
    assert_eq!(files[0].1, [0u8, 1, 2, 3, 4, 5]);
    assert!(err.contains("base64"), "{err}");
}

#[test]
fn charsets_become_utf8() {
    let out = run_tool(BIN, &["--text"], &fixture("latin1.eml"));
    assert_eq!(stdout(&out), "Café crème\n");
    let out = run_tool(BIN, &["--text"], &fixture("unknown-charset.eml"));
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "plain words\n");
    assert!(
        stderr(&out).contains("x-no-such-charset"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_content_type_and_missing_blank_line() {
    let (out, err, status) = tree("no-content-type.eml");
    assert_eq!(
        (status, out.as_str(), err.as_str()),
        (0, "1\ttext/plain\t-\t7bit\t15\t-\t-\n", "")
    );
    let out = run_tool(BIN, &["--text"], &fixture("no-blank-line.eml"));
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "This line starts the body.\nsecond line\n");
    assert!(stderr(&out).contains("no blank line"), "{}", stderr(&out));
}

#[test]
fn html_is_rendered_as_text() {
    let out = run_tool(BIN, &["--text"], &fixture("html-only.eml"));
    let text = stdout(&out);
    assert!(text.contains("Title"), "{text}");
    assert!(text.contains("First & second."), "{text}");
    assert!(text.contains("* one"), "{text}");
    assert!(!text.contains("alert") && !text.contains("color"), "{text}");
    assert!(text.contains("https://example.org/x"), "{text}");
}

#[test]
fn uuencoded_files_are_found() {
    let (_dir, files, _, err, status) = extract(&fixture("uuencode.eml"), &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(names(&files), ["hello.txt"]);
    assert_eq!(files[0].1, b"hello world\n");
}

#[test]
fn not_a_message_is_65() {
    for input in [
        &b"\x00\x01\x02binary garbage\xff"[..],
        b"",
        b"\n\nbody without header\n",
        b"just a line of text\n",
    ] {
        let out = run_tool(BIN, &[], input);
        assert_eq!(code(&out), 65, "{input:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("mime-unpack: error: "),
            "{}",
            stderr(&out)
        );
    }
    let out = run_tool(BIN, &["--part", "9"], &fixture("mixed.eml"));
    assert_eq!(code(&out), 65);
    let out = run_tool(BIN, &["/nonexistent/message.eml"], b"");
    assert_eq!(code(&out), 66);
}

#[test]
fn mbox_from_line_is_skipped() {
    let mut message = b"From alice@example.org Mon Jan  1 00:00:00 2024\n".to_vec();
    message.extend(fixture("mixed.eml"));
    let out = run_tool(BIN, &[], &message);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("0\tmultipart/mixed"));
}

/// A multipart message with one attachment per name, each declared in
/// `header` form (the whole Content-Disposition value).
fn message_with_names(dispositions: &[String]) -> Vec<u8> {
    let mut message = String::from(
        "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=h\n\n",
    );
    for (i, disposition) in dispositions.iter().enumerate() {
        message.push_str(&format!(
            "--h\nContent-Type: application/octet-stream\nContent-Disposition: {disposition}\n\ncontent {i}\n"
        ));
    }
    message.push_str("--h--\n");
    message.into_bytes()
}

#[test]
fn hostile_names_never_escape_the_directory() {
    let long = "n".repeat(1000) + ".txt";
    let dispositions: Vec<String> = vec![
        "attachment; filename=\"../../etc/passwd\"".into(),
        "attachment; filename=\"/etc/passwd\"".into(),
        "attachment; filename=\"..\\\\..\\\\win.ini\"".into(),
        "attachment; filename=\"a/../../b\"".into(),
        "attachment; filename=\"evil\\rname\\0.txt\"".into(),
        format!("attachment; filename=\"{long}\""),
        "attachment; filename*0=\"..\"; filename*1=\"/\"; filename*2=\"..\"; filename*3=\"/x\""
            .into(),
        "attachment; filename=\"=?utf-8?Q?=2E=2E=2F..=2Fx?=\"".into(),
        "attachment; filename=\"..\"".into(),
        "attachment; filename=\".hidden\"".into(),
    ];
    let dir = Scratch::new();
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    let outside = dir.path().join("planted-target");
    std::os::unix::fs::symlink(&outside, target.join("passwd")).unwrap();
    std::fs::write(target.join("x"), "existing").unwrap();
    let before = list_files(dir.path());
    let out = run_tool(
        BIN,
        &["--extract", "-d", target.to_str().unwrap()],
        &message_with_names(&dispositions),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(!outside.exists(), "the planted symlink was followed");
    assert_eq!(
        std::fs::read_to_string(target.join("x")).unwrap(),
        "existing"
    );
    // Nothing appeared next to the directory.
    assert_eq!(list_files(dir.path()).len(), before.len());
    let files = list_files(&target);
    for (name, _) in &files {
        assert!(name.len() <= 255, "{name}");
        assert!(!name.starts_with('.'), "{name}");
        assert!(!name.contains(['/', '\\', '\r', '\0']), "{name:?}");
    }
    let written: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(written.len(), dispositions.len());
    for path in &written {
        assert_eq!(Path::new(path).parent().unwrap(), target, "{path}");
    }
    let got = names(&files);
    assert!(got.contains(&"passwd-1"), "{got:?}");
    assert!(got.contains(&"win.ini"), "{got:?}");
    assert!(got.contains(&"x-1"), "{got:?}");
    assert!(
        got.iter().any(|n| n.ends_with(".txt") && n.len() == 255),
        "{got:?}"
    );
}

#[test]
fn existing_files_are_never_replaced() {
    let dir = Scratch::new();
    let target = dir.path().join("out");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("report.pdf"), "mine").unwrap();
    let out = run_tool(
        BIN,
        &["--extract", "-d", target.to_str().unwrap()],
        &fixture("mixed.eml"),
    );
    assert_eq!(code(&out), 0);
    assert_eq!(
        std::fs::read_to_string(target.join("report.pdf")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read(target.join("report-1.pdf")).unwrap(),
        pdf_bytes()
    );
    assert!(stderr(&out).contains("report-1.pdf"), "{}", stderr(&out));
}

#[test]
fn limits_are_reported_not_crashed() {
    let mut deep = String::from("From: a@example.org\nMIME-Version: 1.0\n");
    for i in 0..200 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=d{i}\n\n--d{i}\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\n\ndeep\n");
    let out = run_tool(BIN, &[], deep.as_bytes());
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("nested too deeply"),
        "{}",
        stderr(&out)
    );
    let mut many = String::from(
        "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=m\n\n",
    );
    for _ in 0..20_000 {
        many.push_str("--m\n\nx\n");
    }
    many.push_str("--m--\n");
    let started = std::time::Instant::now();
    let out = run_tool(BIN, &[], many.as_bytes());
    assert_eq!(code(&out), 0);
    assert!(
        stderr(&out).contains("more than 10000 parts"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed().as_secs() < 10);
}

/// Every leaf with a file name: (name, SHA-256), as Python's email package
/// decodes them.
fn python_attachments(message: &Path) -> Vec<(String, String)> {
    let script = r#"
import email, email.policy, hashlib, json, sys
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
out = []
for part in msg.walk():
    if part.is_multipart() or part.get_filename() is None:
        continue
    if part.get_content_type() == 'message/rfc822':
        continue
    data = part.get_payload(decode=True) or b''
    out.append([part.get_filename(), hashlib.sha256(data).hexdigest()])
print(json.dumps(sorted(out)))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(message)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    openssl::sha::sha256(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn attachments_agree_with_python_on_a_varied_corpus() {
    let dir = Scratch::new();
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("bin.dat", (0..=255u8).cycle().take(10_000).collect()),
        ("crlf.txt", b"one\r\ntwo\r\n".to_vec()),
        ("Grüße.txt", "Grüße aus Köln\n".repeat(50).into_bytes()),
        ("empty.txt", Vec::new()),
        ("latin.txt", b"caf\xe9\n".to_vec()),
    ];
    let mut corpus: Vec<PathBuf> = Vec::new();
    for (i, (name, content)) in files.iter().enumerate() {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        for crlf in [false, true] {
            let mut args = vec![path.to_str().unwrap().to_string()];
            if crlf {
                args.push("--crlf".into());
            }
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let packed = run_tool(PACK, &refs, b"body\n");
            let message = dir.path().join(format!("m{i}-{crlf}.eml"));
            std::fs::write(&message, &packed.stdout).unwrap();
            corpus.push(message);
        }
    }
    for fixture_name in [
        "mixed.eml",
        "nested.eml",
        "rfc2231.eml",
        "signed.eml",
        "rfc822.eml",
    ] {
        let path = dir.path().join(fixture_name);
        std::fs::write(&path, fixture(fixture_name)).unwrap();
        corpus.push(path);
    }
    for message in &corpus {
        let expected = python_attachments(message);
        let (_d, extracted, _, err, status) = extract(&std::fs::read(message).unwrap(), &[]);
        assert_eq!(status, 0, "{}: {err}", message.display());
        let mut got: Vec<(String, String)> = extracted
            .iter()
            .filter(|(name, _)| !name.starts_with("part-") && !name.ends_with(".eml"))
            .map(|(name, data)| (name.clone(), sha256_hex(data)))
            .collect();
        got.sort();
        assert_eq!(got, expected, "{}", message.display());
    }
}

/// The tree listing of a message given as bytes.
fn tree_of(message: &[u8]) -> (String, String, i32) {
    let out = run_tool(BIN, &[], message);
    (stdout(&out), stderr(&out), code(&out))
}

#[test]
fn white_space_before_a_colon_is_the_obsolete_syntax_and_accepted() {
    // RFC 5322 §4.5: `Subject :` must be accepted; first in the header it
    // is not "not a message", later it does not end the header.
    for message in [
        "Subject : hi\nFrom: a@example.org\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n",
        "From: a@example.org\nSubject\t: hi\nMIME-Version: 1.0\nContent-Type : text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9\n",
    ] {
        let (out, err, status) = tree_of(message.as_bytes());
        assert_eq!(status, 0, "{err}");
        assert_eq!(out, "1\ttext/plain\tutf-8\tquoted-printable\t6\t-\t-\n");
        let text = run_tool(BIN, &["--text"], message.as_bytes());
        assert_eq!(stdout(&text), "café\n");
    }
}

#[test]
fn a_byte_order_mark_before_the_first_field_is_skipped() {
    let message = b"\xEF\xBB\xBFFrom: a@example.org\nSubject: bom\n\nbody\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "1\ttext/plain\t-\t7bit\t5\t-\t-\n");
    assert!(err.contains("byte-order mark"), "{err}");
    let text = run_tool(BIN, &["--text"], message);
    assert_eq!(stdout(&text), "body\n");
}

#[test]
fn a_multipart_header_followed_by_its_first_delimiter_is_unpacked() {
    let message = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n--b\nContent-Type: text/plain\n\none\n--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename=x.bin\n\nabc\n--b--\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    let parts: Vec<String> = out
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        parts,
        [
            "0 multipart/mixed",
            "1 text/plain",
            "2 application/octet-stream"
        ]
    );
    assert!(err.contains("no blank line"), "{err}");
    let (_dir, files, _, err, status) = extract(message, &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(files, [("x.bin".to_string(), b"abc".to_vec())]);
    assert_eq!(stdout(&run_tool(BIN, &["--text"], message)), "one\n");
}

#[test]
fn a_multipart_whose_boundary_never_occurs_is_one_text_part() {
    let message = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=nope\n\nThe text of\nthe message.\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        out,
        "0\tmultipart/mixed\t-\t7bit\t25\t-\t-\n1\ttext/plain\t-\t7bit\t25\t-\t-\n"
    );
    assert!(err.contains("boundary never occurs"), "{err}");
    assert_eq!(
        stdout(&run_tool(BIN, &["--text"], message)),
        "The text of\nthe message.\n"
    );
    // Nested: the inner multipart's text ends at the outer delimiter.
    let nested = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\nlost text\n--outer\nContent-Type: text/plain\n\nsecond\n--outer--\n";
    let (out, err, status) = tree_of(nested);
    assert_eq!(status, 0, "{err}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| l.split('\t').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        ids,
        [
            "0 multipart/mixed",
            "1 multipart/alternative",
            "1.1 text/plain",
            "2 text/plain"
        ]
    );
    let part = run_tool(BIN, &["--part", "1.1"], nested);
    assert_eq!(stdout(&part), "lost text");
}

#[test]
fn uuencode_transfer_encodings_are_decoded() {
    for cte in ["x-uuencode", "x-uue", "uuencode", "X-UUENCODE"] {
        let message = format!(
            "From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee the file\n--b\nContent-Type: application/octet-stream; name=cat.txt\nContent-Transfer-Encoding: {cte}\nContent-Disposition: attachment; filename=cat.txt\n\nbegin 644 cat.txt\n#0V%T\n`\nend\n--b--\n"
        );
        let (_dir, files, _, err, status) = extract(message.as_bytes(), &[]);
        assert_eq!(status, 0, "{cte}: {err}");
        assert_eq!(files, [("cat.txt".to_string(), b"Cat".to_vec())], "{cte}");
        assert_eq!(err, "", "{cte}");
        let (out, _, _) = tree_of(message.as_bytes());
        assert!(
            out.contains(&format!(
                "\t{}\t3\tattachment\tcat.txt\n",
                cte.to_ascii_lowercase()
            )),
            "{out}"
        );
    }
}
