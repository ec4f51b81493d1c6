//! The default provider's cipher suites: `tlsferry-gcm`'s nine, in its order, which is
//! rustls-rustcrypto 0.0.2-alpha's (so the ClientHello is what it was when the provider
//! was built on that crate). AES-GCM and ChaCha20-Poly1305 records, hashes and HKDF/PRF
//! are all compiled in `tlsferry-gcm`; see its crate documentation for why.

pub(super) use tlsferry_gcm::ALL;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use rustls::SupportedCipherSuite;

    #[test]
    fn rustls_rustcrypto_suites_in_its_order_with_aes_gcm_limited() {
        let base = rustls_rustcrypto::provider().cipher_suites;
        let ours = ALL.to_vec();
        let ids = |v: &[SupportedCipherSuite]| v.iter().map(|s| s.suite()).collect::<Vec<_>>();
        assert_eq!(ids(&ours), ids(&base), "the ClientHello must not change");
        let common = |s: &SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls13(s) => &s.common,
            SupportedCipherSuite::Tls12(s) => &s.common,
        };
        let mut limited = 0;
        for (ours, base) in ours.iter().zip(&base) {
            let name = ours.suite().as_str().unwrap_or_default();
            let limit = common(ours).confidentiality_limit;
            let hash = common(ours).hash_provider.algorithm();
            assert_eq!(hash, common(base).hash_provider.algorithm(), "{name}");
            if name.contains("AES_") && name.contains("_GCM_") {
                assert_eq!(limit, tlsferry_gcm::CONFIDENTIALITY_LIMIT, "{name}");
                limited += 1;
            } else {
                assert_eq!(limit, common(base).confidentiality_limit, "{name} kept");
            }
        }
        assert_eq!(limited, tlsferry_gcm::AES_GCM.len());
    }
}
