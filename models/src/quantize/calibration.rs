//! Calibration: run the float graph on sample inputs and record each tensor's largest magnitude.

use ndarray::ArrayD;

use crate::QuantizeError;
use crate::graph::Graph;

/// Largest absolute value of every tensor over the calibration samples, by tensor id.
#[derive(Clone, Debug, PartialEq)]
pub struct CalibrationStats {
    /// Per tensor.
    pub max_abs: Vec<f64>,
    /// Number of samples seen.
    pub samples: usize,
}

/// Runs every sample through the float graph (in parallel) and collects [`CalibrationStats`].
pub fn calibrate(graph: &Graph, samples: &[ArrayD<f32>]) -> Result<CalibrationStats, QuantizeError> {
    if samples.is_empty() {
        return Err(QuantizeError::NoCalibrationData);
    }
    let expected = &graph.tensor(graph.input).shape;
    if let Some((i, s)) = samples.iter().enumerate().find(|(_, s)| s.shape() != expected.as_slice()) {
        return Err(QuantizeError::SampleShape { sample: i, expected: expected.clone(), got: s.shape().to_vec() });
    }
    let per_sample: Vec<Vec<f64>> = crate::map_samples(samples, |s| {
        let trace = graph.evaluate(s.clone());
        trace.values.iter().map(|v| v.iter().fold(0.0f64, |m, &x| nan_max(m, (x as f64).abs()))).collect()
    });
    let mut max_abs = vec![0.0f64; graph.tensors.len()];
    for s in &per_sample {
        for (m, v) in max_abs.iter_mut().zip(s) {
            *m = nan_max(*m, *v);
        }
    }
    if let Some(i) = max_abs.iter().position(|m| !m.is_finite()) {
        return Err(QuantizeError::NonFinite { tensor: graph.tensors[i].name.clone() });
    }
    Ok(CalibrationStats { max_abs, samples: samples.len() })
}

/// `max` that propagates NaN (f64::max ignores it), so non-finite values are reported.
fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}
