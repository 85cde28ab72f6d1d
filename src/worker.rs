//! `zkinfer worker`: claims proving jobs from a job database and proves them (see the
//! `zkinfer-jobs` crate). Run any number, on any machines, against one PostgreSQL database.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::artifacts::ParamsArgs;
use crate::jobs::{QueueArgs, load_workers};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Directory of compiled models (`NAME.zkm`, with `NAME.zkkey` from `zkinfer setup` when
    /// there is one): the same as the API's `serve --models`.
    #[arg(long)]
    models: PathBuf,
    #[command(flatten)]
    queue: QueueArgs,
    #[command(flatten)]
    params: ParamsArgs,
    /// Jobs this process proves at once (each proof uses every core).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
}

pub fn run(args: &WorkerArgs) -> anyhow::Result<()> {
    let policy = args.queue.policy()?;
    let Some(database) = args.queue.database.as_deref() else {
        anyhow::bail!("a worker needs --database: the URL the API (zkinfer serve) uses");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    runtime.block_on(async move {
        let stop = crate::jobs::shutdown_signal();
        let store = QueueArgs::connect(database).await?;
        let workers = load_workers(&store, &args.models, &args.params.cache(), policy, usize::from(args.jobs))?;
        for worker in &workers {
            eprintln!("worker {} ready ({} models)", worker.name(), worker.models().len());
        }
        let handles = crate::jobs::spawn_workers(workers);
        stop.await;
        eprintln!("shutting down after the jobs in hand");
        handles.stop().await;
        Ok(())
    })
}
