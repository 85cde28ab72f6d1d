//! The queue's rules on an SQLite file: claims in order, leases that expire and are taken over,
//! results stored only under the lease that holds the job, attempts bounded, idempotency keys,
//! the queue limit, and migrations that run once and refuse a newer schema.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::Duration;

use zkinfer_jobs::store::{Completion, JobError, JobErrorKind, NewJob, Submitted};
use zkinfer_jobs::{JobState, JobStore, RetryPolicy, StoreError};

/// A short lease, so that expiry can be waited for.
const SHORT: RetryPolicy = RetryPolicy { lease: Duration::from_millis(300), max_attempts: 2 };
/// A lease that does not expire during a test.
const LONG: RetryPolicy = RetryPolicy { lease: Duration::from_secs(600), max_attempts: 3 };

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn fresh(name: &str) -> (JobStore, String) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("store-{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let url = format!("sqlite://{}", path.display());
    (JobStore::connect(&url).await.unwrap(), url)
}

fn job(input: &str, key: Option<&str>) -> NewJob {
    NewJob { model: "m".into(), input: input.into(), idempotency_key: key.map(Into::into) }
}

/// The models the tests' workers prove.
fn models() -> Vec<String> {
    vec!["m".into()]
}

fn result() -> Completion {
    Completion { outputs: "{}".into(), circuit_identity: "id".into(), proof: vec![1, 2, 3], prove_ms: 5 }
}

#[test]
fn jobs_are_claimed_in_order_once_and_stored_under_their_lease() {
    runtime().block_on(async {
        let (store, _) = fresh("order").await;
        let Submitted::Created(first) = store.submit(&job("a", None), 100).await.unwrap() else { panic!() };
        let Submitted::Created(second) = store.submit(&job("b", None), 100).await.unwrap() else { panic!() };
        let a = store.claim("w1", LONG, &models()).await.unwrap().unwrap();
        let b = store.claim("w2", LONG, &models()).await.unwrap().unwrap();
        assert_eq!((a.lease.job, a.input.as_str(), a.lease.attempt), (first, "a", 1));
        assert_eq!((b.lease.job, b.input.as_str()), (second, "b"));
        assert!(store.claim("w3", LONG, &models()).await.unwrap().is_none(), "a leased job was claimed twice");

        // Another worker's name or another attempt cannot write the result.
        let mut forged = a.lease.clone();
        forged.owner = "w2".into();
        assert!(!store.complete(&forged, &result()).await.unwrap());
        forged = a.lease.clone();
        forged.attempt = 2;
        assert!(!store.complete(&forged, &result()).await.unwrap());
        assert!(store.heartbeat(&a.lease, LONG).await.unwrap());
        assert!(store.complete(&a.lease, &result()).await.unwrap());
        // Stored once: the same lease cannot write again.
        assert!(!store.complete(&a.lease, &result()).await.unwrap());
        assert!(!store.heartbeat(&a.lease, LONG).await.unwrap());

        let error = JobError::new(JobErrorKind::ProveFailed, "no");
        assert!(store.fail(&b.lease, &error).await.unwrap());
        let done = store.get(first).await.unwrap().unwrap();
        assert_eq!((done.state, done.has_proof, done.prove_ms), (JobState::Done, true, Some(5)));
        let failed = store.get(second).await.unwrap().unwrap();
        assert_eq!((failed.state, failed.error), (JobState::Failed, Some(error)));
        assert_eq!(store.proof(first).await.unwrap(), Some((JobState::Done, Some(vec![1, 2, 3]))));
        assert_eq!(store.proof(second).await.unwrap(), Some((JobState::Failed, None)));
        let counts = store.counts().await.unwrap();
        assert_eq!((counts.done, counts.failed, counts.queued, counts.running), (1, 1, 0, 0));
    });
}

#[test]
fn a_worker_claims_only_jobs_for_its_models() {
    runtime().block_on(async {
        let (store, _) = fresh("models").await;
        let other = NewJob { model: "other".into(), ..job("a", None) };
        let Submitted::Created(theirs) = store.submit(&other, 100).await.unwrap() else { panic!() };
        let Submitted::Created(ours) = store.submit(&job("b", None), 100).await.unwrap() else { panic!() };
        let claimed = store.claim("w", LONG, &models()).await.unwrap().unwrap();
        assert_eq!(claimed.lease.job, ours);
        assert!(store.claim("w", LONG, &models()).await.unwrap().is_none());
        assert!(store.claim("w", LONG, &[]).await.unwrap().is_none());
        let both = vec!["m".to_string(), "other".to_string()];
        assert_eq!(store.claim("v", LONG, &both).await.unwrap().map(|c| c.lease.job), Some(theirs));
    });
}

#[test]
fn an_expired_lease_is_taken_over_and_the_old_worker_cannot_store() {
    runtime().block_on(async {
        let (store, _) = fresh("expiry").await;
        let Submitted::Created(id) = store.submit(&job("a", None), 100).await.unwrap() else { panic!() };
        let stale = store.claim("dead", SHORT, &models()).await.unwrap().unwrap();
        tokio::time::sleep(SHORT.lease + Duration::from_millis(100)).await;
        let again = store.claim("other", SHORT, &models()).await.unwrap().unwrap();
        assert_eq!((again.lease.job, again.lease.attempt), (id, 2));
        assert!(!store.heartbeat(&stale.lease, SHORT).await.unwrap());
        assert!(!store.complete(&stale.lease, &result()).await.unwrap(), "the stale lease stored a result");
        assert!(store.complete(&again.lease, &result()).await.unwrap());
        assert_eq!(store.get(id).await.unwrap().unwrap().attempts, 2);
    });
}

#[test]
fn a_job_whose_last_attempt_expires_fails_as_lease_expired() {
    runtime().block_on(async {
        let (store, _) = fresh("attempts").await;
        let Submitted::Created(id) = store.submit(&job("a", None), 100).await.unwrap() else { panic!() };
        for attempt in 1..=SHORT.max_attempts {
            let claimed = store.claim("dies", SHORT, &models()).await.unwrap().unwrap();
            assert_eq!(claimed.lease.attempt, attempt);
            tokio::time::sleep(SHORT.lease + Duration::from_millis(100)).await;
        }
        assert!(store.claim("next", SHORT, &models()).await.unwrap().is_none());
        let record = store.get(id).await.unwrap().unwrap();
        assert_eq!(record.state, JobState::Failed);
        assert_eq!(record.error.map(|e| e.kind), Some(JobErrorKind::LeaseExpired.as_str().to_string()));
    });
}

#[test]
fn idempotency_keys_and_the_queue_limit() {
    runtime().block_on(async {
        let (store, _) = fresh("keys").await;
        let Submitted::Created(id) = store.submit(&job("a", Some("k")), 2).await.unwrap() else { panic!() };
        assert_eq!(store.submit(&job("a", Some("k")), 2).await.unwrap(), Submitted::Existing(id));
        assert_eq!(store.submit(&job("b", Some("k")), 2).await.unwrap(), Submitted::Conflict(id));
        assert!(matches!(store.submit(&job("b", None), 2).await.unwrap(), Submitted::Created(_)));
        assert_eq!(store.submit(&job("c", None), 2).await.unwrap(), Submitted::QueueFull { queued: 2 });
        // A known key is answered even when the queue is full.
        assert_eq!(store.submit(&job("a", Some("k")), 2).await.unwrap(), Submitted::Existing(id));
        assert_eq!(store.counts().await.unwrap().queued, 2);
    });
}

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    runtime().block_on(async {
        let (store, url) = fresh("migrations").await;
        let Submitted::Created(id) = store.submit(&job("a", None), 100).await.unwrap() else { panic!() };
        drop(store);
        // Reopening keeps the jobs (nothing is applied twice).
        let store = JobStore::connect(&url).await.unwrap();
        assert_eq!(store.get(id).await.unwrap().map(|r| r.state), Some(JobState::Queued));
        drop(store);
        // A later zkinfer's migration, as it would record it.
        {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let mut db = sqlx::AnyConnection::connect(&url).await.unwrap();
            sqlx::query("INSERT INTO zkinfer_migrations (version, name) VALUES (99, 'future')")
                .execute(&mut db)
                .await
                .unwrap();
            db.close().await.unwrap();
        }
        match JobStore::connect(&url).await {
            Err(StoreError::NewerSchema { found: 99, known: 1 }) => {}
            other => panic!("a newer schema was not refused: {other:?}"),
        }
    });
}

#[test]
fn proving_times_are_bucketed() {
    runtime().block_on(async {
        let (store, _) = fresh("times").await;
        for (input, ms) in [("a", 50), ("b", 700), ("c", 700)] {
            store.submit(&job(input, None), 100).await.unwrap();
            let claimed = store.claim("w", LONG, &models()).await.unwrap().unwrap();
            assert!(store.complete(&claimed.lease, &Completion { prove_ms: ms, ..result() }).await.unwrap());
        }
        let times = store.prove_times(&[100, 1000]).await.unwrap();
        assert_eq!((times.buckets, times.sum_ms, times.count), (vec![(100, 1), (1000, 3)], 1450, 3));
    });
}
