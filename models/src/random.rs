//! Random small models for property tests (feature `random-models`): chains of conv-like ops
//! on NCHW inputs (Conv, ConvTranspose, Relu, MaxPool, AveragePool, LeakyRelu, Clip,
//! upsampling, Exp, Log, products of activations, per-channel constants), then a flatten, a
//! dense layer and an output op (ArgMax, Softmax, Sigmoid or none), with weights from a seeded
//! generator (clamps placed as import places them: up to a layer, or after max pooling), and
//! [`random_model`] to quantize one on random samples.
//! The circuits' and the engine's property tests draw from the same generator.

use ndarray::{Array1, Array2, Array4, ArrayD, IxDyn};

use crate::QuantizedModel;
use crate::graph::ops::{
    ArgMax, AveragePool, Clip, Conv2d, ConvTranspose2d, Dense, Reshape, Softmax, TransposedWindow, Upsample, Window2d,
};
use crate::graph::{Graph, Node, Op, TensorId, TensorInfo};
use crate::quantize::{QuantSettings, quantize};

/// Deterministic pseudo-random values from a seed.
#[derive(Debug)]
pub struct Rng(pub u64);
impl Rng {
    pub fn next_value(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    pub fn pick(&mut self, n: usize) -> usize {
        ((self.next_value() + 1.0) * 0.5 * n as f32) as usize % n
    }
}

#[derive(Debug)]
struct GraphBuilder {
    g: Graph,
}

impl GraphBuilder {
    fn push(&mut self, op: Op, input: TensorId) -> TensorId {
        self.push_many(op, vec![input])
    }
    fn push_many(&mut self, op: Op, inputs: Vec<TensorId>) -> TensorId {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| self.g.tensors[t.0].shape.as_slice()).collect();
        let shape = op.output_shape(&shapes).expect("the generator builds valid shapes");
        let id = TensorId(self.g.tensors.len());
        self.g.tensors.push(TensorInfo { name: format!("t{}", id.0), shape });
        self.g.nodes.push(Node { name: format!("n{}", id.0), op, inputs, output: id });
        id
    }
    fn shape(&self, t: TensorId) -> Vec<usize> {
        self.g.tensors[t.0].shape.clone()
    }
}

/// A random chain: conv-like ops on NCHW, then flatten, a dense layer and an output op.
pub fn random_graph(seed: u64, ops: &[u8], tail: u8) -> Graph {
    let mut r = Rng(seed);
    let (c, h, w) = (1 + r.pick(2), 4 + r.pick(3), 4 + r.pick(3));
    let input = TensorInfo { name: "x".into(), shape: vec![1, c, h, w] };
    let mut b = GraphBuilder {
        g: Graph {
            name: "random".into(),
            tensors: vec![input],
            nodes: vec![],
            input: TensorId(0),
            outputs: vec![],
            rewrites: vec![],
        },
    };
    let mut t = TensorId(0);
    for &op in ops {
        let s = b.shape(t);
        let (ch, hh, ww) = (s[1], s[2], s[3]);
        let small = hh.min(ww);
        t = match op % 10 {
            0 | 1 => {
                let k = 1 + r.pick(small.min(3));
                let pad = r.pick(2);
                let stride = 1 + r.pick(2);
                let co = 1 + r.pick(3);
                let bias = Some(Array1::from_shape_fn(co, |_| r.next_value() * 0.2));
                // Op 1: a transposed convolution every other time.
                if op % 10 == 1 && r.pick(2) == 0 {
                    let weight = Array4::from_shape_fn((ch, co, k, k), |_| r.next_value() * 0.8);
                    let output_padding = [r.pick(stride), r.pick(stride)];
                    // Padding below the kernel: a 1x1 kernel with padding 1 over a 1x1 input
                    // would leave no output.
                    let pads = [pad.min(k - 1); 4];
                    let window = TransposedWindow { kernel: [k, k], stride: [stride; 2], pads, output_padding };
                    b.push(Op::ConvTranspose2d(ConvTranspose2d { weight, bias, window }), t)
                } else {
                    let weight = Array4::from_shape_fn((co, ch, k, k), |_| r.next_value() * 0.8);
                    let window = Window2d { kernel: [k, k], stride: [stride, stride], pads: [pad; 4] };
                    b.push(Op::Conv2d(Conv2d { weight, bias, window }), t)
                }
            }
            2 => b.push(Op::Relu, t),
            3 if small >= 2 => {
                let window = Window2d { kernel: [2, 2], stride: [1 + r.pick(2); 2], pads: [r.pick(2); 4] };
                b.push(Op::MaxPool(window), t)
            }
            4 if small >= 2 => {
                let window = Window2d { kernel: [2, 2], stride: [1, 1], pads: [r.pick(2); 4] };
                b.push(Op::AveragePool(AveragePool { window, count_include_pad: r.pick(2) == 1 }), t)
            }
            5 => b.push(Op::LeakyRelu { alpha: 0.25 }, t),
            6 => match r.pick(2) {
                // A clamp from 0 (a QDQ pair with a Relu folded in) on every other tensor.
                0 => {
                    let min = if t.0.is_multiple_of(2) { 0.0 } else { -0.5 };
                    b.push(Op::Clip(Clip { min: Some(min), max: Some(0.75) }), t)
                }
                _ => b.push(Op::Upsample(Upsample { factors: [1 + r.pick(2), 1 + r.pick(2)] }), t),
            },
            7 => match r.pick(4) {
                // Log only of Exp's positive outputs: calibration refuses Log's -inf and NaN.
                0 => b.push(Op::Exp, t),
                1 => {
                    let e = b.push(Op::Exp, t);
                    b.push(Op::Log, e)
                }
                // A product of two activations: SiLU, `x · Sigmoid(x)`, and a square.
                2 => {
                    let gate = b.push(Op::Sigmoid, t);
                    b.push_many(Op::Mul, vec![t, gate])
                }
                _ => b.push_many(Op::Mul, vec![t, t]),
            },
            8 => b.push(Op::Erf, t),
            9 => b.push(Op::Gelu { tanh: r.pick(2) == 1 }, t),
            _ => {
                let c = ArrayD::from_shape_fn(IxDyn(&[ch, 1, 1]), |_| r.next_value());
                if r.pick(2) == 0 { b.push(Op::MulConstant(c), t) } else { b.push(Op::AddConstant(c), t) }
            }
        };
    }
    let n: usize = b.shape(t).iter().product();
    t = b.push(Op::Reshape(Reshape { shape: vec![1, n] }), t);
    let weight = Array2::from_shape_fn((4, n), |_| r.next_value() * 0.5);
    t = b.push(Op::Dense(Dense { weight, bias: Some(Array1::from_shape_fn(4, |_| r.next_value() * 0.1)) }), t);
    t = match tail % 4 {
        0 => b.push(Op::ArgMax(ArgMax { axis: 1, keepdims: true }), t),
        1 => b.push(Op::Softmax(Softmax { axis: 1 }), t),
        2 => b.push(Op::Sigmoid, t),
        _ => t,
    };
    b.g.outputs = vec![t];
    // Clamps up to the layer they read or after max pooling, as import places them.
    crate::optimize::place_clamps(b.g)
}

/// A random graph quantized with `activation_bits` on six random samples; returns the model
/// and the samples (prove the first).
pub fn random_model(seed: u64, ops: &[u8], tail: u8, activation_bits: u32) -> (QuantizedModel, Vec<ArrayD<f32>>) {
    random_model_with(seed, ops, tail, &QuantSettings { activation_bits, ..QuantSettings::default() })
}

/// [`random_model`] quantized with any settings (a table-size limit, say).
pub fn random_model_with(
    seed: u64,
    ops: &[u8],
    tail: u8,
    settings: &QuantSettings,
) -> (QuantizedModel, Vec<ArrayD<f32>>) {
    let graph = random_graph(seed, ops, tail);
    let shape = graph.tensor(graph.input).shape.clone();
    let mut r = Rng(seed ^ 0x5eed);
    let samples: Vec<ArrayD<f32>> = (0..6).map(|_| ArrayD::from_shape_fn(IxDyn(&shape), |_| r.next_value())).collect();
    let model = quantize(&graph, &samples, settings).expect("random models quantize");
    (model, samples)
}

#[cfg(test)]
mod tests {
    use super::{random_graph, random_model};

    /// The op chains the property tests draw: one to three ops of ten kinds.
    fn chains() -> impl Iterator<Item = Vec<u8>> {
        (1..=3u32).flat_map(|len| {
            (0..10u32.pow(len)).map(move |code| (0..len).map(|i| (code / 10u32.pow(i) % 10) as u8).collect())
        })
    }

    /// Every chain builds valid shapes, over many seeds: the generator never asks for a layer
    /// without output. Seed 2828044536860460722 with a convolution then a transposed one once
    /// drew a 1x1 transposed kernel with padding 1 over a 1x1 input (an output of -1 rows).
    #[test]
    fn every_drawn_chain_has_valid_shapes() {
        for seed in (0..256u64).chain([2828044536860460722]) {
            for ops in chains() {
                let g = std::panic::catch_unwind(|| random_graph(seed, &ops, 0));
                assert!(g.is_ok(), "seed {seed}, ops {ops:?}");
            }
        }
    }

    /// Every chain quantizes, with each output op and the activation widths the property tests
    /// draw, for a few seeds.
    #[test]
    fn every_drawn_chain_quantizes() {
        for seed in 0..6u64 {
            let activation_bits = 8 + (seed % 3) as u32;
            for ops in chains() {
                for tail in 0..4 {
                    let m = std::panic::catch_unwind(|| random_model(seed, &ops, tail, activation_bits));
                    assert!(m.is_ok(), "seed {seed}, ops {ops:?}, tail {tail}");
                }
            }
        }
    }
}
