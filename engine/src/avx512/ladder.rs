//! The shared-doubling ladder of [`crate::msm::glv::combine_same_scalars`] for eight outputs at
//! once. Every output of a combination has the same scalars, so the same digit schedule: one
//! lane per output, each doing the same doublings and additions of its own table's points, in
//! Jacobian coordinates over `Fq` in Montgomery form (radix `2^260`).
//!
//! An addition whose two points have the same x coordinate (a doubling, or a cancellation) has
//! no lane-uniform formula: the ladder then gives the eight outputs back to the scalar code.

use ff::Field;
use group::Group;
use halo2_proofs::arithmetic::{CurveAffine, CurveExt};
use halo2_proofs::pasta::{Eq, EqAffine, Fq};

use super::field::{self, Consts, LANES, LIMBS, Vector};

/// Eight points in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`).
struct Jacobian {
    x: Vector,
    y: Vector,
    z: Vector,
}

/// A table point for eight lanes: x, y and -y.
struct TablePoint {
    x: Vector,
    y: Vector,
    negative_y: Vector,
}

/// Eight outputs `first..first + 8` of a chunk of a combination, without their base:
/// `Σ_t Σ_half Σ_position digit · 2^position · table point` (see
/// [`crate::msm::glv::combine_same_scalars`]). `tables` holds, for term `t` and output `i`, the
/// points `{1, 3, 5, 7}·P` then `{1, 3, 5, 7}·φ(P)` from `(t · outputs + i) · 2 · table_len` on;
/// `digits[t]` the term's two digit rows. `None` where an addition met equal x coordinates or
/// a table point at the identity.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn ladder(
    tables: &[EqAffine],
    outputs: usize,
    first: usize,
    table_len: usize,
    digits: &[[&[i8]; 2]],
    positions: usize,
) -> Option<[Eq; LANES]> {
    let c = Consts::new::<Fq>();
    // Every term's table, lane by lane.
    let mut vector_tables: Vec<TablePoint> = Vec::with_capacity(digits.len() * 2 * table_len);
    for t in 0..digits.len() {
        for entry in 0..2 * table_len {
            // x, y and -y of each lane's point.
            let mut coordinates = [[[0u64; LIMBS]; LANES]; 3];
            for l in 0..LANES {
                let point = tables[(t * outputs + first + l) * 2 * table_len + entry];
                let xy: Option<halo2_proofs::arithmetic::Coordinates<EqAffine>> = point.coordinates().into();
                let xy = xy?;
                coordinates[0][l] = field::constant(*xy.x());
                coordinates[1][l] = field::constant(*xy.y());
                coordinates[2][l] = field::constant(-*xy.y());
            }
            let [x, y, negative_y] = coordinates.map(|c| field::load(&field::transpose(&c)));
            vector_tables.push(TablePoint { x, y, negative_y });
        }
    }
    let one = field::splat(field::constant(Fq::ONE));
    let mut acc: Option<Jacobian> = None;
    for position in (0..positions).rev() {
        if let Some(a) = &acc {
            acc = Some(double(&c, a));
        }
        for (t, rows) in digits.iter().enumerate() {
            for (half, row) in rows.iter().enumerate() {
                let d = row[position];
                if d == 0 {
                    continue;
                }
                let point = &vector_tables[(t * 2 + half) * table_len + usize::from(d.unsigned_abs() / 2)];
                let y = if d < 0 { &point.negative_y } else { &point.y };
                acc = Some(match &acc {
                    Some(a) => add_affine(&c, a, &point.x, y)?,
                    None => Jacobian { x: point.x, y: *y, z: one },
                });
            }
        }
    }
    let Some(acc) = acc else {
        return Some([Eq::identity(); LANES]);
    };
    let (x, y, z) = (field::store(&acc.x), field::store(&acc.y), field::store(&acc.z));
    let mut out = [Eq::identity(); LANES];
    for (l, out) in out.iter_mut().enumerate() {
        let coordinate = |v| field::from_montgomery::<Fq>(field::lane(v, l));
        *out = Option::from(Eq::new_jacobian(coordinate(&x)?, coordinate(&y)?, coordinate(&z)?))?;
    }
    Some(out)
}

/// `2·p` (a = 0: dbl-2009-l, two products and five squares).
#[target_feature(enable = "avx512f,avx512ifma")]
fn double(c: &Consts, p: &Jacobian) -> Jacobian {
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
/// where some lane's x coordinates are equal.
#[target_feature(enable = "avx512f,avx512ifma")]
fn add_affine(c: &Consts, p: &Jacobian, x2: &Vector, y2: &Vector) -> Option<Jacobian> {
    let z1z1 = field::mul(c, &p.z, &p.z);
    let u2 = field::mul(c, x2, &z1z1);
    let s2 = field::mul(c, y2, &field::mul(c, &p.z, &z1z1));
    let h = field::sub(c, &u2, &p.x);
    if field::any_zero(c, &h) {
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
