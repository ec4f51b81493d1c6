//! The default crypto provider: rustls-rustcrypto's algorithms, pure Rust and identical on
//! every target, assembled here so that each part is the fastest RustCrypto release of
//! its algorithm and nothing unused is linked (measured in BENCHMARKS.md):
//!
//! * cipher suites ([`suites`]): rustls-rustcrypto's ChaCha20-Poly1305, and AES-GCM
//!   from `tlsferry-gcm` on `aes-gcm` 0.11, whose GHASH is about 2.4× faster than the
//!   0.10 under rustls-rustcrypto, with the AES-GCM confidentiality limit;
//! * key exchange ([`kx`]): X25519, P-256, P-384, with secrets from the provider's
//!   random source instead of a direct OS RNG read;
//! * signature verification: RSA on `rsa` 0.10 ([`rsa`], about 4.7× faster per
//!   RSA-2048 verification than `rsa` 0.9, moduli up to 8192 bits), ECDSA and Ed25519
//!   ([`ec`]) on the crates rustls-rustcrypto uses;
//! * client-certificate keys ([`keys`]): RSA on `rsa` 0.10 (randomness from the
//!   provider's source), ECDSA and Ed25519 with rustls-rustcrypto's signers;
//! * randomness: rustls-rustcrypto's (getrandom).
//!
//! Suites, groups, algorithms and their order are rustls-rustcrypto's, so the
//! ClientHello is too.

mod ec;
pub(crate) mod keys;
pub(crate) mod kx;
mod rsa;
mod suites;

use rustls::crypto::{SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::SignatureScheme;

use crate::CryptoProvider;
use kx::{Curve, Group};

/// rustls-rustcrypto's OS random source (getrandom).
static RANDOM: rustls_rustcrypto::Provider = rustls_rustcrypto::Provider;

static X25519: Group = Group::new(Curve::X25519, &RANDOM);
static SECP256R1: Group = Group::new(Curve::P256, &RANDOM);
static SECP384R1: Group = Group::new(Curve::P384, &RANDOM);

static KEYS: keys::Keys = keys::Keys::new(&RANDOM);

/// Signature algorithms for certificates and handshake signatures, and the ones each
/// TLS signature scheme may use (an ECDSA scheme names the hash, and either curve).
static ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        &ec::ECDSA_P256_SHA256,
        &ec::ECDSA_P256_SHA384,
        &ec::ECDSA_P384_SHA256,
        &ec::ECDSA_P384_SHA384,
        &ec::Ed25519,
        &rsa::PKCS1_SHA256,
        &rsa::PKCS1_SHA384,
        &rsa::PKCS1_SHA512,
        &rsa::PSS_SHA256,
        &rsa::PSS_SHA384,
        &rsa::PSS_SHA512,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[&ec::ECDSA_P384_SHA384, &ec::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[&ec::ECDSA_P256_SHA256, &ec::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[&ec::Ed25519]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[&rsa::PKCS1_SHA256]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[&rsa::PKCS1_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[&rsa::PKCS1_SHA512]),
        (SignatureScheme::RSA_PSS_SHA256, &[&rsa::PSS_SHA256]),
        (SignatureScheme::RSA_PSS_SHA384, &[&rsa::PSS_SHA384]),
        (SignatureScheme::RSA_PSS_SHA512, &[&rsa::PSS_SHA512]),
    ],
};

/// The default crypto provider: rustls-rustcrypto's suites, groups and algorithms (pure
/// Rust, identical on every target), with AES-GCM on `aes-gcm` 0.11 and RSA
/// verification and signing on `rsa` 0.10, several times faster; key-exchange secrets and
/// RSA blinding come from the provider's random source.
pub fn default_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: suites::ALL.to_vec(),
        kx_groups: [&X25519, &SECP256R1, &SECP384R1]
            .map(|g| g as &'static dyn SupportedKxGroup)
            .to_vec(),
        signature_verification_algorithms: ALGORITHMS,
        secure_random: &RANDOM,
        key_provider: &KEYS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rustls::pki_types::SignatureVerificationAlgorithm as Algorithm;

    fn ids(algs: &[&dyn Algorithm]) -> Vec<(Vec<u8>, Vec<u8>)> {
        algs.iter()
            .map(|a| {
                let (k, s) = (a.public_key_alg_id(), a.signature_alg_id());
                (k.as_ref().to_vec(), s.as_ref().to_vec())
            })
            .collect()
    }

    #[test]
    fn same_groups_and_algorithms_as_rustls_rustcrypto_in_the_same_order() {
        let base = rustls_rustcrypto::provider();
        let ours = default_provider();
        let names = |p: &CryptoProvider| p.kx_groups.iter().map(|g| g.name()).collect::<Vec<_>>();
        assert_eq!(names(&ours), names(&base));
        let (a, b) = (
            ours.signature_verification_algorithms,
            base.signature_verification_algorithms,
        );
        assert_eq!(ids(a.all), ids(b.all));
        assert_eq!(a.mapping.len(), b.mapping.len());
        for ((scheme, algs), (base_scheme, base_algs)) in a.mapping.iter().zip(b.mapping) {
            assert_eq!(scheme, base_scheme);
            assert_eq!(ids(algs), ids(base_algs), "{scheme:?}");
        }
        assert!(ours.fips() == base.fips());
    }
}
