//! # zkinfer-jobs
//!
//! Proving as a service. Requests become jobs in a database ([`store`]: an SQLite file on one
//! machine, PostgreSQL shared by many); [`worker::Worker`]s on any machines claim them with
//! leases, prove them with the proving keys they keep loaded and store the outputs and proofs;
//! the HTTP [`api`] takes submissions (inputs checked before anything is queued) and answers
//! status, proofs and metrics. A worker that dies mid-proof loses its lease and another one
//! proves the job again; every result is stored once.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use zkinfer_jobs::{ApiConfig, Catalog, JobStore, Worker, WorkerConfig, router};
//! use zkinfer_prover::params::ParamsCache;
//! let params = ParamsCache::new(ParamsCache::default_dir());
//! let store = JobStore::connect("sqlite://zkinfer.db").await?;          // migrates
//! let catalog = Catalog::load("models/".as_ref(), &params, &|line| eprintln!("{line}"))?;
//! let worker = Worker::load(store.clone(), "models/".as_ref(), &params, WorkerConfig::new(), &|_| {})?;
//! tokio::spawn(async move { worker.run(std::future::pending()).await });
//! let app = router(store, catalog, ApiConfig::default(), true);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

pub mod api;
pub mod catalog;
pub mod metrics;
pub mod store;
pub mod worker;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use api::{ApiConfig, ErrorKind, JobStatus, ProveRequest};
pub use catalog::{Catalog, CatalogError};
pub use store::{Backend, JobId, JobState, JobStore, RetryPolicy, StoreError};
pub use worker::{Worker, WorkerConfig, WorkerError};

/// What every request handler shares.
#[derive(Debug, Clone)]
pub(crate) struct ApiState {
    pub store: JobStore,
    pub catalog: Catalog,
    pub config: ApiConfig,
    /// Input checks that run at once.
    pub checks: std::sync::Arc<tokio::sync::Semaphore>,
}

/// The proving API's routes (see [`api`]), with the body limit; `/healthz` too when
/// `with_health` (leave it out when merging with a router that has one).
pub fn router(store: JobStore, catalog: Catalog, config: ApiConfig, with_health: bool) -> Router {
    let limit = config.max_body_bytes;
    let mut routes = Router::new()
        .route("/v1/prove", post(api::submit))
        .route("/v1/prove/models", get(api::models))
        .route("/v1/jobs/{id}", get(api::job))
        .route("/v1/jobs/{id}/proof", get(api::proof))
        .route("/metrics", get(api::metrics));
    if with_health {
        routes = routes.route("/healthz", get(api::healthz));
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let checks = std::sync::Arc::new(tokio::sync::Semaphore::new(cores));
    routes.layer(DefaultBodyLimit::max(limit)).with_state(ApiState { store, catalog, config, checks })
}
