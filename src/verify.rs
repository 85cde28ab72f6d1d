//! `zkinfer verify`: check a proof against a compiled model or a verification bundle; non-zero
//! exit on rejection.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use zkinfer_verifier::format::{ArtifactKind, peek_kind};
use zkinfer_verifier::params::VerifierParams;
use zkinfer_verifier::{CompiledModel, VerificationBundle, Verified, Verifier, VerifierChoice};

use crate::artifacts::{ParamsArgs, params, read_proof};
use crate::progress::Progress;
use crate::report::{self, Timing, secs};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The compiled model (`zkinfer compile`, `.zkm`) or a verification bundle
    /// (`zkinfer export-verifier`, `.zkv`: needs no params cache).
    model: PathBuf,
    /// The proof (`zkinfer prove`).
    proof: PathBuf,
    #[command(flatten)]
    params: ParamsArgs,
    /// Which verifier: own (zkinfer's, from the bundle's verifying key: no keygen) or stock
    /// (halo2's keygen from the model, then its verifier; with a bundle it also checks that the
    /// bundle's key is the one keygen gives). With a compiled model instead of a bundle, own
    /// runs zkinfer's keygen first.
    #[arg(long, default_value = "own")]
    verifier: VerifierChoice,
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
    let bytes = std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let envelope = read_proof(&args.proof)?;
    let mut timings = Vec::new();
    let verifier = if peek_kind(&bytes) == Some(ArtifactKind::Bundle) {
        let (verifier, took) = progress.step("loading the bundle and its verifying key", || {
            Verifier::from_bundle_with(VerificationBundle::from_bytes(&bytes)?, args.verifier)
        });
        timings.push(Timing { step: "bundle and verifying key", seconds: secs(took) });
        verifier.with_context(|| format!("{} is not a usable verification bundle", args.model.display()))?
    } else {
        let compiled = CompiledModel::from_bytes(&bytes)
            .with_context(|| format!("{} is not a usable compiled model", args.model.display()))?;
        let (loaded, params_took) = params(&args.params.cache(), compiled.k, &progress)?;
        let (verifier, vk_took) = progress.step("rebuilding the verifying key", || -> anyhow::Result<_> {
            Ok(match args.verifier {
                VerifierChoice::Stock => Verifier::new(compiled, loaded.params, loaded.hash)?,
                VerifierChoice::Own => {
                    let commitments = zkinfer_prover::key_commitments(&compiled, &loaded.params)?;
                    let params = VerifierParams::from_params(&loaded.params, compiled.public_len())?;
                    Verifier::with_commitments(compiled, params, loaded.hash, commitments)?
                }
            })
        });
        timings.push(Timing { step: "params", seconds: secs(params_took) });
        timings.push(Timing { step: "verifying key", seconds: secs(vk_took) });
        verifier.context("the model cannot be verified")?
    };
    let (result, verify_took) = progress.step("verifying", || verifier.verify(&envelope));
    timings.push(Timing { step: "verify", seconds: secs(verify_took) });
    let result = result.context("REJECTED")?;
    let report =
        VerifyReport { verified: true, predicted_class: result.predicted.as_ref().map(|p| p.class), result, timings };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        report::print_outputs(&report.result.outputs);
        if let Some(label) = report.result.predicted.as_ref().and_then(|p| p.label.as_ref()) {
            println!("label: {label}");
        }
        println!("circuit {}", report.result.circuit_identity);
        println!("VERIFIED");
    }
    Ok(())
}
