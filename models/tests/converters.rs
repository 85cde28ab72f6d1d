//! Models as a real converter writes them (skl2onnx, from scikit-learn estimators trained on data
//! that ships with scikit-learn; `tests/converters/build_converters.py`): a dynamic batch
//! dimension, Casts, ArgMax → ArrayFeatureExtractor, two outputs. Each imports (batch 1), its
//! float graph agrees with onnxruntime, and its quantized model keeps the answers.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::{CONVERTED, expected, path};
use ndarray::{ArrayD, IxDyn};
use zkinfer_models::data::InputData;
use zkinfer_models::onnx::{ImportOptions, import_file};
use zkinfer_models::quantize::{QuantSettings, quantize};

/// Float agreement with onnxruntime (same arithmetic, another summation order).
const FLOAT_TOLERANCE: f32 = 1e-4;

#[test]
fn converted_models_import_agree_with_onnxruntime_and_quantize() {
    let options = ImportOptions { batch: Some(1), ..Default::default() };
    for &name in CONVERTED {
        let graph = import_file(&path(name, ".onnx"), &options).unwrap_or_else(|e| panic!("{name}: {e}"));
        let shape = graph.tensor(graph.input).shape.clone();
        let expected = expected(name);
        assert_eq!(graph.outputs.len(), expected.outputs[0].len(), "{name}: outputs");
        for (input, outputs) in expected.inputs.iter().zip(&expected.outputs) {
            let x = ArrayD::from_shape_vec(IxDyn(&shape), input.clone()).unwrap();
            let trace = graph.evaluate(x);
            for (k, want) in outputs.iter().enumerate() {
                let got: Vec<f32> = trace.get(graph.outputs[k]).iter().copied().collect();
                assert_eq!(got.len(), want.len(), "{name}: output {k}");
                for (g, w) in got.iter().zip(want) {
                    assert!(
                        (g - w).abs() <= FLOAT_TOLERANCE * (1.0 + w.abs()),
                        "{name}: output {k}: {got:?} / {want:?}"
                    );
                }
            }
        }
        let calibration = InputData::from_file(&path(name, ".calibration.json")).unwrap().samples(&shape).unwrap();
        let model = quantize(&graph, &calibration, &QuantSettings::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The integer model's first output against onnxruntime's: the same label for the
        // classifier on most samples, a value within a few hundredths for the regressor.
        let mut agree = 0;
        for (input, outputs) in expected.inputs.iter().zip(&expected.outputs) {
            let x = ArrayD::from_shape_vec(IxDyn(&shape), input.clone()).unwrap();
            let trace = model.run(&x).unwrap();
            let got = model.output_real(&trace, model.outputs[0]);
            let close = got.iter().zip(&outputs[0]).all(|(g, &w)| (g - f64::from(w)).abs() < 0.05);
            agree += usize::from(close);
        }
        assert!(agree * 10 >= expected.inputs.len() * 9, "{name}: {agree} of {} samples agree", expected.inputs.len());
    }
}
