//! Pure data movement: Flatten, Reshape, Transpose; and nodes that only rename or define values:
//! Identity, Dropout (inference), Constant. Shape ops on constants are folded.

use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::{Reshape, Transpose};

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("Flatten", flatten),
    ("Reshape", reshape),
    ("Transpose", transpose),
    ("Identity", identity),
    ("Dropout", identity),
    ("Constant", constant),
];

fn flatten(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let (x, quant) = imp.maybe_quantized_input(ctx, 0)?;
    let shape = imp.shape(x).to_vec();
    let axis = match ctx.int("axis", 1)? {
        a if a < 0 => ctx.axis("axis", a, shape.len())?,
        a if a as usize <= shape.len() => a as usize,
        a => {
            return Err(ctx.bad_attr("axis", format!("= {a} is out of range for rank {}", shape.len())));
        }
    };
    let outer = shape[..axis].iter().product();
    let inner = shape[axis..].iter().product();
    imp.emit_keeping_quantization(ctx, Op::Reshape(Reshape { shape: vec![outer, inner] }), x, quant)
}

fn reshape(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let target = imp.constant_input(ctx, 1)?.to_i64("Reshape's shape")?;
    // With allowzero = 1 (PyTorch's dynamo exporter) a 0 is an empty axis, not a copied one:
    // the same as 0 whenever the shape has no 0.
    if ctx.int("allowzero", 0)? != 0 && target.iter().any(|&d| d == 0) {
        return Err(ctx.bad_attr("allowzero", "= 1 with a 0 in the shape: an empty tensor"));
    }
    if let Value::Constant(c) = imp.input(ctx, 0)? {
        // A constant reshaped (onnxruntime's quantizers reshape a convolution's bias): folded.
        let shape = target_shape(ctx, c.shape(), &target)?;
        return super::folding::reshape_value(imp, ctx, Value::Constant(c), shape);
    }
    let (x, quant) = imp.maybe_quantized_input(ctx, 0)?;
    let shape = target_shape(ctx, imp.shape(x), &target)?;
    imp.emit_keeping_quantization(ctx, Op::Reshape(Reshape { shape }), x, quant)
}

/// Reshape's `shape` input resolved against the input's shape (`0` copies an axis, one `-1` is
/// inferred).
fn target_shape(ctx: &NodeCtx, input: &[usize], target: &ndarray::ArrayD<i64>) -> Result<Vec<usize>, ImportError> {
    let total: usize = input.iter().product();
    let mut shape = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &d) in target.iter().enumerate() {
        shape.push(match d {
            0 => *input.get(i).ok_or_else(|| ctx.bad_attr("shape", "0 refers to a missing input axis"))?,
            -1 if infer.is_none() => {
                infer = Some(i);
                1
            }
            d if d > 0 => d as usize,
            d => return Err(ctx.bad_attr("shape", format!("invalid dimension {d}"))),
        });
    }
    if let Some(i) = infer {
        let known: usize = shape.iter().product();
        if known == 0 || !total.is_multiple_of(known) {
            return Err(ctx.bad_attr("shape", format!("cannot infer -1 reshaping {input:?} to {target}")));
        }
        shape[i] = total / known;
    }
    Ok(shape)
}

fn transpose(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let value = imp.input(ctx, 0)?;
    let rank = match &value {
        Value::Tensor(x) => imp.shape(*x).len(),
        Value::Constant(c) => c.shape().len(),
        Value::Quantized { .. } => {
            return Err(ctx.bad_attr("data", "cannot transpose an integer QDQ tensor"));
        }
        Value::Padded { .. } => {
            return Err(ctx.bad_attr("data", super::pad::ONLY_WINDOW_READERS));
        }
        Value::Dynamic(_) => return Err(ctx.bad_attr("data", super::dynamic::ONLY_INTEGER_READERS)),
    };
    let perm = match ctx.ints("perm")? {
        Some(p) => p.iter().map(|&a| ctx.axis("perm", a, rank)).collect::<Result<Vec<_>, _>>()?,
        None => (0..rank).rev().collect(),
    };
    match value {
        Value::Constant(c) => {
            let op = Op::Transpose(Transpose { perm: perm.clone() });
            op.output_shape(&[c.shape()]).map_err(|source| ImportError::Shape { node: ctx.name.clone(), source })?;
            let folded = match c {
                Constant::Float(a) => Constant::Float(crate::kernels::transpose(&a, &perm)),
                Constant::Int { values, data_type } => {
                    Constant::Int { values: crate::kernels::transpose(&values, &perm), data_type }
                }
            };
            imp.bind(ctx, Value::Constant(folded));
            Ok(())
        }
        Value::Tensor(x) => imp.emit(ctx, Op::Transpose(Transpose { perm }), vec![x], true).map(drop),
        Value::Quantized { .. } | Value::Padded { .. } | Value::Dynamic(_) => unreachable!("rejected above"),
    }
}

fn identity(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let v = imp.input(ctx, 0)?;
    imp.bind(ctx, v);
    Ok(())
}

fn constant(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let value = if let Some(t) = ctx.tensor("value")? {
        Constant::from_proto(t, &ctx.name)?
    } else if let Some(f) = ctx.float_opt("value_float")? {
        Constant::Float(ndarray::arr0(f).into_dyn())
    } else if let Some(ints) = ctx.ints("value_ints")? {
        let values = ndarray::Array1::from(ints).into_dyn();
        Constant::Int { values, data_type: super::proto::data_type::INT64 }
    } else {
        let names: Vec<_> = ctx.attribute_names().collect();
        return Err(ctx.bad_attr(
            names.first().copied().unwrap_or("value"),
            "only value, value_float and value_ints are supported",
        ));
    };
    imp.bind(ctx, Value::Constant(value));
    Ok(())
}
