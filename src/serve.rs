//! `zkinfer serve`: the service. With `--bundle DIR`, the verifier service (the
//! `zkinfer-service` crate: verifies proofs over HTTP and signs EIP-712 attestations); with
//! `--models DIR`, the proving service (the `zkinfer-jobs` crate: a job queue in SQLite or
//! PostgreSQL, proven by in-process workers and by `zkinfer worker` processes). Both at once
//! share one listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use zkinfer_attest::{Address, SigningKey};
use zkinfer_jobs::{ApiConfig, Catalog};
use zkinfer_service::{Service, ServiceConfig};

use crate::artifacts::ParamsArgs;
use crate::jobs::{DEFAULT_DATABASE, QueueArgs, load_workers, spawn_workers};

/// Environment variable that may hold the signing key (hex) instead of `--key-file`.
const KEY_ENV: &str = "ZKINFER_SIGNING_KEY";

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("serves").required(true).multiple(true).args(["bundle", "models"])))]
pub struct ServeArgs {
    /// Verify: directory of verification bundles (`*.zkv`, from `zkinfer export-verifier`).
    #[arg(long, requires_all = ["chain_id", "contract"])]
    bundle: Option<PathBuf>,
    /// File holding the secp256k1 signing key as 64 hex digits [default: $ZKINFER_SIGNING_KEY].
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// EIP-712 domain: the chain id of the registry contract.
    #[arg(long)]
    chain_id: Option<u64>,
    /// EIP-712 domain: the registry contract's address (0x...).
    #[arg(long)]
    contract: Option<String>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = zkinfer_jobs::api::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Verifications that run at once [default: the number of cores].
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// Deadline of one verification request in seconds, waiting for a slot included.
    #[arg(long, default_value_t = 30.0)]
    timeout_secs: f64,
    /// Seconds an attestation stays valid (its expiresAt is verifiedAt plus this).
    #[arg(long, default_value_t = 3600)]
    validity_secs: u64,
    /// Prove: directory of compiled models (`NAME.zkm`, with `NAME.zkkey` from `zkinfer setup`
    /// when there is one). Jobs name a model by circuit identity or NAME.
    #[arg(long)]
    models: Option<PathBuf>,
    #[command(flatten)]
    queue: QueueArgs,
    #[command(flatten)]
    params: ParamsArgs,
    /// Workers in this process (0: the API only, with `zkinfer worker` processes proving).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Queued jobs at which submissions are answered 503 with Retry-After (a soft limit).
    #[arg(long, default_value_t = zkinfer_jobs::api::DEFAULT_MAX_QUEUED)]
    max_queued: i64,
}

fn signing_key(args: &ServeArgs) -> anyhow::Result<SigningKey> {
    let key = match &args.key_file {
        Some(path) => SigningKey::from_file(path),
        None => SigningKey::from_env(KEY_ENV),
    };
    key.context("refusing to start without a usable signing key (--key-file FILE or $ZKINFER_SIGNING_KEY)")
}

/// The verifier service, when `--bundle` is given.
fn verifier_service(args: &ServeArgs, dir: &std::path::Path) -> anyhow::Result<Service> {
    let key = signing_key(args)?;
    let (Some(chain_id), Some(contract)) = (args.chain_id, args.contract.as_deref()) else {
        bail!("--bundle needs --chain-id and --contract (the EIP-712 domain of the attestations)");
    };
    let contract: Address = contract.parse().with_context(|| format!("--contract {contract} is not an address"))?;
    if !(args.timeout_secs > 0.0 && args.timeout_secs.is_finite()) {
        bail!("--timeout-secs must be positive");
    }
    let mut config = ServiceConfig::new(key, chain_id, contract);
    config.max_body_bytes = args.max_body_bytes;
    if let Some(n) = args.max_concurrent {
        config.max_concurrent = n.max(1);
    }
    config.request_timeout = Duration::from_secs_f64(args.timeout_secs);
    config.validity = Duration::from_secs(args.validity_secs);
    eprintln!("loading bundles from {} (rebuilding each verifying key) ...", dir.display());
    let service = Service::load_dir(dir, config).context("loading the verification bundles")?;
    for m in service.models() {
        eprintln!("  {} {} (k = {})", m.info.circuit_identity, m.info.source, m.info.k);
    }
    Ok(service)
}

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let service = args.bundle.as_deref().map(|dir| verifier_service(args, dir)).transpose()?;
    let policy = args.queue.policy()?;
    if args.max_queued < 1 {
        bail!("--max-queued must be at least 1");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let stop = crate::jobs::shutdown_signal();
        let listener =
            tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let bound = listener.local_addr()?;
        let mut app = axum::Router::new();
        let mut workers = None;
        if let Some(service) = &service {
            app = app.merge(service.router());
        }
        if let Some(models) = &args.models {
            let store = QueueArgs::connect(args.queue.database.as_deref().unwrap_or(DEFAULT_DATABASE)).await?;
            let cache = args.params.cache();
            eprintln!("loading the models in {} ...", models.display());
            let catalog = Catalog::load(models, &cache, &|line| eprintln!("  {line}"))
                .with_context(|| format!("loading the models in {}", models.display()))?;
            for m in catalog.entries() {
                eprintln!("  {} {} (k = {})", m.identity, m.name, m.compiled.k);
            }
            if args.workers > 0 {
                let loaded = load_workers(&store, models, &cache, policy, args.workers)?;
                eprintln!("{} workers in this process", loaded.len());
                workers = Some(spawn_workers(loaded));
            }
            let config = ApiConfig { max_body_bytes: args.max_body_bytes, max_queued: args.max_queued };
            app = app.merge(zkinfer_jobs::router(store, catalog, config, service.is_none()));
        }
        if let Some(service) = &service {
            println!("signer {}", service.signer());
        }
        println!("listening on http://{bound}");
        use std::io::Write;
        std::io::stdout().flush()?;
        let shutdown = async {
            stop.await;
            eprintln!("shutting down");
        };
        let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await.context("serving");
        // The workers finish the jobs in hand whether serving ended well or not.
        if let Some(workers) = workers {
            workers.stop().await;
        }
        served
    })
}
