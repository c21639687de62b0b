//! Every tool that reads a message, given a few hundred random inputs each
//! (random bytes, and messages built from random pieces: header fields,
//! boundaries, encodings, nesting, broken line ends): it ends within
//! seconds with one of the statuses its contract allows, never a panic
//! (101) or a signal, and an error is one line saying what failed.

mod common;

use std::time::{Duration, Instant};

use common::{Scratch, run_tool};

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
        let started = Instant::now();
        let out = run_tool(bin, args, &data);
        let took = started.elapsed();
        let name = bin.rsplit('/').next().unwrap_or(bin);
        let what = format!("{name} {args:?}, seed {seed} round {round}");
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
        if status >= 64 {
            let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(": error:")).collect();
            assert_eq!(errors.len(), 1, "{what}: {stderr}");
        }
    }
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
