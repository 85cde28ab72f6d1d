//! The CPU backend's vector code for x86-64 processors with AVX-512 IFMA (Intel Ice Lake and
//! newer, AMD Zen 4 and newer): eight field products at once by 52-bit multiply-adds, about three
//! times the throughput of pasta_curves' scalar assembly on a Zen 4 core. It runs the FFT
//! ([`crate::fft`]), the bucket rounds and bucket sums of the MSMs ([`crate::msm::batch_affine`]),
//! the ladder of the IPA's paired collapse ([`crate::msm::glv`]), the quotient's numerator
//! ([`crate::numerator`]) and the opening's combinations and evaluations ([`crate::linear`]).
//!
//! The processor is asked once, at run time; without AVX-512 IFMA (or with the environment
//! variable [`DISABLE_VARIABLE`] set to `1`) every caller takes the scalar path, whose results
//! are the same bit for bit (the tests compare both). The vector code reads and writes
//! pasta_curves' elements as the words they are stored in ([`words`]), and only runs where
//! their layout was found to be the one it assumes. This module holds the crate's only
//! `unsafe`: the calls into `#[target_feature]` functions, each made after that check, and the
//! two casts of [`words`].

mod curve;
mod fft;
mod field;
mod ladder;
mod linear;
mod msm;
mod numerator;
mod shared;
mod words;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use ff::PrimeField;
use halo2_proofs::pasta::Fp;

pub(crate) use field::LANES;
pub(crate) use linear::Powers;

/// Set to `1` to keep the CPU backend on its scalar code (for comparisons).
pub const DISABLE_VARIABLE: &str = "ZKINFER_NO_AVX512";

/// Transforms of fewer than `2^FFT_MIN_LOG_N` values stay scalar (the conversions dominate).
pub const FFT_MIN_LOG_N: u32 = 6;
const _: () = assert!(FFT_MIN_LOG_N >= fft::MIN_LOG_N, "the vector FFT's smallest size");

/// Whether this process uses the vector code: the CPU has AVX-512F and AVX-512 IFMA,
/// [`DISABLE_VARIABLE`] is not `1`, and pasta_curves stores its elements as [`words`] assumes.
pub fn enabled() -> bool {
    static ENABLED: LazyLock<bool> =
        LazyLock::new(|| supported() && std::env::var(DISABLE_VARIABLE).map_or(true, |v| v != "1"));
    *ENABLED
}

/// Whether this CPU has AVX-512F and AVX-512 IFMA, and pasta_curves' elements are stored as
/// [`words`] assumes (checked once).
pub fn supported() -> bool {
    static LAYOUT: LazyLock<bool> =
        LazyLock::new(|| words::layout_holds::<Fp>() && words::layout_holds::<halo2_proofs::pasta::Fq>());
    std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512ifma") && *LAYOUT
}

/// Vector twiddle tables by `(omega, log_n)`.
type TwiddleTables = HashMap<([u8; 32], u32), Arc<fft::VectorTwiddles>>;

/// The vector twiddles of each transform so far, made from the scalar FFT's tables.
static TWIDDLES: LazyLock<Mutex<TwiddleTables>> = LazyLock::new(Default::default);

/// The FFT of [`crate::fft::fft`] on the vector code. Returns `false` (and leaves `values`
/// alone) where the vector code does not run: not [`enabled`], or fewer than
/// `2^FFT_MIN_LOG_N` values or more than `2^30`.
pub fn fft(values: &mut [Fp], omega: Fp, log_n: u32) -> bool {
    if !enabled() || !(FFT_MIN_LOG_N..=fft::MAX_LOG_N).contains(&log_n) || values.len() != 1usize << log_n {
        return false;
    }
    fft_any_size(values, omega, log_n)
}

/// [`fft`] without the size cut-off and the environment variable (the tests run it from its
/// smallest size, `2^fft::MIN_LOG_N`); `false` where the CPU does not have AVX-512 IFMA or
/// below that size.
fn fft_any_size(values: &mut [Fp], omega: Fp, log_n: u32) -> bool {
    if !supported() || log_n < fft::MIN_LOG_N {
        return false;
    }
    let twiddles = {
        let mut tables = TWIDDLES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tables
            .entry((omega.to_repr(), log_n))
            .or_insert_with(|| Arc::new(fft::VectorTwiddles::new(&crate::fft::TWIDDLES.levels(omega, log_n))))
            .clone()
    };
    #[allow(unsafe_code)]
    // SAFETY: `fft::fft` needs AVX-512F and AVX-512 IFMA, which `supported()` found.
    unsafe {
        fft::fft(values, &twiddles)
    }
    true
}

/// MSMs of fewer terms than this stay scalar.
pub const MSM_MIN_TERMS: usize = 1 << 8;

/// Whether an MSM of `terms` terms runs its rounds on the vector code: [`enabled`], and at
/// least [`MSM_MIN_TERMS`] terms.
pub fn msm_runs(terms: usize) -> bool {
    enabled() && terms >= MSM_MIN_TERMS
}

/// An MSM's points (affine coordinates, no identity) ready for [`msm_window_sum`]: `None`,
/// without reading them, where the vector code does not run ([`msm_runs`]).
pub(crate) fn msm_points(
    points: impl ExactSizeIterator<Item = (halo2_proofs::pasta::Fq, halo2_proofs::pasta::Fq)>,
) -> Option<msm::MsmPoints> {
    if !msm_runs(points.len()) {
        return None;
    }
    let points: Vec<_> = points.collect();
    #[allow(unsafe_code)]
    // SAFETY: `MsmPoints::new` needs AVX-512F and AVX-512 IFMA, which `enabled()` found
    // (`msm_runs`).
    Some(unsafe { msm::MsmPoints::new(&points) })
}

/// One window of the batch-affine MSM on the vector code (see [`msm::window_sum`]); `None`
/// where a round met two points with the same x coordinate.
pub(crate) fn msm_window_sum(
    digits: impl Iterator<Item = i32> + Clone,
    points: &msm::MsmPoints,
    buckets: usize,
) -> Option<halo2_proofs::pasta::Eq> {
    // `points` exists only where `enabled()` found AVX-512F and AVX-512 IFMA.
    #[allow(unsafe_code)]
    // SAFETY: `msm::window_sum` needs AVX-512F and AVX-512 IFMA; an `MsmPoints` is only made
    // by `msm_points`, after `enabled()` found them.
    unsafe {
        msm::window_sum(digits, points, buckets)
    }
}

/// The numerator program's value at every point ([`crate::numerator::evaluate`]) on the
/// vector code. `None` where it does not run: not [`enabled`], or `ext` not a multiple of its
/// block (32 points).
pub(crate) fn evaluate_numerator(
    code: &[crate::numerator::Step],
    columns: &[&[Fp]],
    ext: usize,
    y: Fp,
    max_stack: usize,
) -> Option<Vec<Fp>> {
    if !enabled() || ext == 0 || !ext.is_multiple_of(numerator::BLOCK) {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: `numerator::evaluate` needs AVX-512F and AVX-512 IFMA, which `enabled()` found.
    let values = unsafe { numerator::evaluate(code, columns, ext, y, max_stack) };
    Some(values)
}

/// `acc[i] ← acc[i] · factor + add[i]` on the vector code for the first `8 · ⌊len / 8⌋`
/// elements ([`linear::scale_add`]); returns how many it did: 0 where it does not run (not
/// [`enabled`]).
pub(crate) fn scale_add(acc: &mut [Fp], factor: Fp, add: &[Fp]) -> usize {
    if !enabled() {
        return 0;
    }
    assert_eq!(acc.len(), add.len(), "one addend per element");
    #[allow(unsafe_code)]
    // SAFETY: `linear::scale_add` needs AVX-512F and AVX-512 IFMA, which `enabled()` found.
    unsafe {
        linear::scale_add(acc, factor, add)
    }
    acc.len() / field::LANES * field::LANES
}

/// A point's powers for [`evaluate`]: `None` where the vector code does not run (not
/// [`enabled`]).
pub(crate) fn powers(z: Fp, len: usize) -> Option<linear::Powers> {
    #[allow(unsafe_code)]
    // SAFETY: `Powers::new` needs AVX-512F and AVX-512 IFMA, which `enabled()` found.
    enabled().then(|| unsafe { linear::Powers::new(z, len.div_ceil(field::LANES)) })
}

/// `Σ poly[i] · z^i` over the first `8 · ⌊len / 8⌋` coefficients, which `powers` (of `z`)
/// must cover.
pub(crate) fn evaluate(poly: &[Fp], powers: &linear::Powers) -> Fp {
    assert!(poly.len() / field::LANES * field::LANES <= powers.coefficients(), "powers for every coefficient");
    #[allow(unsafe_code)]
    // SAFETY: `linear::evaluate` needs AVX-512F and AVX-512 IFMA; `Powers` are only made by
    // `powers`, after `enabled()` found them.
    unsafe {
        linear::evaluate(poly, powers)
    }
}

/// `Σ_i sets[l][i] · bases[i]` for each of up to eight sets on the vector code
/// ([`shared::msm_shared_bases`]); `None` where it does not run (not [`enabled`]) or gives the
/// sets back to the scalar code.
pub(crate) fn msm_shared_bases(
    sets: &[&[Fp]],
    bases: &[halo2_proofs::pasta::EqAffine],
) -> Option<Vec<halo2_proofs::pasta::Eq>> {
    if !enabled() {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: `shared::msm_shared_bases` needs AVX-512F and AVX-512 IFMA, which `enabled()`
    // found.
    unsafe {
        shared::msm_shared_bases(sets, bases)
    }
}

/// Outputs per call of the vector ladder (`combine_ladder`).
pub const LADDER_LANES: usize = field::LANES;

/// Eight outputs of [`crate::msm::glv::combine_same_scalars`]'s ladder on the vector code (see
/// [`ladder::ladder`]); `None` where it does not run (not [`enabled`]) or gives the outputs back
/// to the scalar code.
pub(crate) fn combine_ladder(
    tables: &[halo2_proofs::pasta::EqAffine],
    outputs: usize,
    first: usize,
    table_len: usize,
    digits: &[[&[i8]; 2]],
    positions: usize,
) -> Option<[halo2_proofs::pasta::Eq; LADDER_LANES]> {
    if !enabled() {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: `ladder::ladder` needs AVX-512F and AVX-512 IFMA, which `enabled()` found.
    unsafe {
        ladder::ladder(tables, outputs, first, table_len, digits, positions)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ff::Field;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn vector_fft_equals_the_scalar_one() {
        if !supported() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        let rng = &mut StdRng::seed_from_u64(17);
        let cache = crate::fft::TwiddleCache::default();
        for log_n in [fft::MIN_LOG_N, 7, 8, 9, 10, 13, 16] {
            let omega = Fp::ROOT_OF_UNITY.pow_vartime([1u64 << (Fp::S - log_n)]);
            let n = 1usize << log_n;
            let edges = [Fp::ZERO, Fp::ONE, -Fp::ONE, -Fp::from(2), Fp::from(1u64 << 52), Fp::from(u64::MAX)];
            let inputs: [Vec<Fp>; 3] = [
                (0..n).map(|_| Fp::random(&mut *rng)).collect(),
                (0..n).map(|i| edges[i % edges.len()]).collect(),
                vec![-Fp::ONE; n],
            ];
            for values in inputs {
                let (mut ours, mut theirs) = (values.clone(), values);
                assert!(fft_any_size(&mut ours, omega, log_n));
                crate::fft::scalar_fft(&cache, &mut theirs, omega, log_n);
                assert_eq!(ours, theirs, "2^{log_n}");
            }
        }
    }
}
