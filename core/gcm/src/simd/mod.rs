//! AES-GCM for WebAssembly SIMD (`simd128`): a bit-sliced AES ([`aes`]) and a GHASH that
//! multiplies with byte shuffles ([`ghash`]), put together as an AEAD in [`gcm`].
//!
//! WebAssembly has no AES or carry-less multiplication instructions, and a table lookup
//! indexed by secret data leaks through the cache. What it does have is 128-bit vectors
//! and `i8x16.swizzle`, a byte shuffle whose indices come from a register: a 16-entry
//! table lookup that touches no memory. Both halves are built from that and from plain
//! logic operations, with no secret-dependent branch or memory access:
//!
//! - AES processes 8 blocks at once, transposed so that each vector holds one bit of
//!   every byte of the 8 blocks; the S-box is a Boolean circuit (inversion in GF(2^8)
//!   computed in a tower of fields, GF(((2^2)^2)^2)), ShiftRows and MixColumns are byte
//!   shuffles.
//! - GHASH multiplies by the fixed hash key H (and its powers) with 4-bit tables of
//!   multiples of H, one `swizzle` per table byte, and reduces several blocks at once.
//!
//! The vector type [`V`] maps one to one onto `core::arch::wasm32` when the crate is built
//! for `wasm32` with `simd128`; on every other target (where the crate uses `aes-gcm`)
//! it is a plain-Rust model of the same operations, so that the algorithms are tested
//! natively against `aes-gcm` and published vectors. The wasm build runs the same code
//! on the real instructions.

pub(crate) mod aes;
pub(crate) mod gcm;
pub(crate) mod ghash;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    /// A 128-bit vector: `v128`.
    #[derive(Clone, Copy)]
    pub(crate) struct V(v128);

    impl V {
        #[inline(always)]
        pub(crate) fn zero() -> Self {
            Self(u64x2_splat(0))
        }

        #[inline(always)]
        pub(crate) fn splat(b: u8) -> Self {
            Self(u8x16_splat(b))
        }

        #[inline(always)]
        pub(crate) fn from_bytes(b: &[u8; 16]) -> Self {
            let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            let hi = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
            Self(u64x2(lo, hi))
        }

        #[inline(always)]
        pub(crate) fn to_bytes(self) -> [u8; 16] {
            let lo = u64x2_extract_lane::<0>(self.0).to_le_bytes();
            let hi = u64x2_extract_lane::<1>(self.0).to_le_bytes();
            [
                lo[0], lo[1], lo[2], lo[3], lo[4], lo[5], lo[6], lo[7], hi[0], hi[1], hi[2], hi[3],
                hi[4], hi[5], hi[6], hi[7],
            ]
        }

        #[inline(always)]
        pub(crate) fn u64s(self) -> (u64, u64) {
            (
                u64x2_extract_lane::<0>(self.0),
                u64x2_extract_lane::<1>(self.0),
            )
        }

        #[inline(always)]
        pub(crate) fn xor(self, o: Self) -> Self {
            Self(v128_xor(self.0, o.0))
        }

        #[inline(always)]
        pub(crate) fn and(self, o: Self) -> Self {
            Self(v128_and(self.0, o.0))
        }

        /// Each 64-bit lane shifted left by `n` bits.
        #[inline(always)]
        pub(crate) fn shl64(self, n: u32) -> Self {
            Self(u64x2_shl(self.0, n))
        }

        /// Each 64-bit lane shifted right (logically) by `n` bits.
        #[inline(always)]
        pub(crate) fn shr64(self, n: u32) -> Self {
            Self(u64x2_shr(self.0, n))
        }

        /// Each 16-bit lane shifted right (logically) by `n` bits.
        #[inline(always)]
        pub(crate) fn shr16(self, n: u32) -> Self {
            Self(u16x8_shr(self.0, n))
        }

        /// Byte `i` of the result is byte `idx[i]` of `self`, or 0 if `idx[i]` ≥ 16
        /// (`i8x16.swizzle`: a table lookup in a register).
        #[inline(always)]
        pub(crate) fn swizzle(self, idx: Self) -> Self {
            Self(i8x16_swizzle(self.0, idx.0))
        }

        /// The 32-bit lane 3 replaced by `x`.
        #[inline(always)]
        pub(crate) fn with_lane3(self, x: u32) -> Self {
            Self(u32x4_replace_lane::<3>(self.0, x))
        }

        /// Byte `i` of the result is byte `I[i]` of `a ‖ b` (32 bytes): `i8x16.shuffle`.
        #[inline(always)]
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn shuffle<
            const I0: usize,
            const I1: usize,
            const I2: usize,
            const I3: usize,
            const I4: usize,
            const I5: usize,
            const I6: usize,
            const I7: usize,
            const I8: usize,
            const I9: usize,
            const I10: usize,
            const I11: usize,
            const I12: usize,
            const I13: usize,
            const I14: usize,
            const I15: usize,
        >(
            a: Self,
            b: Self,
        ) -> Self {
            Self(i8x16_shuffle::<
                I0,
                I1,
                I2,
                I3,
                I4,
                I5,
                I6,
                I7,
                I8,
                I9,
                I10,
                I11,
                I12,
                I13,
                I14,
                I15,
            >(a.0, b.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    /// A plain-Rust model of a 128-bit `v128`, for the native tests: bytes in lane order.
    #[derive(Clone, Copy)]
    pub(crate) struct V([u8; 16]);

    impl V {
        pub(crate) fn zero() -> Self {
            Self([0; 16])
        }

        pub(crate) fn splat(b: u8) -> Self {
            Self([b; 16])
        }

        pub(crate) fn from_bytes(b: &[u8; 16]) -> Self {
            Self(*b)
        }

        pub(crate) fn to_bytes(self) -> [u8; 16] {
            self.0
        }

        fn from_u64s(lo: u64, hi: u64) -> Self {
            let mut b = [0; 16];
            b[..8].copy_from_slice(&lo.to_le_bytes());
            b[8..].copy_from_slice(&hi.to_le_bytes());
            Self(b)
        }

        pub(crate) fn u64s(self) -> (u64, u64) {
            let mut lo = [0; 8];
            let mut hi = [0; 8];
            lo.copy_from_slice(&self.0[..8]);
            hi.copy_from_slice(&self.0[8..]);
            (u64::from_le_bytes(lo), u64::from_le_bytes(hi))
        }

        fn map2(self, o: Self, f: impl Fn(u8, u8) -> u8) -> Self {
            Self(core::array::from_fn(|i| f(self.0[i], o.0[i])))
        }

        pub(crate) fn xor(self, o: Self) -> Self {
            self.map2(o, |a, b| a ^ b)
        }

        pub(crate) fn and(self, o: Self) -> Self {
            self.map2(o, |a, b| a & b)
        }

        pub(crate) fn shl64(self, n: u32) -> Self {
            let (lo, hi) = self.u64s();
            Self::from_u64s(lo << n, hi << n)
        }

        pub(crate) fn shr64(self, n: u32) -> Self {
            let (lo, hi) = self.u64s();
            Self::from_u64s(lo >> n, hi >> n)
        }

        pub(crate) fn shr16(self, n: u32) -> Self {
            let mut out = [0u8; 16];
            for (o, w) in out.chunks_exact_mut(2).zip(self.0.chunks_exact(2)) {
                let x = u16::from_le_bytes([w[0], w[1]]) >> n;
                o.copy_from_slice(&x.to_le_bytes());
            }
            Self(out)
        }

        pub(crate) fn swizzle(self, idx: Self) -> Self {
            Self(core::array::from_fn(|i| {
                let j = usize::from(idx.0[i]);
                if j < 16 {
                    self.0[j]
                } else {
                    0
                }
            }))
        }

        pub(crate) fn with_lane3(self, x: u32) -> Self {
            let mut b = self.0;
            b[12..].copy_from_slice(&x.to_le_bytes());
            Self(b)
        }

        #[allow(clippy::too_many_arguments)]
        pub(crate) fn shuffle<
            const I0: usize,
            const I1: usize,
            const I2: usize,
            const I3: usize,
            const I4: usize,
            const I5: usize,
            const I6: usize,
            const I7: usize,
            const I8: usize,
            const I9: usize,
            const I10: usize,
            const I11: usize,
            const I12: usize,
            const I13: usize,
            const I14: usize,
            const I15: usize,
        >(
            a: Self,
            b: Self,
        ) -> Self {
            let idx = [
                I0, I1, I2, I3, I4, I5, I6, I7, I8, I9, I10, I11, I12, I13, I14, I15,
            ];
            Self(core::array::from_fn(|i| {
                let j = idx[i];
                if j < 16 {
                    a.0[j]
                } else {
                    b.0[j - 16]
                }
            }))
        }
    }
}

pub(crate) use imp::V;

/// Writes zeros over key material and keeps the compiler from dropping the writes as dead
/// stores: `black_box` may read what it is given.
pub(crate) fn wipe(v: &mut [V]) {
    for x in v.iter_mut() {
        *x = V::zero();
    }
    core::hint::black_box(v);
}
