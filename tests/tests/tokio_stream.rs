//! `tlsferry::tokio` (issue 12): `TlsStream<S>` as `AsyncRead + AsyncWrite` against
//! `openssl s_server`, Python's `ssl` and a rustls server; 200 concurrent connections in
//! one runtime; handshake and idle timeouts under `tokio::time::pause`; truncation as a
//! typed error; cancellation-safe reads; `tokio::io::split` with both halves busy.

use std::sync::Arc;
use std::time::Duration;

use tlsferry::{Config, TlsError};
use tlsferry_cli::demo_server::{Behaviour, DemoServer};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tlsferry_tests::servers::{pattern, OpenSslMode, OpenSslServer, PythonTlsServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn config(pki: &TestPki) -> Config {
    Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .build()
        .unwrap()
}

#[tokio::test]
async fn seed_exchange_with_openssl_and_python() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = config(&pki);

    let openssl = OpenSslServer::builder(&pki.server)
        .mode(OpenSslMode::Rev)
        .start();
    let mut tls = tlsferry::tokio::connect(openssl.addr().as_str(), "localhost", &cfg)
        .await
        .unwrap();
    assert!(tls.info().unwrap().verified);
    tls.write_all(b"Hello, World!\n").await.unwrap();
    let mut reply = vec![0u8; 14];
    tls.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply, b"!dlroW ,olleH\n");
    tls.shutdown().await.unwrap();

    // Python's ssl server: replies, then close_notify: read_to_end ends cleanly.
    let python = PythonTlsServer::builder(&pki.server)
        .echo("hello from python: ")
        .start();
    let mut tls = tlsferry::tokio::connect(python.addr().as_str(), "localhost", &cfg)
        .await
        .unwrap();
    tls.write_all(b"Hello, World!").await.unwrap();
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, b"hello from python: Hello, World!");
    tls.shutdown().await.unwrap();
}

#[tokio::test]
async fn truncation_is_an_error_carrying_the_typed_tls_error() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let python = PythonTlsServer::builder(&pki.server)
        .send_bytes(5000)
        .without_close_notify()
        .start();
    let mut tls = tlsferry::tokio::connect(python.addr().as_str(), "localhost", &config(&pki))
        .await
        .unwrap();
    tls.write_all(b"go").await.unwrap();
    let mut got = Vec::new();
    let err = tls.read_to_end(&mut got).await.unwrap_err();
    assert_eq!(got, pattern(5000), "the data before the EOF is delivered");
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(
        tlsferry::tls_error(&err).map(TlsError::code),
        Some("TRUNCATED")
    );
    // The same through tlsferry::Error.
    assert_eq!(tlsferry::Error::from(err).code(), "TRUNCATED");
}

#[tokio::test]
async fn certificate_failure_is_typed_at_connect() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let addr = server.addr();
    let err = tlsferry::tokio::connect(addr, "wrong.example", &config(&pki))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CERT_HOSTNAME_MISMATCH");
    let err = tlsferry::tokio::connect(addr, "localhost", &Config::builder().build().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CERT_UNKNOWN_ISSUER");
    let refused = tlsferry::tokio::connect(
        ("127.0.0.1", tlsferry_tests::servers::refused_port()),
        "localhost",
        &config(&pki),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "CONNECT_REFUSED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_connections_in_one_runtime() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = Arc::new(config(&pki));
    // One connection first, so the shared Config holds tickets before the 200 start:
    // spawned all at once, every ClientHello can leave before any ticket arrives (a
    // fresh CI machine did that once).
    let mut first = tlsferry::tokio::connect(server.addr(), "localhost", &cfg)
        .await
        .unwrap();
    first.write_all(b"first").await.unwrap();
    let mut back = [0u8; 5];
    // The server sends its tickets before the echo, so they are stored once it is read.
    first.read_exact(&mut back).await.unwrap();
    first.shutdown().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let cfg = cfg.clone();
        let addr = server.addr();
        tasks.push(tokio::spawn(async move {
            let mut tls = tlsferry::tokio::connect(addr, "localhost", &cfg).await?;
            let msg = format!("connection {i}").into_bytes();
            tls.write_all(&msg).await?;
            let mut back = vec![0u8; msg.len()];
            tls.read_exact(&mut back).await?;
            assert_eq!(back, msg);
            tls.shutdown().await?;
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).await?;
            Ok::<bool, tlsferry::Error>(tls.info().is_some_and(|i| i.resumed))
        }));
    }
    let mut resumed = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() {
            resumed += 1;
        }
    }
    // They shared one Config: the first connection's tickets (and those of the ones that
    // finished early) were resumed.
    assert!(resumed > 0, "no connection resumed a session");
}

/// A peer that never answers: `tokio::io::duplex` whose other end only reads.
fn stalled_transport() -> tokio::io::DuplexStream {
    let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let mut sink = vec![0u8; 4096];
        while theirs.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    });
    ours
}

#[tokio::test(start_paused = true)]
async fn handshake_timeout_fires_on_tokios_clock() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let cfg = Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .handshake_timeout(Some(Duration::from_secs(30)))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut tls = tlsferry::tokio::TlsStream::new(stalled_transport(), "localhost", &cfg).unwrap();
    let err = tls.handshake().await.unwrap_err();
    assert_eq!(err.code(), "TIMEOUT");
    assert_eq!(err.to_string(), "timed out during the TLS handshake");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30) && waited < Duration::from_secs(31),
        "{waited:?}"
    );
}

/// An in-process rustls server over an in-memory duplex (tokio-rustls on the other end).
fn rustls_server(pki: &TestPki) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(tlsferry_core::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server.chain_der.clone(), pki.server.private_key())
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(cfg))
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_fires_after_the_handshake() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let acceptor = rustls_server(&pki);
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let mut s = acceptor.accept(server_io).await.unwrap();
        // Says nothing, holds the connection open.
        let mut buf = [0u8; 16];
        let _ = s.read(&mut buf).await;
    });
    let cfg = Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .idle_timeout(Some(Duration::from_secs(60)))
        .build()
        .unwrap();
    let mut tls = tlsferry::tokio::TlsStream::new(client_io, "localhost", &cfg).unwrap();
    tls.handshake().await.unwrap();
    let started = tokio::time::Instant::now();
    let mut buf = [0u8; 16];
    let err = tls.read(&mut buf).await.unwrap_err();
    assert_eq!(
        tlsferry::tls_error(&err).map(TlsError::code),
        Some("TIMEOUT")
    );
    assert!(
        started.elapsed() >= Duration::from_secs(59),
        "{:?}",
        started.elapsed()
    );
    server.abort();
}

#[tokio::test]
async fn reads_are_cancellation_safe() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let mut tls = tlsferry::tokio::connect(server.addr(), "localhost", &config(&pki))
        .await
        .unwrap();
    let data = pattern(200_000);
    let mut got = Vec::new();
    let mut buf = vec![0u8; 700];
    let mut cancelled = 0;
    for chunk in data.chunks(5_000) {
        tls.write_all(chunk).await.unwrap();
        let want = got.len() + chunk.len();
        // Reads raced against a short timeout: some are cancelled while waiting (always the
        // last one, when the echo is complete and nothing more comes), none loses bytes.
        loop {
            match tokio::time::timeout(Duration::from_millis(2), tls.read(&mut buf)).await {
                Ok(r) => got.extend_from_slice(&buf[..r.unwrap()]),
                Err(_) => {
                    cancelled += 1;
                    if got.len() >= want {
                        break;
                    }
                }
            }
        }
    }
    assert_eq!(got, data);
    assert!(cancelled >= 40, "{cancelled} reads cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_in_two_tasks() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let tls = tlsferry::tokio::connect(server.addr(), "localhost", &config(&pki))
        .await
        .unwrap();
    let (mut rd, mut wr) = tokio::io::split(tls);
    let data = pattern(1024 * 1024);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        for chunk in sent.chunks(10_000) {
            wr.write_all(chunk).await.unwrap();
        }
        wr.flush().await.unwrap();
        wr
    });
    let reader = tokio::spawn(async move {
        let mut got = vec![0u8; 1024 * 1024];
        rd.read_exact(&mut got).await.unwrap();
        (rd, got)
    });
    let (rd, got) = reader.await.unwrap();
    assert_eq!(got, data);
    let mut wr = writer.await.unwrap();
    wr.shutdown().await.unwrap();
    let mut tls = rd.unsplit(wr);
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    assert!(tls.peer_closed());
}

#[tokio::test]
async fn keying_material_and_info_through_the_async_stream() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let tls = tlsferry::tokio::connect(server.addr(), "localhost", &config(&pki))
        .await
        .unwrap();
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    tls.export_keying_material(&mut a, b"EXPERIMENTAL-x", None)
        .unwrap();
    tls.export_keying_material(&mut b, b"EXPERIMENTAL-y", None)
        .unwrap();
    assert_ne!(a, b);
    assert!(tls.stats().ciphertext_received > 0);
}

/// `read_buf` into a `Vec`'s spare (uninitialised) capacity, as `BytesMut`-style readers
/// do: every byte arrives, in order, whatever the capacity left.
#[tokio::test]
async fn read_buf_into_spare_capacity_gets_every_byte() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let acceptor = rustls_server(&pki);
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let data = pattern(1_000_003);
    let sent = data.clone();
    let server = tokio::spawn(async move {
        let mut s = acceptor.accept(server_io).await.unwrap();
        s.write_all(&sent).await.unwrap();
        s.shutdown().await.unwrap();
    });
    let mut tls = tlsferry::tokio::TlsStream::new(client_io, "localhost", &config(&pki)).unwrap();
    let mut got = Vec::new();
    let mut reads = 0;
    loop {
        // Capacity that varies from a few bytes to far more than one read fills.
        let mut chunk = Vec::with_capacity([7, 4_096, 300_000][reads % 3]);
        let n = tls.read_buf(&mut chunk).await.unwrap();
        assert_eq!(n, chunk.len());
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk);
        reads += 1;
    }
    assert!(
        got == data,
        "{} of {} bytes, or out of order",
        got.len(),
        data.len()
    );
    server.await.unwrap();
}

/// A certificate the client refuses is answered with its alert (unknown_ca) before the
/// transport closes, by both streams: the server logs the reason, not a bare EOF.
#[tokio::test]
async fn a_refused_certificate_reaches_the_server_as_an_alert() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let stranger = TestPki::new(KeyKind::EcdsaP256);
    let wrong_ca = config(&stranger);
    let server = PythonTlsServer::builder(&pki.server)
        .echo("")
        .connections(2)
        .start();
    let err = tlsferry::tokio::connect(server.addr().as_str(), "localhost", &wrong_ca)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CERT_UNKNOWN_ISSUER", "{err}");
    assert!(
        server.wait_for_output("ALERT_UNKNOWN_CA", Duration::from_secs(10)),
        "tokio: {}",
        server.output()
    );
    let addr = server.addr();
    let blocking = tokio::task::spawn_blocking(move || {
        tlsferry::connect(addr.as_str(), "localhost", &wrong_ca).map(|_| ())
    });
    assert!(blocking.await.unwrap().is_err());
    assert!(
        server.wait_for_output_count("ALERT_UNKNOWN_CA", 2, Duration::from_secs(10)),
        "blocking: {}",
        server.output()
    );
}
