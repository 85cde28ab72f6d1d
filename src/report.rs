//! Printing verified outputs for people.

use serde::Serialize;
use zkinfer_verifier::VerifiedTensor;

use zkinfer_verifier::predicted_class;

/// Prints each output's real values (up to 16) and its predicted class.
pub fn print_outputs(outputs: &[VerifiedTensor]) {
    for t in outputs {
        let shown: Vec<String> = t.real.iter().take(16).map(|v| format!("{v:.4}")).collect();
        let more = if t.real.len() > 16 { format!(" ... ({} values)", t.real.len()) } else { String::new() };
        println!("output {} {:?}: [{}]{more}", t.name, t.shape, shown.join(", "));
        if let Some(c) = predicted_class(t) {
            println!("predicted class: {c}");
        }
    }
}

/// Seconds with millisecond precision for JSON.
pub fn secs(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// Timing of one step.
#[derive(Debug, Serialize)]
pub struct Timing {
    pub step: &'static str,
    pub seconds: f64,
}

/// Prints the fidelity table.
pub fn print_fidelity(f: &zkinfer_models::fidelity::FidelityReport) {
    println!("\nfidelity over {} calibration sample(s) ({} refused as out of range):", f.samples, f.refused);
    println!("{:<28} {:>14} {:>14}", "output", "max abs err", "mean abs err");
    for o in &f.outputs {
        println!("{:<28} {:>14.6} {:>14.6}", o.tensor, o.max_abs_error, o.mean_abs_error);
    }
    println!("argmax agreement with the float model: {:.2}%", 100.0 * f.argmax_agreement);
}
