//! The default crypto provider: pure Rust on RustCrypto crates, identical on every target,
//! assembled here so that each part is the fastest RustCrypto release of its algorithm,
//! nothing unused is linked, and every hash, `digest` and big-integer crate is linked
//! once (measured in BENCHMARKS.md):
//!
//! * cipher suites ([`suites`]): AES-GCM (`aes-gcm` 0.11, with the AES-GCM
//!   confidentiality limit) and ChaCha20-Poly1305 (`chacha20poly1305` 0.11) with their
//!   SHA-256/384 hashes and HKDF/PRF over `hmac` 0.13, all from `tlsferry-gcm`;
//! * key exchange ([`kx`]): the post-quantum hybrid X25519MLKEM768 ([`hybrid`],
//!   ML-KEM-768 on `ml-kem` 0.3) first, with an X25519 key share beside it, then X25519,
//!   P-256 and P-384, with every secret from the provider's random source;
//! * signature verification: RSA on `rsa` 0.10 ([`rsa`], moduli up to 8192 bits), ECDSA
//!   and Ed25519 ([`ec`]) on `p256`/`p384` 0.14 and `ed25519-dalek` 3;
//! * client-certificate keys ([`keys`], with the `client-auth` feature): RSA on `rsa`
//!   0.10 (randomness from the provider's source), ECDSA (RFC 6979 nonces) and Ed25519
//!   ([`sign`]);
//! * randomness ([`random`]): the OS, through `getrandom` 0.2.
//!
//! Suites, classic groups, signature algorithms and their order are those of
//! rustls-rustcrypto 0.0.2-alpha, which the provider was first built on.

mod ec;
pub(crate) mod hybrid;
#[cfg(feature = "client-auth")]
pub(crate) mod keys;
pub(crate) mod kx;
mod p256_verify;
mod random;
mod rsa;
#[cfg(feature = "client-auth")]
mod sign;
mod suites;

use rustls::crypto::{SupportedKxGroup, WebPkiSupportedAlgorithms};
use rustls::SignatureScheme;

use crate::CryptoProvider;

/// The OS random source (getrandom).
static RANDOM: random::OsRandom = random::OsRandom;

/// X25519MLKEM768, X25519, P-256, P-384.
static GROUPS: [kx::Group; 4] = kx::groups(&RANDOM);

#[cfg(feature = "client-auth")]
static KEYS: keys::Keys = keys::Keys::new(&RANDOM);
#[cfg(not(feature = "client-auth"))]
static KEYS: NoKeys = NoKeys;

/// The key provider of a build without the `client-auth` feature: loads no key.
/// (`ConfigBuilder::build` refuses client certificates before asking it.)
#[cfg(not(feature = "client-auth"))]
#[derive(Debug)]
struct NoKeys;

#[cfg(not(feature = "client-auth"))]
impl rustls::crypto::KeyProvider for NoKeys {
    fn load_private_key(
        &self,
        _key: rustls::pki_types::PrivateKeyDer<'static>,
    ) -> Result<alloc::sync::Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        Err(rustls::Error::General(crate::config::NO_CLIENT_AUTH.into()))
    }
}

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

/// The default crypto provider: pure Rust on RustCrypto crates, identical on every target.
/// Key exchange offers the post-quantum hybrid X25519MLKEM768 first (with an X25519 key
/// share beside it), then X25519, P-256 and P-384; the suites, signature algorithms and
/// classic groups are rustls-rustcrypto 0.0.2-alpha's, in its order. Key-exchange secrets
/// and RSA blinding come from the provider's random source.
pub fn default_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: suites::ALL.to_vec(),
        kx_groups: GROUPS
            .iter()
            .map(|g| g as &'static dyn SupportedKxGroup)
            .collect(),
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
    fn hybrid_first_then_rustls_rustcrypto_groups_and_algorithms_in_its_order() {
        let base = rustls_rustcrypto::provider();
        let ours = default_provider();
        let names = |p: &CryptoProvider| p.kx_groups.iter().map(|g| g.name()).collect::<Vec<_>>();
        let mut expect = names(&base);
        expect.insert(0, rustls::NamedGroup::X25519MLKEM768);
        assert_eq!(names(&ours), expect);

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
