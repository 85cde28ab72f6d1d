//! `zkinfer export-verifier`: write the verification bundle (`.zkv`) of a compiled model: the
//! circuit description, the params for its `k`, the verifying key's commitments, the circuit
//! identity, and the outputs' scales and labels. Everything a verifier needs, nothing a prover
//! needs. The key comes from zkinfer's keygen, and the bundle is written only if halo2's keygen
//! gives the same key for the bundle's model.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use zkinfer_prover::params::LoadedParams;
use zkinfer_verifier::bundle::MAX_LABEL_BYTES;
use zkinfer_verifier::plonk::PreparedKey;
use zkinfer_verifier::{CompiledModel, VerificationBundle, Verifier, VerifierChoice, circuit_identity, hex};

use crate::artifacts::{ParamsArgs, params, read_compiled, write};
use crate::progress::Progress;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The compiled model (`zkinfer compile`).
    model: PathBuf,
    /// Where to write the bundle.
    #[arg(short, long, default_value = "model.zkv")]
    output: PathBuf,
    /// Class labels of the first output as a JSON array of strings, one per class
    /// (e.g. `["zero", "one", ...]`).
    #[arg(long)]
    labels: Option<PathBuf>,
    #[command(flatten)]
    params: ParamsArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct ExportReport {
    bundle: String,
    bytes: usize,
    circuit_identity: String,
    k: u32,
    params_hash: String,
}

fn read_labels(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let labels: Vec<String> =
        serde_json::from_str(&text).with_context(|| format!("{} is not a JSON array of strings", path.display()))?;
    if let Some(long) = labels.iter().find(|l| l.len() > MAX_LABEL_BYTES) {
        bail!("label '{long}' is longer than {MAX_LABEL_BYTES} bytes");
    }
    Ok(labels)
}

/// The bundle of `compiled` and its bytes: the verifying key from zkinfer's keygen, the identity
/// from the key and model (not checked against halo2's keygen here).
pub fn build_bundle(
    compiled: CompiledModel,
    loaded: LoadedParams,
    labels: &[Vec<String>],
) -> anyhow::Result<(VerificationBundle, Vec<u8>)> {
    let commitments = zkinfer_prover::key_commitments(&compiled, &loaded.params).context("keygen")?;
    let key = PreparedKey::new(compiled.layout, compiled.k, commitments.clone()).context("the verifying key")?;
    let identity = circuit_identity(key.pinned_text(), &compiled);
    let bundle = VerificationBundle::new(compiled, &loaded.params, loaded.hash, commitments, identity, labels)?;
    let bytes = bundle.to_bytes()?;
    Ok((bundle, bytes))
}

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.json);
    let compiled = read_compiled(&args.model)?;
    let labels = args.labels.as_ref().map(read_labels).transpose()?.into_iter().collect::<Vec<_>>();
    let (loaded, _) = params(&args.params.cache(), compiled.k, &progress)?;
    let (bundle, _) = progress.step("computing the verifying key", || build_bundle(compiled, loaded, &labels));
    let (bundle, bytes) = bundle?;
    // Check what we wrote the way a verifier will read it (labels included), and the key data
    // against halo2's keygen for the bundle's model.
    let (checked, _) = progress.step("checking the bundle against halo2's keygen", || {
        Verifier::from_bundle_with(VerificationBundle::from_bytes(&bytes)?, VerifierChoice::Stock)
    });
    checked.context("the bundle does not check")?;
    let identity = bundle.circuit_identity;
    write(&args.output, &bytes)?;
    let report = ExportReport {
        bundle: args.output.display().to_string(),
        bytes: bytes.len(),
        circuit_identity: hex(&identity),
        k: bundle.compiled.k,
        params_hash: hex(&bundle.params_hash),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("circuit identity: {}", report.circuit_identity);
        println!("wrote {} ({} bytes, k = {})", report.bundle, report.bytes, report.k);
    }
    Ok(())
}
