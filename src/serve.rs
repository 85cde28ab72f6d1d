//! `zkinfer serve`: the verifier service (see the `zkinfer-service` crate): verifies proofs
//! over HTTP with the bundles in a directory and signs EIP-712 attestations for contracts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use zkinfer_attest::{Address, SigningKey};
use zkinfer_service::{Service, ServiceConfig};

/// Environment variable that may hold the signing key (hex) instead of `--key-file`.
const KEY_ENV: &str = "ZKINFER_SIGNING_KEY";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Directory of verification bundles (`*.zkv`, from `zkinfer export-verifier`).
    #[arg(long)]
    bundle: PathBuf,
    /// File holding the secp256k1 signing key as 64 hex digits [default: $ZKINFER_SIGNING_KEY].
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Address to listen on (port 0: any free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// EIP-712 domain: the chain id of the registry contract.
    #[arg(long)]
    chain_id: u64,
    /// EIP-712 domain: the registry contract's address (0x...).
    #[arg(long)]
    contract: String,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 4 << 20)]
    max_body_bytes: usize,
    /// Verifications that run at once [default: the number of cores].
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// Deadline of one request in seconds, waiting for a verification slot included.
    #[arg(long, default_value_t = 30.0)]
    timeout_secs: f64,
    /// Seconds an attestation stays valid (its expiresAt is verifiedAt plus this).
    #[arg(long, default_value_t = 3600)]
    validity_secs: u64,
}

fn signing_key(args: &ServeArgs) -> anyhow::Result<SigningKey> {
    let key = match &args.key_file {
        Some(path) => SigningKey::from_file(path),
        None => SigningKey::from_env(KEY_ENV),
    };
    key.context("refusing to start without a usable signing key (--key-file FILE or $ZKINFER_SIGNING_KEY)")
}

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let key = signing_key(args)?;
    let contract: Address =
        args.contract.parse().with_context(|| format!("--contract {} is not an address", args.contract))?;
    if !(args.timeout_secs > 0.0 && args.timeout_secs.is_finite()) {
        bail!("--timeout-secs must be positive");
    }
    let mut config = ServiceConfig::new(key, args.chain_id, contract);
    config.max_body_bytes = args.max_body_bytes;
    if let Some(n) = args.max_concurrent {
        config.max_concurrent = n.max(1);
    }
    config.request_timeout = Duration::from_secs_f64(args.timeout_secs);
    config.validity = Duration::from_secs(args.validity_secs);
    eprintln!("loading bundles from {} (rebuilding each verifying key) ...", args.bundle.display());
    let service = Service::load_dir(&args.bundle, config).context("loading the verification bundles")?;
    for m in service.models() {
        eprintln!("  {} {} (k = {})", m.info.circuit_identity, m.info.source, m.info.k);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
        let bound = listener.local_addr()?;
        println!("signer {}", service.signer());
        println!("listening on http://{bound}");
        use std::io::Write;
        std::io::stdout().flush()?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down");
        };
        service.serve(listener, shutdown).await.context("serving")
    })
}
