//! mime-pack: every message it writes decodes back, with mail-parser and
//! independently with Python's email package, to exactly what went in.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Scratch, code, python_view, run_tool, stderr, stdout};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mime-pack");

fn sha256(data: &[u8]) -> String {
    openssl::sha::sha256(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks every line limit and 7-bit cleanliness of a generated message,
/// and that Python reports no defect.
fn assert_well_formed(message: &[u8]) {
    assert_well_formed_but(message, &[]);
}

/// What Python says of RFC 2047 words in a quoted `name=` (which RFC 2047
/// §5 does not allow, but older readers need).
const LEGACY_NAME_DEFECTS: &[&str] = &[
    "header Content-Type: InvalidHeaderDefect('encoded word inside quoted string')",
    "header Content-Type: InvalidHeaderDefect('missing trailing whitespace after encoded-word')",
];

/// [`assert_well_formed`], tolerating the `allowed` defects.
fn assert_well_formed_but(message: &[u8], allowed: &[&str]) {
    let text = message.split(|&b| b == b'\n');
    let mut in_header = true;
    let mut header_done_once = false;
    for (n, line) in text.enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        assert!(
            line.len() <= 998,
            "line {} has {} octets",
            n + 1,
            line.len()
        );
        if line.is_empty() {
            in_header = false;
            header_done_once = true;
        } else if line.starts_with(b"--=_mk") {
            in_header = true;
        }
        if in_header {
            assert!(
                line.len() <= 78,
                "header line {} too long: {:?}",
                n + 1,
                String::from_utf8_lossy(line)
            );
        }
        // mime-pack never needs 8bit: every line is 7-bit clean.
        assert!(
            line.iter().all(|&b| b < 0x80 && b != 0),
            "line {} is not 7-bit",
            n + 1
        );
    }
    assert!(header_done_once);
    let view = python_view(message);
    let defects: Vec<&str> = view["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .filter(|d| !allowed.contains(d))
        .collect();
    assert!(defects.is_empty(), "Python reports defects: {defects:?}");
    assert!(MessageParser::default().parse(message).is_some());
}

struct Packed {
    output: Output,
    _dir: Scratch,
}

/// Runs mime-pack in a scratch directory holding `files`.
fn pack(files: &[(&str, &[u8])], args: &[&str], stdin: &[u8]) -> Packed {
    let dir = Scratch::new();
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let paths: Vec<String> = args
        .iter()
        .map(|a| a.replace("{dir}", dir.path().to_str().unwrap()))
        .collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let output = run_tool(BIN, &refs, stdin);
    Packed { output, _dir: dir }
}

fn latin1_text() -> Vec<u8> {
    b"Gr\xfc\xdfe aus K\xf6ln, \xe7a va tr\xe8s bien.\n".repeat(20)
}

fn round_trip_files() -> Vec<(String, Vec<u8>)> {
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    binary.extend_from_slice(&[0, 0xff, 0, 0xff, b'\r', b'\n', b'.', b'\n']);
    let long_lines = format!("{}\n{}\n", "x".repeat(5000), "y ".repeat(2500));
    vec![
        ("empty.dat".into(), Vec::new()),
        ("binary.bin".into(), binary),
        (
            "crlf.txt".into(),
            b"line one\r\nline two\r\n\r\nlast\r\n".to_vec(),
        ),
        ("long.txt".into(), long_lines.into_bytes()),
        (
            "utf8.txt".into(),
            "Grüße aus Köln — ça va très bien.\nЗдравствуйте!\n"
                .repeat(30)
                .into_bytes(),
        ),
        ("latin1.txt".into(), latin1_text()),
        (
            "boundary-like.txt".into(),
            b"--=_mk0123456789\nfake =_ boundary\n".to_vec(),
        ),
        (
            "no-final-newline.txt".into(),
            b"trailing space \nend  ".to_vec(),
        ),
    ]
}

#[test]
fn attachments_decode_back_to_their_bytes() {
    round_trip(&[]);
}

#[test]
fn without_legacy_names_python_finds_no_defect_at_all() {
    round_trip(&["--no-legacy-names"]);
}

fn round_trip(options: &[&str]) {
    let files = round_trip_files();
    let long_name: String = "Ünïcödé-".repeat(40).chars().take(296).collect::<String>() + ".pdf";
    assert_eq!(long_name.chars().count(), 300);
    let mut file_refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nbinary pdf\n".to_vec();
    file_refs.push(("x.pdf", &pdf));
    let mut args = vec![
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        "--subject",
        "files",
    ];
    args.extend_from_slice(options);
    let specs: Vec<String> = files.iter().map(|(n, _)| format!("{{dir}}/{n}")).collect();
    args.extend(specs.iter().map(String::as_str));
    let renamed = format!("{{dir}}/x.pdf;name={long_name}");
    args.push(&renamed);
    let packed = pack(&file_refs, &args, b"Body text.\n");
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let message = &packed.output.stdout;
    if options.is_empty() {
        assert_well_formed_but(message, LEGACY_NAME_DEFECTS);
        assert!(stdout(&packed.output).contains("name=\"=?utf-8?"));
    } else {
        assert_well_formed(message);
        assert!(!stdout(&packed.output).contains("=?utf-8?"));
    }

    let mut expected: Vec<(String, Vec<u8>)> = files.clone();
    expected.push((long_name.clone(), pdf.clone()));

    // Python's email package.
    let view = python_view(message);
    let parts = view["parts"].as_array().unwrap();
    assert_eq!(parts.len(), expected.len() + 1, "{view}");
    assert_eq!(parts[0]["type"], "text/plain");
    for (part, (name, content)) in parts[1..].iter().zip(&expected) {
        assert_eq!(part["filename"], name.as_str());
        assert_eq!(part["sha256"], sha256(content), "{name} differs (Python)");
        assert_eq!(part["disposition"], "attachment");
    }

    // mail-parser.
    let parsed = MessageParser::default().parse(message).unwrap();
    let attachments: Vec<_> = parsed.attachments().collect();
    assert_eq!(attachments.len(), expected.len());
    for (part, (name, content)) in attachments.iter().zip(&expected) {
        assert_eq!(part.attachment_name(), Some(name.as_str()));
        if name == "latin1.txt" {
            // mail-parser turns text into UTF-8 whatever the charset says;
            // unknown-8bit text must still be base64 of the exact bytes.
            continue;
        }
        assert_eq!(
            sha256(part.contents()),
            sha256(content),
            "{name} differs (mail-parser)"
        );
    }
}

#[test]
fn transfer_encodings_and_charsets_fit_the_content() {
    let files = round_trip_files();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let specs: Vec<String> = files.iter().map(|(n, _)| format!("{{dir}}/{n}")).collect();
    let mut args = vec!["--no-body"];
    args.extend(specs.iter().map(String::as_str));
    let packed = pack(&refs, &args, b"");
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let view = python_view(&packed.output.stdout);
    let by_name = |name: &str| -> Value {
        view["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["filename"] == name)
            .unwrap_or_else(|| panic!("no part {name}"))
            .clone()
    };
    assert_eq!(by_name("binary.bin")["cte"], "base64");
    assert_eq!(by_name("binary.bin")["type"], "application/octet-stream");
    assert_eq!(by_name("empty.dat")["size"], 0);
    assert_eq!(by_name("crlf.txt")["cte"], "quoted-printable");
    assert_eq!(by_name("long.txt")["cte"], "quoted-printable");
    assert_eq!(by_name("utf8.txt")["charset"], "utf-8");
    assert_eq!(by_name("latin1.txt")["cte"], "base64");
    assert_eq!(by_name("latin1.txt")["charset"], "unknown-8bit");
    assert_eq!(by_name("boundary-like.txt")["cte"], "quoted-printable");
    // With CRLF output, CRLF text needs no escaping: 7bit.
    let crlf = pack(&refs, &["--no-body", "--crlf", "{dir}/crlf.txt"], b"");
    let view = python_view(&crlf.output.stdout);
    assert_eq!(view["parts"][0]["cte"], "7bit");
    assert_eq!(view["parts"][0]["sha256"], sha256(&files[2].1));
}

#[test]
fn plain_ascii_body_is_a_single_7bit_part() {
    let packed = pack(
        &[],
        &[
            "--from",
            "Alice <alice@example.org>",
            "--to",
            "bob@example.org",
            "--subject",
            "Hi",
        ],
        b"Hello Bob.\r\nSee you.\n",
    );
    assert_eq!(code(&packed.output), 0);
    let text = stdout(&packed.output);
    assert!(text.starts_with("Date: "), "{text}");
    assert!(text.contains("\nMessage-ID: <"), "{text}");
    assert!(text.contains("@example.org>\n"), "{text}");
    assert!(text.contains("\nMIME-Version: 1.0\n"));
    assert!(text.contains("\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\nHello Bob.\nSee you.\n"), "{text}");
    assert!(text.ends_with("See you.\n"));
    assert_well_formed(&packed.output.stdout);
    let view = python_view(&packed.output.stdout);
    assert_eq!(view["from"], "Alice <alice@example.org>");
    assert_eq!(view["structure"], serde_json::json!(["text/plain"]));
}

#[test]
fn non_ascii_headers_are_encoded_and_folded() {
    let subject = "Überweisung für März — 予定の確認 ".repeat(6);
    let packed = pack(
        &[],
        &[
            "--from",
            "Jörg Müller <jorg@example.org>",
            "--to",
            "Ann <ann@example.org>, \"Doe, John\" <john@example.org>",
            "--to",
            "team: x@example.org, y@example.org;",
            "--subject",
            &subject,
            "--header",
            "X-Note: Größe",
        ],
        "Viele Grüße aus Köln, und bis bald im neuen Büro.\n".as_bytes(),
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    assert_well_formed(&packed.output.stdout);
    let view = python_view(&packed.output.stdout);
    assert_eq!(view["subject"], subject.trim_end());
    assert_eq!(view["from"], "Jörg Müller <jorg@example.org>");
    assert!(
        view["to"]
            .as_str()
            .unwrap()
            .contains("\"Doe, John\" <john@example.org>"),
        "{view}"
    );
    assert!(
        view["to"]
            .as_str()
            .unwrap()
            .contains("team: x@example.org, y@example.org;"),
        "{view}"
    );
    assert_eq!(view["parts"][0]["cte"], "quoted-printable");
}

#[test]
fn html_alternative_with_inline_image() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake image data \xff\x00".to_vec();
    let packed = pack(
        &[
            (
                "page.html",
                b"<html><body><img src=\"cid:logo\"> hello</body></html>\n",
            ),
            ("logo.png", &png),
            ("doc.pdf", b"%PDF-1.7\n"),
        ],
        &[
            "--html",
            "{dir}/page.html",
            "--inline",
            "{dir}/logo.png;cid=logo",
            "{dir}/doc.pdf",
        ],
        b"hello\n",
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    assert_well_formed(&packed.output.stdout);
    let view = python_view(&packed.output.stdout);
    assert_eq!(
        view["structure"],
        serde_json::json!([
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "application/pdf"
        ])
    );
    let image = &view["parts"][2];
    assert_eq!(image["content_id"], "<logo>");
    assert_eq!(image["disposition"], "inline");
    assert_eq!(image["sha256"], sha256(&png));
}

#[test]
fn types_from_names_content_and_overrides() {
    let packed = pack(
        &[
            ("noext", b"\x89PNG\r\n\x1a\n\0\0binary"),
            ("invite.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n"),
            ("x.dat", b"data"),
            ("words", b"just words\n"),
        ],
        &[
            "--no-body",
            "{dir}/noext",
            "{dir}/invite.ics",
            "{dir}/x.dat;type=application/vnd.example",
            "{dir}/words",
            "--attach",
            "{dir}/x.dat;name=renamed.json",
        ],
        b"",
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let view = python_view(&packed.output.stdout);
    let types: Vec<&str> = view["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "image/png",
            "text/calendar",
            "application/vnd.example",
            "text/plain",
            "application/json"
        ]
    );
    assert_eq!(view["parts"][4]["filename"], "renamed.json");
}

#[test]
fn header_injection_is_refused_with_64() {
    for args in [
        vec!["--subject", "hi\r\nBcc: victim@example.org"],
        vec!["--subject", "hi\nX: y"],
        vec!["--to", "a@example.org\nBcc: victim@example.org"],
        vec!["--header", "X-A: b\r\nBcc: c@example.org"],
        vec!["--header", "Content-Type: text/html"],
        vec!["--header", "Bad Name: x"],
    ] {
        let out = run_tool(BIN, &args, b"body\n");
        assert_eq!(code(&out), 64, "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?} wrote output");
        assert!(
            stderr(&out).starts_with("mime-pack: error: "),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn bad_addresses_are_refused_with_64() {
    for bad in [
        "not an address",
        "a@",
        "@example.org",
        "a..b@example.org",
        "a@b c",
        "\"unterminated@example.org",
        "<a@example.org",
        "jörg@example.org",
    ] {
        let out = run_tool(BIN, &["--to", bad], b"body\n");
        assert_eq!(code(&out), 64, "{bad:?} accepted");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn unreadable_attachment_is_66_before_any_output() {
    let dir = Scratch::new();
    let good = dir.path().join("good.txt");
    std::fs::write(&good, "fine\n").unwrap();
    let missing = dir.path().join("missing.pdf");
    let out = run_tool(
        BIN,
        &[good.to_str().unwrap(), missing.to_str().unwrap()],
        b"body\n",
    );
    assert_eq!(code(&out), 66);
    assert!(out.stdout.is_empty(), "output was written");
    assert!(stderr(&out).contains("missing.pdf"));
    let out = run_tool(BIN, &["--body", missing.to_str().unwrap()], b"");
    assert_eq!(code(&out), 66);
    let out = run_tool(BIN, &[dir.path().to_str().unwrap()], b"body\n");
    assert_eq!(
        code(&out),
        66,
        "a directory as attachment: {}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn crlf_output_has_only_crlf_line_ends() {
    let packed = pack(
        &[("a.bin", &[0u8, 1, 2, 255])],
        &["--crlf", "--subject", "x", "{dir}/a.bin"],
        b"one\ntwo\rthree\r\n",
    );
    assert_eq!(code(&packed.output), 0);
    let out = &packed.output.stdout;
    for (i, &b) in out.iter().enumerate() {
        if b == b'\n' {
            assert_eq!(out[i - 1], b'\r', "bare LF at {i}");
        }
        if b == b'\r' {
            assert_eq!(out.get(i + 1), Some(&b'\n'), "bare CR at {i}");
        }
    }
    assert_well_formed(out);
    let view = python_view(out);
    assert_eq!(view["parts"][1]["sha256"], sha256(&[0u8, 1, 2, 255]));
}

#[test]
fn message_mode_wraps_a_plain_message() {
    let original = b"From: a@example.org\nTo: b@example.org\nSubject: draft\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGr\xc3\xbc\xc3\x9fe\n";
    let packed = pack(
        &[("inv.pdf", b"%PDF-1.4\n")],
        &["--message", "{dir}/inv.pdf"],
        original,
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let text = String::from_utf8_lossy(&packed.output.stdout).into_owned();
    assert!(
        text.starts_with("From: a@example.org\nTo: b@example.org\nSubject: draft\n"),
        "{text}"
    );
    assert!(
        text.contains("\nDate: ") && text.contains("\nMessage-ID: <"),
        "{text}"
    );
    let view = python_view(&packed.output.stdout);
    assert_eq!(view["defects"], serde_json::json!([]));
    assert_eq!(
        view["structure"],
        serde_json::json!(["multipart/mixed", "text/plain", "application/pdf"])
    );
    assert_eq!(view["parts"][0]["sha256"], sha256("Grüße\n".as_bytes()));
    assert_eq!(view["parts"][1]["filename"], "inv.pdf");
}

#[test]
fn message_mode_joins_an_existing_mixed_message() {
    let first = pack(
        &[("a.txt", b"first attachment\n")],
        &[
            "--from",
            "a@example.org",
            "--subject",
            "orig",
            "{dir}/a.txt",
        ],
        b"body\n",
    );
    assert_eq!(code(&first.output), 0);
    let second = pack(
        &[
            ("b.bin", &[9u8, 0, 9]),
            ("c.txt", b"line\n--=_mk looks like a boundary\n"),
        ],
        &[
            "--message",
            "--subject",
            "replaced",
            "{dir}/b.bin",
            "{dir}/c.txt",
        ],
        &first.output.stdout,
    );
    assert_eq!(code(&second.output), 0, "{}", stderr(&second.output));
    let text = stdout(&second.output);
    assert_eq!(text.matches("Subject:").count(), 1, "{text}");
    assert_eq!(text.matches("MIME-Version:").count(), 1, "{text}");
    assert_well_formed(&second.output.stdout);
    let view = python_view(&second.output.stdout);
    assert_eq!(view["subject"], "replaced");
    assert_eq!(
        view["structure"],
        serde_json::json!([
            "multipart/mixed",
            "text/plain",
            "text/plain",
            "application/octet-stream",
            "text/plain"
        ])
    );
    assert_eq!(view["parts"][1]["filename"], "a.txt");
    assert_eq!(view["parts"][2]["sha256"], sha256(&[9u8, 0, 9]));
    assert_eq!(
        view["parts"][3]["sha256"],
        sha256(b"line\n--=_mk looks like a boundary\n")
    );
}

/// `--message` onto a multipart/mixed whose boundary is given with a comment
/// (RFC 2045 §5.1) or in RFC 2231 continuations: the new part goes into
/// that multipart, which is not wrapped in another one.
#[test]
fn message_mode_joins_a_mixed_message_however_its_boundary_is_written() {
    for content_type in [
        "multipart/mixed (note); boundary=\"BB\"",
        "multipart/mixed; boundary*0=\"B\"; boundary*1=\"B\"",
    ] {
        let original = format!(
            "From: a@example.org\nSubject: s\nMIME-Version: 1.0\nContent-Type: {content_type}\n\n\
             --BB\nContent-Type: text/plain\n\nbody\n\
             --BB\nContent-Type: text/plain; name=\"a.txt\"\n\nfirst\n\
             --BB--\n"
        );
        let packed = pack(
            &[("b.bin", &[9u8, 0, 9])],
            &["--message", "{dir}/b.bin"],
            original.as_bytes(),
        );
        assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
        let text = stdout(&packed.output);
        assert_eq!(text.matches("multipart/mixed").count(), 1, "{text}");
        assert_eq!(text.matches("Content-Type:").count(), 4, "{text}");
        assert_eq!(text.matches("\n--BB\n").count(), 3, "{text}");
        assert!(text.ends_with("\n--BB--\n"), "{text}");
        let message = MessageParser::default()
            .parse(&packed.output.stdout)
            .unwrap();
        let leaves: Vec<Vec<u8>> = message
            .parts
            .iter()
            .skip(1)
            .map(|part| part.contents().to_vec())
            .collect();
        assert_eq!(
            leaves,
            [b"body".to_vec(), b"first".to_vec(), vec![9u8, 0, 9]],
            "{content_type}"
        );
    }
}

#[test]
fn message_mode_refuses_what_is_not_a_message() {
    let out = run_tool(BIN, &["--message"], b"\n\njust text, no header\n");
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    let unclosed = b"Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\nx\n";
    let out = run_tool(BIN, &["--message"], unclosed);
    assert_eq!(code(&out), 65);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_large_attachment_streams_in_bounded_memory() {
    let dir = Scratch::new();
    let big = dir.path().join("big.bin");
    let file = std::fs::File::create(&big).unwrap();
    // 96 MiB of pseudo-random data written in pieces.
    let mut writer = std::io::BufWriter::new(file);
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..(96 << 20) / 8 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::io::Write::write_all(&mut writer, &state.to_le_bytes()).unwrap();
    }
    drop(writer);
    let measured = common::run_measured(
        BIN,
        &["--no-body", big.to_str().unwrap()],
        std::iter::empty(),
    );
    assert_eq!(measured.code, 0);
    assert!(
        measured.stdout_lines > (96 << 20) / 57,
        "{} lines",
        measured.stdout_lines
    );
    assert!(
        measured.max_rss_kib < 32 * 1024,
        "peak memory {} KiB",
        measured.max_rss_kib
    );
}

/// The header block of a message, one unfolded field a line.
fn header_names(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\n\n").next().unwrap().to_string();
    head.lines()
        .filter(|l| !l.starts_with([' ', '\t']))
        .map(|l| l.split(':').next().unwrap().to_ascii_lowercase())
        .collect()
}

/// mime-pack with `EMAIL` set or removed, in `dir`.
fn pack_env(dir: &Path, args: &[&str], email: Option<&str>, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir);
    match email {
        Some(email) => command.env("EMAIL", email),
        None => command.env_remove("EMAIL"),
    };
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_given_date_message_id_or_from_replaces_the_generated_one() {
    let dir = Scratch::new();
    let out = pack_env(
        dir.path(),
        &[
            "--to",
            "b@example.org",
            "--header",
            "Message-ID: <a@b.example>",
            "--header",
            "Date: Mon, 1 Jan 2024 00:00:00 +0000",
            "--header",
            "From: Carol <carol@example.net>",
        ],
        Some("someone@example.com"),
        b"body\n",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let names = header_names(&out.stdout);
    for name in ["date", "from", "message-id"] {
        assert_eq!(names.iter().filter(|n| *n == name).count(), 1, "{names:?}");
    }
    let text = stdout(&out);
    assert!(text.contains("Message-ID: <a@b.example>\n"), "{text}");
    assert!(
        text.contains("Date: Mon, 1 Jan 2024 00:00:00 +0000\n"),
        "{text}"
    );
    assert!(text.contains("From: Carol <carol@example.net>\n"), "{text}");
    assert!(!text.contains("someone@example.com"), "{text}");
    let linted = run_tool(env!("CARGO_BIN_EXE_rfc822-lint"), &["-"], &out.stdout);
    assert_eq!(code(&linted), 0, "{}", stdout(&linted));
}

#[test]
fn a_second_from_or_subject_is_refused_with_64() {
    for args in [
        &["--from", "a@example.org", "--header", "From: c@example.net"][..],
        &[
            "--header",
            "From: a@example.org",
            "--header",
            "from: c@example.net",
        ],
        &["--subject", "one", "--header", "Subject: two"],
    ] {
        let out = run_tool(BIN, args, b"body\n");
        assert_eq!(code(&out), 64, "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr(&out).contains("is given 2 times"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn without_from_the_sender_is_email_or_user_at_host() {
    let dir = Scratch::new();
    let out = pack_env(
        dir.path(),
        &["--to", "b@example.org"],
        Some("Me <me@example.com>"),
        b"x\n",
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("From: Me <me@example.com>\n"), "{text}");
    assert!(
        text.contains("@example.com>\n"),
        "Message-ID on the From domain: {text}"
    );
    let out = pack_env(dir.path(), &["--to", "b@example.org"], None, b"x\n");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let from = stdout(&out)
        .lines()
        .find(|l| l.starts_with("From: "))
        .map(str::to_string)
        .expect("a From field");
    assert!(from.contains('@'), "{from}");
    let out = pack_env(
        dir.path(),
        &["--to", "b@example.org"],
        Some("not an address"),
        b"x\n",
    );
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("$EMAIL"), "{}", stderr(&out));
}

/// The README's own example, run as written (its `$ ` line, by a shell).
#[test]
fn the_readme_example_without_from_lints_clean() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let line = readme
        .lines()
        .find_map(|l| l.strip_prefix("$ mime-pack --to b@example.org report.pdf"))
        .expect("the README example");
    let command = format!("mime-pack --to b@example.org report.pdf{line}");
    assert!(
        command.ends_with("| rfc822-lint - && echo clean"),
        "{command}"
    );
    let dir = Scratch::new();
    std::fs::write(
        dir.path().join("report.pdf"),
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nx\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("body.txt"), b"Hello,\nthe report.\n").unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let out = Command::new("sh")
        .args(["-c", &command])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("EMAIL")
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out), "clean\n");
}

#[test]
fn an_ascii_message_attachment_is_7bit() {
    // "=_" keeps a 7bit leaf from 7bit, but an embedded message is never
    // encoded, so it does not make it 8bit.
    let eml = b"From: a@example.org\nSubject: x\n\nsoft =_ break\n";
    let packed = pack(
        &[("fwd.eml", eml), ("latin.eml", b"Subject: x\n\nK\xf6ln\n")],
        &["{dir}/fwd.eml", "{dir}/latin.eml"],
        b"body\n",
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let text = stdout(&packed.output);
    let after = |name: &str| {
        let at = text.find(&format!("name=\"{name}\"")).unwrap();
        text[at..].lines().nth(1).unwrap().to_string()
    };
    assert_eq!(after("fwd.eml"), "Content-Transfer-Encoding: 7bit");
    assert_eq!(after("latin.eml"), "Content-Transfer-Encoding: 8bit");
}

#[test]
fn an_unknown_attachment_setting_is_named() {
    let packed = pack(
        &[("report.pdf", b"%PDF-1.4\n")],
        &["{dir}/report.pdf;foo=bar"],
        b"x\n",
    );
    assert_eq!(code(&packed.output), 64);
    let err = stderr(&packed.output);
    assert!(err.contains("unknown setting \"foo\""), "{err}");
    assert!(!err.contains("No such file"), "{err}");
    // A file whose own name has `;x=y` is still a file.
    let packed = pack(&[("odd;x=y", b"data\n")], &["{dir}/odd;x=y"], b"x\n");
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    assert!(stdout(&packed.output).contains("filename=\"odd;x=y\""));
}

#[test]
fn dash_attaches_stdin() {
    let packed = pack(
        &[("body.txt", b"the body\n")],
        &[
            "--body",
            "{dir}/body.txt",
            "--",
            "-;name=data.bin;type=application/octet-stream",
        ],
        b"\x00\x01stdin bytes\xff",
    );
    assert_eq!(code(&packed.output), 0, "{}", stderr(&packed.output));
    let message = MessageParser::default()
        .parse(&packed.output.stdout)
        .unwrap();
    let attachment = message.attachments().next().expect("an attachment");
    assert_eq!(attachment.attachment_name(), Some("data.bin"));
    assert_eq!(attachment.contents(), b"\x00\x01stdin bytes\xff");
    assert_eq!(message.body_text(0).unwrap().trim_end(), "the body");
    let twice = run_tool(BIN, &["-", "-"], b"x");
    assert_eq!(code(&twice), 64);
}
