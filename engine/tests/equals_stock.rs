//! The engine against the stock halo2 prover, the oracle it must equal:
//! - its keygen gives the verifying key stock `keygen_vk` gives (the same pinned text, so the
//!   same circuit identity and transcript representation), for zoo models and test fixtures in
//!   the planner's layout and both linear layouts;
//! - its proofs are the stock prover's bytes with the same seeded RNG, and verify.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use halo2_proofs::plonk::keygen_vk;
use zkinfer_circuits::layout::{ClampForm, FunctionTables, LinearLayout};
use zkinfer_circuits::{ModelCircuit, compile, plan, with_layout};
use zkinfer_models::data::InputData;
use zkinfer_models::{QuantizedModel, onnx, quantize};
use zkinfer_prover::params::ParamsCache;

fn quantized(name: &str) -> QuantizedModel {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
    let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
    let graph = onnx::import_file(&dir.join(format!("{name}.onnx")), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let cal = InputData::from_file(&dir.join(format!("{name}.calibration.json"))).unwrap().samples(&shape).unwrap();
    quantize::quantize(&graph, &cal, &Default::default()).unwrap()
}

fn check(name: &str) {
    let model = quantized(name);
    let mut plans = vec![plan::plan(&model).unwrap()];
    for linear in LinearLayout::ALL {
        for tables in FunctionTables::ALL {
            for clamps in ClampForm::ALL {
                let p = plan::plan_with_lanes(&model, linear, 16, tables, clamps).unwrap();
                if !plans.iter().any(|q| q.layout == p.layout) {
                    plans.push(p);
                }
            }
        }
    }
    for p in plans {
        let (spec, _) = compile::compile(&model, p.layout, None).unwrap();
        let params = common::params(p.k);
        let t = Instant::now();
        let stock =
            with_layout(p.layout, || keygen_vk(&params, &ModelCircuit::new(Arc::new(spec.clone()), None))).unwrap();
        let stock_time = t.elapsed();
        let t = Instant::now();
        let (keys, commitments) = zkinfer_engine::keygen::keygen(&params, &spec).unwrap();
        let own_time = t.elapsed();
        println!(
            "{name} {:?} lanes={} k={}: stock keygen_vk {:.0} ms, engine {:.0} ms",
            p.layout.linear,
            p.layout.lanes,
            p.k,
            stock_time.as_secs_f64() * 1e3,
            own_time.as_secs_f64() * 1e3
        );
        assert!(
            format!("{:?}", stock.pinned()) == keys.pinned_text(&commitments),
            "{name} {:?}: the engine's verifying key differs from stock keygen's",
            p.layout
        );
    }
}

#[test]
fn digits_mlp() {
    check("digits_mlp");
}

#[test]
fn digits_cnn() {
    check("digits_cnn");
}

#[test]
fn fixture_activations() {
    check("fixture_activations");
}

#[test]
fn fixture_conv() {
    check("fixture_conv");
}

#[test]
fn fixture_qdq_mlp() {
    check("fixture_qdq_mlp");
}

/// Whole proofs: the engine's bytes equal the stock prover's with the same seeded RNG, and the
/// stock verifier (through zkinfer's verifier) accepts them.
#[test]
fn the_engines_proofs_equal_the_stock_provers() {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use zkinfer_engine::prover::{ProvingKey, prove};
    for name in ["digits_mlp", "digits_cnn", "fixture_activations", "fixture_conv", "fixture_qdq_mlp"] {
        let model = quantized(name);
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models");
        let dir = if name.starts_with("fixture_") { root.join("tests/fixtures") } else { root.join("zoo") };
        let shape = model.tensor(model.input).shape.clone();
        let input = InputData::from_file(&dir.join(format!("{name}.input.json"))).unwrap().samples(&shape).unwrap();
        let (compiled, p) = zkinfer_prover::compile_model(model, name, Default::default()).unwrap();
        let cache = ParamsCache::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params"));
        let loaded = cache.load_or_generate(p.k).unwrap();
        let stock = zkinfer_prover::Prover::new(compiled.clone(), loaded.params.clone(), loaded.hash).unwrap();
        let t = Instant::now();
        let proof = stock.prove(&input[0], &mut StdRng::seed_from_u64(9)).unwrap();
        let stock_time = t.elapsed();

        let trace = compiled.model.run(&input[0]).unwrap();
        let (spec, witness) = compile::compile(&compiled.model, compiled.layout, Some(&trace)).unwrap();
        let pk = ProvingKey::new(&loaded.params, &spec).unwrap();
        let t = Instant::now();
        let ours = prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(9)).unwrap();
        let engine_time = t.elapsed();
        println!(
            "{name}: engine proof {:.0} ms, stock create_proof + self-check {:.0} ms, {} bytes",
            engine_time.as_secs_f64() * 1e3,
            stock_time.as_secs_f64() * 1e3,
            ours.len()
        );
        let same = ours.iter().zip(&proof.envelope.proof).take_while(|(a, b)| a == b).count();
        assert_eq!(
            (same, ours.len()),
            (proof.envelope.proof.len(), proof.envelope.proof.len()),
            "{name}: the engine's proof differs from byte {same}"
        );
        // The key read back from its stored form (a key file's) proves the same bytes.
        let stored =
            ProvingKey::from_stored(&loaded.params, &spec, pk.commitments.clone(), &mut &pk.precomputed.to_bytes()[..])
                .unwrap();
        let again = prove(&stored, &spec, &witness, &mut StdRng::seed_from_u64(9)).unwrap();
        assert!(again == ours, "{name}: the stored key's proof differs");
        // The stages run items in parallel; the bytes must not depend on how many threads.
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let on_pool = pool.install(|| prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(9)).unwrap());
            assert!(on_pool == ours, "{name}: the proof on {threads} threads differs");
        }
        let mut envelope = proof.envelope.clone();
        envelope.proof = ours;
        let verifier = zkinfer_verifier::Verifier::new(compiled, loaded.params, loaded.hash).unwrap();
        verifier.verify(&envelope).expect("the stock verifier accepts the engine's proof");
    }
}

/// Stored key polynomials are refused unless they have the circuit's exact length and every
/// value is a canonical field element; what decodes re-encodes to the same bytes.
#[test]
fn stored_key_polynomials_are_checked() {
    use ff::PrimeField;
    use halo2_proofs::pasta::Fp;
    use zkinfer_engine::EngineError;
    use zkinfer_engine::prover::ProvingKey;
    use zkinfer_engine::prover::precomputed::{FIELD_BYTES, Precomputed, PrecomputedShape};
    let model = quantized("digits_mlp");
    let p = plan::plan(&model).unwrap();
    let (spec, _) = compile::compile(&model, p.layout, None).unwrap();
    let params = common::params(p.k);
    let pk = ProvingKey::new(&params, &spec).unwrap();
    let bytes = pk.precomputed.to_bytes();
    let shape = PrecomputedShape::of(&pk.keys, p.k);
    assert_eq!(pk.precomputed.shape(), shape);
    assert_eq!(PrecomputedShape::of_layout(spec.layout, &pk.keys.domain, p.k), shape);
    assert_eq!(Some(bytes.len()), shape.encoded_len());
    assert_eq!(shape.column_lengths().iter().sum::<usize>() * FIELD_BYTES, bytes.len());
    let decoded = Precomputed::from_bytes(&bytes, &pk.keys, p.k).unwrap();
    assert!(decoded.to_bytes() == bytes, "a decoded key re-encodes to other bytes");

    let refused = |bytes: &[u8]| match Precomputed::from_bytes(bytes, &pk.keys, p.k) {
        Err(EngineError::KeyPolynomials(why)) => why,
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.shape())),
    };
    let want = bytes.len();
    assert_eq!(refused(&bytes[..want - 1]), format!("{} bytes, the circuit's need {want}", want - 1));
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; FIELD_BYTES]);
    assert_eq!(refused(&longer), format!("{} bytes, the circuit's need {want}", want + FIELD_BYTES));
    assert!(refused(&[]).starts_with("0 bytes"));
    // Read from a reader that gives a few bytes at a time: the same polynomials; a reader that
    // ends early or gives more is refused.
    struct Dribble<'a>(&'a [u8]);
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(1000);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let streamed = Precomputed::read_from(&mut Dribble(&bytes), &pk.keys, p.k).unwrap();
    assert!(streamed.to_bytes() == bytes, "a streamed key re-encodes to other bytes");
    let read_refused = |bytes: &[u8]| match Precomputed::read_from(&mut Dribble(bytes), &pk.keys, p.k) {
        Err(EngineError::KeyPolynomials(why)) => why,
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.shape())),
    };
    assert_eq!(read_refused(&bytes[..want - 1]), format!("{} bytes, the circuit's need {want}", want - 1));
    assert_eq!(read_refused(&longer), format!("more than the {want} bytes the circuit's need"));
    // The modulus itself in the second value of the first permutation polynomial.
    let column = 2 * shape.fixed_columns;
    let offset = (shape.fixed_columns * (shape.rows + shape.extended_rows) + 1) * FIELD_BYTES;
    let mut modulus = (-Fp::one()).to_repr();
    modulus.as_mut()[0] += 1;
    let mut tampered = bytes.clone();
    tampered[offset..offset + FIELD_BYTES].copy_from_slice(modulus.as_ref());
    assert_eq!(refused(&tampered), format!("column {column}, value 1 is not a canonical field element"));
    assert_eq!(read_refused(&tampered), format!("column {column}, value 1 is not a canonical field element"));
    // Another circuit's polynomials are refused by their length.
    let other = quantized("digits_cnn");
    let q = plan::plan(&other).unwrap();
    let (other_spec, _) = compile::compile(&other, q.layout, None).unwrap();
    let other_keys = zkinfer_engine::keygen::assemble(&common::params(q.k), &other_spec).unwrap();
    assert!(matches!(Precomputed::from_bytes(&bytes, &other_keys, q.k), Err(EngineError::KeyPolynomials(_))));
}

/// A witness that fails a gate is refused before proving, naming the relation.
#[test]
fn an_unsatisfied_witness_is_refused_before_proving() {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use zkinfer_engine::EngineError;
    use zkinfer_engine::prover::{ProvingKey, prove_checked};
    let model = quantized("digits_mlp");
    let p = plan::plan(&model).unwrap();
    let (spec, mut witness) = compile::compile(&model, p.layout, None).unwrap();
    let pk = ProvingKey::new(&common::params(p.k), &spec).unwrap();
    prove_checked(&pk, &spec, &witness, &mut StdRng::seed_from_u64(1)).expect("the all-zero input's witness proves");
    // The accumulator of the last row of the first multiply-accumulate chain, one higher.
    let q_mac = p.layout.fixed(zkinfer_circuits::layout::NamedFixed::QMac);
    let row = (0..spec.rows).find(|&r| spec.fixed[q_mac][r] == 1).unwrap();
    witness.advice[p.layout.acc()][row] += 1;
    match prove_checked(&pk, &spec, &witness, &mut StdRng::seed_from_u64(1)) {
        Err(EngineError::Unsatisfied { first, .. }) => assert!(first.contains("gate 'linear'"), "{first}"),
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.len())),
    }
}

/// Proven without the check, a witness whose lookup input is not in its table is refused in the
/// lookups' stage, naming the lookup and the row the constraint checker names.
#[test]
fn a_lookup_input_outside_its_table_names_the_lookup_and_row() {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use zkinfer_circuits::constraints::check::{Failure, check_witness};
    use zkinfer_engine::EngineError;
    use zkinfer_engine::prover::{ProvingKey, prove};
    let model = quantized("digits_mlp");
    let p = plan::plan(&model).unwrap();
    let (spec, witness) = compile::compile(&model, p.layout, None).unwrap();
    let pk = ProvingKey::new(&common::params(p.k), &spec).unwrap();
    // The first cell (row by row) that, far out of every table's range, fails a lookup.
    let cells = (0..spec.rows).flat_map(|row| (0..witness.advice.len()).map(move |column| (column, row)));
    let (tampered, failures) = cells
        .filter_map(|(column, row)| {
            let mut w = witness.clone();
            w.advice[column][row] = 1 << 40;
            let lookups: Vec<Failure> =
                check_witness(&spec, &w).err()?.into_iter().filter(|f| matches!(f, Failure::Lookup { .. })).collect();
            (!lookups.is_empty()).then_some((w, lookups))
        })
        .next()
        .expect("a cell that feeds a lookup");
    match prove(&pk, &spec, &tampered, &mut StdRng::seed_from_u64(1)) {
        Err(EngineError::Witness(why)) => assert!(
            failures.iter().any(|f| matches!(f, Failure::Lookup { name, row, .. }
                if why == format!("row {row}: the input of lookup \"{name}\" is not in its table"))),
            "{why} against {failures:?}"
        ),
        other => panic!("expected a refusal, got {:?}", other.map(|p| p.len())),
    }
}
