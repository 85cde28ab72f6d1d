//! Helpers shared by the integration tests: paths to committed models and their JSON files.
#![allow(dead_code)]

pub mod proto;

use std::path::PathBuf;

use ndarray::ArrayD;
use serde::Deserialize;
use zkinfer_models::data::InputData;
use zkinfer_models::quantize::{QuantSettings, quantize};
use zkinfer_models::{Graph, QuantizedModel, onnx};

pub const ZOO: &[&str] =
    &["digits_mlp", "digits_cnn", "mlp_784_128_10", "lenet_28", "digits_mlp_sigmoid", "digits_mlp_tanh"];
pub const FIXTURES: &[&str] = &["fixture_activations", "fixture_conv", "fixture_nhwc", "fixture_qdq_mlp"];
/// Models written by real converters (`tests/converters/build_converters.py`).
pub const CONVERTED: &[&str] = &[
    "skl_mlp_classifier",
    "skl_mlp_regressor",
    "ort_qdq_digits_mlp",
    "ort_qdq_digits_cnn",
    "ort_qop_digits_cnn",
    "ort_dyn_digits_mlp",
    "ort_dyn_digits_cnn",
    "torch_digits_cnn",
    "torch_digits_mix",
    "torch_digits_cnn_dynamo",
    "torch_digits_mix_dynamo",
    "tf_digits_cnn",
    "tf_digits_mlp",
];

pub fn dir_of(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if name.starts_with("fixture_") || name.starts_with("bad_") {
        root.join("tests/fixtures")
    } else if ["skl_", "ort_", "torch_", "tf_"].iter().any(|p| name.starts_with(p)) {
        root.join("tests/converters")
    } else {
        root.join("zoo")
    }
}

pub fn path(name: &str, suffix: &str) -> PathBuf {
    dir_of(name).join(format!("{name}{suffix}"))
}

pub fn import(name: &str) -> Graph {
    onnx::import_file(&path(name, ".onnx"), &Default::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn samples(graph: &Graph, file: &std::path::Path) -> Vec<ArrayD<f32>> {
    InputData::from_file(file).and_then(|d| d.samples(&graph.tensor(graph.input).shape)).expect("sample file")
}

pub fn quantized(name: &str) -> (Graph, QuantizedModel) {
    let graph = import(name);
    let calibration = samples(&graph, &path(name, ".calibration.json"));
    let model = quantize(&graph, &calibration, &QuantSettings::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    (graph, model)
}

/// onnxruntime's outputs for the samples, as committed by build_zoo.py.
#[derive(Deserialize)]
pub struct Expected {
    pub inputs: Vec<Vec<f32>>,
    pub outputs: Vec<Vec<Vec<f32>>>,
}

pub fn expected(name: &str) -> Expected {
    serde_json::from_slice(&std::fs::read(path(name, ".expected.json")).expect("expected file")).expect("json")
}

/// The digits test split with labels.
#[derive(Deserialize)]
pub struct LabelledData {
    pub input_data: Vec<Vec<f32>>,
    pub labels: Vec<usize>,
}

pub fn digits_test() -> LabelledData {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("zoo/data/digits_test.json");
    serde_json::from_slice(&std::fs::read(p).expect("digits test split")).expect("json")
}
