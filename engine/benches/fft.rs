//! FFT: halo2's `best_fft` against the engine's ([`zkinfer_engine::fft`]) at 2^14 and 2^16
//! (a LeNet-sized domain and its extended domain), and both on 2^14 coefficients padded with
//! zeros to 2^16 (a column moved onto the extended coset). `cargo bench -p zkinfer-engine --bench fft`

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::fft::{TWIDDLES, fft};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fft");
    group.sample_size(10);
    let mut rng = StdRng::seed_from_u64(5);
    // (log2 of the length, log2 of the non-zero coefficients at its start).
    for (log_n, log_coefficients) in [(14u32, 14u32), (16, 16), (16, 14)] {
        let omega = Fp::ROOT_OF_UNITY.pow_vartime([1u64 << (Fp::S - log_n)]);
        let mut values: Vec<Fp> = (0..1usize << log_coefficients).map(|_| Fp::random(&mut rng)).collect();
        values.resize(1 << log_n, Fp::ZERO);
        let size = if log_coefficients == log_n {
            format!("2^{log_n}")
        } else {
            format!("2^{log_n} padded from 2^{log_coefficients}")
        };
        group.bench_function(format!("halo2_best_fft/{size}"), |b| {
            b.iter_batched_ref(
                || values.clone(),
                |v| halo2_proofs::arithmetic::best_fft(v, omega, log_n),
                criterion::BatchSize::LargeInput,
            )
        });
        group.bench_function(format!("engine/{size}"), |b| {
            b.iter_batched_ref(|| values.clone(), |v| fft(&TWIDDLES, v, omega, log_n), criterion::BatchSize::LargeInput)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
