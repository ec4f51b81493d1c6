//! An in-memory client↔server pair (quinn-proto's `Pair`): a tlsferry [`Client`] and a
//! rustls `ServerConnection` exchange bytes through vectors, under a simulated clock
//! that jumps instead of sleeping.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use rustls::server::{ServerConfig, ServerConnection, WebPkiClientVerifier};
use rustls::RootCertStore;
use tlsferry_core::{Client, Config, Error, Event, Input, Instant, Output};

use crate::pki::{Leaf, TestPki};

/// tlsferry's default (pure-Rust) provider for the server side too.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(tlsferry_core::default_provider())
}

/// A server config for `leaf` with the given versions and ALPN; client auth
/// required (trusting `client_ca_pem`) when given.
pub fn server_config(
    leaf: &Leaf,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&str],
    client_ca_pem: Option<&str>,
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions");
    let builder = match client_ca_pem {
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for c in tlsferry_core::parse_certificates(
                pem.as_bytes(),
                tlsferry_core::PemInput::Certificates,
            )
            .unwrap()
            {
                roots.add(c).unwrap();
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(v)
        }
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder
        .with_single_cert(leaf.chain_der.clone(), leaf.private_key())
        .expect("server cert");
    cfg.alpn_protocols = alpn.iter().map(|a| a.as_bytes().to_vec()).collect();
    Arc::new(cfg)
}

/// A client config trusting only `pki`'s root, using the system clock.
pub fn client_config(pki: &TestPki) -> tlsferry_core::ConfigBuilder {
    tlsferry::Config::builder()
        .crypto_provider(std::sync::Arc::new(tlsferry::provider()))
        .root_certificates_pem(pki.root.pem.as_bytes())
}

/// The pair. Bytes move only when [`Pair::step`] or [`Pair::run`] is called.
pub struct Pair {
    pub client: Client,
    pub server: ServerConnection,
    pub now: Instant,
    /// Every event the client produced, in order.
    pub events: Vec<Event>,
    /// Plaintext the client received.
    pub client_received: Vec<u8>,
    /// Plaintext the server received.
    pub server_received: Vec<u8>,
    /// Client→server bytes not yet delivered.
    pub to_server: Vec<u8>,
    /// Server→client bytes not yet delivered.
    pub to_client: Vec<u8>,
    /// Largest chunk delivered to the client at once (1 = byte at a time).
    pub fragment: usize,
    /// Every chunk the client was fed, for tests that replay them.
    pub fed: Vec<Vec<u8>>,
}

impl Pair {
    /// Starts a client for `name` against a server with `server_config`.
    pub fn new(
        config: &Config,
        server_config: Arc<ServerConfig>,
        name: &str,
    ) -> Result<Pair, Error> {
        let now = Instant::from_millis(1_000);
        let client = Client::new(name, config, now)?;
        Ok(Pair {
            client,
            server: ServerConnection::new(server_config).expect("server"),
            now,
            events: Vec::new(),
            client_received: Vec::new(),
            server_received: Vec::new(),
            to_server: Vec::new(),
            to_client: Vec::new(),
            fragment: usize::MAX,
            fed: Vec::new(),
        })
    }

    /// Drains the client's outputs into `to_server` and `events`.
    pub fn drain_client(&mut self) -> Option<Instant> {
        loop {
            match self.client.poll_output() {
                Output::Transmit(b) => self.to_server.extend_from_slice(&b),
                Output::Event(Event::Data(d)) => {
                    self.client_received.extend_from_slice(&d);
                    self.events.push(Event::Data(d));
                }
                Output::Event(e) => self.events.push(e),
                Output::Wait(deadline) => return deadline,
            }
        }
    }

    /// Moves bytes in both directions once. Returns whether anything moved.
    /// Server-side errors are returned as `Err(None)`, client ones as `Err(Some(e))`.
    pub fn step(&mut self) -> Result<bool, Option<Error>> {
        self.drain_client();
        let mut moved = false;
        if !self.to_server.is_empty() {
            moved = true;
            let bytes = std::mem::take(&mut self.to_server);
            let mut rd = &bytes[..];
            while !rd.is_empty() {
                self.server.read_tls(&mut rd).map_err(|_| None)?;
                self.server.process_new_packets().map_err(|_| {
                    // Let the server's alert reach the client.
                    let mut out = Vec::new();
                    let _ = self.server.write_tls(&mut out);
                    self.to_client.extend_from_slice(&out);
                    None
                })?;
                let mut plain = Vec::new();
                let _ = self.server.reader().read_to_end(&mut plain);
                self.server_received.extend_from_slice(&plain);
            }
        }
        while self.server.wants_write() {
            let mut out = Vec::new();
            self.server.write_tls(&mut out).map_err(|_| None)?;
            self.to_client.extend_from_slice(&out);
        }
        if !self.to_client.is_empty() {
            moved = true;
            self.deliver_to_client().map_err(Some)?;
        }
        self.drain_client();
        Ok(moved)
    }

    /// Feeds `to_client` to the client in chunks of at most `fragment` bytes.
    pub fn deliver_to_client(&mut self) -> Result<(), Error> {
        let bytes = std::mem::take(&mut self.to_client);
        let mut off = 0;
        while off < bytes.len() {
            let n = (bytes.len() - off)
                .min(self.fragment)
                .min(self.client.receive_capacity());
            let chunk = &bytes[off..off + n];
            self.fed.push(chunk.to_vec());
            self.client.handle_input(Input::Receive(self.now, chunk))?;
            self.drain_client();
            off += n;
        }
        Ok(())
    }

    /// Steps until nothing moves (at most 10 000 steps).
    pub fn run(&mut self) -> Result<(), Option<Error>> {
        for _ in 0..10_000 {
            if !self.step()? {
                return Ok(());
            }
        }
        panic!("pair did not settle");
    }

    /// Completes the handshake; returns the client's error if it fails.
    pub fn handshake(&mut self) -> Result<(), Error> {
        match self.run() {
            Ok(()) => {}
            Err(Some(e)) => return Err(e),
            Err(None) => {
                // The server gave up: its alert is in flight to the client.
                self.deliver_to_client()?;
            }
        }
        if self.client.is_handshaking() {
            if let Some(e) = self.client.error() {
                return Err(e.clone());
            }
            panic!("handshake stalled without an error");
        }
        Ok(())
    }

    /// The server writes `data` to the client, moving bytes whenever its buffer fills.
    pub fn server_send(&mut self, data: &[u8]) {
        let mut rest = data;
        while !rest.is_empty() {
            let n = self.server.writer().write(rest).expect("server write");
            rest = &rest[n..];
            if n == 0 {
                self.step().expect("pair step");
            }
        }
    }

    /// Sends `close_notify` from the server.
    pub fn server_close(&mut self) {
        self.server.send_close_notify();
    }

    /// Moves the simulated clock and feeds a tick.
    pub fn advance(&mut self, by: Duration) -> Result<(), Error> {
        self.now = self.now + by;
        self.client.handle_input(Input::Tick(self.now))
    }

    /// The `Connected` event's info, if seen.
    pub fn connected(&self) -> Option<&tlsferry_core::ConnectionInfo> {
        self.events.iter().find_map(|e| match e {
            Event::Connected(i) => Some(i),
            _ => None,
        })
    }
}
