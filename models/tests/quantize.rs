//! Quantization and the integer interpreter on the zoo and the fixtures: fidelity on the
//! digits test split, determinism, serialization, and range errors.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use zkinfer_models::fidelity::fidelity;
use zkinfer_models::{InterpretError, ModelFormatError, QuantizedModel};

fn digits_report(name: &str) -> (f64, f64, f64) {
    let (graph, model) = quantized(name);
    let data = digits_test();
    let shape = graph.tensor(graph.input).shape.clone();
    let samples: Vec<_> =
        data.input_data.iter().map(|x| ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).expect("shape")).collect();
    let report = fidelity(&graph, &model, &samples);
    assert_eq!(report.refused, 0, "{name}: no test sample leaves the calibrated ranges");
    let n = data.labels.len() as f64;
    let float_acc = report.predictions.iter().zip(&data.labels).filter(|((f, _), y)| f == *y).count() as f64 / n;
    let quant_acc =
        report.predictions.iter().zip(&data.labels).filter(|((_, q), y)| *q == Some(**y)).count() as f64 / n;
    println!(
        "{name}: {} test samples, argmax agreement {:.2}%, accuracy float {:.2}% quantized {:.2}%",
        data.labels.len(),
        100.0 * report.argmax_agreement,
        100.0 * float_acc,
        100.0 * quant_acc
    );
    (report.argmax_agreement, float_acc, quant_acc)
}

#[test]
fn digits_mlp_keeps_its_accuracy() {
    let (agreement, float_acc, quant_acc) = digits_report("digits_mlp");
    assert!(agreement >= 0.99, "argmax agreement {agreement}");
    assert!((float_acc - quant_acc).abs() <= 0.01, "float {float_acc} vs quantized {quant_acc}");
}

#[test]
fn digits_cnn_keeps_its_accuracy() {
    let (agreement, float_acc, quant_acc) = digits_report("digits_cnn");
    assert!(agreement >= 0.99, "argmax agreement {agreement}");
    assert!((float_acc - quant_acc).abs() <= 0.01, "float {float_acc} vs quantized {quant_acc}");
}

#[test]
fn every_model_quantizes_and_agrees_with_its_float_graph() {
    for name in ZOO.iter().chain(FIXTURES) {
        let (graph, model) = quantized(name);
        let exp = expected(name);
        let shape = graph.tensor(graph.input).shape.clone();
        let samples: Vec<_> =
            exp.inputs.iter().map(|x| ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).expect("shape")).collect();
        let report = fidelity(&graph, &model, &samples);
        println!("{name}: agreement {:.3}, {:?}", report.argmax_agreement, report.outputs);
        assert_eq!(report.refused, 0, "{name}");
        assert!(report.argmax_agreement >= 0.9, "{name}: agreement {}", report.argmax_agreement);
    }
}

#[test]
fn interpreter_is_deterministic_and_survives_serialization() {
    for name in ZOO.iter().chain(FIXTURES) {
        let (graph, model) = quantized(name);
        let x = &samples(&graph, &path(name, ".input.json"))[0];
        let first = model.run(x).expect("in range");
        let second = model.run(x).expect("in range");
        assert_eq!(first, second, "{name}: same trace on repeated runs");
        let reread = QuantizedModel::from_json(&model.to_json()).expect("round trip");
        assert_eq!(reread, model, "{name}");
        assert_eq!(reread.run(x).expect("in range"), first, "{name}");
        // Every tensor of the trace has its declared shape.
        for (t, v) in model.tensors.iter().zip(&first.values) {
            assert_eq!(t.shape, v.shape(), "{name}: {}", t.name);
        }
    }
}

#[test]
fn input_outside_the_calibrated_range_is_refused() {
    let (graph, model) = quantized("digits_mlp");
    let mut x = samples(&graph, &path("digits_mlp", ".input.json"))[0].clone();
    let (_, hi) = model.tensor(model.input).range();
    let max_real = hi as f32 / (1u32 << model.tensor(model.input).scale) as f32;
    x[[0, 3]] = max_real + 1.0;
    match model.run(&x) {
        Err(InterpretError::InputOutOfRange { index: 3, .. }) => {}
        other => panic!("{other:?}"),
    }
    x[[0, 3]] = f32::NAN;
    assert!(matches!(model.run(&x), Err(InterpretError::InputOutOfRange { index: 3, .. })));
    let wrong_shape = ArrayD::zeros(IxDyn(&[1, 63]));
    assert!(matches!(model.run(&wrong_shape), Err(InterpretError::InputShape { .. })));
}

#[test]
fn intermediate_outside_its_range_is_an_error_not_a_wrap() {
    let (graph, model) = quantized("digits_mlp");
    // The largest representable input everywhere drives the hidden layer far beyond calibration.
    let (_, hi) = model.tensor(model.input).range();
    let x = ArrayD::from_elem(IxDyn(&graph.tensor(graph.input).shape), hi);
    match model.interpret(x) {
        Err(InterpretError::OutOfRange { node, value, max, .. }) => {
            assert!(value > max, "{node}: {value} > {max}");
        }
        other => panic!("expected an out-of-range error, got {other:?}"),
    }
}

#[test]
fn inconsistent_model_files_are_refused() {
    let (_, model) = quantized("digits_mlp");
    assert!(matches!(QuantizedModel::from_json("{"), Err(ModelFormatError::Malformed(_))));
    let mut m = model.clone();
    m.format_version = 99;
    assert!(matches!(QuantizedModel::from_json(&m.to_json()), Err(ModelFormatError::Version { found: 99, .. })));
    let mut m = model.clone();
    m.nodes.swap(0, 1);
    assert!(matches!(QuantizedModel::from_json(&m.to_json()), Err(ModelFormatError::Invalid(_))));
    let mut m = model.clone();
    m.tensors[2].shape = vec![1, 0];
    assert!(matches!(QuantizedModel::from_json(&m.to_json()), Err(ModelFormatError::Invalid(_))));
    let mut m = model.clone();
    m.tensors[1].shape = vec![1, 31];
    assert!(matches!(QuantizedModel::from_json(&m.to_json()), Err(ModelFormatError::Invalid(_))));
    let mut m = model.clone();
    if let zkinfer_models::quantized::QOp::Dense(d) = &mut m.nodes[0].op {
        d.weight[[0, 0]] = 1 << 20;
    }
    assert!(matches!(QuantizedModel::from_json(&m.to_json()), Err(ModelFormatError::Invalid(_))));
}

/// A table-size limit shortens every function table (trimmed to where the function changes)
/// to at most the limit by dropping input bits, and the model stays close to its float graph.
#[test]
fn a_table_size_limit_shortens_the_tables_by_dropping_input_bits() {
    use zkinfer_models::quantize::{QuantSettings, quantize};
    use zkinfer_models::quantized::QOp;
    use zkinfer_models::trim::TrimmedTable;
    let name = "fixture_activations";
    let (graph, full) = quantized(name);
    let calibration = samples(&graph, &path(name, ".calibration.json"));
    let limit = 300;
    let settings = QuantSettings { max_table_rows: Some(limit), ..QuantSettings::default() };
    let model = quantize(&graph, &calibration, &settings).unwrap();
    let tables = |m: &QuantizedModel| -> Vec<(u32, usize)> {
        m.nodes
            .iter()
            .filter_map(|n| match &n.op {
                QOp::Lookup(l) => Some((l.input_shift, TrimmedTable::trim(&l.table).len())),
                QOp::Softmax(s) => Some((s.input_shift, TrimmedTable::trim(&s.exp_table).len())),
                _ => None,
            })
            .collect()
    };
    let (before, after) = (tables(&full), tables(&model));
    assert_eq!(before.len(), 3, "Sigmoid, Tanh and Softmax");
    for ((s0, rows0), (s, rows)) in before.iter().zip(&after) {
        assert_eq!(*s0, 0, "no shift without a limit");
        assert!(*rows0 > limit as usize, "the full table ({rows0} rows) is over the limit");
        assert!(*rows <= limit as usize && *s > 0, "{rows} rows after dropping {s} bits");
    }
    // The limit travels with the model, which validates and round-trips.
    assert_eq!(QuantizedModel::from_json(&model.to_json()).unwrap(), model);
    let exp = expected(name);
    let shape = graph.tensor(graph.input).shape.clone();
    let inputs: Vec<_> = exp.inputs.iter().map(|x| ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).unwrap()).collect();
    let (coarse, fine) = (fidelity(&graph, &model, &inputs), fidelity(&graph, &full, &inputs));
    println!("limit {limit}: {:?} against {:?}", coarse.outputs, fine.outputs);
    assert_eq!(coarse.refused, 0);
    // Probabilities within a few hundredths of the float model's.
    assert!(coarse.outputs[0].max_abs_error < 0.05, "{:?}", coarse.outputs);
}
