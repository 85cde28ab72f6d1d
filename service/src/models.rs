//! The models a service verifies: one verification bundle each, with its verifying key rebuilt
//! once at start-up.

use std::path::{Path, PathBuf};

use serde::Serialize;
use zkinfer_verifier::{BundleError, OutputDescription, VerificationBundle, Verifier, hex};

/// One model: its verifier (with the kept key) and what `GET /v1/models` shows.
#[derive(Debug)]
pub struct ModelEntry {
    /// The verifier.
    pub verifier: Verifier,
    /// What the service lists.
    pub info: ModelInfo,
}

/// A model as `GET /v1/models` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    /// Circuit identity, hex.
    pub circuit_identity: String,
    /// The source model's file name.
    pub source: String,
    /// `log2` of the circuit's rows.
    pub k: u32,
    /// Number of public input values.
    pub inputs: usize,
    /// The outputs.
    pub outputs: Vec<OutputDescription>,
    /// The bundle file.
    pub bundle: String,
}

/// Why the models could not be loaded (the service does not start).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory cannot be read.
    #[error("reading {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Error.
        source: std::io::Error,
    },
    /// A bundle is unusable.
    #[error("{path}: {source}")]
    Bundle {
        /// Path.
        path: PathBuf,
        /// Error.
        source: BundleError,
    },
    /// Two bundles of the same circuit.
    #[error("{path}: a second bundle for circuit {identity}")]
    Duplicate {
        /// Path.
        path: PathBuf,
        /// Identity.
        identity: String,
    },
    /// No bundle at all.
    #[error("no verification bundles (*.zkv) in {0}")]
    Empty(PathBuf),
}

impl ModelEntry {
    /// Decodes a bundle and rebuilds its verifying key.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io { path: path.into(), source })?;
        let bundle =
            VerificationBundle::from_bytes(&bytes).map_err(|source| LoadError::Bundle { path: path.into(), source })?;
        let outputs = bundle.outputs.clone();
        let verifier =
            Verifier::from_bundle(bundle).map_err(|source| LoadError::Bundle { path: path.into(), source })?;
        let compiled = verifier.compiled();
        let info = ModelInfo {
            circuit_identity: hex(&verifier.identity()),
            source: compiled.source.clone(),
            k: compiled.k,
            inputs: compiled.model.tensor(compiled.model.input).len(),
            outputs,
            bundle: path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        };
        Ok(Self { verifier, info })
    }
}

/// Loads every `*.zkv` in `dir`, in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<ModelEntry>, LoadError> {
    let io = |source| LoadError::Io { path: dir.into(), source };
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>().map_err(io)?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "zkv"));
    paths.sort();
    let mut models: Vec<ModelEntry> = Vec::new();
    for path in paths {
        let entry = ModelEntry::load(&path)?;
        if models.iter().any(|m| m.info.circuit_identity == entry.info.circuit_identity) {
            return Err(LoadError::Duplicate { path, identity: entry.info.circuit_identity });
        }
        models.push(entry);
    }
    if models.is_empty() {
        return Err(LoadError::Empty(dir.into()));
    }
    Ok(models)
}
