//! Every tool, for every input it reads, given bad input: random bytes,
//! nothing at all, a directory, a FIFO, a 2 GiB header line (streamed
//! through a pipe from a generator, never written to disk), and
//! multiparts and messages nested 100 000 deep. Each run must end by
//! itself with the status the contract gives (or succeed where the input
//! is valid), never a panic (101) or a signal, say an error in one line,
//! keep its peak memory (wait4's rusage) under 64 MiB, and end in time.
//!
//! What a FIFO means depends on the input, decided as a demanding user
//! would expect:
//! - A message (a file argument of mime-unpack, rfc822-lint, mime-pack,
//!   smtp-send --file) is a stream, as for `cat`: `mime-unpack <(zcat
//!   m.gz)` must work. The tool waits for a writer, reads what comes, and
//!   a writer that closes without writing is an empty input (its usual
//!   status, at once). Waiting for a writer that never comes is what
//!   every filter does; such a run is ended by a signal like `cat`.
//! - A configuration or state file (--password-file, --netrc-file in the
//!   tools with --timeout) may be a pipe (`--password-file <(pass show
//!   mail)`), but one with nothing to read within --timeout is 78; a
//!   --state, --cafile or queue entry that is not a regular file (a FIFO,
//!   a directory, a device) makes no sense and is refused at once (78, or
//!   a skipped queue entry), never waited for.
//! - A tool that must read all its stdin (mime-pack's body, mx-lookup's
//!   names) streams a 2 GiB line in bounded memory; the test stops it
//!   after a few seconds and checks the memory it used.

#[path = "support/bounded.rs"]
mod bounded;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bounded::{Feed, Run, long_header_line};
use common::{Scratch, set_mode};

const UNPACK: &str = env!("CARGO_BIN_EXE_mime-unpack");
const LINT: &str = env!("CARGO_BIN_EXE_rfc822-lint");
const PACK: &str = env!("CARGO_BIN_EXE_mime-pack");
const SMTP: &str = env!("CARGO_BIN_EXE_smtp-send");
const POP3: &str = env!("CARGO_BIN_EXE_pop3-fetch");
const IMAP: &str = env!("CARGO_BIN_EXE_imap-list");
const MX: &str = env!("CARGO_BIN_EXE_mx-lookup");

/// `--timeout` of the tools that have one.
const TIMEOUT: u64 = 2;
/// The 2 GiB header line.
const HUGE: u64 = 2 << 30;
/// The nesting depth of the deep messages.
const DEEP: usize = 100_000;
/// The watchdog's limit for any run.
const LIMIT: Duration = Duration::from_secs(60);
/// How soon a quick answer must come (debug build, a loaded machine).
const QUICK: Duration = Duration::from_secs(10);
/// A run with --timeout must end within it plus a second.
const TIMED: Duration = Duration::from_secs(TIMEOUT + 1);

/// A tool's run in `dir` (its HOME), stdin from `feed`.
fn tool<S: AsRef<std::ffi::OsStr>>(dir: &Scratch, bin: &str, args: &[S], feed: Feed) -> Run {
    bounded::run(bin, args, feed, LIMIT, dir.path())
}

/// Random bytes from a fixed seed (xorshift), so a failure repeats.
fn random_bytes(mut seed: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// A message whose multipart body holds a multipart... `depth` deep.
fn deep_multipart(depth: usize) -> Vec<u8> {
    let mut m = b"From: a@example.org\nTo: b@example.org\nSubject: deep\n\
                  MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n"
        .to_vec();
    for i in 1..depth {
        m.extend(
            format!(
                "--b{}\nContent-Type: multipart/mixed; boundary=\"b{i}\"\n\n",
                i - 1
            )
            .bytes(),
        );
    }
    m.extend(format!("--b{}\nContent-Type: text/plain\n\nhello\n", depth - 1).bytes());
    for i in (0..depth).rev() {
        m.extend(format!("--b{i}--\n").bytes());
    }
    m
}

/// A message that is a message/rfc822 holding a message/rfc822...
/// `depth` deep.
fn deep_message(depth: usize) -> Vec<u8> {
    let mut m =
        b"From: a@example.org\nTo: b@example.org\nSubject: deep\nMIME-Version: 1.0\n".to_vec();
    for _ in 0..depth {
        m.extend_from_slice(b"Content-Type: message/rfc822\n\n");
    }
    m.extend_from_slice(b"Subject: inner\n\nhello\n");
    m
}

/// A file in `dir` holding `bytes`, mode 0600.
fn file(dir: &Scratch, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    set_mode(&path, 0o600);
    path
}

/// A FIFO in `dir`, mode 0600.
fn fifo(dir: &Scratch, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    path
}

/// Writes into the FIFO at `path` from a thread: `generate` gets it
/// opened for writing once the tool opened it for reading (given up after
/// 20 s when it never does) and writes what it likes; errors (the tool
/// gone) end it.
fn feed_fifo(
    path: &Path,
    generate: impl FnOnce(&mut std::fs::File) -> std::io::Result<()> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut writer = loop {
            // Without a reader yet, a non-blocking open fails (ENXIO).
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)
            {
                Ok(writer) => break writer,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(_) => return,
            }
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&writer);
        // SAFETY: clears O_NONBLOCK on our own open descriptor.
        unsafe { libc::fcntl(fd, libc::F_SETFL, 0) };
        let _ = generate(&mut writer);
    })
}

/// An anonymous pipe (as a shell's `<(command)` makes) for the tool to
/// read as `/dev/fd/N`: the read end (close-on-exec here, inherited by the
/// tool alone) and the write end.
fn anonymous_pipe() -> (std::os::fd::OwnedFd, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: a valid array of two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both were just opened and are owned here alone.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

/// A path as an argument.
fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `args` with `@` replaced by `path`.
fn with_path<'a>(args: &[&'a str], path: &'a str) -> Vec<&'a str> {
    args.iter()
        .map(|a| if *a == "@" { path } else { *a })
        .collect()
}

// ---------------------------------------------------------------------
// The message-reading tools.

/// One way a message-reading tool is run, `@` standing for its input
/// file, with the statuses allowed for random bytes, an empty input and
/// multiparts nested 100 000 deep (none: not run with those, where the
/// input is not read as MIME or another case reads it the same way).
struct Case {
    bin: &'static str,
    args: &'static [&'static str],
    random: &'static [i32],
    empty: &'static [i32],
    deep: &'static [i32],
}

const FROM_TO: [&str; 4] = ["--from", "a@example.org", "--to", "b@example.org"];

/// Every message input of every tool, read from a file argument.
#[rustfmt::skip]
const FILE_CASES: &[Case] = &[
    Case { bin: UNPACK, args: &["@"], random: &[65], empty: &[65], deep: &[0] },
    Case { bin: UNPACK, args: &["--json", "@"], random: &[65], empty: &[65], deep: &[0] },
    Case { bin: UNPACK, args: &["--text", "@"], random: &[65], empty: &[65], deep: &[] },
    Case { bin: UNPACK, args: &["--extract", "-d", "OUT", "@"], random: &[65], empty: &[65], deep: &[0] },
    Case { bin: UNPACK, args: &["--part", "1", "@"], random: &[65], empty: &[65], deep: &[0] },
    Case { bin: LINT, args: &["@"], random: &[1], empty: &[1], deep: &[1] },
    Case { bin: LINT, args: &["--fix", "@"], random: &[1], empty: &[1], deep: &[0, 1] },
    Case { bin: PACK, args: &["--from", "a@example.org", "--body", "@"], random: &[0], empty: &[0], deep: &[] },
    Case { bin: PACK, args: &["--from", "a@example.org", "--html", "@"], random: &[0], empty: &[0], deep: &[] },
    Case { bin: PACK, args: &["--from", "a@example.org", "--no-body", "@"], random: &[0], empty: &[0], deep: &[] },
    Case { bin: PACK, args: &["--from", "a@example.org", "--no-body", "--attach", "@"], random: &[0], empty: &[0], deep: &[] },
    Case { bin: PACK, args: &["--from", "a@example.org", "--html", "HTML", "--inline", "@"], random: &[0], empty: &[0], deep: &[] },
    Case { bin: SMTP, args: &["--dry-run", "--server", "smtp://127.0.0.1:9", "-t", "--file", "@"], random: &[65], empty: &[65], deep: &[] },
];

/// Every message input of every tool, read from stdin.
#[rustfmt::skip]
const STDIN_CASES: &[Case] = &[
    Case { bin: UNPACK, args: &[], random: &[65], empty: &[65], deep: &[] },
    Case { bin: UNPACK, args: &["--json"], random: &[65], empty: &[65], deep: &[] },
    Case { bin: LINT, args: &["-"], random: &[1], empty: &[1], deep: &[] },
    Case { bin: LINT, args: &["--fix", "-"], random: &[1], empty: &[1], deep: &[] },
    Case { bin: PACK, args: &["--message"], random: &[65], empty: &[65], deep: &[0] },
    Case { bin: PACK, args: &FROM_TO, random: &[0], empty: &[0], deep: &[] },
    Case { bin: SMTP, args: &["--dry-run", "--server", "smtp://127.0.0.1:9", "-t"], random: &[65], empty: &[65], deep: &[0] },
];

/// The arguments of `case` for input `path`, `OUT` a directory for
/// extracted files, `HTML` a page in it.
fn case_args(case: &Case, path: &str, out: &Path) -> Vec<String> {
    let page = out.join("page.html");
    if !page.exists() {
        std::fs::write(&page, "<p>hi <img src=\"cid:x\"></p>\n").unwrap();
    }
    case.args
        .iter()
        .map(|a| match *a {
            "@" => path.to_string(),
            "OUT" => arg(out).to_string(),
            "HTML" => arg(&page).to_string(),
            other => other.to_string(),
        })
        .collect()
}

#[test]
fn mime_unpack_files_random_empty_a_directory_and_nested_100000_deep() {
    message_files(|case| case.bin == UNPACK);
}

#[test]
fn other_message_files_random_empty_a_directory_and_nested_100000_deep() {
    message_files(|case| case.bin != UNPACK);
}

/// The [`FILE_CASES`] that `pick` picks, each given random bytes, an empty
/// file, a directory and (where it reads MIME) a 100 000-deep multipart.
fn message_files(pick: impl Fn(&Case) -> bool) {
    let dir = Scratch::new();
    let out = dir.subdir("out");
    let random = file(&dir, "random", &random_bytes(0xbad1, 4096));
    let empty = file(&dir, "empty", b"");
    let directory = dir.subdir("a-directory");
    let deep = file(&dir, "deep-multipart", &deep_multipart(DEEP));
    for case in FILE_CASES.iter().filter(|c| pick(c)) {
        for (input, allowed) in [(&random, case.random), (&empty, case.empty)] {
            let args = case_args(case, arg(input), &out);
            tool(&dir, case.bin, &args, Feed::Null).expect(allowed, QUICK);
        }
        if !case.deep.is_empty() {
            let args = case_args(case, arg(&deep), &out);
            let run = tool(&dir, case.bin, &args, Feed::Null);
            run.expect(case.deep, QUICK);
            if case.bin == UNPACK && args.len() == 1 {
                run.says("nested too deeply");
                assert!(run.stdout().lines().count() >= 64, "{}", run.stdout());
            }
        }
        let args = case_args(case, arg(&directory), &out);
        if case.bin == LINT && args.len() == 1 {
            // rfc822-lint takes a directory as the messages in it.
            tool(&dir, case.bin, &args, Feed::Null).expect(&[0], QUICK);
        } else if case.bin == LINT {
            // --fix takes one message, not a directory of them.
            tool(&dir, case.bin, &args, Feed::Null).expect(&[64], QUICK);
        } else {
            tool(&dir, case.bin, &args, Feed::Null)
                .expect(&[66], QUICK)
                .says("is a directory");
        }
    }
}

#[test]
fn message_stdin_random_empty_a_directory_and_nested_100000_deep() {
    let dir = Scratch::new();
    let directory = dir.subdir("a-directory");
    let random = random_bytes(0xbad2, 4096);
    let deep = deep_multipart(DEEP);
    for case in STDIN_CASES {
        for (input, allowed) in [(random.clone(), case.random), (Vec::new(), case.empty)] {
            tool(&dir, case.bin, case.args, Feed::Bytes(input)).expect(allowed, QUICK);
        }
        if !case.deep.is_empty() {
            tool(&dir, case.bin, case.args, Feed::Bytes(deep.clone())).expect(case.deep, QUICK);
        }
        tool(&dir, case.bin, case.args, Feed::Path(directory.clone()))
            .expect(&[66], QUICK)
            .says("stdin: is a directory");
    }
}

/// 100 000 nested messages extract as one .eml (the outer message) and
/// what the depth limit leaves as one part, not a copy of the input for
/// each level (64 copies, 20 s, before).
#[test]
fn nested_messages_are_extracted_once_not_once_per_level() {
    let dir = Scratch::new();
    let out = dir.subdir("out");
    let input = deep_message(DEEP);
    let run = tool(
        &dir,
        UNPACK,
        &["--extract", "-d", arg(&out)],
        Feed::Bytes(input.clone()),
    );
    run.expect(&[0], QUICK);
    let written: u64 = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        written <= 2 * input.len() as u64,
        "{written} octets written from {} in: {}",
        input.len(),
        run.stdout()
    );
}

// ---------------------------------------------------------------------
// A 2 GiB header line.

/// The tools that read one message stop at the header limit with a
/// clear 65 (rfc822-lint: an error finding, 1), without reading on: the
/// generator's 2 GiB are never all read.
#[test]
fn a_2_gib_header_line_on_stdin_stops_each_reader_early() {
    let dir = Scratch::new();
    let out = dir.subdir("out");
    let cases: &[(&str, &[&str], i32, &str)] = &[
        (UNPACK, &[], 65, "longer than 256 KiB"),
        (UNPACK, &["--json"], 65, "longer than 256 KiB"),
        (UNPACK, &["--text"], 65, "longer than 256 KiB"),
        (
            UNPACK,
            &["--extract", "-d", "OUT"],
            65,
            "longer than 256 KiB",
        ),
        (UNPACK, &["--part", "1"], 65, "longer than 256 KiB"),
        (LINT, &["-"], 1, "1 error"),
        (LINT, &["--fix", "-"], 1, "error"),
        (PACK, &["--message"], 65, "longer than 1 MiB"),
    ];
    for (bin, args, want, says) in cases {
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "OUT" { arg(&out) } else { a })
            .collect();
        let run = tool(&dir, bin, &args, Feed::Stream(long_header_line(HUGE)));
        run.expect(&[*want], QUICK).says(says);
    }
    let run = tool(&dir, LINT, &["-"], Feed::Stream(long_header_line(HUGE)));
    assert!(
        run.stdout().contains("longer than 256 KiB"),
        "{}",
        run.stdout()
    );
}

/// smtp-send refuses the message (65) in bounded memory; it reads all of
/// stdin first (into a temporary file), which takes seconds here.
#[test]
fn a_2_gib_header_line_to_smtp_send() {
    let dir = Scratch::new();
    let args = ["--dry-run", "--server", "smtp://127.0.0.1:9", "-t"];
    let run = tool(&dir, SMTP, &args, Feed::Stream(long_header_line(HUGE)));
    run.expect(&[65], Duration::from_secs(40))
        .says("longer than 1 MiB");
}

/// The same line through a FIFO named as the input file.
#[test]
fn a_2_gib_header_line_through_a_fifo_argument() {
    let dir = Scratch::new();
    let cases: &[(&str, &[&str], i32)] = &[
        (UNPACK, &["@"], 65),
        (LINT, &["@"], 1),
        (LINT, &["--fix", "@"], 1),
    ];
    for (n, (bin, args, want)) in cases.iter().enumerate() {
        let path = fifo(&dir, &format!("fifo{n}"));
        let writer = feed_fifo(&path, |w| {
            bounded::stream_long_line(w, b"Subject: ", HUGE, b"\n\n")
        });
        let args = with_path(args, arg(&path));
        tool(&dir, bin, &args, Feed::Null).expect(&[*want], QUICK);
        writer.join().unwrap();
    }
}

/// mime-pack must read its whole body: a 2 GiB line streams through in
/// bounded memory (stopped after a few seconds: the debug build encodes
/// some MiB a second).
#[test]
fn a_2_gib_body_line_streams_through_mime_pack_in_bounded_memory() {
    let dir = Scratch::new();
    let run = bounded::run(
        PACK,
        &FROM_TO,
        Feed::Stream(long_header_line(HUGE)),
        Duration::from_secs(3),
        dir.path(),
    );
    assert!(
        run.stopped,
        "ended by itself: {:?} {}",
        run.code,
        run.stderr()
    );
    assert!(run.kib < bounded::MAX_KIB, "{} KiB", run.kib);
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
}

// ---------------------------------------------------------------------
// FIFOs as message files.

/// A FIFO is read as a stream: a writer that closes without writing is an
/// empty input, answered at once; a writer that brings a message is read.
#[test]
fn a_fifo_message_file_is_read_as_a_stream() {
    let dir = Scratch::new();
    let out = dir.subdir("out");
    let message = b"From: a@example.org\nTo: b@example.org\nSubject: hi\n\nhello\n";
    for (n, case) in FILE_CASES.iter().enumerate() {
        let path = fifo(&dir, &format!("empty{n}"));
        let writer = feed_fifo(&path, |_| Ok(()));
        let args = case_args(case, arg(&path), &out);
        tool(&dir, case.bin, &args, Feed::Null).expect(case.empty, QUICK);
        writer.join().unwrap();
        let path = fifo(&dir, &format!("message{n}"));
        let writer = feed_fifo(&path, move |w| std::io::Write::write_all(w, message));
        let args = case_args(case, arg(&path), &out);
        let allowed: &[i32] = if case.bin == LINT { &[0, 1] } else { &[0] };
        tool(&dir, case.bin, &args, Feed::Null).expect(allowed, QUICK);
        writer.join().unwrap();
    }
}

/// With no writer at all, a message FIFO is waited for, as `cat` does: the
/// tool sits in open(2), in little memory, until ended.
#[test]
fn a_fifo_nobody_opens_is_waited_for_like_cat() {
    let dir = Scratch::new();
    let path = fifo(&dir, "silent");
    let run = bounded::run(
        UNPACK,
        &[arg(&path)],
        Feed::Null,
        Duration::from_secs(1),
        dir.path(),
    );
    assert!(run.stopped && run.signal == Some(libc::SIGKILL), "{run:?}");
    assert!(run.kib < bounded::MAX_KIB);
}

// ---------------------------------------------------------------------
// Configuration and state files of the network tools.

/// The network tools' URL on a port where nothing listens.
fn dead_url(scheme: &str) -> String {
    let port = common::free_port();
    match scheme {
        "imap" => format!("imap://alice@127.0.0.1:{port}/INBOX"),
        other => format!("{other}://alice@127.0.0.1:{port}"),
    }
}

/// Runs `bin URL ARGS` with `--timeout 2`.
fn net(dir: &Scratch, bin: &str, url: &str, args: &[&str]) -> Run {
    let mut all = vec![url, "--timeout", "2"];
    all.extend_from_slice(args);
    tool(dir, bin, &all, Feed::Null)
}

/// --password-file and --netrc-file: random bytes, empty, a directory and
/// a named FIFO (whether or not anyone writes to it) are 78 before any
/// connection, at once.
#[test]
fn credential_files_random_empty_directory_and_fifo() {
    let dir = Scratch::new();
    let random = file(&dir, "random", &random_bytes(0xbad3, 4096));
    let empty = file(&dir, "empty", b"");
    let directory = dir.subdir("a-directory");
    set_mode(&directory, 0o700);
    let named = fifo(&dir, "named");
    for (bin, scheme) in [(POP3, "pop3"), (IMAP, "imap")] {
        for option in ["--password-file", "--netrc-file"] {
            let url = dead_url(scheme);
            for input in [&random, &empty, &directory] {
                net(&dir, bin, &url, &[option, arg(input)]).expect(&[78], TIMED);
            }
            net(&dir, bin, &url, &[option, arg(&named)])
                .expect(&[78], QUICK)
                .says("is a FIFO");
        }
    }
    let message = b"From: a@example.org\nTo: b@example.org\n\nhi\n".to_vec();
    let url = dead_url("smtp");
    let args = [
        "--server",
        &url,
        "--timeout",
        "2",
        "--password-file",
        arg(&named),
        "b@example.org",
    ];
    tool(&dir, SMTP, &args, Feed::Bytes(message))
        .expect(&[78], TIMED)
        .says("is a FIFO");
}

/// Runs `bin URL --timeout 2 OPTION /dev/fd/N`, N the read end of an
/// anonymous pipe, `write` given its write end (in a thread, which may
/// hand it back to keep it open until the run is over).
fn with_anonymous_pipe(
    dir: &Scratch,
    bin: &str,
    scheme: &str,
    option: &str,
    write: impl FnOnce(std::fs::File) -> Option<std::fs::File> + Send + 'static,
) -> Run {
    use std::os::fd::AsRawFd;
    let (read, write_end) = anonymous_pipe();
    let path = format!("/dev/fd/{}", read.as_raw_fd());
    let url = dead_url(scheme);
    let args = [url.as_str(), "--timeout", "2", option, &path];
    let writer = std::thread::spawn(move || write(write_end));
    let fd = Some(read.as_raw_fd());
    let run = bounded::run_inheriting(bin, &args, Feed::Null, LIMIT, dir.path(), fd);
    drop(read);
    drop(writer.join().unwrap());
    run
}

/// A password file or netrc that is an anonymous pipe (`--password-file
/// <(pass show mail)`) is read when something comes within --timeout;
/// one that stays silent is 78 after --timeout; 2 GiB through it are read
/// no further than the bound on such files, in bounded memory.
#[test]
fn credential_pipes_silent_with_a_password_and_2_gib() {
    let dir = Scratch::new();
    for (bin, scheme) in [(POP3, "pop3"), (IMAP, "imap")] {
        for option in ["--password-file", "--netrc-file"] {
            if (bin == POP3) == (option == "--password-file") {
                let run = with_anonymous_pipe(&dir, bin, scheme, option, Some);
                run.expect(&[78], TIMED).says("nothing to read");
            }
            // 2 GiB on one line: the first MiB is all that is read (a
            // password file takes it as the password and goes on to
            // connect, 75; a netrc finds no entry, 78).
            let run = with_anonymous_pipe(&dir, bin, scheme, option, |mut w| {
                let _ = bounded::stream_long_line(&mut w, b"", HUGE, b"\n");
                None
            });
            run.expect(&[75, 78], TIMED);
        }
        let run = with_anonymous_pipe(&dir, bin, scheme, "--password-file", |mut w| {
            let _ = std::io::Write::write_all(&mut w, b"secret\n");
            None
        });
        run.expect(&[75], TIMED).says("connecting");
    }
}

/// --state: random bytes and a 2 GiB file (sparse: no disk used) are not
/// state files (78, after reading a few octets); a directory and a FIFO
/// are not regular files (78, at once); an empty file is a new state.
#[test]
fn state_files_random_empty_directory_fifo_and_2_gib() {
    let dir = Scratch::new();
    let random = file(&dir, "random", &random_bytes(0xbad4, 4096));
    let huge = file(&dir, "huge", b"");
    std::fs::File::options()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(HUGE)
        .unwrap();
    let directory = dir.subdir("a-directory");
    let silent = fifo(&dir, "silent");
    let maildir = dir.path().join("Maildir");
    for (bin, scheme) in [(POP3, "pop3"), (IMAP, "imap")] {
        let url = dead_url(scheme);
        for input in [&random, &huge, &directory, &silent] {
            let args = [
                "--password-env",
                "PW",
                "--new",
                "--maildir",
                arg(&maildir),
                "--state",
                arg(input),
            ];
            let mut all = vec![url.as_str(), "--timeout", "2"];
            all.extend_from_slice(&args);
            run_env(&dir, bin, &all)
                .expect(&[78], TIMED)
                .says("--state");
        }
        let empty = file(&dir, &format!("empty-{scheme}"), b"");
        let args = [
            "--password-env",
            "PW",
            "--new",
            "--maildir",
            arg(&maildir),
            "--state",
            arg(&empty),
        ];
        let mut all = vec![url.as_str(), "--timeout", "2"];
        all.extend_from_slice(&args);
        run_env(&dir, bin, &all).expect(&[75], TIMED);
    }
}

/// A run (the password in `PW`, which every run has).
fn run_env(dir: &Scratch, bin: &str, args: &[&str]) -> Run {
    tool(dir, bin, args, Feed::Null)
}

/// --cafile that is a directory or a FIFO is 78 before connecting; random
/// bytes are read only when TLS starts (here the connection is refused
/// first: 75).
#[test]
fn ca_files_directory_fifo_and_random() {
    let dir = Scratch::new();
    let random = file(&dir, "random", &random_bytes(0xbad5, 4096));
    let directory = dir.subdir("a-directory");
    let silent = fifo(&dir, "silent");
    for (bin, scheme) in [(POP3, "pop3"), (IMAP, "imap")] {
        let url = dead_url(scheme);
        for input in [&directory, &silent] {
            net(
                &dir,
                bin,
                &url,
                &["--password-env", "PW", "--cafile", arg(input)],
            )
            .expect(&[78], TIMED)
            .says("not a regular file");
        }
        run_env(
            &dir,
            bin,
            &[
                &url,
                "--timeout",
                "2",
                "--password-env",
                "PW",
                "--cafile",
                arg(&random),
            ],
        )
        .expect(&[75, 78], TIMED);
    }
}

/// A queue whose entries are random bytes, empty, a directory, a FIFO and
/// a 2 GiB file without a line end (sparse): --list-queue and --flush skip
/// each with a warning, at once and in bounded memory (a FIFO blocked
/// both, and the 2 GiB entry was read whole into memory, before).
#[test]
fn queue_entries_random_empty_directory_fifo_and_2_gib() {
    let dir = Scratch::new();
    let queue = dir.path().join("queue");
    for sub in ["new", "tmp"] {
        std::fs::create_dir_all(queue.join(sub)).unwrap();
        set_mode(&queue.join(sub), 0o700);
    }
    std::fs::write(queue.join("new/1.random"), random_bytes(0xbad6, 4096)).unwrap();
    std::fs::write(queue.join("new/2.empty"), b"").unwrap();
    std::fs::create_dir(queue.join("new/3.directory")).unwrap();
    let c = std::ffi::CString::new(queue.join("new/4.fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let huge = std::fs::File::create(queue.join("new/5.huge")).unwrap();
    huge.set_len(HUGE).unwrap();
    for args in [
        vec!["--list-queue", arg(&queue)],
        vec!["--list-queue", arg(&queue), "--json"],
        vec!["--flush", arg(&queue), "--timeout", "2"],
    ] {
        let run = tool(&dir, SMTP, &args, Feed::Null);
        run.expect(&[0], TIMED);
        let skipped = run.stderr().matches("unreadable queue entry").count();
        assert_eq!(skipped, 5, "{}", run.stderr());
    }
    // Not a queue at all.
    let random = file(&dir, "random", b"x");
    tool(&dir, SMTP, &["--list-queue", arg(&random)], Feed::Null).expect(&[66], QUICK);
    tool(
        &dir,
        SMTP,
        &["--flush", arg(&random), "--timeout", "2"],
        Feed::Null,
    )
    .expect(&[73], QUICK);
}

// ---------------------------------------------------------------------
// URLs, arguments and mx-lookup's names.

/// Random URLs and arguments: usage errors (64) or refused input (65),
/// in one line, never a connection attempt that hangs.
#[test]
fn random_urls_and_arguments() {
    let dir = Scratch::new();
    let texts: Vec<String> = (0..40u64)
        .map(|i| {
            let bytes = random_bytes(0xbad7 + i, 1 + (i as usize * 7) % 60);
            let text: String = String::from_utf8_lossy(&bytes).replace('\0', "");
            match i % 4 {
                0 => text,
                1 => format!("imap://{text}"),
                2 => format!("pop3://u@{text}:99999/x"),
                _ => format!("smtp://[{text}]"),
            }
        })
        .collect();
    let message = b"From: a@example.org\nTo: b@example.org\n\nhi\n".to_vec();
    for text in &texts {
        tool(&dir, POP3, &[text, "--timeout", "2"], Feed::Null).expect(&[64, 75, 78], TIMED);
        tool(&dir, IMAP, &[text, "--timeout", "2"], Feed::Null).expect(&[64, 75, 78], TIMED);
        let args = ["--dry-run", "--server", text, "b@example.org"];
        tool(&dir, SMTP, &args, Feed::Bytes(message.clone())).expect(&[0, 64], TIMED);
        let args = ["--dry-run", "--server", "smtp://127.0.0.1:9", text];
        tool(&dir, SMTP, &args, Feed::Bytes(message.clone())).expect(&[0, 64, 65], TIMED);
        let args = ["--server", "127.0.0.1:9", "--timeout", "1", text];
        let run = tool(&dir, MX, &args, Feed::Null);
        run.expect(&[0, 64, 65, 68, 75], TIMED);
    }
}

/// mx-lookup's names on stdin: random bytes are invalid names (65, each
/// said on its own line), nothing is nothing to do (0), and a 2 GiB line
/// streams through in bounded memory (each line must be read to its end
/// to find the next name; stopped after a few seconds).
#[test]
fn mx_lookup_names_random_empty_and_2_gib() {
    let dir = Scratch::new();
    let args = ["--server", "127.0.0.1:9", "--timeout", "1", "--json"];
    let run = tool(&dir, MX, &args, Feed::Bytes(random_bytes(0xbad8, 4096)));
    assert!(matches!(run.code(), 65 | 75), "{}", run.stderr());
    assert!(run.took < QUICK && run.kib < bounded::MAX_KIB);
    tool(&dir, MX, &args, Feed::Bytes(Vec::new())).expect(&[0], QUICK);
    let generator: bounded::Generator = Box::new(|input| {
        let _ = bounded::stream_long_line(input, b"", HUGE, b"\n");
    });
    let run = bounded::run(
        MX,
        &args,
        Feed::Stream(generator),
        Duration::from_secs(3),
        dir.path(),
    );
    assert!(run.kib < bounded::MAX_KIB, "{} KiB", run.kib);
    assert!(!run.stderr().contains("panicked"), "{}", run.stderr());
}

// ---------------------------------------------------------------------
// Faults outside the reading code (in the DNS probe and the resolver
// input), kept here until they are fixed where they lie.

/// A directory on mx-lookup's stdin is 66, "stdin: is a directory", as
/// in every other tool (it was an I/O error, 74).
#[test]
fn mx_lookup_a_directory_on_stdin_is_66() {
    let dir = Scratch::new();
    let directory = dir.subdir("a-directory");
    let args = ["--server", "127.0.0.1:9", "--timeout", "1"];
    tool(&dir, MX, &args, Feed::Path(directory)).expect(&[66], QUICK);
}

/// mx-lookup --probe --cafile FIFO is 78 at once (it waited for a writer
/// without end).
#[test]
fn mx_lookup_probe_cafile_fifo_is_78() {
    let dir = Scratch::new();
    let silent = fifo(&dir, "silent");
    let args = [
        "--probe",
        "--server",
        "127.0.0.1:9",
        "--timeout",
        "2",
        "--cafile",
        arg(&silent),
        "example.org",
    ];
    tool(&dir, MX, &args, Feed::Null).expect(&[78], TIMED);
}

/// A password file over the 1 MiB bound is 78 (it was cut at the bound
/// and its first line used as the password, without a word).
#[test]
fn a_password_file_over_the_bound_is_78() {
    let dir = Scratch::new();
    let mut text = vec![b'a'; 2 << 20];
    text.push(b'\n');
    let path = file(&dir, "huge", &text);
    net(
        &dir,
        POP3,
        &dead_url("pop3"),
        &["--password-file", arg(&path)],
    )
    .expect(&[78], TIMED);
}

/// smtp-send refuses a 2 GiB header line from its first MiB (it spooled
/// all of stdin to a temporary file first: 2 GiB of disk and seconds
/// before the 65).
#[test]
fn smtp_send_refuses_a_2_gib_header_line_quickly() {
    let dir = Scratch::new();
    let args = ["--dry-run", "--server", "smtp://127.0.0.1:9", "-t"];
    let run = tool(&dir, SMTP, &args, Feed::Stream(long_header_line(HUGE)));
    run.expect(&[65], Duration::from_secs(1));
}
