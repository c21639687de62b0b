//! mailkit: the library behind the mailkit command-line mail utilities.
//!
//! Every tool is a thin binary over these modules, one module per concern:
//!
//! | module | concern |
//! | --- | --- |
//! | [`exit`] | exit statuses (sysexits.h) and the error type that carries one |
//! | [`cli`] | argument groups shared by every tool, usage errors, the error line |
//! | [`input`] | files-or-stdin input and line-oriented lists |
//! | [`output`] | JSON Lines, terminal-safe text, colour |
//! | [`domain`] | domain names and addresses: IDN, syntax limits |
//! | [`dns`] | DNS resolution of mail routes (MX, RFC 5321 §5.1, RFC 7505) |
//! | [`grammar`] | header grammars, one parser each, lenient and strict: [`grammar::lex`] (CFWS, tokens, quoted strings, hex), [`grammar::header`] (splitting a header block, the mbox `From ` line), [`grammar::content_type`] (Content-Type and Content-Disposition values) |
//! | [`address`] | RFC 5322 addresses and address lists |
//! | [`message`] | a message's header fields and Content-Type, as owned values |
//! | [`header`] | header fields on the wire: RFC 2047, RFC 2231, folding |
//! | [`decode`] | decoding, one file per codec: [`decode::base64`], [`decode::quoted_printable`], [`decode::charset`], [`decode::rfc2047`], [`decode::rfc2231`], [`decode::uuencode`], [`decode::html`] |
//! | [`encode`] | transfer encodings: choice and streaming encoders |
//! | [`mime_reader`] | the streaming MIME engine under unpack, lint and fix |
//! | [`compose`] | building messages for `mime-pack`, `--message` included |
//! | [`envelope`] | a message prepared for SMTP: envelope addresses, header facts |
//! | [`lint`] | `rfc822-lint`'s rules, checks and fixes; one file per field grammar in [`lint::fields`] |
//! | [`tools`] | each tool's command-line definition (the usage is the spec) |

pub mod address;
pub mod cli;
pub mod compose;
pub mod connection;
pub mod credentials;
pub mod decode;
pub mod dns;
pub mod domain;
pub mod encode;
pub mod envelope;
pub mod exit;
pub mod filename;
pub mod grammar;
pub mod header;
pub mod input;
pub mod lint;
pub mod media_type;
pub mod message;
pub mod mime_reader;
pub mod output;
pub mod probe;
pub mod random;
pub mod sasl;
pub mod smtp;
pub mod smtp_data;
pub mod spool;
pub mod submit;
#[cfg(test)]
mod test_support;
pub mod tools;
pub mod unpack;
pub mod url;

pub use exit::{Error, ExitStatus};
