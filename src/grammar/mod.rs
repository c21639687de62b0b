//! Header grammars, one file each, with one parser per grammar that every
//! tool uses: lenient for reading (as mail readers do), strict for
//! `rfc822-lint` (the first problem, with its byte offset).
//!
//! | file | grammar |
//! | --- | --- |
//! | [`lex`] | CFWS, comments, quoted strings, tokens, hex (RFC 5322 §3.2, RFC 2045 §5.1) |
//! | [`header`] | splitting a header block into fields; the mbox `From ` line (RFC 5322 §2.2, RFC 4155) |
//! | [`content_type`] | Content-Type and Content-Disposition values (RFC 2045 §5.1, RFC 2183) |
//!
//! The codecs these grammars carry (RFC 2047 encoded-words, RFC 2231
//! parameter values) are in [`crate::decode`]; the lint rules over them in
//! [`crate::lint::fields`].

pub mod content_type;
pub mod header;
pub mod lex;
