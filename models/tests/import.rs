//! ONNX import: the float graph matches onnxruntime on every zoo model and fixture, and bad
//! files get the typed error that names the problem.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use zkinfer_models::ImportError;
use zkinfer_models::graph::Op;
use zkinfer_models::onnx::{ImportOptions, import_bytes, import_file};

#[test]
fn float_graph_matches_onnxruntime() {
    for name in ZOO.iter().chain(FIXTURES) {
        let graph = import(name);
        let exp = expected(name);
        let shape = graph.tensor(graph.input).shape.clone();
        for (x, outs) in exp.inputs.iter().zip(&exp.outputs) {
            let trace = graph.evaluate(ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).expect("input shape"));
            for (&o, want) in graph.outputs.iter().zip(outs) {
                let got = trace.get(o);
                assert_eq!(got.len(), want.len(), "{name}");
                for (g, w) in got.iter().zip(want) {
                    assert!((g - w).abs() <= 1e-4 * (1.0 + w.abs()), "{name}: {g} vs onnxruntime {w}");
                }
            }
        }
    }
}

#[test]
fn batch_norm_and_bias_adds_are_folded_into_the_layer() {
    let graph = import("fixture_conv");
    let kinds: Vec<_> = graph.nodes.iter().map(|n| n.op.kind()).collect();
    assert_eq!(kinds[..2], ["Conv2d", "Relu"], "BatchNormalization folded into the Conv: {kinds:?}");
    let graph = import("fixture_activations");
    assert!(matches!(&graph.nodes[0].op, Op::Dense(d) if d.bias.is_some()), "MatMul + Add became one Dense");
}

#[test]
fn qdq_model_imports_as_fake_quantization() {
    let graph = import("fixture_qdq_mlp");
    let fq = graph.nodes.iter().filter(|n| matches!(n.op, Op::FakeQuantize(_))).count();
    assert_eq!(fq, 2, "input and hidden activation pairs");
    let dense = graph.nodes.iter().filter(|n| matches!(n.op, Op::Dense(_))).count();
    assert_eq!(dense, 2, "dequantized weights folded into Dense layers");
}

fn import_err(name: &str, options: &ImportOptions) -> ImportError {
    match import_file(&path(name, ".onnx"), options) {
        Ok(_) => panic!("{name} imported, but it must be refused"),
        Err(e) => e,
    }
}

#[test]
fn file_that_is_not_onnx_is_refused() {
    let e = import_err("bad_not_onnx", &Default::default());
    assert!(matches!(e, ImportError::NotOnnx { .. }), "{e:?}");
    let e = import_bytes(&[], &Default::default()).expect_err("empty input");
    assert!(matches!(e, ImportError::NotOnnx { .. }), "{e:?}");
}

#[test]
fn truncated_file_is_refused() {
    let e = import_err("bad_truncated", &Default::default());
    assert!(matches!(e, ImportError::NotOnnx { .. }), "{e:?}");
    // Every prefix of a real model is refused with a typed error, never a panic.
    let bytes = std::fs::read(path("digits_cnn", ".onnx")).expect("zoo file");
    for cut in (0..bytes.len()).step_by(97) {
        assert!(import_bytes(&bytes[..cut], &Default::default()).is_err(), "prefix of {cut} bytes");
    }
}

#[test]
fn unsupported_op_names_the_op_and_the_node() {
    let e = import_err("bad_unsupported_op", &Default::default());
    assert!(
        matches!(&e, ImportError::UnsupportedOp { op_type, node, .. } if op_type == "Asinh" && node == "asinh_node"),
        "{e:?}"
    );
    assert!(e.to_string().contains("Asinh") && e.to_string().contains("asinh_node"));
}

#[test]
fn unsupported_attribute_is_named() {
    let e = import_err("bad_dilated_conv", &Default::default());
    assert!(
        matches!(&e, ImportError::UnsupportedAttribute { attribute, node, .. } if attribute == "dilations" && node == "dilated_conv"),
        "{e:?}"
    );
}

#[test]
fn dynamic_batch_needs_an_override() {
    let e = import_err("bad_dynamic_batch", &Default::default());
    match &e {
        ImportError::DynamicDimension { input, axis, dim, hint } => {
            assert_eq!((input.as_str(), *axis, dim.as_str()), ("input", Some(0), "N"));
            assert!(hint.contains("--batch 1"), "{hint}");
        }
        other => panic!("{other:?}"),
    }
    let by_batch =
        import_file(&path("bad_dynamic_batch", ".onnx"), &ImportOptions { batch: Some(1), ..Default::default() })
            .expect("--batch 1 fixes it");
    assert_eq!(by_batch.tensor(by_batch.input).shape, vec![1, 64]);
    let mut dims = std::collections::BTreeMap::new();
    dims.insert("N".to_string(), 1);
    let by_name = import_file(&path("bad_dynamic_batch", ".onnx"), &ImportOptions { dims, ..Default::default() })
        .expect("--dim N=1 fixes it");
    assert_eq!(by_name, by_batch);
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let options = ImportOptions { max_model_bytes: 100, ..Default::default() };
    let e = import_err("digits_mlp", &options);
    assert!(matches!(e, ImportError::TooLarge { limit: 100, .. }), "{e:?}");
}

#[test]
fn supported_op_list_matches_the_importers() {
    let mut a = zkinfer_models::onnx::supported_ops();
    let mut b = zkinfer_models::SUPPORTED_OPS.to_vec();
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

/// Weights in a data file beside the model (ONNX external data): read from the named range;
/// a location outside the model's directory, a link, a range beyond the file, a missing file
/// and the size limit are refused with the tensor or file named; from bytes alone (no directory) the
/// error says to import the file.
#[test]
fn external_tensor_data_is_read_from_beside_the_model_and_checked() {
    use zkinfer_models::onnx::proto::{StringStringEntryProto, TensorProto, data_type};
    let dir = std::env::temp_dir().join(format!("zkinfer_external_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let w: Vec<f32> = (0..12).map(|i| i as f32 / 8.0 - 0.5).collect();
    let mut data = vec![0u8; 16];
    data.extend(w.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(dir.join("m.onnx.data"), &data).unwrap();
    let write = |location: &str, offset: usize, length: usize| {
        let entry = |k: &str, v: String| StringStringEntryProto { key: Some(k.into()), value: Some(v) };
        let weight = TensorProto {
            dims: vec![4, 3],
            data_type: Some(data_type::FLOAT),
            name: Some("w".into()),
            external_data: vec![
                entry("location", location.into()),
                entry("offset", offset.to_string()),
                entry("length", length.to_string()),
            ],
            data_location: Some(1),
            ..Default::default()
        };
        let bytes = proto::model(
            13,
            vec![proto::node("MatMul", "/mm", &["x", "w"], &["y"], vec![])],
            vec![weight],
            proto::value_info("x", &[Some(1), Some(4)]),
        );
        std::fs::write(dir.join("m.onnx"), &bytes).unwrap();
        bytes
    };
    let path = dir.join("m.onnx");
    write("m.onnx.data", 16, 48);
    let graph = import_file(&path, &ImportOptions::default()).unwrap();
    let Op::Dense(d) = &graph.nodes[0].op else { panic!("{:?}", graph.nodes[0].op) };
    assert_eq!(d.weight.t().iter().copied().collect::<Vec<_>>(), w, "the weights from bytes 16..64");

    // The import error for a model whose weight is at `location`, `offset`, `length`.
    let refused = |location: &str, offset: usize, length: usize| {
        write(location, offset, length);
        import_file(&path, &ImportOptions::default()).unwrap_err().to_string()
    };
    for (location, offset, says) in [
        ("../m.onnx.data", 16, "below the model's directory"),
        ("/etc/passwd", 0, "below the model's directory"),
        ("m.onnx.data", 40, "lies beyond"),
        ("missing.data", 0, "missing.data"),
    ] {
        let e = refused(location, offset, 48);
        assert!(e.contains(says), "{location}: {e}");
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("m.onnx.data"), dir.join("link.data")).unwrap();
        let e = refused("link.data", 16, 48);
        assert!(e.contains("not a plain file"), "{e}");
    }
    let bytes = write("m.onnx.data", 16, 48);
    let small = ImportOptions { max_model_bytes: bytes.len() + 10, ..Default::default() };
    assert!(matches!(import_file(&path, &small), Err(ImportError::TooLarge { .. })));
    let e = import_bytes(&bytes, &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("import the model from its file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
