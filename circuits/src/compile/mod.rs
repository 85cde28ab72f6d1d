//! The model compiler: walks a [`QuantizedModel`] node by node and emits each op's rows through
//! the chips' instruction traits. Per op family: [`linear`] (Dense, Conv, Add/Sub, constants,
//! average pooling, Concat's alignment), [`activation`] (Relu, LeakyRelu, Clip, tabulated functions), [`pool`]
//! (MaxPool), [`output`] (ArgMax, Softmax), [`shape`] (Reshape, Transpose: wiring only).
//!
//! With a trace, every value the circuit computes for a tensor is compared with the
//! interpreter's: a difference is a [`CompileError::InterpreterMismatch`] (a bug), never a proof.

mod activation;
mod bounds;
mod linear;
mod output;
mod pool;
mod shape;
mod table;

use ndarray::{ArrayD, IxDyn};
use zkinfer_models::QuantizedModel;
use zkinfer_models::interpret::Trace;
use zkinfer_models::quantized::{QClip, QOp, QTensor};

use crate::builder::{Builder, CellRef, CircuitSpec, Witness};
use crate::layout::{Layout, LinearLayout};

/// Compiling a model into a circuit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// An op or parameter the circuits do not support.
    #[error("node '{node}' ({op}): {reason}")]
    Unsupported {
        /// Node name.
        node: String,
        /// Op kind.
        op: String,
        /// Why.
        reason: String,
    },
    /// The circuit computed a different value than the interpreter (a zkinfer bug).
    #[error("node '{node}': the circuit computes {circuit} at index {index}, the interpreter {interpreter}")]
    InterpreterMismatch {
        /// Node name.
        node: String,
        /// Flat index.
        index: usize,
        /// Circuit value.
        circuit: i64,
        /// Interpreter value.
        interpreter: i64,
    },
    /// The trace does not belong to the model.
    #[error("the trace has {got} tensors, the model {expected}")]
    TraceMismatch {
        /// Model tensors.
        expected: usize,
        /// Trace tensors.
        got: usize,
    },
    /// The layout has fewer limb columns than a rescale needs.
    #[error("the layout has {limbs} limb columns, the model needs {needed}")]
    Limbs {
        /// Available.
        limbs: usize,
        /// Needed.
        needed: usize,
    },
    /// A rescale whose `shift + bits` exceeds
    /// [`MAX_RESCALE_BITS`](zkinfer_models::numeric::MAX_RESCALE_BITS): its arithmetic would wrap.
    #[error("node '{node}': a rescale by {shift} bits to {bits} bits exceeds {max} bits", max = zkinfer_models::numeric::MAX_RESCALE_BITS)]
    RescaleTooWide {
        /// Node name.
        node: String,
        /// Right shift.
        shift: u32,
        /// Result bits.
        bits: u32,
    },
    /// The layout differs from the one the planner derives for the model with the layout's own
    /// linear layout and lane count (a hand-edited or corrupted compiled model).
    #[error("the layout {declared:?} differs from the one derived from the model, {derived:?}")]
    LayoutMismatch {
        /// The layout given.
        declared: Layout,
        /// The layout the planner derives.
        derived: Layout,
    },
    /// The model needs more rows than the largest supported circuit.
    #[error(
        "the model needs 2^{k} rows (with {lanes} lanes), above the maximum 2^{max}; split it or use fewer/larger layers"
    )]
    TooLarge {
        /// Required k.
        k: u32,
        /// Best lane count tried.
        lanes: usize,
        /// The cap.
        max: u32,
    },
}

/// What an op compiler sees: its input cells and tensor descriptions.
pub(crate) struct OpInputs<'a> {
    pub node: &'a str,
    pub cells: Vec<&'a ArrayD<CellRef>>,
    pub tensors: Vec<&'a QTensor>,
    pub output: &'a QTensor,
    /// Apply a following Relu inside this op's rescale (linear ops only; see `fusable_relu`).
    pub fuse_relu: bool,
    /// The values each input can take (see `bounds`).
    pub bounds: Vec<bounds::Bounds>,
}

/// Compiles `model` with `layout`; with a trace, also produces the witness (otherwise the
/// witness holds the values for an all-zero input and only the spec is meaningful).
pub fn compile(
    model: &QuantizedModel,
    layout: Layout,
    trace: Option<&Trace>,
) -> Result<(CircuitSpec, Witness), CompileError> {
    let builder = build(model, layout, trace)?;
    if builder.limbs_needed > layout.limbs {
        return Err(CompileError::Limbs { limbs: layout.limbs, needed: builder.limbs_needed });
    }
    Ok(builder.finish())
}

/// Runs the compiler and returns the builder (the planner reads its row and limb counts).
pub(crate) fn build(model: &QuantizedModel, layout: Layout, trace: Option<&Trace>) -> Result<Builder, CompileError> {
    build_into(Builder::new(layout), model, trace, true)
}

/// Tests only: compiles with the builder's tamper set (see `Builder::tamper`): the witness is
/// what a dishonest prover who changed that one cell would compute, everything after it
/// derived from the changed value.
#[cfg(test)]
pub(crate) fn compile_tampered(
    model: &QuantizedModel,
    layout: Layout,
    trace: &Trace,
    tamper: (CellRef, i64),
) -> Result<(CircuitSpec, Witness), CompileError> {
    let mut b = Builder::new(layout);
    b.tamper = Some(tamper);
    Ok(build_into(b, model, Some(trace), false)?.finish())
}

/// The compiler's walk over the nodes into `b`; with `check_trace`, every computed value is
/// compared with the trace's.
fn build_into(
    mut b: Builder,
    model: &QuantizedModel,
    trace: Option<&Trace>,
    check_trace: bool,
) -> Result<Builder, CompileError> {
    let layout = b.layout;
    if let Some(t) = trace
        && t.values.len() != model.tensors.len()
    {
        return Err(CompileError::TraceMismatch { expected: model.tensors.len(), got: t.values.len() });
    }
    check_size(model, layout)?;
    let input = model.tensor(model.input);
    let values: Vec<i64> = match trace {
        Some(t) => t.get(model.input).iter().copied().collect(),
        None => vec![0; input.len()],
    };
    let input_cells = b.public_inputs(&values);
    let mut cells: Vec<Option<ArrayD<CellRef>>> = vec![None; model.tensors.len()];
    cells[model.input.0] =
        Some(ArrayD::from_shape_vec(IxDyn(&input.shape), input_cells).expect("one cell per element"));
    let value_bounds = bounds::value_bounds(model);
    let mut nodes = model.nodes.iter().enumerate();
    while let Some((i, node)) = nodes.next() {
        // A linear op whose only reader is a Relu computes the Relu in its rescale row: the
        // pre-Relu tensor then has no cells, and the Relu's output is what is checked and kept.
        let fuse_relu = fusable_relu(model, i);
        let inputs = OpInputs {
            node: &node.name,
            cells: node.inputs.iter().map(|i| cells[i.0].as_ref().expect("topological order")).collect(),
            tensors: node.inputs.iter().map(|&i| model.tensor(i)).collect(),
            output: model.tensor(node.output),
            fuse_relu,
            bounds: node.inputs.iter().map(|i| value_bounds[i.0]).collect(),
        };
        let mut out = compile_op(&mut b, &node.op, &inputs)?;
        if let Some((shift, bits)) = b.too_wide {
            return Err(CompileError::RescaleTooWide { node: node.name.clone(), shift, bits });
        }
        let node = if fuse_relu {
            let (_, next) = nodes.next().expect("fusable_relu saw the Relu");
            if let QOp::Clip(c) = &next.op {
                // The clamp's zero is the fused Relu; its upper bound is what is left.
                out = activation::clamp_above(&mut b, out, c.max, model.tensor(next.inputs[0]));
            }
            next
        } else {
            node
        };
        if let Some(t) = trace.filter(|_| check_trace) {
            let expected = t.get(node.output);
            for (index, (cell, &want)) in out.iter().zip(expected.iter()).enumerate() {
                let got = b.value(*cell);
                if got != want {
                    return Err(CompileError::InterpreterMismatch {
                        node: node.name.clone(),
                        index,
                        circuit: got,
                        interpreter: want,
                    });
                }
            }
        }
        cells[node.output.0] = Some(out);
    }
    for o in &model.outputs {
        let out: Vec<CellRef> = cells[o.0].as_ref().expect("outputs are computed").iter().copied().collect();
        b.public_outputs(&out);
    }
    Ok(b)
}

fn compile_op(b: &mut Builder, op: &QOp, x: &OpInputs) -> Result<ArrayD<CellRef>, CompileError> {
    Ok(match op {
        QOp::Dense(d) => linear::dense(b, d, x),
        QOp::Conv2d(c) => linear::conv2d(b, c, x),
        QOp::Add(a) => linear::add(b, a, x),
        QOp::AddConstant(a) => linear::add_constant(b, a, x),
        QOp::MulConstant(m) => linear::mul_constant(b, m, x),
        QOp::AveragePool(p) => linear::average_pool(b, p, x),
        QOp::GlobalAveragePool(g) => linear::global_average_pool(b, g, x),
        QOp::Relu => activation::relu(b, x),
        QOp::LeakyRelu(l) => activation::leaky_relu(b, l, x)?,
        QOp::Clip(c) => activation::clip(b, c, x),
        QOp::Lookup(l) => activation::lookup(b, l, x),
        QOp::MaxPool(w) => pool::max_pool(b, w, x),
        QOp::Reshape(r) => shape::reshape(x.cells[0], &r.shape),
        QOp::Transpose(t) => shape::transpose(x.cells[0], &t.perm),
        QOp::ArgMax(a) => output::argmax(b, a, x),
        QOp::Concat(c) => linear::concat(b, c, x),
        QOp::Softmax(s) => output::softmax(b, s, x),
    })
}

/// Most rows [`build`] will emit before it refuses a model: the largest circuit plus slack for
/// the planner's probes. A compiled model is untrusted input to a verifier, so its size is
/// bounded before anything is allocated.
const MAX_ROWS: u64 = 4 << crate::layout::MAX_K;

/// An upper bound on the rows a node emits, from shapes alone.
fn row_bound(op: &QOp, x: &QTensor, out: &QTensor, layout: Layout) -> u64 {
    let lanes = layout.copy_lanes();
    let per = |terms: usize| terms.div_ceil(lanes).max(1) as u64;
    let out_len = out.len() as u64;
    // Outputs over shared inputs: per output with the dot product; per group of `lanes`
    // outputs, one row per input and one per output with the outer product.
    let shared = |outputs: usize, terms: usize| match layout.linear {
        LinearLayout::DotProduct => out_len * per(terms),
        LinearLayout::OuterProduct => {
            let groups = (out_len / outputs.max(1) as u64) * outputs.div_ceil(layout.lanes) as u64;
            groups * (terms as u64).max(1) + out_len
        }
    };
    match op {
        QOp::Dense(d) => shared(d.weight.nrows(), d.weight.ncols()),
        QOp::Conv2d(c) => shared(c.weight.shape()[0], c.weight.len() / c.weight.shape()[0].max(1)),
        QOp::AveragePool(p) => out_len * per(p.pool.window.area()),
        QOp::GlobalAveragePool(_) => out_len * per(x.shape.iter().skip(2).product()),
        QOp::MaxPool(w) => out_len * w.area() as u64,
        QOp::LeakyRelu(_) | QOp::Clip(_) => 2 * out_len,
        // A shift, up to two clamping comparisons and a sum around the lookup.
        QOp::Lookup(_) => 5 * out_len,
        QOp::Softmax(_) => 9 * out_len,
        QOp::ArgMax(_) => x.len() as u64,
        // At most one alignment row per element.
        QOp::Concat(_) => out_len,
        QOp::Reshape(_) | QOp::Transpose(_) => 0,
        _ => out_len,
    }
}

/// Refuses models whose circuit would exceed [`MAX_ROWS`], before building anything.
fn check_size(model: &QuantizedModel, layout: Layout) -> Result<(), CompileError> {
    let mut rows = (model.tensor(model.input).len() as u64).div_ceil(layout.copy_lanes() as u64);
    for n in &model.nodes {
        rows = rows.saturating_add(row_bound(&n.op, model.tensor(n.inputs[0]), model.tensor(n.output), layout));
    }
    if rows > MAX_ROWS {
        let k = 64 - rows.leading_zeros();
        return Err(CompileError::TooLarge { k, lanes: layout.lanes, max: crate::layout::MAX_K });
    }
    Ok(())
}

/// Whether node `i` is a linear op followed by a Relu that is the only reader of its output
/// (and the output is not a model output): then the Relu is fused into the rescale. A clamp
/// from 0 (a QDQ pair that onnxruntime's quantizer fused a Relu into) counts as a Relu
/// followed by its upper bound.
fn fusable_relu(model: &QuantizedModel, i: usize) -> bool {
    let node = &model.nodes[i];
    let linear = matches!(
        node.op,
        QOp::Dense(_)
            | QOp::Conv2d(_)
            | QOp::Add(_)
            | QOp::AddConstant(_)
            | QOp::MulConstant(_)
            | QOp::AveragePool(_)
            | QOp::GlobalAveragePool(_)
    );
    let next_is_relu = model
        .nodes
        .get(i + 1)
        .is_some_and(|n| matches!(n.op, QOp::Relu | QOp::Clip(QClip { min: 0, .. })) && n.inputs == [node.output]);
    let readers = model.nodes.iter().filter(|n| n.inputs.contains(&node.output)).count();
    linear && next_is_relu && readers == 1 && !model.outputs.contains(&node.output)
}

/// Whether the model needs the function table.
pub fn needs_function_table(model: &QuantizedModel) -> bool {
    model.nodes.iter().any(|n| matches!(n.op, QOp::Lookup(_) | QOp::Softmax(_)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
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
        let model =
            quantize(&graph, &samples("fixture_activations.calibration.json"), &QuantSettings::default()).unwrap();
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
        use crate::layout::{FunctionTables, LinearLayout};
        let (model, plan, trace) = activations();
        let trimmed =
            crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, plan.layout.lanes, FunctionTables::Trimmed)
                .unwrap();
        (model, trimmed, trace)
    }

    #[test]
    fn trimmed_tables_are_shorter_and_give_the_interpreters_values() {
        use crate::layout::FunctionTables;
        let (model, trimmed, trace) = trimmed_activations();
        let whole =
            crate::plan::plan_with_lanes(&model, trimmed.layout.linear, trimmed.layout.lanes, FunctionTables::Whole)
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

    /// One tabulated function, `clamp(x, -20, 20)` over 8-bit inputs, laid out with trimmed
    /// tables, and the trace of inputs on both sides of the cuts.
    fn saturating_lookup() -> (QuantizedModel, crate::plan::Plan, zkinfer_models::interpret::Trace) {
        use crate::layout::{FunctionTables, LinearLayout};
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
        model.validate().unwrap();
        let plan = crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, 8, FunctionTables::Trimmed).unwrap();
        let x = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-128i64, -50, -21, -20, 0, 19, 21, 127]).unwrap();
        let trace = model.interpret(x).unwrap();
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
        use crate::layout::{FunctionTables, LinearLayout};
        use zkinfer_models::quantized::{LookupFunction, LookupTable, QLookup};
        let (mut model, _, _) = saturating_lookup();
        let table = LookupTable { input_min: -32, values: (-32..=32i64).map(|v| v.clamp(-5, 5)).collect() };
        model.nodes[0].op = QOp::Lookup(QLookup { function: LookupFunction::Tanh, input_shift: 2, table });
        model.validate().unwrap();
        let plan = crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, 8, FunctionTables::Whole).unwrap();
        let x = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-128i64, -19, -18, -2, 2, 10, 19, 127]).unwrap();
        let trace = model.interpret(x).unwrap();
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
        use crate::layout::{FunctionTables, LinearLayout, NamedFixed};
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
        model.validate().unwrap();
        let plan = crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, 8, FunctionTables::Whole).unwrap();
        let x = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-128i64, -1, 0, 1, 49, 50, 51, 127]).unwrap();
        let trace = model.interpret(x).unwrap();
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
        use crate::layout::{FunctionTables, LinearLayout, NamedFixed};
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
        model.validate().unwrap();
        let plan = crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, 8, FunctionTables::Whole).unwrap();
        let x = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-128i64, -4, -3, 0, 46, 47, 48, 124]).unwrap();
        let trace = model.interpret(x).unwrap();
        let (spec, witness) = compile(&model, plan.layout, Some(&trace)).unwrap();
        assert_eq!(&witness.instance[8..], &[0, 0, 0, 3, 49, 50, 50, 50]);
        assert_eq!(rows_with(&spec, NamedFixed::QMax).len(), 8, "only the upper bound is compared");
        assert_eq!(rows_with(&spec, NamedFixed::QRescaleRelu).len(), 8, "the zero is the fused Relu");
        crate::testing::Forgery::new(spec, witness).assert_accepted();
    }

    /// `concat(x, round_shift(x, 2))` along the last axis: the second copy aligned by a rescale
    /// row per element, the join itself wiring.
    #[test]
    fn a_concatenation_aligns_its_inputs_and_joins_them() {
        use crate::layout::{FunctionTables, LinearLayout, NamedFixed};
        use zkinfer_models::quantized::QConcat;
        let (mut model, _, _) = saturating_lookup();
        model.tensors[1] = QTensor { name: "y".into(), shape: vec![1, 16], scale: 2, bits: 8 };
        model.nodes = vec![QNode {
            name: "join".into(),
            op: QOp::Concat(QConcat { axis: 1, shifts: vec![0, 2] }),
            inputs: vec![TensorId(0), TensorId(0)],
            output: TensorId(1),
        }];
        model.validate().unwrap();
        let plan = crate::plan::plan_with_lanes(&model, LinearLayout::DotProduct, 8, FunctionTables::Whole).unwrap();
        let x = ndarray::ArrayD::from_shape_vec(IxDyn(&[1, 8]), vec![-128i64, -7, -6, -2, 1, 2, 6, 127]).unwrap();
        let trace = model.interpret(x).unwrap();
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
        let other = crate::plan::plan_with_lanes(&model, LinearLayout::OuterProduct, 24, Default::default()).unwrap();
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
}
