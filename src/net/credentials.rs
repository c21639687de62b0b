//! Passwords from where they are safe: a private file, an environment
//! variable, a command's output (a password manager), or `~/.netrc` —
//! never from the command line, where every user can read them.
//!
//! Like fetchmail, a password file or netrc that anybody but its owner
//! may access is refused. Every failure here is a configuration error
//! ([`ExitStatus::Config`], 78).

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, ErrorKind};
use crate::output::printable;

/// The most read from a password file or netrc.
const MAX_FILE: u64 = 1 << 20;

/// Where the password comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The first line of a file that only its owner may access.
    File(PathBuf),
    /// An environment variable (set and not empty).
    Env(String),
    /// The first line a shell command prints (`sh -c`, stdin closed,
    /// stderr shown to the user); it must exit 0.
    Command(String),
    /// A netrc file: the given one, or `~/.netrc`.
    Netrc(Option<PathBuf>),
}

/// A password (or token). Printing it shows `****`; its memory is
/// overwritten when it is dropped (best effort: copies the caller makes,
/// such as a SASL encoding, are its own).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }

    /// The secret itself, for the moment it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.resize(bytes.capacity(), 0);
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Loads the password for `user` at `host` from `source`. Returns the
/// user to log in as (`user` when given, else the netrc entry's login,
/// else `None`) and the password.
pub fn load(
    source: &PasswordSource,
    host: &str,
    user: Option<&str>,
) -> Result<(Option<String>, Secret), Error> {
    let given = user.map(str::to_owned);
    match source {
        PasswordSource::File(path) => Ok((given, from_file(path)?)),
        PasswordSource::Env(name) => Ok((given, from_env(name)?)),
        PasswordSource::Command(command) => Ok((given, from_command(command)?)),
        PasswordSource::Netrc(path) => {
            let path = match path {
                Some(path) => path.clone(),
                None => default_netrc()?,
            };
            from_netrc(&path, host, user)
        }
    }
}

/// The first line of a private file.
fn from_file(path: &Path) -> Result<Secret, Error> {
    let what = format!("password file {}", path.display());
    let text = read_private(path, &what)?;
    first_line(&text, &what)
}

/// A non-empty environment variable.
fn from_env(name: &str) -> Result<Secret, Error> {
    let what = format!("password variable {}", printable(name));
    match std::env::var(name) {
        Ok(value) => first_line(&Secret(value), &what),
        Err(std::env::VarError::NotPresent) => Err(Error::config(format!("{what} is not set"))),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::config(format!("{what} is not valid UTF-8")))
        }
    }
}

/// The first line a command prints; it must exit 0.
fn from_command(command: &str) -> Result<Secret, Error> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Error::config(format!("cannot run the password command: {e}")))?;
    let stdout = secret_from_bytes(output.stdout, "the password command's output")?;
    if !output.status.success() {
        return Err(Error::config(format!(
            "the password command failed ({})",
            output.status
        )));
    }
    first_line(&stdout, "the password command's output")
}

/// `~/.netrc`.
fn default_netrc() -> Result<PathBuf, Error> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(Path::new(&home).join(".netrc")),
        _ => Err(Error::config("HOME is not set: cannot find ~/.netrc")),
    }
}

/// The password (and login) of the netrc entry for `host` and `user`.
fn from_netrc(
    path: &Path,
    host: &str,
    user: Option<&str>,
) -> Result<(Option<String>, Secret), Error> {
    let what = format!("netrc file {}", path.display());
    let text = read_private(path, &what)?;
    let entries =
        parse_netrc(text.expose()).map_err(|why| Error::config(format!("{what}: {why}")))?;
    let entry = find_entry(&entries, host, user).ok_or_else(|| {
        let for_user = user
            .map(|u| format!(" and login {}", printable(u)))
            .unwrap_or_default();
        Error::config(format!("{what} has no entry for machine {host}{for_user}"))
    })?;
    let password = entry
        .password
        .clone()
        .ok_or_else(|| Error::config(format!("{what}: the entry for {host} has no password")))?;
    let login = user.map(str::to_owned).or_else(|| entry.login.clone());
    Ok((login, Secret(password)))
}

/// A file's text, refused when group or others have any access to it
/// (fetchmail's rule: at most `-rwx------`).
fn read_private(path: &Path, what: &str) -> Result<Secret, Error> {
    let cannot = |e: std::io::Error| Error::config(format!("cannot read {what}: {e}"));
    let file = File::open(path).map_err(cannot)?;
    let mode = file.metadata().map_err(cannot)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::config(format!(
            "{what} may be read by others (mode {:04o}); chmod 600 it",
            mode & 0o7777
        )));
    }
    let mut bytes = Vec::new();
    let read = file.take(MAX_FILE + 1).read_to_end(&mut bytes);
    if bytes.len() as u64 > MAX_FILE {
        bytes.fill(0);
        std::hint::black_box(&bytes);
        return Err(Error::config(format!("{what} is over 1 MiB")));
    }
    let secret = secret_from_bytes(bytes, what)?;
    read.map_err(cannot)?;
    Ok(secret)
}

/// Bytes as a [`Secret`]; bytes that are not UTF-8 are overwritten and
/// refused.
fn secret_from_bytes(bytes: Vec<u8>, what: &str) -> Result<Secret, Error> {
    String::from_utf8(bytes).map(Secret).map_err(|e| {
        let mut bytes = e.into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
        Error::new(ErrorKind::Config, format!("{what} is not valid UTF-8"))
    })
}

/// The first line of `text`, without its line end; refused when empty.
fn first_line(text: &Secret, what: &str) -> Result<Secret, Error> {
    let line = text.expose().split('\n').next().unwrap_or_default();
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        return Err(Error::config(format!("{what} is empty")));
    }
    Ok(Secret(line.to_owned()))
}

/// One `machine` (or `default`) entry of a netrc file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// The host, or `None` for `default`.
    pub machine: Option<String>,
    /// The `login` token's value, if any (the last one given).
    pub login: Option<String>,
    /// The `password` token's value, if any (the last one given).
    pub password: Option<String>,
}

/// The entries of a netrc file (the ftp(1) format as curl reads it:
/// `machine`, `default`, `login`, `password`, `account`, `macdef` skipped
/// to the next empty line, `#` comments, double-quoted tokens with `\"`,
/// `\\`, `\n`, `\r`, `\t` escapes; words separated by ASCII white space).
/// An error says why: `login`, `password` or `account` before any entry, a
/// keyword without its value at the end, or a quote that is not closed.
pub fn parse_netrc(text: &str) -> Result<Vec<NetrcEntry>, String> {
    let mut tokens = Tokens {
        text,
        pos: 0,
        unclosed: false,
    };
    let mut entries: Vec<NetrcEntry> = Vec::new();
    while let Some(token) = tokens.next() {
        match token.as_str() {
            "machine" => entries.push(NetrcEntry {
                machine: Some(tokens.value("machine")?),
                login: None,
                password: None,
            }),
            "default" => entries.push(NetrcEntry {
                machine: None,
                login: None,
                password: None,
            }),
            "login" | "password" | "account" => {
                let value = tokens.value(&token)?;
                let Some(entry) = entries.last_mut() else {
                    return Err(format!("{token:?} before any machine"));
                };
                match token.as_str() {
                    "login" => entry.login = Some(value),
                    "password" => entry.password = Some(value),
                    _ => {}
                }
            }
            "macdef" => {
                tokens.value("macdef")?;
                tokens.skip_macro();
            }
            // Unknown words (extensions such as `port`) are ignored.
            _ => {}
        }
    }
    if tokens.unclosed {
        return Err("a quoted word is not closed".into());
    }
    Ok(entries)
}

/// The first entry for `host` (case-insensitive) whose login is `user` or
/// unset (any login when no user is given), else such a `default` entry.
pub fn find_entry<'a>(
    entries: &'a [NetrcEntry],
    host: &str,
    user: Option<&str>,
) -> Option<&'a NetrcEntry> {
    let login_fits = |entry: &&NetrcEntry| match (user, &entry.login) {
        (Some(user), Some(login)) => user == login,
        _ => true,
    };
    let named = entries
        .iter()
        .filter(|e| {
            e.machine
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(host))
        })
        .find(login_fits);
    named.or_else(|| {
        entries
            .iter()
            .filter(|e| e.machine.is_none())
            .find(login_fits)
    })
}

/// The netrc tokenizer.
/// The character an escaped `c` stands for in a quoted netrc word.
fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        other => other,
    }
}

struct Tokens<'a> {
    text: &'a str,
    pos: usize,
    /// A quoted word ran to the end of the text.
    unclosed: bool,
}

impl Tokens<'_> {
    /// The next token, skipping white space and `#` comments.
    fn next(&mut self) -> Option<String> {
        loop {
            let rest = &self.text[self.pos..];
            let start = rest.find(|c: char| !c.is_ascii_whitespace())?;
            self.pos += start;
            if !self.text[self.pos..].starts_with('#') {
                break;
            }
            self.skip_line();
        }
        if self.text[self.pos..].starts_with('"') {
            return Some(self.quoted());
        }
        let rest = &self.text[self.pos..];
        let len = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        self.pos += len;
        Some(rest[..len].to_owned())
    }

    /// The token after `keyword`, which must exist.
    fn value(&mut self, keyword: &str) -> Result<String, String> {
        self.next()
            .ok_or_else(|| format!("{keyword:?} without a value at the end"))
    }

    /// A `"..."` token; `\` escapes the next character, and `\n`, `\r`,
    /// `\t` are a newline, a carriage return and a tab (as curl reads them).
    fn quoted(&mut self) -> String {
        let mut token = String::new();
        let mut chars = self.text[self.pos + 1..].char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(self.pos + 1 + i + 1);
                    break;
                }
                '\\' => token.extend(chars.next().map(|(_, c)| unescape(c))),
                _ => token.push(c),
            }
        }
        self.unclosed |= end.is_none();
        self.pos = end.unwrap_or(self.text.len());
        token
    }

    fn skip_line(&mut self) {
        self.pos = match self.text[self.pos..].find('\n') {
            Some(at) => self.pos + at + 1,
            None => self.text.len(),
        };
    }

    /// Skips a macro body: the rest of the `macdef` line, then lines up
    /// to and including the first empty one (in a CRLF file, a lone CRLF).
    fn skip_macro(&mut self) {
        let mut at = self.pos;
        self.pos = loop {
            let Some(end) = self.text[at..].find('\n') else {
                break self.text.len();
            };
            at += end + 1;
            let next = &self.text[at..];
            if next.starts_with('\n') {
                break at + 1;
            }
            if next.starts_with("\r\n") {
                break at + 2;
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;
    use std::fs::Permissions;

    fn private_file(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(mode)).unwrap();
        (dir, path)
    }

    fn config_error(result: Result<(Option<String>, Secret), Error>) -> String {
        let error = result.unwrap_err();
        assert_eq!(error.status(), ExitStatus::Config, "{error}");
        error.to_string()
    }

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret} {secret:?}"), "**** ****");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn password_file_first_line_only_if_private() {
        let (_dir, path) = private_file("s3cret\r\nsecond line\n", 0o600);
        let source = PasswordSource::File(path.clone());
        let (user, secret) = load(&source, "mail.example", Some("alice")).unwrap();
        assert_eq!(
            (user.as_deref(), secret.expose()),
            (Some("alice"), "s3cret")
        );

        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let message = config_error(load(&source, "mail.example", None));
        assert!(message.contains("mode 0644"), "{message}");
        std::fs::set_permissions(&path, Permissions::from_mode(0o620)).unwrap();
        config_error(load(&source, "mail.example", None));

        std::fs::write(&path, "\n").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o400)).unwrap();
        assert!(config_error(load(&source, "h", None)).contains("empty"));
        let missing = PasswordSource::File(path.with_file_name("missing"));
        assert!(config_error(load(&missing, "h", None)).contains("cannot read"));
    }

    #[test]
    fn environment_variable_must_be_set_and_not_empty() {
        // Setting a variable in this process needs `unsafe` (other test
        // threads read the environment): the checks run in a child test
        // process given the variables instead.
        let set = "MAILKIT_TEST_CREDENTIALS_SET";
        let empty = "MAILKIT_TEST_CREDENTIALS_EMPTY";
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "net::credentials::tests::environment_child",
                "--nocapture",
            ])
            .env(set, "from-env\nrest")
            .env(empty, "")
            .env("MAILKIT_TEST_CREDENTIALS_CHILD", "1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
    }

    #[test]
    fn environment_child() {
        if std::env::var_os("MAILKIT_TEST_CREDENTIALS_CHILD").is_none() {
            return;
        }
        let source = PasswordSource::Env("MAILKIT_TEST_CREDENTIALS_SET".into());
        assert_eq!(load(&source, "h", None).unwrap().1.expose(), "from-env");
        let source = PasswordSource::Env("MAILKIT_TEST_CREDENTIALS_EMPTY".into());
        assert!(config_error(load(&source, "h", None)).contains("empty"));
        let source = PasswordSource::Env("MAILKIT_TEST_CREDENTIALS_UNSET".into());
        assert!(config_error(load(&source, "h", None)).contains("not set"));
    }

    #[test]
    fn command_output_first_line_and_exit_status() {
        let source =
            PasswordSource::Command("printf 'from-command\\nx\\n'; read line || true".into());
        assert_eq!(load(&source, "h", None).unwrap().1.expose(), "from-command");
        let source = PasswordSource::Command("echo leaked; exit 3".into());
        let message = config_error(load(&source, "h", None));
        assert!(
            message.contains("failed") && !message.contains("leaked"),
            "{message}"
        );
        let source = PasswordSource::Command("true".into());
        assert!(config_error(load(&source, "h", None)).contains("empty"));
    }

    const NETRC: &str = "\
# comment line
machine mail.example login alice password first
machine MAIL.example
  login bob
  password \"with space\\\"quote\"
macdef init
  machine mail.example login mallory password macro

machine other.example login carol password third account x
default login anonymous password guest
";

    #[test]
    fn netrc_words_as_curl_reads_them() {
        let entries = parse_netrc(
            "machine a login \"x\\ty\" password \"p\\\"q\\\\r\\n\"\n\
             machine b\u{a0}c login z\n",
        )
        .unwrap();
        assert_eq!(entries[0].login.as_deref(), Some("x\ty"));
        assert_eq!(entries[0].password.as_deref(), Some("p\"q\\r\n"));
        // Only ASCII white space separates words.
        assert_eq!(entries[1].machine.as_deref(), Some("b\u{a0}c"));
        let unclosed = parse_netrc("machine a login u password \"secret").unwrap_err();
        assert_eq!(unclosed, "a quoted word is not closed");
    }

    #[test]
    fn netrc_entries_by_host_and_login() {
        let (_dir, path) = private_file(NETRC, 0o600);
        let source = PasswordSource::Netrc(Some(path.clone()));
        let (user, secret) = load(&source, "mail.example", None).unwrap();
        assert_eq!((user.as_deref(), secret.expose()), (Some("alice"), "first"));
        let (user, secret) = load(&source, "mail.example", Some("bob")).unwrap();
        assert_eq!(
            (user.as_deref(), secret.expose()),
            (Some("bob"), "with space\"quote")
        );
        let (user, secret) = load(&source, "other.example", None).unwrap();
        assert_eq!((user.as_deref(), secret.expose()), (Some("carol"), "third"));
        let (user, secret) = load(&source, "elsewhere.example", None).unwrap();
        assert_eq!(
            (user.as_deref(), secret.expose()),
            (Some("anonymous"), "guest")
        );
        let message = config_error(load(&source, "mail.example", Some("mallory")));
        assert!(
            message.contains("no entry for machine mail.example and login mallory"),
            "{message}"
        );
    }

    #[test]
    fn netrc_without_a_matching_machine_or_private_mode_is_refused() {
        let (_dir, path) = private_file("machine a.example login x password y\n", 0o600);
        let source = PasswordSource::Netrc(Some(path.clone()));
        assert!(config_error(load(&source, "b.example", None)).contains("no entry"));
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        assert!(config_error(load(&source, "a.example", None)).contains("chmod 600"));
        let (_dir, path) = private_file("machine a.example login x\n", 0o600);
        let source = PasswordSource::Netrc(Some(path));
        assert!(config_error(load(&source, "a.example", None)).contains("no password"));
        let (_dir, path) = private_file("machine a.example login", 0o600);
        let source = PasswordSource::Netrc(Some(path));
        assert!(config_error(load(&source, "a.example", None)).contains("without a value"));
    }
}
