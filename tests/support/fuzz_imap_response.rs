//! Arbitrary bytes as what an IMAP server sends, read response after
//! response through `mailkit::imap::response` over a wire that cuts lines
//! and literals exactly as the connection does (a line up to LF, one CR
//! before it dropped; a literal as the next n octets):
//!
//! - nothing panics; every error is a protocol error (76) or the stream
//!   ending (75), and every response read consumes input;
//! - under small limits, no list is nested deeper than the depth bound and
//!   no response holds more values than the item bound;
//! - reading with a sink gives the same responses, each message text item
//!   (`BODY[...]`, `BINARY[...]`, `RFC822...`) that was a string given as
//!   `Streamed` with its length, and the sink holds those strings in order;
//! - every FETCH read, written back with each string as a literal, reads
//!   back as the same FETCH.

use std::io::{BufRead, Cursor, Write};

use mailkit::imap::literal::{ImapWire, copy_literal};
use mailkit::imap::response::{Limits, Response, Untagged, Value, read_response, read_response_to};
use mailkit::{Error, ErrorKind};

/// The most responses read from one input.
const MAX_RESPONSES: usize = 200;

/// Checks one fuzz input (see the module comment).
pub fn imap_response(data: &[u8]) {
    let small = Limits {
        max_literal: 64,
        max_collected: 128,
        max_streamed: 1 << 20,
        max_depth: 8,
        max_items: 64,
    };
    for (response, _) in read_all(data, &small, false) {
        check_bounds(&response, &small);
    }
    let large = Limits {
        max_literal: 1 << 20,
        max_collected: 1 << 20,
        max_streamed: 1 << 20,
        max_depth: 100,
        max_items: 1 << 16,
    };
    let kept = read_all(data, &large, false);
    let streamed = read_all(data, &large, true);
    assert_eq!(kept.len(), streamed.len());
    for ((kept, _), (streamed, sink)) in kept.iter().zip(&streamed) {
        assert_eq!(&as_streamed(kept), streamed);
        assert_eq!(&message_text(kept), sink);
        check_round_trip(kept, &large);
    }
}

/// The server's stream as the connection reads it.
struct Wire {
    server: Cursor<Vec<u8>>,
}

impl ImapWire for Wire {
    fn send_line(&mut self, _line: &str, _shown: &str) -> Result<(), Error> {
        Ok(())
    }

    fn send_literal(&mut self, _data: &[u8], _shown: &str) -> Result<(), Error> {
        Ok(())
    }

    fn read_line(&mut self) -> Result<Vec<u8>, Error> {
        let mut line = Vec::new();
        self.server
            .read_until(b'\n', &mut line)
            .expect("reading a cursor");
        if line.pop() != Some(b'\n') {
            return Err(Error::new(ErrorKind::ConnectionLost, "connection closed"));
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(line)
    }

    fn read_data(&mut self, len: u64, sink: &mut dyn Write) -> Result<(), Error> {
        copy_literal(&mut self.server, len, sink)
    }
}

/// Every response up to the first error or the end, each with what went
/// to the sink while reading it (when `stream`).
pub fn read_all(data: &[u8], limits: &Limits, stream: bool) -> Vec<(Response, Vec<u8>)> {
    let mut wire = Wire {
        server: Cursor::new(data.to_vec()),
    };
    let mut responses = Vec::new();
    while responses.len() < MAX_RESPONSES {
        let before = wire.server.position();
        let mut sink = Vec::new();
        let read = match stream {
            true => read_response_to(&mut wire, limits, &mut sink),
            false => read_response(&mut wire, limits),
        };
        match read {
            Ok(response) => {
                assert!(wire.server.position() > before, "{response:?} read nothing");
                responses.push((response, sink));
            }
            Err(error) => {
                let kind = error.kind();
                assert!(
                    kind == ErrorKind::Protocol || kind == ErrorKind::ConnectionLost,
                    "{error}"
                );
                break;
            }
        }
    }
    responses
}

/// The values a response holds, in order (FETCH items and unknown data).
fn values(response: &Response) -> Vec<&Value> {
    match response {
        Response::Untagged(Untagged::Fetch { items, .. }) => {
            items.iter().map(|(_, value)| value).collect()
        }
        Response::Untagged(Untagged::Other { rest, .. }) => vec![rest],
        Response::Untagged(Untagged::List { extended, .. }) => extended.iter().collect(),
        _ => Vec::new(),
    }
}

/// The bounds hold in what was read.
fn check_bounds(response: &Response, limits: &Limits) {
    let mut count = 0;
    for value in values(response) {
        check_value(value, limits, 1, &mut count);
    }
    assert!(
        count <= limits.max_items + 1,
        "{count} values: {response:?}"
    );
}

/// Depth and count of one value (unknown data is wrapped in one more
/// list than was sent).
fn check_value(value: &Value, limits: &Limits, depth: usize, count: &mut usize) {
    *count += 1;
    match value {
        Value::List(list) => {
            assert!(depth <= limits.max_depth + 1, "nested {depth} deep");
            for element in list {
                check_value(element, limits, depth + 1, count);
            }
        }
        Value::Streamed(_) => panic!("streamed without a sink"),
        _ => {}
    }
}

/// Whether a FETCH item carries message text.
fn is_message_text(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("BODY[")
        || upper.starts_with("BINARY[")
        || matches!(upper.as_str(), "RFC822" | "RFC822.HEADER" | "RFC822.TEXT")
}

/// `response` as read with a sink: message text strings become
/// `Streamed`.
fn as_streamed(response: &Response) -> Response {
    let Response::Untagged(Untagged::Fetch { seq, items }) = response else {
        return response.clone();
    };
    let items = items
        .iter()
        .map(|(name, value)| match value {
            Value::String(text) if is_message_text(name) => {
                (name.clone(), Value::Streamed(text.len() as u64))
            }
            _ => (name.clone(), value.clone()),
        })
        .collect();
    Response::Untagged(Untagged::Fetch { seq: *seq, items })
}

/// The message text strings of a FETCH, concatenated.
fn message_text(response: &Response) -> Vec<u8> {
    let mut all = Vec::new();
    if let Response::Untagged(Untagged::Fetch { items, .. }) = response {
        for (name, value) in items {
            if let Value::String(text) = value
                && is_message_text(name)
            {
                all.extend_from_slice(text);
            }
        }
    }
    all
}

/// A FETCH written back (strings as literals) reads back the same.
fn check_round_trip(response: &Response, limits: &Limits) {
    let Response::Untagged(Untagged::Fetch { seq, items }) = response else {
        return;
    };
    let mut wire = format!("* {seq} FETCH (").into_bytes();
    for (at, (name, value)) in items.iter().enumerate() {
        if at > 0 {
            wire.push(b' ');
        }
        wire.extend_from_slice(name.as_bytes());
        wire.push(b' ');
        render(value, &mut wire);
    }
    wire.extend_from_slice(b")\r\n");
    let again = read_all(&wire, limits, false);
    assert_eq!(
        again.first().map(|(r, _)| r),
        Some(response),
        "written back as {:?}",
        String::from_utf8_lossy(&wire)
    );
}

/// One value in wire form, every string a literal.
fn render(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Atom(atom) => out.extend_from_slice(atom.as_bytes()),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Nil => out.extend_from_slice(b"NIL"),
        Value::String(text) => {
            out.extend_from_slice(format!("{{{}}}\r\n", text.len()).as_bytes());
            out.extend_from_slice(text);
        }
        Value::List(list) => {
            out.push(b'(');
            for (at, element) in list.iter().enumerate() {
                if at > 0 {
                    out.push(b' ');
                }
                render(element, out);
            }
            out.push(b')');
        }
        Value::Streamed(_) => panic!("streamed without a sink"),
    }
}
