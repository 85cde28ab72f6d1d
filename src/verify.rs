//! `zkinfer verify`: check a proof against a compiled model; non-zero exit on rejection.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_verifier::{Verified, Verifier};

use crate::artifacts::{ParamsArgs, params, read_compiled, read_proof};
use crate::progress::Progress;
use crate::report::{self, Timing, secs};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The compiled model (`zkinfer compile`).
    model: PathBuf,
    /// The proof (`zkinfer prove`).
    proof: PathBuf,
    #[command(flatten)]
    params: ParamsArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct VerifyReport {
    verified: bool,
    #[serde(flatten)]
    result: Verified,
    predicted_class: Option<usize>,
    timings: Vec<Timing>,
}

pub fn run(args: &VerifyArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let compiled = read_compiled(&args.model)?;
    let envelope = read_proof(&args.proof)?;
    let (loaded, params_took) = params(&args.params.cache(), compiled.k, &progress)?;
    let (verifier, vk_took) =
        progress.step("rebuilding the verifying key", || Verifier::new(compiled, loaded.params, loaded.hash));
    let verifier = verifier.context("the model cannot be verified")?;
    let (result, verify_took) = progress.step("verifying", || verifier.verify(&envelope));
    let result = result.context("REJECTED")?;
    let report = VerifyReport {
        verified: true,
        predicted_class: result.outputs.first().and_then(report::predicted_class),
        result,
        timings: vec![
            Timing { step: "params", seconds: secs(params_took) },
            Timing { step: "verifying key", seconds: secs(vk_took) },
            Timing { step: "verify", seconds: secs(verify_took) },
        ],
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print_outputs(&report.result.outputs);
        println!("circuit {}", report.result.circuit_identity);
        println!("VERIFIED");
    }
    Ok(())
}
