//! The model compiler: walks a [`QuantizedModel`] node by node and emits each op's rows through
//! the chips' instruction traits. Per op family: [`linear`] (Dense, Conv, ConvTranspose,
//! Add/Sub, constants, average pooling, Concat's alignment), [`product`] (Mul of two tensors),
//! [`activation`] (Relu, LeakyRelu, Clip, tabulated functions), [`pool`] (MaxPool), [`output`]
//! (ArgMax, Softmax), [`shape`] (Reshape, Transpose, Upsample: wiring only).
//!
//! With a trace, every value the circuit computes for a tensor is compared with the
//! interpreter's: a difference is a [`CompileError::InterpreterMismatch`] (a bug), never a proof.

mod activation;
mod bounds;
mod linear;
mod output;
mod pool;
mod product;
mod shape;
mod table;

use ndarray::{ArrayD, IxDyn};
use zkinfer_models::QuantizedModel;
use zkinfer_models::interpret::Trace;
use zkinfer_models::quantized::{QClip, QOp, QTensor};

use crate::builder::{Builder, CellRef, CircuitSpec, Witness};
use crate::chips::range::Clamp;
use crate::layout::{ClampForm, Layout, LinearLayout};

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
    /// Apply a following Relu inside this op's rescale (linear ops only; see `fused_activation`).
    pub fuse_relu: bool,
    /// Apply a following clamp inside this op's rescale (instead of the Relu; see
    /// `fused_activation`).
    pub fuse_clamp: Option<Clamp>,
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
        // A linear op whose only reader is a Relu (or a clamp) computes it in its rescale row:
        // the tensor before it then has no cells, and its output is what is checked and kept.
        let fused = fused_activation(model, i, layout.clamps, &value_bounds);
        let inputs = OpInputs {
            node: &node.name,
            cells: node.inputs.iter().map(|i| cells[i.0].as_ref().expect("topological order")).collect(),
            tensors: node.inputs.iter().map(|&i| model.tensor(i)).collect(),
            output: model.tensor(node.output),
            fuse_relu: fused == Some(Fused::Relu),
            fuse_clamp: match fused {
                Some(Fused::Clamp(c)) => Some(c),
                _ => None,
            },
            bounds: node.inputs.iter().map(|i| value_bounds[i.0]).collect(),
        };
        let mut out = compile_op(&mut b, &node.op, &inputs)?;
        if let Some((shift, bits)) = b.too_wide {
            return Err(CompileError::RescaleTooWide { node: node.name.clone(), shift, bits });
        }
        let node = if let Some(fused) = fused {
            let (_, next) = nodes.next().expect("fused_activation saw the next node");
            if let (Fused::Relu, QOp::Clip(c)) = (fused, &next.op) {
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
        QOp::ConvTranspose2d(c) => linear::conv_transpose2d(b, c, x),
        QOp::Add(a) => linear::add(b, a, x),
        QOp::Mul(m) => product::mul(b, m, x),
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
        QOp::Upsample(u) => shape::upsample(x.cells[0], u.factors),
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
        // Every input channel at every kernel position at most (the bias row where none reach).
        QOp::ConvTranspose2d(c) => shared(c.weight.shape()[1], c.weight.len() / c.weight.shape()[1].max(1)),
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
        QOp::Reshape(_) | QOp::Transpose(_) | QOp::Upsample(_) => 0,
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

/// What a linear op computes in its rescale row for the node after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fused {
    /// A Relu, or a clamp from 0 whose upper bound is then compared.
    Relu,
    /// A clamp around 0 ([`ClampForm::InRescale`] layouts).
    Clamp(Clamp),
}

/// What node `i`'s rescale computes of the node after it, if node `i` is a linear op or a
/// product whose output is read only by that node (and is not a model output): a Relu, or a
/// clamp from 0 (a QDQ pair that onnxruntime's quantizer fused a Relu into) as a Relu followed
/// by its upper bound; in layouts with [`ClampForm::InRescale`], any clamp around 0 that the
/// value bounds do not already answer, whole.
fn fused_activation(model: &QuantizedModel, i: usize, clamps: ClampForm, bounds: &[bounds::Bounds]) -> Option<Fused> {
    let node = &model.nodes[i];
    let linear = matches!(
        node.op,
        QOp::Dense(_)
            | QOp::Conv2d(_)
            | QOp::ConvTranspose2d(_)
            | QOp::Add(_)
            | QOp::Mul(_)
            | QOp::AddConstant(_)
            | QOp::MulConstant(_)
            | QOp::AveragePool(_)
            | QOp::GlobalAveragePool(_)
    );
    let readers = model.nodes.iter().filter(|n| n.inputs.contains(&node.output)).count();
    if !linear || readers != 1 || model.outputs.contains(&node.output) {
        return None;
    }
    let next = model.nodes.get(i + 1).filter(|n| n.inputs == [node.output])?;
    match next.op {
        QOp::Relu => Some(Fused::Relu),
        QOp::Clip(QClip { min, max }) if min <= 0 && max >= 0 => {
            let (lo, hi) = bounds[node.output.0];
            let compared = max < hi || (min < 0 && min > lo);
            match clamps {
                ClampForm::InRescale if compared => Some(Fused::Clamp(Clamp { min, max })),
                _ if min == 0 => Some(Fused::Relu),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Number of clamps that a layout with [`ClampForm::InRescale`] computes in a rescale row
/// (the planner weighs that form only for a model with at least one).
pub fn clamps_in_rescale(model: &QuantizedModel) -> usize {
    let bounds = bounds::value_bounds(model);
    (0..model.nodes.len())
        .filter(|&i| matches!(fused_activation(model, i, ClampForm::InRescale, &bounds), Some(Fused::Clamp(_))))
        .count()
}

/// Number of tabulated ops (each brings a function table; identical tables share rows).
pub fn function_tables(model: &QuantizedModel) -> usize {
    model.nodes.iter().filter(|n| matches!(n.op, QOp::Lookup(_) | QOp::Softmax(_))).count()
}

/// Whether the model needs the function table.
pub fn needs_function_table(model: &QuantizedModel) -> bool {
    function_tables(model) > 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;
