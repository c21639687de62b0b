//! Each tool's command-line definition, kept in the library so that the man
//! pages and shell completions are generated from the very same clap
//! definitions the binaries parse.

pub mod imap_list;
pub mod mime_pack;
pub mod mime_unpack;
pub mod mx_lookup;
pub mod pop3_fetch;
pub mod rfc822_lint;
pub mod smtp_send;

/// A titled block of text after the options: in `--help` and as a section
/// of the man page (kept as written, not refilled).
#[derive(Debug, Clone, Copy)]
pub struct Section {
    /// The man page heading, upper case.
    pub title: &'static str,
    /// Preformatted text.
    pub body: &'static str,
}

/// One line of a man page's ENVIRONMENT or FILES section: a variable or a
/// path, and what the tool does with it.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The variable or path, as a user writes it.
    pub name: &'static str,
    /// What it is for, one sentence (refilled to the page's width).
    pub about: &'static str,
}

/// What a tool's page refers to outside itself: the environment it reads,
/// the files it reads or writes, and related programs. Each tool gives its
/// own; the sections are built from them in one way for all.
#[derive(Debug, Clone, Copy)]
pub struct References {
    /// Variables besides [`COMMON_ENVIRONMENT`], which every tool reads.
    pub environment: &'static [Entry],
    /// Files and directories (none is an empty list; the page says so).
    pub files: &'static [Entry],
    /// Other programs, as `swaks(1)`, after the other mailkit tools.
    pub see_also: &'static [&'static str],
}

/// The variables every mailkit tool reads.
pub const COMMON_ENVIRONMENT: &[Entry] = &[Entry {
    name: "NO_COLOR",
    about: "when set (to anything), diagnostics are never coloured; they are \
            not coloured either when stderr is not a terminal",
}];

/// `XDG_STATE_HOME`, for the tools that keep state files.
pub const STATE_HOME: Entry = Entry {
    name: "XDG_STATE_HOME",
    about: "where the state files are kept: $XDG_STATE_HOME/mailkit/ \
            (default ~/.local/state/mailkit/)",
};

/// `--password-env VAR` in the tools that fetch.
pub const PASSWORD_VAR: Entry = Entry {
    name: "VAR",
    about: "the variable that --password-env VAR names: the password (or with \
            --oauth the access token)",
};

/// `HOME`, for `~/.netrc` and the default state directory.
pub const HOME_STATE: Entry = Entry {
    name: "HOME",
    about: "where ~/.netrc and the default state directory are",
};

/// `SSL_CERT_FILE` in the tools that connect.
pub const CERT_FILE: Entry = Entry {
    name: "SSL_CERT_FILE",
    about: "a PEM file of trusted roots instead of the system's, when --cafile is \
            not given",
};

/// `~/.netrc` in the tools that log in.
pub const NETRC: Entry = Entry {
    name: "~/.netrc",
    about: "the user and password for the server's host when no other password \
            source is given (--netrc-file names another file); refused (78) when \
            others may read it",
};

impl References {
    /// The ENVIRONMENT and FILES sections, in that order, as `--help` and
    /// the man page show them.
    pub fn sections(&self) -> Vec<(&'static str, String)> {
        let environment = COMMON_ENVIRONMENT.iter().chain(self.environment);
        let files = match self.files.is_empty() {
            true => "None: it reads only its arguments and stdin.".to_string(),
            false => entries(self.files.iter()),
        };
        vec![("ENVIRONMENT", entries(environment)), ("FILES", files)]
    }
}

/// A tool's manual: its clap command, its own sections, its references.
pub struct Manual {
    /// The command as the binary parses it.
    pub command: clap::Command,
    /// The sections after the options, as written.
    pub sections: Vec<Section>,
    /// ENVIRONMENT, FILES and SEE ALSO.
    pub references: References,
}

/// Every tool's manual, for man pages.
pub fn manuals() -> Vec<Manual> {
    use clap::CommandFactory;
    let manual = |command, sections, references| Manual {
        command,
        sections,
        references,
    };
    vec![
        manual(
            mx_lookup::Args::command(),
            mx_lookup::SECTIONS.to_vec(),
            mx_lookup::REFERENCES,
        ),
        manual(
            mime_pack::Args::command(),
            mime_pack::SECTIONS.to_vec(),
            mime_pack::REFERENCES,
        ),
        manual(
            mime_unpack::Args::command(),
            mime_unpack::SECTIONS.to_vec(),
            mime_unpack::REFERENCES,
        ),
        manual(
            rfc822_lint::Args::command(),
            rfc822_lint::sections(),
            rfc822_lint::REFERENCES,
        ),
        manual(
            imap_list::Args::command(),
            imap_list::SECTIONS.to_vec(),
            imap_list::REFERENCES,
        ),
        manual(
            pop3_fetch::Args::command(),
            pop3_fetch::SECTIONS.to_vec(),
            pop3_fetch::REFERENCES,
        ),
        manual(
            smtp_send::Args::command(),
            smtp_send::SECTIONS.to_vec(),
            smtp_send::REFERENCES,
        ),
    ]
}

/// Parses a size in octets: a number with an optional `k`, `M` or `G`
/// suffix (powers of 1024), as `10M` or `512k`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], Some(c)),
        _ => (text, None),
    };
    let factor: u64 = match unit.map(|c| c.to_ascii_lowercase()) {
        None | Some('b') => 1,
        Some('k') => 1 << 10,
        Some('m') => 1 << 20,
        Some('g') => 1 << 30,
        Some(_) => return Err(format!("{text:?}: the unit must be k, M or G")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (a number, optionally with k, M or G)"))?;
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// The sections as `--help` shows them after the options.
pub fn help_sections(sections: &[Section]) -> String {
    sections
        .iter()
        .map(|s| format!("{}:\n{}", title_case(s.title), indent(s.body)))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Everything `--help` shows after the options: the tool's sections, then
/// its ENVIRONMENT and FILES.
pub fn help_text(sections: &[Section], references: &References) -> String {
    let mut text = help_sections(sections);
    for (title, body) in references.sections() {
        text.push_str(&format!("\n\n{}:\n{}", title_case(title), indent(&body)));
    }
    text
}

/// Entries as a two-column list: each name, then what it is for, refilled
/// and aligned; a name too long for the column has a line of its own.
fn entries<'a>(list: impl Iterator<Item = &'a Entry> + Clone) -> String {
    let longest = list.clone().map(|e| e.name.len()).max().unwrap_or(0);
    let column = (longest + 2).min(18);
    let mut text = Vec::new();
    for entry in list {
        let mut lines = wrap(entry.about, 76 - column).into_iter();
        match entry.name.len() + 2 > column {
            true => text.push(entry.name.to_string()),
            false => text.push(format!(
                "{:column$}{}",
                entry.name,
                lines.next().unwrap_or_default()
            )),
        }
        text.extend(lines.map(|line| format!("{:column$}{line}", "")));
    }
    text.join("\n")
}

/// `text` refilled into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn title_case(title: &str) -> String {
    if title == "JSON" {
        return title.to_string();
    }
    let lower = title.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn indent(body: &str) -> String {
    body.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
