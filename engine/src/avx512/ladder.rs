//! The shared-doubling ladder of [`crate::msm::glv::combine_same_scalars`] for eight outputs at
//! once. Every output of a combination has the same scalars, so the same digit schedule: one
//! lane per output, each doing the same doublings and additions of its own table's points, in
//! Jacobian coordinates over `Fq` in Montgomery form (radix `2^260`).
//!
//! An addition whose two points have the same x coordinate (a doubling, or a cancellation) has
//! no lane-uniform formula: the ladder then gives the eight outputs back to the scalar code.

use ff::Field;
use group::Group;
use halo2_proofs::pasta::{Eq, EqAffine, Fq};

use super::curve::{self, Jacobian, add_affine, double};
use super::field::{self, Consts, LANES, LIMBS, Vector};

/// Every lane.
const ALL_LANES: u8 = u8::MAX;

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
                let [x, y, negative_y] =
                    curve::affine_limbs(&tables[(t * outputs + first + l) * 2 * table_len + entry])?;
                coordinates[0][l] = x;
                coordinates[1][l] = y;
                coordinates[2][l] = negative_y;
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
                    Some(a) => add_affine(&c, a, &point.x, y, ALL_LANES)?,
                    None => Jacobian { x: point.x, y: *y, z: one },
                });
            }
        }
    }
    let Some(acc) = acc else {
        return Some([Eq::identity(); LANES]);
    };
    acc.into_points(ALL_LANES)
}
