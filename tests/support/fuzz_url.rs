//! Arbitrary text through `mailkit::net::url::parse`: it never panics; a URL it
//! accepts has the scheme, host and port the text names (the scheme's
//! default port when none is given), a host that is an IPv6 address or a
//! lower-case LDH name, and a user, folder and parameters that are the
//! percent-decoded text with no control character in them, as
//! `url::decode_text` promises (so no CR, LF or NUL can reach a protocol
//! line or the NUL-separated SASL PLAIN message); and its canonical form
//! (`Display`) parses back to the same URL.

use std::net::Ipv6Addr;

use mailkit::net::url::{Scheme, ServerUrl, parse};

/// Checks one fuzz input (see the module comment).
pub fn server_url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(url) = parse(&text) else {
        return;
    };
    let parts = Parts::of(&text).unwrap_or_else(|| panic!("{text:?} accepted"));
    assert_eq!(
        Some(url.scheme),
        Scheme::from_name(parts.scheme),
        "{text:?}"
    );
    check_host(&url, &parts, &text);
    let expected_port = match parts.port {
        None | Some("") => url.scheme.default_port(),
        Some(digits) => {
            assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{text:?}");
            digits.parse().unwrap()
        }
    };
    assert_eq!(url.port, expected_port, "{text:?}");
    assert_ne!(url.port, 0);
    check_user(&url, &parts, &text);
    if let Some(path) = &url.path {
        assert_eq!(url.scheme.protocol(), "imap", "{text:?}");
        assert!(!path.is_empty());
        assert_clean(path, &text);
    }
    for (key, value) in &url.params {
        assert!(!key.is_empty(), "{text:?}");
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'),
            "{key:?} in {text:?}"
        );
        assert_clean(value, &text);
        if key == "UID" || key == "UIDVALIDITY" {
            assert!(value.parse::<u32>().is_ok_and(|n| n > 0), "{text:?}");
        }
    }
    let canonical = url.to_string();
    assert!(
        !canonical.contains(|c: char| c.is_control() || c.is_whitespace()),
        "{canonical:?}"
    );
    match parse(&canonical) {
        Ok(again) => assert_eq!(again, url, "{text:?} printed as {canonical:?}"),
        Err(e) => panic!("{text:?} printed as {canonical:?}, which is refused: {e}"),
    }
}

/// The pieces of a URL as RFC 3986 delimits them.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    host: &'a str,
    bracketed: bool,
    port: Option<&'a str>,
}

impl Parts<'_> {
    fn of(text: &str) -> Option<Parts<'_>> {
        let (scheme, rest) = text.split_once("://")?;
        let authority = rest.split('/').next()?;
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, bracketed, port) = match hostport.strip_prefix('[') {
            Some(literal) => {
                let (host, after) = literal.split_once(']')?;
                (host, true, after.strip_prefix(':'))
            }
            None => match hostport.split_once(':') {
                Some((host, port)) => (host, false, Some(port)),
                None => (hostport, false, None),
            },
        };
        Some(Parts {
            scheme,
            userinfo,
            host,
            bracketed,
            port,
        })
    }
}

/// Non-empty, and an IPv6 address (given in brackets, in its canonical
/// form) or a lower-case LDH name within the DNS limits (the given name
/// lower-cased when it is ASCII).
fn check_host(url: &ServerUrl, parts: &Parts, text: &str) {
    let host = &url.host;
    assert!(!host.is_empty(), "{text:?}");
    assert!(
        !host.contains(|c: char| c.is_control() || c.is_whitespace() || "@/[]%".contains(c)),
        "{host:?} from {text:?}"
    );
    if parts.bracketed {
        let address: Ipv6Addr = parts.host.parse().unwrap();
        assert_eq!(*host, address.to_string(), "{text:?}");
        assert_eq!(url.address(), format!("[{host}]:{}", url.port));
        return;
    }
    assert!(host.len() <= 253, "{host:?}");
    for label in host.split('.') {
        assert!((1..=63).contains(&label.len()), "{host:?} from {text:?}");
        assert!(!label.starts_with('-') && !label.ends_with('-'), "{host:?}");
        assert!(
            label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{host:?} from {text:?}"
        );
    }
    if parts.host.is_ascii() {
        let given = parts.host.strip_suffix('.').unwrap_or(parts.host);
        assert_eq!(*host, given.to_ascii_lowercase(), "{text:?}");
    }
    assert_eq!(url.address(), format!("{host}:{}", url.port));
}

/// A user exactly when the text has one; it is the percent-decoded text
/// before `;AUTH=`, with no control character.
fn check_user(url: &ServerUrl, parts: &Parts, text: &str) {
    assert_eq!(url.user.is_some(), parts.userinfo.is_some(), "{text:?}");
    let (Some(user), Some(info)) = (&url.user, parts.userinfo) else {
        return;
    };
    assert!(!user.is_empty(), "{text:?}");
    assert!(!info.contains(':'), "a password in {text:?} was accepted");
    assert_clean(user, text);
    let raw = info.split(';').next().unwrap();
    assert_eq!(
        Some(user.as_bytes()),
        percent_decoded(raw).as_deref(),
        "{text:?}"
    );
    if let Some(auth) = url.param("AUTH") {
        assert_clean(auth, text);
    }
}

/// What `decode_text` promises: no control character, so in particular no
/// CR, LF or NUL.
fn assert_clean(value: &str, text: &str) {
    assert!(
        !value.contains(char::is_control),
        "{value:?} decoded from {text:?}"
    );
    assert!(!value.contains(['\r', '\n', '\0']));
}

fn percent_decoded(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, after)) = rest.split_first() {
        if b == b'%' {
            let hex = after.get(..2)?;
            let digit = |c: u8| char::from(c).to_digit(16);
            out.push((digit(hex[0])? * 16 + digit(hex[1])?) as u8);
            rest = &after[2..];
        } else {
            out.push(b);
            rest = after;
        }
    }
    Some(out)
}
