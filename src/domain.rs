//! Domain names as users type them: bare domains, e-mail addresses, IDN
//! U-labels, trailing dots; checked against the DNS length limits
//! (RFC 1035 §2.3.4) and the host name syntax of RFC 1123 §2.1.

use std::fmt;

/// Longest DNS name in presentation form, without the trailing dot.
pub const MAX_NAME_OCTETS: usize = 253;
/// Longest DNS label.
pub const MAX_LABEL_OCTETS: usize = 63;

/// Why a string is not a usable mail domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidName {}

/// The mail domain named by `input`: the part after the last `@` of an
/// address (angle brackets allowed), or the whole input; converted to
/// lower-case A-labels (IDNA/UTS #46), without a trailing dot.
pub fn mail_domain(input: &str) -> Result<String, InvalidName> {
    let trimmed = input.trim();
    let unbracketed = match trimmed.strip_prefix('<') {
        Some(rest) => rest
            .strip_suffix('>')
            .ok_or_else(|| InvalidName("unbalanced angle bracket".into()))?,
        None => trimmed,
    };
    let domain = match unbracketed.rfind('@') {
        Some(at) => &unbracketed[at + 1..],
        None => unbracketed,
    };
    if domain.starts_with('[') {
        return Err(InvalidName(
            "an address literal names a host, not a domain".into(),
        ));
    }
    ascii_domain(domain)
}

/// `name` as a lower-case A-label domain without trailing dot, or why not.
pub fn ascii_domain(name: &str) -> Result<String, InvalidName> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(InvalidName("empty domain name".into()));
    }
    let ascii = if name.is_ascii() {
        name.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(name)
            .map_err(|_| InvalidName("not a valid internationalized domain name".into()))?
    };
    check_host_syntax(&ascii)?;
    Ok(ascii)
}

/// RFC 1035 length limits and RFC 1123 letters-digits-hyphens labels.
fn check_host_syntax(name: &str) -> Result<(), InvalidName> {
    if name.len() > MAX_NAME_OCTETS {
        return Err(InvalidName(format!(
            "name is {} octets long; the limit is {MAX_NAME_OCTETS}",
            name.len()
        )));
    }
    for label in name.split('.') {
        check_label(label)?;
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), InvalidName> {
    if label.is_empty() {
        return Err(InvalidName("empty label".into()));
    }
    if label.len() > MAX_LABEL_OCTETS {
        return Err(InvalidName(format!(
            "label of {} octets; the limit is {MAX_LABEL_OCTETS}",
            label.len()
        )));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(InvalidName(format!("character {:?} is not allowed", bad)));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(InvalidName(
            "a label cannot begin or end with a hyphen".into(),
        ));
    }
    Ok(())
}

/// This host's fully qualified domain name, as `hostname -f` finds it:
/// the kernel's host name when it has a dot, else the name /etc/hosts
/// gives it (`127.0.1.1 mail.example.org mail`); `None` when neither
/// says, or the name is not a valid domain.
pub fn local_fqdn() -> Option<String> {
    // Looked up once: every session of a run asks.
    static FQDN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    FQDN.get_or_init(read_local_fqdn).clone()
}

/// [`local_fqdn`] read from the system.
fn read_local_fqdn() -> Option<String> {
    let short = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let short = short.trim();
    let name = if short.contains('.') {
        short.to_owned()
    } else {
        let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        fqdn_from_hosts(short, &hosts)?
    };
    ascii_domain(&name).ok()
}

/// The first dotted name of the /etc/hosts line that names `short`.
fn fqdn_from_hosts(short: &str, hosts: &str) -> Option<String> {
    if short.is_empty() {
        return None;
    }
    hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .map(|line| line.split_whitespace().skip(1).collect::<Vec<_>>())
        .filter(|names| names.iter().any(|n| n.eq_ignore_ascii_case(short)))
        .find_map(|names| {
            let dotted = names.into_iter().find(|n| {
                n.len() > short.len()
                    && n[..short.len()].eq_ignore_ascii_case(short)
                    && n.as_bytes()[short.len()] == b'.'
            });
            dotted.map(str::to_ascii_lowercase)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fully_qualified_name_comes_from_etc_hosts() {
        let hosts = "127.0.0.1 localhost\n# 127.0.1.1 mail.wrong.example mail\n\
                     127.0.1.1\tMail.Example.ORG  mail # this host\n::1 ip6-localhost\n";
        assert_eq!(
            fqdn_from_hosts("mail", hosts).as_deref(),
            Some("mail.example.org")
        );
        // A name without a dotted alias, or not there at all: no FQDN.
        assert_eq!(
            fqdn_from_hosts("vm", "127.0.0.1 localhost\n127.0.0.1 vm\n"),
            None
        );
        assert_eq!(fqdn_from_hosts("other", hosts), None);
        assert_eq!(fqdn_from_hosts("", hosts), None);
        // "mailer.example.org" is not "mail" + domain.
        assert_eq!(
            fqdn_from_hosts("mail", "10.0.0.1 mail mailer.example.org\n"),
            None
        );
        if let Some(name) = local_fqdn() {
            assert!(name.contains('.'), "{name}");
        }
    }

    #[test]
    fn addresses_and_domains() {
        assert_eq!(mail_domain("Example.TEST.").unwrap(), "example.test");
        assert_eq!(mail_domain("a@b@example.test").unwrap(), "example.test");
        assert_eq!(mail_domain("<bob@Example.test>").unwrap(), "example.test");
        assert_eq!(
            mail_domain("bücher.example").unwrap(),
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn invalid_names() {
        let long_label = format!("{}.test", "a".repeat(64));
        let long_name = format!("{}test", "abcdefghi.".repeat(25));
        for bad in [
            "",
            ".",
            "a..b",
            "-a.test",
            "a-.test",
            "a_b.test",
            "a b.test",
            "user@[192.0.2.1]",
            "<a@b.test",
            &long_label,
            &long_name,
        ] {
            assert!(mail_domain(bad).is_err(), "{bad:?} accepted");
        }
        assert!(mail_domain(&format!("{}.test", "a".repeat(63))).is_ok());
    }
}
