//! Eight Vesta points at once in Jacobian coordinates over `Fq` in Montgomery form (radix
//! `2^260`): doubling, additions of an affine or a Jacobian point, and lane selection. Used by
//! the collapse's ladder ([`super::ladder`]) and the MSM's bucket sums ([`super::msm`]).
//!
//! The additions have no lane-uniform formula where the two points have the same x coordinate
//! (a doubling, or a point and its negation): they return `None` if that happens in a lane
//! that asked for the addition, and the caller gives its work back to the scalar code.

use ff::Field;
use halo2_proofs::arithmetic::{Coordinates, CurveAffine, CurveExt};
use halo2_proofs::pasta::{Eq, EqAffine, Fq};

use super::field::{self, Consts, LANES, LIMBS, Vector};
use super::words;

/// An affine point's `x`, `y` and `-y` in Montgomery form ([`field::constant`]), the limbs a
/// table of points for the additions holds; `None` at the identity (no coordinates).
pub fn affine_limbs(point: &EqAffine) -> Option<[[u64; LIMBS]; 3]> {
    let xy: Option<Coordinates<EqAffine>> = point.coordinates().into();
    let xy = xy?;
    Some([field::constant(*xy.x()), field::constant(*xy.y()), field::constant(-*xy.y())])
}

/// Eight points in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`).
#[derive(Clone, Copy)]
pub struct Jacobian {
    pub x: Vector,
    pub y: Vector,
    pub z: Vector,
}

impl Jacobian {
    /// `other` in the lanes of `lanes`, `self` in the others.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn blend(&self, lanes: u8, other: &Jacobian) -> Jacobian {
        Jacobian {
            x: field::blend(lanes, &self.x, &other.x),
            y: field::blend(lanes, &self.y, &other.y),
            z: field::blend(lanes, &self.z, &other.z),
        }
    }

    /// The lanes of `lanes` as points, the identity in the others; `None` if one of them is
    /// not on the curve (no sum of curve points is not).
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn into_points(self, lanes: u8) -> Option<[Eq; LANES]> {
        let c = Consts::new::<Fq>();
        // Out of the vector code's Montgomery form into pasta_curves' words.
        let mut coordinates = [[Fq::ZERO; LANES]; 3];
        for (out, v) in coordinates.iter_mut().zip([&self.x, &self.y, &self.z]) {
            // `scale_down` gives canonical values, as the words must be.
            words::store(&field::scale_down(&c, v), words::as_words_mut(out));
        }
        let [x, y, z] = coordinates;
        let mut out = [Eq::default(); LANES];
        for (l, out) in out.iter_mut().enumerate() {
            if lanes >> l & 1 == 1 {
                *out = Option::from(Eq::new_jacobian(x[l], y[l], z[l]))?;
            }
        }
        Some(out)
    }
}

/// `2·p` (a = 0: dbl-2009-l, two products and five squares).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn double(c: &Consts, p: &Jacobian) -> Jacobian {
    let a = field::mul(c, &p.x, &p.x);
    let b = field::mul(c, &p.y, &p.y);
    let cc = field::mul(c, &b, &b);
    let x_plus_b = field::add(c, &p.x, &b);
    let t = field::mul(c, &x_plus_b, &x_plus_b);
    let half_d = field::sub(c, &field::sub(c, &t, &a), &cc);
    let d = field::add(c, &half_d, &half_d);
    let e = field::add(c, &field::add(c, &a, &a), &a);
    let f = field::mul(c, &e, &e);
    let x = field::sub(c, &f, &field::add(c, &d, &d));
    let two_c = field::add(c, &cc, &cc);
    let four_c = field::add(c, &two_c, &two_c);
    let eight_c = field::add(c, &four_c, &four_c);
    let y = field::sub(c, &field::mul(c, &e, &field::sub(c, &d, &x)), &eight_c);
    let yz = field::mul(c, &p.y, &p.z);
    Jacobian { x, y, z: field::add(c, &yz, &yz) }
}

/// `p + (x2, y2)` for an affine point (madd-2007-bl, seven products and four squares); `None`
/// where a lane of `lanes` has equal x coordinates (the other lanes' results are not used).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn add_affine(c: &Consts, p: &Jacobian, x2: &Vector, y2: &Vector, lanes: u8) -> Option<Jacobian> {
    let z1z1 = field::mul(c, &p.z, &p.z);
    let u2 = field::mul(c, x2, &z1z1);
    let s2 = field::mul(c, y2, &field::mul(c, &p.z, &z1z1));
    let h = field::sub(c, &u2, &p.x);
    if field::zero_lanes(c, &h) & lanes != 0 {
        return None;
    }
    let hh = field::mul(c, &h, &h);
    let two_hh = field::add(c, &hh, &hh);
    let i = field::add(c, &two_hh, &two_hh);
    let j = field::mul(c, &h, &i);
    let half_r = field::sub(c, &s2, &p.y);
    let r = field::add(c, &half_r, &half_r);
    let v = field::mul(c, &p.x, &i);
    let x = field::sub(c, &field::sub(c, &field::mul(c, &r, &r), &j), &field::add(c, &v, &v));
    let yj = field::mul(c, &p.y, &j);
    let y = field::sub(c, &field::mul(c, &r, &field::sub(c, &v, &x)), &field::add(c, &yj, &yj));
    let z_plus_h = field::add(c, &p.z, &h);
    let z = field::sub(c, &field::sub(c, &field::mul(c, &z_plus_h, &z_plus_h), &z1z1), &hh);
    Some(Jacobian { x, y, z })
}

/// `p + q` (add-2007-bl, eleven products and five squares), by doubling in the lanes where
/// `p = q`; `None` where a lane of `lanes` has `p = -q` (the other lanes' results are not
/// used).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn add(c: &Consts, p: &Jacobian, q: &Jacobian, lanes: u8) -> Option<Jacobian> {
    let z1z1 = field::mul(c, &p.z, &p.z);
    let z2z2 = field::mul(c, &q.z, &q.z);
    let u1 = field::mul(c, &p.x, &z2z2);
    let u2 = field::mul(c, &q.x, &z1z1);
    let s1 = field::mul(c, &p.y, &field::mul(c, &q.z, &z2z2));
    let s2 = field::mul(c, &q.y, &field::mul(c, &p.z, &z1z1));
    let h = field::sub(c, &u2, &u1);
    let half_r = field::sub(c, &s2, &s1);
    // Equal x: the same point (equal y) or opposite ones.
    let same_x = field::zero_lanes(c, &h) & lanes;
    let same = same_x & field::zero_lanes(c, &half_r);
    if same_x != same {
        return None;
    }
    let two_h = field::add(c, &h, &h);
    let i = field::mul(c, &two_h, &two_h);
    let j = field::mul(c, &h, &i);
    let r = field::add(c, &half_r, &half_r);
    let v = field::mul(c, &u1, &i);
    let x = field::sub(c, &field::sub(c, &field::mul(c, &r, &r), &j), &field::add(c, &v, &v));
    let s1j = field::mul(c, &s1, &j);
    let y = field::sub(c, &field::mul(c, &r, &field::sub(c, &v, &x)), &field::add(c, &s1j, &s1j));
    let z_sum = field::add(c, &p.z, &q.z);
    let z = field::mul(c, &field::sub(c, &field::sub(c, &field::mul(c, &z_sum, &z_sum), &z1z1), &z2z2), &h);
    let sum = Jacobian { x, y, z };
    Some(if same == 0 { sum } else { sum.blend(same, &double(c, p)) })
}
