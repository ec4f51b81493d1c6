//! The default provider's cipher suites: rustls-rustcrypto's, with the six AES-GCM suites
//! swapped for `tlsferry-gcm`'s (`aes-gcm` 0.11 records and the AES-GCM confidentiality
//! limit). ChaCha20-Poly1305 stays rustls-rustcrypto's, and so does the order, so the
//! ClientHello is unchanged.

use alloc::vec::Vec;

use rustls::SupportedCipherSuite;

/// `suites` with every AES-GCM suite swapped for `tlsferry-gcm`'s, order kept.
pub(crate) fn with_fast_gcm(suites: Vec<SupportedCipherSuite>) -> Vec<SupportedCipherSuite> {
    suites
        .into_iter()
        .map(|suite| {
            tlsferry_gcm::ALL
                .iter()
                .find(|ours| ours.suite() == suite.suite())
                .copied()
                .unwrap_or(suite)
        })
        .collect()
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
                assert_eq!(limit, tlsferry_gcm::CONFIDENTIALITY_LIMIT, "{name}");
                assert!(!same, "{name} replaced");
                replaced += 1;
            } else {
                assert!(same, "{name} kept");
            }
        }
        assert_eq!(replaced, tlsferry_gcm::ALL.len());
    }
}
