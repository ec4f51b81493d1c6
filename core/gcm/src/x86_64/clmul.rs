//! GHASH (NIST SP 800-38D §6.4) with PCLMULQDQ, eight blocks per reduction, or with
//! 512-bit VPCLMULQDQ (AVX-512), sixteen blocks per reduction, four per instruction.
//!
//! **Representation.** Computed as POLYVAL (RFC 8452), whose field needs no bit
//! reflection: GHASH(H, X1..Xn) = ByteReverse(POLYVAL(mulX(ByteReverse(H)),
//! ByteReverse(X1), …)) (RFC 8452, Appendix A). A byte-reversed block is the block read
//! as a big-endian integer (`u128::from_be_bytes`); bit i of that integer is the
//! coefficient of x^i in GF(2^128) = GF(2)[x] / P, P = x^128 + x^127 + x^126 + x^121 + 1.
//! POLYVAL multiplies with dot(a, b) = a·b·x^-128 mod P, and one step is
//! Y ← dot(Y ⊕ X, H).
//!
//! **Aggregation.** dot is bilinear, so eight steps are
//! dot(Y ⊕ X1, H^8) ⊕ dot(X2, H^7) ⊕ … ⊕ dot(X8, H), with H^k the dot-powers of H: the
//! eight 256-bit carry-less products are summed and reduced once. On 512-bit vectors each
//! lane multiplies one block by its power, and the lanes are summed before the reduction.
//!
//! **Reduction** (Montgomery, 64 bits at a time): for the low 64-bit limb m of the
//! product, adding m·P clears it (P ≡ 1 mod x^64) and moves m·(x^121 + x^126 + x^127) =
//! m·c·x^64 (c = x^57 + x^62 + x^63) and m·x^128 up; done twice, the low 128 bits are
//! zero and the high 128 bits are the product times x^-128.
//!
//! No branch and no memory access depends on H or on the data.

use core::arch::x86_64::{
    __m128i, __m512i, _mm256_extracti128_si256, _mm256_xor_si256, _mm512_broadcast_i32x4,
    _mm512_clmulepi64_epi128, _mm512_extracti64x4_epi64, _mm512_inserti32x4, _mm512_loadu_si512,
    _mm512_set_epi64, _mm512_setzero_si512, _mm512_shuffle_epi8, _mm512_xor_si512,
    _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set_epi8, _mm_shuffle_epi32,
    _mm_shuffle_epi8, _mm_slli_si128, _mm_srli_si128, _mm_unpackhi_epi64, _mm_xor_si128,
};

/// Blocks per reduction with 128-bit PCLMULQDQ.
const GROUP: usize = 8;

/// Blocks per reduction with 512-bit VPCLMULQDQ (four blocks per instruction); the key
/// holds H^1 ..= H^WIDE.
const WIDE: usize = 16;

/// x^128 mod P as a 128-bit integer: x^127 + x^126 + x^121 + 1.
const X128: u128 = 0xc200_0000_0000_0000_0000_0000_0000_0001;

/// c = x^57 + x^62 + x^63: the part of P above x^64 that one Montgomery step moves up.
const C: u64 = 0xc200_0000_0000_0000;

cpufeatures::new!(clmul_cpu, "sse2", "pclmulqdq", "ssse3");
cpufeatures::new!(wide_cpu, "avx512f", "avx512bw", "vpclmulqdq");

/// Whether this CPU has the instructions [`Key`] needs (detected once, then cached).
pub(crate) fn available() -> bool {
    clmul_cpu::get()
}

/// A GHASH key: the dot-powers of H, highest first (`powers[i]` = H^(WIDE − i)).
pub(crate) struct Key {
    powers: [u128; WIDE],
    /// Whether the CPU has 512-bit VPCLMULQDQ (AVX-512F, AVX-512BW).
    wide: bool,
}

impl Drop for Key {
    fn drop(&mut self) {
        self.powers = [0; WIDE];
        core::hint::black_box(&mut self.powers);
    }
}

/// A running GHASH: the POLYVAL accumulator Y.
#[derive(Clone, Copy, Default)]
pub(crate) struct State(u128);

impl Key {
    /// The key for hash key `h` (E_K(0¹²⁸)), or `None` if the CPU lacks PCLMULQDQ or
    /// SSSE3.
    pub(crate) fn new(h: &[u8; 16]) -> Option<Self> {
        Self::with_width(h, wide_cpu::get())
    }

    /// [`Key::new`], with the 512-bit path only if `wide` (and the CPU has it).
    fn with_width(h: &[u8; 16], wide: bool) -> Option<Self> {
        if !available() {
            return None;
        }
        let h = u128::from_be_bytes(*h);
        // mulX: H·x mod P.
        let h = (h << 1) ^ ((h >> 127).wrapping_neg() & X128);
        // SAFETY: `available()` checked that the CPU has every feature `powers` enables.
        #[allow(unsafe_code)]
        let powers = unsafe { powers(h) };
        Some(Self {
            powers,
            wide: wide && wide_cpu::get(),
        })
    }

    /// Hashes `data` into `state`, the last block padded with zeros.
    pub(crate) fn update_padded(&self, state: &mut State, data: &[u8]) {
        if self.wide {
            // SAFETY: `wide` is set only if the CPU has every feature `update_wide`
            // enables, and a `Key` exists only if `available()` was true (`with_width`).
            #[allow(unsafe_code)]
            unsafe {
                update_wide(&mut state.0, &self.powers, data)
            }
        } else {
            // SAFETY: a `Key` exists only if `available()` was true (`with_width`).
            #[allow(unsafe_code)]
            unsafe {
                update(&mut state.0, &self.powers, data)
            }
        }
    }

    /// The GHASH value of `state`.
    pub(crate) fn finish(state: State) -> [u8; 16] {
        state.0.to_be_bytes()
    }
}

/// A 128-bit integer as a vector.
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn load(x: u128) -> __m128i {
    _mm_set_epi64x((x >> 64) as i64, x as i64)
}

/// A vector as a 128-bit integer.
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn store(v: __m128i) -> u128 {
    let lo = _mm_cvtsi128_si64(v) as u64;
    let hi = _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)) as u64;
    (u128::from(hi) << 64) | u128::from(lo)
}

/// A 16-byte block byte-reversed (the big-endian integer) into a vector: one unaligned
/// load and one byte shuffle.
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn load_block(block: &[u8]) -> __m128i {
    let mut b = [0u8; 16];
    b.copy_from_slice(block);
    let reverse = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    _mm_shuffle_epi8(load(u128::from_le_bytes(b)), reverse)
}

/// The 256-bit carry-less product a·b as three parts: lo (x^0..), mid (x^64..), hi (x^128..).
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn mul(a: __m128i, b: __m128i) -> [__m128i; 3] {
    [
        _mm_clmulepi64_si128::<0x00>(a, b),
        _mm_xor_si128(
            _mm_clmulepi64_si128::<0x01>(a, b),
            _mm_clmulepi64_si128::<0x10>(a, b),
        ),
        _mm_clmulepi64_si128::<0x11>(a, b),
    ]
}

#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn xor3(a: [__m128i; 3], b: [__m128i; 3]) -> [__m128i; 3] {
    [
        _mm_xor_si128(a[0], b[0]),
        _mm_xor_si128(a[1], b[1]),
        _mm_xor_si128(a[2], b[2]),
    ]
}

/// One Montgomery step: clears the low limb of `v`, moving the window down 64 bits.
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn fold(v: __m128i) -> __m128i {
    let c = _mm_set_epi64x(0, C as i64);
    _mm_xor_si128(
        _mm_clmulepi64_si128::<0x00>(v, c),
        _mm_shuffle_epi32::<0x4e>(v),
    )
}

/// (lo, mid, hi)·x^-128 mod P.
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn reduce([lo, mid, hi]: [__m128i; 3]) -> __m128i {
    let lo = _mm_xor_si128(lo, _mm_slli_si128::<8>(mid));
    let hi = _mm_xor_si128(hi, _mm_srli_si128::<8>(mid));
    _mm_xor_si128(hi, fold(fold(lo)))
}

/// dot(a, b) = a·b·x^-128 mod P.
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn dot(a: u128, b: u128) -> u128 {
    store(reduce(mul(load(a), load(b))))
}

/// H^WIDE ..= H^1 from H.
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn powers(h: u128) -> [u128; WIDE] {
    let mut powers = [h; WIDE];
    for i in (0..WIDE - 1).rev() {
        powers[i] = dot(powers[i + 1], h);
    }
    powers
}

/// Y ← dot(…dot(Y ⊕ X1, H) ⊕ X2…, H) over the blocks of `blocks`, with `powers` the
/// `blocks.len() / 16` highest… lowest powers to use (H^n ..= H^1).
#[inline]
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn absorb(y: __m128i, blocks: &[u8], powers: &[__m128i]) -> __m128i {
    let mut sum = [_mm_set_epi64x(0, 0); 3];
    for (i, (block, h)) in blocks.chunks_exact(16).zip(powers).enumerate() {
        let mut x = load_block(block);
        if i == 0 {
            x = _mm_xor_si128(x, y);
        }
        sum = xor3(sum, mul(x, *h));
    }
    reduce(sum)
}

/// Hashes `data` into `state` eight blocks per reduction (the last block padded with
/// zeros), with H^8 ..= H^1 from the end of `powers`.
#[target_feature(enable = "sse2,pclmulqdq,ssse3")]
fn update(state: &mut u128, powers: &[u128; WIDE], data: &[u8]) {
    let h: [__m128i; GROUP] = core::array::from_fn(|i| load(powers[WIDE - GROUP + i]));
    let mut y = load(*state);
    let mut groups = data.chunks_exact(16 * GROUP);
    for group in &mut groups {
        y = absorb(y, group, &h);
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        let n = rest.len().div_ceil(16);
        let mut padded = [0u8; 16 * GROUP];
        padded[..rest.len()].copy_from_slice(rest);
        y = absorb(y, &padded[..16 * n], &h[GROUP - n..]);
    }
    *state = store(y);
}

/// Four powers as one 512-bit vector, `p[0]` in the lowest lane (the first block's).
#[inline]
#[target_feature(enable = "avx512f")]
fn pack4(p: &[u128]) -> __m512i {
    let w = |i: usize| p.get(i).copied().unwrap_or(0);
    let lo = |i: usize| w(i) as i64;
    let hi = |i: usize| (w(i) >> 64) as i64;
    _mm512_set_epi64(hi(3), lo(3), hi(2), lo(2), hi(1), lo(1), hi(0), lo(0))
}

/// The XOR of the four 128-bit lanes of `v`.
#[inline]
#[target_feature(enable = "avx512f")]
fn fold4(v: __m512i) -> __m128i {
    let v = _mm256_xor_si256(
        _mm512_extracti64x4_epi64::<0>(v),
        _mm512_extracti64x4_epi64::<1>(v),
    );
    _mm_xor_si128(
        _mm256_extracti128_si256::<0>(v),
        _mm256_extracti128_si256::<1>(v),
    )
}

/// [`update`] sixteen blocks per reduction on 512-bit vectors: each VPCLMULQDQ multiplies
/// four blocks by four powers; the lanes are summed before the one reduction.
#[target_feature(enable = "sse2,pclmulqdq,ssse3,avx512f,avx512bw,vpclmulqdq")]
fn update_wide(state: &mut u128, powers: &[u128; WIDE], data: &[u8]) {
    let p: [__m512i; WIDE / 4] = core::array::from_fn(|i| pack4(&powers[4 * i..]));
    let reverse = _mm512_broadcast_i32x4(_mm_set_epi8(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ));
    let mut y = load(*state);
    let mut groups = data.chunks_exact(16 * WIDE);
    for group in &mut groups {
        let mut sum = [_mm512_setzero_si512(); 3];
        for (i, (quad, h)) in group.chunks_exact(64).zip(&p).enumerate() {
            // SAFETY: `quad` is 64 readable bytes (`chunks_exact(64)`), and an unaligned
            // load needs no alignment.
            #[allow(unsafe_code)]
            let x = unsafe { _mm512_loadu_si512(quad.as_ptr().cast()) };
            let mut x = _mm512_shuffle_epi8(x, reverse);
            if i == 0 {
                x = _mm512_xor_si512(x, _mm512_inserti32x4::<0>(_mm512_setzero_si512(), y));
            }
            sum[0] = _mm512_xor_si512(sum[0], _mm512_clmulepi64_epi128::<0x00>(x, *h));
            sum[1] = _mm512_xor_si512(
                sum[1],
                _mm512_xor_si512(
                    _mm512_clmulepi64_epi128::<0x01>(x, *h),
                    _mm512_clmulepi64_epi128::<0x10>(x, *h),
                ),
            );
            sum[2] = _mm512_xor_si512(sum[2], _mm512_clmulepi64_epi128::<0x11>(x, *h));
        }
        y = reduce(sum.map(|v| fold4(v)));
    }
    *state = store(y);
    update(state, powers, groups.remainder());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use ghash::universal_hash::UniversalHash;

    fn reference(h: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
        let mut g = ghash::GHash::new(h.into());
        for p in parts {
            g.update_padded(p);
        }
        g.finalize().into()
    }

    /// GHASH with the 128-bit path, and with the 512-bit one where the CPU has it.
    fn ours(h: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
        let results = [false, true].map(|wide| {
            // x86-64 CPUs since 2010 have PCLMULQDQ.
            let key = Key::with_width(h, wide).unwrap(); // ok: test code
            assert_eq!(key.wide, wide && wide_cpu::get());
            let mut state = State::default();
            for p in parts {
                key.update_padded(&mut state, p);
            }
            Key::finish(state)
        });
        assert_eq!(results[0], results[1], "the 128- and 512-bit paths agree");
        results[0]
    }

    #[test]
    fn matches_the_ghash_crate_for_every_length_and_split() {
        let keys: [[u8; 16]; 4] = [
            [0; 16],
            [0xff; 16],
            core::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a),
            core::array::from_fn(|i| if i == 15 { 1 } else { 0x80 >> (i % 8) }),
        ];
        let data: Vec<u8> = (0..16_400u32).map(|i| (i * 131 + i / 7) as u8).collect();
        for h in &keys {
            for len in (0..=300).chain([1023, 1024, 1025, 16_384, 16_400]) {
                let d = &data[..len];
                assert_eq!(ours(h, &[d]), reference(h, &[d]), "len {len}");
                let split = len / 3;
                assert_eq!(
                    ours(h, &[&d[..split], &d[split..]]),
                    reference(h, &[&d[..split], &d[split..]]),
                    "len {len} split at {split}"
                );
            }
        }
    }

    #[test]
    fn mul_x_carries_into_the_reduction_polynomial() {
        // A key whose byte-reversed form has bit 127 set exercises mulX's carry.
        let h: [u8; 16] = core::array::from_fn(|i| if i == 0 { 0x80 } else { 0 });
        let block = [0x42u8; 48];
        assert_eq!(ours(&h, &[&block]), reference(&h, &[&block]));
    }
}
