//! How tools speak: records on stdout (text lines or JSON Lines),
//! diagnostics on stderr, terminal-safe and colour only where wanted.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};

use serde::Serialize;

/// Writes one JSON object and a newline, then flushes so that a reader at
/// the other end of a pipe sees each record as soon as it exists.
pub fn write_json_line<W: Write, T: Serialize>(out: &mut W, record: &T) -> io::Result<()> {
    write_json_record(out, record)?;
    out.flush()
}

/// Writes one JSON object and a newline, without flushing (for callers
/// that flush when they run out of ready records). Strings keep their
/// value, but the characters [`printable`] escapes are written as `\uXXXX`
/// escapes, so a line shown on a terminal obeys none of them.
pub fn write_json_record<W: Write, T: Serialize>(out: &mut W, record: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, TerminalSafeJson);
    record.serialize(&mut serializer)?;
    out.write_all(b"\n")
}

/// serde_json's compact format, with control and invisible characters in
/// strings escaped (serde_json itself escapes only those below U+0020).
struct TerminalSafeJson;

impl serde_json::ser::Formatter for TerminalSafeJson {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

/// Writes one text line (a trailing newline is added) and flushes.
pub fn write_text_line<W: Write>(out: &mut W, line: &str) -> io::Result<()> {
    out.write_all(line.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// A fast writer to stdout for bulk data (a whole message, a decoded
/// attachment): it writes to a duplicate of the stdout descriptor, so no
/// line buffering splits the writes, and a thread of its own does the
/// writing while the caller encodes the next buffer. Data is handed over in
/// 1 MiB buffers, at most four in flight. Call [`BulkWriter::finish`] to
/// learn whether everything was written.
pub fn bulk_stdout() -> io::Result<BulkWriter> {
    use std::os::fd::AsFd;
    let fd = io::stdout().as_fd().try_clone_to_owned()?;
    Ok(BulkWriter::new(std::fs::File::from(fd)))
}

/// See [`bulk_stdout`].
pub struct BulkWriter {
    buffer: Vec<u8>,
    sender: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    writer: Option<std::thread::JoinHandle<io::Result<()>>>,
}

const BULK_BUFFER: usize = 1 << 20;

impl BulkWriter {
    /// A writer handing buffers to a thread that writes them to `sink`.
    pub fn new<W: Write + Send + 'static>(mut sink: W) -> BulkWriter {
        let (sender, full) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (give_back, spare) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let writer = std::thread::spawn(move || {
            for mut buffer in full {
                sink.write_all(&buffer)?;
                buffer.clear();
                let _ = give_back.try_send(buffer);
            }
            sink.flush()
        });
        BulkWriter {
            buffer: Vec::with_capacity(BULK_BUFFER),
            sender: Some(sender),
            spare,
            writer: Some(writer),
        }
    }

    fn hand_over(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BULK_BUFFER));
        let full = std::mem::replace(&mut self.buffer, next);
        let sent = self.sender.as_ref().map(|s| s.send(full));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped: its error is what finish() reports.
            _ => self.join().and(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn join(&mut self) -> io::Result<()> {
        self.sender = None;
        match self.writer.take().map(|w| w.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the output thread failed")),
            None => Ok(()),
        }
    }

    /// Writes out everything and reports the first error.
    pub fn finish(mut self) -> io::Result<()> {
        self.hand_over()?;
        self.join()
    }
}

impl Write for BulkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buffer.len() + data.len() > BULK_BUFFER {
            self.hand_over()?;
        }
        if data.len() >= BULK_BUFFER {
            self.buffer.extend_from_slice(data);
            self.hand_over()?;
        } else {
            self.buffer.extend_from_slice(data);
        }
        Ok(data.len())
    }

    /// Hands over what is buffered; it is written soon, not necessarily
    /// before this returns.
    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()
    }
}

impl Drop for BulkWriter {
    fn drop(&mut self) {
        let _ = self.hand_over();
        let _ = self.join();
    }
}

/// Text from outside (servers, messages, input) made safe for a terminal:
/// control characters other than tab, and the invisible characters of
/// [`is_invisible`] (a right-to-left override makes `invoice\u{202e}fdp.exe`
/// show as `invoiceexe.pdf`), become visible escapes such as `\u{1b}` and
/// `\u{202e}`. Ordinary non-ASCII letters are kept.
pub fn printable(text: &str) -> Cow<'_, str> {
    let plain_ascii = text
        .bytes()
        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t');
    if plain_ascii || !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            safe.extend(c.escape_default());
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

fn is_unsafe(c: char) -> bool {
    c != '\t' && (c.is_control() || is_invisible(c))
}

/// Whether `c` changes how the text around it shows without showing
/// itself: every Unicode format character (general category Cf, Unicode
/// 16: the bidirectional controls U+061C, U+200E, U+200F, U+202A–U+202E,
/// U+2066–U+2069 of UAX #9, zero-width characters U+200B–U+200D, U+2060,
/// U+FEFF, soft hyphen, tags...), the unassigned rest of U+2060–U+206F, the
/// line and paragraph separators U+2028 and U+2029, and the blank fillers
/// (combining grapheme joiner, Hangul fillers) that spoofed names use.
/// Such characters let a sender-chosen name or server text show as
/// something it is not; control characters are [`char::is_control`].
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// Whether to colour a stream: only a terminal, and never when `NO_COLOR`
/// is set to a non-empty value (no-color.org).
pub fn colour_wanted(is_terminal: bool) -> bool {
    colour_wanted_with(is_terminal, std::env::var_os("NO_COLOR").as_deref())
}

fn colour_wanted_with(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// Diagnostics on stderr: `TOOL: error: ...`, `TOOL: warning: ...`,
/// `TOOL: note: ...`, and transcript lines.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    tool: &'static str,
    quiet: bool,
    colour: bool,
}

impl Diagnostics {
    /// Diagnostics for `tool`; `quiet` drops warnings and notes.
    pub fn new(tool: &'static str, quiet: bool) -> Self {
        Diagnostics {
            tool,
            quiet,
            colour: colour_wanted(io::stderr().is_terminal()),
        }
    }

    /// An error line; always printed.
    pub fn error(&self, message: &str) {
        self.line("error", "1;31", message);
    }

    /// A warning line, unless quiet.
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            self.line("warning", "1;33", message);
        }
    }

    /// A note line, unless quiet.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            self.line("note", "1;36", message);
        }
    }

    /// A transcript line as it is (already marked `->`/`<-`), made printable.
    pub fn transcript(&self, line: &str) {
        let _ = writeln!(io::stderr().lock(), "{}", printable(line));
    }

    fn line(&self, level: &str, ansi: &str, message: &str) {
        let message = printable(message);
        let mut err = io::stderr().lock();
        // A closed stderr leaves no one to tell.
        let _ = if self.colour {
            writeln!(err, "{}: \x1b[{ansi}m{level}:\x1b[0m {message}", self.tool)
        } else {
            writeln!(err, "{}: {level}: {message}", self.tool)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(printable("plain\ttext"), "plain\ttext");
        assert_eq!(printable("bad\x1b[2Jline\r\n"), "bad\\u{1b}[2Jline\\r\\n");
        assert_eq!(printable("c1\u{9b}x"), "c1\\u{9b}x");
    }

    #[test]
    fn format_and_bidi_characters_are_escaped() {
        assert_eq!(
            printable("invoice\u{202E}fdp.exe"),
            "invoice\\u{202e}fdp.exe"
        );
        for c in [
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{2060}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{2028}',
            '\u{E0041}',
            '\u{3164}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(
                printable(&text),
                format!("a{}b", c.escape_default()),
                "{c:?}"
            );
        }
        // Ordinary letters, accents and scripts of every direction stay.
        for text in [
            "Grüße",
            "日本語.pdf",
            "עברית",
            "العربية",
            "Ελληνικά",
            "naïve café",
        ] {
            assert_eq!(printable(text), text);
            assert!(matches!(printable(text), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour_wanted_with(true, None));
        assert!(colour_wanted_with(true, Some(OsStr::new(""))));
        assert!(!colour_wanted_with(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted_with(false, None));
    }

    #[test]
    fn bulk_writer_writes_everything_in_order() {
        let (sink, seen) = std::sync::mpsc::channel::<Vec<u8>>();
        struct Collect(std::sync::mpsc::Sender<Vec<u8>>);
        impl Write for Collect {
            fn write(&mut self, data: &[u8]) -> io::Result<usize> {
                self.0.send(data.to_vec()).unwrap();
                Ok(data.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut writer = BulkWriter::new(Collect(sink));
        let mut expected = Vec::new();
        for i in 0..5000u32 {
            let piece = vec![(i % 251) as u8; (i as usize * 37) % 3000];
            writer.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
        }
        writer.finish().unwrap();
        assert_eq!(seen.iter().flatten().collect::<Vec<u8>>(), expected);
    }

    #[test]
    fn bulk_writer_reports_a_failing_sink() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut writer = BulkWriter::new(Broken);
        let result = (0..10).try_for_each(|_| writer.write_all(&vec![0u8; BULK_BUFFER]));
        let finished = writer.finish();
        assert!(result.is_err() || finished.is_err());
    }

    #[test]
    fn json_strings_escape_what_a_terminal_would_obey() {
        let mut out = Vec::new();
        let value = serde_json::json!({"n": "invoice\u{202E}fdp.exe\u{7f}\u{9b}\u{E0041}é\t"});
        write_json_record(&mut out, &value).unwrap();
        let line = String::from_utf8(out).unwrap();
        assert_eq!(
            line,
            "{\"n\":\"invoice\\u202efdp.exe\\u007f\\u009b\\udb40\\udc41é\\t\"}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn json_lines_are_one_object_a_line() {
        let mut out = Vec::new();
        write_json_line(&mut out, &serde_json::json!({"a_b": 1})).unwrap();
        write_json_line(&mut out, &serde_json::json!({"c": "x\ny"})).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a_b\":1}\n{\"c\":\"x\\ny\"}\n"
        );
    }
}
