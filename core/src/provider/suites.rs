//! The default provider's cipher suites: rustls-rustcrypto's, in its order (so the
//! ClientHello is unchanged), with the six AES-GCM suites taken from `tlsferry-gcm`
//! (`aes-gcm` 0.11 records and the AES-GCM confidentiality limit). The ChaCha20-Poly1305
//! suites are rustls-rustcrypto's.

use rustls::SupportedCipherSuite;
use rustls_rustcrypto as rrc;
use tlsferry_gcm as gcm;

/// Every suite, in rustls-rustcrypto's order.
pub(super) static ALL: [SupportedCipherSuite; 9] = [
    SupportedCipherSuite::Tls12(&gcm::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&gcm::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
    rrc::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    SupportedCipherSuite::Tls12(&gcm::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls12(&gcm::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
    rrc::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    SupportedCipherSuite::Tls13(&gcm::TLS13_AES_128_GCM_SHA256),
    SupportedCipherSuite::Tls13(&gcm::TLS13_AES_256_GCM_SHA384),
    rrc::TLS13_CHACHA20_POLY1305_SHA256,
];

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn rustls_rustcrypto_suites_in_its_order_with_aes_gcm_replaced_and_limited() {
        let base = rustls_rustcrypto::provider().cipher_suites;
        let ours = ALL.to_vec();
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
            let hash = common(ours).hash_provider.algorithm();
            assert_eq!(hash, common(base).hash_provider.algorithm(), "{name}");
            if name.contains("AES_") && name.contains("_GCM_") {
                assert_eq!(limit, tlsferry_gcm::CONFIDENTIALITY_LIMIT, "{name}");
                // The same object, not just an equal suite id.
                let from_gcm = tlsferry_gcm::ALL
                    .iter()
                    .any(|g| core::ptr::eq(common(g), common(ours)));
                assert!(from_gcm, "{name} replaced");
                replaced += 1;
            } else {
                assert_eq!(limit, common(base).confidentiality_limit, "{name} kept");
            }
        }
        assert_eq!(replaced, tlsferry_gcm::ALL.len());
    }
}
