//! tlsferry against Python's `ssl` module as the server (the seed's own library):
//! the exact seed flow from the command line and from Rust, TLS 1.2 with ALPN and a
//! client certificate, and a 1 MiB reply written to a file.

use std::io::{Read, Write};
use std::time::Duration;

use tlsferry::connect;
use tlsferry_tests::pki::{KeyKind, TempDir, TestPki};
use tlsferry_tests::servers::{pattern, run_cli, PythonTlsServer};
use tlsferry_tests::tlsferry_cli;

const WAIT: Duration = Duration::from_secs(20);

#[test]
fn the_seed_flow_from_the_command_line() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let mut server = PythonTlsServer::builder(&pki.server)
        .echo("Python ssl says: ")
        .start();
    let dir = TempDir::new("tlsferry-seed");
    let root = dir.write("root.pem", &pki.root.pem);
    let addr = server.addr();
    let out = run_cli(
        tlsferry_cli!(),
        &[
            "connect",
            &addr,
            "--cafile",
            root.to_str().unwrap(),
            "--servername",
            "localhost",
            "--send",
            "Hello, World!",
        ],
        b"",
        &[],
    );
    assert_eq!(
        out.code,
        Some(0),
        "stderr:\n{}\nserver:\n{}",
        out.stderr,
        server.output()
    );
    // The reply, byte-exact, and nothing else on stdout.
    assert_eq!(out.stdout_text(), "Python ssl says: Hello, World!");
    assert!(
        out.stderr.contains("protocol      TLSv1.3"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("verification  OK"), "{}", out.stderr);
    assert!(
        out.stderr.contains("the server sent close_notify"),
        "{}",
        out.stderr
    );
    // Python saw our request and a clean close_notify exchange.
    assert!(server.wait_exit(WAIT), "server:\n{}", server.output());
    let log = server.output();
    assert!(log.contains("received 13 bytes: b'Hello, World!'"), "{log}");
    assert!(log.contains("closed with close_notify"), "{log}");
}

#[test]
fn the_seed_flow_from_rust() {
    let pki = TestPki::new(KeyKind::Rsa2048);
    let mut server = PythonTlsServer::builder(&pki.server).echo("> ").start();
    let config = tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .root_certificates_pem(pki.root.pem.as_bytes())
        .idle_timeout(Some(WAIT))
        .build()
        .unwrap();
    let mut tls = connect(server.addr(), "localhost", &config).unwrap();
    tls.write_all(b"Hello, World!").unwrap();
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).unwrap(); // Ok: ends with Python's close_notify
    assert_eq!(reply, b"> Hello, World!");
    assert!(tls.peer_closed());
    tls.shutdown().unwrap(); // answers Python's unwrap()
    assert!(server.wait_exit(WAIT), "server:\n{}", server.output());
    assert!(server.output().contains("closed with close_notify"));
}

#[test]
fn tls12_alpn_and_client_certificate() {
    let pki = TestPki::new(KeyKind::Ed25519);
    let mut server = PythonTlsServer::builder(&pki.server)
        .tls12()
        .alpn("http/1.1")
        .client_ca(&pki.root.pem)
        .echo("")
        .start();
    let dir = TempDir::new("tlsferry-py12");
    let root = dir.write("root.pem", &pki.root.pem);
    let cert = dir.write("client.pem", &pki.client.chain_pem);
    let key = dir.write("client.key", &pki.client.key_pem);
    let addr = server.addr();
    let out = run_cli(
        tlsferry_cli!(),
        &[
            "connect",
            &addr,
            "--cafile",
            root.to_str().unwrap(),
            "--servername",
            "localhost",
            "--alpn",
            "h2,http/1.1",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--send",
            "ping",
        ],
        b"",
        &[],
    );
    assert_eq!(
        out.code,
        Some(0),
        "{}\nserver:\n{}",
        out.stderr,
        server.output()
    );
    assert_eq!(out.stdout_text(), "ping");
    assert!(
        out.stderr.contains("protocol      TLSv1.2"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ALPN          http/1.1"),
        "{}",
        out.stderr
    );
    assert!(server.wait_exit(WAIT));
    assert!(
        server.output().contains("alpn=http/1.1"),
        "{}",
        server.output()
    );
}

#[test]
fn one_mebibyte_reply_to_a_file() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let len = 1024 * 1024 + 7;
    let mut server = PythonTlsServer::builder(&pki.server)
        .send_bytes(len)
        .start();
    let dir = TempDir::new("tlsferry-py-big");
    let root = dir.write("root.pem", &pki.root.pem);
    let output = dir.path().join("reply.bin");
    let addr = server.addr();
    let out = run_cli(
        tlsferry_cli!(),
        &[
            "connect",
            &addr,
            "--cafile",
            root.to_str().unwrap(),
            "--servername",
            "localhost",
            "--send",
            "give me bytes",
            "--output",
            output.to_str().unwrap(),
        ],
        b"",
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "--output keeps stdout empty");
    let got = std::fs::read(&output).unwrap();
    assert_eq!(got.len(), len);
    assert!(got == pattern(len), "reply differs");
    assert!(server.wait_exit(WAIT));
}
