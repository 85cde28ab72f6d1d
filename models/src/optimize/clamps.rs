//! Clamps moved after max pooling. A clamp (Clip, or a QDQ pair's FakeQuantize: rounding onto a
//! grid, then clamping) never decreases, so it commutes with a maximum: `max_i c(x_i) =
//! c(max_i x_i)`, exactly, in floats and in integers. Applied after the pool, it clamps one value
//! per window instead of every value: onnxruntime's QDQ models put one between each convolution
//! and its pooling, and each clamped value costs a comparison row in the circuit. A clamp from 0
//! (a QDQ pair with a Relu folded in) leaves a Relu in its place, which the convolution's rescale
//! computes at no cost, so only the upper bound moves.
//!
//! A clamp from 0 that reads a layer's output through max pooling and reshapes (as onnxruntime's
//! QOperator models leave it) also gets a Relu right after the layer: a Relu commutes with both,
//! the layer's rescale computes it at no cost, and the clamp's lower bound is then known.

use crate::graph::ops::{Clip, FakeQuantize};
use crate::graph::{Graph, Node, Op, Rewrite, RewriteAction, TensorId, TensorInfo};

/// Moves every clamp that feeds only a MaxPool to after it, and gives every clamp from 0 that
/// reads a layer through pooling and reshapes a Relu after the layer.
pub(crate) fn sink_clamps_below_max_pools(graph: &mut Graph) {
    while sink_one(graph) {}
    while relu_after_layer(graph) {}
}

fn readers(graph: &Graph, t: TensorId) -> usize {
    graph.nodes.iter().filter(|n| n.inputs.contains(&t)).count() + usize::from(graph.outputs.contains(&t))
}

fn relu_after_layer(graph: &mut Graph) -> bool {
    for clamp in 0..graph.nodes.len() {
        if clamp_from_zero(&graph.nodes[clamp].op) != Some(true) {
            continue;
        }
        // Up through single-reader pools and reshapes to the layer.
        let mut t = graph.nodes[clamp].inputs[0];
        let mut steps = 0;
        let layer = loop {
            let Some(at) = graph.nodes.iter().position(|n| n.output == t) else { break None };
            if readers(graph, t) != 1 {
                break None;
            }
            match graph.nodes[at].op {
                Op::MaxPool(_) | Op::Reshape(_) => {
                    t = graph.nodes[at].inputs[0];
                    steps += 1;
                }
                Op::Dense(_) | Op::Conv2d(_) | Op::ConvTranspose2d(_) if steps > 0 => break Some(at),
                _ => break None,
            }
        };
        let Some(layer) = layer else { continue };
        let zeroed = TensorId(graph.tensors.len());
        graph.tensors.push(TensorInfo {
            name: format!("{}/zero", graph.tensors[t.0].name),
            shape: graph.tensors[t.0].shape.clone(),
        });
        for n in graph.nodes.iter_mut().filter(|n| n.inputs.contains(&t)) {
            n.inputs.iter_mut().filter(|i| **i == t).for_each(|i| *i = zeroed);
        }
        let name = graph.nodes[clamp].name.clone();
        let relu = Node { name: format!("{name}/zero"), op: Op::Relu, inputs: vec![t], output: zeroed };
        graph.nodes.insert(layer + 1, relu);
        graph.rewrites.push(Rewrite {
            node: name,
            op_type: graph.nodes[clamp + 1].op.kind().to_string(),
            action: RewriteAction::ZeroAfter(graph.nodes[layer].name.clone()),
        });
        return true;
    }
    false
}

/// Whether `op` is a clamp, and whether its lower bound is exactly 0.
fn clamp_from_zero(op: &Op) -> Option<bool> {
    match op {
        Op::Clip(Clip { min, .. }) => Some(*min == Some(0.0)),
        Op::FakeQuantize(FakeQuantize { zero_point, qmin, .. }) => Some(zero_point == qmin),
        _ => None,
    }
}

fn sink_one(graph: &mut Graph) -> bool {
    for pool_at in 0..graph.nodes.len() {
        if !matches!(graph.nodes[pool_at].op, Op::MaxPool(_)) {
            continue;
        }
        let clamped = graph.nodes[pool_at].inputs[0];
        if readers(graph, clamped) != 1 {
            continue;
        }
        let Some(clamp_at) = graph.nodes[..pool_at].iter().position(|n| n.output == clamped) else { continue };
        let Some(from_zero) = clamp_from_zero(&graph.nodes[clamp_at].op) else { continue };
        let x = graph.nodes[clamp_at].inputs[0];
        let pooled = graph.nodes[pool_at].output;
        // The pool's own result before the clamp: a new tensor of the pooled shape.
        let before_clamp = TensorId(graph.tensors.len());
        graph.tensors.push(TensorInfo {
            name: format!("{}/before {}", graph.tensors[pooled.0].name, graph.nodes[clamp_at].name),
            shape: graph.tensors[pooled.0].shape.clone(),
        });
        let mut clamp = graph.nodes.remove(clamp_at);
        let pool_at = pool_at - 1;
        let pool_input = if from_zero {
            // The Relu keeps the clamp's place and output tensor (same shape as `x`).
            let relu = Node { name: format!("{}/zero", clamp.name), op: Op::Relu, inputs: vec![x], output: clamped };
            graph.nodes.insert(clamp_at, relu);
            clamped
        } else {
            x
        };
        let pool = &mut graph.nodes[pool_at + usize::from(from_zero)];
        pool.inputs[0] = pool_input;
        pool.output = before_clamp;
        let pool_name = pool.name.clone();
        clamp.inputs = vec![before_clamp];
        clamp.output = pooled;
        graph.rewrites.push(Rewrite {
            node: clamp.name.clone(),
            op_type: clamp.op.kind().to_string(),
            action: RewriteAction::MovedAfter(pool_name),
        });
        graph.nodes.insert(pool_at + usize::from(from_zero) + 1, clamp);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};

    use super::*;
    use crate::graph::ops::Window2d;

    /// `x -> clamp -> MaxPool 2x2 -> y` over `[1, 1, 4, 4]`.
    fn clamped_pool(clamp: Op) -> Graph {
        let t = |name: &str, shape: &[usize]| TensorInfo { name: name.into(), shape: shape.to_vec() };
        let window = Window2d { kernel: [2, 2], stride: [2, 2], pads: [0; 4] };
        Graph {
            name: "g".into(),
            tensors: vec![t("x", &[1, 1, 4, 4]), t("c", &[1, 1, 4, 4]), t("y", &[1, 1, 2, 2])],
            nodes: vec![
                Node { name: "clamp".into(), op: clamp, inputs: vec![TensorId(0)], output: TensorId(1) },
                Node { name: "pool".into(), op: Op::MaxPool(window), inputs: vec![TensorId(1)], output: TensorId(2) },
            ],
            input: TensorId(0),
            outputs: vec![TensorId(2)],
            rewrites: vec![],
        }
    }

    #[test]
    fn a_clamp_moves_after_the_pool_with_the_same_results() {
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (0..16).map(|i| (i as f32 - 7.3) * 0.37).collect())
            .expect("16 values");
        let qdq_from_zero = Op::FakeQuantize(FakeQuantize { scale: 0.05, zero_point: -128, qmin: -128, qmax: 127 });
        let qdq = Op::FakeQuantize(FakeQuantize { scale: 0.03, zero_point: 3, qmin: -128, qmax: 127 });
        let clip = Op::Clip(Clip { min: Some(-1.0), max: Some(0.5) });
        for (clamp, ops) in [
            (qdq_from_zero, vec!["Relu", "MaxPool", "FakeQuantize"]),
            (qdq, vec!["MaxPool", "FakeQuantize"]),
            (clip, vec!["MaxPool", "Clip"]),
        ] {
            let before = clamped_pool(clamp);
            let mut after = before.clone();
            sink_clamps_below_max_pools(&mut after);
            let kinds: Vec<&str> = after.nodes.iter().map(|n| n.op.kind()).collect();
            assert_eq!(kinds, ops);
            assert_eq!(after.rewrites[0].action, RewriteAction::MovedAfter("pool".into()));
            let y = |g: &Graph| g.evaluate(x.clone()).get(g.outputs[0]).clone();
            assert_eq!(y(&before), y(&after), "{ops:?}");
        }
    }

    /// `x -> Conv -> MaxPool -> Reshape -> clamp from 0`: a Relu after the convolution, same results.
    #[test]
    fn a_clamp_from_zero_through_a_pool_puts_a_relu_after_the_layer() {
        use crate::graph::ops::{Conv2d, Reshape};
        let mut g = clamped_pool(Op::Clip(Clip { min: Some(0.0), max: Some(0.7) }));
        let weight = ndarray::Array4::from_shape_fn((1, 1, 1, 1), |_| -0.8f32);
        let window = Window2d { kernel: [1, 1], stride: [1, 1], pads: [0; 4] };
        g.nodes[0].op = Op::Conv2d(Conv2d { weight, bias: None, window });
        g.nodes[0].name = "conv".into();
        g.tensors.push(TensorInfo { name: "flat".into(), shape: vec![1, 4] });
        g.tensors.push(TensorInfo { name: "out".into(), shape: vec![1, 4] });
        g.nodes.push(Node {
            name: "flatten".into(),
            op: Op::Reshape(Reshape { shape: vec![1, 4] }),
            inputs: vec![TensorId(2)],
            output: TensorId(3),
        });
        g.nodes.push(Node {
            name: "clamp".into(),
            op: Op::Clip(Clip { min: Some(0.0), max: Some(0.7) }),
            inputs: vec![TensorId(3)],
            output: TensorId(4),
        });
        g.outputs = vec![TensorId(4)];
        let before = g.clone();
        sink_clamps_below_max_pools(&mut g);
        let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Conv2d", "Relu", "MaxPool", "Reshape", "Clip"]);
        assert_eq!(g.rewrites[0].action, RewriteAction::ZeroAfter("conv".into()));
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (0..16).map(|i| (i as f32 - 7.3) * 0.37).collect())
            .expect("16 values");
        let y = |g: &Graph| g.evaluate(x.clone()).get(g.outputs[0]).clone();
        assert_eq!(y(&before), y(&g));
        assert!(y(&g).iter().any(|&v| v > 0.0) && y(&g).iter().any(|&v| v == 0.0), "both sides of the zero");
    }

    #[test]
    fn a_clamp_with_another_reader_stays() {
        let mut g = clamped_pool(Op::Clip(Clip { min: Some(0.0), max: Some(1.0) }));
        g.outputs.push(TensorId(1));
        let before = g.clone();
        sink_clamps_below_max_pools(&mut g);
        assert_eq!(g, before);
    }
}
