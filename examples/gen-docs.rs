//! Regenerates `man/` and `completions/` from the clap definitions:
//! `cargo run --example gen-docs`.

#[path = "../tests/support/docs.rs"]
mod docs;

fn main() -> std::io::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (path, bytes) in docs::render_all() {
        let target = root.join(&path);
        std::fs::create_dir_all(target.parent().expect("a parent directory"))?;
        std::fs::write(&target, bytes)?;
        println!("{}", path.display());
    }
    Ok(())
}
