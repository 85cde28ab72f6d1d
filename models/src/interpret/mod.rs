//! The integer interpreter: the executable specification of a [`QuantizedModel`].
//!
//! It runs every node with the rules of [`crate::numeric`], records every tensor (the trace
//! that witness generation reads), and checks that every value lies in its tensor's declared
//! range: an input or intermediate outside it is an [`InterpretError`], never a wrap-around.
//! Integer arithmetic only; the same model and input give the same trace on every machine.

mod ops;

use ndarray::ArrayD;

use crate::InterpretError;
use crate::graph::TensorId;
use crate::numeric::{dequantize, quantize_real};
use crate::quantized::QuantizedModel;

/// Every tensor's integer value after one run, indexed by [`TensorId`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Values by tensor id.
    pub values: Vec<ArrayD<i64>>,
}

impl Trace {
    /// The value of a tensor.
    pub fn get(&self, id: TensorId) -> &ArrayD<i64> {
        &self.values[id.0]
    }
}

impl QuantizedModel {
    /// Converts a real input to integers at the input scale, refusing values outside the range;
    /// a model that clamps its input first ([`QuantizedModel::input_clamp`]) has every finite
    /// value saturated into the clamp's bounds instead, as the clamp itself would.
    pub fn quantize_input(&self, input: &ArrayD<f32>) -> Result<ArrayD<i64>, InterpretError> {
        let t = self.tensor(self.input);
        if input.shape() != t.shape.as_slice() {
            return Err(InterpretError::InputShape { expected: t.shape.clone(), got: input.shape().to_vec() });
        }
        let clamp = self.input_clamp();
        let (lo, hi) = self.input_range();
        let mut out = Vec::with_capacity(input.len());
        for (index, &v) in input.iter().enumerate() {
            let q = match (v.is_finite(), clamp) {
                (true, Some((lo, hi))) => quantize_real(v as f64, t.scale).clamp(lo, hi),
                (true, None) => quantize_real(v as f64, t.scale),
                (false, _) => i64::MAX,
            };
            if q < lo || q > hi {
                return Err(InterpretError::InputOutOfRange {
                    index,
                    value: v as f64,
                    min: dequantize(lo, t.scale),
                    max: dequantize(hi, t.scale),
                });
            }
            out.push(q);
        }
        Ok(ArrayD::from_shape_vec(input.raw_dim(), out).expect("same shape as the input"))
    }

    /// Runs the model on an integer input (at the input scale) and returns the full trace.
    pub fn interpret(&self, input: ArrayD<i64>) -> Result<Trace, InterpretError> {
        let t = self.tensor(self.input);
        if input.shape() != t.shape.as_slice() {
            return Err(InterpretError::InputShape { expected: t.shape.clone(), got: input.shape().to_vec() });
        }
        check_range(self, self.input, &input, "input")?;
        let mut values: Vec<ArrayD<i64>> = vec![ArrayD::zeros(ndarray::IxDyn(&[0])); self.tensors.len()];
        values[self.input.0] = input;
        for node in &self.nodes {
            let inputs: Vec<&ArrayD<i64>> = node.inputs.iter().map(|i| &values[i.0]).collect();
            let y = ops::evaluate(&node.op, &inputs, self.tensor(node.inputs[0]));
            check_range(self, node.output, &y, &node.name)?;
            values[node.output.0] = y;
        }
        Ok(Trace { values })
    }

    /// Quantizes a real input, runs the model and returns the trace.
    pub fn run(&self, input: &ArrayD<f32>) -> Result<Trace, InterpretError> {
        self.interpret(self.quantize_input(input)?)
    }

    /// The real values of an output tensor in a trace.
    pub fn output_real(&self, trace: &Trace, output: TensorId) -> ArrayD<f64> {
        let scale = self.tensor(output).scale;
        trace.get(output).mapv(|q| dequantize(q, scale))
    }
}

fn check_range(model: &QuantizedModel, id: TensorId, values: &ArrayD<i64>, node: &str) -> Result<(), InterpretError> {
    let t = model.tensor(id);
    let (lo, hi) = model.value_range(id);
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| **v < lo || **v > hi) {
        return Err(InterpretError::OutOfRange {
            node: node.to_string(),
            tensor: t.name.clone(),
            index,
            value,
            min: lo,
            max: hi,
        });
    }
    Ok(())
}
