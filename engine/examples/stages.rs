//! Times each proving stage of the engine on a zoo model or fixture:
//! `cargo run --release -p zkinfer-engine --example stages -- fixture_activations`

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_engine::backend::{CpuBackend, TimedBackend};
use zkinfer_engine::prover::{
    ProofTranscript, ProvingKey, ThroughQuotient, WitnessPolys, commit_all, opening, vanishing,
};
use zkinfer_models::data::InputData;
use zkinfer_models::{onnx, quantize};

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "digits_mlp".into());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    let model = quantize::quantize(&graph, &cal, &Default::default()).unwrap();
    let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
    let (compiled, p) = zkinfer_prover::compile_model(model, &name, Default::default()).unwrap();
    let cache = zkinfer_prover::params::ParamsCache::new(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params"),
    );
    let params = cache.load_or_generate(p.k).unwrap().params;
    let trace = compiled.model.run(&input[0]).unwrap();
    let (spec, wit) = zkinfer_circuits::compile::compile(&compiled.model, compiled.layout, Some(&trace)).unwrap();
    let t = Instant::now();
    let keys = zkinfer_engine::keygen::assemble(&params, &spec).unwrap();
    let assembled = t.elapsed();
    let t = Instant::now();
    let points = zkinfer_engine::params::ParamsData::new(&params).unwrap();
    let read = t.elapsed();
    let t = Instant::now();
    keys.commit(&points, &CpuBackend);
    println!(
        "keygen parts: columns and permutation {:.0} ms, params' points {:.0} ms, commitments {:.0} ms",
        assembled.as_secs_f64() * 1e3,
        read.as_secs_f64() * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let timed = Arc::new(TimedBackend::new(CpuBackend));
    let pk = ProvingKey::new(&params, &spec).unwrap().with_backend(timed.clone());
    println!(
        "{name} k={} degree={} extended={} advice={} lookups={}: keygen {:.0} ms",
        p.k,
        pk.keys.cs.degree(),
        pk.keys.domain.extended_len() >> p.k,
        spec.layout.advice_columns(),
        p.lookups,
        t.elapsed().as_secs_f64() * 1e3
    );
    let rng = &mut StdRng::seed_from_u64(1);
    let mut tr = ProofTranscript::init(Vec::new());
    let t = Instant::now();
    let mut c = commit_all(&pk, &spec, &wit, rng, &mut tr).unwrap();
    println!("stages 1-3 (witness, lookups, products) {:.0} ms{}", t.elapsed().as_secs_f64() * 1e3, primitives(&timed));
    let t = Instant::now();
    let random = vanishing::commit_random(&pk, rng, &mut tr).unwrap();
    c.challenges.y = zkinfer_engine::prover::challenge(&mut tr);
    let polys = WitnessPolys::new(&pk, &c);
    let q = vanishing::commit_quotient(&pk, &spec, &polys, c.challenges, rng, &mut tr).unwrap();
    println!("stage 4 (quotient) {:.0} ms{}", t.elapsed().as_secs_f64() * 1e3, primitives(&timed));
    let t = Instant::now();
    let stages = ThroughQuotient { committed: c, polys, random, quotient: q };
    opening::evaluate_and_open(&pk, &spec, &stages, rng, &mut tr).unwrap();
    println!("stage 5 (evaluations, opening) {:.0} ms{}", t.elapsed().as_secs_f64() * 1e3, primitives(&timed));
}

/// The backend's figures since the last call (` (in the backend: msm 12x 340 ms, ...)`), then reset.
fn primitives(timed: &TimedBackend<CpuBackend>) -> String {
    let parts: Vec<String> = timed
        .usage()
        .into_iter()
        .filter(|(_, u)| u.calls > 0)
        .map(|(p, u)| format!("{} {}x {:.0} ms", p.name(), u.calls, u.time.as_secs_f64() * 1e3))
        .collect();
    timed.reset();
    if parts.is_empty() { String::new() } else { format!(" (in the backend: {})", parts.join(", ")) }
}
