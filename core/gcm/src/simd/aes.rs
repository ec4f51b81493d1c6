//! Bit-sliced AES-128 and AES-256 encryption, 8 blocks at a time (the only direction
//! GCM needs).
//!
//! The 8 blocks are transposed into 8 vectors ("planes"): byte `p` of plane `k` holds bit
//! `k` of byte `p` of all 8 blocks, block `i` in bit `i`. Every step of a round is then the
//! same operation on all 128 state bytes at once:
//!
//! - SubBytes: a Boolean circuit of ~150 XOR/AND operations on the 8 planes, the
//!   multiplicative inverse in GF(2^8) computed in the tower GF(((2^2)^2)^2) (two changes
//!   of basis around it, the second one merged with the S-box's affine map);
//! - ShiftRows and the rotations inside MixColumns: the same byte shuffle on each plane;
//! - multiplication by 2 in MixColumns: moving planes, three XORs;
//! - AddRoundKey: the round keys are stored as planes (bit set → byte 0xFF).
//!
//! The S-box's constant 0x63 is not added in the circuit: MixColumns maps a state of
//! equal bytes to itself, so the constant is folded into every round key after the first.
//! The key schedule's SubWord goes through the same circuit. Nothing here branches on,
//! or indexes memory with, key or data.

use super::{wipe, V};

/// Plane `k`: bit `k` of every state byte of 8 blocks (block `i` in bit `i`).
pub(crate) type Planes = [V; 8];

/// The largest number of rounds (AES-256).
const MAX_ROUNDS: usize = 14;

/// The expanded key of AES-128 or AES-256, as planes.
pub(crate) struct Aes {
    /// Round keys 0..=rounds; round keys 1.. include the S-box constant 0x63.
    keys: [Planes; MAX_ROUNDS + 1],
    rounds: usize,
}

impl Drop for Aes {
    fn drop(&mut self) {
        for k in self.keys.iter_mut() {
            wipe(k);
        }
    }
}

impl Aes {
    /// The key schedule (FIPS 197 §5.2) of AES-128 (N = 16) or AES-256 (N = 32).
    pub(crate) fn new<const N: usize>(key: &[u8; N]) -> Self {
        const { assert!(N == 16 || N == 32, "AES-128 or AES-256 keys only") };
        let nk = N / 4;
        let rounds = nk + 6;
        let mut w = [[0u8; 4]; 4 * (MAX_ROUNDS + 1)];
        for (word, chunk) in w.iter_mut().zip(key.chunks_exact(4)) {
            word.copy_from_slice(chunk);
        }
        let mut rcon = 1u8;
        for i in nk..4 * (rounds + 1) {
            let mut t = w[i - 1];
            if i % nk == 0 {
                t = sub_word([t[1], t[2], t[3], t[0]]);
                t[0] ^= rcon;
                rcon = xtime_byte(rcon);
            } else if nk > 6 && i % nk == 4 {
                t = sub_word(t);
            }
            for (b, p) in t.iter_mut().zip(w[i - nk]) {
                *b ^= p;
            }
            w[i] = t;
        }
        let mut keys = [[V::zero(); 8]; MAX_ROUNDS + 1];
        for (r, planes) in keys.iter_mut().enumerate().take(rounds + 1) {
            let mut bytes = [0u8; 16];
            for (out, word) in bytes.chunks_exact_mut(4).zip(&w[4 * r..4 * r + 4]) {
                out.copy_from_slice(word);
            }
            if r > 0 {
                for b in bytes.iter_mut() {
                    *b ^= 0x63;
                }
            }
            *planes = key_planes(&bytes);
            bytes.fill(0);
            core::hint::black_box(&mut bytes);
        }
        for word in w.iter_mut() {
            *word = [0; 4];
        }
        core::hint::black_box(&mut w);
        Self { keys, rounds }
    }

    /// Encrypts 8 blocks in place.
    #[inline(never)]
    pub(crate) fn encrypt8(&self, blocks: &mut [V; 8]) {
        transpose(blocks);
        add_key(blocks, &self.keys[0]);
        for key in &self.keys[1..self.rounds] {
            sub_bytes(blocks);
            shift_rows_mix_columns(blocks);
            add_key(blocks, key);
        }
        sub_bytes(blocks);
        for p in blocks.iter_mut() {
            *p = shift_rows(*p);
        }
        add_key(blocks, &self.keys[self.rounds]);
        transpose(blocks);
    }
}

/// A round key as planes: byte `p` of plane `k` is 0xFF where bit `k` of `key[p]` is set.
fn key_planes(key: &[u8; 16]) -> Planes {
    core::array::from_fn(|k| {
        let bytes: [u8; 16] = core::array::from_fn(|p| 0u8.wrapping_sub((key[p] >> k) & 1));
        V::from_bytes(&bytes)
    })
}

fn xtime_byte(b: u8) -> u8 {
    (b << 1) ^ (0x1b & 0u8.wrapping_sub(b >> 7))
}

/// The S-box on 4 key bytes, through the circuit (the key is secret: no table).
fn sub_word(word: [u8; 4]) -> [u8; 4] {
    let mut block = [0u8; 16];
    block[..4].copy_from_slice(&word);
    let mut s = [V::zero(); 8];
    s[0] = V::from_bytes(&block);
    transpose(&mut s);
    sub_bytes(&mut s);
    transpose(&mut s);
    let out = s[0].to_bytes();
    wipe(&mut s);
    [out[0] ^ 0x63, out[1] ^ 0x63, out[2] ^ 0x63, out[3] ^ 0x63]
}

#[inline(always)]
fn swapmove(a: V, b: V, n: u32, mask: V) -> (V, V) {
    let t = a.shr64(n).xor(b).and(mask);
    (a.xor(t.shl64(n)), b.xor(t))
}

/// The 8×8 bit transpose of every byte position across the 8 vectors: from 8 blocks to
/// 8 planes, and (being its own inverse) back.
#[inline(always)]
pub(crate) fn transpose(s: &mut [V; 8]) {
    let m = V::splat(0x55);
    (s[0], s[1]) = swapmove(s[0], s[1], 1, m);
    (s[2], s[3]) = swapmove(s[2], s[3], 1, m);
    (s[4], s[5]) = swapmove(s[4], s[5], 1, m);
    (s[6], s[7]) = swapmove(s[6], s[7], 1, m);
    let m = V::splat(0x33);
    (s[0], s[2]) = swapmove(s[0], s[2], 2, m);
    (s[1], s[3]) = swapmove(s[1], s[3], 2, m);
    (s[4], s[6]) = swapmove(s[4], s[6], 2, m);
    (s[5], s[7]) = swapmove(s[5], s[7], 2, m);
    let m = V::splat(0x0f);
    (s[0], s[4]) = swapmove(s[0], s[4], 4, m);
    (s[1], s[5]) = swapmove(s[1], s[5], 4, m);
    (s[2], s[6]) = swapmove(s[2], s[6], 4, m);
    (s[3], s[7]) = swapmove(s[3], s[7], 4, m);
}

#[inline(always)]
fn add_key(s: &mut Planes, k: &Planes) {
    for (p, k) in s.iter_mut().zip(k) {
        *p = p.xor(*k);
    }
}

// ----- SubBytes: inversion in GF(((2^2)^2)^2) -----
//
// GF(4) = GF(2)[w]/(w² + w + 1), elements (a0, a1) = a0 + a1·w.
// GF(16) = GF(4)[W]/(W² + W + μ), μ = w + 1; elements (A0, A1) = A0 + A1·W.
// GF(256) = GF(16)[Y]/(Y² + Y + ν), ν = w·W + w; elements (a0, a1) = a0 + a1·Y.
// The isomorphism to the AES field maps w ↦ 0xBD, W ↦ 0x5D, Y ↦ 0xFF; its matrix and
// inverse (with the affine map) are the two XOR networks of `sub_bytes`, and the test
// `sbox_circuit_is_the_aes_sbox` checks all 256 inputs.

#[derive(Clone, Copy)]
struct G4(V, V);

#[derive(Clone, Copy)]
struct G16(G4, G4);

#[inline(always)]
fn g4_add(a: G4, b: G4) -> G4 {
    G4(a.0.xor(b.0), a.1.xor(b.1))
}

#[inline(always)]
fn g4_mul(a: G4, b: G4) -> G4 {
    let p = a.0.and(b.0);
    let q = a.1.and(b.1);
    let r = a.0.xor(a.1).and(b.0.xor(b.1));
    G4(p.xor(q), r.xor(p))
}

/// μ·q
#[inline(always)]
fn g4_mul_mu(q: G4) -> G4 {
    G4(q.0.xor(q.1), q.0)
}

/// μ·a²
#[inline(always)]
fn g4_mu_square(a: G4) -> G4 {
    G4(a.0, a.0.xor(a.1))
}

/// a⁻¹ = a² in GF(4) (0 ↦ 0)
#[inline(always)]
fn g4_inv(a: G4) -> G4 {
    G4(a.0.xor(a.1), a.1)
}

#[inline(always)]
fn g16_add(a: G16, b: G16) -> G16 {
    G16(g4_add(a.0, b.0), g4_add(a.1, b.1))
}

#[inline(always)]
fn g16_mul(a: G16, b: G16) -> G16 {
    let p = g4_mul(a.0, b.0);
    let q = g4_mul(a.1, b.1);
    let r = g4_mul(g4_add(a.0, a.1), g4_add(b.0, b.1));
    G16(g4_add(p, g4_mul_mu(q)), g4_add(r, p))
}

/// a⁻¹ in GF(16) (0 ↦ 0): d = μ·A1² + A0·(A0 + A1), a⁻¹ = (A0 + A1)·d⁻¹ + A1·d⁻¹·W.
#[inline(always)]
fn g16_inv(a: G16) -> G16 {
    let s = g4_add(a.0, a.1);
    let d = g4_add(g4_mu_square(a.1), g4_mul(a.0, s));
    let e = g4_inv(d);
    G16(g4_mul(s, e), g4_mul(a.1, e))
}

/// ν·a²
#[inline(always)]
fn g16_nu_square(a: G16) -> G16 {
    let (a0, a1, a2, a3) = (a.0 .0, a.0 .1, a.1 .0, a.1 .1);
    G16(G4(a1, a0), G4(a1.xor(a2).xor(a3), a0.xor(a3)))
}

/// The S-box without its constant 0x63, on all bytes of the planes.
#[inline(always)]
pub(crate) fn sub_bytes(s: &mut Planes) {
    let [x0, x1, x2, x3, x4, x5, x6, x7] = *s;
    // AES field → tower.
    let u0 = x1.xor(x5);
    let u1 = x2.xor(x3);
    let u2 = x5.xor(x7);
    let u3 = x6.xor(u0);
    let t0 = x0.xor(u3);
    let t1 = x1.xor(x7);
    let t2 = x2.xor(x7);
    let t3 = x2.xor(x4);
    let t4 = x1;
    let t5 = u1.xor(u2);
    let t6 = x4.xor(u1).xor(u3);
    let t7 = u2;
    // a⁻¹ = (a0 + a1)·d⁻¹ + a1·d⁻¹·Y with d = ν·a1² + a0·(a0 + a1).
    let a0 = G16(G4(t0, t1), G4(t2, t3));
    let a1 = G16(G4(t4, t5), G4(t6, t7));
    let sum = g16_add(a0, a1);
    let d = g16_add(g16_nu_square(a1), g16_mul(a0, sum));
    let e = g16_inv(d);
    let lo = g16_mul(sum, e);
    let hi = g16_mul(a1, e);
    let (i0, i1, i2, i3) = (lo.0 .0, lo.0 .1, lo.1 .0, lo.1 .1);
    let (i4, i5, i6, i7) = (hi.0 .0, hi.0 .1, hi.1 .0, hi.1 .1);
    // Tower → AES field, then the affine map.
    let v0 = i0.xor(i4);
    let v1 = i2.xor(i3);
    let v2 = i1.xor(v0);
    let v3 = i4.xor(i6);
    let v4 = i6.xor(v0);
    *s = [
        v0.xor(v1),
        v2,
        i2.xor(i7).xor(v2),
        v1.xor(v4),
        v4,
        i4.xor(i5).xor(v1),
        v3,
        i2.xor(v3),
    ];
}

// ----- ShiftRows and MixColumns: byte shuffles on each plane -----
//
// State byte `4c + r` is row `r` of column `c`.

/// ShiftRows: row r moves r columns to the left.
#[inline(always)]
fn shift_rows(p: V) -> V {
    V::shuffle::<0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11>(p, p)
}

/// ShiftRows, then each column rotated by one row (row r takes row r + 1).
#[inline(always)]
fn shift_rows_rot1(p: V) -> V {
    V::shuffle::<5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12>(p, p)
}

/// Each column rotated by two rows.
#[inline(always)]
fn rot2(p: V) -> V {
    V::shuffle::<2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13>(p, p)
}

/// ShiftRows then MixColumns: with a = ShiftRows(s) and t = a + rot1(a), each column
/// becomes 2·t + rot1(a) + rot2(t) (= 2a + 3·rot1(a) + rot2(a) + rot3(a)).
#[inline(always)]
fn shift_rows_mix_columns(s: &mut Planes) {
    let r1: Planes = core::array::from_fn(|k| shift_rows_rot1(s[k]));
    let t: Planes = core::array::from_fn(|k| shift_rows(s[k]).xor(r1[k]));
    // 2·t: the planes move up one bit; bit 7 folds back in as 0x1b.
    let t2 = [
        t[7],
        t[0].xor(t[7]),
        t[1],
        t[2].xor(t[7]),
        t[3].xor(t[7]),
        t[4],
        t[5],
        t[6],
    ];
    for k in 0..8 {
        s[k] = t2[k].xor(r1[k]).xor(rot2(t[k]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aes::cipher::{BlockCipherEncrypt, KeyInit};
    use alloc::vec::Vec;

    /// The AES S-box from its definition: inverse in GF(2^8) (x^254), then the affine map.
    fn sbox_reference(x: u8) -> u8 {
        let mul = |mut a: u8, mut b: u8| {
            let mut r = 0u8;
            while b != 0 {
                if b & 1 != 0 {
                    r ^= a;
                }
                a = xtime_byte(a);
                b >>= 1;
            }
            r
        };
        let mut inv = 1u8;
        for _ in 0..254 {
            inv = mul(inv, x);
        }
        let bit = |v: u8, i: usize| (v >> (i % 8)) & 1;
        (0..8).fold(0x63, |acc, i| {
            acc ^ ((bit(inv, i)
                ^ bit(inv, i + 4)
                ^ bit(inv, i + 5)
                ^ bit(inv, i + 6)
                ^ bit(inv, i + 7))
                << i)
        })
    }

    fn blocks_from(bytes: &[u8]) -> [V; 8] {
        core::array::from_fn(|i| V::from_bytes(bytes[16 * i..16 * i + 16].try_into().unwrap()))
    }

    #[test]
    fn sbox_circuit_is_the_aes_sbox() {
        assert_eq!(sbox_reference(0x00), 0x63);
        assert_eq!(sbox_reference(0x53), 0xed);
        // All 256 inputs: 128 bytes per pass, two passes.
        for half in 0..2u8 {
            let input: Vec<u8> = (0..128u8).map(|i| i + 128 * half).collect();
            let mut s = blocks_from(&input);
            transpose(&mut s);
            sub_bytes(&mut s);
            transpose(&mut s);
            for (i, v) in s.iter().enumerate() {
                for (j, out) in v.to_bytes().iter().enumerate() {
                    let x = input[16 * i + j];
                    assert_eq!(out ^ 0x63, sbox_reference(x), "S({x:#04x})");
                }
            }
        }
    }

    #[test]
    fn transpose_moves_bit_k_of_block_i_to_bit_i_of_plane_k() {
        let input: Vec<u8> = (0..128u8)
            .map(|i| i.wrapping_mul(151).wrapping_add(7))
            .collect();
        let mut s = blocks_from(&input);
        transpose(&mut s);
        for (k, plane) in s.iter().enumerate() {
            for (p, byte) in plane.to_bytes().iter().enumerate() {
                for i in 0..8 {
                    assert_eq!((byte >> i) & 1, (input[16 * i + p] >> k) & 1);
                }
            }
        }
        transpose(&mut s);
        let back: Vec<u8> = s.iter().flat_map(|v| v.to_bytes()).collect();
        assert_eq!(back, input);
    }

    #[test]
    fn fips197_appendix_c_vectors() {
        let plain: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let key128: [u8; 16] = core::array::from_fn(|i| i as u8);
        let cases: [(Aes, [u8; 16]); 2] = [
            (
                Aes::new(&key128),
                [
                    0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70,
                    0xb4, 0xc5, 0x5a,
                ],
            ),
            (
                Aes::new(&key),
                [
                    0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b,
                    0x49, 0x60, 0x89,
                ],
            ),
        ];
        for (aes, expect) in cases {
            let mut s = [V::from_bytes(&plain); 8];
            aes.encrypt8(&mut s);
            for v in s {
                assert_eq!(v.to_bytes(), expect, "{} rounds", aes.rounds);
            }
        }
    }

    #[test]
    fn matches_the_aes_crate_on_8_different_blocks() {
        for key_len in [16usize, 32] {
            for seed in 0..8u8 {
                let key: [u8; 32] = core::array::from_fn(|i| {
                    (i as u8)
                        .wrapping_mul(37)
                        .wrapping_add(seed.wrapping_mul(101))
                });
                let input: Vec<u8> = (0..128u8)
                    .map(|i| i.wrapping_mul(13) ^ seed.rotate_left(3))
                    .collect();
                let ours = if key_len == 16 {
                    Aes::new::<16>(key[..16].try_into().unwrap())
                } else {
                    Aes::new(&key)
                };
                let mut s = blocks_from(&input);
                ours.encrypt8(&mut s);
                let got: Vec<u8> = s.iter().flat_map(|v| v.to_bytes()).collect();
                let mut want = input.clone();
                for block in want.chunks_exact_mut(16) {
                    let block: &mut aes_gcm::aes::Block = block.try_into().unwrap();
                    if key_len == 16 {
                        aes_gcm::aes::Aes128::new_from_slice(&key[..16])
                            .unwrap()
                            .encrypt_block(block);
                    } else {
                        aes_gcm::aes::Aes256::new_from_slice(&key)
                            .unwrap()
                            .encrypt_block(block);
                    }
                }
                assert_eq!(got, want, "AES-{} seed {seed}", key_len * 8);
            }
        }
    }
}
