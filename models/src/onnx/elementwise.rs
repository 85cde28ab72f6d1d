//! Add, Sub, Mul, Div: between two run-time tensors, or with a constant operand
//! (→ [`Op::AddConstant`] / [`Op::MulConstant`]); constant-only expressions are folded.

use ndarray::ArrayD;

use super::{Constant, ImportFn, Importer, NodeCtx, Value};
use crate::ImportError;
use crate::graph::Op;
use crate::kernels::broadcast_zip;

pub(super) const OPS: &[(&str, ImportFn)] = &[("Add", add), ("Sub", sub), ("Mul", mul), ("Div", div)];

enum Operands {
    Tensors(crate::graph::TensorId, crate::graph::TensorId),
    /// (tensor, constant, constant_is_first)
    Mixed(crate::graph::TensorId, ArrayD<f32>, bool),
    Constants(ArrayD<f32>, ArrayD<f32>),
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
        (Value::Constant(c), Value::Constant(d)) => Operands::Constants(c.to_f32(), d.to_f32()),
        _ => return Err(not_float()),
    })
}

fn fold(
    imp: &mut Importer,
    ctx: &NodeCtx,
    a: ArrayD<f32>,
    b: ArrayD<f32>,
    f: fn(f32, f32) -> f32,
) -> Result<(), ImportError> {
    crate::graph::ops::broadcast_shape(a.shape(), b.shape())
        .map_err(|source| ImportError::Shape { node: ctx.name.clone(), source })?;
    imp.bind(ctx, Value::Constant(Constant::Float(broadcast_zip(&a, &b, f))));
    Ok(())
}

fn add(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Tensors(x, y) => imp.emit(ctx, Op::Add, vec![x, y], true).map(drop),
        Operands::Mixed(x, c, _) => imp.emit(ctx, Op::AddConstant(c), vec![x], true).map(drop),
        Operands::Constants(a, b) => fold(imp, ctx, a, b, |a, b| a + b),
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
        Operands::Constants(a, b) => fold(imp, ctx, a, b, |a, b| a - b),
    }
}

fn mul(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Tensors(..) => Err(ImportError::Unsupported {
            what: format!(
                "Mul '{}' of two run-time tensors (only multiplication by a constant is supported)",
                ctx.name
            ),
        }),
        Operands::Mixed(x, c, _) => imp.emit(ctx, Op::MulConstant(c), vec![x], true).map(drop),
        Operands::Constants(a, b) => fold(imp, ctx, a, b, |a, b| a * b),
    }
}

fn div(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    match operands(imp, ctx)? {
        Operands::Mixed(x, c, false) if c.iter().all(|v| *v != 0.0) => {
            imp.emit(ctx, Op::MulConstant(c.mapv(|v| 1.0 / v)), vec![x], true).map(drop)
        }
        Operands::Constants(a, b) => fold(imp, ctx, a, b, |a, b| a / b),
        _ => Err(ImportError::Unsupported {
            what: format!("Div '{}': only division of a tensor by a non-zero constant is supported", ctx.name),
        }),
    }
}
