//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag, from the bit-sliced
//! AES and the shuffle GHASH, as an `aead` 0.6 algorithm (`AeadInOut`, `KeyInit`) that
//! the record code uses exactly like `aes_gcm::Aes128Gcm` / `Aes256Gcm`.
//!
//! Counter blocks are encrypted 8 at a time; the first batch (counters 1..=8) also gives
//! E_K(J0), which masks the tag. Opening checks the tag (in constant time) before it
//! decrypts anything; a record whose tag does not match is left as it came.

use aes_gcm::aead::consts::{U16, U32};
use aes_gcm::aead::{KeyInit, KeySizeUser};

use super::aes::Aes;
use super::ghash::Ghash;
use super::V;
use crate::gcm_tag::{aead_in_out, lengths, masked, tags_equal};

/// AES-GCM with an `N`-byte key (16 or 32): bit-sliced AES and a shuffle GHASH on
/// WebAssembly SIMD.
pub struct AesGcm<const N: usize> {
    aes: Aes,
    ghash: Ghash,
}

/// AES-128-GCM, as the suites use it on wasm with SIMD (an `aead` 0.6 AEAD).
pub type Aes128Gcm = AesGcm<16>;
/// AES-256-GCM, as the suites use it on wasm with SIMD (an `aead` 0.6 AEAD).
pub type Aes256Gcm = AesGcm<32>;

impl<const N: usize> core::fmt::Debug for AesGcm<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AesGcm").finish_non_exhaustive()
    }
}

impl<const N: usize> AesGcm<N> {
    fn with_key(key: &[u8; N]) -> Self {
        let aes = Aes::new(key);
        let mut zero = [V::zero(); 8];
        aes.encrypt8(&mut zero);
        let mut h = zero[0].to_bytes();
        let ghash = Ghash::new(&h);
        h.fill(0);
        core::hint::black_box(&mut h);
        super::wipe(&mut zero);
        Self { aes, ghash }
    }

    /// Encrypts counters `first..first + 8` (J0 = nonce ‖ 1 is counter 1).
    fn keystream(&self, nonce: &[u8; 12], first: u32) -> [V; 8] {
        let mut j = [0u8; 16];
        j[..12].copy_from_slice(nonce);
        let j = V::from_bytes(&j);
        let mut blocks: [V; 8] = core::array::from_fn(|i| {
            let ctr = first.wrapping_add(i as u32);
            j.with_lane3(u32::from_le_bytes(ctr.to_be_bytes()))
        });
        self.aes.encrypt8(&mut blocks);
        blocks
    }

    /// XORs the keystream into `buf`: data block i takes counter i + 2, and the first
    /// seven keystream blocks are `first[1..]`.
    fn apply_keystream(&self, nonce: &[u8; 12], first: &[V; 8], buf: &mut [u8]) {
        let (head, rest) = buf.split_at_mut(buf.len().min(7 * 16));
        xor_blocks(head, &first[1..]);
        let mut ctr = 9u32;
        for chunk in rest.chunks_mut(8 * 16) {
            let ks = self.keystream(nonce, ctr);
            xor_blocks(chunk, &ks);
            ctr = ctr.wrapping_add(8);
        }
    }

    /// GHASH(aad, ciphertext, lengths) ⊕ E_K(J0).
    fn tag(&self, aad: &[u8], ciphertext: &[u8], mask: V) -> [u8; 16] {
        let mut y = Ghash::start();
        self.ghash.update_padded(&mut y, aad);
        self.ghash.update_padded(&mut y, ciphertext);
        self.ghash.update(&mut y, &lengths(aad, ciphertext));
        masked(Ghash::finish(y), &mask.to_bytes())
    }

    /// Encrypts `buf` in place and returns the tag.
    pub(crate) fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let first = self.keystream(nonce, 1);
        self.apply_keystream(nonce, &first, buf);
        self.tag(aad, buf, first[0])
    }

    /// Checks the tag of `buf` (ciphertext) and, only if it matches, decrypts in place.
    pub(crate) fn open(
        &self,
        nonce: &[u8; 12],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> bool {
        let first = self.keystream(nonce, 1);
        if !tags_equal(&self.tag(aad, buf, first[0]), tag) {
            return false;
        }
        self.apply_keystream(nonce, &first, buf);
        true
    }
}

/// `data ^= keystream`, block by block (the last one may be partial).
#[inline(always)]
fn xor_blocks(data: &mut [u8], ks: &[V]) {
    for (chunk, k) in data.chunks_mut(16).zip(ks) {
        if let Ok(block) = <&mut [u8; 16]>::try_from(&mut *chunk) {
            *block = V::from_bytes(block).xor(*k).to_bytes();
        } else {
            for (d, k) in chunk.iter_mut().zip(k.to_bytes()) {
                *d ^= k;
            }
        }
    }
}

impl KeySizeUser for AesGcm<16> {
    type KeySize = U16;
}

impl KeySizeUser for AesGcm<32> {
    type KeySize = U32;
}

impl KeyInit for AesGcm<16> {
    fn new(key: &aes_gcm::aead::Key<Self>) -> Self {
        Self::with_key(key.as_ref())
    }
}

impl KeyInit for AesGcm<32> {
    fn new(key: &aes_gcm::aead::Key<Self>) -> Self {
        Self::with_key(key.as_ref())
    }
}

aead_in_out!([const N: usize] AesGcm<N>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcm_tag::testing;

    #[test]
    fn gcm_specification_vectors() {
        testing::specification_vectors(|key| match key.len() {
            16 => [("AES-128", testing::boxed(Aes128Gcm::new_from_slice(key)))].into(),
            _ => [("AES-256", testing::boxed(Aes256Gcm::new_from_slice(key)))].into(),
        });
    }

    #[test]
    fn matches_aes_gcm_for_every_length_and_refuses_any_change() {
        testing::against_aes_gcm(|key| match key.len() {
            16 => [("AES-128", testing::boxed(Aes128Gcm::new_from_slice(key)))].into(),
            _ => [("AES-256", testing::boxed(Aes256Gcm::new_from_slice(key)))].into(),
        });
    }

    #[test]
    fn key_init_takes_only_its_key_size() {
        assert!(Aes128Gcm::new_from_slice(&[0; 16]).is_ok());
        assert!(Aes128Gcm::new_from_slice(&[0; 32]).is_err());
        assert!(Aes256Gcm::new_from_slice(&[0; 32]).is_ok());
        assert!(Aes256Gcm::new_from_slice(&[0; 16]).is_err());
    }
}
