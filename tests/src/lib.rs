//! Shared helpers for tlsferry's integration tests: a test PKI generated at test time,
//! an in-memory client↔server pair, and real servers on 127.0.0.1.
#![allow(
    missing_docs,
    missing_debug_implementations,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod counting;
pub mod pair;
pub mod rawserver;
pub mod servers;
pub use tlsferry_cli::pki;

/// The README's Rust examples, compiled (not run: they need the internet) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The crate READMEs' examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../core/README.md")]
pub struct CoreReadmeDoctests;

/// The `tlsferry` crate README's example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../native/README.md")]
pub struct NativeReadmeDoctests;
