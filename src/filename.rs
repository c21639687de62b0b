//! Safe file names for what a message names (attachments are written by
//! name, and the name is chosen by whoever sent the message): the last path
//! component only, no `..`, no leading dot, no control characters and no
//! invisible ones (bidirectional controls, zero-width and other format
//! characters, which let `invoice\u{202e}fdp.exe` show as `invoiceexe.pdf`),
//! at most 255 octets; and files created without ever replacing or
//! following anything that is already there.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Longest file name most file systems take, in octets.
pub const MAX_NAME_OCTETS: usize = 255;

/// A name safe to create inside a directory, from a decoded name that may
/// be hostile, or `None` when nothing usable is left. Control characters
/// and the invisible characters of [`crate::output::is_invisible`] become
/// `_`; ordinary non-ASCII letters stay.
pub fn sanitize(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || crate::output::is_invisible(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '.' || c == '_') {
        return None;
    }
    Some(shorten(trimmed, MAX_NAME_OCTETS))
}

/// Cuts `name` to at most `limit` octets on a character boundary, keeping
/// a short extension (`.pdf`) at the end.
fn shorten(name: &str, limit: usize) -> String {
    if name.len() <= limit {
        return name.to_string();
    }
    let extension = name
        .rfind('.')
        .map(|at| &name[at..])
        .filter(|ext| ext.len() <= 16 && ext.len() < limit / 2)
        .unwrap_or("");
    let stem = &name[..name.len() - extension.len()];
    let mut end = limit - extension.len();
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", &stem[..end])
}

/// `name` with `-N` before its extension (`report-2.pdf`), still within the
/// length limit.
fn numbered(name: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let (stem, extension) = match name.rfind('.') {
        Some(at) if at > 0 => name.split_at(at),
        _ => (name, ""),
    };
    let room = MAX_NAME_OCTETS - suffix.len() - extension.len().min(MAX_NAME_OCTETS / 2);
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}{extension}", &stem[..end])
}

/// Creates a new file for `name` in `dir`: `name`, or the first free
/// `name-1`, `name-2`, ... Creation is exclusive (`O_EXCL`), so an existing
/// file is never replaced and a symbolic link planted under the name is
/// never followed (the name is simply taken). Returns the file and its path.
pub fn create_unique(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    for n in 0..10_000 {
        let candidate = if n == 0 {
            name.to_string()
        } else {
            numbered(name, n)
        };
        let path = dir.join(&candidate);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("no free name for {name:?} after 10 000 tries"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names() {
        assert_eq!(sanitize("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize("/etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitize("..\\..\\win.ini").as_deref(), Some("win.ini"));
        assert_eq!(sanitize("a/../../b").as_deref(), Some("b"));
        assert_eq!(sanitize("..").as_deref(), None);
        assert_eq!(sanitize("../").as_deref(), None);
        assert_eq!(sanitize(".bashrc").as_deref(), Some("bashrc"));
        assert_eq!(
            sanitize("evil\r\nname\0.txt").as_deref(),
            Some("evil__name_.txt")
        );
        assert_eq!(sanitize("   ").as_deref(), None);
        assert_eq!(sanitize("report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(sanitize("Grüße.txt").as_deref(), Some("Grüße.txt"));
    }

    #[test]
    fn names_cannot_hide_what_they_are() {
        assert_eq!(
            sanitize("invoice\u{202E}fdp.exe").as_deref(),
            Some("invoice_fdp.exe")
        );
        assert_eq!(
            sanitize("\u{FEFF}a\u{200B}b\u{061C}c\u{2066}d\u{2069}.txt").as_deref(),
            Some("_a_b_c_d_.txt")
        );
        assert_eq!(sanitize("\u{202E}\u{200F}").as_deref(), None);
        for name in [
            "日本語.pdf",
            "отчёт.doc",
            "תמונה.png",
            "صورة.jpg",
            "Ærø.txt",
        ] {
            assert_eq!(sanitize(name).as_deref(), Some(name));
        }
    }

    #[test]
    fn long_names_keep_their_extension_and_utf8() {
        let long = format!("{}.pdf", "é".repeat(500));
        let safe = sanitize(&long).unwrap();
        assert!(safe.len() <= MAX_NAME_OCTETS);
        assert!(safe.ends_with(".pdf"));
        assert!(safe.starts_with('é'));
        let numbered = numbered(&safe, 12);
        assert!(numbered.len() <= MAX_NAME_OCTETS, "{}", numbered.len());
        assert!(numbered.ends_with("-12.pdf"));
    }

    #[test]
    fn never_replaces_or_follows() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "keep").unwrap();
        let outside = dir.path().join("outside");
        std::os::unix::fs::symlink(&outside, dir.path().join("a-1.txt")).unwrap();
        let (_, path) = create_unique(dir.path(), "a.txt").unwrap();
        assert_eq!(path, dir.path().join("a-2.txt"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "keep"
        );
        assert!(!outside.exists(), "the symlink was followed");
        let (_, path) = create_unique(dir.path(), "noext").unwrap();
        assert_eq!(path, dir.path().join("noext"));
        let (_, path) = create_unique(dir.path(), "noext").unwrap();
        assert_eq!(path, dir.path().join("noext-1"));
    }
}
