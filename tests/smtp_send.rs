//! smtp-send against a real MTA (Exim, delivering through LMTP into
//! Dovecot) started by the test, and against small scripted servers for
//! the faults no real server makes. Delivered messages are checked where
//! they land, byte by byte.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::dovecot::Dovecot;
use common::exim::{Exim, EximOptions};
use common::scripted::Script;
use common::{Scratch, code, run_tool, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_smtp-send");

/// A password file only its owner can read.
fn password_file(dir: &Scratch, password: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.path().join("password");
    std::fs::write(&path, format!("{password}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

struct Mta {
    exim: Exim,
    dovecot: Dovecot,
    dir: Scratch,
}

impl Mta {
    fn start(options: EximOptions) -> Mta {
        let dovecot = Dovecot::start();
        let exim = Exim::start(&dovecot, options);
        Mta {
            exim,
            dovecot,
            dir: Scratch::new(),
        }
    }

    fn url(&self, user: &str) -> String {
        format!("smtp://{user}@localhost:{}", self.exim.port)
    }

    /// smtp-send with STARTTLS, the test CA and alice's password, plus `extra`.
    fn send(&self, extra: &[&str], message: &[u8]) -> std::process::Output {
        self.send_with(&self.url("alice"), "alicepw", extra, message)
    }

    /// smtp-send to `url` with the test CA and `password` from a file.
    fn send_with(
        &self,
        url: &str,
        password: &str,
        extra: &[&str],
        message: &[u8],
    ) -> std::process::Output {
        let file = password_file(&self.dir, password);
        let cafile = self.exim.cert.to_str().unwrap().to_string();
        let mut args = vec![
            "--server",
            url,
            "--cafile",
            &cafile,
            "--password-file",
            file.to_str().unwrap(),
            "--timeout",
            "20",
        ];
        args.extend_from_slice(extra);
        let out = run_tool(BIN, &args, message);
        // Whatever happened, the password shows nowhere.
        let leaked = stdout(&out).contains(password) || stderr(&out).contains(password);
        assert!(!leaked, "the password leaked");
        out
    }
}

const MESSAGE: &[u8] = b"From: Alice <alice@example.test>\nTo: bob@example.test\nSubject: hello\n\nHello Bob.\n.\nA line with a dot above.\n";

fn body_of(message: &[u8]) -> &[u8] {
    let at = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .or_else(|| message.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
        .unwrap();
    &message[at..]
}

#[test]
fn starttls_and_auth_deliver_the_message_byte_for_byte() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(&["-v", "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "quiet on success");
    let transcript = stderr(&out);
    assert!(transcript.contains("-> STARTTLS"), "{transcript}");
    assert!(transcript.contains("~> AUTH PLAIN ****"), "{transcript}");
    assert!(
        !transcript.contains("alicepw"),
        "the password leaked into the transcript"
    );
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    let message = &delivered[0];
    assert_eq!(
        unix(body_of(message)),
        b"Hello Bob.\n.\nA line with a dot above.\n"
    );
    let text = String::from_utf8_lossy(message);
    assert!(text.contains("Subject: hello"), "{text}");
    assert!(
        text.contains("\nDate: ") || text.starts_with("Date: ") || text.contains("Date: "),
        "Date was added: {text}"
    );
    assert!(text.contains("Message-ID: <"), "{text}");
}

/// The JSON Lines smtp-send printed.
fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Line ends as LF (Dovecot stores Maildir files with LF).
fn unix(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for (i, &b) in data.iter().enumerate() {
        if !(b == b'\r' && data.get(i + 1) == Some(&b'\n')) {
            out.push(b);
        }
    }
    out
}

#[test]
fn wrong_password_is_77_and_never_shown() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send_with(
        &mta.url("alice"),
        "not-the-password",
        &["-v", "bob@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 77, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("smtp-send: error: authentication failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("not-the-password") && !stdout(&out).contains("not-the-password")
    );
    // The client said QUIT and ended TLS with close_notify: Exim logs no
    // truncated TLS stream (it would within a few milliseconds).
    mta.exim
        .wait_for_log("authenticator failed", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let log = mta.exim.log();
    assert!(!log.contains("TLS error"), "{log}");
}

#[test]
fn required_starttls_missing_is_76_and_no_auth_is_sent() {
    let mta = Mta::start(EximOptions {
        starttls: false,
        ..EximOptions::default()
    });
    let out = mta.send(&["-v", "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("-> AUTH"),
        "AUTH was sent: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("does not offer STARTTLS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn untrusted_certificate_is_76_and_insecure_works() {
    let mta = Mta::start(EximOptions::default());
    let url = format!("smtp://localhost:{}", mta.exim.port);
    let out = run_tool(BIN, &["--server", &url, "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    let out = run_tool(
        BIN,
        &["--server", &url, "--insecure", "bob@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
}

#[test]
fn the_system_roots_or_the_ca_file_alone_are_trusted() {
    // SSL_CERT_FILE stands in for the system's roots (OpenSSL reads it).
    let mta = Mta::start(EximOptions::default());
    let url = format!("smtp://localhost:{}", mta.exim.port);
    let system = [("SSL_CERT_FILE", mta.exim.cert.to_str().unwrap())];
    let args = [
        "--server",
        &url,
        "--quit-after",
        "starttls",
        "bob@example.test",
    ];
    let out = common::run_tool_env(BIN, &args, b"", &system);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    // --cafile replaces the system roots, as curl's --cacert does: a CA
    // file that does not hold the server's root fails even though the
    // system roots would have trusted it.
    let other = Scratch::new();
    let other = common::tlscert::TlsCert::generate(other.path());
    let cafile = other.cert.to_str().unwrap();
    let with_cafile = [&args[..], &["--cafile", cafile]].concat();
    let out = common::run_tool_env(BIN, &with_cafile, b"", &system);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("certificate not trusted: self-signed certificate"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn one_rejected_recipient_of_three() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(
        &[
            "--json",
            "bob@example.test",
            "nosuch@example.test",
            "alice@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 67, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["recipient"], "nosuch@example.test");
    assert_eq!(results[1]["status"], "rejected");
    assert!(
        results[1]["reply"].as_str().unwrap().starts_with("550"),
        "{}",
        results[1]
    );
    assert_eq!(results[2]["status"], "accepted");
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    mta.dovecot
        .wait_for_messages("alice", 1, Duration::from_secs(10));
}

#[test]
fn temporary_failure_is_75() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(&["tempfail@example.test"], MESSAGE);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("tempfail@example.test: deferred: 45"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn over_the_size_limit_is_69_before_data() {
    let mta = Mta::start(EximOptions {
        size_limit: 10_000,
        ..EximOptions::default()
    });
    let mut big = MESSAGE.to_vec();
    big.extend(
        std::iter::repeat_n(
            b"0123456789012345678901234567890123456789\n".as_slice(),
            400,
        )
        .flatten(),
    );
    let out = mta.send(&["-v", "bob@example.test"], &big);
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("~> DATA") && !stderr(&out).contains("BDAT"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bcc_is_removed_and_header_recipients_are_used() {
    let mta = Mta::start(EximOptions::default());
    let message = b"From: alice@example.test\nTo: bob@example.test\nBcc: alice@example.test\nSubject: t\n\nbody\n";
    let out = mta.send(&["-t"], message);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for user in ["bob", "alice"] {
        let delivered = mta
            .dovecot
            .wait_for_messages(user, 1, Duration::from_secs(10));
        let text = String::from_utf8_lossy(&delivered[0]);
        assert!(!text.contains("Bcc:"), "{user} sees the Bcc: {text}");
    }
}

#[test]
fn a_hundred_files_over_one_connection() {
    let mta = Mta::start(EximOptions::default());
    let mut files = Vec::new();
    for i in 0..100 {
        let path = mta.dir.path().join(format!("m{i}.eml"));
        std::fs::write(&path, format!("From: alice@example.test\nTo: bob@example.test\nSubject: number {i}\n\nmessage {i}\n")).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    let mut args: Vec<&str> = vec!["-v", "bob@example.test"];
    for f in &files {
        args.push("--file");
        args.push(f);
    }
    let out = mta.send(&args, b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("-> EHLO").count(),
        1,
        "more than one session"
    );
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 100, Duration::from_secs(30));
    assert_eq!(delivered.len(), 100);
}

#[test]
fn no_input_can_smuggle_a_second_message() {
    let mta = Mta::start(EximOptions::default());
    let tricks: &[u8] = b"From: alice@example.test\nTo: bob@example.test\nSubject: smuggle\n\nline\n.\nMAIL FROM:<evil@example.test>\r\n.\r\nRCPT TO:<alice@example.test>\r.\rDATA\r\n.\rend\n.";
    let out = mta.send(&["bob@example.test"], tricks);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        mta.dovecot.delivered("bob").len(),
        1,
        "a second message arrived"
    );
    assert!(
        mta.dovecot.delivered("alice").is_empty(),
        "the smuggled RCPT got mail"
    );
    assert_eq!(
        unix(body_of(&delivered[0])),
        b"line\n.\nMAIL FROM:<evil@example.test>\n.\nRCPT TO:<alice@example.test>\n.\nDATA\n.\nend\n.\n"
    );
}

#[test]
fn queue_then_flush_delivers_exactly_once() {
    let dovecot = Dovecot::start();
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    // Nothing listens yet: the connection is refused, the message queued.
    let port = common::free_port();
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &[
            "--server",
            &url,
            "--tls",
            "none",
            "--queue",
            queue.to_str().unwrap(),
            "--json",
            "bob@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains("\"status\":\"queued\""),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_dir(queue.join("new")).unwrap().count(), 1);
    let exim = Exim::start(&dovecot, EximOptions::default());
    let url = format!("smtp://localhost:{}", exim.port);
    let cafile = exim.cert.to_str().unwrap().to_string();
    let flush = [
        "--server",
        url.as_str(),
        "--cafile",
        cafile.as_str(),
        "--flush",
        queue.to_str().unwrap(),
        "--force",
        // The entry was queued for another server (the port nothing
        // listened on): this flush sends it to the Exim instead.
        "--reroute",
    ];
    let out = run_tool(BIN, &flush, b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(queue.join("new")).unwrap().count(),
        0,
        "entry still queued"
    );
    dovecot.wait_for_messages("bob", 1, Duration::from_secs(10));
    let out = run_tool(BIN, &flush, b"");
    assert_eq!(code(&out), 0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(dovecot.delivered("bob").len(), 1, "delivered twice");
}

#[test]
fn quit_after_stops_at_each_step_without_a_message() {
    // An operator's diagnosis: stdin is empty, nothing is ever sent as mail.
    let mta = Mta::start(EximOptions::default());
    let steps: [(&str, &str, &str); 7] = [
        ("connect", "=== Connected to", "<- 220"),
        ("banner", "<- 220 mx.example.test ESMTP", "-> EHLO"),
        ("ehlo", "<- 250-STARTTLS", "-> STARTTLS"),
        ("starttls", "~> EHLO", "> AUTH"),
        ("auth", "~> AUTH PLAIN ****\n<~ 235", "MAIL FROM"),
        ("mail", "~> MAIL FROM:<> SIZE=0\n<~ 250", "RCPT TO"),
        ("rcpt", "~> RCPT TO:<bob@example.test>\n<~ 250", "DATA"),
    ];
    for (step, reached, not_reached) in steps {
        let out = mta.send(&["-v", "--quit-after", step, "bob@example.test"], b"");
        let transcript = stderr(&out);
        assert_eq!(code(&out), 0, "{step}: {transcript}");
        assert_eq!(stdout(&out), "", "{step}");
        assert!(transcript.contains(reached), "{step}: {transcript}");
        assert!(!transcript.contains(not_reached), "{step}: {transcript}");
        assert!(!transcript.contains("BDAT"), "{step}: {transcript}");
        // Said goodbye once greeted.
        let quits = transcript.ends_with("> QUIT\n");
        assert_eq!(quits, step != "connect", "{step}: {transcript}");
    }
    let out = mta.send(
        &[
            "-v",
            "--quit-after",
            "rcpt",
            "-f",
            "alice@example.test",
            "nosuch@example.test",
        ],
        b"",
    );
    let transcript = stderr(&out);
    assert!(
        transcript.contains("~> MAIL FROM:<alice@example.test> SIZE=0\n"),
        "{transcript}"
    );
    // MAIL and RCPT go out together (PIPELINING), then their replies.
    assert!(
        transcript.contains("~> RCPT TO:<nosuch@example.test>\n<~ 250 OK\n<~ 550"),
        "{transcript}"
    );
    // After rcpt each recipient's RCPT reply is its result: 67 for a
    // refused one, as if the message had been sent, and nothing queued.
    assert_eq!(code(&out), 67, "{transcript}");
    assert!(transcript.contains("nosuch@example.test"), "{transcript}");
    let queue = Scratch::new();
    let queue_dir = queue.path().join("queue");
    let out = mta.send(
        &[
            "--json",
            "--quit-after",
            "rcpt",
            "--queue",
            queue_dir.to_str().unwrap(),
            "bob@example.test",
            "tempfail@example.test",
        ],
        b"",
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results[0]["status"], "accepted");
    assert_eq!(results[1]["status"], "deferred");
    assert!(!queue_dir.exists(), "a diagnosis queued something");
    // A failure before the step is a failure, not a quiet 0.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("smtp://localhost:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let args = [
        "--server",
        &url,
        "--tls",
        "none",
        "--quit-after",
        "ehlo",
        "bob@example.test",
    ];
    let out = run_tool(BIN, &args, b"");
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(mta.dovecot.delivered("bob").is_empty());
    assert!(!mta.exim.log().contains(" <= "), "{}", mta.exim.log());
}

#[test]
fn dry_run_connects_to_nothing() {
    let out = run_tool(BIN, &["--dry-run", "-t"], MESSAGE);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("MAIL FROM:<alice@example.test>\nRCPT TO:<bob@example.test>\nDATA: "),
        "{text}"
    );
}

#[test]
fn bad_envelopes_and_long_lines_are_65() {
    let out = run_tool(BIN, &["--dry-run", "a@b.example>"], MESSAGE);
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    let long = format!("From: a@example.test\n\n{}\n", "x".repeat(1000));
    let out = run_tool(BIN, &["--dry-run", "b@example.test"], long.as_bytes());
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    let out = run_tool(
        BIN,
        &["--server", "smtp://u:secret@host", "b@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 64);
    assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));
}

/// A scripted server (one connection): answers each command line by the
/// first matching (prefix, reply) rule, else `250 ok`.
fn scripted(rules: Vec<(&'static str, &'static [u8])>) -> u16 {
    Script::smtp(rules).start().0
}

#[test]
fn starttls_response_injection_is_76() {
    let port = scripted(vec![
        ("EHLO", b"250-scripted\r\n250 STARTTLS\r\n"),
        ("STARTTLS", b"220 go ahead\r\n250 INJECTED\r\n"),
    ]);
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &["--server", &url, "--insecure", "bob@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 76, "{}", stderr(&out));
}

#[test]
fn an_endless_reply_line_is_76() {
    static ENDLESS: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let endless: &'static [u8] = ENDLESS.get_or_init(|| {
        let mut v = b"250-".to_vec();
        v.extend(std::iter::repeat_n(b'x', 200_000));
        v
    });
    let port = scripted(vec![("EHLO", endless)]);
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &[
            "--server",
            &url,
            "--tls",
            "none",
            "--timeout",
            "5",
            "bob@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 76, "{}", stderr(&out));
}

#[test]
fn silence_is_75_within_the_timeout() {
    let port = scripted(vec![("EHLO", b"SILENCE")]);
    let url = format!("smtp://localhost:{port}");
    let started = Instant::now();
    let out = run_tool(
        BIN,
        &[
            "--server",
            &url,
            "--tls",
            "none",
            "--timeout",
            "2",
            "bob@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_connection_dropped_in_data_is_75_and_queued_with_queue() {
    let rules: Vec<(&'static str, &'static [u8])> = vec![
        ("EHLO", b"250 scripted\r\n"),
        ("DATA", b"354 go\r\n"),
        ("HELLO", b"CLOSE"),
    ];
    let port = scripted(rules.clone());
    let url = format!("smtp://localhost:{port}");
    let message = b"From: a@example.test\n\nHELLO body\n";
    let out = run_tool(
        BIN,
        &[
            "--server",
            &url,
            "--tls",
            "none",
            "--timeout",
            "5",
            "bob@example.test",
        ],
        message,
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let dir = Scratch::new();
    let port = scripted(rules);
    let url = format!("smtp://localhost:{port}");
    let queue = dir.path().join("q");
    let out = run_tool(
        BIN,
        &[
            "--server",
            &url,
            "--tls",
            "none",
            "--timeout",
            "5",
            "--queue",
            queue.to_str().unwrap(),
            "bob@example.test",
        ],
        message,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(queue.join("new")).unwrap().count(), 1);
    let mut queued = String::new();
    std::fs::File::open(
        std::fs::read_dir(queue.join("new"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap()
    .read_to_string(&mut queued)
    .unwrap();
    assert!(queued.contains("HELLO body"), "{queued}");
}

/// A zone file for `origin` with the records `records` (relative names).
fn zone(origin: &str, records: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 300\n\
         @ IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 300\n\
         @ IN NS ns.example.test.\n{records}"
    )
}

#[test]
fn direct_delivery_follows_mx_records() {
    let mta = Mta::start(EximOptions::default());
    let zone_records = "ns IN A 127.0.0.1\n@ IN MX 5 dead\n@ IN MX 10 mx\n\
                        dead IN A 127.0.0.2\nmx IN A 127.0.0.1\n";
    let nsd = common::nsd::Nsd::start(&[
        ("example.test", &zone("example.test", zone_records)),
        ("nullmx.test", &zone("nullmx.test", "@ IN MX 0 .\n")),
    ]);
    let port = mta.exim.port.to_string();
    let dns = nsd.address();
    let out = run_tool(
        BIN,
        &[
            "-v",
            "--json",
            "--dns-server",
            &dns,
            "--port",
            &port,
            "--timeout",
            "10",
            "bob@example.test",
            "x@nullmx.test",
        ],
        MESSAGE,
    );
    // Null MX: the domain accepts no mail (69, RFC 7505).
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results[0]["recipient"], "bob@example.test");
    assert_eq!(results[0]["status"], "accepted", "{}", stderr(&out));
    assert_eq!(results[1]["status"], "rejected");
    assert!(
        results[1]["reply"].as_str().unwrap().contains("null MX"),
        "{}",
        results[1]
    );
    // The first exchange (preference 5) refused the connection; the
    // second took the message, over opportunistic STARTTLS.
    let transcript = stderr(&out);
    assert!(transcript.contains("127.0.0.2"), "{transcript}");
    assert!(transcript.contains("-> STARTTLS"), "{transcript}");
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
}

#[test]
fn opportunistic_tls_that_fails_falls_back_to_plain_text() {
    // --cafile turns certificate checks on for MX delivery; Exim's
    // certificate is for localhost, not mx.example.test, so the handshake
    // fails and, as MTAs do, the message goes again without TLS.
    let mta = Mta::start(EximOptions::default());
    let records = "ns IN A 127.0.0.1\n@ IN MX 10 mx\nmx IN A 127.0.0.1\n";
    let nsd = common::nsd::Nsd::start(&[("example.test", &zone("example.test", records))]);
    let (port, dns) = (mta.exim.port.to_string(), nsd.address());
    let cafile = mta.exim.cert.to_str().unwrap();
    let args = [
        "-v",
        "--dns-server",
        &dns,
        "--port",
        &port,
        "--cafile",
        cafile,
        "bob@example.test",
    ];
    let out = run_tool(BIN, &args, MESSAGE);
    let transcript = stderr(&out);
    assert_eq!(code(&out), 0, "{transcript}");
    assert!(
        transcript.contains(
            "=== TLS with 127.0.0.1:PORT: certificate not trusted: hostname mismatch; \
             connecting again without TLS (opportunistic)"
                .replace("PORT", &port)
                .as_str()
        ),
        "{transcript}"
    );
    assert_eq!(transcript.matches("=== Connected to").count(), 2);
    let second = &transcript[transcript.rfind("=== Connected to").unwrap()..];
    assert!(!second.contains("-> STARTTLS"), "{second}");
    assert!(
        second.contains("-> MAIL FROM:<alice@example.test>"),
        "{second}"
    );
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    assert_eq!(unix(body_of(&delivered[0])), unix(body_of(MESSAGE)));
    // Exim logs the cipher (X=) of a message that came over TLS.
    let arrival = mta.exim.wait_for_log(" <= ", Duration::from_secs(10));
    let arrival = arrival.lines().find(|l| l.contains(" <= ")).unwrap();
    assert!(!arrival.contains(" X="), "{arrival}");
}

#[test]
fn opportunistic_starttls_refused_goes_on_in_plain_text() {
    let port = scripted(vec![
        ("EHLO", b"250-scripted\r\n250 STARTTLS\r\n"),
        (
            "STARTTLS",
            b"454 4.7.0 TLS not available due to local problem\r\n",
        ),
        ("DATA", b"354 go on\r\n"),
        ("QUIT", b"221 bye\r\n"),
    ]);
    let server = format!("smtp://localhost:{port}");
    let args = [
        "-v",
        "--server",
        &server,
        "--tls",
        "opportunistic",
        "--timeout",
        "5",
        "bob@example.test",
    ];
    let out = run_tool(BIN, &args, MESSAGE);
    let transcript = stderr(&out);
    assert_eq!(code(&out), 0, "{transcript}");
    assert!(
        transcript.contains(
            "-> STARTTLS\n<- 454 4.7.0 TLS not available due to local problem\n\
             === STARTTLS refused (454 4.7.0 TLS not available due to local problem); \
             going on without TLS (opportunistic)\n"
        ),
        "{transcript}"
    );
    // The same connection goes on.
    assert_eq!(transcript.matches("=== Connected to").count(), 1);
    assert!(transcript.contains("-> MAIL FROM:<alice@example.test>"));

    // Required STARTTLS refused with 454 (temporary, RFC 3207 §4) is 75,
    // and nothing more is sent.
    let port = scripted(vec![
        ("EHLO", b"250-scripted\r\n250 STARTTLS\r\n"),
        (
            "STARTTLS",
            b"454 4.7.0 TLS not available due to local problem\r\n",
        ),
    ]);
    let server = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &["-v", "--server", &server, "bob@example.test"],
        MESSAGE,
    );
    let transcript = stderr(&out);
    assert_eq!(code(&out), 75, "{transcript}");
    assert!(!transcript.contains("MAIL FROM"), "{transcript}");
}

#[test]
fn helo_when_ehlo_is_unknown() {
    let port = scripted(vec![
        ("EHLO", b"502 unknown command\r\n"),
        ("HELO", b"250 old server\r\n"),
    ]);
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &["-v", "--server", &url, "--tls", "none", "bob@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let transcript = stderr(&out);
    assert!(transcript.contains("-> DATA"), "{transcript}");
    // The default name is a fully qualified domain name or, when this host
    // has none, the address literal of the connection's local end.
    let name = transcript
        .lines()
        .find_map(|line| line.strip_prefix("-> HELO "))
        .unwrap_or_else(|| panic!("no HELO: {transcript}"));
    assert!(
        name == "[127.0.0.1]" || (name.contains('.') && !name.starts_with('[')),
        "{name}"
    );
    assert!(
        transcript.contains(&format!("-> EHLO {name}\n")),
        "{transcript}"
    );
    // --helo names it.
    let port = scripted(vec![]);
    let url = format!("smtp://localhost:{port}");
    let args = [
        "-v",
        "--server",
        &url,
        "--tls",
        "none",
        "--helo",
        "Client.Example",
    ];
    let out = run_tool(BIN, &[&args[..], &["bob@example.test"]].concat(), MESSAGE);
    assert!(
        stderr(&out).contains("-> EHLO client.example\n"),
        "{}",
        stderr(&out)
    );
    let out = run_tool(BIN, &["--helo", "a b", "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 64, "{}", stderr(&out));
}

#[test]
fn esmtp_parameters_follow_the_message() {
    let mta = Mta::start(EximOptions::default());
    let eight_bit = "From: alice@example.test\nTo: bob@example.test\nSubject: 8bit\n\nGrüße\n";
    let out = mta.send(
        &[
            "-v",
            "--notify",
            "SUCCESS,FAILURE",
            "--ret",
            "HDRS",
            "--envid",
            "id+1",
            "bob@example.test",
        ],
        eight_bit.as_bytes(),
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let transcript = stderr(&out);
    assert!(transcript.contains("BODY=8BITMIME"), "{transcript}");
    assert!(transcript.contains("RET=HDRS ENVID=id+2B1"), "{transcript}");
    assert!(
        transcript.contains("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE"),
        "{transcript}"
    );
    assert!(
        transcript.contains("~> BDAT "),
        "CHUNKING offered, BDAT not used: {transcript}"
    );
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&delivered[0]).contains("Grüße"));
    let utf8 = "From: jörg@example.test\nTo: bob@example.test\nSubject: utf8\n\nhi\n";
    let out = mta.send(&["-v", "bob@example.test"], utf8.as_bytes());
    assert!(stderr(&out).contains(" SMTPUTF8"), "{}", stderr(&out));
}

#[test]
fn eight_bit_without_8bitmime_is_65() {
    let port = scripted(vec![("EHLO", b"250 plain\r\n")]);
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(
        BIN,
        &["--server", &url, "--tls", "none", "bob@example.test"],
        "From: a@example.test\n\nGrüße\n".as_bytes(),
    );
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(stderr(&out).contains("8BITMIME"), "{}", stderr(&out));
}

#[test]
fn an_8_bit_message_among_others_is_refused_alone() {
    let (port, server) = Script::smtp(vec![("EHLO", b"250 plain\r\n")]).start();
    let url = format!("smtp://localhost:{port}");
    let dir = Scratch::new();
    let mut args = vec!["--server".to_string(), url, "--tls".into(), "none".into()];
    for (n, body) in ["one", "Grüße", "three"].iter().enumerate() {
        let path = dir.path().join(format!("m{n}.eml"));
        std::fs::write(&path, format!("From: a@example.test\n\n{body}\n")).unwrap();
        args.extend(["--file".to_string(), path.to_str().unwrap().to_string()]);
    }
    args.extend(["--json".to_string(), "bob@example.test".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_tool(BIN, &args, b"");
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    let statuses: Vec<String> = json_lines(&out)
        .iter()
        .map(|v| v["status"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(statuses, ["accepted", "rejected", "accepted"]);
    assert!(stdout(&out).contains("8BITMIME"), "{}", stdout(&out));
    let received = server.join().unwrap();
    let mails = received
        .iter()
        .filter(|l| l.starts_with("MAIL FROM"))
        .count();
    assert_eq!(mails, 2, "{received:?}");
    assert!(
        !received.iter().any(|l| l.contains("Grüße")),
        "{received:?}"
    );
}

#[test]
fn implicit_tls_submission_with_auth() {
    let mta = Mta::start(EximOptions::default());
    let url = format!("smtps://alice@localhost:{}", mta.exim.smtps);
    let out = mta.send_with(&url, "alicepw", &["-v", "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let transcript = stderr(&out);
    assert!(
        transcript.contains("<~ 220 "),
        "the greeting came before TLS: {transcript}"
    );
    assert!(!transcript.contains("STARTTLS"), "{transcript}");
    assert!(transcript.contains("~> AUTH PLAIN ****") && !transcript.contains("alicepw"));
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
}

#[test]
fn auth_login_when_plain_is_not_offered() {
    let port = scripted(vec![
        ("EHLO", b"250-scripted\r\n250 AUTH LOGIN\r\n"),
        ("AUTH LOGIN", b"334 VXNlcm5hbWU6\r\n"),
        ("YWxpY2U=", b"334 UGFzc3dvcmQ6\r\n"),
        ("YWxpY2Vwdw==", b"235 ok\r\n"),
    ]);
    let dir = Scratch::new();
    let password = password_file(&dir, "alicepw");
    let out = login_in_plain_text(port, "alicepw", &[]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stderr(&out).contains("-> AUTH LOGIN"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("YWxpY2Vwdw") && !stderr(&out).contains("alicepw"),
        "{}",
        stderr(&out)
    );
    // Without --allow-plaintext-auth no password crosses a plain connection.
    let port = scripted(vec![("EHLO", b"250-scripted\r\n250 AUTH LOGIN\r\n")]);
    let url = format!("smtp://alice@localhost:{port}");
    let out = run_tool(
        BIN,
        &[
            "-v",
            "--server",
            &url,
            "--tls",
            "none",
            "--password-file",
            password.to_str().unwrap(),
            "bob@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert!(!stderr(&out).contains("-> AUTH"), "{}", stderr(&out));
}

#[test]
fn a_megabyte_with_dots_at_every_buffer_boundary_arrives_whole() {
    let mta = Mta::start(EximOptions {
        size_limit: 8 << 20,
        ..EximOptions::default()
    });
    let mut message = b"From: alice@example.test\nTo: bob@example.test\nSubject: big\n\n".to_vec();
    let mut body = Vec::new();
    let mut i = 0usize;
    while body.len() < 1 << 20 {
        // Lines of varying length that begin with dots, with every kind of
        // line end, so dots land on every buffer boundary.
        body.extend_from_slice(b".");
        body.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, i % 97));
        body.extend_from_slice(match i % 3 {
            0 => b"\n".as_slice(),
            1 => b"\r\n",
            _ => b"\r",
        });
        i += 1;
    }
    message.extend_from_slice(&body);
    let out = mta.send(&["bob@example.test"], &message);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let delivered = mta
        .dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(mta.dovecot.delivered("bob").len(), 1);
    let canonical: Vec<u8> = {
        let mut out = Vec::new();
        let mut j = 0;
        while j < body.len() {
            match body[j] {
                b'\r' if body.get(j + 1) == Some(&b'\n') => {
                    out.push(b'\n');
                    j += 1;
                }
                b'\r' => out.push(b'\n'),
                b => out.push(b),
            }
            j += 1;
        }
        out
    };
    assert!(
        unix(body_of(&delivered[0])) == canonical,
        "the body changed on the way"
    );
}

#[test]
fn smtputf8_needed_but_not_offered_is_65() {
    let port = scripted(vec![("EHLO", b"250-plain\r\n250 8BITMIME\r\n")]);
    let url = format!("smtp://localhost:{port}");
    let message = "From: jörg@example.test\nTo: bob@example.test\n\nhi\n";
    let out = run_tool(
        BIN,
        &["-v", "--server", &url, "--tls", "none", "bob@example.test"],
        message.as_bytes(),
    );
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert!(stderr(&out).contains("SMTPUTF8"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("-> MAIL"),
        "MAIL was sent: {}",
        stderr(&out)
    );
}

/// alice's OAuth 2.0 access token (RFC 6750 `b64token` characters), which
/// the Exim of [`oauth_mta`] checks.
const TOKEN: &str = "ya29.a0-Test_Token~for+alice/0123456789=";

/// An Exim that also offers `mechanisms` (XOAUTH2, OAUTHBEARER) for alice
/// and [`TOKEN`].
fn oauth_mta(mechanisms: &[&'static str]) -> Mta {
    Mta::start(EximOptions {
        oauth_token: Some(TOKEN),
        oauth_mechanisms: mechanisms.to_vec(),
        ..EximOptions::default()
    })
}

/// The forms in which `token` could show: itself, and its base64 at each
/// of the three byte alignments it can have inside a longer base64 text
/// such as an XOAUTH2 or OAUTHBEARER initial response (only whole 3-byte
/// groups, which encode the same wherever the token starts).
fn token_forms(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut forms = vec![token.to_string()];
    for skip in 0..3 {
        let rest = &token.as_bytes()[skip..];
        let whole = rest.len() / 3 * 3;
        forms.push(base64::engine::general_purpose::STANDARD.encode(&rest[..whole]));
    }
    forms
}

/// Whether `text` shows `token` in any of its [`token_forms`].
fn shows_token(text: &str, token: &str) -> Option<String> {
    token_forms(token)
        .into_iter()
        .find(|form| text.contains(form))
}

/// Neither stdout nor stderr (the `-v` transcript) shows `token`.
fn assert_token_hidden(out: &std::process::Output, token: &str) {
    for (name, text) in [("stdout", stdout(out)), ("stderr", stderr(out))] {
        if let Some(form) = shows_token(&text, token) {
            panic!("the token leaked into {name} as {form:?}:\n{text}");
        }
    }
}

/// [`MESSAGE`] arrived in alice's Maildir, once, its body byte for byte.
fn assert_delivered_to_alice(mta: &Mta) {
    let delivered = mta
        .dovecot
        .wait_for_messages("alice", 1, Duration::from_secs(10));
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        unix(body_of(&delivered[0])),
        b"Hello Bob.\n.\nA line with a dot above.\n"
    );
    let text = String::from_utf8_lossy(&delivered[0]);
    for header in [
        "\nFrom: Alice <alice@example.test>\n",
        "\nTo: bob@example.test\n",
        "\nSubject: hello\n",
    ] {
        assert!(text.contains(header), "no {header:?} in {text}");
    }
}

/// The Exim log line of the message's arrival (`<=`), once it is logged.
fn arrival_line(mta: &Mta) -> String {
    let log = mta.exim.wait_for_log(" <= ", Duration::from_secs(10));
    log.lines()
        .find(|line| line.contains(" <= "))
        .unwrap()
        .to_string()
}

#[test]
fn the_token_check_finds_the_token_in_either_initial_response() {
    use base64::Engine as _;
    let encode = |text: String| base64::engine::general_purpose::STANDARD.encode(text);
    // Users of three lengths put the token at all three alignments.
    for user in ["a", "ab", "abc"] {
        let xoauth2 = encode(format!("user={user}\x01auth=Bearer {TOKEN}\x01\x01"));
        let oauthbearer = encode(format!(
            "n,a={user},\x01host=localhost\x01port=25\x01auth=Bearer {TOKEN}\x01\x01"
        ));
        for response in [xoauth2, oauthbearer] {
            assert!(
                shows_token(&format!("~> AUTH XOAUTH2 {response}"), TOKEN).is_some(),
                "{response}"
            );
        }
    }
    assert_eq!(shows_token("~> AUTH XOAUTH2 ****", TOKEN), None);
}

/// A login with [`TOKEN`] over STARTTLS, to an Exim that offers the
/// token mechanisms `offered`: `expected` is used, alone, and the message
/// arrives.
fn oauth_login_delivers(offered: &[&'static str], expected: &str) {
    let mta = oauth_mta(offered);
    let out = mta.send_with(
        &mta.url("alice"),
        TOKEN,
        &["-v", "--oauth", "alice@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "quiet on success");
    let transcript = stderr(&out);
    assert!(transcript.contains("-> STARTTLS"), "{transcript}");
    let offer = format!("<~ 250-AUTH PLAIN LOGIN {}\n", offered.join(" "));
    assert!(transcript.contains(&offer), "{transcript}");
    let login = format!("~> AUTH {expected} ****\n<~ 235 Authentication succeeded\n");
    assert!(transcript.contains(&login), "{transcript}");
    assert_eq!(transcript.matches("> AUTH ").count(), 1, "{transcript}");
    assert_token_hidden(&out, TOKEN);
    assert_delivered_to_alice(&mta);
    let arrival = arrival_line(&mta);
    let id = format!(" A={}:alice ", expected.to_ascii_lowercase());
    assert!(arrival.contains(&id), "{arrival}");
}

#[test]
fn oauth_token_over_starttls_uses_oauthbearer_first() {
    // Both offered; OAUTHBEARER, the standard one, is the first choice.
    // Exim accepts it only with host=localhost and this port (RFC 7628).
    oauth_login_delivers(&["XOAUTH2", "OAUTHBEARER"], "OAUTHBEARER");
}

#[test]
fn oauth_token_uses_xoauth2_when_only_it_is_offered() {
    oauth_login_delivers(&["XOAUTH2"], "XOAUTH2");
}

#[test]
fn wrong_oauth_token_is_77_nothing_delivered_and_never_shown() {
    const WRONG: &str = "ya29.a0-Wrong_Token~for+alice/9876543210=";
    // Exim answers a refused token with 535 at once: no RFC 7628 error
    // challenge (334 with JSON) to answer first.
    for (mechanism, user, token) in [
        ("XOAUTH2", "alice", WRONG),
        ("OAUTHBEARER", "alice", WRONG),
        // alice's token is no good for bob.
        ("XOAUTH2", "bob", TOKEN),
        ("OAUTHBEARER", "bob", TOKEN),
    ] {
        let mta = oauth_mta(&[mechanism]);
        let out = mta.send_with(
            &mta.url(user),
            token,
            &["-v", "--oauth", "alice@example.test"],
            MESSAGE,
        );
        let transcript = stderr(&out);
        assert_eq!(code(&out), 77, "{mechanism} {user}: {transcript}");
        assert!(
            transcript.contains(&format!(
                "~> AUTH {mechanism} ****\n<~ 535 Incorrect authentication data\n"
            )),
            "{mechanism} {user}: {transcript}"
        );
        assert!(
            transcript.contains(
                "smtp-send: error: authentication failed: the server said 535 Incorrect authentication data"
            ),
            "{transcript}"
        );
        assert!(!transcript.contains("MAIL FROM"), "{transcript}");
        assert_token_hidden(&out, token);
        let log = mta.exim.wait_for_log(
            &format!(
                "{} authenticator failed for ",
                mechanism.to_ascii_lowercase()
            ),
            Duration::from_secs(10),
        );
        assert!(
            log.contains(&format!(
                "535 Incorrect authentication data (set_id={user})"
            )),
            "{log}"
        );
        assert!(!log.contains(" <= "), "a message arrived: {log}");
        assert!(mta.dovecot.delivered("alice").is_empty());
    }
}

#[test]
fn oauth_never_falls_back_to_a_password_mechanism() {
    // alice's password given as the "token": PLAIN would succeed with it.
    let mta = Mta::start(EximOptions::default());
    let out = mta.send_with(
        &mta.url("alice"),
        "alicepw",
        &["-v", "--oauth", "alice@example.test"],
        MESSAGE,
    );
    let transcript = stderr(&out);
    assert_eq!(code(&out), 77, "{transcript}");
    assert!(
        transcript.contains("no usable AUTH mechanism offered (PLAIN LOGIN)"),
        "{transcript}"
    );
    assert!(!transcript.contains("> AUTH"), "{transcript}");
    assert_token_hidden(&out, "alicepw");
    assert!(mta.dovecot.delivered("alice").is_empty());
}

/// An OAuth error challenge the way Gmail sends it (RFC 7628 §3.2.2): a
/// 334 with base64 JSON, then `last` after the client's dummy reply.
fn oauth_challenge_server(mechanisms: &'static [u8], last: &'static [u8]) -> u16 {
    scripted(vec![
        ("EHLO", mechanisms),
        (
            "AUTH",
            b"334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n",
        ),
        ("QUIT", b"221 bye\r\n"),
        ("", last),
    ])
}

/// smtp-send -v to a plain-text server on `port` as alice, with `secret`
/// from a file and --allow-plaintext-auth, plus `extra`.
fn login_in_plain_text(port: u16, secret: &str, extra: &[&str]) -> std::process::Output {
    let dir = Scratch::new();
    let file = password_file(&dir, secret);
    let url = format!("smtp://alice@localhost:{port}");
    let mut args = vec![
        "-v",
        "--server",
        &url,
        "--tls",
        "none",
        "--allow-plaintext-auth",
    ];
    args.extend(["--password-file", file.to_str().unwrap(), "--timeout", "5"]);
    args.extend(extra);
    args.push("bob@example.test");
    run_tool(BIN, &args, MESSAGE)
}

#[test]
fn an_oauth_error_challenge_is_answered_then_77_and_the_token_never_shows() {
    let final_refusal = b"535 5.7.8 Username and Password not accepted\r\n";
    for (offered, mechanism, dummy) in [
        (
            b"250-scripted\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n".as_slice(),
            "OAUTHBEARER",
            "-> AQ==\n",
        ),
        (b"250-scripted\r\n250 AUTH XOAUTH2\r\n", "XOAUTH2", "-> \n"),
    ] {
        let out = login_in_plain_text(
            oauth_challenge_server(offered, final_refusal),
            TOKEN,
            &["--oauth"],
        );
        let transcript = stderr(&out);
        assert_eq!(code(&out), 77, "{transcript}");
        // The challenge answered with the dummy reply of RFC 7628 §3.2.3
        // (or Google's empty line for XOAUTH2), then the final refusal.
        assert!(
            transcript.contains(&format!("-> AUTH {mechanism} ****\n<- 334 eyJzdGF0dXMi")),
            "{transcript}"
        );
        assert!(
            transcript.contains(&format!(
                "{dummy}<- 535 5.7.8 Username and Password not accepted\n"
            )),
            "{transcript}"
        );
        assert!(
            transcript.contains(
                "smtp-send: error: authentication failed: the server said 535 5.7.8 Username and \
                 Password not accepted (token refused: status 401, scope https://mail.google.com/)"
            ),
            "{transcript}"
        );
        assert!(!transcript.contains("MAIL FROM"), "{transcript}");
        assert_token_hidden(&out, TOKEN);
    }
}

#[test]
fn a_temporary_failure_after_an_oauth_challenge_is_75() {
    let port = oauth_challenge_server(
        b"250-scripted\r\n250 AUTH OAUTHBEARER\r\n",
        b"454 4.7.0 Temporary authentication failure\r\n",
    );
    let out = login_in_plain_text(port, TOKEN, &["--oauth"]);
    let transcript = stderr(&out);
    assert_eq!(code(&out), 75, "{transcript}");
    assert!(
        transcript.contains("-> AQ==\n<- 454 4.7.0 Temporary authentication failure\n"),
        "{transcript}"
    );
    assert_token_hidden(&out, TOKEN);
}

/// Forwards every connection to 127.0.0.1:`port` from `listener`, while
/// the test runs: a server that comes back on the address a message was
/// queued for.
fn forward(listener: TcpListener, port: u16) {
    use std::net::{Shutdown, TcpStream};
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let Ok(server) = TcpStream::connect(("127.0.0.1", port)) else {
                break;
            };
            let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
            });
            let (mut from, mut to) = (server, client);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut from, &mut to);
                let _ = to.shutdown(Shutdown::Write);
            });
        }
    });
}

/// The one file in `queue`/new.
fn queue_entry(queue: &std::path::Path) -> PathBuf {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(queue.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

#[test]
fn a_flush_sends_each_entry_the_way_it_was_queued() {
    use std::os::unix::fs::PermissionsExt;
    let mta = Mta::start(EximOptions::default());
    let queue = mta.dir.path().join("queue");
    let password = password_file(&mta.dir, "alicepw");
    let cafile = mta.exim.cert.to_str().unwrap();
    // Queued for a server that is down: STARTTLS with the test CA, alice's
    // password from a file.
    let port = common::free_port();
    let url = format!("smtp://alice@localhost:{port}");
    let queued = [
        "--server",
        &url,
        "--cafile",
        cafile,
        "--password-file",
        password.to_str().unwrap(),
        "--queue",
        queue.to_str().unwrap(),
        "--notify",
        "SUCCESS",
        "bob@example.test",
    ];
    let out = run_tool(BIN, &queued, MESSAGE);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entry = queue_entry(&queue);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(mode(&queue), 0o700);
    let text = std::fs::read_to_string(&entry).unwrap();
    let head: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(head["route"]["server"], url.as_str());
    assert_eq!(head["route"]["password_file"], password.to_str().unwrap());
    assert!(!text.contains("alicepw"), "the password was queued: {text}");
    assert_eq!(head["dsn"]["notify"], "SUCCESS");

    // Another server: kept and not sent, unless --reroute.
    let elsewhere = format!("smtp://alice@localhost:{}", mta.exim.port);
    let flush = ["--flush", queue.to_str().unwrap(), "--force"];
    let mut other = flush.to_vec();
    other.extend(["--server", &elsewhere, "--cafile", cafile]);
    let out = run_tool(BIN, &other, b"");
    assert_eq!(code(&out), 64, "{}", stderr(&out));
    assert!(stderr(&out).contains("--reroute"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&url), "{}", stderr(&out));
    assert_eq!(queue_entry(&queue), entry);

    // The server is back where it was: a flush with no route options
    // sends the entry there, the same way (STARTTLS, AUTH as alice, the
    // DSN request).
    forward(
        TcpListener::bind(("127.0.0.1", port)).unwrap(),
        mta.exim.port,
    );
    let mut verbose = flush.to_vec();
    verbose.push("-v");
    let out = run_tool(BIN, &verbose, b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let transcript = stderr(&out);
    assert!(transcript.contains("~> AUTH PLAIN"), "{transcript}");
    assert!(transcript.contains("NOTIFY=SUCCESS"), "{transcript}");
    assert_eq!(std::fs::read_dir(queue.join("new")).unwrap().count(), 0);
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    let log = mta
        .exim
        .wait_for_log("A=plain:alice", Duration::from_secs(10));
    assert!(log.contains("A=plain:alice"), "{log}");
}

#[test]
fn an_entry_from_an_earlier_version_flushes_as_before_with_a_warning() {
    let mta = Mta::start(EximOptions::default());
    let queue = mta.dir.path().join("queue");
    std::fs::create_dir_all(queue.join("new")).unwrap();
    // The envelope line as earlier versions wrote it: no route.
    let head = r#"{"sender":"alice@example.test","recipients":["bob@example.test"],"created":1900000000,"attempts":1,"next_attempt":0,"last_error":"451 later"}"#;
    let mut file = head.as_bytes().to_vec();
    file.push(b'\n');
    file.extend_from_slice(MESSAGE);
    std::fs::write(queue.join("new").join("1.2.old"), file).unwrap();
    let listing = run_tool(
        BIN,
        &["--list-queue", queue.to_str().unwrap(), "--json"],
        b"",
    );
    assert_eq!(code(&listing), 0, "{}", stderr(&listing));
    assert_eq!(json_lines(&listing)[0]["route"], serde_json::Value::Null);
    let out = mta.send(&["--flush", queue.to_str().unwrap()], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("recorded no route"),
        "{}",
        stderr(&out)
    );
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
    assert_eq!(std::fs::read_dir(queue.join("new")).unwrap().count(), 0);
}

#[test]
fn list_queue_shows_each_entry_in_text_and_json() {
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    let url = format!("smtp://localhost:{}", common::free_port());
    for recipients in [
        &["bob@example.test"][..],
        &["carol@example.test", "dan@example.test"],
    ] {
        let mut args = vec![
            "--server",
            &url,
            "--tls",
            "none",
            "--queue",
            queue.to_str().unwrap(),
        ];
        args.extend_from_slice(recipients);
        let out = run_tool(BIN, &args, MESSAGE);
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    let out = run_tool(BIN, &["--list-queue", queue.to_str().unwrap()], b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let all: Vec<&str> = lines.iter().map(|l| l[4]).collect();
    assert!(all.contains(&"bob@example.test"), "{text}");
    assert!(
        all.contains(&"carol@example.test,dan@example.test"),
        "{text}"
    );
    for line in &lines {
        assert!(line[1].ends_with('s'), "{text}");
        assert_eq!((line[2], line[3]), ("1", "alice@example.test"), "{text}");
        assert!(
            line[5].contains("refused") || line[5].contains("onnect"),
            "{text}"
        );
    }
    let out = run_tool(
        BIN,
        &["--list-queue", queue.to_str().unwrap(), "--json"],
        b"",
    );
    let records = json_lines(&out);
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record["attempts"], 1);
        assert_eq!(record["sender"], "alice@example.test");
        assert!(record["age"].as_u64().unwrap() < 60, "{record}");
        assert!(record["last_reply"].is_string(), "{record}");
        let route = record["route"].as_str().unwrap();
        assert_eq!(route, format!("--server {url} --tls none"));
    }
    let missing = dir.path().join("none");
    let out = run_tool(BIN, &["--list-queue", missing.to_str().unwrap()], b"");
    assert_eq!(code(&out), 66, "{}", stderr(&out));
    assert!(!missing.exists(), "listing created a queue");
}

#[test]
fn rejected_and_deferred_at_rcpt_is_67_and_names_the_deferred() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(
        &[
            "--json",
            "nosuch@example.test",
            "tempfail@example.test",
            "bob@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 67, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results[0]["status"], "rejected");
    assert_eq!(results[1]["status"], "deferred");
    assert_eq!(results[2]["status"], "accepted");
    assert!(
        stderr(&out).contains("deferred and not queued (nothing will retry them; --queue DIR spools them): tempfail@example.test"),
        "{}",
        stderr(&out)
    );
    // With --queue the deferred one is spooled, and the status is still
    // the rejection's.
    let queue = mta.dir.path().join("q");
    let out = mta.send(
        &[
            "--queue",
            queue.to_str().unwrap(),
            "nosuch@example.test",
            "tempfail@example.test",
        ],
        MESSAGE,
    );
    assert_eq!(code(&out), 67, "{}", stderr(&out));
    assert!(!stderr(&out).contains("not queued"), "{}", stderr(&out));
    let entry = std::fs::read_to_string(queue_entry(&queue)).unwrap();
    assert!(
        entry
            .lines()
            .next()
            .unwrap()
            .contains("tempfail@example.test")
    );
}

#[test]
fn deferred_at_rcpt_and_accepted_is_75() {
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(&["tempfail@example.test", "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(stderr(&out).contains("not queued"), "{}", stderr(&out));
    mta.dovecot
        .wait_for_messages("bob", 1, Duration::from_secs(10));
}

/// smtp-send --json to a scripted server (no TLS) for `recipients`.
fn to_scripted(rules: Vec<(&'static str, &'static [u8])>, extra: &[&str]) -> std::process::Output {
    let url = format!("smtp://localhost:{}", scripted(rules));
    let mut args = vec![
        "--server",
        &url,
        "--tls",
        "none",
        "--timeout",
        "5",
        "--json",
    ];
    args.extend_from_slice(extra);
    run_tool(BIN, &args, MESSAGE)
}

// Exim refuses a message at DATA only by a policy the test Exim does not
// have: these pairs use a scripted server.
#[test]
fn rejected_at_rcpt_and_refused_at_data_is_67() {
    let out = to_scripted(
        vec![
            ("EHLO", b"250 scripted\r\n"),
            ("RCPT TO:<nosuch@", b"550 no such user\r\n"),
            ("DATA", b"554 no thanks\r\n"),
        ],
        &["nosuch@example.test", "bob@example.test"],
    );
    assert_eq!(code(&out), 67, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results[0]["status"], "rejected");
    assert_eq!(results[1]["status"], "rejected");
    assert_eq!(results[1]["reply"], "554 no thanks");
}

#[test]
fn deferred_at_rcpt_and_refused_at_data_is_69() {
    let out = to_scripted(
        vec![
            ("EHLO", b"250 scripted\r\n"),
            ("RCPT TO:<later@", b"451 try later\r\n"),
            ("DATA", b"554 no thanks\r\n"),
        ],
        &["later@example.test", "bob@example.test"],
    );
    assert_eq!(code(&out), 69, "{}", stderr(&out));
    let results = json_lines(&out);
    assert_eq!(results[0]["status"], "deferred");
    assert_eq!(results[1]["status"], "rejected");
    assert!(stderr(&out).contains("not queued"), "{}", stderr(&out));
}

#[test]
fn a_dsn_request_to_a_server_without_dsn_says_so() {
    let (port, lines) = Script::smtp(vec![("EHLO", b"250 scripted\r\n")]).start();
    let url = format!("smtp://localhost:{port}");
    let args = [
        "--server",
        &url,
        "--tls",
        "none",
        "--timeout",
        "5",
        "--json",
        "--notify",
        "SUCCESS,FAILURE",
        "--envid",
        "x1",
        "bob@example.test",
    ];
    let out = run_tool(BIN, &args, MESSAGE);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["dsn_ignored"], true);
    assert!(
        stderr(&out).contains("does not offer DSN: --notify, --ret and --envid were not sent"),
        "{}",
        stderr(&out)
    );
    let sent = lines.join().unwrap();
    assert!(
        !sent
            .iter()
            .any(|l| l.contains("NOTIFY=") || l.contains("ENVID=")),
        "{sent:?}"
    );
    // Exim offers DSN: no note, no field.
    let mta = Mta::start(EximOptions::default());
    let out = mta.send(
        &["--json", "--notify", "FAILURE", "bob@example.test"],
        MESSAGE,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0].get("dsn_ignored"), None);
    assert!(!stderr(&out).contains("DSN"), "{}", stderr(&out));
}

#[test]
fn a_domain_without_a_mail_route_mixed_with_other_results() {
    // MX delivery: example.test's MX is the Exim, nullmx.test has a null
    // MX (69), nothere.example.test does not exist (68).
    let mta = Mta::start(EximOptions::default());
    let records = "ns IN A 127.0.0.1\n@ IN MX 10 mx\nmx IN A 127.0.0.1\n";
    let nsd = common::nsd::Nsd::start(&[
        ("example.test", &zone("example.test", records)),
        ("nullmx.test", &zone("nullmx.test", "@ IN MX 0 .\n")),
    ]);
    let (port, dns) = (mta.exim.port.to_string(), nsd.address());
    let send = |recipients: &[&str]| {
        let mut args = vec!["--json", "--dns-server", &dns, "--port", &port];
        args.extend(["--timeout", "10"]);
        args.extend_from_slice(recipients);
        run_tool(BIN, &args, MESSAGE)
    };
    let cases = [
        (["x@nothere.example.test", "nosuch@example.test"], 67),
        (["x@nothere.example.test", "x@nullmx.test"], 68),
        (["x@nothere.example.test", "tempfail@example.test"], 68),
        (["x@nullmx.test", "tempfail@example.test"], 69),
    ];
    for (recipients, expected) in cases {
        let out = send(&recipients);
        assert_eq!(code(&out), expected, "{recipients:?}: {}", stderr(&out));
        let results = json_lines(&out);
        assert_eq!(results.len(), 2, "{}", stdout(&out));
        assert_eq!(results[0]["status"], "rejected", "{}", results[0]);
    }
}

#[test]
fn dry_run_with_json_is_one_object_per_message() {
    let dir = Scratch::new();
    let plain = dir.path().join("plain.eml");
    std::fs::write(&plain, MESSAGE).unwrap();
    let utf8 = dir.path().join("utf8.eml");
    let text = "From: Jörg <jörg@example.test>\nTo: bob@example.test\nSubject: Grüße\n\nHej då.\n";
    std::fs::write(&utf8, text).unwrap();
    let (plain, utf8) = (plain.to_str().unwrap(), utf8.to_str().unwrap());
    let args = ["--dry-run", "--json", "-t", "--file", plain, "--file", utf8];
    let out = run_tool(BIN, &args, b"");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let runs = json_lines(&out);
    assert_eq!(runs.len(), 2, "{}", stdout(&out));
    let first = &runs[0];
    assert_eq!(first["sender"], "alice@example.test");
    assert_eq!(first["recipients"], serde_json::json!(["bob@example.test"]));
    assert_eq!(first["eight_bit"], false);
    assert_eq!(first["smtputf8"], false);
    assert!(first["octets"].as_u64().unwrap() > MESSAGE.len() as u64);
    // The longest line is the added Message-ID's or a body line (24).
    let longest = first["longest_line"].as_u64().unwrap();
    assert!((24..=998).contains(&longest), "{first}");
    assert_eq!(
        first["commands"],
        serde_json::json!([
            "MAIL FROM:<alice@example.test>",
            "RCPT TO:<bob@example.test>"
        ])
    );
    let second = &runs[1];
    assert_eq!(second["sender"], "jörg@example.test");
    assert_eq!(
        (&second["eight_bit"], &second["smtputf8"]),
        (&true.into(), &true.into())
    );
    // Records only: the message itself is not written.
    assert!(!stdout(&out).contains("Hello Bob."), "{}", stdout(&out));
    // Refusals are the same as without --json.
    let out = run_tool(BIN, &["--dry-run", "--json", "a@b.example>"], MESSAGE);
    assert_eq!(code(&out), 65, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn errors_say_what_was_awaited_and_how_to_choose_otherwise() {
    // A server that accepts the connection and never greets: 75, and the
    // error says the greeting was awaited.
    let (port, _lines) = Script {
        banner: b"",
        rules: Vec::new(),
        otherwise: b"",
        connections: 1,
    }
    .start();
    let url = format!("smtp://localhost:{port}");
    let args = ["--server", &url, "--timeout", "1", "bob@example.test"];
    let out = run_tool(BIN, &args, MESSAGE);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("waiting for the greeting: reading from localhost:"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("timed out after 1 s"),
        "{}",
        stderr(&out)
    );

    // Required STARTTLS not offered: 76, and the way out is named.
    let (port, _lines) = Script::smtp(vec![("EHLO", b"250 scripted\r\n")]).start();
    let url = format!("smtp://localhost:{port}");
    let out = run_tool(BIN, &["--server", &url, "bob@example.test"], MESSAGE);
    assert_eq!(code(&out), 76, "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "smtp-send: error: localhost:{port} does not offer STARTTLS, which is required \
             by default; --tls opportunistic goes on without it, --tls none never asks\n"
        )
    );
}
