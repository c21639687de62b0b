//! Renders every tool's man page and bash, zsh and fish completions from
//! the clap definitions in `mailkit::tools`. Shared by
//! `examples/gen-docs.rs` (which writes them) and `tests/docs.rs` (which
//! fails when the committed files are stale).

use std::path::PathBuf;

use clap_complete::Shell;
use mailkit::tools::Manual;

/// Every generated file: its path relative to the package root and its bytes.
pub fn render_all() -> Vec<(PathBuf, Vec<u8>)> {
    let manuals = mailkit::tools::manuals();
    let names: Vec<String> = (manuals.iter())
        .map(|m| m.command.get_name().to_string())
        .collect();
    let mut files = Vec::new();
    for manual in &manuals {
        let command = &manual.command;
        let name = command.get_name().to_string();
        files.push((
            PathBuf::from(format!("man/{name}.1")),
            man_page(manual, &names),
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

/// clap_mangen's title, name, description and options; the SYNOPSIS with
/// every option's argument; the tool's own sections kept as written
/// (no-fill), instead of the refilled "EXTRA" of `after_help`; then, the
/// same for every tool, ENVIRONMENT and FILES from its references, and SEE
/// ALSO: the other mailkit tools (`tools`), then the tool's own.
fn man_page(manual: &Manual, tools: &[String]) -> Vec<u8> {
    let command = &manual.command;
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render_title(&mut page).unwrap();
    man.render_name_section(&mut page).unwrap();
    page.extend_from_slice(format!(".SH SYNOPSIS\n{}\n", synopsis(command)).as_bytes());
    man.render_description_section(&mut page).unwrap();
    man.render_options_section(&mut page).unwrap();
    let references = manual.references.sections();
    let own = manual
        .sections
        .iter()
        .map(|s| (s.title, s.body.to_string()));
    for (title, body) in own.chain(references) {
        page.extend_from_slice(format!(".SH \"{title}\"\n.nf\n").as_bytes());
        for line in body.lines() {
            page.extend_from_slice(roff_line(line).as_bytes());
            page.push(b'\n');
        }
        page.extend_from_slice(b".fi\n");
    }
    man.render_version_section(&mut page).unwrap();
    let name = command.get_name();
    let others = tools
        .iter()
        .filter(|t| *t != name)
        .map(|t| format!("{t}(1)"));
    let see_also: Vec<String> = others
        .chain(manual.references.see_also.iter().map(|s| s.to_string()))
        .map(|reference| match reference.split_once('(') {
            Some((page, section)) => format!("\\fB{}\\fR({section}", roff_text(page)),
            None => roff_text(&reference),
        })
        .collect();
    page.extend_from_slice(format!(".SH \"SEE ALSO\"\n{}\n", see_also.join(", ")).as_bytes());
    page
}

/// The usage line as man pages write it: each option with its argument
/// (`[-d|--dir DIR]`), `...` after what may be repeated, brackets around
/// what is optional, positional arguments last.
pub fn synopsis(command: &clap::Command) -> String {
    let mut command = command.clone();
    command.build();
    let mut words = vec![format!("\\fB{}\\fR", roff_text(command.get_name()))];
    let (positionals, options): (Vec<&clap::Arg>, Vec<&clap::Arg>) = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .partition(|a| a.is_positional());
    for arg in options.into_iter().chain(positionals) {
        let value = || {
            let choices = arg.get_possible_values();
            let choices: Vec<&str> = choices.iter().map(|v| v.get_name()).collect();
            // clap derive names a value after its field (--tls TLS): the
            // choices say more, when there are some.
            let derived = arg.get_id().as_str().to_uppercase();
            let name = match arg.get_value_names() {
                Some(names) if names != [derived.as_str()] => names.join(" "),
                _ if !choices.is_empty() => choices.join("|"),
                _ => derived,
            };
            // An argument is one word in the filled line: `\ ` does not break.
            format!("\\fI{}\\fR", roff_text(&name).replace(' ', "\\ "))
        };
        let mut word = match (arg.get_short(), arg.get_long()) {
            _ if arg.is_positional() => value(),
            (Some(short), Some(long)) => {
                format!("\\fB\\-{short}\\fR|\\fB\\-\\-{}\\fR", roff_text(long))
            }
            (Some(short), None) => format!("\\fB\\-{short}\\fR"),
            (None, Some(long)) => format!("\\fB\\-\\-{}\\fR", roff_text(long)),
            (None, None) => continue,
        };
        if !arg.is_positional() && arg.get_action().takes_values() {
            word = format!("{word} {}", value());
        }
        if !arg.is_required_set() {
            word = format!("[{word}]");
        }
        let repeated = matches!(
            arg.get_action(),
            clap::ArgAction::Append | clap::ArgAction::Count
        ) || arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        if repeated {
            word.push_str("...");
        }
        words.push(word);
    }
    words.join(" ")
}

/// Text in roff, not at the start of a line: backslashes and hyphens escaped.
fn roff_text(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
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
