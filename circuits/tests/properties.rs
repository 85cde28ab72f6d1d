//! Property test: random small models (random op chains, shapes, weights and settings; see
//! `zkinfer_models::random`) compile to circuits whose public outputs equal the interpreter's
//! bit for bit, and MockProver and the fast check of the constraint data accept the honest
//! witness. The compiler also compares every intermediate value with the trace.

#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use zkinfer_circuits::constraints::check::check_witness;
use zkinfer_circuits::layout::{FunctionTables, LinearLayout};
use zkinfer_circuits::{compile, mock_prove, plan};
use zkinfer_models::quantize::QuantSettings;
use zkinfer_models::quantized::{LookupFunction, QOp, QuantizedModel};
use zkinfer_models::random::random_model_with;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn circuit_outputs_equal_the_interpreter(
        seed in any::<u64>(),
        ops in prop::collection::vec(0u8..10, 1..4),
        tail in 0u8..4,
        activation_bits in 8u32..11,
        lanes in prop::sample::select(vec![8usize, 12, 16, 24]),
        max_table_rows in prop::option::of(16u32..300),
    ) {
        let settings = QuantSettings { activation_bits, max_table_rows, ..QuantSettings::default() };
        let (model, samples) = random_model_with(seed, &ops, tail, &settings);
        check(&model, &samples[0], lanes)?;
    }
}

/// The interpreter's outputs are the circuit's public outputs, and MockProver and the fast
/// check accept the honest witness, for the planner's layout and every linear layout and table
/// form with `lanes` lanes.
fn check(model: &QuantizedModel, sample: &ndarray::ArrayD<f32>, lanes: usize) -> Result<(), TestCaseError> {
    let trace = model.run(sample).unwrap();
    let mut expected: Vec<i64> = trace.get(model.input).iter().copied().collect();
    expected.extend(trace.get(model.outputs[0]).iter().copied());
    // The planner's choice, and each linear layout with the drawn lane count.
    let mut layouts = vec![plan::plan(model).unwrap().layout];
    for linear in LinearLayout::ALL {
        for tables in FunctionTables::ALL {
            let layout = plan::plan_with_lanes(model, linear, lanes, tables).unwrap().layout;
            if !layouts.contains(&layout) {
                layouts.push(layout);
            }
        }
    }
    for layout in layouts {
        let (spec, witness) = compile::compile(model, layout, Some(&trace)).unwrap();
        prop_assert_eq!(&witness.instance, &expected);
        let verdict = mock_prove(&spec, &witness);
        prop_assert!(
            verdict.is_ok(),
            "{:?}: MockProver: {:?}",
            layout,
            verdict.err().map(|f| f.into_iter().take(3).collect::<Vec<_>>())
        );
        // The fast check of the constraint data agrees.
        prop_assert_eq!(check_witness(&spec, &witness), Ok(()));
    }
    Ok(())
}

/// Exp and Log tables (random op 7: Exp, then Log of it for some seeds) on their own, whole and
/// size-limited: the same checks, on models known to hold each function.
#[test]
fn exp_and_log_tables_on_random_models() {
    let mut seen = Vec::new();
    for seed in 0..6u64 {
        for max_table_rows in [None, Some(64)] {
            let settings = QuantSettings { activation_bits: 10, max_table_rows, ..QuantSettings::default() };
            let (model, samples) = random_model_with(seed, &[7], 0, &settings);
            for node in &model.nodes {
                if let QOp::Lookup(l) = &node.op {
                    seen.push(l.function);
                }
            }
            check(&model, &samples[0], 12).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
    assert!(seen.contains(&LookupFunction::Exp) && seen.contains(&LookupFunction::Log), "{seen:?}");
}
