//! The default provider's cipher suites: rustls-rustcrypto's, with AES-GCM records
//! protected by `aes-gcm` 0.11 ([`super::gcm`]) and the AES-GCM confidentiality limit of
//! RFC 8446 §5.5 / RFC 9325 (rustls-rustcrypto sets none, so rustls never rekeyed).
//! Hashes, HKDF/PRF and ChaCha20-Poly1305 stay rustls-rustcrypto's, and so does the order,
//! so the ClientHello is unchanged.

use super::gcm;
use alloc::vec::Vec;

use aes_gcm::{Aes128Gcm, Aes256Gcm};
use rustls::crypto::CipherSuiteCommon;
use rustls::{SupportedCipherSuite, Tls12CipherSuite, Tls13CipherSuite};

/// Records one AES-GCM key may protect before rustls updates the key (TLS 1.3) or closes
/// the connection (TLS 1.2): 2^24, as rustls' own providers use (RFC 9325 §4.4 allows 2^24.5).
const GCM_CONFIDENTIALITY_LIMIT: u64 = 1 << 24;

static TLS13_AES_128: gcm::Tls13<Aes128Gcm> = gcm::Tls13::new();
static TLS13_AES_256: gcm::Tls13<Aes256Gcm> = gcm::Tls13::new();
static TLS12_AES_128: gcm::Tls12<Aes128Gcm> = gcm::Tls12::new();
static TLS12_AES_256: gcm::Tls12<Aes256Gcm> = gcm::Tls12::new();

static TLS13_AES_128_GCM_SHA256: Tls13CipherSuite =
    tls13(rustls_rustcrypto::TLS13_AES_128_GCM_SHA256, &TLS13_AES_128);
static TLS13_AES_256_GCM_SHA384: Tls13CipherSuite =
    tls13(rustls_rustcrypto::TLS13_AES_256_GCM_SHA384, &TLS13_AES_256);
static TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    &TLS12_AES_128,
);
static TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    &TLS12_AES_256,
);
static TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    &TLS12_AES_128,
);
static TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: Tls12CipherSuite = tls12(
    rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    &TLS12_AES_256,
);

static REPLACEMENTS: [SupportedCipherSuite; 6] = [
    SupportedCipherSuite::Tls13(&TLS13_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls13(&TLS13_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
];

/// `suites` with every AES-GCM suite swapped for this module's, order kept.
pub(crate) fn with_fast_gcm(suites: Vec<SupportedCipherSuite>) -> Vec<SupportedCipherSuite> {
    suites
        .into_iter()
        .map(|suite| {
            REPLACEMENTS
                .iter()
                .find(|ours| ours.suite() == suite.suite())
                .copied()
                .unwrap_or(suite)
        })
        .collect()
}

/// `base` with `aead` and the GCM confidentiality limit; everything else is `base`'s.
// Evaluated only in the `static`s above: a TLS 1.2 `base` fails the build, never a run.
#[allow(clippy::panic)]
const fn tls13(
    base: SupportedCipherSuite,
    aead: &'static dyn rustls::crypto::cipher::Tls13AeadAlgorithm,
) -> Tls13CipherSuite {
    let SupportedCipherSuite::Tls13(base) = base else {
        panic!("not a TLS 1.3 suite"); // ok: const evaluation only: a wrong suite fails the build
    };
    Tls13CipherSuite {
        common: CipherSuiteCommon {
            suite: base.common.suite,
            hash_provider: base.common.hash_provider,
            confidentiality_limit: GCM_CONFIDENTIALITY_LIMIT,
        },
        hkdf_provider: base.hkdf_provider,
        aead_alg: aead,
        quic: base.quic,
    }
}

/// The TLS 1.2 counterpart of [`tls13`].
#[allow(clippy::panic)]
const fn tls12(
    base: SupportedCipherSuite,
    aead: &'static dyn rustls::crypto::cipher::Tls12AeadAlgorithm,
) -> Tls12CipherSuite {
    let SupportedCipherSuite::Tls12(base) = base else {
        panic!("not a TLS 1.2 suite"); // ok: const evaluation only: a wrong suite fails the build
    };
    Tls12CipherSuite {
        common: CipherSuiteCommon {
            suite: base.common.suite,
            hash_provider: base.common.hash_provider,
            confidentiality_limit: GCM_CONFIDENTIALITY_LIMIT,
        },
        kx: base.kx,
        sign: base.sign,
        prf_provider: base.prf_provider,
        aead_alg: aead,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_suites_same_order_aes_gcm_replaced_and_limited() {
        let base = rustls_rustcrypto::provider().cipher_suites;
        let ours = with_fast_gcm(base.clone());
        let ids = |v: &[SupportedCipherSuite]| v.iter().map(|s| s.suite()).collect::<Vec<_>>();
        assert_eq!(ids(&ours), ids(&base), "the ClientHello must not change");
        let common = |s: &SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls13(s) => &s.common,
            SupportedCipherSuite::Tls12(s) => &s.common,
        };
        let mut replaced = 0;
        for (ours, base) in ours.iter().zip(&base) {
            let name = ours.suite().as_str().unwrap_or_default();
            let limit = common(ours).confidentiality_limit;
            let same = core::ptr::eq(common(ours), common(base));
            if name.contains("AES_") && name.contains("_GCM_") {
                assert_eq!(limit, GCM_CONFIDENTIALITY_LIMIT, "{name}");
                assert!(!same, "{name} replaced");
                replaced += 1;
            } else {
                assert!(same, "{name} kept");
            }
        }
        assert_eq!(replaced, REPLACEMENTS.len());
    }
}
