//! Every zoo model and test fixture compiles, and MockProver accepts the honest witness; the
//! circuit's public outputs equal the interpreter's outputs bit for bit; tampering is caught.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use zkinfer_circuits::constraints::check::{Failure, check_witness};
use zkinfer_circuits::layout::{ClampForm, FunctionTables, LinearLayout};
use zkinfer_circuits::{compile, mock_prove, plan};
use zkinfer_models::data::InputData;
use zkinfer_models::quantize::{QuantSettings, quantize};
use zkinfer_models::{QuantizedModel, onnx};

fn quantized(name: &str) -> (QuantizedModel, Vec<ndarray::ArrayD<f32>>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let dir = if name.starts_with("fixture_") {
        root.join("tests/fixtures")
    } else if name.starts_with("ort_") {
        root.join("tests/converters")
    } else {
        root.join("zoo")
    };
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).expect("import");
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json")))
        .and_then(|d| d.samples(&shape))
        .expect("calibration");
    let model = quantize(&graph, &cal, &QuantSettings::default()).expect("quantize");
    let inputs =
        InputData::from_file(&dir.join(format!("{name}.input.json"))).and_then(|d| d.samples(&shape)).expect("input");
    (model, inputs)
}

/// Checks the planner's layout and both linear layouts with 16 lanes.
fn check(name: &str) {
    let (model, inputs) = quantized(name);
    let p = plan::plan(&model).expect("plan");
    println!(
        "{name}: k={} rows={} {:?} lanes={} limbs={} advice={} fixed={} lookups={}",
        p.k, p.rows, p.layout.linear, p.layout.lanes, p.layout.limbs, p.advice_columns, p.fixed_columns, p.lookups
    );
    let mut layouts = vec![p.layout];
    check_with(name, &model, &inputs, p);
    for linear in LinearLayout::ALL {
        for tables in FunctionTables::ALL {
            for clamps in ClampForm::ALL {
                let p = plan::plan_with_lanes(&model, linear, 16, tables, clamps).expect("plan");
                if !layouts.contains(&p.layout) {
                    layouts.push(p.layout);
                    check_with(name, &model, &inputs, p);
                }
            }
        }
    }
}

fn check_with(name: &str, model: &QuantizedModel, inputs: &[ndarray::ArrayD<f32>], p: plan::Plan) {
    let trace = model.run(&inputs[0]).expect("interpret");
    let (spec, witness) = compile::compile(model, p.layout, Some(&trace)).expect("compile");
    assert_eq!(zkinfer_circuits::required_k(&spec), p.k);
    // Public values: the input, then every output, exactly as the interpreter computed them.
    let mut expected: Vec<i64> = trace.get(model.input).iter().copied().collect();
    for o in &model.outputs {
        expected.extend(trace.get(*o).iter().copied());
    }
    assert_eq!(witness.instance, expected, "{name}");
    mock_prove(&spec, &witness).unwrap_or_else(|f| panic!("{name}: {:?}", &f[..f.len().min(3)]));
    assert_eq!(check_witness(&spec, &witness), Ok(()), "{name}: the fast check of the constraint data");
    // Claiming a different output is rejected, by both.
    let mut forged = witness.clone();
    *forged.instance.last_mut().expect("outputs") += 1;
    assert!(mock_prove(&spec, &forged).is_err(), "{name}: a forged output must fail");
    assert!(
        matches!(check_witness(&spec, &forged).as_ref().map_err(Vec::as_slice), Err([Failure::Instance { .. }])),
        "{name}: the fast check names the broken binding"
    );
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
fn fixture_nhwc() {
    check("fixture_nhwc");
}

#[test]
fn fixture_qdq_mlp() {
    check("fixture_qdq_mlp");
}

/// onnxruntime's QDQ and QOperator CNNs: the input's clamp is its range, the activations'
/// clamps moved up to the convolution, each layout with them compared or in the rescale rows.
#[test]
fn onnxruntime_quantized_cnns() {
    for name in ["ort_qdq_digits_cnn", "ort_qop_digits_cnn", "ort_dyn_digits_cnn"] {
        check(name);
    }
}

#[test]
fn keygen_spec_does_not_depend_on_the_input() {
    let (model, inputs) = quantized("digits_cnn");
    let p = plan::plan(&model).expect("plan");
    let (without, _) = compile::compile(&model, p.layout, None).expect("compile");
    let trace = model.run(&inputs[0]).expect("interpret");
    let (with, _) = compile::compile(&model, p.layout, Some(&trace)).expect("compile");
    assert_eq!(without, with);
}
