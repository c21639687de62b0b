//! No password leaks. Every tool that logs in (smtp-send, pop3-fetch,
//! imap-list), run with `-v` against the real servers of the tests, with
//! the password from each source (file, environment, command, netrc) and
//! each login the servers offer: the password, and the base64 forms that
//! SASL PLAIN and LOGIN put on the wire, appear in no output, in no file
//! the tool writes, and in the arguments of no process running while it
//! works (an MDA records them all).

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::dovecot::Dovecot;
use common::exim::{Exim, EximOptions};
use common::{Scratch, code, run_tool_env, stderr};

const USER: &str = "carol";
const SECRET: &str = "Zq7-unlikely-S3cret";

/// The octets that would betray the password.
fn betrayals() -> Vec<(String, Vec<u8>)> {
    let b64 = |data: &[u8]| base64::engine::general_purpose::STANDARD.encode(data);
    let plain = format!("\0{USER}\0{SECRET}");
    let plain_authz = format!("{USER}\0{USER}\0{SECRET}");
    vec![
        ("the password".into(), SECRET.as_bytes().to_vec()),
        ("its base64".into(), b64(SECRET.as_bytes()).into_bytes()),
        ("PLAIN's base64".into(), b64(plain.as_bytes()).into_bytes()),
        (
            "PLAIN's base64 with authzid".into(),
            b64(plain_authz.as_bytes()).into_bytes(),
        ),
    ]
}

/// Panics when `data` (from `whence`) holds any betrayal.
fn assert_clean(whence: &str, data: &[u8]) {
    for (what, needle) in betrayals() {
        let found = data.windows(needle.len()).any(|w| w == needle.as_slice());
        assert!(!found, "{what} is in {whence}");
    }
}

/// Every file below `dir`, but the ones the test wrote itself.
fn written_files(dir: &Path, own: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !own.contains(&path) {
                files.push(path);
            }
        }
    }
    files
}

/// A password source: its name, its arguments and its environment.
struct Source {
    name: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// The password sources, written into `dir` for `host`.
fn sources(dir: &Path, host: &str) -> Vec<Source> {
    use std::os::unix::fs::PermissionsExt;
    let private = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path.to_str().unwrap().to_string()
    };
    let file = private("password", format!("{SECRET}\n"));
    let netrc = private(
        "netrc",
        format!("machine {host} login {USER} password {SECRET}\n"),
    );
    let source = |name: &'static str, value: String, env: Vec<(String, String)>| Source {
        name,
        args: vec![name.to_string(), value],
        env,
    };
    vec![
        source("--password-file", file.clone(), vec![]),
        source(
            "--password-env",
            "MAILKIT_TEST_SECRET".into(),
            vec![("MAILKIT_TEST_SECRET".into(), SECRET.into())],
        ),
        source("--password-command", format!("cat {file}"), vec![]),
        source("--netrc-file", netrc, vec![]),
    ]
}

/// Runs `bin` with `args` and a source's, checks it succeeded and that
/// nothing it printed or wrote below `scratch` betrays the password.
fn run_clean(
    bin: &str,
    args: &[String],
    source: &Source,
    stdin: &[u8],
    scratch: &Path,
    own: &[PathBuf],
) {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(source.args.iter().map(String::as_str));
    let env: Vec<(&str, &str)> = source
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let out = run_tool_env(bin, &all, stdin, &env);
    let what = format!("{} {}", Path::new(bin).display(), source.name);
    assert_eq!(code(&out), 0, "{what}: {}", stderr(&out));
    // The transcript is there, and it shows the secrets as ****.
    assert!(stderr(&out).contains("****"), "{what}: {}", stderr(&out));
    assert_clean(&format!("{what}: stdout"), &out.stdout);
    assert_clean(&format!("{what}: stderr"), &out.stderr);
    for path in written_files(scratch, own) {
        let data = std::fs::read(&path).unwrap();
        assert_clean(&format!("{what}: {}", path.display()), &data);
    }
}

const MESSAGE: &[u8] =
    b"From: carol@example.test\nTo: carol@example.test\nSubject: secrets\n\nnothing to see\n";

#[test]
fn no_tool_shows_writes_or_passes_on_the_password() {
    let dovecot = Dovecot::start();
    dovecot.add_user(USER, SECRET);
    let exim = Exim::start(&dovecot, EximOptions::default());
    let scratch = Scratch::new();
    let dir = scratch.path();
    let mut own: Vec<PathBuf> = vec![dir.join("password"), dir.join("netrc")];
    let dovecot_cert = dovecot.cert.to_str().unwrap().to_string();
    let exim_cert = exim.cert.to_str().unwrap().to_string();
    for (round, source) in sources(dir, "localhost").iter().enumerate() {
        // smtp-send: STARTTLS, then AUTH through Dovecot's passwords.
        let send = [
            "-v",
            "--server",
            &format!("smtp://{USER}@localhost:{}", exim.port),
            "--cafile",
            &exim_cert,
            "carol@example.test",
        ]
        .map(String::from);
        run_clean(
            env!("CARGO_BIN_EXE_smtp-send"),
            &send,
            source,
            MESSAGE,
            dir,
            &own,
        );
        dovecot.wait_for_messages(USER, round + 1, std::time::Duration::from_secs(10));
    }
    for source in sources(dir, "localhost") {
        // pop3-fetch by each login, with an MDA that records the
        // arguments of every process running then.
        for auth in ["user", "plain", "login"] {
            let argv = dir.join(format!("argv-{auth}"));
            own.retain(|p| p != &argv);
            let mda = format!(
                "cat >/dev/null; for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; \
                 done > {}",
                argv.display()
            );
            let fetch = [
                "-v",
                &format!("pop3://{USER}@localhost:{}", dovecot.pop3),
                "--cafile",
                &dovecot_cert,
                "--auth",
                auth,
                "--mda",
                &mda,
                "--state",
                dir.join(format!("pop3-state-{auth}")).to_str().unwrap(),
            ]
            .map(String::from);
            run_clean(
                env!("CARGO_BIN_EXE_pop3-fetch"),
                &fetch,
                &source,
                b"",
                dir,
                &own,
            );
            let recorded = std::fs::read_to_string(&argv).unwrap();
            assert!(recorded.contains("pop3-fetch"), "{recorded}");
        }
        // imap-list: folders, a listing, a fetch and an archive.
        let url = format!("imap://{USER}@localhost:{}", dovecot.imap);
        for extra in [
            vec![],
            vec!["--folder".to_string(), "INBOX".to_string()],
            vec![
                "--new".to_string(),
                "--folder".to_string(),
                "INBOX".to_string(),
                "--maildir".to_string(),
                dir.join("archive").to_str().unwrap().to_string(),
                "--state".to_string(),
                dir.join("imap-state").to_str().unwrap().to_string(),
            ],
        ] {
            let mut list = vec![
                "-v".to_string(),
                url.clone(),
                "--cafile".into(),
                dovecot_cert.clone(),
            ];
            list.extend(extra);
            run_clean(
                env!("CARGO_BIN_EXE_imap-list"),
                &list,
                &source,
                b"",
                dir,
                &own,
            );
        }
    }
    assert!(
        dir.join("archive/new").read_dir().unwrap().count() >= 4,
        "the archive stored nothing"
    );
}
