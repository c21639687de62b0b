//! Input the way every tool takes it, written once (as mblaze's
//! `blaze822_loop`): file arguments, or stdin when there are none or for
//! `-`; a directory argument stands for the messages in it (a Maildir's
//! `cur/` and `new/`); a message that must be read twice is kept
//! ([`Kept`]): a file is reopened, stdin is read once and spooled. A
//! leading mbox `From ` line is tolerated by the readers of messages
//! ([`crate::mime_reader::read_message`]); an mbox of several messages is
//! split as it is read by [`crate::mbox_reader`]. A directory where a message
//! file (or stdin) is expected is status 66 with its path named, in every
//! tool ([`open_file`]); stdin that is a terminal gets one line on stderr
//! saying how to end the message ([`TERMINAL_NOTICE`]). Also line-oriented
//! lists with blank lines and `#` comments skipped.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, ErrorKind};

/// What a tool says once on stderr when it starts reading a message from
/// a terminal, so that a user who typed no file name is not left waiting.
pub const TERMINAL_NOTICE: &str = "reading a message from the terminal; end with Ctrl-D";

/// The tool that speaks the terminal notice ([`set_tool`]).
static TOOL: OnceLock<&'static str> = OnceLock::new();
/// Whether the terminal notice was given in this process.
static ANNOUNCED: AtomicBool = AtomicBool::new(false);

/// Names the tool for the terminal notice (`TOOL: note: ...`); the shared
/// command-line edge ([`crate::cli::main`]) calls it.
pub fn set_tool(tool: &'static str) {
    let _ = TOOL.set(tool);
}

/// Whether to give the terminal notice now: stdin is a terminal and it
/// was not given yet (`announced` is set on the first yes).
pub fn terminal_notice_due(stdin_is_terminal: bool, announced: &AtomicBool) -> bool {
    stdin_is_terminal && !announced.swap(true, Ordering::Relaxed)
}

/// Gives the terminal notice if it is due.
fn announce_terminal() {
    if terminal_notice_due(io::stdin().is_terminal(), &ANNOUNCED) {
        let tool = TOOL.get().copied().unwrap_or("mailkit");
        crate::output::Diagnostics::new(tool, false).note(TERMINAL_NOTICE);
    }
}

/// Opens `path` as a file to read; a missing or unreadable file, or a
/// directory, is status 66 with the path named.
pub fn open_file(path: &Path) -> Result<File, Error> {
    let missing = |why: String| {
        Error::new(
            ErrorKind::MissingInput,
            format!("{}: {why}", path.display()),
        )
    };
    let file = File::open(path).map_err(|e| missing(e.to_string()))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(missing("is a directory, not a file".into()));
    }
    Ok(file)
}

/// Stdin that stays at its end once it got there: a terminal's Ctrl-D
/// ends the input once, and a later read would wait for more typing.
pub struct Stdin {
    inner: io::Stdin,
    ended: bool,
}

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.ended = n == 0;
        Ok(n)
    }
}

/// Stdin, checked: a directory given as stdin (`< dir`) is status 66; a
/// terminal gets the notice ([`TERMINAL_NOTICE`]) once.
pub fn open_stdin() -> Result<Stdin, Error> {
    let stdin = io::stdin();
    let is_dir = rustix::fs::fstat(&stdin).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory
    });
    if is_dir {
        return Err(Error::new(
            ErrorKind::MissingInput,
            "stdin: is a directory, not a file",
        ));
    }
    announce_terminal();
    Ok(Stdin {
        inner: stdin,
        ended: false,
    })
}

/// Content up to this size stays in memory; more goes to an unnamed
/// temporary file.
const REPLAY_IN_MEMORY: usize = 8 << 20;

/// Content read once from a stream (stdin, a queue entry) and readable
/// again from the start, as often as needed: in memory up to 8 MiB, else
/// in an unnamed temporary file.
pub enum Replayable {
    /// Small content, in memory.
    Memory(Vec<u8>),
    /// Large content, in an unnamed temporary file.
    File(File),
}

impl Replayable {
    /// Reads `reader` to its end.
    pub fn read_from(reader: &mut impl Read) -> io::Result<Replayable> {
        let mut head = Vec::new();
        reader
            .take(REPLAY_IN_MEMORY as u64 + 1)
            .read_to_end(&mut head)?;
        if head.len() <= REPLAY_IN_MEMORY {
            return Ok(Replayable::Memory(head));
        }
        let mut file = tempfile::tempfile()?;
        file.write_all(&head)?;
        io::copy(reader, &mut file)?;
        Ok(Replayable::File(file))
    }

    /// A reader from the start.
    pub fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        match self {
            Replayable::Memory(bytes) => Ok(Box::new(bytes.as_slice())),
            Replayable::File(file) => {
                let mut file = file.try_clone()?;
                file.seek(SeekFrom::Start(0))?;
                Ok(Box::new(io::BufReader::with_capacity(64 * 1024, file)))
            }
        }
    }

    /// The first `limit` bytes (all of them when there are fewer).
    pub fn head(&self, limit: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::new();
        self.reader()?.take(limit as u64).read_to_end(&mut head)?;
        Ok(head)
    }
}

/// A reader that keeps a copy of all it reads, to be read again once it
/// is done ([`Recording::finish`]): in memory up to 8 MiB, beyond that in
/// an unnamed temporary file. A reader that stops early (a message found
/// unusable in its first lines) has kept only what it read.
pub struct Recording<R> {
    inner: R,
    memory: Vec<u8>,
    file: Option<File>,
}

impl<R: Read> Recording<R> {
    /// Records what is read from `inner`.
    pub fn new(inner: R) -> Self {
        Recording {
            inner,
            memory: Vec::new(),
            file: None,
        }
    }

    fn keep(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(file) = &mut self.file {
            return file.write_all(data);
        }
        if self.memory.len() + data.len() <= REPLAY_IN_MEMORY {
            self.memory.extend_from_slice(data);
            return Ok(());
        }
        let mut file = tempfile::tempfile()?;
        file.write_all(&self.memory)?;
        file.write_all(data)?;
        self.memory = Vec::new();
        self.file = Some(file);
        Ok(())
    }

    /// What was read, to be read again from its start.
    pub fn finish(self) -> Replayable {
        match self.file {
            Some(file) => Replayable::File(file),
            None => Replayable::Memory(self.memory),
        }
    }
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.keep(&buf[..n])?;
        Ok(n)
    }
}

/// One input named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input: `-`, or no argument at all.
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// The input an argument names: `-` (or none) is stdin.
    pub fn from_arg(arg: Option<&Path>) -> Input {
        match arg {
            Some(path) if path.as_os_str() != "-" => Input::File(path.to_path_buf()),
            _ => Input::Stdin,
        }
    }

    /// Its name in diagnostics: the path, or `-` for stdin.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// Opens it for reading; a missing or unreadable file, or a directory
    /// (as an argument or as stdin), is status 66 with the path named
    /// ([`open_file`]). A terminal on stdin gets the notice, once.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, Error> {
        match self {
            Input::Stdin => Ok(Box::new(BufReader::new(open_stdin()?))),
            Input::File(path) => Ok(Box::new(BufReader::with_capacity(
                64 * 1024,
                open_file(path)?,
            ))),
        }
    }

    /// Makes it readable more than once: a file is reopened each time,
    /// stdin is read now, once, and kept.
    pub fn keep(&self) -> Result<Kept, Error> {
        match self {
            Input::Stdin => Ok(Kept::Replayable(replayable_stdin()?)),
            Input::File(path) => Ok(Kept::File(path.clone())),
        }
    }
}

/// Opens `path` for reading, or stdin for `None` or `-`; a missing or
/// unreadable file is status 66 ([`Input::open`]).
pub fn open(path: Option<&Path>) -> Result<Box<dyn BufRead + Send>, Error> {
    Input::from_arg(path).open()
}

/// A message read twice (linted, then repaired): see [`Input::keep`].
pub enum Kept {
    /// A file, reopened for each reading.
    File(PathBuf),
    /// What a stream (stdin) held, read once.
    Replayable(Replayable),
}

impl Kept {
    /// A reader from the start; a file that went away is status 66.
    pub fn reader(&self) -> Result<Box<dyn BufRead + '_>, Error> {
        match self {
            Kept::File(path) => Ok(Input::File(path.clone()).open()?),
            Kept::Replayable(spool) => Ok(Box::new(BufReader::new(
                spool.reader().map_err(reading_stdin)?,
            ))),
        }
    }
}

/// Reads stdin to its end, once, into memory or (when large) an unnamed
/// temporary file; a directory is status 66 ([`Input::open`]), a read
/// error 74.
pub fn replayable_stdin() -> Result<Replayable, Error> {
    spool(&mut open_stdin()?)
}

/// [`replayable_stdin`], its first `head` octets read first and given to
/// `check`: input that `check` refuses is not read further (an endless
/// header line is not spooled to its end before it is refused).
pub fn replayable_stdin_checked(
    head: usize,
    check: impl FnOnce(&[u8]) -> Result<(), Error>,
) -> Result<Replayable, Error> {
    replayable_checked(open_stdin()?, head, check).map_err(|e| match e {
        Checked::Refused(e) => e,
        Checked::Reading(e) => reading_stdin(e),
    })
}

/// Why [`replayable_checked`] failed.
pub enum Checked {
    /// The check refused the head.
    Refused(Error),
    /// Reading failed.
    Reading(io::Error),
}

/// `reader` made replayable, its first `head` octets read first and given
/// to `check`: input that `check` refuses is not read further.
pub fn replayable_checked(
    reader: impl Read,
    head: usize,
    check: impl FnOnce(&[u8]) -> Result<(), Error>,
) -> Result<Replayable, Checked> {
    let mut recording = Recording::new(reader);
    let mut first = Vec::new();
    (&mut recording)
        .take(head as u64)
        .read_to_end(&mut first)
        .map_err(Checked::Reading)?;
    check(&first).map_err(Checked::Refused)?;
    io::copy(&mut recording, &mut io::sink()).map_err(Checked::Reading)?;
    Ok(recording.finish())
}

/// [`replayable_stdin`] over any stream standing for stdin.
pub fn spool(reader: &mut impl Read) -> Result<Replayable, Error> {
    Replayable::read_from(reader).map_err(reading_stdin)
}

fn reading_stdin(e: io::Error) -> Error {
    Error::new(ErrorKind::LocalIo, format!("reading stdin: {e}"))
}

/// The inputs `args` name, in order: stdin when there are none, `-` as
/// stdin, a directory as the messages in it ([`directory_messages`]), any
/// other argument as a file (opened later, so a missing one is reported
/// where it is read). A directory that cannot be listed goes to `problem`
/// (status 66) and the rest carries on.
pub fn expand(args: &[PathBuf], mut problem: impl FnMut(Error)) -> Vec<Input> {
    if args.is_empty() {
        return vec![Input::Stdin];
    }
    let mut inputs = Vec::new();
    for arg in args {
        if arg.as_os_str() != "-" && arg.is_dir() {
            let files = directory_messages(arg, &mut problem);
            inputs.extend(files.into_iter().map(Input::File));
        } else {
            inputs.push(Input::from_arg(Some(arg)));
        }
    }
    inputs
}

/// The message files of a directory: a Maildir's (both `cur/` and `new/`
/// present) in `cur/` then `new/`, never `tmp/`; otherwise the files in the
/// directory itself. Sorted by name within each; subdirectories skipped. A
/// directory that cannot be listed goes to `problem`.
pub fn directory_messages(dir: &Path, mut problem: impl FnMut(Error)) -> Vec<PathBuf> {
    let maildir = dir.join("cur").is_dir() && dir.join("new").is_dir();
    let dirs = if maildir {
        vec![dir.join("cur"), dir.join("new")]
    } else {
        vec![dir.to_path_buf()]
    };
    let mut files = Vec::new();
    for d in dirs {
        match std::fs::read_dir(&d) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.is_file())
                    .collect();
                found.sort();
                files.extend(found);
            }
            Err(e) => problem(Error::new(
                ErrorKind::MissingInput,
                format!("{}: {e}", d.display()),
            )),
        }
    }
    files
}

/// What [`read_bounded_line`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line (without its line end) is in the buffer.
    Line,
    /// The line was longer than the bound: the buffer holds its first
    /// `max` bytes and the rest was skipped up to the line end.
    TooLong,
    /// End of input and nothing read.
    End,
}

/// Reads one line ending in LF (a CR before it is removed) into `buf`,
/// keeping at most `max` bytes, so that no input can grow memory without
/// bound. A last line without LF counts as a line.
pub fn read_bounded_line<R: BufRead + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<LineRead> {
    buf.clear();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (piece, used, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(at) => (&chunk[..at], at + 1, true),
            None => (chunk, chunk.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if piece.len() > room {
            too_long = true;
        }
        buf.extend_from_slice(&piece[..piece.len().min(room)]);
        reader.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(LineRead::End);
    }
    if buf.last() == Some(&b'\r') && !too_long {
        buf.pop();
    }
    Ok(if too_long {
        LineRead::TooLong
    } else {
        LineRead::Line
    })
}

/// Splits a list (one entry a line: trimmed, blank lines and lines starting
/// with `#` skipped, each cut at a bound) into batches: each
/// batch holds the entries completed by one `read` of the underlying input,
/// so a pipe full of lines gives large batches while an interactive writer
/// gets each line handled as soon as it is typed.
pub struct ListBatches<R> {
    reader: R,
    max: usize,
    partial: Vec<u8>,
    skipping: bool,
    done: bool,
}

impl<R: Read> ListBatches<R> {
    /// Batches from `reader`, each entry cut at `max` bytes.
    pub fn new(reader: R, max: usize) -> Self {
        ListBatches {
            reader,
            max,
            partial: Vec::new(),
            skipping: false,
            done: false,
        }
    }

    fn take_line(&mut self, batch: &mut Vec<String>) {
        let text = String::from_utf8_lossy(&self.partial);
        let entry = text.trim();
        if !entry.is_empty() && !entry.starts_with('#') {
            batch.push(entry.to_string());
        }
        self.partial.clear();
        self.skipping = false;
    }

    fn absorb(&mut self, mut data: &[u8], batch: &mut Vec<String>) {
        while !data.is_empty() {
            let (piece, ends_line) = match memchr::memchr(b'\n', data) {
                Some(at) => (&data[..at], Some(at + 1)),
                None => (data, None),
            };
            if !self.skipping {
                let room = self.max.saturating_sub(self.partial.len());
                self.partial
                    .extend_from_slice(&piece[..piece.len().min(room)]);
                self.skipping = piece.len() > room;
            }
            match ends_line {
                Some(used) => {
                    self.take_line(batch);
                    data = &data[used..];
                }
                None => data = &[],
            }
        }
    }
}

impl<R: Read> Iterator for ListBatches<R> {
    type Item = io::Result<Vec<String>>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut buf = [0u8; 64 * 1024];
        let mut batch = Vec::new();
        while batch.is_empty() && !self.done {
            match self.reader.read(&mut buf) {
                Ok(0) => {
                    self.done = true;
                    self.take_line(&mut batch);
                }
                Ok(n) => self.absorb(&buf[..n], &mut batch),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        (!batch.is_empty()).then_some(Ok(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::ExitStatus;

    #[test]
    fn missing_file_is_66() {
        let err = open(Some(Path::new("/nonexistent/mailkit-test")))
            .err()
            .unwrap();
        assert_eq!(err.status(), ExitStatus::NoInput);
        assert!(err.to_string().starts_with("/nonexistent/mailkit-test: "));
    }

    #[test]
    fn a_missing_file_is_66_when_opened_and_when_kept() {
        let missing = Input::from_arg(Some(Path::new("/nonexistent/mailkit-test")));
        assert_eq!(missing, Input::File("/nonexistent/mailkit-test".into()));
        assert_eq!(missing.open().err().unwrap().status(), ExitStatus::NoInput);
        // Kept files are reopened at each reading: the error comes then.
        let kept = missing.keep().unwrap();
        assert_eq!(kept.reader().err().unwrap().status(), ExitStatus::NoInput);
        // Expansion names it; opening it reports it.
        let inputs = expand(&["/nonexistent/mailkit-test".into()], |e| panic!("{e}"));
        assert_eq!(inputs, [missing]);
    }

    #[test]
    fn a_directory_as_a_file_is_66_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let input = Input::File(dir.path().to_path_buf());
        for err in [
            input.open().err().unwrap(),
            open_file(dir.path()).err().unwrap(),
            input.keep().unwrap().reader().err().unwrap(),
        ] {
            assert_eq!(err.status(), ExitStatus::NoInput);
            assert_eq!(
                err.to_string(),
                format!("{}: is a directory, not a file", dir.path().display())
            );
        }
    }

    #[test]
    fn the_terminal_notice_is_given_once_and_only_for_a_terminal() {
        let announced = AtomicBool::new(false);
        assert!(!terminal_notice_due(false, &announced));
        assert!(terminal_notice_due(true, &announced));
        assert!(!terminal_notice_due(true, &announced));
        assert!(!terminal_notice_due(false, &announced));
    }

    #[test]
    fn dash_and_nothing_are_stdin() {
        assert_eq!(expand(&[], |e| panic!("{e}")), [Input::Stdin]);
        let args = ["a.eml".into(), "-".into()];
        assert_eq!(
            expand(&args, |e| panic!("{e}")),
            [Input::File("a.eml".into()), Input::Stdin]
        );
        assert_eq!(Input::Stdin.name(), "-");
        assert_eq!(Input::from_arg(None), Input::Stdin);
        assert_eq!(Input::File("d/a.eml".into()).name(), "d/a.eml");
    }

    #[test]
    fn a_maildir_expands_to_cur_then_new_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        for sub in ["cur", "new", "tmp", "cur/.sub"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        for file in ["new/3", "cur/2:2,S", "cur/1:2,", "tmp/0", "new/10"] {
            std::fs::write(maildir.join(file), "Subject: x\n\nbody\n").unwrap();
        }
        let plain = dir.path().join("plain");
        std::fs::create_dir(&plain).unwrap();
        std::fs::write(plain.join("b.eml"), "").unwrap();
        std::fs::write(plain.join("a.eml"), "").unwrap();
        let args = [maildir.clone(), "-".into(), plain.clone()];
        let inputs = expand(&args, |e| panic!("{e}"));
        let expected: Vec<Input> = ["cur/1:2,", "cur/2:2,S", "new/10", "new/3"]
            .iter()
            .map(|f| Input::File(maildir.join(f)))
            .chain([Input::Stdin])
            .chain(["a.eml", "b.eml"].map(|f| Input::File(plain.join(f))))
            .collect();
        assert_eq!(inputs, expected);
    }

    #[test]
    fn an_unlistable_directory_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let mut problems = Vec::new();
        let files = directory_messages(&gone, |e| problems.push(e));
        assert!(files.is_empty());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].status(), ExitStatus::NoInput);
        assert!(
            problems[0]
                .to_string()
                .starts_with(&gone.display().to_string())
        );
    }

    #[test]
    fn stdin_is_read_once_and_kept_for_each_reading() {
        /// A stream that may not be read again once it has ended.
        struct Once(&'static [u8], bool);
        impl Read for Once {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                assert!(!self.1, "read again after its end");
                let n = out.len().min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                self.1 = n == 0;
                Ok(n)
            }
        }
        let mut stdin = Once(
            b"From a@b Mon Jan 1 00:00:00 2024\nSubject: x\n\nbody\n",
            false,
        );
        let kept = Kept::Replayable(spool(&mut stdin).unwrap());
        assert!(stdin.1 && stdin.0.is_empty());
        for _ in 0..2 {
            let mut text = String::new();
            kept.reader().unwrap().read_to_string(&mut text).unwrap();
            assert!(text.starts_with("From a@b") && text.ends_with("body\n"));
        }
    }

    #[test]
    fn bounded_lines() {
        let mut input: &[u8] = b"short\r\nway too long line\nlast";
        let mut buf = Vec::new();
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"short");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::TooLong
        );
        assert_eq!(buf, b"way too ");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::Line
        );
        assert_eq!(buf, b"last");
        assert_eq!(
            read_bounded_line(&mut input, &mut buf, 8).unwrap(),
            LineRead::End
        );
    }

    #[test]
    fn batches_follow_reads() {
        /// Hands out the given pieces, one per read.
        struct Pieces(Vec<&'static [u8]>);
        impl Read for Pieces {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let piece = self.0.remove(0);
                out[..piece.len()].copy_from_slice(piece);
                Ok(piece.len())
            }
        }
        let reader = Pieces(vec![
            b"a.test\nb.te",
            b"st\n# c\n\n",
            b"x\n",
            b"waytoolong\nlast",
        ]);
        let batches: Vec<Vec<String>> = ListBatches::new(reader, 4).map(Result::unwrap).collect();
        assert_eq!(
            batches,
            vec![
                vec!["a.te"],
                vec!["b.te"],
                vec!["x"],
                vec!["wayt"],
                vec!["last"]
            ]
        );
    }
}
