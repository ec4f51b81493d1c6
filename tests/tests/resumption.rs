//! Session resumption (issue 15): a second connection with the same `Config` resumes the
//! first one's session — TLS 1.3 tickets and TLS 1.2 session ids/tickets — against
//! `openssl s_server`, `gnutls-serv` and a rustls server, and still reports the chain the
//! server presented when the session was made. Resumption follows the `Config`: another
//! config, or `resumption(false)`, makes a full, fully verified handshake.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlsferry::{Config, ConnectionInfo, TlsStream, Version};
use tlsferry_cli::demo_server::{Behaviour, DemoServer};
use tlsferry_tests::pki::{KeyKind, TempDir, TestPki};
use tlsferry_tests::servers::{refused_port, OpenSslMode, OpenSslServer};

fn config(pki: &TestPki, version: Version) -> tlsferry::ConfigBuilder {
    Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .versions(&[version])
}

/// One exchange: connect, send a line, read until `expect` bytes came back, close.
fn exchange(addr: &str, cfg: &Config, line: &[u8], expect: usize) -> (ConnectionInfo, Vec<u8>) {
    let mut tls = tlsferry::connect(addr, "localhost", cfg).unwrap_or_else(|e| panic!("{e}"));
    tls.write_all(line).unwrap();
    tls.flush().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    tls.set_read_timeout(Some(Duration::from_secs(10)));
    while got.len() < expect {
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read: {e}"),
        }
    }
    let info = tls.info().expect("connected").clone();
    let _ = tls.shutdown();
    (info, got)
}

fn check_resumed(
    first: &ConnectionInfo,
    second: &ConnectionInfo,
    chain: &[tlsferry_core::CertificateDer<'static>],
) {
    assert!(
        !first.resumed,
        "the first connection makes a full handshake"
    );
    assert!(second.resumed, "the second connection resumes: {second:?}");
    assert!(second.verified);
    assert_eq!(
        second.peer_certificates, chain,
        "a resumed connection still reports the chain as sent"
    );
    assert_eq!(first.cipher_suite, second.cipher_suite);
}

#[test]
fn openssl_s_server_tls13_and_tls12() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for version in [Version::Tls13, Version::Tls12] {
        let server = OpenSslServer::builder(&pki.server)
            .mode(OpenSslMode::Rev)
            .start();
        let cfg = config(&pki, version).build().unwrap();
        let (a, reply) = exchange(&server.addr(), &cfg, b"resume me\n", 10);
        assert_eq!(reply, b"em emuser\n");
        let (b, _) = exchange(&server.addr(), &cfg, b"resume me\n", 10);
        check_resumed(&a, &b, &pki.server.chain_der);
        assert_eq!(a.version, version);
        assert_eq!(cfg.cached_servers(), 1);

        // Another config (same settings) has its own cache and trust: a full handshake.
        let other = config(&pki, version).build().unwrap();
        let (c, _) = exchange(&server.addr(), &other, b"x\n", 2);
        assert!(!c.resumed, "{version:?}: sessions belong to their Config");
        // Resumption off: every connection is a full handshake.
        let off = config(&pki, version).resumption(false).build().unwrap();
        for _ in 0..2 {
            let (d, _) = exchange(&server.addr(), &off, b"x\n", 2);
            assert!(!d.resumed);
        }
        assert_eq!(off.cached_servers(), 0);
    }
}

#[test]
fn rustls_server_tls13_and_tls12() {
    let pki = TestPki::new(KeyKind::Ed25519);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let addr = server.addr().to_string();
    for version in [Version::Tls13, Version::Tls12] {
        let cfg = config(&pki, version).build().unwrap();
        let (a, reply) = exchange(&addr, &cfg, b"ping", 4);
        assert_eq!(reply, b"ping");
        let (b, reply) = exchange(&addr, &cfg, b"pong", 4);
        assert_eq!(reply, b"pong");
        check_resumed(&a, &b, &pki.server.chain_der);
    }
}

/// `gnutls-serv --echo` on 127.0.0.1 (session tickets and its resumption database are on
/// by default), killed on drop.
struct GnutlsServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for GnutlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gnutls_serv(pki: &TestPki, version: Version) -> GnutlsServer {
    let dir = TempDir::new("tlsferry-gnutls");
    let chain: String = pki
        .server
        .chain_der
        .iter()
        .map(|c| tlsferry_core::cert::to_pem(c))
        .collect();
    let cert = dir.write("chain.pem", chain);
    let key = dir.write("key.pem", &pki.server.key_pem);
    let priority = match version {
        Version::Tls13 => "NORMAL:-VERS-ALL:+VERS-TLS1.3",
        _ => "NORMAL:-VERS-ALL:+VERS-TLS1.2",
    };
    // gnutls-serv cannot pick a free port itself: take one the kernel just freed.
    for _ in 0..5 {
        let port = refused_port();
        let mut child = Command::new("gnutls-serv")
            .args([
                "--echo",
                "--port",
                &port.to_string(),
                "--priority",
                priority,
            ])
            .arg(format!("--x509certfile={}", path(&cert)))
            .arg(format!("--x509keyfile={}", path(&key)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnutls-serv (Debian package gnutls-bin) must be installed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return GnutlsServer {
                    child,
                    port,
                    _dir: dir,
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break; // the port was taken after all: try another
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("gnutls-serv did not start");
}

fn path(p: &Path) -> String {
    p.to_str().expect("utf-8 temp path").to_string()
}

#[test]
fn gnutls_serv_tls13_and_tls12() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for version in [Version::Tls13, Version::Tls12] {
        let server = gnutls_serv(&pki, version);
        let addr = format!("127.0.0.1:{}", server.port);
        let cfg = config(&pki, version).build().unwrap();
        let (a, reply) = exchange(&addr, &cfg, b"gnu\n", 4);
        assert_eq!(reply, b"gnu\n");
        let (b, _) = exchange(&addr, &cfg, b"gnu\n", 4);
        check_resumed(&a, &b, &pki.server.chain_der);
    }
}

/// A server that will not resume (openssl with `-no_ticket -no_cache`): the client falls
/// back to a full, verified handshake with nothing to report.
#[test]
fn a_server_that_refuses_resumption_gets_a_full_handshake() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = OpenSslServer::builder(&pki.server)
        .mode(OpenSslMode::Rev)
        .args(["-no_ticket", "-no_cache"])
        .start();
    let cfg = config(&pki, Version::Tls12).build().unwrap();
    let (a, _) = exchange(&server.addr(), &cfg, b"x\n", 2);
    let (b, _) = exchange(&server.addr(), &cfg, b"x\n", 2);
    assert!(!a.resumed && !b.resumed);
    assert_eq!(b.peer_certificates.len(), 2);
}

/// The blocking stream's exporter on a resumed connection still matches the server's.
#[test]
fn resumed_connections_export_keying_material() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    // Interactive mode: s_server prints the connection's keying material (-rev does not).
    let mut server = OpenSslServer::builder(&pki.server)
        .args([
            "-keymatexport",
            "EXPERIMENTAL-resumed",
            "-keymatexportlen",
            "20",
        ])
        .start();
    let cfg = config(&pki, Version::Tls13).build().unwrap();
    for round in 0..2 {
        let tcp = TcpStream::connect(server.addr()).unwrap();
        let mut tls = TlsStream::new(tcp, "localhost", &cfg)
            .unwrap()
            .use_read_timeouts();
        tls.handshake().unwrap();
        // The tickets come after the handshake: read until the server's line arrives.
        server.send_line(&format!("round {round}"));
        let mut buf = [0u8; 8];
        tls.read_exact(&mut buf).unwrap();
        assert_eq!(tls.info().unwrap().resumed, round == 1);
        let mut out = [0u8; 20];
        tls.export_keying_material(&mut out, b"EXPERIMENTAL-resumed", None)
            .unwrap();
        let hex = tlsferry_core::cert::hex(&out).to_uppercase();
        assert!(
            server.wait_for_output_count(
                &format!("Keying material: {hex}"),
                1,
                Duration::from_secs(10)
            ),
            "round {round}: ours {hex}; server said:\n{}",
            server.output()
        );
        let _ = tls.shutdown();
        let closed =
            server.wait_for_output_count("CONNECTION CLOSED", round + 1, Duration::from_secs(10));
        assert!(closed, "{}", server.output());
    }
}
