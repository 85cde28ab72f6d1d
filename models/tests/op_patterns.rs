//! Ops as exporters write them around the layers, built here from the ONNX messages: 1-D
//! convolution and pooling (PyTorch's Conv1d, MaxPool1d), reductions over any axes, a zero Pad
//! in front of a window op (TensorFlow's asymmetric "SAME"), a Concat of activations, Exp and
//! Log, products of activations, nearest upsampling. Each imports to ops whose float result
//! equals the direct computation, and quantizes.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::proto::*;
use ndarray::{ArrayD, IxDyn};
use zkinfer_models::Graph;
use zkinfer_models::onnx::{ImportOptions, import_bytes};

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

/// Exp and Log as function tables: each imports, evaluates as the float function, and
/// quantizes to a lookup whose table follows the function at every input, saturating at the
/// output width; Log reads the lowest value at inputs at or below zero (floats: -inf, NaN).
/// The quantized outputs stay within the rounding of input and output of the float ones.
#[test]
fn exp_and_log_become_saturating_function_tables() {
    use zkinfer_models::numeric::{dequantize, signed_range};
    use zkinfer_models::quantized::{LookupFunction, QOp};
    type Function = fn(f64) -> f64;
    let cases: [(&str, LookupFunction, Function, f32, f32); 2] =
        [("Exp", LookupFunction::Exp, f64::exp, -3.0, 2.5), ("Log", LookupFunction::Log, f64::ln, 0.25, 6.0)];
    for (op, function, f, lo, hi) in cases {
        let graph = import(&model(
            13,
            vec![node(op, "/f", &["x"], &["y"], vec![])],
            vec![],
            value_info("x", &[Some(1), Some(16)]),
        ));
        let sample = |k: usize| {
            ArrayD::from_shape_fn(IxDyn(&[1, 16]), move |i| lo + (hi - lo) * (((i[1] * 7 + k * 3) % 16) as f32) / 15.0)
        };
        let samples: Vec<ArrayD<f32>> = (0..6).map(sample).collect();
        let y = graph.evaluate(samples[0].clone()).get(graph.outputs[0]).clone();
        for (v, x) in y.iter().zip(samples[0].iter()) {
            assert!((f64::from(*v) - f(f64::from(*x))).abs() < 1e-5, "{op}({x}) = {v}");
        }
        let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
        let QOp::Lookup(lookup) = &q.nodes[0].op else { panic!("{op}: {:?}", q.nodes[0].op) };
        assert_eq!(lookup.function, function);
        let (input, output) = (q.tensor(q.input), q.tensor(q.outputs[0]));
        let (min, max) = signed_range(output.bits);
        let table = &lookup.table;
        for (i, &value) in table.values.iter().enumerate() {
            let x = dequantize(table.input_min + i as i64, input.scale - lookup.input_shift as i32);
            let exact = if x > 0.0 || op == "Exp" { f(x) * 2f64.powi(output.scale) } else { f64::NEG_INFINITY };
            let want = if exact >= max as f64 {
                max
            } else if exact <= min as f64 {
                min
            } else {
                exact.round() as i64
            };
            assert_eq!(value, want, "{op} table at {x}");
        }
        assert!(table.input_min < 0, "{op}: the table covers the input's whole range");
        if op == "Log" {
            assert_eq!(table.get(0), Some(min), "log(0) reads the lowest value");
        }
        // Error: the input's rounding times the slope, plus the output's rounding.
        let slope = if op == "Exp" { f64::from(hi).exp() } else { 1.0 / f64::from(lo) };
        let bound = slope * 2f64.powi(-input.scale - 1) + 2f64.powi(-output.scale - 1);
        let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
        assert_eq!(report.refused, 0);
        assert!(report.outputs[0].max_abs_error <= bound * 1.01, "{op}: {:?} (bound {bound})", report.outputs);
    }
}

/// A normalization written out as exporters do, with its statistics as constants: Sqrt,
/// Reciprocal and Pow of constants fold, Neg of a tensor multiplies by -1, and the chain imports
/// as constant ops on the tensor (which later merge into a preceding layer) with the float
/// result of the formula. Powers and roots of run-time tensors, and a root of a negative
/// constant, are refused with the node named.
#[test]
fn constant_powers_and_roots_fold_into_an_affine_map() {
    use zkinfer_models::graph::{Op, RewriteAction};
    let (var, mean, gamma) = ([0.5f32, 2.0, 1.0, 4.0], [0.1f32, -0.2, 0.3, 0.0], [1.5f32, 0.5, -1.0, 2.0]);
    let eps = 1e-3f32;
    let nodes = |root_of: &str, power_of: &str| {
        vec![
            node("Add", "/ve", &["var", "eps"], &["ve"], vec![]),
            node("Sqrt", "/sd", &[root_of], &["sd"], vec![]),
            node("Reciprocal", "/inv", &["sd"], &["inv"], vec![]),
            node("Pow", "/g2", &[power_of, "two"], &["g2"], vec![]),
            node("Sub", "/c", &["x", "mean"], &["c"], vec![]),
            node("Mul", "/n", &["c", "inv"], &["n"], vec![]),
            node("Mul", "/s", &["n", "g2"], &["s"], vec![]),
            node("Neg", "/y", &["s"], &["y"], vec![]),
        ]
    };
    let init = || {
        vec![
            floats("var", &[4], &var),
            floats("eps", &[], &[eps]),
            floats("mean", &[4], &mean),
            floats("gamma", &[4], &gamma),
            floats("two", &[], &[2.0]),
            floats("negative", &[4], &[1.0, -1.0, 1.0, 1.0]),
        ]
    };
    let input = || value_info("x", &[Some(1), Some(4)]);
    let graph = import(&model(13, nodes("ve", "gamma"), init(), input()));
    assert!(
        graph.nodes.iter().all(|n| matches!(n.op, Op::AddConstant(_) | Op::MulConstant(_))),
        "{:?}",
        graph.nodes.iter().map(|n| n.op.kind()).collect::<Vec<_>>()
    );
    for name in ["/ve", "/sd", "/inv", "/g2"] {
        let r = graph.rewrites.iter().find(|r| r.node == name).unwrap_or_else(|| panic!("{name} not reported"));
        assert_eq!(r.action, RewriteAction::FoldedToConstant, "{name}");
    }
    let x = [0.7f32, -1.2, 2.0, 0.25];
    let y = graph.evaluate(ArrayD::from_shape_vec(IxDyn(&[1, 4]), x.to_vec()).unwrap()).get(graph.outputs[0]).clone();
    for i in 0..4 {
        let want = -((x[i] - mean[i]) / (var[i] + eps).sqrt() * gamma[i].powi(2));
        assert!((y[[0, i]] - want).abs() < 1e-5, "{i}: {} / {want}", y[[0, i]]);
    }
    let refused = |nodes| import_bytes(&model(13, nodes, init(), input()), &ImportOptions::default()).unwrap_err();
    let e = refused(nodes("x", "gamma")).to_string();
    assert!(e.contains("Sqrt '/sd' of a run-time tensor"), "{e}");
    let e = refused(nodes("ve", "x")).to_string();
    assert!(e.contains("Pow '/g2' of a run-time tensor"), "{e}");
    let e = refused(nodes("negative", "gamma")).to_string();
    assert!(e.contains("Sqrt '/sd' of a constant with a negative value"), "{e}");
}

/// Products of two activations: HardSwish (`x · HardSigmoid(x)`) and SiLU as exporters write
/// it (`Mul(x, Sigmoid(x))`) import with a Mul of two tensors, evaluate as the formula, and
/// quantize to an integer product whose outputs stay within the input's rounding of the float
/// ones.
#[test]
fn products_of_activations_import_and_quantize() {
    use zkinfer_models::quantized::QOp;
    let swish = vec![node("HardSwish", "/hs", &["x"], &["y"], vec![])];
    let silu = vec![node("Sigmoid", "/s", &["x"], &["g"], vec![]), node("Mul", "/y", &["x", "g"], &["y"], vec![])];
    type Formula = fn(f32) -> f32;
    let cases: [(&str, Vec<_>, Formula); 2] =
        [("HardSwish", swish, |v| v * (v / 6.0 + 0.5).clamp(0.0, 1.0)), ("SiLU", silu, |v| v / (1.0 + (-v).exp()))];
    for (name, nodes, formula) in cases {
        let graph = import(&model(14, nodes, vec![], value_info("x", &[Some(1), Some(16)])));
        let sample =
            |k: usize| ArrayD::from_shape_fn(IxDyn(&[1, 16]), move |i| ((i[1] * 5 + k) % 16) as f32 / 2.5 - 3.0);
        let samples: Vec<ArrayD<f32>> = (0..6).map(sample).collect();
        let y = graph.evaluate(samples[0].clone()).get(graph.outputs[0]).clone();
        for (v, x) in y.iter().zip(samples[0].iter()) {
            assert!((v - formula(*x)).abs() < 1e-5, "{name}({x}) = {v}");
        }
        let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
        assert!(q.nodes.iter().any(|n| matches!(n.op, QOp::Mul(_))), "{name}: {:?}", q.nodes);
        let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
        assert_eq!(report.refused, 0);
        // Both slopes stay below 1.5 on [-3, 3]: the input's rounding (half a step) moves the
        // output by at most 0.75 input steps; the gate's and the product's roundings add a few
        // output steps.
        let (input_step, step) = (2f64.powi(-q.tensor(q.input).scale), 2f64.powi(-q.tensor(q.outputs[0]).scale));
        let bound = input_step + 4.0 * step;
        assert!(report.outputs[0].max_abs_error <= bound, "{name}: {:?} (bound {bound})", report.outputs);
    }
}

/// Nearest-neighbour upsampling as exporters write it: PyTorch's Resize (asymmetric, floor,
/// constant scales, empty roi), opset 13's default half-pixel Resize with sizes, and Upsample
/// (opset 9): each imports as an upsampling whose output `(i, j)` is input `(i / fh, j / fw)`.
/// Linear interpolation, fractional factors and rounding rules that do not pick that input are
/// refused by name.
#[test]
fn nearest_resize_and_upsample_import_as_wiring() {
    use zkinfer_models::graph::Op;
    use zkinfer_models::graph::ops::Upsample;
    use zkinfer_models::onnx::proto::{AttributeProto, NodeProto, TensorProto};
    let input = || value_info("x", &[Some(1), Some(2), Some(3), Some(4)]);
    let pytorch = vec![
        string_attr("mode", "nearest"),
        string_attr("coordinate_transformation_mode", "asymmetric"),
        string_attr("nearest_mode", "floor"),
    ];
    let scales = |s: &[f32]| floats("scales", &[4], s);
    let cases: Vec<(i64, NodeProto, Vec<TensorProto>, [usize; 2])> = vec![
        (
            13,
            node("Resize", "/up", &["x", "", "scales"], &["y"], pytorch.clone()),
            vec![scales(&[1.0, 1.0, 2.0, 2.0])],
            [2, 2],
        ),
        (
            13,
            node("Resize", "/up", &["x", "", "", "sizes"], &["y"], vec![string_attr("mode", "nearest")]),
            vec![int64s("sizes", &[4], &[1, 2, 9, 4])],
            [3, 1],
        ),
        (9, node("Upsample", "/up", &["x", "scales"], &["y"], vec![]), vec![scales(&[1.0, 1.0, 1.0, 3.0])], [1, 3]),
    ];
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 3, 4]), |i| (i[1] * 100 + i[2] * 10 + i[3]) as f32);
    for (opset, n, init, factors) in cases {
        let graph = import(&model(opset, vec![n], init, input()));
        assert_eq!(graph.nodes.len(), 1);
        assert_eq!(graph.nodes[0].op, Op::Upsample(Upsample { factors }));
        let y = graph.evaluate(x.clone()).get(graph.outputs[0]).clone();
        assert_eq!(y.shape(), [1, 2, 3 * factors[0], 4 * factors[1]]);
        for (i, v) in y.indexed_iter() {
            assert_eq!(*v, x[[i[0], i[1], i[2] / factors[0], i[3] / factors[1]]], "{factors:?} at {i:?}");
        }
        let samples = vec![x.clone(), x.mapv(|v| -v / 2.0)];
        let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
        let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
        let step = 2f64.powi(-q.tensor(q.input).scale);
        assert!(report.outputs[0].max_abs_error <= step / 2.0, "{:?}", report.outputs);
    }
    let refused = |attrs: Vec<AttributeProto>, s: &[f32]| {
        let n = node("Resize", "/up", &["x", "", "scales"], &["y"], attrs);
        import_bytes(&model(13, vec![n], vec![scales(s)], input()), &ImportOptions::default()).unwrap_err().to_string()
    };
    let e = refused(vec![string_attr("mode", "linear")], &[1.0, 1.0, 2.0, 2.0]);
    assert!(e.contains("only \"nearest\""), "{e}");
    let e = refused(vec![string_attr("coordinate_transformation_mode", "align_corners")], &[1.0, 1.0, 2.0, 2.0]);
    assert!(e.contains("align_corners"), "{e}");
    let e = refused(vec![string_attr("coordinate_transformation_mode", "asymmetric")], &[1.0, 1.0, 3.0, 3.0]);
    assert!(e.contains("asymmetric"), "{e}");
    let e = refused(pytorch.clone(), &[1.0, 1.0, 1.5, 2.0]);
    assert!(e.contains("whole enlargement factors"), "{e}");
    let e = refused(pytorch, &[1.0, 2.0, 2.0, 2.0]);
    assert!(e.contains("whole enlargement factors"), "{e}");
}

/// A transposed convolution as PyTorch's `ConvTranspose2d(2, 3, 3, stride=2, padding=1,
/// output_padding=1)` exports it imports as one op whose float result equals the scatter
/// definition, and quantizes; grouped, dilated and output-shape forms are refused by name.
#[test]
fn a_transposed_convolution_imports_and_equals_its_definition() {
    use zkinfer_models::onnx::proto::AttributeProto;
    let (ci, co, k, s, p, h, w) = (2usize, 3usize, 3usize, 2usize, 1usize, 3usize, 4usize);
    let wt: Vec<f32> = (0..ci * co * k * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 8.0).collect();
    let bias = [0.1f32, -0.2, 0.3];
    let attrs = |extra: Vec<AttributeProto>| {
        let mut a =
            vec![ints_attr("strides", &[2, 2]), ints_attr("pads", &[1, 1, 1, 1]), ints_attr("output_padding", &[1, 1])];
        a.extend(extra);
        a
    };
    let build = |extra: Vec<AttributeProto>| {
        let n = node("ConvTranspose", "/up", &["x", "w", "b"], &["y"], attrs(extra));
        let init = vec![floats("w", &[2, 3, 3, 3], &wt), floats("b", &[3], &bias)];
        model(13, vec![n], init, value_info("x", &[Some(1), Some(2), Some(3), Some(4)]))
    };
    let graph = import(&build(vec![]));
    let (oh, ow) = ((h - 1) * s + k + 1 - 2 * p, (w - 1) * s + k + 1 - 2 * p);
    assert_eq!(graph.tensor(graph.outputs[0]).shape, [1, co, oh, ow]);
    let x = ArrayD::from_shape_fn(IxDyn(&[1, ci, h, w]), |i| ((i[1] * 12 + i[2] * 4 + i[3]) % 7) as f32 / 3.0 - 1.0);
    let y = graph.evaluate(x.clone()).get(graph.outputs[0]).clone();
    let (fh, fw) = (oh + 2 * p, ow + 2 * p);
    for o in 0..co {
        let mut full = vec![bias[o]; fh * fw];
        for c in 0..ci {
            for iy in 0..h {
                for ix in 0..w {
                    for ky in 0..k {
                        for kx in 0..k {
                            full[(iy * s + ky) * fw + ix * s + kx] +=
                                x[[0, c, iy, ix]] * wt[((c * co + o) * k + ky) * k + kx];
                        }
                    }
                }
            }
        }
        for oy in 0..oh {
            for ox in 0..ow {
                let want = full[(oy + p) * fw + ox + p];
                assert!((y[[0, o, oy, ox]] - want).abs() < 1e-5, "({o}, {oy}, {ox}): {} / {want}", y[[0, o, oy, ox]]);
            }
        }
    }
    let samples = vec![x.clone(), x.mapv(|v| -v)];
    let q = zkinfer_models::quantize::quantize(&graph, &samples, &Default::default()).unwrap();
    let report = zkinfer_models::fidelity::fidelity(&graph, &q, &samples);
    assert_eq!(report.refused, 0);
    assert!(report.outputs[0].max_abs_error < 0.1, "{:?}", report.outputs);
    for (extra, says) in [
        (int_attr("group", 2), "grouped"),
        (ints_attr("dilations", &[2, 2]), "dilation 1"),
        (ints_attr("output_shape", &[1, 3, 6, 8]), "output_shape"),
    ] {
        let e = import_bytes(&build(vec![extra]), &ImportOptions::default()).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }
}

/// PyTorch's `ConvTranspose1d(2, 3, 3, stride=2, padding=1, output_padding=1)` over an `[N, C,
/// L]` input imports as the 2-D form over height 1: its result equals the 2-D op's on the same
/// values laid out as `[N, C, 1, L]`; attributes of the wrong length are refused by name.
#[test]
fn a_one_dimensional_transposed_convolution_is_the_two_dimensional_one_of_height_one() {
    let wt: Vec<f32> = (0..2 * 3 * 3).map(|i| ((i * 5 % 11) as f32 - 5.0) / 8.0).collect();
    let bias = [0.1f32, -0.2, 0.3];
    let build = |one_d: bool, strides: &[i64]| {
        let attrs = if one_d {
            vec![ints_attr("strides", strides), ints_attr("pads", &[1, 1]), ints_attr("output_padding", &[1])]
        } else {
            vec![ints_attr("strides", &[1, 2]), ints_attr("pads", &[0, 1, 0, 1]), ints_attr("output_padding", &[0, 1])]
        };
        let (w_dims, x_dims): (&[i64], Vec<Option<i64>>) = if one_d {
            (&[2, 3, 3], vec![Some(1), Some(2), Some(5)])
        } else {
            (&[2, 3, 1, 3], vec![Some(1), Some(2), Some(1), Some(5)])
        };
        let n = node("ConvTranspose", "/up", &["x", "w", "b"], &["y"], attrs);
        model(13, vec![n], vec![floats("w", w_dims, &wt), floats("b", &[3], &bias)], value_info("x", &x_dims))
    };
    let one = import(&build(true, &[2]));
    let two = import(&build(false, &[]));
    assert_eq!(one.tensor(one.outputs[0]).shape, [1, 3, 10], "(5 - 1)·2 + 3 + 1 - 2");
    let x: Vec<f32> = (0..10).map(|i| (i % 7) as f32 / 3.0 - 1.0).collect();
    let y1 = one.evaluate(ArrayD::from_shape_vec(IxDyn(&[1, 2, 5]), x.clone()).unwrap());
    let y2 = two.evaluate(ArrayD::from_shape_vec(IxDyn(&[1, 2, 1, 5]), x).unwrap());
    let y1: Vec<f32> = y1.get(one.outputs[0]).iter().copied().collect();
    let y2: Vec<f32> = y2.get(two.outputs[0]).iter().copied().collect();
    assert_eq!(y1, y2);
    let e = import_bytes(&build(true, &[2, 2]), &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("strides") && e.contains("expected 1 value(s)"), "{e}");
}
