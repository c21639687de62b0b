//! The input convention every tool shares (src/input.rs): a directory
//! where a message file or stdin is expected is 66 with the path named,
//! the same in every tool; a terminal on stdin gets one note on stderr.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{Scratch, code, run_tool, stderr};
use serde_json::Value;

const UNPACK: &str = env!("CARGO_BIN_EXE_mime-unpack");
const LINT: &str = env!("CARGO_BIN_EXE_rfc822-lint");
const PACK: &str = env!("CARGO_BIN_EXE_mime-pack");
const SEND: &str = env!("CARGO_BIN_EXE_smtp-send");

/// Runs `bin` with `args` and the directory `dir` as its stdin (`< dir`).
fn with_stdin_dir(bin: &str, args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(bin)
        .args(args)
        .stdin(Stdio::from(std::fs::File::open(dir).unwrap()))
        .output()
        .unwrap()
}

fn assert_66_naming(out: &std::process::Output, name: &str, what: &str) {
    assert_eq!(code(out), 66, "{what}: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "{what}: one error line: {err}");
    assert!(
        err.contains(&format!("{name}: is a directory, not a file")),
        "{what}: {err}"
    );
    assert!(out.stdout.is_empty(), "{what}: output was written");
}

#[test]
fn a_directory_as_a_message_file_is_66_with_its_path_in_every_tool() {
    let scratch = Scratch::new();
    let dir = scratch.path().join("notafile");
    std::fs::create_dir(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let server = "smtp://127.0.0.1:1";
    let cases: [(&str, Vec<&str>); 5] = [
        (UNPACK, vec![d]),
        (UNPACK, vec!["--extract", "-d", "out", d]),
        (SEND, vec!["--server", server, "--file", d, "a@example.org"]),
        (PACK, vec!["--from", "a@example.org", d]),
        (PACK, vec!["--from", "a@example.org", "--body", d]),
    ];
    for (bin, args) in cases {
        let out = run_tool(bin, &args, b"Subject: x\n\nbody\n");
        assert_66_naming(&out, d, &format!("{bin} {args:?}"));
    }
}

#[test]
fn a_directory_as_stdin_is_66_in_every_tool() {
    let scratch = Scratch::new();
    let server = "smtp://127.0.0.1:1";
    let cases: [(&str, &[&str]); 6] = [
        (UNPACK, &[]),
        (UNPACK, &["--text"]),
        (LINT, &["--fix"]),
        (SEND, &["--server", server, "a@example.org"]),
        (PACK, &["--from", "a@example.org"]),
        (PACK, &["--message", "x.pdf"]),
    ];
    for (bin, args) in cases {
        let out = with_stdin_dir(bin, args, scratch.path());
        if bin == PACK && args.contains(&"x.pdf") {
            // The missing attachment is found first: still 66, named.
            assert_eq!(code(&out), 66, "{}", stderr(&out));
            continue;
        }
        assert_66_naming(&out, "stdin", &format!("{bin} {args:?}"));
    }
    // rfc822-lint reports each input and goes on: the error names stdin,
    // the summary follows, the status is 66.
    let out = with_stdin_dir(LINT, &["-"], scratch.path());
    assert_eq!(code(&out), 66, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rfc822-lint: error: stdin: is a directory, not a file"),
        "{}",
        stderr(&out)
    );
}

/// Runs `args` with a pseudo-terminal as stdin on which `typed` is typed.
fn on_terminal(typed: &str, args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/on_terminal.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(typed)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const NOTICE: &str = "note: reading a message from the terminal; end with Ctrl-D\n";

#[test]
fn a_terminal_on_stdin_is_announced_once() {
    let typed = "Subject: typed\n\nhello\n";
    for (bin, tool) in [(UNPACK, "mime-unpack"), (LINT, "rfc822-lint")] {
        let seen = on_terminal(typed, &[bin]);
        let err = seen["stderr"].as_str().unwrap();
        assert_eq!(err.matches(NOTICE).count(), 1, "{tool}: {err}");
        assert!(
            err.starts_with(&format!("{tool}: {NOTICE}")),
            "{tool}: {err}"
        );
    }
    let seen = on_terminal(typed, &[UNPACK, "--text"]);
    assert_eq!(seen["stdout"], "hello\n");
    // mime-pack reads a typed body instead of taking none.
    let seen = on_terminal("typed body\n", &[PACK, "--from", "a@example.org"]);
    assert_eq!(seen["status"], 0, "{seen}");
    assert!(
        seen["stdout"].as_str().unwrap().ends_with("\ntyped body\n"),
        "{seen}"
    );
    assert!(seen["stderr"].as_str().unwrap().contains(NOTICE), "{seen}");
    // Not a terminal: no notice.
    let out = run_tool(UNPACK, &[], typed.as_bytes());
    assert_eq!(code(&out), 0);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}
