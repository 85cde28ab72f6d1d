//! Multi-scalar multiplication and the commitments built on it.
//!
//! - Small signed scalars ([`small_msm`]): witness values are 8- to 20-bit integers, while
//!   halo2 commits to them as 255-bit field elements (a negative value `v` is `p - |v|`).
//!   Committing `Σ v_i · G_i` as `Σ |v_i| · (±G_i)` with windows over the few bits the values
//!   have needs a fraction of the additions (on processors with AVX-512 IFMA, the windows run
//!   [`batch_affine`]'s vector rounds). [`naive_msm`] is the reference: one scalar
//!   multiplication per term.
//! - Full-width scalars ([`batch_affine`]): Pippenger with signed digits and batched affine
//!   additions.
//! - The same few scalars for many outputs ([`glv`]): `base[i] + Σ_t s_t · terms[t][i]` by one
//!   shared-doubling ladder per output over GLV-split scalars (the IPA's collapse of two rounds).
//! - Commitments: blinded ([`commit_blinded`]), small rows then full-width ones
//!   ([`commit_mixed`]), and runs of equal values as one term each ([`commit_runs`]).

pub mod batch_affine;
pub mod glv;

use ff::Field;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};

use crate::backend::Backend;

/// The largest window tried (2^16 buckets).
const MAX_WINDOW_BITS: u32 = 16;

/// `Σ values[i] · bases[i]` by scalar multiplications, one per term (reference).
pub fn naive_msm(values: &[i64], bases: &[EqAffine]) -> Eq {
    values.iter().zip(bases).fold(Eq::identity(), |acc, (&v, &b)| acc + b * crate::field(v))
}

/// `Σ values[i] · bases[i]` with bucket windows over the bits the values need (Pippenger's
/// method, the window width chosen to minimise the additions for this size).
pub fn small_msm(values: &[i64], bases: &[EqAffine]) -> Eq {
    debug_assert_eq!(values.len(), bases.len());
    if let Some(sum) = batch_affine::small_msm_vector(values, bases) {
        return sum;
    }
    let Some(max) = values.iter().map(|v| v.unsigned_abs()).max().filter(|&m| m > 0) else {
        return Eq::identity();
    };
    let bits = u64::BITS - max.leading_zeros();
    let n = values.len() as u64;
    // Additions: per window, one per term and two per bucket.
    let cost = |c: u32| u64::from(bits.div_ceil(c)) * (n + (2u64 << c));
    let c = (1..=MAX_WINDOW_BITS.min(bits)).min_by_key(|&c| cost(c)).unwrap_or(1);
    let mask = (1u64 << c) - 1;
    let mut acc = Eq::identity();
    let mut buckets = vec![Eq::identity(); (1usize << c) - 1];
    for window in (0..bits.div_ceil(c)).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        buckets.iter_mut().for_each(|b| *b = Eq::identity());
        for (&v, base) in values.iter().zip(bases) {
            let digit = (v.unsigned_abs() >> (window * c)) & mask;
            if digit != 0 {
                let bucket = &mut buckets[digit as usize - 1];
                if v < 0 {
                    *bucket -= base;
                } else {
                    *bucket += base;
                }
            }
        }
        // Σ_d d · bucket[d] as a running sum from the top bucket down.
        let (mut running, mut sum) = (Eq::identity(), Eq::identity());
        for b in buckets.iter().rev() {
            running += b;
            sum += running;
        }
        acc += sum;
    }
    acc
}

/// A commitment in Lagrange form to a column whose first `small.len()` rows are small integers
/// and whose remaining rows are arbitrary field elements, blinded by `blind · w`: the small rows
/// by the backend's small-scalar MSM, the rest by its full one.
pub fn commit_mixed(
    backend: &dyn Backend,
    g_lagrange: &[EqAffine],
    w: EqAffine,
    small: &[i64],
    rest: &[Fp],
    blind: Fp,
) -> Eq {
    let (small_bases, rest_bases) = g_lagrange.split_at(small.len());
    backend.msm_small(small, small_bases) + commit_blinded(backend, rest_bases, w, rest, blind)
}

/// `Σ values[i] · g_lagrange[i] + blind · w` (halo2's `commit_lagrange`) with each run of equal
/// consecutive values as one term: `v · (prefix[b] - prefix[a])` for rows `a..b` that all hold
/// `v`, with `prefix` the Lagrange generators' prefix sums
/// ([`crate::params::ParamsData::lagrange_prefix`]); zero values take no term. The permutation's
/// grand products are constant over the rows where no column of their set is in a copy cycle
/// (the unused rows among them). Without a run or a zero it is [`commit_blinded`].
pub fn commit_runs(
    backend: &dyn Backend,
    g_lagrange: &[EqAffine],
    prefix: &[EqAffine],
    w: EqAffine,
    values: &[Fp],
    blind: Fp,
) -> Eq {
    assert!(values.len() <= g_lagrange.len() && g_lagrange.len() < prefix.len(), "a generator per value");
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match runs.last_mut() {
            Some((_, end)) if values[i - 1] == *v => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    runs.retain(|&(start, _)| !bool::from(values[start].is_zero()));
    if runs.len() == values.len() {
        return commit_blinded(backend, g_lagrange, w, values, blind);
    }
    let mut scalars: Vec<Fp> = runs.iter().map(|&(start, _)| values[start]).collect();
    scalars.push(blind);
    // One generator for a run of one; the difference of two prefix sums for a longer run.
    let sums: Vec<Eq> = runs.iter().filter(|(a, b)| b - a > 1).map(|&(a, b)| Eq::from(prefix[b]) - prefix[a]).collect();
    let mut sums_affine = vec![EqAffine::default(); sums.len()];
    Eq::batch_normalize(&sums, &mut sums_affine);
    let mut sums_affine = sums_affine.into_iter();
    let mut points: Vec<EqAffine> = runs
        .iter()
        .map(|&(a, b)| {
            if b - a == 1 { g_lagrange[a] } else { sums_affine.next().unwrap_or_else(|| unreachable!("a sum per run")) }
        })
        .collect();
    points.push(w);
    backend.msm(&scalars, &points)
}

/// `Σ values[i] · bases[i] + blind · w` by the backend's MSM: halo2's `commit_lagrange` with the
/// Lagrange bases, its `commit` with the monomial ones.
pub fn commit_blinded(backend: &dyn Backend, bases: &[EqAffine], w: EqAffine, values: &[Fp], blind: Fp) -> Eq {
    let mut scalars = values.to_vec();
    scalars.push(blind);
    let mut points = bases[..values.len()].to_vec();
    points.push(w);
    backend.msm(&scalars, &points)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ff::Field;
    use group::Curve;

    fn bases(n: usize) -> Vec<EqAffine> {
        let g = Eq::generator().to_affine();
        (1..=n as u64).map(|i| (g * Fp::from(i * 7919 + 13)).into()).collect()
    }

    #[test]
    fn small_msm_equals_the_naive_sum() {
        let b = bases(300);
        let cases: Vec<Vec<i64>> = vec![
            vec![],
            vec![0; 300],
            vec![1],
            vec![-1],
            (0..300).map(|i| (i * 37 % 255) - 128).collect(),
            (0..300).map(|i| if i % 3 == 0 { -(1 << 19) } else { (1 << 19) - 1 - i }).collect(),
            (0..300).map(|i| if i % 2 == 0 { i64::MAX / 3 } else { -(i64::MAX / 5) }).collect(),
            // Repeated bases and the extremes of i64.
            vec![i64::MAX, i64::MIN + 1, 5, -5],
            (0..300).map(|i| if i % 5 == 0 { i64::MIN + 1 } else { i64::MAX - i }).collect(),
        ];
        for values in cases {
            let b = &b[..values.len()];
            assert_eq!(small_msm(&values, b), naive_msm(&values, b), "{:?}", &values[..values.len().min(4)]);
        }
        let same = vec![b[0]; 4];
        assert_eq!(small_msm(&[3, -3, 2, 1], &same), b[0] * Fp::from(3));
        // One base repeated (sums of equal points in the buckets) from the vector code's size.
        let same = vec![b[1]; 300];
        let values: Vec<i64> = (0..300).map(|i| (i % 7) - 3).collect();
        assert_eq!(small_msm(&values, &same), naive_msm(&values, &same));
    }

    #[test]
    fn run_commitments_equal_halo2s() {
        use halo2_proofs::poly::commitment::{Blind, Params};
        let params = Params::<EqAffine>::new(5);
        let data = crate::params::ParamsData::new(&params).unwrap();
        let n = 32;
        let r = Fp::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng));
        let cases: Vec<Vec<Fp>> = vec![
            vec![Fp::ZERO; n],
            vec![r; n],
            // No run: the plain commitment.
            (0..n as u64).map(|i| Fp::from(i + 1)).collect(),
            // Runs at both ends, zeros inside, runs of one between.
            (0..n)
                .map(|i| {
                    if i < 7 {
                        r
                    } else if i < 10 {
                        Fp::ZERO
                    } else if i < 20 {
                        Fp::from(i as u64)
                    } else {
                        -r
                    }
                })
                .collect(),
            (0..n).map(|i| Fp::from((i / 3) as u64)).collect(),
        ];
        let domain = halo2_proofs::poly::EvaluationDomain::<Fp>::new(1, 5);
        for values in cases {
            let blind = Fp::from(777);
            let mut poly = domain.empty_lagrange();
            poly.iter_mut().zip(&values).for_each(|(p, v)| *p = *v);
            let ours = commit_runs(
                &crate::backend::CpuBackend,
                &data.g_lagrange,
                data.lagrange_prefix(),
                data.w,
                &values,
                blind,
            );
            assert_eq!(ours, params.commit_lagrange(&poly, Blind(blind)), "{:?}", &values[..4]);
        }
        assert_eq!(data.lagrange_prefix().len(), n + 1);
    }

    #[test]
    fn mixed_commitment_equals_halo2s() {
        use halo2_proofs::poly::commitment::{Blind, Params};
        let params = Params::<EqAffine>::new(4);
        let data = crate::params::ParamsData::new(&params).unwrap();
        let small: Vec<i64> = (0..10).map(|i| i * i - 30).collect();
        let rest = [Fp::from(99), -Fp::from(7), Fp::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng))];
        let blind = Fp::from(12345);
        let domain = halo2_proofs::poly::EvaluationDomain::<Fp>::new(1, 4);
        let mut poly = domain.empty_lagrange();
        for (p, v) in poly.iter_mut().zip(small.iter().map(|&v| crate::field(v)).chain(rest)) {
            *p = v;
        }
        let ours = commit_mixed(&crate::backend::CpuBackend, &data.g_lagrange, data.w, &small, &rest, blind);
        assert_eq!(ours, params.commit_lagrange(&poly, Blind(blind)));
    }
}
