//! Structural checks of a [`QuantizedModel`] read from untrusted bytes, so the interpreter
//! never panics on a model that deserialized but is inconsistent: tensor ids, topological
//! order, shapes, bit widths, shifts, weight ranges and table coverage.

use crate::ModelFormatError;
use crate::graph::ops::Op;
use crate::numeric::{MAX_RESCALE_BITS, MAX_VALUE_BITS, round_shift, signed_range};
use crate::quantized::{QOp, QTensor, QuantizedModel};

fn bad<T>(msg: impl Into<String>) -> Result<T, ModelFormatError> {
    Err(ModelFormatError::Invalid(msg.into()))
}

impl QuantizedModel {
    /// Checks that the model is internally consistent.
    pub fn validate(&self) -> Result<(), ModelFormatError> {
        self.settings.validate().map_err(|e| ModelFormatError::Invalid(e.to_string()))?;
        let n = self.tensors.len();
        if self.input.0 >= n {
            return bad("input tensor id out of range");
        }
        for t in &self.tensors {
            if t.bits < 2 || t.bits > MAX_VALUE_BITS || t.scale.abs() > 64 {
                return bad(format!("tensor '{}' has bits {} / scale {}", t.name, t.bits, t.scale));
            }
            if t.shape.contains(&0) {
                return bad(format!("tensor '{}' has an empty dimension", t.name));
            }
            if t.shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_none_or(|c| c > crate::graph::MAX_TENSOR_ELEMENTS)
            {
                return bad(format!("tensor '{}' is too large", t.name));
            }
        }
        let mut defined = vec![false; n];
        defined[self.input.0] = true;
        for node in &self.nodes {
            let ids = node.inputs.iter().chain(std::iter::once(&node.output));
            if ids.clone().any(|i| i.0 >= n) {
                return bad(format!("node '{}' refers to a missing tensor", node.name));
            }
            if node.inputs.is_empty() || node.inputs.iter().any(|i| !defined[i.0]) || defined[node.output.0] {
                return bad(format!("node '{}' is out of topological order", node.name));
            }
            let inputs: Vec<&QTensor> = node.inputs.iter().map(|i| &self.tensors[i.0]).collect();
            let out = &self.tensors[node.output.0];
            check_node(&node.op, &inputs, out, self).map_err(|e| match e {
                ModelFormatError::Invalid(m) => ModelFormatError::Invalid(format!("node '{}': {m}", node.name)),
                other => other,
            })?;
            defined[node.output.0] = true;
        }
        if self.outputs.is_empty() || self.outputs.iter().any(|o| o.0 >= n || !defined[o.0]) {
            return bad("outputs missing or undefined");
        }
        Ok(())
    }
}

fn within(values: impl IntoIterator<Item = i64>, bits: u32, what: &str) -> Result<(), ModelFormatError> {
    let (lo, hi) = signed_range(bits);
    if values.into_iter().any(|v| v < lo || v > hi) {
        return bad(format!("{what} exceeds {bits} bits"));
    }
    Ok(())
}

/// A rescale by `shift` to a result of `bits` bits must stay within [`MAX_RESCALE_BITS`].
fn shift_ok(shift: u32, bits: u32) -> Result<(), ModelFormatError> {
    if shift.saturating_add(bits) > MAX_RESCALE_BITS {
        bad(format!("rescale by {shift} bits to {bits} bits exceeds {MAX_RESCALE_BITS} bits"))
    } else {
        Ok(())
    }
}

fn check_node(op: &QOp, inputs: &[&QTensor], out: &QTensor, m: &QuantizedModel) -> Result<(), ModelFormatError> {
    let st = &m.settings;
    let x = inputs[0];
    let expected_inputs = match op {
        QOp::Add(_) | QOp::Mul(_) => 2,
        QOp::Concat(c) => c.shifts.len().max(1),
        _ => 1,
    };
    if inputs.len() != expected_inputs {
        return bad(format!("expects {expected_inputs} inputs, has {}", inputs.len()));
    }
    let zeros = |shape: &[usize]| ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(shape));
    // Shape rules are the float graph's; build a float op of the same shape behaviour.
    let shape_op = match op {
        QOp::Dense(d) => {
            within(d.weight.iter().copied(), st.weight_bits, "weight")?;
            within(d.bias.iter().flatten().copied(), st.bias_bits, "bias")?;
            shift_ok(d.shift, out.bits)?;
            Op::Dense(crate::graph::ops::Dense {
                weight: ndarray::Array2::zeros(d.weight.raw_dim()),
                bias: d.bias.as_ref().map(|b| ndarray::Array1::zeros(b.len())),
            })
        }
        QOp::Conv2d(c) => {
            within(c.weight.iter().copied(), st.weight_bits, "weight")?;
            within(c.bias.iter().flatten().copied(), st.bias_bits, "bias")?;
            shift_ok(c.shift, out.bits)?;
            Op::Conv2d(crate::graph::ops::Conv2d {
                weight: ndarray::Array4::zeros(c.weight.raw_dim()),
                bias: c.bias.as_ref().map(|b| ndarray::Array1::zeros(b.len())),
                window: c.window,
            })
        }
        QOp::ConvTranspose2d(c) => {
            within(c.weight.iter().copied(), st.weight_bits, "weight")?;
            within(c.bias.iter().flatten().copied(), st.bias_bits, "bias")?;
            shift_ok(c.shift, out.bits)?;
            Op::ConvTranspose2d(crate::graph::ops::ConvTranspose2d {
                weight: ndarray::Array4::zeros(c.weight.raw_dim()),
                bias: c.bias.as_ref().map(|b| ndarray::Array1::zeros(b.len())),
                window: c.window,
            })
        }
        QOp::Add(a) => {
            shift_ok(a.shift, out.bits)?;
            if a.lhs_shift.max(a.rhs_shift) > 24 {
                return bad("alignment shift too large");
            }
            Op::Add
        }
        QOp::Mul(m) => {
            // Operands of at most MAX_VALUE_BITS (checked for every tensor) keep the product
            // below 2^32.
            shift_ok(m.shift, out.bits)?;
            Op::Mul
        }
        QOp::AddConstant(a) => {
            within(a.constant.iter().copied(), st.bias_bits, "constant")?;
            shift_ok(a.shift, out.bits)?;
            if a.input_shift > 24 {
                return bad("alignment shift too large");
            }
            Op::AddConstant(zeros(a.constant.shape()))
        }
        QOp::MulConstant(c) => {
            within(c.constant.iter().copied(), st.weight_bits, "constant")?;
            shift_ok(c.shift, out.bits)?;
            Op::MulConstant(zeros(c.constant.shape()))
        }
        QOp::LeakyRelu(l) => {
            within([l.alpha], st.weight_bits + 1, "alpha")?;
            shift_ok(l.shift, x.bits)?;
            Op::Relu
        }
        QOp::Relu | QOp::Clip(_) => Op::Relu,
        QOp::Lookup(l) => {
            if l.input_shift >= x.bits {
                return bad("lookup input shift wider than its input");
            }
            let (lo, hi) = x.range();
            let (lo, hi) = (round_shift(lo, l.input_shift), round_shift(hi, l.input_shift));
            if l.table.input_min != lo || l.table.values.len() as i64 != hi - lo + 1 {
                return bad("lookup table does not cover the input range");
            }
            Op::Relu
        }
        QOp::MaxPool(w) => Op::MaxPool(*w),
        QOp::AveragePool(p) => {
            if p.shift > 24 || p.pool.window.area() > 1 << 16 {
                return bad("average shift too large");
            }
            Op::AveragePool(p.pool)
        }
        QOp::GlobalAveragePool(g) => {
            if g.shift > 24 {
                return bad("average shift too large");
            }
            Op::GlobalAveragePool
        }
        QOp::Reshape(r) => Op::Reshape(r.clone()),
        QOp::Transpose(t) => Op::Transpose(t.clone()),
        QOp::Upsample(u) => Op::Upsample(*u),
        QOp::Softmax(s) => {
            if s.input_shift >= x.bits {
                return bad("softmax input shift wider than its input");
            }
            let (lo, hi) = x.range();
            let t = &s.exp_table;
            let min = round_shift(lo - hi, s.input_shift);
            if t.input_min != min || t.values.len() as i64 != 1 - min || t.get(0).is_none_or(|v| v <= 0) {
                return bad("softmax table does not cover the input range");
            }
            if t.values.iter().any(|&v| !(0..=1 << 20).contains(&v)) || s.output_scale > 24 {
                return bad("softmax table values out of range");
            }
            Op::Softmax(crate::graph::ops::Softmax { axis: s.axis })
        }
        QOp::ArgMax(a) => Op::ArgMax(*a),
        QOp::Concat(c) => {
            if c.shifts.iter().any(|&s| s > 24) {
                return bad("alignment shift too large");
            }
            if inputs.iter().any(|t| t.bits > out.bits) {
                return bad("a concatenated input is wider than the output");
            }
            Op::Concat(crate::graph::ops::Concat { axis: c.axis })
        }
    };
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
    let shape = shape_op.output_shape(&shapes).map_err(|e| ModelFormatError::Invalid(e.0))?;
    if shape != out.shape {
        return bad(format!("output shape {:?} differs from the rule's {shape:?}", out.shape));
    }
    Ok(())
}
