//! # tlsferry-wasm
//!
//! WebAssembly bindings of [`tlsferry_core`]: the sans-IO TLS client as a JavaScript class
//! ([`TlsClient`]). The Web Streams API (`connect()`, `webSocketTransport()`) is plain
//! JavaScript on top of it, in `wasm/js/`; this crate only moves bytes and events across
//! the boundary.
//!
//! - Randomness: getrandom's `js` backend (`crypto.getRandomValues`).
//! - Certificate time: JavaScript's `Date.now()` ([`clock::JsClock`]).
//! - Cipher suites: ChaCha20-Poly1305 first (about 6× faster than AES-GCM without AES
//!   instructions), AES-GCM after ([`options::wasm_cipher_suite_order`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod convert;
pub mod keylog;
pub mod options;
#[cfg(feature = "replay")]
pub mod replay;

pub use client::TlsClient;
