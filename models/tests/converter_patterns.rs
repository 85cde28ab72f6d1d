//! Models as converters write them, built here from the ONNX messages node by node as those
//! exporters lay them out: shape arithmetic (PyTorch's `x.view(x.size(0), -1)`: Shape → Gather
//! → Unsqueeze → Concat → Reshape; Slice, Range, ConstantOfShape, integer arithmetic; Casts;
//! Squeeze and Unsqueeze of activations) folds at import into the same graph as the plain op;
//! scikit-learn's classifier ending (ArgMax → ArrayFeatureExtractor → Cast, two outputs) imports
//! and quantizes; HardSigmoid is an affine map and a clip.

#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::{ArrayD, IxDyn};
use prost::Message;
use zkinfer_models::graph::RewriteAction;
use zkinfer_models::onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, TypeProtoTensor, ValueInfoProto, attribute_type, data_type,
};
use zkinfer_models::onnx::{ImportOptions, import_bytes};
use zkinfer_models::{Graph, ImportError};

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: Some(name.into()),
        op_type: Some(op.into()),
        domain: None,
        attribute,
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: Some(name.into()), r#type: Some(attribute_type::INT), i: Some(i), ..Default::default() }
}

fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_type::INTS),
        ints: ints.to_vec(),
        ..Default::default()
    }
}

fn int64s(name: &str, dims: &[i64], values: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(data_type::INT64),
        int64_data: values.to_vec(),
        name: Some(name.into()),
        ..Default::default()
    }
}

fn floats(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(data_type::FLOAT),
        float_data: values.to_vec(),
        name: Some(name.into()),
        ..Default::default()
    }
}

fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            Some(v) => Dimension { dim_value: Some(*v), dim_param: None },
            None => Dimension { dim_value: None, dim_param: Some("batch_size".into()) },
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type: Some(data_type::FLOAT),
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

fn model(opset: i64, nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, input: ValueInfoProto) -> Vec<u8> {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }],
        producer_name: Some("pytorch".into()),
        graph: Some(GraphProto {
            node: nodes,
            name: Some("folding".into()),
            initializer,
            input: vec![input],
            output: vec![value_info("y", &[])],
            value_info: Vec::new(),
        }),
    }
    .encode_to_vec()
}

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

fn import(bytes: &[u8]) -> Graph {
    import_bytes(bytes, &ImportOptions::default()).unwrap()
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

/// A 1-D convolution and max pooling over `[N, C, L]`, as PyTorch's `Conv1d` and `MaxPool1d`
/// export them: imported as 2-D ops of height 1 between reshapes, equal to the direct sums.
#[test]
fn one_dimensional_convolution_and_pooling_import_as_two_dimensional_ones() {
    let (c_in, c_out, len, k) = (2usize, 3usize, 10usize, 3usize);
    let w: Vec<f32> = (0..c_out * c_in * k).map(|i| ((i * 7 % 11) as f32 - 5.0) / 8.0).collect();
    let b: Vec<f32> = vec![0.25, -0.5, 0.125];
    let nodes = vec![
        node(
            "Conv",
            "/conv/Conv",
            &["x", "w", "b"],
            &["c"],
            vec![ints_attr("kernel_shape", &[k as i64]), ints_attr("strides", &[2]), ints_attr("pads", &[1, 1])],
        ),
        node("MaxPool", "/pool/MaxPool", &["c"], &["y"], vec![ints_attr("kernel_shape", &[2])]),
    ];
    let init = vec![floats("w", &[c_out as i64, c_in as i64, k as i64], &w), floats("b", &[c_out as i64], &b)];
    let bytes = model(13, nodes, init, value_info("x", &[Some(1), Some(c_in as i64), Some(len as i64)]));
    let graph = import(&bytes);
    assert_eq!(graph.tensor(graph.outputs[0]).shape, vec![1, c_out, 4]);
    let x: Vec<f32> = (0..c_in * len).map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0).collect();
    let trace = graph.evaluate(ArrayD::from_shape_vec(IxDyn(&[1, c_in, len]), x.clone()).unwrap());
    let got: Vec<f32> = trace.get(graph.outputs[0]).iter().copied().collect();
    // Direct: stride 2, one zero of padding at each end, then a window of 2 with stride 1.
    let conv_len = (len + 2 - k) / 2 + 1;
    let conv = |o: usize, t: usize| -> f32 {
        let mut s = b[o];
        for c in 0..c_in {
            for j in 0..k {
                let pos = (2 * t + j) as isize - 1;
                if (0..len as isize).contains(&pos) {
                    s += w[(o * c_in + c) * k + j] * x[c * len + pos as usize];
                }
            }
        }
        s
    };
    let want: Vec<f32> =
        (0..c_out).flat_map(|o| (0..conv_len - 1).map(move |t| conv(o, t).max(conv(o, t + 1)))).collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-5, "{got:?} / {want:?}");
    }
    let kinds: Vec<&str> = graph.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(kinds, ["Reshape", "Conv2d", "Reshape", "Reshape", "MaxPool", "Reshape"]);
    // Quantized, it stays within a few steps of the float result.
    let samples: Vec<ArrayD<f32>> = (0..8)
        .map(|s| ArrayD::from_shape_fn(IxDyn(&[1, c_in, len]), |i| ((i[1] * 3 + i[2] * 7 + s) % 9) as f32 / 3.0 - 1.5))
        .collect();
    let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
    let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
    assert_eq!(report.refused, 0);
    assert!(report.outputs[0].max_abs_error < 0.05, "{:?}", report.outputs);
}

/// ReduceMean over the last axis (opset 13, axes as an attribute, keepdims 0) and ReduceSum over
/// the middle axis (axes as an input, keepdims 1): a spatial mean between reshapes, equal to the
/// direct sums, float and quantized.
#[test]
fn reductions_over_any_axes_become_a_mean() {
    let shape = [1usize, 3, 5];
    let sum_model = model(
        13,
        vec![node("ReduceSum", "/sum", &["x", "axes1"], &["y"], vec![int_attr("keepdims", 1)])],
        vec![int64s("axes1", &[1], &[1])],
        value_info("x", &[Some(1), Some(3), Some(5)]),
    );
    let mean_model = model(
        13,
        vec![node("ReduceMean", "/mean", &["x"], &["y"], vec![ints_attr("axes", &[-1]), int_attr("keepdims", 0)])],
        vec![],
        value_info("x", &[Some(1), Some(3), Some(5)]),
    );
    let x: Vec<f32> = (0..15).map(|i| ((i * 7 % 9) as f32 - 4.0) / 4.0).collect();
    let input = ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).unwrap();
    let eval = |g: &Graph| -> (Vec<usize>, Vec<f32>) {
        let t = g.evaluate(input.clone());
        (g.tensor(g.outputs[0]).shape.clone(), t.get(g.outputs[0]).iter().copied().collect())
    };
    let sum = import(&sum_model);
    let (s_shape, s) = eval(&sum);
    assert_eq!(s_shape, [1, 1, 5]);
    let want_sum: Vec<f32> = (0..5).map(|j| (0..3).map(|i| x[i * 5 + j]).sum()).collect();
    let mean = import(&mean_model);
    let (m_shape, m) = eval(&mean);
    assert_eq!(m_shape, [1, 3]);
    let want_mean: Vec<f32> = (0..3).map(|i| (0..5).map(|j| x[i * 5 + j]).sum::<f32>() / 5.0).collect();
    for (got, want) in [(&s, &want_sum), (&m, &want_mean)] {
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() < 1e-5, "{got:?} / {want:?}");
        }
    }
    // The sum over the middle axis moves it last first; the mean over the last does not.
    let kinds = |g: &Graph| g.nodes.iter().map(|n| n.op.kind()).collect::<Vec<_>>();
    assert_eq!(kinds(&sum), ["Transpose", "Reshape", "GlobalAveragePool", "MulConstant", "Reshape"]);
    assert_eq!(kinds(&mean), ["Reshape", "GlobalAveragePool", "Reshape"]);
    for g in [&sum, &mean] {
        let samples: Vec<ArrayD<f32>> = (0..6)
            .map(|k| ArrayD::from_shape_fn(IxDyn(&shape), |i| ((i[1] * 5 + i[2] + k) % 7) as f32 / 2.0 - 1.5))
            .collect();
        let q = zkinfer_models::quantize::quantize(g, &samples, &Default::default()).unwrap();
        let report = zkinfer_models::fidelity::fidelity(g, &q, &samples);
        assert!(report.refused == 0 && report.outputs[0].max_abs_error < 0.05, "{:?}", report.outputs);
    }
}

/// A zero Pad in front of a Conv and of an AveragePool, as TensorFlow's converter writes an
/// asymmetric "SAME": taken as the window op's own padding, equal to the same op with pads; a
/// Pad that feeds anything else, or pads with another value, is refused by name.
#[test]
fn a_zero_pad_before_a_window_op_becomes_its_padding() {
    let x_info = || value_info("x", &[Some(1), Some(1), Some(5), Some(5)]);
    let w: Vec<f32> = (0..9).map(|i| (i as f32 - 4.0) / 4.0).collect();
    let pads = int64s("pads", &[8], &[0, 0, 0, 1, 0, 0, 1, 0]);
    let padded_conv = model(
        13,
        vec![
            node("Pad", "/pad", &["x", "pads"], &["xp"], vec![]),
            node("Conv", "/conv", &["xp", "w"], &["c"], vec![ints_attr("pads", &[1, 0, 0, 0])]),
            node("AveragePool", "/avg", &["c"], &["y"], vec![ints_attr("kernel_shape", &[2, 2])]),
        ],
        vec![pads.clone(), floats("w", &[1, 1, 3, 3], &w)],
        x_info(),
    );
    let plain_conv = model(
        13,
        vec![
            node("Conv", "/conv", &["x", "w"], &["c"], vec![ints_attr("pads", &[1, 1, 1, 0])]),
            node("AveragePool", "/avg", &["c"], &["y"], vec![ints_attr("kernel_shape", &[2, 2])]),
        ],
        vec![floats("w", &[1, 1, 3, 3], &w)],
        x_info(),
    );
    let input = ArrayD::from_shape_fn(IxDyn(&[1, 1, 5, 5]), |i| ((i[2] * 5 + i[3]) % 7) as f32 / 3.0 - 1.0);
    let eval = |g: &Graph| -> Vec<f32> { g.evaluate(input.clone()).get(g.outputs[0]).iter().copied().collect() };
    let (padded, plain) = (import(&padded_conv), import(&plain_conv));
    assert_eq!(padded.nodes.len(), 2, "the Pad is not an op: {:?}", padded.nodes);
    assert_eq!(eval(&padded), eval(&plain));
    assert_eq!(padded.rewrites[0].to_string(), "/pad (Pad): padding taken by the window op that reads it");
    // A zero Pad before an AveragePool: the zeros count in the average.
    let padded_avg = model(
        13,
        vec![
            node("Pad", "/pad", &["x", "pads"], &["xp"], vec![]),
            node("AveragePool", "/avg", &["xp"], &["y"], vec![ints_attr("kernel_shape", &[2, 2])]),
        ],
        vec![pads.clone()],
        x_info(),
    );
    let g = import(&padded_avg);
    let got = eval(&g);
    assert_eq!(g.tensor(g.outputs[0]).shape, [1, 1, 5, 5]);
    let x = |r: isize, c: isize| -> f32 {
        if (0..5).contains(&r) && (0..5).contains(&c) { input[[0, 0, r as usize, c as usize]] } else { 0.0 }
    };
    // Padded: one zero column on the left, one zero row at the bottom.
    let want: Vec<f32> = (0..5isize)
        .flat_map(|r| (0..5isize).map(move |c| (r, c)))
        .map(|(r, c)| (x(r, c - 1) + x(r, c) + x(r + 1, c - 1) + x(r + 1, c)) / 4.0)
        .collect();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{got:?} / {want:?}");
    }
    // Refused: a Pad read by a Relu, a Pad with a non-zero value.
    let to_relu = model(
        13,
        vec![node("Pad", "/pad", &["x", "pads"], &["xp"], vec![]), node("Relu", "/relu", &["xp"], &["y"], vec![])],
        vec![pads.clone()],
        x_info(),
    );
    let e = import_bytes(&to_relu, &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("output of a Pad, which only a Conv or an AveragePool may read"), "{e}");
    let ones = model(
        13,
        vec![
            node("Pad", "/pad", &["x", "pads", "one"], &["xp"], vec![]),
            node("Conv", "/conv", &["xp", "w"], &["y"], vec![]),
        ],
        vec![pads, floats("one", &[], &[1.0]), floats("w", &[1, 1, 3, 3], &w)],
        x_info(),
    );
    let e = import_bytes(&ones, &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("only zero padding"), "{e}");
}

/// Two branches of different magnitudes joined by a Concat of activations (a skip connection's
/// shape): float equal to the direct result, and quantized with the finer branch aligned to the
/// coarser one's scale.
#[test]
fn a_concat_of_activations_joins_branches_at_one_scale() {
    use zkinfer_models::quantized::QOp;
    let wa: Vec<f32> = (0..64 * 3).map(|i| ((i * 13 % 17) as f32 - 8.0) / 2.0).collect();
    let wb: Vec<f32> = (0..64 * 2).map(|i| ((i * 5 % 11) as f32 - 5.0) / 64.0).collect();
    let nodes = vec![
        node("MatMul", "/a", &["x", "wa"], &["a"], vec![]),
        node("MatMul", "/b", &["x", "wb"], &["b"], vec![]),
        node("Concat", "/cat", &["a", "b"], &["y"], vec![int_attr("axis", -1)]),
    ];
    let init = vec![floats("wa", &[64, 3], &wa), floats("wb", &[64, 2], &wb)];
    let graph = import(&model(13, nodes, init, value_info("x", &[Some(1), Some(64)])));
    assert_eq!(graph.tensor(graph.outputs[0]).shape, [1, 5]);
    let x: Vec<f32> = (0..64).map(|i| (i % 5) as f32 / 4.0).collect();
    let y: Vec<f32> = graph
        .evaluate(ArrayD::from_shape_vec(IxDyn(&[1, 64]), x.clone()).unwrap())
        .get(graph.outputs[0])
        .iter()
        .copied()
        .collect();
    let dot = |w: &[f32], cols: usize, j: usize| (0..64).map(|i| x[i] * w[i * cols + j]).sum::<f32>();
    let want: Vec<f32> = (0..3).map(|j| dot(&wa, 3, j)).chain((0..2).map(|j| dot(&wb, 2, j))).collect();
    for (g, w) in y.iter().zip(&want) {
        assert!((g - w).abs() < 1e-3, "{y:?} / {want:?}");
    }
    let samples: Vec<ArrayD<f32>> =
        (0..8).map(|k| ArrayD::from_shape_fn(IxDyn(&[1, 64]), |i| ((i[1] + k) % 5) as f32 / 4.0)).collect();
    let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
    let QOp::Concat(c) = &q.nodes.last().unwrap().op else { panic!("{:?}", q.nodes) };
    assert_eq!(c.shifts[0], 0, "the large branch sets the scale");
    assert!(c.shifts[1] > 0, "the small branch is aligned to it: {c:?}");
    let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
    assert_eq!(report.refused, 0);
    // Within a step of the coarse scale.
    let step = 2f64.powi(-q.tensor(q.outputs[0]).scale);
    assert!(report.outputs[0].max_abs_error <= step, "{:?} (step {step})", report.outputs);
}
