//! Shared helpers for tlsferry's integration tests: a test PKI generated at test time,
//! an in-memory client↔server pair, and real servers on 127.0.0.1.
#![allow(
    missing_docs,
    missing_debug_implementations,
    clippy::unwrap_used,
    clippy::expect_used
)]

pub mod pair;
pub mod rawserver;
pub mod servers;
pub use tlsferry_cli::pki;

/// The README's Rust examples, compiled (not run: they need the internet) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
