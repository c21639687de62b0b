//! `./demo` builds the tools with cargo's progress showing: a newcomer
//! sees the build move instead of minutes of silence.

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
