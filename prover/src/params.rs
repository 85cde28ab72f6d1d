//! The params cache: params are generated once per `k` (slow: about 20 s at k = 14 on two cores)
//! and kept on disk; loading checks the content hash (well under a second).
//!
//! Directory: `$ZKINFER_PARAMS_DIR` if set, else `$XDG_CACHE_HOME/zkinfer/params`, else
//! `$HOME/.cache/zkinfer/params`, else `.zkinfer-params` in the working directory. One file per
//! `k`: `ipa-pasta-k{k}.zkpar`, written atomically.

use std::path::{Path, PathBuf};

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;
use zkinfer_circuits::MAX_K;
use zkinfer_engine::params::ParamsData;
use zkinfer_verifier::Digest;
use zkinfer_verifier::params::{ParamsError, check_params_bytes, encode_params, params_from_bytes};

/// Params cache failures.
#[derive(Debug, thiserror::Error)]
pub enum ParamsCacheError {
    /// `k` above the cap.
    #[error("k = {k} exceeds the maximum supported k = {max} (params alone would take minutes and gigabytes)")]
    TooLarge {
        /// Requested.
        k: u32,
        /// Cap.
        max: u32,
    },
    /// File system error.
    #[error("params cache {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Error.
        source: std::io::Error,
    },
    /// A cached file is corrupt.
    #[error("cached params {path} are unusable ({source}); delete the file to regenerate it")]
    Corrupt {
        /// Path.
        path: String,
        /// Why.
        source: ParamsError,
    },
}

/// Where params live.
#[derive(Clone, Debug)]
pub struct ParamsCache {
    dir: PathBuf,
}

/// Loaded params.
#[derive(Clone, Debug)]
pub struct LoadedParams {
    /// The params.
    pub params: Params<EqAffine>,
    /// Their hash.
    pub hash: Digest,
    /// The file.
    pub path: PathBuf,
    /// Whether this call generated them.
    pub generated: bool,
}

/// The points of params ([`ParamsCache::load_points`]).
#[derive(Clone, Debug)]
pub struct LoadedPoints {
    /// The points.
    pub points: ParamsData,
    /// The params' hash.
    pub hash: Digest,
    /// The file.
    pub path: PathBuf,
    /// Whether this call generated them.
    pub generated: bool,
}

impl ParamsCache {
    /// The default directory (see the module docs).
    pub fn default_dir() -> PathBuf {
        let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        env("ZKINFER_PARAMS_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("zkinfer/params")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/zkinfer/params")))
            .unwrap_or_else(|| PathBuf::from(".zkinfer-params"))
    }

    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for `k`.
    pub fn path(&self, k: u32) -> PathBuf {
        self.dir.join(format!("ipa-pasta-k{k}.zkpar"))
    }

    /// Whether params for `k` are cached.
    pub fn contains(&self, k: u32) -> bool {
        self.path(k).is_file()
    }

    /// The points of the params for `k` without halo2's `Params` (whose reading decompresses
    /// every point on one thread): read from the cache, hash-checked, each point decompressed
    /// once and in parallel ([`ParamsData::from_raw`]); generated and cached first if absent.
    pub fn load_points(&self, k: u32) -> Result<LoadedPoints, ParamsCacheError> {
        if k > MAX_K {
            return Err(ParamsCacheError::TooLarge { k, max: MAX_K });
        }
        let path = self.path(k);
        if !path.is_file() {
            let loaded = self.load_or_generate(k)?;
            let corrupt = |e: zkinfer_engine::EngineError| ParamsCacheError::Corrupt {
                path: loaded.path.display().to_string(),
                source: ParamsError::Parse(e.to_string()),
            };
            let points = ParamsData::new(&loaded.params).map_err(corrupt)?;
            return Ok(LoadedPoints { points, hash: loaded.hash, path: loaded.path, generated: true });
        }
        let corrupt = |source| ParamsCacheError::Corrupt { path: path.display().to_string(), source };
        let bytes =
            std::fs::read(&path).map_err(|source| ParamsCacheError::Io { path: path.display().to_string(), source })?;
        let checked = check_params_bytes(&bytes).map_err(corrupt)?;
        if checked.k != k {
            return Err(corrupt(ParamsError::K(checked.k)));
        }
        let points = ParamsData::from_raw(checked.raw).map_err(|e| corrupt(ParamsError::Parse(e.to_string())))?;
        Ok(LoadedPoints { points, hash: checked.hash, path, generated: false })
    }

    /// Loads params for `k`, generating and caching them first if absent.
    pub fn load_or_generate(&self, k: u32) -> Result<LoadedParams, ParamsCacheError> {
        if k > MAX_K {
            return Err(ParamsCacheError::TooLarge { k, max: MAX_K });
        }
        let path = self.path(k);
        let io = |source| ParamsCacheError::Io { path: path.display().to_string(), source };
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(io)?;
            let (params, hash) = params_from_bytes(&bytes)
                .map_err(|source| ParamsCacheError::Corrupt { path: path.display().to_string(), source })?;
            if params.k() != k {
                return Err(ParamsCacheError::Corrupt {
                    path: path.display().to_string(),
                    source: ParamsError::K(params.k()),
                });
            }
            return Ok(LoadedParams { params, hash, path, generated: false });
        }
        let params = Params::<EqAffine>::new(k);
        let (bytes, hash) = encode_params(&params);
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        // A name of its own per call: threads of one process may generate the same k at once.
        static WRITES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = self.dir.join(format!(".ipa-pasta-k{k}.{}.{write}.tmp", std::process::id()));
        std::fs::write(&tmp, &bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(LoadedParams { params, hash, path, generated: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of one process that generate the same params at once each get them, and the
    /// cache holds one file (each writes its own temporary file before the rename).
    #[test]
    fn the_points_loaded_alone_are_the_params_points() {
        let dir = std::env::temp_dir().join(format!("zkinfer-params-points-{}", std::process::id()));
        let cache = ParamsCache::new(&dir);
        // Generated on the first call, read from the file on the second.
        let generated = cache.load_points(4).expect("generates");
        let read = cache.load_points(4).expect("reads");
        let loaded = cache.load_or_generate(4).expect("reads");
        std::fs::remove_dir_all(&dir).expect("removes the temporary cache");
        assert!(generated.generated && !read.generated);
        let expected = ParamsData::new(&loaded.params).expect("points");
        for points in [&generated, &read] {
            assert_eq!(points.hash, loaded.hash);
            assert_eq!((points.points.k, &points.points.g), (4, &loaded.params.get_g()));
            assert_eq!(
                (&points.points.g_lagrange, points.points.w, points.points.u),
                (&expected.g_lagrange, expected.w, expected.u)
            );
        }
    }

    #[test]
    fn concurrent_generation_of_the_same_k_succeeds() {
        const K: u32 = 4;
        const THREADS: usize = 4;
        let dir = std::env::temp_dir().join(format!("zkinfer-params-race-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = ParamsCache::new(&dir);
        let hashes: Vec<Digest> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..THREADS).map(|_| s.spawn(|| cache.load_or_generate(K).map(|loaded| loaded.hash))).collect();
            handles.into_iter().map(|h| h.join().expect("no panic").expect("params")).collect()
        });
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "the same params from every thread");
        let files: Vec<_> =
            std::fs::read_dir(&dir).expect("cache dir").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(files, vec![std::ffi::OsString::from(format!("ipa-pasta-k{K}.zkpar"))]);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
