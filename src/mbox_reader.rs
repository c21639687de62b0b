//! Reading an mbox (RFC 4155) one message at a time, streaming: the input
//! is split on separator lines as it is read, never held whole.
//!
//! An input whose first line starts with `From ` is an mbox: each line
//! starting with `From ` that stands at the start or after a blank line
//! begins a new message (the separator line itself belongs to no message,
//! nor does the blank line before it, nor a blank line that ends the
//! file), and body lines quoted the mboxrd/mboxo way are un-quoted: a line
//! matching `>+From ` loses one `>` (what [`crate::store::mbox`] writes
//! comes back as it was given). A `From ` line that does not follow a blank
//! line is message text. Any other input, an empty one included, is one
//! message, passed on unchanged. Lines end in LF or CRLF.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use std::io::Read;
//! let mut mbox = mailkit::mbox_reader::MboxReader::new(std::io::stdin().lock());
//! while let Some(mut message) = mbox.next_message()? {
//!     let (number, line) = (message.number(), message.first_line());
//!     let mut text = Vec::new();
//!     message.read_to_end(&mut text)?;
//!     println!("message {number} starts on line {line}: {} octets", text.len());
//! }
//! # Ok(()) }
//! ```

use std::io::{self, BufRead, Read};

/// Longest piece of a line handled at once: a longer line comes in
/// pieces, only the first of which can be a separator or quoted.
const MAX_PIECE: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing read yet.
    Start,
    /// Inside a message.
    Message,
    /// A separator was read; the next message starts after it.
    Between,
    /// The input has ended.
    End,
}

/// The messages of an mbox, one after another (see the module text).
pub struct MboxReader<R> {
    reader: R,
    state: State,
    /// Whether the input is an mbox (its first line is a `From ` line).
    mbox: bool,
    /// Output of the current message ready to be read, and how far.
    out: Vec<u8>,
    pos: usize,
    /// A piece read ahead (after a blank line) and not handled yet.
    ahead: Option<(Vec<u8>, bool)>,
    /// Whether the next byte of the input starts a line.
    at_line_start: bool,
    /// The line number (1-based) of the next byte of the input.
    line: u64,
    /// Messages begun so far, and the line the last one starts on.
    count: u64,
    first_line: u64,
}

impl<R: BufRead> MboxReader<R> {
    /// The messages of `reader`.
    pub fn new(reader: R) -> Self {
        MboxReader {
            reader,
            state: State::Start,
            mbox: false,
            out: Vec::new(),
            pos: 0,
            ahead: None,
            at_line_start: true,
            line: 1,
            count: 0,
            first_line: 1,
        }
    }

    /// Whether the input is an mbox; known once the first message is
    /// asked for.
    pub fn is_mbox(&self) -> bool {
        self.mbox
    }

    /// How many messages were begun so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The next message, as a reader; what the caller left unread of the
    /// one before is skipped. `None` after the last.
    pub fn next_message(&mut self) -> io::Result<Option<Message<'_, R>>> {
        while self.state == State::Message {
            self.advance()?;
        }
        match self.state {
            State::Start => {
                let mut first = Vec::new();
                let Some(starts) = self.read_piece(&mut first)? else {
                    // Empty input: one empty message.
                    self.state = State::Message;
                    return Ok(Some(self.begin()));
                };
                if first.starts_with(b"From ") {
                    self.mbox = true;
                    self.skip_rest_of_line(&first)?;
                } else {
                    self.ahead = Some((first, starts));
                }
            }
            State::Between => {}
            State::End => return Ok(None),
            State::Message => unreachable!("drained above"),
        }
        self.state = State::Message;
        Ok(Some(self.begin()))
    }

    /// Message `number` (from 1), the ones before it skipped; `None` when
    /// the input ends before it ([`MboxReader::count`] then says how many
    /// there were).
    pub fn nth_message(&mut self, number: u64) -> io::Result<Option<Message<'_, R>>> {
        while self.count + 1 < number {
            if self.next_message()?.is_none() {
                return Ok(None);
            }
        }
        self.next_message()
    }

    /// Reads the input to its end, counting the messages left; gives the
    /// number of messages in all.
    pub fn count_all(&mut self) -> io::Result<u64> {
        while self.next_message()?.is_some() {}
        Ok(self.count)
    }

    fn begin(&mut self) -> Message<'_, R> {
        self.count += 1;
        self.first_line = if self.mbox { self.line } else { 1 };
        self.out.clear();
        self.pos = 0;
        Message { mbox: self }
    }

    /// Reads the next line, or piece of a long line, into `buf`; whether
    /// it starts a line, or `None` at the end of the input.
    fn read_piece(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<bool>> {
        buf.clear();
        let starts_line = self.at_line_start;
        let mut ends_line = false;
        while buf.len() < MAX_PIECE {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            let window = &chunk[..chunk.len().min(MAX_PIECE - buf.len())];
            let take = match memchr::memchr(b'\n', window) {
                Some(at) => {
                    ends_line = true;
                    at + 1
                }
                None => window.len(),
            };
            buf.extend_from_slice(&window[..take]);
            self.reader.consume(take);
            if ends_line {
                break;
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        self.at_line_start = ends_line;
        self.line += u64::from(ends_line);
        Ok(Some(starts_line))
    }

    /// Skips what is left of a line whose first piece was `piece`.
    fn skip_rest_of_line(&mut self, piece: &[u8]) -> io::Result<()> {
        if piece.ends_with(b"\n") {
            return Ok(());
        }
        let mut rest = Vec::new();
        while self.read_piece(&mut rest)?.is_some() && !rest.ends_with(b"\n") {}
        Ok(())
    }

    /// Puts the next output of the current message in `out`; leaves it
    /// empty and the state changed when the message has ended.
    fn advance(&mut self) -> io::Result<()> {
        self.pos = 0;
        let mut out = std::mem::take(&mut self.out);
        let next = match self.ahead.take() {
            Some((piece, starts)) => {
                out = piece;
                Some(starts)
            }
            None => self.read_piece(&mut out)?,
        };
        self.out = out;
        let Some(starts_line) = next else {
            self.state = State::End;
            return Ok(());
        };
        if !self.mbox || !starts_line {
            return Ok(());
        }
        if self.out == b"\n" || self.out == b"\r\n" {
            let mut after = Vec::new();
            match self.read_piece(&mut after)? {
                // A blank line that ends the file belongs to the format.
                None => {
                    self.out.clear();
                    self.state = State::End;
                }
                Some(_) if after.starts_with(b"From ") => {
                    self.out.clear();
                    self.skip_rest_of_line(&after)?;
                    self.state = State::Between;
                }
                Some(starts) => self.ahead = Some((after, starts)),
            }
            return Ok(());
        }
        let quotes = self.out.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && self.out[quotes..].starts_with(b"From ") {
            self.out.remove(0);
        }
        Ok(())
    }
}

/// One message of an mbox, read as any other input.
pub struct Message<'a, R> {
    mbox: &'a mut MboxReader<R>,
}

impl<R> Message<'_, R> {
    /// Its number in the input, from 1.
    pub fn number(&self) -> u64 {
        self.mbox.count
    }

    /// Whether it is a message of an mbox (not a lone message).
    pub fn is_mbox(&self) -> bool {
        self.mbox.mbox
    }

    /// The line of the input its first line is on (after the separator
    /// line, in an mbox), from 1.
    pub fn first_line(&self) -> u64 {
        self.mbox.first_line
    }
}

impl<R: BufRead> Read for Message<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Message<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let mbox = &mut *self.mbox;
        while mbox.pos >= mbox.out.len() && mbox.state == State::Message {
            mbox.advance()?;
        }
        if mbox.state != State::Message && mbox.pos >= mbox.out.len() {
            return Ok(&[]);
        }
        Ok(&mbox.out[mbox.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.mbox.pos = (self.mbox.pos + amount).min(self.mbox.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each message's text, number and first line; and whether it was an
    /// mbox. `chunk` bounds what one read of the input brings.
    fn split_by(input: &[u8], chunk: usize) -> (Vec<(String, u64, u64)>, bool) {
        let reader = io::BufReader::with_capacity(chunk, input);
        let mut mbox = MboxReader::new(reader);
        let mut messages = Vec::new();
        while let Some(mut message) = mbox.next_message().unwrap() {
            let (number, line) = (message.number(), message.first_line());
            let mut text = String::new();
            message.read_to_string(&mut text).unwrap();
            messages.push((text, number, line));
        }
        assert_eq!(mbox.count(), messages.len() as u64);
        (messages, mbox.is_mbox())
    }

    fn split(input: &str) -> (Vec<(String, u64, u64)>, bool) {
        let whole = split_by(input.as_bytes(), 64 * 1024);
        for chunk in [1, 2, 3, 7] {
            assert_eq!(split_by(input.as_bytes(), chunk), whole, "chunk {chunk}");
        }
        whole
    }

    fn texts(input: &str) -> Vec<String> {
        split(input).0.into_iter().map(|(t, _, _)| t).collect()
    }

    #[test]
    fn separators_at_the_start_and_after_a_blank_line() {
        let input = "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody one\n\n\
                     From b@x Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody two\n";
        let (messages, mbox) = split(input);
        assert!(mbox);
        assert_eq!(
            messages,
            [
                ("Subject: one\n\nbody one\n".to_string(), 1, 2),
                ("Subject: two\n\nbody two\n".to_string(), 2, 7),
            ]
        );
    }

    #[test]
    fn a_from_line_not_after_a_blank_line_is_text() {
        let input =
            "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nline\nFrom here on\n\nmore\n";
        assert_eq!(
            texts(input),
            ["Subject: one\n\nline\nFrom here on\n\nmore\n"]
        );
    }

    #[test]
    fn quoted_from_lines_lose_one_quote() {
        let input = "From a@x Mon Jan  1 00:00:00 2024\nSubject: q\n\n>From the start\n>>From deeper\n> From not\n>Fromage\nx >From\n";
        assert_eq!(
            texts(input),
            ["Subject: q\n\nFrom the start\n>From deeper\n> From not\n>Fromage\nx >From\n"]
        );
    }

    #[test]
    fn crlf_files() {
        let input = "From a@x Mon Jan  1 00:00:00 2024\r\nSubject: one\r\n\r\nbody\r\n>From x\r\n\r\n\
                     From b@x Mon Jan  1 00:00:00 2024\r\nSubject: two\r\n\r\nbody\r\n\r\n";
        let (messages, _) = split(input);
        assert_eq!(
            messages,
            [
                ("Subject: one\r\n\r\nbody\r\nFrom x\r\n".to_string(), 1, 2),
                ("Subject: two\r\n\r\nbody\r\n".to_string(), 2, 8),
            ]
        );
    }

    #[test]
    fn only_the_last_blank_line_before_a_separator_goes() {
        let input = "From a\nS: 1\n\nb\n\n\n\nFrom b\nS: 2\n\n";
        assert_eq!(texts(input), ["S: 1\n\nb\n\n\n", "S: 2\n"]);
    }

    #[test]
    fn an_empty_input_and_an_empty_mbox() {
        assert_eq!(split(""), (vec![(String::new(), 1, 1)], false));
        assert_eq!(split("From a\n"), (vec![(String::new(), 1, 2)], true));
        assert_eq!(
            split("From a\n\nFrom b\n"),
            (vec![(String::new(), 1, 2), (String::new(), 2, 4)], true)
        );
    }

    #[test]
    fn the_nth_message_and_the_count() {
        let input = "From a\nS: 1\n\nFrom b\nS: 2\n\nFrom c\nS: 3\n";
        let mut mbox = MboxReader::new(input.as_bytes());
        let mut text = String::new();
        let mut second = mbox.nth_message(2).unwrap().unwrap();
        assert_eq!((second.number(), second.first_line()), (2, 5));
        second.read_to_string(&mut text).unwrap();
        assert_eq!(text, "S: 2\n");
        assert_eq!(mbox.count_all().unwrap(), 3);
        let mut mbox = MboxReader::new(input.as_bytes());
        assert!(mbox.nth_message(4).unwrap().is_none());
        assert_eq!(mbox.count(), 3);
        let mut plain = MboxReader::new(&b"S: x\n\nbody\n"[..]);
        assert!(plain.nth_message(2).unwrap().is_none());
        assert_eq!(plain.count(), 1);
    }

    #[test]
    fn what_the_mbox_store_writes_comes_back_as_it_was_given() {
        use crate::store::mbox::{FromQuoter, separator_line};
        use std::io::Write;
        let messages = [
            "Subject: 1\n\nFrom the start\n\nFrom a line after a blank one\n",
            "Subject: 2\n\n>From quoted\n>>From twice\n\n\n",
            "",
            "From: a@x\nSubject: 4\n\nlast\n",
        ];
        let mut mbox = Vec::new();
        for message in messages {
            mbox.extend_from_slice(separator_line("a@x", std::time::UNIX_EPOCH).as_bytes());
            let mut quoter = FromQuoter::new(&mut mbox);
            quoter.write_all(message.as_bytes()).unwrap();
            quoter.finish().unwrap();
            mbox.push(b'\n');
        }
        assert_eq!(texts(std::str::from_utf8(&mbox).unwrap()), messages);
    }

    #[test]
    fn other_input_is_one_message_unchanged() {
        let input = "Subject: x\n\nbody\n\nFrom me\n>From you\n\n";
        let (messages, mbox) = split(input);
        assert!(!mbox);
        assert_eq!(messages, [(input.to_string(), 1, 1)]);
    }

    #[test]
    fn unread_messages_are_skipped_and_long_lines_pass_whole() {
        let long = "y".repeat(3 * MAX_PIECE + 5);
        let input = format!("From a {long}\nS: 1\n\n{long}\n\nFrom b\nS: 2\n\n>From {long}\n");
        let mut mbox = MboxReader::new(input.as_bytes());
        mbox.next_message().unwrap().unwrap();
        let mut second = mbox.next_message().unwrap().unwrap();
        assert_eq!(second.first_line(), 7);
        let mut text = String::new();
        second.read_to_string(&mut text).unwrap();
        assert_eq!(text, format!("S: 2\n\nFrom {long}\n"));
        assert!(mbox.next_message().unwrap().is_none());
        assert_eq!(split(&input).0[0].0, format!("S: 1\n\n{long}\n"));
    }
}
