//! What the crate's own AES-GCM implementations ([`crate::simd`] for wasm, and
//! [`crate::x86_64`]) share: SP 800-38D's length limits, the final GHASH block, the tag
//! comparison, and their `aead` traits ([`aead_in_out`]).

/// SP 800-38D: the plaintext is at most 2^39 − 256 bits (2^32 − 2 counter blocks).
const MAX_TEXT: u64 = (1 << 36) - 32;

/// Whether `text` or `aad` is longer than AES-GCM allows.
pub(crate) fn too_long(aad: &[u8], text: &[u8]) -> bool {
    text.len() as u64 > MAX_TEXT || aad.len() as u64 > u64::MAX / 8
}

/// The last block GHASH takes: the bit lengths of the additional data and the text.
pub(crate) fn lengths(aad: &[u8], text: &[u8]) -> [u8; 16] {
    let mut block = [0u8; 16];
    block[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
    block[8..].copy_from_slice(&(text.len() as u64 * 8).to_be_bytes());
    block
}

/// `ghash ⊕ mask`: the tag.
pub(crate) fn masked(mut ghash: [u8; 16], mask: &[u8; 16]) -> [u8; 16] {
    for (t, m) in ghash.iter_mut().zip(mask) {
        *t ^= m;
    }
    ghash
}

/// Compares two tags in constant time.
pub(crate) fn tags_equal(a: &[u8; 16], b: &[u8; 16]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
    core::hint::black_box(diff) == 0
}

/// Implements `AeadCore` (96-bit nonce, 128-bit tag after the text) and `AeadInOut` for
/// an AES-GCM type with `seal(&self, nonce, aad, buf) -> [u8; 16]` (encrypts in place,
/// returns the tag) and `open(&self, nonce, aad, buf, tag) -> bool` (decrypts in place
/// only if the tag matches). `aead_in_out!([generics] Type)`.
macro_rules! aead_in_out {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> aes_gcm::aead::AeadCore for $ty {
            type NonceSize = aes_gcm::aead::consts::U12;
            type TagSize = aes_gcm::aead::consts::U16;
            const TAG_POSITION: aes_gcm::aead::TagPosition = aes_gcm::aead::TagPosition::Postfix;
        }

        impl<$($generics)*> aes_gcm::aead::AeadInOut for $ty {
            fn encrypt_inout_detached(
                &self,
                nonce: &aes_gcm::aead::Nonce<Self>,
                associated_data: &[u8],
                buffer: aes_gcm::aead::inout::InOutBuf<'_, '_, u8>,
            ) -> Result<aes_gcm::aead::Tag<Self>, aes_gcm::aead::Error> {
                let buf = buffer.into_out_with_copied_in();
                if $crate::gcm_tag::too_long(associated_data, buf) {
                    return Err(aes_gcm::aead::Error);
                }
                Ok(self.seal(nonce.as_ref(), associated_data, buf).into())
            }

            fn decrypt_inout_detached(
                &self,
                nonce: &aes_gcm::aead::Nonce<Self>,
                associated_data: &[u8],
                buffer: aes_gcm::aead::inout::InOutBuf<'_, '_, u8>,
                tag: &aes_gcm::aead::Tag<Self>,
            ) -> Result<(), aes_gcm::aead::Error> {
                let buf = buffer.into_out_with_copied_in();
                if $crate::gcm_tag::too_long(associated_data, buf) {
                    return Err(aes_gcm::aead::Error);
                }
                match self.open(nonce.as_ref(), associated_data, buf, tag.as_ref()) {
                    true => Ok(()),
                    false => Err(aes_gcm::aead::Error),
                }
            }
        }
    };
}

pub(crate) use aead_in_out;

/// The tests every AES-GCM of the crate runs: published vectors, and agreement with
/// `aes-gcm` for every length with any change refused.
#[cfg(test)]
pub(crate) mod testing {
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    use aes_gcm::aead::consts::{U12, U16};
    use aes_gcm::aead::{AeadInOut, KeyInit};

    /// An AES-GCM under test.
    pub(crate) trait Gcm {
        /// Encrypts in place, returns the tag.
        fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16];
        /// Decrypts in place if the tag matches.
        fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool;
    }

    impl<T: AeadInOut<NonceSize = U12, TagSize = U16>> Gcm for T {
        fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
            let tag = self.encrypt_inout_detached(nonce.into(), aad, buf.into());
            tag.unwrap().into() // ok: test code
        }

        fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
            self.decrypt_inout_detached(nonce.into(), aad, buf.into(), tag.into())
                .is_ok()
        }
    }

    /// The variants to test for one key: names and AEADs.
    pub(crate) type Variants = Vec<(&'static str, Box<dyn Gcm>)>;

    /// A keyed AEAD, boxed.
    pub(crate) fn boxed<T: Gcm + 'static, E: core::fmt::Debug>(gcm: Result<T, E>) -> Box<dyn Gcm> {
        Box::new(gcm.unwrap()) // ok: test code
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()) // ok: test code
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

    /// Every variant seals the published vectors and opens them again.
    pub(crate) fn specification_vectors(variants: impl Fn(&[u8]) -> Variants) {
        for (key, nonce, plain, aad, cipher, tag) in VECTORS {
            let (key, aad) = (hex(key), hex(aad));
            let nonce: [u8; 12] = hex(nonce).try_into().unwrap(); // ok: test code
            for (name, gcm) in variants(&key) {
                let mut buf = hex(plain);
                let got = gcm.seal(&nonce, &aad, &mut buf);
                assert_eq!(buf, hex(cipher), "{name}");
                assert_eq!(got.to_vec(), hex(tag), "{name}");
                assert!(gcm.open(&nonce, &aad, &mut buf, &got), "{name}");
                assert_eq!(buf, hex(plain), "{name}");
            }
        }
    }

    /// `aes-gcm`'s ciphertext and tag.
    fn reference_seal(key: &[u8], nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        match key.len() {
            16 => aes_gcm::Aes128Gcm::new_from_slice(key)
                .unwrap() // ok: test code
                .seal(nonce, aad, buf),
            _ => aes_gcm::Aes256Gcm::new_from_slice(key)
                .unwrap() // ok: test code
                .seal(nonce, aad, buf),
        }
    }

    /// Every variant agrees with `aes-gcm` for every length up to 300 bytes and around
    /// the batch and record sizes, and refuses a changed byte of text, data or tag
    /// without decrypting anything.
    pub(crate) fn against_aes_gcm(variants: impl Fn(&[u8]) -> Variants) {
        let key: [u8; 32] = core::array::from_fn(|i| (i as u8).wrapping_mul(29) ^ 0xa5);
        let nonce: [u8; 12] = core::array::from_fn(|i| (i as u8).wrapping_mul(11) ^ 0x3c);
        let lengths = (0..=300).chain([511, 512, 513, 4095, 16_383, 16_384, 16_400]);
        for key_len in [16usize, 32] {
            let key = &key[..key_len];
            for (name, gcm) in variants(key) {
                for len in lengths.clone() {
                    let aad: Vec<u8> = (0..len % 37).map(|i| (i * 3) as u8).collect();
                    let plain: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
                    let mut want = plain.clone();
                    let want_tag = reference_seal(key, &nonce, &aad, &mut want);
                    let mut buf = plain.clone();
                    let tag = gcm.seal(&nonce, &aad, &mut buf);
                    assert_eq!(buf, want, "{name} len {len}");
                    assert_eq!(tag, want_tag, "{name} len {len}");
                    let positions = match len {
                        0..40 => (0..len).collect(),
                        _ => Vec::from([0, len / 2, len - 1]),
                    };
                    for i in positions {
                        let mut bad = buf.clone();
                        bad[i] ^= 0x01;
                        assert!(!gcm.open(&nonce, &aad, &mut bad, &tag), "{name} len {len}");
                        bad[i] ^= 0x01;
                        assert_eq!(bad, buf, "nothing is decrypted without a valid tag");
                    }
                    if !aad.is_empty() {
                        let mut bad_aad = aad.clone();
                        bad_aad[0] ^= 0x80;
                        assert!(!gcm.open(&nonce, &bad_aad, &mut buf.clone(), &tag));
                    }
                    let mut bad_tag = tag;
                    bad_tag[len % 16] ^= 1;
                    assert!(!gcm.open(&nonce, &aad, &mut buf.clone(), &bad_tag));
                    assert!(gcm.open(&nonce, &aad, &mut buf, &tag), "{name} len {len}");
                    assert_eq!(buf, plain, "{name} len {len}");
                }
            }
        }
    }
}
