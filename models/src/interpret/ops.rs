//! Integer evaluation of each [`QOp`], with the shared [`crate::kernels`] for data movement.

use ndarray::{ArrayD, Axis};

use crate::kernels;
use crate::numeric::{round_div, round_shift};
use crate::quantized::*;

/// Evaluates one op; `x_info` describes the first input (lookups need its range).
pub(super) fn evaluate(op: &QOp, inputs: &[&ArrayD<i64>], x_info: &QTensor) -> ArrayD<i64> {
    let x = inputs[0];
    match op {
        QOp::Dense(d) => kernels::dense(x, &d.weight, d.bias.as_ref()).mapv(|v| round_shift(v, d.shift)),
        QOp::Conv2d(c) => kernels::conv2d(x, &c.weight, c.bias.as_ref(), &c.window).mapv(|v| round_shift(v, c.shift)),
        QOp::ConvTranspose2d(c) => {
            kernels::conv_transpose2d(x, &c.weight, c.bias.as_ref(), &c.window).mapv(|v| round_shift(v, c.shift))
        }
        QOp::Add(a) => kernels::broadcast_zip(x, inputs[1], |l, r| {
            let (l, r) = (l << a.lhs_shift, r << a.rhs_shift);
            round_shift(if a.subtract { l - r } else { l + r }, a.shift)
        }),
        QOp::Mul(m) => kernels::broadcast_zip(x, inputs[1], |l, r| round_shift(l * r, m.shift)),
        QOp::AddConstant(a) => {
            kernels::broadcast_zip(x, &a.constant, |v, c| round_shift((v << a.input_shift) + c, a.shift))
        }
        QOp::MulConstant(m) => kernels::broadcast_zip(x, &m.constant, |v, c| round_shift(v * c, m.shift)),
        QOp::Relu => x.mapv(|v| v.max(0)),
        QOp::LeakyRelu(l) => x.mapv(|v| if v >= 0 { v } else { round_shift(v * l.alpha, l.shift) }),
        QOp::Clip(c) => x.mapv(|v| v.clamp(c.min, c.max)),
        // Inputs were range-checked and the table covers the input range (see `validate`).
        QOp::Lookup(l) => x.mapv(|v| l.table.get(round_shift(v, l.input_shift)).expect("table covers the input range")),
        QOp::MaxPool(w) => kernels::max_pool(x, w),
        QOp::AveragePool(p) => {
            let (sums, counts) = kernels::sum_pool(x, &p.pool.window);
            let per_plane = counts.len();
            let area = p.pool.window.area() as i64;
            let mut i = 0;
            sums.mapv(|s| {
                let d = if p.pool.count_include_pad { area } else { counts[i % per_plane] as i64 };
                i += 1;
                round_shift(s * round_div(1 << p.shift, d), p.shift)
            })
        }
        QOp::GlobalAveragePool(g) => {
            let hw = (x_info.shape[2] * x_info.shape[3]) as i64;
            let m = round_div(1 << g.shift, hw);
            kernels::global_sum(x).mapv(|s| round_shift(s * m, g.shift))
        }
        QOp::Reshape(r) => kernels::reshape(x, &r.shape),
        QOp::Transpose(t) => kernels::transpose(x, &t.perm),
        QOp::Upsample(u) => kernels::upsample_nearest(x, u.factors),
        QOp::Softmax(s) => softmax(x, s),
        QOp::ArgMax(a) => kernels::argmax(x, a),
        QOp::Concat(c) => {
            let parts: Vec<ArrayD<i64>> =
                inputs.iter().zip(&c.shifts).map(|(x, &s)| x.mapv(|v| round_shift(v, s))).collect();
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            ndarray::concatenate(Axis(c.axis), &views).expect("validated shapes")
        }
    }
}

fn softmax(x: &ArrayD<i64>, s: &QSoftmax) -> ArrayD<i64> {
    let mut y = x.clone();
    for mut lane in y.lanes_mut(Axis(s.axis)) {
        let max = lane.iter().copied().max().unwrap_or(0);
        lane.mapv_inplace(|v| {
            s.exp_table.get(round_shift(v - max, s.input_shift)).expect("table covers every difference in range")
        });
        let sum: i64 = lane.sum();
        lane.mapv_inplace(|e| round_div(e << s.output_scale, sum));
    }
    y
}
