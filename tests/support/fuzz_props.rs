//! Properties the fuzz targets check, shared with `tests/fuzz_regressions.rs`
//! so that every input the fuzzer ever found interesting keeps being checked.

use std::io::{BufRead, Read};

use mailkit::input::{LineRead, read_bounded_line};

/// `mail_domain` never panics; what it accepts is a lower-case A-label name
/// within the DNS limits, and accepting it again gives the same name.
pub fn mail_domain(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(domain) = mailkit::domain::mail_domain(&text) {
        assert!(domain.len() <= 253, "{domain:?}");
        assert!(domain.split('.').all(|l| !l.is_empty() && l.len() <= 63));
        assert!(
            domain
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
            "{domain:?}"
        );
        assert_eq!(mailkit::domain::mail_domain(&domain).as_ref(), Ok(&domain));
    }
}

/// `read_bounded_line` over a reader that hands out tiny chunks agrees with
/// a plain split on LF, and never keeps more than the bound.
pub fn bounded_lines(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let max = usize::from(first % 40);
    let chunk = usize::from(first / 40) + 1;
    let mut reader = std::io::BufReader::with_capacity(chunk, Trickle(rest));
    let mut got = Vec::new();
    let mut buf = Vec::new();
    loop {
        match read_bounded_line(&mut reader, &mut buf, max).unwrap() {
            LineRead::End => break,
            read => {
                assert!(buf.len() <= max);
                got.push((buf.clone(), read == LineRead::TooLong));
            }
        }
    }
    assert!(reader.fill_buf().unwrap().is_empty());
    assert_eq!(got, reference_lines(rest, max));
}

fn reference_lines(data: &[u8], max: usize) -> Vec<(Vec<u8>, bool)> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.is_empty() || data.ends_with(b"\n") {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|line| {
            if line.len() > max {
                (line[..max].to_vec(), true)
            } else {
                (line.strip_suffix(b"\r").unwrap_or(line).to_vec(), false)
            }
        })
        .collect()
}

/// A reader that returns at most three bytes a call.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.0.len()).min(3);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// `parse_address_list` never panics, and every mailbox it returns
/// re-parses from its addr-spec to the same local part and domain.
pub fn address_list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(list) = mailkit::address::parse_address_list(&text) {
        assert!(!list.is_empty());
        for mailbox in mailkit::address::mailboxes(&list) {
            let again = mailkit::address::parse_mailbox(&mailbox.addr_spec())
                .unwrap_or_else(|e| panic!("{:?} does not re-parse: {e}", mailbox.addr_spec()));
            assert_eq!(
                (&again.local, &again.domain),
                (&mailbox.local, &mailbox.domain)
            );
        }
    }
}

/// Header parsing never panics and stays within the input.
pub fn message_header(data: &[u8]) {
    let header = mailkit::message::parse_header(data);
    assert!(header.body_start <= data.len());
    for field in &header.fields {
        assert!(!field.name.is_empty() && !field.name.contains(':'));
        let _ = mailkit::message::parse_content_type(&field.value);
    }
}
