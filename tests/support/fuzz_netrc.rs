//! Arbitrary text through `mailkit::net::credentials::parse_netrc` and
//! `find_entry`: nothing panics; the entries are those of a reference
//! reader written from the format's description (tokens separated by
//! white space, `#` comments where a token would start, `"..."` tokens
//! with `\` escapes, a `macdef` body skipped up to and including the first
//! empty line, CRLF files included, as curl does), so every machine, login
//! and password is a token of the file; the entry chosen for a host and
//! user is the first machine entry for that host (in any case) whose login
//! fits, else the first such `default` entry, as the code claims; and the
//! work is linear in the size of the file, up to 100 KB (checked for one
//! call in 1024, to keep fuzzing fast).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use mailkit::net::credentials::{NetrcEntry, find_entry, parse_netrc};

use crate::linear_time::assert_linear;

/// Calls of [`netrc`] so far.
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Checks one fuzz input (see the module comment).
pub fn netrc(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_netrc(&text);
    let (expected, tokens) = reference(&text);
    match (&parsed, &expected) {
        (Ok(entries), Ok(expected)) => assert_eq!(entries, expected, "{text:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{text:?}: {parsed:?}, expected {expected:?}"),
    }
    if let Ok(entries) = &parsed {
        let tokens: HashSet<&str> = tokens.iter().map(String::as_str).collect();
        for entry in entries {
            for value in [&entry.machine, &entry.login, &entry.password] {
                let value = value.as_deref();
                assert!(value.is_none_or(|v| tokens.contains(v)), "{value:?}");
            }
        }
        check_choice(entries);
    }
    // One call in 1024, the first included: chosen by count rather than by
    // the input, so that the fuzzer does not come to favour timed inputs.
    if CALLS.fetch_add(1, Ordering::Relaxed).is_multiple_of(1024) {
        assert_linear(&text, 25_000, read_netrc);
    }
}

/// `find_entry` for every host and login of the file, other case, and
/// unknown ones.
fn check_choice(entries: &[NetrcEntry]) {
    let mut hosts: Vec<String> = vec!["nosuch.example".into()];
    let mut users: Vec<Option<String>> = vec![None, Some("nobody".into())];
    for entry in entries {
        if let Some(machine) = &entry.machine {
            hosts.push(machine.clone());
            hosts.push(machine.to_ascii_uppercase());
        }
        users.push(entry.login.clone());
    }
    hosts.truncate(8);
    users.truncate(8);
    for host in &hosts {
        for user in &users {
            let user = user.as_deref();
            let chosen = find_entry(entries, host, user)
                .map(|e| entries.iter().position(|x| std::ptr::eq(x, e)).unwrap());
            let fits = |e: &NetrcEntry| match (user, &e.login) {
                (Some(user), Some(login)) => user == login,
                _ => true,
            };
            let named = entries.iter().position(|e| {
                e.machine
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(host))
                    && fits(e)
            });
            let default = entries.iter().position(|e| e.machine.is_none() && fits(e));
            assert_eq!(
                chosen,
                named.or(default),
                "{host:?} {user:?} in {entries:?}"
            );
        }
    }
}

/// The entries (or an error) and every token, read a character at a time.
fn reference(text: &str) -> (Result<Vec<NetrcEntry>, ()>, Vec<String>) {
    let mut reader = Reader {
        chars: text.chars().collect(),
        at: 0,
        tokens: Vec::new(),
        unclosed: false,
    };
    let entries = reader.entries().and_then(|entries| match reader.unclosed {
        true => Err(()),
        false => Ok(entries),
    });
    (entries, reader.tokens)
}

struct Reader {
    chars: Vec<char>,
    at: usize,
    tokens: Vec<String>,
    unclosed: bool,
}

impl Reader {
    fn entries(&mut self) -> Result<Vec<NetrcEntry>, ()> {
        let mut entries: Vec<NetrcEntry> = Vec::new();
        while let Some(keyword) = self.token() {
            let new = |machine| NetrcEntry {
                machine,
                login: None,
                password: None,
            };
            match keyword.as_str() {
                "machine" => entries.push(new(Some(self.token().ok_or(())?))),
                "default" => entries.push(new(None)),
                "login" | "password" | "account" => {
                    let value = self.token().ok_or(())?;
                    let entry = entries.last_mut().ok_or(())?;
                    match keyword.as_str() {
                        "login" => entry.login = Some(value),
                        "password" => entry.password = Some(value),
                        _ => {}
                    }
                }
                "macdef" => {
                    self.token().ok_or(())?;
                    self.skip_macro();
                }
                _ => {}
            }
        }
        Ok(entries)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn token(&mut self) -> Option<String> {
        loop {
            while self.peek()?.is_ascii_whitespace() {
                self.at += 1;
            }
            if self.peek()? != '#' {
                break;
            }
            while self.peek().is_some_and(|c| c != '\n') {
                self.at += 1;
            }
        }
        let mut token = String::new();
        if self.peek() == Some('"') {
            self.at += 1;
            self.unclosed = true;
            while let Some(c) = self.peek() {
                self.at += 1;
                match c {
                    '"' => {
                        self.unclosed = false;
                        break;
                    }
                    '\\' => {
                        if let Some(next) = self.peek() {
                            let escaped = [('n', '\n'), ('r', '\r'), ('t', '\t')];
                            let meant = escaped.iter().find(|(e, _)| *e == next);
                            token.push(meant.map_or(next, |(_, c)| *c));
                            self.at += 1;
                        }
                    }
                    c => token.push(c),
                }
            }
        } else {
            while let Some(c) = self.peek().filter(|c| !c.is_ascii_whitespace()) {
                token.push(c);
                self.at += 1;
            }
        }
        self.tokens.push(token.clone());
        Some(token)
    }

    /// The rest of the `macdef` line, then whole lines up to and including
    /// the first empty one (nothing, or only the CR of a CRLF).
    fn skip_macro(&mut self) {
        let mut first = true;
        loop {
            let start = self.at;
            while self.peek().is_some_and(|c| c != '\n') {
                self.at += 1;
            }
            let line: String = self.chars[start..self.at].iter().collect();
            if self.peek().is_none() {
                return;
            }
            self.at += 1;
            if !first && (line.is_empty() || line == "\r") {
                return;
            }
            first = false;
        }
    }
}

/// Reading `text` and looking an entry up, for the linear-time check.
fn read_netrc(text: &str) {
    if let Ok(entries) = std::hint::black_box(parse_netrc(text)) {
        std::hint::black_box(find_entry(&entries, "nosuch.example", Some("nobody")));
    }
}
