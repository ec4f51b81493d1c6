//! # tlsferry
//!
//! A blocking TLS client over any `Read + Write` stream, driven by the sans-IO
//! [`tlsferry_core`], and the `tlsferry` command-line tool.
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
