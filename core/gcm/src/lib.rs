//! The cipher suites of tlsferry's default provider for rustls: AES-GCM on RustCrypto's
//! `aes-gcm` 0.11 and ChaCha20-Poly1305 on `chacha20poly1305` 0.11, with their SHA-256/384
//! transcript hashes and HKDF/PRF over `hmac` 0.13 (rustls' `HkdfUsingHmac` and
//! `PrfUsingHmac` adapters). The crate's name is from when it held AES-GCM alone.
//!
//! The suites, their order and their names are those of rustls-rustcrypto 0.0.2-alpha,
//! which tlsferry's provider was first built on. The AES-GCM behind them depends on the
//! target ([`Aes128Gcm`], [`Aes256Gcm`]):
//!
//! - **x86-64**: `aes` (AES-NI or VAES) in counter mode with a GHASH of this crate on
//!   PCLMULQDQ, eight blocks per reduction, or on 512-bit VPCLMULQDQ where the CPU has
//!   AVX-512, sixteen blocks per reduction; detected at run time, with the `ghash`
//!   crate's on CPUs without PCLMULQDQ. Faster than `aes-gcm` 0.11 opening records
//!   (`core_overhead` measures both side by side; BENCHMARKS.md).
//! - **wasm32 with `simd128`**: a bit-sliced AES and a GHASH on byte shuffles of this
//!   crate, constant-time without AES or carry-less multiplication instructions.
//! - **elsewhere**: `aes-gcm` 0.11.
//!
//! Every one is cross-checked against `aes-gcm` and published vectors in the tests, and
//! the AES-GCM suites carry the AES-GCM confidentiality limit. Figures: BENCHMARKS.md.
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
// The one exception: `x86_64::clmul` calls its PCLMULQDQ / VPCLMULQDQ functions after
// run-time detection and loads 64-byte vectors; each `unsafe` block says why it is sound.
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;

mod chacha;
#[cfg(any(
    test,
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
))]
mod gcm_tag;
mod hash;
mod hmac;
mod record;
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd;
mod suites;
#[cfg(target_arch = "x86_64")]
mod x86_64;

pub use suites::*;

// The AES-GCM behind the suites, per target (crate docs above).
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
pub use aes_gcm::{Aes128Gcm, Aes256Gcm};
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::gcm::{Aes128Gcm, Aes256Gcm};
#[cfg(target_arch = "x86_64")]
pub use x86_64::gcm::{Aes128Gcm, Aes256Gcm};
