//! Runs a built tool as a child and measures it the way the bad-input
//! tests judge it: its exit status or the signal that ended it, its peak
//! memory, how long it took, and the start of what it wrote. The peak is
//! the rusage GNU time gets from wait4 for the tool it forks: a child
//! spawned straight from the test process would count the test process's
//! own peak (Linux keeps the larger of the two across exec). A run stopped
//! by the watchdog has the high-water mark of its memory read from /proc
//! just before it is killed. Its stdin is bytes, a generator streamed
//! through a pipe (never held whole, never written to disk), nothing, or
//! a file opened by path (a directory, a FIFO). A watchdog kills it after
//! a given time, and the run says so, so a hang fails a test instead of
//! stalling the suite.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Peak memory allowed to any run, KiB (64 MiB).
pub const MAX_KIB: i64 = 64 << 10;

/// A generator writing into the tool's stdin until it is done or the
/// pipe breaks.
pub type Generator = Box<dyn FnOnce(&mut ChildStdin) + Send>;

/// What the tool gets on stdin.
pub enum Feed {
    /// These bytes, then end of input.
    Bytes(Vec<u8>),
    /// What the generator writes, then end of input.
    Stream(Generator),
    /// `/dev/null`.
    Null,
    /// The file at this path, opened for reading (a directory, a FIFO).
    Path(PathBuf),
}

/// One finished run.
#[derive(Debug)]
pub struct Run {
    /// What ran, for messages.
    pub what: String,
    /// Its exit status, when it exited.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Whether the watchdog killed it.
    pub stopped: bool,
    /// The first MiB of its stdout.
    pub stdout: Vec<u8>,
    /// How many octets it wrote to stdout in all.
    pub stdout_len: u64,
    /// Its stderr (the first MiB).
    pub stderr: Vec<u8>,
    /// Its peak resident memory, KiB.
    pub kib: i64,
    /// How long it ran.
    pub took: Duration,
}

/// How much of stdout and stderr is kept.
const KEEP: usize = 1 << 20;

impl Run {
    /// stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// stdout (its start) as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The exit status; fails when the tool was killed by a signal.
    pub fn code(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(code), _) => code,
            (None, signal) => panic!(
                "{}: ended by signal {signal:?} (watchdog: {}) after {:?}: {}",
                self.what,
                self.stopped,
                self.took,
                self.stderr()
            ),
        }
    }

    /// Exited by itself with a status in `allowed`, within `within`, in
    /// bounded memory, with a clean stderr ([`Run::clean`]).
    pub fn expect(&self, allowed: &[i32], within: Duration) -> &Self {
        let code = self.code();
        assert!(
            allowed.contains(&code),
            "{}: exit {code}, want one of {allowed:?}: {}",
            self.what,
            self.stderr()
        );
        assert!(
            self.took < within,
            "{}: took {:?}, more than {within:?}",
            self.what,
            self.took
        );
        self.clean()
    }

    /// [`Run::sound`], and an error (status 64 and above) told in exactly
    /// one `TOOL: error: ...` line.
    pub fn clean(&self) -> &Self {
        self.sound();
        let stderr = self.stderr();
        if self.code.is_some_and(|c| c >= 64) {
            // clap's own usage errors (64) begin `error:` and add a usage.
            let errors = stderr
                .lines()
                .filter(|l| l.contains(": error:") || l.starts_with("error:"))
                .count();
            assert_eq!(errors, 1, "{}: not one error line: {stderr}", self.what);
        }
        self
    }

    /// No panic, memory under [`MAX_KIB`], no raw control character on
    /// stderr.
    pub fn sound(&self) -> &Self {
        let stderr = self.stderr();
        assert!(
            !stderr.contains("panicked") && self.code != Some(101),
            "{}: {stderr}",
            self.what
        );
        assert!(
            self.kib < MAX_KIB,
            "{}: {} KiB of memory at its peak",
            self.what,
            self.kib
        );
        let raw = self
            .stderr
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f);
        assert!(
            raw.is_none(),
            "{}: raw control character {raw:?} on stderr: {stderr:?}",
            self.what
        );
        self
    }

    /// stderr contains `text`.
    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stderr().contains(text),
            "{}: stderr lacks {text:?}: {}",
            self.what,
            self.stderr()
        );
        self
    }
}

/// Runs `bin` with `args` and `feed` on stdin, killed (SIGKILL) after
/// `limit`; in the environment, `XDG_STATE_HOME` and `HOME` point to
/// `home` so that no real state or netrc is touched, and `PW` holds a
/// password for `--password-env PW`.
pub fn run<S: AsRef<OsStr>>(
    bin: &str,
    args: &[S],
    feed: Feed,
    limit: Duration,
    home: &std::path::Path,
) -> Run {
    run_inheriting(bin, args, feed, limit, home, None)
}

/// [`run`], the tool inheriting the descriptor `fd` (open without
/// close-on-exec in it only), for a `/dev/fd/N` argument.
pub fn run_inheriting<S: AsRef<OsStr>>(
    bin: &str,
    args: &[S],
    feed: Feed,
    limit: Duration,
    home: &std::path::Path,
    fd: Option<std::os::fd::RawFd>,
) -> Run {
    let name = bin.rsplit('/').next().unwrap_or(bin);
    let shown: Vec<String> = args
        .iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let what = format!("{name} {shown:?}");
    let report = home.join(format!(".rusage.{}", unique()));
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%M", "-o"])
        .arg(&report)
        .arg(bin)
        .args(args)
        .process_group(0)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("NETRC")
        .env("PW", "secret")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (stdin, feed) = match feed {
        Feed::Bytes(bytes) => (Stdio::piped(), Some(bytes_generator(bytes))),
        Feed::Stream(generator) => (Stdio::piped(), Some(generator)),
        Feed::Null => (Stdio::null(), None),
        Feed::Path(path) => (
            Stdio::from(File::open(&path).expect("open the stdin file")),
            None,
        ),
    };
    command.stdin(stdin);
    if let Some(fd) = fd {
        // SAFETY: fcntl is async-signal-safe; fd is open in the parent.
        unsafe {
            command.pre_exec(move || match libc::fcntl(fd, libc::F_SETFD, 0) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            });
        }
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .expect("start /usr/bin/time (package time; run tests/run)");
    let pid = child.id() as libc::pid_t;
    let feeder = match (child.stdin.take(), feed) {
        (Some(mut input), Some(generator)) => {
            Some(std::thread::spawn(move || generator(&mut input)))
        }
        _ => None,
    };
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    let (done, watched) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if watched.recv_timeout(limit).is_ok() {
            return None;
        }
        let peak = children(pid)
            .iter()
            .filter_map(|&tool| high_water_kib(tool))
            .max();
        // SAFETY: GNU time is not reaped before this thread is joined, so
        // its process group is still ours.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        Some(peak.unwrap_or(0))
    });
    wait_unreaped(pid);
    let took = started.elapsed();
    let _ = done.send(());
    let stopped_at = watchdog.join().unwrap();
    let status = child.wait().expect("reap GNU time");
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    let (stdout, stdout_len) = stdout.join().unwrap();
    let (stderr, _) = stderr.join().unwrap();
    let (code, signal, kib) = match stopped_at {
        Some(kib) => (None, Some(libc::SIGKILL), kib),
        None => time_report(&report, status, &what),
    };
    let _ = std::fs::remove_file(&report);
    Run {
        what,
        code,
        signal,
        stopped: stopped_at.is_some(),
        stdout,
        stdout_len,
        stderr,
        kib,
        took,
    }
}

/// A number for a file name, different for each call in this process.
fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The tool's exit status, ending signal and peak memory from GNU time's
/// report (`Command exited with non-zero status N` or `Command terminated
/// by signal N` lines, then `%M`) and GNU time's own wait status.
fn time_report(
    report: &std::path::Path,
    status: std::process::ExitStatus,
    what: &str,
) -> (Option<i32>, Option<i32>, i64) {
    let text = std::fs::read_to_string(report).unwrap_or_default();
    let kib = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("{what}: GNU time said {text:?}"));
    let signal = text
        .lines()
        .find_map(|l| l.strip_prefix("Command terminated by signal "))
        .and_then(|n| n.trim().parse().ok());
    let code = match signal {
        Some(_) => None,
        None => status.code(),
    };
    (code, signal, kib)
}

/// The children of process `pid`.
fn children(pid: libc::pid_t) -> Vec<libc::pid_t> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The high-water mark of a running process's memory (VmHWM), KiB.
fn high_water_kib(pid: libc::pid_t) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A generator writing `bytes`.
pub fn bytes_generator(bytes: Vec<u8>) -> Generator {
    Box::new(move |input: &mut ChildStdin| {
        let _ = input.write_all(&bytes);
    })
}

/// A generator of one header line `Subject: aaa...` of `total` octets
/// (then a blank line and a body), written a MiB at a time.
pub fn long_header_line(total: u64) -> Generator {
    Box::new(move |input: &mut ChildStdin| {
        let _ = stream_long_line(input, b"Subject: ", total, b"\n\nbody\n");
    })
}

/// Writes `head`, then `a` up to `total` octets, then `tail`, into `out`;
/// stops at the first write error (the reader is gone).
pub fn stream_long_line(
    out: &mut impl Write,
    head: &[u8],
    total: u64,
    tail: &[u8],
) -> std::io::Result<()> {
    let chunk = vec![b'a'; 1 << 20];
    out.write_all(head)?;
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    out.write_all(tail)
}

/// Reads a pipe to its end, keeping its first [`KEEP`] octets.
fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<(Vec<u8>, u64)> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = pipe.read(&mut buf) {
            total += n as u64;
            let room = KEEP.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        (kept, total)
    })
}

/// Waits until the child has ended, leaving it unreaped (a zombie whose
/// pid cannot be reused while the watchdog may still signal it).
fn wait_unreaped(pid: libc::pid_t) {
    loop {
        // SAFETY: a zeroed siginfo_t is a valid out-parameter.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child without reaping it.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "waitid: {e}");
    }
}
