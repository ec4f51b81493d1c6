//! # tlsferry-core
//!
//! A `no_std` + `alloc`, sans-IO TLS client: it drives rustls' unbuffered client state
//! machine over in-memory buffers. No sockets, no clock, no OS randomness of its own —
//! the driver (a blocking `TcpStream` loop, a JavaScript stream, a test) moves bytes
//! and passes the time in.
//!
//! ## The loop contract
//!
//! Inputs go in through one door ([`Client::handle_input`], plus the mutators
//! [`Client::send`] and [`Client::close`]); outputs come out of one door
//! ([`Client::poll_output`]). After every input or mutation, poll until
//! [`Output::Wait`], which says how long you may wait for transport input before
//! feeding [`Input::Tick`].
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::TcpStream;
//! use tlsferry_core::{Client, Config, Event, Input, Instant, Output};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = Config::builder() // Mozilla roots, host-name checks, TLS 1.2 + 1.3
//!         .alpn(["http/1.1"])
//!         .build()?;
//!     let mut socket = TcpStream::connect("www.example.com:443")?;
//!     let mut tls = Client::new("www.example.com", &config, Instant::now())?;
//!     tls.send(b"Hello, World!")?; // queued until the handshake completes
//!     let mut buf = vec![0u8; 16 * 1024];
//!     'io: loop {
//!         // After every input: drain the outputs until Wait.
//!         loop {
//!             match tls.poll_output() {
//!                 Output::Transmit(bytes) => socket.write_all(&bytes)?,
//!                 Output::Event(Event::Connected(info)) => {
//!                     eprintln!("{} {}", info.version, info.cipher_suite)
//!                 }
//!                 Output::Event(Event::Data(plain)) => std::io::stdout().write_all(&plain)?,
//!                 Output::Event(Event::PeerClosed) => tls.close()?,
//!                 Output::Event(Event::Closed) => break 'io,
//!                 Output::Event(_) => {}
//!                 Output::Wait(_deadline) => break, // a real driver arms a timer here
//!             }
//!         }
//!         let room = tls.receive_capacity().min(buf.len());
//!         match socket.read(&mut buf[..room])? {
//!             0 => tls.handle_input(Input::Eof(Instant::now()))?, // truncation is an error
//!             n => tls.handle_input(Input::Receive(Instant::now(), &buf[..n]))?,
//!         }
//!     }
//!     Ok(())
//! }
//! ```
//!
//! With the `std` feature (on by default) the wall clock for certificates is the system
//! clock and [`Instant::now`] reads the monotonic clock; with `default-features = false`
//! the core is `no_std` + `alloc`, and the driver passes a
//! [`TimeProvider`] to [`ConfigBuilder::time_provider`] and makes its own [`Instant`]s.
//! Two more default features can be left out to make a smaller build: `mozilla-roots`
//! (the built-in trust store; without it, [`ConfigBuilder::builtin_roots`] takes one as
//! data) and `client-auth` (client certificates: [`ConfigBuilder::client_auth_pem`]).
//!
//! Most programs use a driver instead of this loop: `tlsferry::TlsStream` (blocking) or
//! `tlsferry::tokio::TlsStream` from the `tlsferry` crate.
//!
//! ## Errors
//!
//! [`Error`] tells local misuse ([`Error::Local`]) from the peer's faults
//! ([`Error::Peer`], [`Error::Certificate`]); certificate failures explain themselves
//! ([`CertificateFailure`]) and keep the unverified chain. A transport EOF without the
//! peer's `close_notify` is [`PeerError::Truncated`], never a clean end.
//!
//! ## Memory
//!
//! [`Limits`] bound the queued plaintext ([`Client::send`] accepts fewer bytes when full)
//! and the buffered ciphertext ([`Client::receive_capacity`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

mod adapter;
pub mod cert;
mod client;
mod config;
mod error;
mod event;
mod exporter;
mod provider;
mod scope;
mod sessions;
#[cfg(feature = "testing")]
pub mod testing;
mod time;
mod verify;

pub use cert::CertSummary;
pub use client::{Client, Input};
#[cfg(feature = "mozilla-roots")]
pub use config::mozilla_roots_data;
pub use config::{
    decode_trust_anchors, encode_trust_anchors, iana_suite_name, parse_certificates,
    parse_private_key, Config, ConfigBuilder, Limits, TrustSummary, Version, DEFAULT_SESSION_CACHE,
    MIN_RECEIVE_BUFFER,
};
pub use error::{
    Alert, CertificateError, CertificateFailure, ConfigError, Error, LocalError, PeerError,
    PemInput, TimeoutPhase,
};
pub use event::{ConnectionInfo, Event, Output};
#[cfg(feature = "std")]
pub use time::SystemClock;
pub use time::{Instant, UtcTime};

/// The rustls version this core drives, and the types its API exposes.
pub use rustls;
pub use rustls::crypto::CryptoProvider;
pub use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
pub use rustls::time_provider::TimeProvider;
pub use rustls::KeyLog;

pub use provider::default_provider;
