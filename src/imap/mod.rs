//! The IMAP client (IMAP4rev1, RFC 3501) of `imap-list`: [`session`], one
//! method per protocol step, read-only by construction (EXAMINE, never
//! SELECT; no STORE, EXPUNGE or APPEND; no FETCH item that sets `\Seen`),
//! over the parts it is built on: [`literal`], how a string argument goes
//! on the wire (atom, quoted string or literal, with LITERAL+/LITERAL-,
//! RFC 7888) and how a literal in a server response is read with a bound;
//! [`response`], the parser of server responses (RFC 3501 §7, §9) with
//! literals streamed where they hold message text; [`mailbox_name`],
//! mailbox names in modified UTF-7 (RFC 3501 §5.1.3) or UTF-8 (RFC 6855);
//! and [`body_structure`], a BODYSTRUCTURE as `mime-unpack`'s part tree,
//! and a part fetched alone decoded.
//!
//! What `imap-list` does with a session: [`summary`] (a folder or a
//! message as one record), [`search`] (a user's search keys, passed
//! safely), [`fetch`] (listing in pipelined chunks, messages by UID to
//! stdout, a Maildir or an mbox) and [`archive`] (the download-and-keep
//! archive of `--new`, recorded in a
//! [`crate::store::folder_state::FolderState`]).

pub mod archive;
pub mod body_structure;
pub mod fetch;
pub mod literal;
pub mod mailbox_name;
pub mod response;
pub mod search;
pub mod session;
pub mod summary;

use std::io::Write;

use crate::error::Error;
use crate::net::connection::Connection;
use literal::ImapWire;

/// Longest response line accepted outside literals: a `SEARCH` answer for
/// a large folder runs to megabytes, but never without a bound.
pub const MAX_LINE: usize = 8 << 20;

/// The connection as the IMAP wire: every line and literal that may hold a
/// secret is overwritten in the write buffer once sent.
impl ImapWire for Connection {
    fn send_line(&mut self, line: &str, shown: &str) -> Result<(), Error> {
        match line == shown {
            true => self.write_line(line),
            false => self.write_secret_line(line, shown),
        }
    }

    fn send_literal(&mut self, data: &[u8], shown: &str) -> Result<(), Error> {
        self.write_secret_data(data, shown)
    }

    fn read_line(&mut self) -> Result<Vec<u8>, Error> {
        Connection::read_line(self, MAX_LINE)
    }

    fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error> {
        Connection::read_data(self, len, sink)
    }
}
