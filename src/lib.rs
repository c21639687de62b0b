//! mailkit: the library behind the mailkit command-line mail utilities.
//!
//! Every tool is a thin binary over these modules, one module per concern,
//! grouped the way data flows: bytes in → grammar → message → tool → bytes
//! out, and socket → session → store. Lower layers never call higher ones.
//!
//! | module | concern |
//! | --- | --- |
//! | [`error`] | the library's error: typed kinds, predicates (`is_transient`, ...), the one table to exit statuses |
//! | [`exit`] | exit statuses (sysexits.h); the status of an error chain at a binary's edge |
//! | [`cli`] | argument groups shared by every tool (output, timeout, connection, credentials), usage errors, the error line |
//! | [`tools`] | each tool's command-line definition (the usage is the spec) |
//! | [`input`] | the one input convention: file arguments or stdin (none or `-`), Maildirs and directories expanded to their messages, a message kept to be read twice; a directory where a message file is expected is 66; the note when stdin is a terminal; line-oriented lists |
//! | [`output`] | JSON Lines, terminal-safe text, colour |
//! | [`grammar`] | header grammars, one parser each, lenient and strict: [`grammar::lex`] (CFWS, tokens, quoted strings, hex), [`grammar::header`] (splitting a header block, the mbox `From ` line), [`grammar::content_type`] (Content-Type and Content-Disposition values) |
//! | [`address`] | RFC 5322 addresses and address lists |
//! | [`domain`] | domain names: IDN, syntax limits |
//! | [`header`] | header fields on the wire: RFC 2047, RFC 2231, folding |
//! | [`message`] | a message's header fields and Content-Type, as owned values |
//! | [`decode`] | decoding, one file per codec: [`decode::base64`], [`decode::quoted_printable`], [`decode::charset`], [`decode::utf7`], [`decode::rfc2047`], [`decode::rfc2231`], [`decode::uuencode`], [`decode::html`] |
//! | [`encode`] | transfer encodings: choice and streaming encoders |
//! | [`media_type`] | media types from file names and magic numbers |
//! | [`mbox_reader`] | an mbox (RFC 4155) split into its messages as it is read: separators, `>From ` un-quoting; any other input is one message |
//! | [`mime_reader`] | the streaming MIME engine under unpack, lint and fix |
//! | [`compose`] | building messages for `mime-pack`, `--message` included |
//! | [`unpack`] | what `mime-unpack` does with the parts: list (and print the tree), extract, one part, the text |
//! | [`filename`] | safe names for sender-chosen file names; exclusive creation |
//! | [`lint`] | `rfc822-lint`'s rules, checks and fixes; one file per field grammar in [`lint::fields`]; [`lint::report`]: findings as lines or JSON |
//! | [`envelope`] | a message prepared for SMTP: envelope addresses, header facts, Bcc removed |
//! | [`net`] | what every protocol shares: [`net::url`], [`net::connection`], [`net::session`] (endpoint and TLS/login negotiation), [`net::transcript`], [`net::credentials`], [`net::sasl`] (SASL steps, APOP), [`net::host_lookup`], [`net::dot_reader`] |
//! | [`smtp`] | the SMTP client session; [`smtp::data`] (the DATA/BDAT writer), [`smtp::submit`] (smtp-send's work), [`smtp::queue`] and [`smtp::retry`] (the queue and its flush) |
//! | [`pop3`] | the POP3 client session (RFC 1939, 2449, 2595, 5034); [`pop3::fetch`] (pop3-fetch's work: plan, pipelined RETR, store, record, delete) |
//! | [`progress`] | the progress bar of long fetches, on a terminal only |
//! | [`imap`] | the IMAP client: [`imap::session`] (read-only by construction), [`imap::literal`] (arguments on the wire, literals read with a bound), [`imap::response`] (the response parser), [`imap::mailbox_name`] (modified UTF-7 names), [`imap::body_structure`] (BODYSTRUCTURE as the MIME part tree) |
//! | [`dns`] | DNS resolution of mail routes (MX, RFC 5321 §5.1, RFC 7505): [`dns::client`], and [`dns::probe`] (`mx-lookup --probe`) |
//! | [`store`] | mailbox storage: Maildir and mbox delivery, durable files, the fetch state file ([`store::fetch_state`]) |
//! | [`random`] | unpredictable ids and boundaries |

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
pub mod grammar;
pub mod header;
pub mod imap;
pub mod input;
pub mod lint;
pub mod mbox_reader;
pub mod media_type;
pub mod message;
pub mod mime_reader;
pub mod net;
pub mod output;
pub mod pop3;
pub mod progress;
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
