//! Times each proving stage of the engine on a zoo model or fixture (wall time, CPU time over
//! all threads and how many threads that kept busy, and the backend's primitives):
//! `cargo run --release -p zkinfer-engine --example stages -- fixture_activations`
//!
//! The models and the params cache are found under the current directory when it is the
//! repository's root (a binary carried to another machine), else under the repository the example
//! was built in.

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

/// The current directory when it holds the zoo, else the repository this example was built in.
fn repository_root() -> PathBuf {
    let current = std::env::current_dir().unwrap();
    if current.join("models/zoo").is_dir() { current } else { PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..") }
}

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "digits_mlp".into());
    let repository = repository_root();
    let root = repository.join("models");
    let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    let model = quantize::quantize(&graph, &cal, &Default::default()).unwrap();
    let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
    let (compiled, p) = zkinfer_prover::compile_model(model, &name, Default::default()).unwrap();
    let cache = zkinfer_prover::params::ParamsCache::new(repository.join("target/zkinfer-params"));
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
    let (t, cpu) = (Instant::now(), cpu_ms());
    let mut c = commit_all(&pk, &spec, &wit, rng, &mut tr).unwrap();
    println!("stages 1-3 (witness, lookups, products) {}{}", spent(t, cpu), primitives(&timed));
    let (t, cpu) = (Instant::now(), cpu_ms());
    let random = vanishing::commit_random(&pk, rng, &mut tr).unwrap();
    c.challenges.y = zkinfer_engine::prover::challenge(&mut tr);
    let polys = WitnessPolys::new(&pk, &c);
    let q = vanishing::commit_quotient(&pk, &spec, &polys, c.challenges, rng, &mut tr).unwrap();
    println!("stage 4 (quotient) {}{}", spent(t, cpu), primitives(&timed));
    let (t, cpu) = (Instant::now(), cpu_ms());
    let stages = ThroughQuotient { committed: c, polys, random, quotient: q };
    opening::evaluate_and_open(&pk, &spec, &stages, rng, &mut tr).unwrap();
    println!("stage 5 (evaluations, opening) {}{}", spent(t, cpu), primitives(&timed));
}

/// The process's CPU time (all threads, user and system) in milliseconds, from
/// `/proc/self/stat` (Linux; `None` elsewhere). Its resolution is the kernel's tick (10 ms).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 * 1e3 / TICKS_PER_SECOND)
}

/// The kernel's clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// `412 ms (cpu 790 ms, 1.9 threads busy)`: the wall time since `start` and, where known, the
/// CPU time since `cpu`, which says how much of the stage runs on one thread.
fn spent(start: Instant, cpu: Option<f64>) -> String {
    let wall = start.elapsed().as_secs_f64() * 1e3;
    match (cpu, cpu_ms()) {
        (Some(before), Some(now)) => {
            format!("{wall:.0} ms (cpu {:.0} ms, {:.1} threads busy)", now - before, (now - before) / wall)
        }
        _ => format!("{wall:.0} ms"),
    }
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
