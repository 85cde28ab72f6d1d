//! The engine against the stock halo2 prover, the oracle it must equal:
//! - its keygen gives the verifying key stock `keygen_vk` gives (the same pinned text, so the
//!   same circuit identity and transcript representation), for zoo models and test fixtures in
//!   the planner's layout and both linear layouts;
//! - its proofs are the stock prover's bytes with the same seeded RNG, and verify.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use halo2_proofs::plonk::keygen_vk;
use zkinfer_circuits::layout::{ClampForm, FunctionTables, LinearLayout};
use zkinfer_circuits::{ModelCircuit, compile, plan, with_layout};
use zkinfer_models::data::InputData;
use zkinfer_models::{QuantizedModel, onnx, quantize};
use zkinfer_prover::params::ParamsCache;

fn quantized(name: &str) -> QuantizedModel {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    quantize::quantize(&graph, &cal, &Default::default()).unwrap()
}

fn check(name: &str) {
    let model = quantized(name);
    let mut plans = vec![plan::plan(&model).unwrap()];
    for linear in LinearLayout::ALL {
        for tables in FunctionTables::ALL {
            for clamps in ClampForm::ALL {
                let p = plan::plan_with_lanes(&model, linear, 16, tables, clamps).unwrap();
                if !plans.iter().any(|q| q.layout == p.layout) {
                    plans.push(p);
                }
            }
        }
    }
    for p in plans {
        let (spec, _) = compile::compile(&model, p.layout, None).unwrap();
        let params = common::params(p.k);
        let t = Instant::now();
        let stock =
            with_layout(p.layout, || keygen_vk(&params, &ModelCircuit::new(Arc::new(spec.clone()), None))).unwrap();
        let stock_time = t.elapsed();
        let t = Instant::now();
        let (keys, commitments) = zkinfer_engine::keygen::keygen(&params, &spec).unwrap();
        let own_time = t.elapsed();
        println!(
            "{name} {:?} lanes={} k={}: stock keygen_vk {:.0} ms, engine {:.0} ms",
            p.layout.linear,
            p.layout.lanes,
            p.k,
            stock_time.as_secs_f64() * 1e3,
            own_time.as_secs_f64() * 1e3
        );
        assert!(
            format!("{:?}", stock.pinned()) == keys.pinned_text(&commitments),
            "{name} {:?}: the engine's verifying key differs from stock keygen's",
            p.layout
        );
    }
}

#[test]
fn digits_mlp() {
    check("digits_mlp");
}

#[test]
fn digits_cnn() {
    check("digits_cnn");
}

#[test]
fn fixture_activations() {
    check("fixture_activations");
}

#[test]
fn fixture_conv() {
    check("fixture_conv");
}

#[test]
fn fixture_qdq_mlp() {
    check("fixture_qdq_mlp");
}

/// Whole proofs: the engine's bytes equal the stock prover's with the same seeded RNG, and the
/// stock verifier (through zkinfer's verifier) accepts them.
#[test]
fn the_engines_proofs_equal_the_stock_provers() {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use zkinfer_engine::prover::{ProvingKey, prove};
    for name in ["digits_mlp", "digits_cnn", "fixture_activations", "fixture_conv", "fixture_qdq_mlp"] {
        let model = quantized(name);
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
        let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
        let shape = model.tensor(model.input).shape.clone();
        let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
        let (compiled, p) = zkinfer_prover::compile_model(model, name, Default::default()).unwrap();
        let cache = ParamsCache::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params"));
        let loaded = cache.load_or_generate(p.k).unwrap();
        let stock = zkinfer_prover::Prover::new(compiled.clone(), loaded.params.clone(), loaded.hash).unwrap();
        let t = Instant::now();
        let proof = stock.prove(&input[0], &mut StdRng::seed_from_u64(9)).unwrap();
        let stock_time = t.elapsed();

        let trace = compiled.model.run(&input[0]).unwrap();
        let (spec, witness) = compile::compile(&compiled.model, compiled.layout, Some(&trace)).unwrap();
        let pk = ProvingKey::new(&loaded.params, &spec).unwrap();
        let t = Instant::now();
        let ours = prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(9)).unwrap();
        let engine_time = t.elapsed();
        println!(
            "{name}: engine proof {:.0} ms, stock create_proof + self-check {:.0} ms, {} bytes",
            engine_time.as_secs_f64() * 1e3,
            stock_time.as_secs_f64() * 1e3,
            ours.len()
        );
        let same = ours.iter().zip(&proof.envelope.proof).take_while(|(a, b)| a == b).count();
        assert_eq!(
            (same, ours.len()),
            (proof.envelope.proof.len(), proof.envelope.proof.len()),
            "{name}: the engine's proof differs from byte {same}"
        );
        let mut envelope = proof.envelope.clone();
        envelope.proof = ours;
        let verifier = zkinfer_verifier::Verifier::new(compiled, loaded.params, loaded.hash).unwrap();
        verifier.verify(&envelope).expect("the stock verifier accepts the engine's proof");
    }
}

/// A witness that fails a gate is refused before proving, naming the relation.
#[test]
fn an_unsatisfied_witness_is_refused_before_proving() {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use zkinfer_engine::EngineError;
    use zkinfer_engine::prover::{ProvingKey, prove_checked};
    let model = quantized("digits_mlp");
    let p = plan::plan(&model).unwrap();
    let (spec, mut witness) = compile::compile(&model, p.layout, None).unwrap();
    let pk = ProvingKey::new(&common::params(p.k), &spec).unwrap();
    prove_checked(&pk, &spec, &witness, &mut StdRng::seed_from_u64(1)).expect("the all-zero input's witness proves");
    // The accumulator of the last row of the first multiply-accumulate chain, one higher.
    let q_mac = p.layout.fixed(zkinfer_circuits::layout::NamedFixed::QMac);
    let row = (0..spec.rows).find(|&r| spec.fixed[q_mac][r] == 1).unwrap();
    witness.advice[p.layout.acc()][row] += 1;
    match prove_checked(&pk, &spec, &witness, &mut StdRng::seed_from_u64(1)) {
        Err(EngineError::Unsatisfied { first, .. }) => assert!(first.contains("gate 'linear'"), "{first}"),
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.len())),
    }
}
