//! A worker: claims jobs from the queue, proves them, stores the results. Stateless apart from
//! the proving keys it keeps loaded (one per model, built once at start); any number run
//! against one database, on any machines.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use zkinfer_models::data::InputData;
use zkinfer_prover::Prover;
use zkinfer_prover::params::ParamsCache;
use zkinfer_verifier::{VerifiedTensor, hex};

use crate::catalog::{CatalogError, read_dir};
use crate::store::{Claimed, Completion, JobError, JobErrorKind, JobStore, Lease, RetryPolicy, StoreError};

/// Largest input JSON a worker parses from the queue.
const MAX_INPUT_JSON_BYTES: usize = 16 << 20;

/// Wait between polls of an empty queue.
pub const DEFAULT_POLL: Duration = Duration::from_millis(200);

/// Longest wait between retries while the database is unreachable.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Heartbeats per lease length (a lease outlasts two missed beats).
const HEARTBEATS_PER_LEASE: u32 = 3;

/// How long a worker keeps trying to store a result, in lease lengths.
const STORE_RETRY_LEASES: u32 = 4;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The worker's name in leases (unique per process).
    pub name: String,
    /// Lease length and attempts.
    pub policy: RetryPolicy,
    /// Wait between polls of an empty queue.
    pub poll: Duration,
    /// Longest wait between retries while the database is unreachable.
    pub max_backoff: Duration,
}

impl WorkerConfig {
    /// Defaults: `host-pid-random` as the name (the host from `$HOSTNAME` or the kernel, else
    /// `worker`), the default retry policy, [`DEFAULT_POLL`], [`DEFAULT_MAX_BACKOFF`].
    pub fn new() -> Self {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "worker".into());
        let nonce: u32 = rand::random();
        Self {
            name: format!("{host}-{}-{nonce:08x}", std::process::id()),
            policy: RetryPolicy::default(),
            poll: DEFAULT_POLL,
            max_backoff: DEFAULT_MAX_BACKOFF,
        }
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// A worker could not start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The models directory.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// A model's proving key.
    #[error("{model}: {message}")]
    Keygen {
        /// The model's file name.
        model: String,
        /// Why.
        message: String,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a done job's `outputs` hold.
#[derive(Debug, Clone, Serialize)]
pub struct JobOutputs {
    /// The verified outputs, in model order.
    pub outputs: Vec<VerifiedTensor>,
    /// The class the first output predicts, when it does.
    pub predicted_class: Option<usize>,
}

/// A worker with its models' proving keys.
#[derive(Debug)]
pub struct Worker {
    store: JobStore,
    /// Proving keys by circuit identity (hex).
    provers: Arc<HashMap<String, Arc<Prover>>>,
    /// The identities, for claims (a worker claims only jobs for models it has).
    identities: Arc<Vec<String>>,
    config: WorkerConfig,
}

impl Worker {
    /// Builds a proving key for every model in `dir` (with its key file when there is one).
    pub fn load(
        store: JobStore,
        dir: &Path,
        params: &ParamsCache,
        config: WorkerConfig,
        progress: &dyn Fn(&str),
    ) -> Result<Self, WorkerError> {
        let mut provers = HashMap::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for file in read_dir(dir)? {
            let keygen = |message: String| WorkerError::Keygen { model: file.name.clone(), message };
            let how = if file.key.is_some() { "proving key from the key file" } else { "keygen" };
            progress(&format!("{}: {how} (k = {})", file.name, file.compiled.k));
            let k = file.compiled.k;
            let prover = match &file.key {
                // The params' points alone: no halo2 `Params` with a key file.
                Some(_) => {
                    let loaded = params.load_points(k).map_err(|e| keygen(e.to_string()))?;
                    let cpu = zkinfer_prover::device::ChosenDevice::cpu();
                    Prover::with_key_file_points(file.compiled, loaded.points, loaded.hash, &cpu, &file.key_path)
                }
                None => {
                    let loaded = params.load_or_generate(k).map_err(|e| keygen(e.to_string()))?;
                    Prover::new(file.compiled, loaded.params, loaded.hash)
                }
            }
            .map_err(|e| keygen(e.to_string()))?;
            let identity = hex(&prover.identity());
            if let Some(other) = names.insert(identity.clone(), file.name.clone()) {
                return Err(CatalogError::Duplicate(other, file.name, identity).into());
            }
            provers.insert(identity, Arc::new(prover));
        }
        let mut identities: Vec<String> = provers.keys().cloned().collect();
        identities.sort();
        Ok(Self { store, provers: Arc::new(provers), identities: Arc::new(identities), config })
    }

    /// Another worker of this process with the same proving keys, named `name` in leases.
    pub fn sibling(&self, name: String) -> Self {
        let config = WorkerConfig { name, ..self.config.clone() };
        Self { store: self.store.clone(), provers: self.provers.clone(), identities: self.identities.clone(), config }
    }

    /// The circuit identities (hex) this worker proves.
    pub fn models(&self) -> &[String] {
        &self.identities
    }

    /// The worker's name in leases.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Claims and proves jobs until `shutdown` completes (the job in hand is finished first).
    /// While the database is unreachable it retries with exponential back-off, saying so once.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = Backoff::new(self.config.poll, self.config.max_backoff);
        loop {
            // Stop before the next claim once asked (checked without waiting).
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = std::future::ready(()) => {}
            }
            let wait = match self.store.claim(&self.config.name, self.config.policy, &self.identities).await {
                Ok(Some(job)) => {
                    backoff.recovered(&self.config.name);
                    self.process(job).await;
                    continue;
                }
                Ok(None) => {
                    backoff.recovered(&self.config.name);
                    self.config.poll
                }
                Err(e) => backoff.failed(&self.config.name, &e),
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn process(&self, job: Claimed) {
        let lease = job.lease.clone();
        let name = &self.config.name;
        eprintln!("{name}: job {} proving (attempt {})", lease.job, lease.attempt);
        let heartbeat = tokio::spawn(heartbeats(self.store.clone(), lease.clone(), self.config.policy));
        let outcome = self.prove(job).await;
        heartbeat.abort();
        let mut backoff = Backoff::new(self.config.poll, self.config.max_backoff);
        let deadline = Instant::now() + self.config.policy.lease * STORE_RETRY_LEASES;
        loop {
            let stored = match &outcome {
                Ok(completion) => self.store.complete(&lease, completion).await,
                Err(error) => self.store.fail(&lease, error).await,
            };
            match stored {
                Ok(true) => {
                    let how = if outcome.is_ok() { "done" } else { "failed" };
                    eprintln!("{name}: job {} {how}", lease.job);
                    return;
                }
                Ok(false) => {
                    eprintln!("{name}: job {}: lease lost (claimed again after it expired); result dropped", lease.job);
                    return;
                }
                Err(e) if Instant::now() < deadline => {
                    let wait = backoff.failed(name, &e);
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    eprintln!("{name}: job {}: could not store the result ({e}); its lease will expire", lease.job);
                    return;
                }
            }
        }
    }

    async fn prove(&self, job: Claimed) -> Result<Completion, JobError> {
        let Some(prover) = self.provers.get(&job.model).cloned() else {
            return Err(JobError::new(
                JobErrorKind::UnknownModel,
                format!("this worker has no model with circuit identity {}", job.model),
            ));
        };
        let refused = |message: String| JobError::new(JobErrorKind::InputRefused, message);
        let input =
            InputData::from_json(job.input.as_bytes(), MAX_INPUT_JSON_BYTES).map_err(|e| refused(e.to_string()))?;
        let shape = prover.compiled().model.tensor(prover.compiled().model.input).shape.clone();
        let mut samples = input.samples(&shape).map_err(|e| refused(e.to_string()))?;
        if samples.len() != 1 {
            return Err(refused(format!("the input holds {} samples; a job proves exactly one", samples.len())));
        }
        let sample = samples.remove(0);
        let mut rng = zkinfer_prover::blinding_rng().map_err(|e| JobError {
            kind: "prove_failed".into(),
            message: format!("the operating system gives no randomness for the blinding factors: {e}"),
        })?;
        let started = Instant::now();
        let proved = tokio::task::spawn_blocking(move || prover.prove(&sample, &mut rng)).await;
        let prove_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let proof = match proved {
            Ok(Ok(proof)) => proof,
            Ok(Err(zkinfer_prover::ProveError::Input(e))) => return Err(refused(e.to_string())),
            Ok(Err(e)) => return Err(JobError { kind: "prove_failed".into(), message: e.to_string() }),
            Err(e) => {
                return Err(JobError { kind: "prove_failed".into(), message: format!("the prover stopped: {e}") });
            }
        };
        let outputs = JobOutputs {
            predicted_class: proof.verified.predicted.as_ref().map(|p| p.class),
            outputs: proof.verified.outputs,
        };
        Ok(Completion {
            outputs: serde_json::to_string(&outputs)
                .map_err(|e| JobError::new(JobErrorKind::ProveFailed, e.to_string()))?,
            circuit_identity: hex(&proof.envelope.circuit_identity),
            proof: proof.envelope.to_bytes(),
            prove_ms,
        })
    }
}

/// Renews the lease every third of its length until aborted or lost.
async fn heartbeats(store: JobStore, lease: Lease, policy: RetryPolicy) {
    let every = policy.lease / HEARTBEATS_PER_LEASE;
    loop {
        tokio::time::sleep(every).await;
        match store.heartbeat(&lease, policy).await {
            Ok(true) => {}
            Ok(false) => return,
            // The next beat tries again; the lease outlasts two missed beats.
            Err(_) => {}
        }
    }
}

/// Exponential back-off that says once when the database fails and once when it is back.
#[derive(Debug)]
struct Backoff {
    first: Duration,
    max: Duration,
    current: Option<Duration>,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Self {
        Self { first, max, current: None }
    }

    fn failed(&mut self, name: &str, error: &StoreError) -> Duration {
        let next = match self.current {
            None => {
                eprintln!("{name}: database unreachable ({error}); retrying with back-off");
                self.first
            }
            Some(d) => (d * 2).min(self.max),
        };
        self.current = Some(next);
        next
    }

    fn recovered(&mut self, name: &str) {
        if self.current.take().is_some() {
            eprintln!("{name}: database reachable again");
        }
    }
}
