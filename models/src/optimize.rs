//! Graph optimisation after import: fold per-output-channel affine ops (a BatchNormalization's
//! scale and shift, a MatMul's following bias Add, a constant Mul) into the preceding Conv2d or
//! Dense layer, place clamps (up to the layer they read, or after the max pooling they feed:
//! [`clamps`]), then drop tensors nothing uses.

mod clamps;

use ndarray::{Array1, ArrayD, Axis};

use crate::graph::{Graph, Op, Rewrite, RewriteAction, TensorId};

/// Applies every optimisation until none applies.
pub fn optimize(mut graph: Graph) -> Graph {
    while fold_one(&mut graph) {}
    place_clamps(graph)
}

/// Places clamps, then drops the tensors nothing uses: the last step of [`optimize`], and all
/// of it for random models (which have no affine ops to fold into their layers).
pub(crate) fn place_clamps(mut graph: Graph) -> Graph {
    clamps::place_clamps(&mut graph);
    compact(graph)
}

/// If a constant is a per-channel vector for a layer with `channels` outputs along `axis` of a
/// tensor of rank `rank`, returns it as one value per channel.
pub(crate) fn per_channel(c: &ArrayD<f32>, channels: usize, axis: usize, rank: usize) -> Option<Array1<f32>> {
    if c.len() == 1 {
        return Some(Array1::from_elem(channels, c.iter().copied().next().unwrap_or(0.0)));
    }
    // Align the constant's shape to the right of the tensor's shape; only `axis` may differ from 1.
    let offset = rank.checked_sub(c.ndim())?;
    let ok = c.shape().iter().enumerate().all(|(i, &d)| if i + offset == axis { d == channels } else { d == 1 });
    ok.then(|| Array1::from_iter(c.iter().copied()))
}

fn fold_one(graph: &mut Graph) -> bool {
    for i in 1..graph.nodes.len() {
        let t = graph.nodes[i].inputs[0];
        let consumers = graph.nodes.iter().filter(|n| n.inputs.contains(&t)).count();
        if consumers != 1 || graph.outputs.contains(&t) {
            continue;
        }
        let (head, tail) = graph.nodes.split_at_mut(i);
        let node = &tail[0];
        let Some(prev) = head.iter_mut().rev().find(|p| p.output == t) else {
            continue;
        };
        let rank = graph.tensors[t.0].shape.len();
        let folded = match (&mut prev.op, &node.op) {
            (Op::Dense(d), Op::MulConstant(c)) => per_channel(c, d.weight.nrows(), rank - 1, rank).map(|a| {
                for (mut row, s) in d.weight.axis_iter_mut(Axis(0)).zip(a.iter()) {
                    row *= *s;
                }
                if let Some(b) = &mut d.bias {
                    *b *= &a;
                }
            }),
            (Op::Dense(d), Op::AddConstant(c)) => per_channel(c, d.weight.nrows(), rank - 1, rank).map(|a| {
                let b = d.bias.get_or_insert_with(|| Array1::zeros(a.len()));
                *b += &a;
            }),
            (Op::Conv2d(cv), Op::MulConstant(c)) => per_channel(c, cv.weight.shape()[0], 1, rank).map(|a| {
                for (mut k, s) in cv.weight.axis_iter_mut(Axis(0)).zip(a.iter()) {
                    k *= *s;
                }
                if let Some(b) = &mut cv.bias {
                    *b *= &a;
                }
            }),
            (Op::Conv2d(cv), Op::AddConstant(c)) => per_channel(c, cv.weight.shape()[0], 1, rank).map(|a| {
                let b = cv.bias.get_or_insert_with(|| Array1::zeros(a.len()));
                *b += &a;
            }),
            _ => None,
        };
        if folded.is_some() {
            let out = node.output;
            prev.output = out;
            let rewrite = Rewrite {
                node: node.name.clone(),
                op_type: node.op.kind().to_string(),
                action: RewriteAction::MergedInto(prev.name.clone()),
            };
            graph.rewrites.push(rewrite);
            // Keep the layer's name; the folded node disappears.
            graph.nodes.remove(i);
            return true;
        }
    }
    false
}

/// Renumbers tensors so that only the input and node outputs remain, in execution order.
fn compact(mut graph: Graph) -> Graph {
    let mut map = vec![None; graph.tensors.len()];
    let mut tensors = Vec::new();
    let mut keep = |id: TensorId, tensors: &mut Vec<_>| {
        let new = TensorId(tensors.len());
        tensors.push(graph.tensors[id.0].clone());
        map[id.0] = Some(new);
    };
    keep(graph.input, &mut tensors);
    for n in &graph.nodes {
        keep(n.output, &mut tensors);
    }
    let remap = |id: TensorId| map[id.0].expect("every used tensor is an input or a node output");
    for n in &mut graph.nodes {
        n.inputs = n.inputs.iter().map(|&i| remap(i)).collect();
        n.output = remap(n.output);
    }
    graph.input = remap(graph.input);
    graph.outputs = graph.outputs.iter().map(|&o| remap(o)).collect();
    graph.tensors = tensors;
    graph
}
