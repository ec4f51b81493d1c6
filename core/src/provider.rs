//! The default crypto provider: rustls-rustcrypto, pure Rust and identical on every
//! target, with two parts swapped for faster RustCrypto releases of the same algorithms
//! (measured in BENCHMARKS.md):
//!
//! * AES-GCM records on `aes-gcm` 0.11 ([`suites`], `tlsferry-gcm`): its GHASH reduces several
//!   blocks at once, about 2.4× the speed of the `aes-gcm` 0.10 under rustls-rustcrypto.
//! * RSA signature verification on `rsa` 0.10 ([`rsa`]): about 4.7× faster per RSA-2048
//!   verification than `rsa` 0.9's, and moduli up to 8192 bits instead of 4096.
//!
//! Key exchange, ECDSA/Ed25519 verification, client-certificate signing, hashes and
//! ChaCha20-Poly1305 stay rustls-rustcrypto's.

mod rsa;
mod suites;

use crate::CryptoProvider;

/// The default crypto provider: rustls-rustcrypto (pure Rust, identical on every target)
/// with AES-GCM records on `aes-gcm` 0.11 and RSA signatures verified by `rsa` 0.10, both
/// several times faster; suites, their order and the ClientHello are rustls-rustcrypto's.
pub fn default_provider() -> CryptoProvider {
    let base = rustls_rustcrypto::provider();
    CryptoProvider {
        cipher_suites: suites::with_fast_gcm(base.cipher_suites),
        signature_verification_algorithms: rsa::with_fast_rsa(
            base.signature_verification_algorithms,
        ),
        ..base
    }
}
