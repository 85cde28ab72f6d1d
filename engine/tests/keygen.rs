//! The engine's keygen gives the verifying key stock `keygen_vk` gives: the same pinned text
//! (so the same circuit identity and transcript representation), for every zoo model and test
//! fixture in the planner's layout and both linear layouts.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::plonk::keygen_vk;
use halo2_proofs::poly::commitment::Params;
use zkinfer_circuits::layout::LinearLayout;
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

fn params(k: u32) -> Params<EqAffine> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params");
    ParamsCache::new(root).load_or_generate(k).unwrap().params
}

fn check(name: &str) {
    let model = quantized(name);
    let mut plans = vec![plan::plan(&model).unwrap()];
    for linear in LinearLayout::ALL {
        plans.push(plan::plan_with_lanes(&model, linear, 16).unwrap());
    }
    for p in plans {
        let (spec, _) = compile::compile(&model, p.layout, None).unwrap();
        let params = params(p.k);
        let t = Instant::now();
        let stock = with_layout(p.layout, || keygen_vk(&params, &ModelCircuit::new(Arc::new(spec.clone()), None)))
            .unwrap();
        let stock_time = t.elapsed();
        let t = Instant::now();
        let keys = zkinfer_engine::keygen::keygen(&params, &spec).unwrap();
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
            format!("{:?}", stock.pinned()) == keys.pinned_text(),
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
