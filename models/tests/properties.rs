//! Property tests: the interpreter against independent naive formulas (i128, explicit index
//! arithmetic), import robustness against corrupted bytes, and randomly generated ONNX models
//! (encoded here with the same prost messages) that no test file contains.

#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn};
use proptest::prelude::*;
use prost::Message;
use zkinfer_models::TensorId;
use zkinfer_models::graph::ops::{TransposedWindow, Window2d};
use zkinfer_models::onnx::{self, proto};
use zkinfer_models::quantize::{QuantSettings, quantize};
use zkinfer_models::quantized::*;

/// A one-node quantized model (input id 0 → output id 1).
fn single_op(op: QOp, in_shape: Vec<usize>, out_shape: Vec<usize>, bits: u32) -> QuantizedModel {
    let settings = QuantSettings {
        activation_bits: 16,
        input_bits: bits,
        weight_bits: 8,
        bias_bits: 32,
        headroom_bits: 0,
        max_table_rows: None,
    };
    QuantizedModel {
        format_version: QuantizedModel::FORMAT_VERSION,
        name: "prop".into(),
        settings,
        tensors: vec![
            QTensor { name: "x".into(), shape: in_shape, scale: 0, bits },
            QTensor { name: "y".into(), shape: out_shape, scale: 0, bits: 16 },
        ],
        nodes: vec![QNode { name: "op".into(), op, inputs: vec![TensorId(0)], output: TensorId(1) }],
        input: TensorId(0),
        outputs: vec![TensorId(1)],
    }
}

/// Round half up, by exact rational arithmetic in i128.
fn naive_rescale(v: i128, n: u32) -> i128 {
    if n == 0 { v } else { (2 * v + (1i128 << n)).div_euclid(1i128 << (n + 1)) }
}

fn clamp16(v: i128) -> Option<i64> {
    (-(1i128 << 15)..(1i128 << 15)).contains(&v).then_some(v as i64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn dense_matches_the_naive_formula(
        (n_in, n_out, x, w, b, shift) in (1usize..12, 1usize..6).prop_flat_map(|(i, o)| (
            Just(i), Just(o),
            prop::collection::vec(-128i64..128, i),
            prop::collection::vec(-127i64..128, i * o),
            prop::collection::vec(-5000i64..5000, o),
            0u32..12,
        ))
    ) {
        let weight = Array2::from_shape_vec((n_out, n_in), w.clone()).unwrap();
        let op = QOp::Dense(QDense { weight, bias: Some(Array1::from(b.clone())), weight_scale: 0, shift });
        let model = single_op(op, vec![1, n_in], vec![1, n_out], 8);
        prop_assert!(model.validate().is_ok());
        let input = ArrayD::from_shape_vec(IxDyn(&[1, n_in]), x.clone()).unwrap();
        let expected: Vec<Option<i64>> = (0..n_out).map(|o| {
            let acc: i128 = (0..n_in).map(|i| x[i] as i128 * w[o * n_in + i] as i128).sum::<i128>() + b[o] as i128;
            clamp16(naive_rescale(acc, shift))
        }).collect();
        match model.interpret(input) {
            Ok(trace) => {
                let got: Vec<Option<i64>> = trace.get(TensorId(1)).iter().map(|&v| Some(v)).collect();
                prop_assert_eq!(got, expected);
            }
            Err(_) => prop_assert!(expected.iter().any(Option::is_none), "refused although every value fits"),
        }
    }

    #[test]
    fn conv_matches_the_naive_formula(
        (c_in, c_out, h, w, k, stride, pad, seed) in (1usize..3, 1usize..3, 3usize..7, 3usize..7, 1usize..4, 1usize..3, 0usize..2, any::<u64>())
    ) {
        prop_assume!(h + 2 * pad >= k && w + 2 * pad >= k);
        let mut s = seed;
        let mut next = |m: i64| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 33) as i64).rem_euclid(2 * m + 1) - m };
        let x: Vec<i64> = (0..c_in * h * w).map(|_| next(127)).collect();
        let wt: Vec<i64> = (0..c_out * c_in * k * k).map(|_| next(127)).collect();
        let bias: Vec<i64> = (0..c_out).map(|_| next(1000)).collect();
        let window = Window2d { kernel: [k, k], stride: [stride, stride], pads: [pad, pad, pad, pad] };
        let oh = (h + 2 * pad - k) / stride + 1;
        let ow = (w + 2 * pad - k) / stride + 1;
        let shift = 6;
        let op = QOp::Conv2d(QConv2d {
            weight: Array4::from_shape_vec((c_out, c_in, k, k), wt.clone()).unwrap(),
            bias: Some(Array1::from(bias.clone())), weight_scale: 0, window, shift,
        });
        let model = single_op(op, vec![1, c_in, h, w], vec![1, c_out, oh, ow], 8);
        prop_assert!(model.validate().is_ok());
        let trace = model.interpret(ArrayD::from_shape_vec(IxDyn(&[1, c_in, h, w]), x.clone()).unwrap()).unwrap();
        let y = trace.get(TensorId(1));
        for o in 0..c_out { for oy in 0..oh { for ox in 0..ow {
            let mut acc = bias[o] as i128;
            for c in 0..c_in { for ky in 0..k { for kx in 0..k {
                let iy = (oy * stride + ky) as i64 - pad as i64;
                let ix = (ox * stride + kx) as i64 - pad as i64;
                if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                    acc += x[(c * h + iy as usize) * w + ix as usize] as i128 * wt[((o * c_in + c) * k + ky) * k + kx] as i128;
                }
            }}}
            prop_assert_eq!(Some(y[[0, o, oy, ox]]), clamp16(naive_rescale(acc, shift)));
        }}}
    }

    /// The transposed convolution (computed as a gather) equals its definition as a scatter:
    /// every input adds its products with the kernel into the full output at `i·stride + k`,
    /// which is then cropped by the pads (output padding adds rows and columns of bias).
    #[test]
    fn conv_transpose_matches_the_scatter_formula(
        (c_in, c_out, h, w, k, stride, pad, seed) in (1usize..3, 1usize..3, 2usize..5, 2usize..5, 1usize..4, 1usize..4, 0usize..2, any::<u64>())
    ) {
        let mut s = seed;
        let mut next = |m: i64| { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); ((s >> 33) as i64).rem_euclid(2 * m + 1) - m };
        let output_padding = [next(100).unsigned_abs() as usize % stride, next(100).unsigned_abs() as usize % stride];
        let (fh, fw) = ((h - 1) * stride + k + output_padding[0], (w - 1) * stride + k + output_padding[1]);
        prop_assume!(fh > 2 * pad && fw > 2 * pad);
        let x: Vec<i64> = (0..c_in * h * w).map(|_| next(127)).collect();
        let wt: Vec<i64> = (0..c_in * c_out * k * k).map(|_| next(127)).collect();
        let bias: Vec<i64> = (0..c_out).map(|_| next(1000)).collect();
        let window = TransposedWindow { kernel: [k, k], stride: [stride, stride], pads: [pad; 4], output_padding };
        let (oh, ow) = (fh - 2 * pad, fw - 2 * pad);
        let shift = 6;
        let op = QOp::ConvTranspose2d(QConvTranspose2d {
            weight: Array4::from_shape_vec((c_in, c_out, k, k), wt.clone()).unwrap(),
            bias: Some(Array1::from(bias.clone())), weight_scale: 0, window, shift,
        });
        let model = single_op(op, vec![1, c_in, h, w], vec![1, c_out, oh, ow], 8);
        prop_assert!(model.validate().is_ok());
        let trace = model.interpret(ArrayD::from_shape_vec(IxDyn(&[1, c_in, h, w]), x.clone()).unwrap()).unwrap();
        let y = trace.get(TensorId(1));
        for o in 0..c_out {
            let mut full = vec![bias[o] as i128; fh * fw];
            for c in 0..c_in { for iy in 0..h { for ix in 0..w { for ky in 0..k { for kx in 0..k {
                full[(iy * stride + ky) * fw + ix * stride + kx] +=
                    x[(c * h + iy) * w + ix] as i128 * wt[((c * c_out + o) * k + ky) * k + kx] as i128;
            }}}}}
            for oy in 0..oh { for ox in 0..ow {
                prop_assert_eq!(Some(y[[0, o, oy, ox]]), clamp16(naive_rescale(full[(oy + pad) * fw + ox + pad], shift)));
            }}
        }
    }

    #[test]
    fn corrupted_model_bytes_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/zoo/digits_cnn.onnx")).unwrap();
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        // Ok or a typed error; then quantizing and running must not panic either.
        if let Ok(graph) = onnx::import_bytes(&bytes, &Default::default()) {
            let x = ArrayD::from_elem(IxDyn(&graph.tensor(graph.input).shape), 0.5f32);
            if let Ok(model) = quantize(&graph, std::slice::from_ref(&x), &QuantSettings::default()) {
                let _ = model.run(&x);
            }
        }
    }

    #[test]
    fn random_onnx_models_import_quantize_and_run(spec in model_spec()) {
        let bytes = encode(&spec);
        let graph = onnx::import_bytes(&bytes, &Default::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let n_in = spec.widths[0];
        let samples: Vec<ArrayD<f32>> = (0..8)
            .map(|s| ArrayD::from_shape_fn(IxDyn(&[1, n_in]), |i| (((i[1] * 7 + s * 13) % 17) as f32 / 8.0) - 1.0))
            .collect();
        let model = quantize(&graph, &samples, &QuantSettings::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for x in &samples {
            let a = model.run(x).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&a, &model.run(x).unwrap());
            let float = graph.evaluate(x.clone());
            let out = graph.outputs[0];
            prop_assert_eq!(float.get(out).shape(), a.get(out).shape());
        }
    }
}

/// A random chain: Gemm layers of random widths with a random activation after each.
#[derive(Debug, Clone)]
struct ModelSpec {
    widths: Vec<usize>,
    activations: Vec<u8>,
    weights: Vec<Vec<f32>>,
}

fn model_spec() -> impl Strategy<Value = ModelSpec> {
    prop::collection::vec(1usize..9, 2..5).prop_flat_map(|widths| {
        let layers = widths.len() - 1;
        let weights =
            widths.windows(2).map(|p| prop::collection::vec(-1.0f32..1.0, p[0] * p[1] + p[1])).collect::<Vec<_>>();
        (Just(widths), prop::collection::vec(0u8..6, layers), weights)
            .prop_map(|(widths, activations, weights)| ModelSpec { widths, activations, weights })
    })
}

fn value_info(name: &str, dims: &[i64]) -> proto::ValueInfoProto {
    proto::ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(proto::TypeProto {
            tensor_type: Some(proto::TypeProtoTensor {
                elem_type: Some(proto::data_type::FLOAT),
                shape: Some(proto::TensorShapeProto {
                    dim: dims.iter().map(|&d| proto::Dimension { dim_value: Some(d), dim_param: None }).collect(),
                }),
            }),
        }),
    }
}

fn tensor(name: &str, dims: &[i64], data: &[f32]) -> proto::TensorProto {
    proto::TensorProto {
        name: Some(name.into()),
        dims: dims.to_vec(),
        data_type: Some(proto::data_type::FLOAT),
        float_data: data.to_vec(),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<proto::AttributeProto>) -> proto::NodeProto {
    proto::NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: Some(format!("{op}_{output}")),
        op_type: Some(op.into()),
        domain: None,
        attribute,
    }
}

fn float_attr(name: &str, v: f32) -> proto::AttributeProto {
    proto::AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::attribute_type::FLOAT),
        f: Some(v),
        ..Default::default()
    }
}

fn encode(spec: &ModelSpec) -> Vec<u8> {
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut cur = "input".to_string();
    for (l, pair) in spec.widths.windows(2).enumerate() {
        let (i, o) = (pair[0], pair[1]);
        let w = &spec.weights[l];
        inits.push(tensor(&format!("w{l}"), &[i as i64, o as i64], &w[..i * o]));
        inits.push(tensor(&format!("b{l}"), &[o as i64], &w[i * o..]));
        let g = format!("g{l}");
        nodes.push(node("Gemm", &[&cur, &format!("w{l}"), &format!("b{l}")], &g, vec![]));
        let a = format!("a{l}");
        let act = match spec.activations[l] {
            0 => node("Relu", &[&g], &a, vec![]),
            1 => node("LeakyRelu", &[&g], &a, vec![float_attr("alpha", 0.2)]),
            2 => node("Sigmoid", &[&g], &a, vec![]),
            3 => node("Tanh", &[&g], &a, vec![]),
            4 => node("Clip", &[&g], &a, vec![float_attr("min", -0.5), float_attr("max", 0.75)]),
            _ => node("Identity", &[&g], &a, vec![]),
        };
        nodes.push(act);
        cur = a;
    }
    let last = *spec.widths.last().unwrap() as i64;
    nodes.push(node("Softmax", &[&cur], "probs", vec![]));
    let model = proto::ModelProto {
        ir_version: Some(8),
        opset_import: vec![proto::OperatorSetIdProto { domain: Some(String::new()), version: Some(10) }],
        producer_name: Some("proptest".into()),
        graph: Some(proto::GraphProto {
            node: nodes,
            name: Some("random".into()),
            initializer: inits,
            input: vec![value_info("input", &[1, spec.widths[0] as i64])],
            output: vec![value_info("probs", &[1, last])],
            value_info: vec![],
        }),
    };
    model.encode_to_vec()
}
