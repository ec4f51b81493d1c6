//! `tlsferry connect --starttls PROTOCOL` and `--proxy HOST:PORT` (issue 15), as a
//! process, against small Python servers (`tests/servers/starttls_server.py`) that do the
//! plaintext exchange and then wrap the socket with Python's `ssl`: the reply proves the
//! TLS session works; refusals are named; nothing is read ahead of the TLS flight.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use tlsferry_tests::pki::{KeyKind, TempDir, TestPki};
use tlsferry_tests::servers::{run_cli, CliOutput};
use tlsferry_tests::tlsferry_cli;

/// The Python server, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Server {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/starttls_server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port from the server: {line:?}"));
    Server { child, port }
}

struct Env {
    pki: TestPki,
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        let pki = TestPki::new(KeyKind::EcdsaP256);
        let dir = TempDir::new("tlsferry-starttls");
        let chain: String = pki
            .server
            .chain_der
            .iter()
            .map(|c| tlsferry_core::cert::to_pem(c))
            .collect();
        dir.write("chain.pem", chain);
        dir.write("key.pem", &pki.server.key_pem);
        dir.write("root.pem", &pki.root.pem);
        Env { pki, dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    fn server(&self, protocol: &str, extra: &[&str]) -> Server {
        let (cert, key) = (self.path("chain.pem"), self.path("key.pem"));
        let mut args = vec!["--protocol", protocol, "--cert", &cert, "--key", &key];
        args.extend_from_slice(extra);
        start(&args)
    }

    fn connect(&self, port: u16, extra: &[&str]) -> CliOutput {
        let target = format!("127.0.0.1:{port}");
        let root = self.path("root.pem");
        let mut args = vec![
            "connect",
            &target,
            "--cafile",
            &root,
            "--servername",
            "localhost",
            "--send",
            "hello",
            "--timeout",
            "5",
        ];
        args.extend_from_slice(extra);
        let out = run_cli(tlsferry_cli!(), &args, b"", &[]);
        let _ = &self.pki;
        out
    }
}

#[test]
fn every_protocol_upgrades_and_the_session_works() {
    let env = Env::new();
    for protocol in ["smtp", "imap", "pop3", "ftp", "xmpp", "postgres"] {
        let server = env.server(protocol, &[]);
        let out = env.connect(server.port, &["--starttls", protocol]);
        assert_eq!(
            out.code,
            Some(0),
            "{protocol}: stderr:\n{}\nstdout:\n{}",
            out.stderr,
            out.stdout_text()
        );
        assert_eq!(
            out.stdout_text(),
            format!("{} over TLS: hello", protocol.to_uppercase()),
            "{protocol}"
        );
        assert!(out.stderr.contains("STARTTLS accepted"), "{}", out.stderr);
        assert!(out.stderr.contains("verification  OK"), "{}", out.stderr);
    }
}

#[test]
fn a_server_that_refuses_tls_is_named() {
    let env = Env::new();
    for (protocol, says) in [
        (
            "smtp",
            "the SMTP server refused: it does not offer STARTTLS",
        ),
        (
            "imap",
            "the IMAP server refused: a1 NO STARTTLS unavailable",
        ),
        ("pop3", "the POP3 server refused: -ERR not now"),
        ("ftp", "the FTP server refused: 502 not implemented"),
        (
            "xmpp",
            "the XMPP server refused: it does not offer STARTTLS",
        ),
        (
            "postgres",
            "the PostgreSQL server refused: it does not accept TLS",
        ),
    ] {
        let server = env.server(protocol, &["--refuse"]);
        let out = env.connect(server.port, &["--starttls", protocol, "--json"]);
        assert_eq!(out.code, Some(1), "{protocol}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{protocol}: {}", out.stderr);
        assert!(
            out.stdout_text().contains("\"code\":\"STARTTLS\""),
            "{}",
            out.stdout_text()
        );
    }
}

#[test]
fn through_an_http_connect_proxy() {
    let env = Env::new();
    let tls = env.server("postgres", &[]);
    let target = format!("127.0.0.1:{}", tls.port);
    let proxy = start(&["--protocol", "proxy", "--target", &target]);
    // Plain TLS through the tunnel is not possible with this target (it speaks
    // PostgreSQL first): proxy + STARTTLS together.
    let out = env.connect(
        tls.port,
        &[
            "--proxy",
            &format!("127.0.0.1:{}", proxy.port),
            "--starttls",
            "postgres",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout_text(), "POSTGRES over TLS: hello");

    let refusing = start(&["--protocol", "proxy", "--target", &target, "--refuse"]);
    let out = env.connect(
        tls.port,
        &["--proxy", &format!("127.0.0.1:{}", refusing.port)],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the proxy (CONNECT {target}) refused: HTTP/1.1 403 Forbidden"
        )),
        "{}",
        out.stderr
    );
}
