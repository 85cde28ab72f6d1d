//! Models as a real converter writes them (skl2onnx, from scikit-learn estimators trained on data
//! that ships with scikit-learn, onnxruntime's static quantizer in its QDQ format, per tensor
//! and per channel, and in its QOperator format, and its dynamic quantizer;
//! `tests/converters/build_converters.py`): a dynamic batch dimension, Casts, ArgMax →
//! ArrayFeatureExtractor, two outputs, QuantizeLinear/DequantizeLinear pairs,
//! DynamicQuantizeLinear with MatMulInteger and ConvInteger; and PyTorch's `torch.onnx.export`,
//! `tests/converters/build_torch.py`: shape arithmetic, Resize, ConvTranspose, SiLU, Hardswish;
//! and tf2onnx's conversion of Keras models, `build_tf.py`: NHWC inputs, MatMul + Add,
//! GlobalAveragePool, Squeeze, Softmax, Tanh, Sigmoid). Each imports (batch 1), its
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
/// Float agreement with onnxruntime for dynamically quantized models, as a fraction of the
/// output's largest magnitude: onnxruntime rounds each activation on a 256-step grid over its
/// own range (at most half a step, 0.2% of the range, per layer), which the imported float graph
/// leaves out (zkinfer's calibrated grid takes its place).
const DYNAMIC_GRID_TOLERANCE: f32 = 0.01;

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
                let largest = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
                for (g, w) in got.iter().zip(want) {
                    let tolerance = if name.starts_with("ort_dyn_") {
                        DYNAMIC_GRID_TOLERANCE * largest
                    } else {
                        FLOAT_TOLERANCE * (1.0 + w.abs())
                    };
                    assert!((g - w).abs() <= tolerance, "{name}: output {k}: {got:?} / {want:?}");
                }
            }
        }
        let calibration = InputData::from_file(&path(name, ".calibration.json")).unwrap().samples(&shape).unwrap();
        let model = quantize(&graph, &calibration, &QuantSettings::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The integer model's first output against onnxruntime's: the same label for the
        // classifier on most samples, a value within a few hundredths for the regressor, the
        // same argmax for the quantized digit models' logits.
        let mut agree = 0;
        let argmax = |v: &mut dyn Iterator<Item = f64>| {
            v.enumerate().fold((0, f64::NEG_INFINITY), |best, (i, x)| if x > best.1 { (i, x) } else { best }).0
        };
        for (input, outputs) in expected.inputs.iter().zip(&expected.outputs) {
            let x = ArrayD::from_shape_vec(IxDyn(&shape), input.clone()).unwrap();
            let trace = model.run(&x).unwrap();
            let got = model.output_real(&trace, model.outputs[0]);
            let close = if got.len() > 1 {
                argmax(&mut got.iter().copied()) == argmax(&mut outputs[0].iter().map(|&w| f64::from(w)))
            } else {
                got.iter().zip(&outputs[0]).all(|(g, &w)| (g - f64::from(w)).abs() < 0.05)
            };
            agree += usize::from(close);
        }
        assert!(agree * 10 >= expected.inputs.len() * 9, "{name}: {agree} of {} samples agree", expected.inputs.len());
    }
}

/// A classifier's label output (ArgMax, then a Reshape) is judged by its scores: the fidelity
/// report compares the logits and counts the samples whose label differs, rather than taking
/// the argmax of the one-element label tensor (always 0, so always "agreeing").
#[test]
fn a_label_output_is_judged_by_its_scores() {
    let name = "skl_mlp_classifier";
    let options = ImportOptions { batch: Some(1), ..Default::default() };
    let graph = import_file(&path(name, ".onnx"), &options).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let samples = InputData::from_file(&path(name, ".calibration.json")).unwrap().samples(&shape).unwrap();
    let model = quantize(&graph, &samples, &QuantSettings::default()).unwrap();
    let report = zkinfer_models::fidelity::fidelity(&graph, &model, &samples);
    let label = graph.tensor(graph.outputs[0]);
    assert_eq!(label.shape.iter().product::<usize>(), 1, "the first output is the label");
    assert_ne!(report.outputs[0].tensor, label.name, "the label's scores are compared, not the label");
    let labels_differ = samples
        .iter()
        .filter(|s| {
            let float = graph.evaluate((*s).clone());
            let quantized = model.run(s).unwrap();
            float.get(graph.outputs[0]).iter().next().map(|&v| v as f64)
                != model.output_real(&quantized, model.outputs[0]).iter().next().copied()
        })
        .count();
    let disagree = report.predictions.iter().filter(|(f, q)| Some(*f) != *q).count();
    assert_eq!(disagree, labels_differ, "argmax agreement counts the samples whose label differs");
}
