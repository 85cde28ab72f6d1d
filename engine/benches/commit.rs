//! Committing one advice column: halo2's `commit_lagrange` (255-bit scalars) against the
//! engine's small-scalar commitment, for 12-bit witness values at k = 10, 12, 14.
//! `cargo bench -p zkinfer-engine --bench commit`

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ff::Field;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::EvaluationDomain;
use halo2_proofs::poly::commitment::{Blind, Params};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::msm::commit_mixed;
use zkinfer_engine::params::ParamsData;

/// Rows at the end of a column that hold random blinding values (as in the model circuits).
const BLINDING_ROWS: usize = 6;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("commit_column");
    group.sample_size(10);
    for k in [10u32, 12, 14] {
        let params = Params::<EqAffine>::new(k);
        let data = ParamsData::new(&params).unwrap();
        let n = 1usize << k;
        let mut rng = StdRng::seed_from_u64(k.into());
        let small: Vec<i64> = (0..n - BLINDING_ROWS).map(|i| ((i as i64 * 2654435761) % 4096) - 2048).collect();
        let rest: Vec<Fp> = (0..BLINDING_ROWS).map(|_| Fp::random(&mut rng)).collect();
        let blind = Fp::random(&mut rng);
        let domain = EvaluationDomain::<Fp>::new(1, k);
        let mut poly = domain.empty_lagrange();
        for (p, v) in
            poly.iter_mut().zip(small.iter().map(|&v| zkinfer_circuits::to_field::<Fp>(v)).chain(rest.iter().copied()))
        {
            *p = v;
        }
        group.bench_function(format!("halo2_commit_lagrange/k{k}"), |b| {
            b.iter(|| params.commit_lagrange(&poly, Blind(blind)))
        });
        group.bench_function(format!("small_scalar/k{k}"), |b| {
            b.iter(|| {
                commit_mixed(&zkinfer_engine::backend::CpuBackend, &data.g_lagrange, data.w, &small, &rest, blind)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
