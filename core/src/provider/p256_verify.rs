//! ECDSA P-256 verification on fiat-crypto's field arithmetic, on 64-bit targets.
//!
//! The two P-256 verifications of an ECDSA handshake (the certificate's signature and
//! CertificateVerify) are most of a native client's handshake CPU after the key
//! exchange. Over `p256` 0.14's field (crypto-bigint limbs, a Karatsuba product and a
//! separate reduction), fiat-crypto's P-256 Montgomery multiplication (generated with
//! proofs of correctness; already in the build through `p384`) made a whole in-memory
//! ECDSA handshake cost 16 % less client CPU (`core_overhead`, BENCHMARKS.md). On top of
//! it: the complete projective formulas of Renes, Costello and Batina ("Complete addition
//! formulas for prime order elliptic curves", 2016, algorithms 4 and 6 for a = −3), which
//! have no special cases (the identity, P + P and P − P need no branches), and a width-5
//! wNAF double-scalar multiplication.
//!
//! Not used on 32-bit targets (wasm32): there fiat's 32-bit field measured no faster than
//! `p256`'s, so `p256` verifies as before (`ec.rs`).
//!
//! Variable time on purpose: verification handles public values only (the key, the digest
//! and the signature). Decoding and range checks stay with `p256`: the key is a point on
//! the curve and 0 < r, s < n before anything here runs.

use core::ops::{Add, Mul, Sub};

use fiat_crypto::p256_64 as fiat;

use fiat::fiat_p256_montgomery_domain_field_element as Montgomery;
use fiat::fiat_p256_non_montgomery_domain_field_element as Plain;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{FieldBytes, Scalar};

/// The curve's b (y² = x³ − 3x + b), big-endian.
const B: [u8; 32] = [
    0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd, 0x55, 0x76, 0x98, 0x86, 0xbc,
    0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53, 0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b,
];

/// The generator's x, big-endian.
const GX: [u8; 32] = [
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];

/// The generator's y, big-endian.
const GY: [u8; 32] = [
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];

/// p − 2, the exponent that inverts (Fermat), big-endian.
const P_MINUS_2: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd,
];

/// Verifies an ECDSA signature over `digest` (SHA-256 or SHA-384 output; the leftmost
/// 256 bits count, as FIPS 186 says) with `key`: what `p256`'s `verify_prehash` decides.
pub(super) fn verify_prehash(key: &VerifyingKey, digest: &[u8], signature: &Signature) -> bool {
    let (r, s) = signature.split_scalars();
    let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false; // s = 0: Signature refuses it already
    };
    let u1 = digest_scalar(digest) * s_inv;
    let u2 = *r * s_inv;
    let q = key.as_affine().to_sec1_point(false);
    let (Some(qx), Some(qy)) = (q.x(), q.y()) else {
        return false; // the identity: p256 does not make such keys
    };
    let q = Point::affine(Fe::from_be(&(*qx).into()), Fe::from_be(&(*qy).into()));
    let g = Point::affine(Fe::from_be(&GX), Fe::from_be(&GY));
    let b = Fe::from_be(&B);
    let sum = double_mul_add(&g, &u1.to_bytes().into(), &q, &u2.to_bytes().into(), &b);
    if sum.z.is_zero() {
        return false;
    }
    let x = sum.x * sum.z.invert();
    Scalar::reduce(&FieldBytes::from(x.to_be())) == *r
}

/// The digest as a scalar: its leftmost 256 bits, reduced mod n.
fn digest_scalar(digest: &[u8]) -> Scalar {
    let mut bytes = [0u8; 32];
    let take = digest.len().min(32);
    let (head, _) = digest.split_at(take);
    if let Some(dst) = bytes.get_mut(32 - take..) {
        dst.copy_from_slice(head);
    }
    Scalar::reduce(&FieldBytes::from(bytes))
}

/// `k·P + l·Q` by interleaved width-5 wNAF (Straus–Shamir): one doubling per bit, about
/// one addition per six bits of each scalar.
/// (`b` is the curve constant.)
fn double_mul_add(p: &Point, k: &[u8; 32], q: &Point, l: &[u8; 32], b: &Fe) -> Point {
    let (p_odd, q_odd) = (p.odd_multiples(b), q.odd_multiples(b));
    let (k_digits, l_digits) = (wnaf(k), wnaf(l));
    let mut acc = Point::identity();
    let mut started = false;
    for (dk, dl) in k_digits.iter().zip(l_digits.iter()).rev() {
        if started {
            acc = acc.double(b);
        }
        for (d, table) in [(*dk, &p_odd), (*dl, &q_odd)] {
            if d != 0 {
                acc = acc.add(&Point::pick(table, d), b);
                started = true;
            }
        }
    }
    acc
}

/// The width-5 non-adjacent form of a 256-bit big-endian `k`, least significant digit
/// first: each digit 0 or odd in −15..=15, non-zero digits at least five apart, and
/// Σ dᵢ·2ⁱ = k. 257 digits hold any 256-bit value.
fn wnaf(k: &[u8; 32]) -> [i8; 257] {
    // Little-endian 32-bit limbs, with a ninth for the carry of negative digits.
    let mut limbs = [0u32; 9];
    for (limb, chunk) in limbs.iter_mut().zip(k.rchunks_exact(4)) {
        *limb = chunk.try_into().map(u32::from_be_bytes).unwrap_or(0);
    }
    let mut digits = [0i8; 257];
    for digit in digits.iter_mut() {
        if limbs[0] & 1 == 1 {
            // k mod 32, as the odd residue nearest zero.
            let low = (limbs[0] & 31) as i8;
            let d = if low >= 16 { low - 32 } else { low };
            *digit = d;
            // k −= d: the five low bits become zero.
            if d > 0 {
                sub_small(&mut limbs, d.unsigned_abs().into());
            } else {
                add_small(&mut limbs, d.unsigned_abs().into());
            }
        }
        shift_right_one(&mut limbs);
    }
    digits
}

fn add_small(limbs: &mut [u32; 9], v: u32) {
    let mut carry = v;
    for limb in limbs.iter_mut() {
        let (sum, overflow) = limb.overflowing_add(carry);
        *limb = sum;
        carry = u32::from(overflow);
    }
}

fn sub_small(limbs: &mut [u32; 9], v: u32) {
    let mut borrow = v;
    for limb in limbs.iter_mut() {
        let (diff, underflow) = limb.overflowing_sub(borrow);
        *limb = diff;
        borrow = u32::from(underflow);
    }
}

fn shift_right_one(limbs: &mut [u32; 9]) {
    let mut high = 0;
    for limb in limbs.iter_mut().rev() {
        let low_bit = *limb & 1;
        *limb = (*limb >> 1) | (high << 31);
        high = low_bit;
    }
}

/// An element of the P-256 base field, in fiat-crypto's Montgomery form (always fully
/// reduced).
#[derive(Clone, Copy)]
struct Fe(Montgomery);

impl Fe {
    fn zero() -> Fe {
        Fe(Montgomery(Default::default()))
    }

    fn one() -> Fe {
        let mut one = Fe::zero();
        fiat::fiat_p256_set_one(&mut one.0);
        one
    }

    /// From big-endian bytes of a value below p (callers pass decoded coordinates and
    /// the constants above).
    fn from_be(bytes: &[u8; 32]) -> Fe {
        let mut le = *bytes;
        le.reverse();
        let mut plain = Plain(Default::default());
        fiat::fiat_p256_from_bytes(&mut plain.0, &le);
        let mut out = Fe::zero();
        fiat::fiat_p256_to_montgomery(&mut out.0, &plain);
        out
    }

    fn to_be(self) -> [u8; 32] {
        let mut plain = Plain(Default::default());
        fiat::fiat_p256_from_montgomery(&mut plain, &self.0);
        let mut out = [0u8; 32];
        fiat::fiat_p256_to_bytes(&mut out, &plain.0);
        out.reverse();
        out
    }

    fn square(self) -> Fe {
        let mut out = Fe::zero();
        fiat::fiat_p256_square(&mut out.0, &self.0);
        out
    }

    fn is_zero(self) -> bool {
        let mut nonzero = 0;
        fiat::fiat_p256_nonzero(&mut nonzero, &self.0 .0);
        nonzero == 0
    }

    /// self^(p−2) = 1/self (0 for 0), by square-and-multiply over the public exponent.
    fn invert(self) -> Fe {
        let mut acc = Fe::one();
        for byte in P_MINUS_2 {
            for bit in (0..8).rev() {
                acc = acc.square();
                if (byte >> bit) & 1 == 1 {
                    acc = acc * self;
                }
            }
        }
        acc
    }
}

/// `impl $Trait for Fe` with fiat's `$op`.
macro_rules! fe_op {
    ($Trait:ident, $method:ident, $op:ident) => {
        impl $Trait for Fe {
            type Output = Fe;
            fn $method(self, rhs: Fe) -> Fe {
                let mut out = Fe::zero();
                fiat::$op(&mut out.0, &self.0, &rhs.0);
                out
            }
        }
    };
}

fe_op!(Add, add, fiat_p256_add);
fe_op!(Sub, sub, fiat_p256_sub);
fe_op!(Mul, mul, fiat_p256_mul);

/// A point in projective coordinates (X : Y : Z), x = X/Z, y = Y/Z; the identity is
/// (0 : 1 : 0).
#[derive(Clone, Copy)]
struct Point {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Point {
    fn identity() -> Point {
        Point {
            x: Fe::zero(),
            y: Fe::one(),
            z: Fe::zero(),
        }
    }

    fn affine(x: Fe, y: Fe) -> Point {
        Point { x, y, z: Fe::one() }
    }

    fn neg(&self) -> Point {
        Point {
            y: Fe::zero() - self.y,
            ..*self
        }
    }

    /// P, 3P, 5P, …, 15P.
    fn odd_multiples(&self, b: &Fe) -> [Point; 8] {
        let twice = self.double(b);
        let mut table = [*self; 8];
        let mut last = *self;
        for entry in table.iter_mut().skip(1) {
            last = last.add(&twice, b);
            *entry = last;
        }
        table
    }

    /// d·P for an odd wNAF digit d in −15..=15, from P's odd multiples.
    fn pick(table: &[Point; 8], d: i8) -> Point {
        let index = usize::from(d.unsigned_abs() / 2);
        let point = table.get(index).copied().unwrap_or_else(Point::identity);
        if d < 0 {
            point.neg()
        } else {
            point
        }
    }

    /// P + Q, complete: algorithm 4 of Renes–Costello–Batina (a = −3).
    fn add(&self, other: &Point, b: &Fe) -> Point {
        let (x1, y1, z1) = (self.x, self.y, self.z);
        let (x2, y2, z2) = (other.x, other.y, other.z);
        let mut t0 = x1 * x2;
        let mut t1 = y1 * y2;
        let mut t2 = z1 * z2;
        let mut t3 = (x1 + y1) * (x2 + y2);
        let mut t4 = t0 + t1;
        t3 = t3 - t4;
        t4 = (y1 + z1) * (y2 + z2);
        let mut x3 = t1 + t2;
        t4 = t4 - x3;
        x3 = (x1 + z1) * (x2 + z2);
        let mut y3 = t0 + t2;
        y3 = x3 - y3;
        let mut z3 = *b * t2;
        x3 = y3 - z3;
        z3 = x3 + x3;
        x3 = x3 + z3;
        z3 = t1 - x3;
        x3 = t1 + x3;
        y3 = *b * y3;
        t1 = t2 + t2;
        t2 = t1 + t2;
        y3 = y3 - t2;
        y3 = y3 - t0;
        t1 = y3 + y3;
        y3 = t1 + y3;
        t1 = t0 + t0;
        t0 = t1 + t0;
        t0 = t0 - t2;
        t1 = t4 * y3;
        t2 = t0 * y3;
        y3 = x3 * z3;
        y3 = y3 + t2;
        x3 = x3 * t3;
        x3 = x3 - t1;
        z3 = t4 * z3;
        t1 = t3 * t0;
        z3 = z3 + t1;
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// 2P, complete: algorithm 6 of Renes–Costello–Batina (a = −3).
    fn double(&self, b: &Fe) -> Point {
        let (x, y, z) = (self.x, self.y, self.z);
        let mut t0 = x.square();
        let t1 = y.square();
        let mut t2 = z.square();
        let mut t3 = x * y;
        t3 = t3 + t3;
        let mut z3 = x * z;
        z3 = z3 + z3;
        let mut y3 = *b * t2;
        y3 = y3 - z3;
        let mut x3 = y3 + y3;
        y3 = x3 + y3;
        x3 = t1 - y3;
        y3 = t1 + y3;
        y3 = x3 * y3;
        x3 = x3 * t3;
        t3 = t2 + t2;
        t2 = t2 + t3;
        z3 = *b * z3;
        z3 = z3 - t2;
        z3 = z3 - t0;
        t3 = z3 + z3;
        z3 = z3 + t3;
        t3 = t0 + t0;
        t0 = t3 + t0;
        t0 = t0 - t2;
        t0 = t0 * z3;
        y3 = y3 + t0;
        t0 = y * z;
        t0 = t0 + t0;
        z3 = t0 * z3;
        x3 = x3 - z3;
        z3 = t0 * t1;
        z3 = z3 + z3;
        z3 = z3 + z3;
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
    use p256::ecdsa::SigningKey;
    use p256::ProjectivePoint;
    use sha2::{Digest, Sha256, Sha384};

    /// Deterministic test bytes: SHA-256 of a label and a counter.
    fn bytes(label: &str, i: u32) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(label.as_bytes());
        h.update(i.to_be_bytes());
        h.finalize().into()
    }

    fn scalar(label: &str, i: u32) -> Scalar {
        Scalar::reduce(&FieldBytes::from(bytes(label, i)))
    }

    /// (x, y) big-endian, or None for the identity.
    fn ours(p: &Point) -> Option<([u8; 32], [u8; 32])> {
        if p.z.is_zero() {
            return None;
        }
        let inv = p.z.invert();
        Some(((p.x * inv).to_be(), (p.y * inv).to_be()))
    }

    fn theirs(p: &ProjectivePoint) -> Option<([u8; 32], [u8; 32])> {
        let encoded = p.to_affine().to_sec1_point(false);
        Some(((*encoded.x()?).into(), (*encoded.y()?).into()))
    }

    fn from_theirs(p: &ProjectivePoint) -> Point {
        match theirs(p) {
            Some((x, y)) => Point::affine(Fe::from_be(&x), Fe::from_be(&y)),
            None => Point::identity(),
        }
    }

    fn b() -> Fe {
        Fe::from_be(&B)
    }

    #[test]
    fn constants_are_the_curve_s() {
        assert_eq!(theirs(&ProjectivePoint::GENERATOR), Some((GX, GY)));
        // y² = x³ − 3x + b at the generator.
        let (x, y) = (Fe::from_be(&GX), Fe::from_be(&GY));
        let three_x = x + x + x;
        assert_eq!(
            (y.square()).to_be(),
            (x.square() * x - three_x + b()).to_be()
        );
        // Round trips, and 1/x · x = 1.
        assert_eq!(x.to_be(), GX);
        assert_eq!((x.invert() * x).to_be(), Fe::one().to_be());
        assert!(Fe::zero().is_zero() && !Fe::one().is_zero());
    }

    #[test]
    fn wnaf_digits_sum_to_the_scalar() {
        let mut cases: Vec<[u8; 32]> = (0..200).map(|i| bytes("wnaf", i)).collect();
        cases.extend([[0u8; 32], [0xff; 32], {
            let mut one = [0u8; 32];
            one[31] = 1;
            one
        }]);
        for k in cases {
            let digits = wnaf(&k);
            // Σ dᵢ·2ⁱ, from the top, in 9 limbs.
            let mut acc = [0u32; 9];
            for d in digits.iter().rev() {
                // acc = 2·acc + d
                let mut carry = 0;
                for limb in acc.iter_mut() {
                    let top = *limb >> 31;
                    *limb = (*limb << 1) | carry;
                    carry = top;
                }
                if *d > 0 {
                    add_small(&mut acc, d.unsigned_abs().into());
                } else {
                    sub_small(&mut acc, d.unsigned_abs().into());
                }
            }
            let mut expected = [0u32; 9];
            for (limb, chunk) in expected.iter_mut().zip(k.rchunks_exact(4)) {
                *limb = u32::from_be_bytes(chunk.try_into().unwrap()); // ok: test code
            }
            assert_eq!(acc, expected, "{k:02x?}");
            let mut gap = 5;
            for d in digits {
                if d != 0 {
                    assert!(d % 2 != 0 && (-15..=15).contains(&d), "digit {d}");
                    assert!(gap >= 5, "non-zero digits closer than 5");
                    gap = 0;
                }
                gap += 1;
            }
        }
    }

    #[test]
    fn point_arithmetic_agrees_with_p256() {
        let b = b();
        let g = Point::affine(Fe::from_be(&GX), Fe::from_be(&GY));
        for i in 0..24 {
            let (k, l) = (scalar("k", i), scalar("l", i));
            let q_theirs = ProjectivePoint::GENERATOR * scalar("q", i);
            let q = from_theirs(&q_theirs);
            // k·G + l·Q, and each alone.
            let expected = ProjectivePoint::GENERATOR * k + q_theirs * l;
            let got = double_mul_add(&g, &k.to_bytes().into(), &q, &l.to_bytes().into(), &b);
            assert_eq!(ours(&got), theirs(&expected), "case {i}");
            let zero = [0u8; 32];
            let got = double_mul_add(&g, &k.to_bytes().into(), &q, &zero, &b);
            assert_eq!(ours(&got), theirs(&(ProjectivePoint::GENERATOR * k)));
            // Addition and doubling, in projective coordinates that are not affine.
            let (p1, p2) = (got, q.double(&b));
            assert_eq!(
                ours(&p1.add(&p2, &b)),
                theirs(&(ProjectivePoint::GENERATOR * k + (q_theirs + q_theirs)))
            );
            assert_eq!(ours(&p2.add(&p2, &b)), ours(&p2.double(&b)), "P + P = 2P");
        }
    }

    #[test]
    fn the_complete_formulas_handle_the_identity_and_inverses() {
        let b = b();
        let g = Point::affine(Fe::from_be(&GX), Fe::from_be(&GY));
        let o = Point::identity();
        assert_eq!(ours(&g.add(&g.neg(), &b)), None, "P − P");
        assert_eq!(ours(&o.add(&o, &b)), None);
        assert_eq!(ours(&o.double(&b)), None);
        assert_eq!(ours(&g.add(&o, &b)), ours(&g));
        assert_eq!(ours(&o.add(&g, &b)), ours(&g));
        // n·G is the identity: k = n − 1 plus one more G.
        let minus_one = -Scalar::ONE;
        let sum = double_mul_add(
            &g,
            &minus_one.to_bytes().into(),
            &g,
            &Scalar::ONE.to_bytes().into(),
            &b,
        );
        assert_eq!(ours(&sum), None);
        assert_eq!(
            theirs(&(ProjectivePoint::GENERATOR * minus_one)),
            ours(&g.neg())
        );
    }

    #[test]
    fn verifies_exactly_what_p256_verifies() {
        for i in 0..40 {
            let key = SigningKey::from_slice(&bytes("key", i)).unwrap(); // ok: test code
            let public = *key.verifying_key();
            let digest256 = Sha256::digest(bytes("message", i));
            let digest384 = Sha384::digest(bytes("message", i));
            for digest in [&digest256[..], &digest384[..]] {
                let sig: Signature = key.sign_prehash(digest).unwrap(); // ok: test code
                assert!(public.verify_prehash(digest, &sig).is_ok());
                assert!(verify_prehash(&public, digest, &sig), "case {i}");
                // Another digest, another key, another r or s: refused by both.
                let mut other = digest.to_vec();
                other[i as usize % 32] ^= 1 << (i % 8);
                assert!(public.verify_prehash(&other, &sig).is_err());
                assert!(!verify_prehash(&public, &other, &sig));
                let stranger = *SigningKey::from_slice(&bytes("other key", i))
                    .unwrap() // ok: test code
                    .verifying_key();
                assert!(!verify_prehash(&stranger, digest, &sig));
                let (r, s) = sig.split_scalars();
                for (r2, s2) in [(*r + Scalar::ONE, *s), (*r, *s + Scalar::ONE), (*s, *r)] {
                    let Ok(forged) = Signature::from_scalars(r2.to_bytes(), s2.to_bytes()) else {
                        continue;
                    };
                    assert_eq!(
                        verify_prehash(&public, digest, &forged),
                        public.verify_prehash(digest, &forged).is_ok()
                    );
                    assert!(!verify_prehash(&public, digest, &forged));
                }
                // (r, −s) verifies too: ECDSA signatures are malleable, and both agree.
                let flipped = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap(); // ok: test code
                assert!(public.verify_prehash(digest, &flipped).is_ok());
                assert!(verify_prehash(&public, digest, &flipped));
            }
        }
    }

    #[test]
    fn random_signatures_are_refused() {
        let key = *SigningKey::from_slice(&bytes("key", 0))
            .unwrap() // ok: test code
            .verifying_key();
        let digest = Sha256::digest(b"message");
        for i in 0..50 {
            let Ok(sig) = Signature::from_scalars(bytes("r", i), bytes("s", i)) else {
                continue;
            };
            assert!(!verify_prehash(&key, &digest, &sig));
            assert!(key.verify_prehash(&digest, &sig).is_err());
        }
    }
}
