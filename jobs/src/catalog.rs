//! The models a proving service knows: every `NAME.zkm` (`zkinfer compile`) in a directory,
//! with its key file `NAME.zkkey` (`zkinfer setup`) when there is one. Jobs name a model by its
//! circuit identity (hex) or by `NAME`; the queue stores the identity.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::ArrayD;
use zkinfer_models::data::InputData;
use zkinfer_prover::key_file::KeyFile;
use zkinfer_prover::params::ParamsCache;
use zkinfer_verifier::params::VerifierParams;
use zkinfer_verifier::{CompiledModel, Verifier, hex};

/// Compiled models are this file type.
pub const MODEL_EXTENSION: &str = "zkm";
/// Key files are this file type.
pub const KEY_EXTENSION: &str = "zkkey";

/// A models directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The directory or a file in it cannot be read.
    #[error("reading {path}: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A file is not a usable compiled model or key file.
    #[error("{path} is not usable: {message}")]
    File {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No compiled model in the directory.
    #[error("{0} holds no compiled model (*.{MODEL_EXTENSION}); compile one with `zkinfer compile`")]
    Empty(PathBuf),
    /// Two files are the same circuit.
    #[error("{0} and {1} are the same circuit (identity {2})")]
    Duplicate(String, String, String),
}

/// A model file and its key file, as read from the directory.
#[derive(Debug)]
pub struct ModelFile {
    /// File name without extension.
    pub name: String,
    /// The compiled model.
    pub compiled: CompiledModel,
    /// Its key file's head, when there is one.
    pub key: Option<KeyFile>,
    /// Where its key file is (or would be).
    pub key_path: PathBuf,
}

/// Reads every compiled model in `dir` (sorted by name) and the head of its key file
/// ([`KeyFile::read_head`]: what the file is bound to and the commitments, without reading
/// hundreds of megabytes of polynomials per model; a worker's prover decodes them from
/// [`ModelFile::key_path`] as it reads them).
pub fn read_dir(dir: &Path) -> Result<Vec<ModelFile>, CatalogError> {
    let io = |path: &Path, e: std::io::Error| CatalogError::Io { path: path.to_owned(), message: e.to_string() };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == MODEL_EXTENSION))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(CatalogError::Empty(dir.to_owned()));
    }
    let unusable = |path: &Path, message: String| CatalogError::File { path: path.to_owned(), message };
    paths
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
            let compiled = CompiledModel::from_bytes(&bytes).map_err(|e| unusable(&path, e.to_string()))?;
            let key_path = path.with_extension(KEY_EXTENSION);
            let key = match std::fs::symlink_metadata(&key_path) {
                Ok(_) => Some(KeyFile::read_head(&key_path).map_err(|e| unusable(&key_path, e.to_string()))?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&key_path, e)),
            };
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(ModelFile { name, compiled, key, key_path })
        })
        .collect()
}

/// One model a service accepts jobs for.
#[derive(Debug)]
pub struct CatalogEntry {
    /// File name without extension.
    pub name: String,
    /// Circuit identity, hex (what the queue stores).
    pub identity: String,
    /// The compiled model (its interpreter checks inputs at submission).
    pub compiled: CompiledModel,
}

impl CatalogEntry {
    /// The model's input shape.
    pub fn input_shape(&self) -> &[usize] {
        &self.compiled.model.tensor(self.compiled.model.input).shape
    }

    /// Checks an input as `prove` would (one sample of the input's shape, every value in the
    /// calibrated range, every intermediate value in its tensor's range) and returns the sample.
    pub fn check_input(&self, input: &InputData) -> Result<ArrayD<f32>, String> {
        let mut samples = input.samples(self.input_shape()).map_err(|e| e.to_string())?;
        if samples.len() != 1 {
            return Err(format!("the input holds {} samples; a job proves exactly one", samples.len()));
        }
        let sample = samples.remove(0);
        self.compiled.model.run(&sample).map_err(|e| e.to_string())?;
        Ok(sample)
    }
}

/// The models of a directory, by name and identity.
#[derive(Debug, Clone)]
pub struct Catalog {
    entries: Arc<Vec<CatalogEntry>>,
}

impl Catalog {
    /// Loads `dir`: each model's identity comes from its key file (checked against the model and
    /// the params) or, without one, from zkinfer's keygen with the cached params.
    pub fn load(dir: &Path, params: &ParamsCache, progress: &dyn Fn(&str)) -> Result<Self, CatalogError> {
        let files = read_dir(dir)?;
        let mut entries: Vec<CatalogEntry> = Vec::with_capacity(files.len());
        for file in files {
            let path = dir.join(format!("{}.{MODEL_EXTENSION}", file.name));
            let unusable = |message: String| CatalogError::File { path: path.clone(), message };
            let loaded = params.load_or_generate(file.compiled.k).map_err(|e| unusable(e.to_string()))?;
            let identity = match &file.key {
                Some(key) => {
                    key.check(&file.compiled, &loaded.hash).map_err(|e| unusable(e.to_string()))?;
                    key.circuit_identity
                }
                None => {
                    progress(&format!("{}: computing the verifying key (no {KEY_EXTENSION} file)", file.name));
                    let commitments = zkinfer_prover::key_commitments(&file.compiled, &loaded.params)
                        .map_err(|e| unusable(e.to_string()))?;
                    let verifier_params = VerifierParams::from_params(&loaded.params, file.compiled.public_len())
                        .map_err(|e| unusable(e.to_string()))?;
                    Verifier::with_commitments(file.compiled.clone(), verifier_params, loaded.hash, commitments)
                        .map_err(|e| unusable(e.to_string()))?
                        .identity()
                }
            };
            let identity = hex(&identity);
            if let Some(other) = entries.iter().find(|e| e.identity == identity) {
                return Err(CatalogError::Duplicate(other.name.clone(), file.name, identity));
            }
            entries.push(CatalogEntry { name: file.name, identity, compiled: file.compiled });
        }
        Ok(Self { entries: Arc::new(entries) })
    }

    /// The model named by identity (hex, any case) or by file name.
    pub fn find(&self, model: &str) -> Option<&CatalogEntry> {
        let lower = model.to_ascii_lowercase();
        self.entries.iter().find(|e| e.identity == lower).or_else(|| self.entries.iter().find(|e| e.name == model))
    }

    /// Every model.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }
}
