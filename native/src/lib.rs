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

/// A [`tlsferry_core::ConfigBuilder`] with the system wall clock set: Mozilla roots,
/// host-name checks, TLS 1.2 and 1.3.
pub fn config_builder() -> tlsferry_core::ConfigBuilder {
    tlsferry_core::Config::builder().time_provider(std::sync::Arc::new(SystemClock))
}
