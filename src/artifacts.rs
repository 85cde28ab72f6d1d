//! Reading and writing the CLI's files, with paths in every error.

use std::path::{Path, PathBuf};

use anyhow::Context;
use zkinfer_prover::params::{LoadedParams, LoadedPoints, ParamsCache};
use zkinfer_verifier::{CompiledModel, ProofEnvelope};

use crate::progress::Progress;

/// Where params are cached (flag, else the default directory).
#[derive(Debug, clap::Args)]
pub struct ParamsArgs {
    /// Params cache directory [default: $ZKINFER_PARAMS_DIR, else $XDG_CACHE_HOME/zkinfer/params, else ~/.cache/zkinfer/params].
    #[arg(long)]
    pub params_dir: Option<PathBuf>,
}

/// Which proving engine `prove` and `demo` use.
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// Proving engine: cpu (zkinfer's own), stock (halo2's create_proof) or check (both on the
    /// same randomness, refused unless byte-identical). Every proof is verified before it is written.
    #[arg(long, default_value = "cpu")]
    pub engine: zkinfer_prover::engine::EngineKind,
    /// Where the engine's MSMs and FFTs run: cpu, auto (the first hardware GPU, else the CPU),
    /// gpu (the first adapter, software ones included) or gpu:N (`zkinfer devices` lists them).
    /// A GPU that is missing or fails falls back to the CPU with one line saying why. The default
    /// stays cpu while the GPU kernels are slower than the CPU (BENCHMARKS.md).
    #[arg(long, default_value = "cpu")]
    pub device: zkinfer_prover::device::DeviceChoice,
}

impl EngineArgs {
    /// Opens the device for proofs of `model` (`auto` looks at their size first); says on
    /// stderr why a GPU is not used (for `auto`, unless quiet).
    pub fn open_device(&self, model: &CompiledModel, progress: &Progress) -> zkinfer_prover::device::ChosenDevice {
        use zkinfer_prover::device::{DeviceChoice, ProofSize, choose, choose_for};
        let chosen = match self.device {
            DeviceChoice::Auto => choose_for(DeviceChoice::Auto, ProofSize::of(model)),
            other => choose(other),
        };
        if let Some(why) = &chosen.fallback {
            match self.device {
                DeviceChoice::Auto => progress.note(&format!("device: {why}")),
                _ => eprintln!("zkinfer: device {}: {why}", self.device),
            }
        } else if chosen.backend.is_some() {
            progress.note(&format!("device: {}", chosen.description));
        }
        chosen
    }
}

impl ParamsArgs {
    pub fn cache(&self) -> ParamsCache {
        ParamsCache::new(self.params_dir.clone().unwrap_or_else(ParamsCache::default_dir))
    }
}

pub fn read_compiled(path: &Path) -> anyhow::Result<CompiledModel> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    CompiledModel::from_bytes(&bytes).with_context(|| format!("{} is not a usable compiled model", path.display()))
}

pub fn read_proof(path: &Path) -> anyhow::Result<ProofEnvelope> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ProofEnvelope::from_bytes(&bytes).with_context(|| format!("{} is not a proof file", path.display()))
}

pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Loads params for `k` from the cache, generating them (once) with a progress note.
pub fn params(cache: &ParamsCache, k: u32, progress: &Progress) -> anyhow::Result<(LoadedParams, std::time::Duration)> {
    let (params, took) = progress.step(&params_step(cache, k), || cache.load_or_generate(k));
    Ok((params?, took))
}

/// [`params`]' points alone ([`ParamsCache::load_points`]: no halo2 `Params`, each point
/// decompressed once and in parallel), for zkinfer's engine with a key file.
pub fn params_points(
    cache: &ParamsCache,
    k: u32,
    progress: &Progress,
) -> anyhow::Result<(LoadedPoints, std::time::Duration)> {
    let (points, took) = progress.step(&params_step(cache, k), || cache.load_points(k));
    Ok((points?, took))
}

/// The progress line of loading or generating params.
fn params_step(cache: &ParamsCache, k: u32) -> String {
    if cache.contains(k) {
        format!("loading params k={k} from {}", cache.dir().display())
    } else {
        format!("generating params k={k} (once; cached in {})", cache.dir().display())
    }
}
