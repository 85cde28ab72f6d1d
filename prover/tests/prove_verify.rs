//! Proofs end to end with the stock halo2 prover, and every tampering the verifier must reject.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::FunctionTables;
use zkinfer_circuits::plan::PlanOptions;
use zkinfer_models::data::InputData;
use zkinfer_models::onnx;
use zkinfer_models::quantize::QuantSettings;
use zkinfer_models::quantized::QOp;
use zkinfer_prover::params::ParamsCache;
use zkinfer_prover::{Proof, Prover, compile_graph};
use zkinfer_verifier::params::{params_from_bytes, params_to_bytes};
use zkinfer_verifier::{CompiledModel, ProofEnvelope, Verifier, VerifyError};

fn cache() -> ParamsCache {
    ParamsCache::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params"))
}

fn dir(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") }
}

fn compiled(name: &str) -> (CompiledModel, Vec<ndarray::ArrayD<f32>>) {
    let d = dir(name);
    let graph = onnx::import_file(&d.join(format!("{name}.onnx")), &Default::default()).expect("import");
    let shape = graph.tensor(graph.input).shape.clone();
    let cal =
        InputData::from_file(&d.join(format!("{name}.calibration.json"))).and_then(|x| x.samples(&shape)).expect("cal");
    let c = compile_graph(&graph, &cal, &QuantSettings::default(), name, Default::default()).expect("compile");
    (c.compiled, cal)
}

struct Setup {
    prover: Prover,
    proof: Proof,
    verifier: Verifier,
}

fn digits_mlp() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let (compiled, inputs) = compiled("digits_mlp");
        let params = cache().load_or_generate(compiled.k).expect("params");
        let prover = Prover::new(compiled.clone(), params.params.clone(), params.hash).expect("keygen");
        let proof = prover.prove(&inputs[0], &mut StdRng::seed_from_u64(7)).expect("prove");
        let verifier = Verifier::new(compiled, params.params, params.hash).expect("verifier");
        Setup { prover, proof, verifier }
    })
}

#[test]
fn digits_mlp_proves_and_verifies_with_the_interpreters_outputs() {
    let s = digits_mlp();
    let bytes = s.proof.envelope.to_bytes();
    let envelope = ProofEnvelope::from_bytes(&bytes).expect("round trip");
    let verified = s.verifier.verify(&envelope).expect("valid proof");
    let model = &s.prover.compiled().model;
    let logits: Vec<i64> = s.proof.trace.get(model.outputs[0]).iter().copied().collect();
    assert_eq!(verified.outputs[0].values, logits, "the proven outputs are the interpreter's");
}

#[test]
fn proofs_are_deterministic_with_a_seeded_rng() {
    let s = digits_mlp();
    let (_, inputs) = compiled("digits_mlp");
    let again = s.prover.prove(&inputs[0], &mut StdRng::seed_from_u64(7)).expect("prove");
    assert_eq!(again.envelope, s.proof.envelope);
}

fn rejected(s: &Setup, env: &ProofEnvelope) -> VerifyError {
    s.verifier.verify(env).expect_err("tampered proof must be rejected")
}

#[test]
fn a_flipped_proof_byte_is_rejected() {
    let s = digits_mlp();
    for at in [0, 100, s.proof.envelope.proof.len() / 2, s.proof.envelope.proof.len() - 1] {
        let mut env = s.proof.envelope.clone();
        env.proof[at] ^= 1;
        let e = rejected(s, &env);
        assert!(matches!(e, VerifyError::InvalidProof(_)), "byte {at}: {e:?}");
        assert!(!e.is_malformed());
    }
}

#[test]
fn an_altered_output_is_rejected() {
    let s = digits_mlp();
    let mut env = s.proof.envelope.clone();
    *env.public_values.last_mut().expect("outputs") += 1;
    assert!(matches!(rejected(s, &env), VerifyError::InvalidProof(_)));
    // A value beyond its tensor's range (e.g. an aliased field element) is refused before halo2.
    let mut env = s.proof.envelope.clone();
    *env.public_values.last_mut().expect("outputs") = i64::MAX;
    assert!(matches!(rejected(s, &env), VerifyError::PublicRange { .. }));
}

#[test]
fn trailing_bytes_are_rejected() {
    let s = digits_mlp();
    let mut env = s.proof.envelope.clone();
    env.proof.push(0);
    assert!(matches!(rejected(s, &env), VerifyError::ProofLength { .. }));
    env.proof_len += 1;
    assert!(matches!(rejected(s, &env), VerifyError::TrailingBytes(1)));
    // And in the file itself: one extra byte after the envelope.
    let mut bytes = s.proof.envelope.to_bytes();
    bytes.push(0);
    assert!(ProofEnvelope::from_bytes(&bytes).is_err());
}

#[test]
fn zero_padded_or_missing_public_values_are_rejected() {
    let s = digits_mlp();
    let mut env = s.proof.envelope.clone();
    env.public_values.push(0);
    assert!(matches!(rejected(s, &env), VerifyError::PublicCount { .. }));
    env.public_values.truncate(env.public_values.len() - 2);
    assert!(matches!(rejected(s, &env), VerifyError::PublicCount { .. }));
}

#[test]
fn a_proof_for_another_model_is_rejected() {
    let s = digits_mlp();
    // Same k, another model: the circuit identity differs.
    let (other, _) = compiled("fixture_qdq_mlp");
    assert_eq!(other.k, s.prover.compiled().k, "the test needs two models with the same k");
    let params = cache().load_or_generate(other.k).expect("params");
    let verifier = Verifier::new(other, params.params, params.hash).expect("verifier");
    let e = verifier.verify(&s.proof.envelope).expect_err("another model");
    assert!(matches!(e, VerifyError::Identity { .. }), "{e:?}");
}

#[test]
fn wrong_params_are_rejected() {
    let s = digits_mlp();
    let k = s.prover.compiled().k;
    // Params for another k cannot rebuild this circuit.
    let other = cache().load_or_generate(k + 1).expect("params");
    let e = Verifier::new(s.prover.compiled().clone(), other.params, other.hash).expect_err("wrong k");
    assert!(matches!(e, VerifyError::K { .. }), "{e:?}");
    // A params file altered on disk fails its content hash.
    let good = cache().load_or_generate(k).expect("params");
    let mut bytes = params_to_bytes(&good.params);
    let n = bytes.len();
    bytes[n - 40] ^= 1;
    assert!(params_from_bytes(&bytes).is_err());
    // Params whose hash differs from the one the proof was made with are refused.
    let mut env = s.proof.envelope.clone();
    env.params_hash[0] ^= 1;
    assert!(matches!(rejected(s, &env), VerifyError::Params { .. }));
}

#[test]
fn an_input_outside_the_calibrated_range_is_refused_before_proving() {
    let s = digits_mlp();
    let (_, inputs) = compiled("digits_mlp");
    let mut x = inputs[0].clone();
    x[[0, 0]] = 100.0;
    assert!(matches!(s.prover.prove(&x, &mut StdRng::seed_from_u64(1)), Err(zkinfer_prover::ProveError::Input(_))));
}

/// A QDQ model clamps its input as it quantizes it: the clamp has no rows, the prover saturates
/// a real input into it, and the verifier refuses a public input beyond it (the circuit alone
/// would not); the clamp's bounds are part of the circuit identity.
#[test]
fn a_qdq_models_input_clamp_is_checked_by_the_verifier() {
    let (compiled, inputs) = compiled("fixture_qdq_mlp");
    let (lo, hi) = compiled.model.input_clamp().expect("a QuantizeLinear on the input");
    let width = compiled.model.tensor(compiled.model.input).range();
    assert!(lo > width.0 && hi < width.1, "the clamp {:?} narrows the width's range {width:?}", (lo, hi));
    let params = cache().load_or_generate(compiled.k).expect("params");
    let prover = Prover::new(compiled.clone(), params.params.clone(), params.hash).expect("keygen");
    let mut x = inputs[0].clone();
    x[[0, 0]] = 1e6;
    let proof = prover.prove(&x, &mut StdRng::seed_from_u64(5)).expect("a saturated input proves");
    assert_eq!(proof.envelope.public_values[0], hi);
    let verifier = Verifier::new(compiled.clone(), params.params, params.hash).expect("verifier");
    verifier.verify(&proof.envelope).expect("honest proof");
    let mut env = proof.envelope.clone();
    env.public_values[0] = hi + 1;
    let e = verifier.verify(&env).expect_err("beyond the clamp");
    assert!(matches!(e, VerifyError::PublicRange { index: 0, .. }), "{e:?}");
    // Widening the clamp in the compiled model changes what a verifier accepts: another identity.
    let mut wider = compiled.clone();
    for node in &mut wider.model.nodes {
        if let QOp::Clip(c) = &mut node.op
            && node.inputs == [wider.model.input]
        {
            c.max += 1;
        }
    }
    assert_ne!(zkinfer_verifier::public_interface(&compiled), zkinfer_verifier::public_interface(&wider));
}

#[test]
fn every_zoo_and_fixture_model_proves_except_the_large_ones() {
    // The 784-128-10 MLP and LeNet prove in the benches; CI keeps to small circuits.
    for name in [
        "digits_cnn",
        "digits_mlp_sigmoid",
        "digits_mlp_tanh",
        "fixture_conv",
        "fixture_nhwc",
        "fixture_qdq_mlp",
        "fixture_activations",
    ] {
        let (compiled, inputs) = compiled(name);
        let params = cache().load_or_generate(compiled.k).expect("params");
        let prover = Prover::new(compiled, params.params, params.hash).expect("keygen");
        let proof = prover.prove(&inputs[0], &mut StdRng::seed_from_u64(3)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!proof.verified.outputs.is_empty(), "{name}");
    }
}

/// Function tables never set `k` when the rows need fewer: `compile_graph` shortens the tables
/// of the Sigmoid and Tanh MLPs and of the activations fixture (trimmed, inputs rounded) so that
/// each circuit is as small as its rows allow, where whole full-precision tables need 2^13 or
/// 2^14 rows.
#[test]
fn function_tables_do_not_raise_k() {
    for (name, full_k) in [("digits_mlp_sigmoid", 13), ("digits_mlp_tanh", 13), ("fixture_activations", 14)] {
        let d = dir(name);
        let graph = onnx::import_file(&d.join(format!("{name}.onnx")), &Default::default()).unwrap();
        let shape = graph.tensor(graph.input).shape.clone();
        let cal =
            InputData::from_file(&d.join(format!("{name}.calibration.json"))).and_then(|x| x.samples(&shape)).unwrap();
        // Full precision, whole tables.
        let unlimited = QuantSettings { max_table_rows: Some(u32::MAX), ..QuantSettings::default() };
        let whole = PlanOptions { tables: Some(FunctionTables::Whole), ..Default::default() };
        let full = compile_graph(&graph, &cal, &unlimited, name, whole).unwrap();
        assert_eq!((full.plan.k, full.chosen_table_limit), (full_k, None), "{name}: full tables");
        let c = compile_graph(&graph, &cal, &QuantSettings::default(), name, Default::default()).unwrap();
        assert!(c.plan.function_table_rows <= c.plan.function_table_budget, "{name}: {:?}", c.plan);
        assert_eq!(c.plan.k, 10, "{name}: the rows and the range table need 2^10");
        assert!(c.plan.rows < 1 << 10);
        let shifted = |m: &zkinfer_models::QuantizedModel| {
            m.nodes.iter().any(|n| {
                matches!(&n.op, QOp::Lookup(l) if l.input_shift > 0)
                    || matches!(&n.op, QOp::Softmax(s) if s.input_shift > 0)
            })
        };
        // The sigmoid MLP fits by trimming alone; the others drop input bits.
        assert_eq!(shifted(&c.compiled.model), name != "digits_mlp_sigmoid", "{name}");
        assert_eq!(c.chosen_table_limit.is_some(), name != "digits_mlp_sigmoid", "{name}");
    }
}

#[test]
fn a_key_file_gives_the_same_proofs_and_only_fits_its_model_and_params() {
    use zkinfer_prover::device::ChosenDevice;
    use zkinfer_prover::engine::EngineKind;
    use zkinfer_prover::key_file::{KeyFile, KeyFileError};
    let s = digits_mlp();
    let (model, inputs) = compiled("digits_mlp");
    let (other, _) = compiled("digits_cnn");
    let params = cache().load_or_generate(model.k).expect("params");
    let key = KeyFile::from_bytes(&s.prover.key_file().to_bytes()).expect("the key file round-trips");
    assert!(key.polynomials.is_some(), "the engine's key file carries the precomputed polynomials");
    let with_key = |key: &KeyFile, model: CompiledModel| {
        let (p, h) = (params.params.clone(), params.hash);
        Prover::with_key_file(model, p, h, EngineKind::Cpu, &ChosenDevice::cpu(), key)
    };
    let prover = with_key(&key, model.clone()).expect("the key file fits");
    let proof = prover.prove(&inputs[0], &mut StdRng::seed_from_u64(7)).expect("prove");
    assert_eq!(proof.envelope, s.proof.envelope, "the same proof as with keygen's key");
    // Without the polynomials (the prover computes them) the same proof again.
    let commitments_only = KeyFile { polynomials: None, ..key.clone() };
    let round_trip = KeyFile::from_bytes(&commitments_only.to_bytes()).expect("a file without polynomials decodes");
    assert_eq!(round_trip, commitments_only);
    let proof = with_key(&round_trip, model.clone()).unwrap().prove(&inputs[0], &mut StdRng::seed_from_u64(7)).unwrap();
    assert_eq!(proof.envelope, s.proof.envelope, "the same proof, polynomials computed");

    // A damaged byte of the polynomials is refused by their digest; polynomials of the wrong
    // length with a matching digest by the engine.
    let mut bytes = key.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    assert!(matches!(KeyFile::from_bytes(&bytes), Err(KeyFileError::Damaged { .. })));
    let mut short = key.clone();
    short.polynomials.as_mut().unwrap().truncate(1000);
    let short = KeyFile::from_bytes(&short.to_bytes()).expect("a consistent file decodes");
    let e = with_key(&short, model.clone()).expect_err("polynomials of another shape");
    assert!(e.to_string().contains("do not fit the circuit: 1000 bytes"), "{e}");
    // A commitments-only body followed by bytes it does not announce.
    let mut trailing = commitments_only.to_bytes();
    trailing.push(0);
    assert!(matches!(KeyFile::from_bytes(&trailing), Err(KeyFileError::Format(_))));

    // Another model, other params, or commitments that do not give the recorded identity.
    let e = with_key(&key, other).expect_err("another model");
    assert!(e.to_string().contains("another compiled model"), "{e}");
    let mut other_params = key.clone();
    other_params.params_hash[0] ^= 1;
    let e = with_key(&other_params, model.clone()).expect_err("other params");
    assert!(e.to_string().contains("made with params"), "{e}");
    let mut swapped = key.clone();
    swapped.commitments.fixed.swap(0, 1);
    assert_ne!(swapped.commitments, key.commitments);
    let e = with_key(&swapped, model).expect_err("altered commitments");
    assert!(matches!(e, zkinfer_prover::ProveError::KeyFile(KeyFileError::Identity { .. })), "{e}");
    // Truncated files are typed errors.
    let bytes = key.to_bytes();
    for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(KeyFile::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}
