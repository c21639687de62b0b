//! Media types for attachments: from the file name's extension (the table
//! covers what mail carries), otherwise from the first bytes of the content.

use std::path::Path;

/// Extension (lower case) → media type.
const BY_EXTENSION: &[(&str, &str)] = &[
    ("7z", "application/x-7z-compressed"),
    ("aac", "audio/aac"),
    ("avi", "video/x-msvideo"),
    ("bmp", "image/bmp"),
    ("bz2", "application/x-bzip2"),
    ("c", "text/x-c"),
    ("css", "text/css"),
    ("csv", "text/csv"),
    ("diff", "text/x-diff"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("eml", "message/rfc822"),
    ("epub", "application/epub+zip"),
    ("flac", "audio/flac"),
    ("gif", "image/gif"),
    ("gz", "application/gzip"),
    ("heic", "image/heic"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("ics", "text/calendar"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("log", "text/plain"),
    ("m4a", "audio/mp4"),
    ("md", "text/markdown"),
    ("mkv", "video/x-matroska"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("mpeg", "video/mpeg"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ogg", "audio/ogg"),
    ("opus", "audio/opus"),
    ("patch", "text/x-diff"),
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("ps", "application/postscript"),
    ("py", "text/x-python"),
    ("rar", "application/vnd.rar"),
    ("rtf", "application/rtf"),
    ("sh", "application/x-sh"),
    ("svg", "image/svg+xml"),
    ("tar", "application/x-tar"),
    ("tgz", "application/gzip"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("txt", "text/plain"),
    ("vcf", "text/vcard"),
    ("wav", "audio/wav"),
    ("webm", "video/webm"),
    ("webp", "image/webp"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("xml", "application/xml"),
    ("xz", "application/x-xz"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("zip", "application/zip"),
    ("zst", "application/zstd"),
];

/// The media type for a file name's extension, if the table knows it.
pub fn from_name(name: &Path) -> Option<&'static str> {
    let extension = name.extension()?.to_str()?.to_ascii_lowercase();
    BY_EXTENSION
        .binary_search_by(|(known, _)| known.cmp(&extension.as_str()))
        .ok()
        .map(|at| BY_EXTENSION[at].1)
}

/// The media type the first bytes of `content` reveal (magic numbers),
/// if any. `content` should be at least the first 512 bytes when there are
/// that many.
pub fn sniff(content: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
        (b"PK\x05\x06", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"BZh", "application/x-bzip2"),
        (b"\xfd7zXZ\x00", "application/x-xz"),
        (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
        (b"Rar!\x1a\x07", "application/vnd.rar"),
        (b"\x28\xb5\x2f\xfd", "application/zstd"),
        (b"%!PS", "application/postscript"),
        (b"{\\rtf", "application/rtf"),
        (b"OggS", "audio/ogg"),
        (b"fLaC", "audio/flac"),
        (b"ID3", "audio/mpeg"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"BM", "image/bmp"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "application/x-ole-storage",
        ),
        (b"BEGIN:VCALENDAR", "text/calendar"),
        (b"BEGIN:VCARD", "text/vcard"),
    ];
    if let Some((_, kind)) = MAGIC.iter().find(|(magic, _)| content.starts_with(magic)) {
        return Some(kind);
    }
    if content.len() >= 12 && &content[..4] == b"RIFF" {
        match &content[8..12] {
            b"WEBP" => return Some("image/webp"),
            b"WAVE" => return Some("audio/wav"),
            b"AVI " => return Some("video/x-msvideo"),
            _ => {}
        }
    }
    if content.len() >= 12 && &content[4..8] == b"ftyp" {
        return Some("video/mp4");
    }
    if content.len() > 262 && &content[257..262] == b"ustar" {
        return Some("application/x-tar");
    }
    sniff_text(content)
}

/// Markup and mail recognised by their first non-blank text.
fn sniff_text(content: &[u8]) -> Option<&'static str> {
    let start = content.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = &content[start..content.len().min(start + 64)];
    let lower = head.to_ascii_lowercase();
    if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        Some("text/html")
    } else if lower.starts_with(b"<svg") {
        Some("image/svg+xml")
    } else if lower.starts_with(b"<?xml") {
        Some("application/xml")
    } else {
        None
    }
}

/// The extension conventionally used for a media type, for naming parts
/// that have no file name.
pub fn extension_for(media_type: &str) -> Option<&'static str> {
    const PREFERRED: &[(&str, &str)] = &[
        ("text/plain", "txt"),
        ("text/html", "html"),
        ("image/jpeg", "jpg"),
        ("message/rfc822", "eml"),
        ("application/gzip", "gz"),
        ("image/tiff", "tif"),
        ("text/x-diff", "diff"),
        ("application/yaml", "yaml"),
    ];
    let wanted = media_type.to_ascii_lowercase();
    let preferred = PREFERRED
        .iter()
        .find(|(t, _)| *t == wanted)
        .map(|(_, e)| *e);
    preferred.or_else(|| {
        BY_EXTENSION
            .iter()
            .find(|(_, t)| *t == wanted)
            .map(|(e, _)| *e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search() {
        assert!(BY_EXTENSION.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn names() {
        assert_eq!(from_name(Path::new("Report.PDF")), Some("application/pdf"));
        assert_eq!(from_name(Path::new("a/b/photo.jpeg")), Some("image/jpeg"));
        assert_eq!(from_name(Path::new("invite.ics")), Some("text/calendar"));
        assert_eq!(from_name(Path::new("README")), None);
        assert_eq!(from_name(Path::new("x.unknownext")), None);
    }

    #[test]
    fn content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"\n  <!DOCTYPE html><html>"), Some("text/html"));
        assert_eq!(sniff(b"plain words"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn extensions_for_types() {
        assert_eq!(extension_for("image/jpeg"), Some("jpg"));
        assert_eq!(extension_for("application/pdf"), Some("pdf"));
        assert_eq!(extension_for("Text/Plain"), Some("txt"));
        assert_eq!(extension_for("application/x-nothing"), None);
    }
}
