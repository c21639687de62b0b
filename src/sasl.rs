//! SASL (RFC 4422) mechanisms as data: which one to use and what to send.
//! The SMTP (RFC 4954), POP3 (RFC 5034) and IMAP (RFC 3501 §6.2.2)
//! clients do the exchanges; everything here is base64 text ready to send.
//!
//! What is returned carries the password or token: send it with
//! [`crate::connection::Connection::write_secret_line`].

use base64::Engine as _;
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
}
