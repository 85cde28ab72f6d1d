//! What `serve --models` and `worker` share: the job database, leases, and loading the workers.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use zkinfer_jobs::{JobStore, RetryPolicy, Worker, WorkerConfig};
use zkinfer_prover::params::ParamsCache;

/// The job database and its leases.
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// The job database: sqlite://FILE (created on first use; one machine) or
    /// postgres://USER@HOST:PORT/DB (shared by workers on many machines) [serve's default:
    /// sqlite://zkinfer.db; a worker must be given it].
    #[arg(long)]
    pub database: Option<String>,
    /// Seconds a worker's claim on a job lasts without a heartbeat: the job of a worker that
    /// stopped is proven again after this (for the workers of this process).
    #[arg(long, default_value_t = 30.0)]
    pub lease_secs: f64,
    /// Claims of one job in all before it fails (each worker stopping mid-proof costs one);
    /// give every process of one database the same value.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: i64,
}

/// The database `serve` uses without `--database`.
pub const DEFAULT_DATABASE: &str = "sqlite://zkinfer.db";

/// Shortest lease: heartbeats every third of it must reach the database in time.
const MIN_LEASE_SECS: f64 = 0.3;

/// Longest lease (a day): a stopped worker's job waits this long.
const MAX_LEASE_SECS: f64 = 86_400.0;

impl QueueArgs {
    pub fn policy(&self) -> anyhow::Result<RetryPolicy> {
        if !(MIN_LEASE_SECS..=MAX_LEASE_SECS).contains(&self.lease_secs) {
            bail!("--lease-secs must be from {MIN_LEASE_SECS} to {MAX_LEASE_SECS}");
        }
        if self.max_attempts < 1 {
            bail!("--max-attempts must be at least 1");
        }
        Ok(RetryPolicy { lease: Duration::from_secs_f64(self.lease_secs), max_attempts: self.max_attempts })
    }

    /// Connects to `url` and migrates; a database that cannot be reached stops the command.
    pub async fn connect(url: &str) -> anyhow::Result<JobStore> {
        let store = JobStore::connect(url).await.context("opening the job database")?;
        eprintln!("job database: {}", zkinfer_jobs::store::redact(url));
        Ok(store)
    }
}

/// `count` workers of this process sharing one set of proving keys (built once per model).
pub fn load_workers(
    store: &JobStore,
    models: &Path,
    params: &ParamsCache,
    policy: RetryPolicy,
    count: usize,
) -> anyhow::Result<Vec<Worker>> {
    let config = WorkerConfig { policy, ..WorkerConfig::new() };
    let first = Worker::load(store.clone(), models, params, config, &|line| eprintln!("  {line}"))
        .with_context(|| format!("loading the models in {}", models.display()))?;
    let mut workers: Vec<Worker> = (1..count).map(|i| first.sibling(format!("{}-{i}", first.name()))).collect();
    workers.insert(0, first);
    Ok(workers)
}

/// Running workers.
#[derive(Debug)]
pub struct RunningWorkers {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningWorkers {
    /// Lets each worker finish the job in hand, then waits for them; says if one had stopped
    /// on a bug.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(e) = task.await {
                eprintln!("a worker stopped unexpectedly: {e}");
            }
        }
    }
}

/// Runs each worker on the runtime until [`RunningWorkers::stop`].
pub fn spawn_workers(workers: Vec<Worker>) -> RunningWorkers {
    let (stop, watch) = tokio::sync::watch::channel(false);
    let tasks = workers
        .into_iter()
        .map(|worker| {
            let mut watch = watch.clone();
            tokio::spawn(async move {
                worker
                    .run(async move {
                        let _ = watch.wait_for(|stop| *stop).await;
                    })
                    .await;
            })
        })
        .collect();
    RunningWorkers { stop, tasks }
}

/// A future that completes on Ctrl-C or, on Unix, SIGTERM (what service managers send). The
/// handlers are installed when this is called (inside the runtime), so a signal that comes while
/// the models load is kept, not fatal.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let interrupt = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = interrupt => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = interrupt.await;
    }
}
