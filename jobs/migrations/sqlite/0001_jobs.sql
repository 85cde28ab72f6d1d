-- The proving jobs (SQLite). Times are Unix milliseconds from the database's clock.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    model            TEXT    NOT NULL,   -- circuit identity (hex)
    input            TEXT    NOT NULL,   -- {"input_data": [[...]]}, one sample
    idempotency_key  TEXT    UNIQUE,
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_ms INTEGER,
    created_ms       INTEGER NOT NULL,
    started_ms       INTEGER,
    finished_ms      INTEGER,
    prove_ms         INTEGER,
    outputs          TEXT,               -- the verified outputs (JSON)
    circuit_identity TEXT,
    proof            BLOB,               -- the .zkp file
    error_kind       TEXT,
    error_message    TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
