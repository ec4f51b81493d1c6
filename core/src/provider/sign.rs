//! ECDSA (P-256, P-384) and Ed25519 client-certificate keys: rustls `SigningKey`s on
//! `p256`/`p384` 0.14 and `ed25519-dalek` 3.
//!
//! Both signature kinds are deterministic: ECDSA nonces follow RFC 6979 (derived from
//! the key and the message, which also rules out nonce reuse through a weak random
//! source), and Ed25519 is deterministic by design. So a client-certificate handshake
//! under the seeded testing provider is reproducible byte for byte.
//!
//! The same key formats and schemes as rustls-rustcrypto's signers: ECDSA keys as
//! PKCS#8 or SEC1 DER, signing `ecdsa_secp256r1_sha256` / `ecdsa_secp384r1_sha384` with
//! DER signatures; Ed25519 keys as PKCS#8, signing `ed25519`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use p256::pkcs8::DecodePrivateKey;
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};

/// An ECDSA or Ed25519 private key, if `der` holds one.
pub(super) fn load(der: &PrivateKeyDer<'_>) -> Option<Arc<dyn SigningKey>> {
    let key = match der {
        PrivateKeyDer::Pkcs8(key) => {
            let der = key.secret_pkcs8_der();
            if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                Key::P256(key)
            } else if let Ok(key) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
                Key::P384(key)
            } else {
                Key::Ed25519(ed25519_dalek::SigningKey::from_pkcs8_der(der).ok()?)
            }
        }
        PrivateKeyDer::Sec1(key) => {
            let der = key.secret_sec1_der();
            if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
                Key::P256(key.into())
            } else {
                Key::P384(p384::SecretKey::from_sec1_der(der).ok()?.into())
            }
        }
        _ => return None,
    };
    Some(Arc::new(Shared(Arc::new(key))))
}

/// A loaded private key.
enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl Key {
    /// The one TLS scheme the key signs with.
    fn scheme(&self) -> SignatureScheme {
        match self {
            Key::P256(_) => SignatureScheme::ECDSA_NISTP256_SHA256,
            Key::P384(_) => SignatureScheme::ECDSA_NISTP384_SHA384,
            Key::Ed25519(_) => SignatureScheme::ED25519,
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, p256::ecdsa::Error> {
        use p256::ecdsa::signature::Signer as _;
        Ok(match self {
            // RFC 6979 nonces; the curve's own hash (SHA-256, SHA-384); DER encoding.
            Key::P256(key) => {
                let sig: p256::ecdsa::DerSignature = key.try_sign(message)?;
                sig.as_bytes().to_vec()
            }
            Key::P384(key) => {
                let sig: p384::ecdsa::DerSignature = key.try_sign(message)?;
                sig.as_bytes().to_vec()
            }
            Key::Ed25519(key) => key.try_sign(message)?.to_bytes().to_vec(),
        })
    }
}

/// The key, shared by the signers rustls asks for.
struct Shared(Arc<Key>);

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("SigningKey")
            .field("scheme", &self.0.scheme())
            .finish_non_exhaustive()
    }
}

impl SigningKey for Shared {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&self.0.scheme())
            .then(|| Box::new(Shared(Arc::clone(&self.0))) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match *self.0 {
            Key::P256(_) | Key::P384(_) => SignatureAlgorithm::ECDSA,
            Key::Ed25519(_) => SignatureAlgorithm::ED25519,
        }
    }
}

impl Signer for Shared {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.0
            .sign(message)
            .map_err(|_| Error::General("signing failed".into()))
    }

    fn scheme(&self) -> SignatureScheme {
        self.0.scheme()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{
        PrivatePkcs8KeyDer, PrivateSec1KeyDer, SignatureVerificationAlgorithm,
    };

    const SEC1_P256: &[u8] = include_bytes!("testdata/p256.sec1.der");
    const ED25519: &[u8] = include_bytes!("testdata/ed25519.pk8.der");
    const MESSAGE: &[u8] = b"tlsferry CertificateVerify content";

    fn hex(s: &str) -> Vec<u8> {
        let digit = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).unwrap(); // ok: test code
        (0..s.len()).step_by(2).map(digit).collect()
    }

    fn pkcs8(der: &[u8]) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()))
    }

    fn sec1(der: &[u8]) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der.to_vec()))
    }

    fn p256() -> (Vec<u8>, Vec<u8>) {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_slice(&[0x11; 32]).unwrap(); // ok: test code
        let public = secret.public_key().to_sec1_bytes().into_vec();
        let doc = secret.to_pkcs8_der().unwrap(); // ok: test code
        (doc.as_bytes().to_vec(), public)
    }

    fn p384() -> (Vec<u8>, Vec<u8>) {
        use p384::pkcs8::EncodePrivateKey;
        let secret = p384::SecretKey::from_slice(&[0x22; 48]).unwrap(); // ok: test code
        let public = secret.public_key().to_sec1_bytes().into_vec();
        let doc = secret.to_pkcs8_der().unwrap(); // ok: test code
        (doc.as_bytes().to_vec(), public)
    }

    /// rustls-rustcrypto's verifier for `scheme` (the first algorithm it maps it to).
    fn theirs(scheme: SignatureScheme) -> &'static dyn SignatureVerificationAlgorithm {
        let algs = rustls_rustcrypto::provider().signature_verification_algorithms;
        let (_, algs) = algs.mapping.iter().find(|(s, _)| *s == scheme).unwrap(); // ok: test code
        algs[0]
    }

    /// Our own verifier for `scheme`, as the default provider maps it.
    fn ours(scheme: SignatureScheme) -> &'static dyn SignatureVerificationAlgorithm {
        let algs = super::super::default_provider().signature_verification_algorithms;
        let (_, algs) = algs.mapping.iter().find(|(s, _)| *s == scheme).unwrap(); // ok: test code
        algs[0]
    }

    #[test]
    fn ecdsa_signatures_verify_with_rustls_rustcrypto_and_ours_and_are_deterministic() {
        let cases = [
            (p256(), SignatureScheme::ECDSA_NISTP256_SHA256),
            (p384(), SignatureScheme::ECDSA_NISTP384_SHA384),
        ];
        for ((der, public), scheme) in cases {
            let key = load(&pkcs8(&der)).unwrap(); // ok: test code
            assert_eq!(key.algorithm(), SignatureAlgorithm::ECDSA);
            let signer = key
                .choose_scheme(&[SignatureScheme::ED25519, scheme])
                .unwrap(); // ok: test code
            assert_eq!(signer.scheme(), scheme);
            let sig = signer.sign(MESSAGE).unwrap(); // ok: test code
            assert_eq!(sig.first(), Some(&0x30), "a DER SEQUENCE");
            for verifier in [theirs(scheme), ours(scheme)] {
                assert!(verifier.verify_signature(&public, MESSAGE, &sig).is_ok());
                assert!(verifier.verify_signature(&public, b"other", &sig).is_err());
            }
            // RFC 6979: the same key and message give the same signature, another
            // message another one.
            assert_eq!(signer.sign(MESSAGE).unwrap(), sig); // ok: test code
            assert_ne!(signer.sign(b"other").unwrap(), sig); // ok: test code
                                                             // Only the key's own scheme: not the other curve's, not RSA.
            let others = [
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ECDSA_NISTP384_SHA384,
                SignatureScheme::RSA_PSS_SHA256,
            ];
            let others: Vec<_> = others.into_iter().filter(|s| *s != scheme).collect();
            assert!(key.choose_scheme(&others).is_none());
        }
    }

    #[test]
    fn ecdsa_p256_matches_rfc_6979_appendix_a_2_5() {
        // RFC 6979 A.2.5: P-256, SHA-256, message "sample".
        let x = hex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
        let key = p256::ecdsa::SigningKey::from_slice(&x).unwrap(); // ok: test code
        let der = Key::P256(key).sign(b"sample").unwrap(); // ok: test code
        let sig = p256::ecdsa::Signature::from_der(&der).unwrap(); // ok: test code
        let (r, s) = sig.split_bytes();
        assert_eq!(
            r.to_vec(),
            hex("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716")
        );
        assert_eq!(
            s.to_vec(),
            hex("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
        );
    }

    #[test]
    fn sec1_keys_sign_like_their_pkcs8_form() {
        // As `openssl ecparam -genkey -outform DER` writes it (with the curve's OID).
        let key = load(&sec1(SEC1_P256)).unwrap(); // ok: test code
        let scheme = SignatureScheme::ECDSA_NISTP256_SHA256;
        let sig = key.choose_scheme(&[scheme]).unwrap().sign(MESSAGE).unwrap(); // ok: test code
        let secret = p256::SecretKey::from_sec1_der(SEC1_P256).unwrap(); // ok: test code
        let public = secret.public_key().to_sec1_bytes();
        assert!(theirs(scheme)
            .verify_signature(&public, MESSAGE, &sig)
            .is_ok());
        use p256::pkcs8::EncodePrivateKey;
        let as_pkcs8 = secret.to_pkcs8_der().unwrap(); // ok: test code
        let again = load(&pkcs8(as_pkcs8.as_bytes())).unwrap(); // ok: test code
        let sig8 = again
            .choose_scheme(&[scheme])
            .unwrap() // ok: test code
            .sign(MESSAGE)
            .unwrap(); // ok: test code
        assert_eq!(sig, sig8, "deterministic: one key, one signature");
        // A P-384 SEC1 key too.
        let p384 = p384::SecretKey::from_slice(&[0x22; 48]).unwrap(); // ok: test code
        let der = p384.to_sec1_der().unwrap(); // ok: test code
        let key = load(&sec1(&der)).unwrap(); // ok: test code
        let scheme = SignatureScheme::ECDSA_NISTP384_SHA384;
        assert!(key.choose_scheme(&[scheme]).is_some());
    }

    #[test]
    fn ed25519_signs_rfc_8032_test_vector_1_and_rustls_rustcrypto_verifies() {
        // RFC 8032 §7.1, test 1: the empty message.
        let rfc_seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let rfc_seed: [u8; 32] = rfc_seed.try_into().unwrap(); // ok: test code
        let sig = Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&rfc_seed))
            .sign(b"")
            .unwrap(); // ok: test code
        let expect = concat!(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155",
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert_eq!(crate::cert::hex(&sig), expect);

        let key = load(&pkcs8(ED25519)).unwrap(); // ok: test code
        assert_eq!(key.algorithm(), SignatureAlgorithm::ED25519);
        let signer = key.choose_scheme(&[SignatureScheme::ED25519]).unwrap(); // ok: test code
        let sig = signer.sign(MESSAGE).unwrap(); // ok: test code
        assert_eq!(sig.len(), 64);
        let secret = ed25519_dalek::SigningKey::from_pkcs8_der(ED25519).unwrap(); // ok: test code
        let public = secret.verifying_key().to_bytes();
        let scheme = SignatureScheme::ED25519;
        assert!(theirs(scheme)
            .verify_signature(&public, MESSAGE, &sig)
            .is_ok());
        assert!(ours(scheme)
            .verify_signature(&public, MESSAGE, &sig)
            .is_ok());
        assert!(key
            .choose_scheme(&[SignatureScheme::ECDSA_NISTP256_SHA256])
            .is_none());
    }

    #[test]
    fn other_keys_and_garbage_are_not_loaded() {
        let rsa = include_bytes!("testdata/rsa2048.pk8.der");
        assert!(load(&pkcs8(rsa)).is_none());
        assert!(load(&sec1(b"\x30\x03\x02\x01\x00")).is_none());
        for n in (0..SEC1_P256.len()).step_by(7) {
            assert!(load(&sec1(&SEC1_P256[..n])).is_none());
        }
        for n in 0..ED25519.len() {
            assert!(load(&pkcs8(&ED25519[..n])).is_none(), "{n}");
        }
    }
}
