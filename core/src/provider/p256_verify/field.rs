//! The P-256 base field, two ways: fiat-crypto's Montgomery arithmetic (64-bit targets,
//! where it is faster) and `p256`'s own field element (everywhere else, e.g. wasm32, where
//! fiat's measured no faster). The point code is generic over [`Field`].

use core::ops::{Add, Mul, Sub};

use fiat_crypto::p256_64 as fiat;
use p256::elliptic_curve::ff::PrimeField as _;
use p256::elliptic_curve::hazmat::FieldArithmetic;

use fiat::fiat_p256_montgomery_domain_field_element as Montgomery;
use fiat::fiat_p256_non_montgomery_domain_field_element as Plain;

/// p, big-endian.
const P: [u8; 32] =
    super::hex32("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");

/// What the point arithmetic needs of a field element. Elements are always fully reduced.
pub(super) trait Field:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    fn zero() -> Self;
    fn one() -> Self;
    /// From big-endian bytes; `None` unless the value is below p.
    fn from_be(bytes: &[u8; 32]) -> Option<Self>;
    fn square(self) -> Self;
    fn is_zero(self) -> bool;
    /// Big-endian bytes (tests compare with `p256`).
    #[cfg(test)]
    fn to_be(self) -> [u8; 32];
    /// Whether two elements are equal (variable time).
    fn equals(self, other: Self) -> bool {
        (self - other).is_zero()
    }
}

/// fiat-crypto's P-256 field element in Montgomery form.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))] // tests use both fields
pub(super) struct Fiat(Montgomery);

impl Field for Fiat {
    fn zero() -> Fiat {
        Fiat(Montgomery(Default::default()))
    }

    fn one() -> Fiat {
        let mut one = Fiat::zero();
        fiat::fiat_p256_set_one(&mut one.0);
        one
    }

    fn from_be(bytes: &[u8; 32]) -> Option<Fiat> {
        // Big-endian arrays of equal length order as the numbers do.
        if *bytes >= P {
            return None;
        }
        let mut le = *bytes;
        le.reverse();
        let mut plain = Plain(Default::default());
        fiat::fiat_p256_from_bytes(&mut plain.0, &le);
        let mut out = Fiat::zero();
        fiat::fiat_p256_to_montgomery(&mut out.0, &plain);
        Some(out)
    }

    fn square(self) -> Fiat {
        let mut out = Fiat::zero();
        fiat::fiat_p256_square(&mut out.0, &self.0);
        out
    }

    fn is_zero(self) -> bool {
        let mut nonzero = 0;
        fiat::fiat_p256_nonzero(&mut nonzero, &self.0 .0);
        nonzero == 0
    }

    #[cfg(test)]
    fn to_be(self) -> [u8; 32] {
        let mut plain = Plain(Default::default());
        fiat::fiat_p256_from_montgomery(&mut plain, &self.0);
        let mut out = [0u8; 32];
        fiat::fiat_p256_to_bytes(&mut out, &plain.0);
        out.reverse();
        out
    }
}

/// `impl $Trait for Fiat` with fiat's `$op`.
macro_rules! fiat_op {
    ($Trait:ident, $method:ident, $op:ident) => {
        impl $Trait for Fiat {
            type Output = Fiat;
            fn $method(self, rhs: Fiat) -> Fiat {
                let mut out = Fiat::zero();
                fiat::$op(&mut out.0, &self.0, &rhs.0);
                out
            }
        }
    };
}

fiat_op!(Add, add, fiat_p256_add);
fiat_op!(Sub, sub, fiat_p256_sub);
fiat_op!(Mul, mul, fiat_p256_mul);

type P256Element = <p256::NistP256 as FieldArithmetic>::FieldElement;

/// `p256`'s field element (crypto-bigint Montgomery arithmetic).
#[derive(Clone, Copy)]
#[cfg_attr(target_pointer_width = "64", allow(dead_code))] // tests use both fields
pub(super) struct P256(P256Element);

impl Field for P256 {
    fn zero() -> P256 {
        P256(P256Element::ZERO)
    }

    fn one() -> P256 {
        P256(P256Element::ONE)
    }

    fn from_be(bytes: &[u8; 32]) -> Option<P256> {
        Option::from(P256Element::from_repr((*bytes).into())).map(P256)
    }

    fn square(self) -> P256 {
        P256(self.0.square())
    }

    fn is_zero(self) -> bool {
        self.0.is_zero().into()
    }

    #[cfg(test)]
    fn to_be(self) -> [u8; 32] {
        self.0.to_repr().into()
    }
}

/// `impl $Trait for P256` with the element's own operator.
macro_rules! p256_op {
    ($Trait:ident, $method:ident) => {
        impl $Trait for P256 {
            type Output = P256;
            fn $method(self, rhs: P256) -> P256 {
                P256($Trait::$method(self.0, rhs.0))
            }
        }
    };
}

p256_op!(Add, add);
p256_op!(Sub, sub);
p256_op!(Mul, mul);

/// self^(p−2) = 1/self (0 for 0), for tests that compare affine coordinates.
#[cfg(test)]
pub(super) fn invert<F: Field>(x: F) -> F {
    let mut exponent = P;
    exponent[31] -= 2; // p ends in 0xff
    let mut acc = F::one();
    for byte in exponent {
        for bit in (0..8).rev() {
            acc = acc.square();
            if (byte >> bit) & 1 == 1 {
                acc = acc * x;
            }
        }
    }
    acc
}
