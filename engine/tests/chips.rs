//! Every chip in isolation: a small circuit per chip (built with the chips' instruction
//! traits), proven by the stock prover and by the engine with the same seed: the bytes must be
//! equal, and the engine's keygen must give stock's verifying key.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::builder::{Builder, Operand};
use zkinfer_circuits::chips::compare::CompareInstructions;
use zkinfer_circuits::chips::division::DivisionInstructions;
use zkinfer_circuits::chips::function::FunctionInstructions;
use zkinfer_circuits::chips::linear::{LinearInstructions, SharedInputs};
use zkinfer_circuits::chips::range::Rescale;
use zkinfer_circuits::{Layout, LinearLayout, required_k};
use zkinfer_engine::prover::{ProvingKey, prove};
use zkinfer_models::quantized::LookupTable;

/// Proves `b`'s circuit with both provers and compares.
fn check(name: &str, b: Builder) {
    let (spec, witness) = b.finish();
    let params = common::params(required_k(&spec));
    let (stock, vk) = common::stock_proof(&params, &spec, &witness, 3);
    let (keys, commitments) = zkinfer_engine::keygen::keygen(&params, &spec).unwrap();
    assert!(format!("{:?}", vk.pinned()) == keys.pinned_text(&commitments), "{name}: verifying keys differ");
    let pk = ProvingKey::new(&params, &spec).unwrap();
    let ours = prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(3)).unwrap();
    let same = common::first_difference(&ours, &stock);
    assert_eq!((same, ours.len()), (stock.len(), stock.len()), "{name}: the proofs differ from byte {same}");
}

#[test]
fn linear_dot_product_with_rescale() {
    let mut b = Builder::new(common::test_layout());
    let xs = b.public_inputs(&[5, -7, 3, 0, 9, -1, 2, 4, -6, 8, 1]);
    let terms: Vec<_> = xs.iter().copied().zip([3, -2, 1, 4, -5, 6, 7, -8, 2, 1, -1]).collect();
    let y = b.linear(&terms, 10, Rescale { shift: 2, lo: -128, bits: 8, relu: false, clamp: None });
    b.public_outputs(&[y]);
    check("dot product", b);
}

#[test]
fn linear_outer_product() {
    let mut b = Builder::new(Layout { lanes: 12, linear: LinearLayout::OuterProduct, ..common::test_layout() });
    let xs = b.public_inputs(&[5, -7, 3, 9, -1]);
    let weights: Vec<Vec<i64>> = (0..14i64).map(|o| (0..5i64).map(|j| (o * 7 + j * 3) % 11 - 5).collect()).collect();
    let biases: Vec<i64> = (0..14).map(|o| o * 3 - 20).collect();
    let rescale = Rescale { shift: 1, lo: -128, bits: 8, relu: false, clamp: None };
    let ys = b.linear_shared(SharedInputs { inputs: &xs, weights: &weights, biases: &biases }, rescale);
    b.public_outputs(&ys);
    check("outer product", b);
}

#[test]
fn range_with_fused_relu() {
    let mut b = Builder::new(common::test_layout());
    let xs = b.public_inputs(&[-40, 40]);
    let ys: Vec<_> = xs.iter().map(|&x| b.linear(&[(x, 3)], 1, Rescale::signed_relu(1, 8, true))).collect();
    b.public_outputs(&ys);
    check("fused relu", b);
}

#[test]
fn compare_and_argmax_with_ties() {
    let mut b = Builder::new(common::test_layout());
    let xs = b.public_inputs(&[2, 7, 7, -3, 7]);
    let m = b.compare(Operand::Cell(xs[0]), Operand::Constant(0), 9).max;
    let idx = b.argmax(&xs, 9);
    b.public_outputs(&[m, idx]);
    check("compare, argmax", b);
}

#[test]
fn division() {
    let mut b = Builder::new(common::test_layout());
    let x = b.public_inputs(&[100, 7]);
    let half = b.linear(&[(x[1], 1)], -1, Rescale { shift: 1, lo: 0, bits: 12, relu: false, clamp: None });
    let d = b.divide(x[0], x[1], half, 4, 12);
    let r = b.linear(&[(d.remainder, 1)], 0, Rescale::unsigned(12));
    b.public_outputs(&[d.quotient, r]);
    check("division", b);
}

#[test]
fn function_lookup() {
    let mut b = Builder::new(Layout { function_table: true, ..common::test_layout() });
    let xs = b.public_inputs(&[-4, 3, 0]);
    let table = LookupTable { input_min: -4, values: (-4..=4i64).map(|v| v * v - 3).collect() };
    let tag = b.function_table(&table);
    let ys: Vec<_> = xs.iter().map(|&x| b.apply(tag, &table, x)).collect();
    b.public_outputs(&ys);
    check("function lookup", b);
}

/// A function table whose last row is the last usable row: stock keygen refuses it (its floor
/// planner fills the row after a table), and so does the engine's; `required_k` leaves that
/// row, and there both keygens agree again.
#[test]
fn a_table_ending_on_the_last_usable_row_needs_the_next_k() {
    let circuit = |len: usize| {
        let mut b = Builder::new(Layout { function_table: true, ..common::test_layout() });
        let xs = b.public_inputs(&[1]);
        let table = LookupTable { input_min: 0, values: (0..len as i64).collect() };
        let tag = b.function_table(&table);
        let y = b.apply(tag, &table, xs[0]);
        b.public_outputs(&[y]);
        b
    };
    let (small, _) = circuit(2).finish();
    let k = required_k(&small);
    // The table and its all-zero row fill every usable row at `k`.
    let (spec, _) = circuit(zkinfer_circuits::function_table_budget(&small) + 1).finish();
    assert_eq!(required_k(&spec), k + 1);
    let params = common::params(k);
    let model = zkinfer_circuits::ModelCircuit::new(std::sync::Arc::new(spec.clone()), None);
    let stock = zkinfer_circuits::with_layout(spec.layout, || halo2_proofs::plonk::keygen_vk(&params, &model));
    assert!(matches!(stock, Err(halo2_proofs::plonk::Error::NotEnoughRowsAvailable { current_k }) if current_k == k));
    let ours = zkinfer_engine::keygen::keygen(&params, &spec);
    assert!(matches!(ours, Err(zkinfer_engine::EngineError::TooFewRows { k: refused }) if refused == k));
    check(
        "a table ending on the last usable row, at the next k",
        circuit(zkinfer_circuits::function_table_budget(&small) + 1),
    );
}
