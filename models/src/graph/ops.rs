//! Typed op parameters of the float graph, and their shape rules.
//!
//! Geometry types ([`Window2d`], [`Reshape`], [`Transpose`], [`ArgMax`]) are shared with the
//! quantized model: they mean the same thing in both.

use ndarray::{Array1, Array2, Array4, ArrayD};
use serde::{Deserialize, Serialize};

/// A shape rule was violated; the message says which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

fn shape_err<T>(msg: impl Into<String>) -> Result<T, ShapeError> {
    Err(ShapeError(msg.into()))
}

/// Fully connected layer on the last axis: `y[.., o] = Σ_i x[.., i] · weight[o, i] + bias[o]`.
/// Gemm (any transA/transB/alpha/beta) and MatMul with a constant right operand import to this.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    /// `[out_features, in_features]`.
    pub weight: Array2<f32>,
    /// `[out_features]`.
    pub bias: Option<Array1<f32>>,
}

/// 2-D window geometry over an NCHW tensor (convolution kernel or pooling window).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window2d {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding: top, left, bottom, right.
    pub pads: [usize; 4],
}

impl Window2d {
    /// Output height and width for an input of `h × w` (floor mode, as ONNX's default).
    pub fn output_hw(&self, h: usize, w: usize) -> Result<[usize; 2], ShapeError> {
        if self.stride.contains(&0) || self.kernel.contains(&0) {
            return shape_err("kernel and stride must be positive");
        }
        // Checked: the geometry may come from an untrusted file.
        let padded = |n: usize, a: usize| n.checked_add(self.pads[a])?.checked_add(self.pads[a + 2]);
        let (Some(ph), Some(pw)) = (padded(h, 0), padded(w, 1)) else {
            return shape_err(format!("pads {:?} overflow", self.pads));
        };
        if ph < self.kernel[0] || pw < self.kernel[1] {
            return shape_err(format!("kernel {:?} is larger than the padded input {ph}x{pw}", self.kernel));
        }
        Ok([(ph - self.kernel[0]) / self.stride[0] + 1, (pw - self.kernel[1]) / self.stride[1] + 1])
    }

    /// Input coordinates covered by output position `(oy, ox)`, skipping padding. Yields
    /// `(kernel_row, kernel_col, input_row, input_col)`.
    pub fn taps(
        &self,
        oy: usize,
        ox: usize,
        h: usize,
        w: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        let y0 = (oy * self.stride[0]) as isize - self.pads[0] as isize;
        let x0 = (ox * self.stride[1]) as isize - self.pads[1] as isize;
        (0..self.kernel[0]).flat_map(move |ky| {
            (0..self.kernel[1]).filter_map(move |kx| {
                let iy = y0 + ky as isize;
                let ix = x0 + kx as isize;
                (iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w).then_some((
                    ky,
                    kx,
                    iy as usize,
                    ix as usize,
                ))
            })
        })
    }

    /// Number of kernel positions (padding included).
    pub fn area(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }
}

/// 2-D convolution, NCHW, groups 1, dilation 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d {
    /// `[out_channels, in_channels, kernel_h, kernel_w]`.
    pub weight: Array4<f32>,
    /// `[out_channels]`.
    pub bias: Option<Array1<f32>>,
    /// Kernel, stride and padding.
    pub window: Window2d,
}

/// Geometry of a transposed convolution over an NCHW tensor: input `(iy, ix)` reaches output
/// `(iy·stride - pad_top + ky, ix·stride - pad_left + kx)` for every kernel position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransposedWindow {
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Cropped from the full output: top, left, bottom, right.
    pub pads: [usize; 4],
    /// Extra rows and columns at the bottom and right (less than the stride).
    pub output_padding: [usize; 2],
}

impl TransposedWindow {
    /// Output height and width for an input of `h × w`:
    /// `(h - 1)·stride + kernel + output_padding - pads` per axis.
    pub fn output_hw(&self, h: usize, w: usize) -> Result<[usize; 2], ShapeError> {
        if self.stride.contains(&0) || self.kernel.contains(&0) || h == 0 || w == 0 {
            return shape_err("kernel, stride and input must be positive");
        }
        if (0..2).any(|a| self.output_padding[a] >= self.stride[a]) {
            return shape_err(format!("output padding {:?} must be below the stride", self.output_padding));
        }
        // Checked throughout: the geometry may come from an untrusted file.
        let side = |a: usize, n: usize| {
            let full = (n - 1)
                .checked_mul(self.stride[a])?
                .checked_add(self.kernel[a])?
                .checked_add(self.output_padding[a])?;
            full.checked_sub(self.pads[a].checked_add(self.pads[a + 2])?).filter(|&v| v > 0)
        };
        match (side(0, h), side(1, w)) {
            (Some(oh), Some(ow)) => Ok([oh, ow]),
            _ => shape_err(format!("pads {:?} leave no output, or the output overflows", self.pads)),
        }
    }

    /// The inputs that reach output `(oy, ox)`: `(kernel_row, kernel_col, input_row,
    /// input_col)`.
    pub fn taps(
        &self,
        oy: usize,
        ox: usize,
        h: usize,
        w: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        // Input `i` with `i·stride = o + pad - k` along one axis.
        let source = move |axis: usize, o: usize, k: usize, n: usize| {
            let t = (o + self.pads[axis]).checked_sub(k)?;
            (t % self.stride[axis] == 0 && t / self.stride[axis] < n).then_some(t / self.stride[axis])
        };
        (0..self.kernel[0]).flat_map(move |ky| {
            (0..self.kernel[1]).filter_map(move |kx| Some((ky, kx, source(0, oy, ky, h)?, source(1, ox, kx, w)?)))
        })
    }
}

/// 2-D transposed convolution, NCHW, groups 1, dilation 1 (ONNX ConvTranspose).
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTranspose2d {
    /// `[in_channels, out_channels, kernel_h, kernel_w]` (ONNX's layout).
    pub weight: Array4<f32>,
    /// `[out_channels]`.
    pub bias: Option<Array1<f32>>,
    /// Kernel, stride, padding.
    pub window: TransposedWindow,
}

/// Average pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AveragePool {
    /// Window geometry.
    pub window: Window2d,
    /// Divide by the full window area (true) or by the number of non-padding cells (false, ONNX's default).
    pub count_include_pad: bool,
}

/// Reshape to a fixed shape (Flatten and Reshape import to this).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {
    /// The output shape.
    pub shape: Vec<usize>,
}

/// Nearest-neighbour upsampling of an NCHW tensor by whole factors: output `(i, j)` of each
/// plane is input `(i / factors[0], j / factors[1])`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upsample {
    /// Height and width factors, each at least 1.
    pub factors: [usize; 2],
}

/// Axis permutation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transpose {
    /// Output axis `i` is input axis `perm[i]`.
    pub perm: Vec<usize>,
}

/// Index of the largest value along an axis (first one on ties).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgMax {
    /// The reduced axis.
    pub axis: usize,
    /// Keep the reduced axis with size 1.
    pub keepdims: bool,
}

/// Concatenation of several tensors along an axis (the others equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concat {
    /// The joined axis.
    pub axis: usize,
}

/// Softmax along an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Softmax {
    /// The normalised axis.
    pub axis: usize,
}

/// Clip to `[min, max]`; a missing bound is unbounded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clip {
    /// Lower bound.
    pub min: Option<f32>,
    /// Upper bound.
    pub max: Option<f32>,
}

/// An activation QuantizeLinear → DequantizeLinear pair of a QDQ model:
/// `y = (clamp(round_half_even(x / scale) + zero_point, qmin, qmax) − zero_point) · scale`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FakeQuantize {
    /// Quantization step.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
    /// Smallest integer (e.g. −128 for int8).
    pub qmin: i32,
    /// Largest integer (e.g. 127 for int8).
    pub qmax: i32,
}

/// The ops of the float graph.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Fully connected layer.
    Dense(Dense),
    /// 2-D convolution.
    Conv2d(Conv2d),
    /// 2-D transposed convolution.
    ConvTranspose2d(ConvTranspose2d),
    /// Element-wise sum of two tensors (numpy broadcasting).
    Add,
    /// Element-wise difference of two tensors (numpy broadcasting).
    Sub,
    /// Element-wise product of two tensors (numpy broadcasting).
    Mul,
    /// `x + c` with a constant that broadcasts to `x`'s shape.
    AddConstant(ArrayD<f32>),
    /// `x · c` with a constant that broadcasts to `x`'s shape.
    MulConstant(ArrayD<f32>),
    /// `max(x, 0)`.
    Relu,
    /// `x` if `x ≥ 0` else `alpha · x`.
    LeakyRelu {
        /// Slope for negative inputs.
        alpha: f32,
    },
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// The error function.
    Erf,
    /// `e^x`.
    Exp,
    /// The natural logarithm (ONNX's: `-inf` at 0, NaN below).
    Log,
    /// GELU, `x · Φ(x)` (with `tanh`: the tanh approximation).
    Gelu {
        /// ONNX's `approximate = "tanh"`.
        tanh: bool,
    },
    /// Clip to a range.
    Clip(Clip),
    /// Nearest-neighbour upsampling (ONNX Resize and Upsample in nearest mode).
    Upsample(Upsample),
    /// Max pooling (padding never wins).
    MaxPool(Window2d),
    /// Average pooling.
    AveragePool(AveragePool),
    /// Mean over the spatial axes of an NCHW tensor, keeping them as size 1.
    GlobalAveragePool,
    /// Reshape.
    Reshape(Reshape),
    /// Transpose.
    Transpose(Transpose),
    /// Softmax (an output op).
    Softmax(Softmax),
    /// ArgMax (an output op).
    ArgMax(ArgMax),
    /// Activation fake quantization of a QDQ model.
    FakeQuantize(FakeQuantize),
    /// Concatenation of run-time tensors.
    Concat(Concat),
}

impl Op {
    /// Short name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Dense(_) => "Dense",
            Op::Conv2d(_) => "Conv2d",
            Op::ConvTranspose2d(_) => "ConvTranspose2d",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::AddConstant(_) => "AddConstant",
            Op::MulConstant(_) => "MulConstant",
            Op::Relu => "Relu",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::Sigmoid => "Sigmoid",
            Op::Tanh => "Tanh",
            Op::Erf => "Erf",
            Op::Exp => "Exp",
            Op::Log => "Log",
            Op::Gelu { .. } => "Gelu",
            Op::Clip(_) => "Clip",
            Op::MaxPool(_) => "MaxPool",
            Op::AveragePool(_) => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::Upsample(_) => "Upsample",
            Op::Reshape(_) => "Reshape",
            Op::Transpose(_) => "Transpose",
            Op::Softmax(_) => "Softmax",
            Op::ArgMax(_) => "ArgMax",
            Op::FakeQuantize(_) => "FakeQuantize",
            Op::Concat(_) => "Concat",
        }
    }

    /// Number of weight and bias parameters.
    pub fn parameter_count(&self) -> usize {
        match self {
            Op::Dense(d) => d.weight.len() + d.bias.as_ref().map_or(0, |b| b.len()),
            Op::Conv2d(c) => c.weight.len() + c.bias.as_ref().map_or(0, |b| b.len()),
            Op::ConvTranspose2d(c) => c.weight.len() + c.bias.as_ref().map_or(0, |b| b.len()),
            Op::AddConstant(c) | Op::MulConstant(c) => c.len(),
            _ => 0,
        }
    }

    /// The output shape for the given input shapes.
    pub fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, ShapeError> {
        let x = inputs.first().copied().unwrap_or(&[]);
        match self {
            Op::Dense(d) => {
                let (out_f, in_f) = d.weight.dim();
                if x.last() != Some(&in_f) {
                    return shape_err(format!("input {x:?} does not end in {in_f} features"));
                }
                if let Some(b) = &d.bias
                    && b.len() != out_f
                {
                    return shape_err(format!("bias has {} values, expected {out_f}", b.len()));
                }
                let mut s = x.to_vec();
                *s.last_mut().unwrap_or(&mut 0) = out_f;
                Ok(s)
            }
            Op::ConvTranspose2d(c) => {
                let [n, ci, h, w] = nchw(x)?;
                let [wci, co, kh, kw] = c.weight.shape() else {
                    return shape_err("weight not 4-D");
                };
                if *wci != ci || [*kh, *kw] != c.window.kernel {
                    return shape_err(format!(
                        "weight {:?} does not match input {x:?} and kernel {:?}",
                        c.weight.shape(),
                        c.window.kernel
                    ));
                }
                if c.bias.as_ref().is_some_and(|b| b.len() != *co) {
                    return shape_err("bias length differs from the output channels");
                }
                let [oh, ow] = c.window.output_hw(h, w)?;
                Ok(vec![n, *co, oh, ow])
            }
            Op::Conv2d(c) => {
                let [n, ci, h, w] = nchw(x)?;
                let [co, wci, kh, kw] = c.weight.shape() else {
                    return shape_err("weight not 4-D");
                };
                if *wci != ci || [*kh, *kw] != c.window.kernel {
                    return shape_err(format!(
                        "weight {:?} does not match input {x:?} and kernel {:?}",
                        c.weight.shape(),
                        c.window.kernel
                    ));
                }
                if c.bias.as_ref().is_some_and(|b| b.len() != *co) {
                    return shape_err("bias length differs from the output channels");
                }
                let [oh, ow] = c.window.output_hw(h, w)?;
                Ok(vec![n, *co, oh, ow])
            }
            Op::Add | Op::Sub | Op::Mul => {
                let y = inputs.get(1).copied().unwrap_or(&[]);
                broadcast_shape(x, y)
            }
            Op::AddConstant(c) | Op::MulConstant(c) => {
                let s = broadcast_shape(x, c.shape())?;
                if s != x {
                    return shape_err(format!("constant {:?} would grow the input {x:?} by broadcasting", c.shape()));
                }
                Ok(s)
            }
            Op::Relu
            | Op::LeakyRelu { .. }
            | Op::Sigmoid
            | Op::Tanh
            | Op::Erf
            | Op::Exp
            | Op::Log
            | Op::Gelu { .. }
            | Op::Clip(_)
            | Op::FakeQuantize(_) => Ok(x.to_vec()),
            Op::MaxPool(win) | Op::AveragePool(AveragePool { window: win, .. }) => {
                let [n, c, h, w] = nchw(x)?;
                let [oh, ow] = win.output_hw(h, w)?;
                Ok(vec![n, c, oh, ow])
            }
            Op::GlobalAveragePool => {
                let [n, c, _, _] = nchw(x)?;
                Ok(vec![n, c, 1, 1])
            }
            Op::Reshape(r) => {
                if r.shape.iter().product::<usize>() != x.iter().product::<usize>() {
                    return shape_err(format!("cannot reshape {x:?} to {:?}", r.shape));
                }
                Ok(r.shape.clone())
            }
            Op::Upsample(u) => {
                let [n, c, h, w] = nchw(x)?;
                let [fh, fw] = u.factors;
                if fh == 0 || fw == 0 {
                    return shape_err(format!("upsampling factors {:?} must be at least 1", u.factors));
                }
                match (h.checked_mul(fh), w.checked_mul(fw)) {
                    (Some(oh), Some(ow)) => Ok(vec![n, c, oh, ow]),
                    _ => shape_err(format!("upsampling {x:?} by {:?} overflows", u.factors)),
                }
            }
            Op::Transpose(t) => {
                let mut seen = vec![false; x.len()];
                if t.perm.len() != x.len()
                    || t.perm.iter().any(|&p| p >= x.len() || std::mem::replace(&mut seen[p], true))
                {
                    return shape_err(format!("perm {:?} is not a permutation of {} axes", t.perm, x.len()));
                }
                Ok(t.perm.iter().map(|&p| x[p]).collect())
            }
            Op::Softmax(s) => {
                if s.axis >= x.len() {
                    return shape_err(format!("axis {} out of range for {x:?}", s.axis));
                }
                Ok(x.to_vec())
            }
            Op::Concat(c) => concat_shape(inputs, c.axis),
            Op::ArgMax(a) => {
                if a.axis >= x.len() {
                    return shape_err(format!("axis {} out of range for {x:?}", a.axis));
                }
                let mut s = x.to_vec();
                if a.keepdims {
                    s[a.axis] = 1;
                } else {
                    s.remove(a.axis);
                }
                Ok(s)
            }
        }
    }
}

/// The shape of `inputs` joined along `axis`: equal ranks, equal sizes off the axis.
fn concat_shape(inputs: &[&[usize]], axis: usize) -> Result<Vec<usize>, ShapeError> {
    let Some(first) = inputs.first() else {
        return shape_err("Concat needs at least one input");
    };
    if axis >= first.len() {
        return shape_err(format!("axis {axis} out of range for {first:?}"));
    }
    let mut out = first.to_vec();
    for s in &inputs[1..] {
        let same_elsewhere = s.len() == first.len() && (0..s.len()).all(|a| a == axis || s[a] == first[a]);
        if !same_elsewhere {
            return shape_err(format!("cannot join {s:?} to {first:?} along axis {axis}"));
        }
        out[axis] += s[axis];
    }
    Ok(out)
}

fn nchw(x: &[usize]) -> Result<[usize; 4], ShapeError> {
    match x {
        [n, c, h, w] => Ok([*n, *c, *h, *w]),
        _ => shape_err(format!("expected an NCHW tensor, got shape {x:?}")),
    }
}

/// Numpy-style broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let n = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= n { s[i + s.len() - n] } else { 1 }
    };
    (0..n)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => shape_err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_geometry_that_overflows_is_a_shape_error() {
        let w = Window2d { kernel: [3, 3], stride: [1, 1], pads: [usize::MAX, 0, 1, 0] };
        assert!(w.output_hw(8, 8).is_err());
        let honest = Window2d { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1] };
        assert_eq!(honest.output_hw(8, 8), Ok([4, 4]));
        let t = TransposedWindow { kernel: [3, 3], stride: [usize::MAX, 1], pads: [0; 4], output_padding: [0, 0] };
        assert!(t.output_hw(3, 3).is_err());
        let t = TransposedWindow { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] };
        assert_eq!(t.output_hw(4, 4), Ok([8, 8]));
    }
}
