//! Elliptic-curve signature verification for certificates and CertificateVerify: ECDSA on
//! P-256 and P-384 with SHA-256 or SHA-384 (either curve with either hash, as webpki
//! allows), and Ed25519. The same algorithms as rustls-rustcrypto's, on the same crates,
//! except that P-256 signatures are verified by `p256_verify` (2.1× the verifications per
//! second of `p256` 0.14 natively, BENCHMARKS.md; `p256` still decodes and range-checks).

use rustls::pki_types::SignatureVerificationAlgorithm as Algorithm;
use rustls::pki_types::{alg_id, AlgorithmIdentifier, InvalidSignature};
use sha2::{Digest, Sha256, Sha384};

/// The curve of an ECDSA key.
#[derive(Clone, Copy, Debug)]
enum Curve {
    P256,
    P384,
}

/// The hash an ECDSA signature covers.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha256,
    Sha384,
}

/// One ECDSA algorithm (curve and hash).
#[derive(Debug)]
pub(super) struct Ecdsa {
    curve: Curve,
    hash: Hash,
}

pub(super) static ECDSA_P256_SHA256: Ecdsa = Ecdsa::new(Curve::P256, Hash::Sha256);
pub(super) static ECDSA_P256_SHA384: Ecdsa = Ecdsa::new(Curve::P256, Hash::Sha384);
pub(super) static ECDSA_P384_SHA256: Ecdsa = Ecdsa::new(Curve::P384, Hash::Sha256);
pub(super) static ECDSA_P384_SHA384: Ecdsa = Ecdsa::new(Curve::P384, Hash::Sha384);

impl Ecdsa {
    const fn new(curve: Curve, hash: Hash) -> Self {
        Ecdsa { curve, hash }
    }
}

impl Algorithm for Ecdsa {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        match self.curve {
            Curve::P256 => alg_id::ECDSA_P256,
            Curve::P384 => alg_id::ECDSA_P384,
        }
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        match self.hash {
            Hash::Sha256 => alg_id::ECDSA_SHA256,
            Hash::Sha384 => alg_id::ECDSA_SHA384,
        }
    }

    /// `public_key` is the SEC1 point, `signature` the DER `Ecdsa-Sig-Value`.
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        let sha256;
        let sha384;
        let digest: &[u8] = match self.hash {
            Hash::Sha256 => {
                sha256 = Sha256::digest(message);
                &sha256
            }
            Hash::Sha384 => {
                sha384 = Sha384::digest(message);
                &sha384
            }
        };
        let verified = match self.curve {
            Curve::P256 => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key);
                let sig = p256::ecdsa::Signature::from_der(signature);
                key.and_then(|key| verify_p256(&key, digest, &sig?))
            }
            Curve::P384 => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key);
                let sig = p384::ecdsa::Signature::from_der(signature);
                key.and_then(|key| key.verify_prehash(digest, &sig?))
            }
        };
        verified.map_err(|_| InvalidSignature)
    }
}

/// A P-256 signature over a digest, key and signature decoded (and range-checked) by
/// `p256`, verified by `p256_verify`.
fn verify_p256(
    key: &p256::ecdsa::VerifyingKey,
    digest: &[u8],
    sig: &p256::ecdsa::Signature,
) -> Result<(), p256::ecdsa::Error> {
    match super::p256_verify::verify_prehash(key, digest, sig) {
        true => Ok(()),
        false => Err(p256::ecdsa::Error::new()),
    }
}

/// Ed25519 (RFC 8032), as certificates and TLS 1.3 use it.
#[derive(Debug)]
pub(super) struct Ed25519;

impl Algorithm for Ed25519 {
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ED25519
    }

    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        use ed25519_dalek::Verifier;
        let key: &[u8; 32] = public_key.try_into().map_err(|_| InvalidSignature)?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(key).map_err(|_| InvalidSignature)?;
        let signature =
            ed25519_dalek::Signature::from_slice(signature).map_err(|_| InvalidSignature)?;
        key.verify(message, &signature)
            .map_err(|_| InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::SignatureScheme;

    /// A key pair made by rustls-rustcrypto's key provider from a PKCS#8 document, and
    /// its public key as webpki passes it (the SPKI bit string).
    fn signer(pkcs8: Vec<u8>, scheme: SignatureScheme) -> impl Fn(&[u8]) -> Vec<u8> {
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8));
        let key = rustls_rustcrypto::provider()
            .key_provider
            .load_private_key(der)
            .unwrap(); // ok: test code
        let signer = key.choose_scheme(&[scheme]).expect("scheme"); // ok: test code
        move |m| signer.sign(m).unwrap() // ok: test code
    }

    fn p256_key() -> (Vec<u8>, Vec<u8>) {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_slice(&[0x11; 32]).unwrap(); // ok: test code
        let public = secret.public_key().to_sec1_bytes().into_vec();
        (secret.to_pkcs8_der().unwrap().as_bytes().to_vec(), public) // ok: test code
    }

    fn p384_key() -> (Vec<u8>, Vec<u8>) {
        use p384::pkcs8::EncodePrivateKey;
        let secret = p384::SecretKey::from_slice(&[0x22; 48]).unwrap(); // ok: test code
        let public = secret.public_key().to_sec1_bytes().into_vec();
        (secret.to_pkcs8_der().unwrap().as_bytes().to_vec(), public) // ok: test code
    }

    #[test]
    fn ecdsa_verifies_what_rustls_rustcrypto_signs_and_nothing_else() {
        let message = b"tlsferry CertificateVerify content";
        let cases = [
            (
                p256_key(),
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &ECDSA_P256_SHA256,
            ),
            (
                p384_key(),
                SignatureScheme::ECDSA_NISTP384_SHA384,
                &ECDSA_P384_SHA384,
            ),
        ];
        for ((pkcs8, public), scheme, alg) in cases {
            let sig = signer(pkcs8, scheme)(message);
            assert!(
                alg.verify_signature(&public, message, &sig).is_ok(),
                "{scheme:?}"
            );
            assert!(alg
                .verify_signature(&public, b"another message", &sig)
                .is_err());
            for i in 0..sig.len() {
                let mut bad = sig.clone();
                bad[i] ^= 0x01;
                assert!(
                    alg.verify_signature(&public, message, &bad).is_err(),
                    "byte {i}"
                );
            }
            for n in 0..sig.len() {
                assert!(alg.verify_signature(&public, message, &sig[..n]).is_err());
            }
            for n in 0..public.len() {
                assert!(alg.verify_signature(&public[..n], message, &sig).is_err());
            }
        }
    }

    #[test]
    fn ecdsa_curve_and_hash_must_both_match() {
        let message = b"cross";
        let ((p256, p256_pub), (p384, p384_pub)) = (p256_key(), p384_key());
        let sig256 = signer(p256, SignatureScheme::ECDSA_NISTP256_SHA256)(message);
        let sig384 = signer(p384, SignatureScheme::ECDSA_NISTP384_SHA384)(message);
        // The right curve with the wrong hash, and a key of the other curve.
        assert!(ECDSA_P256_SHA384
            .verify_signature(&p256_pub, message, &sig256)
            .is_err());
        assert!(ECDSA_P384_SHA256
            .verify_signature(&p384_pub, message, &sig384)
            .is_err());
        assert!(ECDSA_P384_SHA384
            .verify_signature(&p256_pub, message, &sig384)
            .is_err());
        assert!(ECDSA_P256_SHA256
            .verify_signature(&p384_pub, message, &sig256)
            .is_err());
    }

    #[test]
    fn ed25519_verifies_rfc8032_test_vector_2_and_nothing_else() {
        let hex = |s: &str| -> Vec<u8> {
            let digit = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).unwrap(); // ok: test code
            (0..s.len()).step_by(2).map(digit).collect()
        };
        let public = hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        let message = hex("72");
        let sig = hex(concat!(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da",
            "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ));
        assert!(Ed25519.verify_signature(&public, &message, &sig).is_ok());
        assert!(Ed25519.verify_signature(&public, b"s", &sig).is_err());
        for i in 0..sig.len() {
            let mut bad = sig.clone();
            bad[i] ^= 0x80;
            assert!(
                Ed25519.verify_signature(&public, &message, &bad).is_err(),
                "byte {i}"
            );
        }
        assert!(Ed25519
            .verify_signature(&public[..31], &message, &sig)
            .is_err());
        assert!(Ed25519
            .verify_signature(&public, &message, &sig[..63])
            .is_err());
    }
}
