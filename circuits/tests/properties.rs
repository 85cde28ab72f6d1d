//! Property test: random small models (random op chains, shapes, weights and settings; see
//! `zkinfer_models::random`) compile to circuits whose public outputs equal the interpreter's
//! bit for bit, and MockProver and the fast check of the constraint data accept the honest
//! witness. The compiler also compares every intermediate value with the trace.

#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;
use zkinfer_circuits::constraints::check::check_witness;
use zkinfer_circuits::layout::{ClampForm, FunctionTables, LinearLayout};
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
            for clamps in ClampForm::ALL {
                let layout = plan::plan_with_lanes(model, linear, lanes, tables, clamps).unwrap().layout;
                if !layouts.contains(&layout) {
                    layouts.push(layout);
                }
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

/// A case the property test once drew (a product, GELU, a dense layer, Softmax): its trimmed
/// tables ended on the last usable row at k = 10, which halo2's floor planner refuses; the
/// required `k` now leaves the row after the tables.
#[test]
fn trimmed_tables_ending_on_the_last_usable_row() {
    let settings = QuantSettings { activation_bits: 9, max_table_rows: None, ..QuantSettings::default() };
    let (model, samples) = random_model_with(14_371_992_737_263_034_335, &[7, 9], 1, &settings);
    check(&model, &samples[0], 8).unwrap();
}

/// Random ops 1, 6 and 7 on their own: a convolution or a transposed one; Clip or upsampling;
/// Exp, Log of Exp, `x · Sigmoid(x)` and `x · x` (tables, whole and size-limited, and the
/// product chip): the same checks, on models known to hold each.
#[test]
fn transposed_convolution_upsampling_exp_log_and_products_on_random_models() {
    let (mut functions, mut products, mut upsampled, mut transposed) = (Vec::new(), 0, 0, 0);
    // Seeds spread over the generator's range (neighbouring small seeds draw alike).
    for seed in (1..=16u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)) {
        for max_table_rows in [None, Some(64)] {
            let settings = QuantSettings { activation_bits: 10, max_table_rows, ..QuantSettings::default() };
            let (model, samples) = random_model_with(seed, &[1, 6, 7], 0, &settings);
            for node in &model.nodes {
                match &node.op {
                    QOp::Lookup(l) => functions.push(l.function),
                    QOp::Mul(_) => products += 1,
                    QOp::Upsample(_) => upsampled += 1,
                    QOp::ConvTranspose2d(_) => transposed += 1,
                    _ => {}
                }
            }
            check(&model, &samples[0], 12).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }
    assert!(functions.contains(&LookupFunction::Exp) && functions.contains(&LookupFunction::Log), "{functions:?}");
    assert!(functions.contains(&LookupFunction::Sigmoid) && products > 0, "{functions:?}, {products} products");
    assert!(upsampled > 0 && transposed > 0, "{upsampled} upsamplings, {transposed} transposed convolutions");
}
