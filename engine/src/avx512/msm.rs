//! The batch-affine MSM's windows ([`crate::msm::batch_affine`]) with the bucket rounds on
//! vectors of eight pairs: the same counting sort by signed digit, the same halving of every
//! bucket's list round by round with one inversion per round, but each round's denominators,
//! their batched inversion (eight interleaved chains, one per lane) and the affine additions
//! run eight pairs at a time over `Fq` in Montgomery form (radix `2^260`).
//!
//! A round whose denominators include a zero (two points with the same x: a doubling, or a
//! point and its negation) gives the window back to the scalar code, which handles every case.

use ff::Field;
use group::Group;
use halo2_proofs::arithmetic::CurveAffine;
use halo2_proofs::pasta::{Eq, EqAffine, Fq};
use rayon::prelude::*;

use super::field::{self, Consts, LANES, LIMBS, Vector, VectorField};

/// A point's coordinates in Montgomery form: x's limbs, then y's.
type VectorPoint = [u64; 2 * LIMBS];

/// An MSM's points, and their negations, ready for the vector rounds.
#[derive(Debug)]
pub struct MsmPoints {
    positive: Vec<VectorPoint>,
    negative: Vec<VectorPoint>,
}

impl MsmPoints {
    /// From affine coordinates (no identity among them).
    pub fn new(points: &[(Fq, Fq)]) -> Self {
        let convert = |x: Fq, y: Fq| -> VectorPoint {
            let (x, y) = (field::constant(x), field::constant(y));
            std::array::from_fn(|j| if j < LIMBS { x[j] } else { y[j - LIMBS] })
        };
        let (positive, negative) = points.par_iter().map(|&(x, y)| (convert(x, y), convert(x, -y))).unzip();
        Self { positive, negative }
    }
}

/// Coordinate `coordinate` (0: x, 1: y) of the eight points at `index[l] + shift`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn gather(points: &[VectorPoint], index: &[usize; LANES], shift: usize, coordinate: usize) -> Vector {
    let offset = coordinate * LIMBS;
    let mut lanes = [[0u64; LANES]; LIMBS];
    for (l, &i) in index.iter().enumerate() {
        let point = &points[i + shift];
        for j in 0..LIMBS {
            lanes[j][l] = point[offset + j];
        }
    }
    field::load(&lanes)
}

/// One window's `Σ_d d · (the sum of the points whose digit is ±d)`, or `None` if a round met
/// two points with the same x coordinate (the scalar code then does the window).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn window_sum(digits: impl Iterator<Item = i32> + Clone, points: &MsmPoints, buckets: usize) -> Option<Eq> {
    let c = Consts::new::<Fq>();
    // Counting sort by bucket (|digit| - 1), the negated point for a negative digit.
    let mut start = vec![0usize; buckets + 1];
    for d in digits.clone() {
        if d != 0 {
            start[d.unsigned_abs() as usize] += 1;
        }
    }
    for b in 0..buckets {
        start[b + 1] += start[b];
    }
    let mut len = vec![0usize; buckets];
    let mut sorted = vec![[0u64; 2 * LIMBS]; start[buckets]];
    for (i, d) in digits.enumerate() {
        if d != 0 {
            let b = d.unsigned_abs() as usize - 1;
            sorted[start[b] + len[b]] = if d < 0 { points.negative[i] } else { points.positive[i] };
            len[b] += 1;
        }
    }
    let start = &start[..buckets];
    // Each round: (first point of the pair, where the sum goes), eight pairs per group.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut denominators: Vec<Vector> = Vec::new();
    let mut prefix: Vec<Vector> = Vec::new();
    loop {
        pairs.clear();
        for (&s, &l) in start.iter().zip(&len) {
            pairs.extend((0..l / 2).map(|i| (s + 2 * i, s + i)));
        }
        if pairs.is_empty() {
            break;
        }
        // Pad the last group with its own last pair (computed twice, written twice, the same).
        let last = pairs[pairs.len() - 1];
        pairs.resize(pairs.len().next_multiple_of(LANES), last);
        let groups: Vec<([usize; LANES], [usize; LANES])> = pairs
            .chunks_exact(LANES)
            .map(|g| (std::array::from_fn(|l| g[l].0), std::array::from_fn(|l| g[l].1)))
            .collect();
        denominators.clear();
        for (first, _) in &groups {
            let x = (gather(&sorted, first, 0, 0), gather(&sorted, first, 1, 0));
            denominators.push(field::sub(&c, &x.1, &x.0));
        }
        invert_all(&c, &mut denominators, &mut prefix)?;
        for ((first, out), inverse) in groups.iter().zip(&denominators) {
            let (ax, ay) = (gather(&sorted, first, 0, 0), gather(&sorted, first, 0, 1));
            let (bx, by) = (gather(&sorted, first, 1, 0), gather(&sorted, first, 1, 1));
            let lambda = field::mul(&c, &field::sub(&c, &by, &ay), inverse);
            let x = field::sub(&c, &field::sub(&c, &field::mul(&c, &lambda, &lambda), &ax), &bx);
            let y = field::sub(&c, &field::mul(&c, &lambda, &field::sub(&c, &ax, &x)), &ay);
            let (x, y) = (field::store(&x), field::store(&y));
            for (l, &o) in out.iter().enumerate() {
                for j in 0..LIMBS {
                    sorted[o][j] = x[j][l];
                    sorted[o][LIMBS + j] = y[j][l];
                }
            }
        }
        for (&s, l) in start.iter().zip(len.iter_mut()) {
            if *l % 2 == 1 {
                sorted[s + *l / 2] = sorted[s + *l - 1];
            }
            *l = l.div_ceil(2);
        }
    }
    let (mut running, mut sum) = (Eq::identity(), Eq::identity());
    for b in (0..buckets).rev() {
        if len[b] == 1 {
            let p = &sorted[start[b]];
            let coordinate = |offset: usize| -> Fq {
                field::from_montgomery(std::array::from_fn(|j| p[offset + j]))
                    .unwrap_or_else(|| unreachable!("canonical"))
            };
            let affine = Option::<EqAffine>::from(EqAffine::from_xy(coordinate(0), coordinate(LIMBS)))
                .unwrap_or_else(|| unreachable!("sums of curve points lie on the curve"));
            running += affine;
        }
        sum += running;
    }
    Some(sum)
}

/// Replaces each value (Montgomery form) by its inverse: Montgomery's trick with one chain
/// per lane, then one field inversion for all eight lanes' products. `None` (values left
/// partly changed) if a value is zero.
#[target_feature(enable = "avx512f,avx512ifma")]
fn invert_all(c: &Consts, values: &mut [Vector], prefix: &mut Vec<Vector>) -> Option<()> {
    prefix.clear();
    let mut acc = values[0];
    prefix.push(acc);
    for v in &values[1..] {
        acc = field::mul(c, &acc, v);
        prefix.push(acc);
    }
    // The lanes' products as field elements (Montgomery form T = t · 2^260), and
    // t^-1 in Montgomery form: 2^520 / T.
    let lanes = field::store(&acc);
    let products: [Fq; LANES] = std::array::from_fn(|l| {
        field::from_limbs::<Fq>(field::lane(&lanes, l)).unwrap_or_else(|| unreachable!("canonical"))
    });
    let mut before = [Fq::ONE; LANES];
    for l in 1..LANES {
        before[l] = before[l - 1] * products[l - 1];
    }
    let all = before[LANES - 1] * products[LANES - 1];
    let mut inverse_all = Option::<Fq>::from(all.invert())?;
    let mut inverses = [[0u64; LIMBS]; LANES];
    for l in (0..LANES).rev() {
        // 1 / T_l = inverse of all · the other lanes' products.
        inverses[l] = field::constant(inverse_all * before[l] * Fq::radix());
        inverse_all *= products[l];
    }
    let mut inverse = field::load(&field::transpose(&inverses));
    for k in (0..values.len()).rev() {
        let v = values[k];
        values[k] = if k > 0 { field::mul(c, &inverse, &prefix[k - 1]) } else { inverse };
        inverse = field::mul(c, &inverse, &v);
    }
    Some(())
}
