//! The nine cipher suites of tlsferry's default provider, built here from this crate's
//! parts: AES-GCM and ChaCha20-Poly1305 records, SHA-256/384 transcript hashes, and
//! HKDF (TLS 1.3) and the PRF (TLS 1.2) over HMAC.
//!
//! Suites, order, names and signature schemes are rustls-rustcrypto 0.0.2-alpha's, so the
//! ClientHello is unchanged from when the provider was built on it. The AES-GCM suites
//! carry the AES-GCM confidentiality limit of RFC 8446 §5.5 / RFC 9325
//! ([`CONFIDENTIALITY_LIMIT`]; rustls-rustcrypto set none, so rustls never rekeyed);
//! ChaCha20-Poly1305 keeps `u64::MAX`, as in rustls' own providers (its limit is above
//! 2^64 records).
//!
//! The suites are built here, not by the caller: a `&dyn` AEAD copied into another
//! crate's `static` takes its vtable, and so the cipher's compiled code, along with it.

use rustls::crypto::cipher::{Tls12AeadAlgorithm, Tls13AeadAlgorithm};
use rustls::crypto::hash::Hash;
use rustls::crypto::tls12::Prf;
use rustls::crypto::tls13::Hkdf;
use rustls::crypto::{CipherSuiteCommon, KeyExchangeAlgorithm};
use rustls::{
    CipherSuite, SignatureScheme, SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite,
};

use crate::chacha::Tls12Chacha;
use crate::hash::{SHA256, SHA384};
use crate::hmac::{HKDF_SHA256, HKDF_SHA384, PRF_SHA256, PRF_SHA384};
use crate::record::{Tls12, Tls13};
use crate::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;

static TLS13_AES_128: Tls13<Aes128Gcm> = Tls13::new();
static TLS13_AES_256: Tls13<Aes256Gcm> = Tls13::new();
static TLS13_CHACHA: Tls13<ChaCha20Poly1305> = Tls13::new();
static TLS12_AES_128: Tls12<Aes128Gcm> = Tls12::new();
static TLS12_AES_256: Tls12<Aes256Gcm> = Tls12::new();
static TLS12_CHACHA: Tls12Chacha = Tls12Chacha;

/// Records one AES-GCM key may protect before rustls updates the key (TLS 1.3) or closes
/// the connection (TLS 1.2): 2^24, as rustls' own providers use (RFC 9325 §4.4 allows 2^24.5).
pub const CONFIDENTIALITY_LIMIT: u64 = 1 << 24;

/// ChaCha20-Poly1305 has no practical per-key record limit (RFC 8446 §5.5).
const CHACHA_CONFIDENTIALITY_LIMIT: u64 = u64::MAX;

/// The server signatures a TLS 1.2 ECDHE_ECDSA suite accepts (rustls-rustcrypto's list).
static TLS12_ECDSA_SCHEMES: [SignatureScheme; 4] = [
    SignatureScheme::ECDSA_NISTP256_SHA256,
    SignatureScheme::ECDSA_NISTP384_SHA384,
    SignatureScheme::ECDSA_NISTP521_SHA512,
    SignatureScheme::ED25519,
];

/// The server signatures a TLS 1.2 ECDHE_RSA suite accepts.
static TLS12_RSA_SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::RSA_PKCS1_SHA256,
    SignatureScheme::RSA_PKCS1_SHA384,
    SignatureScheme::RSA_PKCS1_SHA512,
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PSS_SHA384,
    SignatureScheme::RSA_PSS_SHA512,
];

/// `TLS13_AES_128_GCM_SHA256`.
pub static TLS13_AES_128_GCM_SHA256: Tls13CipherSuite = tls13(
    CipherSuite::TLS13_AES_128_GCM_SHA256,
    &SHA256,
    &HKDF_SHA256,
    &TLS13_AES_128,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS13_AES_256_GCM_SHA384`.
pub static TLS13_AES_256_GCM_SHA384: Tls13CipherSuite = tls13(
    CipherSuite::TLS13_AES_256_GCM_SHA384,
    &SHA384,
    &HKDF_SHA384,
    &TLS13_AES_256,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS13_CHACHA20_POLY1305_SHA256`.
pub static TLS13_CHACHA20_POLY1305_SHA256: Tls13CipherSuite = tls13(
    CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    &SHA256,
    &HKDF_SHA256,
    &TLS13_CHACHA,
    CHACHA_CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
pub static TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    (&SHA256, &PRF_SHA256),
    &TLS12_ECDSA_SCHEMES,
    &TLS12_AES_128,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384`.
pub static TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    (&SHA384, &PRF_SHA384),
    &TLS12_ECDSA_SCHEMES,
    &TLS12_AES_256,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256`.
pub static TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    (&SHA256, &PRF_SHA256),
    &TLS12_ECDSA_SCHEMES,
    &TLS12_CHACHA,
    CHACHA_CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
pub static TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    (&SHA256, &PRF_SHA256),
    &TLS12_RSA_SCHEMES,
    &TLS12_AES_128,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`.
pub static TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    (&SHA384, &PRF_SHA384),
    &TLS12_RSA_SCHEMES,
    &TLS12_AES_256,
    CONFIDENTIALITY_LIMIT,
);
/// `TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256`.
pub static TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: Tls12CipherSuite = tls12(
    CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    (&SHA256, &PRF_SHA256),
    &TLS12_RSA_SCHEMES,
    &TLS12_CHACHA,
    CHACHA_CONFIDENTIALITY_LIMIT,
);

/// The six AES-GCM suites, TLS 1.3 first.
pub static AES_GCM: [SupportedCipherSuite; 6] = [
    SupportedCipherSuite::Tls13(&TLS13_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls13(&TLS13_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
];

/// Every suite, in the order tlsferry offers them (rustls-rustcrypto's): TLS 1.2
/// ECDHE_ECDSA, TLS 1.2 ECDHE_RSA, then TLS 1.3; AES-128-GCM, AES-256-GCM and
/// ChaCha20-Poly1305 within each.
pub static ALL: [SupportedCipherSuite; 9] = [
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256),
    SupportedCipherSuite::Tls13(&TLS13_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls13(&TLS13_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls13(&TLS13_CHACHA20_POLY1305_SHA256),
];

const fn tls13(
    suite: CipherSuite,
    hash: &'static dyn Hash,
    hkdf: &'static dyn Hkdf,
    aead: &'static dyn Tls13AeadAlgorithm,
    confidentiality_limit: u64,
) -> Tls13CipherSuite {
    Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite,
            hash_provider: hash,
            confidentiality_limit,
        },
        hkdf_provider: hkdf,
        aead_alg: aead,
        quic: None,
    }
}

const fn tls12(
    suite: CipherSuite,
    (hash, prf): (&'static dyn Hash, &'static dyn Prf),
    sign: &'static [SignatureScheme],
    aead: &'static dyn Tls12AeadAlgorithm,
    confidentiality_limit: u64,
) -> Tls12CipherSuite {
    Tls12CipherSuite {
        common: CipherSuiteCommon {
            suite,
            hash_provider: hash,
            confidentiality_limit,
        },
        kx: KeyExchangeAlgorithm::ECDHE,
        sign,
        prf_provider: prf,
        aead_alg: aead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn common(s: &SupportedCipherSuite) -> &CipherSuiteCommon {
        match s {
            SupportedCipherSuite::Tls13(s) => &s.common,
            SupportedCipherSuite::Tls12(s) => &s.common,
        }
    }

    #[test]
    fn rustls_rustcrypto_suites_in_its_order_with_the_same_parameters() {
        let base = rustls_rustcrypto::provider().cipher_suites;
        let ids = |v: &[SupportedCipherSuite]| v.iter().map(|s| s.suite()).collect::<Vec<_>>();
        assert_eq!(ids(&ALL), ids(&base), "the ClientHello must not change");
        for (ours, base) in ALL.iter().zip(&base) {
            let name = ours.suite().as_str().unwrap_or_default();
            let (c, b) = (common(ours), common(base));
            assert_eq!(c.hash_provider.algorithm(), b.hash_provider.algorithm());
            let aes = name.contains("_AES_");
            let limit = if aes { CONFIDENTIALITY_LIMIT } else { u64::MAX };
            assert_eq!(c.confidentiality_limit, limit, "{name}");
            assert_eq!(b.confidentiality_limit, u64::MAX, "{name}");
            match (ours, base) {
                (SupportedCipherSuite::Tls13(o), SupportedCipherSuite::Tls13(b)) => {
                    assert_eq!(o.aead_alg.key_len(), b.aead_alg.key_len(), "{name}");
                    assert_eq!(o.quic.is_some(), b.quic.is_some());
                }
                (SupportedCipherSuite::Tls12(o), SupportedCipherSuite::Tls12(b)) => {
                    assert_eq!(o.kx, b.kx, "{name}");
                    assert_eq!(o.sign, b.sign, "{name}");
                    let (x, y) = (o.aead_alg.key_block_shape(), b.aead_alg.key_block_shape());
                    assert_eq!(x.enc_key_len, y.enc_key_len, "{name}");
                    assert_eq!(x.fixed_iv_len, y.fixed_iv_len, "{name}");
                    assert_eq!(x.explicit_nonce_len, y.explicit_nonce_len, "{name}");
                }
                _ => panic!("{name}: another TLS version"), // ok: test code
            }
        }
        // The AES-GCM list is ALL's AES-GCM suites, the same objects.
        let aes: Vec<_> = ALL
            .iter()
            .filter(|s| AES_GCM.iter().any(|a| core::ptr::eq(common(a), common(s))))
            .collect();
        assert_eq!(aes.len(), AES_GCM.len());
    }
}
