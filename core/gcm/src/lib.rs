//! AES-GCM cipher suites for rustls on RustCrypto's `aes-gcm` 0.11: tlsferry's default
//! provider swaps them in for rustls-rustcrypto's own.
//!
//! The same suites and record construction rustls-rustcrypto ships, on the newer crate:
//! its GHASH (`polyval` 0.7) reduces several blocks at once, which makes AES-128-GCM about
//! 2.4× faster on x86-64 than the `aes-gcm` 0.10 rustls-rustcrypto is built on, and the
//! suites carry the AES-GCM confidentiality limit (BENCHMARKS.md).
//!
//! A crate of its own so that the cipher code is compiled here and nowhere else: generic
//! cipher code is compiled in the crate that names the concrete types, and tlsferry's
//! size-first wasm profile builds only this crate (with the cipher crates) for speed.
//!
//! ```
//! let suite = &tlsferry_gcm::TLS13_AES_128_GCM_SHA256;
//! assert_eq!(suite.common.suite, rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
//! assert_eq!(suite.common.confidentiality_limit, tlsferry_gcm::CONFIDENTIALITY_LIMIT);
//! assert_eq!(tlsferry_gcm::ALL.len(), 6);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;

mod record;
mod suites;

pub use suites::*;
