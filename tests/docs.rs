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
    for (command, sections) in mailkit::tools::manuals() {
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
