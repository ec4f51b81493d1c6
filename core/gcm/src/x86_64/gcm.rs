//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag, as an `aead` 0.6
//! algorithm (`AeadInOut`, `KeyInit`) that the record code uses exactly like
//! `aes_gcm::Aes128Gcm` / `Aes256Gcm`: `aes` in counter mode and the GHASH of
//! [`super::clmul`], or of the `ghash` crate when the CPU lacks PCLMULQDQ.
//!
//! Opening checks the tag (in constant time) before it decrypts anything; a record whose
//! tag does not match is left as it came.

use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::{U16, U32};
use aes_gcm::aead::{KeyInit, KeySizeUser};
use aes_gcm::aes::cipher::{BlockCipherEncrypt, InnerIvInit, StreamCipherCore};
use ghash::universal_hash::UniversalHash;

use super::clmul;
use crate::gcm_tag::{aead_in_out, lengths, masked, tags_equal};

/// Counter mode with a 32-bit big-endian counter, as GCM counts (and as `aes-gcm` runs it).
type Ctr32BE<A> = ctr::CtrCore<A, ctr::flavors::Ctr32BE>;

/// The GHASH in use for one key.
enum Hash {
    Clmul(clmul::Key),
    Portable(ghash::GHash),
}

/// AES-GCM over the block cipher `A` (`aes::Aes128` or `aes::Aes256`): `aes` in counter
/// mode and an eight-block PCLMULQDQ GHASH (the `ghash` crate's on CPUs without it).
pub struct AesGcm<A> {
    aes: A,
    hash: Hash,
}

/// AES-128-GCM, as the suites use it on x86-64 (an `aead` 0.6 AEAD).
pub type Aes128Gcm = AesGcm<aes_gcm::aes::Aes128>;
/// AES-256-GCM, as the suites use it on x86-64 (an `aead` 0.6 AEAD).
pub type Aes256Gcm = AesGcm<aes_gcm::aes::Aes256>;

impl<A> core::fmt::Debug for AesGcm<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let ghash = match self.hash {
            Hash::Clmul(_) => "pclmulqdq",
            Hash::Portable(_) => "ghash crate",
        };
        f.debug_struct("AesGcm")
            .field("ghash", &ghash)
            .finish_non_exhaustive()
    }
}

impl<A: BlockCipherEncrypt<BlockSize = U16>> AesGcm<A> {
    /// Keys GHASH with H = E_K(0); `clmul: false` forces the `ghash` crate (tests).
    fn with_cipher(aes: A, clmul: bool) -> Self {
        let mut h = Array::<u8, U16>::default();
        aes.encrypt_block(&mut h);
        let hash = match clmul.then(|| clmul::Key::new(&h.0)).flatten() {
            Some(k) => Hash::Clmul(k),
            None => Hash::Portable(ghash::GHash::new(&h)),
        };
        // The hash key lives on in `hash` only.
        h.fill(0);
        core::hint::black_box(&mut h);
        Self { aes, hash }
    }

    /// Counter mode from J0 = nonce ‖ 1, and E_K(J0) (the tag mask); the counter then
    /// stands at 2, where the data starts.
    fn ctr(&self, nonce: &[u8; 12]) -> (Ctr32BE<&A>, [u8; 16]) {
        let mut j0 = Array::<u8, U16>::default();
        j0[..12].copy_from_slice(nonce);
        j0[15] = 1;
        let mut ctr = Ctr32BE::inner_iv_init(&self.aes, &j0);
        let mut mask = Array::<u8, U16>::default();
        ctr.write_keystream_block(&mut mask);
        (ctr, mask.into())
    }

    /// GHASH(aad, ciphertext, lengths) ⊕ E_K(J0).
    fn tag(&self, mask: &[u8; 16], aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
        let lengths = lengths(aad, ciphertext);
        let ghash = match &self.hash {
            Hash::Clmul(key) => {
                let mut y = clmul::State::default();
                key.update_padded(&mut y, aad);
                key.update_padded(&mut y, ciphertext);
                key.update_padded(&mut y, &lengths);
                clmul::Key::finish(y)
            }
            Hash::Portable(g) => {
                let mut g = g.clone();
                g.update_padded(aad);
                g.update_padded(ciphertext);
                g.update_padded(&lengths);
                g.finalize().into()
            }
        };
        masked(ghash, mask)
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let (ctr, mask) = self.ctr(nonce);
        ctr.apply_keystream_partial(buf.into());
        self.tag(&mask, aad, buf)
    }

    /// Checks the tag of `buf` (ciphertext) and, only if it matches, decrypts in place.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> bool {
        let (ctr, mask) = self.ctr(nonce);
        if !tags_equal(&self.tag(&mask, aad, buf), tag) {
            return false;
        }
        ctr.apply_keystream_partial(buf.into());
        true
    }
}

impl KeySizeUser for Aes128Gcm {
    type KeySize = U16;
}

impl KeySizeUser for Aes256Gcm {
    type KeySize = U32;
}

impl KeyInit for Aes128Gcm {
    fn new(key: &aes_gcm::aead::Key<Self>) -> Self {
        Self::with_cipher(aes_gcm::aes::Aes128::new(key), true)
    }
}

impl KeyInit for Aes256Gcm {
    fn new(key: &aes_gcm::aead::Key<Self>) -> Self {
        Self::with_cipher(aes_gcm::aes::Aes256::new(key), true)
    }
}

aead_in_out!([A: BlockCipherEncrypt<BlockSize = U16>] AesGcm<A>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcm_tag::testing::{self, Variants};
    use alloc::boxed::Box;

    /// Both GHASH backends for `key`.
    fn variants(key: &[u8]) -> Variants {
        let v = |clmul| -> Box<dyn testing::Gcm> {
            match key.len() {
                16 => Box::new(Aes128Gcm::with_cipher(
                    aes_gcm::aes::Aes128::new_from_slice(key).unwrap(), // ok: test code
                    clmul,
                )),
                _ => Box::new(Aes256Gcm::with_cipher(
                    aes_gcm::aes::Aes256::new_from_slice(key).unwrap(), // ok: test code
                    clmul,
                )),
            }
        };
        [("PCLMULQDQ GHASH", v(true)), ("ghash crate", v(false))].into()
    }

    #[test]
    fn gcm_specification_vectors_with_both_ghash_backends() {
        testing::specification_vectors(variants);
    }

    #[test]
    fn matches_aes_gcm_for_every_length_and_refuses_any_change() {
        testing::against_aes_gcm(variants);
    }

    #[test]
    fn key_init_uses_pclmulqdq_where_the_cpu_has_it() {
        let gcm = Aes256Gcm::new_from_slice(&[7; 32]).unwrap(); // ok: test code
        assert_eq!(
            matches!(gcm.hash, Hash::Clmul(_)),
            clmul::available(),
            "the fast GHASH is chosen exactly when the CPU has PCLMULQDQ and SSSE3"
        );
        assert!(Aes128Gcm::new_from_slice(&[0; 32]).is_err());
        assert!(Aes256Gcm::new_from_slice(&[0; 16]).is_err());
    }
}
