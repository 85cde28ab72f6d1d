//! `/metrics` in Prometheus' text format, from the database (so every API process reports the
//! whole queue, whichever workers proved it).

use std::fmt::Write;

use crate::store::{JobState, JobStore, StoreError};

/// Upper bounds of the proving-time histogram's buckets, milliseconds.
pub const PROVE_BUCKETS_MS: [i64; 10] = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];

/// The metrics text.
pub async fn render(store: &JobStore) -> Result<String, StoreError> {
    let counts = store.counts().await?;
    let times = store.prove_times(&PROVE_BUCKETS_MS).await?;
    let mut out = String::new();
    // (Writing to a String cannot fail.)
    let _ = writeln!(out, "# HELP zkinfer_queue_depth Jobs waiting for a worker.");
    let _ = writeln!(out, "# TYPE zkinfer_queue_depth gauge");
    let _ = writeln!(out, "zkinfer_queue_depth {}", counts.queued);
    let _ = writeln!(out, "# HELP zkinfer_jobs Jobs by state.");
    let _ = writeln!(out, "# TYPE zkinfer_jobs gauge");
    for state in JobState::ALL {
        let _ = writeln!(out, "zkinfer_jobs{{state=\"{}\"}} {}", state.as_str(), counts.get(state));
    }
    let _ = writeln!(out, "# HELP zkinfer_prove_seconds Proving time of done jobs (with the self-check).");
    let _ = writeln!(out, "# TYPE zkinfer_prove_seconds histogram");
    for (bound_ms, n) in &times.buckets {
        let _ = writeln!(out, "zkinfer_prove_seconds_bucket{{le=\"{}\"}} {n}", seconds(*bound_ms));
    }
    let _ = writeln!(out, "zkinfer_prove_seconds_bucket{{le=\"+Inf\"}} {}", times.count);
    let _ = writeln!(out, "zkinfer_prove_seconds_sum {}", seconds(times.sum_ms));
    let _ = writeln!(out, "zkinfer_prove_seconds_count {}", times.count);
    Ok(out)
}

fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}
