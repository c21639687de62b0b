//! A tool run killed with SIGKILL at a chosen point: when its `-v`
//! transcript shows a given line, or after a while.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a run is killed.
#[derive(Clone, Copy, Debug)]
pub enum KillAt {
    /// As soon as the transcript shows the `n`th line starting with this.
    Line(&'static str, usize),
    /// This long after the start.
    After(Duration),
}

/// Runs `bin` with `args` and `-v`, killed with SIGKILL as `kill` says (a
/// line is acted on as soon as it is read), or after 60 s: how it ended
/// and its standard error.
pub fn run_killed(bin: &str, args: &[&str], kill: Option<KillAt>) -> (ExitStatus, String) {
    let mut child = Command::new(bin)
        .args(args)
        .arg("-v")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // Held while the child is reaped, so that a kill never reaches a pid
    // that was reused.
    let reaped = Arc::new(Mutex::new(false));
    let reader = BufReader::new(child.stderr.take().unwrap());
    let collector = {
        let reaped = Arc::clone(&reaped);
        std::thread::spawn(move || {
            let mut lines = Vec::new();
            let mut count = 0;
            for line in reader.lines().map_while(Result::ok) {
                if let Some(KillAt::Line(prefix, n)) = kill {
                    count += usize::from(line.starts_with(prefix));
                    if count == n && !*reaped.lock().unwrap() {
                        // SAFETY: our own child, not yet reaped (checked
                        // under the lock).
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                }
                lines.push(line);
            }
            lines.join("\n")
        })
    };
    let started = Instant::now();
    let status = loop {
        let mut done = reaped.lock().unwrap();
        if let Some(status) = child.try_wait().unwrap() {
            *done = true;
            break status;
        }
        drop(done);
        let due = matches!(kill, Some(KillAt::After(delay)) if started.elapsed() >= delay);
        if due || started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_micros(300));
    };
    (status, collector.join().unwrap())
}
