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
//! | [`tools`] | each tool's command-line definition (the usage is the spec) |

pub mod cli;
pub mod dns;
pub mod domain;
pub mod exit;
pub mod input;
pub mod output;
pub mod tools;

pub use exit::{Error, ExitStatus};
