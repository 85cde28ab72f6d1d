//! Float reference evaluation of a [`Graph`] (f32, the semantics of onnxruntime's CPU kernels up
//! to summation order). Used for calibration and the fidelity report, never for proofs.

use ndarray::{ArrayD, IxDyn};

use super::ops::{AveragePool, Clip, FakeQuantize, Op};
use super::{Graph, TensorId};
use crate::kernels;

/// Every tensor's float value after one evaluation, indexed by [`TensorId`].
#[derive(Clone, Debug)]
pub struct FloatTrace {
    /// Values by tensor id.
    pub values: Vec<ArrayD<f32>>,
}

impl FloatTrace {
    /// The value of a tensor.
    pub fn get(&self, id: TensorId) -> &ArrayD<f32> {
        &self.values[id.0]
    }
}

impl Graph {
    /// Runs the graph on one input whose shape must equal the input tensor's shape
    /// (callers check; see [`crate::data`]).
    pub fn evaluate(&self, input: ArrayD<f32>) -> FloatTrace {
        let mut values: Vec<ArrayD<f32>> = vec![ArrayD::zeros(IxDyn(&[0])); self.tensors.len()];
        values[self.input.0] = input;
        for node in &self.nodes {
            let x = &values[node.inputs[0].0];
            let y = match &node.op {
                Op::Dense(d) => kernels::dense(x, &d.weight, d.bias.as_ref()),
                Op::Conv2d(c) => kernels::conv2d(x, &c.weight, c.bias.as_ref(), &c.window),
                Op::ConvTranspose2d(c) => kernels::conv_transpose2d(x, &c.weight, c.bias.as_ref(), &c.window),
                Op::Add => kernels::broadcast_zip(x, &values[node.inputs[1].0], |a, b| a + b),
                Op::Sub => kernels::broadcast_zip(x, &values[node.inputs[1].0], |a, b| a - b),
                Op::Mul => kernels::broadcast_zip(x, &values[node.inputs[1].0], |a, b| a * b),
                Op::AddConstant(c) => kernels::broadcast_zip(x, c, |a, b| a + b),
                Op::MulConstant(c) => kernels::broadcast_zip(x, c, |a, b| a * b),
                Op::Relu => x.mapv(|v| v.max(0.0)),
                Op::LeakyRelu { alpha } => x.mapv(|v| if v >= 0.0 { v } else { alpha * v }),
                Op::Sigmoid => x.mapv(|v| 1.0 / (1.0 + (-v).exp())),
                Op::Tanh => x.mapv(f32::tanh),
                Op::Erf => x.mapv(|v| crate::numeric::erf(f64::from(v)) as f32),
                Op::Exp => x.mapv(f32::exp),
                Op::Log => x.mapv(f32::ln),
                Op::Gelu { tanh } => x.mapv(|v| crate::numeric::gelu(f64::from(v), *tanh) as f32),
                Op::Clip(Clip { min, max }) => x.mapv(|v| {
                    let v = min.map_or(v, |m| v.max(m));
                    max.map_or(v, |m| v.min(m))
                }),
                Op::MaxPool(win) => kernels::max_pool(x, win),
                Op::AveragePool(AveragePool { window, count_include_pad }) => {
                    let (sums, counts) = kernels::sum_pool(x, window);
                    let per_plane = counts.len();
                    let area = window.area() as f32;
                    let mut i = 0;
                    sums.mapv(|s| {
                        let d = if *count_include_pad { area } else { counts[i % per_plane] as f32 };
                        i += 1;
                        s / d
                    })
                }
                Op::GlobalAveragePool => {
                    let hw = (x.shape()[2] * x.shape()[3]) as f32;
                    kernels::global_sum(x).mapv(|s| s / hw)
                }
                Op::Reshape(r) => kernels::reshape(x, &r.shape),
                Op::Transpose(t) => kernels::transpose(x, &t.perm),
                Op::Upsample(u) => kernels::upsample_nearest(x, u.factors),
                Op::Softmax(s) => softmax(x, s.axis),
                Op::ArgMax(a) => kernels::argmax(x, a).mapv(|v| v as f32),
                Op::FakeQuantize(fq) => x.mapv(|v| fake_quantize(v, fq)),
                Op::Concat(c) => {
                    let parts: Vec<_> = node.inputs.iter().map(|i| values[i.0].view()).collect();
                    ndarray::concatenate(ndarray::Axis(c.axis), &parts).expect("shapes were checked at import")
                }
            };
            values[node.output.0] = y;
        }
        FloatTrace { values }
    }
}

fn softmax(x: &ArrayD<f32>, axis: usize) -> ArrayD<f32> {
    let mut y = x.clone();
    for mut lane in y.lanes_mut(ndarray::Axis(axis)) {
        let m = lane.fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        lane.mapv_inplace(|v| (v - m).exp());
        let s = lane.sum();
        lane.mapv_inplace(|v| v / s);
    }
    y
}

fn fake_quantize(v: f32, fq: &FakeQuantize) -> f32 {
    let q = (v / fq.scale).round_ties_even() as i64 + fq.zero_point as i64;
    let q = q.clamp(fq.qmin as i64, fq.qmax as i64);
    (q - fq.zero_point as i64) as f32 * fq.scale
}
