//! mx-lookup against a real DNS server (NSD) started by the test.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::nsd::Nsd;
use common::{code, run_tool, stderr, stdout};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mx-lookup");
const ZONE: &str = include_str!("fixtures/example.test.zone");
const OTHER_ZONE: &str = include_str!("fixtures/other.test.zone");

/// A fresh NSD serving the test zone, stopped when the value is dropped.
fn dns() -> Nsd {
    Nsd::start(&[("example.test", ZONE), ("other.test", OTHER_ZONE)])
}

/// Runs mx-lookup against a resolver of its own.
fn lookup(args: &[&str]) -> std::process::Output {
    lookup_at(&dns(), args)
}

fn lookup_at(nsd: &Nsd, args: &[&str]) -> std::process::Output {
    let server = nsd.address();
    let mut all = vec!["--server", server.as_str(), "--timeout", "10"];
    all.extend_from_slice(args);
    run_tool(BIN, &all, b"")
}

fn json_lines(output: &std::process::Output) -> Vec<Value> {
    stdout(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}")))
        .collect()
}

#[test]
fn exchanges_in_preference_order_with_addresses() {
    let out = lookup(&["example.test"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "example.test 10 mx1.example.test 192.0.2.10 2001:db8::10\n\
         example.test 20 mx2.example.test 192.0.2.20\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn equal_preferences_in_a_stable_order() {
    for _ in 0..3 {
        let out = lookup(&["--no-addresses", "equal.example.test"]);
        assert_eq!(code(&out), 0);
        assert_eq!(
            stdout(&out),
            "equal.example.test 5 mx1.example.test\n\
             equal.example.test 10 mx-a.example.test\n\
             equal.example.test 10 mx-b.example.test\n"
        );
    }
}

#[test]
fn exchange_with_only_ipv6() {
    let out = lookup(&["--json", "v6only.example.test"]);
    assert_eq!(code(&out), 0);
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "ok");
    assert_eq!(
        report["mx"][0]["addresses"],
        serde_json::json!(["2001:db8::6"])
    );
    assert!(report.get("warnings").is_none(), "{report}");
}

#[test]
fn implicit_mx_when_only_addresses() {
    let out = lookup(&["--json", "nomx.example.test"]);
    assert_eq!(code(&out), 0);
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "ok");
    assert_eq!(report["implicit"], true);
    assert_eq!(report["mx"][0]["preference"], 0);
    assert_eq!(report["mx"][0]["exchange"], "nomx.example.test");
    assert_eq!(
        report["mx"][0]["addresses"],
        serde_json::json!(["192.0.2.40", "2001:db8::40"])
    );
    let text = lookup(&["nomx.example.test"]);
    assert_eq!(
        stdout(&text),
        "nomx.example.test 0 nomx.example.test 192.0.2.40 2001:db8::40\n"
    );
    assert!(stderr(&text).contains("implicit MX"), "{}", stderr(&text));
    let quiet = lookup(&["-q", "nomx.example.test"]);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn null_mx_is_69() {
    let out = lookup(&["--json", "nullmx.example.test"]);
    assert_eq!(code(&out), 69);
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "null_mx");
    assert_eq!(report["mx"], serde_json::json!([]));
    let text = lookup(&["nullmx.example.test"]);
    assert_eq!(code(&text), 69);
    assert_eq!(stdout(&text), "");
    assert_eq!(
        stderr(&text),
        "mx-lookup: error: nullmx.example.test: null MX: the domain accepts no mail (RFC 7505)\n"
    );
}

#[test]
fn nxdomain_is_68() {
    let out = lookup(&["--json", "nosuch.example.test"]);
    assert_eq!(code(&out), 68);
    assert_eq!(json_lines(&out)[0]["status"], "nxdomain");
}

#[test]
fn no_mail_route_is_68() {
    for domain in ["textonly.example.test", "deadmx.example.test"] {
        let out = lookup(&["--json", domain]);
        assert_eq!(code(&out), 68, "{domain}");
        assert_eq!(json_lines(&out)[0]["status"], "no_mail", "{domain}");
    }
}

#[test]
fn servfail_is_75() {
    let out = lookup(&["--json", "x.servfail.test"]);
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["status"], "servfail");
}

#[test]
fn exchange_that_is_a_cname_is_flagged() {
    let out = lookup(&["--json", "cname.example.test"]);
    assert_eq!(code(&out), 0);
    let report = &json_lines(&out)[0];
    assert_eq!(report["mx"][0]["exchange"], "mail.example.test");
    assert_eq!(report["mx"][0]["cname"], "mx1.example.test");
    assert_eq!(report["mx"][0]["addresses"][0], "192.0.2.10");
    assert!(
        report["warnings"][0].as_str().unwrap().contains("alias"),
        "{report}"
    );
    let text = lookup(&["cname.example.test"]);
    assert!(
        stderr(&text)
            .contains("warning: cname.example.test: exchange mail.example.test is an alias")
    );
}

#[test]
fn alias_into_another_zone_is_followed() {
    let out = lookup(&["--json", "-v", "extalias.example.test"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = &json_lines(&out)[0];
    assert_eq!(report["mx"][0]["exchange"], "alias-out.example.test");
    assert_eq!(report["mx"][0]["cname"], "mx.other.test");
    assert_eq!(
        report["mx"][0]["addresses"],
        serde_json::json!(["192.0.2.77"])
    );
}

#[test]
fn exchange_without_address_is_flagged() {
    let out = lookup(&["--json", "noaddr.example.test"]);
    assert_eq!(code(&out), 0);
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "ok");
    assert_eq!(report["mx"][0]["addresses"], serde_json::json!([]));
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("bare.example.test has no A or AAAA")
    );
}

#[test]
fn answer_too_large_for_udp_comes_over_tcp() {
    // The answer is over 2 000 octets: larger than the EDNS buffer, so the
    // UDP answer is truncated. Prove that first with a raw query.
    let nsd = dns();
    assert!(udp_answer_is_truncated(nsd.port, "big.example.test"));
    let out = lookup_at(&nsd, &["--no-addresses", "big.example.test"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 30);
    assert!(lines[0].starts_with("big.example.test 1 mx01-"));
    assert!(lines[29].starts_with("big.example.test 30 mx30-"));
}

fn udp_answer_is_truncated(port: u16, name: &str) -> bool {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    // Header with one question and one OPT record offering 1232 octets.
    let mut query = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
    for label in name.split('.') {
        query.push(label.len() as u8);
        query.extend_from_slice(label.as_bytes());
    }
    query.extend_from_slice(&[0, 0, 15, 0, 1]);
    query.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    socket.send_to(&query, ("127.0.0.1", port)).unwrap();
    let mut reply = [0u8; 4096];
    let n = socket.recv(&mut reply).unwrap();
    n >= 3 && reply[2] & 0x02 != 0
}

#[test]
fn unreachable_resolver_gives_75_within_the_timeout() {
    let port = common::free_port();
    let server = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let out = run_tool(
        BIN,
        &[
            "--server",
            &server,
            "--timeout",
            "2",
            "--json",
            "example.test",
        ],
        b"",
    );
    let took = started.elapsed();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert_eq!(json_lines(&out)[0]["status"], "timeout");
    assert!(took < Duration::from_millis(3500), "took {took:?}");
}

#[test]
fn invalid_names_are_65_and_the_rest_is_answered() {
    let long_label = format!("{}.test", "a".repeat(64));
    let out = lookup(&["--json", "bad_name.test", &long_label, "example.test"]);
    assert_eq!(code(&out), 65);
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 3);
    assert_eq!(reports[0]["status"], "invalid");
    assert_eq!(reports[1]["status"], "invalid");
    assert!(reports[1]["error"].as_str().unwrap().contains("64 octets"));
    assert_eq!(reports[2]["status"], "ok");
}

#[test]
fn first_failing_status_decides_the_exit() {
    let out = lookup(&["example.test", "nosuch.example.test", "nullmx.example.test"]);
    assert_eq!(code(&out), 68);
    let out = lookup(&["nullmx.example.test", "nosuch.example.test"]);
    assert_eq!(code(&out), 69);
}

#[test]
fn addresses_idn_and_trailing_dots() {
    let out = lookup(&[
        "--json",
        "--no-addresses",
        "Alice@Example.Test",
        "bücher.example.test.",
        "<bob@nomx.example.test>",
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let reports = json_lines(&out);
    assert_eq!(reports[0]["domain"], "example.test");
    assert_eq!(reports[0]["input"], "Alice@Example.Test");
    assert_eq!(reports[1]["domain"], "xn--bcher-kva.example.test");
    assert_eq!(reports[1]["mx"][0]["exchange"], "mx1.example.test");
    assert_eq!(reports[2]["implicit"], true);
    assert_eq!(reports[2]["mx"][0]["addresses"], serde_json::json!([]));
}

#[test]
fn stdin_list_in_input_order() {
    let nsd = dns();
    let server = nsd.address();
    let mut input = String::from("# a comment\n\n");
    let names = [
        "nullmx", "example", "nomx", "nosuch", "equal", "v6only", "cname",
    ];
    for i in 0..600 {
        input.push_str(&format!("  {}.example.test\n", names[i % names.len()]));
    }
    let out = run_tool(
        BIN,
        &[
            "--server",
            &server,
            "--json",
            "--concurrency",
            "16",
            "--no-addresses",
        ],
        input.as_bytes(),
    );
    assert_eq!(code(&out), 69);
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 600);
    for (i, report) in reports.iter().enumerate() {
        let want = format!("{}.example.test", names[i % names.len()]);
        assert_eq!(report["domain"], want.as_str(), "line {i}");
    }
}

#[test]
fn results_stream_before_the_input_ends() {
    let nsd = dns();
    let server = nsd.address();
    let mut child = Command::new(BIN)
        .args(["--server", &server, "--no-addresses"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "example.test").unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        tx.send(line).unwrap();
    });
    // stdin is still open: the first answer must arrive anyway.
    let first = rx.recv_timeout(Duration::from_secs(10));
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(first.unwrap(), "example.test 10 mx1.example.test\n");
    assert!(status.success());
}

#[test]
fn verbose_shows_the_queries() {
    let out = lookup(&["-v", "--no-addresses", "example.test"]);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(err.contains("-> MX example.test."), "{err}");
    assert!(err.contains("<- NOERROR 2 MX"), "{err}");
}

#[test]
fn usage_errors_are_64() {
    let out = run_tool(BIN, &["--bogus"], b"");
    assert_eq!(code(&out), 64);
    let out = run_tool(BIN, &["--server", "not-an-ip", "example.test"], b"");
    assert_eq!(code(&out), 64);
    assert!(stderr(&out).contains("invalid resolver address"));
    let out = run_tool(BIN, &["--concurrency", "0", "example.test"], b"");
    assert_eq!(code(&out), 64);
    let out = run_tool(BIN, &["--help"], b"");
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("null_mx"));
}

#[test]
fn memory_stays_bounded_whatever_the_input_length() {
    let nsd = dns();
    let server = nsd.address();
    let args = [
        "--server",
        server.as_str(),
        "--json",
        "--no-addresses",
        "-q",
    ];
    // Valid names answered by the server, and invalid ones answered at once,
    // so the input outruns the lookups and must be held back, not buffered.
    let input = |count: usize| {
        (0..count).map(|i| {
            if i % 50 == 0 {
                "example.test".to_string()
            } else {
                format!("invalid_{i}.example.test")
            }
        })
    };
    let small = common::run_measured(BIN, &args, input(2_000));
    let large = common::run_measured(BIN, &args, input(200_000));
    assert_eq!(small.code, 65);
    assert_eq!(large.code, 65);
    assert_eq!(small.stdout_lines, 2_000);
    assert_eq!(large.stdout_lines, 200_000);
    assert!(
        large.max_rss_kib < small.max_rss_kib + 8 * 1024,
        "peak memory grew with the input: {} KiB for 2 000 lines, {} KiB for 200 000",
        small.max_rss_kib,
        large.max_rss_kib
    );
}
