//! Criterion benches of each phase on the zoo models: import + quantize, plan + compile,
//! params load, keygen, witness (interpreter + circuit assignment), prove, verify (the own
//! verifier from a bundle's bytes and with the key kept; the stock verifier with the
//! verifying-key rebuild and with the key kept).
//!
//! `cargo bench --bench phases` runs all; `cargo bench --bench phases -- mlp_784` one model.
//! Params are cached in `target/zkinfer-params` (generated on first use, not timed).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::{compile, plan};
use zkinfer_models::data::InputData;
use zkinfer_models::onnx;
use zkinfer_models::quantize::quantize;
use zkinfer_prover::params::ParamsCache;
use zkinfer_prover::{Prover, compile_model};
use zkinfer_verifier::Verifier;

const MODELS: &[&str] = &["digits_mlp", "digits_cnn", "mlp_784_128_10", "lenet_28"];

fn zoo(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/zoo").join(file)
}

fn phases(c: &mut Criterion) {
    let cache = ParamsCache::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/zkinfer-params"));
    for &name in MODELS {
        let mut g = c.benchmark_group(name);
        g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
        let onnx_path = zoo(&format!("{name}.onnx"));
        let calibration = InputData::from_file(&zoo(&format!("{name}.calibration.json"))).unwrap();
        let input = InputData::from_file(&zoo(&format!("{name}.input.json"))).unwrap();

        g.bench_function("import+quantize", |b| {
            b.iter(|| {
                let graph = onnx::import_file(&onnx_path, &Default::default()).unwrap();
                let samples = calibration.samples(&graph.tensor(graph.input).shape).unwrap();
                quantize(&graph, &samples, &Default::default()).unwrap()
            })
        });
        let graph = onnx::import_file(&onnx_path, &Default::default()).unwrap();
        let shape = graph.tensor(graph.input).shape.clone();
        let model = quantize(&graph, &calibration.samples(&shape).unwrap(), &Default::default()).unwrap();
        g.bench_function("plan+compile", |b| b.iter(|| plan::plan(&model).unwrap()));
        let (compiled, _) = compile_model(model.clone(), name, Default::default()).unwrap();
        let params = cache.load_or_generate(compiled.k).unwrap();
        g.bench_function("params load", |b| b.iter(|| cache.load_or_generate(compiled.k).unwrap()));
        g.bench_function("keygen", |b| {
            b.iter(|| Prover::new(compiled.clone(), params.params.clone(), params.hash).unwrap())
        });
        let x = input.samples(&shape).unwrap().remove(0);
        g.bench_function("witness", |b| {
            b.iter(|| {
                let trace = model.run(&x).unwrap();
                compile::compile(&model, compiled.layout, Some(&trace)).unwrap()
            })
        });
        let prover = Prover::new(compiled.clone(), params.params.clone(), params.hash).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        g.bench_function("prove", |b| b.iter(|| prover.prove(&x, &mut rng).unwrap()));
        let proof = prover.prove(&x, &mut rng).unwrap();
        let bundle = prover.bundle(&params.params, &[]).unwrap().to_bytes().unwrap();
        g.bench_function("verify (own verifier, from the bundle's bytes)", |b| {
            b.iter(|| Verifier::from_bundle_bytes(&bundle).unwrap().verify(&proof.envelope).unwrap())
        });
        let own = Verifier::from_bundle_bytes(&bundle).unwrap();
        g.bench_function("verify (own verifier, key kept)", |b| b.iter(|| own.verify(&proof.envelope).unwrap()));
        g.bench_function("verify (stock, with key rebuild)", |b| {
            b.iter(|| {
                Verifier::new(compiled.clone(), params.params.clone(), params.hash)
                    .unwrap()
                    .verify(&proof.envelope)
                    .unwrap()
            })
        });
        let verifier = Arc::new(Verifier::new(compiled.clone(), params.params.clone(), params.hash).unwrap());
        g.bench_function("verify (stock, key kept)", |b| b.iter(|| verifier.verify(&proof.envelope).unwrap()));
        g.finish();
    }
}

criterion_group!(benches, phases);
criterion_main!(benches);
