//! Each tool's command-line definition, kept in the library so that the man
//! pages and shell completions are generated from the very same clap
//! definitions the binaries parse.

pub mod mime_pack;
pub mod mime_unpack;
pub mod mx_lookup;
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

/// Every tool's clap command with its extra sections, for man pages.
pub fn manuals() -> Vec<(clap::Command, Vec<Section>)> {
    use clap::CommandFactory;
    vec![
        (mx_lookup::Args::command(), mx_lookup::SECTIONS.to_vec()),
        (mime_pack::Args::command(), mime_pack::SECTIONS.to_vec()),
        (mime_unpack::Args::command(), mime_unpack::SECTIONS.to_vec()),
        (rfc822_lint::Args::command(), rfc822_lint::sections()),
        (smtp_send::Args::command(), smtp_send::SECTIONS.to_vec()),
    ]
}

/// The sections as `--help` shows them after the options.
pub fn help_sections(sections: &[Section]) -> String {
    sections
        .iter()
        .map(|s| format!("{}:\n{}", title_case(s.title), indent(s.body)))
        .collect::<Vec<_>>()
        .join("\n\n")
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
