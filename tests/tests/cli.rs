//! The `tlsferry` CLI end to end, as a process (`tests/src/bin/tlsferry-cli.rs`, the same
//! entry point as the real binary, built fresh by cargo for these tests): exit codes and
//! stderr messages for success and every failure class, `--json` parsed back by Python's
//! `json` module, stdin copy, `--output`, key log, idle timeout, `--insecure`, and `demo`.
//!
//! Servers: tlsferry's own `DemoServer` (rustls, in-process), Python `ssl` and
//! `openssl s_server`, all on 127.0.0.1.

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};

use time::Duration as Days;
use tlsferry_cli::demo_server::{Behaviour, DemoServer};
use tlsferry_tests::pki::{KeyKind, Leaf, LeafSpec, TempDir, TestPki};
use tlsferry_tests::servers::{refused_port, run_cli, CliOutput, OpenSslServer, PythonTlsServer};
use tlsferry_tests::tlsferry_cli;

/// A test PKI, a directory with its root as `root.pem`, and helpers to run the CLI.
struct Env {
    pki: TestPki,
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        let pki = TestPki::new(KeyKind::EcdsaP256);
        let dir = TempDir::new("tlsferry-cli");
        dir.write("root.pem", &pki.root.pem);
        Env { pki, dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn root(&self) -> String {
        self.path("root.pem")
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        self.dir.write(name, contents).to_str().unwrap().to_string()
    }

    /// A leaf from the test intermediate.
    fn leaf(&self, spec: &LeafSpec) -> Leaf {
        self.pki.intermediate.issue(spec)
    }
}

fn cli(args: &[&str]) -> CliOutput {
    run_cli(tlsferry_cli!(), args, b"", &[])
}

/// `connect 127.0.0.1:PORT --cafile ROOT --servername NAME EXTRA…`.
fn connect(env: &Env, port: u16, name: &str, extra: &[&str]) -> CliOutput {
    let target = format!("127.0.0.1:{port}");
    let root = env.root();
    let mut args = vec![
        "connect",
        target.as_str(),
        "--cafile",
        root.as_str(),
        "--servername",
        name,
    ];
    args.extend_from_slice(extra);
    cli(&args)
}

#[track_caller]
fn expect(out: &CliOutput, code: i32, stderr_has: &[&str]) {
    assert_eq!(
        out.code,
        Some(code),
        "exit code; stderr:\n{}\nstdout:\n{}",
        out.stderr,
        out.stdout_text()
    );
    for s in stderr_has {
        assert!(
            out.stderr.contains(s),
            "stderr lacks {s:?}:\n{}",
            out.stderr
        );
    }
}

/// Flattens JSON with Python's `json` module (a strict, independent parser) into
/// `path=json-value` pairs, e.g. `chain.0.names.len=3`, `version="TLSv1.3"`.
fn parse_json(text: &[u8]) -> HashMap<String, String> {
    const FLATTEN: &str = r#"
import json, sys
def walk(path, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(path + [k], x)
    elif isinstance(v, list):
        print(".".join(path + ["len"]) + "=" + str(len(v)))
        for i, x in enumerate(v):
            walk(path + [str(i)], x)
    else:
        print(".".join(path) + "=" + json.dumps(v))
docs = sys.stdin.read().splitlines()
assert len(docs) == 1, "exactly one JSON line expected, got %d" % len(docs)
walk([], json.loads(docs[0]))
"#;
    let mut py = Command::new("python3")
        .args(["-c", FLATTEN])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    py.stdin.take().unwrap().write_all(text).unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "not valid JSON ({}):\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(text)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn q(s: &str) -> String {
    format!("{s:?}")
}

const GREETING_END: &str = "You sent 13 bytes: Hello, World!\n";

#[test]
fn success_prints_the_reply_and_a_summary() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--send", "Hello, World!"],
    );
    expect(
        &out,
        0,
        &[
            "tlsferry: connected to 127.0.0.1:",
            "protocol      TLSv1.3",
            "verification  OK (PEM roots from",
            "names       localhost, 127.0.0.1",
            "sent 13 bytes, received",
        ],
    );
    let reply = out.stdout_text();
    assert!(
        reply.starts_with("Hello from the tlsferry demo server (TLSv1.3, TLS_"),
        "{reply}"
    );
    assert!(reply.ends_with(GREETING_END), "{reply}");
}

#[test]
fn version_flags_select_the_version() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--tls1.2", "--send", "Hello, World!"],
    );
    expect(&out, 0, &["protocol      TLSv1.2"]);
    assert!(out.stdout_text().contains("(TLSv1.2, TLS_ECDHE_"));
}

#[test]
fn groups_flag_selects_the_key_exchange() {
    let env = Env::new();
    // The demo server (rustls) takes the client's first share it supports.
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let out = connect(&env, server.port(), "localhost", &["--send", "hi"]);
    expect(&out, 0, &["X25519MLKEM768"]);
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--groups", "P-384:X25519", "--send", "hi", "--json"],
    );
    expect(&out, 0, &[]);
    assert_eq!(parse_json(&out.stdout)["kx_group"], q("secp384r1"));
    // A name it does not know is a usage error (exit 2) that names the flag.
    let out = connect(&env, server.port(), "localhost", &["--groups", "X448"]);
    expect(
        &out,
        2,
        &["--groups", "unknown key-exchange group \"X448\""],
    );
}

#[test]
fn expired_certificate_exit_4_with_forensics() {
    let env = Env::new();
    let leaf =
        env.leaf(&LeafSpec::server(&["localhost"]).validity(Days::days(-30), Days::days(-2)));
    let server = DemoServer::start(&leaf, Behaviour::Greet).unwrap();
    let out = connect(&env, server.port(), "localhost", &["--send", "x"]);
    expect(
        &out,
        4,
        &[
            "tlsferry: certificate verify failed: certificate has expired (notAfter ",
            " UTC, now ",
            "server name asked for: localhost",
            "names in certificate:  localhost",
            "chain as sent (2 certificates)",
            "trust store used:      PEM roots from",
        ],
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn wrong_host_exit_4_names_what_the_certificate_covers() {
    let env = Env::new();
    let leaf = env.leaf(&LeafSpec::server(&["a.example", "b.example"]));
    let server = DemoServer::start(&leaf, Behaviour::Greet).unwrap();
    let out = connect(&env, server.port(), "c.example", &["--send", "x"]);
    expect(
        &out,
        4,
        &["certificate is for a.example, b.example, not c.example"],
    );
}

#[test]
fn unknown_ca_exit_4_with_a_file_and_with_the_mozilla_roots() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let other = TestPki::new(KeyKind::EcdsaP256);
    let other_root = env.write("other-root.pem", &other.root.pem);
    let target = format!("127.0.0.1:{}", server.port());
    let out = cli(&[
        "connect",
        &target,
        "--cafile",
        &other_root,
        "--servername",
        "localhost",
        "--send",
        "x",
    ]);
    expect(
        &out,
        4,
        &["unable to get local issuer certificate", "trust store used"],
    );
    // Default trust: Mozilla's roots do not know the test CA either.
    let out = cli(&[
        "connect",
        &target,
        "--servername",
        "localhost",
        "--send",
        "x",
    ]);
    expect(
        &out,
        4,
        &[
            "unable to get local issuer certificate",
            "the built-in Mozilla roots",
        ],
    );
}

#[test]
fn insecure_connects_anyway_and_warns() {
    let env = Env::new();
    let leaf =
        env.leaf(&LeafSpec::server(&["a.example"]).validity(Days::days(-30), Days::days(-2)));
    let server = DemoServer::start(&leaf, Behaviour::Greet).unwrap();
    let target = format!("127.0.0.1:{}", server.port());
    let out = cli(&["connect", &target, "--insecure", "--send", "Hello, World!"]);
    expect(&out, 0, &["WARNING: --insecure", "verification  SKIPPED"]);
    assert!(out.stdout_text().ends_with(GREETING_END));
}

#[test]
fn refused_port_exit_1() {
    let port = refused_port();
    let out = cli(&["connect", &format!("127.0.0.1:{port}"), "--send", "x"]);
    expect(
        &out,
        1,
        &[&format!(
            "cannot connect to 127.0.0.1:{port}: Connection refused"
        )],
    );
}

#[test]
fn bad_local_input_exit_2_names_the_input() {
    let env = Env::new();
    let bad_pem = env.write(
        "bad.pem",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let not_pem = env.write("notes.txt", "hello");
    let cert = env.write("client.pem", &env.pki.client.chain_pem);
    let other_key = env.write("other.key", &env.pki.server.key_pem);
    let missing = env.path("missing.pem");
    // Nothing listens there: local input is checked before any connection.
    let target = format!("127.0.0.1:{}", refused_port());
    let t = target.as_str();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["connect", t, "--cafile", &bad_pem], "--cafile"),
        (
            vec!["connect", t, "--cafile", &not_pem],
            "no \"BEGIN CERTIFICATE\"",
        ),
        (
            vec!["connect", t, "--cafile", &missing],
            "cannot read --cafile",
        ),
        (
            vec!["connect", t, "--cert", &cert, "--key", &other_key],
            "does not match the certificate",
        ),
        (
            vec!["connect", t, "--cert", &cert, "--key", &missing],
            "cannot read --key",
        ),
        (
            vec!["connect", t, "--send-file", &missing],
            "cannot read --send-file",
        ),
        (
            vec!["connect", t, "--servername", "bad name!"],
            "invalid server name",
        ),
        (vec!["connect", "bad host!:443"], "invalid host name"),
        (vec!["connect", t, "--bogus"], "unknown option --bogus"),
        (
            vec!["connect", t, "--tls1.2", "--tls1.3"],
            "--tls1.2 and --tls1.3 contradict",
        ),
        (
            vec!["connect", t, "--cert", &cert],
            "--cert and --key go together",
        ),
        (vec!["connect", t, "--timeout", "soon"], "--timeout"),
        (vec!["connect", "127.0.0.1:99999"], "port"),
        (vec!["connect"], "missing HOST"),
        (vec!["frobnicate"], "unknown command"),
        (vec![], "USAGE"),
    ];
    for (args, message) in cases {
        let out = cli(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(message),
            "{args:?}: stderr lacks {message:?}:\n{}",
            out.stderr
        );
        if !args.is_empty() {
            assert_eq!(
                out.stderr.lines().count(),
                1,
                "{args:?}: one line:\n{}",
                out.stderr
            );
        }
    }
}

/// An echo server that closes TCP without close_notify after its reply.
fn truncating_echo_server(env: &Env) -> PythonTlsServer {
    PythonTlsServer::builder(&env.pki.server)
        .echo("partial reply: ")
        .without_close_notify()
        .start()
}

#[test]
fn truncation_after_data_prints_the_data_then_exit_3() {
    let env = Env::new();
    let mut server = truncating_echo_server(&env);
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--send", "Hello, World!"],
    );
    expect(
        &out,
        3,
        &["tlsferry: connection truncated: peer closed without close_notify"],
    );
    assert_eq!(out.stdout_text(), "partial reply: Hello, World!");
    assert!(server.wait_exit(std::time::Duration::from_secs(20)));
}

#[test]
fn json_names_a_truncated_close() {
    let env = Env::new();
    let mut server = truncating_echo_server(&env);
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--send", "Hello, World!", "--json"],
    );
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let j = parse_json(&out.stdout);
    assert_eq!(j["close_reason"], q("truncated"), "{}", out.stdout_text());
    assert!(server.wait_exit(std::time::Duration::from_secs(20)));
}

#[test]
fn json_summary_of_a_success() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--send", "Hello, World!", "--json"],
    );
    expect(&out, 0, &[]);
    let j = parse_json(&out.stdout);
    let sha = tlsferry_core::CertSummary::from_der(&env.pki.server.der).sha256;
    for (k, v) in [
        ("connected", "true".to_string()),
        ("version", q("TLSv1.3")),
        ("server_name", q("localhost")),
        ("host", q("127.0.0.1")),
        ("port", server.port().to_string()),
        ("verification.result", q("ok")),
        ("verification.error", "null".into()),
        ("chain.len", "2".into()),
        ("chain.0.sha256", q(&sha)),
        ("chain.0.names.0", q("localhost")),
        ("bytes_sent", "13".into()),
        ("close_reason", q("close_notify")),
        ("error", "null".into()),
        ("exit_code", "0".into()),
        ("alpn", "null".into()),
    ] {
        assert_eq!(j.get(k), Some(&v), "{k} in {j:?}");
    }
    assert!(
        j["cipher_suite"].starts_with("\"TLS_AES_"),
        "{}",
        j["cipher_suite"]
    );
    assert!(j["kx_group"].starts_with('"'));
    assert!(j["chain.0.not_after"].ends_with(" UTC\""));
    // The reply went nowhere (no --output); its size is counted.
    let received: usize = j["bytes_received"].parse().unwrap();
    assert!(received > GREETING_END.len());
}

#[test]
fn json_summary_of_a_certificate_failure() {
    let env = Env::new();
    let leaf =
        env.leaf(&LeafSpec::server(&["localhost"]).validity(Days::days(-30), Days::days(-2)));
    let server = DemoServer::start(&leaf, Behaviour::Greet).unwrap();
    let out = connect(&env, server.port(), "localhost", &["--send", "x", "--json"]);
    expect(&out, 4, &["certificate has expired"]);
    let j = parse_json(&out.stdout);
    assert_eq!(j["connected"], "false");
    assert_eq!(j["verification.result"], q("failed"));
    assert_eq!(j["verification.error.code"], q("CERT_EXPIRED"));
    assert_eq!(j["verification.error.server_name"], q("localhost"));
    assert_eq!(
        j["verification.error.names_in_certificate.0"],
        q("localhost")
    );
    assert!(j["verification.error.clock"].ends_with(" UTC\""));
    assert_eq!(j["chain.len"], "2", "the chain as sent");
    assert_eq!(j["error.code"], q("CERT_EXPIRED"));
    assert_eq!(j["exit_code"], "4");
}

#[test]
fn json_escapes_messages() {
    // The error message quotes the PEM marker: the JSON must stay valid.
    let env = Env::new();
    let not_pem = env.write("notes.txt", "hello");
    let out = cli(&["connect", "127.0.0.1:1", "--cafile", &not_pem, "--json"]);
    expect(&out, 2, &[]);
    let j = parse_json(&out.stdout);
    assert!(j["error.message"].contains("no \\\"BEGIN CERTIFICATE\\\" block found"));
    assert_eq!(j["error.code"], q("USAGE"));
}

#[test]
fn stdin_is_copied_until_its_end() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Echo).unwrap();
    let target = format!("127.0.0.1:{}", server.port());
    let root = env.root();
    let input: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let out = run_cli(
        tlsferry_cli!(),
        &[
            "connect",
            &target,
            "--cafile",
            &root,
            "--servername",
            "localhost",
        ],
        &input,
        &[],
    );
    expect(&out, 0, &["the server sent close_notify"]);
    assert!(
        out.stdout == input,
        "echo differs ({} bytes)",
        out.stdout.len()
    );
}

#[test]
fn idle_timeout_after_data_ends_normally_before_data_fails() {
    let env = Env::new();
    // The echo server answers and then waits for more: the idle timeout ends the session.
    let server = DemoServer::start(&env.pki.server, Behaviour::Echo).unwrap();
    let out = connect(
        &env,
        server.port(),
        "localhost",
        &["--send", "ping", "--timeout", "0.3", "--json"],
    );
    expect(&out, 0, &["idle timeout after the last byte"]);
    let j = parse_json(&out.stdout);
    assert_eq!(j["close_reason"], q("idle_timeout"));
    assert_eq!(j["bytes_received"], "4");

    // s_server prints what it gets and sends nothing: no data at all is a timeout.
    let silent = OpenSslServer::builder(&env.pki.server).start();
    let out = connect(
        &env,
        silent.port(),
        "localhost",
        &["--send", "ping", "--timeout", "0.3"],
    );
    expect(&out, 1, &["timed out: no data from the peer for 0.3 s"]);

    // A TCP listener that never speaks TLS: the handshake times out.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let out = connect(
        &env,
        port,
        "localhost",
        &["--send", "x", "--timeout", "0.3"],
    );
    expect(&out, 1, &["timed out during the TLS handshake"]);
}

#[test]
fn show_certs_output_file_and_key_log() {
    let env = Env::new();
    let server = DemoServer::start(&env.pki.server, Behaviour::Greet).unwrap();
    let output = env.path("reply.txt");
    let keylog = env.path("keys.txt");
    let target = format!("127.0.0.1:{}", server.port());
    let root = env.root();
    let out = run_cli(
        tlsferry_cli!(),
        &[
            "connect",
            &target,
            "--cafile",
            &root,
            "--servername",
            "localhost",
            "--send",
            "Hello, World!",
            "--show-certs",
            "--output",
            &output,
        ],
        b"",
        &[("SSLKEYLOGFILE", keylog.as_str())],
    );
    expect(&out, 0, &[]);
    assert!(out.stdout.is_empty());
    assert!(std::fs::read_to_string(&output)
        .unwrap()
        .ends_with(GREETING_END));
    assert_eq!(out.stderr.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    assert!(
        out.stderr.contains(&env.pki.server.pem),
        "the leaf PEM as sent"
    );
    let keys = std::fs::read_to_string(&keylog).unwrap();
    for label in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET ",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET ",
        "CLIENT_TRAFFIC_SECRET_0 ",
        "SERVER_TRAFFIC_SECRET_0 ",
    ] {
        assert!(keys.contains(label), "{label} missing from:\n{keys}");
    }
}

#[test]
fn demo_runs_offline_and_prints_the_reply() {
    let out = cli(&["demo"]);
    expect(
        &out,
        0,
        &[
            "==> generated a throw-away PKI",
            "==> started a TLS server",
            "==> TLS handshake done: TLSv1.3",
            "==> verified:",
            "==> sent 13 bytes: \"Hello, World!\"",
            "==> done: 13 bytes sent",
        ],
    );
    assert!(
        out.stdout_text().ends_with(GREETING_END),
        "{}",
        out.stdout_text()
    );
}

#[test]
fn help_and_version() {
    let out = cli(&["--help"]);
    expect(&out, 0, &[]);
    let help = out.stdout_text();
    for s in [
        "tlsferry connect HOST[:PORT]",
        "tlsferry demo",
        "EXIT CODES",
    ] {
        assert!(help.contains(s), "{s}");
    }
    let out = cli(&["connect", "--help"]);
    expect(&out, 0, &[]);
    for flag in [
        "--servername",
        "--cafile",
        "--cert",
        "--key",
        "--alpn",
        "--tls1.2",
        "--tls1.3",
        "--send",
        "--send-file",
        "--timeout",
        "--show-certs",
        "--json",
        "--output",
        "--keylog",
        "--insecure",
    ] {
        assert!(out.stdout_text().contains(flag), "{flag} undocumented");
    }
    let out = cli(&["--version"]);
    expect(&out, 0, &[]);
    assert!(out.stdout_text().starts_with("tlsferry 0."));
}

#[test]
fn verify_offline_ok_mismatch_expired_and_bad_input() {
    let env = Env::new();
    let chain: String = env
        .pki
        .server
        .chain_der
        .iter()
        .map(|c| tlsferry_core::cert::to_pem(c))
        .collect();
    let file = env.write("chain.pem", &chain);
    let root = env.root();
    let ok = cli(&[
        "verify",
        &file,
        "--servername",
        "localhost",
        "--cafile",
        &root,
    ]);
    expect(
        &ok,
        0,
        &[
            ": OK: the chain leads to a trusted root (PEM roots from",
            "(1 certificate)",
        ],
    );

    let wrong = cli(&[
        "verify",
        &file,
        "--servername=example.com",
        "--cafile",
        &root,
    ]);
    expect(
        &wrong,
        4,
        &[
            "certificate verify failed: certificate is for localhost",
            "server name asked for: example.com",
            "chain as sent (2 certificates)",
            "trust store used:",
        ],
    );

    let not_after = tlsferry::CertSummary::from_der(&env.pki.server.der)
        .not_after
        .unwrap();
    let later = (not_after + 1).to_string();
    let out = cli(&[
        "verify",
        &file,
        "--servername",
        "localhost",
        "--cafile",
        &root,
        "--time",
        &later,
        "--json",
    ]);
    expect(&out, 4, &["certificate has expired (notAfter"]);
    let j = parse_json(&out.stdout);
    assert_eq!(j["result"], "\"failed\"");
    assert_eq!(j["error.code"], "\"CERT_EXPIRED\"");
    assert_eq!(j["chain.len"], "2");
    assert_eq!(j["exit_code"], "4");

    // The Mozilla roots do not know the test CA.
    let out = cli(&["verify", &file, "--servername", "localhost"]);
    expect(&out, 4, &["unable to get local issuer certificate"]);

    let garbage = env.write("garbage.pem", "not a certificate");
    expect(
        &cli(&["verify", &garbage, "--servername", "localhost"]),
        2,
        &["garbage.pem: certificates: no \"BEGIN CERTIFICATE\" block found"],
    );
    expect(&cli(&["verify", &file]), 2, &["missing --servername"]);
    expect(
        &cli(&["verify", &env.path("missing.pem"), "--servername", "x"]),
        2,
        &["cannot read"],
    );
}

#[test]
fn keymatexport_matches_the_server_and_lands_in_json() {
    let env = Env::new();
    let mut server = OpenSslServer::builder(&env.pki.server)
        .args(["-keymatexport", "EXPORTER-cli", "-keymatexportlen", "24"])
        .start();
    // Interactive s_server prints the keying material after the handshake; then a line
    // typed on its stdin is the reply.
    let root = env.root();
    let target = format!("127.0.0.1:{}", server.port());
    let client = std::thread::spawn(move || {
        let args = [
            "connect",
            &target,
            "--cafile",
            &root,
            "--servername",
            "localhost",
            "--send",
            "x",
            "--timeout",
            "2",
            "--keymatexport",
            "EXPORTER-cli",
            "--keymatexportlen=24",
            "--json",
        ];
        run_cli(tlsferry_cli!(), &args, b"", &[])
    });
    assert!(
        server.wait_for_output("Keying material: ", std::time::Duration::from_secs(20)),
        "{}",
        server.output()
    );
    server.send_line("hi");
    let out = client.join().unwrap();
    expect(&out, 0, &["keying material  \"EXPORTER-cli\" (24 bytes): "]);
    let j = parse_json(&out.stdout);
    assert_eq!(j["keying_material.label"], "\"EXPORTER-cli\"");
    assert_eq!(j["keying_material.length"], "24");
    assert_eq!(j["resumed"], "false");
    let hex = j["keying_material.hex"].trim_matches('"').to_uppercase();
    assert_eq!(hex.len(), 48);
    assert!(
        server.output().contains(&format!("Keying material: {hex}")),
        "ours {hex}; server:\n{}",
        server.output()
    );
}
