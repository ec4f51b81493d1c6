//! P-256 points in Jacobian coordinates, with the cheapest formulas for a = −3 and the
//! special cases (the identity, P + P, P − P) as branches: verification handles public
//! values only, so variable time is fine, and these formulas cost about two thirds of
//! the complete projective ones (a doubling is 3M + 5S against 8M + 3S + 2 products by
//! b; see the Explicit-Formulas Database, "dbl-2001-b", "add-2007-bl" and, for a point
//! with Z = 1, "madd-2007-bl").

use super::field::Field;

/// (X : Y : Z) with x = X/Z², y = Y/Z³; Z = 0 is the identity.
#[derive(Clone, Copy)]
pub(super) struct Point<F> {
    pub(super) x: F,
    pub(super) y: F,
    pub(super) z: F,
}

/// A point (x, y) in affine coordinates, never the identity: what a table of fixed points
/// holds, added with the cheaper mixed formulas.
#[derive(Clone, Copy)]
pub(super) struct Affine<F> {
    pub(super) x: F,
    pub(super) y: F,
}

impl<F: Field> Affine<F> {
    pub(super) fn neg(&self) -> Affine<F> {
        Affine {
            x: self.x,
            y: F::zero() - self.y,
        }
    }
}

impl<F: Field> Point<F> {
    pub(super) fn identity() -> Point<F> {
        Point {
            x: F::one(),
            y: F::one(),
            z: F::zero(),
        }
    }

    pub(super) fn affine(x: F, y: F) -> Point<F> {
        Point { x, y, z: F::one() }
    }

    pub(super) fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    pub(super) fn neg(&self) -> Point<F> {
        Point {
            y: F::zero() - self.y,
            ..*self
        }
    }

    /// P, 3P, 5P, …, 15P.
    pub(super) fn odd_multiples(&self) -> [Point<F>; 8] {
        let twice = self.double();
        let mut table = [*self; 8];
        let mut last = *self;
        for entry in table.iter_mut().skip(1) {
            last = last.add(&twice);
            *entry = last;
        }
        table
    }

    /// 2P ("dbl-2001-b", a = −3): 3M + 5S. The identity doubles to itself (Z stays 0);
    /// P-256 has no point of order two.
    pub(super) fn double(&self) -> Point<F> {
        let (x1, y1, z1) = (self.x, self.y, self.z);
        let delta = z1.square();
        let gamma = y1.square();
        let beta = x1 * gamma;
        let t = (x1 - delta) * (x1 + delta);
        let alpha = t + t + t;
        let beta4 = double(double(beta));
        let x3 = alpha.square() - double(beta4);
        let z3 = (y1 + z1).square() - gamma - delta;
        let gamma2 = gamma.square();
        let y3 = alpha * (beta4 - x3) - double(double(double(gamma2)));
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }

    /// P + Q ("add-2007-bl"): 11M + 5S, with the special cases first.
    pub(super) fn add(&self, other: &Point<F>) -> Point<F> {
        if self.is_identity() {
            return *other;
        }
        if other.is_identity() {
            return *self;
        }
        let (x1, y1, z1) = (self.x, self.y, self.z);
        let (x2, y2, z2) = (other.x, other.y, other.z);
        let z1z1 = z1.square();
        let z2z2 = z2.square();
        let u1 = x1 * z2z2;
        let u2 = x2 * z1z1;
        let s1 = y1 * z2 * z2z2;
        let s2 = y2 * z1 * z1z1;
        let h = u2 - u1;
        let r = double(s2 - s1);
        if h.is_zero() {
            return self.same_x_sum(r);
        }
        let i = double(h).square();
        let j = h * i;
        let v = u1 * i;
        let x3 = r.square() - j - double(v);
        let y3 = r * (v - x3) - double(s1 * j);
        let z3 = ((z1 + z2).square() - z1z1 - z2z2) * h;
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

impl<F: Field> Point<F> {
    /// P + Q when both have the same x: 2P if their y's agree too (r = 0), P − P = the
    /// identity otherwise.
    fn same_x_sum(&self, r: F) -> Point<F> {
        if r.is_zero() {
            self.double()
        } else {
            Point::identity()
        }
    }

    /// P + Q for an affine Q ("madd-2007-bl"): 7M + 4S, with the special cases first.
    pub(super) fn add_affine(&self, other: &Affine<F>) -> Point<F> {
        if self.is_identity() {
            return Point::affine(other.x, other.y);
        }
        let (x1, y1, z1) = (self.x, self.y, self.z);
        let z1z1 = z1.square();
        let u2 = other.x * z1z1;
        let s2 = other.y * z1 * z1z1;
        let h = u2 - x1;
        let r = double(s2 - y1);
        if h.is_zero() {
            return self.same_x_sum(r);
        }
        let hh = h.square();
        let i = double(double(hh));
        let j = h * i;
        let v = x1 * i;
        let x3 = r.square() - j - double(v);
        let y3 = r * (v - x3) - double(y1 * j);
        let z3 = (z1 + h).square() - z1z1 - hh;
        Point {
            x: x3,
            y: y3,
            z: z3,
        }
    }
}

fn double<F: Field>(x: F) -> F {
    x + x
}
