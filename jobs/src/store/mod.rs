//! The job queue in a database: an SQLite file on one machine, PostgreSQL across many.
//!
//! One table, `jobs` (see `migrations/`). A job goes `queued -> running -> done | failed`. A
//! worker claims the oldest claimable job in one statement (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`; SQLite: its single writer), which takes a lease: the worker's name and an expiry it
//! renews with heartbeats. A job whose lease expired (its worker stopped) is claimable again,
//! at most [`RetryPolicy::max_attempts`] times in all; then it fails as `lease_expired`. Every
//! write of a result names the lease it holds (owner and attempt), so a worker that lost its
//! lease cannot store a result: each job's result is stored once. Times come from the
//! database's clock, so workers on machines with different clocks agree on leases.

mod migrate;
mod sql;

use std::time::Duration;

use serde::Serialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use sql::Statements;

/// How long connecting to the database may take before start-up fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a statement waits for a connection once running (a lost database fails requests
/// after this, and workers retry).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections per process.
const MAX_CONNECTIONS: u32 = 8;

/// A job's number in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker holds its lease.
    Running,
    /// Proven: outputs and proof stored.
    Done,
    /// Given up: the error says why.
    Failed,
}

impl JobState {
    /// Every state, in lifecycle order.
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// The database kind behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://FILE` (created on first use).
    Sqlite,
    /// `postgres://...` or `postgresql://...`.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            if url.contains(":memory:") || url.contains("mode=memory") {
                // Every pooled connection would have its own empty database.
                return Err(StoreError::Url(format!("{url} (an in-memory database cannot be shared)")));
            }
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::Url(redact(url)))
        }
    }
}

/// The store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Not a URL of a supported database.
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://USER@HOST:PORT/DB")]
    Url(String),
    /// The database could not be reached (at start-up).
    #[error("cannot reach the database at {url}: {reason}")]
    Connect {
        /// The URL without its password.
        url: String,
        /// What the driver said.
        reason: String,
    },
    /// A statement failed (the database went away, a constraint, ...).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema is newer than this build knows.
    #[error("the database's schema is at migration {found}, newer than this zkinfer knows ({known}): upgrade zkinfer")]
    NewerSchema {
        /// The newest migration applied there.
        found: i64,
        /// The newest migration this build has.
        known: i64,
    },
    /// A stored row does not decode (written by something else).
    #[error("job {id} in the database is malformed: {what}")]
    Corrupt {
        /// The job.
        id: JobId,
        /// What is wrong.
        what: String,
    },
}

/// Retries and leases.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// Claims of one job in all (a worker that dies mid-proof costs one).
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    /// A 30 s lease (heartbeats every third of it), three attempts.
    fn default() -> Self {
        Self { lease: Duration::from_secs(30), max_attempts: 3 }
    }
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The model's circuit identity (hex).
    pub model: String,
    /// The input JSON (one sample).
    pub input: String,
    /// The client's key: the same key gives the same job.
    pub idempotency_key: Option<String>,
}

/// What a submission did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitted {
    /// A new job.
    Created(JobId),
    /// The idempotency key names this job, for the same model and input.
    Existing(JobId),
    /// The idempotency key names this job, for another model or input.
    Conflict(JobId),
    /// The queue holds `queued` jobs already, at its limit.
    QueueFull {
        /// Jobs waiting.
        queued: i64,
    },
}

/// A claimed job and the lease that holds it.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The lease: every write about the job names it.
    pub lease: Lease,
    /// The model's circuit identity (hex).
    pub model: String,
    /// The input JSON.
    pub input: String,
}

/// A worker's hold on a job: the job, the worker and which attempt it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The job.
    pub job: JobId,
    /// The worker's name.
    pub owner: String,
    /// The attempt this lease is (1 for the first claim).
    pub attempt: i64,
}

/// A proven job's result.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The verified outputs (JSON).
    pub outputs: String,
    /// The circuit identity the proof is for (hex).
    pub circuit_identity: String,
    /// The `.zkp` file.
    pub proof: Vec<u8>,
    /// Proving time, milliseconds.
    pub prove_ms: i64,
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobError {
    /// A stable name: a [`JobErrorKind`]'s, or what the database holds.
    pub kind: String,
    /// For people.
    pub message: String,
}

impl JobError {
    /// An error of a known kind.
    pub fn new(kind: JobErrorKind, message: impl Into<String>) -> Self {
        Self { kind: kind.as_str().to_owned(), message: message.into() }
    }
}

/// The kinds of job failure zkinfer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobErrorKind {
    /// Every allowed attempt's worker stopped before it finished.
    LeaseExpired,
    /// The input does not fit the model (checked at submission too).
    InputRefused,
    /// The prover failed.
    ProveFailed,
    /// The claiming worker has no such model.
    UnknownModel,
}

impl JobErrorKind {
    /// The name stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeaseExpired => "lease_expired",
            Self::InputRefused => "input_refused",
            Self::ProveFailed => "prove_failed",
            Self::UnknownModel => "unknown_model",
        }
    }
}

/// A job as stored, without its input and proof bytes.
#[derive(Debug, Clone, Serialize)]
pub struct JobRecord {
    /// The job.
    pub id: JobId,
    /// The model's circuit identity (hex).
    pub model: String,
    /// Where it is.
    pub state: JobState,
    /// Claims so far.
    pub attempts: i64,
    /// Queued at (Unix ms, database clock).
    pub created_ms: i64,
    /// Last claimed at.
    pub started_ms: Option<i64>,
    /// Done or failed at.
    pub finished_ms: Option<i64>,
    /// Proving time of the stored result.
    pub prove_ms: Option<i64>,
    /// The verified outputs (JSON), once done.
    pub outputs: Option<String>,
    /// The circuit identity of the stored proof.
    pub circuit_identity: Option<String>,
    /// Why it failed.
    pub error: Option<JobError>,
    /// Whether a proof is stored.
    pub has_proof: bool,
}

/// Jobs per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Waiting.
    pub queued: i64,
    /// Leased.
    pub running: i64,
    /// Proven.
    pub done: i64,
    /// Given up.
    pub failed: i64,
}

impl StateCounts {
    /// The count of one state.
    pub fn get(&self, state: JobState) -> i64 {
        match state {
            JobState::Queued => self.queued,
            JobState::Running => self.running,
            JobState::Done => self.done,
            JobState::Failed => self.failed,
        }
    }
}

/// Proving times of the done jobs, as cumulative histogram buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct ProveTimes {
    /// `(upper bound in ms, jobs at or below it)`, ascending.
    pub buckets: Vec<(i64, i64)>,
    /// Sum of the proving times, ms.
    pub sum_ms: i64,
    /// Done jobs.
    pub count: i64,
}

/// The queue.
#[derive(Debug, Clone)]
pub struct JobStore {
    pool: AnyPool,
    backend: Backend,
    sql: std::sync::Arc<Statements>,
}

impl JobStore {
    /// Connects (an SQLite file is created when missing), and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let backend = Backend::of_url(url)?;
        sqlx::any::install_default_drivers();
        let url_for_sqlx = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_owned(),
        };
        let unreachable = |reason: String| StoreError::Connect { url: redact(url), reason };
        // One connection first, for the driver's own reason when it fails (a pool only says
        // that it timed out).
        let first = tokio::time::timeout(CONNECT_TIMEOUT, AnyConnection::connect(&url_for_sqlx))
            .await
            .map_err(|_| unreachable(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())))?
            .map_err(|e| unreachable(e.to_string()))?;
        let _ = first.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(&url_for_sqlx)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let store = Self { pool, backend, sql: std::sync::Arc::new(Statements::new(backend)) };
        migrate::run(&store.pool, backend).await?;
        Ok(store)
    }

    /// The database kind.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Queues a job unless its idempotency key names one already, or `max_queued` jobs wait
    /// (a soft limit: submissions at the same moment may pass it together).
    pub async fn submit(&self, job: &NewJob, max_queued: i64) -> Result<Submitted, StoreError> {
        if let Some(found) = self.by_idempotency_key(job).await? {
            return Ok(found);
        }
        let queued: i64 = sqlx::query_scalar(self.sql.count_queued.clone()).fetch_one(&self.pool).await?;
        if queued >= max_queued {
            return Ok(Submitted::QueueFull { queued });
        }
        let id: Option<i64> = sqlx::query_scalar(self.sql.insert.clone())
            .bind(&job.model)
            .bind(&job.input)
            .bind(job.idempotency_key.as_deref())
            .fetch_optional(&self.pool)
            .await?;
        match id {
            Some(id) => Ok(Submitted::Created(JobId(id))),
            // The same key was inserted by a concurrent request.
            None => self.by_idempotency_key(job).await?.ok_or_else(|| StoreError::Corrupt {
                id: JobId(0),
                what: "an insert conflicted, yet no job has its idempotency key".into(),
            }),
        }
    }

    async fn by_idempotency_key(&self, job: &NewJob) -> Result<Option<Submitted>, StoreError> {
        let Some(key) = &job.idempotency_key else { return Ok(None) };
        let row = sqlx::query(self.sql.by_key.clone()).bind(key).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let id = JobId(row.try_get::<i64, _>("id")?);
        let same = row.try_get::<String, _>("model")? == job.model && row.try_get::<String, _>("input")? == job.input;
        Ok(Some(if same { Submitted::Existing(id) } else { Submitted::Conflict(id) }))
    }

    /// Claims the oldest job for one of `models` (circuit identities) that is queued or whose
    /// lease expired, for `owner`. Jobs whose lease expired on their last allowed attempt fail
    /// first (`lease_expired`).
    pub async fn claim(
        &self,
        owner: &str,
        policy: RetryPolicy,
        models: &[String],
    ) -> Result<Option<Claimed>, StoreError> {
        sqlx::query(self.sql.fail_exhausted.clone()).bind(policy.max_attempts).execute(&self.pool).await?;
        if models.is_empty() {
            return Ok(None);
        }
        let mut claim =
            sqlx::query(self.sql.claim(models.len())).bind(owner).bind(millis(policy.lease)).bind(policy.max_attempts);
        for model in models {
            claim = claim.bind(model);
        }
        let row = claim.fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Claimed {
            lease: Lease { job: JobId(row.try_get("id")?), owner: owner.to_owned(), attempt: row.try_get("attempts")? },
            model: row.try_get("model")?,
            input: row.try_get("input")?,
        }))
    }

    /// Renews a lease; false when it is no longer held (expired and claimed again).
    pub async fn heartbeat(&self, lease: &Lease, policy: RetryPolicy) -> Result<bool, StoreError> {
        let query = sqlx::query(self.sql.heartbeat.clone()).bind(millis(policy.lease));
        self.under_lease(query, lease).await
    }

    /// Stores a result; false (and nothing stored) when the lease is no longer held.
    pub async fn complete(&self, lease: &Lease, result: &Completion) -> Result<bool, StoreError> {
        let query = sqlx::query(self.sql.complete.clone())
            .bind(&result.outputs)
            .bind(&result.circuit_identity)
            .bind(result.proof.as_slice())
            .bind(result.prove_ms);
        self.under_lease(query, lease).await
    }

    /// Marks a job failed for good; false when the lease is no longer held.
    pub async fn fail(&self, lease: &Lease, error: &JobError) -> Result<bool, StoreError> {
        let query = sqlx::query(self.sql.fail.clone()).bind(&error.kind).bind(&error.message);
        self.under_lease(query, lease).await
    }

    /// Runs a write that ends with the lease's condition (`held` in the statements): binds the
    /// job, owner and attempt last; whether the lease still held the job.
    async fn under_lease<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
        lease: &'q Lease,
    ) -> Result<bool, StoreError> {
        let done = query.bind(lease.job.0).bind(&lease.owner).bind(lease.attempt).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    /// A job, without input and proof bytes.
    pub async fn get(&self, id: JobId) -> Result<Option<JobRecord>, StoreError> {
        let row = sqlx::query(self.sql.get.clone()).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|row| record(&row)).transpose()
    }

    /// A job's state and stored proof.
    pub async fn proof(&self, id: JobId) -> Result<Option<(JobState, Option<Vec<u8>>)>, StoreError> {
        let row = sqlx::query(self.sql.proof.clone()).bind(id.0).fetch_optional(&self.pool).await?;
        row.map(|row| Ok((state_of(&row, id)?, row.try_get::<Option<Vec<u8>>, _>("proof")?))).transpose()
    }

    /// Jobs per state.
    pub async fn counts(&self) -> Result<StateCounts, StoreError> {
        let rows = sqlx::query(self.sql.counts.clone()).fetch_all(&self.pool).await?;
        let mut counts = StateCounts::default();
        for row in rows {
            let n: i64 = row.try_get("n")?;
            let slot = match JobState::parse(&row.try_get::<String, _>("state")?) {
                Some(JobState::Queued) => &mut counts.queued,
                Some(JobState::Running) => &mut counts.running,
                Some(JobState::Done) => &mut counts.done,
                Some(JobState::Failed) => &mut counts.failed,
                None => continue,
            };
            *slot = n;
        }
        Ok(counts)
    }

    /// Proving times of the done jobs, cumulative over `bounds_ms` (ascending), from one
    /// snapshot.
    pub async fn prove_times(&self, bounds_ms: &[i64]) -> Result<ProveTimes, StoreError> {
        let row = sqlx::query(self.sql.prove_times(bounds_ms)).fetch_one(&self.pool).await?;
        let mut buckets = Vec::with_capacity(bounds_ms.len());
        for (i, &bound) in bounds_ms.iter().enumerate() {
            buckets.push((bound, row.try_get::<i64, _>(format!("b{i}").as_str())?));
        }
        Ok(ProveTimes { buckets, sum_ms: row.try_get("total")?, count: row.try_get("n")? })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(self.sql.ping.clone()).execute(&self.pool).await?;
        Ok(())
    }
}

fn state_of(row: &AnyRow, id: JobId) -> Result<JobState, StoreError> {
    let state: String = row.try_get("state")?;
    JobState::parse(&state).ok_or_else(|| StoreError::Corrupt { id, what: format!("unknown state {state:?}") })
}

fn record(row: &AnyRow) -> Result<JobRecord, StoreError> {
    let id = JobId(row.try_get("id")?);
    let kind: Option<String> = row.try_get("error_kind")?;
    let message: Option<String> = row.try_get("error_message")?;
    Ok(JobRecord {
        id,
        model: row.try_get("model")?,
        state: state_of(row, id)?,
        attempts: row.try_get("attempts")?,
        created_ms: row.try_get("created_ms")?,
        started_ms: row.try_get("started_ms")?,
        finished_ms: row.try_get("finished_ms")?,
        prove_ms: row.try_get("prove_ms")?,
        outputs: row.try_get("outputs")?,
        circuit_identity: row.try_get("circuit_identity")?,
        error: kind.map(|kind| JobError { kind, message: message.unwrap_or_default() }),
        has_proof: row.try_get::<i64, _>("has_proof")? != 0,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The URL without a password (for messages): in the user information and in a `password=`
/// parameter.
pub fn redact(url: &str) -> String {
    let url = redact_userinfo(url);
    match url.find("password=") {
        Some(at) => {
            let start = at + "password=".len();
            let end = url[start..].find('&').map_or(url.len(), |e| start + e);
            format!("{}***{}", &url[..start], &url[end..])
        }
        None => url,
    }
}

fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_passwords_stay_out_of_messages() {
        assert_eq!(Backend::of_url("sqlite://jobs.db").ok(), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://u@h/db").ok(), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("postgresql://u@h/db").ok(), Some(Backend::Postgres));
        assert!(matches!(Backend::of_url("mysql://u:secret@h/db"), Err(StoreError::Url(u)) if !u.contains("secret")));
        assert_eq!(redact("postgres://zk:secret@127.0.0.1:5432/jobs"), "postgres://zk:***@127.0.0.1:5432/jobs");
        assert_eq!(redact("sqlite://jobs.db"), "sqlite://jobs.db");
        assert_eq!(redact("postgres://h/db?password=secret&x=1"), "postgres://h/db?password=***&x=1");
        assert!(matches!(Backend::of_url("sqlite::memory:"), Err(StoreError::Url(_))));
    }
}
