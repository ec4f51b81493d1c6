//! Client-certificate private keys. RSA keys sign on `rsa` 0.10 (PKCS#1 v1.5 and PSS with
//! SHA-256/384/512, blinded), drawing blinding factors and PSS salts from the provider's
//! random source; ECDSA (P-256, P-384) and Ed25519 keys sign deterministically
//! ([`super::sign`]). Keys come as PKCS#8, PKCS#1 (RSA) or SEC1 (ECDSA) DER.

use alloc::boxed::Box;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use ::rsa::rand_core::{TryCryptoRng, TryRng};
use ::rsa::{BoxedUint, PrivateKey};
use pkcs1::der::Decode;
use rustls::crypto::{KeyProvider, SecureRandom};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::{Signer, SigningKey};
use rustls::{Error, SignatureAlgorithm, SignatureScheme};

use super::rsa::{Rsa, SIGNING_ORDER};

/// Loads private keys; RSA signatures draw their randomness from `rng`.
#[derive(Debug)]
pub(crate) struct Keys {
    rng: &'static dyn SecureRandom,
}

impl Keys {
    pub(crate) const fn new(rng: &'static dyn SecureRandom) -> Self {
        Keys { rng }
    }
}

impl KeyProvider for Keys {
    fn load_private_key(&self, der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, Error> {
        let pkcs1 = match &der {
            PrivateKeyDer::Pkcs1(key) => Some(key.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(key) => rsa_in_pkcs8(key.secret_pkcs8_der()),
            _ => None,
        };
        if let Some(pkcs1) = pkcs1 {
            let key = rsa_from_pkcs1(pkcs1).map_err(|e| {
                Error::General(format!("failed to decode the RSA private key: {e}"))
            })?;
            return Ok(Arc::new(RsaKey {
                key: Arc::new(key),
                rng: self.rng,
            }));
        }
        super::sign::load(&der).ok_or_else(|| {
            Error::General("not an RSA, ECDSA (P-256, P-384) or Ed25519 private key".into())
        })
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 document, if it holds an RSA key.
fn rsa_in_pkcs8(der: &[u8]) -> Option<&[u8]> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).ok()?;
    (info.algorithm.oid.as_bytes() == crate::cert::RSA_ENCRYPTION)
        .then_some(info.private_key.as_bytes())
}

/// A two-prime PKCS#1 `RSAPrivateKey`, checked for consistency (`d·e ≡ 1 mod λ(n)`).
fn rsa_from_pkcs1(der: &[u8]) -> Result<PrivateKey, &'static str> {
    let key = pkcs1::RsaPrivateKeyRef::from_der(der).map_err(|_| "not PKCS#1 DER")?;
    if key.other_prime_infos.is_some() {
        return Err("multi-prime keys are not supported");
    }
    let bits = u32::try_from(key.modulus.as_bytes().len() * 8).map_err(|_| "too large")?;
    let uint = |int: pkcs1::UintRef<'_>, bits: u32| {
        BoxedUint::from_be_slice(int.as_bytes(), bits).map_err(|_| "an integer is too large")
    };
    let e_bits =
        u32::try_from(key.public_exponent.as_bytes().len() * 8).map_err(|_| "too large")?;
    let n = uint(key.modulus, bits)?;
    let e = uint(key.public_exponent, e_bits.max(8))?;
    let d = uint(key.private_exponent, bits)?;
    let primes = vec![uint(key.prime1, bits)?, uint(key.prime2, bits)?];
    PrivateKey::from_components(n, e, d, primes).map_err(|_| "inconsistent key components")
}

/// An RSA private key.
struct RsaKey {
    key: Arc<PrivateKey>,
    rng: &'static dyn SecureRandom,
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("RsaKey").finish_non_exhaustive()
    }
}

impl SigningKey for RsaKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let alg = SIGNING_ORDER
            .into_iter()
            .find(|alg| offered.contains(&alg.scheme()))?;
        Some(Box::new(RsaSigner {
            key: Arc::clone(&self.key),
            rng: self.rng,
            alg,
        }))
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::RSA
    }
}

/// An RSA key bound to one algorithm.
struct RsaSigner {
    key: Arc<PrivateKey>,
    rng: &'static dyn SecureRandom,
    alg: &'static Rsa,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("scheme", &self.alg.scheme())
            .finish_non_exhaustive()
    }
}

impl Signer for RsaSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.alg
            .sign(&self.key, &mut Rng(self.rng), message)
            .map_err(|e| Error::General(format!("RSA signing failed: {e}")))
    }

    fn scheme(&self) -> SignatureScheme {
        self.alg.scheme()
    }
}

/// The provider's random source as the `rand_core` generator `rsa` asks for.
struct Rng(&'static dyn SecureRandom);

/// The random source failed.
#[derive(Debug)]
struct RandomFailed;

impl fmt::Display for RandomFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the random source failed")
    }
}

impl core::error::Error for RandomFailed {}

impl TryRng for Rng {
    type Error = RandomFailed;

    fn try_next_u32(&mut self) -> Result<u32, RandomFailed> {
        let mut bytes = [0u8; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, RandomFailed> {
        let mut bytes = [0u8; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RandomFailed> {
        self.0.fill(dst).map_err(|_| RandomFailed)
    }
}

/// A `SecureRandom` is a cryptographically secure generator by contract.
impl TryCryptoRng for Rng {}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{
        PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer, SignatureVerificationAlgorithm,
    };

    const KEY_2048: &[u8] = include_bytes!("testdata/rsa2048.pk8.der");
    const PUB_2048: &[u8] = include_bytes!("testdata/rsa2048.pub.der");
    static KEYS: Keys = Keys::new(&super::super::random::OsRandom);

    fn pkcs8(der: &[u8]) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()))
    }

    #[test]
    fn rsa_signatures_verify_for_every_scheme_and_rustls_rustcrypto_agrees() {
        let message = b"tlsferry CertificateVerify content";
        let ours = KEYS.load_private_key(pkcs8(KEY_2048)).unwrap(); // ok: test code
        assert_eq!(ours.algorithm(), SignatureAlgorithm::RSA);
        let theirs = rustls_rustcrypto::provider().signature_verification_algorithms;
        for alg in SIGNING_ORDER {
            let scheme = alg.scheme();
            let signer = ours.choose_scheme(&[scheme]).unwrap(); // ok: test code
            assert_eq!(signer.scheme(), scheme);
            let sig = signer.sign(message).unwrap(); // ok: test code
            assert!(alg.verify_signature(PUB_2048, message, &sig).is_ok());
            let (_, algs) = theirs.mapping.iter().find(|(s, _)| *s == scheme).unwrap(); // ok: test code
            assert!(
                algs[0].verify_signature(PUB_2048, message, &sig).is_ok(),
                "{scheme:?}"
            );
            assert!(alg.verify_signature(PUB_2048, b"other", &sig).is_err());
        }
        // PSS is preferred, the largest hash first; nothing for a non-RSA scheme.
        let all = [
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PSS_SHA256,
        ];
        let preferred = ours.choose_scheme(&all).map(|s| s.scheme());
        assert_eq!(preferred, Some(SignatureScheme::RSA_PSS_SHA256));
        let every = SIGNING_ORDER.map(|alg| alg.scheme());
        let preferred = ours.choose_scheme(&every).map(|s| s.scheme());
        assert_eq!(preferred, Some(SignatureScheme::RSA_PSS_SHA512));
        assert!(ours.choose_scheme(&[SignatureScheme::ED25519]).is_none());
    }

    #[test]
    fn pkcs1_and_pkcs8_forms_of_one_key_sign_alike() {
        let pkcs1 = rsa_in_pkcs8(KEY_2048).unwrap().to_vec(); // ok: test code
        let der = PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(pkcs1));
        let key = KEYS.load_private_key(der).unwrap(); // ok: test code
        let scheme = SignatureScheme::RSA_PKCS1_SHA256;
        // PKCS#1 v1.5 signatures are deterministic: blinding does not change them.
        let a = key.choose_scheme(&[scheme]).unwrap().sign(b"m").unwrap(); // ok: test code
        let b = KEYS.load_private_key(pkcs8(KEY_2048)).unwrap(); // ok: test code
        let b = b.choose_scheme(&[scheme]).unwrap().sign(b"m").unwrap(); // ok: test code
        assert_eq!(a, b);
    }

    #[test]
    fn ecdsa_and_ed25519_keys_still_load_and_garbage_is_a_clear_error() {
        use p256::pkcs8::EncodePrivateKey;
        let secret = p256::SecretKey::from_slice(&[0x11; 32]).unwrap(); // ok: test code
        let doc = secret.to_pkcs8_der().unwrap(); // ok: test code
        let key = KEYS.load_private_key(pkcs8(doc.as_bytes())).unwrap(); // ok: test code
        assert_eq!(key.algorithm(), SignatureAlgorithm::ECDSA);
        // As `openssl ecparam -genkey -outform DER` writes it (with the curve's OID).
        let sec1 = include_bytes!("testdata/p256.sec1.der").to_vec();
        let der = PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(sec1));
        let sec1_key = KEYS.load_private_key(der).map(|k| k.algorithm());
        assert_eq!(sec1_key, Ok(SignatureAlgorithm::ECDSA));

        let ed25519 = pkcs8(include_bytes!("testdata/ed25519.pk8.der"));
        let key = KEYS.load_private_key(ed25519).unwrap(); // ok: test code
        assert_eq!(key.algorithm(), SignatureAlgorithm::ED25519);

        let garbage = KEYS.load_private_key(pkcs8(b"\x30\x03\x02\x01\x00")).err();
        let message = garbage.map(|e| alloc::string::ToString::to_string(&e));
        assert!(message.unwrap_or_default().contains("not an RSA, ECDSA"));
        // An RSA key whose components disagree, and every truncation: errors, no panic.
        let mut bad = KEY_2048.to_vec();
        bad[400] ^= 0x01; // inside the private exponent

        let err = KEYS.load_private_key(pkcs8(&bad)).err();
        assert!(matches!(err, Some(Error::General(m)) if m.contains("RSA private key")));
        for n in (0..KEY_2048.len()).step_by(97) {
            assert!(KEYS.load_private_key(pkcs8(&KEY_2048[..n])).is_err());
        }
    }

    #[test]
    fn a_failing_random_source_fails_the_signature() {
        #[derive(Debug)]
        struct Broken;
        impl SecureRandom for Broken {
            fn fill(&self, _: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
                Err(rustls::crypto::GetRandomFailed)
            }
        }
        static BROKEN: Keys = Keys::new(&Broken);
        let key = BROKEN.load_private_key(pkcs8(KEY_2048)).unwrap(); // ok: test code
        for alg in SIGNING_ORDER {
            let signed = key.choose_scheme(&[alg.scheme()]).unwrap().sign(b"m"); // ok: test code
            assert!(signed.is_err(), "{:?}", alg.scheme());
        }
    }
}
