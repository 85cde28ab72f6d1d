//! Artifact formats: round trips, and untrusted bytes (truncated, corrupted, wrong kind, random)
//! give typed errors, never panics.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use zkinfer_circuits::plan;
use zkinfer_models::data::InputData;
use zkinfer_models::onnx;
use zkinfer_models::quantize::quantize;
use zkinfer_verifier::format::FormatError;
use zkinfer_verifier::{CompiledModel, ModelError, ProofEnvelope, VerificationBundle};

fn compiled(name: &str) -> CompiledModel {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/zoo");
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    let model = quantize(&graph, &cal, &Default::default()).unwrap();
    let p = plan::plan(&model).unwrap();
    CompiledModel { source: name.into(), model, layout: p.layout, k: p.k }
}

/// The committed bundle and proof decode and encode to the same bytes.
#[test]
fn committed_bundle_and_proof_round_trip_byte_for_byte() {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let bundle = std::fs::read(corpus.join("digits_mlp.zkv")).unwrap();
    assert_eq!(VerificationBundle::from_bytes(&bundle).unwrap().to_bytes().unwrap(), bundle);
    let proof = std::fs::read(corpus.join("digits_mlp.zkp")).unwrap();
    assert_eq!(ProofEnvelope::from_bytes(&proof).unwrap().to_bytes(), proof);
}

#[test]
fn compiled_models_round_trip() {
    for name in ["digits_mlp", "digits_cnn", "lenet_28"] {
        let m = compiled(name);
        let bytes = m.to_bytes();
        let back = CompiledModel::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, m);
    }
}

#[test]
fn damaged_model_files_give_typed_errors() {
    let m = compiled("digits_mlp");
    let bytes = m.to_bytes();
    assert!(matches!(CompiledModel::from_bytes(b"nonsense"), Err(ModelError::Format(FormatError::BadMagic))));
    let mut wrong_version = bytes.clone();
    wrong_version[8] = 9;
    assert!(matches!(CompiledModel::from_bytes(&wrong_version), Err(ModelError::Format(FormatError::Version { .. }))));
    let mut wrong_kind = bytes.clone();
    wrong_kind[10] = 2;
    assert!(matches!(CompiledModel::from_bytes(&wrong_kind), Err(ModelError::Format(FormatError::WrongKind { .. }))));
    assert!(matches!(ProofEnvelope::from_bytes(&bytes), Err(FormatError::WrongKind { .. })));
    // Every truncation and many single-byte corruptions: an error or (rarely) a valid model, never a panic.
    for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        assert!(CompiledModel::from_bytes(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    for at in (11..bytes.len()).step_by(bytes.len() / 211 + 1) {
        let mut b = bytes.clone();
        b[at] ^= 0x55;
        let _ = CompiledModel::from_bytes(&b);
    }
}

#[test]
fn a_compiled_model_whose_layout_is_not_derived_from_its_model_is_refused() {
    // A model with Sigmoid, Tanh and Softmax, and a layout that leaves out the function table
    // (and a k that fits that layout): without the table the lookups are gone and those outputs
    // would be free. Also every other field the planner derives.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/tests/fixtures");
    let graph = onnx::import_file(&dir.join("fixture_activations.onnx"), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join("fixture_activations.calibration.json")).unwrap().samples(&shape).unwrap();
    let model = quantize(&graph, &cal, &Default::default()).unwrap();
    let p = plan::plan(&model).unwrap();
    let honest = CompiledModel { source: "fixture".into(), model, layout: p.layout, k: p.k };
    assert_eq!(CompiledModel::from_bytes(&honest.to_bytes()).unwrap(), honest);
    let l = p.layout;
    let forged = [
        zkinfer_circuits::Layout { function_table: false, ..l },
        zkinfer_circuits::Layout { limbs: l.limbs + 1, ..l },
        zkinfer_circuits::Layout { weight_offset: 0, ..l },
    ];
    for layout in forged {
        let (spec, _) = zkinfer_circuits::compile::compile(&honest.model, layout, None).unwrap();
        let k = zkinfer_circuits::required_k(&spec);
        let m = CompiledModel { layout, k, ..honest.clone() };
        match CompiledModel::from_bytes(&m.to_bytes()) {
            Err(ModelError::Layout(zkinfer_circuits::CompileError::LayoutMismatch { declared, derived })) => {
                assert_eq!((declared, derived), (layout, l));
            }
            other => panic!("{layout:?} must be refused, got {other:?}"),
        }
    }
}
