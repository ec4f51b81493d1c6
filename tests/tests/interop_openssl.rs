//! tlsferry's blocking `TlsStream` against `openssl s_server` on 127.0.0.1: TLS 1.3 and 1.2
//! × RSA-2048, ECDSA P-256 and Ed25519 leaves issued through an intermediate; ALPN;
//! required client certificates; `-www`; server-sent KeyUpdate; an 8 MiB reply; the key
//! log. Every server is started by the test and killed when it ends.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tlsferry::tls_error;
use tlsferry::{connect, TlsStream};
use tlsferry_core::{Config, Error, PeerError, Version};
use tlsferry_tests::pki::{KeyKind, TempDir, TestPki};
use tlsferry_tests::servers::{OpenSslMode, OpenSslServer};

/// Generous: the machine is shared and the tests run in parallel.
const WAIT: Duration = Duration::from_secs(20);

fn config(pki: &TestPki) -> tlsferry_core::ConfigBuilder {
    tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .root_certificates_pem(pki.root.pem.as_bytes())
        .handshake_timeout(Some(WAIT))
        .idle_timeout(Some(WAIT))
}

fn open(server: &OpenSslServer, config: &Config) -> TlsStream<TcpStream> {
    connect(server.addr(), "localhost", config)
        .unwrap_or_else(|e| panic!("connect: {e}\nserver output:\n{}", server.output()))
}

fn read_line(tls: &mut TlsStream<TcpStream>) -> String {
    // Byte by byte: the stream buffers plaintext, and nothing is read past the line.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.last() != Some(&b'\n') {
        match tls.read(&mut byte).expect("read a line") {
            0 => break,
            _ => line.push(byte[0]),
        }
    }
    String::from_utf8(line).expect("UTF-8 line")
}

/// Handshake, check what was negotiated, and move a line each way through `-rev`.
fn version_and_key(version: Version, key: KeyKind) {
    let pki = TestPki::new(key);
    let server = match version {
        Version::Tls12 => OpenSslServer::builder(&pki.server).tls12(),
        _ => OpenSslServer::builder(&pki.server).tls13(),
    }
    .mode(OpenSslMode::Rev)
    .start();
    let cfg = config(&pki).build().unwrap();
    let mut tls = open(&server, &cfg);
    let info = tls.info().expect("connected").clone();
    assert_eq!(info.version, version, "{key:?}");
    assert!(info.verified);
    assert_eq!(info.server_name, "localhost");
    assert_eq!(
        info.peer_certificates, pki.server.chain_der,
        "leaf and intermediate, as sent"
    );
    match version {
        Version::Tls13 => assert!(
            info.cipher_suite.starts_with("TLS_AES_")
                || info.cipher_suite.starts_with("TLS_CHACHA20_"),
            "{}",
            info.cipher_suite
        ),
        _ => assert!(
            info.cipher_suite.starts_with("TLS_ECDHE_"),
            "{}",
            info.cipher_suite
        ),
    }
    assert!(info.key_exchange_group.is_some());

    tls.write_all(b"tlsferry interop line\n").unwrap();
    assert_eq!(read_line(&mut tls), "enil poretni yrrefslt\n");
    tls.write_all(b"second\n").unwrap();
    assert_eq!(read_line(&mut tls), "dnoces\n");
    tls.shutdown().unwrap();
    assert!(tls.stats().plaintext_sent >= 29);
}

#[test]
fn tls13_rsa2048() {
    version_and_key(Version::Tls13, KeyKind::Rsa2048);
}

#[test]
fn tls13_ecdsa_p256() {
    version_and_key(Version::Tls13, KeyKind::EcdsaP256);
}

#[test]
fn tls13_ed25519() {
    version_and_key(Version::Tls13, KeyKind::Ed25519);
}

#[test]
fn tls12_rsa2048() {
    version_and_key(Version::Tls12, KeyKind::Rsa2048);
}

#[test]
fn tls12_ecdsa_p256() {
    version_and_key(Version::Tls12, KeyKind::EcdsaP256);
}

#[test]
fn tls12_ed25519() {
    version_and_key(Version::Tls12, KeyKind::Ed25519);
}

#[test]
fn alpn_is_negotiated_or_absent() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = OpenSslServer::builder(&pki.server)
        .alpn("http/1.1,h2")
        .mode(OpenSslMode::Rev)
        .start();
    // The server picks by its own preference among what the client offers.
    for (offer, expect) in [
        (vec!["h2", "http/1.1"], Some("http/1.1")),
        (vec!["h2"], Some("h2")),
        (vec![], None),
    ] {
        let cfg = config(&pki).alpn(&offer).build().unwrap();
        let mut tls = open(&server, &cfg);
        let info = tls.info().unwrap();
        assert_eq!(info.alpn_str(), expect, "offered {offer:?}");
        tls.shutdown().unwrap();
    }
    // Nothing in common: OpenSSL refuses with a fatal no_application_protocol alert.
    let cfg = config(&pki).alpn(["h3"]).build().unwrap();
    match connect(server.addr(), "localhost", &cfg) {
        Err(tlsferry::Error::Tls(Error::Peer(PeerError::AlertReceived(alert)))) => {
            assert_eq!(alert.name(), "no_application_protocol");
        }
        other => panic!("expected a no_application_protocol alert, got {other:?}"),
    }
}

#[test]
fn client_certificate_required() {
    // Client keys of every kind the provider signs with: the server checks the signature.
    for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048, KeyKind::Ed25519] {
        client_certificate_required_with(kind);
    }
}

fn client_certificate_required_with(kind: KeyKind) {
    let pki = TestPki::new(kind);
    for tls12 in [false, true] {
        let b = OpenSslServer::builder(&pki.server)
            .client_ca(&pki.root.pem, true)
            .mode(OpenSslMode::Rev);
        let server = if tls12 { b.tls12() } else { b.tls13() }.start();

        // With the certificate: accepted, and the server saw who we are.
        let cfg = config(&pki)
            .client_auth_pem(
                pki.client.chain_pem.as_bytes(),
                pki.client.key_pem.as_bytes(),
            )
            .build()
            .unwrap();
        let mut tls = open(&server, &cfg);
        tls.write_all(b"with cert\n").unwrap();
        assert_eq!(read_line(&mut tls), "trec htiw\n");
        assert!(
            server.wait_for_output("CN = tlsferry test client", WAIT),
            "{kind:?} tls12={tls12}: server did not verify the client:\n{}",
            server.output()
        );
        tls.shutdown().unwrap();

        // Without: the server refuses with an alert (TLS 1.2 during the handshake;
        // TLS 1.3 after the client's Finished, so on the first read).
        let cfg = config(&pki).build().unwrap();
        let outcome = connect(server.addr(), "localhost", &cfg).and_then(|mut tls| {
            let mut buf = [0u8; 16];
            tls.write_all(b"no cert\n")
                .and_then(|()| tls.read(&mut buf))
                .map_err(tlsferry::Error::from_io)
        });
        match outcome {
            Err(tlsferry::Error::Tls(Error::Peer(PeerError::AlertReceived(alert)))) => {
                assert!(
                    alert.name().contains("certificate") || alert.name() == "handshake_failure",
                    "tls12={tls12}: {alert}"
                );
            }
            other => panic!("tls12={tls12}: expected a fatal alert, got {other:?}"),
        }
    }
}

#[test]
fn www_status_page() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = OpenSslServer::builder(&pki.server)
        .mode(OpenSslMode::Www)
        .start();
    let cfg = config(&pki).build().unwrap();
    let mut tls = open(&server, &cfg);
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let end = tls.read_to_end(&mut page);
    let page = String::from_utf8_lossy(&page);
    assert!(page.starts_with("HTTP/1.0 200 ok\r\n"), "{page}");
    // The page describes our own session from the server's side.
    assert!(page.contains("TLSv1.3"), "{page}");
    assert!(page.contains("s_server"), "{page}");
    end.unwrap_or_else(|e| panic!("end of the page: {e}; output:\n{}", server.output()));
}

#[test]
fn server_key_updates_keep_data_flowing() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let mut server = OpenSslServer::builder(&pki.server).tls13().start();
    let cfg = config(&pki).build().unwrap();
    let mut tls = open(&server, &cfg);

    tls.write_all(b"client hello 0\n").unwrap();
    assert!(
        server.wait_for_output("client hello 0", WAIT),
        "{}",
        server.output()
    );
    server.send_line("server line 0");
    assert_eq!(read_line(&mut tls), "server line 0\n");

    // `k`: the server updates its sending keys; `K`: and asks us to update ours.
    for (round, cmd) in [(1, 'k'), (2, 'K'), (3, 'K'), (4, 'k')] {
        let before = server.handshake_results().len();
        server.command(cmd);
        // Keep reading (as an application would) until s_server reports the command
        // done: the KeyUpdate is processed, and answered for `K`.
        tls.set_read_timeout(Some(Duration::from_millis(50)));
        let deadline = std::time::Instant::now() + WAIT;
        while server.handshake_results().len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "key update `{cmd}` not done:\n{}",
                server.output()
            );
            match tls.read(&mut [0u8; 64]) {
                Err(e) if e.kind() == io::ErrorKind::TimedOut && tls_error(&e).is_none() => {}
                other => panic!("unexpected while waiting for `{cmd}`: {other:?}"),
            }
        }
        tls.set_read_timeout(None);
        assert_eq!(
            server.handshake_results()[before],
            1,
            "key update `{cmd}` failed:\n{}",
            server.output()
        );
        server.send_line(&format!("server line {round}"));
        assert_eq!(read_line(&mut tls), format!("server line {round}\n"));
        // Our answer to `K` is our own KeyUpdate; the server must still decrypt us.
        tls.write_all(format!("client hello {round}\n").as_bytes())
            .unwrap();
        assert!(
            server.wait_for_output(&format!("client hello {round}"), WAIT),
            "{}",
            server.output()
        );
    }
    tls.shutdown().unwrap();
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn eight_mebibyte_reply_arrives_byte_exact() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    // Not a multiple of any record or buffer size; varied content.
    let len = 8 * 1024 * 1024 + 12_345;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let body: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    for tls12 in [false, true] {
        let b = OpenSslServer::builder(&pki.server)
            .mode(OpenSslMode::Files)
            .file("big.bin", body.clone());
        let server = if tls12 { b.tls12() } else { b.tls13() }.start();
        let cfg = config(&pki).build().unwrap();
        let mut tls = open(&server, &cfg);
        tls.write_all(b"GET /big.bin HTTP/1.0\r\n\r\n").unwrap();
        let mut reply = Vec::with_capacity(len + 100);
        let end = tls.read_to_end(&mut reply);
        let head_end = reply
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("HTTP header")
            + 4;
        assert!(reply.starts_with(b"HTTP/1.0 200 ok\r\n"));
        assert_eq!(reply.len() - head_end, body.len(), "tls12={tls12}");
        assert!(reply[head_end..] == body[..], "tls12={tls12}: body differs");
        end.unwrap_or_else(|e| panic!("tls12={tls12}: end of reply: {e}"));
        assert!(tls.stats().ciphertext_received > len as u64);
    }
}

/// Every suite the default provider offers, pinned one at a time, against OpenSSL's
/// implementation of it: a request out and a reply of many records back, byte-exact.
#[test]
fn every_offered_suite_interoperates() {
    let ecdsa = TestPki::new(KeyKind::EcdsaP256);
    let rsa = TestPki::new(KeyKind::Rsa2048);
    let body = tlsferry_tests::servers::pattern(100_000);
    let names: Vec<String> = tlsferry::provider()
        .cipher_suites
        .iter()
        .filter_map(|s| s.suite().as_str().map(String::from))
        .collect();
    assert!(names.len() >= 9, "{names:?}");
    for name in &names {
        let pki = if name.contains("_RSA_") { &rsa } else { &ecdsa };
        let b = OpenSslServer::builder(&pki.server)
            .mode(OpenSslMode::Files)
            .file("body.bin", body.clone());
        let server = if name.starts_with("TLS13_") {
            b.tls13()
        } else {
            b.tls12()
        }
        .start();
        let cfg = config(pki).cipher_suites([name]).build().unwrap();
        let mut tls = open(&server, &cfg);
        assert_eq!(
            tls.info().expect("connected").cipher_suite,
            name.replace("TLS13_", "TLS_")
        );
        tls.write_all(b"GET /body.bin HTTP/1.0\r\n\r\n").unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(reply.ends_with(&body), "{name}: body differs");
    }
}

#[test]
fn key_log_matches_the_servers() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    for tls12 in [false, true] {
        let b = OpenSslServer::builder(&pki.server)
            .keylog()
            .mode(OpenSslMode::Rev);
        let server = if tls12 { b.tls12() } else { b.tls13() }.start();
        let dir = TempDir::new("tlsferry-keylog");
        let path = dir.path().join("keys.txt");
        let keylog = std::sync::Arc::new(tlsferry::KeyLogFile::create(&path).unwrap());
        let cfg = config(&pki).key_log(keylog).build().unwrap();
        let mut tls = open(&server, &cfg);
        tls.write_all(b"x\n").unwrap();
        assert_eq!(read_line(&mut tls), "x\n");
        tls.shutdown().unwrap();
        drop(tls);

        let ours = std::fs::read_to_string(&path).unwrap();
        let mut ours: Vec<&str> = ours.lines().collect();
        ours.sort_unstable();
        let expected = if tls12 { 1 } else { 5 };
        assert_eq!(ours.len(), expected, "tls12={tls12}: {ours:?}");
        for line in &ours {
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 3, "{line}");
            assert_eq!(parts[1].len(), 64, "client random: {line}");
            assert!(parts[2].len() >= 64 && parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
        }
        // The server logged the same secrets for the same session.
        let theirs = server.keylog().unwrap();
        let mut theirs: Vec<&str> = theirs
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "tls12={tls12}");
    }
}
