//! `tlsferry bridge` with `wss://` (a private CA made at test time; the client is
//! tlsferry's own `TlsStream`), certificate reloads on file change and on SIGHUP, bad
//! certificate files, and bearer tokens.

mod bridge_common;

use std::net::SocketAddr;
use std::time::Duration;

use bridge_common::*;
use tlsferry::{Config, TlsStream};
use tlsferry_cli::bridge::{Bridge, BridgeHandle, BridgeOptions, LogCapture, TlsFiles};
use tlsferry_cli::pki::{KeyKind, TempDir, TestPki};

/// A wss:// WebSocket to the bridge at `addr`, trusting `root_pem`.
fn wss(
    addr: SocketAddr,
    root_pem: &str,
    path: &str,
    extra: &str,
) -> Result<(Client<TlsStream<std::net::TcpStream>>, String), String> {
    let config = Config::builder()
        .root_certificates_pem(root_pem.as_bytes())
        .build()
        .unwrap();
    let tls = tlsferry::connect(addr, "localhost", &config).map_err(|e| e.to_string())?;
    Client::handshake(tls, addr, path, &["tlsferry.v1", "binary"], extra)
}

/// The DER of the leaf a wss:// connection to `addr` is served with.
fn served_leaf(addr: SocketAddr, root_pem: &str) -> Vec<u8> {
    let (c, _) = wss(addr, root_pem, "/", "").unwrap();
    c.s.info().unwrap().peer_certificates[0].to_vec()
}

fn write_pki(dir: &TempDir, pki: &TestPki) -> TlsFiles {
    TlsFiles {
        cert: dir.write("cert.pem", &pki.server.chain_pem),
        key: dir.write("key.pem", &pki.server.key_pem),
    }
}

fn wss_bridge(target: &str, files: TlsFiles, reload: Duration) -> (BridgeHandle, LogCapture) {
    let mut opts = BridgeOptions::new(&[target]);
    opts.tls = Some(files);
    opts.reload_interval = reload;
    opts.metrics = Some("127.0.0.1:0".parse().unwrap());
    bridge(opts)
}

#[test]
fn wss_with_a_private_ca_relays_both_ways() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let dir = TempDir::new("tlsferry-bridge-wss");
    let echo = echo_server();
    let (b, log) = wss_bridge(
        &echo.target(),
        write_pki(&dir, &pki),
        Duration::from_secs(60),
    );
    assert!(b.url().starts_with("wss://127.0.0.1:"), "{}", b.url());
    let (mut c, head) = wss(b.local_addr(), &pki.root.pem, "/", "").unwrap();
    assert!(
        head.contains("Sec-WebSocket-Protocol: tlsferry.v1\r\n"),
        "{head}"
    );
    c.send_text("credit 1000000");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    c.send_binary(&data);
    assert_eq!(c.recv_bytes(data.len()), data);
    c.send_close(1000);
    assert_eq!(c.expect_close().0, 1000);
    let line = log_line(&log, |l| l.contains(" tunnel "));
    assert!(line.contains("up=300000 down=300000"), "{line}");

    // An untrusted CA: the client refuses the bridge's certificate.
    let other = TestPki::new(KeyKind::EcdsaP256);
    let err = wss(b.local_addr(), &other.root.pem, "/", "").err().unwrap();
    assert!(err.contains("certificate"), "{err}");
    // Plain HTTP to a wss:// port: no answer a browser would take, and no tunnel.
    let r = http_exchange(
        b.local_addr(),
        upgrade_request(b.local_addr(), "/", &[], "").as_bytes(),
    );
    assert!(!r.starts_with("HTTP/1.1 101"), "{r}");
    assert_eq!(b.active_connections(), 0);
}

#[test]
fn a_changed_certificate_is_served_without_a_restart() {
    let first = TestPki::new(KeyKind::EcdsaP256);
    let second = TestPki::new(KeyKind::Rsa2048);
    let dir = TempDir::new("tlsferry-bridge-reload");
    let echo = echo_server();
    let files = write_pki(&dir, &first);
    let (b, log) = wss_bridge(&echo.target(), files.clone(), Duration::from_millis(100));
    assert_eq!(
        served_leaf(b.local_addr(), &first.root.pem),
        first.server.der.to_vec()
    );
    let (mut old, _) = wss(b.local_addr(), &first.root.pem, "/", "").unwrap();

    // A half-written update (a key that does not match) is refused; the old one stays.
    std::fs::write(&files.key, &second.server.key_pem).unwrap();
    assert!(wait_until(10, || log
        .lines()
        .iter()
        .any(|l| l.contains("certificate reload failed"))));
    assert_eq!(
        served_leaf(b.local_addr(), &first.root.pem),
        first.server.der.to_vec()
    );
    // Then the certificate arrives too.
    std::fs::write(&files.cert, &second.server.chain_pem).unwrap();
    assert!(wait_until(10, || {
        wss(b.local_addr(), &second.root.pem, "/", "")
            .map(|(c, _)| c.s.info().unwrap().peer_certificates[0].to_vec())
            .is_ok_and(|leaf| leaf == second.server.der.to_vec())
    }));
    // A tunnel opened before the reload carries on.
    old.send_text("credit 10");
    old.send_binary(b"still");
    assert_eq!(old.recv_bytes(5), b"still");
    let text = http_get(b.metrics_addr().unwrap(), "/metrics");
    assert!(
        metric(
            &text,
            "tlsferry_bridge_certificate_reloads_total{result=\"ok\"}"
        ) >= 1.0,
        "{text}"
    );
    assert!(
        metric(
            &text,
            "tlsferry_bridge_certificate_reloads_total{result=\"error\"}"
        ) >= 1.0,
        "{text}"
    );
}

#[test]
fn sighup_reloads_the_certificate() {
    let first = TestPki::new(KeyKind::EcdsaP256);
    let second = TestPki::new(KeyKind::EcdsaP256);
    let dir = TempDir::new("tlsferry-bridge-hup");
    let echo = echo_server();
    let files = write_pki(&dir, &first);
    // No file polling to speak of: only the signal can make it reload.
    let (b, log) = wss_bridge(&echo.target(), files.clone(), Duration::from_secs(3600));
    // The SIGHUP handler is in place before the first connection is accepted.
    assert_eq!(
        served_leaf(b.local_addr(), &first.root.pem),
        first.server.der.to_vec()
    );
    std::fs::write(&files.key, &second.server.key_pem).unwrap();
    std::fs::write(&files.cert, &second.server.chain_pem).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        served_leaf(b.local_addr(), &first.root.pem),
        first.server.der.to_vec()
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_until(10, || log
        .lines()
        .iter()
        .any(|l| l.contains("reloaded the certificate"))));
    assert_eq!(
        served_leaf(b.local_addr(), &second.root.pem),
        second.server.der.to_vec()
    );
}

#[test]
fn bad_certificate_files_stop_the_start_naming_the_file() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let other = TestPki::new(KeyKind::EcdsaP256);
    let dir = TempDir::new("tlsferry-bridge-badcert");
    let bind = |cert: &str, key: &str| {
        let mut o = BridgeOptions::new(&["h:1"]);
        o.listen = "127.0.0.1:0".parse().unwrap();
        o.tls = Some(TlsFiles {
            cert: dir.write("c.pem", cert),
            key: dir.write("k.pem", key),
        });
        Bridge::bind(o).map(|_| ()).unwrap_err()
    };
    let e = bind("not a certificate", &pki.server.key_pem);
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        e.to_string().contains("c.pem") && e.to_string().contains("CERTIFICATE"),
        "{e}"
    );
    let e = bind(&pki.server.chain_pem, "nope");
    assert!(e.to_string().contains("k.pem"), "{e}");
    let e = bind(&pki.server.chain_pem, &other.server.key_pem);
    assert!(e.to_string().contains("match"), "{e}");
}

#[test]
fn tokens_in_a_header_or_the_query() {
    let dir = TempDir::new("tlsferry-bridge-token");
    let echo = echo_server();
    let token_file = dir.write(
        "tokens",
        "# the bridge's tokens\nfirst-token\nsecond+token/==\n",
    );
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.auth_token_file = Some(token_file.clone());
    opts.reload_interval = Duration::from_millis(100);
    let (b, log) = bridge(opts);
    let addr = b.local_addr();
    let ask = |path: &str, extra: &str| {
        http_exchange(
            addr,
            upgrade_request(addr, path, &["binary"], extra).as_bytes(),
        )
    };
    for (path, extra) in [
        ("/", ""),
        ("/?token=wrong", ""),
        ("/?token=first-toke", ""),
        ("/", "Authorization: Bearer first-tokenX\r\n"),
    ] {
        let r = ask(path, extra);
        assert!(
            r.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{path} {extra}: {r}"
        );
        assert!(r.contains("\r\nWWW-Authenticate: Bearer\r\n"), "{r}");
    }
    let (mut c, _) = Client::open(addr, "/?token=first-token", &["binary"], "");
    c.send_binary(b"q");
    assert_eq!(c.recv_bytes(1), b"q");
    let (mut c, _) = Client::open(
        addr,
        "/",
        &["binary"],
        "Authorization: Bearer second+token/==\r\n",
    );
    c.send_binary(b"h");
    assert_eq!(c.recv_bytes(1), b"h");
    let (_c, _) = Client::open(addr, "/?token=second%2Btoken%2F%3D%3D", &["binary"], "");
    // The token never reaches the log.
    assert!(!log.lines().iter().any(|l| l.contains("first-token")));

    // Rotation: the file changes, the old token stops working.
    std::fs::write(&token_file, "third\n").unwrap();
    let upgrades = |path: &str| {
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        Client::handshake(s, addr, path, &["binary"], "").is_ok()
    };
    assert!(wait_until(10, || !upgrades("/?token=first-token")
        && upgrades("/?token=third")));
}

#[test]
fn over_the_handshake_cap_a_wss_client_still_reads_its_503() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let dir = TempDir::new("tlsferry-bridge-wss503");
    let echo = echo_server();
    let mut opts = BridgeOptions::new(&[&echo.target()]);
    opts.tls = Some(write_pki(&dir, &pki));
    opts.max_handshakes = Some(1);
    opts.handshake_timeout = Duration::from_secs(30);
    let (b, _log) = bridge(opts);
    // A silent connection takes the only handshake slot.
    let _silent = std::net::TcpStream::connect(b.local_addr()).unwrap();
    assert!(wait_until(10, || b.handshakes_in_progress() == 1));
    // The refusal is answered over TLS, so a wss:// client can read it.
    let resp = wss(b.local_addr(), &pki.root.pem, "/", "").err().unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{resp}"
    );
    assert!(resp.contains("\r\nRetry-After: 2\r\n"), "{resp}");
}
