//! Renders every tool's man page and bash, zsh and fish completions from
//! the clap definitions in `mailkit::tools`. Shared by
//! `examples/gen-docs.rs` (which writes them) and `tests/docs.rs` (which
//! fails when the committed files are stale).

use std::path::PathBuf;

use clap_complete::Shell;
use mailkit::tools::Section;

/// Every generated file: its path relative to the package root and its bytes.
pub fn render_all() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for (command, sections) in mailkit::tools::manuals() {
        let name = command.get_name().to_string();
        files.push((
            PathBuf::from(format!("man/{name}.1")),
            man_page(&command, &sections),
        ));
        for (shell, file) in [
            (Shell::Bash, format!("{name}.bash")),
            (Shell::Zsh, format!("_{name}")),
            (Shell::Fish, format!("{name}.fish")),
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command.clone(), &name, &mut script);
            files.push((PathBuf::from(format!("completions/{file}")), script));
        }
    }
    files
}

/// clap_mangen's standard sections, then the tool's own sections kept as
/// written (no-fill), instead of the refilled "EXTRA" of `after_help`.
fn man_page(command: &clap::Command, sections: &[Section]) -> Vec<u8> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    man.render_synopsis_section(&mut page).unwrap();
    man.render_description_section(&mut page).unwrap();
    man.render_options_section(&mut page).unwrap();
    for section in sections {
        page.extend_from_slice(format!(".SH \"{}\"\n.nf\n", section.title).as_bytes());
        for line in section.body.lines() {
            page.extend_from_slice(roff_line(line).as_bytes());
            page.push(b'\n');
        }
        page.extend_from_slice(b".fi\n");
    }
    man.render_version_section(&mut page).unwrap();
    page
}

/// One line of literal text in roff: backslashes escaped, and a leading
/// `.` or `'` kept from being read as a request.
fn roff_line(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
