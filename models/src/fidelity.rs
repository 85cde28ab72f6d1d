//! Fidelity of a quantized model against its float graph over a set of samples: max and mean
//! absolute error of the outputs (in real units) and argmax agreement.

use ndarray::ArrayD;
use serde::Serialize;

use crate::graph::{Graph, Op, TensorId};
use crate::quantized::QuantizedModel;

/// Error statistics for one output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OutputFidelity {
    /// Name of the compared tensor (for an ArgMax output: its input, the scores).
    pub tensor: String,
    /// Largest absolute difference, real units.
    pub max_abs_error: f64,
    /// Mean absolute difference, real units.
    pub mean_abs_error: f64,
}

/// Fidelity over a sample set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FidelityReport {
    /// Samples compared.
    pub samples: usize,
    /// Samples the interpreter refused (value out of range); they count as disagreements.
    pub refused: usize,
    /// Per model output.
    pub outputs: Vec<OutputFidelity>,
    /// Fraction of samples whose argmax of the first output agrees.
    pub argmax_agreement: f64,
    /// Per sample: the argmax of the float model and of the quantized model (`None` if refused).
    #[serde(skip)]
    pub predictions: Vec<(usize, Option<usize>)>,
}

/// The tensor compared for an output: an ArgMax's scores rather than its index, also when the
/// index is reshaped afterwards (a classifier's label output).
fn compared_tensor(graph: &Graph, out: TensorId) -> TensorId {
    let mut t = out;
    // Each step moves to an earlier node, so the walk ends.
    while let Some(n) = graph.nodes.iter().find(|n| n.output == t) {
        match n.op {
            Op::ArgMax(_) => return n.inputs[0],
            Op::Reshape(_) => t = n.inputs[0],
            _ => break,
        }
    }
    out
}

fn argmax(v: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0
}

/// Per sample: per output (sum of abs errors, max abs error, element count), if the
/// interpreter accepted it; and the (float, quantized) argmax.
type SampleResult = (Option<Vec<(f64, f64, usize)>>, (usize, Option<usize>));

/// Compares `model` with `graph` on `samples` (which must have the input's shape).
pub fn fidelity(graph: &Graph, model: &QuantizedModel, samples: &[ArrayD<f32>]) -> FidelityReport {
    let compared: Vec<TensorId> = graph.outputs.iter().map(|&o| compared_tensor(graph, o)).collect();
    let per_sample: Vec<SampleResult> = crate::map_samples(samples, |s| {
        let float = graph.evaluate(s.clone());
        let float_pred = argmax(float.get(compared[0]).iter().map(|&v| v as f64));
        match model.run(s) {
            Err(_) => (None, (float_pred, None)),
            Ok(trace) => {
                let errs = compared
                    .iter()
                    .map(|&t| {
                        let q = model.output_real(&trace, t);
                        let f = float.get(t);
                        let diffs = q.iter().zip(f.iter()).map(|(a, b)| (a - *b as f64).abs());
                        diffs.fold((0.0, 0.0f64, 0), |(s, m, n), d| (s + d, m.max(d), n + 1))
                    })
                    .collect();
                let q_pred = argmax(model.output_real(&trace, compared[0]).iter().copied());
                (Some(errs), (float_pred, Some(q_pred)))
            }
        }
    });
    let mut outputs: Vec<OutputFidelity> = compared
        .iter()
        .map(|&t| OutputFidelity { tensor: graph.tensor(t).name.clone(), max_abs_error: 0.0, mean_abs_error: 0.0 })
        .collect();
    let mut counts = vec![0usize; compared.len()];
    let mut refused = 0;
    for (errs, _) in &per_sample {
        match errs {
            None => refused += 1,
            Some(errs) => {
                for ((o, c), (sum, max, n)) in outputs.iter_mut().zip(counts.iter_mut()).zip(errs) {
                    o.max_abs_error = o.max_abs_error.max(*max);
                    o.mean_abs_error += sum;
                    *c += n;
                }
            }
        }
    }
    for (o, c) in outputs.iter_mut().zip(counts) {
        o.mean_abs_error = if c == 0 { 0.0 } else { o.mean_abs_error / c as f64 };
    }
    let predictions: Vec<_> = per_sample.into_iter().map(|(_, p)| p).collect();
    let agree = predictions.iter().filter(|(f, q)| Some(*f) == *q).count();
    FidelityReport {
        samples: samples.len(),
        refused,
        outputs,
        argmax_agreement: if samples.is_empty() { 0.0 } else { agree as f64 / samples.len() as f64 },
        predictions,
    }
}
