//! Heap held by an idle `tlsferry::tokio::TlsStream`: the stream reads into the core's
//! receive buffer, which is freed once the socket has nothing more to read and the last
//! read was small, so an idle connection holds a few KiB instead of its receive limit
//! (96 KiB by default, ~100 KiB per connection before). A counting global allocator
//! measures what dropping the stream frees on the test's thread, next to a tokio-rustls
//! stream (same provider) after the same exchange.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tlsferry::Config;
use tlsferry_cli::demo_server::{Behaviour, DemoServer};
use tlsferry_tests::counting::{held_by, Counting};
use tlsferry_tests::pki::{KeyKind, TestPki};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[global_allocator]
static A: Counting = Counting;

/// Bulk data each way, a small exchange, then a read that finds nothing; returns the
/// stream.
async fn exercise<S: AsyncRead + AsyncWrite + Unpin>(tls: S) -> S {
    let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 253) as u8).collect();
    let (mut reader, mut writer) = tokio::io::split(tls);
    let send = async {
        writer.write_all(&data).await.unwrap();
        writer
    };
    let receive = async {
        let mut back = vec![0u8; data.len()];
        reader.read_exact(&mut back).await.unwrap();
        assert!(back == data, "the echo came back changed");
        reader
    };
    let (mut writer, mut reader) = tokio::join!(send, receive);
    writer.write_all(b"ping").await.unwrap();
    let mut pong = [0u8; 4];
    reader.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"ping");
    let mut more = [0u8; 16];
    let idle = tokio::time::timeout(Duration::from_millis(50), reader.read(&mut more)).await;
    assert!(idle.is_err(), "the server sent more than the echo");
    reader.unsplit(writer)
}

#[tokio::test]
async fn an_idle_tokio_stream_holds_no_receive_buffer() {
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let server = DemoServer::start(&pki.server, Behaviour::Echo).unwrap();
    let cfg = Config::builder()
        .root_certificates_pem(pki.root.pem.as_bytes())
        .build()
        .unwrap();
    let tls = tlsferry::tokio::connect(server.addr(), "localhost", &cfg)
        .await
        .unwrap();
    let held = held_by(exercise(tls).await);

    // tokio-rustls, same provider, same server, same exchange.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.root.der.clone()).unwrap();
    let rustls_cfg =
        rustls::ClientConfig::builder_with_provider(Arc::new(tlsferry_core::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(rustls_cfg))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let held_rustls = held_by(exercise(tls).await);

    println!("idle after 256 KiB each way: tlsferry::tokio {held} B, tokio-rustls {held_rustls} B");
    assert!(held < 40 * 1024, "an idle stream holds {held} bytes");
}
