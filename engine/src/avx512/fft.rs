//! The FFT over eight-element vectors ([`super::field`]): the scalar FFT's order (decimation
//! in time after a bit reversal, halves first, the combining level last, threads at the top),
//! with the three levels whose butterflies pair lanes of one vector done by lane permutations.
//!
//! The butterflies' sums are not reduced: a value grows by at most `2p` per level (the
//! product `w·b` is canonical, the difference adds `2p`), so after `l` levels it is below
//! `(2l + 1)·p`, and the products accept any input below `2^260 > 63p`. One reduction per value
//! at the end makes every value canonical again. So transforms of up to [`MAX_LOG_N`] levels.
//!
//! The transform runs on the elements' words ([`super::words`]): they are the values times
//! `2^256`, and the FFT, being linear, gives the words of its results with no conversion.

use std::arch::x86_64::{_mm512_permutexvar_epi64, _mm512_set_epi64};

use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

use super::field::{self, Consts, LANES, LIMBS, Lanes, Vector};
use super::words;

/// The most levels the unreduced butterflies allow: `(2·30 + 1)·p < 2^260`.
pub const MAX_LOG_N: u32 = 30;

/// Halves of fewer vectors than this run on the current thread.
const PARALLEL_MIN: usize = (1 << 12) / LANES;

/// The levels whose butterflies pair lanes of one vector: distances 1, 2 and 4.
const LANE_LEVELS: usize = LANES.trailing_zeros() as usize;

/// One size's twiddles as the vector FFT reads them (each `w` as `w · 2^260`).
#[derive(Debug)]
pub struct VectorTwiddles {
    /// For the lane levels (distance 2 and 4; distance 1 has only the twiddle 1): lane `i`
    /// holds the twiddle of its butterfly.
    lanes: [Lanes; LANE_LEVELS - 1],
    /// For each level from distance 8: that level's twiddles, eight per vector.
    levels: Vec<Vec<Lanes>>,
}

impl VectorTwiddles {
    /// From the scalar FFT's twiddles (`levels[l]`: the `2^l` twiddles of distance `2^l`).
    pub fn new(levels: &[Vec<Fp>]) -> Self {
        let lane_level = |l: usize| -> Lanes {
            let per_lane: Vec<Fp> = (0..LANES).map(|i| levels[l][i % (1 << l)]).collect();
            pack(&per_lane)
        };
        Self {
            lanes: [lane_level(1), lane_level(2)],
            levels: levels
                .iter()
                .skip(LANE_LEVELS)
                .map(|twiddles| twiddles.chunks(LANES).map(pack).collect())
                .collect(),
        }
    }
}

/// Eight twiddles as lanes, each as `w · 2^260`.
fn pack(values: &[Fp]) -> Lanes {
    field::transpose(&std::array::from_fn(|i| field::constant(values[i])))
}

/// In place, the values at the powers of the root `twiddles` were made from (`values.len()` a
/// power of two, at least [`LANES`]).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn fft(values: &mut [Fp], twiddles: &VectorTwiddles) {
    let n = values.len();
    let rows = n / LANES;
    // Bit-reversed order: position `8·v + l` takes value `rev(l)·rows + rev(v)`, so vector `v`
    // gathers lane `l` from `rev(l)·rows + rev(v)`.
    let mut lane_rows = [0usize; LANES];
    for (l, row) in lane_rows.iter_mut().enumerate() {
        *row = (l.reverse_bits() >> (usize::BITS - LANE_LEVELS as u32)) * rows;
    }
    let shift = usize::BITS - rows.trailing_zeros();
    let input = words::as_words(values);
    let mut vectors: Vec<Vector> = (0..rows)
        .into_par_iter()
        .map(|v| {
            let c = if rows > 1 { v.reverse_bits() >> shift } else { 0 };
            let mut lanes: Lanes = [[0; LANES]; LIMBS];
            for (l, row) in lane_rows.iter().enumerate() {
                let limbs = words::split(&input[row + c]);
                for j in 0..LIMBS {
                    lanes[j][l] = limbs[j];
                }
            }
            field::load(&lanes)
        })
        .collect();
    let c = Consts::new::<Fp>();
    butterflies(&c, &mut vectors, twiddles);
    // `reduce` makes every value canonical, as the words must be.
    words::as_words_mut(values)
        .par_chunks_mut(LANES)
        .zip(vectors.par_iter())
        .for_each(|(out, v)| words::store(&field::reduce(&c, v), out));
}

/// The butterflies of a bit-reversed block of vectors: both halves, then the combining level.
#[target_feature(enable = "avx512f,avx512ifma")]
fn butterflies(c: &Consts, vectors: &mut [Vector], twiddles: &VectorTwiddles) {
    let len = vectors.len();
    if len == 1 {
        lane_levels(c, &mut vectors[0], twiddles);
        return;
    }
    let level = (len * LANES).trailing_zeros() as usize - 1 - LANE_LEVELS;
    let (left, right) = vectors.split_at_mut(len / 2);
    let w = &twiddles.levels[level];
    if len / 2 >= PARALLEL_MIN {
        rayon::join(|| butterflies(c, left, twiddles), || butterflies(c, right, twiddles));
        left.par_chunks_mut(PARALLEL_MIN)
            .zip(right.par_chunks_mut(PARALLEL_MIN))
            .zip(w.par_chunks(PARALLEL_MIN))
            .for_each(|((l, r), w)| combine(c, l, r, w));
    } else {
        butterflies(c, left, twiddles);
        butterflies(c, right, twiddles);
        combine(c, left, right, w);
    }
}

/// One level's butterflies between vectors: `(a, b) ← (a + w·b, a - w·b)`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn combine(c: &Consts, left: &mut [Vector], right: &mut [Vector], twiddles: &[Lanes]) {
    for ((a, b), w) in left.iter_mut().zip(right.iter_mut()).zip(twiddles) {
        let t = field::mul(c, b, &field::load(w));
        *b = field::sub_unreduced(c, a, &t);
        *a = field::add_unreduced(c, a, &t);
    }
}

/// The three levels inside one vector (butterflies of distance 1, 2 and 4). For distance `d`,
/// lane `i` and lane `i ^ d` form a butterfly; each lane computes the product of the pair's
/// second element, then takes the sum (first of the pair) or the difference (second).
#[target_feature(enable = "avx512f,avx512ifma")]
fn lane_levels(c: &Consts, v: &mut Vector, twiddles: &VectorTwiddles) {
    for (level, second) in [0b1010_1010u8, 0b1100_1100, 0b1111_0000].into_iter().enumerate() {
        let d = 1i64 << level;
        let partner = _mm512_set_epi64(7 ^ d, 6 ^ d, 5 ^ d, 4 ^ d, 3 ^ d, 2 ^ d, 1 ^ d, d);
        // The pair's first element in every lane, and its second.
        let mut swapped = *v;
        for (swapped, limb) in swapped.iter_mut().zip(v.iter()) {
            *swapped = _mm512_permutexvar_epi64(partner, *limb);
        }
        let (a, b) = (field::blend(second, v, &swapped), field::blend(second, &swapped, v));
        let t = match level {
            // The inputs are canonical: the first level's twiddle is 1.
            0 => b,
            _ => field::mul(c, &b, &field::load(&twiddles.lanes[level - 1])),
        };
        let (sum, difference) = (field::add_unreduced(c, &a, &t), field::sub_unreduced(c, &a, &t));
        *v = field::blend(second, &sum, &difference);
    }
}
