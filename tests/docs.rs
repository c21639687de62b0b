//! The committed man pages and completions must match the clap definitions.

#[path = "support/docs.rs"]
mod docs;

#[test]
fn man_pages_and_completions_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (path, bytes) in docs::render_all() {
        if std::fs::read(root.join(&path)).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale or missing: {stale:?}; run `cargo run --example gen-docs` and commit the result"
    );
}

#[test]
fn every_man_page_documents_exit_statuses_and_json() {
    for manual in mailkit::tools::manuals() {
        let (command, sections) = (manual.command, manual.sections);
        let titles: Vec<&str> = sections.iter().map(|s| s.title).collect();
        let name = command.get_name().to_string();
        assert!(titles.contains(&"EXIT STATUS"), "{name}");
        assert!(titles.contains(&"EXAMPLES"), "{name}");
        let has_json = command.get_arguments().any(|a| a.get_id() == "json");
        assert_eq!(
            titles.contains(&"JSON"),
            has_json,
            "{name}: --json needs a JSON section"
        );
    }
}

/// The rendered man page of each tool, by name.
fn pages() -> std::collections::HashMap<String, String> {
    docs::render_all()
        .into_iter()
        .filter_map(|(path, bytes)| {
            let name = path
                .strip_prefix("man")
                .ok()?
                .to_str()?
                .strip_suffix(".1")?;
            Some((name.to_string(), String::from_utf8(bytes).unwrap()))
        })
        .collect()
}

/// The text of section `title` of `page`, up to the next section.
fn section<'a>(page: &'a str, title: &str) -> &'a str {
    let start = [format!(".SH \"{title}\"\n"), format!(".SH {title}\n")]
        .iter()
        .find_map(|heading| page.find(heading).map(|at| at + heading.len()))
        .unwrap_or_else(|| panic!("no {title} section"));
    let rest = &page[start..];
    &rest[..rest.find("\n.SH ").map_or(rest.len(), |end| end + 1)]
}

#[test]
fn every_man_page_has_exit_status_environment_files_and_see_also() {
    let pages = pages();
    let tools: Vec<String> = (mailkit::tools::manuals().iter())
        .map(|m| m.command.get_name().to_string())
        .collect();
    for manual in mailkit::tools::manuals() {
        let name = manual.command.get_name().to_string();
        let page = &pages[&name];
        for title in ["EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"] {
            assert!(
                page.contains(&format!(".SH \"{title}\"\n")),
                "{name}: no {title}"
            );
        }
        assert!(
            section(page, "EXIT STATUS").contains("64  usage error"),
            "{name}"
        );
        assert!(section(page, "ENVIRONMENT").contains("NO_COLOR"), "{name}");
        let see_also = section(page, "SEE ALSO");
        for other in tools.iter().filter(|t| **t != name) {
            let reference = format!("\\fB{}\\fR(1)", other.replace('-', "\\-"));
            assert!(see_also.contains(&reference), "{name}: {see_also}");
        }
    }
    let has = |tool: &str, title: &str, what: &[&str]| {
        let text = section(&pages[tool], title);
        for item in what {
            assert!(text.contains(item), "{tool} {title}: no {item}: {text}");
        }
    };
    has(
        "smtp-send",
        "ENVIRONMENT",
        &[
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "\\-\\-password\\-env VAR",
            "TMPDIR",
        ],
    );
    has(
        "smtp-send",
        "FILES",
        &["~/.netrc", "DIR/new/", "/etc/resolv.conf"],
    );
    has(
        "smtp-send",
        "SEE ALSO",
        &["\\fBswaks\\fR(1)", "\\fBmsmtp\\fR(1)"],
    );
    has(
        "mx-lookup",
        "ENVIRONMENT",
        &["SSL_CERT_FILE", "SSL_CERT_DIR"],
    );
    has("mx-lookup", "FILES", &["/etc/resolv.conf"]);
    has(
        "mx-lookup",
        "SEE ALSO",
        &["\\fBdig\\fR(1)", "\\fBswaks\\fR(1)"],
    );
    has("mime-pack", "ENVIRONMENT", &["EMAIL", "TMPDIR"]);
    has("mime-pack", "SEE ALSO", &["\\fBmpack\\fR(1)"]);
    has("mime-unpack", "SEE ALSO", &["\\fBmunpack\\fR(1)"]);
    has("rfc822-lint", "FILES", &["DIR/cur/"]);
}

#[test]
fn synopsis_lines_keep_option_arguments() {
    let pages = pages();
    for manual in mailkit::tools::manuals() {
        let mut command = manual.command;
        command.build();
        let name = command.get_name().to_string();
        // One line (clap_mangen's string definitions follow it).
        let synopsis = section(&pages[&name], "SYNOPSIS").lines().next().unwrap();
        for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
            let takes_value = arg.get_action().takes_values();
            match arg.get_long() {
                Some(long) if takes_value => {
                    let option = format!("\\fB\\-\\-{}\\fR \\fI", long.replace('-', "\\-"));
                    assert!(
                        synopsis.contains(&option),
                        "{name}: --{long} without its argument: {synopsis}"
                    );
                }
                _ if arg.is_positional() => {
                    let value = arg.get_value_names().unwrap()[0].as_str();
                    let value = format!("\\fI{}\\fR", value.replace('-', "\\-"));
                    assert!(synopsis.contains(&value), "{name}: no {value}: {synopsis}");
                }
                _ => {}
            }
        }
    }
    let synopsis = |tool: &str| section(&pages[tool], "SYNOPSIS").lines().next().unwrap();
    assert!(synopsis("mime-unpack").contains("[\\fB\\-d\\fR|\\fB\\-\\-dir\\fR \\fIDIR\\fR]"));
    assert!(synopsis("mime-pack").contains("[\\fIATTACHMENT\\fR]..."));
    assert!(synopsis("mime-pack").contains("[\\fB\\-\\-attach\\fR \\fIFILE\\fR]..."));
    assert!(synopsis("smtp-send").contains("[\\fB\\-\\-server\\fR \\fIURL\\fR]"));
    assert!(synopsis("smtp-send").contains("[\\fB\\-f\\fR|\\fB\\-\\-from\\fR \\fIADDRESS\\fR]"));
    assert!(synopsis("smtp-send").contains("\\fIimplicit|starttls|opportunistic|none\\fR"));
}

#[test]
fn every_tool_of_the_family_has_a_manual() {
    let mut names: Vec<String> = mailkit::tools::manuals()
        .iter()
        .map(|m| m.command.get_name().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "imap-list",
            "mime-pack",
            "mime-unpack",
            "mx-lookup",
            "pop3-fetch",
            "rfc822-lint",
            "smtp-send"
        ]
    );
}
