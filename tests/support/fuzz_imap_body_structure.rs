//! Arbitrary bytes as FETCH responses, every list value in them read as a
//! BODYSTRUCTURE through `mailkit::imap::body_structure::parts`:
//!
//! - nothing panics; a value that is not a body is a protocol error (76);
//! - the parts are bounded: no more than the lists in the value, none
//!   deeper than mime_reader's depth limit allows, each number once, and
//!   every number after the first within one that came before it (a
//!   container before what it holds);
//! - the tree prints (text and JSON), every number has a section to
//!   fetch, and the input itself decoded as any of the parts' content
//!   does not fail.

use mailkit::ErrorKind;
use mailkit::imap::body_structure::{PartDecoder, parts, section};
use mailkit::imap::response::{Limits, Response, Untagged, Value};
use mailkit::mime_reader;
use mailkit::unpack::write_tree;

use super::imap_response_props::read_all;

/// Checks one fuzz input (see the module comment).
pub fn imap_body_structure(data: &[u8]) {
    let limits = Limits {
        max_literal: 1 << 16,
        max_collected: 1 << 20,
        max_streamed: 1 << 20,
        ..Limits::default()
    };
    for (response, _) in read_all(data, &limits, false) {
        let Response::Untagged(Untagged::Fetch { items, .. }) = response else {
            continue;
        };
        for (_, value) in &items {
            if value.as_list().is_some() {
                check(value, data);
            }
        }
    }
}

/// The properties of one value read as a body structure.
fn check(value: &Value, data: &[u8]) {
    let tree = match parts(value) {
        Ok(tree) => tree,
        Err(error) => {
            assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
            return;
        }
    };
    assert!(!tree.is_empty());
    assert!(tree.len() <= lists(value), "{} parts", tree.len());
    let max_depth = mime_reader::Limits::default().max_depth;
    let mut seen = std::collections::HashSet::new();
    for (at, part) in tree.iter().enumerate() {
        assert!(part.depth <= max_depth + 1, "depth {}", part.depth);
        assert!(seen.insert(part.id.as_str()), "part {} twice", part.id);
        if at > 0 {
            let (parent, _) = part.id.rsplit_once('.').unwrap_or(("", ""));
            assert!(
                parent.is_empty() || seen.contains(parent),
                "part {} before its container",
                part.id
            );
        }
        assert!(!section(&part.id).is_empty());
    }
    for json in [false, true] {
        write_tree(&mut Vec::new(), &tree, json).unwrap();
    }
    for part in tree.iter().take(4) {
        let mut decoder = PartDecoder::new(part, Vec::new());
        std::io::Write::write_all(&mut decoder, data).unwrap();
        decoder.finish().unwrap();
    }
}

/// The lists in a value, itself included.
fn lists(value: &Value) -> usize {
    match value {
        Value::List(list) => 1 + list.iter().map(lists).sum::<usize>(),
        _ => 0,
    }
}
