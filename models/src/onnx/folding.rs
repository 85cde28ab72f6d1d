//! Shape arithmetic as exporters write it, folded at import: `Shape`, `Gather`, `Unsqueeze`,
//! `Squeeze`, `Concat`, `Slice`, `Range`, `ConstantOfShape` and `Cast` over constants give
//! constants (every run-time shape is known when importing), so a PyTorch
//! `x.view(x.size(0), -1)` (Shape → Gather → Unsqueeze → Concat → Reshape) arrives at `Reshape`
//! as a constant shape. On run-time tensors, `Unsqueeze` and
//! `Squeeze` become a reshape, a `Cast` between float types is the identity, and so is a `Cast`
//! of an ArgMax's index to an integer type; the rest is refused with the node named.

use ndarray::{ArrayD, Axis, IxDyn};

use super::proto::data_type;
use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::{self, Reshape};

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("Shape", shape),
    ("Gather", gather),
    ("Unsqueeze", unsqueeze),
    ("Squeeze", squeeze),
    ("Concat", concat),
    ("Slice", slice),
    ("Range", range),
    ("ConstantOfShape", constant_of_shape),
    ("Cast", cast),
];

/// The opset from which `Slice` takes starts, ends, axes and steps as inputs.
const SLICE_INPUTS_OPSET: i64 = 10;
/// Most elements a folded `Range` or `ConstantOfShape` may make.
const MAX_FOLDED_ELEMENTS: usize = 1 << 20;

/// The opset from which `Unsqueeze` and `Squeeze` take their axes as an input.
const AXES_AS_INPUT_OPSET: i64 = 13;

fn shape(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let dims: Vec<usize> = match imp.input(ctx, 0)? {
        Value::Tensor(x) => imp.shape(x).to_vec(),
        Value::Constant(c) => c.shape().to_vec(),
        Value::Quantized { tensor, .. } => imp.shape(tensor).to_vec(),
        Value::Padded { tensor, pads } => {
            let mut s = imp.shape(tensor).to_vec();
            let r = s.len();
            // Height and width grow (a padded NCL tensor only along L).
            if r == 4 {
                s[2] += pads[0] + pads[2];
            }
            s[r - 1] += pads[1] + pads[3];
            s
        }
        Value::Dynamic(_) => return Err(ctx.bad_attr("data", super::dynamic::ONLY_INTEGER_READERS)),
    };
    // Opset 15's start and end select a range of the dimensions (negative from the end).
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v.saturating_add(rank) } else { v }).clamp(0, rank) as usize;
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
    // Gather can make a constant far larger than the file: bound it as tensors are bounded.
    let elements = out_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if elements.is_none_or(|e| e > crate::graph::MAX_TENSOR_ELEMENTS) {
        return Err(ctx.bad_attr("indices", format!("a gathered constant of shape {out_shape:?} is too large")));
    }
    let folded = match data {
        Constant::Float(a) => Constant::Float(reshaped(a.select(Axis(axis), &flat), &out_shape)?),
        Constant::Int { values, data_type } => {
            Constant::Int { values: reshaped(values.select(Axis(axis), &flat), &out_shape)?, data_type }
        }
    };
    imp.bind(ctx, Value::Constant(folded));
    Ok(())
}

/// A node's axes: the `axes` attribute before `input_opset`, its constant input 1 from it on
/// (`Unsqueeze` and `Squeeze` from opset 13, the reductions from theirs).
pub(super) fn axes(imp: &Importer, ctx: &NodeCtx, input_opset: i64) -> Result<Option<Vec<i64>>, ImportError> {
    if imp.opset < input_opset { ctx.ints("axes") } else { optional_ints(imp, ctx, 1, "axes") }
}

fn unsqueeze(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let value = imp.input(ctx, 0)?;
    let input_shape = value_shape(imp, ctx, &value)?;
    let axes = axes(imp, ctx, AXES_AS_INPUT_OPSET)?.ok_or_else(|| ctx.bad_attr("axes", "Unsqueeze needs axes"))?;
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
    let removed: Vec<usize> = match axes(imp, ctx, AXES_AS_INPUT_OPSET)? {
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
    let values: Vec<Value> = (0..count).map(|i| imp.input(ctx, i)).collect::<Result<_, _>>()?;
    if values.iter().all(|v| matches!(v, Value::Tensor(_))) && !values.is_empty() {
        // Activations joined at run time (skip connections, branches).
        let tensors: Vec<_> = (0..count).map(|i| imp.tensor_input(ctx, i)).collect::<Result<_, _>>()?;
        let rank = imp.shape(tensors[0]).len();
        let axis = ctx.axis("axis", ctx.int("axis", 0)?, rank)?;
        return imp.emit(ctx, Op::Concat(ops::Concat { axis }), tensors, true).map(drop);
    }
    let parts: Vec<Constant> = values
        .into_iter()
        .map(|v| match v {
            Value::Constant(c) => Ok(c),
            _ => Err(ImportError::Unsupported {
                what: format!(
                    "Concat '{}' of run-time tensors and constants (all constants, or all run-time tensors)",
                    ctx.name
                ),
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

/// A constant input given as integers, or `None` when the optional input is absent.
fn optional_ints(imp: &Importer, ctx: &NodeCtx, i: usize, what: &str) -> Result<Option<Vec<i64>>, ImportError> {
    match imp.optional_input(ctx, i)? {
        Some(Value::Constant(c)) => Ok(Some(c.to_i64(what)?.iter().copied().collect())),
        Some(_) => {
            Err(ImportError::ExpectedConstant { node: ctx.name.clone(), op_type: ctx.op_type.to_string(), input: i })
        }
        None => Ok(None),
    }
}

fn slice(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let mut data = match imp.input(ctx, 0)? {
        Value::Constant(c) => c,
        _ => {
            return Err(ImportError::Unsupported {
                what: format!("Slice '{}' of a run-time tensor (only constants are sliced)", ctx.name),
            });
        }
    };
    let (starts, ends, axes, steps) = if imp.opset < SLICE_INPUTS_OPSET {
        let starts = ctx.ints("starts")?.ok_or_else(|| ctx.bad_attr("starts", "Slice needs starts"))?;
        let ends = ctx.ints("ends")?.ok_or_else(|| ctx.bad_attr("ends", "Slice needs ends"))?;
        (starts, ends, ctx.ints("axes")?, None)
    } else {
        let starts = optional_ints(imp, ctx, 1, "Slice's starts")?.ok_or_else(|| ctx.bad_attr("starts", "missing"))?;
        let ends = optional_ints(imp, ctx, 2, "Slice's ends")?.ok_or_else(|| ctx.bad_attr("ends", "missing"))?;
        (starts, ends, optional_ints(imp, ctx, 3, "Slice's axes")?, optional_ints(imp, ctx, 4, "Slice's steps")?)
    };
    let rank = data.shape().len();
    let axes = match axes {
        Some(a) => a.iter().map(|&x| ctx.axis("axes", x, rank)).collect::<Result<Vec<_>, _>>()?,
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(ctx.bad_attr("starts", "starts, ends, axes and steps differ in length"));
    }
    for (((&axis, &start), &end), &step) in axes.iter().zip(&starts).zip(&ends).zip(&steps) {
        if step == 0 {
            return Err(ctx.bad_attr("steps", "a step of 0"));
        }
        let size = data.shape()[axis] as i64;
        // ONNX clamps starts and ends into the axis (negative ones count from its end).
        let clamp = |v: i64, low: i64, high: i64| (if v < 0 { v.saturating_add(size) } else { v }).clamp(low, high);
        let indices: Vec<usize> = if step > 0 {
            let (from, to) = (clamp(start, 0, size), clamp(end, 0, size));
            (from..to).step_by(step as usize).map(|i| i as usize).collect()
        } else {
            let (from, to) = (clamp(start, -1, size - 1), clamp(end, -1, size - 1));
            (to + 1..=from).rev().step_by(step.unsigned_abs() as usize).map(|i| i as usize).collect()
        };
        data = match data {
            Constant::Float(a) => Constant::Float(a.select(Axis(axis), &indices)),
            Constant::Int { values, data_type } => {
                Constant::Int { values: values.select(Axis(axis), &indices), data_type }
            }
        };
    }
    imp.bind(ctx, Value::Constant(data));
    Ok(())
}

fn range(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let scalar = |i: usize, what: &str| -> Result<Constant, ImportError> {
        let c = imp.constant_input(ctx, i)?;
        if c.len() != 1 {
            return Err(ctx.bad_attr(what, "must be a scalar"));
        }
        Ok(c)
    };
    let (start, limit, delta) = (scalar(0, "start")?, scalar(1, "limit")?, scalar(2, "delta")?);
    let first = |c: &Constant| c.to_f32().iter().next().copied().unwrap_or_default();
    let (s, l, d) = (first(&start), first(&limit), first(&delta));
    if d == 0.0 {
        return Err(ctx.bad_attr("delta", "a delta of 0"));
    }
    let count = ((l - s) / d).ceil().max(0.0) as usize;
    if count > MAX_FOLDED_ELEMENTS {
        return Err(ctx.bad_attr("limit", format!("a range of {count} elements")));
    }
    let folded = match (&start, &limit, &delta) {
        (Constant::Int { values: a, data_type }, Constant::Int { values: b, .. }, Constant::Int { values: c, .. }) => {
            let value = |x: &ArrayD<i64>| i128::from(x.iter().next().copied().unwrap_or_default());
            let (a, b, c) = (value(a), value(b), value(c));
            // ceil((b - a) / c) in exact integers, none when the range is empty.
            let count = ((b - a + c - c.signum()) / c).max(0);
            if count > MAX_FOLDED_ELEMENTS as i128 {
                return Err(ctx.bad_attr("limit", format!("a range of {count} elements")));
            }
            let values: Vec<i64> = (0..count).map(|k| (a + k * c) as i64).collect();
            Constant::Int { values: ndarray::Array1::from(values).into_dyn(), data_type: *data_type }
        }
        _ => {
            Constant::Float(ndarray::Array1::from((0..count).map(|k| s + k as f32 * d).collect::<Vec<_>>()).into_dyn())
        }
    };
    imp.bind(ctx, Value::Constant(folded));
    Ok(())
}

fn constant_of_shape(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let shape = imp.constant_input(ctx, 0)?.to_i64("ConstantOfShape's shape")?;
    let dims = shape
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| ctx.bad_attr("input", format!("dimension {d}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let elements = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if elements.is_none_or(|e| e > MAX_FOLDED_ELEMENTS) {
        return Err(ctx.bad_attr("input", format!("a constant of shape {dims:?} is too large to fold")));
    }
    let value = match ctx.tensor("value")? {
        Some(t) => Constant::from_proto(t, &ctx.name)?,
        None => Constant::Float(ndarray::arr1(&[0.0f32]).into_dyn()),
    };
    if value.len() != 1 {
        return Err(ctx.bad_attr("value", "must hold one element"));
    }
    let folded = match value {
        Constant::Float(a) => {
            Constant::Float(ArrayD::from_elem(IxDyn(&dims), a.iter().next().copied().unwrap_or_default()))
        }
        Constant::Int { values, data_type } => Constant::Int {
            values: ArrayD::from_elem(IxDyn(&dims), values.iter().next().copied().unwrap_or_default()),
            data_type,
        },
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
        // An integer product of dynamic quantization cast to float, before its scales.
        value @ Value::Dynamic(super::dynamic::Pending::Product { .. }) if to_float => value,
        // An ArgMax's index cast to an integer type: the integer it is.
        Value::Tensor(x) if imp.is_index(x) => Value::Tensor(x),
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
        Value::Padded { .. } => Err(ctx.bad_attr("data", super::pad::ONLY_WINDOW_READERS)),
        Value::Dynamic(_) => Err(ctx.bad_attr("data", super::dynamic::ONLY_INTEGER_READERS)),
    }
}

/// The value with a new shape: a constant folded, a run-time tensor through a reshape.
pub(super) fn reshape_value(
    imp: &mut Importer,
    ctx: &NodeCtx,
    value: Value,
    shape: Vec<usize>,
) -> Result<(), ImportError> {
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
        Value::Padded { .. } => Err(ctx.bad_attr("data", super::pad::ONLY_WINDOW_READERS)),
        Value::Dynamic(_) => Err(ctx.bad_attr("data", super::dynamic::ONLY_INTEGER_READERS)),
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
