//! The compiler's tests: size limits, k, forged witnesses caught by the exact relation, trimmed
//! and shifted tables, clamps, concatenation, and layouts read from untrusted bytes.
use super::*;
use zkinfer_models::TensorId;
use zkinfer_models::quantize::QuantSettings;
use zkinfer_models::quantized::{QGlobalAveragePool, QNode};

use crate::layout::LinearLayout;

/// A tiny file that describes a huge circuit: a mean over a 4096 x 4096 input.
fn huge_model() -> QuantizedModel {
    let t = |name: &str, shape: Vec<usize>| QTensor { name: name.into(), shape, scale: 4, bits: 8 };
    QuantizedModel {
        format_version: QuantizedModel::FORMAT_VERSION,
        name: "huge".into(),
        settings: QuantSettings::default(),
        tensors: vec![t("x", vec![1, 1, 4096, 4096]), t("y", vec![1, 1, 1, 1])],
        nodes: vec![QNode {
            name: "mean".into(),
            op: QOp::GlobalAveragePool(QGlobalAveragePool { shift: 16 }),
            inputs: vec![TensorId(0)],
            output: TensorId(1),
        }],
        input: TensorId(0),
        outputs: vec![TensorId(1)],
    }
}

#[test]
fn an_oversized_model_is_refused_before_building() {
    let model = huge_model();
    model.validate().unwrap();
    let layout = Layout {
        lanes: 8,
        limbs: 4,
        range_bits: 8,
        function_table: false,
        linear: LinearLayout::DotProduct,
        weight_offset: 0,
        tables: crate::layout::FunctionTables::Whole,
        clamps: crate::layout::ClampForm::Compared,
    };
    match build(&model, layout, None) {
        Err(CompileError::TooLarge { k, .. }) => assert!(k > crate::layout::MAX_K),
        other => panic!("expected TooLarge, got {:?}", other.map(|b| b.rows())),
    }
}

#[test]
fn k_counts_the_public_values() {
    // A mean over 64 x 64 inputs: 4,097 public values in 513 rows. The instance column has
    // only as many usable rows as the advice columns, so k must hold every public value.
    let t = |name: &str, shape: Vec<usize>| QTensor { name: name.into(), shape, scale: 4, bits: 8 };
    let model = QuantizedModel {
        tensors: vec![t("x", vec![1, 1, 64, 64]), t("y", vec![1, 1, 1, 1])],
        nodes: vec![QNode {
            name: "mean".into(),
            op: QOp::GlobalAveragePool(QGlobalAveragePool { shift: 12 }),
            inputs: vec![TensorId(0)],
            output: TensorId(1),
        }],
        ..huge_model()
    };
    model.validate().unwrap();
    let plan = crate::plan::plan(&model).unwrap();
    let (spec, witness) = compile(&model, plan.layout, None).unwrap();
    assert_eq!(spec.instance_len, 4097);
    assert!(spec.rows < 4097 && (1usize << plan.k) > 4097, "k = {} for {} rows", plan.k, spec.rows);
    crate::mock_prove(&spec, &witness).expect("every public value has a row");
}

/// The fixture with Sigmoid, Tanh, LeakyRelu and Softmax, quantized, with its planned layout
/// and the trace of its first input.
fn activations() -> (QuantizedModel, crate::plan::Plan, zkinfer_models::interpret::Trace) {
    use zkinfer_models::{data::InputData, onnx, quantize::quantize};
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/tests/fixtures");
    let graph = onnx::import_file(&dir.join("fixture_activations.onnx"), &Default::default()).unwrap();
    let shape = graph.tensor(graph.input).shape.clone();
    let samples = |f: &str| InputData::from_file(&dir.join(f)).and_then(|d| d.samples(&shape)).unwrap();
    let model = quantize(&graph, &samples("fixture_activations.calibration.json"), &QuantSettings::default()).unwrap();
    let plan = crate::plan::plan(&model).unwrap();
    let trace = model.run(&samples("fixture_activations.input.json")[0]).unwrap();
    (model, plan, trace)
}

fn rows_with(spec: &CircuitSpec, f: crate::layout::NamedFixed) -> Vec<usize> {
    let c = spec.layout.fixed(f);
    (0..spec.rows).filter(|&r| spec.fixed[c][r] != 0).collect()
}

#[test]
fn a_softmax_sum_forged_consistently_fails_only_its_linear_gate() {
    // A prover who raises a Softmax's sum S and then computes everything after it
    // honestly (the half, every division, remainder and range check, the outputs) is caught
    // by exactly one relation: the sum's multiply-accumulate gate.
    use crate::layout::NamedFixed;
    let (model, plan, trace) = activations();
    let (spec, honest) = compile(&model, plan.layout, Some(&trace)).unwrap();
    let division = rows_with(&spec, NamedFixed::QDivision)[0];
    let (half, sum) = (division - 1, division - 2);
    assert!([half, sum].iter().all(|&r| spec.fixed[spec.layout.fixed(NamedFixed::QMac)][r] == 1));
    // A third more: enough to move the rounded probabilities.
    let acc = CellRef { column: spec.layout.acc(), row: sum };
    let tamper = (acc, honest.advice[acc.column][acc.row] / 3);
    let (forged_spec, forged) = compile_tampered(&model, plan.layout, &trace, tamper).unwrap();
    assert_eq!(forged_spec, spec, "the circuit does not depend on the witness");
    assert_ne!(forged.instance, honest.instance, "the forged probabilities are claimed");
    crate::testing::Forgery::new(spec, forged).assert_only(&["linear: acc = cont·acc_prev + Σ w·x + bias"]);
}

#[test]
fn a_function_output_forged_consistently_fails_only_the_function_lookup() {
    // A tabulated activation's output 16 higher, everything after it honest.
    use crate::layout::NamedFixed;
    let (model, plan, trace) = activations();
    let (spec, honest) = compile(&model, plan.layout, Some(&trace)).unwrap();
    // Some lookups' outputs are absorbed by later roundings: take the first that moves the
    // public outputs.
    let forged = rows_with(&spec, NamedFixed::QFunction)
        .into_iter()
        .map(|row| {
            let tamper = (CellRef { column: spec.layout.lane(1), row }, 16);
            compile_tampered(&model, plan.layout, &trace, tamper).unwrap().1
        })
        .find(|forged| forged.instance != honest.instance)
        .expect("a forged activation moves the outputs");
    crate::testing::Forgery::new(spec, forged).assert_only(&["function lookup"]);
}

/// The activations fixture laid out with trimmed function tables.
fn trimmed_activations() -> (QuantizedModel, crate::plan::Plan, zkinfer_models::interpret::Trace) {
    use crate::layout::FunctionTables;
    let (model, plan, trace) = activations();
    let trimmed = crate::plan::plan_with_lanes(
        &model,
        LinearLayout::DotProduct,
        plan.layout.lanes,
        FunctionTables::Trimmed,
        plan.layout.clamps,
    )
    .unwrap();
    (model, trimmed, trace)
}

#[test]
fn trimmed_tables_are_shorter_and_give_the_interpreters_values() {
    use crate::layout::FunctionTables;
    let (model, trimmed, trace) = trimmed_activations();
    let whole = crate::plan::plan_with_lanes(
        &model,
        trimmed.layout.linear,
        trimmed.layout.lanes,
        FunctionTables::Whole,
        trimmed.layout.clamps,
    )
    .unwrap();
    // The fixture's fine scales keep most of each table (the functions change across most of
    // the input range); the saturated ends still go.
    assert!(
        trimmed.function_table_rows < whole.function_table_rows,
        "trimmed {} rows, whole {}",
        trimmed.function_table_rows,
        whole.function_table_rows
    );
    assert!(trimmed.rows > whole.rows, "the clamps cost rows");
    // Compiling with the trace compares every value with the interpreter's.
    let (spec, witness) = compile(&model, trimmed.layout, Some(&trace)).unwrap();
    crate::testing::Forgery::new(spec, witness).assert_accepted();
}

/// Validates a hand-built model over an `[1, 8]` input, plans it with the dot product, eight
/// lanes and `tables`, and runs it on `x`.
fn laid_out(
    model: &QuantizedModel,
    tables: crate::layout::FunctionTables,
    x: [i64; 8],
) -> (crate::plan::Plan, zkinfer_models::interpret::Trace) {
    model.validate().unwrap();
    let plan =
        crate::plan::plan_with_lanes(model, crate::layout::LinearLayout::DotProduct, 8, tables, Default::default())
            .unwrap();
    let trace = model.interpret(ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), x.to_vec()).unwrap()).unwrap();
    (plan, trace)
}

/// One tabulated function, `clamp(x, -20, 20)` over 8-bit inputs, laid out with trimmed
/// tables, and the trace of inputs on both sides of the cuts.
fn saturating_lookup() -> (QuantizedModel, crate::plan::Plan, zkinfer_models::interpret::Trace) {
    use crate::layout::FunctionTables;
    use zkinfer_models::quantized::{LookupFunction, LookupTable, QLookup};
    let t = |name: &str| QTensor { name: name.into(), shape: vec![1, 8], scale: 4, bits: 8 };
    let table = LookupTable { input_min: -128, values: (-128..=127i64).map(|v| v.clamp(-20, 20)).collect() };
    let model = QuantizedModel {
        tensors: vec![t("x"), t("y")],
        nodes: vec![QNode {
            name: "saturate".into(),
            op: QOp::Lookup(QLookup { function: LookupFunction::Tanh, input_shift: 0, table }),
            inputs: vec![TensorId(0)],
            output: TensorId(1),
        }],
        ..huge_model()
    };
    let (plan, trace) = laid_out(&model, FunctionTables::Trimmed, [-128, -50, -21, -20, 0, 19, 21, 127]);
    (model, plan, trace)
}

#[test]
fn a_trimmed_table_keeps_only_where_the_function_changes() {
    let (model, plan, trace) = saturating_lookup();
    assert_eq!(plan.function_table_rows, 41, "inputs -20..=20");
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..], &[-20, -20, -20, -20, 0, 19, 20, 20]);
    crate::testing::Forgery::new(spec, witness).assert_accepted();
}

#[test]
fn an_unclamped_input_to_a_trimmed_table_fails_the_comparison_and_the_lookup() {
    // A prover who skips a clamp (claims the clamped value is the input itself, below the
    // table) is caught by the comparison gate, and the lookup of a value outside the trimmed
    // table fails as well.
    use crate::layout::NamedFixed;
    let (model, plan, trace) = saturating_lookup();
    let (spec, honest) = compile(&model, plan.layout, Some(&trace)).unwrap();
    let (a, m) = (spec.layout.lane(0), spec.layout.lane(3));
    // The first comparison clamps x = -128 up to -20.
    let row = rows_with(&spec, NamedFixed::QMax)[0];
    assert_eq!((honest.advice[a][row], honest.advice[m][row]), (-128, -20));
    // The tamper is a difference: the clamped value becomes the input.
    let (_, forged) = compile_tampered(&model, plan.layout, &trace, (CellRef { column: m, row }, -108)).unwrap();
    crate::testing::Forgery::new(spec, forged).assert_only(&[
        "compare: m = b + s·(a - b)",
        "compare: n = a + b - m",
        "function lookup",
    ]);
}

/// `clamp(v, -5, 5)` tabulated over 8-bit inputs after dropping two bits, whole tables.
fn shifted_lookup() -> (QuantizedModel, crate::plan::Plan, zkinfer_models::interpret::Trace) {
    use crate::layout::FunctionTables;
    use zkinfer_models::quantized::{LookupFunction, LookupTable, QLookup};
    let (mut model, _, _) = saturating_lookup();
    let table = LookupTable { input_min: -32, values: (-32..=32i64).map(|v| v.clamp(-5, 5)).collect() };
    model.nodes[0].op = QOp::Lookup(QLookup { function: LookupFunction::Tanh, input_shift: 2, table });
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-128, -19, -18, -2, 2, 10, 19, 127]);
    (model, plan, trace)
}

#[test]
fn a_shifted_lookup_rounds_its_input_first() {
    let (model, plan, trace) = shifted_lookup();
    assert_eq!(plan.function_table_rows, 65);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    // round_shift(x, 2) = -32, -5, -4, 0, 1, 3, 5, 32, then clamped to [-5, 5].
    assert_eq!(&witness.instance[8..], &[-5, -5, -4, 0, 1, 3, 5, 5]);
    crate::testing::Forgery::new(spec, witness).assert_accepted();
}

#[test]
fn a_shifted_input_forged_consistently_fails_only_its_rescale() {
    // The shifted value of x = -18 (honestly -4) claimed as -3, the lookup of -3 and the
    // output honest for it: only the rescale relation catches it.
    let (model, plan, trace) = shifted_lookup();
    let (spec, honest) = compile(&model, plan.layout, Some(&trace)).unwrap();
    let out = spec.layout.out();
    let row = (0..spec.rows).find(|&r| honest.advice[out][r] == -4).expect("the shifted -18");
    let (_, forged) = compile_tampered(&model, plan.layout, &trace, (CellRef { column: out, row }, 1)).unwrap();
    assert_eq!(forged.instance[8 + 2], -3);
    crate::testing::Forgery::new(spec, forged).assert_only(&["rescale: out + Y0 = Σ ycoef·limb"]);
}

/// `clip(relu(x), 0, 50)` over 8-bit inputs: the clamp's zero restates the Relu's.
#[test]
fn a_clamp_that_restates_known_bounds_costs_no_comparison() {
    use crate::layout::{FunctionTables, NamedFixed};
    use zkinfer_models::quantized::QClip;
    let (mut model, _, _) = saturating_lookup();
    model.tensors.push(QTensor { name: "z".into(), shape: vec![1, 8], scale: 4, bits: 8 });
    model.nodes = vec![
        QNode { name: "relu".into(), op: QOp::Relu, inputs: vec![TensorId(0)], output: TensorId(1) },
        QNode {
            name: "clamp".into(),
            op: QOp::Clip(QClip { min: 0, max: 50 }),
            inputs: vec![TensorId(1)],
            output: TensorId(2),
        },
    ];
    model.outputs = vec![TensorId(2)];
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-128, -1, 0, 1, 49, 50, 51, 127]);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..], &[0, 0, 0, 1, 49, 50, 50, 50]);
    // One comparison for the Relu and one for the clamp's upper bound, per element.
    assert_eq!(rows_with(&spec, NamedFixed::QMax).len(), 16);
    crate::testing::Forgery::new(spec.clone(), witness).assert_accepted();
    // Claiming 127 for the clamped 127 (the minimum lane of the last comparison) fails it.
    let n = spec.layout.lane(4);
    let row = rows_with(&spec, NamedFixed::QMax)[15];
    let (_, forged) = compile_tampered(&model, plan.layout, &trace, (CellRef { column: n, row }, 77)).unwrap();
    assert_eq!(forged.instance[15], 127);
    crate::testing::Forgery::new(spec, forged).assert_only(&["compare: n = a + b - m"]);
}

/// `clip(x + 3, 0, 50)`: the clamp's zero is fused into the addition's rescale as a Relu
/// (the pattern of onnxruntime's QDQ models), leaving one comparison per element.
#[test]
fn a_clamp_from_zero_after_a_linear_op_fuses_its_zero_into_the_rescale() {
    use crate::layout::{FunctionTables, NamedFixed};
    use zkinfer_models::quantized::{QAddConstant, QClip};
    let (mut model, _, _) = saturating_lookup();
    model.tensors.push(QTensor { name: "z".into(), shape: vec![1, 8], scale: 4, bits: 8 });
    let add = QAddConstant { input_shift: 0, constant: ndarray::arr0(3i64).into_dyn(), shift: 0 };
    model.nodes = vec![
        QNode { name: "add".into(), op: QOp::AddConstant(add), inputs: vec![TensorId(0)], output: TensorId(1) },
        QNode {
            name: "clamp".into(),
            op: QOp::Clip(QClip { min: 0, max: 50 }),
            inputs: vec![TensorId(1)],
            output: TensorId(2),
        },
    ];
    model.outputs = vec![TensorId(2)];
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-128, -4, -3, 0, 46, 47, 48, 124]);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..], &[0, 0, 0, 3, 49, 50, 50, 50]);
    assert_eq!(rows_with(&spec, NamedFixed::QMax).len(), 8, "only the upper bound is compared");
    assert_eq!(rows_with(&spec, NamedFixed::QRescaleRelu).len(), 8, "the zero is the fused Relu");
    crate::testing::Forgery::new(spec, witness).assert_accepted();
}

/// `clip(x + 3, min, 50)` with clamps in the rescale: no comparison row, the clamp computed in
/// the addition's rescale row, equal to the interpreter on both sides of both bounds; passing an
/// unclamped value through fails the gate.
#[test]
fn a_clamp_around_zero_after_a_linear_op_is_computed_in_its_rescale_row() {
    use crate::layout::{ClampFixed, ClampForm, FunctionTables, LinearLayout, NamedFixed};
    use zkinfer_models::quantized::{QAddConstant, QClip};
    for (min, expected) in [(0, [0, 0, 0, 3, 49, 50, 50, 50]), (-20, [-20, -1, 0, 3, 49, 50, 50, 50])] {
        let (mut model, _, _) = saturating_lookup();
        model.tensors.push(QTensor { name: "z".into(), shape: vec![1, 8], scale: 4, bits: 8 });
        let add = QAddConstant { input_shift: 0, constant: ndarray::arr0(3i64).into_dyn(), shift: 0 };
        model.nodes = vec![
            QNode { name: "add".into(), op: QOp::AddConstant(add), inputs: vec![TensorId(0)], output: TensorId(1) },
            QNode {
                name: "clamp".into(),
                op: QOp::Clip(QClip { min, max: 50 }),
                inputs: vec![TensorId(1)],
                output: TensorId(2),
            },
        ];
        model.outputs = vec![TensorId(2)];
        model.validate().unwrap();
        assert_eq!(crate::compile::clamps_in_rescale(&model), 1);
        let plan = crate::plan::plan_with_lanes(
            &model,
            LinearLayout::DotProduct,
            8,
            FunctionTables::Whole,
            ClampForm::InRescale,
        )
        .unwrap();
        assert_eq!(plan.layout.clamps, ClampForm::InRescale);
        let trace = model.interpret(ndarray::arr2(&[[-128, -4, -3, 0, 46, 47, 48, 124]]).into_dyn()).unwrap();
        let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
        assert_eq!(&witness.instance[8..], &expected, "min {min}");
        assert!(rows_with(&spec, NamedFixed::QMax).is_empty(), "no comparison row");
        let q_clamp = spec.layout.clamp_fixed(ClampFixed::QRescaleClamp);
        let clamp_rows: Vec<usize> = (0..spec.rows).filter(|&r| spec.fixed[q_clamp][r] == 1).collect();
        assert_eq!(clamp_rows.len(), 8);
        crate::testing::Forgery::new(spec.clone(), witness.clone()).assert_accepted();
        // The last element: 124 + 3 = 127 clamped to 50; claim 127.
        let out = CellRef { column: spec.layout.out(), row: clamp_rows[7] };
        let mut f = crate::testing::Forgery::new(spec, witness);
        f.set(out, 127);
        f.assert_only(&["rescale clamp: out = y + t·(T - y)"]);
    }
}

/// `clip(x, -10, 50)` as the input's only reader (a QuantizeLinear on the model input): the
/// verifier checks the public input against the clamp's bounds, so the clamp costs no row; with
/// a second reader of the input it is compared as any clamp.
#[test]
fn a_clamp_on_the_model_input_is_its_range_and_costs_no_comparison() {
    use crate::layout::{FunctionTables, NamedFixed};
    use zkinfer_models::InterpretError;
    use zkinfer_models::quantized::QClip;
    let (mut model, _, _) = saturating_lookup();
    let clamp = QClip { min: -10, max: 50 };
    model.nodes =
        vec![QNode { name: "clamp".into(), op: QOp::Clip(clamp), inputs: vec![TensorId(0)], output: TensorId(1) }];
    assert_eq!((model.input_clamp(), model.input_range()), (Some((-10, 50)), (-10, 50)));
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-10, -9, 0, 1, 49, 50, 3, 4]);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..], &[-10, -9, 0, 1, 49, 50, 3, 4]);
    assert!(rows_with(&spec, NamedFixed::QMax).is_empty(), "no comparison");
    crate::testing::Forgery::new(spec, witness).assert_accepted();
    // An integer input beyond the clamp is refused by the interpreter (and by the verifier).
    let beyond = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![0, 0, 0, 51, 0, 0, 0, 0]).unwrap();
    assert!(matches!(model.interpret(beyond), Err(InterpretError::OutOfRange { index: 3, value: 51, .. })));
    // A real input beyond it is saturated into it, as the clamp would.
    let real =
        ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-100.0f32, 100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap();
    assert_eq!(model.quantize_input(&real).unwrap().as_slice().unwrap()[..2], [-10, 50]);

    // The input read by the clamp and by a Relu: the input keeps its width's range.
    model.tensors.push(QTensor { name: "r".into(), shape: vec![1, 8], scale: 4, bits: 8 });
    model.nodes.push(QNode { name: "relu".into(), op: QOp::Relu, inputs: vec![TensorId(0)], output: TensorId(2) });
    model.outputs = vec![TensorId(1), TensorId(2)];
    assert_eq!((model.input_clamp(), model.input_range()), (None, (-128, 127)));
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-128, -11, -10, 0, 50, 51, 100, 127]);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..16], &[-10, -10, -10, 0, 50, 50, 50, 50]);
    assert_eq!(rows_with(&spec, NamedFixed::QMax).len(), 3 * 8, "both bounds and the Relu");
    crate::testing::Forgery::new(spec, witness).assert_accepted();
}

/// `concat(x, round_shift(x, 2))` along the last axis: the second copy aligned by a rescale
/// row per element, the join itself wiring.
#[test]
fn a_concatenation_aligns_its_inputs_and_joins_them() {
    use crate::layout::{FunctionTables, NamedFixed};
    use zkinfer_models::quantized::QConcat;
    let (mut model, _, _) = saturating_lookup();
    model.tensors[1] = QTensor { name: "y".into(), shape: vec![1, 16], scale: 2, bits: 8 };
    model.nodes = vec![QNode {
        name: "join".into(),
        op: QOp::Concat(QConcat { axis: 1, shifts: vec![0, 2] }),
        inputs: vec![TensorId(0), TensorId(0)],
        output: TensorId(1),
    }];
    let (plan, trace) = laid_out(&model, FunctionTables::Whole, [-128, -7, -6, -2, 1, 2, 6, 127]);
    let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
    assert_eq!(&witness.instance[8..], &[-128, -7, -6, -2, 1, 2, 6, 127, -32, -2, -1, 0, 0, 1, 2, 32]);
    assert_eq!(rows_with(&spec, NamedFixed::QRescale).len(), 8, "one alignment row per shifted element");
    crate::testing::Forgery::new(spec.clone(), witness).assert_accepted();
    // An aligned value one off (and everything after it honest) fails its rescale.
    let out = spec.layout.out();
    let row = rows_with(&spec, NamedFixed::QRescale)[1];
    let (_, forged) = compile_tampered(&model, plan.layout, &trace, (CellRef { column: out, row }, 1)).unwrap();
    assert_eq!(forged.instance[8 + 9], -1);
    crate::testing::Forgery::new(spec, forged).assert_only(&["rescale: out + Y0 = Σ ycoef·limb"]);
}

#[test]
fn a_layout_that_is_not_the_derived_one_is_refused() {
    use crate::plan::check_layout;
    let (model, plan, _) = activations();
    assert!(plan.layout.function_table);
    assert_eq!(check_layout(&model, plan.layout).unwrap(), plan);
    let l = plan.layout;
    let variants = [
        Layout { function_table: false, ..l },
        Layout { limbs: l.limbs + 1, ..l },
        Layout { limbs: l.limbs - 1, ..l },
        Layout { range_bits: l.range_bits + 1, ..l },
        Layout { weight_offset: l.weight_offset + 1, ..l },
    ];
    for declared in variants {
        match check_layout(&model, declared) {
            Err(CompileError::LayoutMismatch { declared: d, derived }) => {
                assert_eq!((d, derived), (declared, l));
            }
            other => panic!("{declared:?}: expected a mismatch, got {other:?}"),
        }
    }
    // The layout's own choices (linear layout, lanes) are the operator's: other values are
    // derived anew and accepted.
    let other =
        crate::plan::plan_with_lanes(&model, LinearLayout::OuterProduct, 24, Default::default(), Default::default())
            .unwrap();
    assert_eq!(check_layout(&model, other.layout).unwrap(), other);
}

#[test]
fn a_model_with_a_rescale_wider_than_62_bits_is_refused() {
    // validate() refuses it; compiling it anyway fails instead of wrapping.
    let (mut model, plan, _) = activations();
    let (i, out_bits) = model
        .nodes
        .iter()
        .enumerate()
        .find_map(|(i, n)| matches!(n.op, QOp::Dense(_)).then(|| (i, model.tensor(n.output).bits)))
        .unwrap();
    let QOp::Dense(d) = &mut model.nodes[i].op else { unreachable!() };
    d.shift = zkinfer_models::numeric::MAX_RESCALE_BITS - out_bits;
    model.validate().expect("62 bits are within the bound");
    let QOp::Dense(d) = &mut model.nodes[i].op else { unreachable!() };
    d.shift += 1;
    assert!(model.validate().is_err(), "63 bits must be refused");
    match compile(&model, plan.layout, None) {
        Err(CompileError::RescaleTooWide { shift, bits, .. }) => assert_eq!(shift + bits, 63),
        other => panic!("expected RescaleTooWide, got {:?}", other.map(|_| ())),
    }
}
