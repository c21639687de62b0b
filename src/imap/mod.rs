//! The IMAP client (IMAP4rev1, RFC 3501) of `imap-list` will live here: the
//! session with one method per protocol step, response parsing, mailbox
//! names in modified UTF-7. For now it holds [`literal`]: how a string
//! argument goes on the wire (atom, quoted string or literal, with
//! LITERAL+/LITERAL-, RFC 7888) and how a literal in a server response is
//! read with a bound.

pub mod literal;
