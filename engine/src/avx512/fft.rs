//! The FFT over eight-element vectors ([`super::field`]): the scalar FFT's order (decimation
//! in time after a bit reversal, halves first, the combining level last, threads at the top),
//! laid out so that no butterfly pairs two lanes of one vector.
//!
//! With `rows = n / 8` vectors, lane `l` of vector `v` holds position `v + l·rows` of the
//! bit-reversed array. Every level of distance below `rows` then pairs vector `v` with vector
//! `v + d`, lane for lane, and all eight lanes share the butterfly's twiddle. For the last three
//! levels (distances `rows`, `2·rows`, `4·rows`), each block of eight vectors is transposed
//! (8×8, limb by limb), which makes those levels pair vectors too, with eight twiddles per
//! vector; the transposed block's vector `j` then holds the eight consecutive results from
//! `j·rows + v`. The bit-reversed input is a contiguous load: vector `v` takes the eight
//! elements from `8·rev(v)`, element `e` into lane `rev(e)`.
//!
//! The butterflies' sums are not reduced: a value grows by at most `2p` per level (the
//! product `w·b` is canonical, the difference adds `2p`), so after `l` levels it is below
//! `(2l + 1)·p`, and the products accept any input below `2^260 > 63p`. One reduction per value
//! at the end makes every value canonical again. So transforms of up to [`MAX_LOG_N`] levels.
//!
//! The transform runs on the elements' words ([`super::words`]): they are the values times
//! `2^256`, and the FFT, being linear, gives the words of its results with no conversion.

use std::arch::x86_64::{
    _mm512_permutex2var_epi64, _mm512_permutexvar_epi64, _mm512_set_epi64, _mm512_setzero_si512, _mm512_shuffle_i64x2,
    _mm512_unpackhi_epi64, _mm512_unpacklo_epi64,
};

use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

use super::field::{self, Consts, LANES, LIMBS, Lanes, Vector};
use super::words;

/// The most levels the unreduced butterflies allow: `(2·30 + 1)·p < 2^260`.
pub const MAX_LOG_N: u32 = 30;

/// The last levels, which run after the 8×8 transposition (8 = 2^3).
const LANE_LEVELS: u32 = LANES.trailing_zeros();

/// The fewest levels the layout takes: at least one block of eight vectors.
pub const MIN_LOG_N: u32 = 2 * LANE_LEVELS;

/// Halves of fewer vectors than this run on the current thread.
const PARALLEL_MIN: usize = (1 << 12) / LANES;

/// One size's twiddles as the vector FFT reads them (each `w` as `w · 2^260`).
#[derive(Debug)]
pub struct VectorTwiddles {
    /// For each level of distance below `rows`: that level's twiddles, one per butterfly
    /// position (every lane takes the same).
    vertical: Vec<Vec<[u64; LIMBS]>>,
    /// For the last three levels: their twiddles, eight per vector.
    top: Vec<Vec<Lanes>>,
}

impl VectorTwiddles {
    /// From the scalar FFT's twiddles (`levels[l]`: the `2^l` twiddles of distance `2^l`), for
    /// `levels.len() ≥` [`MIN_LOG_N`].
    pub fn new(levels: &[Vec<Fp>]) -> Self {
        let vertical_levels = levels.len().saturating_sub(LANE_LEVELS as usize);
        Self {
            vertical: levels[..vertical_levels]
                .iter()
                .map(|twiddles| twiddles.iter().map(|w| field::constant(*w)).collect())
                .collect(),
            top: levels[vertical_levels..].iter().map(|twiddles| twiddles.chunks(LANES).map(pack).collect()).collect(),
        }
    }
}

/// Eight twiddles as lanes, each as `w · 2^260`.
fn pack(values: &[Fp]) -> Lanes {
    field::transpose(&std::array::from_fn(|i| field::constant(values[i])))
}

/// In place, the values at the powers of the root `twiddles` were made from (`values.len()` a
/// power of two, at least `2^`[`MIN_LOG_N`]).
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn fft(values: &mut [Fp], twiddles: &VectorTwiddles) {
    let n = values.len();
    let rows = n / LANES;
    debug_assert!(rows >= LANES && rows.is_power_of_two());
    // Vector `v` takes the eight elements from `8·rev(v)`, element `e` into lane `rev(e)`.
    let shift = usize::BITS - rows.trailing_zeros();
    let input = words::as_words(values);
    let mut vectors = SCRATCH.with_borrow_mut(std::mem::take);
    vectors.resize(rows, [_mm512_setzero_si512(); LIMBS]);
    let reversed = _mm512_set_epi64(7, 3, 5, 1, 6, 2, 4, 0);
    vectors.par_iter_mut().enumerate().for_each(|(v, vector)| {
        let first = LANES * (v.reverse_bits() >> shift);
        let natural = words::load(&input[first..first + LANES]);
        for (limb, natural) in vector.iter_mut().zip(natural) {
            *limb = _mm512_permutexvar_epi64(reversed, natural);
        }
    });
    let c = Consts::new::<Fp>();
    butterflies(&c, &mut vectors, &twiddles.vertical);
    // The last three levels and the write-back, block by block: the block from vector `8·b`
    // holds in its vector `j` the results from `j·rows + 8·b`, which go to strip `j` of the
    // output. `reduce` makes every value canonical, as the words must be.
    let mut strips = words::as_words_mut(values).chunks_mut(rows).map(|strip| strip.par_chunks_mut(LANES));
    let mut strip = || strips.next().unwrap_or_else(|| unreachable!("eight strips"));
    let outputs = (strip(), strip(), strip(), strip(), strip(), strip(), strip(), strip());
    (vectors.par_chunks(LANES), outputs).into_par_iter().enumerate().for_each(|(index, (block, outputs))| {
        let mut block: [Vector; LANES] = block.try_into().unwrap_or_else(|_| unreachable!("blocks of eight"));
        top_levels(&c, &mut block, index, rows, twiddles);
        let (o0, o1, o2, o3, o4, o5, o6, o7) = outputs;
        for (vector, out) in block.iter().zip([o0, o1, o2, o3, o4, o5, o6, o7]) {
            words::store(&field::reduce(&c, vector), out);
        }
    });
    SCRATCH.with_borrow_mut(|scratch| *scratch = vectors);
}

thread_local! {
    /// The vectors of this thread's last transform, kept for its next one: a fresh buffer's
    /// first writes took about a fifth of a transform of 2^16 values. Each thread keeps
    /// 1.25 times the size of the largest transform it ran.
    static SCRATCH: std::cell::RefCell<Vec<Vector>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The butterflies of a bit-reversed block of vectors, lane for lane: both halves, then the
/// combining level.
#[target_feature(enable = "avx512f,avx512ifma")]
fn butterflies(c: &Consts, vectors: &mut [Vector], twiddles: &[Vec<[u64; LIMBS]>]) {
    let len = vectors.len();
    if len == 2 {
        // The first level: its twiddle is 1 and its inputs are canonical, so no product.
        let (a, b) = (vectors[0], vectors[1]);
        vectors[0] = field::add_unreduced(c, &a, &b);
        vectors[1] = field::sub_unreduced(c, &a, &b);
        return;
    }
    let level = len.trailing_zeros() as usize - 1;
    let (left, right) = vectors.split_at_mut(len / 2);
    let w = &twiddles[level];
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

/// One level's butterflies between vectors, one twiddle per pair for all lanes:
/// `(a, b) ← (a + w·b, a - w·b)`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn combine(c: &Consts, left: &mut [Vector], right: &mut [Vector], twiddles: &[[u64; LIMBS]]) {
    for ((a, b), w) in left.iter_mut().zip(right.iter_mut()).zip(twiddles) {
        let t = field::mul(c, b, &field::splat(*w));
        *b = field::sub_unreduced(c, a, &t);
        *a = field::add_unreduced(c, a, &t);
    }
}

/// The last three levels of the block of eight vectors from vector `8·block`: transposed, the
/// level of distance `2^t · rows` pairs vector `j` with `j + 2^t`, and the twiddles of vector
/// `j`'s lanes are the eight from `(j mod 2^t)·rows + 8·block`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn top_levels(c: &Consts, block: &mut [Vector; LANES], index: usize, rows: usize, twiddles: &VectorTwiddles) {
    transpose_block(block);
    let blocks = rows / LANES;
    for (t, level) in twiddles.top.iter().enumerate() {
        let d = 1usize << t;
        for j in (0..LANES).filter(|j| j & d == 0) {
            let (left, right) = block.split_at_mut(j + d);
            let (a, b) = (&mut left[j], &mut right[0]);
            let t = field::mul(c, b, &field::load(&level[(j % d) * blocks + index]));
            *b = field::sub_unreduced(c, a, &t);
            *a = field::add_unreduced(c, a, &t);
        }
    }
}

/// Transposes eight vectors as an 8×8 matrix of lanes, limb by limb: vector `j`'s lane `i`
/// becomes vector `i`'s lane `j`.
#[target_feature(enable = "avx512f,avx512ifma")]
fn transpose_block(block: &mut [Vector; LANES]) {
    // Within each 128-bit quarter, lanes (0 2 4 6) of the first source and (1 3 5 7) of the
    // second pair up; then quarters pair up (first indexes: 0-7 the first source, 8-15 the
    // second); then halves.
    let even_quarters = _mm512_set_epi64(13, 12, 5, 4, 9, 8, 1, 0);
    let odd_quarters = _mm512_set_epi64(15, 14, 7, 6, 11, 10, 3, 2);
    for limb in 0..LIMBS {
        let mut r = [block[0][limb]; LANES];
        for (r, vector) in r.iter_mut().zip(block.iter()) {
            *r = vector[limb];
        }
        let mut a = [r[0]; LANES];
        for p in 0..LANES / 2 {
            a[2 * p] = _mm512_unpacklo_epi64(r[2 * p], r[2 * p + 1]);
            a[2 * p + 1] = _mm512_unpackhi_epi64(r[2 * p], r[2 * p + 1]);
        }
        // b[0]: columns 0 and 4 of rows 0-3; b[1]: columns 2, 6; b[2]: 1, 5; b[3]: 3, 7; then
        // the same for rows 4-7.
        let mut b = [r[0]; LANES];
        for half in 0..2 {
            let (x, y) = (4 * half, 4 * half + 2);
            b[4 * half] = _mm512_permutex2var_epi64(a[x], even_quarters, a[y]);
            b[4 * half + 1] = _mm512_permutex2var_epi64(a[x], odd_quarters, a[y]);
            b[4 * half + 2] = _mm512_permutex2var_epi64(a[x + 1], even_quarters, a[y + 1]);
            b[4 * half + 3] = _mm512_permutex2var_epi64(a[x + 1], odd_quarters, a[y + 1]);
        }
        for (k, column) in [0usize, 2, 1, 3].into_iter().enumerate() {
            block[column][limb] = _mm512_shuffle_i64x2::<0x44>(b[k], b[k + 4]);
            block[column + 4][limb] = _mm512_shuffle_i64x2::<0xEE>(b[k], b[k + 4]);
        }
    }
}
