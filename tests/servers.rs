//! The mail server harness itself: Dovecot and Exim started by the tests,
//! spoken to with hand-written protocol conversations (no mailkit code), so
//! that later tests of mail clients can rely on them.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::dovecot::Dovecot;
use common::exim::{Exim, EximOptions};

/// A line-oriented conversation over any stream (plain TCP or TLS).
struct Session<S: Read + Write> {
    stream: S,
}

/// A reply: its code and the text of each line (after `NNN-` / `NNN `).
#[derive(Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl<S: Read + Write> Session<S> {
    /// One line without its CRLF (read byte by byte, so that nothing is
    /// buffered when the stream changes hands at STARTTLS).
    fn line(&mut self) -> String {
        let mut line = Vec::new();
        let mut byte = [0u8];
        loop {
            match self.stream.read(&mut byte) {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) => line.push(byte[0]),
                Ok(_) => panic!("connection closed after {line:?}"),
                // A socket read with a timeout can fail with EINTR after the
                // process was stopped and continued, even without handlers.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => panic!("read failed after {line:?}: {e}"),
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8(line).expect("a UTF-8 line")
    }

    /// A whole SMTP reply, multi-line or not.
    fn reply(&mut self) -> Reply {
        let mut lines = Vec::new();
        loop {
            let line = self.line();
            assert!(line.len() >= 4, "short reply line {line:?}");
            let code: u16 = line[..3].parse().expect("a reply code");
            lines.push(line[4..].to_string());
            if line.as_bytes()[3] == b' ' {
                return Reply { code, lines };
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("write");
    }

    fn command(&mut self, command: &str) -> Reply {
        self.send(format!("{command}\r\n").as_bytes());
        self.reply()
    }

    /// Sends a command and asserts the reply code.
    fn expect(&mut self, command: &str, code: u16) -> Reply {
        let reply = self.command(command);
        assert_eq!(reply.code, code, "{command} → {reply:?}");
        reply
    }
}

/// A stream whose TCP connection can be half-closed.
trait HalfClose {
    fn tcp(&self) -> &TcpStream;
}

impl HalfClose for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

impl HalfClose for openssl::ssl::SslStream<TcpStream> {
    fn tcp(&self) -> &TcpStream {
        self.get_ref()
    }
}

impl<S: Read + Write + HalfClose> Session<S> {
    /// QUIT, then half-close the TCP connection: Exim holds its 221 back
    /// for up to 200 ms, waiting for the client to close first.
    fn quit(&mut self) {
        self.send(b"QUIT\r\n");
        self.stream
            .tcp()
            .shutdown(std::net::Shutdown::Write)
            .unwrap();
        let reply = self.reply();
        assert_eq!(reply.code, 221, "QUIT → {reply:?}");
    }
}

fn connect(port: u16) -> Session<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    Session { stream }
}

/// Connects to Exim and says EHLO; returns the session and the EHLO
/// keywords (the lines after the first).
fn ehlo(exim: &Exim) -> (Session<TcpStream>, Vec<String>) {
    let mut smtp = connect(exim.port);
    let banner = smtp.reply();
    assert_eq!(banner.code, 220, "{banner:?}");
    assert!(
        banner.text().starts_with("mx.example.test ESMTP Exim"),
        "{banner:?}"
    );
    let reply = smtp.expect("EHLO client.test", 250);
    let keywords = reply.lines[1..].to_vec();
    (smtp, keywords)
}

fn base64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn exim_advertises_extensions_and_delivers_into_dovecot() {
    let dovecot = Dovecot::start();
    let exim = Exim::start(&dovecot, EximOptions::default());
    let (mut smtp, keywords) = ehlo(&exim);
    for wanted in [
        "SIZE 1048576",
        "8BITMIME",
        "PIPELINING",
        "CHUNKING",
        "DSN",
        "SMTPUTF8",
        "STARTTLS",
        "AUTH PLAIN LOGIN",
    ] {
        assert!(
            keywords.iter().any(|k| k == wanted),
            "EHLO lacks {wanted}: {keywords:?}"
        );
    }
    smtp.expect("MAIL FROM:<alice@example.test>", 250);
    smtp.expect("RCPT TO:<bob@example.test>", 250);
    smtp.expect("DATA", 354);
    smtp.send(
        b"From: Alice <alice@example.test>\r\n\
          To: Bob <bob@example.test>\r\n\
          Subject: harness test\r\n\
          Date: Mon, 01 Jan 2024 00:00:00 +0000\r\n\
          Message-ID: <harness-1@example.test>\r\n\
          \r\n\
          Hello Bob.\r\n\
          ..a line that started with a dot\r\n\
          Bye.\r\n\
          .\r\n",
    );
    let queued = smtp.reply();
    assert_eq!(queued.code, 250, "{queued:?}");
    assert!(queued.text().starts_with("OK id="), "{queued:?}");
    smtp.quit();

    let messages = dovecot.wait_for_messages("bob", 1, WAIT);
    assert_eq!(messages.len(), 1);
    let message = String::from_utf8(messages[0].clone()).unwrap();
    // Dovecot stores LF line ends; Exim and Dovecot prepend trace headers.
    let original = "From: Alice <alice@example.test>\n\
                    To: Bob <bob@example.test>\n\
                    Subject: harness test\n\
                    Date: Mon, 01 Jan 2024 00:00:00 +0000\n\
                    Message-ID: <harness-1@example.test>\n\
                    \n\
                    Hello Bob.\n\
                    .a line that started with a dot\n\
                    Bye.\n";
    assert!(
        message.ends_with(original),
        "delivered message differs:\n{message}\nExim log:\n{}",
        exim.log()
    );
    assert!(
        message.starts_with("Return-Path: <alice@example.test>\n"),
        "{message}"
    );
    assert!(
        message.contains("Delivered-To: bob@example.test\n"),
        "{message}"
    );
    assert!(dovecot.delivered("alice").is_empty());
    exim.wait_for_log("=> bob@example.test", WAIT);
}

#[test]
fn exim_rejects_unknown_users_relaying_and_oversized_mail() {
    let dovecot = Dovecot::start();
    let exim = Exim::start(&dovecot, EximOptions::default());
    let (mut smtp, _) = ehlo(&exim);
    // Over the limit by the declared size: refused at MAIL.
    let size = smtp.command("MAIL FROM:<alice@example.test> SIZE=1048577");
    assert_eq!(size.code, 552, "{size:?}");
    assert_eq!(size.text(), "Message size exceeds maximum permitted");
    smtp.expect("MAIL FROM:<alice@example.test> SIZE=1000", 250);
    let unknown = smtp.command("RCPT TO:<nosuch@example.test>");
    assert_eq!(unknown.code, 550, "{unknown:?}");
    assert_eq!(unknown.text(), "Unrouteable address");
    let relay = smtp.command("RCPT TO:<carol@elsewhere.test>");
    assert_eq!(relay.code, 550, "{relay:?}");
    assert_eq!(relay.text(), "relay not permitted");
    let tempfail = smtp.command("RCPT TO:<tempfail@example.test>");
    assert_eq!(tempfail.code, 450, "{tempfail:?}");
    assert_eq!(
        tempfail.text(),
        "Temporary failure for <tempfail@example.test> (test)"
    );
    // The transaction is still open and a good recipient is accepted.
    smtp.expect("RCPT TO:<Bob@Example.TEST>", 250);
    smtp.expect("RSET", 250);
    smtp.quit();
}

#[test]
fn exim_refuses_a_message_over_the_size_limit_after_data() {
    let dovecot = Dovecot::start();
    let options = EximOptions {
        size_limit: 10_000,
        ..EximOptions::default()
    };
    let exim = Exim::start(&dovecot, options);
    let (mut smtp, keywords) = ehlo(&exim);
    assert!(keywords.iter().any(|k| k == "SIZE 10000"), "{keywords:?}");
    smtp.expect("MAIL FROM:<alice@example.test>", 250);
    smtp.expect("RCPT TO:<bob@example.test>", 250);
    smtp.expect("DATA", 354);
    let mut message = b"Subject: big\r\n\r\n".to_vec();
    for _ in 0..200 {
        message.extend_from_slice(&[b'x'; 98]);
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b".\r\n");
    smtp.send(&message);
    let refused = smtp.reply();
    assert_eq!(refused.code, 552, "{refused:?}");
    smtp.quit();
    exim.wait_for_log("message too big: read=", WAIT);
    assert!(dovecot.delivered("bob").is_empty());
}

#[test]
fn exim_without_starttls_does_not_offer_it() {
    let dovecot = Dovecot::start();
    let options = EximOptions {
        starttls: false,
        ..EximOptions::default()
    };
    let exim = Exim::start(&dovecot, options);
    let (mut smtp, keywords) = ehlo(&exim);
    assert!(!keywords.iter().any(|k| k == "STARTTLS"), "{keywords:?}");
    assert!(
        keywords.iter().any(|k| k == "AUTH PLAIN LOGIN"),
        "{keywords:?}"
    );
    smtp.expect("STARTTLS", 503);
    smtp.quit();
}

#[test]
fn exim_starttls_then_auth_plain_with_auth_only_after_tls() {
    let dovecot = Dovecot::start();
    let options = EximOptions {
        auth_before_tls: false,
        ..EximOptions::default()
    };
    let exim = Exim::start(&dovecot, options);
    let (mut smtp, keywords) = ehlo(&exim);
    assert!(keywords.iter().any(|k| k == "STARTTLS"), "{keywords:?}");
    assert!(
        !keywords.iter().any(|k| k.starts_with("AUTH")),
        "{keywords:?}"
    );
    smtp.expect("AUTH PLAIN AGFsaWNlAGFsaWNlcHc=", 503);
    let go = smtp.expect("STARTTLS", 220);
    assert_eq!(go.text(), "TLS go ahead");

    let pem = std::fs::read(&exim.cert).unwrap();
    let mut connector =
        openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls()).unwrap();
    let trusted = openssl::x509::X509::from_pem(&pem).unwrap();
    connector.cert_store_mut().add_cert(trusted).unwrap();
    let connector = connector.build();
    let tls = connector
        .connect("localhost", smtp.stream)
        .unwrap_or_else(|e| panic!("TLS handshake failed: {e}\n{}", exim.log()));
    let mut smtp = Session { stream: tls };
    let reply = smtp.expect("EHLO client.test", 250);
    let keywords = &reply.lines[1..];
    assert!(!keywords.iter().any(|k| k == "STARTTLS"), "{keywords:?}");
    assert!(
        keywords.iter().any(|k| k == "AUTH PLAIN LOGIN"),
        "{keywords:?}"
    );
    let bad = smtp.command(&format!("AUTH PLAIN {}", base64(b"\0alice\0wrong")));
    assert_eq!(bad.code, 535, "{bad:?}");
    assert_eq!(bad.text(), "Incorrect authentication data");
    let good = smtp.command(&format!("AUTH PLAIN {}", base64(b"\0alice\0alicepw")));
    assert_eq!(good.code, 235, "{good:?}");
    assert_eq!(good.text(), "Authentication succeeded");
    smtp.quit();
}

#[test]
fn exim_auth_login_relays_to_other_domains_and_sees_new_users() {
    let dovecot = Dovecot::start();
    dovecot.add_user("dave", "davepw");
    let exim = Exim::start(&dovecot, EximOptions::default());
    let (mut smtp, _) = ehlo(&exim);
    smtp.expect("AUTH LOGIN", 334);
    smtp.expect(&base64(b"bob"), 334);
    smtp.expect(&base64(b"bobpw"), 235);
    smtp.expect("MAIL FROM:<bob@example.test>", 250);
    smtp.expect("RCPT TO:<carol@elsewhere.test>", 250);
    smtp.expect("RCPT TO:<dave@example.test>", 250);
    // A user added after the start is known at once.
    dovecot.add_user("erin", "erinpw");
    smtp.expect("RCPT TO:<erin@example.test>", 250);
    smtp.expect("DATA", 354);
    smtp.send(b"Subject: relayed\r\n\r\nHi.\r\n.\r\n");
    assert_eq!(smtp.reply().code, 250);
    smtp.quit();
    let relayed = dovecot.wait_for_messages("relay", 1, WAIT);
    let relayed = String::from_utf8_lossy(&relayed[0]);
    // Exim adds the header at the end of the header section.
    assert!(
        relayed.ends_with("Subject: relayed\nX-Relayed-To: carol@elsewhere.test\n\nHi.\n"),
        "{relayed}"
    );
    for user in ["dave", "erin"] {
        let mine = dovecot.wait_for_messages(user, 1, WAIT);
        assert!(!String::from_utf8_lossy(&mine[0]).contains("X-Relayed-To"));
    }
}

#[test]
fn exim_requires_auth_when_asked() {
    let dovecot = Dovecot::start();
    let options = EximOptions {
        require_auth: true,
        tempfail: Vec::new(),
        ..EximOptions::default()
    };
    let exim = Exim::start(&dovecot, options);
    let (mut smtp, _) = ehlo(&exim);
    let refused = smtp.command("MAIL FROM:<alice@example.test>");
    assert_eq!(refused.code, 530, "{refused:?}");
    assert_eq!(refused.text(), "Authentication required");
    smtp.expect(&format!("AUTH PLAIN {}", base64(b"\0alice\0alicepw")), 235);
    smtp.expect("MAIL FROM:<alice@example.test>", 250);
    // With no tempfail local parts, "tempfail" is just an unknown user.
    smtp.expect("RCPT TO:<tempfail@example.test>", 550);
    smtp.quit();
}

#[test]
fn dovecot_greets_and_logs_in_on_pop3_and_imap() {
    let dovecot = Dovecot::start();
    dovecot.deposit("alice", b"Subject: hi\n\nHello Alice.\n");
    dovecot.add_user("frank", "frankpw");

    let mut pop3 = connect(dovecot.pop3);
    let greeting = pop3.line();
    assert!(greeting.starts_with("+OK Dovecot"), "{greeting}");
    for (command, answer) in [
        ("USER alice", "+OK"),
        ("PASS alicepw", "+OK Logged in."),
        ("STAT", "+OK 1 "),
        ("QUIT", "+OK"),
    ] {
        pop3.send(format!("{command}\r\n").as_bytes());
        let line = pop3.line();
        assert!(line.starts_with(answer), "{command} → {line}");
    }

    let mut imap = connect(dovecot.imap);
    let greeting = imap.line();
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1"),
        "{greeting}"
    );
    assert!(greeting.contains("STARTTLS"), "{greeting}");
    imap.send(b"a LOGIN frank frankpw\r\n");
    let login = imap.line();
    assert!(login.starts_with("a OK"), "{login}");
    imap.send(b"b LOGIN bob wrong\r\n");
    let again = imap.line();
    assert!(
        again.starts_with("b BAD") || again.starts_with("b NO"),
        "{again}"
    );
    imap.send(b"c LOGOUT\r\n");
    assert!(imap.line().starts_with("* BYE"));
}
