//! [`Pair`]: a [`Client`] and an in-memory rustls server, both seeded and on a fixed
//! clock, exchanging bytes through vectors — "deterministic unit testing of the handshake
//! without sockets" (quinn-proto's `Pair`, h11's `ConnectionPair`).
//!
//! A [`Scenario`] says what the server presents ([`TestCertificate`], from the built-in
//! test PKI in [`super::pki`]) and how it behaves ([`ServerBehaviour`]). Bytes move only
//! when asked: [`Pair::step`] moves what is pending once in each direction,
//! [`Pair::drive`] steps until nothing moves, and [`Pair::advance_to_next_deadline`]
//! jumps the simulated clock to the client's next deadline instead of sleeping. The same
//! scenario gives the same bytes in both directions on every run, native or wasm
//! ([`Pair::wire_digest`]).
//!
//! ```
//! use tlsferry_core::testing::{Pair, Scenario, ServerBehaviour, TestCertificate};
//!
//! // A verified exchange with an echo server.
//! let mut pair = Pair::new(Scenario::new().behaviour(ServerBehaviour::Echo))?;
//! pair.client.send(b"ping")?;
//! pair.drive()?;
//! assert_eq!(pair.client_received(), b"ping");
//! assert!(pair.connected().is_some());
//!
//! // An expired certificate is refused, with the reason.
//! let mut pair = Pair::new(Scenario::new().certificate(TestCertificate::Expired))?;
//! let err = pair.drive().unwrap_err();
//! assert_eq!(err.code(), "CERT_EXPIRED");
//! # Ok::<(), tlsferry_core::Error>(())
//! ```

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use rustls::server::{
    ServerConfig, StoresServerSessions, UnbufferedServerConnection, WebPkiClientVerifier,
};
use rustls::RootCertStore;
use sha2::{Digest, Sha256};

use super::pki::{self, TestCertificate};
use super::seeded::{seeded_provider, Seed};
use super::session::FixedTime;
use crate::adapter::{Io, Tls};
use crate::config::{ConfigBuilder, Version};
use crate::error::{Error, LocalError};
use crate::{Client, Config, ConnectionInfo, Event, Input, Instant, Output};

/// What the Pair's server does once connected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerBehaviour {
    /// Answers the client's first data with these bytes, then sends `close_notify`.
    Reply(Vec<u8>),
    /// Sends back everything it receives; answers the client's `close_notify` with its own.
    Echo,
    /// Sends `close_notify` right after the handshake, without data.
    CloseNotify,
    /// Answers the client's first data with these bytes, then closes the transport
    /// without `close_notify`: the client must report truncation.
    CloseWithoutNotify(Vec<u8>),
    /// Answers the ClientHello with this fatal alert (e.g. 40, `handshake_failure`) and
    /// closes.
    FatalAlert(u8),
    /// Never answers: the client's handshake timeout must fire.
    Stall,
    /// Like `Reply`, but sends a TLS 1.3 KeyUpdate before the reply.
    KeyUpdate(Vec<u8>),
    /// Supports only the secp384r1 group, which the client does not send a key share
    /// for first: a HelloRetryRequest; then like `Reply`.
    HelloRetryRequest(Vec<u8>),
}

impl Default for ServerBehaviour {
    /// `Reply(b"hello from server.test")`.
    fn default() -> Self {
        ServerBehaviour::Reply(b"hello from server.test".to_vec())
    }
}

/// Builds the client configuration from the default test one.
type Adjust = Arc<dyn Fn(ConfigBuilder) -> ConfigBuilder + Send + Sync>;

/// What a [`Pair`] is made of: seed, the server's certificate and behaviour, client
/// authentication, versions, and adjustments to the client's configuration.
#[derive(Clone)]
pub struct Scenario {
    seed: Seed,
    certificate: TestCertificate,
    behaviour: ServerBehaviour,
    client_auth: Option<bool>,
    server_versions: Vec<Version>,
    server_alpn: Vec<Vec<u8>>,
    server_name: String,
    adjust: Option<Adjust>,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("seed", &self.seed)
            .field("certificate", &self.certificate)
            .field("behaviour", &self.behaviour)
            .field("client_auth", &self.client_auth)
            .field("server_versions", &self.server_versions)
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::new()
    }
}

impl Scenario {
    /// A valid certificate for [`pki::SERVER_NAME`], the default [`ServerBehaviour`], TLS
    /// 1.3 and 1.2 on both sides, no client authentication, seed `[1; 32]`.
    pub fn new() -> Scenario {
        Scenario {
            seed: Seed([1; 32]),
            certificate: TestCertificate::Valid,
            behaviour: ServerBehaviour::default(),
            client_auth: None,
            server_versions: alloc::vec![Version::Tls13, Version::Tls12],
            server_alpn: Vec::new(),
            server_name: pki::SERVER_NAME.into(),
            adjust: None,
        }
    }

    /// Seeds every random byte of both sides (the server's stream is derived from it).
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// The chain the server presents.
    pub fn certificate(mut self, certificate: TestCertificate) -> Self {
        self.certificate = certificate;
        self
    }

    /// What the server does.
    pub fn behaviour(mut self, behaviour: ServerBehaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    /// The server requires a client certificate (issued under the test root); the
    /// client presents the test client certificate if `client_presents_one`.
    pub fn require_client_certificate(mut self, client_presents_one: bool) -> Self {
        self.client_auth = Some(client_presents_one);
        self
    }

    /// The versions the server accepts.
    pub fn server_versions(mut self, versions: &[Version]) -> Self {
        self.server_versions = versions.to_vec();
        self
    }

    /// The ALPN protocols the server accepts, most preferred first.
    pub fn server_alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.server_alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The name the client asks for and verifies (default [`pki::SERVER_NAME`]).
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = name.into();
        self
    }

    /// Adjusts the client's configuration; it starts from the test one (the seeded
    /// provider, the fixed clock, only the test root trusted).
    pub fn client_config(
        mut self,
        adjust: impl Fn(ConfigBuilder) -> ConfigBuilder + Send + Sync + 'static,
    ) -> Self {
        self.adjust = Some(Arc::new(adjust));
        self
    }

    /// The client configuration this scenario builds.
    pub fn build_client_config(&self) -> Result<Config, Error> {
        let mut b = Config::builder()
            .crypto_provider(Arc::new(seeded_provider(&self.seed)))
            .time_provider(Arc::new(FixedTime(pki::CLOCK)))
            .root_certificates_pem(pki::root_pem().as_bytes());
        if self.client_auth == Some(true) {
            b = b.client_auth_pem(
                pki::client_chain_pem().as_bytes(),
                pki::client_key_pem().as_bytes(),
            );
        }
        if let Some(adjust) = &self.adjust {
            b = adjust(b);
        }
        Ok(b.build()?)
    }

    fn server_config(&self) -> Result<Arc<ServerConfig>, Error> {
        let internal = |e: rustls::Error| {
            Error::Local(LocalError::Internal(alloc::format!(
                "the test server's configuration failed: {e}"
            )))
        };
        let mut seed = self.seed.0;
        for b in seed.iter_mut() {
            *b ^= 0x5a;
        }
        let mut provider = seeded_provider(&Seed(seed));
        if matches!(self.behaviour, ServerBehaviour::HelloRetryRequest(_)) {
            provider
                .kx_groups
                .retain(|g| g.name() == rustls::NamedGroup::secp384r1);
        }
        let provider = Arc::new(provider);
        let versions: Vec<&'static rustls::SupportedProtocolVersion> = self
            .server_versions
            .iter()
            .map(|v| match v {
                Version::Tls12 => &rustls::version::TLS12,
                Version::Tls13 => &rustls::version::TLS13,
            })
            .collect();
        let builder =
            ServerConfig::builder_with_details(provider.clone(), Arc::new(FixedTime(pki::CLOCK)))
                .with_protocol_versions(&versions)
                .map_err(internal)?;
        let builder = if self.client_auth.is_some() {
            let mut roots = RootCertStore::empty();
            roots.add(pki::root()).map_err(internal)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| {
                    Error::Local(LocalError::Internal(alloc::format!(
                        "the test server's client verifier failed: {e}"
                    )))
                })?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let mut cfg = builder
            .with_single_cert(self.certificate.chain(), pki::server_key())
            .map_err(internal)?;
        cfg.alpn_protocols = self.server_alpn.clone();
        cfg.session_storage = Arc::new(ServerSessions::default());
        Ok(Arc::new(cfg))
    }
}

/// The server's session store: resumption works within one [`Pair`] family
/// ([`Pair::reconnect`]); bounded, `no_std`.
#[derive(Default)]
struct ServerSessions(spin::Mutex<VecDeque<(Vec<u8>, Vec<u8>)>>);

impl fmt::Debug for ServerSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print session secrets.
        write!(f, "ServerSessions({})", self.0.lock().len())
    }
}

impl StoresServerSessions for ServerSessions {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        let mut s = self.0.lock();
        if s.len() >= 64 {
            s.pop_front();
        }
        s.push_back((key, value));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0
            .lock()
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let mut s = self.0.lock();
        let i = s.iter().position(|(k, _)| k == key)?;
        s.remove(i).map(|(_, v)| v)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// The Pair's in-memory TLS server.
pub struct Server {
    tls: Tls<UnbufferedServerConnection>,
    behaviour: ServerBehaviour,
    outgoing: Vec<u8>,
    to_send: Vec<u8>,
    /// Decrypted, not yet acted on.
    incoming_plain: Vec<u8>,
    /// Everything the client sent, decrypted.
    all_received: Vec<u8>,
    close_requested: bool,
    key_update: bool,
    replied: bool,
    /// The server closed its transport (the client sees end of stream).
    transport_closed: bool,
    /// Why the server gave up, if it did.
    error: Option<String>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("behaviour", &self.behaviour)
            .field("handshaking", &self.tls.is_handshaking())
            .field("received", &self.all_received.len())
            .field("transport_closed", &self.transport_closed)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Server {
    fn new(config: Arc<ServerConfig>, behaviour: ServerBehaviour) -> Result<Server, Error> {
        let conn = UnbufferedServerConnection::new(config).map_err(|e| {
            Error::Local(LocalError::Internal(alloc::format!(
                "the test server failed: {e}"
            )))
        })?;
        Ok(Server {
            tls: Tls::over(conn),
            behaviour,
            outgoing: Vec::new(),
            to_send: Vec::new(),
            incoming_plain: Vec::new(),
            all_received: Vec::new(),
            close_requested: false,
            key_update: false,
            replied: false,
            transport_closed: false,
            error: None,
        })
    }

    /// The plaintext the client sent so far.
    pub fn received(&self) -> &[u8] {
        &self.all_received
    }

    /// Why the server gave up (its rustls error, in rustls' words), if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// True once the server closed its transport.
    pub fn transport_closed(&self) -> bool {
        self.transport_closed
    }

    /// Takes bytes from the client, answers as its behaviour says; returns what it sends.
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        if self.transport_closed || self.error.is_some() {
            return Vec::new();
        }
        match self.behaviour {
            ServerBehaviour::Stall => return Vec::new(),
            ServerBehaviour::FatalAlert(code) => {
                self.transport_closed = true;
                return alloc::vec![21, 3, 3, 0, 2, 2, code];
            }
            _ => {}
        }
        self.tls.push_incoming(bytes);
        self.pump();
        self.act();
        self.pump();
        let out = core::mem::take(&mut self.outgoing);
        if matches!(self.behaviour, ServerBehaviour::CloseWithoutNotify(_)) && self.replied {
            self.transport_closed = true;
        }
        out
    }

    /// What the behaviour does with what arrived.
    fn act(&mut self) {
        let data = core::mem::take(&mut self.incoming_plain);
        self.all_received.extend_from_slice(&data);
        if self.tls.is_handshaking() || self.error.is_some() {
            return;
        }
        match &self.behaviour {
            ServerBehaviour::Echo => {
                self.to_send.extend_from_slice(&data);
                if self.tls.peer_closed() {
                    self.close_requested = true;
                }
            }
            ServerBehaviour::CloseNotify => self.close_requested = true,
            ServerBehaviour::Reply(reply)
            | ServerBehaviour::HelloRetryRequest(reply)
            | ServerBehaviour::CloseWithoutNotify(reply)
            | ServerBehaviour::KeyUpdate(reply) => {
                if !self.replied && !self.all_received.is_empty() {
                    self.replied = true;
                    if matches!(self.behaviour, ServerBehaviour::KeyUpdate(_)) {
                        self.key_update = true;
                    }
                    self.to_send.extend_from_slice(reply);
                    if !matches!(self.behaviour, ServerBehaviour::CloseWithoutNotify(_)) {
                        self.close_requested = true;
                    }
                }
                if self.tls.peer_closed() {
                    self.close_requested = true;
                }
            }
            ServerBehaviour::FatalAlert(_) | ServerBehaviour::Stall => {}
        }
    }

    fn pump(&mut self) {
        let mut io = Io {
            outgoing: &mut self.outgoing,
            to_send: &mut self.to_send,
            received: &mut self.incoming_plain,
            direct: &mut [],
            direct_len: 0,
            lazy: false,
            close_requested: self.close_requested,
            key_update: &mut self.key_update,
        };
        if let Err(e) = self.tls.pump(&mut io) {
            self.error = Some(alloc::format!("{e:?}"));
            self.tls.flush_alert(&mut self.outgoing);
            self.transport_closed = true;
        }
    }
}

/// A client and the in-memory server, with the bytes in flight between them.
pub struct Pair {
    /// The client under test: call `send`, `close` and the getters directly.
    pub client: Client,
    /// The server.
    pub server: Server,
    /// The simulated monotonic clock the client is fed.
    pub now: Instant,
    /// Largest chunk delivered to the client at once (default: all that fits).
    pub fragment: usize,
    /// Feed the client by writing into [`Client::receive_buffer`] and
    /// [`Input::Received`] (the no-copy path) instead of [`Input::Receive`].
    pub in_place: bool,
    /// Take the client's data with [`Client::read`] into a buffer of this many bytes,
    /// after [`Client::decrypt_on_read`], before taking its outputs; `None` (the default)
    /// takes [`Event::Data`] only.
    pub read_chunk: Option<usize>,
    config: Config,
    server_config: Arc<ServerConfig>,
    scenario: Scenario,
    events: Vec<Event>,
    client_received: Vec<u8>,
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    eof_delivered: bool,
    deadline: Option<Instant>,
    /// The byte streams client → server and server → client.
    wire: [Sha256; 2],
    flights: Vec<Vec<u8>>,
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pair")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("now", &self.now)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// Steps [`Pair::drive`] takes before it gives up on a pair that never settles.
const MAX_STEPS: usize = 100_000;

impl Pair {
    /// Builds both sides; the client's ClientHello is ready to move.
    pub fn new(scenario: Scenario) -> Result<Pair, Error> {
        let config = scenario.build_client_config()?;
        Pair::with_config(scenario, config)
    }

    /// Builds both sides with a client configuration of the caller's (it must trust
    /// [`pki::root`], or not verify, for the handshake to succeed).
    pub fn with_config(scenario: Scenario, config: Config) -> Result<Pair, Error> {
        let server_config = scenario.server_config()?;
        Pair::start(scenario, config, server_config, Instant::ZERO)
    }

    fn start(
        scenario: Scenario,
        config: Config,
        server_config: Arc<ServerConfig>,
        now: Instant,
    ) -> Result<Pair, Error> {
        let client = Client::new(&scenario.server_name, &config, now)?;
        let server = Server::new(server_config.clone(), scenario.behaviour.clone())?;
        let mut pair = Pair {
            client,
            server,
            now,
            fragment: usize::MAX,
            in_place: false,
            read_chunk: None,
            config,
            server_config,
            scenario,
            events: Vec::new(),
            client_received: Vec::new(),
            to_server: Vec::new(),
            to_client: Vec::new(),
            eof_delivered: false,
            deadline: None,
            wire: [Sha256::new(), Sha256::new()],
            flights: Vec::new(),
        };
        pair.drain_client();
        Ok(pair)
    }

    /// A new connection of the same client configuration to the same server
    /// configuration (their session caches included: it resumes), on the same clock.
    pub fn reconnect(&self) -> Result<Pair, Error> {
        Pair::start(
            self.scenario.clone(),
            self.config.clone(),
            self.server_config.clone(),
            self.now,
        )
    }

    // ----- getters -----

    /// Plaintext the client received.
    pub fn client_received(&self) -> &[u8] {
        &self.client_received
    }

    /// Plaintext the server received.
    pub fn server_received(&self) -> &[u8] {
        self.server.received()
    }

    /// Every event the client produced, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The `Connected` event's information, once seen.
    pub fn connected(&self) -> Option<&ConnectionInfo> {
        self.events.iter().find_map(|e| match e {
            Event::Connected(i) => Some(i),
            _ => None,
        })
    }

    /// True once the client saw [`Event::Closed`].
    pub fn closed(&self) -> bool {
        self.events.contains(&Event::Closed)
    }

    /// The client's next deadline, as of its last `Wait`.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Every chunk fed to the client with `Input::Receive`, in order (a recording of the
    /// server's side, e.g. for fuzz seeds or a replay).
    pub fn flights(&self) -> &[Vec<u8>] {
        &self.flights
    }

    /// SHA-256 over the two byte streams that crossed the wire so far (client to
    /// server, then server to client; chunking does not count): equal runs of a scenario
    /// have equal digests.
    pub fn wire_digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for stream in &self.wire {
            h.update(stream.clone().finalize());
        }
        h.finalize().into()
    }

    // ----- moving bytes -----

    /// Moves what is pending once in each direction: the client's output to the server,
    /// the server's answer back (in chunks of at most [`Pair::fragment`] bytes), the
    /// server's end of stream. Returns whether anything moved, or the client's error.
    pub fn step(&mut self) -> Result<bool, Error> {
        self.drain_client();
        let mut moved = false;
        if !self.to_server.is_empty() {
            moved = true;
            let bytes = core::mem::take(&mut self.to_server);
            let answer = self.server.receive(&bytes);
            self.record(b'S', &answer);
            self.to_client.extend_from_slice(&answer);
        }
        if !self.to_client.is_empty() {
            moved |= self.deliver_to_client()?;
        }
        if self.server.transport_closed && self.to_client.is_empty() && !self.eof_delivered {
            moved = true;
            self.eof_delivered = true;
            let result = self.client.handle_input(Input::Eof(self.now));
            self.drain_client();
            result?;
        }
        self.drain_client();
        if let Some(e) = self.client.error() {
            return Err(e.clone());
        }
        Ok(moved)
    }

    /// Steps until nothing moves; returns the client's error if it failed.
    pub fn drive(&mut self) -> Result<(), Error> {
        for _ in 0..MAX_STEPS {
            if !self.step()? {
                return Ok(());
            }
        }
        Err(Error::Local(LocalError::Internal(
            "the pair kept moving bytes without settling".into(),
        )))
    }

    /// Moves the simulated clock to the client's next deadline (if it has one) and feeds
    /// it a tick; returns the deadline, or the client's error (e.g. a timeout).
    pub fn advance_to_next_deadline(&mut self) -> Result<Option<Instant>, Error> {
        self.drain_client();
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        self.now = self.now.max(deadline);
        let result = self.client.handle_input(Input::Tick(self.now));
        self.drain_client();
        result.map(|()| Some(deadline))
    }

    /// Moves the simulated clock forward by `by` and feeds the client a tick.
    pub fn advance(&mut self, by: Duration) -> Result<(), Error> {
        self.now = self.now + by;
        let result = self.client.handle_input(Input::Tick(self.now));
        self.drain_client();
        result
    }

    // ----- internals -----

    fn record(&mut self, direction: u8, bytes: &[u8]) {
        let stream = usize::from(direction == b'S');
        if let Some(h) = self.wire.get_mut(stream) {
            h.update(bytes);
        }
    }

    fn drain_client(&mut self) {
        if let Some(chunk) = self.read_chunk {
            self.client.decrypt_on_read();
            let mut buf = alloc::vec![0u8; chunk.max(1)];
            // A read error stays in the client (`Client::error`), where `step` finds it.
            while let Ok(n @ 1..) = self.client.read(&mut buf) {
                self.client_received
                    .extend_from_slice(buf.get(..n).unwrap_or_default());
            }
        }
        loop {
            match self.client.poll_output() {
                Output::Transmit(b) => {
                    self.record(b'C', &b);
                    self.to_server.extend_from_slice(&b);
                }
                Output::Event(Event::Data(d)) => {
                    self.client_received.extend_from_slice(&d);
                    self.events.push(Event::Data(d));
                }
                Output::Event(e) => self.events.push(e),
                Output::Wait(deadline) => {
                    self.deadline = deadline;
                    return;
                }
            }
        }
    }

    /// Feeds the client what fits; returns whether it took any of it.
    fn deliver_to_client(&mut self) -> Result<bool, Error> {
        let bytes = core::mem::take(&mut self.to_client);
        let mut rest = &bytes[..];
        let mut took = false;
        while !rest.is_empty() {
            // What the client offers: read in place, as much as its buffer holds now.
            let room = match self.in_place {
                true => self.client.receive_buffer().len(),
                false => self.client.receive_capacity(),
            };
            let n = rest.len().min(self.fragment.max(1)).min(room);
            if n == 0 {
                // The client holds a full buffer (a client that decrypts on read and
                // has not read): the rest waits for the next step.
                self.to_client = rest.to_vec();
                return Ok(took);
            }
            took = true;
            let (chunk, tail) = rest.split_at(n);
            self.flights.push(chunk.to_vec());
            let result = if self.in_place {
                let buf = self.client.receive_buffer();
                match buf.get_mut(..n) {
                    Some(room) => {
                        room.copy_from_slice(chunk);
                        self.client.handle_input(Input::Received(self.now, n))
                    }
                    None => self.client.handle_input(Input::Receive(self.now, chunk)),
                }
            } else {
                self.client.handle_input(Input::Receive(self.now, chunk))
            };
            self.drain_client();
            result?;
            rest = tail;
        }
        Ok(took)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: Scenario) -> (Pair, Result<(), Error>) {
        let mut p = Pair::new(s).unwrap(); // ok: test code
        let _ = p.client.send(b"hi");
        let r = p.drive();
        (p, r)
    }

    #[test]
    fn every_certificate_scenario_gets_its_verdict() {
        for c in TestCertificate::ALL {
            let (_, r) = run(Scenario::new().certificate(c));
            assert_eq!(r.err().map(|e| e.code()), c.expected_code(), "{c:?}");
        }
    }

    #[test]
    fn same_scenario_same_bytes() {
        let a = run(Scenario::new()).0.wire_digest();
        let b = run(Scenario::new()).0.wire_digest();
        let c = run(Scenario::new().seed(Seed([2; 32]))).0.wire_digest();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_scripted_reply_then_close_notify() {
        let (p, r) = run(Scenario::new());
        r.unwrap(); // ok: test code
        assert_eq!(p.client_received(), b"hello from server.test");
        assert_eq!(p.server_received(), b"hi");
        assert!(p.events().contains(&Event::PeerClosed));
    }
}
