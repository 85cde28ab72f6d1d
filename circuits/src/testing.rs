//! Test helpers: a small layout and assertions on MockProver failures.

use halo2_proofs::dev::VerifyFailure;

use crate::builder::{CircuitSpec, Witness};
use crate::layout::{Layout, LinearLayout};

/// Eight lanes, four limbs of up to 6 bits, no function table.
pub fn test_layout() -> Layout {
    Layout {
        lanes: 8,
        limbs: 4,
        range_bits: 6,
        function_table: false,
        linear: LinearLayout::DotProduct,
        weight_offset: 128,
    }
}

/// MockProver on the spec and witness.
pub fn mock(spec: &CircuitSpec, witness: &Witness) -> Result<(), Vec<VerifyFailure>> {
    crate::circuit::mock_prove(spec, witness)
}

/// A short name for what failed: the gate name, "range lookup", "function lookup",
/// "permutation", or the failure's debug form.
pub fn failure_kind(spec: &CircuitSpec, f: &VerifyFailure) -> String {
    match f {
        VerifyFailure::ConstraintNotSatisfied { constraint, .. } => {
            let s = constraint.to_string();
            let gate = s.rsplit_once("in gate").map_or(s.as_str(), |(_, g)| g);
            gate.split('\'').nth(1).unwrap_or(gate).to_string()
        }
        VerifyFailure::Lookup { lookup_index, .. } if *lookup_index < spec.layout.limbs => "range lookup".into(),
        VerifyFailure::Lookup { .. } => "function lookup".into(),
        VerifyFailure::Permutation { .. } => "permutation".into(),
        other => format!("{other:?}"),
    }
}

/// Asserts that MockProver rejects the witness and that the set of failure kinds is exactly `expected`.
#[track_caller]
pub fn assert_fails_with(spec: &CircuitSpec, witness: &Witness, expected: &[&str]) {
    let failures = mock(spec, witness).expect_err("the tampered witness must be rejected");
    let mut kinds: Vec<String> = failures.iter().map(|f| failure_kind(spec, f)).collect();
    kinds.sort();
    kinds.dedup();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(kinds, want, "failures: {failures:?}");
}
