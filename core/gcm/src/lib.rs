//! The cipher suites of tlsferry's default provider for rustls: AES-GCM on RustCrypto's
//! `aes-gcm` 0.11 and ChaCha20-Poly1305 on `chacha20poly1305` 0.11, with their SHA-256/384
//! transcript hashes and HKDF/PRF over `hmac` 0.13 (rustls' `HkdfUsingHmac` and
//! `PrfUsingHmac` adapters). The crate's name is from when it held AES-GCM alone.
//!
//! The suites, their order and their names are those of rustls-rustcrypto 0.0.2-alpha,
//! which tlsferry's provider was first built on. AES-GCM's GHASH (`polyval` 0.7) reduces
//! several blocks at once, which makes AES-128-GCM about 2.4× faster on x86-64 than the
//! `aes-gcm` 0.10 rustls-rustcrypto is built on, and the AES-GCM suites carry the AES-GCM
//! confidentiality limit (BENCHMARKS.md).
//!
//! A crate of its own so that the cipher code is compiled here and nowhere else: generic
//! cipher code is compiled in the crate that names the concrete types, and tlsferry's
//! size-first wasm profile builds only this crate (with the cipher crates) for speed.
//!
//! ```
//! let suite = &tlsferry_gcm::TLS13_AES_128_GCM_SHA256;
//! assert_eq!(suite.common.suite, rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
//! assert_eq!(suite.common.confidentiality_limit, tlsferry_gcm::CONFIDENTIALITY_LIMIT);
//! assert_eq!(tlsferry_gcm::AES_GCM.len(), 6);
//! assert_eq!(tlsferry_gcm::ALL.len(), 9);
//! ```

#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;

mod chacha;
mod hash;
mod hmac;
mod record;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd;
mod suites;

pub use suites::*;
