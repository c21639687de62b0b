//! Server URLs as users type them: `smtp://`, `smtps://`, `pop3://`,
//! `pop3s://`, `imap://`, `imaps://`, with an optional user, an `[IPv6]`
//! literal, a port, and for IMAP a folder with `;KEY=VALUE` parameters.
//!
//! The syntax is RFC 3986's, with the IMAP URL of RFC 5092 and the POP URL
//! of RFC 2384 (an `;AUTH=` after the user), written the way curl accepts
//! them. Passwords are refused: they never belong on a command line.

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::Error;

/// The protocol and TLS flavour a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `smtp://`: SMTP on port 25, STARTTLS (RFC 5321, RFC 3207).
    Smtp,
    /// `smtps://`: SMTP over implicit TLS on port 465 (RFC 8314).
    Smtps,
    /// `pop3://`: POP3 on port 110, STLS (RFC 1939, RFC 2595).
    Pop3,
    /// `pop3s://`: POP3 over implicit TLS on port 995 (RFC 8314).
    Pop3s,
    /// `imap://`: IMAP on port 143, STARTTLS (RFC 3501, RFC 2595).
    Imap,
    /// `imaps://`: IMAP over implicit TLS on port 993 (RFC 8314).
    Imaps,
}

impl Scheme {
    /// The scheme named `name` (case-insensitive; `pop://` is RFC 2384's
    /// spelling of `pop3://`).
    pub fn from_name(name: &str) -> Option<Scheme> {
        Some(match name.to_ascii_lowercase().as_str() {
            "smtp" => Scheme::Smtp,
            "smtps" => Scheme::Smtps,
            "pop" | "pop3" => Scheme::Pop3,
            "pops" | "pop3s" => Scheme::Pop3s,
            "imap" => Scheme::Imap,
            "imaps" => Scheme::Imaps,
            _ => return None,
        })
    }

    /// The scheme as written in a URL, e.g. `imaps`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Smtp => "smtp",
            Scheme::Smtps => "smtps",
            Scheme::Pop3 => "pop3",
            Scheme::Pop3s => "pop3s",
            Scheme::Imap => "imap",
            Scheme::Imaps => "imaps",
        }
    }

    /// The port used when the URL names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Smtp => 25,
            Scheme::Smtps => 465,
            Scheme::Pop3 => 110,
            Scheme::Pop3s => 995,
            Scheme::Imap => 143,
            Scheme::Imaps => 993,
        }
    }

    /// True when TLS starts at once on connecting (the `s` schemes).
    pub fn implicit_tls(self) -> bool {
        matches!(self, Scheme::Smtps | Scheme::Pop3s | Scheme::Imaps)
    }

    /// The protocol spoken: `smtp`, `pop3` or `imap`.
    pub fn protocol(self) -> &'static str {
        match self {
            Scheme::Smtp | Scheme::Smtps => "smtp",
            Scheme::Pop3 | Scheme::Pop3s => "pop3",
            Scheme::Imap | Scheme::Imaps => "imap",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed server URL. Text fields are percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// Protocol and TLS flavour.
    pub scheme: Scheme,
    /// Host name in lower-case A-labels, or an IP address (an IPv6 address
    /// without its brackets).
    pub host: String,
    /// The URL's port, or the scheme's default.
    pub port: u16,
    /// The user before `@`, if any.
    pub user: Option<String>,
    /// IMAP only: the folder (RFC 5092 `enc-mailbox`, in UTF-8), if any.
    pub path: Option<String>,
    /// `;KEY=VALUE` parameters: after the IMAP folder (`UIDVALIDITY`, `UID`,
    /// ...) and after the user (`AUTH`, RFC 5092 §3.2, RFC 2384 §3). Keys
    /// are upper-cased; values are percent-decoded.
    pub params: Vec<(String, String)>,
}

impl ServerUrl {
    /// The value of parameter `key` (case-insensitive), if present.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The IMAP `;UIDVALIDITY=N` pin (RFC 5092 §6), if present.
    pub fn uidvalidity(&self) -> Option<u32> {
        self.param("UIDVALIDITY").and_then(|v| v.parse().ok())
    }

    /// `host:port` for messages and connecting, with `[...]` around an
    /// IPv6 address.
    pub fn address(&self) -> String {
        host_port(&self.host, self.port)
    }
}

impl fmt::Display for ServerUrl {
    /// The URL in canonical form (explicit port, encoded user and folder),
    /// which [`parse`] reads back to the same URL: the user's `;AUTH=` is
    /// the first parameter, the others follow the folder (or a `/`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        let mut params = &self.params[..];
        if let Some(user) = &self.user {
            f.write_str(&encode(user, false))?;
            if let Some(((_, auth), rest)) = params.split_first().filter(|(p, _)| p.0 == "AUTH") {
                write!(f, ";AUTH={}", encode(auth, false).replace("%2A", "*"))?;
                params = rest;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.address())?;
        if self.path.is_some() || !params.is_empty() {
            let path = encode(self.path.as_deref().unwrap_or_default(), true);
            // A last '/' would be read as the separator before parameters.
            match path.strip_suffix('/') {
                Some(path) => write!(f, "/{path}%2F")?,
                None => write!(f, "/{path}")?,
            }
        }
        for (key, value) in params {
            write!(f, ";{key}={}", encode(value, false))?;
        }
        Ok(())
    }
}

/// `host:port`, with `[...]` around an IPv6 address.
pub fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Parses a server URL. Every failure is a usage error (64) whose message
/// says what is wrong; a URL with a password is refused without repeating
/// it.
pub fn parse(text: &str) -> Result<ServerUrl, Error> {
    let bad = |why: &str| Error::usage(format!("bad server URL {:?}: {why}", printable_url(text)));
    let (scheme_name, rest) = text
        .split_once("://")
        .ok_or_else(|| bad("expected SCHEME://HOST, e.g. imaps://mail.example.org"))?;
    let scheme = Scheme::from_name(scheme_name)
        .ok_or_else(|| bad("unknown scheme; use smtp, smtps, pop3, pop3s, imap or imaps"))?;
    if rest.contains(['?', '#']) {
        return Err(bad("queries (?) and fragments (#) are not supported"));
    }
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let mut params = Vec::new();
    let user = match userinfo {
        Some(info) => Some(parse_user(info, &mut params).map_err(|why| bad(&why))?),
        None => None,
    };
    let (host, port) = parse_host_port(hostport, scheme).map_err(|why| bad(&why))?;
    let path = parse_path(path, scheme, &mut params).map_err(|why| bad(&why))?;
    Ok(ServerUrl {
        scheme,
        host,
        port,
        user,
        path,
        params,
    })
}

/// The URL for an error message: control characters escaped, and anything
/// between `://` and `@` that has a `:` (a password) blanked out.
fn printable_url(text: &str) -> String {
    let hidden = match (text.find("://"), text.rfind('@')) {
        (Some(start), Some(at)) if at > start && text[start..at].contains(':') => {
            format!("{}://****@{}", &text[..start], &text[at + 1..])
        }
        _ => text.to_owned(),
    };
    crate::output::printable(&hidden).into_owned()
}

/// `user[;AUTH=mech]`: the decoded user, the `AUTH` value into `params`.
fn parse_user(info: &str, params: &mut Vec<(String, String)>) -> Result<String, String> {
    if info.contains(':') {
        return Err("passwords are not accepted in URLs; use --password-file, \
             --password-env, --password-command or ~/.netrc"
            .into());
    }
    let (user, auth) = match info.split_once(';') {
        Some((user, auth)) => (user, Some(auth)),
        None => (info, None),
    };
    if let Some(auth) = auth {
        let (key, value) = auth
            .split_once('=')
            .ok_or("expected ;AUTH=MECHANISM after the user")?;
        if !key.eq_ignore_ascii_case("AUTH") {
            return Err(format!("unknown user parameter ;{key}"));
        }
        params.push(("AUTH".into(), decode_text(value, "the ;AUTH value")?));
    }
    if user.is_empty() {
        return Err("empty user before @".into());
    }
    decode_text(user, "the user")
}

/// `host[:port]` or `[v6][:port]`.
fn parse_host_port(text: &str, scheme: Scheme) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (literal, after) = rest.split_once(']').ok_or("unclosed [ in the host")?;
        let address: Ipv6Addr = literal
            .parse()
            .map_err(|_| format!("{literal:?} is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("expected :PORT after ]")?),
        };
        (address.to_string(), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        (parse_host_name(host)?, port)
    };
    Ok((host, parse_port(port, scheme)?))
}

/// A host name (IDN names converted to A-labels) or IPv4 address.
fn parse_host_name(host: &str) -> Result<String, String> {
    if host.is_empty() {
        return Err("no host".into());
    }
    crate::domain::ascii_domain(host).map_err(|why| format!("bad host name: {why}"))
}

/// The port after `:` (RFC 3986 §3.2.3: empty means the default).
fn parse_port(port: Option<&str>, scheme: Scheme) -> Result<u16, String> {
    match port {
        None | Some("") => Ok(scheme.default_port()),
        Some(digits) => match digits.parse::<u16>() {
            Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(format!("{digits:?} is not a port number (1-65535)")),
        },
    }
}

/// The IMAP folder and its `;KEY=VALUE` parameters (RFC 5092 §6); other
/// schemes have no path.
fn parse_path(
    path: &str,
    scheme: Scheme,
    params: &mut Vec<(String, String)>,
) -> Result<Option<String>, String> {
    if path.is_empty() {
        return Ok(None);
    }
    if scheme.protocol() != "imap" {
        return Err(format!("{} URLs have no path", scheme.protocol()));
    }
    let mut pieces = path.split(';');
    let folder = pieces.next().unwrap_or_default();
    let folder = folder.strip_suffix('/').unwrap_or(folder);
    for piece in pieces {
        params.push(parse_param(piece)?);
    }
    match folder {
        "" => Ok(None),
        _ => decode_text(folder, "the folder").map(Some),
    }
}

/// One `KEY=VALUE` (a trailing `/` separates it from the next one).
fn parse_param(piece: &str) -> Result<(String, String), String> {
    let piece = piece.strip_suffix('/').unwrap_or(piece);
    let (key, value) = piece
        .split_once('=')
        .ok_or_else(|| format!("expected ;KEY=VALUE, found ;{piece}"))?;
    let key = key.to_ascii_uppercase();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("bad parameter name {key:?}"));
    }
    let value = decode_text(value, &format!("the ;{key} value"))?;
    if matches!(key.as_str(), "UIDVALIDITY" | "UID") && !is_nz_number(&value) {
        return Err(format!(";{key} must be a number from 1 to 4294967295"));
    }
    Ok((key, value))
}

/// RFC 3501 `nz-number` that fits 32 bits.
fn is_nz_number(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit()) && text.parse::<u32>().is_ok_and(|n| n > 0)
}

/// Percent-decodes `text` (RFC 3986 §2.1) into UTF-8 without control
/// characters; `what` names it in the error.
fn decode_text(text: &str, what: &str) -> Result<String, String> {
    let bytes = percent_decode(text).ok_or_else(|| format!("bad %-escape in {what}"))?;
    let decoded = String::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8"))?;
    if decoded.chars().any(char::is_control) {
        return Err(format!("{what} contains a control character"));
    }
    Ok(decoded)
}

/// `%XX` escapes decoded; `None` when one is malformed.
pub(crate) fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Percent-encodes all but RFC 3986 unreserved characters (and `/` in a
/// folder, where it separates levels).
fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) || (keep_slash && byte == b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    fn usage_message(text: &str) -> String {
        let error = parse(text).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Usage, "{text}: {error}");
        error.to_string()
    }

    #[test]
    fn schemes_and_default_ports() {
        for (text, port, tls, protocol) in [
            ("smtp://mail.example", 25, false, "smtp"),
            ("SMTPS://mail.example", 465, true, "smtp"),
            ("pop3://mail.example", 110, false, "pop3"),
            ("pop3s://mail.example", 995, true, "pop3"),
            ("pop://mail.example", 110, false, "pop3"),
            ("imap://mail.example/", 143, false, "imap"),
            ("imaps://mail.example", 993, true, "imap"),
        ] {
            let url = parse(text).unwrap();
            assert_eq!(url.port, port, "{text}");
            assert_eq!(url.scheme.implicit_tls(), tls, "{text}");
            assert_eq!(url.scheme.protocol(), protocol, "{text}");
            assert_eq!(url.host, "mail.example");
            assert_eq!((url.user, url.path), (None, None));
        }
    }

    #[test]
    fn ipv6_literal_and_port() {
        let url = parse("imaps://[2001:DB8::1]:10993").unwrap();
        assert_eq!(url.host, "2001:db8::1");
        assert_eq!(url.port, 10993);
        assert_eq!(url.address(), "[2001:db8::1]:10993");
        let url = parse("smtp://[::1]").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 25));
        assert!(usage_message("smtp://[::1").contains("unclosed"));
        assert!(usage_message("smtp://[nope]:25").contains("IPv6"));
        assert!(usage_message("smtp://[::1]x").contains(":PORT"));
    }

    #[test]
    fn user_is_percent_decoded_and_idn_host_is_ascii() {
        let url = parse("smtps://alice%40example.org@Mail.Example:587").unwrap();
        assert_eq!(url.user.as_deref(), Some("alice@example.org"));
        assert_eq!((url.host.as_str(), url.port), ("mail.example", 587));
        let url = parse("imap://bob@example.org@bücher.example").unwrap();
        assert_eq!(url.user.as_deref(), Some("bob@example.org"));
        assert_eq!(url.host, "xn--bcher-kva.example");
        let url = parse("pop3://carol;AUTH=*@mail.example").unwrap();
        assert_eq!(url.user.as_deref(), Some("carol"));
        assert_eq!(url.param("auth"), Some("*"));
        assert_eq!(url.to_string(), "pop3://carol;AUTH=*@mail.example:110");
        assert!(usage_message("imap://a%0d%0aLOGOUT@mail.example").contains("control"));
        assert!(usage_message("imap://@mail.example").contains("empty user"));
    }

    #[test]
    fn imap_folder_and_uidvalidity() {
        let url = parse("imaps://alice@mail.example/INBOX;UIDVALIDITY=385759045").unwrap();
        assert_eq!(url.path.as_deref(), Some("INBOX"));
        assert_eq!(url.uidvalidity(), Some(385_759_045));
        let url = parse("imap://mail.example/Lists%2Fdev").unwrap();
        assert_eq!(url.path.as_deref(), Some("Lists/dev"));
        let url = parse("imap://mail.example/Lists/dev/;uidvalidity=7/;UID=20").unwrap();
        assert_eq!(url.path.as_deref(), Some("Lists/dev"));
        assert_eq!(
            url.params,
            [
                ("UIDVALIDITY".into(), "7".into()),
                ("UID".into(), "20".into())
            ]
        );
        let url = parse("imap://mail.example/Entw%C3%BCrfe").unwrap();
        assert_eq!(url.path.as_deref(), Some("Entwürfe"));
        assert_eq!(url.to_string(), "imap://mail.example:143/Entw%C3%BCrfe");
        assert!(usage_message("imap://mail.example/INBOX;UIDVALIDITY=0").contains("UIDVALIDITY"));
        assert!(usage_message("imap://mail.example/INBOX;UIDVALIDITY=x").contains("UIDVALIDITY"));
        assert!(usage_message("imap://mail.example/INBOX;NOVALUE").contains("KEY=VALUE"));
        assert!(usage_message("imap://mail.example/%ZZ").contains("%-escape"));
        assert!(usage_message("smtp://mx.example/INBOX").contains("no path"));
    }

    #[test]
    fn password_is_refused_and_not_repeated() {
        let message = usage_message("imaps://alice:s3cret@mail.example/INBOX");
        assert!(message.contains("passwords are not accepted"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        assert!(
            message.contains("imaps://****@mail.example/INBOX"),
            "{message}"
        );
    }

    #[test]
    fn bad_scheme_host_and_port() {
        assert!(usage_message("http://mail.example").contains("unknown scheme"));
        assert!(usage_message("mail.example").contains("SCHEME://"));
        assert!(usage_message("smtp://").contains("no host"));
        assert!(usage_message("smtp://bad_host!").contains("bad host name"));
        for port in ["0", "65536", "x", "-1", "+25"] {
            let message = usage_message(&format!("smtp://mx.example:{port}"));
            assert!(message.contains("not a port number"), "{message}");
        }
        assert_eq!(parse("smtp://mx.example:").unwrap().port, 25);
        assert!(usage_message("imap://mail.example/INBOX?UNSEEN").contains("queries"));
        assert!(usage_message("smtp://\x1b[2Jmx").contains("\\u{1b}"));
    }
}
