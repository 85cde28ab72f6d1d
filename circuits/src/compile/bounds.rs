//! The values each tensor can take, as far as the circuit and the verifier enforce them: a
//! tensor's declared range (the model input's as the verifier checks it: a clamp on the input
//! is applied before it, see `QuantizedModel::input_range`), narrowed by what its op guarantees
//! (a Relu's output is at least 0, a Clip's lies within its bounds, a table's output is one of
//! its values, a MaxPool's one of its inputs). A comparison whose answer these bounds already
//! give (a QDQ clamp that restates a Relu's zero, say) is left out of the circuit.

use zkinfer_models::QuantizedModel;
use zkinfer_models::quantized::QOp;

/// Inclusive bounds `(min, max)` of a tensor's values.
pub(crate) type Bounds = (i64, i64);

/// Bounds of every tensor of `model`, by tensor index.
pub(crate) fn value_bounds(model: &QuantizedModel) -> Vec<Bounds> {
    let mut bounds: Vec<Bounds> =
        (0..model.tensors.len()).map(|i| model.value_range(zkinfer_models::graph::TensorId(i))).collect();
    for node in &model.nodes {
        let (lo, hi) = bounds[node.inputs[0].0];
        let narrowed = match &node.op {
            // Enforced by the comparison with 0 (or the fused rescale's sign).
            QOp::Relu => (lo.max(0), hi.max(0)),
            // Enforced by the comparisons, or already by the input's bounds.
            QOp::Clip(c) => (lo.max(c.min), hi.min(c.max)),
            // Each output is one of the inputs (comparisons pick one of their operands).
            QOp::MaxPool(_) | QOp::Reshape(_) | QOp::Transpose(_) | QOp::Upsample(_) => (lo, hi),
            // Each output is a table value (the lookup binds it to the table).
            QOp::Lookup(l) => {
                let values = l.table.values.iter().copied();
                (values.clone().min().unwrap_or(lo), values.max().unwrap_or(hi))
            }
            _ => model.tensor(node.output).range(),
        };
        let (out_lo, out_hi) = model.tensor(node.output).range();
        let b = (narrowed.0.max(out_lo), narrowed.1.min(out_hi));
        bounds[node.output.0] = if b.0 <= b.1 { b } else { (out_lo, out_hi) };
    }
    bounds
}
