//! # tlsferry
//!
//! A blocking TLS client over any `Read + Write` stream, driven by the sans-IO
//! [`tlsferry_core`], and the `tlsferry` command-line tool.
//!
//! - [`connect()`]: TCP, then a verified handshake (Mozilla roots and host-name checks by
//!   default, like Python's `ssl.create_default_context()`), with timeouts.
//! - [`TlsStream`]: `Read + Write` plaintext over any transport; `Ok(0)` only after the
//!   peer's `close_notify`, truncation is an error. [`Error`] tells resolution, TCP,
//!   transport and TLS failures apart.
//! - [`KeyLogFile`] (NSS key log), [`demo_server`] (the offline demo's server),
//!   [`pki`] (throw-away certificates), [`cli`] (the command line).
//!
//! The seed's exchange:
//!
//! ```no_run
//! use std::io::{Read, Write};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = tlsferry::config_builder().build()?;
//! let opts = tlsferry::ConnectOptions::default();
//! let mut tls = tlsferry::connect("www.example.com:443", "www.example.com", &config, &opts)?;
//! tls.write_all(b"Hello, World!")?;
//! let mut reply = Vec::new();
//! tls.read_to_end(&mut reply)?; // Err if the server hangs up without close_notify
//! print!("{}", String::from_utf8_lossy(&reply));
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bridge;
pub mod cli;
pub mod clock;
pub mod connect;
pub mod demo_server;
pub mod keylog;
pub mod pki;
pub mod record;
pub mod stream;
pub mod webdemo;

pub use clock::{FixedClock, SystemClock};
pub use connect::{connect, connect_tcp, ConnectOptions, Error};
pub use keylog::KeyLogFile;
pub use stream::{Stats, Tap, TlsStream, Transport};
pub use tlsferry_core as core;

/// A [`tlsferry_core::ConfigBuilder`] with the system wall clock and this build's crypto
/// provider ([`provider_name`]) set: Mozilla roots, host-name checks, TLS 1.2 and 1.3.
pub fn config_builder() -> tlsferry_core::ConfigBuilder {
    tlsferry_core::Config::builder()
        .time_provider(std::sync::Arc::new(SystemClock))
        .crypto_provider(std::sync::Arc::new(provider()))
}

/// The crypto provider of this build: rustls-rustcrypto (pure Rust, the default) or,
/// with the `aws-lc-rs` cargo feature, rustls' aws-lc-rs provider.
pub fn provider() -> tlsferry_core::CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    return rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "aws-lc-rs"))]
    tlsferry_core::default_provider()
}

/// The name of [`provider`]'s implementation, for reports: `rustls-rustcrypto` or `aws-lc-rs`.
pub fn provider_name() -> &'static str {
    if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "rustls-rustcrypto"
    }
}
