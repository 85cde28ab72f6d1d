//! Pasta elements as the words pasta_curves stores them in, so that the vector code reads and
//! writes them without `to_repr` / `from_repr` (each a scalar Montgomery reduction or product,
//! which took half of a vector FFT's time).
//!
//! pasta_curves 0.6 declares `#[repr(transparent)] struct Fp([u64; 4])` (and the same `Fq`),
//! whose words are the element's Montgomery form `x · 2^256 mod p`, canonical, little-endian.
//! The size and alignment are checked when compiling; the meaning of the words is checked once
//! per process by [`layout_holds`] on edge and full-width values, and the vector code only runs where
//! it holds ([`super::enabled`]), so a pasta_curves that stored its elements otherwise would
//! send the engine to its scalar code, never to wrong values. A test requires it to hold.
//!
//! In the vector code's terms ([`super::field`]), words `r = x · 2^256` are
//! - the canonical integer of `x` scaled by `2^256`, which a linear map (the FFT) carries
//!   through unchanged: the FFT of the words is the words of the FFT;
//! - a factor `2^4` away from the Montgomery form `x · 2^260`: a shift and a reduction
//!   ([`field::scale_up`]), and back by adding a multiple of `p` and shifting
//!   ([`field::scale_down`]).

use halo2_proofs::pasta::{Fp, Fq};

use std::arch::x86_64::{__m512i, _mm512_permutex2var_epi64, _mm512_shuffle_i64x2};

use super::field::{self, LANES, LIMBS, Lanes, Vector, VectorField};

/// An element's words: its Montgomery form `x · 2^256 mod p`, little-endian.
pub type Words = [u64; 4];

const _: () = assert!(
    std::mem::size_of::<Fp>() == std::mem::size_of::<Words>()
        && std::mem::align_of::<Fp>() == std::mem::align_of::<Words>()
        && std::mem::size_of::<Fq>() == std::mem::size_of::<Words>()
        && std::mem::align_of::<Fq>() == std::mem::align_of::<Words>()
);

/// A Pasta field whose elements are stored as [`Words`] (the trait is implemented for `Fp` and
/// `Fq` alone: the casts below rely on it).
pub trait StoredAsWords: VectorField {}

impl StoredAsWords for Fp {}

impl StoredAsWords for Fq {}

/// An element's words.
pub fn words_of<F: StoredAsWords>(value: &F) -> Words {
    as_words(std::slice::from_ref(value))[0]
}

/// The words of each element.
pub fn as_words<F: StoredAsWords>(values: &[F]) -> &[Words] {
    #[allow(unsafe_code)]
    // SAFETY: `F` is `Fp` or `Fq`, `#[repr(transparent)]` over `[u64; 4]` (size and alignment
    // checked above); every bit pattern is a valid `[u64; 4]`, and the borrow is shared.
    unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<Words>(), values.len())
    }
}

/// The words of each element, to write. Only canonical words (the Montgomery form of some
/// element, below `p`) may be written: other words break pasta_curves' invariants (not memory
/// safety: its arithmetic and comparisons assume canonical words).
pub fn as_words_mut<F: StoredAsWords>(values: &mut [F]) -> &mut [Words] {
    #[allow(unsafe_code)]
    // SAFETY: as in `as_words`; the borrow is exclusive, and `[u64; 4]` has no invalid values.
    unsafe {
        std::slice::from_raw_parts_mut(values.as_mut_ptr().cast::<Words>(), values.len())
    }
}

/// The words as 52-bit limbs (normalized: the words are below `p < 2^255`).
pub fn split(words: &Words) -> [u64; LIMBS] {
    field::split(*words)
}

/// 52-bit limbs (normalized, canonical) as words.
pub fn join(limbs: [u64; LIMBS]) -> Words {
    field::join(limbs)
}

/// Up to eight elements' words as a vector of their integers (each below `p`; missing lanes
/// zero). Eight elements are read as four vectors of two elements each and transposed
/// ([`TO_WORD_PAIRS`]); fewer, element by element.
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn load(words: &[Words]) -> Vector {
    if let Ok(eight) = <&[Words; LANES]>::try_from(words) {
        // Vector i holds elements 2i and 2i + 1: word k of element e at 4·(e mod 2) + k.
        let pairs: [__m512i; 4] = [
            bytemuck::cast([eight[0], eight[1]]),
            bytemuck::cast([eight[2], eight[3]]),
            bytemuck::cast([eight[4], eight[5]]),
            bytemuck::cast([eight[6], eight[7]]),
        ];
        let (first, second) = (TO_WORD_PAIRS[0].get(), TO_WORD_PAIRS[1].get());
        // Words 0 and 1 (then 2 and 3) of elements 0-3, and the same of elements 4-7.
        let low = [
            _mm512_permutex2var_epi64(pairs[0], first, pairs[1]),
            _mm512_permutex2var_epi64(pairs[2], first, pairs[3]),
        ];
        let high = [
            _mm512_permutex2var_epi64(pairs[0], second, pairs[1]),
            _mm512_permutex2var_epi64(pairs[2], second, pairs[3]),
        ];
        let words = [
            _mm512_shuffle_i64x2::<0x44>(low[0], low[1]),
            _mm512_shuffle_i64x2::<0xEE>(low[0], low[1]),
            _mm512_shuffle_i64x2::<0x44>(high[0], high[1]),
            _mm512_shuffle_i64x2::<0xEE>(high[0], high[1]),
        ];
        return field::split_lanes(&words);
    }
    let mut limbs = [[0u64; LIMBS]; LANES];
    for (limbs, words) in limbs.iter_mut().zip(words) {
        *limbs = split(words);
    }
    field::load(&field::transpose(&limbs))
}

/// A vector of canonical values as words, one per element of `out` (at most eight; eight by
/// the inverse of [`load`]'s transposition).
#[inline]
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn store(v: &Vector, out: &mut [Words]) {
    if let Ok(eight) = <&mut [Words; LANES]>::try_from(&mut *out) {
        let words = field::join_lanes(v);
        // Words 0 and 1 (then 2 and 3) of elements 0-3, and the same of elements 4-7.
        let low = [_mm512_shuffle_i64x2::<0x44>(words[0], words[1]), _mm512_shuffle_i64x2::<0xEE>(words[0], words[1])];
        let high = [_mm512_shuffle_i64x2::<0x44>(words[2], words[3]), _mm512_shuffle_i64x2::<0xEE>(words[2], words[3])];
        let (first, second) = (TO_WORD_PAIRS[0].get(), TO_WORD_PAIRS[1].get());
        for half in 0..2 {
            let pairs: [[Words; 2]; 2] = [
                bytemuck::cast(_mm512_permutex2var_epi64(low[half], first, high[half])),
                bytemuck::cast(_mm512_permutex2var_epi64(low[half], second, high[half])),
            ];
            eight[4 * half..4 * half + 4].copy_from_slice(bytemuck::cast_slice(&pairs));
        }
        return;
    }
    let lanes: Lanes = field::store(v);
    for (l, out) in out.iter_mut().enumerate() {
        *out = join(field::lane(&lanes, l));
    }
}

/// The lane indices (into two vectors: 0-7 the first, 8-15 the second) that take two vectors of
/// two elements' words each (elements `a, b` and `c, d`: word `k` of the first at `k`, of the
/// second at `4 + k`) to words 0 and 1 of `a, b, c, d` (the first), words 2 and 3 (the second).
/// The same indices take words back to element pairs.
const TO_WORD_PAIRS: [IndexVector; 2] =
    [IndexVector([0, 4, 8, 12, 1, 5, 9, 13]), IndexVector([2, 6, 10, 14, 3, 7, 11, 15])];

/// Eight lane indices, for a permutation.
struct IndexVector([i64; LANES]);

impl IndexVector {
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn get(&self) -> __m512i {
        bytemuck::cast(self.0)
    }
}

/// Whether `F`'s elements are stored as this module assumes: the words of 0, 1, -1, 2^64 and
/// full-width elements are their Montgomery forms (`x · 2^256`, from `to_repr`).
pub fn layout_holds<F: StoredAsWords>() -> bool {
    let radix = F::from(2).pow_vartime([256u64]);
    let mut values = vec![F::ZERO, F::ONE, -F::ONE, F::from(u64::MAX) + F::ONE];
    // Full-width values: repeated squares of a 64-bit start, plus one.
    values.extend(std::iter::successors(Some(F::from(0x9e37_79b9_7f4a_7c15)), |x| Some(x.square() + F::ONE)).take(8));
    values.iter().zip(as_words(&values)).all(|(x, words)| {
        let expected = (*x * radix).to_repr();
        words.iter().zip(expected.chunks_exact(8)).all(|(w, bytes)| bytes == w.to_le_bytes())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ff::Field;

    #[test]
    fn pasta_stores_its_elements_as_montgomery_words() {
        assert!(layout_holds::<Fp>(), "Fp");
        assert!(layout_holds::<Fq>(), "Fq");
    }

    #[test]
    fn words_round_trip_through_limbs() {
        let values = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(1u64 << 52), Fp::from(3).pow_vartime([200u64])];
        let mut copy = values;
        for words in as_words_mut(&mut copy) {
            *words = join(split(words));
        }
        assert_eq!(copy, values);
    }

    #[test]
    fn eight_elements_load_and_store_as_one_at_a_time() {
        if !crate::avx512::supported() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        let mut values = vec![Fp::ZERO, Fp::ONE, -Fp::ONE, -Fp::from(2), Fp::from(1u64 << 52), Fp::from(u64::MAX)];
        values.extend((1..19u64).map(|i| Fp::from(3).pow_vartime([i * 13])));
        #[allow(unsafe_code)]
        // SAFETY: `supported()` found AVX-512F and AVX-512 IFMA.
        unsafe {
            check_eight(&values);
        }
    }

    /// `load` and `store` of eight elements (transposed as vectors) against the same of seven
    /// (element by element).
    #[target_feature(enable = "avx512f,avx512ifma")]
    fn check_eight(values: &[Fp]) {
        for eight in as_words(values).chunks_exact(LANES) {
            let (all, seven) = (field::store(&load(eight)), field::store(&load(&eight[..LANES - 1])));
            for (l, words) in eight.iter().enumerate() {
                assert_eq!(field::lane(&all, l), split(words), "lane {l}");
                let expected = if l < LANES - 1 { split(words) } else { [0; LIMBS] };
                assert_eq!(field::lane(&seven, l), expected, "lane {l} of seven");
            }
            let (mut out, mut out_seven) = ([[0u64; 4]; LANES], [[0u64; 4]; LANES - 1]);
            store(&load(eight), &mut out);
            store(&load(eight), &mut out_seven);
            assert_eq!(out.as_slice(), eight);
            assert_eq!(out_seven.as_slice(), &eight[..LANES - 1]);
        }
    }
}
