//! The backend seam: a proof made through the checking backend (every primitive computed by
//! the CPU backend and by the naive reference backend, compared call by call) equals the stock
//! prover's bytes, and every primitive of the trait is exercised by a proof.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::builder::Builder;
use zkinfer_circuits::chips::linear::LinearInstructions;
use zkinfer_circuits::chips::range::Rescale;
use zkinfer_circuits::{Layout, required_k};
use zkinfer_engine::backend::{CheckingBackend, CpuBackend, Primitive, ReferenceBackend, TimedBackend};
use zkinfer_engine::prover::{ProvingKey, prove};

fn small_circuit() -> Builder {
    let mut b = Builder::new(Layout { lanes: 4, ..common::test_layout() });
    let xs = b.public_inputs(&[5, -7, 3, 0, 9]);
    let terms: Vec<_> = xs.iter().copied().zip([3, -2, 1, 4, -5]).collect();
    let y = b.linear(&terms, 10, Rescale { shift: 2, lo: -128, bits: 8, relu: false, clamp: None });
    b.public_outputs(&[y]);
    b
}

#[test]
fn a_proof_through_the_checking_backend_equals_the_stock_proof() {
    let (spec, witness) = small_circuit().finish();
    let params = common::params(required_k(&spec));
    let (stock, _) = common::stock_proof(&params, &spec, &witness, 9);
    let checking = CheckingBackend { trusted: CpuBackend, candidate: ReferenceBackend };
    let timed = Arc::new(TimedBackend::new(checking));
    let pk = ProvingKey::new(&params, &spec).unwrap().with_backend(timed.clone());
    let ours = prove(&pk, &spec, &witness, &mut StdRng::seed_from_u64(9)).unwrap();
    assert_eq!(common::first_difference(&ours, &stock), stock.len(), "the proofs differ");
    assert_eq!(ours.len(), stock.len());
    for (primitive, usage) in timed.usage() {
        assert!(usage.calls > 0, "{} was never called", primitive.name());
    }
    // Every IPA round's generators collapsed once, but the last's (nothing reads them), alone
    // or in pairs.
    let calls = |primitive| timed.usage().into_iter().find(|(p, _)| *p == primitive).unwrap().1.calls;
    let (single, twice) = (calls(Primitive::FoldGenerators), calls(Primitive::FoldGeneratorsTwice));
    assert_eq!(single + 2 * twice, u64::from(required_k(&spec)) - 1);
}
