//! mx-lookup against a real DNS server (NSD) started by the test.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::dovecot::Dovecot;
use common::exim::{Exim, EximOptions};
use common::nsd::Nsd;
use common::scripted::Script;
use common::tlscert::TlsCert;
use common::{Scratch, code, run_tool, stderr, stdout};
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
    // A resolver that never answers (a socket nobody reads): nothing
    // refuses, so only the time limit ends the wait.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
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
fn a_silent_resolver_shows_the_question_and_the_server_with_v() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let server = silent.local_addr().unwrap().to_string();
    let out = run_tool(
        BIN,
        &[
            "-v",
            "--server",
            &server,
            "--timeout",
            "0.5",
            "example.test",
        ],
        b"",
    );
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("-> MX example.test. @{server}\n")),
        "{err}"
    );
    assert!(
        err.contains(&format!("<- no answer from {server} within 500ms\n")),
        "{err}"
    );
    // The resolver was asked again within the limit, as resolvers do.
    let mut buf = [0u8; 512];
    silent.set_nonblocking(true).unwrap();
    let mut asked = 0;
    while silent.recv(&mut buf).is_ok() {
        asked += 1;
    }
    assert!(asked >= 2, "asked {asked} time(s)");
}

#[test]
fn a_closed_resolver_port_is_refused_at_once() {
    // Nothing listens: the ICMP port unreachable ends the wait, not the
    // default time limit.
    let port = common::free_port();
    let server = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let out = run_tool(
        BIN,
        &["-v", "--server", &server, "--json", "example.test"],
        b"",
    );
    let took = started.elapsed();
    assert_eq!(code(&out), 75, "{}", stderr(&out));
    assert!(took < Duration::from_millis(800), "took {took:?}");
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "servfail");
    assert_eq!(
        report["error"],
        format!("resolver unreachable: {server}: connection refused")
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("-> MX example.test. @{server}\n")),
        "{err}"
    );
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

// --probe: probe.example.test has two exchanges, mxprobe (127.0.0.1, where
// the test's server listens) and mxclosed (127.0.0.2, where nothing does).

/// Runs `mx-lookup --probe --port PORT ARGS... probe.example.test`.
fn probe_lookup(nsd: &Nsd, port: u16, args: &[&str]) -> std::process::Output {
    let port = port.to_string();
    let mut all = vec!["--probe", "--port", port.as_str(), "--helo", "client.test"];
    all.extend_from_slice(args);
    all.push("probe.example.test");
    lookup_at(nsd, &all)
}

/// A certificate for `mxprobe.example.test` (its own trust root), and its
/// key, in a scratch directory.
fn mxprobe_certificate() -> (Scratch, PathBuf, PathBuf) {
    let scratch = Scratch::new();
    let tls = TlsCert::generate_for(
        scratch.path(),
        "mxprobe.example.test",
        "DNS:mxprobe.example.test",
    );
    (scratch, tls.cert, tls.key)
}

/// The SHA-256 fingerprint of a PEM certificate as openssl prints it, in
/// the probe's form (lower-case hex, no colons).
fn openssl_fingerprint(cert: &Path) -> String {
    let output = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("run openssl");
    let text = String::from_utf8(output.stdout).unwrap();
    let hex = text.trim().rsplit('=').next().unwrap();
    hex.replace(':', "").to_ascii_lowercase()
}

/// The text with every `N ms` as `N ms`, for comparisons.
fn without_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(" ms") {
        let head = &rest[..at];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(&head[..head.len() - digits]);
            out.push('N');
        } else {
            out.push_str(head);
        }
        out.push_str(" ms");
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

#[test]
fn probe_against_exim_verifies_the_certificate_for_the_exchange_name() {
    let (_certs, cert, key) = mxprobe_certificate();
    let mut dovecot = Dovecot::start();
    // Exim copies the Dovecot's certificate: give it one for mxprobe.
    dovecot.cert = cert.clone();
    dovecot.key = key;
    let exim = Exim::start(&dovecot, EximOptions::default());
    let nsd = dns();
    let cafile = cert.to_str().unwrap();

    let out = probe_lookup(&nsd, exim.port, &["--json", "--cafile", cafile]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = &json_lines(&out)[0];
    assert_eq!(report["status"], "ok");
    assert_eq!(report["mx"][0]["exchange"], "mxprobe.example.test");
    let probe = &report["mx"][0]["probe"];
    assert_eq!(probe["address"], "127.0.0.1", "{probe}");
    assert_eq!(probe["port"], exim.port);
    assert_eq!(probe["error"], Value::Null, "{probe}");
    for step in ["connected_ms", "banner_ms", "ehlo_ms"] {
        assert!(probe[step].is_u64(), "{step}: {probe}");
    }
    let banner = probe["banner"].as_str().unwrap();
    assert!(
        banner.starts_with("220 mx.example.test ESMTP Exim"),
        "{banner}"
    );
    let extensions: Vec<&str> = probe["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for wanted in ["SIZE 1048576", "PIPELINING", "STARTTLS", "8BITMIME"] {
        assert!(extensions.contains(&wanted), "{wanted}: {extensions:?}");
    }
    let tls = &probe["starttls"];
    assert_eq!(tls["verified"], true, "{tls}");
    assert_eq!(tls["verdict"], "verified");
    assert_eq!(tls["fingerprint"], openssl_fingerprint(&cert).as_str());
    assert_eq!(tls["version"], "TLSv1.3", "{tls}");
    assert_eq!(tls["cipher"], "TLS_AES_256_GCM_SHA384", "{tls}");
    assert!(tls["ms"].is_u64());

    // The closed exchange: an error, and the route is still printed.
    let closed = &report["mx"][1];
    assert_eq!(closed["exchange"], "mxclosed.example.test");
    assert_eq!(closed["probe"]["address"], "127.0.0.2");
    assert_eq!(closed["probe"]["connected_ms"], Value::Null);
    assert_eq!(closed["probe"]["starttls"], Value::Null);
    let error = closed["probe"]["error"].as_str().unwrap();
    assert!(error.contains("connection refused"), "{error}");

    // Without the CA file the certificate is self-signed, but the TLS facts
    // are still reported (from a second connection).
    let out = probe_lookup(&nsd, exim.port, &["--json"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let tls = &json_lines(&out)[0]["mx"][0]["probe"]["starttls"];
    assert_eq!(tls["verified"], false, "{tls}");
    assert_eq!(tls["verdict"], "self-signed certificate");
    assert_eq!(tls["fingerprint"], openssl_fingerprint(&cert).as_str());

    // Text: one probe line after each exchange line.
    let out = probe_lookup(&nsd, exim.port, &["--cafile", cafile]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = without_times(&stdout(&out));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "probe.example.test 10 mxprobe.example.test 127.0.0.1"
    );
    let port = exim.port;
    assert!(
        lines[1].starts_with(&format!(
            "  probe 127.0.0.1:{port} connect N ms, banner \"220 mx.example.test ESMTP Exim "
        )),
        "{text}"
    );
    assert!(
        lines[1].ends_with(
            "\" N ms, EHLO N ms, STARTTLS TLSv1.3 verified N ms, \
             SIZE 8BITMIME DSN PIPELINING PIPECONNECT AUTH CHUNKING STARTTLS SMTPUTF8 HELP"
        ),
        "{text}"
    );
    assert_eq!(
        lines[2],
        "probe.example.test 20 mxclosed.example.test 127.0.0.2"
    );
    assert_eq!(
        lines[3],
        format!(
            "  probe 127.0.0.2:{port} error: connecting to 127.0.0.2:{port}: connection refused"
        )
    );
    let out = probe_lookup(&nsd, exim.port, &[]);
    let text = without_times(&stdout(&out));
    assert!(
        text.contains(", STARTTLS TLSv1.3 not verified (self-signed certificate) N ms, SIZE "),
        "{text}"
    );

    // --tls implicit probes a submissions port: TLS from the first byte,
    // verified for the exchange's name, then the banner over TLS.
    let out = probe_lookup(
        &nsd,
        exim.smtps,
        &["--json", "--tls", "implicit", "--cafile", cafile],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let probe = &json_lines(&out)[0]["mx"][0]["probe"];
    assert_eq!(probe["error"], Value::Null, "{probe}");
    assert!(
        probe["banner"].as_str().unwrap().starts_with("220 "),
        "{probe}"
    );
    assert_eq!(probe["starttls"]["verdict"], "verified", "{probe}");
    assert_eq!(
        probe["starttls"]["fingerprint"],
        openssl_fingerprint(&cert).as_str()
    );
    let out = probe_lookup(&nsd, exim.smtps, &["--tls", "implicit", "--cafile", cafile]);
    let text = without_times(&stdout(&out));
    assert!(
        text.contains(" N ms, EHLO N ms, TLS TLSv1.3 verified N ms, "),
        "{text}"
    );
    let out = probe_lookup(&nsd, exim.smtps, &["--json", "--tls", "implicit"]);
    let tls = &json_lines(&out)[0]["mx"][0]["probe"]["starttls"];
    assert_eq!(tls["verdict"], "self-signed certificate", "{tls}");
    assert_eq!(tls["verified"], false, "{tls}");

    // --tls none: EHLO only, STARTTLS offered but not used.
    let out = probe_lookup(&nsd, exim.port, &["--json", "--tls", "none"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let probe = &json_lines(&out)[0]["mx"][0]["probe"];
    assert_eq!(probe["starttls"], Value::Null, "{probe}");
    assert!(probe["ehlo_ms"].is_u64(), "{probe}");
    let offered = probe["extensions"].as_array().unwrap();
    assert!(offered.iter().any(|e| e == "STARTTLS"), "{probe}");

    // Nothing but EHLO, STARTTLS and QUIT reached Exim: no mail transaction.
    let log = exim.log();
    assert!(!log.contains("<="), "{log}");
    assert!(!log.contains("MAIL"), "{log}");
    assert!(!log.contains("AUTH"), "{log}");
}

#[test]
fn probe_checks_the_host_name_not_just_the_trust_root() {
    // Exim's usual certificate is for localhost and 127.0.0.1: trusted with
    // --cafile, but not for mxprobe.example.test.
    let dovecot = Dovecot::start();
    let exim = Exim::start(&dovecot, EximOptions::default());
    let nsd = dns();
    let cafile = exim.cert.to_str().unwrap();
    let out = probe_lookup(&nsd, exim.port, &["--json", "--cafile", cafile]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let tls = &json_lines(&out)[0]["mx"][0]["probe"]["starttls"];
    assert_eq!(tls["verified"], false, "{tls}");
    assert_eq!(tls["verdict"], "hostname mismatch");
    assert_eq!(tls["fingerprint"], openssl_fingerprint(&exim.cert).as_str());
}

#[test]
fn probe_without_starttls_and_verbose_transcript() {
    let dovecot = Dovecot::start();
    let options = EximOptions {
        starttls: false,
        ..EximOptions::default()
    };
    let exim = Exim::start(&dovecot, options);
    let nsd = dns();
    let out = probe_lookup(&nsd, exim.port, &["-v"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = without_times(&stdout(&out));
    let line = text.lines().nth(1).unwrap();
    assert!(line.contains(", EHLO N ms, no STARTTLS, SIZE "), "{line}");
    let err = stderr(&out);
    assert!(err.contains("-> MX probe.example.test."), "{err}");
    assert!(err.contains("-> EHLO client.test"), "{err}");
    assert!(err.contains("<- 220 mx.example.test ESMTP Exim"), "{err}");
    assert!(err.contains("-> QUIT"), "{err}");
    assert!(!err.contains("-> STARTTLS"), "{err}");
    // Every exchange's probe is in the transcript.
    assert!(
        err.contains(&format!("=== Trying 127.0.0.2:{}...", exim.port)),
        "{err}"
    );
}

/// A scripted SMTP server on 127.0.0.1 for `connections` connections:
/// `banner`, then `ehlo` for EHLO, 221 for QUIT, 502 for anything else.
/// Yields every line the clients sent.
fn scripted_smtp(
    connections: usize,
    banner: &'static [u8],
    ehlo: &'static [u8],
) -> (u16, JoinHandle<Vec<String>>) {
    Script {
        banner,
        rules: vec![("EHLO ", ehlo), ("QUIT", b"221 bye\r\n")],
        otherwise: b"502 not here\r\n",
        connections,
    }
    .start()
}

#[test]
fn probe_shows_server_text_safely_and_keeps_input_order() {
    let (port, server) = scripted_smtp(
        2,
        b"220-mx.test \x1b[31mred\x07\r\n220 second line\r\n",
        b"250-mx.test\r\n250-SIZE 100\r\n250 X-\x1b[2J\r\n",
    );
    let nsd = dns();
    let port_text = port.to_string();
    let args = [
        "--probe",
        "--port",
        port_text.as_str(),
        "--helo",
        "[127.0.0.1]",
        "--concurrency",
        "4",
        "probe.example.test",
        "nosuch.example.test",
        "probe.example.test",
    ];
    let out = lookup_at(&nsd, &args);
    // The exit status is DNS's: nosuch is NXDOMAIN.
    assert_eq!(code(&out), 68, "{}", stderr(&out));
    assert_eq!(
        server.join().unwrap(),
        ["EHLO [127.0.0.1]", "QUIT", "EHLO [127.0.0.1]", "QUIT"]
    );
    let text = without_times(&stdout(&out));
    let probe = format!(
        "  probe 127.0.0.1:{port} connect N ms, \
         banner \"220 mx.test \\u{{1b}}[31mred\\u{{7}} / second line\" N ms, \
         EHLO N ms, no STARTTLS, SIZE X-\\u{{1b}}[2J"
    );
    let closed = format!(
        "  probe 127.0.0.2:{port} error: connecting to 127.0.0.2:{port}: connection refused"
    );
    let route = format!(
        "probe.example.test 10 mxprobe.example.test 127.0.0.1\n{probe}\n\
         probe.example.test 20 mxclosed.example.test 127.0.0.2\n{closed}\n"
    );
    assert_eq!(text, format!("{route}{route}"));
    assert!(!text.contains('\x1b'));
}

#[test]
fn a_silent_exchange_times_out_and_the_route_is_still_printed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let nsd = dns();
    let started = Instant::now();
    let server = nsd.address();
    let args = [
        "--server",
        server.as_str(),
        "--timeout",
        "1",
        "--json",
        "--probe",
        "--port",
        &port,
        "probe.example.test",
    ];
    let out = run_tool(BIN, &args, b"");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(listener);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let report = &json_lines(&out)[0];
    let probe = &report["mx"][0]["probe"];
    assert!(probe["connected_ms"].is_u64(), "{probe}");
    assert_eq!(probe["banner"], Value::Null);
    let error = probe["error"].as_str().unwrap();
    assert!(error.contains("timed out"), "{error}");
}

#[test]
fn probe_options_need_probe() {
    let out = run_tool(BIN, &["--port", "2525", "example.test"], b"");
    assert_eq!(code(&out), 64);
    for flag in [
        &["--tls", "none"][..],
        &["--insecure"],
        &["--fingerprint", &"ab".repeat(32)],
    ] {
        let mut args = flag.to_vec();
        args.push("example.test");
        let out = run_tool(BIN, &args, b"");
        assert_eq!(code(&out), 64, "{args:?}");
        assert!(stderr(&out).contains("go with --probe"), "{}", stderr(&out));
    }
    let out = run_tool(BIN, &["--probe", "--no-addresses", "example.test"], b"");
    assert_eq!(code(&out), 64);
    let out = run_tool(BIN, &["--probe", "--helo", "a b", "example.test"], b"");
    assert_eq!(code(&out), 64);
    let out = run_tool(
        BIN,
        &["--probe", "--cafile", "/nonexistent/ca.pem", "example.test"],
        b"",
    );
    assert_eq!(code(&out), 78);
    assert!(
        stderr(&out).contains("cannot read CA file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn probe_reads_stdin_and_keeps_input_order() {
    let (port, server) = scripted_smtp(25, b"220 mx.test\r\n", b"250 mx.test\r\n");
    let nsd = dns();
    let (server_address, port_text) = (nsd.address(), port.to_string());
    let args = [
        "--server",
        server_address.as_str(),
        "--json",
        "-q",
        "--probe",
        "--port",
        port_text.as_str(),
        "--concurrency",
        "3",
    ];
    let input: String = (0..50)
        .map(|i| match i % 2 {
            0 => format!("user{i}@probe.example.test\n"),
            _ => format!("nosuch{i}.example.test\n"),
        })
        .collect();
    let out = run_tool(BIN, &args, input.as_bytes());
    assert_eq!(code(&out), 68, "{}", stderr(&out));
    let reports = json_lines(&out);
    assert_eq!(reports.len(), 50);
    for (i, report) in reports.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(report["input"], format!("user{i}@probe.example.test"));
            let probe = &report["mx"][0]["probe"];
            assert_eq!(probe["banner"], "220 mx.test", "{report}");
            assert_eq!(probe["extensions"], serde_json::json!([]));
            assert_eq!(probe["starttls"], Value::Null);
            assert!(report["mx"][1]["probe"]["error"].is_string());
        } else {
            assert_eq!(report["status"], "nxdomain");
            assert!(report["mx"].as_array().unwrap().is_empty());
        }
    }
    assert_eq!(server.join().unwrap().len(), 50);
}

#[test]
fn probe_results_stream_before_the_input_ends() {
    let (port, server) = scripted_smtp(1, b"220 mx.test\r\n", b"250 mx.test\r\n");
    let nsd = dns();
    let (address, port) = (nsd.address(), port.to_string());
    let mut child = Command::new(BIN)
        .args(["--server", &address, "--probe", "--port", &port])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "probe.example.test").unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        for _ in 0..4 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            tx.send(line).unwrap();
        }
    });
    // stdin is still open: the whole answer must arrive anyway.
    let lines: Vec<String> = (0..4)
        .map_while(|_| rx.recv_timeout(Duration::from_secs(10)).ok())
        .collect();
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[1].starts_with("  probe 127.0.0.1:"), "{lines:?}");
    assert!(lines[3].starts_with("  probe 127.0.0.2:"), "{lines:?}");
    assert!(status.success());
    server.join().unwrap();
}
