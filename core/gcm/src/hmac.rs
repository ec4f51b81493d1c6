//! HMAC-SHA-256 and HMAC-SHA-384 for rustls (`rustls::crypto::hmac::Hmac`), on `hmac`
//! 0.13 and `sha2` 0.11, and the suites' key derivation on top of them through rustls'
//! own adapters: HKDF for TLS 1.3 (`HkdfUsingHmac`), the PRF for TLS 1.2 (`PrfUsingHmac`).

use alloc::boxed::Box;
use core::marker::PhantomData;

use hmac::{KeyInit, Mac};
use rustls::crypto::hmac::{Hmac, Key, Tag};
use rustls::crypto::tls12::PrfUsingHmac;
use rustls::crypto::tls13::HkdfUsingHmac;
use sha2::digest::block_api::EagerHash;
use sha2::digest::OutputSizeUser;
use sha2::{Sha256, Sha384};

/// The rustls HMAC provider over the hash `D`.
pub(crate) struct HmacSha<D>(PhantomData<fn() -> D>);

impl<D> HmacSha<D> {
    pub(crate) const fn new() -> Self {
        Self(PhantomData)
    }
}

static HMAC_SHA256: HmacSha<Sha256> = HmacSha::new();
static HMAC_SHA384: HmacSha<Sha384> = HmacSha::new();

/// HKDF-SHA-256, the key schedule of the TLS 1.3 `*_SHA256` suites.
pub(crate) static HKDF_SHA256: HkdfUsingHmac<'static> = HkdfUsingHmac(&HMAC_SHA256);
/// HKDF-SHA-384, the key schedule of the TLS 1.3 `*_SHA384` suites.
pub(crate) static HKDF_SHA384: HkdfUsingHmac<'static> = HkdfUsingHmac(&HMAC_SHA384);
/// The TLS 1.2 PRF with SHA-256 (RFC 5246 §5).
pub(crate) static PRF_SHA256: PrfUsingHmac<'static> = PrfUsingHmac(&HMAC_SHA256);
/// The TLS 1.2 PRF with SHA-384 (RFC 5288 §3).
pub(crate) static PRF_SHA384: PrfUsingHmac<'static> = PrfUsingHmac(&HMAC_SHA384);

/// A `sha2` hash HMAC can be keyed with (its output fits rustls' `Tag`).
pub(crate) trait HmacHash: EagerHash + OutputSizeUser + Send + Sync + 'static {}

impl HmacHash for Sha256 {}
impl HmacHash for Sha384 {}

impl<D: HmacHash> Hmac for HmacSha<D>
where
    hmac::Hmac<D>: Send + Sync,
{
    fn with_key(&self, key: &[u8]) -> Box<dyn Key> {
        // HMAC takes keys of any length (longer ones are hashed first), so this cannot fail.
        match hmac::Hmac::<D>::new_from_slice(key) {
            Ok(mac) => Box::new(Keyed(mac)),
            Err(_) => Box::new(Keyed(hmac::Hmac::<D>::new(&Default::default()))),
        }
    }

    fn hash_output_len(&self) -> usize {
        <D as OutputSizeUser>::output_size()
    }
}

/// HMAC with its key absorbed: each tag starts from a copy of this state, so the key is
/// not hashed again for every HKDF-Expand block or PRF round.
struct Keyed<D: HmacHash>(hmac::Hmac<D>);

impl<D: HmacHash> Key for Keyed<D>
where
    hmac::Hmac<D>: Send + Sync,
{
    fn sign_concat(&self, first: &[u8], middle: &[&[u8]], last: &[u8]) -> Tag {
        let mut mac = self.0.clone();
        mac.update(first);
        for part in middle {
            mac.update(part);
        }
        mac.update(last);
        Tag::new(&mac.finalize().into_bytes())
    }

    fn tag_len(&self) -> usize {
        <D as OutputSizeUser>::output_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use rustls::crypto::tls12::Prf;
    use rustls::crypto::tls13::Hkdf;
    use rustls::SupportedCipherSuite;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()) // ok: test code
            .collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_test_case_2_in_one_piece_and_in_several() {
        let data = b"what do ya want for nothing?";
        let cases: [(&dyn Hmac, &str); 2] = [
            (
                &HMAC_SHA256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                &HMAC_SHA384,
                concat!(
                    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47",
                    "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"
                ),
            ),
        ];
        for (hmac, expect) in cases {
            let expect = hex(expect);
            let key = hmac.with_key(b"Jefe");
            assert_eq!(hmac.hash_output_len(), expect.len());
            assert_eq!(key.tag_len(), expect.len());
            assert_eq!(key.sign(&[data]).as_ref(), expect);
            let (a, rest) = data.split_at(4);
            let (b, c) = rest.split_at(10);
            assert_eq!(key.sign_concat(a, &[b], c).as_ref(), expect);
            assert_eq!(key.sign_concat(&[], &[a, b, c], &[]).as_ref(), expect);
            // The key is reusable: a second tag from the same key is the same.
            assert_eq!(key.sign(&[data]).as_ref(), expect);
        }
        // RFC 4231 test case 6: a 131-byte key is hashed first.
        let long = HMAC_SHA256.with_key(&[0xaa; 131]);
        let tag = long.sign(&[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(
            tag.as_ref(),
            hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        );
    }

    #[test]
    fn hkdf_matches_rfc_5869_test_case_1() {
        let ikm = [0x0b; 22];
        let salt = hex("000102030405060708090a0b0c");
        let info = hex("f0f1f2f3f4f5f6f7f8f9");
        let expander = HKDF_SHA256.extract_from_secret(Some(&salt), &ikm);
        let mut okm = [0u8; 42];
        expander
            .expand_slice(&[&info[..5], &info[5..]], &mut okm)
            .unwrap(); // ok: test code
        let expect = concat!(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0",
            "2d56ecc4c5bf34007208d5b887185865"
        );
        assert_eq!(okm.to_vec(), hex(expect));
        // Longer than 255 hash lengths is refused, not truncated or a panic.
        let mut too_long = vec![0u8; 255 * 32 + 1];
        assert!(expander.expand_slice(&[&info], &mut too_long).is_err());
    }

    #[test]
    fn prf_matches_the_published_tls12_vectors() {
        // The TLS 1.2 PRF test vectors posted to the TLS working group list (also
        // `openssl kdf ... TLS1-PRF` output).
        let label = b"test label";
        let mut out = [0u8; 100];
        PRF_SHA256.for_secret(
            &mut out,
            &hex("9bbe436ba940f017b17652849a71db35"),
            label,
            &hex("a0ba9f936cda311827a6f796ffd5198c"),
        );
        let expect = concat!(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a",
            "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab",
            "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701",
            "87347b66"
        );
        assert_eq!(out.to_vec(), hex(expect));
        let mut out = [0u8; 148];
        PRF_SHA384.for_secret(
            &mut out,
            &hex("b80b733d6ceefcdc71566ea48e5567df"),
            label,
            &hex("cd665cf6a8447dd6ff8b27555edb7465"),
        );
        let expect = concat!(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd",
            "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd",
            "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425",
            "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6",
            "91c8f3a26854308d5eaa3be85e0990703d73e56f"
        );
        assert_eq!(out.to_vec(), hex(expect));
    }

    #[test]
    fn hkdf_and_prf_match_rustls_rustcrypto() {
        let tls13 = |s: SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls13(s) => s.hkdf_provider,
            SupportedCipherSuite::Tls12(_) => unreachable!(), // ok: test code
        };
        let tls12 = |s: SupportedCipherSuite| match s {
            SupportedCipherSuite::Tls12(s) => s.prf_provider,
            SupportedCipherSuite::Tls13(_) => unreachable!(), // ok: test code
        };
        let hkdfs: [(&dyn Hkdf, &dyn Hkdf); 2] = [
            (
                &HKDF_SHA256,
                tls13(rustls_rustcrypto::TLS13_AES_128_GCM_SHA256),
            ),
            (
                &HKDF_SHA384,
                tls13(rustls_rustcrypto::TLS13_AES_256_GCM_SHA384),
            ),
        ];
        let secret: Vec<u8> = (0..200u8).collect();
        for (ours, theirs) in hkdfs {
            for (salt, len) in [(None, 0), (Some(&b"salt"[..]), 48), (Some(&[][..]), 200)] {
                let (a, b) = (
                    ours.extract_from_secret(salt, &secret[..len]),
                    theirs.extract_from_secret(salt, &secret[..len]),
                );
                let (mut x, mut y) = ([0u8; 300], [0u8; 300]);
                a.expand_slice(&[b"tls13 ", b"derived"], &mut x).unwrap(); // ok: test code
                b.expand_slice(&[b"tls13 ", b"derived"], &mut y).unwrap(); // ok: test code
                assert_eq!(x, y);
                let (a, b) = (
                    ours.extract_from_zero_ikm(salt),
                    theirs.extract_from_zero_ikm(salt),
                );
                assert_eq!(
                    a.expand_block(&[b"x"]).as_ref(),
                    b.expand_block(&[b"x"]).as_ref()
                );
            }
        }
        let prfs: [(&dyn Prf, &dyn Prf); 2] = [
            (
                &PRF_SHA256,
                tls12(rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256),
            ),
            (
                &PRF_SHA384,
                tls12(rustls_rustcrypto::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384),
            ),
        ];
        for (ours, theirs) in prfs {
            let (mut x, mut y) = ([0u8; 104], [0u8; 104]);
            ours.for_secret(&mut x, &secret[..48], b"key expansion", &secret[100..164]);
            theirs.for_secret(&mut y, &secret[..48], b"key expansion", &secret[100..164]);
            assert_eq!(x, y);
        }
    }
}
