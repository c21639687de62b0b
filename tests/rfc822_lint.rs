//! rfc822-lint: every rule has a message that triggers it (at the right
//! line and column) and a close one that does not; clean mail gives no
//! finding; --fix repairs what it claims to; hostile input stays linear.

mod common;

use common::{Scratch, code, run_tool, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_rfc822-lint");
const PACK: &str = env!("CARGO_BIN_EXE_mime-pack");
const UNPACK: &str = env!("CARGO_BIN_EXE_mime-unpack");

const HEAD: &str = "From: a@example.org\nTo: b@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <x@example.org>\nSubject: s\n";

/// (rule, line, column) of every finding.
fn findings(message: &[u8], extra: &[&str]) -> Vec<(String, u64, u64)> {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = run_tool(BIN, &args, message);
    assert!(
        matches!(code(&out), 0 | 1),
        "status {}: {}",
        code(&out),
        stderr(&out)
    );
    stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule"].as_str().unwrap().to_string(),
                v["line"].as_u64().unwrap(),
                v["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rules_of(message: &[u8]) -> Vec<String> {
    findings(message, &[])
        .into_iter()
        .map(|(r, _, _)| r)
        .collect()
}

/// (rule, message that breaks it, expected line, expected column, a close
/// message that does not).
fn cases() -> Vec<(&'static str, String, u64, u64, String)> {
    let h = HEAD;
    let mime = "MIME-Version: 1.0\n";
    let b64 = "Content-Transfer-Encoding: base64\n";
    vec![
        ("no-blank-line", format!("{h}This is the body.\n"), 6, 1, format!("{h}\nThis is the body.\n")),
        ("header-no-colon", "From: a@example.org\nbroken line\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into(), 2, 1, format!("{h}\nbody\n")),
        ("field-name-syntax", format!("{h}X\u{1}Bad: x\n\nbody\n"), 6, 2, format!("{h}X-Good: x\n\nbody\n")),
        ("continuation-without-field", format!(" leading\n{h}\nbody\n"), 1, 1, format!("{h}\nbody\n")),
        ("whitespace-only-line", format!("{h}X-A: one\n   \n two\n\nbody\n"), 7, 1, format!("{h}X-A: one\n two\n\nbody\n")),
        ("raw-8bit-header", format!("{h}X-Name: Jörg\n\nbody\n"), 6, 10, format!("{h}X-Name: =?utf-8?q?J=C3=B6rg?=\n\nbody\n")),
        ("line-too-long", format!("{h}\n{}\n", "x".repeat(1000)), 7, 999, format!("{h}\n{}\n", "x".repeat(998))),
        ("line-long", format!("{h}\n{}\n", "x".repeat(79)), 7, 79, format!("{h}\n{}\n", "x".repeat(78))),
        ("bare-cr", format!("{h}\nab\rcd\n"), 7, 3, format!("{h}\nab cd\n")),
        ("bare-lf", format!("{}\r\n\r\nline\nend\r\n", h.replace('\n', "\r\n").trim_end()), 7, 5, format!("{}\r\n\r\nline\r\nend\r\n", h.replace('\n', "\r\n").trim_end())),
        ("mixed-line-endings", format!("{h}\r\nline\r\n"), 6, 1, format!("{h}\nline\n")),
        ("nul-byte", format!("{h}\nab\0cd\n"), 7, 3, format!("{h}\nabcd\n")),
        ("missing-date", "From: a@example.org\n\nbody\n".into(), 1, 1, "From: a@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into()),
        ("missing-from", "Date: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into(), 1, 1, "From: a@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into()),
        ("duplicate-field", format!("{h}Subject: again\n\nbody\n"), 6, 1, format!("{h}Comments: again\n\nbody\n")),
        ("sender-required", "From: a@example.org, c@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into(), 1, 1, "From: a@example.org, c@example.org\nSender: a@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n\nbody\n".into()),
        ("mime-version-missing", format!("{h}Content-Type: text/plain\n\nbody\n"), 1, 1, format!("{h}{mime}Content-Type: text/plain\n\nbody\n")),
        ("boundary-not-found", format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\nno parts here\n"), 7, 1, format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n")),
        ("multipart-unclosed", format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n"), 7, 1, format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n")),
        ("boundary-prefix", format!("{h}{mime}Content-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: multipart/alternative; boundary=bbx\n\n--bbx\n\nx\n--bbx--\n--bb--\n"), 10, 1, format!("{h}{mime}Content-Type: multipart/mixed; boundary=bb\n\n--bb\nContent-Type: multipart/alternative; boundary=cc\n\n--cc\n\nx\n--cc--\n--bb--\n")),
        ("cte-not-allowed", format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n{b64}\n--b\n\nx\n--b--\n"), 8, 1, format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: 7bit\n\n--b\n\nx\n--b--\n")),
        ("8bit-undeclared", format!("{h}{mime}Content-Type: text/plain; charset=utf-8\n\nGrüße\n"), 9, 3, format!("{h}{mime}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße\n")),
        ("base64-invalid", format!("{h}{mime}Content-Type: application/octet-stream\n{b64}\nAAEC!AAA\n"), 10, 5, format!("{h}{mime}Content-Type: application/octet-stream\n{b64}\nAAECAAAA\n")),
        ("base64-line-length", format!("{h}{mime}Content-Type: application/octet-stream\n{b64}\n{}\n", "A".repeat(80)), 10, 77, format!("{h}{mime}Content-Type: application/octet-stream\n{b64}\n{}\n{}\n", "A".repeat(76), "A".repeat(4))),
        ("qp-invalid", format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nbad =ZZ escape\n"), 10, 5, format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\ngood =3D escape=\n\n")),
        ("qp-line-length", format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n{}\n", "q".repeat(77)), 10, 77, format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n{}=\n{}\n", "q".repeat(75), "q".repeat(2))),
        ("qp-8bit", format!("{h}{mime}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGrüße\n"), 10, 3, format!("{h}{mime}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nGr=C3=BC=C3=9Fe\n")),
        ("charset-invalid", format!("{h}{mime}Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n"), 7, 1, format!("{h}{mime}Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9\n")),
        ("filename-deceptive", format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Disposition: inline;\n filename*=utf-8''invoice%E2%80%AEfdp.exe\n\nMZ\n--b--\n"), 11, 1, format!("{h}{mime}Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/octet-stream\nContent-Disposition: inline;\n filename*=utf-8''%D1%81%D1%87%D1%91%D1%82.exe\n\nMZ\n--b--\n")),
        ("date-syntax", h.replace("Mon, 01 Jan 2024 00:00:00 +0000", "2024-01-01T00:00:00Z") + "\nbody\n", 3, 0, format!("{h}\nbody\n")),
        ("date-invalid", h.replace("Mon, 01 Jan", "Tue, 01 Jan") + "\nbody\n", 3, 0, format!("{h}\nbody\n")),
        ("address-syntax", h.replace("To: b@example.org", "To: b@@example.org") + "\nbody\n", 2, 0, format!("{h}\nbody\n")),
        ("msgid-syntax", h.replace("<x@example.org>", "x@example.org") + "\nbody\n", 4, 0, format!("{h}\nbody\n")),
        ("encoded-word-charset", h.replace("Subject: s", "Subject: =?no-such?q?a?=") + "\nbody\n", 5, 0, h.replace("Subject: s", "Subject: =?utf-8?q?a?=") + "\nbody\n"),
        ("content-type-syntax", format!("{h}{mime}Content-Type: text\n\nbody\n"), 7, 0, format!("{h}{mime}Content-Type: text/plain\n\nbody\n")),
        ("boundary-syntax", format!("{h}{mime}Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n"), 7, 0, format!("{h}{mime}Content-Type: multipart/mixed; boundary=x\n\n--x\n\nbody\n--x--\n")),
        ("cte-syntax", format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: base-64\n\nbody\n"), 8, 0, format!("{h}{mime}Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\nYm9keQ==\n")),
        ("not-a-message", "\u{0}\u{1}garbage".into(), 1, 1, format!("{h}\nbody\n")),
        ("byte-order-mark", format!("\u{feff}{h}\nbody\n"), 1, 1, format!("{h}\nbody\n")),
        ("obsolete-field-syntax", format!("{h}Comments : c\n\nbody\n"), 6, 9, format!("{h}Comments: c\n\nbody\n")),
    ]
}

#[test]
fn every_rule_triggers_where_it_should_and_not_on_a_close_message() {
    let mut failures = Vec::new();
    for (rule, bad, line, column, good) in cases() {
        let found = findings(bad.as_bytes(), &[]);
        match found.iter().find(|(r, _, _)| r == rule) {
            None => failures.push(format!("{rule}: not reported; found {found:?}")),
            Some((_, l, c)) if *l != line || (column > 0 && *c != column) => {
                failures.push(format!("{rule}: at {l}:{c}, expected {line}:{column}"))
            }
            Some(_) => {}
        }
        let clean = rules_of(good.as_bytes());
        if clean.iter().any(|r| r == rule) {
            failures.push(format!(
                "{rule}: reported on the close message {good:?}: {clean:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_is_documented_in_the_man_page() {
    let rules: Vec<String> = cases().into_iter().map(|(r, ..)| r.to_string()).collect();
    let help = stdout(&run_tool(BIN, &["--help"], b""));
    for rule in rules {
        assert!(
            help.contains(&format!("\n  {rule} (")),
            "{rule} missing from the RULES section"
        );
    }
}

#[test]
fn clean_mail_gives_no_finding() {
    let dir = Scratch::new();
    std::fs::write(dir.path().join("a.pdf"), b"%PDF-1.4\n\x00\x01binary").unwrap();
    std::fs::write(dir.path().join("page.html"), "<p>Grüße</p>\n").unwrap();
    let pdf = dir.path().join("a.pdf");
    let html = dir.path().join("page.html");
    let packed = run_tool(
        PACK,
        &[
            "--no-legacy-names",
            "--from",
            "Jörg <j@example.org>",
            "--to",
            "b@example.org",
            "--subject",
            "Grüße aus Köln, a long subject that needs folding across more than one line of header",
            "--html",
            html.to_str().unwrap(),
            pdf.to_str().unwrap(),
        ],
        "Hello, a plain text body.\n".as_bytes(),
    );
    assert_eq!(code(&packed), 0);
    let thunderbird_like = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>,\r\n Carol <carol@example.org>\r\nSubject: =?UTF-8?Q?R=c3=a9union?= de =?UTF-8?Q?r=c3=a9daction?=\r\nDate: Tue, 02 Jan 2024 10:11:12 +0100\r\nMessage-ID: <1234.5678@example.org>\r\nIn-Reply-To: <abc@example.org>\r\nReferences: <xyz@example.org>\r\n <abc@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary=\"------------0123456789\"\r\n\r\nThis is a multi-part message in MIME format.\r\n--------------0123456789\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBonjour, à demain.\r\n\r\n--------------0123456789\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>Bonjour, à demain.</p>\r\n\r\n--------------0123456789--\r\n";
    for message in [packed.stdout.clone(), thunderbird_like.as_bytes().to_vec()] {
        let out = run_tool(BIN, &[], &message);
        assert_eq!(code(&out), 0, "{}", stdout(&out));
        assert_eq!(
            stdout(&out),
            "",
            "false alarm on {}",
            String::from_utf8_lossy(&message)
        );
    }
}

#[test]
fn output_format_summary_and_exit_statuses() {
    let bad = format!("{HEAD}\n{}\n", "x".repeat(1000));
    let out = run_tool(BIN, &[], bad.as_bytes());
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        "-:7:999: error[line-too-long]: line of 1000 octets; the limit is 998\n"
    );
    assert!(
        stderr(&out).contains("1 message: 1 error(s), 0 warning(s)"),
        "{}",
        stderr(&out)
    );
    let warn = format!("{HEAD}\n{}\n", "x".repeat(80));
    assert_eq!(code(&run_tool(BIN, &[], warn.as_bytes())), 0);
    assert_eq!(code(&run_tool(BIN, &["--strict"], warn.as_bytes())), 1);
    assert_eq!(
        code(&run_tool(
            BIN,
            &["--allow", "line-long", "--strict"],
            warn.as_bytes()
        )),
        0
    );
    let denied = run_tool(BIN, &["--deny", "line-long"], warn.as_bytes());
    assert_eq!(code(&denied), 1);
    assert!(stdout(&denied).contains("error[line-long]"));
    assert_eq!(code(&run_tool(BIN, &["--allow", "no-such-rule"], b"")), 64);
}

#[test]
fn files_directories_and_unreadable_inputs() {
    let dir = Scratch::new();
    let maildir = dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(maildir.join("cur/1.eml"), format!("{HEAD}\nok\n")).unwrap();
    std::fs::write(
        maildir.join("new/2.eml"),
        "From: a@example.org\n\nno date\n",
    )
    .unwrap();
    std::fs::write(maildir.join("tmp/3.eml"), "garbage").unwrap();
    let missing = dir.path().join("missing.eml");
    let out = run_tool(
        BIN,
        &[maildir.to_str().unwrap(), missing.to_str().unwrap()],
        b"",
    );
    assert_eq!(code(&out), 66);
    let text = stdout(&out);
    assert!(
        text.contains("new/2.eml:1:1: error[missing-date]"),
        "{text}"
    );
    assert!(!text.contains("tmp/3.eml"), "{text}");
    assert!(stderr(&out).contains("missing.eml"), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 messages"), "{}", stderr(&out));
}

/// The readable text of a message, through mime-unpack.
fn text_of(message: &[u8]) -> String {
    stdout(&run_tool(UNPACK, &["--text"], message))
}

#[test]
fn fix_repairs_what_it_can_and_keeps_the_content() {
    let h = HEAD;
    let fixable = [
        format!("{h}This is the body.\n"),
        "From: a@example.org\nTo: b@example.org\nSubject: Grüße aus Köln\n\nbody\n".to_string(),
        format!("{h}X-Long: {}\n\nbody\n", "word ".repeat(30)),
        format!(
            "{h}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nGrüße, {}\n",
            "ü".repeat(10)
        ),
        format!(
            "{}\r\n\r\nline\nend\r\nbare\rcr\r\n",
            h.replace('\n', "\r\n").trim_end()
        ),
        format!(
            "{h}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\ncut short\n"
        ),
        format!("{h}\n8-bit body without MIME: Grüße\n"),
        format!(
            "{h}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nline with é\n--b\nContent-Type: text/plain\n\nsecond\n--b--\n"
        ),
    ];
    for message in fixable {
        let out = run_tool(BIN, &["--fix"], message.as_bytes());
        assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "the findings should be on stderr");
        let fixed = out.stdout;
        let errors: Vec<String> = findings(&fixed, &[])
            .into_iter()
            .filter(|(r, _, _)| r != "line-long")
            .map(|(r, l, c)| format!("{r}@{l}:{c}"))
            .collect();
        assert!(
            errors.is_empty(),
            "--fix left {errors:?} in {}",
            String::from_utf8_lossy(&fixed)
        );
        let before = text_of(message.as_bytes())
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        assert_eq!(
            text_of(&fixed),
            before,
            "content changed by --fix: {}",
            String::from_utf8_lossy(&fixed)
        );
    }
    let crlf = run_tool(
        BIN,
        &["--fix", "--crlf"],
        format!("{HEAD}\nbody\n").as_bytes(),
    );
    assert!(
        stdout(&crlf).contains("Subject: s\r\n\r\nbody\r\n"),
        "{}",
        stdout(&crlf)
    );
}

#[test]
fn fix_removes_bare_crs_from_header_lines() {
    let message = b"From: a@example.org\nSubject: one\r\r two\r\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <x@example.org>\n\nbody\n";
    assert!(rules_of(message).contains(&"bare-cr".to_string()));
    let out = run_tool(BIN, &["--fix"], message);
    let fixed = out.stdout.clone();
    assert!(
        !fixed.contains(&b'\r'),
        "{:?}",
        String::from_utf8_lossy(&fixed)
    );
    let text = String::from_utf8_lossy(&fixed);
    assert!(
        text.starts_with("From: a@example.org\nSubject: one   two\nDate:"),
        "{text:?}"
    );
    assert!(!rules_of(&fixed).contains(&"bare-cr".to_string()));
}

#[test]
fn python_defects_are_reported_too() {
    let script = r#"
import email, email.policy, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
d = list(m.defects)
for p in m.walk():
    d += list(p.defects)
    for k, v in p.items():
        d += list(getattr(v, 'defects', []))
print(len(d))
"#;
    let mut compared = 0;
    for (rule, bad, _, _, _) in cases() {
        let out = std::process::Command::new("python3")
            .arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(bad.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        let python_defects: u32 = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        if python_defects > 0 {
            compared += 1;
            assert!(
                !rules_of(bad.as_bytes()).is_empty(),
                "{rule}: Python finds a defect, rfc822-lint nothing"
            );
        }
    }
    assert!(compared >= 5, "only {compared} fixtures had Python defects");
}

#[test]
fn hostile_input_stays_linear_and_bounded() {
    let one_line: Vec<u8> = std::iter::repeat_n(b'x', 64 << 20).collect();
    let started = std::time::Instant::now();
    let measured = common::run_measured(
        BIN,
        &["-q"],
        std::iter::once(String::from_utf8(one_line).unwrap()),
    );
    assert_eq!(measured.code, 1);
    assert!(
        measured.max_rss_kib < 64 * 1024,
        "{} KiB",
        measured.max_rss_kib
    );
    assert!(started.elapsed().as_secs() < 30);
    let mut many = String::from("From: a@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\n");
    for i in 0..100_000 {
        many.push_str(&format!("X-Field-{i}: value\n"));
    }
    many.push_str("\nbody\n");
    let out = run_tool(BIN, &[], many.as_bytes());
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    let mut deep = String::from(
        "From: a@example.org\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\n",
    );
    for i in 0..300 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=d{i}\n\n--d{i}\n"
        ));
    }
    let out = run_tool(BIN, &[], deep.as_bytes());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stdout(&out).contains("[limit]"), "{}", stdout(&out));
    for garbage in [&b""[..], b"\xff\xfe\x00\x00binary", b"\n\n\n"] {
        let out = run_tool(BIN, &[], garbage);
        assert_eq!(code(&out), 1);
        assert!(stdout(&out).contains("[not-a-message]"), "{}", stdout(&out));
    }
}

const SEND: &str = env!("CARGO_BIN_EXE_smtp-send");

/// The decoded leaves of a message as Python's email package reads them
/// (type and SHA-256 of the decoded bytes), and its defects.
fn python_leaves(message: &[u8]) -> (Vec<(String, String)>, Vec<String>) {
    let view = common::python_view(message);
    let leaves = view["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["type"].as_str().unwrap().to_string(),
                p["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let defects = view["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    (leaves, defects)
}

/// Runs `--fix`, checks that the output lints without errors, that Python
/// decodes the same leaves from it, and returns it.
fn fixed_and_same(message: &[u8]) -> Vec<u8> {
    let out = run_tool(BIN, &["--fix"], message);
    assert!(matches!(code(&out), 0 | 1), "{}", stderr(&out));
    let fixed = out.stdout;
    let again = run_tool(BIN, &[], &fixed);
    assert_eq!(
        code(&again),
        0,
        "--fix left errors: {}\n{}",
        stdout(&again),
        String::from_utf8_lossy(&fixed)
    );
    let (before, _) = python_leaves(message);
    let (after, defects) = python_leaves(&fixed);
    assert_eq!(
        after,
        before,
        "decoded content changed: {}",
        String::from_utf8_lossy(&fixed)
    );
    assert!(defects.is_empty(), "{defects:?}");
    fixed
}

#[test]
fn fix_reencodes_lines_over_998_octets_as_quoted_printable() {
    let long = "x".repeat(1500);
    let wide = "ü".repeat(800);
    let h = HEAD;
    let single = format!("{h}\nshort\n{long} \nend = with = signs \n");
    let multipart = format!(
        "{h}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n{long}\n--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n<p>{wide}</p>\n--b\nContent-Type: text/plain\n\nshort and kept\n--b--\n"
    );
    let nested = format!(
        "{h}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain; charset=us-ascii\n\n{long}\n--inner--\n--outer--\n"
    );
    for message in [&single, &multipart, &nested] {
        let fixed = fixed_and_same(message.as_bytes());
        let text = String::from_utf8(fixed.clone()).unwrap();
        assert!(
            text.lines().all(|l| l.len() <= 76),
            "a line is still long: {text}"
        );
        assert!(
            text.contains("Content-Transfer-Encoding: quoted-printable\n"),
            "{text}"
        );
        // smtp-send refuses the original and takes the repair.
        let refused = run_tool(SEND, &["--dry-run", "b@example.org"], message.as_bytes());
        assert_eq!(code(&refused), 65, "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains("rfc822-lint --fix"),
            "{}",
            stderr(&refused)
        );
        let sent = run_tool(SEND, &["--dry-run", "b@example.org"], &fixed);
        assert_eq!(code(&sent), 0, "{}", stderr(&sent));
    }
    // A single part without MIME fields gets them.
    let fixed = String::from_utf8(run_tool(BIN, &["--fix"], single.as_bytes()).stdout).unwrap();
    for field in [
        "MIME-Version: 1.0\n",
        "Content-Type: text/plain; charset=utf-8\n",
    ] {
        assert!(fixed.contains(field), "{field} missing: {fixed}");
    }
    // Short parts are copied as they were.
    let fixed = String::from_utf8(run_tool(BIN, &["--fix"], multipart.as_bytes()).stdout).unwrap();
    assert!(fixed.contains("\n\nshort and kept\n--b--\n"), "{fixed}");
}

#[test]
fn obsolete_space_before_the_colon_is_a_warning_and_fixed() {
    let message = format!(
        "{}MIME-Version: 1.0\nContent-Type : text/plain; charset=utf-8\n\nbody\n",
        HEAD.replace("Subject:", "Subject :")
    );
    let found = findings(message.as_bytes(), &[]);
    assert_eq!(
        found,
        vec![
            ("obsolete-field-syntax".to_string(), 5, 8),
            ("obsolete-field-syntax".to_string(), 7, 13),
        ]
    );
    // Python's email package does not accept the obsolete syntax (its
    // header pattern wants the colon right after the name) and takes the
    // rest as body, though RFC 5322 §4.5 says receivers must accept it: the
    // repair is compared with the same message written without the spaces.
    let out = run_tool(BIN, &["--fix"], message.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let fixed = out.stdout;
    let text = String::from_utf8(fixed.clone()).unwrap();
    let modern = message.replace(" :", ":");
    assert_eq!(python_leaves(&fixed), python_leaves(modern.as_bytes()));
    assert!(text.contains("Subject: s\n"), "{text}");
    assert!(text.contains("\nContent-Type: text/plain"), "{text}");
    assert!(findings(&fixed, &[]).is_empty(), "{text}");
}

#[test]
fn a_byte_order_mark_is_a_warning_and_fix_removes_it() {
    let message = format!("\u{feff}{HEAD}\nbody\n");
    assert_eq!(
        findings(message.as_bytes(), &[]),
        vec![("byte-order-mark".to_string(), 1, 1)]
    );
    let out = run_tool(BIN, &["--fix"], message.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.starts_with(b"From: "), "{}", stdout(&out));
    assert!(findings(&out.stdout, &[]).is_empty(), "{}", stdout(&out));
}

#[test]
fn a_delimiter_right_after_a_multipart_header_is_a_missing_blank_line() {
    let message = format!(
        "{HEAD}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n--b\nContent-Type: text/plain\n\none\n--b--\n"
    );
    assert_eq!(
        findings(message.as_bytes(), &[]),
        vec![("no-blank-line".to_string(), 8, 1)]
    );
    let fixed = fixed_and_same(message.as_bytes());
    assert!(
        String::from_utf8(fixed)
            .unwrap()
            .contains("boundary=b\n\n--b\n"),
        "the blank line is added"
    );
}

#[test]
fn rfc2231_boundaries_are_boundaries() {
    // RFC 2231 §3 (continuations) and §4 (charset and language): the
    // boundary parameter may take either form.
    for content_type in [
        "multipart/mixed; boundary*=''b1",
        "multipart/mixed; boundary*=us-ascii'en'b1",
        "multipart/mixed; boundary*0=b; boundary*1=1",
        "multipart/mixed; boundary*0*=''b; boundary*1=1",
    ] {
        let message = format!(
            "{HEAD}MIME-Version: 1.0\nContent-Type: {content_type}\n\n--b1\nContent-Type: text/plain\n\none\n--b1--\n"
        );
        assert_eq!(findings(message.as_bytes(), &[]), vec![], "{content_type}");
        let listing = stdout(&run_tool(UNPACK, &[], message.as_bytes()));
        assert!(
            listing.contains("\n1\ttext/plain\t"),
            "{content_type}: {listing}"
        );
    }
}

#[test]
fn utf7_is_a_known_charset() {
    // RFC 2152: a registered charset; Outlook 2000 labelled words with it.
    let message = HEAD.replace(
        "Subject: s\n",
        "Subject: =?utf-7?Q?Gr+APw-+AN8-e?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-7\n\nGr+APw-+AN8-e\n",
    );
    assert_eq!(findings(message.as_bytes(), &[]), vec![]);
    let text = stdout(&run_tool(UNPACK, &["--text"], message.as_bytes()));
    assert_eq!(text, "Grüße\n");
}

#[test]
fn every_rule_the_man_page_marks_fixable_is_fixed_and_the_content_kept() {
    let help = stdout(&run_tool(BIN, &["--help"], b""));
    let fixable: Vec<&str> = help
        .lines()
        .filter(|l| l.starts_with("  ") && l.ends_with(", fixed by --fix)"))
        .filter_map(|l| l.trim().split(' ').next())
        .collect();
    assert!(fixable.len() >= 10, "{fixable:?}");
    let cases = cases();
    for rule in fixable {
        let (_, bad, ..) = cases
            .iter()
            .find(|(r, ..)| *r == rule)
            .unwrap_or_else(|| panic!("{rule}: no case"));
        assert!(rules_of(bad.as_bytes()).iter().any(|r| r == rule), "{rule}");
        let out = run_tool(BIN, &["--fix"], bad.as_bytes());
        assert_eq!(code(&out), 0, "{rule}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!(": fixed[{rule}]: ")),
            "{rule}: {}",
            stderr(&out)
        );
        let left: Vec<String> = findings(&out.stdout, &[])
            .into_iter()
            .map(|(r, _, _)| r)
            .filter(|r| r != "line-long")
            .collect();
        assert!(
            left.is_empty(),
            "{rule}: --fix left {left:?} in {}",
            stdout(&out)
        );
        // The content a reader decodes is unchanged (Python's email, and
        // mime-unpack), line ends aside: every CR, LF or CRLF becomes LF in
        // the repair.
        let canonical = bad.replace("\r\n", "\n").replace('\r', "\n");
        assert_eq!(
            text_of(&out.stdout),
            text_of(canonical.as_bytes()),
            "{rule}: {}",
            stdout(&out)
        );
        let (before, _) = python_leaves(canonical.as_bytes());
        let (after, defects) = python_leaves(&out.stdout);
        // Python does not skip a byte-order mark (it sees no header at
        // all) and does not accept `Name :`, which RFC 5322 §4.5 says
        // receivers must: there the original is what it misreads.
        if !matches!(rule, "byte-order-mark" | "obsolete-field-syntax") {
            assert_eq!(after, before, "{rule}: {}", stdout(&out));
        }
        assert!(defects.is_empty(), "{rule}: {defects:?}");
    }
}

#[test]
fn fix_says_what_it_repaired_and_what_remains() {
    // A missing Date is repaired; a base64 error cannot be.
    let message = "From: Jo <jo@example.net>\nMIME-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAA!A\n";
    let out = run_tool(BIN, &["--fix"], message.as_bytes());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("-:1:1: fixed[missing-date]: no Date field\n"),
        "{err}"
    );
    assert!(err.contains("error[base64-invalid]"), "{err}");
    assert!(!err.contains("fixed[base64-invalid]"), "{err}");
    assert!(
        err.contains("1 finding(s) repaired; 1 error(s), 0 warning(s) remain"),
        "{err}"
    );
    // The added Message-ID is on the From domain.
    assert!(stdout(&out).contains("@example.net>\n"), "{}", stdout(&out));
    let json = run_tool(BIN, &["--fix", "--json"], message.as_bytes());
    let records: Vec<(String, bool)> = stderr(&json)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["rule"].as_str().unwrap().to_string(),
                v["fixed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        records,
        [
            ("missing-date".to_string(), true),
            ("base64-invalid".to_string(), false)
        ]
    );
    // Nothing left: exit 0.
    let out = run_tool(BIN, &["--fix"], format!("{HEAD}\r\nbody\n").as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// An mbox as mail programs keep one: three messages, the first with a
/// body line quoted `>From ` and a `From ` line that follows no blank line
/// (text, not a separator), the second without a Date, the third clean,
/// each followed by the blank line the format adds.
fn three_message_mbox(newline: &str) -> String {
    let text = format!(
        "From alice@example.org Mon Jan  1 00:00:00 2024\n{HEAD}\nHello,\n>From the minutes:\nFrom here on, all is well.\n\n\
         From bob@example.org Mon Jan  1 00:01:00 2024\nFrom: b@example.org\nTo: a@example.org\nMessage-ID: <y@example.org>\nSubject: no date\n\nbody\n\n\
         From carol@example.org Mon Jan  1 00:02:00 2024\n{HEAD}\nlast\n\n"
    );
    text.replace('\n', newline)
}

#[test]
fn every_message_of_an_mbox_is_linted_on_its_own() {
    for newline in ["\n", "\r\n"] {
        let dir = Scratch::new();
        let path = dir.path().join("inbox");
        std::fs::write(&path, three_message_mbox(newline)).unwrap();
        let name = path.to_str().unwrap();
        let out = run_tool(BIN, &[name], b"");
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        // The position is the line in the file, where an editor jumps.
        assert_eq!(
            stdout(&out),
            format!("{name}:13:1: error[missing-date]: message 2: no Date field\n")
        );
        assert_eq!(
            stderr(&out),
            "rfc822-lint: 3 messages: 1 error(s), 0 warning(s)\n"
        );
        let json = run_tool(BIN, &["--json", "-"], &std::fs::read(&path).unwrap());
        let v: serde_json::Value = serde_json::from_str(stdout(&json).trim()).unwrap();
        assert_eq!(
            (
                v["file"].as_str(),
                v["message_number"].as_u64(),
                v["line"].as_u64()
            ),
            (Some("-"), Some(2), Some(13))
        );
    }
}

#[test]
fn mbox_messages_are_checked_apart_and_unquoted() {
    // The second message lacks a header: not-a-message there only, and
    // the first one's findings do not leak into it.
    let mbox = format!(
        "From a Mon Jan  1 00:00:00 2024\n{HEAD}\n>From {}\n\nFrom b Mon Jan  1 00:00:00 2024\n\njust text\n",
        "x".repeat(74)
    );
    let findings = findings(mbox.as_bytes(), &[]);
    // The un-quoted line is 79 octets (line-long at column 79), not 80.
    assert_eq!(
        findings,
        [
            ("line-long".to_string(), 8, 79),
            ("not-a-message".to_string(), 11, 1),
        ]
    );
    // A message that is not an mbox is one message, blank lines and
    // `From ` lines in its body included.
    let plain = format!("{HEAD}\nbody\n\nFrom me to you\n");
    let out = run_tool(BIN, &["-"], plain.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).starts_with("rfc822-lint: 1 message: 0 error(s)"));
}

#[test]
fn fix_refuses_an_mbox_of_several_messages() {
    let out = run_tool(BIN, &["--fix"], three_message_mbox("\n").as_bytes());
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert_eq!(
        stderr(&out),
        "rfc822-lint: error: --fix takes one message; - is an mbox of 3 messages\n"
    );
    // An mbox of one message is repaired as before.
    let one = format!("From a Mon Jan  1 00:00:00 2024\n{HEAD}\r\nbody\n");
    let out = run_tool(BIN, &["--fix"], one.as_bytes());
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

/// A multipart whose only delimiter is its closing one has no body part
/// (RFC 2046 §5.1.1): the same rule as a boundary that never occurs, saying
/// what was found (CPython's msg_42.txt has one).
#[test]
fn a_multipart_with_only_its_closing_delimiter_is_reported_as_such() {
    let message =
        format!("{HEAD}MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b--\n");
    let out = run_tool(BIN, &["-"], message.as_bytes());
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "-:7:1: error[boundary-not-found]: part 0: only the closing delimiter occurs: the multipart has no body part\n"
    );
}
