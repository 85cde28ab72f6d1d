//! Clamps placed where the circuit computes them cheaply. A clamp (Clip, or a QDQ pair's
//! FakeQuantize: rounding onto a grid, then clamping) never decreases, so it commutes with a
//! maximum (`max_i c(x_i) = c(max_i x_i)`, exactly, in floats and in integers) and, as an
//! elementwise op, with a reshape; a clamp around 0 (`c(0) = 0`) also commutes with a Relu.
//!
//! - A clamp around 0 that reads a layer's output (Dense, Conv, ConvTranspose) through max
//!   pooling, reshapes and Relus moves up to right after the layer: the layer's rescale row can
//!   compute it there at no row of its own (onnxruntime's QOperator models leave it after the
//!   pooling and the flattening, QDQ models after a Relu). Moved past a Relu, its lower bound
//!   becomes 0 (`relu(c(x)) = c'(x)` for the clamp `c'` from 0 with `c`'s upper bound, exactly,
//!   also for a QDQ pair: its smallest integer becomes its zero point), and the Relu stays (the
//!   values it reads are then never negative).
//! - Any other clamp that feeds only a MaxPool moves after it: it then clamps one value per
//!   window instead of every value. A clamp from 0 leaves a Relu in its place (which the layer
//!   before it computes in its rescale at no cost), so only the upper bound moves.

use crate::graph::ops::{Clip, FakeQuantize};
use crate::graph::{Graph, Node, Op, Rewrite, RewriteAction, TensorId, TensorInfo};

/// Moves clamps around 0 up to the layer they read, then every other clamp that feeds only a
/// MaxPool to after it.
pub(crate) fn place_clamps(graph: &mut Graph) {
    while raise_one(graph) {}
    while sink_one(graph) {}
}

fn readers(graph: &Graph, t: TensorId) -> usize {
    graph.nodes.iter().filter(|n| n.inputs.contains(&t)).count() + usize::from(graph.outputs.contains(&t))
}

fn is_layer(op: &Op) -> bool {
    matches!(op, Op::Dense(_) | Op::Conv2d(_) | Op::ConvTranspose2d(_))
}

/// The layer whose output the clamp at `clamp` reads through single-reader max pools, reshapes
/// and Relus.
struct LayerBelow {
    /// The layer's node index.
    layer: usize,
    /// Ops between the layer and the clamp.
    steps: usize,
    /// Whether one of them is a Relu.
    through_relu: bool,
}

fn layer_below(graph: &Graph, clamp: usize) -> Option<LayerBelow> {
    let around = clamp_around_zero(&graph.nodes[clamp].op)?;
    if !around.contains_zero {
        return None;
    }
    let mut t = graph.nodes[clamp].inputs[0];
    let (mut steps, mut through_relu) = (0, false);
    loop {
        let at = graph.nodes.iter().position(|n| n.output == t)?;
        if readers(graph, t) != 1 {
            return None;
        }
        match graph.nodes[at].op {
            Op::MaxPool(_) | Op::Reshape(_) => {}
            Op::Relu => through_relu = true,
            ref op if is_layer(op) => return Some(LayerBelow { layer: at, steps, through_relu }),
            _ => return None,
        }
        t = graph.nodes[at].inputs[0];
        steps += 1;
    }
}

fn raise_one(graph: &mut Graph) -> bool {
    for clamp in 0..graph.nodes.len() {
        let Some(LayerBelow { layer, steps, through_relu }) = layer_below(graph, clamp) else { continue };
        let clamped = graph.nodes[clamp].output;
        if steps == 0 || graph.outputs.contains(&clamped) {
            continue;
        }
        if through_relu {
            match &mut graph.nodes[clamp].op {
                Op::Clip(c) => c.min = Some(0.0),
                Op::FakeQuantize(q) => q.qmin = q.zero_point,
                _ => unreachable!("layer_below accepts clamps only"),
            }
        }
        // The clamp keeps its output tensor, now of the layer's shape, between the layer and
        // the op that read the layer; the clamp's readers read the clamp's former input.
        let (below, layer_out) = (graph.nodes[clamp].inputs[0], graph.nodes[layer].output);
        let mut node = graph.nodes.remove(clamp);
        for n in &mut graph.nodes {
            n.inputs.iter_mut().filter(|i| **i == clamped).for_each(|i| *i = below);
            n.inputs.iter_mut().filter(|i| **i == layer_out).for_each(|i| *i = clamped);
        }
        graph.tensors[clamped.0].shape = graph.tensors[layer_out.0].shape.clone();
        node.inputs = vec![layer_out];
        graph.rewrites.push(Rewrite {
            node: node.name.clone(),
            op_type: node.op.kind().to_string(),
            action: RewriteAction::MovedUpTo(graph.nodes[layer].name.clone()),
        });
        graph.nodes.insert(layer + 1, node);
        return true;
    }
    false
}

/// What kind of clamp `op` is, if it is one.
#[derive(Clone, Copy)]
struct ClampKind {
    /// Its lower bound is exactly 0.
    from_zero: bool,
    /// It maps 0 to 0 (its range contains 0).
    contains_zero: bool,
}

fn clamp_around_zero(op: &Op) -> Option<ClampKind> {
    match op {
        Op::Clip(Clip { min, max }) => Some(ClampKind {
            from_zero: *min == Some(0.0),
            contains_zero: min.is_none_or(|m| m <= 0.0) && max.is_none_or(|m| m >= 0.0),
        }),
        Op::FakeQuantize(FakeQuantize { zero_point, qmin, qmax, .. }) => {
            Some(ClampKind { from_zero: zero_point == qmin, contains_zero: qmin <= zero_point && zero_point <= qmax })
        }
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
        let Some(kind) = clamp_around_zero(&graph.nodes[clamp_at].op) else { continue };
        if layer_below(graph, clamp_at).is_some() {
            continue; // right after its layer already: the layer's rescale can compute it
        }
        let from_zero = kind.from_zero;
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
            place_clamps(&mut after);
            let kinds: Vec<&str> = after.nodes.iter().map(|n| n.op.kind()).collect();
            assert_eq!(kinds, ops);
            assert_eq!(after.rewrites[0].action, RewriteAction::MovedAfter("pool".into()));
            let y = |g: &Graph| g.evaluate(x.clone()).get(g.outputs[0]).clone();
            assert_eq!(y(&before), y(&after), "{ops:?}");
        }
    }

    /// `x -> Conv -> MaxPool -> Reshape -> clamp -> Exp`.
    fn layer_pool_reshape_clamp(clamp: Op) -> Graph {
        use crate::graph::ops::{Conv2d, Reshape};
        let mut g = clamped_pool(clamp.clone());
        let weight = ndarray::Array4::from_shape_fn((1, 1, 1, 1), |_| -0.8f32);
        let window = Window2d { kernel: [1, 1], stride: [1, 1], pads: [0; 4] };
        g.nodes[0].op = Op::Conv2d(Conv2d { weight, bias: None, window });
        g.nodes[0].name = "conv".into();
        g.tensors.push(TensorInfo { name: "flat".into(), shape: vec![1, 4] });
        g.tensors.push(TensorInfo { name: "clamped".into(), shape: vec![1, 4] });
        g.tensors.push(TensorInfo { name: "out".into(), shape: vec![1, 4] });
        let node = |name: &str, op: Op, input: usize, output: usize| Node {
            name: name.into(),
            op,
            inputs: vec![TensorId(input)],
            output: TensorId(output),
        };
        g.nodes.push(node("flatten", Op::Reshape(Reshape { shape: vec![1, 4] }), 2, 3));
        g.nodes.push(node("clamp", clamp, 3, 4));
        g.nodes.push(node("exp", Op::Exp, 4, 5));
        g.outputs = vec![TensorId(5)];
        g
    }

    /// A clamp around 0 read through a pool and a reshape moves up to the convolution, same results.
    #[test]
    fn a_clamp_around_zero_moves_up_to_the_layer_it_reads() {
        let qdq = Op::FakeQuantize(FakeQuantize { scale: 0.05, zero_point: 10, qmin: -128, qmax: 127 });
        for clamp in
            [Op::Clip(Clip { min: Some(0.0), max: Some(0.7) }), Op::Clip(Clip { min: Some(-0.2), max: None }), qdq]
        {
            let mut g = layer_pool_reshape_clamp(clamp.clone());
            let before = g.clone();
            place_clamps(&mut g);
            let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
            assert_eq!(kinds, ["Conv2d", clamp.kind(), "MaxPool", "Reshape", "Exp"]);
            assert_eq!(g.rewrites[0].action, RewriteAction::MovedUpTo("conv".into()));
            assert_eq!(g.nodes[1].inputs, [g.nodes[0].output]);
            assert_eq!(g.tensors[g.nodes[1].output.0].shape, [1, 1, 4, 4]);
            let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (0..16).map(|i| (i as f32 - 7.3) * 0.37).collect())
                .expect("16 values");
            let y = |g: &Graph| g.evaluate(x.clone()).get(g.outputs[0]).clone();
            assert_eq!(y(&before), y(&g), "{clamp:?}");
        }
        // A clamp that does not hold 0 (Clip from 0.1) stays where it is.
        let mut g = layer_pool_reshape_clamp(Op::Clip(Clip { min: Some(0.1), max: Some(0.7) }));
        let before = g.clone();
        place_clamps(&mut g);
        assert_eq!(g, before);
    }

    /// `x -> Conv -> Relu -> int8 QDQ pair -> Exp`: the pair moves before the Relu with its
    /// lower bound at 0 (its smallest integer the zero point), same results.
    #[test]
    fn a_clamp_after_a_relu_moves_before_it_from_zero() {
        use crate::graph::ops::Conv2d;
        let t = |name: &str| TensorInfo { name: name.into(), shape: vec![1, 1, 4, 4] };
        let node = |name: &str, op: Op, input: usize| Node {
            name: name.into(),
            op,
            inputs: vec![TensorId(input)],
            output: TensorId(input + 1),
        };
        let conv = Op::Conv2d(Conv2d {
            weight: ndarray::Array4::from_elem((1, 1, 1, 1), 0.9f32),
            bias: None,
            window: Window2d { kernel: [1, 1], stride: [1, 1], pads: [0; 4] },
        });
        let qdq = FakeQuantize { scale: 0.02, zero_point: 0, qmin: -128, qmax: 127 };
        let mut g = Graph {
            name: "g".into(),
            tensors: vec![t("x"), t("h"), t("a"), t("q"), t("y")],
            nodes: vec![
                node("conv", conv, 0),
                node("relu", Op::Relu, 1),
                node("qdq", Op::FakeQuantize(qdq), 2),
                node("exp", Op::Exp, 3),
            ],
            input: TensorId(0),
            outputs: vec![TensorId(4)],
            rewrites: vec![],
        };
        let before = g.clone();
        place_clamps(&mut g);
        let kinds: Vec<&str> = g.nodes.iter().map(|n| n.op.kind()).collect();
        assert_eq!(kinds, ["Conv2d", "FakeQuantize", "Relu", "Exp"]);
        assert_eq!(g.nodes[1].op, Op::FakeQuantize(FakeQuantize { qmin: 0, ..qdq }));
        let x = ArrayD::from_shape_vec(IxDyn(&[1, 1, 4, 4]), (0..16).map(|i| (i as f32 - 7.3) * 0.41).collect())
            .expect("16 values");
        let y = |g: &Graph| g.evaluate(x.clone()).get(g.outputs[0]).clone();
        assert_eq!(y(&before), y(&g));
        assert!(y(&g).iter().any(|&v| v > 1.0) && y(&g).iter().any(|&v| v == 1.0), "both sides of the zero");
    }

    /// A clamp around 0 right after a layer stays there instead of moving after the pool.
    #[test]
    fn a_clamp_after_a_layer_stays_before_the_pool() {
        use crate::graph::ops::Conv2d;
        let mut g = clamped_pool(Op::Clip(Clip { min: Some(0.0), max: Some(0.7) }));
        let conv = Op::Conv2d(Conv2d {
            weight: ndarray::Array4::from_elem((1, 1, 1, 1), 0.5f32),
            bias: None,
            window: Window2d { kernel: [1, 1], stride: [1, 1], pads: [0; 4] },
        });
        g.tensors.insert(0, TensorInfo { name: "input".into(), shape: vec![1, 1, 4, 4] });
        for n in &mut g.nodes {
            n.inputs.iter_mut().for_each(|i| i.0 += 1);
            n.output.0 += 1;
        }
        g.outputs = vec![TensorId(3)];
        g.nodes.insert(0, Node { name: "conv".into(), op: conv, inputs: vec![TensorId(0)], output: TensorId(1) });
        g.input = TensorId(0);
        let before = g.clone();
        place_clamps(&mut g);
        assert_eq!(g, before);
    }

    #[test]
    fn a_clamp_with_another_reader_stays() {
        let mut g = clamped_pool(Op::Clip(Clip { min: Some(0.0), max: Some(1.0) }));
        g.outputs.push(TensorId(1));
        let before = g.clone();
        place_clamps(&mut g);
        assert_eq!(g, before);
    }
}
