//! `./demo` builds the tools with cargo's progress showing: a newcomer
//! sees the build move instead of minutes of silence; and its whole mail
//! path (Exim and Dovecot on loopback) works with the tools as built now.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

#[test]
fn the_demo_shows_the_build_progress() {
    let fake = tempfile::tempdir().unwrap();
    // A cargo that says how it was called and stops the demo there.
    let cargo = fake.path().join("cargo");
    std::fs::write(&cargo, "#!/bin/sh\necho \"cargo $*\" >&2\nexit 3\n").unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Every Debian package counts as installed: the test installs nothing.
    let dpkg = fake.path().join("dpkg-query");
    std::fs::write(&dpkg, "#!/bin/sh\nprintf 'install ok installed'\n").unwrap();
    std::fs::set_permissions(&dpkg, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        fake.path().display(),
        std::env::var("PATH").unwrap()
    );
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let out = Command::new(demo).env("PATH", path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let call = err
        .lines()
        .find(|l| l.starts_with("cargo build"))
        .unwrap_or_else(|| panic!("no build: {err}"));
    let args: Vec<&str> = call.split_whitespace().collect();
    assert!(
        args.contains(&"--release") && args.contains(&"--locked"),
        "{call}"
    );
    assert!(
        !args.iter().any(|a| *a == "--quiet" || *a == "-q"),
        "the build is silent: {call}"
    );
    assert!(
        err.contains("demo: building the tools"),
        "the build is announced: {err}"
    );
    assert!(out.stdout.is_empty());
}

/// Writes an executable shell script.
fn script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The whole demo, servers and all, run from a copy of the repository's
/// layout whose `target/release` is the directory of the binaries this test
/// run built (a cargo that does nothing, packages taken as installed): the
/// message must come back through Exim, Dovecot, imap-list and pop3-fetch
/// with its attachment intact, and the demo must say so and exit 0.
#[test]
fn the_demo_takes_a_message_along_the_whole_mail_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = Path::new(env!("CARGO_BIN_EXE_pop3-fetch"))
        .parent()
        .unwrap();
    let tree = tempfile::tempdir().unwrap();
    let t = tree.path();
    std::fs::copy(root.join("demo"), t.join("demo")).unwrap();
    std::fs::create_dir_all(t.join("scripts")).unwrap();
    script(&t.join("scripts/need-packages"), "#!/bin/sh\nexit 0\n");
    std::fs::create_dir_all(t.join("tests/fixtures")).unwrap();
    std::fs::copy(
        root.join("tests/fixtures/example.test.zone"),
        t.join("tests/fixtures/example.test.zone"),
    )
    .unwrap();
    std::fs::create_dir_all(t.join("target")).unwrap();
    std::os::unix::fs::symlink(bins, t.join("target/release")).unwrap();
    let fake = t.join("fake");
    std::fs::create_dir(&fake).unwrap();
    script(&fake.join("cargo"), "#!/bin/sh\nexit 0\n");
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());

    let out = Command::new(t.join("demo"))
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let all = format!("{stdout}\n--- stderr:\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    for step in [
        "$ smtp-send --server smtp://demo@127.0.0.1:",
        " => alice@example.test ",
        "$ imap-list imap://alice@127.0.0.1:",
        "$ pop3-fetch pop3://alice@127.0.0.1:",
        "(the attachment came back byte for byte",
    ] {
        assert!(
            stdout.contains(step),
            "no {step:?} in the demo's output:\n{all}"
        );
    }
    assert!(
        stdout.contains("P=esmtpsa X=TLS") && stdout.contains("A=plain:demo"),
        "not submitted with STARTTLS and AUTH:\n{all}"
    );
}
