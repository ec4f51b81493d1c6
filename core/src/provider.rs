//! The default crypto provider: rustls-rustcrypto, pure Rust and identical on every
//! target, with one part swapped for faster RustCrypto releases of the same algorithms
//! (measured in BENCHMARKS.md):
//!
//! * AES-GCM records on `aes-gcm` 0.11 ([`suites`], [`gcm`]): its GHASH reduces several
//!   blocks at once, about 2.4× the speed of the `aes-gcm` 0.10 under rustls-rustcrypto.
//!
//! Key exchange, signature verification, client-certificate signing, hashes and
//! ChaCha20-Poly1305 stay rustls-rustcrypto's.

mod gcm;
mod suites;

use crate::CryptoProvider;

/// The default crypto provider: rustls-rustcrypto (pure Rust, identical on every target)
/// with AES-GCM records on `aes-gcm` 0.11, about 2.4× faster; suites, their order and the ClientHello are rustls-rustcrypto's.
pub fn default_provider() -> CryptoProvider {
    let base = rustls_rustcrypto::provider();
    CryptoProvider {
        cipher_suites: suites::with_fast_gcm(base.cipher_suites),
        ..base
    }
}
