//! SASL (RFC 4422): which mechanism to use, what to send, and the client
//! side of an exchange as a step function ([`Client`]: challenge in,
//! response out) that the SMTP (RFC 4954), POP3 (RFC 5034) and IMAP (RFC
//! 3501 §6.2.2) sessions drive alike; APOP (RFC 1939 §7) beside it.
//! Everything here is text ready to send.
//!
//! What is returned carries the password or token: send it with
//! [`crate::net::connection::Connection::write_secret_line`].

use base64::Engine as _;

use crate::error::Error;
use base64::engine::general_purpose::STANDARD;

/// A SASL mechanism mailkit can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// Google's and Microsoft's OAuth 2.0 bearer token mechanism.
    XOAuth2,
    /// OAuth 2.0 bearer token, RFC 7628.
    OAuthBearer,
    /// User and password in one message, RFC 4616.
    Plain,
    /// User, then password, each on request (draft-murchison-sasl-login).
    Login,
}

impl Mechanism {
    /// The registered name, as sent after `AUTH`/`AUTHENTICATE`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }

    /// True for the mechanisms that take an OAuth token, not a password.
    pub fn uses_token(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }
}

impl std::fmt::Display for Mechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Preference order with an OAuth token: the standard one first.
const WITH_TOKEN: [Mechanism; 2] = [Mechanism::OAuthBearer, Mechanism::XOAuth2];
/// Preference order with a password.
const WITH_PASSWORD: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// The strongest offered mechanism usable with what we have: with an OAuth
/// token (`oauth`), OAUTHBEARER (RFC 7628) then XOAUTH2; with a password, PLAIN then
/// LOGIN. Offered names are compared case-insensitively (RFC 4422 §3.1).
pub fn choose(offered: &[String], oauth: bool) -> Option<Mechanism> {
    let candidates = if oauth { WITH_TOKEN } else { WITH_PASSWORD };
    candidates
        .into_iter()
        .find(|m| offered.iter().any(|o| o.eq_ignore_ascii_case(m.name())))
}

/// PLAIN's initial response: base64 of `NUL user NUL password` (RFC 4616
/// §2, no authorization identity).
pub fn plain(user: &str, password: &str) -> String {
    encode(format!("\0{user}\0{password}"))
}

/// LOGIN's answer to the user name challenge: the user in base64.
pub fn login_user(user: &str) -> String {
    encode(user.to_owned())
}

/// LOGIN's answer to the password challenge: the password in base64.
pub fn login_password(password: &str) -> String {
    encode(password.to_owned())
}

/// XOAUTH2's initial response: base64 of `user=U ^A auth=Bearer T ^A ^A`
/// (Google's "OAuth 2.0 Mechanism" page).
pub fn xoauth2(user: &str, token: &str) -> String {
    encode(format!("user={user}\x01auth=Bearer {token}\x01\x01"))
}

/// OAUTHBEARER's initial response (RFC 7628 §3.1): the GS2 header with the
/// user as authorization identity (RFC 5801 §4 escaping), then host, port
/// and the bearer token.
pub fn oauthbearer(user: &str, token: &str, host: &str, port: u16) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    encode(format!(
        "n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    ))
}

/// A server challenge decoded for a message (an XOAUTH2 or OAUTHBEARER
/// failure is a base64 JSON error, RFC 7628 §3.2.2); `None` when it is not
/// base64 or not UTF-8. The text comes from the server: make it printable
/// before showing it.
pub fn decode_challenge(challenge: &str) -> Option<String> {
    let bytes = STANDARD.decode(challenge.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

/// The client's answer to an OAuth error challenge, after which the server
/// sends its final refusal: `AQ==` (one %x01, RFC 7628 §3.2.3) for
/// OAUTHBEARER, an empty line for XOAUTH2 (as Google documents it).
pub fn oauth_error_reply(mechanism: Mechanism) -> &'static str {
    match mechanism {
        Mechanism::OAuthBearer => "AQ==",
        _ => "",
    }
}

/// What an OAuth error challenge (base64 JSON, RFC 7628 §3.2.2) says, in
/// a few words: `status 401, scope https://mail.google.com/`; `None` when
/// it is not such a challenge.
pub fn oauth_error_text(challenge: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(&decode_challenge(challenge)?).ok()?;
    let fields: Vec<String> = ["status", "scope"]
        .iter()
        .filter_map(|key| Some(format!("{key} {}", json.get(*key)?.as_str()?)))
        .collect();
    Some(fields.join(", "))
}

/// One line the client sends in a SASL exchange (base64 text, or empty),
/// and whether it carries the secret (shown as `****` in the transcript).
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    /// The line to send.
    pub line: String,
    /// True when `line` holds the password or token.
    pub secret: bool,
}

/// The client side of one SASL exchange (RFC 4422 §3), driven by any
/// protocol: SMTP AUTH (`334 ` challenges, RFC 4954), POP3 AUTH (`+ `,
/// RFC 5034) and IMAP AUTHENTICATE (`+ `, RFC 3501 §6.2.2). The protocol
/// sends the mechanism name, with [`Client::initial_response`] when the
/// server takes one (SASL-IR, RFC 4959), then answers each challenge with
/// [`Client::respond`] until the server's final reply.
pub struct Client {
    mechanism: Mechanism,
    initial: Option<String>,
    login_steps: Vec<String>,
    challenges: usize,
    oauth_error: Option<String>,
}

impl Client {
    /// An exchange of `mechanism` for `user` with `secret` (a password,
    /// or an OAuth token); `host` and `port` are the server's as connected
    /// to (OAUTHBEARER sends them, RFC 7628 §3.1).
    pub fn new(mechanism: Mechanism, user: &str, secret: &str, host: &str, port: u16) -> Client {
        let (initial, login_steps) = match mechanism {
            Mechanism::Plain => (Some(plain(user, secret)), Vec::new()),
            Mechanism::XOAuth2 => (Some(xoauth2(user, secret)), Vec::new()),
            Mechanism::OAuthBearer => (Some(oauthbearer(user, secret, host, port)), Vec::new()),
            Mechanism::Login => (None, vec![login_password(secret), login_user(user)]),
        };
        Client {
            mechanism,
            initial,
            login_steps,
            challenges: 0,
            oauth_error: None,
        }
    }

    /// The mechanism of this exchange.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The initial response to send with the mechanism name, for the
    /// mechanisms that have one; taken once (a later empty challenge gets
    /// it instead when the protocol cannot send it at once).
    pub fn initial_response(&mut self) -> Option<Response> {
        self.initial
            .take()
            .map(|line| Response { line, secret: true })
    }

    /// The answer to a server challenge (its base64 text). LOGIN answers
    /// the user, then the password; a mechanism whose initial response was
    /// not sent yet sends it now; a challenge after an OAuth initial
    /// response is an error report (RFC 7628 §3.2.2), answered with
    /// [`oauth_error_reply`] and kept for [`Client::oauth_error`]. More
    /// challenges than the mechanism has steps are a protocol error.
    pub fn respond(&mut self, challenge: &str) -> Result<Response, Error> {
        self.challenges += 1;
        if let Some(response) = self.initial_response() {
            return Ok(response);
        }
        if let Some(line) = self.login_steps.pop() {
            return Ok(Response { line, secret: true });
        }
        if self.mechanism.uses_token() && self.oauth_error.is_none() {
            self.oauth_error = Some(oauth_error_text(challenge).unwrap_or_default());
            let line = oauth_error_reply(self.mechanism).to_owned();
            return Ok(Response {
                line,
                secret: false,
            });
        }
        Err(Error::protocol(format!(
            "{}: the server sent {} challenges, more than the mechanism has steps",
            self.mechanism, self.challenges
        )))
    }

    /// What an OAuth error challenge said (`status 401, scope ...`), once
    /// one came; empty when it was not readable.
    pub fn oauth_error(&self) -> Option<&str> {
        self.oauth_error.as_deref()
    }
}

/// The APOP digest (RFC 1939 §7): MD5 of the greeting's timestamp (`<...>`,
/// angle brackets included) followed by the password, in lower-case hex.
/// POP3 sends `APOP user DIGEST`, masked in the transcript.
pub fn apop_digest(timestamp: &str, password: &str) -> String {
    let mut input = format!("{timestamp}{password}").into_bytes();
    let digest = openssl::hash::hash(openssl::hash::MessageDigest::md5(), &input);
    input.fill(0);
    std::hint::black_box(&input);
    match digest {
        Ok(bytes) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
        // MD5 is in every OpenSSL build a POP3 client runs on; an empty
        // digest is refused by the server, never sent as a valid one.
        Err(_) => String::new(),
    }
}

/// The APOP timestamp of a POP3 greeting (RFC 1939 §7): the last `<...>`
/// holding an `@`, as msg-id syntax wants; `None` when the server offers
/// none (then APOP cannot be used).
pub fn apop_timestamp(greeting: &str) -> Option<&str> {
    let end = greeting.rfind('>')?;
    let start = greeting[..end].rfind('<')?;
    let stamp = &greeting[start..=end];
    (stamp.contains('@') && !stamp.contains(char::is_whitespace)).then_some(stamp)
}

/// base64 of `text`, whose memory is overwritten afterwards.
fn encode(text: String) -> String {
    let encoded = STANDARD.encode(text.as_bytes());
    let mut bytes = text.into_bytes();
    bytes.fill(0);
    std::hint::black_box(&bytes);
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> String {
        decode_challenge(text).unwrap()
    }

    #[test]
    fn plain_matches_rfc_4616() {
        // RFC 4616 §4: "\0tim\0tanstaaftanstaaf".
        assert_eq!(
            plain("tim", "tanstaaftanstaaf"),
            "AHRpbQB0YW5zdGFhZnRhbnN0YWFm"
        );
    }

    #[test]
    fn login_sends_each_in_base64() {
        assert_eq!(login_user("tim"), "dGlt");
        assert_eq!(
            login_password("tanstaaftanstaaf"),
            "dGFuc3RhYWZ0YW5zdGFhZg=="
        );
    }

    #[test]
    fn xoauth2_matches_googles_example() {
        assert_eq!(
            xoauth2(
                "someuser@example.com",
                "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"
            ),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRj\
             Mk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn oauthbearer_matches_rfc_7628() {
        // RFC 7628 §4.1.
        let response = oauthbearer(
            "user@example.com",
            "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            "server.example.com",
            143,
        );
        assert_eq!(
            decoded(&response),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01\
             auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
        assert!(decoded(&oauthbearer("a=b,c", "t", "h", 1)).starts_with("n,a=a=3Db=2Cc,\x01"));
    }

    #[test]
    fn choose_prefers_tokens_then_plain_then_login() {
        let offered = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = offered(&["login", "Plain", "OAUTHBEARER", "xoauth2", "CRAM-MD5"]);
        assert_eq!(choose(&all, false), Some(Mechanism::Plain));
        assert_eq!(choose(&all, true), Some(Mechanism::OAuthBearer));
        assert_eq!(
            choose(&offered(&["XOAUTH2", "PLAIN"]), true),
            Some(Mechanism::XOAuth2)
        );
        assert_eq!(choose(&offered(&["LOGIN"]), false), Some(Mechanism::Login));
        assert_eq!(
            choose(&offered(&["OAUTHBEARER", "PLAIN"]), true),
            Some(Mechanism::OAuthBearer)
        );
        assert_eq!(choose(&offered(&["PLAIN"]), true), None);
        assert_eq!(choose(&offered(&["CRAM-MD5", "GSSAPI"]), false), None);
        assert_eq!(choose(&[], false), None);
    }

    #[test]
    fn challenges_decode_or_not() {
        assert_eq!(
            decode_challenge("VXNlcm5hbWU6").as_deref(),
            Some("Username:")
        );
        assert_eq!(decode_challenge("not base64!"), None);
    }

    #[test]
    fn oauth_error_challenges_are_summarised() {
        // Google's example: {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}
        let challenge = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==";
        assert_eq!(
            oauth_error_text(challenge).unwrap(),
            "status 401, scope https://mail.google.com/"
        );
        assert_eq!(oauth_error_text("bm90IGpzb24="), None);
        assert_eq!(oauth_error_text("%%%"), None);
        assert_eq!(decoded(oauth_error_reply(Mechanism::OAuthBearer)), "\x01");
        assert_eq!(oauth_error_reply(Mechanism::XOAuth2), "");
    }

    fn exchange(mechanism: Mechanism) -> Client {
        Client::new(mechanism, "alice", "pw", "mail.example", 587)
    }

    #[test]
    fn login_answers_user_then_password_then_stops() {
        let mut client = exchange(Mechanism::Login);
        assert_eq!(client.initial_response(), None);
        let user = client.respond("VXNlcm5hbWU6").unwrap();
        assert_eq!((decoded(&user.line), user.secret), ("alice".into(), true));
        let password = client.respond("UGFzc3dvcmQ6").unwrap();
        assert_eq!(decoded(&password.line), "pw");
        assert!(
            client
                .respond("")
                .unwrap_err()
                .to_string()
                .contains("3 challenges")
        );
    }

    #[test]
    fn plain_sends_its_initial_response_once() {
        let mut client = exchange(Mechanism::Plain);
        let first = client.initial_response().unwrap();
        assert_eq!(decoded(&first.line), "\0alice\0pw");
        assert!(first.secret);
        assert_eq!(client.initial_response(), None);
        assert!(client.respond("").is_err());
    }

    #[test]
    fn plain_without_sasl_ir_answers_the_empty_challenge() {
        let mut client = exchange(Mechanism::Plain);
        let answer = client.respond("").unwrap();
        assert_eq!(decoded(&answer.line), "\0alice\0pw");
    }

    #[test]
    fn oauth_error_challenges_are_answered_and_kept() {
        let challenge = STANDARD.encode(r#"{"status":"401","scope":"mail"}"#);
        for (mechanism, reply) in [(Mechanism::OAuthBearer, "AQ=="), (Mechanism::XOAuth2, "")] {
            let mut client = exchange(mechanism);
            let first = client.initial_response().unwrap();
            assert!(decoded(&first.line).contains("auth=Bearer pw"));
            let answer = client.respond(&challenge).unwrap();
            assert_eq!((answer.line.as_str(), answer.secret), (reply, false));
            assert_eq!(client.oauth_error(), Some("status 401, scope mail"));
            assert!(client.respond(&challenge).is_err());
        }
    }

    #[test]
    fn apop_matches_rfc_1939() {
        // RFC 1939 §7's example.
        let greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>";
        let stamp = apop_timestamp(greeting).unwrap();
        assert_eq!(stamp, "<1896.697170952@dbc.mtview.ca.us>");
        assert_eq!(
            apop_digest(stamp, "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
        assert_eq!(apop_timestamp("+OK ready"), None);
        assert_eq!(apop_timestamp("+OK <no-at-sign>"), None);
    }
}
