//! The GPU backend behind the engine's [`Backend`] trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use zkinfer_engine::backend::{Backend, CpuBackend};
use zkinfer_engine::numerator::NumeratorProgram;

use crate::device::GpuContext;
use crate::msm::Scalars;
use crate::{GpuError, fft, fold, msm, numerator};

/// From which size each primitive runs on the GPU (below it the CPU is faster).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cutoffs {
    /// Fewest terms of a full-width MSM.
    pub msm: usize,
    /// Fewest terms of a small-scalar MSM.
    pub msm_small: usize,
    /// Smallest FFT, as log2 of its length.
    pub fft_log: u32,
    /// Fewest generators an IPA round's collapse folds (the length before the round).
    pub fold: usize,
    /// Fewest points of the extended domain for the quotient's numerator.
    pub numerator: usize,
}

impl Cutoffs {
    /// Every call on the GPU (tests, and `--device gpu` on a software adapter, where speed is not
    /// the point).
    pub const ALL_ON_GPU: Cutoffs = Cutoffs { msm: 0, msm_small: 0, fft_log: 0, fold: 0, numerator: 0 };

    /// The defaults for a hardware GPU, from the figures in BENCHMARKS.md (NVIDIA H200 against
    /// its 16-core CPU, field code [`crate::FieldForm::DEFAULT`]): each primitive goes to the
    /// GPU from the first measured size at which its kernel was faster in every run, and at
    /// which the proofs it first reaches gain enough to pay for opening the adapter
    /// (0.2-0.4 s a call under `--device auto`).
    /// - The full-width MSM from 2^16 terms: 1.69x, 1.74x and 1.14x in the three runs of
    ///   2026-12-04's fifth stop (0.99x, 0.84x and 0.75x at 2^14).
    /// - The small-scalar MSM from 2^16: 2.8x and 2.5x at the fourth stop, 2.7x at the fifth
    ///   (at 2^14 between 0.99x and 1.5x).
    /// - The IPA's collapse from 2^16 generators (2.4x to 5.4x). At 2^14 its kernel was faster
    ///   too (1.05x to 2.5x), but only the first of a 2^14-row proof's rounds is that large:
    ///   LeNet's prove step took 0.59-0.60 s with it on the GPU against 0.59 s without, so it
    ///   would open the adapter for nothing.
    /// - The FFT was at no size faster in every run (0.68x to 1.08x from 2^14 to 2^20), and the
    ///   numerator on the GPU made the LeNet-style CNN's proof slower (0.90 s against 0.59 s at
    ///   the fifth stop), so both stay on the CPU.
    pub const HARDWARE: Cutoffs =
        Cutoffs { msm: 1 << 16, msm_small: 1 << 16, fft_log: Self::NEVER_LOG, fold: 1 << 16, numerator: Self::NEVER };

    /// A size cut-off no call reaches: the primitive stays on the CPU.
    pub const NEVER: usize = usize::MAX;

    /// An FFT size (log2) no call reaches: the FFT stays on the CPU.
    pub const NEVER_LOG: u32 = u32::MAX;

    /// Whether a proof over `2^k` rows, whose extended domain has `2^extended_k` points, has a
    /// primitive that reaches these cut-offs: its MSMs have at most `2^k` terms, the IPA's
    /// collapse starts from `2^k` generators, its FFTs and the numerator have at most
    /// `2^extended_k` points.
    pub fn reached_by(&self, k: u32, extended_k: u32) -> bool {
        let rows = 1usize.checked_shl(k).unwrap_or(usize::MAX);
        let points = 1usize.checked_shl(extended_k).unwrap_or(usize::MAX);
        rows >= self.msm.min(self.msm_small).min(self.fold) || extended_k >= self.fft_log || points >= self.numerator
    }
}

/// Runs the primitives on a GPU from [`Cutoffs`] on, on the CPU below them, and on the CPU for
/// good once the GPU reports an error (saying why once, on stderr); a call that exceeds the
/// adapter's limits where its kernel does not split the work runs on the CPU alone. Results
/// read back are checked (field elements below the modulus, points on the curve); a wrong
/// result that passes those checks would make the prover's self-check refuse the proof, so no
/// wrong proof leaves.
#[derive(Debug)]
pub struct GpuBackend {
    context: Arc<GpuContext>,
    cutoffs: Cutoffs,
    cpu: CpuBackend,
    failed: AtomicBool,
    /// Whether a call too large for the adapter's limits has been reported (once).
    too_large_said: AtomicBool,
    /// Refuse to fall back (tests: a GPU error must fail them).
    strict: bool,
}

impl GpuBackend {
    /// A backend over an open context.
    pub fn new(context: GpuContext, cutoffs: Cutoffs) -> Self {
        Self::shared(Arc::new(context), cutoffs)
    }

    /// A backend over a context that other backends use too (the kernels compile once).
    pub fn shared(context: Arc<GpuContext>, cutoffs: Cutoffs) -> Self {
        Self {
            context,
            cutoffs,
            cpu: CpuBackend,
            failed: AtomicBool::new(false),
            too_large_said: AtomicBool::new(false),
            strict: false,
        }
    }

    /// The same, but a GPU error panics instead of falling back to the CPU (tests).
    pub fn strict(context: GpuContext, cutoffs: Cutoffs) -> Self {
        Self { strict: true, ..Self::new(context, cutoffs) }
    }

    /// The context (adapter, limits).
    pub fn context(&self) -> &GpuContext {
        &self.context
    }

    /// Whether a GPU error has sent every later primitive to the CPU (a call too large for the
    /// adapter's limits does not: it alone runs on the CPU).
    pub fn fell_back(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// The shared context, for another backend over it.
    pub fn shared_context(&self) -> Arc<GpuContext> {
        self.context.clone()
    }

    fn on_gpu<T>(
        &self,
        primitive: &str,
        large_enough: bool,
        gpu: impl FnOnce() -> Result<T, GpuError>,
        cpu: impl FnOnce() -> T,
    ) -> T {
        if !large_enough || self.failed.load(Ordering::Relaxed) {
            return cpu();
        }
        match gpu() {
            Ok(value) => value,
            // Deliberate: a strict backend (tests) must fail loudly rather than fall back.
            #[allow(clippy::panic)]
            Err(e) if self.strict => panic!("GPU {primitive} failed: {e}"),
            // Work beyond the adapter's limits that the kernel does not split: this call on the
            // CPU, the device stays in use for the others.
            Err(GpuError::TooLarge(why)) => {
                if !self.too_large_said.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "zkinfer: a call of {primitive} is too large for the GPU ({}): {why}; the CPU runs such calls",
                        self.context.adapter().name
                    );
                }
                cpu()
            }
            Err(e) => {
                if !self.failed.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "zkinfer: the GPU ({}) failed in {primitive}: {e}; proving on with the CPU",
                        self.context.adapter().name
                    );
                }
                cpu()
            }
        }
    }
}

impl Backend for GpuBackend {
    fn name(&self) -> &'static str {
        "gpu"
    }

    fn msm(&self, scalars: &[Fp], bases: &[EqAffine]) -> Eq {
        assert_eq!(scalars.len(), bases.len(), "one scalar per base");
        self.on_gpu(
            "msm",
            bases.len() >= self.cutoffs.msm,
            || msm::msm(&self.context, Scalars::Full(scalars), bases),
            || self.cpu.msm(scalars, bases),
        )
    }

    fn msm_small(&self, values: &[i64], bases: &[EqAffine]) -> Eq {
        assert_eq!(values.len(), bases.len(), "one value per base");
        self.on_gpu(
            "msm_small",
            bases.len() >= self.cutoffs.msm_small,
            || msm::msm(&self.context, Scalars::Small(values), bases),
            || self.cpu.msm_small(values, bases),
        )
    }

    fn fft(&self, values: &mut [Fp], omega: Fp, log_n: u32) {
        // The GPU works on a copy: a failure may leave it half written. `None`: the CPU's turn.
        let on_device = self.on_gpu(
            "fft",
            log_n >= self.cutoffs.fft_log,
            || {
                let mut copy = values.to_vec();
                fft::fft(&self.context, &mut copy, omega, log_n).map(|()| Some(copy))
            },
            || None,
        );
        match on_device {
            Some(done) => values.copy_from_slice(&done),
            None => self.cpu.fft(values, omega, log_n),
        }
    }

    fn fold_generators(&self, g: &mut Vec<EqAffine>, challenge: Fp) {
        let on_device = self.on_gpu(
            "fold_generators",
            g.len() >= self.cutoffs.fold,
            || fold::fold_generators(&self.context, g, challenge).map(Some),
            || None,
        );
        match on_device {
            Some(folded) => *g = folded,
            None => self.cpu.fold_generators(g, challenge),
        }
    }

    /// Pairs of rounds on the CPU below the collapse's cut-off (its joint fold); the device
    /// folds one round at a time.
    fn folds_pairs(&self, len: usize) -> bool {
        len < self.cutoffs.fold && self.cpu.folds_pairs(len)
    }

    fn fold_generators_twice(&self, g: &mut Vec<EqAffine>, first: Fp, second: Fp) {
        if g.len() < self.cutoffs.fold {
            self.cpu.fold_generators_twice(g, first, second);
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
        self.on_gpu(
            "evaluate_numerator",
            points >= self.cutoffs.numerator,
            || numerator::evaluate_numerator(&self.context, program, columns, points, y, step),
            || self.cpu.evaluate_numerator(program, columns, points, y, step),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_reaches_the_cut_offs_from_its_largest_primitive() {
        // On a hardware GPU the MSMs and the collapse go from 2^16.
        assert!(Cutoffs::HARDWARE.reached_by(16, 18));
        assert!(!Cutoffs::HARDWARE.reached_by(15, 17));
        assert!(Cutoffs::ALL_ON_GPU.reached_by(0, 0));
        let never = Cutoffs {
            msm: Cutoffs::NEVER,
            msm_small: Cutoffs::NEVER,
            fft_log: Cutoffs::NEVER_LOG,
            fold: Cutoffs::NEVER,
            numerator: Cutoffs::NEVER,
        };
        assert!(!never.reached_by(40, 63));
        // Each primitive alone.
        assert!(Cutoffs { msm: 1 << 10, ..never }.reached_by(10, 12));
        assert!(!Cutoffs { msm: 1 << 10, ..never }.reached_by(9, 12));
        assert!(Cutoffs { msm_small: 1 << 10, ..never }.reached_by(10, 12));
        assert!(Cutoffs { fold: 1 << 10, ..never }.reached_by(10, 12));
        assert!(Cutoffs { fft_log: 12, ..never }.reached_by(10, 12));
        assert!(!Cutoffs { fft_log: 13, ..never }.reached_by(10, 12));
        assert!(Cutoffs { numerator: 1 << 12, ..never }.reached_by(10, 12));
        assert!(!Cutoffs { numerator: (1 << 12) + 1, ..never }.reached_by(10, 12));
    }
}
