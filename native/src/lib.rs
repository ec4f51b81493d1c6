//! # tlsferry
//!
//! A TLS client for Rust programs, driven by the sans-IO [`tlsferry_core`]: secure by
//! default (Mozilla's roots, host-name checks, TLS 1.2 and 1.3, like Python's
//! `ssl.create_default_context()`), pure Rust, with errors that say what went wrong.
//!
//! - [`connect()`]: TCP, then a verified handshake, with timeouts.
//! - [`TlsStream`]: blocking `Read + Write` plaintext over any `Read + Write` transport.
//!   `Ok(0)` only after the peer's `close_notify`: truncation is an error.
//! - [`tokio`] (cargo feature `tokio`): the same as `AsyncRead + AsyncWrite`, and
//!   `tokio::connect(addr, server_name, &config).await`.
//! - [`Error`]: one error type for everything here, so `?` works throughout; TLS
//!   failures carry a typed [`TlsError`] with a stable [`code()`](TlsError::code).
//! - [`KeyLogFile`]: NSS key log for Wireshark.
//!
//! The seed's exchange:
//!
//! ```no_run
//! use std::io::{Read, Write};
//!
//! fn main() -> Result<(), tlsferry::Error> {
//!     let config = tlsferry::Config::builder().build()?;
//!     let mut tls = tlsferry::connect("www.example.com:443", "www.example.com", &config)?;
//!     tls.write_all(b"Hello, World!")?;
//!     let mut reply = Vec::new();
//!     tls.read_to_end(&mut reply)?; // Err if the server hangs up without close_notify
//!     print!("{}", String::from_utf8_lossy(&reply));
//!     Ok(())
//! }
//! ```
//!
//! For deterministic tests without sockets, see `tlsferry_core::testing::Pair` (the
//! `testing` feature of `tlsferry-core`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connect;
mod error;
pub mod keylog;
mod pump;
pub mod stream;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub use connect::{check_server_name, connect, connect_tcp, connect_with, ConnectOptions};
pub use error::Error;
pub use keylog::KeyLogFile;
pub use stream::{tls_error, Stats, Tap, TlsStream, Transport};

/// The TLS error inside [`Error::Tls`]: certificate, protocol, truncation, timeout,
/// configuration (the core's `tlsferry_core::Error`).
pub use tlsferry_core::Error as TlsError;
pub use tlsferry_core::{
    CertSummary, CertificateError, CertificateFailure, Config, ConfigBuilder, ConfigError,
    ConnectionInfo, Limits, LocalError, PeerError, PemInput, TimeoutPhase, TrustSummary, Version,
};

/// The crypto provider of this build: the pure-Rust default (RustCrypto) or, with the
/// `aws-lc-rs` cargo feature, rustls' aws-lc-rs provider. Pass it to
/// [`ConfigBuilder::crypto_provider`]; [`Config::builder`] uses the pure-Rust one.
pub fn provider() -> tlsferry_core::CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    tlsferry_core::default_provider()
}

/// The name of [`provider`]'s implementation, for reports: `tlsferry pure-Rust provider
/// (RustCrypto)` or `aws-lc-rs`.
pub fn provider_name() -> &'static str {
    if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "tlsferry pure-Rust provider (RustCrypto)"
    }
}
