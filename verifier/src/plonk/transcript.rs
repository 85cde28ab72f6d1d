//! Reading a proof: halo2's BLAKE2b transcript over the proof bytes, with typed errors that
//! say where the proof stopped being readable.

use std::io::Cursor;

use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::transcript::{Blake2bRead, Challenge255, EncodedChallenge, Transcript, TranscriptRead};

/// Why the proof cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// The proof ends before a point or scalar, or holds bytes that are not a valid point
    /// (compressed, on the curve) or a canonical scalar.
    #[error("the proof has no valid {what} at byte {offset}")]
    Unreadable {
        /// "point" or "scalar".
        what: &'static str,
        /// Where it should start.
        offset: usize,
    },
    /// Absorbing a known value failed (cannot happen for valid points).
    #[error("the transcript refused a known {0}")]
    Absorb(&'static str),
}

/// Bytes of a compressed point and of a scalar in the proof.
const ELEMENT_BYTES: usize = 32;

/// The proof's transcript, read front to back.
pub(crate) struct Reader<'a> {
    inner: Blake2bRead<Cursor<&'a [u8]>, EqAffine, Challenge255<EqAffine>>,
    len: usize,
    /// Bytes read so far (halo2's reader does not expose its position).
    offset: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(proof: &'a [u8]) -> Self {
        Self { inner: Blake2bRead::init(Cursor::new(proof)), len: proof.len(), offset: 0 }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.len.saturating_sub(self.offset)
    }

    /// One element read by `read` (`what` names it in the error), the offset kept.
    fn element<T>(
        &mut self,
        what: &'static str,
        read: impl FnOnce(&mut Blake2bRead<Cursor<&'a [u8]>, EqAffine, Challenge255<EqAffine>>) -> std::io::Result<T>,
    ) -> Result<T, TranscriptError> {
        let offset = self.offset;
        let value = read(&mut self.inner).map_err(|_| TranscriptError::Unreadable { what, offset })?;
        self.offset += ELEMENT_BYTES;
        Ok(value)
    }

    pub(crate) fn point(&mut self) -> Result<EqAffine, TranscriptError> {
        self.element("point", |t| t.read_point())
    }

    pub(crate) fn points(&mut self, count: usize) -> Result<Vec<EqAffine>, TranscriptError> {
        (0..count).map(|_| self.point()).collect()
    }

    pub(crate) fn scalar(&mut self) -> Result<Fp, TranscriptError> {
        self.element("scalar", |t| t.read_scalar())
    }

    pub(crate) fn scalars(&mut self, count: usize) -> Result<Vec<Fp>, TranscriptError> {
        (0..count).map(|_| self.scalar()).collect()
    }

    pub(crate) fn challenge(&mut self) -> Fp {
        self.inner.squeeze_challenge().get_scalar()
    }

    pub(crate) fn absorb_scalar(&mut self, v: Fp) -> Result<(), TranscriptError> {
        self.inner.common_scalar(v).map_err(|_| TranscriptError::Absorb("scalar"))
    }

    pub(crate) fn absorb_point(&mut self, p: EqAffine) -> Result<(), TranscriptError> {
        self.inner.common_point(p).map_err(|_| TranscriptError::Absorb("point"))
    }
}
