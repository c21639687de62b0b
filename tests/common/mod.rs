//! The test harness: real servers on loopback, each in its own short
//! temporary directory on a free high port, stopped (SIGTERM, then reaped)
//! when the test ends, whether it passed or failed.
//!
//! A server plugs in by writing its configuration into a [`Scratch`]
//! directory and handing its command line and a readiness probe to
//! [`Daemon::start`].

#![allow(dead_code)]

pub mod dovecot;
pub mod exim;
pub mod hostile;
pub mod imap_script;
pub mod killed;
pub mod nsd;
pub mod pop3_script;
pub mod script_wire;
pub mod scripted;
pub mod tlscert;

pub use tlscert::set_mode;

use std::io::Write;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temporary directory with a short path (Unix socket paths are limited
/// to 108 bytes) that server users can traverse (mode 755).
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new empty directory under /tmp.
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("mk.")
            .tempdir_in("/tmp")
            .expect("create a temporary directory");
        set_mode(dir.path(), 0o755);
        Scratch { dir }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A subdirectory, created with mode 755.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("create a subdirectory");
        set_mode(&path, 0o755);
        path
    }
}

/// A port that is free on 127.0.0.1 for both TCP and UDP right now.
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a TCP port");
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A server process that is stopped and reaped when dropped.
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// Starts `command` (stdout and stderr into `log`) and waits until
    /// `ready` says yes, at most 10 seconds; panics with the log otherwise.
    pub fn start(
        name: &str,
        mut command: Command,
        log: PathBuf,
        mut ready: impl FnMut() -> bool,
    ) -> Daemon {
        let out = std::fs::File::create(&log).expect("create the server log");
        let err = out.try_clone().unwrap();
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {name}: {e} (is it installed? run tests/run)")
        });
        let mut daemon = Daemon {
            name: name.to_string(),
            child,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready() {
            if let Ok(Some(status)) = daemon.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before it was ready:\n{}",
                    daemon.log_text()
                );
            }
            if Instant::now() > deadline {
                panic!("{name} not ready after 10 s:\n{}", daemon.log_text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        daemon
    }

    /// What the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    eprintln!("{} ignored SIGTERM; killed", self.name);
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
}

/// Runs a built tool with `args` and `stdin`, killed after 60 s so that a
/// hang fails the test instead of stalling the suite.
pub fn run_tool(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    run_tool_env(bin, args, stdin, &[])
}

/// [`run_tool`] with extra environment variables.
pub fn run_tool_env(bin: &str, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(bin);
    command.args(args).envs(env.iter().copied());
    output_within(&mut command, stdin, Duration::from_secs(60))
}

/// Runs `command` in a process group of its own with `stdin` fed to it
/// and its output collected; the whole group is killed after `limit`, so
/// that a hang fails the test instead of stalling the suite.
pub fn output_within(command: &mut Command, stdin: &[u8], limit: Duration) -> Output {
    use std::os::unix::process::CommandExt;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let pid = child.id() as libc::pid_t;
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(limit);
        // SAFETY: at worst signals a group that no longer exists.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    });
    let output = child.wait_with_output().expect("wait for the tool");
    drop(watchdog);
    feeder.join().unwrap();
    output
}

/// The exit status of a finished tool (panics when killed by a signal).
pub fn code(output: &Output) -> i32 {
    output
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {output:?}"))
}

/// stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What [`run_measured`] saw.
pub struct Measured {
    /// The exit status.
    pub code: i32,
    /// How many lines the tool wrote to stdout.
    pub stdout_lines: usize,
    /// Peak resident memory of the tool, in KiB.
    pub max_rss_kib: i64,
}

/// Runs a tool under GNU time (whose own small process is the parent, so
/// the figure is the tool's alone), streaming `lines` of input into it
/// (generated on the fly, never held whole) and counting its output lines.
pub fn run_measured(
    bin: &str,
    args: &[&str],
    lines: impl Iterator<Item = String> + Send + 'static,
) -> Measured {
    use std::io::{BufRead, BufReader, BufWriter};
    let scratch = Scratch::new();
    let report = scratch.path().join("rusage");
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start /usr/bin/time (package time; run tests/run)");
    let input = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut input = BufWriter::new(input);
        for line in lines {
            if writeln!(input, "{line}").is_err() {
                break;
            }
        }
    });
    let reader = BufReader::new(child.stdout.take().unwrap());
    let stdout_lines = reader.lines().count();
    let status = child.wait().expect("wait for the tool");
    feeder.join().unwrap();
    let rusage = std::fs::read_to_string(&report).expect("GNU time's report");
    let max_rss_kib = rusage
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected GNU time report {rusage:?}"));
    Measured {
        code: status.code().expect("the tool was killed by a signal"),
        stdout_lines,
        max_rss_kib,
    }
}

/// What Python's email package (policy.default) makes of a message:
/// `tests/support/mime_check.py`'s JSON view (its parts, decoded, and its
/// defects), the independent second opinion for messages mailkit writes.
pub fn python_view(message: &[u8]) -> serde_json::Value {
    let dir = Scratch::new();
    let path = dir.path().join("m.eml");
    std::fs::write(&path, message).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mime_check.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
