//! Vesta points (`y^2 = x^3 + 5` over Fq) in Jacobian coordinates over [`Fq`]: `(X, Y, Z)`
//! stands for `(X/Z^2, Y/Z^3)`, `Z = 0` for the identity. Formulas for `a = 0` from the
//! Explicit-Formulas Database (dbl-2009-l, madd-2007-bl, add-2007-bl), with the cases they do
//! not cover (the identity, equal points, opposite points) handled before they apply.

use super::field::Fq;

/// A point in affine coordinates (never the identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub x: Fq,
    pub y: Fq,
}

impl Affine {
    /// The point with these coordinates (canonical little-endian bytes) if it is on the curve;
    /// `None` for a non-canonical coordinate or a pair off the curve.
    pub(crate) fn from_canonical(x: &[u8; 32], y: &[u8; 32]) -> Option<Affine> {
        let (x, y) = (Fq::from_canonical(x)?, Fq::from_canonical(y)?);
        (y.square() == x.square().mul(&x).add(&CURVE_B)).then_some(Affine { x, y })
    }
}

/// `b = 5` of Vesta's equation `y^2 = x^3 + b`, in Montgomery form (`5·R mod q`).
const CURVE_B: Fq =
    Fq([0xffff_ffed, 0x96bc_8c8c, 0x49f7_778e, 0x74c2_a54b, 0xffff_fffd, 0xffff_ffff, 0xffff_ffff, 0x3fff_ffff]);

/// A point in Jacobian coordinates.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    x: Fq,
    y: Fq,
    z: Fq,
}

impl Jacobian {
    pub(crate) const IDENTITY: Jacobian = Jacobian { x: Fq::ZERO, y: Fq::ZERO, z: Fq::ZERO };

    pub(crate) fn is_identity(&self) -> bool {
        self.z.is_zero()
    }

    /// `2P` (dbl-2009-l). Vesta has no point of order two, so `Y != 0` for every point.
    pub(crate) fn double(&self) -> Jacobian {
        if self.is_identity() {
            return *self;
        }
        let a = self.x.square();
        let b = self.y.square();
        let c = b.square();
        let d = self.x.add(&b).square().sub(&a).sub(&c).double();
        let e = a.double().add(&a);
        let f = e.square();
        let x = f.sub(&d.double());
        let y = e.mul(&d.sub(&x)).sub(&c.double().double().double());
        let z = self.y.mul(&self.z).double();
        Jacobian { x, y, z }
    }

    /// `P + Q` with `Q` affine (madd-2007-bl).
    pub(crate) fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian { x: q.x, y: q.y, z: ONE };
        }
        let z1z1 = self.z.square();
        let u2 = q.x.mul(&z1z1);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y).double();
        if h.is_zero() {
            return if r.is_zero() { self.double() } else { Jacobian::IDENTITY };
        }
        let hh = h.square();
        let i = hh.double().double();
        let j = h.mul(&i);
        let v = self.x.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&self.y.mul(&j).double());
        let z = self.z.add(&h).square().sub(&z1z1).sub(&hh);
        Jacobian { x, y, z }
    }

    /// `P + Q` (add-2007-bl).
    pub(crate) fn add(&self, q: &Jacobian) -> Jacobian {
        if self.is_identity() {
            return *q;
        }
        if q.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = q.z.square();
        let u1 = self.x.mul(&z2z2);
        let u2 = q.x.mul(&z1z1);
        let s1 = self.y.mul(&q.z).mul(&z2z2);
        let s2 = q.y.mul(&self.z).mul(&z1z1);
        let h = u2.sub(&u1);
        let r = s2.sub(&s1).double();
        if h.is_zero() {
            return if r.is_zero() { self.double() } else { Jacobian::IDENTITY };
        }
        let i = h.double().square();
        let j = h.mul(&i);
        let v = u1.mul(&i);
        let x = r.square().sub(&j).sub(&v.double());
        let y = r.mul(&v.sub(&x)).sub(&s1.mul(&j).double());
        let z = self.z.add(&q.z).square().sub(&z1z1).sub(&z2z2).mul(&h);
        Jacobian { x, y, z }
    }
}

/// One in Montgomery form (R mod q).
const ONE: Fq =
    Fq([0xffff_fffd, 0x5b2b_3e9c, 0xe342_0567, 0x992c_350b, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0x3fff_ffff]);

#[cfg(test)]
mod tests {
    use ff::{Field, PrimeField};
    use group::{Curve, Group};
    use halo2_proofs::arithmetic::{Coordinates, CurveAffine};
    use halo2_proofs::pasta::{Eq, EqAffine, Fq as Pasta};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    /// Points pasta accepts are accepted, with the same coordinates; a changed coordinate, a
    /// non-canonical one and `(0, 0)` (pasta's encoding of the identity) are refused.
    #[test]
    fn from_canonical_accepts_exactly_the_curve_points() {
        let mut rng = StdRng::seed_from_u64(3);
        let points: Vec<EqAffine> = (0..50).map(|_| Eq::random(&mut rng).to_affine()).collect();
        for p in points.iter().chain([&Eq::generator().to_affine()]) {
            let c: Coordinates<EqAffine> = p.coordinates().expect("valid");
            let (x, y) = (c.x().to_repr(), c.y().to_repr());
            let ours = Affine::from_canonical(&x, &y).expect("on the curve");
            assert_eq!(
                ours,
                Affine { x: Fq::from_canonical(&x).expect("valid"), y: Fq::from_canonical(&y).expect("valid") }
            );
            let other_y = (*c.y() + Pasta::ONE).to_repr();
            assert_eq!(Affine::from_canonical(&x, &other_y), None);
            assert!(bool::from(EqAffine::from_xy(*c.x(), *c.y() + Pasta::ONE).is_none()));
            let mut too_large = x;
            too_large[31] |= 0x80;
            assert_eq!(Affine::from_canonical(&too_large, &y), None);
        }
        assert_eq!(Affine::from_canonical(&[0; 32], &[0; 32]), None);
    }

    #[test]
    fn one_is_r_mod_q() {
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(Fq::from_canonical(&one), Some(ONE));
    }

    #[test]
    fn curve_b_is_five_in_montgomery_form() {
        let mut five = [0u8; 32];
        five[0] = 5;
        assert_eq!(Fq::from_canonical(&five), Some(CURVE_B));
    }
}
