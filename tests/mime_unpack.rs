//! mime-unpack: exact trees and exact bytes for every feature and every kind
//! of broken mail; hostile names never write outside the directory; and
//! agreement with Python's email package on a varied corpus.

mod common;

#[path = "support/small_disk.rs"]
mod small_disk;

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
    assert_eq!(out, "1\ttext/plain\t-\t7bit\t22\tinline\t-\n");
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
             1\ttext/plain\tutf-8\tquoted-printable\t32\tinline\t-\n\
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
    // The closing delimiter that ends the message inside is whole, its
    // line end included (as BODY[2] from an IMAP server); the listed size,
    // the file and --part 2 agree.
    assert!(
        files[0].1.ends_with(b"--f2--\n"),
        "{:?}",
        String::from_utf8_lossy(&files[0].1)
    );
    let listed: usize = out
        .lines()
        .nth(2)
        .unwrap()
        .split('\t')
        .nth(4)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(listed, files[0].1.len());
    let part = run_tool(BIN, &["--part", "2"], &fixture("rfc822.eml"));
    assert_eq!(part.stdout, files[0].1);
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
        (0, "1\ttext/plain\t-\t7bit\t15\tinline\t-\n", "")
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

#[test]
fn json_with_text_or_part_is_refused_with_64() {
    let message = b"Subject: x\n\nhello\n";
    for args in [
        &["--json", "--text"][..],
        &["--text", "--json"],
        &["--json", "--part", "1"],
    ] {
        let out = run_tool(BIN, args, message);
        assert_eq!(code(&out), 64, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(stderr(&out).contains("--json"), "{}", stderr(&out));
    }
    let out = run_tool(BIN, &["--text"], message);
    assert_eq!((code(&out), stdout(&out).as_str()), (0, "hello\n"));
}

/// (part, disposition column, file name column) of every line of the tree.
fn dispositions(listing: &str) -> Vec<(String, String, String)> {
    listing
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].into(), f[5].into(), f[6].into())
        })
        .collect()
}

/// Each fixture shaped as a mail program writes it: (fixture, the
/// attachments --extract writes, the body parts --all adds by name).
const MAILERS: &[(&str, &[&str], &[&str])] = &[
    // mpack writes `Content-Disposition: inline; filename="file.bin"`.
    ("mpack.eml", &["file.bin"], &[]),
    ("mpack-description.eml", &["notes.txt"], &["part-1.txt"]),
    // Apple Mail: the PDF inline, with x-unix-mode, between two HTML parts.
    (
        "apple-mail.eml",
        &["report.pdf"],
        &["part-1.txt", "part-2.1.html", "part-2.3.html"],
    ),
    // Thunderbird: the logo the HTML shows (multipart/related, Content-ID,
    // inline with a name) is a body part; the PDF after it an attachment.
    (
        "thunderbird.eml",
        &["minutes.pdf"],
        &["logo.png", "part-1.1.txt", "part-1.2.1.html"],
    ),
    // Outlook: attachment with size= and creation-date=.
    (
        "outlook.eml",
        &["Q4 figures.xlsx"],
        &["part-1.1.txt", "part-1.2.html"],
    ),
    // Gmail: an inline image of a related body, and an attachment.
    (
        "gmail.eml",
        &["beach.jpg"],
        &["part-1.1.1.txt", "part-1.1.2.html", "view.png"],
    ),
];

#[test]
fn named_inline_parts_are_attachments_as_mailers_send_them() {
    let scratch = Scratch::new();
    for &(name, attachments, bodies) in MAILERS {
        let message = fixture(name);
        let path = scratch.path().join(name);
        std::fs::write(&path, &message).unwrap();
        let decoded: std::collections::HashMap<String, String> =
            python_attachments(&path).into_iter().collect();

        let (_d, files, printed, err, status) = extract(&message, &[]);
        assert_eq!(status, 0, "{name}: {err}");
        assert_eq!(names(&files), attachments, "{name}");
        assert_eq!(printed.lines().count(), attachments.len(), "{name}");
        for (file, data) in &files {
            assert_eq!(
                Some(&sha256_hex(data)),
                decoded.get(file),
                "{name}: {file} differs from what Python decodes"
            );
        }

        let (_d, all, _, err, status) = extract(&message, &["--all"]);
        assert_eq!(status, 0, "{name}: {err}");
        let mut expected: Vec<&str> = attachments.iter().chain(bodies).copied().collect();
        expected.sort();
        assert_eq!(names(&all), expected, "{name} with --all");

        // The listing and the JSON say the same as --extract does.
        let (listing, err, status) = tree(name);
        assert_eq!(status, 0, "{name}: {err}");
        for (part, disposition, filename) in dispositions(&listing) {
            let written = attachments.contains(&filename.as_str());
            let shown = match disposition.as_str() {
                "attachment" => true,
                "inline" | "-" => false,
                other => panic!("{name}: part {part}: disposition {other}"),
            };
            assert_eq!(written, shown, "{name}: part {part}\n{listing}");
        }
        let json = run_tool(BIN, &["--json"], &message);
        let objects: Vec<serde_json::Value> = stdout(&json)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let from_json: Vec<(String, String, String)> = objects
            .iter()
            .map(|o| {
                let text = |k: &str| o[k].as_str().unwrap_or("-").to_string();
                (text("part"), text("disposition"), text("filename"))
            })
            .collect();
        assert_eq!(from_json, dispositions(&listing), "{name}");
    }
}

#[test]
fn declared_and_decided_dispositions_in_json() {
    let json = run_tool(BIN, &["--json"], &fixture("apple-mail.eml"));
    let pdf: serde_json::Value = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|o| o["part"] == "2.2")
        .unwrap();
    assert_eq!(pdf["declared_disposition"], "inline");
    assert_eq!(pdf["disposition"], "attachment");
    assert_eq!(pdf["filename"], "report.pdf");
    assert_eq!(pdf["type"], "application/pdf");
    let (listing, _, _) = tree("thunderbird.eml");
    assert!(
        listing.contains("1.2.2\timage/png\t-\tbase64\t33\tinline\tlogo.png\n"),
        "{listing}"
    );
    assert!(
        listing.contains("2\tapplication/pdf\t-\tbase64\t54\tattachment\tminutes.pdf\n"),
        "{listing}"
    );
}

#[test]
fn related_parts_follow_the_start_parameter_and_need_a_reference() {
    // The root named by `start` is the second part; the first, with a
    // Content-ID, is a resource; an unreferenced named image is an
    // attachment even inside the related body.
    let message = b"From: a@example.org\nMIME-Version: 1.0\n\
        Content-Type: multipart/related; boundary=r; start=\"<root@x>\"\n\n\
        --r\nContent-Type: image/gif; name=dot.gif\nContent-ID: <dot@x>\n\
        Content-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n\
        --r\nContent-Type: text/html\nContent-ID: <root@x>\n\n<img src=\"cid:dot@x\">\n\
        --r\nContent-Type: image/png; name=stray.png\nContent-Transfer-Encoding: base64\n\n\
        iVBORw0KGgo=\n--r--\n";
    let out = run_tool(BIN, &[], message);
    assert_eq!(
        dispositions(&stdout(&out)),
        [
            ("0".into(), "-".into(), "-".into()),
            ("1".into(), "inline".into(), "dot.gif".into()),
            ("2".into(), "inline".into(), "-".into()),
            ("3".into(), "attachment".into(), "stray.png".into()),
        ]
    );
    let (_d, files, _, err, status) = extract(message, &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(names(&files), ["stray.png"]);
}

#[test]
fn part_of_a_multipart_is_written_as_imap_gives_it() {
    let nested = String::from_utf8(fixture("nested.eml")).unwrap();
    let body_between = |after: &str, before: &str| {
        let start = nested.find(after).unwrap() + after.len();
        let end = start + nested[start..].find(before).unwrap();
        nested[start..end].to_string()
    };
    // Part 1, the multipart/alternative: from its first delimiter through
    // its closing one, with that line's end (as Dovecot gives BODY[1]);
    // its header is not the part's.
    let part = |id: &str| {
        let out = run_tool(BIN, &["--part", id], nested.as_bytes());
        assert_eq!(code(&out), 0, "{id}: {}", stderr(&out));
        stdout(&out)
    };
    let one = body_between("boundary=b2\n\n", "--b1\n");
    assert!(
        one.starts_with("--b2\n") && one.ends_with("--b2--\n"),
        "{one:?}"
    );
    assert_eq!(part("1"), one);
    let related = body_between("boundary=b3\n\n", "--b2--");
    assert!(related.ends_with("--b3--\n"), "{related:?}");
    assert_eq!(part("1.2"), related);
    // 0: the whole body, as IMAP's BODY[TEXT].
    let text = &nested[nested.find("\n\n").unwrap() + 2..];
    assert_eq!(part("0"), text);
    // Leaves are still decoded.
    assert_eq!(part("1.1"), "plain text");

    // A message part is written whole; N.0 is its multipart body.
    let rfc822 = fixture("rfc822.eml");
    let listing = stdout(&run_tool(BIN, &[], &rfc822));
    for line in listing.lines() {
        let id = line.split('\t').next().unwrap();
        let out = run_tool(BIN, &["--part", id], &rfc822);
        assert_eq!(code(&out), 0, "{id}: {}", stderr(&out));
    }
}

#[test]
fn a_part_that_is_not_there_is_65_naming_those_that_are() {
    for id in ["0", "2.0", "9", "1.1.1", "x"] {
        let out = run_tool(BIN, &["--part", id], &fixture("mixed.eml"));
        let expected = if id == "0" {
            (0, String::new())
        } else {
            (
                65,
                format!(
                    "mime-unpack: error: the message has no part {id}; \
                     its parts are 0, 1, 2, 3\n"
                ),
            )
        };
        assert_eq!((code(&out), stderr(&out)), expected, "{id}");
        if id != "0" {
            assert!(out.stdout.is_empty(), "{id}");
        }
    }
    let out = run_tool(BIN, &["--part", "0"], &fixture("simple.eml"));
    assert_eq!(
        (code(&out), stderr(&out)),
        (
            65,
            "mime-unpack: error: the message has no part 0; its parts are 1\n".into()
        )
    );
}

#[test]
fn names_cannot_hide_their_extension() {
    // invoice<U+202E>fdp.exe shows as invoiceexe.pdf where the override
    // is obeyed; RFC 2231 and RFC 2047 both bring it.
    let message = b"From: a@example.org\nMIME-Version: 1.0\n\
        Content-Type: multipart/mixed; boundary=h\n\n\
        --h\nContent-Type: application/octet-stream\n\
        Content-Disposition: attachment; filename*=utf-8''invoice%E2%80%AEfdp.exe\n\nMZ\n\
        --h\nContent-Type: application/octet-stream; name=\"=?utf-8?q?photo=E2=80=8B=E2=81=A6.jpg?=\"\n\n\
        jpg\n\
        --h\nContent-Type: application/octet-stream\n\
        Content-Disposition: attachment; filename*=utf-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf\n\n%PDF\n\
        --h--\n";
    let (_d, files, printed, err, status) = extract(message, &[]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        names(&files),
        ["invoice_fdp.exe", "photo__.jpg", "отчёт.pdf"]
    );
    assert!(!printed.contains('\u{202E}'), "{printed}");
    let listing = stdout(&run_tool(BIN, &[], message));
    assert!(listing.contains("\tinvoice\\u{202e}fdp.exe\n"), "{listing}");
    assert!(
        listing.contains("\tphoto\\u{200b}\\u{2066}.jpg\n"),
        "{listing}"
    );
    assert!(listing.contains("\tотчёт.pdf\n"), "{listing}");
    // JSON keeps the name as the message gave it.
    let json = stdout(&run_tool(BIN, &["--json"], message));
    assert!(json.contains("invoice\\u202efdp.exe"), "{json}");
    assert!(!json.contains('\u{202E}'), "{json}");
    let first: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(first["filename"], "invoice\u{202E}fdp.exe");
}

/// A minimal IMAP client for the comparison below: one command at a time,
/// the literal of a FETCH response returned.
struct Imap {
    reader: std::io::BufReader<std::net::TcpStream>,
    tag: u32,
}

impl Imap {
    fn connect(port: u16) -> Imap {
        let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut imap = Imap {
            reader: std::io::BufReader::new(stream),
            tag: 0,
        };
        let greeting = imap.line();
        assert!(greeting.starts_with(b"* OK"), "{greeting:?}");
        imap
    }

    fn line(&mut self) -> Vec<u8> {
        use std::io::BufRead;
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
        assert!(!line.is_empty(), "the server closed the connection");
        line
    }

    /// Sends a command; returns the literals of its untagged responses.
    fn command(&mut self, command: &str) -> Vec<Vec<u8>> {
        use std::io::{Read, Write};
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        write!(self.reader.get_mut(), "{tag} {command}\r\n").unwrap();
        let mut literals = Vec::new();
        loop {
            let line = self.line();
            let text = String::from_utf8_lossy(&line).into_owned();
            if text.starts_with(&format!("{tag} ")) {
                assert!(text.starts_with(&format!("{tag} OK")), "{command}: {text}");
                return literals;
            }
            if let Some(open) = text.trim_end().strip_suffix('}').and_then(|t| t.rfind('{')) {
                let size: usize = text.trim_end()[open + 1..text.trim_end().len() - 1]
                    .parse()
                    .unwrap();
                let mut literal = vec![0; size];
                self.reader.read_exact(&mut literal).unwrap();
                literals.push(literal);
                self.line(); // the rest of the response
            } else if text.contains("BODY[") && text.contains("\"\"") {
                literals.push(Vec::new());
            }
        }
    }
}

#[test]
fn part_bytes_are_what_dovecot_gives_as_body_sections() {
    let dovecot = common::dovecot::Dovecot::start();
    let mut imap = Imap::connect(dovecot.imap);
    imap.command("LOGIN alice alicepw");
    let lf = |data: &[u8]| String::from_utf8_lossy(data).replace("\r\n", "\n");
    let mut compared = 0;
    for name in [
        "nested.eml",
        "mixed.eml",
        "rfc822.eml",
        "digest.eml",
        "signed.eml",
        "apple-mail.eml",
        "thunderbird.eml",
        "outlook.eml",
        "gmail.eml",
        "epilogues.eml",
    ] {
        let message = fixture(name);
        dovecot.deposit("alice", &message);
        imap.command("SELECT INBOX");
        let listing = stdout(&run_tool(BIN, &[], &message));
        for line in listing.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let (id, kind) = (fields[0], fields[1]);
            let composite = kind.starts_with("multipart/") || kind == "message/rfc822";
            if (!composite && !matches!(fields[3], "7bit" | "8bit")) || id.contains(".u") {
                continue;
            }
            // IMAP has no part 0 or N.0: the body of a message is TEXT.
            let section = match id.strip_suffix(".0") {
                _ if id == "0" => "TEXT".to_string(),
                Some(message_part) => format!("{message_part}.TEXT"),
                None => id.to_string(),
            };
            let fetched = imap.command(&format!("FETCH * (BODY.PEEK[{section}])"));
            assert_eq!(fetched.len(), 1, "{name} {section}");
            let ours = run_tool(BIN, &["--part", id], &message);
            assert_eq!(code(&ours), 0, "{name} {id}: {}", stderr(&ours));
            assert_eq!(
                lf(&ours.stdout),
                lf(&fetched[0]),
                "{name}: --part {id} differs from BODY[{section}]"
            );
            compared += 1;
        }
    }
    assert!(compared >= 20, "{compared}");
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
        assert_eq!(
            out,
            "1\ttext/plain\tutf-8\tquoted-printable\t6\tinline\t-\n"
        );
        let text = run_tool(BIN, &["--text"], message.as_bytes());
        assert_eq!(stdout(&text), "café\n");
    }
}

#[test]
fn a_byte_order_mark_before_the_first_field_is_skipped() {
    let message = b"\xEF\xBB\xBFFrom: a@example.org\nSubject: bom\n\nbody\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    assert_eq!(out, "1\ttext/plain\t-\t7bit\t5\tinline\t-\n");
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

/// Found by the corpus comparison (CPython's msg_42.txt): a multipart
/// whose only delimiter is its closing one has no body part (RFC 2046
/// §5.1.1 needs one); the delimiter line is not text to show.
#[test]
fn a_multipart_with_only_its_closing_delimiter_shows_its_preamble() {
    let message = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\nA preamble.\n--b--\nepilogue\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        out,
        "0\tmultipart/mixed\t-\t7bit\t18\t-\t-\n1\ttext/plain\t-\t7bit\t11\tinline\t-\n"
    );
    assert!(
        err.contains("part 0: the multipart has no body part, only its closing delimiter"),
        "{err}"
    );
    assert_eq!(
        stdout(&run_tool(BIN, &["--text"], message)),
        "A preamble.\n"
    );
    // Nothing before it: an empty part, as Python's email shows it.
    let empty = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b--\n";
    let (out, err, status) = tree_of(empty);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        out,
        "0\tmultipart/mixed\t-\t7bit\t6\t-\t-\n1\ttext/plain\t-\t7bit\t0\tinline\t-\n"
    );
}

#[test]
fn a_multipart_whose_boundary_never_occurs_is_one_text_part() {
    let message = b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=nope\n\nThe text of\nthe message.\n";
    let (out, err, status) = tree_of(message);
    assert_eq!(status, 0, "{err}");
    assert_eq!(
        out,
        "0\tmultipart/mixed\t-\t7bit\t25\t-\t-\n1\ttext/plain\t-\t7bit\t25\tinline\t-\n"
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

/// An mbox as mail programs keep one: a plain message with a body line
/// quoted `>From `, a message with a PDF attachment, and a broken one (its
/// multipart never closed), each followed by the blank line the format
/// adds.
fn three_message_mbox() -> String {
    "From alice@example.org Mon Jan  1 00:00:00 2024\n\
     From: alice@example.org\nSubject: minutes\n\n\
     Hello,\n>From the minutes:\n>>From quoted twice\n\n\
     From bob@example.org Mon Jan  1 00:01:00 2024\n\
     From: bob@example.org\nSubject: report\nMIME-Version: 1.0\n\
     Content-Type: multipart/mixed; boundary=\"b1\"\n\n\
     --b1\nContent-Type: text/plain\n\nSee attached.\n\
     --b1\nContent-Type: application/pdf; name=\"report.pdf\"\n\
     Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b1--\n\n\
     From carol@example.org Mon Jan  1 00:02:00 2024\n\
     From: carol@example.org\nSubject: cut\nMIME-Version: 1.0\n\
     Content-Type: multipart/mixed; boundary=\"c\"\n\n--c\n\ncut short\n\n"
        .to_string()
}

#[test]
fn an_mbox_is_read_as_its_first_message_and_says_what_it_skipped() {
    let mbox = three_message_mbox();
    let out = run_tool(BIN, &[], mbox.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "1\ttext/plain\t-\t7bit\t44\tinline\t-\n");
    assert_eq!(
        stderr(&out),
        "mime-unpack: note: - is an mbox of 3 messages; message 1 shown, 2 others skipped (choose one with --message N)\n"
    );
    // The body comes back un-quoted, without the blank line that ends
    // the message in the mbox.
    let out = run_tool(BIN, &["--part", "1"], mbox.as_bytes());
    assert_eq!(
        stdout(&out),
        "Hello,\nFrom the minutes:\n>From quoted twice\n"
    );
    // Quiet means quiet.
    let out = run_tool(BIN, &["-q"], mbox.as_bytes());
    assert_eq!(stderr(&out), "");
}

#[test]
fn message_n_picks_one_message_of_an_mbox() {
    let mbox = three_message_mbox();
    let (_dir, files, _, err, status) = extract(mbox.as_bytes(), &["--message", "2"]);
    assert_eq!(status, 0, "{err}");
    assert_eq!(files, [("report.pdf".to_string(), b"%PDF-1.4\n".to_vec())]);
    assert!(err.contains("message 2 shown, 2 others skipped"), "{err}");
    // The broken last one is unpacked as far as it goes, with a warning.
    let out = run_tool(BIN, &["--message", "3"], mbox.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "0\tmultipart/mixed\t-\t7bit\t15\t-\t-\n1\ttext/plain\t-\t7bit\t9\tinline\t-\n"
    );
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
    // CRLF mboxes split the same way.
    let crlf = mbox.replace('\n', "\r\n");
    let out = run_tool(BIN, &["--message", "2", "--part", "2"], crlf.as_bytes());
    assert_eq!(out.stdout, b"%PDF-1.4\n");
}

#[test]
fn message_n_beyond_the_last_is_65_naming_the_count() {
    let mbox = three_message_mbox();
    let out = run_tool(BIN, &["--message", "4"], mbox.as_bytes());
    assert_eq!(code(&out), 65);
    assert_eq!(
        stderr(&out),
        "mime-unpack: error: --message 4: - holds 3 messages\n"
    );
    // A message that is not an mbox is message 1, and only that.
    let plain = b"From: a@example.org\n\nbody\n\nFrom here on, text\n";
    let out = run_tool(BIN, &["--message", "2"], plain);
    assert_eq!(code(&out), 65);
    assert_eq!(
        stderr(&out),
        "mime-unpack: error: --message 2: - holds 1 message\n"
    );
    let out = run_tool(BIN, &["--part", "1"], plain);
    assert_eq!(stdout(&out), "body\n\nFrom here on, text\n");
    assert_eq!(stderr(&out), "");
    let out = run_tool(BIN, &["--message", "0"], plain);
    assert_eq!(code(&out), 64);
    // An mbox message that is not a message says which one it is.
    let out = run_tool(BIN, &["--message", "2"], b"From a\nS: x\n\nFrom b\n\n");
    assert_eq!(code(&out), 65);
    assert_eq!(
        stderr(&out),
        "mime-unpack: error: message 2: not a message: no header fields\n"
    );
}

/// `--extract` onto a full disk (a 64 KiB tmpfs): 74 in one line, and the
/// attachment that did not fit is not left half-written under its name;
/// the one that fitted before it is whole.
#[test]
fn extracting_onto_a_full_disk_leaves_no_half_written_file() {
    let Some(disk) =
        small_disk::small_disk("extracting_onto_a_full_disk_leaves_no_half_written_file")
    else {
        return;
    };
    let scratch = Scratch::new();
    let small = scratch.path().join("small.txt");
    std::fs::write(&small, "fits\n").unwrap();
    let big = scratch.path().join("big.bin");
    let data: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&big, &data).unwrap();
    let packed = run_tool(
        PACK,
        &[
            "--from",
            "a@example.org",
            "--to",
            "b@example.org",
            "--subject",
            "two",
            small.to_str().unwrap(),
            big.to_str().unwrap(),
        ],
        b"body\n",
    );
    assert_eq!(code(&packed), 0, "{}", stderr(&packed));
    let out_dir = disk.path().join("out");
    let out = run_tool(
        BIN,
        &["--extract", "-d", out_dir.to_str().unwrap(), "-"],
        &packed.stdout,
    );
    let said = stderr(&out);
    assert_eq!(code(&out), 74, "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(said.contains("No space left"), "{said}");
    assert!(
        !out_dir.join("big.bin").exists(),
        "a half-written big.bin stays"
    );
    assert_eq!(std::fs::read(out_dir.join("small.txt")).unwrap(), b"fits\n");
}
