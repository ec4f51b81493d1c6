//! AES-GCM (NIST SP 800-38D) with a 96-bit nonce and a 128-bit tag, from the bit-sliced
//! AES and the shuffle GHASH, as an `aead` 0.6 algorithm (`AeadInOut`, `KeyInit`) that
//! the record code uses exactly like `aes_gcm::Aes128Gcm` / `Aes256Gcm`.
//!
//! Counter blocks are encrypted 8 at a time; the first batch (counters 1..=8) also gives
//! E_K(J0), which masks the tag. Opening checks the tag (in constant time) before it
//! decrypts anything; a record whose tag does not match is left as it came.

use aes_gcm::aead::consts::{U12, U16, U32};
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadCore, AeadInOut, Error, KeyInit, KeySizeUser, Nonce, Tag, TagPosition};

use super::aes::Aes;
use super::ghash::Ghash;
use super::V;

/// SP 800-38D: the plaintext is at most 2^39 − 256 bits, the additional data at most
/// 2^64 − 1 bits.
const MAX_TEXT: u64 = (1 << 36) - 32;

/// AES-GCM with an `N`-byte key (16 or 32).
pub(crate) struct AesGcm<const N: usize> {
    aes: Aes,
    ghash: Ghash,
}

/// AES-128-GCM.
pub(crate) type Aes128Gcm = AesGcm<16>;
/// AES-256-GCM.
pub(crate) type Aes256Gcm = AesGcm<32>;

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
        let mut lengths = [0u8; 16];
        lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
        lengths[8..].copy_from_slice(&(ciphertext.len() as u64 * 8).to_be_bytes());
        self.ghash.update(&mut y, &lengths);
        let mut tag = Ghash::finish(y);
        for (t, m) in tag.iter_mut().zip(mask.to_bytes()) {
            *t ^= m;
        }
        tag
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
        let expect = self.tag(aad, buf, first[0]);
        let diff = expect.iter().zip(tag).fold(0u8, |d, (a, b)| d | (a ^ b));
        if core::hint::black_box(diff) != 0 {
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

fn too_long(aad: &[u8], text: &[u8]) -> bool {
    text.len() as u64 > MAX_TEXT || aad.len() as u64 > u64::MAX / 8
}

impl<const N: usize> AeadCore for AesGcm<N> {
    type NonceSize = U12;
    type TagSize = U16;
    const TAG_POSITION: TagPosition = TagPosition::Postfix;
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

impl<const N: usize> AeadInOut for AesGcm<N> {
    fn encrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        associated_data: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
    ) -> Result<Tag<Self>, Error> {
        let buf = buffer.into_out_with_copied_in();
        if too_long(associated_data, buf) {
            return Err(Error);
        }
        Ok(self.seal(nonce.as_ref(), associated_data, buf).into())
    }

    fn decrypt_inout_detached(
        &self,
        nonce: &Nonce<Self>,
        associated_data: &[u8],
        buffer: InOutBuf<'_, '_, u8>,
        tag: &Tag<Self>,
    ) -> Result<(), Error> {
        let buf = buffer.into_out_with_copied_in();
        if too_long(associated_data, buf) {
            return Err(Error);
        }
        match self.open(nonce.as_ref(), associated_data, buf, tag.as_ref()) {
            true => Ok(()),
            false => Err(Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// (key, nonce, plaintext, aad, ciphertext, tag): test cases 2, 3 and 4 of the GCM
    /// specification (McGrew & Viega), and 14 and 16 (their AES-256 forms).
    const VECTORS: [(&str, &str, &str, &str, &str, &str); 5] = [
        (
            "00000000000000000000000000000000",
            "000000000000000000000000",
            "00000000000000000000000000000000",
            "",
            "0388dace60b6a392f328c2b971b2fe78",
            "ab6e47d42cec13bdf53a67b21257bddf",
        ),
        (
            "feffe9928665731c6d6a8f9467308308",
            "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            "",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
            "4d5c2af327cd64a62cf35abd2ba6fab4",
        ),
        (
            "feffe9928665731c6d6a8f9467308308",
            "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
            "5bc94fbc3221a5db94fae95ae7121a47",
        ),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            "000000000000000000000000",
            "00000000000000000000000000000000",
            "",
            "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919",
        ),
        (
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "cafebabefacedbaddecaf888",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b",
        ),
    ];

    /// AES-128-GCM or AES-256-GCM by key size, next to `aes-gcm`'s.
    enum Pair {
        Aes128(Aes128Gcm, aes_gcm::Aes128Gcm),
        Aes256(Aes256Gcm, aes_gcm::Aes256Gcm),
    }

    impl Pair {
        fn new(key: &[u8]) -> Self {
            match key.len() {
                16 => Self::Aes128(
                    Aes128Gcm::new_from_slice(key).unwrap(),
                    aes_gcm::Aes128Gcm::new_from_slice(key).unwrap(),
                ),
                _ => Self::Aes256(
                    Aes256Gcm::new_from_slice(key).unwrap(),
                    aes_gcm::Aes256Gcm::new_from_slice(key).unwrap(),
                ),
            }
        }

        fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
            match self {
                Self::Aes128(ours, _) => ours.seal(nonce, aad, buf),
                Self::Aes256(ours, _) => ours.seal(nonce, aad, buf),
            }
        }

        fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
            match self {
                Self::Aes128(ours, _) => ours.open(nonce, aad, buf, tag),
                Self::Aes256(ours, _) => ours.open(nonce, aad, buf, tag),
            }
        }

        fn reference_seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
            match self {
                Self::Aes128(_, theirs) => {
                    theirs.encrypt_inout_detached(nonce.into(), aad, buf.into())
                }
                Self::Aes256(_, theirs) => {
                    theirs.encrypt_inout_detached(nonce.into(), aad, buf.into())
                }
            }
            .unwrap()
            .0
        }
    }

    #[test]
    fn gcm_specification_vectors() {
        for (key, nonce, plain, aad, cipher, tag) in VECTORS {
            let (key, aad) = (hex(key), hex(aad));
            let nonce: [u8; 12] = hex(nonce).try_into().unwrap();
            let gcm = Pair::new(&key);
            let mut buf = hex(plain);
            let got = gcm.seal(&nonce, &aad, &mut buf);
            assert_eq!(buf, hex(cipher));
            assert_eq!(got.to_vec(), hex(tag));
            assert!(gcm.open(&nonce, &aad, &mut buf, &got));
            assert_eq!(buf, hex(plain));
        }
    }

    #[test]
    fn matches_aes_gcm_for_every_length_and_refuses_any_change() {
        let key: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(71) ^ 0x3c);
        let nonce: [u8; 12] = core::array::from_fn(|i| (i as u8).wrapping_mul(5) ^ 0x99);
        let lengths = (0..=64).chain([127, 128, 129, 255, 1000, 16 * 8 * 3 + 5, 16_384]);
        for key_len in [16usize, 32] {
            let gcm = Pair::new(&key[..key_len]);
            for len in lengths.clone() {
                let aad: Vec<u8> = (0..len % 29).map(|i| i as u8).collect();
                let plain: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
                let mut want = plain.clone();
                let want_tag = gcm.reference_seal(&nonce, &aad, &mut want);
                let mut buf = plain.clone();
                let tag = gcm.seal(&nonce, &aad, &mut buf);
                assert_eq!(buf, want, "AES-{} len {len}", key_len * 8);
                assert_eq!(tag, want_tag, "AES-{} len {len}", key_len * 8);
                let positions: Vec<usize> = match len {
                    0..40 => (0..len).collect(),
                    16_384 => [0, 16_383].to_vec(),
                    _ => Vec::new(),
                };
                for i in positions {
                    let mut bad = buf.clone();
                    bad[i] ^= 0x20;
                    let before = bad.clone();
                    assert!(!gcm.open(&nonce, &aad, &mut bad, &tag));
                    assert_eq!(bad, before, "nothing is decrypted without a valid tag");
                }
                let mut bad_tag = tag;
                bad_tag[len % 16] ^= 1;
                assert!(!gcm.open(&nonce, &aad, &mut buf.clone(), &bad_tag));
                assert!(gcm.open(&nonce, &aad, &mut buf, &tag));
                assert_eq!(buf, plain);
            }
        }
    }

    #[test]
    fn key_init_takes_only_its_key_size() {
        assert!(Aes128Gcm::new_from_slice(&[0; 16]).is_ok());
        assert!(Aes128Gcm::new_from_slice(&[0; 32]).is_err());
        assert!(Aes256Gcm::new_from_slice(&[0; 32]).is_ok());
        assert!(Aes256Gcm::new_from_slice(&[0; 16]).is_err());
    }
}
