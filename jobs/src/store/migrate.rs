//! Versioned migrations (`jobs/migrations/<backend>/NNNN_name.sql`, embedded in the binary),
//! applied in order, each once, with its row in `zkinfer_migrations`; all pending ones in one
//! transaction.
//! On PostgreSQL an advisory lock keeps processes that start together from racing.

use sqlx::AnyPool;

use super::{Backend, StoreError};

/// One migration.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every migration, in order.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "jobs",
    sqlite: include_str!("../../migrations/sqlite/0001_jobs.sql"),
    postgres: include_str!("../../migrations/postgres/0001_jobs.sql"),
}];

/// The advisory lock's key on PostgreSQL (any constant shared by every zkinfer process).
const POSTGRES_LOCK_KEY: i64 = 0x007a_6b69_6e66_6572; // "zkinfer"

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS zkinfer_migrations \
     (version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

pub(super) async fn run(pool: &AnyPool, backend: Backend) -> Result<(), StoreError> {
    if backend == Backend::Sqlite {
        // Readers and writers of other processes work alongside (write-ahead log); the setting
        // stays with the file.
        sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(pool).await?;
    }
    let mut tx = pool.begin().await?;
    if backend == Backend::Postgres {
        // (Counted so that the answer has a type the Any driver reads; the function's is void.)
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT pg_advisory_xact_lock($1)) AS held")
            .bind(POSTGRES_LOCK_KEY)
            .fetch_one(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(CREATE_TABLE).execute(&mut *tx).await?;
    let applied: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM zkinfer_migrations").fetch_one(&mut *tx).await?;
    let applied = applied.unwrap_or(0);
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if applied > known {
        return Err(StoreError::NewerSchema { found: applied, known });
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > applied) {
        let sql = match backend {
            Backend::Sqlite => migration.sqlite,
            Backend::Postgres => migration.postgres,
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO zkinfer_migrations (version, name) VALUES ($1, $2)")
            .bind(migration.version)
            .bind(migration.name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
