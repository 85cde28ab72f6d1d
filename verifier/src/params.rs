//! Public parameters (IPA over pasta: no trusted setup) as a zkinfer artifact: the header, `k`,
//! a content hash, then halo2's serialization. Loading checks `k`, the exact length and the
//! hash before halo2 parses anything.

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;
use zkinfer_circuits::MAX_K;

use crate::artifacts::{Digest, digest};
use crate::format::{ArtifactKind, FormatError, HEADER_LEN, MAGIC, body};

/// Domain separation of the params hash.
const PERSONAL: &[u8; 16] = b"zkinfer-params\0\0";

/// Length of halo2's serialization of params for `k`: `k`, `2·2^k + 2` compressed points.
pub const fn halo2_params_len(k: u32) -> usize {
    4 + (2 * (1usize << k) + 2) * 32
}

/// Why params cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    /// Bad header.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// `k` outside `1..=MAX_K`.
    #[error("params for k = {0} are not supported (max {MAX_K})")]
    K(u32),
    /// Wrong length for the declared `k`.
    #[error("params for k = {k} must be {expected} bytes, found {found}")]
    Length {
        /// Declared k.
        k: u32,
        /// Expected bytes.
        expected: usize,
        /// Found bytes.
        found: usize,
    },
    /// The content hash does not match: a corrupted or altered file.
    #[error("params content hash mismatch (corrupted or altered file)")]
    Hash,
    /// halo2 rejected the points.
    #[error("params do not parse: {0}")]
    Parse(String),
}

/// Serializes params as an artifact.
pub fn params_to_bytes(params: &Params<EqAffine>) -> Vec<u8> {
    encode_params(params).0
}

/// Serializes params as an artifact and returns it with the params hash (over halo2's
/// serialization), which the artifact also carries.
pub fn encode_params(params: &Params<EqAffine>) -> (Vec<u8>, Digest) {
    let mut raw = Vec::with_capacity(halo2_params_len(params.k()));
    params.write(&mut raw).expect("writing to a Vec cannot fail");
    let mut out = Vec::with_capacity(HEADER_LEN + 36 + raw.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&ArtifactKind::Params.format_version().to_le_bytes());
    out.push(ArtifactKind::Params as u8);
    out.extend_from_slice(&params.k().to_le_bytes());
    let hash = digest(PERSONAL, &raw);
    out.extend_from_slice(&hash);
    out.extend_from_slice(&raw);
    (out, hash)
}

/// Reads params written by [`params_to_bytes`], checking `k`, length and hash; returns the
/// params and their hash.
pub fn params_from_bytes(bytes: &[u8]) -> Result<(Params<EqAffine>, Digest), ParamsError> {
    let body = body(ArtifactKind::Params, bytes, HEADER_LEN + 36 + halo2_params_len(MAX_K))?;
    if body.len() < 36 {
        return Err(ParamsError::Length { k: 0, expected: 36, found: body.len() });
    }
    let k = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
    if k == 0 || k > MAX_K {
        return Err(ParamsError::K(k));
    }
    let raw = &body[36..];
    let expected = halo2_params_len(k);
    if raw.len() != expected {
        return Err(ParamsError::Length { k, expected, found: raw.len() });
    }
    let hash = digest(PERSONAL, raw);
    if hash[..] != body[4..36] {
        return Err(ParamsError::Hash);
    }
    if raw[..4] != k.to_le_bytes() {
        return Err(ParamsError::Parse("k in the header and in the params differ".into()));
    }
    let params = Params::<EqAffine>::read(&mut &raw[..]).map_err(|e| ParamsError::Parse(e.to_string()))?;
    Ok((params, hash))
}
