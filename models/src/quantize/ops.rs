//! Per-op quantization rules: a float [`Op`] and its input tensors' scales → a [`QOp`], the
//! output scale and the output bit width.

use super::QuantSettings;
use crate::QuantizeError;
use crate::graph::Op;
use crate::graph::ops::{Clip, FakeQuantize};
use crate::numeric::{dequantize, fit_scale, quantize_real, round_shift, signed_range};
use crate::quantized::*;
use crate::trim::TrimmedTable;

/// Fixed-point precision of average-pool reciprocals (`round(2^16 / count)`).
pub const AVERAGE_SHIFT: u32 = 16;
/// Scale of the Softmax exponential table: `exp(d) · 2^16`.
pub const SOFTMAX_EXP_SCALE: i32 = 16;
/// Fewest input bits a size-limited function table keeps (see `sized_table`).
const MIN_TABLE_INPUT_BITS: u32 = 4;

/// What quantizing one node needs to know.
pub(super) struct NodeQuant<'a> {
    pub node: &'a str,
    pub inputs: &'a [&'a QTensor],
    pub output_max_abs: f64,
    pub settings: &'a QuantSettings,
}

impl NodeQuant<'_> {
    fn x(&self) -> &QTensor {
        self.inputs[0]
    }

    /// The calibrated scale of the output for `bits`, capped at `cap` so shifts stay ≥ 0.
    fn output_scale(&self, bits: u32, cap: i32) -> i32 {
        fit_scale(self.output_max_abs, bits, self.settings.headroom_bits).min(cap)
    }

    fn act(&self) -> u32 {
        self.settings.activation_bits
    }

    /// Quantizes weights to `weight_bits` at their own best scale.
    fn weights<D: ndarray::Dimension>(
        &self,
        w: &ndarray::Array<f32, D>,
    ) -> Result<(ndarray::Array<i64, D>, i32), QuantizeError> {
        self.finite(w)?;
        let max = w.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
        let scale = fit_scale(max, self.settings.weight_bits, 0);
        let q = w.mapv(|v| quantize_real(v as f64, scale));
        let (lo, hi) = signed_range(self.settings.weight_bits);
        if q.iter().any(|&v| v < lo || v > hi) {
            return Err(QuantizeError::Scale {
                node: self.node.to_string(),
                reason: format!(
                    "weights up to {max} do not fit {} bits at any supported scale",
                    self.settings.weight_bits
                ),
            });
        }
        Ok((q, scale))
    }

    fn finite<D: ndarray::Dimension>(&self, c: &ndarray::Array<f32, D>) -> Result<(), QuantizeError> {
        if c.iter().all(|v| v.is_finite()) {
            Ok(())
        } else {
            Err(QuantizeError::NonFinite { tensor: format!("a constant of node '{}'", self.node) })
        }
    }

    /// Quantizes an additive constant at `scale`, checking it fits `bias_bits`.
    fn additive<D: ndarray::Dimension>(
        &self,
        c: &ndarray::Array<f32, D>,
        scale: i32,
    ) -> Result<ndarray::Array<i64, D>, QuantizeError> {
        self.finite(c)?;
        let q = c.mapv(|v| quantize_real(v as f64, scale));
        let (lo, hi) = signed_range(self.settings.bias_bits);
        if let Some(&v) = q.iter().find(|&&v| v < lo || v > hi) {
            return Err(QuantizeError::BiasOutOfRange {
                node: self.node.to_string(),
                value: v,
                bits: self.settings.bias_bits,
            });
        }
        Ok(q)
    }

    /// A function table over the integers `range` (at `scale`), with as few input bits dropped
    /// as [`QuantSettings::max_table_rows`] allows (none without a limit). Returns the shift
    /// and the table over the shifted range; `f` maps a real input to the table's integer.
    fn sized_table(&self, range: (i64, i64), scale: i32, f: impl Fn(f64) -> i64) -> (u32, LookupTable) {
        let table = |shift: u32| {
            let (lo, hi) = (round_shift(range.0, shift), round_shift(range.1, shift));
            let values = (lo..=hi).map(|v| f(dequantize(v, scale - shift as i32))).collect();
            LookupTable { input_min: lo, values }
        };
        let Some(limit) = self.settings.max_table_rows else {
            return (0, table(0));
        };
        // Keep at least MIN_TABLE_INPUT_BITS of input.
        let span = (range.1 - range.0).max(1).unsigned_abs();
        let max_shift = (64 - span.leading_zeros()).saturating_sub(MIN_TABLE_INPUT_BITS);
        (0..=max_shift)
            .map(|shift| (shift, table(shift)))
            .find(|(_, t)| TrimmedTable::trim(t).len() <= limit as usize)
            .unwrap_or_else(|| (max_shift, table(max_shift)))
    }

    /// A weighted layer (Dense, Conv, ConvTranspose): weights at their own scale, the bias at
    /// the accumulator's, and the rescale from the accumulator to the calibrated output scale.
    fn layer<D: ndarray::Dimension>(
        &self,
        weight: &ndarray::Array<f32, D>,
        bias: Option<&ndarray::Array1<f32>>,
    ) -> Result<QuantizedLayer<D>, QuantizeError> {
        let (weight, weight_scale) = self.weights(weight)?;
        let acc = self.x().scale + weight_scale;
        let bias = bias.map(|b| self.additive(b, acc)).transpose()?;
        let scale = self.output_scale(self.act(), acc);
        Ok(QuantizedLayer { weight, bias, weight_scale, shift: self.shift(acc, scale)?, scale })
    }

    fn shift(&self, from: i32, to: i32) -> Result<u32, QuantizeError> {
        u32::try_from(from - to).ok().filter(|&s| s <= 62).ok_or_else(|| QuantizeError::Scale {
            node: self.node.to_string(),
            reason: format!("rescale from 2^{from} to 2^{to}"),
        })
    }
}

/// A weighted layer's integer parts ([`NodeQuant::layer`]).
struct QuantizedLayer<D: ndarray::Dimension> {
    weight: ndarray::Array<i64, D>,
    bias: Option<ndarray::Array1<i64>>,
    weight_scale: i32,
    shift: u32,
    /// The output scale.
    scale: i32,
}

/// Returns the integer op, its output scale and its output bit width.
pub(super) fn quantize_op(op: &Op, q: &NodeQuant) -> Result<(QOp, i32, u32), QuantizeError> {
    let x = q.x();
    let same = |op: QOp| Ok((op, x.scale, x.bits));
    match op {
        Op::Dense(d) => {
            let l = q.layer(&d.weight, d.bias.as_ref())?;
            let op = QDense { weight: l.weight, bias: l.bias, weight_scale: l.weight_scale, shift: l.shift };
            Ok((QOp::Dense(op), l.scale, q.act()))
        }
        Op::Conv2d(c) => {
            let l = q.layer(&c.weight, c.bias.as_ref())?;
            let (weight, bias, weight_scale, shift) = (l.weight, l.bias, l.weight_scale, l.shift);
            Ok((QOp::Conv2d(QConv2d { weight, bias, weight_scale, window: c.window, shift }), l.scale, q.act()))
        }
        Op::ConvTranspose2d(c) => {
            let l = q.layer(&c.weight, c.bias.as_ref())?;
            let (weight, bias, weight_scale, shift) = (l.weight, l.bias, l.weight_scale, l.shift);
            let op = QConvTranspose2d { weight, bias, weight_scale, window: c.window, shift };
            Ok((QOp::ConvTranspose2d(op), l.scale, q.act()))
        }
        Op::Add | Op::Sub => {
            let y = q.inputs[1];
            let common = x.scale.max(y.scale);
            let s = q.output_scale(q.act(), common);
            let op = QAdd {
                lhs_shift: q.shift(common, x.scale)?,
                rhs_shift: q.shift(common, y.scale)?,
                subtract: matches!(op, Op::Sub),
                shift: q.shift(common, s)?,
            };
            Ok((QOp::Add(op), s, q.act()))
        }
        Op::Mul => {
            // The product is exact at the sum of the scales; rescale it to the calibrated one.
            let product = x.scale + q.inputs[1].scale;
            let s = q.output_scale(q.act(), product);
            Ok((QOp::Mul(QMul { shift: q.shift(product, s)? }), s, q.act()))
        }
        Op::AddConstant(c) => {
            let s = q.output_scale(q.act(), i32::MAX);
            let common = x.scale.max(s);
            let constant = q.additive(c, common)?;
            let op = QAddConstant { input_shift: q.shift(common, x.scale)?, constant, shift: q.shift(common, s)? };
            Ok((QOp::AddConstant(op), s, q.act()))
        }
        Op::MulConstant(c) => {
            let (constant, cs) = q.weights(c)?;
            let prod = x.scale + cs;
            let s = q.output_scale(q.act(), prod);
            Ok((QOp::MulConstant(QMulConstant { constant, constant_scale: cs, shift: q.shift(prod, s)? }), s, q.act()))
        }
        Op::Relu => same(QOp::Relu),
        Op::LeakyRelu { alpha } => {
            let shift = q.settings.weight_bits - 1;
            same(QOp::LeakyRelu(QLeakyRelu { alpha: quantize_real(*alpha as f64, shift as i32), shift }))
        }
        Op::Clip(Clip { min, max }) => same(QOp::Clip(clip(x, min.map(f64::from), max.map(f64::from)))),
        Op::FakeQuantize(FakeQuantize { scale, zero_point, qmin, qmax }) => {
            let s = *scale as f64;
            let lo = (*qmin as f64 - *zero_point as f64) * s;
            let hi = (*qmax as f64 - *zero_point as f64) * s;
            same(QOp::Clip(clip(x, Some(lo), Some(hi))))
        }
        Op::Sigmoid | Op::Tanh | Op::Erf => {
            let (function, f): (_, fn(f64) -> f64) = match op {
                Op::Sigmoid => (LookupFunction::Sigmoid, |v| 1.0 / (1.0 + (-v).exp())),
                Op::Erf => (LookupFunction::Erf, crate::numeric::erf),
                _ => (LookupFunction::Tanh, f64::tanh),
            };
            // Outputs in (-1, 1): two bits of the activation width above the binary point.
            let out_scale = q.act() as i32 - 2;
            let (input_shift, table) = q.sized_table(x.range(), x.scale, |v| quantize_real(f(v), out_scale));
            Ok((QOp::Lookup(QLookup { function, input_shift, table }), out_scale, q.act()))
        }
        Op::Exp | Op::Log => {
            // Unbounded functions: the calibrated output range sets the scale, and table values
            // beyond the output width saturate (as a float past the range would be clipped).
            let out_scale = q.output_scale(q.act(), i32::MAX);
            let (lo, hi) = signed_range(q.act());
            let (function, f): (_, fn(f64) -> f64) = match op {
                Op::Exp => (LookupFunction::Exp, f64::exp),
                _ => (LookupFunction::Log, |v| if v > 0.0 { v.ln() } else { f64::NEG_INFINITY }),
            };
            // `quantize_real` saturates infinities (a float-to-integer cast does).
            let value = |v: f64| quantize_real(f(v), out_scale).clamp(lo, hi);
            let (input_shift, table) = q.sized_table(x.range(), x.scale, value);
            Ok((QOp::Lookup(QLookup { function, input_shift, table }), out_scale, q.act()))
        }
        Op::Gelu { tanh } => {
            // |gelu(x)| <= |x|: the input's scale and width hold every output.
            let (input_shift, table) =
                q.sized_table(x.range(), x.scale, |v| quantize_real(crate::numeric::gelu(v, *tanh), x.scale));
            let function = if *tanh { LookupFunction::GeluTanh } else { LookupFunction::Gelu };
            Ok((QOp::Lookup(QLookup { function, input_shift, table }), x.scale, x.bits))
        }
        Op::MaxPool(w) => same(QOp::MaxPool(*w)),
        Op::AveragePool(p) => same(QOp::AveragePool(QAveragePool { pool: *p, shift: AVERAGE_SHIFT })),
        Op::GlobalAveragePool => same(QOp::GlobalAveragePool(QGlobalAveragePool { shift: AVERAGE_SHIFT })),
        Op::Reshape(r) => same(QOp::Reshape(r.clone())),
        Op::Transpose(t) => same(QOp::Transpose(t.clone())),
        Op::Upsample(u) => same(QOp::Upsample(*u)),
        Op::Softmax(sm) => {
            let (lo, hi) = x.range();
            let (input_shift, exp_table) =
                q.sized_table((lo - hi, 0), x.scale, |d| quantize_real(d.exp(), SOFTMAX_EXP_SCALE));
            let output_scale = q.act() - 2;
            let op = QSoftmax { axis: sm.axis, input_shift, exp_table, output_scale };
            Ok((QOp::Softmax(op), output_scale as i32, q.act()))
        }
        Op::Concat(c) => {
            // The coarsest input scale holds every input without growing any.
            let scale = q.inputs.iter().map(|t| t.scale).min().unwrap_or(x.scale);
            let shifts = q.inputs.iter().map(|t| q.shift(t.scale, scale)).collect::<Result<_, _>>()?;
            let bits = q.inputs.iter().map(|t| t.bits).max().unwrap_or(x.bits);
            Ok((QOp::Concat(QConcat { axis: c.axis, shifts }), scale, bits))
        }
        Op::ArgMax(a) => {
            let axis_len = x.shape[a.axis] as u64;
            let bits = (64 - axis_len.leading_zeros()).max(1) + 1;
            Ok((QOp::ArgMax(*a), 0, bits))
        }
    }
}

/// Clip bounds at the input scale, intersected with the input's range.
fn clip(x: &QTensor, min: Option<f64>, max: Option<f64>) -> QClip {
    let (lo, hi) = x.range();
    let min = min.map_or(lo, |m| quantize_real(m, x.scale).clamp(lo, hi));
    let max = max.map_or(hi, |m| quantize_real(m, x.scale).clamp(lo, hi));
    QClip { min, max: max.max(min) }
}
