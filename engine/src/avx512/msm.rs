//! The batch-affine MSM's windows ([`crate::msm::batch_affine`]) with the bucket rounds on
//! vectors of eight pairs: the same counting sort by signed digit, the same halving of every
//! bucket's list round by round with one inversion per round, but each round's denominators,
//! their batched inversion (four interleaved chains in each lane) and the affine additions
//! run eight pairs at a time over `Fq` in Montgomery form (radix `2^260`). The buckets' sums
//! then run as eight running sums, one per lane over its own run of buckets, in Jacobian
//! coordinates ([`bucket_sum`]).
//!
//! A round whose denominators include a zero (two points with the same x: a doubling, or a
//! point and its negation), or a bucket sum that meets an addition of equal or opposite points
//! it cannot double, gives the window back to the scalar code, which handles every case.

use ff::Field;
use group::Group;
use halo2_proofs::pasta::{Eq, Fq};
use rayon::prelude::*;
use std::arch::x86_64::{_mm512_set_epi64, _mm512_setzero_si512};

use super::curve::{self, Jacobian};
use super::field::{self, Consts, LANES, LIMBS, Vector, VectorField};
use super::words;

/// A point's coordinates in Montgomery form: x's limbs, then y's.
type VectorPoint = [u64; 2 * LIMBS];

/// An MSM's points, and their negations, ready for the vector rounds.
#[derive(Debug)]
pub struct MsmPoints {
    positive: Vec<VectorPoint>,
    negative: Vec<VectorPoint>,
}

impl MsmPoints {
    /// From affine coordinates (no identity among them), eight points at a time.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn new(points: &[(Fq, Fq)]) -> Self {
        let mut positive = vec![[0u64; 2 * LIMBS]; points.len()];
        let mut negative = positive.clone();
        positive.par_chunks_mut(LANES).zip(negative.par_chunks_mut(LANES)).zip(points.par_chunks(LANES)).for_each(
            |((positive, negative), points)| {
                let c = Consts::new::<Fq>();
                let (mut x, mut y) = ([[0u64; LIMBS]; LANES], [[0u64; LIMBS]; LANES]);
                for (l, (px, py)) in points.iter().enumerate() {
                    x[l] = words::split(&words::words_of(px));
                    y[l] = words::split(&words::words_of(py));
                }
                let montgomery = |v: &[[u64; LIMBS]; LANES]| field::scale_up(&c, &field::load(&field::transpose(v)));
                let (x, y) = (montgomery(&x), montgomery(&y));
                let negative_y = field::sub(&c, &[_mm512_setzero_si512(); LIMBS], &y);
                let (x, y, negative_y) = (field::store(&x), field::store(&y), field::store(&negative_y));
                for l in 0..points.len() {
                    let x = field::lane(&x, l);
                    positive[l][..LIMBS].copy_from_slice(&x);
                    positive[l][LIMBS..].copy_from_slice(&field::lane(&y, l));
                    negative[l][..LIMBS].copy_from_slice(&x);
                    negative[l][LIMBS..].copy_from_slice(&field::lane(&negative_y, l));
                }
            },
        );
        Self { positive, negative }
    }
}

/// Coordinate `coordinate` (0: x, 1: y) of the eight points at `index[l] + shift`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn gather(points: &[VectorPoint], index: &[usize; LANES], shift: usize, coordinate: usize) -> Vector {
    let offset = coordinate * LIMBS;
    let p = [
        &points[index[0] + shift],
        &points[index[1] + shift],
        &points[index[2] + shift],
        &points[index[3] + shift],
        &points[index[4] + shift],
        &points[index[5] + shift],
        &points[index[6] + shift],
        &points[index[7] + shift],
    ];
    let mut v = [_mm512_setzero_si512(); LIMBS];
    for (j, v) in v.iter_mut().enumerate() {
        let k = offset + j;
        *v = _mm512_set_epi64(
            p[7][k] as i64,
            p[6][k] as i64,
            p[5][k] as i64,
            p[4][k] as i64,
            p[3][k] as i64,
            p[2][k] as i64,
            p[1][k] as i64,
            p[0][k] as i64,
        );
    }
    v
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
    let mut groups: Vec<([usize; LANES], [usize; LANES])> = Vec::new();
    let mut denominators: Vec<Vector> = Vec::new();
    let mut prefix: Vec<Vector> = Vec::new();
    loop {
        pairs.clear();
        for (&s, &l) in start.iter().zip(&len) {
            for i in 0..l / 2 {
                pairs.push((s + 2 * i, s + i));
            }
        }
        if pairs.is_empty() {
            break;
        }
        // Pad the last group with its own last pair (computed twice, written twice, the same).
        let last = pairs[pairs.len() - 1];
        pairs.resize(pairs.len().next_multiple_of(LANES), last);
        groups.clear();
        for g in pairs.chunks_exact(LANES) {
            let (mut first, mut out) = ([0usize; LANES], [0usize; LANES]);
            for l in 0..LANES {
                (first[l], out[l]) = g[l];
            }
            groups.push((first, out));
        }
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
    bucket_sum(&c, &sorted, start, &len)
}

/// `Σ_b (b + 1) · bucket[b]` where bucket `b` holds one point at `sorted[start[b]]` if
/// `len[b] == 1` and nothing else: the buckets cut into eight runs, one per lane, each lane
/// summing its run by a running sum in Jacobian coordinates from its top bucket down
/// (`running` the run's points so far, `sum` adding `running` once per bucket). Lane `l`'s run
/// starts at bucket `l · run`, so the total is `Σ_l sum_l + run · Σ_l l · running_l`. `None`
/// where an addition met equal x coordinates.
#[target_feature(enable = "avx512f,avx512ifma")]
fn bucket_sum(c: &Consts, sorted: &[VectorPoint], start: &[usize], len: &[usize]) -> Option<Eq> {
    let buckets = start.len();
    let run = buckets.div_ceil(LANES);
    let one = field::splat(field::constant(Fq::ONE));
    let zero = Jacobian { x: one, y: one, z: one };
    // The lanes whose running sum (sum) holds a point so far.
    let (mut running, mut running_lanes) = (zero, 0u8);
    let (mut sum, mut sum_lanes) = (zero, 0u8);
    for k in (0..run).rev() {
        let mut present = 0u8;
        let mut index = [0usize; LANES];
        for (l, index) in index.iter_mut().enumerate() {
            let b = l * run + k;
            if b < buckets && len[b] == 1 {
                present |= 1 << l;
                *index = start[b];
            }
        }
        if present != 0 {
            let (x, y) = (gather(sorted, &index, 0, 0), gather(sorted, &index, 0, 1));
            let adding = present & running_lanes;
            if adding != 0 {
                running = running.blend(adding, &curve::add_affine(c, &running, &x, &y, adding)?);
            }
            running = running.blend(present & !running_lanes, &Jacobian { x, y, z: one });
            running_lanes |= present;
        }
        let adding = running_lanes & sum_lanes;
        if adding != 0 {
            sum = sum.blend(adding, &curve::add(c, &sum, &running, adding)?);
        }
        sum = sum.blend(running_lanes & !sum_lanes, &running);
        sum_lanes |= running_lanes;
    }
    let (running, sum) = (running.into_points(running_lanes)?, sum.into_points(sum_lanes)?);
    // Σ_l l · running_l as a running sum from the top lane down.
    let (mut lanes_running, mut weighted) = (Eq::identity(), Eq::identity());
    for l in (1..LANES).rev() {
        lanes_running += running[l];
        weighted += lanes_running;
    }
    let mut total = Eq::identity();
    for bit in (0..usize::BITS - run.leading_zeros()).rev() {
        total = total.double();
        if run >> bit & 1 == 1 {
            total += weighted;
        }
    }
    for lane in &sum {
        total += lane;
    }
    Some(total)
}

/// Independent product chains in [`invert_all`]: each product waits for the one before in its
/// chain, so interleaved chains keep several products in flight.
const CHAINS: usize = 4;
// `invert_all` combines the chains' products as two pairs.
const _: () = assert!(CHAINS == 4);

/// Replaces each value (Montgomery form) by its inverse: Montgomery's trick with [`CHAINS`]
/// interleaved chains per lane (value `k` in chain `k % CHAINS`), then one field inversion for
/// every chain of all eight lanes. `None` (values left partly changed) if a value is zero.
#[target_feature(enable = "avx512f,avx512ifma")]
fn invert_all(c: &Consts, values: &mut [Vector], prefix: &mut Vec<Vector>) -> Option<()> {
    let one = field::splat(field::constant(Fq::ONE));
    prefix.clear();
    let mut acc = [one; CHAINS];
    for (k, v) in values.iter().enumerate() {
        let chain = &mut acc[k % CHAINS];
        *chain = field::mul(c, chain, v);
        prefix.push(*chain);
    }
    // The chains' products' inverses, from the inverse of their product.
    let (front, back) = (field::mul(c, &acc[0], &acc[1]), field::mul(c, &acc[2], &acc[3]));
    let inverse = invert_lanes(&field::mul(c, &front, &back))?;
    let (front_inverse, back_inverse) = (field::mul(c, &inverse, &back), field::mul(c, &inverse, &front));
    let mut inverses = [
        field::mul(c, &front_inverse, &acc[1]),
        field::mul(c, &front_inverse, &acc[0]),
        field::mul(c, &back_inverse, &acc[3]),
        field::mul(c, &back_inverse, &acc[2]),
    ];
    for k in (0..values.len()).rev() {
        let v = values[k];
        let chain = &mut inverses[k % CHAINS];
        values[k] = if k >= CHAINS { field::mul(c, chain, &prefix[k - CHAINS]) } else { *chain };
        *chain = field::mul(c, chain, &v);
    }
    Some(())
}

/// Each lane's inverse (Montgomery form in and out): one field inversion for the eight lanes.
/// `None` if a lane is zero.
#[target_feature(enable = "avx512f,avx512ifma")]
fn invert_lanes(x: &Vector) -> Option<Vector> {
    // The lanes as field elements (Montgomery form T = t · 2^260), and t^-1 in Montgomery
    // form: 2^520 / T.
    let lanes = field::store(x);
    let mut products = [Fq::ONE; LANES];
    for (l, product) in products.iter_mut().enumerate() {
        *product = field::from_limbs::<Fq>(field::lane(&lanes, l)).unwrap_or_else(|| unreachable!("canonical"));
    }
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
    Some(field::load(&field::transpose(&inverses)))
}
