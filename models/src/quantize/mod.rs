//! Quantization: float [`Graph`] + calibration samples → [`QuantizedModel`].
//!
//! Per-tensor power-of-two scales. Each tensor's scale is the largest one at which the largest
//! magnitude seen in calibration (times `2^headroom_bits`) fits the tensor's signed bit width
//! ([`crate::numeric::fit_scale`]). Weights get their own scale from their largest magnitude;
//! biases live at the accumulator scale (input scale + weight scale). Ops that cannot grow a
//! range (Relu, MaxPool, Clip, shapes, averages) keep their input's scale and width. Sigmoid,
//! Tanh and Softmax outputs use the fixed scale `activation_bits - 2`, so that 1.0 fits.
//! Tables (Sigmoid, Tanh, the exponential of Softmax) are computed here once and stored as
//! integers: no floats are used after this step.

mod calibration;
mod ops;

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

pub use calibration::{CalibrationStats, calibrate};

use crate::QuantizeError;
use crate::graph::Graph;
use crate::numeric::MAX_VALUE_BITS;
use crate::quantized::{QNode, QTensor, QuantizedModel};

/// Smallest [`QuantSettings::max_table_rows`]: fewer would leave a function a handful of steps.
pub const MIN_TABLE_ROWS: u32 = 16;

/// Bit widths and headroom; the defaults suit the zoo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantSettings {
    /// Signed bits of the model input.
    pub input_bits: u32,
    /// Signed bits of weights and multiplicative constants.
    pub weight_bits: u32,
    /// Signed bits of every computed activation.
    pub activation_bits: u32,
    /// Signed bits of biases and additive constants (they live at the accumulator scale).
    pub bias_bits: u32,
    /// Extra bits of range kept free above the largest calibrated magnitude, so inputs a little
    /// beyond the calibration set still fit.
    pub headroom_bits: u32,
    /// Most rows one function table (Sigmoid, Tanh, Erf, Exp, Log, GELU, Softmax's exponential)
    /// may take where the function changes (its trimmed length, see [`crate::trim`]): a longer one
    /// drops input bits before the lookup until it fits, trading precision for rows. `None`:
    /// no limit, full input precision. The compiler sets it when the tables alone would raise
    /// the circuit's `k`.
    #[serde(default)]
    pub max_table_rows: Option<u32>,
}

impl Default for QuantSettings {
    fn default() -> Self {
        Self {
            input_bits: 8,
            weight_bits: 8,
            activation_bits: 12,
            bias_bits: 32,
            headroom_bits: 1,
            max_table_rows: None,
        }
    }
}

impl QuantSettings {
    /// Checks the bit widths are in the supported ranges.
    pub fn validate(&self) -> Result<(), QuantizeError> {
        let check = |name: &str, v: u32, lo: u32, hi: u32| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(QuantizeError::Settings { reason: format!("{name} = {v} must be in {lo}..={hi}") })
            }
        };
        check("input_bits", self.input_bits, 2, MAX_VALUE_BITS)?;
        check("weight_bits", self.weight_bits, 2, MAX_VALUE_BITS)?;
        check("activation_bits", self.activation_bits, 4, MAX_VALUE_BITS)?;
        check("bias_bits", self.bias_bits, 8, 48)?;
        check("headroom_bits", self.headroom_bits, 0, 4)?;
        match self.max_table_rows {
            Some(rows) => check("max_table_rows", rows, MIN_TABLE_ROWS, u32::MAX),
            None => Ok(()),
        }
    }
}

/// Quantizes `graph` with scales calibrated on `samples` (each shaped like the graph input).
pub fn quantize(
    graph: &Graph,
    samples: &[ArrayD<f32>],
    settings: &QuantSettings,
) -> Result<QuantizedModel, QuantizeError> {
    settings.validate()?;
    let stats = calibrate(graph, samples)?;
    quantize_with_stats(graph, &stats, settings)
}

/// Quantizes with precomputed calibration statistics.
pub fn quantize_with_stats(
    graph: &Graph,
    stats: &CalibrationStats,
    settings: &QuantSettings,
) -> Result<QuantizedModel, QuantizeError> {
    settings.validate()?;
    let mut tensors: Vec<Option<QTensor>> = vec![None; graph.tensors.len()];
    let input = graph.tensor(graph.input);
    tensors[graph.input.0] = Some(QTensor {
        name: input.name.clone(),
        shape: input.shape.clone(),
        scale: crate::numeric::fit_scale(stats.max_abs[graph.input.0], settings.input_bits, settings.headroom_bits),
        bits: settings.input_bits,
    });
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for node in &graph.nodes {
        let inputs: Vec<&QTensor> =
            node.inputs.iter().map(|i| tensors[i.0].as_ref().expect("graph nodes are in topological order")).collect();
        let info = graph.tensor(node.output);
        let ctx = ops::NodeQuant {
            node: &node.name,
            inputs: &inputs,
            output_max_abs: stats.max_abs[node.output.0],
            settings,
        };
        let (op, scale, bits) = ops::quantize_op(&node.op, &ctx)?;
        tensors[node.output.0] = Some(QTensor { name: info.name.clone(), shape: info.shape.clone(), scale, bits });
        nodes.push(QNode { name: node.name.clone(), op, inputs: node.inputs.clone(), output: node.output });
    }
    let model = QuantizedModel {
        format_version: QuantizedModel::FORMAT_VERSION,
        name: graph.name.clone(),
        settings: *settings,
        tensors: tensors.into_iter().map(|t| t.expect("every tensor is the input or a node output")).collect(),
        nodes,
        input: graph.input,
        outputs: graph.outputs.clone(),
    };
    debug_assert!(model.validate().is_ok(), "{:?}", model.validate());
    Ok(model)
}
