//! Ops that are linear combinations of cells with constant coefficients, each followed by a
//! rounding rescale and a range check: one multiply-accumulate chain per output element.

use ndarray::{ArrayD, Axis, IxDyn};
use zkinfer_models::kernels;
use zkinfer_models::numeric::round_div;
use zkinfer_models::quantized::{
    QAdd, QAddConstant, QAveragePool, QConcat, QConv2d, QConvTranspose2d, QDense, QGlobalAveragePool, QMulConstant,
};

use super::OpInputs;
use crate::builder::{Builder, CellRef};
use crate::chips::linear::{LinearInstructions, SharedInputs};
use crate::chips::range::Rescale;

fn collect(shape: &[usize], cells: Vec<CellRef>) -> ArrayD<CellRef> {
    ArrayD::from_shape_vec(IxDyn(shape), cells).expect("one cell per output element")
}

/// Terms with a zero coefficient contribute nothing and take no lane.
fn term(cell: CellRef, coef: i64) -> Option<(CellRef, i64)> {
    (coef != 0).then_some((cell, coef))
}

pub(super) fn dense(b: &mut Builder, d: &QDense, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(d.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let input = x.cells[0];
    let in_f = d.weight.ncols();
    let rows: Vec<CellRef> = input.iter().copied().collect();
    let weights: Vec<Vec<i64>> = d.weight.axis_iter(Axis(0)).map(|w| w.to_vec()).collect();
    let biases: Vec<i64> = (0..weights.len()).map(|o| d.bias.as_ref().map_or(0, |bias| bias[o])).collect();
    let mut out = Vec::new();
    for row in rows.chunks(in_f) {
        out.extend(b.linear_shared(SharedInputs { inputs: row, weights: &weights, biases: &biases }, rescale));
    }
    collect(&x.output.shape, out)
}

pub(super) fn conv2d(b: &mut Builder, c: &QConv2d, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(c.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let (h, w) = (x.cells[0].shape()[2], x.cells[0].shape()[3]);
    let geometry = WindowLayer {
        output_hw: c.window.output_hw(h, w).expect("shape validated"),
        out_channels: c.weight.shape()[0],
        bias: c.bias.as_ref(),
    };
    window_layer(
        b,
        x,
        &geometry,
        rescale,
        |oy, ox| c.window.taps(oy, ox, h, w),
        |o, ch, ky, kx| c.weight[[o, ch, ky, kx]],
    )
}

/// A transposed convolution gathered per output position: the inputs that reach it
/// ([`TransposedWindow::taps`](zkinfer_models::graph::ops::TransposedWindow::taps)) times their
/// weights, as a convolution's taps are.
pub(super) fn conv_transpose2d(b: &mut Builder, c: &QConvTranspose2d, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(c.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let (h, w) = (x.cells[0].shape()[2], x.cells[0].shape()[3]);
    let geometry = WindowLayer {
        output_hw: c.window.output_hw(h, w).expect("shape validated"),
        out_channels: c.weight.shape()[1],
        bias: c.bias.as_ref(),
    };
    window_layer(
        b,
        x,
        &geometry,
        rescale,
        |oy, ox| c.window.taps(oy, ox, h, w),
        |o, ch, ky, kx| c.weight[[ch, o, ky, kx]],
    )
}

/// The output geometry of a layer over kernel windows (Conv, ConvTranspose).
struct WindowLayer<'a> {
    output_hw: [usize; 2],
    out_channels: usize,
    bias: Option<&'a ndarray::Array1<i64>>,
}

/// A layer over kernel windows, one output position at a time: the taps at the position
/// (`taps(oy, ox)` yields `(ky, kx, iy, ix)`) times `weight(o, ch, ky, kx)`, shared by every
/// output channel. A position with no taps (a transposed convolution's stride above its kernel)
/// holds only the bias.
fn window_layer<I: Iterator<Item = (usize, usize, usize, usize)>>(
    b: &mut Builder,
    x: &OpInputs,
    layer: &WindowLayer,
    rescale: Rescale,
    taps: impl Fn(usize, usize) -> I,
    weight: impl Fn(usize, usize, usize, usize) -> i64,
) -> ArrayD<CellRef> {
    let input = x.cells[0];
    let (n, ci) = (input.shape()[0], input.shape()[1]);
    let ([oh, ow], co) = (layer.output_hw, layer.out_channels);
    let biases: Vec<i64> = (0..co).map(|o| layer.bias.map_or(0, |bias| bias[o])).collect();
    let mut out = ArrayD::from_elem(IxDyn(&x.output.shape), CellRef { column: 0, row: 0 });
    for bn in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut inputs = Vec::new();
                let mut weights = vec![Vec::new(); co];
                for (ky, kx, iy, ix) in taps(oy, ox) {
                    for ch in 0..ci {
                        inputs.push(input[[bn, ch, iy, ix]]);
                        for (o, ws) in weights.iter_mut().enumerate() {
                            ws.push(weight(o, ch, ky, kx));
                        }
                    }
                }
                let cells: Vec<CellRef> = if inputs.is_empty() {
                    biases.iter().map(|&bias| b.linear(&[], bias, rescale)).collect()
                } else {
                    b.linear_shared(SharedInputs { inputs: &inputs, weights: &weights, biases: &biases }, rescale)
                };
                for (o, cell) in cells.into_iter().enumerate() {
                    out[[bn, o, oy, ox]] = cell;
                }
            }
        }
    }
    out
}

pub(super) fn add(b: &mut Builder, a: &QAdd, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(a.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let shape = IxDyn(&x.output.shape);
    let lhs = x.cells[0].broadcast(shape.clone()).expect("shape validated");
    let rhs = x.cells[1].broadcast(shape).expect("shape validated");
    let sign = if a.subtract { -1 } else { 1 };
    let out = lhs
        .iter()
        .zip(rhs.iter())
        .map(|(&l, &r)| {
            let terms = [(l, 1i64 << a.lhs_shift), (r, sign * (1i64 << a.rhs_shift))];
            b.linear(&terms, 0, rescale)
        })
        .collect();
    collect(&x.output.shape, out)
}

pub(super) fn add_constant(b: &mut Builder, a: &QAddConstant, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(a.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let constant = a.constant.broadcast(IxDyn(&x.output.shape)).expect("shape validated");
    let out = x.cells[0]
        .iter()
        .zip(constant.iter())
        .map(|(&c, &k)| b.linear(&[(c, 1i64 << a.input_shift)], k, rescale))
        .collect();
    collect(&x.output.shape, out)
}

pub(super) fn mul_constant(b: &mut Builder, m: &QMulConstant, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(m.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let constant = m.constant.broadcast(IxDyn(&x.output.shape)).expect("shape validated");
    let out = x.cells[0]
        .iter()
        .zip(constant.iter())
        .map(|(&c, &k)| {
            let terms: Vec<_> = term(c, k).into_iter().collect();
            b.linear(&terms, 0, rescale)
        })
        .collect();
    collect(&x.output.shape, out)
}

pub(super) fn average_pool(b: &mut Builder, p: &QAveragePool, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(p.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let area = p.pool.window.area();
    kernels::window_reduce(x.cells[0], &p.pool.window, |taps| {
        let count = if p.pool.count_include_pad { area } else { taps.len() } as i64;
        let m = round_div(1 << p.shift, count);
        let terms: Vec<_> = taps.iter().filter_map(|&t| term(t, m)).collect();
        b.linear(&terms, 0, rescale)
    })
}

pub(super) fn global_average_pool(b: &mut Builder, g: &QGlobalAveragePool, x: &OpInputs) -> ArrayD<CellRef> {
    let rescale = Rescale::signed_relu(g.shift, x.output.bits, x.fuse_relu).clamped(x.fuse_clamp);
    let input = x.cells[0];
    let (n, c, h, w) = (input.shape()[0], input.shape()[1], input.shape()[2], input.shape()[3]);
    let m = round_div(1 << g.shift, (h * w) as i64);
    let mut out = Vec::new();
    for bn in 0..n {
        for ch in 0..c {
            let terms: Vec<_> = (0..h)
                .flat_map(|iy| (0..w).map(move |ix| (iy, ix)))
                .filter_map(|(iy, ix)| term(input[[bn, ch, iy, ix]], m))
                .collect();
            out.push(b.linear(&terms, 0, rescale));
        }
    }
    collect(&x.output.shape, out)
}

/// Inputs aligned to the output scale (a rounding rescale row per element of each input that
/// needs one, range-checked to the output width), then joined along the axis: wiring.
pub(super) fn concat(b: &mut Builder, c: &QConcat, x: &OpInputs) -> ArrayD<CellRef> {
    let bits = x.output.bits;
    let parts: Vec<ArrayD<CellRef>> = x
        .cells
        .iter()
        .zip(&c.shifts)
        .map(|(cells, &shift)| match shift {
            0 => (*cells).clone(),
            _ => cells.mapv(|cell| b.linear(&[(cell, 1)], 0, Rescale::signed(shift, bits))),
        })
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(ndarray::Axis(c.axis), &views).expect("validated shapes")
}
