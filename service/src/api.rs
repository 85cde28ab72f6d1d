//! The HTTP handlers and their JSON documents.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, timeout_at};
use zkinfer_attest::{SignedAttestation, Statement};
use zkinfer_verifier::{Verified, VerifyError};

use crate::Shared;
use crate::models::ModelInfo;

/// `POST /v1/verify` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyRequest {
    /// The circuit identity (hex, as `zkinfer setup` prints it) of the model the proof is for.
    pub circuit_identity: String,
    /// The proof file (`.zkp`) as hex.
    pub proof: String,
}

/// What went wrong, as the `kind` of an error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is not a valid verify request (400).
    BadRequest,
    /// The body is above the limit (413).
    PayloadTooLarge,
    /// No bundle for that circuit identity (404).
    UnknownModel,
    /// The proof does not decode or does not fit the model (422).
    MalformedProof,
    /// The proof does not verify (422).
    InvalidProof,
    /// Every verification slot stayed busy until the deadline (503).
    Busy,
    /// The verification did not finish before the deadline (504).
    Timeout,
    /// A bug (500).
    Internal,
}

impl ErrorKind {
    fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownModel => StatusCode::NOT_FOUND,
            Self::MalformedProof | Self::InvalidProof => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Every error answer: `{"error": {"kind": ..., "message": ...}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's kind and message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Why, for people.
    pub message: String,
}

struct ApiError(ErrorKind, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: ErrorDetail { kind: self.0, message: self.1 } };
        (self.0.status(), Json(body)).into_response()
    }
}

/// `POST /v1/verify` answer.
#[derive(Debug, Serialize)]
struct VerifyResponse {
    verified: bool,
    #[serde(flatten)]
    result: Verified,
    attestation: SignedAttestation,
}

pub(crate) async fn healthz(State(shared): State<Arc<Shared>>) -> Response {
    let body = serde_json::json!({
        "status": "ok",
        "models": shared.models.len(),
        "signer": shared.config.key.address().to_string(),
    });
    Json(body).into_response()
}

pub(crate) async fn models(State(shared): State<Arc<Shared>>) -> Json<Vec<ModelInfo>> {
    Json(shared.models.iter().map(|m| m.info.clone()).collect())
}

/// Hex, with or without `0x`.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    zkinfer_attest::hex::decode(s).ok()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub(crate) async fn verify(State(shared): State<Arc<Shared>>, body: Result<Bytes, BytesRejection>) -> Response {
    let deadline = Instant::now() + shared.config.request_timeout;
    match verify_inner(&shared, body, deadline).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn verify_inner(
    shared: &Arc<Shared>,
    body: Result<Bytes, BytesRejection>,
    deadline: Instant,
) -> Result<VerifyResponse, ApiError> {
    let body = body.map_err(|e| {
        let kind = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorKind::PayloadTooLarge
        } else {
            ErrorKind::BadRequest
        };
        ApiError(kind, format!("{} (limit {} bytes)", e.body_text(), shared.config.max_body_bytes))
    })?;
    let request: VerifyRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError(ErrorKind::BadRequest, format!("not a verify request: {e}")))?;
    let identity = decode_hex(&request.circuit_identity)
        .filter(|b| b.len() == 32)
        .ok_or_else(|| ApiError(ErrorKind::BadRequest, "circuit_identity must be 32 bytes of hex".into()))?;
    let proof = decode_hex(&request.proof)
        .ok_or_else(|| ApiError(ErrorKind::BadRequest, "proof must be the proof file as hex".into()))?;
    let identity_hex = zkinfer_verifier::hex(&identity);
    let model =
        shared.models.iter().find(|m| m.info.circuit_identity == identity_hex).cloned().ok_or_else(|| {
            ApiError(ErrorKind::UnknownModel, format!("no model with circuit identity {identity_hex}"))
        })?;

    // A verification slot, then the verification on a blocking thread that keeps the slot
    // until it finishes (even when the request has timed out).
    let permit = timeout_at(deadline, shared.slots.clone().acquire_owned())
        .await
        .map_err(|_| ApiError(ErrorKind::Busy, "every verification slot stayed busy until the deadline".into()))?
        .map_err(|_| ApiError(ErrorKind::Internal, "the service is shutting down".into()))?;
    let task = tokio::task::spawn_blocking(move || {
        let result = model.verifier.verify_bytes(&proof);
        drop(permit);
        result
    });
    let verified = timeout_at(deadline, task)
        .await
        .map_err(|_| ApiError(ErrorKind::Timeout, "the verification did not finish before the deadline".into()))?
        .map_err(|e| ApiError(ErrorKind::Internal, format!("verification task failed: {e}")))?
        .map_err(|e: VerifyError| {
            let kind = if e.is_malformed() { ErrorKind::MalformedProof } else { ErrorKind::InvalidProof };
            ApiError(kind, e.to_string())
        })?;

    let mut id = [0u8; 32];
    id.copy_from_slice(&identity);
    let outputs: Vec<i64> = verified.outputs.iter().flat_map(|t| t.values.iter().copied()).collect();
    let now = unix_now();
    let statement = Statement::new(id, &verified.input.values, &outputs, now, now + shared.config.validity.as_secs());
    let attestation = shared.config.key.sign(&statement, &shared.config.domain, &verified.input.values, &outputs);
    Ok(VerifyResponse { verified: true, result: verified, attestation })
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex_decoding_is_strict() {
        assert_eq!(decode_hex("0x00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
        assert_eq!(decode_hex("é1"), None);
        assert_eq!(decode_hex(""), Some(vec![]));
    }
}
