//! The quantized model: integer ops with their scales, bit widths, tables and shifts. It is
//! the input of the interpreter (the executable spec) and, later, of the circuit compiler.
//! Serializable and versioned ([`QuantizedModel::FORMAT_VERSION`]).

use ndarray::{Array1, Array2, Array4, ArrayD};
use serde::{Deserialize, Serialize};

use crate::graph::TensorId;
use crate::graph::ops::{ArgMax, AveragePool, Reshape, Transpose, TransposedWindow, Upsample, Window2d};
use crate::numeric::signed_range;
use crate::quantize::QuantSettings;

/// A tensor of the quantized model: real value = `q / 2^scale`, `q` within `bits` signed bits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QTensor {
    /// Name in the source model.
    pub name: String,
    /// Static shape.
    pub shape: Vec<usize>,
    /// Power-of-two scale exponent.
    pub scale: i32,
    /// Signed bit width: values lie in `[-2^(bits-1), 2^(bits-1) - 1]`.
    pub bits: u32,
}

impl QTensor {
    /// The inclusive range of values.
    pub fn range(&self) -> (i64, i64) {
        signed_range(self.bits)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for a tensor with a zero dimension.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Dense layer: `y = round_shift(Σ x·w + bias, shift)`; `bias` is at the accumulator scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QDense {
    /// `[out, in]`, within the weight bit width.
    pub weight: Array2<i64>,
    /// `[out]`, at scale `input.scale + weight_scale`.
    pub bias: Option<Array1<i64>>,
    /// Scale exponent of the weights.
    pub weight_scale: i32,
    /// Rescale from the accumulator scale to the output scale.
    pub shift: u32,
}

/// Convolution: per output position, `round_shift(Σ x·w + bias, shift)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QConv2d {
    /// `[out_channels, in_channels, kh, kw]`.
    pub weight: Array4<i64>,
    /// `[out_channels]` at the accumulator scale.
    pub bias: Option<Array1<i64>>,
    /// Scale exponent of the weights.
    pub weight_scale: i32,
    /// Kernel, stride, padding.
    pub window: Window2d,
    /// Rescale from the accumulator scale to the output scale.
    pub shift: u32,
}

/// Transposed convolution: per output position, `round_shift(Σ x·w + bias, shift)` over the
/// inputs that reach it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QConvTranspose2d {
    /// `[in_channels, out_channels, kh, kw]`.
    pub weight: Array4<i64>,
    /// `[out_channels]` at the accumulator scale.
    pub bias: Option<Array1<i64>>,
    /// Scale exponent of the weights.
    pub weight_scale: i32,
    /// Kernel, stride, padding.
    pub window: TransposedWindow,
    /// Rescale from the accumulator scale to the output scale.
    pub shift: u32,
}

/// `y = round_shift((a << lhs_shift) ± (b << rhs_shift), shift)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QAdd {
    /// Left shift aligning the first operand to the common scale.
    pub lhs_shift: u32,
    /// Left shift aligning the second operand to the common scale.
    pub rhs_shift: u32,
    /// Sub instead of Add.
    pub subtract: bool,
    /// Rescale from the common scale to the output scale.
    pub shift: u32,
}

/// `y = round_shift(a · b, shift)`: the product of two tensors (numpy broadcasting), at the sum
/// of their scales, rescaled to the output scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QMul {
    /// Rescale from the product's scale to the output scale.
    pub shift: u32,
}

/// `y = round_shift((x << input_shift) + constant, shift)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QAddConstant {
    /// Left shift aligning the input to the constant's scale.
    pub input_shift: u32,
    /// The constant at the common scale (broadcasts to the input).
    pub constant: ArrayD<i64>,
    /// Rescale from the common scale to the output scale.
    pub shift: u32,
}

/// `y = round_shift(x · constant, shift)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QMulConstant {
    /// The constant within the weight bit width (broadcasts to the input).
    pub constant: ArrayD<i64>,
    /// Scale exponent of the constant.
    pub constant_scale: i32,
    /// Rescale from `input.scale + constant_scale` to the output scale.
    pub shift: u32,
}

/// `y = x` if `x ≥ 0` else `round_shift(x · alpha, shift)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLeakyRelu {
    /// The slope at scale `shift`.
    pub alpha: i64,
    /// Scale exponent of `alpha`.
    pub shift: u32,
}

/// `y = clamp(x, min, max)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QClip {
    /// Lower bound at the input scale.
    pub min: i64,
    /// Upper bound at the input scale.
    pub max: i64,
}

/// A function tabulated over every input value: `y = values[x - input_min]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupTable {
    /// The smallest input the table covers.
    pub input_min: i64,
    /// One output per input value, from `input_min` upward.
    pub values: Vec<i64>,
}

impl LookupTable {
    /// The table entry for `x`, or `None` when `x` is outside the table.
    pub fn get(&self, x: i64) -> Option<i64> {
        let i = x.checked_sub(self.input_min)?;
        usize::try_from(i).ok().and_then(|i| self.values.get(i).copied())
    }
}

/// Which function a lookup tabulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LookupFunction {
    /// Logistic sigmoid.
    Sigmoid,
    /// Hyperbolic tangent.
    Tanh,
    /// The error function.
    Erf,
    /// GELU with the normal distribution function.
    Gelu,
    /// GELU, tanh approximation.
    GeluTanh,
    /// `e^x`, saturating at the output width.
    Exp,
    /// The natural logarithm, saturating at the output width; inputs at or below zero (where
    /// floats give `-inf` or NaN) read the lowest value.
    Log,
}

/// A tabulated element-wise function: `y = table[round_shift(x, input_shift)]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QLookup {
    /// What the table holds (for reports).
    pub function: LookupFunction,
    /// Bits the input drops before the lookup (0: none), so that the table stays short; the
    /// quantizer sets it only under a table-size limit (`QuantSettings::max_table_rows`).
    #[serde(default)]
    pub input_shift: u32,
    /// The integer table over the shifted input range, computed once at quantization.
    pub table: LookupTable,
}

/// Average pooling: `y = round_shift(window_sum · round_div(2^shift, count), shift)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QAveragePool {
    /// Window geometry and divisor rule.
    pub pool: AveragePool,
    /// Fixed-point precision of the reciprocal of the divisor.
    pub shift: u32,
}

/// Spatial mean: `y = round_shift(sum · round_div(2^shift, h·w), shift)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QGlobalAveragePool {
    /// Fixed-point precision of the reciprocal of `h·w`.
    pub shift: u32,
}

/// Softmax along `axis`: `e_i = exp_table[round_shift(x_i - max, input_shift)]`,
/// `y_i = round_div(e_i · 2^output_scale, Σ e)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QSoftmax {
    /// The normalised axis.
    pub axis: usize,
    /// Bits the differences drop before the lookup (0: none; see [`QLookup::input_shift`]).
    #[serde(default)]
    pub input_shift: u32,
    /// `exp(d / 2^(input_scale - input_shift)) · 2^exp_scale` for every shifted difference
    /// `d ≤ 0` of the input range.
    pub exp_table: LookupTable,
    /// Scale exponent of the output probabilities.
    pub output_scale: u32,
}

/// Concatenation along `axis` after aligning every input to the coarsest input scale:
/// `y = concat_i(round_shift(x_i, shifts[i]))`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QConcat {
    /// The joined axis.
    pub axis: usize,
    /// Per input, the right shift to the output scale.
    pub shifts: Vec<u32>,
}

/// The integer ops.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QOp {
    /// Fully connected layer.
    Dense(QDense),
    /// 2-D convolution.
    Conv2d(QConv2d),
    /// Sum or difference of two tensors.
    Add(QAdd),
    /// Plus a constant.
    AddConstant(QAddConstant),
    /// Times a constant.
    MulConstant(QMulConstant),
    /// `max(x, 0)`.
    Relu,
    /// Leaky ReLU.
    LeakyRelu(QLeakyRelu),
    /// Clamp (Clip and QDQ fake quantization).
    Clip(QClip),
    /// Tabulated function (Sigmoid, Tanh).
    Lookup(QLookup),
    /// Max pooling.
    MaxPool(Window2d),
    /// Average pooling.
    AveragePool(QAveragePool),
    /// Spatial mean.
    GlobalAveragePool(QGlobalAveragePool),
    /// Reshape.
    Reshape(Reshape),
    /// Transpose.
    Transpose(Transpose),
    /// Softmax.
    Softmax(QSoftmax),
    /// ArgMax.
    ArgMax(ArgMax),
    /// Concatenation.
    Concat(QConcat),
    /// Element-wise product of two tensors.
    Mul(QMul),
    /// Nearest-neighbour upsampling: wiring only.
    Upsample(Upsample),
    /// 2-D transposed convolution.
    ConvTranspose2d(QConvTranspose2d),
}

impl QOp {
    /// Short name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            QOp::Dense(_) => "Dense",
            QOp::Conv2d(_) => "Conv2d",
            QOp::ConvTranspose2d(_) => "ConvTranspose2d",
            QOp::Add(a) if a.subtract => "Sub",
            QOp::Add(_) => "Add",
            QOp::Mul(_) => "Mul",
            QOp::AddConstant(_) => "AddConstant",
            QOp::MulConstant(_) => "MulConstant",
            QOp::Relu => "Relu",
            QOp::LeakyRelu(_) => "LeakyRelu",
            QOp::Clip(_) => "Clip",
            QOp::Lookup(l) => match l.function {
                LookupFunction::Sigmoid => "Sigmoid",
                LookupFunction::Tanh => "Tanh",
                LookupFunction::Erf => "Erf",
                LookupFunction::Gelu | LookupFunction::GeluTanh => "Gelu",
                LookupFunction::Exp => "Exp",
                LookupFunction::Log => "Log",
            },
            QOp::MaxPool(_) => "MaxPool",
            QOp::AveragePool(_) => "AveragePool",
            QOp::GlobalAveragePool(_) => "GlobalAveragePool",
            QOp::Reshape(_) => "Reshape",
            QOp::Transpose(_) => "Transpose",
            QOp::Upsample(_) => "Upsample",
            QOp::Softmax(_) => "Softmax",
            QOp::ArgMax(_) => "ArgMax",
            QOp::Concat(_) => "Concat",
        }
    }
}

/// One integer operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QNode {
    /// Name in the source model.
    pub name: String,
    /// The op and its integer parameters.
    pub op: QOp,
    /// Input tensors.
    pub inputs: Vec<TensorId>,
    /// Output tensor.
    pub output: TensorId,
}

/// A quantized model, ready for the interpreter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantizedModel {
    /// [`QuantizedModel::FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// Graph name from the source model.
    pub name: String,
    /// The settings it was quantized with.
    pub settings: QuantSettings,
    /// Every tensor with its scale and bit width.
    pub tensors: Vec<QTensor>,
    /// Integer nodes in execution order.
    pub nodes: Vec<QNode>,
    /// The input tensor.
    pub input: TensorId,
    /// The output tensors.
    pub outputs: Vec<TensorId>,
}

impl QuantizedModel {
    /// Version of the serialized form; bump on any change to these types.
    pub const FORMAT_VERSION: u32 = 1;

    /// The tensor's description.
    pub fn tensor(&self, id: TensorId) -> &QTensor {
        &self.tensors[id.0]
    }

    /// Bounds of a clamp the model applies to its input first: the bounds of a Clip that is the
    /// input's only reader (a QuantizeLinear on the model input, as onnxruntime's quantizers
    /// write it, imports as one), within the input's width. `None` when there is no such Clip
    /// or its bounds do not narrow the width's range.
    pub fn input_clamp(&self) -> Option<(i64, i64)> {
        let mut readers = self.nodes.iter().filter(|n| n.inputs.contains(&self.input));
        let (Some(node), None) = (readers.next(), readers.next()) else { return None };
        let QOp::Clip(clip) = &node.op else { return None };
        let (lo, hi) = self.tensor(self.input).range();
        let clamped = (lo.max(clip.min), hi.min(clip.max));
        (clamped != (lo, hi) && clamped.0 <= clamped.1 && !self.outputs.contains(&self.input)).then_some(clamped)
    }

    /// The values the model input may take: its width's range, narrowed to
    /// [`input_clamp`](Self::input_clamp) where there is one. Real inputs are saturated into it
    /// ([`quantize_input`](Self::quantize_input): the clamp would saturate them anyway); the
    /// interpreter and the verifier refuse integer inputs outside it, so the circuit leaves the
    /// clamp's comparisons out (they could not change a value).
    pub fn input_range(&self) -> (i64, i64) {
        self.input_clamp().unwrap_or_else(|| self.tensor(self.input).range())
    }

    /// The range of a tensor's values: [`input_range`](Self::input_range) for the model input,
    /// the width's range for every other tensor.
    pub fn value_range(&self, id: TensorId) -> (i64, i64) {
        if id == self.input { self.input_range() } else { self.tensor(id).range() }
    }

    /// Serializes to JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the quantized model always serializes")
    }

    /// Parses JSON written by [`QuantizedModel::to_json`], checking the format version and
    /// that the model is well-formed (see [`QuantizedModel::validate`]).
    pub fn from_json(text: &str) -> Result<Self, crate::ModelFormatError> {
        let model: Self = serde_json::from_str(text).map_err(|e| crate::ModelFormatError::Malformed(e.to_string()))?;
        if model.format_version != Self::FORMAT_VERSION {
            return Err(crate::ModelFormatError::Version {
                found: model.format_version,
                expected: Self::FORMAT_VERSION,
            });
        }
        model.validate()?;
        Ok(model)
    }
}
