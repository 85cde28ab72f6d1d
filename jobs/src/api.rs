//! The proving API: submit a job, read its status and proof, and the metrics.
//!
//! - `POST /v1/prove` with `{"model": "<circuit identity or name>", "input": {"input_data":
//!   [[...]]}, "idempotency_key": "..."}` (key optional): `202` and the job, after the input was
//!   checked as `prove` checks it (shape, calibrated range: `422`, never queued). The same key
//!   again gives the same job (`200`); with another model or input, `409`. A full queue answers
//!   `503` with `Retry-After` (a soft limit).
//! - `GET /v1/jobs/{id}`: the job (state, attempts, outputs, circuit identity, timings, error).
//! - `GET /v1/jobs/{id}/proof`: the `.zkp` bytes once done (`409` before).
//! - `GET /v1/prove/models`: the models jobs may name.
//! - `GET /metrics`: Prometheus text (jobs by state, queue depth, proving-time histogram).
//!
//! Every error is `{"error": {"kind": "...", "message": "..."}}` with a stable `kind`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use zkinfer_models::data::InputData;

use crate::ApiState;
use crate::store::{JobId, JobRecord, JobState, NewJob, StoreError, Submitted};

/// Longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 200;

/// Seconds a client is told to wait (`Retry-After`) when the queue is full or the database is away.
pub const RETRY_AFTER_SECS: u64 = 5;

/// `POST /v1/prove` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProveRequest {
    /// The model: its circuit identity (hex) or its file name in the models directory.
    pub model: String,
    /// The input, as `zkinfer prove --input` reads it (one sample).
    pub input: serde_json::Value,
    /// The client's key: resubmitting with it gives the same job.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// What went wrong, as the `kind` of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not JSON, or not a prove request (400).
    BadRequest,
    /// The body is above the limit (413).
    PayloadTooLarge,
    /// No such model (404).
    UnknownModel,
    /// No such job (404).
    UnknownJob,
    /// The input does not fit the model or leaves its calibrated range (422).
    InputRefused,
    /// The idempotency key names a job with another model or input (409).
    IdempotencyConflict,
    /// The job has no proof (yet) (409).
    NotReady,
    /// Too many jobs wait (503, with Retry-After).
    QueueFull,
    /// The database did not answer (503, with Retry-After).
    DatabaseUnavailable,
    /// A bug, or data in the database this build cannot read (500).
    Internal,
}

impl ErrorKind {
    fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownModel | Self::UnknownJob => StatusCode::NOT_FOUND,
            Self::InputRefused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::IdempotencyConflict | Self::NotReady => StatusCode::CONFLICT,
            Self::QueueFull | Self::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub(crate) struct ApiError(ErrorKind, String);

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { .. } | StoreError::NewerSchema { .. } | StoreError::Url(_) => {
                Self(ErrorKind::Internal, e.to_string())
            }
            StoreError::Database(_) | StoreError::Connect { .. } => Self(ErrorKind::DatabaseUnavailable, e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "kind": self.0, "message": self.1 } });
        let mut response = (self.0.status(), Json(body)).into_response();
        if self.0.status() == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER_SECS.into());
        }
        response
    }
}

/// A job as the API shows it.
#[derive(Debug, Serialize)]
pub struct JobStatus {
    /// The job.
    pub id: JobId,
    /// Where it is.
    pub state: JobState,
    /// The model's circuit identity.
    pub model: String,
    /// Claims so far (more than one: a worker stopped mid-proof).
    pub attempts: i64,
    /// The verified outputs and predicted class, once done.
    pub result: Option<serde_json::Value>,
    /// The circuit identity the proof is for, once done.
    pub circuit_identity: Option<String>,
    /// Where the proof is, once done.
    pub proof_url: Option<String>,
    /// Why it failed.
    pub error: Option<crate::store::JobError>,
    /// Times, in ms.
    pub timings: Timings,
}

/// A job's times (ms).
#[derive(Debug, Serialize)]
pub struct Timings {
    /// Queued at, Unix ms (database clock).
    pub created_ms: i64,
    /// From queued to the last claim.
    pub waited_ms: Option<i64>,
    /// Proving (with the prover's self-check).
    pub prove_ms: Option<i64>,
    /// From queued to done or failed.
    pub total_ms: Option<i64>,
}

impl From<JobRecord> for JobStatus {
    fn from(r: JobRecord) -> Self {
        let result = r.outputs.as_deref().and_then(|o| serde_json::from_str(o).ok());
        Self {
            id: r.id,
            state: r.state,
            model: r.model,
            attempts: r.attempts,
            result,
            circuit_identity: r.circuit_identity,
            proof_url: r.has_proof.then(|| format!("/v1/jobs/{}/proof", r.id)),
            error: r.error,
            timings: Timings {
                created_ms: r.created_ms,
                waited_ms: r.started_ms.map(|s| s.saturating_sub(r.created_ms)),
                prove_ms: r.prove_ms,
                total_ms: r.finished_ms.map(|f| f.saturating_sub(r.created_ms)),
            },
        }
    }
}

pub(crate) async fn submit(State(state): State<ApiState>, body: Result<Bytes, BytesRejection>) -> Response {
    match submit_inner(&state, body).await {
        Ok((status, job)) => (status, Json(job)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn submit_inner(
    state: &ApiState,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, JobStatus), ApiError> {
    let body = body.map_err(|e| {
        let kind = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorKind::PayloadTooLarge
        } else {
            ErrorKind::BadRequest
        };
        ApiError(kind, format!("{} (limit {} bytes)", e.body_text(), state.config.max_body_bytes))
    })?;
    let request: ProveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError(ErrorKind::BadRequest, format!("not a prove request: {e}")))?;
    if request.idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_BYTES) {
        return Err(ApiError(
            ErrorKind::BadRequest,
            format!("idempotency_key must hold 1 to {MAX_IDEMPOTENCY_KEY_BYTES} bytes"),
        ));
    }
    let entry = state
        .catalog
        .find(&request.model)
        .ok_or_else(|| ApiError(ErrorKind::UnknownModel, format!("no model {:?} here", request.model)))?;
    let input: InputData = serde_json::from_value(request.input)
        .map_err(|e| ApiError(ErrorKind::BadRequest, format!("input is not {{\"input_data\": [[...]]}}: {e}")))?;
    // The interpreter's check, off the async threads (a large model's run takes a while), as
    // many at once as there are cores.
    let slot = state
        .checks
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError(ErrorKind::Internal, "the service is shutting down".into()))?;
    let catalog = state.catalog.clone();
    let identity = entry.identity.clone();
    let checked_input = input.clone();
    tokio::task::spawn_blocking(move || {
        let checked = catalog.find(&identity).map_or(Ok(()), |entry| entry.check_input(&checked_input).map(|_| ()));
        drop(slot);
        checked
    })
    .await
    .map_err(|e| ApiError(ErrorKind::Internal, format!("the input check stopped: {e}")))?
    .map_err(|message| ApiError(ErrorKind::InputRefused, message))?;

    let job = NewJob {
        model: entry.identity.clone(),
        input: serde_json::json!({ "input_data": input.input_data }).to_string(),
        idempotency_key: request.idempotency_key,
    };
    let (status, id) = match state.store.submit(&job, state.config.max_queued).await? {
        Submitted::Created(id) => (StatusCode::ACCEPTED, id),
        Submitted::Existing(id) => (StatusCode::OK, id),
        Submitted::Conflict(id) => {
            return Err(ApiError(
                ErrorKind::IdempotencyConflict,
                format!("idempotency_key already names job {id}, with another model or input"),
            ));
        }
        Submitted::QueueFull { queued } => {
            return Err(ApiError(ErrorKind::QueueFull, format!("{queued} jobs are waiting; try again later")));
        }
    };
    let record =
        state.store.get(id).await?.ok_or_else(|| ApiError(ErrorKind::UnknownJob, format!("job {id} vanished")))?;
    Ok((status, record.into()))
}

fn job_id(raw: &str) -> Result<JobId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|&id| id > 0)
        .map(JobId)
        .ok_or_else(|| ApiError(ErrorKind::UnknownJob, format!("{raw:?} is not a job id")))
}

pub(crate) async fn job(State(state): State<ApiState>, Path(raw): Path<String>) -> Response {
    let found = async {
        let id = job_id(&raw)?;
        let record = state.store.get(id).await?;
        record.ok_or_else(|| ApiError(ErrorKind::UnknownJob, format!("no job {id}")))
    };
    match found.await {
        Ok(record) => Json(JobStatus::from(record)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(crate) async fn proof(State(state): State<ApiState>, Path(raw): Path<String>) -> Response {
    let found = async {
        let id = job_id(&raw)?;
        match state.store.proof(id).await? {
            None => Err(ApiError(ErrorKind::UnknownJob, format!("no job {id}"))),
            Some((_, Some(bytes))) => Ok(bytes),
            Some((job_state, None)) => {
                Err(ApiError(ErrorKind::NotReady, format!("job {id} is {} and has no proof", job_state.as_str())))
            }
        }
    };
    match found.await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(e) => e.into_response(),
    }
}

/// One model jobs may name.
#[derive(Debug, Serialize)]
struct ModelSummary<'a> {
    name: &'a str,
    circuit_identity: &'a str,
    k: u32,
    input_shape: &'a [usize],
}

pub(crate) async fn models(State(state): State<ApiState>) -> Response {
    let models: Vec<ModelSummary<'_>> = state
        .catalog
        .entries()
        .iter()
        .map(|e| ModelSummary {
            name: &e.name,
            circuit_identity: &e.identity,
            k: e.compiled.k,
            input_shape: e.input_shape(),
        })
        .collect();
    Json(models).into_response()
}

pub(crate) async fn healthz(State(state): State<ApiState>) -> Response {
    match state.store.ping().await {
        Ok(_) => Json(serde_json::json!({ "status": "ok", "models": state.catalog.entries().len() })).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(crate) async fn metrics(State(state): State<ApiState>) -> Response {
    match crate::metrics::render(&state.store).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// How the API runs.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Queued jobs at which submissions get `503`.
    pub max_queued: i64,
}

/// Largest request body by default.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// Queued jobs at which submissions get `503`, by default.
pub const DEFAULT_MAX_QUEUED: i64 = 1000;

impl Default for ApiConfig {
    /// [`DEFAULT_MAX_BODY_BYTES`], [`DEFAULT_MAX_QUEUED`].
    fn default() -> Self {
        Self { max_body_bytes: DEFAULT_MAX_BODY_BYTES, max_queued: DEFAULT_MAX_QUEUED }
    }
}
