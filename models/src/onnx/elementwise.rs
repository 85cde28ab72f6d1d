//! Add, Sub, Mul: between two run-time tensors, or with a constant operand
//! (→ [`Op::AddConstant`] / [`Op::MulConstant`]); Div by a constant; constant-only expressions
//! are folded, in integers when both operands are integers (shape arithmetic: ONNX's integer
//! Div truncates).
//! Pow, Sqrt and Reciprocal fold over constants (a normalization written out with its
//! statistics as constants becomes one affine op); Neg of a tensor multiplies by -1.

use ndarray::ArrayD;

use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::kernels::broadcast_zip;

pub(super) const OPS: &[(&str, ImportFn)] = &[
    ("Add", add),
    ("Sub", sub),
    ("Mul", mul),
    ("Div", div),
    ("Pow", pow),
    ("Sqrt", sqrt),
    ("Reciprocal", reciprocal),
    ("Neg", neg),
];

enum Operands {
    Tensors(crate::graph::TensorId, crate::graph::TensorId),
    /// (tensor, constant, constant_is_first)
    Mixed(crate::graph::TensorId, ArrayD<f32>, bool),
    Constants(Constant, Constant),
}

fn operands(imp: &Importer, ctx: &NodeCtx) -> Result<Operands, ImportError> {
    let a = imp.input(ctx, 0)?;
    let b = imp.input(ctx, 1)?;
    let not_float = || ImportError::Unsupported {
        what: format!("node '{}' ({}) reads an integer QDQ tensor; dequantize it first", ctx.name, ctx.op_type),
    };
    Ok(match (a, b) {
        (Value::Tensor(x), Value::Tensor(y)) => Operands::Tensors(x, y),
        (Value::Tensor(x), Value::Constant(c)) => Operands::Mixed(x, c.to_f32(), false),
        (Value::Constant(c), Value::Tensor(x)) => Operands::Mixed(x, c.to_f32(), true),
        (Value::Constant(c), Value::Constant(d)) => Operands::Constants(c, d),
        _ => return Err(not_float()),
    })
}

/// The arithmetic of one op on floats and on integers (`None`: no integer result, e.g. a
/// division by zero).
struct Arithmetic {
    float: fn(f32, f32) -> f32,
    int: fn(i64, i64) -> Option<i64>,
}

const ADD: Arithmetic = Arithmetic { float: |a, b| a + b, int: i64::checked_add };
const SUB: Arithmetic = Arithmetic { float: |a, b| a - b, int: i64::checked_sub };
const MUL: Arithmetic = Arithmetic { float: |a, b| a * b, int: i64::checked_mul };
const DIV: Arithmetic = Arithmetic { float: |a, b| a / b, int: i64::checked_div };
const POW: Arithmetic =
    Arithmetic { float: f32::powf, int: |a, b| u32::try_from(b).ok().and_then(|e| a.checked_pow(e)) };

fn fold(imp: &mut Importer, ctx: &NodeCtx, a: Constant, b: Constant, op: Arithmetic) -> Result<(), ImportError> {
    crate::graph::ops::broadcast_shape(a.shape(), b.shape())
        .map_err(|source| ImportError::Shape { node: ctx.name.clone(), source })?;
    let folded = match (&a, &b) {
        (Constant::Int { values: x, data_type }, Constant::Int { values: y, .. }) => {
            let results = broadcast_zip(x, y, |p, q| (op.int)(p, q));
            if results.iter().any(Option::is_none) {
                return Err(ImportError::Unsupported {
                    what: format!("{} '{}' of integer constants overflows or divides by zero", ctx.op_type, ctx.name),
                });
            }
            Constant::Int { values: results.mapv(|v| v.unwrap_or_default()), data_type: *data_type }
        }
        _ => Constant::Float(broadcast_zip(&a.to_f32(), &b.to_f32(), op.float)),
    };
    imp.bind(ctx, Value::Constant(folded));
    Ok(())
}

fn add(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Tensors(x, y) => imp.emit(ctx, Op::Add, vec![x, y], true).map(drop),
        Operands::Mixed(x, c, _) => imp.emit(ctx, Op::AddConstant(c), vec![x], true).map(drop),
        Operands::Constants(a, b) => fold(imp, ctx, a, b, ADD),
    }
}

fn sub(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Tensors(x, y) => imp.emit(ctx, Op::Sub, vec![x, y], true).map(drop),
        Operands::Mixed(x, c, false) => imp.emit(ctx, Op::AddConstant(-c), vec![x], true).map(drop),
        Operands::Mixed(x, c, true) => {
            let neg = imp.emit(ctx, Op::MulConstant(ArrayD::from_elem(ndarray::IxDyn(&[]), -1.0)), vec![x], false)?;
            imp.emit(ctx, Op::AddConstant(c), vec![neg], true).map(drop)
        }
        Operands::Constants(a, b) => fold(imp, ctx, a, b, SUB),
    }
}

fn mul(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    if [imp.input(ctx, 0)?, imp.input(ctx, 1)?].iter().any(|v| matches!(v, Value::Dynamic(_))) {
        return super::dynamic::mul(imp, ctx);
    }
    match operands(imp, ctx)? {
        Operands::Tensors(x, y) => imp.emit(ctx, Op::Mul, vec![x, y], true).map(drop),
        Operands::Mixed(x, c, _) => imp.emit(ctx, Op::MulConstant(c), vec![x], true).map(drop),
        Operands::Constants(a, b) => fold(imp, ctx, a, b, MUL),
    }
}

fn div(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Mixed(x, c, false) if c.iter().all(|v| *v != 0.0) => {
            imp.emit(ctx, Op::MulConstant(c.mapv(|v| 1.0 / v)), vec![x], true).map(drop)
        }
        Operands::Constants(a, b) => fold(imp, ctx, a, b, DIV),
        _ => Err(ImportError::Unsupported {
            what: format!("Div '{}': only division of a tensor by a non-zero constant is supported", ctx.name),
        }),
    }
}

fn pow(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Constants(a, b) => fold(imp, ctx, a, b, POW),
        _ => Err(ImportError::Unsupported {
            what: format!(
                "Pow '{}' of a run-time tensor (only constants are folded; write a square as a Mul)",
                ctx.name
            ),
        }),
    }
}

fn sqrt(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    fold_unary(imp, ctx, |v| (v >= 0.0).then(|| v.sqrt()), "a negative value")
}

fn reciprocal(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    fold_unary(imp, ctx, |v| (v != 0.0).then(|| 1.0 / v), "a zero")
}

fn neg(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match imp.input(ctx, 0)? {
        Value::Tensor(x) => {
            imp.emit(ctx, Op::MulConstant(ArrayD::from_elem(ndarray::IxDyn(&[]), -1.0)), vec![x], true).map(drop)
        }
        Value::Constant(Constant::Int { values, data_type }) => {
            // i64::MIN has no negation; wrapping would change the value's sign.
            if values.iter().any(|&v| v == i64::MIN) {
                return Err(ImportError::Unsupported {
                    what: format!("Neg '{}' of an integer constant overflows", ctx.name),
                });
            }
            imp.bind(ctx, Value::Constant(Constant::Int { values: values.mapv(|v| -v), data_type }));
            Ok(())
        }
        Value::Constant(Constant::Float(values)) => {
            imp.bind(ctx, Value::Constant(Constant::Float(values.mapv(|v| -v))));
            Ok(())
        }
        Value::Quantized { .. } | Value::Padded { .. } | Value::Dynamic(_) => Err(ImportError::Unsupported {
            what: format!("Neg '{}' of a pending quantization or padding is not supported", ctx.name),
        }),
    }
}

/// Folds a unary op over a float constant (`f` gives `None` for a value it refuses, described
/// by `refused`); a run-time input is refused with the node named.
fn fold_unary(imp: &mut Importer, ctx: &NodeCtx, f: fn(f32) -> Option<f32>, refused: &str) -> Result<(), ImportError> {
    let Value::Constant(c) = imp.input(ctx, 0)? else {
        return Err(ImportError::Unsupported {
            what: format!("{} '{}' of a run-time tensor (only constants are folded)", ctx.op_type, ctx.name),
        });
    };
    let values = c.to_f32();
    if values.iter().any(|&v| f(v).is_none()) {
        return Err(ImportError::Unsupported {
            what: format!("{} '{}' of a constant with {refused}", ctx.op_type, ctx.name),
        });
    }
    imp.bind(ctx, Value::Constant(Constant::Float(values.mapv(|v| f(v).unwrap_or_default()))));
    Ok(())
}
