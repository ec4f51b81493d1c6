//! # tlsferry-wasm
//!
//! WebAssembly bindings of [`tlsferry_core`]: the sans-IO TLS client as a JavaScript class
//! ([`TlsClient`]). The Web Streams API (`connect()`, `webSocketTransport()`) is plain
//! JavaScript on top of it, in `wasm/js/`; this crate only moves bytes and events across
//! the boundary.
//!
//! - Randomness: getrandom's `js` backend (`crypto.getRandomValues`).
//! - Certificate time: JavaScript's wall clock, `Date.now()` ([`clock::JsClock`]);
//!   handshake and idle timers: the monotonic `performance.timeOrigin + performance.now()`
//!   ([`clock::now`]), so that a wall-clock step moves no timer.
//! - Cipher suites: ChaCha20-Poly1305 first (wasm has no AES instructions, so it is the
//!   faster one there; `BENCHMARKS.md` has the figures), AES-GCM after
//!   ([`options::wasm_cipher_suite_order`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod clock;
pub mod convert;
pub mod keylog;
pub mod options;
#[cfg(feature = "replay")]
pub mod replay;
pub mod roots;
pub mod verify;

pub use client::TlsClient;
