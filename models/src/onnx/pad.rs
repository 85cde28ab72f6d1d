//! Pad with zeros in front of a Conv or an AveragePool: exporters write a window op's padding
//! as its own node (TensorFlow's asymmetric "SAME", Keras' ZeroPadding2D, PyTorch's `F.pad`).
//! The padding is not an op of its own here: the padded tensor is bound as
//! [`Value::Padded`] and the window op that reads it adds the pads to its own. Any other reader
//! is refused with a message that says so.

use super::{ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;

pub(super) const OPS: &[(&str, ImportFn)] = &[("Pad", pad)];

/// Why any other reader of a Pad's output is refused.
pub(super) const ONLY_WINDOW_READERS: &str = "is the output of a Pad, which only a Conv or an AveragePool may read";

/// The opset from which Pad takes `pads` and the constant as inputs.
const PADS_AS_INPUT_OPSET: i64 = 11;

fn pad(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let mode = ctx.string("mode", "constant")?;
    if mode != "constant" {
        return Err(ctx.bad_attr("mode", format!("= {mode}: only constant (zero) padding is supported")));
    }
    let (pads, value): (Vec<i64>, f32) = if imp.opset < PADS_AS_INPUT_OPSET {
        let pads = ctx.ints("pads")?.ok_or_else(|| ctx.bad_attr("pads", "is required"))?;
        (pads, ctx.float("value", 0.0)?)
    } else {
        let pads = imp.constant_input(ctx, 1)?.to_i64("pads")?.iter().copied().collect();
        let value = match imp.optional_input(ctx, 2)? {
            None => 0.0,
            Some(Value::Constant(c)) => c.to_f32().iter().copied().next().unwrap_or(0.0),
            Some(_) => {
                return Err(ImportError::ExpectedConstant { node: ctx.name.clone(), op_type: "Pad".into(), input: 2 });
            }
        };
        if imp.optional_input(ctx, 3)?.is_some() {
            return Err(ctx.bad_attr("axes", "is not supported (pad every axis)"));
        }
        (pads, value)
    };
    if value != 0.0 {
        return Err(ctx.bad_attr("constant_value", format!("= {value}: only zero padding is supported")));
    }
    let x = imp.tensor_input(ctx, 0)?;
    let rank = imp.shape(x).len();
    if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
        return Err(ctx.bad_attr("pads", format!("= {pads:?}: expected {} non-negative values", 2 * rank)));
    }
    let (begin, end) = pads.split_at(rank);
    if !(3..=4).contains(&rank) || begin[..2].iter().chain(&end[..2]).any(|&p| p != 0) {
        return Err(
            ctx.bad_attr("pads", format!("= {pads:?}: only the spatial axes of an NCL or NCHW tensor are padded"))
        );
    }
    let p = |v: i64| v as usize;
    let pads =
        if rank == 4 { [p(begin[2]), p(begin[3]), p(end[2]), p(end[3])] } else { [0, p(begin[2]), 0, p(end[2])] };
    imp.bind(ctx, Value::Padded { tensor: x, pads });
    Ok(())
}
