//! What comes out of the core: [`Output`] (transmit, event, wait) and [`Event`].

use alloc::string::String;
use alloc::vec::Vec;

use rustls::pki_types::CertificateDer;

use crate::cert::CertSummary;
use crate::config::Version;
use crate::time::Instant;

/// The one output door of [`Client::poll_output`](crate::Client::poll_output).
#[derive(Debug, PartialEq)]
#[must_use]
pub enum Output {
    /// Ciphertext to write to the transport, in order.
    Transmit(Vec<u8>),
    /// Something happened.
    Event(Event),
    /// Nothing more to do: wait for transport input, or until the deadline
    /// (then feed [`Input::Tick`](crate::Input::Tick)). `None`: no deadline.
    Wait(Option<Instant>),
}

/// Events, in the order they happen.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake completed and the server was verified (unless configured dangerously).
    Connected(ConnectionInfo),
    /// Application data from the peer.
    Data(Vec<u8>),
    /// The peer sent `close_notify`: no more data will arrive. Sending is still possible;
    /// call [`Client::close`](crate::Client::close) to finish.
    PeerClosed,
    /// Both directions are closed (each side sent `close_notify`, or the peer's
    /// `close_notify` was followed by end of stream). Nothing more will happen.
    Closed,
}

/// What the handshake negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Protocol version.
    pub version: Version,
    /// Cipher suite, by IANA name (e.g. `TLS_AES_128_GCM_SHA256`).
    pub cipher_suite: String,
    /// Key-exchange group (e.g. `X25519`), if known.
    pub key_exchange_group: Option<String>,
    /// The ALPN protocol the server chose, if any.
    pub alpn: Option<Vec<u8>>,
    /// True if this connection resumed an earlier session (no certificate was sent; the
    /// chain below is the one verified when the session was made).
    pub resumed: bool,
    /// The server name asked for.
    pub server_name: String,
    /// The server's chain as sent, leaf first, DER.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// False when verification was dangerously disabled.
    pub verified: bool,
}

impl ConnectionInfo {
    /// Summaries of the peer chain (subject, issuer, names, validity, SHA-256).
    pub fn chain_summary(&self) -> Vec<CertSummary> {
        CertSummary::chain(&self.peer_certificates)
    }

    /// The ALPN protocol as text, if it is UTF-8.
    pub fn alpn_str(&self) -> Option<&str> {
        self.alpn
            .as_deref()
            .and_then(|a| core::str::from_utf8(a).ok())
    }
}
