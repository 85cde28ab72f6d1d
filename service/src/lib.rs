//! # zkinfer-service
//!
//! An HTTP service that verifies zkinfer proofs and signs what it verified, so that contracts
//! (which cannot afford to verify pasta/IPA proofs on the EVM) can act on model outputs.
//!
//! - `GET /healthz`: `{"status": "ok", "models": N, "signer": "0x..."}`.
//! - `GET /v1/models`: the models it verifies (circuit identity, source, `k`, outputs).
//! - `POST /v1/verify` with `{"circuit_identity": "<hex>", "proof": "<hex of the .zkp file>"}`:
//!   verifies the proof with that model's bundle and answers the verified outputs and a signed
//!   attestation ([`zkinfer_attest`]: EIP-712, secp256k1). A rejection answers a typed JSON
//!   error, `{"error": {"kind": "...", "message": "..."}}`, and is never signed.
//!
//! Limits: request body size (413), concurrent verifications (verification is CPU-heavy: a
//! request waits for a slot at most until its deadline, then gets 503), and a per-request
//! deadline (504). The signing key comes from a file or the environment, is never logged (only
//! its address), and a missing or malformed key stops the service before it listens.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use zkinfer_service::{Service, ServiceConfig};
//! let key = zkinfer_attest::SigningKey::from_file("service.key".as_ref())?;
//! let config = ServiceConfig::new(key, 31337, zkinfer_attest::Address::ZERO);
//! let service = Service::load_dir("bundles/".as_ref(), config)?;   // rebuilds every verifying key
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! service.serve(listener, std::future::pending()).await?;
//! # Ok(()) }
//! ```

mod api;
mod models;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use zkinfer_attest::{Address, Domain, SigningKey};

pub use api::{ErrorBody, ErrorKind, VerifyRequest};
pub use models::{LoadError, ModelEntry};

/// How the service runs.
#[derive(Debug)]
pub struct ServiceConfig {
    /// The attestation signing key.
    pub key: SigningKey,
    /// The EIP-712 domain the attestations are signed for (chain and verifying contract).
    pub domain: Domain,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Verifications that run at once.
    pub max_concurrent: usize,
    /// Deadline of one request, waiting for a slot included.
    pub request_timeout: Duration,
    /// How long an attestation stays valid (its `expiresAt` is `verifiedAt` plus this).
    pub validity: Duration,
}

impl ServiceConfig {
    /// Defaults: 4 MiB bodies, one verification per core, 30 s deadline, attestations valid for
    /// one hour.
    pub fn new(key: SigningKey, chain_id: u64, verifying_contract: Address) -> Self {
        Self {
            key,
            domain: Domain { chain_id, verifying_contract },
            max_body_bytes: 4 << 20,
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            request_timeout: Duration::from_secs(30),
            validity: Duration::from_secs(3600),
        }
    }
}

/// The loaded models and the configuration, shared by every request.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: ServiceConfig,
    pub models: Vec<Arc<ModelEntry>>,
    pub slots: Arc<Semaphore>,
}

/// A service ready to serve.
#[derive(Debug, Clone)]
pub struct Service {
    shared: Arc<Shared>,
}

impl Service {
    /// Loads every `*.zkv` bundle in `dir` (rebuilding each verifying key once).
    pub fn load_dir(dir: &std::path::Path, config: ServiceConfig) -> Result<Self, LoadError> {
        let models = models::load_dir(dir)?;
        Ok(Self::new(models, config))
    }

    /// A service for already loaded models.
    pub fn new(models: Vec<ModelEntry>, config: ServiceConfig) -> Self {
        let slots = Arc::new(Semaphore::new(config.max_concurrent.max(1)));
        let models = models.into_iter().map(Arc::new).collect();
        Self { shared: Arc::new(Shared { config, models, slots }) }
    }

    /// The models it verifies.
    pub fn models(&self) -> impl Iterator<Item = &ModelEntry> {
        self.shared.models.iter().map(|m| m.as_ref())
    }

    /// The signer address attestations carry.
    pub fn signer(&self) -> Address {
        self.shared.config.key.address()
    }

    /// The routes, with the body limit.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/healthz", get(api::healthz))
            .route("/v1/models", get(api::models))
            .route("/v1/verify", post(api::verify))
            .layer(DefaultBodyLimit::max(self.shared.config.max_body_bytes))
            .with_state(self.shared.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await
    }
}
