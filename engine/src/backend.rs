//! The compute primitives the prover spends its time in, behind one trait so that a GPU backend
//! can replace them one at a time:
//!
//! - [`Backend::msm`]: `Σ s_i · G_i` over full-width scalars (grand products, permuted lookup
//!   columns, the quotient's pieces, the opening);
//! - [`Backend::msm_small`]: the same over small signed integers (the witness columns);
//! - [`Backend::msm_shared_bases`]: many MSMs over the same few bases (the blinding rows of
//!   every witness column, the IPA rounds' two corrections);
//! - [`Backend::fft`]: the radix-2 FFT under every change of basis ([`crate::domain`]);
//! - [`Backend::fold_generators`]: the generator collapse of each IPA round, and
//!   [`Backend::fold_generators_twice`] of two rounds at once;
//! - [`Backend::evaluate_numerator`]: the quotient's numerator (every gate's, the
//!   permutation's and the lookups' constraints folded by `y`) at every point of the extended
//!   domain ([`crate::numerator`]).
//!
//! Every backend must give exactly the results of [`ReferenceBackend`] (the naive method of
//! each primitive); a point or a field element has one value, so "exactly" is well defined
//! whatever the algorithm. [`CpuBackend`] is the fast CPU one, [`CheckingBackend`] runs two
//! backends and panics on the first difference (the way to bring up a new backend), and
//! [`TimedBackend`] adds up the time spent in each primitive (the per-phase benches).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ff::Field;
use group::{Curve, Group};
use halo2_proofs::arithmetic::CurveExt;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};

use crate::numerator::NumeratorProgram;

/// The prover's compute primitives.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The backend's name (reports, errors).
    fn name(&self) -> &'static str;

    /// `Σ scalars[i] · bases[i]`; the slices have the same length.
    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq;

    /// `Σ values[i] · bases[i]` for integers (a negative `v` stands for the field element
    /// `p - |v|`); the slices have the same length.
    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq;

    /// `Σ_i sets[s][i] · bases[i]` for each set `s` of scalars (each as long as `bases`): many
    /// MSMs over the same bases. One [`Backend::msm`] per set unless the backend does better.
    fn msm_shared_bases(&self, sets: &[&[Fp]], bases: &[EqAffine]) -> Vec<Eq> {
        sets.iter().map(|s| self.msm(s, bases)).collect()
    }

    /// In place, the values of the polynomial whose coefficients `values` holds at the powers
    /// of `omega`, a primitive `2^log_n`-th root of unity (`values.len() == 2^log_n`).
    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32);

    /// One IPA round's generator collapse: `g[i] ← g[i] + challenge · g[i + half]` for the lower
    /// half, then the upper half is dropped (`g.len()` is a power of two, at least 2).
    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp);

    /// Whether [`Backend::fold_generators_twice`] costs less than two single folds of `len`
    /// generators; the IPA then leaves a round's collapse to fold it with the next round's.
    fn folds_pairs(&self, len: usize) -> bool {
        let _ = len;
        false
    }

    /// Two IPA rounds' generator collapse: the same as `fold_generators(g, first)` and then
    /// `fold_generators(g, second)` (`g.len()` is a power of two, at least 4).
    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        self.fold_generators(g, first);
        self.fold_generators(g, second);
    }

    /// `program`'s value at each of the extended domain's `points` ([`crate::numerator`]):
    /// `columns[s]` holds slot `s`'s values there, a row is `step` points, `y` folds the
    /// constraints.
    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp>;
}

/// The naive method of each primitive: one scalar multiplication per term, the iterative
/// radix-2 FFT, one scalar multiplication per generator. Slow; the oracle for the others.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReferenceBackend;

impl Backend for ReferenceBackend {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        assert_eq!(scalars.len(), bases.len(), "one scalar per base");
        scalars.iter().zip(bases).fold(Eq::identity(), |acc, (s, b)| acc + *b * s)
    }

    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        crate::msm::naive_msm(values, bases)
    }

    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        iterative_fft(values, omega, log_n);
    }

    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        let half = g.len() / 2;
        let folded: Vec<Eq> = (0..half).map(|i| g[i] + g[i + half] * challenge).collect();
        g.truncate(half);
        Eq::batch_normalize(&folded, g);
    }

    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp> {
        crate::numerator::evaluate_naive(program, columns, points, y, step)
    }
}

/// From this many generators the CPU backend folds two IPA rounds at once
/// ([`crate::msm::glv::combine_same_scalars`]): one ladder per output for three terms instead
/// of one per generator and round, at the cost of the deferred round's MSMs over twice the terms.
const PAIRED_FOLD_MIN: usize = 1 << 6;

/// Up to this many terms the CPU backend's MSM is one shared double-and-add over the scalars'
/// bits (halo2's `small_multiexp`).
const FEW_TERMS: usize = 16;

/// The CPU backend: Pippenger with signed digits and batched affine additions for full-width
/// scalars ([`crate::msm::batch_affine`]), bucket windows over the
/// bits the values have for small ones ([`crate::msm::small_msm`]), a radix-2 FFT with cached
/// twiddles ([`crate::fft`]), and GLV scalar multiplication with one decomposition per round for
/// the generator collapse (variable time in the scalar, which is a public challenge).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBackend;

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        assert_eq!(scalars.len(), bases.len(), "one scalar per base");
        if scalars.len() <= FEW_TERMS {
            // Bucket windows cost their buckets' sums in every window: for a handful of terms
            // (the blinding rows of each committed column, the IPA's two-term corrections) one
            // shared ladder of 255 doublings is far cheaper.
            halo2_proofs::arithmetic::small_multiexp(scalars, bases)
        } else {
            crate::msm::batch_affine::msm(scalars, bases)
        }
    }

    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        crate::msm::small_msm(values, bases)
    }

    fn msm_shared_bases(&self, sets: &[&[Fp]], bases: &[EqAffine]) -> Vec<Eq> {
        use rayon::prelude::*;
        // A few bases: eight sets at a time in the vector code's lanes, where it runs.
        #[cfg(target_arch = "x86_64")]
        if bases.len() <= FEW_TERMS && crate::avx512::enabled() {
            let groups: Vec<Vec<Eq>> = sets
                .par_chunks(crate::avx512::LANES)
                .map(|group| {
                    crate::avx512::msm_shared_bases(group, bases)
                        .unwrap_or_else(|| group.iter().map(|s| self.msm(s, bases)).collect())
                })
                .collect();
            return groups.concat();
        }
        sets.par_iter().map(|s| self.msm(s, bases)).collect()
    }

    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        crate::fft::fft(&crate::fft::TWIDDLES, values, omega, log_n);
    }

    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        let half = g.len() / 2;
        let (lo, hi) = g.split_at_mut(half);
        halo2_proofs::arithmetic::parallelize(lo, |lo, start| {
            let hi = &hi[start..start + lo.len()];
            let mut scaled = vec![Eq::identity(); hi.len()];
            Eq::batch_mul_same_scalar_vartime(hi, &challenge, &mut scaled);
            scaled.iter_mut().zip(lo.iter()).for_each(|(s, l)| *s += l);
            Eq::batch_normalize(&scaled, lo);
        });
        g.truncate(half);
    }

    fn folds_pairs(&self, len: usize) -> bool {
        len >= PAIRED_FOLD_MIN
    }

    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        // g[i] + second·g[i + q] + first·g[i + 2q] + first·second·g[i + 3q], q = len / 4.
        let q = g.len() / 4;
        let (base, rest) = g.split_at(q);
        let terms = [&rest[..q], &rest[q..2 * q], &rest[2 * q..3 * q]];
        let mut out = vec![EqAffine::default(); q];
        if crate::msm::glv::combine_same_scalars(base, &terms, &[second, first, first * second], &mut out) {
            *g = out;
        } else {
            self.fold_generators(g, first);
            self.fold_generators(g, second);
        }
    }

    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp> {
        crate::numerator::evaluate(program, columns, points, y, step)
    }
}

/// The radix-2 decimation-in-time FFT, bit-reversed input order, one butterfly at a time.
pub fn iterative_fft(values: &mut [Fp], omega: Fp, log_n: u32) {
    let n = values.len();
    assert_eq!(n, 1usize << log_n, "2^log_n values");
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - log_n.max(1));
        if log_n > 0 && i < j {
            values.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= n {
        let w_len = omega.pow_vartime([(n / len) as u64]);
        for start in (0..n).step_by(len) {
            let mut w = Fp::ONE;
            for i in 0..len / 2 {
                let (a, b) = (values[start + i], values[start + i + len / 2] * w);
                values[start + i] = a + b;
                values[start + i + len / 2] = a - b;
                w *= w_len;
            }
        }
        len *= 2;
    }
}

/// Runs two backends on every call and panics on the first result that differs: the way to
/// bring up a new backend against a trusted one. Returns the trusted backend's results.
#[derive(Debug)]
pub struct CheckingBackend<T, C> {
    /// The backend whose results are returned.
    pub trusted: T,
    /// The backend under test.
    pub candidate: C,
}

impl<T: Backend, C: Backend> CheckingBackend<T, C> {
    // The trait has no error channel: a checking backend is a development tool that stops the
    // proof at the first wrong result.
    #[allow(clippy::panic)]
    fn differs(&self, primitive: &str) -> ! {
        panic!("the {} backend's {primitive} differs from the {} backend's", self.candidate.name(), self.trusted.name())
    }
}

impl<T: Backend, C: Backend> Backend for CheckingBackend<T, C> {
    fn name(&self) -> &'static str {
        "checking"
    }

    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        let r = self.trusted.msm(scalars, bases);
        if self.candidate.msm(scalars, bases) != r {
            self.differs("msm");
        }
        r
    }

    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        let r = self.trusted.msm_small(values, bases);
        if self.candidate.msm_small(values, bases) != r {
            self.differs("msm_small");
        }
        r
    }

    fn msm_shared_bases(&self, sets: &[&[Fp]], bases: &[EqAffine]) -> Vec<Eq> {
        let r = self.trusted.msm_shared_bases(sets, bases);
        if self.candidate.msm_shared_bases(sets, bases) != r {
            self.differs("msm_shared_bases");
        }
        r
    }

    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        let mut other = values.to_vec();
        self.trusted.fft(values, omega, log_n);
        self.candidate.fft(&mut other, omega, log_n);
        if other != values {
            self.differs("fft");
        }
    }

    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        let mut other = g.clone();
        self.trusted.fold_generators(g, challenge);
        self.candidate.fold_generators(&mut other, challenge);
        if &other != g {
            self.differs("fold_generators");
        }
    }

    fn folds_pairs(&self, len: usize) -> bool {
        self.trusted.folds_pairs(len)
    }

    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        let mut other = g.clone();
        self.trusted.fold_generators_twice(g, first, second);
        self.candidate.fold_generators_twice(&mut other, first, second);
        if &other != g {
            self.differs("fold_generators_twice");
        }
    }

    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp> {
        let r = self.trusted.evaluate_numerator(program, columns, points, y, step);
        if self.candidate.evaluate_numerator(program, columns, points, y, step) != r {
            self.differs("evaluate_numerator");
        }
        r
    }
}

/// The primitives of [`Backend`], for [`TimedBackend`]'s figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Primitive {
    /// [`Backend::msm`].
    Msm,
    /// [`Backend::msm_small`].
    MsmSmall,
    /// [`Backend::msm_shared_bases`].
    MsmSharedBases,
    /// [`Backend::fft`].
    Fft,
    /// [`Backend::fold_generators`].
    FoldGenerators,
    /// [`Backend::fold_generators_twice`].
    FoldGeneratorsTwice,
    /// [`Backend::evaluate_numerator`].
    EvaluateNumerator,
}

impl Primitive {
    /// Every primitive, in report order.
    pub const ALL: [Primitive; PRIMITIVES] = [
        Primitive::Msm,
        Primitive::MsmSmall,
        Primitive::MsmSharedBases,
        Primitive::Fft,
        Primitive::FoldGenerators,
        Primitive::FoldGeneratorsTwice,
        Primitive::EvaluateNumerator,
    ];

    /// The trait method's name.
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Msm => "msm",
            Primitive::MsmSmall => "msm_small",
            Primitive::MsmSharedBases => "msm_shared_bases",
            Primitive::Fft => "fft",
            Primitive::FoldGenerators => "fold_generators",
            Primitive::FoldGeneratorsTwice => "fold_generators_twice",
            Primitive::EvaluateNumerator => "evaluate_numerator",
        }
    }
}

/// How many primitives [`Backend`] has.
const PRIMITIVES: usize = 7;

/// Calls and time spent in one primitive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Number of calls.
    pub calls: u64,
    /// Wall time inside them.
    pub time: Duration,
}

/// A backend that adds up the calls and wall time of each primitive of the backend it wraps.
#[derive(Debug, Default)]
pub struct TimedBackend<B> {
    inner: B,
    usage: Mutex<[Usage; PRIMITIVES]>,
}

impl<B: Backend> TimedBackend<B> {
    /// Wraps `inner`.
    pub fn new(inner: B) -> Self {
        Self { inner, usage: Mutex::new([Usage::default(); PRIMITIVES]) }
    }

    /// The figures so far, per primitive.
    pub fn usage(&self) -> Vec<(Primitive, Usage)> {
        let u = *self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Primitive::ALL.into_iter().zip(u).collect()
    }

    /// Sets every figure back to zero.
    pub fn reset(&self) {
        *self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = [Usage::default(); PRIMITIVES];
    }

    fn timed<R>(&self, p: Primitive, f: impl FnOnce() -> R) -> R {
        let start = Instant::now();
        let r = f();
        let took = start.elapsed();
        let mut u = self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = &mut u[p as usize];
        slot.calls += 1;
        slot.time += took;
        r
    }
}

impl<B: Backend> Backend for TimedBackend<B> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        self.timed(Primitive::Msm, || self.inner.msm(scalars, bases))
    }

    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        self.timed(Primitive::MsmSmall, || self.inner.msm_small(values, bases))
    }

    fn msm_shared_bases(&self, sets: &[&[Fp]], bases: &[EqAffine]) -> Vec<Eq> {
        self.timed(Primitive::MsmSharedBases, || self.inner.msm_shared_bases(sets, bases))
    }

    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        self.timed(Primitive::Fft, || self.inner.fft(values, omega, log_n));
    }

    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        self.timed(Primitive::FoldGenerators, || self.inner.fold_generators(g, challenge));
    }

    fn folds_pairs(&self, len: usize) -> bool {
        self.inner.folds_pairs(len)
    }

    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        self.timed(Primitive::FoldGeneratorsTwice, || self.inner.fold_generators_twice(g, first, second));
    }

    fn evaluate_numerator(
        &self,
        program: &NumeratorProgram,
        columns: &[&[Fp]],
        points: usize,
        y: Fp,
        step: usize,
    ) -> Vec<Fp> {
        self.timed(Primitive::EvaluateNumerator, || self.inner.evaluate_numerator(program, columns, points, y, step))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ff::PrimeField;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn points(n: usize, rng: &mut StdRng) -> Vec<EqAffine> {
        (0..n).map(|_| (Eq::generator() * Fp::random(&mut *rng)).to_affine()).collect()
    }

    fn root(log_n: u32) -> Fp {
        Fp::ROOT_OF_UNITY.pow_vartime([1u64 << (Fp::S - log_n)])
    }

    #[test]
    fn cpu_primitives_equal_the_reference() {
        let rng = &mut StdRng::seed_from_u64(7);
        let (cpu, reference) = (CpuBackend, ReferenceBackend);
        for n in [1usize, 2, 3, 16, 17, 64, 257] {
            let bases = points(n, rng);
            let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut *rng)).collect();
            assert_eq!(cpu.msm(&scalars, &bases), reference.msm(&scalars, &bases), "msm of {n}");
            let small: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 4096 - 2048).collect();
            assert_eq!(cpu.msm_small(&small, &bases), reference.msm_small(&small, &bases), "msm_small of {n}");
        }
        // Many MSMs over the same few bases (eight sets per group of the vector code): random,
        // zero and edge scalars, an empty set of sets, a repeated base (its multiples meet in
        // the sums: given back to the scalar code), more bases than the vector code takes.
        for (n, sets) in [(7usize, 11usize), (1, 3), (16, 8), (5, 0), (17, 9)] {
            let mut bases = points(n, rng);
            let edges = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(8), -Fp::from(8), Fp::from(u64::MAX)];
            let sets: Vec<Vec<Fp>> = (0..sets)
                .map(|s| {
                    (0..n)
                        .map(|i| if s % 3 == 0 { edges[(s + i) % edges.len()] } else { Fp::random(&mut *rng) })
                        .collect()
                })
                .collect();
            let views: Vec<&[Fp]> = sets.iter().map(|s| s.as_slice()).collect();
            let expected: Vec<Eq> = sets.iter().map(|s| reference.msm(s, &bases)).collect();
            assert_eq!(cpu.msm_shared_bases(&views, &bases), expected, "{} sets over {n} bases", sets.len());
            if n > 1 {
                bases[1] = bases[0];
                let expected: Vec<Eq> = sets.iter().map(|s| reference.msm(s, &bases)).collect();
                assert_eq!(cpu.msm_shared_bases(&views, &bases), expected, "a repeated base");
            }
        }
        for log_n in [0u32, 1, 2, 5, 10] {
            let values: Vec<Fp> = (0..1usize << log_n).map(|_| Fp::random(&mut *rng)).collect();
            let (mut a, mut b) = (values.clone(), values);
            cpu.fft(&mut a, root(log_n), log_n);
            reference.fft(&mut b, root(log_n), log_n);
            assert_eq!(a, b, "fft of 2^{log_n}");
        }
        for n in [2usize, 4, 128] {
            let g = points(n, rng);
            let u = Fp::random(&mut *rng);
            let (mut a, mut b) = (g.clone(), g);
            cpu.fold_generators(&mut a, u);
            reference.fold_generators(&mut b, u);
            assert_eq!(a, b, "fold of {n}");
            assert_eq!(a.len(), n / 2);
        }
        for n in [4usize, 8, 64, 1024] {
            let g = points(n, rng);
            let (u, v) = (Fp::random(&mut *rng), Fp::random(&mut *rng));
            let (mut a, mut b) = (g.clone(), g);
            cpu.fold_generators_twice(&mut a, u, v);
            reference.fold_generators_twice(&mut b, u, v);
            assert_eq!(a, b, "two folds of {n}");
            assert_eq!(a.len(), n / 4);
        }
    }

    #[test]
    fn the_reference_fft_evaluates_the_polynomial() {
        let rng = &mut StdRng::seed_from_u64(3);
        let log_n = 4;
        let coeffs: Vec<Fp> = (0..16).map(|_| Fp::random(&mut *rng)).collect();
        let mut values = coeffs.clone();
        ReferenceBackend.fft(&mut values, root(log_n), log_n);
        for (i, v) in values.iter().enumerate() {
            let x = root(log_n).pow_vartime([i as u64]);
            assert_eq!(*v, halo2_proofs::arithmetic::eval_polynomial(&coeffs, x), "row {i}");
        }
    }

    /// A backend whose MSM is off by the generator, to show the checking backend notices.
    #[derive(Debug)]
    struct Broken;
    impl Backend for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
            CpuBackend.msm(scalars, bases) + Eq::generator()
        }
        fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
            CpuBackend.msm_small(values, bases)
        }
        fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
            CpuBackend.fft(values, omega, log_n);
        }
        fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
            CpuBackend.fold_generators(g, challenge);
        }
        fn evaluate_numerator(
            &self,
            program: &NumeratorProgram,
            columns: &[&[Fp]],
            points: usize,
            y: Fp,
            step: usize,
        ) -> Vec<Fp> {
            CpuBackend.evaluate_numerator(program, columns, points, y, step)
        }
    }

    #[test]
    fn the_checking_backend_names_the_primitive_that_differs() {
        let rng = &mut StdRng::seed_from_u64(5);
        let bases = points(4, rng);
        let checking = CheckingBackend { trusted: CpuBackend, candidate: Broken };
        assert_eq!(checking.msm_small(&[1, -2, 3, 4], &bases), CpuBackend.msm_small(&[1, -2, 3, 4], &bases));
        let scalars = [Fp::ONE; 4];
        let err = std::panic::catch_unwind(|| checking.msm(&scalars, &bases)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert_eq!(msg, "the broken backend's msm differs from the cpu backend's");
    }

    #[test]
    fn the_timed_backend_counts_calls() {
        let timed = TimedBackend::new(CpuBackend);
        let mut v = vec![Fp::ONE; 8];
        timed.fft(&mut v, root(3), 3);
        timed.fft(&mut v, root(3), 3);
        let usage = timed.usage();
        let fft = Primitive::ALL.iter().position(|&p| p == Primitive::Fft).unwrap();
        assert_eq!(usage[fft].0, Primitive::Fft);
        assert_eq!(usage[fft].1.calls, 2);
        assert_eq!(usage[0].1.calls, 0);
        timed.reset();
        assert_eq!(timed.usage()[fft].1.calls, 0);
    }
}
