//! Shape arithmetic as exporters write it, folded at import: `Shape`, `Gather`, `Unsqueeze`,
//! `Squeeze`, `Concat` and `Cast` over constants give constants (every run-time shape is known
//! when importing), so a PyTorch `x.view(x.size(0), -1)` (Shape → Gather → Unsqueeze → Concat →
//! Reshape) arrives at `Reshape` as a constant shape. On run-time tensors, `Unsqueeze` and
//! `Squeeze` become a reshape and a `Cast` between float types is the identity; the rest is
//! refused with the node named.

use ndarray::{ArrayD, Axis, IxDyn};

use super::proto::data_type;
use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::Reshape;

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("Shape", shape),
    ("Gather", gather),
    ("Unsqueeze", unsqueeze),
    ("Squeeze", squeeze),
    ("Concat", concat),
    ("Cast", cast),
];

/// The opset from which `Unsqueeze` and `Squeeze` take their axes as an input.
const AXES_AS_INPUT_OPSET: i64 = 13;

fn shape(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let dims: Vec<usize> = match imp.input(ctx, 0)? {
        Value::Tensor(x) => imp.shape(x).to_vec(),
        Value::Constant(c) => c.shape().to_vec(),
        Value::Quantized { tensor, .. } => imp.shape(tensor).to_vec(),
    };
    // Opset 15's start and end select a range of the dimensions (negative from the end).
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(ctx.int("start", 0)?);
    let end = clamp(ctx.int("end", rank)?);
    let picked: Vec<i64> = dims[start..end.max(start)].iter().map(|&d| d as i64).collect();
    imp.bind(ctx, Value::Constant(int_constant(ndarray::Array1::from(picked).into_dyn())));
    Ok(())
}

fn gather(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let data = match imp.input(ctx, 0)? {
        Value::Constant(c) => c,
        _ => {
            return Err(ImportError::Unsupported {
                what: format!(
                    "Gather '{}' on a run-time tensor (only shape arithmetic on constants is folded)",
                    ctx.name
                ),
            });
        }
    };
    let indices = imp.constant_input(ctx, 1)?.to_i64("Gather's indices")?;
    let rank = data.shape().len();
    let axis = ctx.axis("axis", ctx.int("axis", 0)?, rank)?;
    let size = data.shape()[axis] as i64;
    let flat = indices
        .iter()
        .map(|&i| {
            let j = if i < 0 { i + size } else { i };
            if (0..size).contains(&j) {
                Ok(j as usize)
            } else {
                Err(ctx.bad_attr("indices", format!("index {i} is out of range for a dimension of {size}")))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out_shape = data.shape()[..axis].to_vec();
    out_shape.extend_from_slice(indices.shape());
    out_shape.extend_from_slice(&data.shape()[axis + 1..]);
    let folded = match data {
        Constant::Float(a) => Constant::Float(reshaped(a.select(Axis(axis), &flat), &out_shape)?),
        Constant::Int { values, data_type } => {
            Constant::Int { values: reshaped(values.select(Axis(axis), &flat), &out_shape)?, data_type }
        }
    };
    imp.bind(ctx, Value::Constant(folded));
    Ok(())
}

/// The axes of `Unsqueeze` or `Squeeze`: an attribute before opset 13, an input from it on.
fn axes(imp: &Importer, ctx: &NodeCtx) -> Result<Option<Vec<i64>>, ImportError> {
    if imp.opset < AXES_AS_INPUT_OPSET {
        return ctx.ints("axes");
    }
    match imp.optional_input(ctx, 1)? {
        Some(Value::Constant(c)) => Ok(Some(c.to_i64("axes")?.iter().copied().collect())),
        Some(_) => {
            Err(ImportError::ExpectedConstant { node: ctx.name.clone(), op_type: ctx.op_type.to_string(), input: 1 })
        }
        None => Ok(None),
    }
}

fn unsqueeze(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let value = imp.input(ctx, 0)?;
    let input_shape = value_shape(imp, ctx, &value)?;
    let axes = axes(imp, ctx)?.ok_or_else(|| ctx.bad_attr("axes", "Unsqueeze needs axes"))?;
    let rank = input_shape.len() + axes.len();
    let mut inserted = axes.iter().map(|&a| ctx.axis("axes", a, rank)).collect::<Result<Vec<_>, _>>()?;
    inserted.sort_unstable();
    if inserted.windows(2).any(|w| w[0] == w[1]) {
        return Err(ctx.bad_attr("axes", "repeats an axis"));
    }
    let mut dims = input_shape.iter().copied();
    let shape: Vec<usize> =
        (0..rank).map(|i| if inserted.contains(&i) { 1 } else { dims.next().unwrap_or(1) }).collect();
    reshape_value(imp, ctx, value, shape)
}

fn squeeze(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let value = imp.input(ctx, 0)?;
    let input_shape = value_shape(imp, ctx, &value)?;
    let rank = input_shape.len();
    let removed: Vec<usize> = match axes(imp, ctx)? {
        Some(axes) => {
            let removed = axes.iter().map(|&a| ctx.axis("axes", a, rank)).collect::<Result<Vec<_>, _>>()?;
            if let Some(&a) = removed.iter().find(|&&a| input_shape[a] != 1) {
                return Err(ctx.bad_attr("axes", format!("axis {a} has size {}, not 1", input_shape[a])));
            }
            removed
        }
        None => (0..rank).filter(|&a| input_shape[a] == 1).collect(),
    };
    let shape: Vec<usize> = (0..rank).filter(|a| !removed.contains(a)).map(|a| input_shape[a]).collect();
    reshape_value(imp, ctx, value, shape)
}

fn concat(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let count = (0..).take_while(|&i| ctx.input_name(i).is_some()).count();
    let parts: Vec<Constant> = (0..count)
        .map(|i| match imp.input(ctx, i)? {
            Value::Constant(c) => Ok(c),
            _ => Err(ImportError::Unsupported {
                what: format!("Concat '{}' of run-time tensors (only constants are concatenated)", ctx.name),
            }),
        })
        .collect::<Result<_, _>>()?;
    let first = parts.first().ok_or_else(|| ctx.bad_attr("inputs", "Concat needs at least one input"))?;
    let rank = first.shape().len();
    let axis = ctx.axis("axis", ctx.int("axis", 0)?, rank)?;
    let shape_error = |e: ndarray::ShapeError| ctx.bad_attr("inputs", format!("cannot concatenate: {e}"));
    let folded = match first {
        Constant::Int { data_type, .. } => {
            let arrays = parts.iter().map(|p| p.to_i64("Concat's inputs")).collect::<Result<Vec<_>, _>>()?;
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            Constant::Int {
                values: ndarray::concatenate(Axis(axis), &views).map_err(shape_error)?,
                data_type: *data_type,
            }
        }
        Constant::Float(_) => {
            let arrays: Vec<ArrayD<f32>> = parts.iter().map(Constant::to_f32).collect();
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            Constant::Float(ndarray::concatenate(Axis(axis), &views).map_err(shape_error)?)
        }
    };
    imp.bind(ctx, Value::Constant(folded));
    Ok(())
}

fn cast(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let to = ctx.int("to", 0)? as i32;
    let to_float = matches!(to, data_type::FLOAT | data_type::DOUBLE | FLOAT16);
    let to_int = matches!(to, data_type::INT8 | data_type::UINT8 | data_type::INT32 | data_type::INT64);
    if !to_float && !to_int {
        return Err(ImportError::UnsupportedDataType { what: format!("Cast '{}'", ctx.name), data_type: to });
    }
    let value = match imp.input(ctx, 0)? {
        Value::Constant(Constant::Float(a)) if to_int => {
            Value::Constant(Constant::Int { values: a.mapv(|v| v.trunc() as i64), data_type: to })
        }
        Value::Constant(Constant::Int { values, .. }) if to_float => {
            Value::Constant(Constant::Float(values.mapv(|v| v as f32)))
        }
        Value::Constant(Constant::Int { values, .. }) => Value::Constant(Constant::Int { values, data_type: to }),
        // A float constant or run-time tensor cast to a float type: the same values.
        value @ (Value::Constant(Constant::Float(_)) | Value::Tensor(_)) if to_float => value,
        _ => {
            return Err(ImportError::Unsupported {
                what: format!("Cast '{}' of a run-time tensor to an integer type", ctx.name),
            });
        }
    };
    imp.bind(ctx, value);
    Ok(())
}

/// ONNX's FLOAT16 data type (a float: a Cast to it keeps the values).
const FLOAT16: i32 = 10;

fn value_shape(imp: &Importer, ctx: &NodeCtx, value: &Value) -> Result<Vec<usize>, ImportError> {
    match value {
        Value::Tensor(x) => Ok(imp.shape(*x).to_vec()),
        Value::Constant(c) => Ok(c.shape().to_vec()),
        Value::Quantized { .. } => Err(ctx.bad_attr("data", "cannot reshape an integer QDQ tensor")),
    }
}

/// The value with a new shape: a constant folded, a run-time tensor through a reshape.
fn reshape_value(imp: &mut Importer, ctx: &NodeCtx, value: Value, shape: Vec<usize>) -> Result<(), ImportError> {
    match value {
        Value::Constant(Constant::Float(a)) => {
            let folded = Constant::Float(reshaped(a, &shape)?);
            imp.bind(ctx, Value::Constant(folded));
            Ok(())
        }
        Value::Constant(Constant::Int { values, data_type }) => {
            let folded = Constant::Int { values: reshaped(values, &shape)?, data_type };
            imp.bind(ctx, Value::Constant(folded));
            Ok(())
        }
        Value::Tensor(x) => imp.emit(ctx, Op::Reshape(Reshape { shape }), vec![x], true).map(drop),
        Value::Quantized { .. } => Err(ctx.bad_attr("data", "cannot reshape an integer QDQ tensor")),
    }
}

fn reshaped<T: Clone>(a: ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, ImportError> {
    let values: Vec<T> = a.iter().cloned().collect();
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| ImportError::Unsupported { what: format!("a folded constant of shape {shape:?}: {e}") })
}

fn int_constant(values: ArrayD<i64>) -> Constant {
    Constant::Int { values, data_type: data_type::INT64 }
}
