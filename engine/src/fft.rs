//! The CPU backend's FFT: radix-2 decimation in time like halo2's `best_fft`, with the
//! twiddles of each size computed once and kept (per level, contiguous), the bit-reversal done
//! with `reverse_bits`, threads for the top of the recursion (small halves run sequentially)
//! and for the top levels' butterflies, and no multiplications in the first level (its twiddle
//! is 1). On x86-64 processors with AVX-512 IFMA the same transform runs on eight-element
//! vectors ([`crate::avx512`]), with the same results.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

/// Halves smaller than this run on the current thread.
const PARALLEL_MIN: usize = 1 << 12;

/// Twiddle tables by `(omega, log_n)`: for each level `m = 2, 4, ..., n`, the powers
/// `w_m^0 .. w_m^(m/2 - 1)` of that level's root `w_m = omega^(n/m)`. A prover uses a handful
/// of roots (the domain's, the extended domain's and their inverses), `n` elements each.
#[derive(Debug, Default)]
pub struct TwiddleCache {
    tables: Mutex<HashMap<([u8; 32], u32), Levels>>,
}

/// One size's twiddles, level by level.
type Levels = Arc<Vec<Vec<Fp>>>;

/// The process's twiddle tables.
pub static TWIDDLES: std::sync::LazyLock<TwiddleCache> = std::sync::LazyLock::new(TwiddleCache::default);

impl TwiddleCache {
    /// The twiddles of the transform of `2^log_n` values at the powers of `omega`.
    pub(crate) fn levels(&self, omega: Fp, log_n: u32) -> Levels {
        let key = (omega.to_repr(), log_n);
        let mut tables = self.tables.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables.entry(key).or_insert_with(|| Arc::new(levels(omega, log_n))).clone()
    }
}

/// `levels[l]` holds the `2^l` twiddles of the butterflies of size `2^(l+1)`.
fn levels(omega: Fp, log_n: u32) -> Vec<Vec<Fp>> {
    let n = 1usize << log_n;
    let top: Vec<Fp> = std::iter::successors(Some(Fp::ONE), |w| Some(*w * omega)).take(n / 2).collect();
    (0..log_n)
        .map(|l| {
            let stride = n >> (l + 1);
            (0..1usize << l).map(|i| top[i * stride]).collect()
        })
        .collect()
}

/// In place, the values at the powers of `omega` of the polynomial with coefficients `values`.
pub fn fft(cache: &TwiddleCache, values: &mut [Fp], omega: Fp, log_n: u32) {
    #[cfg(target_arch = "x86_64")]
    if crate::avx512::fft(values, omega, log_n) {
        return;
    }
    scalar_fft(cache, values, omega, log_n);
}

/// [`fft`] on the scalar code alone.
pub(crate) fn scalar_fft(cache: &TwiddleCache, values: &mut [Fp], omega: Fp, log_n: u32) {
    let n = values.len();
    assert_eq!(n, 1usize << log_n, "2^log_n values");
    if log_n == 0 {
        return;
    }
    let shift = usize::BITS - log_n;
    for i in 0..n {
        let j = i.reverse_bits() >> shift;
        if i < j {
            values.swap(i, j);
        }
    }
    let twiddles = cache.levels(omega, log_n);
    butterflies(values, &twiddles);
}

/// The butterflies of a bit-reversed block of `2^l` values: both halves first, then the
/// combining level with `twiddles[l - 1]`.
fn butterflies(values: &mut [Fp], twiddles: &[Vec<Fp>]) {
    let n = values.len();
    if n == 1 {
        return;
    }
    if n == 2 {
        let (a, b) = (values[0], values[1]);
        values[0] = a + b;
        values[1] = a - b;
        return;
    }
    let level = n.trailing_zeros() as usize - 1;
    let (left, right) = values.split_at_mut(n / 2);
    if n / 2 >= PARALLEL_MIN {
        rayon::join(|| butterflies(left, twiddles), || butterflies(right, twiddles));
        // The combining level in parallel too: the top levels are a large share of the work.
        left.par_chunks_mut(PARALLEL_MIN)
            .zip(right.par_chunks_mut(PARALLEL_MIN))
            .zip(twiddles[level].par_chunks(PARALLEL_MIN))
            .for_each(|((l, r), w)| combine(l, r, w));
    } else {
        butterflies(left, twiddles);
        butterflies(right, twiddles);
        combine(left, right, &twiddles[level]);
    }
}

/// One level's butterflies: `(a, b) ← (a + w·b, a - w·b)`.
fn combine(left: &mut [Fp], right: &mut [Fp], twiddles: &[Fp]) {
    for ((a, b), w) in left.iter_mut().zip(right.iter_mut()).zip(twiddles) {
        let t = *b * w;
        *b = *a - t;
        *a += t;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn equals_halo2s_fft_at_every_size() {
        let rng = &mut StdRng::seed_from_u64(13);
        let cache = TwiddleCache::default();
        for log_n in [0u32, 1, 2, 3, 8, 13, 14] {
            let omega = Fp::ROOT_OF_UNITY.pow_vartime([1u64 << (Fp::S - log_n)]);
            for _ in 0..2 {
                let values: Vec<Fp> = (0..1usize << log_n).map(|_| Fp::random(&mut *rng)).collect();
                let (mut ours, mut theirs) = (values.clone(), values);
                scalar_fft(&cache, &mut ours, omega, log_n);
                halo2_proofs::arithmetic::best_fft(&mut theirs, omega, log_n);
                assert_eq!(ours, theirs, "2^{log_n}");
            }
        }
    }
}
