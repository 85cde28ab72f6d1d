//! Full-width MSM: halo2's `best_multiexp` against the engine's batch-affine Pippenger
//! ([`zkinfer_engine::msm::batch_affine`]) on random scalars, 2^6 to 2^16 terms.
//! `cargo bench -p zkinfer-engine --bench msm`

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ff::Field;
use group::{Curve, Group};
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::msm::batch_affine;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("msm_full_width");
    group.sample_size(10);
    let mut rng = StdRng::seed_from_u64(7);
    let largest = 16u32;
    let g = Eq::random(&mut rng);
    let mut bases_projective = vec![g; 1 << largest];
    for i in 1..bases_projective.len() {
        bases_projective[i] = bases_projective[i - 1].double() + g;
    }
    let mut bases = vec![EqAffine::default(); bases_projective.len()];
    Eq::batch_normalize(&bases_projective, &mut bases);
    let scalars: Vec<Fp> = (0..bases.len()).map(|_| Fp::random(&mut rng)).collect();
    for log_n in [6u32, 8, 10, 12, 14, 16] {
        let n = 1usize << log_n;
        let (s, b) = (&scalars[..n], &bases[..n]);
        group.bench_function(format!("halo2_best_multiexp/2^{log_n}"), |bench| {
            bench.iter(|| halo2_proofs::arithmetic::best_multiexp(s, b))
        });
        let chosen = batch_affine::window_bits(n);
        for window in [chosen - 1, chosen, chosen + 1].into_iter().filter(|w| batch_affine::WINDOW_BITS.contains(w)) {
            let label = if window == chosen {
                format!("batch_affine/2^{log_n}")
            } else {
                format!("batch_affine_c{window}/2^{log_n}")
            };
            group.bench_function(label, |bench| bench.iter(|| batch_affine::msm_with_window(s, b, window)));
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
