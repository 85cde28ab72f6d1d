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
    /// postgres://USER@HOST:PORT/DB (shared by workers on many machines).
    #[arg(long, default_value = "sqlite://zkinfer.db")]
    pub database: String,
    /// Seconds a worker's claim on a job lasts without a heartbeat: the job of a worker that
    /// stopped is proven again after this.
    #[arg(long, default_value_t = 30.0)]
    pub lease_secs: f64,
    /// Claims of one job in all before it fails (each worker stopping mid-proof costs one).
    #[arg(long, default_value_t = 3)]
    pub max_attempts: i64,
}

impl QueueArgs {
    pub fn policy(&self) -> anyhow::Result<RetryPolicy> {
        if !(self.lease_secs >= 0.3 && self.lease_secs.is_finite()) {
            bail!("--lease-secs must be at least 0.3");
        }
        if self.max_attempts < 1 {
            bail!("--max-attempts must be at least 1");
        }
        Ok(RetryPolicy { lease: Duration::from_secs_f64(self.lease_secs), max_attempts: self.max_attempts })
    }

    /// Connects and migrates; a database that cannot be reached stops the command.
    pub async fn connect(&self) -> anyhow::Result<JobStore> {
        let store = JobStore::connect(&self.database).await.context("opening the job database")?;
        eprintln!("job database: {}", zkinfer_jobs::store::redact(&self.database));
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
    /// Lets each worker finish the job in hand, then waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
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

/// Waits for Ctrl-C or, on Unix, SIGTERM (what service managers send).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
