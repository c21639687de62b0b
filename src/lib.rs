//! mailkit: the library behind the mailkit command-line mail utilities.
//!
//! Every tool is a thin binary over these modules, one module per concern:
//!
//! | module | concern |
//! | --- | --- |
//! | [`error`] | the library's error: typed kinds, predicates, the status table |
//! | [`exit`] | exit statuses (sysexits.h); the status of an error chain |
//! | [`cli`] | argument groups shared by every tool, usage errors, the error line |
//! | [`input`] | the one input convention: file arguments or stdin (none or `-`), Maildirs and directories expanded to their messages, a message kept to be read twice; line-oriented lists |
//! | [`output`] | JSON Lines, terminal-safe text, colour |
//! | [`domain`] | domain names and addresses: IDN, syntax limits |
//! | [`dns`] | DNS resolution of mail routes (MX, RFC 5321 §5.1, RFC 7505) |
//! | [`address`] | RFC 5322 addresses and address lists |
//! | [`header`] | header fields on the wire: RFC 2047, RFC 2231, folding |
//! | [`encode`] | transfer encodings: choice and streaming encoders |
//! | [`lint`] | linting against RFC 5322 and MIME, `--fix`; [`lint::report`]: findings as lines or JSON, totals and exit status |
//! | [`dot_reader`] | dot-terminated multi-line responses (POP3), streamed |
//! | [`imap`] | the IMAP client; for now literals and quoted strings |
//! | [`store`] | mailbox storage: Maildir and mbox delivery, durable files |
//! | [`tools`] | each tool's command-line definition (the usage is the spec) |

pub mod address;
pub mod cli;
pub mod compose;
pub mod decode;
pub mod dns;
pub mod domain;
pub mod encode;
pub mod envelope;
pub mod error;
pub mod exit;
pub mod filename;
pub mod header;
pub mod imap;
pub mod input;
pub mod lint;
pub mod media_type;
pub mod message;
pub mod mime_reader;
pub mod net;
pub mod output;
pub mod random;
pub mod smtp;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod tools;
pub mod unpack;

pub use error::{Error, ErrorKind};
pub use exit::ExitStatus;

// Test helpers shared with tests/support name the crate `mailkit`.
#[cfg(test)]
extern crate self as mailkit;
