//! Property test on models no test has seen: random small models (`zkinfer_models::random`)
//! with a random linear layout and lane count; the engine's proof equals the stock prover's
//! byte for byte with the same seeded RNG, its verifying key text equals stock keygen's, and
//! zkinfer's own verifier gives the stock verifier's verdict on the proof and on a tampered one.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::layout::{ClampForm, FunctionTables, LinearLayout};
use zkinfer_circuits::{compile, plan};
use zkinfer_engine::prover::{ProvingKey, prove};
use zkinfer_models::quantize::QuantSettings;
use zkinfer_models::random::random_model_with;
use zkinfer_verifier::params::VerifierParams;
use zkinfer_verifier::plonk::{PreparedKey, verify_proof};

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn engine_proofs_equal_stock_proofs_on_random_models(
        seed in any::<u64>(),
        ops in prop::collection::vec(0u8..8, 1..4),
        tail in 0u8..4,
        linear in prop::sample::select(LinearLayout::ALL.to_vec()),
        lanes in prop::sample::select(vec![8usize, 12, 16]),
        tables in prop::sample::select(FunctionTables::ALL.to_vec()),
        clamps in prop::sample::select(ClampForm::ALL.to_vec()),
        max_table_rows in prop::option::of(16u32..300),
    ) {
        let settings = QuantSettings { activation_bits: 10, max_table_rows, ..QuantSettings::default() };
        let (model, samples) = random_model_with(seed, &ops, tail, &settings);
        let p = plan::plan_with_lanes(&model, linear, lanes, tables, clamps).unwrap();
        let trace = model.run(&samples[0]).unwrap();
        let (spec, witness) = compile::compile(&model, p.layout, Some(&trace)).unwrap();
        let params = common::params(p.k);
        let (stock, vk) = common::stock_proof(&params, &spec, &witness, seed);

        let (keys, commitments) = zkinfer_engine::keygen::keygen(&params, &spec).unwrap();
        prop_assert!(format!("{:?}", vk.pinned()) == keys.pinned_text(&commitments), "verifying keys differ");
        let pk = ProvingKey::new(&params, &spec).unwrap();
        // The shape a key file's polynomials are read with before the keys are assembled.
        let shape = zkinfer_engine::prover::PrecomputedShape::of_layout(spec.layout, &pk.keys.domain, p.k);
        prop_assert_eq!(shape, zkinfer_engine::prover::PrecomputedShape::of(&pk.keys, p.k));
        let ours = prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(seed)).unwrap();
        let same = common::first_difference(&ours, &stock);
        prop_assert_eq!((same, ours.len()), (stock.len(), stock.len()), "the proofs differ from byte {}", same);

        // zkinfer's own verifier, from the engine's commitments, gives the stock verifier's
        // verdict: the proof verifies, and with one byte changed it does not.
        let key = PreparedKey::new(spec.layout, p.k, commitments).unwrap();
        let instance = zkinfer_circuits::instance_values(&witness.instance);
        let verifier_params = VerifierParams::from_params(&params, instance.len()).unwrap();
        prop_assert_eq!(verify_proof(&key, &verifier_params, &instance, &stock), Ok(()));
        prop_assert!(common::stock_verifies(&params, &vk, &instance, &stock));
        let mut tampered = stock.clone();
        let at = (seed as usize) % tampered.len();
        tampered[at] ^= 1 << (seed % 8);
        prop_assert!(verify_proof(&key, &verifier_params, &instance, &tampered).is_err(), "byte {} changed, own accepts", at);
        prop_assert!(!common::stock_verifies(&params, &vk, &instance, &tampered), "byte {} changed, stock accepts", at);
    }
}
