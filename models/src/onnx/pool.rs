//! MaxPool, AveragePool, GlobalAveragePool (2-D, floor mode).

use super::conv::{lift_1d, window_2d, with_padding};
use super::{ImportFn, Importer, NodeCtx};
use crate::ImportError;
use crate::graph::Op;
use crate::graph::ops::AveragePool;

pub(super) const OPS: &[(&str, ImportFn)] =
    &[("MaxPool", max_pool), ("AveragePool", average_pool), ("GlobalAveragePool", global_average_pool)];

fn common(ctx: &NodeCtx) -> Result<(), ImportError> {
    ctx.require_int("ceil_mode", 0, 0, "only floor mode is supported")?;
    Ok(())
}

fn max_pool(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    common(ctx)?;
    ctx.require_int("storage_order", 0, 0, "only row-major storage order is supported")?;
    if ctx.output_count() > 1 {
        return Err(ctx.bad_attr("Indices", "the optional indices output is not supported"));
    }
    let (x, quant) = imp.maybe_quantized_input(ctx, 0)?;
    let window = window_2d(imp, ctx, x, None)?;
    match quant {
        // QOperator models pool their integers: the max commutes with the quantization.
        Some(_) => imp.emit_keeping_quantization(ctx, Op::MaxPool(window), x, quant),
        None => lift_1d(imp, ctx, x, Op::MaxPool(window)),
    }
}

fn average_pool(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    common(ctx)?;
    let (x, padding) = imp.window_input(ctx)?;
    let own = window_2d(imp, ctx, x, None)?;
    let mut count_include_pad = ctx.int("count_include_pad", 0)? != 0;
    if padding != [0; 4] {
        // The Pad's zeros are values the average counts; the op's own padding would count
        // only with count_include_pad, so the two mix only when it is set or there is none.
        if own.pads != [0; 4] && !count_include_pad {
            return Err(ctx.bad_attr(
                "pads",
                "an AveragePool after a Pad may have its own padding only with count_include_pad = 1",
            ));
        }
        count_include_pad = true;
    }
    let window = with_padding(ctx, own, padding)?;
    lift_1d(imp, ctx, x, Op::AveragePool(AveragePool { window, count_include_pad }))
}

fn global_average_pool(imp: &mut Importer, ctx: &NodeCtx) -> Result<(), ImportError> {
    let x = imp.tensor_input(ctx, 0)?;
    imp.emit(ctx, Op::GlobalAveragePool, vec![x], true).map(drop)
}
