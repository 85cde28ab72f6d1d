//! Criterion benches of the GPU kernels against the CPU backend: full-width MSM, small-scalar
//! MSM (12-bit values), FFT and one round of the IPA's generator collapse, from 2^10 to 2^`ZKINFER_BENCH_MAX_LOG` (default 20 on a hardware
//! adapter, 12 on a software one, where the figures say nothing about speed). Prints the adapter
//! first; without one it says so and measures nothing.
//!
//! `cargo bench -p zkinfer-gpu --bench kernels`

#![allow(clippy::unwrap_used)]

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ff::{Field, PrimeField};
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::backend::{Backend, CpuBackend};
use zkinfer_gpu::{AdapterKind, Cutoffs, DeviceChoice, GpuBackend, GpuContext};

/// The smallest size benched, as log2.
const MIN_LOG: u32 = 10;
/// Overrides the largest size (log2).
const MAX_LOG_VAR: &str = "ZKINFER_BENCH_MAX_LOG";
/// Bits of the small-scalar MSM's values (the width of most witness values).
const SMALL_BITS: i64 = 12;

fn points(n: usize, rng: &mut StdRng) -> Vec<EqAffine> {
    let step = Eq::random(&mut *rng);
    let projective: Vec<Eq> = std::iter::successors(Some(Eq::random(&mut *rng)), |p| Some(p + step)).take(n).collect();
    let mut affine = vec![Eq::identity().to_affine(); n];
    Eq::batch_normalize(&projective, &mut affine);
    affine
}

fn root_of_unity(log_n: u32) -> Fp {
    let mut omega = Fp::ROOT_OF_UNITY;
    for _ in log_n..Fp::S {
        omega = omega.square();
    }
    omega
}

fn bench(c: &mut Criterion) {
    let context = match GpuContext::open(DeviceChoice::Gpu(None)) {
        Ok(context) => context,
        Err(e) => {
            eprintln!("no GPU bench: {e}");
            return;
        }
    };
    eprintln!("adapter: {}", context.adapter());
    let default_max = if context.adapter().kind == AdapterKind::Software { 12 } else { 20 };
    let max_log: u32 = std::env::var(MAX_LOG_VAR).ok().and_then(|v| v.parse().ok()).unwrap_or(default_max);
    let gpu = GpuBackend::strict(context, Cutoffs::ALL_ON_GPU);
    let mut rng = StdRng::seed_from_u64(11);
    let all = points(1 << max_log, &mut rng);
    let backends: [(&str, &dyn Backend); 2] = [("cpu", &CpuBackend), ("gpu", &gpu)];
    for log_n in (MIN_LOG..=max_log).step_by(2) {
        let n = 1usize << log_n;
        let bases = &all[..n];
        let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
        let half = 1i64 << (SMALL_BITS - 1);
        let small: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % (2 * half) - half).collect();
        let omega = root_of_unity(log_n);
        // Both backends agree before anything is timed.
        assert_eq!(gpu.msm(&scalars, bases), CpuBackend.msm(&scalars, bases), "msm 2^{log_n}");
        let mut group = c.benchmark_group(format!("kernels_2^{log_n}"));
        group.sample_size(10);
        for (name, backend) in backends {
            group.bench_function(BenchmarkId::new("msm", name), |b| b.iter(|| backend.msm(&scalars, bases)));
            group.bench_function(BenchmarkId::new("msm_small", name), |b| b.iter(|| backend.msm_small(&small, bases)));
            let mut values = scalars.clone();
            group.bench_function(BenchmarkId::new("fft", name), |b| b.iter(|| backend.fft(&mut values, omega, log_n)));
            let challenge = scalars[0];
            group.bench_function(BenchmarkId::new("fold", name), |b| {
                b.iter_batched(
                    || bases.to_vec(),
                    |mut g| backend.fold_generators(&mut g, challenge),
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
