//! The IMAP client session (`mailkit::imap::session`) against a real
//! Dovecot on loopback, through STARTTLS and implicit TLS with the test
//! certificate: login, LIST with names in modified UTF-7, EXAMINE, UID
//! SEARCH and UID FETCH, and no `\Seen` set by any of it. A scripted
//! server covers what Dovecot does not do: PREAUTH, a BYE greeting, data
//! in an unusual order.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::dovecot::Dovecot;
use common::scripted::Script;
use mailkit::error::ErrorKind;
use mailkit::imap::response::{Envelope, Value, fetch_item};
use mailkit::imap::session::Session;
use mailkit::net::connection::{TlsMode, TlsSettings};
use mailkit::net::credentials::Secret;
use mailkit::net::session::{Endpoint, Login, Negotiation, negotiate};
use mailkit::net::transcript::Transcript;

/// The folders created beside INBOX: (Maildir++ directory name in
/// modified UTF-7, the name as shown).
const FOLDERS: [(&str, &str); 3] = [
    ("Entw&APw-rfe", "Entwürfe"),
    ("a \"quoted\" name", "a \"quoted\" name"),
    ("back\\slash", "back\\slash"),
];

/// A small message with a subject to find in the ENVELOPE.
fn message(i: usize) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.test>\nTo: alice@example.test\n\
         Subject: note {i}\nMessage-ID: <m{i}@example.test>\n\n\
         Body line of message {i}.\nAnother line.\n"
    )
    .into_bytes()
}

/// LF line ends as CRLF, as IMAP sends and counts them.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    for &b in data {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// An endpoint on 127.0.0.1 trusting the test certificate.
fn endpoint(dovecot: &Dovecot, port: u16, tls: TlsMode, password: &str) -> Endpoint {
    dovecot.endpoint(port, tls, password)
}

/// A negotiated session logged in as alice, its transcript kept in `log`.
fn logged_in(endpoint: &Endpoint, log: &Arc<Mutex<Vec<String>>>) -> Session {
    let transcript = Transcript::kept_in(Arc::clone(log));
    let mut session: Session = negotiate(endpoint, &(), transcript, &mut Negotiation::default())
        .expect("negotiate")
        .expect("a session");
    session
        .login(endpoint.login.as_ref().unwrap())
        .expect("login");
    session
}

/// A Maildir++ folder `.name` with its three directories, owned as the
/// Maildir is.
fn make_folder(maildir: &Path, name: &str) {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::metadata(maildir).expect("the Maildir");
    let folder = maildir.join(format!(".{name}"));
    for dir in [
        folder.clone(),
        folder.join("cur"),
        folder.join("new"),
        folder.join("tmp"),
    ] {
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
}

/// Dovecot with three messages in INBOX, one in `Entwürfe`, and the
/// three folders.
fn dovecot_with_mail() -> (Dovecot, Vec<Vec<u8>>) {
    let dovecot = Dovecot::start();
    let messages: Vec<Vec<u8>> = (1..=3).map(message).collect();
    for m in &messages {
        dovecot.deposit("alice", m);
    }
    let maildir = dovecot.maildir("alice");
    for (dir, _) in FOLDERS {
        make_folder(&maildir, dir);
    }
    let draft = maildir.join(".Entw&APw-rfe/new/1.M1P1.test");
    std::fs::write(&draft, message(9)).unwrap();
    (dovecot, messages)
}

#[test]
fn starttls_login_list_examine_search_fetch_and_nothing_marked_seen() {
    let (dovecot, messages) = dovecot_with_mail();
    let log = Arc::new(Mutex::new(Vec::new()));
    let endpoint = endpoint(&dovecot, dovecot.imap, TlsMode::StartTls, "alicepw");
    let mut session = logged_in(&endpoint, &log);
    assert!(session.connection().is_tls());
    assert!(
        !session.has("STARTTLS"),
        "capabilities asked again over TLS"
    );

    let folders = session.list().expect("LIST");
    let shown: Vec<&str> = folders.iter().map(|f| f.display.as_str()).collect();
    assert!(shown.contains(&"INBOX"), "{shown:?}");
    for (wire, display) in FOLDERS {
        let folder = folders
            .iter()
            .find(|f| f.name == wire.as_bytes())
            .unwrap_or_else(|| panic!("{wire:?} not in {shown:?}"));
        assert_eq!(folder.display, display);
        assert!(!folder.malformed);
        assert_eq!(folder.delimiter, Some('.'));
    }
    let inbox = folders.iter().find(|f| f.name == b"INBOX").unwrap();
    assert_eq!(inbox.messages, Some(3));
    assert_eq!(inbox.unseen, Some(3));
    let drafts = folders.iter().find(|f| f.display == "Entwürfe").unwrap();
    assert_eq!(drafts.messages, Some(1));
    assert_eq!(
        session.status(&session.wire_name("Entwürfe")).unwrap(),
        [("MESSAGES".to_string(), 1), ("UNSEEN".to_string(), 1)]
    );
    let missing = session.examine(&session.wire_name("Nowhere")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NoSuchRecipient, "{missing}");

    let examined = session.examine(b"INBOX").expect("EXAMINE");
    assert_eq!(examined.exists, 3);
    assert!(examined.uid_validity > 0);
    let uids = session.uid_search("ALL").expect("UID SEARCH");
    assert_eq!(uids.len(), 3);
    assert_eq!(examined.uid_next, Some(uids[2] + 1));

    let fetched = session
        .uid_fetch("1:*", "(UID FLAGS RFC822.SIZE ENVELOPE)")
        .expect("UID FETCH");
    assert_eq!(fetched.len(), 3);
    for (i, fetch) in fetched.iter().enumerate() {
        let uid = fetch_item(&fetch.items, "UID").and_then(Value::as_number);
        assert_eq!(uid, Some(u64::from(uids[i])));
        let size = fetch_item(&fetch.items, "RFC822.SIZE").and_then(Value::as_number);
        assert_eq!(size, Some(crlf(&messages[i]).len() as u64));
        let envelope = Envelope::from_value(fetch_item(&fetch.items, "ENVELOPE").unwrap()).unwrap();
        assert_eq!(
            envelope.subject,
            Some(format!("note {}", i + 1).into_bytes())
        );
        assert_eq!(envelope.from[0].host.as_deref(), Some(&b"example.test"[..]));
        let flags = fetch_item(&fetch.items, "FLAGS").and_then(Value::as_atoms);
        assert!(!flags.unwrap().contains(&"\\Seen"));
    }
    let refused = session.uid_fetch("1:*", "(BODY[])").unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::BadInput);
    let bodies = session
        .uid_fetch(&uids[0].to_string(), "BODY.PEEK[]")
        .expect("BODY.PEEK");
    let body = fetch_item(&bodies[0].items, "BODY[]").and_then(Value::as_bytes);
    assert_eq!(body, Some(&crlf(&messages[0])[..]));
    session.logout().expect("LOGOUT");

    let transcript = log.lock().unwrap().join("\n");
    assert!(!transcript.contains("alicepw"), "{transcript}");
    for command in ["SELECT", "STORE", "EXPUNGE", "APPEND"] {
        let sent = format!(" {command} ");
        assert!(!transcript.contains(&sent), "{command} sent:\n{transcript}");
    }
    assert_no_seen(&dovecot, &endpoint);
}

/// A second session sees no `\Seen` on any INBOX message, and no Maildir
/// file carries the `S` flag.
fn assert_no_seen(dovecot: &Dovecot, endpoint: &Endpoint) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut session = logged_in(endpoint, &log);
    session.examine(b"INBOX").unwrap();
    let fetched = session.uid_fetch("1:*", "(FLAGS)").unwrap();
    assert_eq!(fetched.len(), 3);
    for fetch in fetched {
        let flags = fetch_item(&fetch.items, "FLAGS").and_then(Value::as_atoms);
        assert!(!flags.unwrap().contains(&"\\Seen"));
    }
    session.logout().unwrap();
    let cur = std::fs::read_dir(dovecot.maildir("alice").join("cur")).unwrap();
    for entry in cur.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let flags = name.rsplit_once(":2,").map(|(_, f)| f).unwrap_or("");
        assert!(!flags.contains('S'), "{name}");
    }
}

#[test]
fn imaps_login_and_wrong_password() {
    let dovecot = Dovecot::start();
    dovecot.deposit("alice", &message(1));
    let log = Arc::new(Mutex::new(Vec::new()));
    let good = endpoint(&dovecot, dovecot.imaps, TlsMode::Implicit, "alicepw");
    let mut session = logged_in(&good, &log);
    assert!(session.connection().is_tls());
    assert_eq!(session.examine(b"INBOX").unwrap().exists, 1);
    let mut text = Vec::new();
    let fetched = session
        .uid_fetch_to("1:*", "(UID BODY.PEEK[])", &mut text)
        .unwrap();
    assert_eq!(fetched.len(), 1);
    let streamed = fetch_item(&fetched[0].items, "BODY[]");
    assert_eq!(streamed, Some(&Value::Streamed(text.len() as u64)));
    assert_eq!(text, crlf(&message(1)));
    session.logout().unwrap();

    let bad = endpoint(&dovecot, dovecot.imaps, TlsMode::Implicit, "wrong");
    let mut session: Session = negotiate(&bad, &(), Transcript::off(), &mut Negotiation::default())
        .unwrap()
        .unwrap();
    let error = session.login(bad.login.as_ref().unwrap()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthRefused, "{error}");
    assert_eq!(error.status().code(), 77);
}

/// A scripted endpoint without TLS or login.
fn plain(port: u16, tls: TlsMode) -> Endpoint {
    Endpoint {
        host: "127.0.0.1".into(),
        port,
        tls,
        certificate: TlsSettings::default(),
        tls_name: None,
        timeout: Duration::from_secs(5),
        login: None,
        allow_plaintext_auth: true,
    }
}

fn scripted(
    banner: &'static [u8],
    rules: Vec<(&'static str, &'static [u8])>,
) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    Script {
        banner,
        rules,
        otherwise: b"* BAD what\r\n",
        connections: 1,
    }
    .start()
}

/// A session with a scripted server on `port`, without TLS, not logged in.
fn scripted_session(port: u16) -> Session {
    negotiate(
        &plain(port, TlsMode::None),
        &(),
        Transcript::off(),
        &mut Negotiation::default(),
    )
    .unwrap()
    .unwrap()
}

/// alice with the password the scripted servers take.
fn alice() -> Login {
    Login {
        user: "alice".into(),
        secret: Secret::new("pw".into()),
        oauth: false,
    }
}

#[test]
fn preauth_with_required_starttls_is_refused_before_anything_else() {
    let (port, handle) = scripted(
        b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] logged in\r\n",
        vec![
            (
                "a1 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n",
            ),
            ("a2 LOGOUT", b"* BYE bye\r\na2 OK done\r\n"),
        ],
    );
    let error = negotiate::<Session>(
        &plain(port, TlsMode::StartTls),
        &(),
        Transcript::off(),
        &mut Negotiation::default(),
    )
    .err()
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
    let sent = handle.join().unwrap();
    assert_eq!(sent, ["a1 CAPABILITY"]);
}

#[test]
fn a_bye_greeting_is_refused_by_its_code() {
    let (port, _) = scripted(b"* BYE [UNAVAILABLE] busy\r\n", vec![]);
    let error = negotiate::<Session>(
        &plain(port, TlsMode::None),
        &(),
        Transcript::off(),
        &mut Negotiation::default(),
    )
    .err()
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::Deferred, "{error}");
    let (port, _) = scripted(b"* BYE go away\r\n", vec![]);
    let error = negotiate::<Session>(
        &plain(port, TlsMode::None),
        &(),
        Transcript::off(),
        &mut Negotiation::default(),
    )
    .err()
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::Refused, "{error}");
}

#[test]
fn untagged_data_in_any_order_and_unknown_data_are_read() {
    let (port, handle) = scripted(
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+ LOGINDISABLED] hi\r\n",
        vec![
            ("a1 CAPABILITY", b"* CAPABILITY IMAP4rev1 LITERAL+ LOGINDISABLED\r\na1 OK\r\n"),
            (
                "a2 EXAMINE",
                b"* OK [UIDNEXT 9] x\r\n* XUNKNOWN (1 2 \"three\")\r\n* 4 EXISTS\r\n\
                  * FLAGS (\\Seen)\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 77] y\r\na2 OK [READ-ONLY] z\r\n",
            ),
            ("a3 LOGOUT", b"* BYE bye\r\na3 OK done\r\n"),
        ],
    );
    let mut session = scripted_session(port);
    let login = alice();
    let refused = session.login(&login).unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::AuthRefused);
    assert!(refused.to_string().contains("LOGINDISABLED"), "{refused}");
    let examined = session.examine(&session.wire_name("Entwürfe")).unwrap();
    assert_eq!(
        (examined.uid_validity, examined.exists, examined.uid_next),
        (77, 4, Some(9))
    );
    session.logout().unwrap();
    let sent = handle.join().unwrap();
    assert_eq!(
        sent,
        ["a1 CAPABILITY", "a2 EXAMINE \"Entw&APw-rfe\"", "a3 LOGOUT"]
    );
}

#[test]
fn login_sends_user_and_password_as_strings_never_raw() {
    let (port, handle) = scripted(
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n",
        vec![
            (
                "a1 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK\r\n",
            ),
            (
                "a2 LOGIN",
                b"a2 OK [CAPABILITY IMAP4rev1 LIST-STATUS] in\r\n",
            ),
            ("a3 LOGOUT", b"* BYE bye\r\na3 OK done\r\n"),
        ],
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    let endpoint = plain(port, TlsMode::None);
    let transcript = Transcript::kept_in(Arc::clone(&log));
    let mut session: Session = negotiate(&endpoint, &(), transcript, &mut Negotiation::default())
        .unwrap()
        .unwrap();
    let login = Login {
        user: "al ice".into(),
        secret: Secret::new("p\u{e4}\"ss".into()),
        oauth: false,
    };
    session.login(&login).unwrap();
    assert!(session.has("LIST-STATUS"), "capabilities of the tagged OK");
    session.logout().unwrap();
    let sent = handle.join().unwrap();
    assert_eq!(sent[1], "a2 LOGIN \"al ice\" {6+}");
    assert_eq!(sent[2], "p\u{e4}\"ss");
    assert_eq!(sent[3], "a3 LOGOUT");
    let transcript = log.lock().unwrap().join("\n");
    assert!(!transcript.contains("p\u{e4}"), "{transcript}");
}

#[test]
fn authenticate_answers_each_challenge_without_sasl_ir() {
    let (port, handle) = scripted(
        b"* OK [CAPABILITY IMAP4rev1 AUTH=LOGIN] hi\r\n",
        vec![
            (
                "a1 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 AUTH=LOGIN\r\na1 OK\r\n",
            ),
            ("a2 AUTHENTICATE LOGIN", b"+ VXNlcm5hbWU6\r\n"),
            ("YWxpY2U=", b"+ UGFzc3dvcmQ6\r\n"),
            (
                "cHc=",
                b"* CAPABILITY IMAP4rev1 SPECIAL-USE\r\na2 OK in\r\n",
            ),
            (
                "a3 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 SPECIAL-USE\r\na3 OK\r\n",
            ),
            ("a4 LOGOUT", b"* BYE bye\r\na4 OK done\r\n"),
        ],
    );
    let mut session = scripted_session(port);
    let login = alice();
    session.login(&login).unwrap();
    assert!(session.has("SPECIAL-USE"));
    session.logout().unwrap();
    let sent = handle.join().unwrap();
    assert_eq!(
        sent,
        [
            "a1 CAPABILITY",
            "a2 AUTHENTICATE LOGIN",
            "YWxpY2U=",
            "cHc=",
            "a3 CAPABILITY",
            "a4 LOGOUT"
        ]
    );
}

#[test]
fn without_list_status_each_folder_gets_a_status() {
    let (port, handle) = scripted(
        b"* OK [CAPABILITY IMAP4rev1] hi\r\n",
        vec![
            (
                "a1 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 SPECIAL-USE\r\na1 OK\r\n",
            ),
            (
                "a2 LIST",
                b"* LIST (\\Noselect) \"/\" top\r\n* LIST () \"/\" inbox\r\n\
                  * LIST (\\Sent) \"/\" \"top/Entw&APw-rfe\"\r\n* LIST () \"/\" gone\r\na2 OK\r\n",
            ),
            (
                "a3 STATUS",
                b"* STATUS inbox (MESSAGES 2 UNSEEN 1)\r\na3 OK\r\n",
            ),
            (
                "a4 STATUS",
                b"* STATUS \"top/Entw&APw-rfe\" (UNSEEN 0 MESSAGES 5)\r\na4 OK\r\n",
            ),
            ("a5 STATUS", b"a5 NO [NONEXISTENT] no such\r\n"),
            ("a6 LOGOUT", b"* BYE bye\r\na6 OK done\r\n"),
        ],
    );
    let mut session = scripted_session(port);
    let folders = session.list().unwrap();
    let counts: Vec<(&str, Option<u64>, Option<u64>)> = folders
        .iter()
        .map(|f| (f.display.as_str(), f.messages, f.unseen))
        .collect();
    assert_eq!(
        counts,
        [
            ("top", None, None),
            ("INBOX", Some(2), Some(1)),
            ("top/Entwürfe", Some(5), Some(0)),
            ("gone", None, None),
        ]
    );
    assert_eq!(folders[2].flags, ["\\Sent"]);
    assert_eq!(folders[2].delimiter, Some('/'));
    session.logout().unwrap();
    let sent = handle.join().unwrap();
    assert_eq!(sent[1], "a2 LIST \"\" \"*\"");
    assert_eq!(sent[3], "a4 STATUS \"top/Entw&APw-rfe\" (MESSAGES UNSEEN)");
}

#[test]
fn after_enable_utf8_accept_names_go_as_utf8() {
    let (port, handle) = scripted(
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+ ENABLE UTF8=ACCEPT] hi\r\n",
        vec![
            (
                "a1 CAPABILITY",
                b"* CAPABILITY IMAP4rev1 LITERAL+ ENABLE UTF8=ACCEPT\r\na1 OK\r\n",
            ),
            ("a2 ENABLE", b"* ENABLED UTF8=ACCEPT\r\na2 OK\r\n"),
            (
                "a3 EXAMINE",
                b"* 0 EXISTS\r\n* OK [UIDVALIDITY 5] v\r\na3 OK [READ-ONLY] done\r\n",
            ),
            ("a4 LOGOUT", b"* BYE bye\r\na4 OK done\r\n"),
        ],
    );
    let mut session = scripted_session(port);
    assert!(session.enable_utf8().unwrap());
    assert_eq!(session.wire_name("Entwürfe"), "Entwürfe".as_bytes());
    let examined = session.examine(&session.wire_name("Entwürfe")).unwrap();
    assert_eq!((examined.exists, examined.uid_next), (0, None));
    session.logout().unwrap();
    let sent = handle.join().unwrap();
    assert_eq!(sent[1], "a2 ENABLE UTF8=ACCEPT");
    assert_eq!(sent[2], "a3 EXAMINE {9+}");
    assert_eq!(sent[3], "Entwürfe");
}
