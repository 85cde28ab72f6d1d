//! The verification bundle and the conformance set: the Rust verifier accepts the valid proof
//! of the digits MLP from its bundle and rejects every tamper case with the expected message.
//! The set is also written to `target/conformance/digits_mlp/` for the JavaScript (Node and
//! Chromium) and Python tests, which check the same files (`scripts/test-all.sh` runs this
//! test first).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_models::data::InputData;
use zkinfer_models::onnx;
use zkinfer_models::quantize::{QuantSettings, quantize};
use zkinfer_prover::conformance::{ConformanceSet, tamper_cases};
use zkinfer_prover::engine::EngineKind;
use zkinfer_prover::params::ParamsCache;
use zkinfer_prover::{Prover, compile_model};
use zkinfer_verifier::{BundleError, ProofEnvelope, VerificationBundle, Verifier};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Compiles a zoo model, proves its first input sample, and returns the prover and envelope.
fn prove(name: &str) -> (Prover, ProofEnvelope) {
    let d = root().join("models/zoo");
    let graph = onnx::import_file(&d.join(format!("{name}.onnx")), &Default::default()).expect("import");
    let shape = graph.tensor(graph.input).shape.clone();
    let cal =
        InputData::from_file(&d.join(format!("{name}.calibration.json"))).and_then(|x| x.samples(&shape)).expect("cal");
    let input =
        InputData::from_file(&d.join(format!("{name}.input.json"))).and_then(|x| x.samples(&shape)).expect("in");
    let model = quantize(&graph, &cal, &QuantSettings::default()).expect("quantize");
    let (compiled, _) = compile_model(model, &format!("{name}.onnx"), Default::default()).expect("plan");
    let params = ParamsCache::new(root().join("target/zkinfer-params")).load_or_generate(compiled.k).expect("params");
    // The checking engine: both engines prove on the same randomness and must agree byte for byte.
    let prover = Prover::with_engine(compiled, params.params, params.hash, EngineKind::Check).expect("keygen");
    let proof = prover.prove(&input[0], &mut StdRng::seed_from_u64(11)).expect("prove");
    (prover, proof.envelope)
}

#[test]
fn the_bundle_verifies_the_digits_mlp_and_rejects_every_tamper_case() {
    let (prover, valid) = prove("digits_mlp");
    let (_, other) = prove("digits_cnn");
    assert_eq!(other.k, valid.k, "the other-model case needs the same k");
    let labels: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let params =
        ParamsCache::new(root().join("target/zkinfer-params")).load_or_generate(prover.compiled().k).expect("params");
    let bundle = prover.bundle(&params.params, &[labels]).expect("bundle");
    let bundle_bytes = bundle.to_bytes().expect("encode");

    // Valid: the same outputs as the prover's self-check, with the predicted label.
    let verifier = Verifier::from_bundle_bytes(&bundle_bytes).expect("bundle");
    let verified = verifier.verify_bytes(&valid.to_bytes()).expect("valid proof");
    assert_eq!(verified.outputs[0].values, valid.public_values[64..].to_vec());
    let predicted = verified.predicted.clone().expect("a single sample's scores");
    assert_eq!(predicted.label.as_deref(), Some(predicted.class.to_string().as_str()));
    // A second proof with the same verifier (the kept key) verifies too.
    assert_eq!(verifier.verify_bytes(&valid.to_bytes()).expect("again"), verified);

    let cases = tamper_cases(&bundle_bytes, &valid, &other);
    assert!(cases.len() >= 15);
    for name in ["replaced_key_commitment", "key_commitment_not_a_point"] {
        assert!(cases.iter().any(|c| c.name == name), "no {name} case");
    }
    for case in &cases {
        let message = match &case.bundle {
            None => verifier.verify_bytes(&case.proof).map(|_| ()).map_err(|e| e.to_string()),
            Some(b) => Verifier::from_bundle_bytes(b)
                .map_err(|e| e.to_string())
                .and_then(|v| v.verify_bytes(&case.proof).map(|_| ()).map_err(|e| e.to_string())),
        }
        .expect_err(case.name);
        assert!(message.contains(case.error), "{}: '{message}' lacks '{}'", case.name, case.error);
    }

    let set = ConformanceSet {
        bundle: bundle_bytes,
        proof: valid.to_bytes(),
        expected_json: serde_json::to_string_pretty(&verified).expect("json"),
        cases,
    };
    set.write(&root().join("target/conformance/digits_mlp")).expect("write the conformance set");

    // The verifier's fuzz and bit-flip tests use a committed copy of this bundle and proof: it
    // must still be the circuit of today (after a circuit change, copy the two files over).
    let corpus = root().join("verifier/tests/corpus");
    let committed = VerificationBundle::from_bytes(&std::fs::read(corpus.join("digits_mlp.zkv")).expect("corpus"))
        .expect("the committed bundle decodes");
    assert_eq!(
        committed.circuit_identity,
        prover.identity(),
        "verifier/tests/corpus/ is stale: copy target/conformance/digits_mlp/bundle.zkv and proof.zkp \
         to verifier/tests/corpus/digits_mlp.zkv and digits_mlp.zkp"
    );
    let committed_proof = std::fs::read(corpus.join("digits_mlp.zkp")).expect("corpus");
    verifier.verify_bytes(&committed_proof).expect("the committed proof verifies");
    // Proofs are deterministic given the RNG: the committed proof was made with the seed used
    // here by the checking engine (the stock prover and zkinfer's, which must agree), so both
    // must reproduce it byte for byte.
    assert!(committed_proof == set.proof, "the proof of seed 11 differs from the committed one");
}

#[test]
fn a_bundle_whose_identity_does_not_match_its_contents_is_refused() {
    let (prover, _) = prove("digits_mlp");
    let compiled = prover.compiled().clone();
    let params = ParamsCache::new(root().join("target/zkinfer-params")).load_or_generate(compiled.k).expect("params");
    let mut identity = prover.identity();
    identity[0] ^= 1;
    let bundle =
        VerificationBundle::new(compiled, &params.params, params.hash, prover.key_commitments().clone(), identity, &[])
            .expect("bundle");
    let e = Verifier::from_bundle_bytes(&bundle.to_bytes().expect("encode")).expect_err("wrong identity");
    assert!(matches!(e, BundleError::Identity { .. }), "{e:?}");
    // Labels that do not match the output's classes are refused when decoding.
    let mut bad = bundle.clone();
    bad.outputs[0].labels = vec!["only one".into()];
    let e = VerificationBundle::from_bytes(&bad.to_bytes().expect("encode")).expect_err("wrong labels");
    assert!(matches!(e, BundleError::Outputs(_)), "{e:?}");
    // Any truncation of the bundle is a typed error, never a panic.
    let bytes = bundle.to_bytes().expect("encode");
    for cut in [0, 5, 11, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(VerificationBundle::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}
