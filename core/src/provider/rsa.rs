//! RSA signatures (PKCS#1 v1.5 and PSS, SHA-256/384/512) on `rsa` 0.10: verification,
//! whose constant-time `crypto-bigint` arithmetic checks an RSA-2048 signature in about a
//! fifth of the time `rsa` 0.9 (`num-bigint-dig`) needs, and signing for client keys
//! ([`super::keys`]). Moduli of 2048 to 8192 bits are verified, as webpki's *ring*
//! algorithms do; exponents up to 2^33 − 1 (`rsa`'s RSADoS bound).

#[cfg(feature = "client-auth")]
use alloc::vec::Vec;

use ::rsa::pss::Pss;
#[cfg(feature = "client-auth")]
use ::rsa::rand_core::TryCryptoRng;
#[cfg(feature = "client-auth")]
use ::rsa::PrivateKey;
use ::rsa::{BoxedUint, Pkcs1v15Sign, PublicKey};
use pkcs1::der::Decode;
use rustls::pki_types::SignatureVerificationAlgorithm as Algorithm;
use rustls::pki_types::{alg_id, AlgorithmIdentifier, InvalidSignature};
use rustls::SignatureScheme;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// Smallest and largest modulus verified, in bits (webpki's `RSA_*_2048_8192_*`).
const MODULUS_BITS: core::ops::RangeInclusive<usize> = 2048..=8192;

/// The padding of one algorithm.
#[derive(Clone, Copy, Debug)]
enum Padding {
    Pkcs1,
    Pss,
}

/// The hash of one algorithm.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// One RSA signature algorithm, as webpki and rustls look it up, and the TLS scheme that
/// names it.
#[derive(Debug)]
pub(super) struct Rsa {
    padding: Padding,
    hash: Hash,
    signature_alg_id: AlgorithmIdentifier,
    /// Read when a client key signs (the `client-auth` feature).
    #[cfg_attr(not(feature = "client-auth"), allow(dead_code))]
    scheme: SignatureScheme,
}

pub(super) static PKCS1_SHA256: Rsa = Rsa::new(
    Padding::Pkcs1,
    Hash::Sha256,
    alg_id::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA256,
);
pub(super) static PKCS1_SHA384: Rsa = Rsa::new(
    Padding::Pkcs1,
    Hash::Sha384,
    alg_id::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA384,
);
pub(super) static PKCS1_SHA512: Rsa = Rsa::new(
    Padding::Pkcs1,
    Hash::Sha512,
    alg_id::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PKCS1_SHA512,
);
pub(super) static PSS_SHA256: Rsa = Rsa::new(
    Padding::Pss,
    Hash::Sha256,
    alg_id::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA256,
);
pub(super) static PSS_SHA384: Rsa = Rsa::new(
    Padding::Pss,
    Hash::Sha384,
    alg_id::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA384,
);
pub(super) static PSS_SHA512: Rsa = Rsa::new(
    Padding::Pss,
    Hash::Sha512,
    alg_id::RSA_PSS_SHA512,
    SignatureScheme::RSA_PSS_SHA512,
);

#[cfg(feature = "client-auth")]
/// Every algorithm, in the order a client key prefers to sign with them: PSS first, the
/// larger hash first.
pub(super) static SIGNING_ORDER: [&Rsa; 6] = [
    &PSS_SHA512,
    &PSS_SHA384,
    &PSS_SHA256,
    &PKCS1_SHA512,
    &PKCS1_SHA384,
    &PKCS1_SHA256,
];

impl Rsa {
    const fn new(
        padding: Padding,
        hash: Hash,
        signature_alg_id: AlgorithmIdentifier,
        scheme: SignatureScheme,
    ) -> Self {
        Rsa {
            padding,
            hash,
            signature_alg_id,
            scheme,
        }
    }

    /// The TLS signature scheme of this algorithm.
    #[cfg(feature = "client-auth")]
    pub(super) fn scheme(&self) -> SignatureScheme {
        self.scheme
    }

    #[cfg(feature = "client-auth")]
    /// Signs `message` with `key`; `rng` blinds the private-key operation and draws PSS
    /// salts (as long as the hash: RFC 8446 §4.2.3, `Pss::new`).
    pub(super) fn sign<R: TryCryptoRng + ?Sized>(
        &self,
        key: &PrivateKey,
        rng: &mut R,
        message: &[u8],
    ) -> ::rsa::Result<Vec<u8>> {
        match (self.padding, self.hash) {
            (Padding::Pkcs1, Hash::Sha256) => sign_pkcs1::<Sha256, R>(key, rng, message),
            (Padding::Pkcs1, Hash::Sha384) => sign_pkcs1::<Sha384, R>(key, rng, message),
            (Padding::Pkcs1, Hash::Sha512) => sign_pkcs1::<Sha512, R>(key, rng, message),
            (Padding::Pss, Hash::Sha256) => sign_pss::<Sha256, R>(key, rng, message),
            (Padding::Pss, Hash::Sha384) => sign_pss::<Sha384, R>(key, rng, message),
            (Padding::Pss, Hash::Sha512) => sign_pss::<Sha512, R>(key, rng, message),
        }
    }
}

impl Algorithm for Rsa {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.signature_alg_id
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let key = public_key_from_pkcs1(public_key).ok_or(InvalidSignature)?;
        let verified = match (self.padding, self.hash) {
            (Padding::Pkcs1, Hash::Sha256) => pkcs1::<Sha256>(&key, message, signature),
            (Padding::Pkcs1, Hash::Sha384) => pkcs1::<Sha384>(&key, message, signature),
            (Padding::Pkcs1, Hash::Sha512) => pkcs1::<Sha512>(&key, message, signature),
            // The salt is as long as the hash (RFC 8446 §4.2.3; `Pss::new`).
            (Padding::Pss, Hash::Sha256) => pss::<Sha256>(&key, message, signature),
            (Padding::Pss, Hash::Sha384) => pss::<Sha384>(&key, message, signature),
            (Padding::Pss, Hash::Sha512) => pss::<Sha512>(&key, message, signature),
        };
        verified.map_err(|_| InvalidSignature)
    }
}

fn pkcs1<D>(key: &PublicKey, message: &[u8], signature: &[u8]) -> ::rsa::Result<()>
where
    D: Digest + sha2::digest::const_oid::AssociatedOid,
{
    key.verify(Pkcs1v15Sign::new::<D>(), &D::digest(message), signature)
}

fn pss<D>(key: &PublicKey, message: &[u8], signature: &[u8]) -> ::rsa::Result<()>
where
    D: Digest + sha2::digest::FixedOutputReset,
{
    key.verify(Pss::<D>::new(), &D::digest(message), signature)
}

#[cfg(feature = "client-auth")]
fn sign_pkcs1<D, R>(key: &PrivateKey, rng: &mut R, message: &[u8]) -> ::rsa::Result<Vec<u8>>
where
    D: Digest + sha2::digest::const_oid::AssociatedOid,
    R: TryCryptoRng + ?Sized,
{
    key.sign_with_rng(rng, Pkcs1v15Sign::new::<D>(), &D::digest(message))
}

#[cfg(feature = "client-auth")]
fn sign_pss<D, R>(key: &PrivateKey, rng: &mut R, message: &[u8]) -> ::rsa::Result<Vec<u8>>
where
    D: Digest + sha2::digest::FixedOutputReset,
    R: TryCryptoRng + ?Sized,
{
    key.sign_with_rng(rng, Pss::<D>::new(), &D::digest(message))
}

/// A PKCS#1 `RSAPublicKey` (what webpki passes: the SPKI's bit string) as a key, if it
/// decodes and its size and exponent are acceptable.
fn public_key_from_pkcs1(der: &[u8]) -> Option<PublicKey> {
    let key = pkcs1::RsaPublicKeyRef::from_der(der).ok()?;
    let n = BoxedUint::from_be_slice_vartime(key.modulus.as_bytes());
    let e = BoxedUint::from_be_slice_vartime(key.public_exponent.as_bytes());
    PublicKey::new_with_size_limits(n, e, MODULUS_BITS).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    // Test-only keys, made with `openssl genpkey` for these tests.
    const KEY_1024: &[u8] = include_bytes!("testdata/rsa1024.pk8.der");
    const PUB_1024: &[u8] = include_bytes!("testdata/rsa1024.pub.der");
    const KEY_2048: &[u8] = include_bytes!("testdata/rsa2048.pk8.der");
    const PUB_2048: &[u8] = include_bytes!("testdata/rsa2048.pub.der");
    const KEY_4096: &[u8] = include_bytes!("testdata/rsa4096.pk8.der");
    const PUB_4096: &[u8] = include_bytes!("testdata/rsa4096.pub.der");

    /// Every algorithm with its scheme.
    fn schemes() -> impl Iterator<Item = (SignatureScheme, &'static Rsa)> {
        SIGNING_ORDER.into_iter().map(|alg| (alg.scheme(), alg))
    }

    /// Signs with rustls-rustcrypto (`rsa` 0.9): an independent implementation.
    fn sign(key: &[u8], scheme: SignatureScheme, message: &[u8]) -> Vec<u8> {
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
        let key = rustls_rustcrypto::provider()
            .key_provider
            .load_private_key(der)
            .unwrap(); // ok: test code
        let signer = key.choose_scheme(&[scheme]).expect("scheme offered"); // ok: test code
        signer.sign(message).unwrap() // ok: test code
    }

    #[test]
    fn verifies_what_rustls_rustcrypto_signs_and_nothing_else() {
        let message = b"tlsferry CertificateVerify content";
        for (key, public) in [(KEY_2048, PUB_2048), (KEY_4096, PUB_4096)] {
            for (scheme, alg) in schemes() {
                let sig = sign(key, scheme, message);
                let verdict = alg.verify_signature(public, message, &sig);
                assert!(verdict.is_ok(), "{scheme:?}");
                let mut bad = sig.clone();
                bad[7] ^= 0x80;
                assert!(
                    alg.verify_signature(public, message, &bad).is_err(),
                    "{scheme:?}"
                );
                let other = b"tlsferry CertificateVerify contenT";
                assert!(
                    alg.verify_signature(public, other, &sig).is_err(),
                    "{scheme:?}"
                );
                assert!(alg.verify_signature(public, message, &sig[1..]).is_err());
            }
        }
        // A signature made with one hash or padding does not pass as another.
        let sig = sign(KEY_2048, SignatureScheme::RSA_PSS_SHA256, message);
        for (scheme, alg) in schemes() {
            let verdict = alg.verify_signature(PUB_2048, message, &sig);
            assert_eq!(
                verdict.is_ok(),
                scheme == SignatureScheme::RSA_PSS_SHA256,
                "{scheme:?}"
            );
        }
    }

    #[test]
    fn keys_under_2048_bits_and_garbage_keys_are_refused() {
        let message = b"m";
        let sig = sign(KEY_1024, SignatureScheme::RSA_PKCS1_SHA256, message);
        assert!(PKCS1_SHA256
            .verify_signature(PUB_1024, message, &sig)
            .is_err());
        let sig = sign(KEY_2048, SignatureScheme::RSA_PKCS1_SHA256, message);
        for public in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x01",
            &PUB_2048[..200],
            KEY_2048,
        ] {
            assert!(PKCS1_SHA256
                .verify_signature(public, message, &sig)
                .is_err());
        }
        // Every truncation of a real key, and every single-byte change: an error or (for
        // bytes that do not matter to the key) a verdict, never a panic.
        for len in 0..PUB_2048.len() {
            assert!(PKCS1_SHA256
                .verify_signature(&PUB_2048[..len], message, &sig)
                .is_err());
        }
        for i in 0..PUB_2048.len() {
            let mut key = PUB_2048.to_vec();
            key[i] ^= 0x55;
            let _ = PKCS1_SHA256.verify_signature(&key, message, &sig);
        }
    }
}
