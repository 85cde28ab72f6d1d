-- The proving jobs (PostgreSQL). Times are Unix milliseconds from the database's clock.
CREATE TABLE jobs (
    id               BIGSERIAL PRIMARY KEY,
    model            TEXT    NOT NULL,   -- circuit identity (hex)
    input            TEXT    NOT NULL,   -- {"input_data": [[...]]}, one sample
    idempotency_key  TEXT    UNIQUE,
    state            TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_ms BIGINT,
    created_ms       BIGINT  NOT NULL,
    started_ms       BIGINT,
    finished_ms      BIGINT,
    prove_ms         BIGINT,
    outputs          TEXT,               -- the verified outputs (JSON)
    circuit_identity TEXT,
    proof            BYTEA,              -- the .zkp file
    error_kind       TEXT,
    error_message    TEXT
);
CREATE INDEX jobs_by_state ON jobs (state, id);
