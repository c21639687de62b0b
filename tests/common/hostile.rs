//! What every adversarial-server suite shares: the tool run under GNU
//! time with the suites' `--timeout` and password, and the checks made of
//! each run: within its time and memory bounds, nothing raw on the
//! terminal, and the password sent nowhere in any form.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `--timeout` for every run, in seconds.
pub const TIMEOUT: u64 = 2;
/// Peak memory allowed (KiB).
pub const MAX_KIB: i64 = 64 << 10;
/// The password in the password file.
pub const PASSWORD: &str = "Adv3rsarial-pw";

/// A tool's run: its output, how long it took and its peak memory.
pub struct Ran {
    /// The tool's output.
    pub out: Output,
    /// How long the tool ran.
    pub took: Duration,
    /// Its peak memory, KiB.
    pub kib: i64,
}

impl Ran {
    /// The exit status (a death by signal fails the test).
    pub fn code(&self) -> i32 {
        self.out
            .status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {:?}", self.out))
    }

    /// The standard error, as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// The standard output, as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    /// The exit status is `want`, within the time and memory bounds;
    /// `seen` (what the server received) explains a failure.
    pub fn expect_status(&self, want: i32, what: &str, seen: &[String]) {
        let code = self.code();
        assert_eq!(
            code,
            want,
            "{what}: exit {code}, stderr {:?}, server saw {seen:?}",
            self.stderr(),
        );
        self.bounded(what);
    }

    /// Within `--timeout` plus a second and [`MAX_KIB`], and no raw
    /// control characters out.
    pub fn bounded(&self, what: &str) {
        let limit = Duration::from_secs(TIMEOUT + 1);
        assert_bounded(&self.out, (self.took, limit), (self.kib, MAX_KIB), what);
    }
}

/// The password file in `dir` (mode 0600) and the arguments that give it
/// to a tool, with the certificate in `dir` to trust and [`TIMEOUT`].
pub fn session_args(dir: &Path) -> Vec<OsString> {
    let password = dir.join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).unwrap();
    super::set_mode(&password, 0o600);
    vec![
        "--password-file".into(),
        password.into(),
        "--cafile".into(),
        dir.join("cert.pem").into(),
        "--timeout".into(),
        TIMEOUT.to_string().into(),
    ]
}

/// Runs the tool that `tool` adds (program, arguments, environment) to a
/// GNU time command line (package time), `stdin` fed to it, its report
/// kept in `dir`; the tool is killed after 40 s.
pub fn measured(dir: &Path, stdin: &[u8], tool: impl FnOnce(&mut Command)) -> Ran {
    let report = dir.join("rusage");
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%M", "-o"]).arg(&report);
    tool(&mut command);
    let started = Instant::now();
    let out = super::output_within(&mut command, stdin, Duration::from_secs(40));
    let took = started.elapsed();
    let rusage = std::fs::read_to_string(&report).unwrap_or_default();
    let kib = rusage
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time said {rusage:?}; the tool said {out:?}"));
    Ran { out, took, kib }
}

/// The run took less than `limit` and at most `max_kib` of memory, and
/// no raw control character reached its stdout or stderr.
pub fn assert_bounded(
    out: &Output,
    (took, limit): (Duration, Duration),
    (kib, max_kib): (i64, i64),
    what: &str,
) {
    assert!(took < limit, "{what}: took {took:?}");
    assert!(kib < max_kib, "{what}: {kib} KiB at most");
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let raw = bytes
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f);
        assert!(
            raw.is_none(),
            "{what}: raw control character {raw:?} on {name}: {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// `password` and every base64 form of it (at each alignment, alone or
/// inside SASL PLAIN's `authzid NUL alice NUL password`) are not in
/// `text`.
pub fn assert_password_absent(text: &str, password: &str, what: &str) {
    assert!(!text.contains(password), "{what}: the password was sent");
    for form in base64_forms(password) {
        assert!(
            !text.contains(&form),
            "{what}: the password was sent in base64 ({form})"
        );
    }
}

/// The base64 characters that depend only on `secret`, for the three
/// positions it can have relative to a base64 group, and alice's PLAIN
/// forms.
fn base64_forms(secret: &str) -> Vec<String> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut forms = Vec::new();
    for k in 0..3usize {
        let mut data = vec![0u8; k];
        data.extend_from_slice(secret.as_bytes());
        let encoded = engine.encode(&data);
        let first = (8 * k).div_ceil(6);
        let last = 8 * (k + secret.len()) / 6;
        forms.push(encoded[first..last].to_string());
    }
    forms.push(engine.encode(format!("\0alice\0{secret}")));
    forms.push(engine.encode(format!("alice\0alice\0{secret}")));
    forms
}
