//! The statements, written once with `$N` parameters (both databases take them) and `{now}`
//! for the database clock in Unix milliseconds; the claim differs by backend.

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use super::{Backend, JobErrorKind};

/// The database clock in Unix milliseconds.
fn now(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// The lease a claim takes over: a queued job, or a running one whose lease expired with
/// attempts left ($3: the attempt limit).
const CLAIMABLE: &str = "state = 'queued' OR (state = 'running' AND lease_expires_ms < {now} AND attempts < $3)";

/// Every statement the store runs, for one backend.
#[derive(Debug)]
pub(super) struct Statements {
    pub count_queued: SqlStr,
    pub insert: SqlStr,
    pub by_key: SqlStr,
    pub fail_exhausted: SqlStr,
    claim_template: String,
    pub heartbeat: SqlStr,
    pub complete: SqlStr,
    pub fail: SqlStr,
    pub get: SqlStr,
    pub proof: SqlStr,
    pub counts: SqlStr,
    pub ping: SqlStr,
}

impl Statements {
    pub fn new(backend: Backend) -> Self {
        let lock = match backend {
            // SQLite has one writer at a time: the statement is atomic as it is.
            Backend::Sqlite => "",
            // Concurrent claimers skip the row another one is taking instead of waiting for it.
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        // The lease: which worker, which attempt ($1 owner, $2 lease ms, $3 attempt limit; the
        // models the worker proves from $4 on, filled in by `claim`).
        let claim = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_expires_ms = {{now}} + $2, started_ms = {{now}} \
             WHERE id = (SELECT id FROM jobs WHERE ({CLAIMABLE}) AND model IN ({{models}}) \
             ORDER BY id LIMIT 1{lock}) \
             RETURNING id, model, input, attempts"
        );
        // Writes about a leased job end with the lease ($N owner and attempt after the job).
        let held = |first: usize| {
            format!(
                "WHERE id = ${} AND state = 'running' AND lease_owner = ${} AND attempts = ${}",
                first,
                first + 1,
                first + 2
            )
        };
        let statements = [
            "SELECT COUNT(*) FROM jobs WHERE state = 'queued'".to_owned(),
            "INSERT INTO jobs (model, input, idempotency_key, state, created_ms) \
             VALUES ($1, $2, $3, 'queued', {now}) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
                .to_owned(),
            "SELECT id, model, input FROM jobs WHERE idempotency_key = $1".to_owned(),
            // (Rows another worker is failing at the same moment are skipped, not waited for.)
            format!(
                "UPDATE jobs SET state = 'failed', error_kind = '{}', \
                 error_message = 'every attempt''s worker stopped before it finished (lease expired)', \
                 finished_ms = {{now}}, lease_owner = NULL, lease_expires_ms = NULL \
                 WHERE id IN (SELECT id FROM jobs \
                 WHERE state = 'running' AND lease_expires_ms < {{now}} AND attempts >= $1{lock})",
                JobErrorKind::LeaseExpired.as_str()
            ),
            claim,
            format!("UPDATE jobs SET lease_expires_ms = {{now}} + $1 {}", held(2)),
            format!(
                "UPDATE jobs SET state = 'done', outputs = $1, circuit_identity = $2, proof = $3, prove_ms = $4, \
                 finished_ms = {{now}}, lease_owner = NULL, lease_expires_ms = NULL {}",
                held(5)
            ),
            format!(
                "UPDATE jobs SET state = 'failed', error_kind = $1, error_message = $2, finished_ms = {{now}}, \
                 lease_owner = NULL, lease_expires_ms = NULL {}",
                held(3)
            ),
            "SELECT id, model, state, attempts, created_ms, started_ms, finished_ms, prove_ms, outputs, \
             circuit_identity, error_kind, error_message, \
             CAST(CASE WHEN proof IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_proof FROM jobs WHERE id = $1"
                .to_owned(),
            "SELECT state, proof FROM jobs WHERE id = $1".to_owned(),
            "SELECT state, COUNT(*) AS n FROM jobs GROUP BY state".to_owned(),
            "SELECT 1".to_owned(),
        ]
        .map(|s| s.replace("{now}", now(backend)));
        let [count_queued, insert, by_key, fail_exhausted, claim, heartbeat, complete, fail, get, proof, counts, ping] =
            statements;
        // Built from this file's constants only: nothing from outside is ever part of the text.
        let safe = |s: String| AssertSqlSafe(s).into_sql_str();
        Self {
            count_queued: safe(count_queued),
            insert: safe(insert),
            by_key: safe(by_key),
            fail_exhausted: safe(fail_exhausted),
            claim_template: claim,
            heartbeat: safe(heartbeat),
            complete: safe(complete),
            fail: safe(fail),
            get: safe(get),
            proof: safe(proof),
            counts: safe(counts),
            ping: safe(ping),
        }
    }

    /// The claim for a worker that proves `models` models (`$4` on name them).
    pub fn claim(&self, models: usize) -> SqlStr {
        let list: Vec<String> = (0..models).map(|i| format!("${}", i + 4)).collect();
        // Placeholders only: the model names are bound, never part of the text.
        AssertSqlSafe(self.claim_template.replace("{models}", &list.join(", "))).into_sql_str()
    }

    /// Count, sum and cumulative bucket counts of the done jobs' proving times, in one
    /// statement (one snapshot): columns `n`, `total`, `b0`, `b1`, ...
    pub fn prove_times(&self, bounds_ms: &[i64]) -> SqlStr {
        let buckets: String = bounds_ms
            .iter()
            .enumerate()
            .map(|(i, bound)| {
                format!(", CAST(COALESCE(SUM(CASE WHEN prove_ms <= {bound} THEN 1 ELSE 0 END), 0) AS BIGINT) AS b{i}")
            })
            .collect();
        // Integers formatted from i64 values: nothing else enters the text.
        AssertSqlSafe(format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(prove_ms), 0) AS BIGINT) AS total{buckets} \
             FROM jobs WHERE state = 'done'"
        ))
        .into_sql_str()
    }
}
