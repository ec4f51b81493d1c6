//! ECDSA P-256 verification: a width-5 wNAF double-scalar multiplication on Jacobian
//! coordinates, over fiat-crypto's field on 64-bit targets and `p256`'s field elsewhere.
//!
//! The two P-256 verifications of an ECDSA handshake (the certificate's signature and
//! CertificateVerify) are most of a client's handshake CPU after the key exchange.
//! `p256` 0.14 verifies with constant-time machinery it does not need for public values:
//! complete projective formulas and table lookups that touch every entry. Here the
//! formulas are the cheapest for a = −3 with the special cases as branches (`point`), the
//! table entries are picked directly, and the result is compared with r without inverting
//! Z (`x_matches`). On 64-bit targets the field is fiat-crypto's (generated with proofs
//! of correctness; already in the build through `p384`), faster there than `p256`'s;
//! on 32-bit targets (wasm32) `p256`'s own field measured at least as fast (`field`).
//!
//! Variable time on purpose: verification handles public values only (the key, the digest
//! and the signature). Decoding and range checks stay with `p256`: the key is a point on
//! the curve and 0 < r, s < n before anything here runs.

mod field;
mod point;

use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{FieldBytes, Scalar};

use field::Field;
use point::{Affine, Point};

/// G, 3G, 5G, …, 15G as affine (x, y), big-endian: the generator's half of every
/// verification adds these without computing them (a test recomputes them with `p256`).
const G_ODD_MULTIPLES: [([u8; 32], [u8; 32]); 8] = [
    (
        hex32("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"),
        hex32("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"),
    ),
    (
        hex32("5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c"),
        hex32("8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032"),
    ),
    (
        hex32("51590b7a515140d2d784c85608668fdfef8c82fd1f5be52421554a0dc3d033ed"),
        hex32("e0c17da8904a727d8ae1bf36bf8a79260d012f00d4d80888d1d0bb44fda16da4"),
    ),
    (
        hex32("8e533b6fa0bf7b4625bb30667c01fb607ef9f8b8a80fef5b300628703187b2a3"),
        hex32("73eb1dbde03318366d069f83a6f5900053c73633cb041b21c55e1a86c1f400b4"),
    ),
    (
        hex32("ea68d7b6fedf0b71878938d51d71f8729e0acb8c2c6df8b3d79e8a4b90949ee0"),
        hex32("2a2744c972c9fce787014a964a8ea0c84d714feaa4de823fe85a224a4dd048fa"),
    ),
    (
        hex32("3ed113b7883b4c590638379db0c21cda16742ed0255048bf433391d374bc21d1"),
        hex32("9099209accc4c8a224c843afa4f4c68a090d04da5e9889dae2f8eefce82a3740"),
    ),
    (
        hex32("177c837ae0ac495a61805df2d85ee2fc792e284b65ead58a98e15d9d46072c01"),
        hex32("63bb58cd4ebea558a24091adb40f4e7226ee14c3a1fb4df39c43bbe2efc7bfd8"),
    ),
    (
        hex32("f0454dc6971abae7adfb378999888265ae03af92de3a0ef163668c63e59b9d5f"),
        hex32("b5b93ee3592e2d1f4e6594e51f9643e62a3b21ce75b5fa3f47e59cde0d034f36"),
    ),
];

/// n, the group order, big-endian.
const N: [u8; 32] = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/// 64 hex digits as 32 bytes, at compile time (a non-hex digit would read as 0; the tests
/// check every constant).
const fn hex32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut digits = hex.as_bytes();
    let mut bytes: &mut [u8] = &mut out;
    while let ([high, low, rest @ ..], [byte, others @ ..]) = (digits, bytes) {
        *byte = (nibble(*high) << 4) | nibble(*low);
        digits = rest;
        bytes = others;
    }
    out
}

const fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => 0,
    }
}

/// Verifies an ECDSA signature over `digest` (SHA-256 or SHA-384 output; the leftmost
/// 256 bits count, as FIPS 186 says) with `key`: what `p256`'s `verify_prehash` decides.
pub(super) fn verify_prehash(key: &VerifyingKey, digest: &[u8], signature: &Signature) -> bool {
    #[cfg(target_pointer_width = "64")]
    return verify_with::<field::Fiat>(key, digest, signature);
    #[cfg(not(target_pointer_width = "64"))]
    return verify_with::<field::P256>(key, digest, signature);
}

fn verify_with<F: Field>(key: &VerifyingKey, digest: &[u8], signature: &Signature) -> bool {
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
    let (Some(qx), Some(qy)) = (F::from_be(&(*qx).into()), F::from_be(&(*qy).into())) else {
        return false; // coordinates p256 decoded are below p
    };
    let Some(g_odd) = g_odd_multiples() else {
        return false; // constants below p (tested)
    };
    let sum = mul_add_g(
        &g_odd,
        &u1.to_bytes().into(),
        &Point::affine(qx, qy),
        &u2.to_bytes().into(),
    );
    x_matches(&sum, &r.to_bytes().into())
}

/// [`G_ODD_MULTIPLES`] in the field's representation.
fn g_odd_multiples<F: Field>() -> Option<[Affine<F>; 8]> {
    let mut table = [Affine {
        x: F::zero(),
        y: F::zero(),
    }; 8];
    for (entry, (x, y)) in table.iter_mut().zip(&G_ODD_MULTIPLES) {
        *entry = Affine {
            x: F::from_be(x)?,
            y: F::from_be(y)?,
        };
    }
    Some(table)
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

/// Whether `p`'s affine x, reduced mod n, is `r` (big-endian, below n). As n < p < 2n,
/// that is x = r or x = r + n; each is checked as X = x·Z², without inverting Z.
fn x_matches<F: Field>(p: &Point<F>, r: &[u8; 32]) -> bool {
    if p.is_identity() {
        return false;
    }
    let zz = p.z.square();
    [Some(*r), plus_n(r)]
        .into_iter()
        .flatten()
        .filter_map(|x| F::from_be(&x)) // r + n may be p or more: then it is no x
        .any(|x| (x * zz).equals(p.x))
}

/// r + n, or `None` if it needs more than 256 bits.
fn plus_n(r: &[u8; 32]) -> Option<[u8; 32]> {
    let mut sum = [0u8; 32];
    let mut carry = 0u16;
    for ((out, a), b) in sum.iter_mut().zip(r).zip(&N).rev() {
        let [low, high] = (u16::from(*a) + u16::from(*b) + carry).to_le_bytes();
        *out = low;
        carry = high.into();
    }
    (carry == 0).then_some(sum)
}

/// `k·G + l·Q` by interleaved width-5 wNAF (Straus–Shamir): one doubling per bit, about
/// one addition per six bits of each scalar; G's multiples are the fixed affine table
/// (mixed additions), Q's are computed.
fn mul_add_g<F: Field>(
    g_odd: &[Affine<F>; 8],
    k: &[u8; 32],
    q: &Point<F>,
    l: &[u8; 32],
) -> Point<F> {
    let q_odd = q.odd_multiples();
    let (k_digits, l_digits) = (wnaf(k), wnaf(l));
    let mut acc = Point::identity();
    for (dk, dl) in k_digits.iter().zip(l_digits.iter()).rev() {
        if !acc.is_identity() {
            acc = acc.double();
        }
        if let Some(g) = pick(g_odd, *dk) {
            acc = acc.add_affine(&if *dk < 0 { g.neg() } else { g });
        }
        if let Some(q) = pick(&q_odd, *dl) {
            acc = acc.add(&if *dl < 0 { q.neg() } else { q });
        }
    }
    acc
}

/// The table entry for a wNAF digit d (|d|·P from P's odd multiples), or `None` for 0.
fn pick<T: Copy>(table: &[T; 8], d: i8) -> Option<T> {
    match d {
        0 => None,
        _ => table.get(usize::from(d.unsigned_abs() / 2)).copied(),
    }
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

#[cfg(test)]
mod tests {
    use super::field::{invert, Fiat, P256};
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

    fn fe<F: Field>(bytes: &[u8; 32]) -> F {
        F::from_be(bytes).unwrap() // ok: test code
    }

    const GX: [u8; 32] = G_ODD_MULTIPLES[0].0;
    const GY: [u8; 32] = G_ODD_MULTIPLES[0].1;

    fn generator<F: Field>() -> Point<F> {
        Point::affine(fe(&GX), fe(&GY))
    }

    fn g_table<F: Field>() -> [Affine<F>; 8] {
        g_odd_multiples().unwrap() // ok: test code
    }

    /// (x, y) big-endian, or None for the identity.
    fn ours<F: Field>(p: &Point<F>) -> Option<([u8; 32], [u8; 32])> {
        if p.is_identity() {
            return None;
        }
        let inv = invert(p.z);
        let inv2 = inv.square();
        Some(((p.x * inv2).to_be(), (p.y * inv2 * inv).to_be()))
    }

    fn theirs(p: &ProjectivePoint) -> Option<([u8; 32], [u8; 32])> {
        let encoded = p.to_affine().to_sec1_point(false);
        Some(((*encoded.x()?).into(), (*encoded.y()?).into()))
    }

    fn from_theirs<F: Field>(p: &ProjectivePoint) -> Point<F> {
        match theirs(p) {
            Some((x, y)) => Point::affine(fe(&x), fe(&y)),
            None => Point::identity(),
        }
    }

    /// A point with Z ≠ 1: (X·λ², Y·λ³, λ) for the affine (X, Y).
    fn rescaled<F: Field>(p: &Point<F>, lambda: &[u8; 32]) -> Point<F> {
        let l: F = fe(lambda);
        Point {
            x: p.x * l.square(),
            y: p.y * l.square() * l,
            z: p.z * l,
        }
    }

    /// Runs a generic test body with both fields.
    macro_rules! both_fields {
        ($($name:ident => $body:ident;)*) => {$(
            #[test]
            fn $name() {
                $body::<Fiat>();
                $body::<P256>();
            }
        )*};
    }

    both_fields! {
        constants_are_the_curve_s => constants;
        point_arithmetic_agrees_with_p256 => point_arithmetic;
        the_special_cases_are_handled => special_cases;
        x_is_compared_mod_n_without_inverting_z => x_comparison;
        verifies_exactly_what_p256_verifies => verifies_like_p256;
        random_signatures_are_refused => random_signatures;
    }

    fn constants<F: Field>() {
        // G, 3G, …, 15G, and n.
        for (i, entry) in G_ODD_MULTIPLES.iter().enumerate() {
            let odd = Scalar::from(2 * i as u64 + 1);
            assert_eq!(theirs(&(ProjectivePoint::GENERATOR * odd)), Some(*entry));
        }
        let mut n_minus_one = N;
        n_minus_one[31] -= 1;
        assert_eq!(n_minus_one, <[u8; 32]>::from((-Scalar::ONE).to_bytes()));
        assert_eq!(hex32("00ff10Ab"), {
            let mut expected = [0u8; 32];
            expected[..4].copy_from_slice(&[0x00, 0xff, 0x10, 0x0b]); // 'A' is no lower-case hex digit
            expected
        });
        // y² = x³ − 3x + b at the generator.
        let b: F = fe(&hex32(
            "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        ));
        let (x, y): (F, F) = (fe(&GX), fe(&GY));
        let three_x = x + x + x;
        assert_eq!(y.square().to_be(), (x.square() * x - three_x + b).to_be());
        // Round trips, 1/x · x = 1, and p itself is refused.
        assert_eq!(x.to_be(), GX);
        assert_eq!((invert(x) * x).to_be(), F::one().to_be());
        assert!(F::zero().is_zero() && !F::one().is_zero());
        let mut p = [0xffu8; 32];
        p[4..12].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
        p[12..20].fill(0);
        assert!(F::from_be(&p).is_none());
        p[31] = 0xfe;
        assert_eq!(F::from_be(&p).map(|x| (x + F::one()).is_zero()), Some(true));
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

    fn point_arithmetic<F: Field>() {
        for i in 0..24 {
            let (k, l) = (scalar("k", i), scalar("l", i));
            let q_theirs = ProjectivePoint::GENERATOR * scalar("q", i);
            let q = from_theirs::<F>(&q_theirs);
            // k·G + l·Q, and each alone.
            let expected = ProjectivePoint::GENERATOR * k + q_theirs * l;
            let got = mul_add_g(&g_table(), &k.to_bytes().into(), &q, &l.to_bytes().into());
            assert_eq!(ours(&got), theirs(&expected), "case {i}");
            let zero = [0u8; 32];
            let got = mul_add_g(&g_table(), &k.to_bytes().into(), &q, &zero);
            assert_eq!(ours(&got), theirs(&(ProjectivePoint::GENERATOR * k)));
            // Addition and doubling on points whose Z is not 1, both orders.
            let (p1, p2) = (got, rescaled(&q, &bytes("lambda", i)).double());
            let sum = theirs(&(ProjectivePoint::GENERATOR * k + (q_theirs + q_theirs)));
            assert_eq!(ours(&p1.add(&p2)), sum);
            assert_eq!(ours(&p2.add(&p1)), sum);
            assert_eq!(ours(&p2.add(&p2)), ours(&p2.double()), "P + P = 2P");
            let p3 = rescaled(&q, &bytes("mu", i));
            assert_eq!(ours(&p3.add(&q)), theirs(&(q_theirs + q_theirs)));
            assert_eq!(ours(&p3.double()), theirs(&(q_theirs + q_theirs)));
            // Mixed addition of each table entry, either sign, to a point with Z ≠ 1.
            for (j, entry) in g_table::<F>().iter().enumerate() {
                let multiple = ProjectivePoint::GENERATOR * Scalar::from(2 * j as u64 + 1);
                assert_eq!(
                    ours(&p1.add_affine(entry)),
                    theirs(&(multiple + ProjectivePoint::GENERATOR * k))
                );
                assert_eq!(
                    ours(&p2.add_affine(&entry.neg())),
                    theirs(&(-multiple + q_theirs + q_theirs))
                );
            }
        }
    }

    fn special_cases<F: Field>() {
        let g = generator::<F>();
        let o = Point::<F>::identity();
        let g2 = rescaled(&g, &bytes("lambda", 0));
        assert_eq!(ours(&g.add(&g.neg())), None, "P − P");
        assert_eq!(ours(&g2.add(&g.neg())), None, "P − P, another Z");
        assert_eq!(ours(&g.add(&g2)), ours(&g.double()), "P + P, another Z");
        assert_eq!(ours(&o.add(&o)), None);
        assert_eq!(ours(&o.double()), None);
        assert_eq!(ours(&g.add(&o)), ours(&g));
        assert_eq!(ours(&o.add(&g)), ours(&g));
        // The same through the mixed formulas: O + G, G + G, G − G, with another Z.
        let [g_affine, ..] = g_table::<F>();
        assert_eq!(ours(&o.add_affine(&g_affine)), ours(&g));
        assert_eq!(ours(&g2.add_affine(&g_affine)), ours(&g.double()));
        assert_eq!(ours(&g2.add_affine(&g_affine.neg())), None);
        // n·G is the identity: k = n − 1 plus one more G.
        let minus_one = -Scalar::ONE;
        let sum = mul_add_g(
            &g_table(),
            &minus_one.to_bytes().into(),
            &g,
            &Scalar::ONE.to_bytes().into(),
        );
        assert_eq!(ours(&sum), None);
        assert_eq!(
            theirs(&(ProjectivePoint::GENERATOR * minus_one)),
            ours(&g.neg())
        );
    }

    fn x_comparison<F: Field>() {
        // x = r + n for r = x − n: every x in [n, p) is such an x.
        let mut x = N;
        x[31] = 0x60; // n ends in 0x51
        let r = {
            let mut r = [0u8; 32];
            r[31] = 0x60 - 0x51;
            r
        };
        assert_eq!(plus_n(&r), Some(x));
        assert_eq!(plus_n(&[0xff; 32]), None);
        for i in 0..4 {
            let point = rescaled(&Point::affine(fe::<F>(&x), F::one()), &bytes("lambda", i));
            assert!(x_matches(&point, &r));
            assert!(x_matches(
                &rescaled(&Point::affine(fe::<F>(&r), F::one()), &x),
                &r
            ));
            let mut other = r;
            other[31] ^= 1;
            assert!(!x_matches(&point, &other));
        }
        // No r + n below p: x = r only.
        let big_r = bytes("r", 0);
        assert!(plus_n(&big_r).is_none_or(|s| F::from_be(&s).is_none()));
        let point = rescaled(&Point::affine(fe::<F>(&big_r), F::one()), &bytes("mu", 0));
        assert!(x_matches(&point, &big_r));
        assert!(!x_matches(&Point::<F>::identity(), &big_r));
    }

    fn verifies_like_p256<F: Field>() {
        for i in 0..40 {
            let key = SigningKey::from_slice(&bytes("key", i)).unwrap(); // ok: test code
            let public = *key.verifying_key();
            let digest256 = Sha256::digest(bytes("message", i));
            let digest384 = Sha384::digest(bytes("message", i));
            for digest in [&digest256[..], &digest384[..]] {
                let sig: Signature = key.sign_prehash(digest).unwrap(); // ok: test code
                assert!(public.verify_prehash(digest, &sig).is_ok());
                assert!(verify_with::<F>(&public, digest, &sig), "case {i}");
                // Another digest, another key, another r or s: refused by both.
                let mut other = digest.to_vec();
                other[i as usize % 32] ^= 1 << (i % 8);
                assert!(public.verify_prehash(&other, &sig).is_err());
                assert!(!verify_with::<F>(&public, &other, &sig));
                let stranger = *SigningKey::from_slice(&bytes("other key", i))
                    .unwrap() // ok: test code
                    .verifying_key();
                assert!(!verify_with::<F>(&stranger, digest, &sig));
                let (r, s) = sig.split_scalars();
                for (r2, s2) in [(*r + Scalar::ONE, *s), (*r, *s + Scalar::ONE), (*s, *r)] {
                    let Ok(forged) = Signature::from_scalars(r2.to_bytes(), s2.to_bytes()) else {
                        continue;
                    };
                    assert_eq!(
                        verify_with::<F>(&public, digest, &forged),
                        public.verify_prehash(digest, &forged).is_ok()
                    );
                    assert!(!verify_with::<F>(&public, digest, &forged));
                }
                // (r, −s) verifies too: ECDSA signatures are malleable, and both agree.
                let flipped = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap(); // ok: test code
                assert!(public.verify_prehash(digest, &flipped).is_ok());
                assert!(verify_with::<F>(&public, digest, &flipped));
            }
        }
        // The entry point picks one of the two.
        let key = SigningKey::from_slice(&bytes("key", 0)).unwrap(); // ok: test code
        let digest = Sha256::digest(b"message");
        let sig: Signature = key.sign_prehash(&digest).unwrap(); // ok: test code
        assert!(verify_prehash(key.verifying_key(), &digest, &sig));
        assert!(!verify_prehash(key.verifying_key(), &digest[1..], &sig));
    }

    fn random_signatures<F: Field>() {
        let key = *SigningKey::from_slice(&bytes("key", 0))
            .unwrap() // ok: test code
            .verifying_key();
        let digest = Sha256::digest(b"message");
        for i in 0..50 {
            let Ok(sig) = Signature::from_scalars(bytes("r", i), bytes("s", i)) else {
                continue;
            };
            assert!(!verify_with::<F>(&key, &digest, &sig));
            assert!(key.verify_prehash(&digest, &sig).is_err());
        }
    }
}
