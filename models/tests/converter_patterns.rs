//! Models as converters write them, built here from the ONNX messages node by node as those
//! exporters lay them out: shape arithmetic (PyTorch's `x.view(x.size(0), -1)`: Shape → Gather
//! → Unsqueeze → Concat → Reshape; Slice, Range, ConstantOfShape, integer arithmetic; Casts;
//! Squeeze and Unsqueeze of activations) folds at import into the same graph as the plain op;
//! scikit-learn's classifier ending (ArgMax → ArrayFeatureExtractor → Cast, two outputs) imports
//! and quantizes; HardSigmoid is an affine map and a clip.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::proto::*;
use ndarray::{ArrayD, IxDyn};
use prost::Message;
use zkinfer_models::graph::RewriteAction;
use zkinfer_models::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, attribute_type, data_type,
};
use zkinfer_models::onnx::{ImportOptions, import_bytes};
use zkinfer_models::{Graph, ImportError};

/// Weights of a 64 -> 3 dense layer.
fn weights() -> Vec<f32> {
    (0..64 * 3).map(|i| ((i * 37 % 23) as f32 - 11.0) / 16.0).collect()
}

/// The image `[1, 1, 8, 8]` flattened the PyTorch way, cast to float, then a MatMul.
fn torch_flatten(opset: i64) -> Vec<u8> {
    let unsqueeze = if opset >= 13 {
        node("Unsqueeze", "/Unsqueeze", &["batch", "axes0"], &["batch1"], vec![])
    } else {
        node("Unsqueeze", "/Unsqueeze", &["batch"], &["batch1"], vec![ints_attr("axes", &[0])])
    };
    let nodes = vec![
        node("Shape", "/Shape", &["x"], &["shape"], vec![]),
        node("Gather", "/Gather", &["shape", "zero"], &["batch"], vec![int_attr("axis", 0)]),
        unsqueeze,
        node("Concat", "/Concat", &["batch1", "minus_one"], &["target"], vec![int_attr("axis", 0)]),
        node("Reshape", "/Reshape", &["x", "target"], &["flat"], vec![]),
        node("Cast", "/Cast", &["flat"], &["flat32"], vec![int_attr("to", i64::from(data_type::FLOAT))]),
        node("MatMul", "/fc/MatMul", &["flat32", "w"], &["y"], vec![]),
    ];
    let mut initializer =
        vec![int64s("zero", &[], &[0]), int64s("minus_one", &[1], &[-1]), floats("w", &[64, 3], &weights())];
    if opset >= 13 {
        initializer.push(int64s("axes0", &[1], &[0]));
    }
    model(opset, nodes, initializer, value_info("x", &[Some(1), Some(1), Some(8), Some(8)]))
}

/// The same computation with a plain Flatten.
fn plain_flatten() -> Vec<u8> {
    let nodes = vec![
        node("Flatten", "/Flatten", &["x"], &["flat"], vec![int_attr("axis", 1)]),
        node("MatMul", "/fc/MatMul", &["flat", "w"], &["y"], vec![]),
    ];
    model(13, nodes, vec![floats("w", &[64, 3], &weights())], value_info("x", &[Some(1), Some(1), Some(8), Some(8)]))
}

fn run(graph: &Graph) -> Vec<f32> {
    let input = ArrayD::from_shape_vec(IxDyn(&[1, 1, 8, 8]), (0..64).map(|i| (i as f32) / 64.0).collect()).unwrap();
    let trace = graph.evaluate(input);
    trace.get(graph.outputs[0]).iter().copied().collect()
}

#[test]
fn a_torch_flatten_folds_into_one_reshape() {
    let plain = import(&plain_flatten());
    for opset in [11, 13] {
        let torch = import(&torch_flatten(opset));
        // Nothing of the shape arithmetic is left: a reshape and the layer.
        assert_eq!(torch.nodes.len(), plain.nodes.len(), "opset {opset}: {:?}", torch.nodes);
        assert_eq!(torch.tensor(torch.outputs[0]).shape, vec![1, 3]);
        assert_eq!(run(&torch), run(&plain), "opset {opset}");
        // What was folded is recorded for `zkinfer inspect`, in order.
        let rewrites: Vec<(&str, &RewriteAction)> =
            torch.rewrites.iter().map(|w| (w.op_type.as_str(), &w.action)).collect();
        let folded = RewriteAction::FoldedToConstant;
        assert_eq!(
            rewrites,
            [
                ("Shape", &folded),
                ("Gather", &folded),
                ("Unsqueeze", &folded),
                ("Concat", &folded),
                ("Cast", &RewriteAction::PassedThrough)
            ],
            "opset {opset}"
        );
        assert_eq!(torch.rewrites[0].to_string(), "/Shape (Shape): folded into a constant");
    }
    assert!(plain.rewrites.is_empty(), "a plain Flatten is one op: {:?}", plain.rewrites);
}

/// The target shape computed in integers: `[N, H * W / 1]` from Shape, Gather, Mul and Div.
#[test]
fn integer_shape_arithmetic_folds_in_integers() {
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], vec![]),
        node("Gather", "n", &["s", "zero"], &["n"], vec![]),
        node("Gather", "h", &["s", "two"], &["h"], vec![]),
        node("Gather", "width", &["s", "three"], &["width"], vec![]),
        node("Mul", "hw", &["h", "width"], &["hw"], vec![]),
        node("Div", "hw1", &["hw", "one"], &["hw1"], vec![]),
        node("Unsqueeze", "n1", &["n", "axes0"], &["n1"], vec![]),
        node("Unsqueeze", "hw2", &["hw1", "axes0"], &["hw2"], vec![]),
        node("Concat", "target", &["n1", "hw2"], &["t"], vec![int_attr("axis", 0)]),
        node("Reshape", "reshape", &["x", "t"], &["flat"], vec![]),
        node("MatMul", "fc", &["flat", "w"], &["y"], vec![]),
    ];
    let initializer = vec![
        int64s("zero", &[], &[0]),
        int64s("one", &[], &[1]),
        int64s("two", &[], &[2]),
        int64s("three", &[], &[3]),
        int64s("axes0", &[1], &[0]),
        floats("w", &[64, 3], &weights()),
    ];
    let graph = import(&model(13, nodes, initializer, value_info("x", &[Some(1), Some(1), Some(8), Some(8)])));
    assert_eq!(run(&graph), run(&import(&plain_flatten())));
    // An integer division by zero is refused.
    let nodes = vec![node("Div", "by_zero", &["a", "zero"], &["y"], vec![])];
    let bytes = model(13, nodes, vec![int64s("a", &[], &[4]), int64s("zero", &[], &[0])], value_info("x", &[Some(1)]));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("by_zero") && e.to_string().contains("divides by zero"), "{e}");
}

/// The target shape from Slice (opset 13: starts and ends as inputs), Range and
/// ConstantOfShape: `Concat(Slice(Shape(x), [0], [1]), ConstantOfShape([1], -1))`, the batch
/// dimension taken again by a Gather at `Range(0, 1, 1)`.
#[test]
fn slice_range_and_constant_of_shape_fold() {
    let minus_one = int64s("value", &[1], &[-1]);
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], vec![]),
        node("Slice", "first", &["s", "zero1", "one1"], &["n"], vec![]),
        node("Range", "range", &["zero", "one", "one"], &["r"], vec![]),
        node("Gather", "again", &["n", "r"], &["n2"], vec![]),
        node(
            "ConstantOfShape",
            "rest",
            &["one1"],
            &["m"],
            vec![AttributeProto {
                name: Some("value".into()),
                r#type: Some(attribute_type::TENSOR),
                t: Some(minus_one),
                ..Default::default()
            }],
        ),
        node("Concat", "target", &["n2", "m"], &["t"], vec![int_attr("axis", 0)]),
        node("Reshape", "reshape", &["x", "t"], &["flat"], vec![]),
        node("MatMul", "fc", &["flat", "w"], &["y"], vec![]),
    ];
    let initializer = vec![
        int64s("zero", &[], &[0]),
        int64s("one", &[], &[1]),
        int64s("zero1", &[1], &[0]),
        int64s("one1", &[1], &[1]),
        floats("w", &[64, 3], &weights()),
    ];
    let graph = import(&model(13, nodes, initializer, value_info("x", &[Some(1), Some(1), Some(8), Some(8)])));
    assert_eq!(run(&graph), run(&import(&plain_flatten())));
    // Negative starts and steps: the last two dimensions of [1, 1, 8, 4], reversed.
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], vec![]),
        node("Slice", "tail", &["s", "minus_one", "minus_three", "zero1", "minus_one"], &["hw"], vec![]),
        node("Concat", "target", &["one1", "hw"], &["t"], vec![int_attr("axis", 0)]),
        node("Reshape", "reshape", &["x", "t"], &["y"], vec![]),
    ];
    let initializer = vec![
        int64s("minus_one", &[1], &[-1]),
        int64s("minus_three", &[1], &[-3]),
        int64s("zero1", &[1], &[0]),
        int64s("one1", &[1], &[1]),
    ];
    let graph = import(&model(13, nodes, initializer, value_info("x", &[Some(1), Some(1), Some(8), Some(4)])));
    assert_eq!(graph.tensor(graph.outputs[0]).shape, vec![1, 4, 8]);
}

#[test]
fn squeeze_and_unsqueeze_of_activations_are_reshapes() {
    // [1, 64] -> Unsqueeze(1) -> [1, 1, 64] -> Squeeze(1) -> [1, 64] -> MatMul
    let nodes = vec![
        node("Unsqueeze", "u", &["x", "one"], &["x3"], vec![]),
        node("Squeeze", "s", &["x3", "one"], &["x2"], vec![]),
        node("MatMul", "m", &["x2", "w"], &["y"], vec![]),
    ];
    let bytes = model(
        13,
        nodes,
        vec![int64s("one", &[1], &[1]), floats("w", &[64, 3], &weights())],
        value_info("x", &[Some(1), Some(64)]),
    );
    let graph = import(&bytes);
    let shapes: Vec<Vec<usize>> = graph.nodes.iter().map(|n| graph.tensor(n.output).shape.clone()).collect();
    assert!(shapes.contains(&vec![1, 1, 64]), "{shapes:?}");
    assert_eq!(graph.tensor(graph.outputs[0]).shape, vec![1, 3]);
    // Squeezing an axis whose size is not 1 is refused, with the node named.
    let nodes = vec![node("Squeeze", "bad_squeeze", &["x", "one"], &["y"], vec![])];
    let bytes = model(13, nodes, vec![int64s("one", &[1], &[1])], value_info("x", &[Some(1), Some(64)]));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("bad_squeeze") && e.to_string().contains("size 64"), "{e}");
}

#[test]
fn shape_arithmetic_on_run_time_values_is_refused_by_name() {
    // Gather over an activation is not shape arithmetic.
    let nodes = vec![node("Gather", "gather_rows", &["x", "zero"], &["y"], vec![])];
    let bytes = model(13, nodes, vec![int64s("zero", &[], &[0])], value_info("x", &[Some(4), Some(16)]));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err();
    assert!(matches!(&e, ImportError::Unsupported { what } if what.contains("gather_rows")), "{e:?}");
    // A Cast of an activation to an integer type.
    let nodes = vec![node("Cast", "to_int", &["x"], &["y"], vec![int_attr("to", i64::from(data_type::INT64))])];
    let bytes = model(13, nodes, vec![], value_info("x", &[Some(1), Some(16)]));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("to_int"), "{e}");
    // An out-of-range Gather index.
    let nodes = vec![
        node("Shape", "shape", &["x"], &["s"], vec![]),
        node("Gather", "far", &["s", "five"], &["d"], vec![]),
        node("Reshape", "r", &["x", "d"], &["y"], vec![]),
    ];
    let bytes = model(13, nodes, vec![int64s("five", &[], &[5])], value_info("x", &[Some(1), Some(16)]));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err();
    assert!(e.to_string().contains("far") && e.to_string().contains("out of range"), "{e}");
}

/// A classifier as skl2onnx writes it with zipmap off: probabilities from Softmax, and the label
/// from ArgMax → ArrayFeatureExtractor(classes) → Cast → Reshape; two outputs.
fn sklearn_classifier(classes: &[i64], zipmap: bool) -> Vec<u8> {
    let ml = |op: &str, name: &str, inputs: &[&str], outputs: &[&str]| NodeProto {
        domain: Some("ai.onnx.ml".into()),
        ..node(op, name, inputs, outputs, vec![])
    };
    let mut nodes = vec![
        node("MatMul", "coef", &["x", "w"], &["logits"], vec![]),
        node("Softmax", "softmax", &["logits"], &["probabilities"], vec![int_attr("axis", -1)]),
        node("ArgMax", "argmax", &["logits"], &["index"], vec![int_attr("axis", 1)]),
        ml("ArrayFeatureExtractor", "classes", &["classes", "index"], &["label_raw"]),
        node("Cast", "cast", &["label_raw"], &["label_int"], vec![int_attr("to", i64::from(data_type::INT64))]),
        node("Reshape", "reshape", &["label_int", "minus_one"], &["label"], vec![]),
    ];
    if zipmap {
        nodes.push(ml("ZipMap", "zipmap", &["probabilities"], &["output_probability"]));
    }
    let initializer = vec![
        floats("w", &[4, 3], &(0..12).map(|i| (i as f32 - 6.0) / 8.0).collect::<Vec<_>>()),
        int64s("classes", &[classes.len() as i64], classes),
        int64s("minus_one", &[1], &[-1]),
    ];
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![
            OperatorSetIdProto { domain: Some(String::new()), version: Some(13) },
            OperatorSetIdProto { domain: Some("ai.onnx.ml".into()), version: Some(1) },
        ],
        producer_name: Some("skl2onnx".into()),
        graph: Some(GraphProto {
            node: nodes,
            name: Some("mlp_classifier".into()),
            initializer,
            input: vec![value_info("x", &[None, Some(4)])],
            output: vec![value_info("label", &[]), value_info("probabilities", &[])],
            value_info: Vec::new(),
        }),
    }
    .encode_to_vec()
}

#[test]
fn a_sklearn_classifier_imports_with_its_label_and_probabilities() {
    let options = ImportOptions { batch: Some(1), ..Default::default() };
    let graph = import_bytes(&sklearn_classifier(&[0, 1, 2], false), &options).unwrap();
    assert_eq!(graph.outputs.len(), 2);
    let input = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![0.5, -1.0, 2.0, 0.25]).unwrap();
    let trace = graph.evaluate(input);
    let label = trace.get(graph.outputs[0]).iter().copied().collect::<Vec<_>>();
    let probabilities = trace.get(graph.outputs[1]).iter().copied().collect::<Vec<_>>();
    let best = probabilities.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i as f32);
    assert_eq!(label, vec![best.unwrap()], "{probabilities:?}");
    // Labels other than 0..n-1, and ZipMap, are refused with what to do.
    let e = import_bytes(&sklearn_classifier(&[1, 2, 3], false), &options).unwrap_err();
    assert!(e.to_string().contains("labels 0..n-1"), "{e}");
    let e = import_bytes(&sklearn_classifier(&[0, 1, 2], true), &options).unwrap_err();
    assert!(e.to_string().contains("zipmap"), "{e}");
}

/// The classifier quantizes, and the integer interpreter gives the float model's label.
#[test]
fn the_sklearn_classifier_quantizes_and_keeps_its_label() {
    let options = ImportOptions { batch: Some(1), ..Default::default() };
    let graph = import_bytes(&sklearn_classifier(&[0, 1, 2], false), &options).unwrap();
    let sample = |k: usize| {
        ArrayD::from_shape_vec(IxDyn(&[1, 4]), (0..4).map(|i| ((i * 7 + k * 3) % 11) as f32 / 5.0 - 1.0).collect())
            .unwrap()
    };
    let calibration: Vec<ArrayD<f32>> = (0..8).map(sample).collect();
    let model = zkinfer_models::quantize::quantize(&graph, &calibration, &Default::default()).unwrap();
    assert_eq!(model.outputs.len(), 2);
    for input in &calibration {
        let float_label = graph.evaluate(input.clone()).get(graph.outputs[0]).iter().copied().collect::<Vec<_>>();
        let trace = model.run(input).unwrap();
        let label: Vec<f32> = model.output_real(&trace, model.outputs[0]).iter().map(|&v| v as f32).collect();
        assert_eq!(label, float_label);
    }
}

/// HardSigmoid imports as a multiplication, an addition and a clip, and computes ONNX's
/// `max(0, min(1, alpha · x + beta))`.
#[test]
fn hard_sigmoid_is_an_affine_map_and_a_clip() {
    let attrs = vec![
        AttributeProto {
            name: Some("alpha".into()),
            r#type: Some(attribute_type::FLOAT),
            f: Some(0.25),
            ..Default::default()
        },
        AttributeProto {
            name: Some("beta".into()),
            r#type: Some(attribute_type::FLOAT),
            f: Some(0.4),
            ..Default::default()
        },
    ];
    let nodes = vec![node("HardSigmoid", "hs", &["x"], &["y"], attrs)];
    let graph = import(&model(13, nodes, vec![], value_info("x", &[Some(1), Some(5)])));
    let input = ArrayD::from_shape_vec(IxDyn(&[1, 5]), vec![-8.0, -1.0, 0.0, 1.0, 8.0]).unwrap();
    let y: Vec<f32> = graph.evaluate(input.clone()).get(graph.outputs[0]).iter().copied().collect();
    let expected: Vec<f32> = input.iter().map(|&x| (0.25 * x + 0.4f32).clamp(0.0, 1.0)).collect();
    assert_eq!(y, expected);
}

/// Erf and opset 20's Gelu (both forms) import as tables: the float graph gives the known values,
/// and the quantized model's outputs agree with it to the output's resolution.
#[test]
fn erf_and_gelu_are_tables() {
    let string_attr = |name: &str, value: &str| AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_type::STRING),
        s: Some(value.as_bytes().to_vec()),
        ..Default::default()
    };
    let input = ArrayD::from_shape_vec(IxDyn(&[1, 4]), vec![-2.0, -0.5, 0.5, 1.0]).unwrap();
    let cases: [(&str, Vec<AttributeProto>, [f32; 4]); 3] = [
        ("Erf", vec![], [-0.995_322_3, -0.520_499_9, 0.520_499_9, 0.842_700_8]),
        ("Gelu", vec![], [-0.045_500_26, -0.154_268_7, 0.345_731_3, 0.841_344_7]),
        ("Gelu", vec![string_attr("approximate", "tanh")], [-0.045_402_3, -0.154_286, 0.345_714, 0.841_192]),
    ];
    for (op, attrs, expected) in cases {
        let nodes = vec![node(op, "f", &["x"], &["y"], attrs)];
        let graph = import(&model(20, nodes, vec![], value_info("x", &[Some(1), Some(4)])));
        let y: Vec<f32> = graph.evaluate(input.clone()).get(graph.outputs[0]).iter().copied().collect();
        for (got, want) in y.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{op}: {y:?} against {expected:?}");
        }
        let calibration = vec![input.clone(), input.mapv(|v| v * 1.5)];
        let quantized = zkinfer_models::quantize::quantize(&graph, &calibration, &Default::default()).unwrap();
        let trace = quantized.run(&input).unwrap();
        let output = quantized.outputs[0];
        let resolution = 2f64.powi(-quantized.tensors[output.0].scale);
        let input_resolution = 2f64.powi(-quantized.tensors[0].scale);
        for (got, want) in quantized.output_real(&trace, output).iter().zip(expected) {
            // The input's rounding moves the output by at most its slope (< 1.2) times half a step.
            assert!((got - f64::from(want)).abs() <= resolution + 0.6 * input_resolution, "{op}: {got} against {want}");
        }
    }
    // An unknown approximation is refused by name.
    let nodes = vec![node("Gelu", "g", &["x"], &["y"], vec![string_attr("approximate", "fast")])];
    let e = import_bytes(&model(20, nodes, vec![], value_info("x", &[Some(1), Some(4)])), &ImportOptions::default())
        .unwrap_err();
    assert!(e.to_string().contains("approximate"), "{e}");
}

/// onnxruntime's dynamic quantization of a 4 -> 3 dense layer with per-column uint8 weights:
/// DynamicQuantizeLinear, the scales' Mul, MatMulInteger, Cast, the Mul by the scales and the
/// bias's Add import as one Dense layer whose weights are the integers centred on their zero
/// points times their scales, exactly; other readers of the pending values are refused.
#[test]
fn dynamic_quantization_imports_as_the_layer_with_its_integer_weights() {
    let wq: Vec<i64> = (0..12).map(|i| (i * 53 % 256) as i64).collect();
    let zeros = [128i64, 120, 131];
    let scales = [0.01f32, 0.02, 0.005];
    let init = || {
        vec![
            int64s("wq", &[4, 3], &wq),
            int64s("wz", &[3], &zeros),
            floats("ws", &[3], &scales),
            floats("b", &[3], &[0.5, -0.25, 0.0]),
        ]
    };
    let dql = || node("DynamicQuantizeLinear", "/dql", &["x"], &["xq", "xs", "xz"], vec![]);
    let nodes = |matmul: NodeProto| {
        vec![
            dql(),
            node("Mul", "/scales", &["xs", "ws"], &["s"], vec![]),
            matmul,
            node("Cast", "/cast", &["p"], &["pf"], vec![int_attr("to", 1)]),
            node("Mul", "/scaled", &["pf", "s"], &["d"], vec![]),
            node("Add", "/bias", &["d", "b"], &["y"], vec![]),
        ]
    };
    let input = || value_info("x", &[Some(1), Some(4)]);
    let matmul = node("MatMulInteger", "/mm", &["xq", "wq", "xz", "wz"], &["p"], vec![]);
    let graph = import(&model(13, nodes(matmul), init(), input()));
    assert_eq!(graph.nodes.len(), 1, "{:?}", graph.nodes);
    let zkinfer_models::graph::Op::Dense(dense) = &graph.nodes[0].op else { panic!("{:?}", graph.nodes[0].op) };
    for o in 0..3 {
        for i in 0..4 {
            assert_eq!(dense.weight[[o, i]], (wq[i * 3 + o] - zeros[o]) as f32 * scales[o], "weight [{o}, {i}]");
        }
    }
    assert_eq!(dense.bias.as_ref().unwrap().to_vec(), [0.5, -0.25, 0.0]);
    assert!(graph.rewrites.iter().any(|r| r.node == "/mm" && r.action == RewriteAction::DynamicQuantizationPending));

    let refused = |matmul: NodeProto| {
        import_bytes(&model(13, nodes(matmul), init(), input()), &ImportOptions::default()).unwrap_err().to_string()
    };
    // Without the input's zero point the integer product is not centred.
    let e = refused(node("MatMulInteger", "/mm", &["xq", "wq"], &["p"], vec![]));
    assert!(e.contains("a_zero_point"), "{e}");
    // Weight zero points that fit neither one value nor one per column.
    let e = import_bytes(
        &model(
            13,
            nodes(node("MatMulInteger", "/mm", &["xq", "wq", "xz", "wz2"], &["p"], vec![])),
            [init(), vec![int64s("wz2", &[2], &[1, 2])]].concat(),
            input(),
        ),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("b_zero_point"), "{e}");
    // The run-time scale read by anything but the Mul of the scales.
    let e = import_bytes(
        &model(13, vec![dql(), node("Add", "/odd", &["xs", "xs"], &["y"], vec![])], init(), input()),
        &ImportOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("/odd"), "{e}");
}
