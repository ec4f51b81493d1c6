//! A local TLS server for `tlsferry demo` (and the web demo): rustls' `ServerConnection`
//! with tlsferry's default (pure-Rust) provider, on 127.0.0.1, one thread per connection.
//!
//! It exists so that the demos run offline against a real peer. It is not a general
//! server: it answers each connection in one of the [`Behaviour`]s and stops when dropped.
//!
//! ```no_run
//! use tlsferry_cli::demo_server::{Behaviour, DemoServer};
//! use tlsferry_cli::pki::{KeyKind, TestPki};
//!
//! let pki = TestPki::new(KeyKind::EcdsaP256);
//! let server = DemoServer::start(&pki.server, Behaviour::Greet)?;
//! println!("listening on 127.0.0.1:{}", server.port());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::server::{ServerConfig, ServerConnection};
use rustls::StreamOwned;

use crate::pki::Leaf;

/// How long a connection may sit idle before the server drops it.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server does with each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Reads the first chunk of the request, answers with one line that quotes it
    /// (`Hello from the tlsferry demo server (TLSv1.3, …). You sent 13 bytes: Hello, World!`),
    /// then sends `close_notify` and waits for the client's.
    Greet,
    /// Sends back everything it receives until the client's `close_notify`, then closes.
    Echo,
}

/// A running demo server on 127.0.0.1; stops accepting when dropped.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Starts a server presenting `leaf` (with its intermediates) on a free port of
    /// 127.0.0.1, TLS 1.2 and 1.3, no client authentication.
    pub fn start(leaf: &Leaf, behaviour: Behaviour) -> io::Result<DemoServer> {
        let provider = Arc::new(tlsferry_core::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(leaf.chain_der.clone(), leaf.private_key())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        DemoServer::start_with_config(Arc::new(config), behaviour)
    }

    /// Starts a server with a ready rustls configuration (client auth, ALPN, versions…).
    pub fn start_with_config(
        config: Arc<ServerConfig>,
        behaviour: Behaviour,
    ) -> io::Result<DemoServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let stop = stop.clone();
            let accepted = accepted.clone();
            thread::Builder::new()
                .name("tlsferry-demo-server".into())
                .spawn(move || {
                    for tcp in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(tcp) = tcp else { continue };
                        accepted.fetch_add(1, Ordering::SeqCst);
                        let config = config.clone();
                        let _ = thread::Builder::new()
                            .name("tlsferry-demo-connection".into())
                            .spawn(move || {
                                // A client that misbehaves only ends its own connection.
                                let _ = serve(config, tcp, behaviour);
                            });
                    }
                })?
        };
        Ok(DemoServer {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address it listens on (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many TCP connections it has accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(config: Arc<ServerConfig>, tcp: TcpStream, behaviour: Behaviour) -> io::Result<()> {
    tcp.set_read_timeout(Some(CONNECTION_TIMEOUT))?;
    tcp.set_write_timeout(Some(CONNECTION_TIMEOUT))?;
    tcp.set_nodelay(true)?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    let mut buf = vec![0u8; 16 * 1024];
    match behaviour {
        Behaviour::Greet => {
            let n = tls.read(&mut buf)?;
            let request = buf.get(..n).unwrap_or_default();
            let version = match tls.conn.protocol_version() {
                Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
                Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
                _ => "TLS",
            };
            let suite = tls
                .conn
                .negotiated_cipher_suite()
                .map(|s| tlsferry_core::iana_suite_name(s.suite()))
                .unwrap_or_else(|| "unknown suite".into());
            let mut reply = format!(
                "Hello from the tlsferry demo server ({version}, {suite}). You sent {n} bytes: "
            )
            .into_bytes();
            reply.extend_from_slice(request);
            reply.push(b'\n');
            tls.write_all(&reply)?;
        }
        Behaviour::Echo => loop {
            let n = tls.read(&mut buf)?;
            if n == 0 {
                break;
            }
            tls.write_all(buf.get(..n).unwrap_or_default())?;
        },
    }
    tls.conn.send_close_notify();
    tls.flush()?;
    // Wait for the client's close_notify (or its EOF) before closing, so that the kernel
    // does not answer unread bytes with a reset that could destroy the reply in flight.
    loop {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Ok(())
}
