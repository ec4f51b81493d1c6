//! GHASH (NIST SP 800-38D §6.4) with byte shuffles: multiplication by the hash key H in
//! GF(2^128) as 4-bit table lookups done by `i8x16.swizzle`, several blocks per
//! reduction.
//!
//! **Representation.** GHASH numbers the bits of a block from the most significant bit of
//! byte 0 (x^0) to the least significant bit of byte 15 (x^127). Reversing the block's
//! bytes gives a 128-bit little-endian integer r(F) in which bit 127 − d is the
//! coefficient of x^d; the state and the blocks are kept in that form, so that
//! multiplying by x^t is a right shift by t. For two such integers the carry-less
//! product, shifted left by one bit, is r(F·G) as a 256-bit integer (bit 255 − d).
//!
//! **Multiplication by a constant K.** With c = r(K)·2 (129 bits), the product with a
//! block x is the XOR over its bytes q of (lo_q·c ⊕ hi_q·16·c)·2^(8q), carry-less, where
//! lo/hi are the byte's nibbles. The 16 multiples n·c and n·16·c are 17 bytes each; the
//! table of byte b of them, over n, is one vector, so `swizzle(table_b, nibbles)` gives
//! byte b of the contribution of every byte of x at once, and those land at byte q + b of
//! the 32-byte product. Tables are kept for H, H², …, H^8: eight blocks X1..X8 are hashed
//! as (Y ⊕ X1)·H^8 ⊕ X2·H^7 ⊕ … ⊕ X8·H with one 256-bit sum and one reduction.
//!
//! **Reduction** modulo x^128 + x^7 + x^2 + x + 1: the high half h (degrees 128..255)
//! folds back as h·(1 + x + x² + x⁷), i.e. h ⊕ h≫1 ⊕ h≫2 ⊕ h≫7 on the integers, and
//! the bits that fall off the right end fold back once more the same way.
//!
//! The tables depend on H only, the indices on the data (the ciphertext): no memory
//! access depends on either.

use super::{wipe, V};

/// Blocks per reduction; the tables hold H^1 ..= H^GROUP.
pub(crate) const GROUP: usize = 8;

/// Bytes of a multiple n·c (c = r(K)·2 < 2^129, n·16·c < 2^137).
const SPAN: usize = 17;

/// For one constant K: bytes 0..17 of n·c over n (index b), then of n·16·c (17 + b).
type Table = [V; 2 * SPAN];

/// GHASH for one hash key H.
pub(crate) struct Ghash {
    /// `powers[i]`: the tables of H^(i + 1).
    powers: [Table; GROUP],
}

impl Drop for Ghash {
    fn drop(&mut self) {
        for t in self.powers.iter_mut() {
            wipe(t);
        }
    }
}

/// Byte reversal: a GHASH block to the integer form r(·) and back.
#[inline(always)]
pub(crate) fn reverse(v: V) -> V {
    V::shuffle::<15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0>(v, v)
}

/// A 16-byte GHASH block in integer form.
#[inline(always)]
fn load(block: &[u8]) -> V {
    let mut b = [0u8; 16];
    b.copy_from_slice(block);
    reverse(V::from_bytes(&b))
}

impl Ghash {
    /// The tables for the hash key `h` (a GHASH block: E_K(0^128)).
    pub(crate) fn new(h: &[u8; 16]) -> Self {
        let h = reverse(V::from_bytes(h));
        let mut powers = [[V::zero(); 2 * SPAN]; GROUP];
        powers[0] = table(h);
        let mut power = h;
        for i in 1..GROUP {
            let mut acc = [V::zero(); SPAN];
            mul_acc(&mut acc, power, &powers[0]);
            power = reduce(fold(&acc));
            powers[i] = table(power);
        }
        Self { powers }
    }

    /// The GHASH state for an empty input.
    pub(crate) fn start() -> V {
        V::zero()
    }

    /// Hashes whole 16-byte blocks into the state `y` (`blocks.len()` a multiple of 16;
    /// a shorter tail is ignored).
    pub(crate) fn update(&self, y: &mut V, blocks: &[u8]) {
        let mut groups = blocks.chunks_exact(16 * GROUP);
        for group in &mut groups {
            self.group(y, group);
        }
        let rest = groups.remainder();
        if rest.len() >= 16 {
            self.group(y, rest);
        }
    }

    /// Hashes `data`, its last partial block padded with zeros.
    pub(crate) fn update_padded(&self, y: &mut V, data: &[u8]) {
        let whole = data.len() & !15;
        self.update(y, &data[..whole]);
        if whole < data.len() {
            let mut last = [0u8; 16];
            last[..data.len() - whole].copy_from_slice(&data[whole..]);
            self.update(y, &last);
        }
    }

    /// Y ← (Y ⊕ X1)·H^n ⊕ X2·H^(n−1) ⊕ … ⊕ Xn·H for the n (1..=GROUP) blocks given.
    fn group(&self, y: &mut V, blocks: &[u8]) {
        let n = (blocks.len() / 16).min(GROUP);
        let mut acc = [V::zero(); SPAN];
        for (i, (block, table)) in blocks
            .chunks_exact(16)
            .zip(self.powers[..n].iter().rev())
            .enumerate()
        {
            let mut x = load(block);
            if i == 0 {
                x = x.xor(*y);
            }
            mul_acc(&mut acc, x, table);
        }
        *y = reduce(fold(&acc));
    }

    /// The state as a GHASH block (the tag before its mask).
    pub(crate) fn finish(y: V) -> [u8; 16] {
        reverse(y).to_bytes()
    }
}

/// The tables of multiples of c = r(K)·2 for K in integer form.
fn table(k: V) -> Table {
    let (lo, hi) = k.u64s();
    let k = u128::from(lo) | (u128::from(hi) << 64);
    // k·2^s for 1 ≤ s ≤ 8, as (low 128 bits, the bits above).
    let shifted = |s: u32| (k << s, (k >> (128 - s)) as u8);
    let mut rows = [[(0u128, 0u8); 16]; 2];
    // rows[0][n] = n·c, rows[1][n] = n·16·c: c·2^t for each bit t of n, c = k·2.
    for (half, base) in rows.iter_mut().zip([1u32, 5]) {
        for (n, row) in half.iter_mut().enumerate() {
            for t in (0..4u32).filter(|t| (n >> t) & 1 == 1) {
                let (a, b) = shifted(base + t);
                row.0 ^= a;
                row.1 ^= b;
            }
        }
    }
    let out = core::array::from_fn(|i| {
        let (half, b) = (i / SPAN, i % SPAN);
        let bytes: [u8; 16] = core::array::from_fn(|n| {
            let (low, top) = rows[half][n];
            if b < 16 {
                low.to_le_bytes()[b]
            } else {
                top
            }
        });
        V::from_bytes(&bytes)
    });
    for half in rows.iter_mut() {
        half.fill((0, 0));
    }
    core::hint::black_box(&mut rows);
    out
}

/// acc[b] ^= byte b of the multiples of K picked by the nibbles of every byte of x.
#[inline(always)]
fn mul_acc(acc: &mut [V; SPAN], x: V, t: &Table) {
    let m = V::splat(0x0f);
    let lo = x.and(m);
    let hi = x.shr16(4).and(m);
    for (b, a) in acc.iter_mut().enumerate() {
        *a = a.xor(t[b].swizzle(lo)).xor(t[SPAN + b].swizzle(hi));
    }
}

/// Lane `i` of the low half of v moved up by `b` bytes (0 where nothing lands).
const fn up_lo(i: usize, b: usize) -> usize {
    if i >= b {
        i - b
    } else {
        16
    }
}

/// Lane `i` of the high half of v moved up by `b` bytes.
const fn up_hi(i: usize, b: usize) -> usize {
    if i < b {
        i + 16 - b
    } else {
        16
    }
}

/// v moved up by $b bytes into a 32-byte (low, high) pair.
macro_rules! shift_up {
    ($v:expr, $b:literal) => {
        (
            V::shuffle::<
                { up_lo(0, $b) },
                { up_lo(1, $b) },
                { up_lo(2, $b) },
                { up_lo(3, $b) },
                { up_lo(4, $b) },
                { up_lo(5, $b) },
                { up_lo(6, $b) },
                { up_lo(7, $b) },
                { up_lo(8, $b) },
                { up_lo(9, $b) },
                { up_lo(10, $b) },
                { up_lo(11, $b) },
                { up_lo(12, $b) },
                { up_lo(13, $b) },
                { up_lo(14, $b) },
                { up_lo(15, $b) },
            >($v, V::zero()),
            V::shuffle::<
                { up_hi(0, $b) },
                { up_hi(1, $b) },
                { up_hi(2, $b) },
                { up_hi(3, $b) },
                { up_hi(4, $b) },
                { up_hi(5, $b) },
                { up_hi(6, $b) },
                { up_hi(7, $b) },
                { up_hi(8, $b) },
                { up_hi(9, $b) },
                { up_hi(10, $b) },
                { up_hi(11, $b) },
                { up_hi(12, $b) },
                { up_hi(13, $b) },
                { up_hi(14, $b) },
                { up_hi(15, $b) },
            >($v, V::zero()),
        )
    };
}

/// The 256-bit product from the per-table-byte sums: acc[b] lands b bytes up.
#[inline(always)]
fn fold(acc: &[V; SPAN]) -> (V, V) {
    let mut lo = acc[0];
    let mut hi = acc[16];
    macro_rules! add {
        ($($b:literal)*) => {$(
            let (l, h) = shift_up!(acc[$b], $b);
            lo = lo.xor(l);
            hi = hi.xor(h);
        )*};
    }
    add!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    (lo, hi)
}

/// Lanes: (low 64 bits, high 64 bits) → (0, low).
#[inline(always)]
fn low_to_high(v: V) -> V {
    V::shuffle::<16, 16, 16, 16, 16, 16, 16, 16, 0, 1, 2, 3, 4, 5, 6, 7>(v, V::zero())
}

/// Lanes: (low, high) → (high, 0).
#[inline(always)]
fn high_to_low(v: V) -> V {
    V::shuffle::<8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16, 16, 16, 16, 16>(v, V::zero())
}

/// The 256-bit product (low, high) modulo x^128 + x^7 + x^2 + x + 1, in integer form.
#[inline(always)]
fn reduce((lo, hi): (V, V)) -> V {
    // Per 64-bit lane, the bits that a 128-bit shift right by 1, 2 and 7 (or a shift left
    // by 127, 126, 121) moves across the lane boundary.
    let spill = |v: V| v.shl64(63).xor(v.shl64(62)).xor(v.shl64(57));
    // The high half (lo, degrees 128..255) plus what its fold-back pushes past x^127.
    let z = lo.xor(low_to_high(spill(lo)));
    let folded = z
        .xor(z.shr64(1))
        .xor(z.shr64(2))
        .xor(z.shr64(7))
        .xor(high_to_low(spill(z)));
    hi.xor(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use ghash::universal_hash::UniversalHash;

    fn reference(h: &[u8; 16], data: &[u8]) -> [u8; 16] {
        let mut g = ghash::GHash::new(h.into());
        g.update_padded(data);
        g.finalize().into()
    }

    fn ours(h: &[u8; 16], data: &[u8]) -> [u8; 16] {
        hash(&Ghash::new(h), data)
    }

    fn hash(g: &Ghash, data: &[u8]) -> [u8; 16] {
        let mut y = Ghash::start();
        g.update_padded(&mut y, data);
        Ghash::finish(y)
    }

    #[test]
    fn matches_the_ghash_crate_for_every_length_up_to_three_groups() {
        let h: [u8; 16] = core::array::from_fn(|i| (i as u8).wrapping_mul(29) ^ 0xa5);
        let data: Vec<u8> = (0..16 * 3 * GROUP + 7).map(|i| (i * 7 + 1) as u8).collect();
        let g = Ghash::new(&h);
        for len in 0..data.len() {
            assert_eq!(
                hash(&g, &data[..len]),
                reference(&h, &data[..len]),
                "len {len}"
            );
        }
    }

    #[test]
    fn matches_the_ghash_crate_for_extreme_keys() {
        let data: Vec<u8> = (0..300).map(|i| (i * 13 + 5) as u8).collect();
        for h in [[0u8; 16], [0xff; 16], [0x80; 16], {
            let mut h = [0u8; 16];
            h[15] = 1;
            h
        }] {
            assert_eq!(ours(&h, &data), reference(&h, &data));
        }
    }

    #[test]
    fn sp800_38d_test_case_2_hash() {
        // GCM spec (McGrew & Viega) test case 2: H = E_0(0), C = 0388dace…, the GHASH of
        // (no AAD, C, lengths) is f38cbb1a….
        let h = [
            0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34,
            0x2b, 0x2e,
        ];
        let mut data = [
            0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92, 0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2,
            0xfe, 0x78,
        ]
        .to_vec();
        data.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
        let expect = [
            0xf3, 0x8c, 0xbb, 0x1a, 0xd6, 0x92, 0x23, 0xdc, 0xc3, 0x45, 0x7a, 0xe5, 0xb6, 0xb0,
            0xf8, 0x85,
        ];
        assert_eq!(ours(&h, &data), expect);
    }
}
