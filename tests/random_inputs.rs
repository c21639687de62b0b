//! Every tool, given a few thousand random inputs in all on every `cargo
//! test`: the message readers random bytes and messages built from random
//! pieces (header fields, boundaries, encodings, nesting, broken line
//! ends); the network tools random password files, netrc files, state
//! files, CA files, queue entries, URLs and domain names (refused before
//! any connection, or a connection refused on a port where nothing
//! listens). Each run ends within seconds with one of the statuses its
//! contract allows, never a panic (101) or a signal, and an error is one
//! line saying what failed; one run in [`MEASURE_EVERY`] goes through GNU
//! time, and its peak memory must stay under 64 MiB.

#[path = "support/bounded.rs"]
mod bounded;
mod common;

use std::time::{Duration, Instant};

use common::{Scratch, run_tool, set_mode};

/// One run in this many is measured (peak memory, through GNU time).
const MEASURE_EVERY: usize = 16;

/// A small deterministic generator (xorshift), so a failure repeats.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, choices: &[&'a [u8]]) -> &'a [u8] {
        choices[self.below(choices.len())]
    }
}

const PIECES: &[&[u8]] = &[
    b"From: a@example.org\n",
    b"To: b@example.org, \"Doe, J\" <j@example.org>\n",
    b"Subject: =?UTF-8?B?w6TDtsO8?= =?ISO-8859-1?Q?=E4?=\n",
    b"Subject: =?bogus?X?@@@?=\n",
    b"Date: Mon, 2 Nov 2026 10:00:00 +0100\n",
    b"Date: yesterday\n",
    b"MIME-Version: 1.0\n",
    b"Content-Type: multipart/mixed; boundary=\"b\"\n",
    b"Content-Type: multipart/alternative; boundary=b\n",
    b"Content-Type: message/rfc822\n",
    b"Content-Type: text/plain; charset=\"x-unknown\"\n",
    b"Content-Type: application/octet-stream; name*=UTF-8''%E2%80%AEfdp.exe\n",
    b"Content-Disposition: attachment; filename=\"../../etc/passwd\"\n",
    b"Content-Disposition: attachment; filename*0*=UTF-8''a%; filename*1=b\n",
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Transfer-Encoding: x-uuencode\n",
    b"\n",
    b"\r\n",
    b"\r",
    b"--b\n",
    b"--b--\n",
    b"--b",
    b"SGVsbG8gd29ybGQ=\n",
    b"!!!not base64===\n",
    b"=E4=\n",
    b"=ZZ soft=\n",
    b"begin 644 x.bin\n#86)C\n`\nend\n",
    b"From someone Mon Nov  2 10:00:00 2026\n",
    b">From quoted\n",
    b".\n",
    b"..dot\n",
    b"\0\xff\xfe\x80",
    b"   folded continuation\n",
    b"no colon line\n",
    b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
];

/// One input: random bytes, or a message made of random pieces.
fn input(random: &mut Random) -> Vec<u8> {
    let mut data = Vec::new();
    match random.below(4) {
        0 => {
            let len = random.below(600);
            data.extend((0..len).map(|_| random.next() as u8));
        }
        _ => {
            for _ in 0..random.below(60) {
                data.extend_from_slice(random.pick(PIECES));
            }
        }
    }
    data
}

/// Runs `bin` with `args` over `rounds` random inputs from `seed`; every
/// status must be in `allowed`, and each run short.
fn fuzz_tool(bin: &str, args: &[&str], allowed: &[i32], seed: u64, rounds: usize) {
    let mut random = Random(seed);
    for round in 0..rounds {
        let data = input(&mut random);
        let what = format!("{args:?}, seed {seed:#x} round {round}");
        check_run(bin, args, data, allowed, round, &what);
    }
}

/// Runs `bin` with `args` and `stdin` (measured when `round` is one in
/// [`MEASURE_EVERY`]) and checks it.
fn check_run(bin: &str, args: &[&str], stdin: Vec<u8>, allowed: &[i32], round: usize, what: &str) {
    let name = bin.rsplit('/').next().unwrap_or(bin);
    let what = format!("{name} {what}");
    // mx-lookup --json tells each name's failure in its record.
    let records = bin == MX && args.contains(&"--json");
    if round.is_multiple_of(MEASURE_EVERY) {
        let home = Scratch::new();
        let limit = Duration::from_secs(30);
        let run = bounded::run(bin, args, bounded::Feed::Bytes(stdin), limit, home.path());
        let status = run.code();
        assert!(
            allowed.contains(&status),
            "{what}: status {status}: {}",
            run.stderr()
        );
        assert!(
            run.took < Duration::from_secs(10),
            "{what}: took {:?}",
            run.took
        );
        match records {
            true => run.sound(),
            false => run.clean(),
        };
        return;
    }
    let started = Instant::now();
    let out = run_tool(bin, args, &stdin);
    let took = started.elapsed();
    let status = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{what}: killed by a signal: {out:?}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    assert!(
        allowed.contains(&status),
        "{what}: status {status}: {stderr}"
    );
    assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
    if status >= 64 && !records {
        let errors = stderr
            .lines()
            .filter(|l| l.contains(": error:") || l.starts_with("error:"))
            .count();
        assert_eq!(errors, 1, "{what}: {stderr}");
    }
}

/// Random bytes, or a line of random printable text, or random pieces of
/// the syntax of a netrc, a state file or a PEM file.
fn file_input(random: &mut Random) -> Vec<u8> {
    const WORDS: &[&[u8]] = &[
        b"machine ",
        b"127.0.0.1 ",
        b"login ",
        b"alice ",
        b"password ",
        b"\"s e\\\"c\" ",
        b"default ",
        b"macdef x\n",
        b"\n",
        b"# mailkit fetch state 1\n",
        b"UIDL1 name\n",
        b"-----BEGIN CERTIFICATE-----\n",
        b"MIIB\n",
        b"-----END CERTIFICATE-----\n",
        b"\0",
        b"\xff\xfe",
        b"\r\n",
        b"#",
        b" ",
    ];
    match random.below(3) {
        0 => (0..random.below(300))
            .map(|_| random.next() as u8)
            .collect(),
        1 => (0..random.below(80))
            .map(|_| b' ' + (random.next() % 95) as u8)
            .collect(),
        _ => (0..random.below(30))
            .flat_map(|_| random.pick(WORDS).to_vec())
            .collect(),
    }
}

/// Runs `bin` with `args` (`@` standing for a file) over `rounds` random
/// files from `seed`, each written mode 0600 in a fresh directory.
fn fuzz_file(bin: &str, args: &[&str], allowed: &[i32], seed: u64, rounds: usize) {
    let mut random = Random(seed);
    let dir = Scratch::new();
    for round in 0..rounds {
        let path = dir.path().join(format!("f{round}"));
        std::fs::write(&path, file_input(&mut random)).unwrap();
        set_mode(&path, 0o600);
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "@" { path.to_str().unwrap() } else { a })
            .collect();
        let what = format!("{args:?}, seed {seed:#x} round {round}");
        check_run(bin, &args, Vec::new(), allowed, round, &what);
        let _ = std::fs::remove_file(&path);
    }
}

/// A URL on 127.0.0.1 at a port where nothing listens.
fn dead_url(scheme: &str) -> String {
    format!("{scheme}://alice@127.0.0.1:{}", common::free_port())
}

#[test]
fn mime_unpack_lists_extracts_and_reads_any_input() {
    let bin = env!("CARGO_BIN_EXE_mime-unpack");
    fuzz_tool(bin, &[], &[0, 65], 0x5eed_0001, 150);
    fuzz_tool(bin, &["--json"], &[0, 65], 0x5eed_0002, 100);
    fuzz_tool(bin, &["--text"], &[0, 65], 0x5eed_0003, 100);
    let scratch = Scratch::new();
    let dir = scratch.path().join("out");
    fuzz_tool(
        bin,
        &["--extract", "-d", dir.to_str().unwrap()],
        &[0, 65],
        0x5eed_0004,
        100,
    );
}

#[test]
fn rfc822_lint_checks_and_fixes_any_input() {
    let bin = env!("CARGO_BIN_EXE_rfc822-lint");
    fuzz_tool(bin, &["-"], &[0, 1, 65], 0x5eed_0011, 150);
    fuzz_tool(bin, &["--fix", "-"], &[0, 1, 65], 0x5eed_0012, 100);
}

#[test]
fn mime_pack_takes_any_body_and_any_message() {
    let bin = env!("CARGO_BIN_EXE_mime-pack");
    let base = [
        "--from",
        "a@example.org",
        "--to",
        "b@example.org",
        "--subject",
        "x",
    ];
    fuzz_tool(bin, &base, &[0], 0x5eed_0021, 100);
    fuzz_tool(bin, &["--message"], &[0, 65], 0x5eed_0022, 100);
}

#[test]
fn smtp_send_dry_run_takes_any_message() {
    let bin = env!("CARGO_BIN_EXE_smtp-send");
    fuzz_tool(
        bin,
        &[
            "--dry-run",
            "--server",
            "smtp://127.0.0.1:9",
            "-t",
            "b@example.org",
        ],
        &[0, 64, 65],
        0x5eed_0031,
        150,
    );
}

/// Found by the test above: `mime-pack --message` with a NUL in the body
/// said 74 ("the content changed since it was analysed") after writing
/// part of the message; it is unusable input, 65, before any output.
#[test]
fn mime_pack_refuses_a_message_body_with_nul_before_writing() {
    let out = run_tool(
        env!("CARGO_BIN_EXE_mime-pack"),
        &["--message"],
        b"Subject: x\n\n\0\xff\n",
    );
    assert_eq!(out.status.code(), Some(65), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NUL"));
}

#[test]
fn pop3_fetch_takes_any_credential_state_and_ca_file() {
    let url = dead_url("pop3");
    let base = [url.as_str(), "--timeout", "2"];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    // A bad file is 78 before connecting; one that reads is 75 (refused).
    fuzz_file(
        POP3,
        &with(&["--password-file", "@"]),
        &[75, 78],
        0x5eed_0041,
        120,
    );
    fuzz_file(
        POP3,
        &with(&["--netrc-file", "@"]),
        &[75, 78],
        0x5eed_0042,
        120,
    );
    let state = [
        "--password-env",
        "PW",
        "--new",
        "--maildir",
        "/nonexistent/m",
        "--state",
        "@",
    ];
    fuzz_file(POP3, &with(&state), &[73, 75, 78], 0x5eed_0043, 100);
    fuzz_file(
        POP3,
        &with(&["--password-env", "PW", "--cafile", "@"]),
        &[75, 78],
        0x5eed_0044,
        60,
    );
}

#[test]
fn imap_list_takes_any_credential_state_and_ca_file() {
    let url = format!("{}/INBOX", dead_url("imap"));
    let base = [url.as_str(), "--timeout", "2"];
    let with = |extra: &[&'static str]| [&base[..], extra].concat();
    fuzz_file(
        IMAP,
        &with(&["--password-file", "@"]),
        &[75, 78],
        0x5eed_0051,
        120,
    );
    fuzz_file(
        IMAP,
        &with(&["--netrc-file", "@"]),
        &[75, 78],
        0x5eed_0052,
        120,
    );
    let state = [
        "--password-env",
        "PW",
        "--new",
        "--maildir",
        "/nonexistent/m",
        "--state",
        "@",
    ];
    fuzz_file(IMAP, &with(&state), &[73, 75, 78], 0x5eed_0053, 100);
    fuzz_file(
        IMAP,
        &with(&["--password-env", "PW", "--cafile", "@"]),
        &[75, 78],
        0x5eed_0054,
        60,
    );
}

/// Random text where a URL or a recipient goes: a usage error (64) or
/// refused input (65), or a refused connection (75).
#[test]
fn every_network_tool_takes_any_url_and_address() {
    let mut random = Random(0x5eed_0061);
    let message = b"From: a@example.org\nTo: b@example.org\n\nhi\n";
    for round in 0..120 {
        let len = 1 + random.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| b' ' + (random.next() % 95) as u8)
            .collect();
        let text = String::from_utf8(bytes).unwrap();
        let text = text.trim_start_matches('-');
        let url = match round % 4 {
            0 => text.to_string(),
            1 => format!("imap://{text}"),
            2 => format!("pop3://u@{text}/x"),
            _ => format!("smtp://{text}"),
        };
        let what = format!("{url:?}");
        let timeout = ["--timeout", "1"];
        check_run(
            POP3,
            &[&url, timeout[0], timeout[1]],
            Vec::new(),
            &[64, 75, 78],
            round,
            &what,
        );
        check_run(
            IMAP,
            &[&url, timeout[0], timeout[1]],
            Vec::new(),
            &[64, 75, 78],
            round,
            &what,
        );
        let smtp = ["--dry-run", "--server", &url, "b@example.org"];
        check_run(SMTP, &smtp, message.to_vec(), &[0, 64], round, &what);
        let smtp = ["--dry-run", "--server", "smtp://127.0.0.1:9", text];
        check_run(SMTP, &smtp, message.to_vec(), &[0, 64, 65], round, &what);
        let mx = [
            "--server",
            "127.0.0.1:9",
            "--timeout",
            "1",
            "--no-addresses",
            text,
        ];
        check_run(MX, &mx, Vec::new(), &[0, 64, 65, 68, 75], round, &what);
    }
}

/// mx-lookup's names, one a line on stdin: random bytes and random names
/// (invalid, 65; or valid, asked of a resolver that is not there, 75),
/// every outcome a JSON record.
#[test]
fn mx_lookup_takes_any_names_on_stdin() {
    let mut random = Random(0x5eed_0071);
    let args = [
        "--server",
        "127.0.0.1:9",
        "--timeout",
        "1",
        "--json",
        "--no-addresses",
    ];
    for round in 0..150 {
        let data: Vec<u8> = match round % 2 {
            0 => (0..random.below(400))
                .map(|_| random.next() as u8)
                .collect(),
            _ => (0..random.below(8))
                .flat_map(|_| {
                    let name: Vec<u8> = (0..random.below(20))
                        .map(|_| b"ab.-x\xc3\xa4@_9 "[random.below(11)])
                        .collect();
                    [name, b"\n".to_vec()].concat()
                })
                .collect(),
        };
        let what = format!("stdin, round {round}");
        check_run(MX, &args, data, &[0, 65, 68, 75], round, &what);
    }
}

/// smtp-send --list-queue and --flush over queues of random entries: each
/// unreadable entry is skipped with a warning, and the run is 0.
#[test]
fn smtp_send_takes_any_queue_entry() {
    let mut random = Random(0x5eed_0081);
    let dir = Scratch::new();
    for round in 0..60 {
        let queue = dir.path().join(format!("q{round}"));
        for sub in ["new", "tmp"] {
            std::fs::create_dir_all(queue.join(sub)).unwrap();
            set_mode(&queue.join(sub), 0o700);
        }
        for n in 0..1 + random.below(4) {
            let entry = queue.join("new").join(format!("{n}.entry"));
            std::fs::write(&entry, file_input(&mut random)).unwrap();
        }
        let queue = queue.to_str().unwrap();
        let what = format!("queue round {round}");
        let (list, flush) = (
            ["--list-queue", queue],
            ["--flush", queue, "--timeout", "1"],
        );
        check_run(SMTP, &list, Vec::new(), &[0], round, &what);
        check_run(SMTP, &flush, Vec::new(), &[0, 75], round, &what);
    }
}

const POP3: &str = env!("CARGO_BIN_EXE_pop3-fetch");
const IMAP: &str = env!("CARGO_BIN_EXE_imap-list");
const SMTP: &str = env!("CARGO_BIN_EXE_smtp-send");
const MX: &str = env!("CARGO_BIN_EXE_mx-lookup");
