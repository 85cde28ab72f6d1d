//! Kernel figures: MSM (full-width and small scalars), FFT and the IPA's generator collapse
//! (`fold`: 2^log n generators, one round) on the chosen adapter against the
//! CPU backend, with a check that both give the same result (the GPU MSMs run twice: the table
//! gives the second call, which from 2^12 terms finds the generators the first call kept on the
//! device, and the first in brackets). On a software adapter the figures say nothing about
//! speed.
//!
//! `cargo run --release -p zkinfer-gpu --example gpu_bench -- [gpu|gpu:N] [max_log] [lazy13|int64|rows|packed] [profile]`
//!
//! `profile` prints each GPU MSM's phases (digits, points kept or uploaded, sort, bucket sums,
//! reduce, read back, finish) on stderr.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use ff::{Field, PrimeField};
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::backend::{Backend, CpuBackend};
use zkinfer_gpu::{Cutoffs, DeviceChoice, FieldForm, GpuBackend, GpuContext};

fn points(n: usize, rng: &mut StdRng) -> Vec<EqAffine> {
    let step = Eq::random(&mut *rng);
    let projective: Vec<Eq> = std::iter::successors(Some(Eq::random(&mut *rng)), |p| Some(p + step)).take(n).collect();
    let mut affine = vec![Eq::identity().to_affine(); n];
    Eq::batch_normalize(&projective, &mut affine);
    affine
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64() * 1e3)
}

fn main() {
    let choice: DeviceChoice = std::env::args().nth(1).unwrap_or_else(|| "gpu".into()).parse().unwrap();
    let max_log: u32 = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(16);
    let form: FieldForm = std::env::args().nth(3).map(|s| s.parse().unwrap()).unwrap_or(FieldForm::DEFAULT);
    let profile = std::env::args().nth(4).as_deref() == Some("profile");
    let (context, open_ms) = time(|| GpuContext::open_with(choice, form).unwrap());
    context.set_profiling(profile);
    println!("adapter: {} (opened in {open_ms:.0} ms), field code: {form}", context.adapter());
    println!("cpu threads: {}", rayon::current_num_threads());
    let gpu = GpuBackend::strict(context, Cutoffs::ALL_ON_GPU);
    let mut rng = StdRng::seed_from_u64(7);
    // Warm-up: compiles the kernels.
    let warm = points(64, &mut rng);
    let (_, ms) = time(|| gpu.msm(&vec![Fp::ONE; 64], &warm));
    let (_, ms2) = time(|| gpu.fft(&mut vec![Fp::ONE; 64], Fp::ONE, 6));
    let (_, ms3) = time(|| gpu.fold_generators(&mut warm.clone(), Fp::from(3)));
    println!("kernel compile (first calls): msm {ms:.0} ms, fft {ms2:.0} ms, fold {ms3:.0} ms");
    in_registers(&gpu, max_log, &mut rng);
    println!("{:<10} {:>6} {:>12} {:>12} {:>8}", "primitive", "log n", "cpu ms", "gpu ms", "cpu/gpu");
    let all = points(1 << max_log, &mut rng);
    for log_n in (10..=max_log).step_by(2) {
        let n = 1usize << log_n;
        let bases = &all[..n];
        let scalars: Vec<Fp> = (0..n).map(|_| Fp::random(&mut rng)).collect();
        let (cpu, cpu_ms) = time(|| CpuBackend.msm(&scalars, bases));
        let (got, first_ms) = time(|| gpu.msm(&scalars, bases));
        assert_eq!(got, cpu, "msm 2^{log_n}");
        let (got, gpu_ms) = time(|| gpu.msm(&scalars, bases));
        assert_eq!(got, cpu, "msm 2^{log_n}");
        println!(
            "{:<10} {log_n:>6} {cpu_ms:>12.1} {gpu_ms:>12.1} {:>8.2}   (first GPU call {first_ms:.1} ms)",
            "msm",
            cpu_ms / gpu_ms
        );
        let small: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 4096 - 2048).collect();
        let (cpu, cpu_ms) = time(|| CpuBackend.msm_small(&small, bases));
        let (got, first_ms) = time(|| gpu.msm_small(&small, bases));
        assert_eq!(got, cpu, "msm_small 2^{log_n}");
        let (got, gpu_ms) = time(|| gpu.msm_small(&small, bases));
        assert_eq!(got, cpu, "msm_small 2^{log_n}");
        println!(
            "{:<10} {log_n:>6} {cpu_ms:>12.1} {gpu_ms:>12.1} {:>8.2}   (first GPU call {first_ms:.1} ms)",
            "msm_small",
            cpu_ms / gpu_ms
        );
        let mut omega = Fp::ROOT_OF_UNITY;
        for _ in log_n..Fp::S {
            omega = omega.square();
        }
        let mut cpu_values = scalars.clone();
        let mut gpu_values = scalars;
        let ((), cpu_ms) = time(|| CpuBackend.fft(&mut cpu_values, omega, log_n));
        let ((), gpu_ms) = time(|| gpu.fft(&mut gpu_values, omega, log_n));
        assert!(cpu_values == gpu_values, "fft 2^{log_n}");
        println!("{:<10} {log_n:>6} {cpu_ms:>12.1} {gpu_ms:>12.1} {:>8.2}", "fft", cpu_ms / gpu_ms);
        let challenge = Fp::random(&mut rng);
        let (mut cpu_g, mut gpu_g) = (bases.to_vec(), bases.to_vec());
        let ((), cpu_ms) = time(|| CpuBackend.fold_generators(&mut cpu_g, challenge));
        let ((), gpu_ms) = time(|| gpu.fold_generators(&mut gpu_g, challenge));
        assert!(cpu_g == gpu_g, "fold 2^{log_n}");
        println!("{:<10} {log_n:>6} {cpu_ms:>12.1} {gpu_ms:>12.1} {:>8.2}", "fold", cpu_ms / gpu_ms);
    }
}

/// Point additions and Fq products per second with no memory traffic (each thread a chain of
/// `ROUNDS` in registers), against which the MSM's bucket sums can be read.
fn in_registers(gpu: &GpuBackend, max_log: u32, rng: &mut StdRng) {
    const ROUNDS: u32 = 32;
    const PAIRS: usize = 64;
    let p = points(2 * PAIRS, rng);
    let pairs: Vec<(EqAffine, EqAffine)> = p.chunks_exact(2).map(|c| (c[0], c[1])).collect();
    let threads = 1u32 << max_log;
    // The first call compiles the kernels.
    let _ = zkinfer_gpu::chains(gpu.context(), &pairs[..1], 1, 1).unwrap();
    let chains = zkinfer_gpu::chains(gpu.context(), &pairs, threads, ROUNDS).unwrap();
    let (a, b) = pairs[PAIRS - 1];
    let expected = Eq::from(a) + Eq::from(b) * Fp::from(u64::from(ROUNDS));
    assert_eq!(chains.sums[PAIRS - 1], expected, "add chain");
    assert_eq!(chains.mixed_sums[PAIRS - 1], expected, "mixed add chain");
    let work = f64::from(threads) * f64::from(ROUNDS);
    println!(
        "in registers, {threads} threads x {ROUNDS}: point additions {:.1} M/s, mixed {:.1} M/s, Fq products {:.0} M/s",
        work / chains.add_seconds / 1e6,
        work / chains.mixed_seconds / 1e6,
        work / chains.mul_seconds / 1e6
    );
}
