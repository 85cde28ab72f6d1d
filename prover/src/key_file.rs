//! The key file (`.zkkey`, written by `zkinfer setup`): a compiled model's proving key, so that
//! `zkinfer prove --key` runs no keygen. It holds the verifying key's commitments (the costliest
//! part of keygen, MSMs: 2.5 of 5.6 s for the LeNet CNN) and the precomputed polynomials (the
//! fixed and permutation columns in coefficient form and on the extended coset, the row
//! indicators: an FFT pair per column, the other 2.2 s), so a prover only assembles the columns
//! and the permutation from the model (about 0.1 s). The polynomials are large (LeNet: about
//! 265 MB, the MLP 784-128-10: 36 MB); they follow the small bincode body raw, with their
//! length and BLAKE2b digest in the body.
//!
//! The file is bound to what it was made for: the compiled model (a digest of its bytes), the
//! params (their hash) and the circuit identity. [`KeyFile::from_bytes`] refuses polynomials
//! whose digest differs (a damaged file; a prover reads them as a stream with [`KeyFile::open`]
//! and [`PolynomialsReader::finish`] checks them at the end), [`KeyFile::check`] a file for another model or
//! params, and [`crate::Prover::with_key_file`] one whose commitments do not give the recorded
//! identity or whose polynomials do not fit the circuit. A file that passes gives exactly the
//! key keygen would compute (the key is a function of the model and params); one that was
//! altered consistently only yields proofs for another circuit identity, or proofs that do not
//! verify, which the prover's self-check refuses to write.

use group::GroupEncoding;
use halo2_proofs::pasta::EqAffine;
use serde::{Deserialize, Serialize};
use zkinfer_circuits::constraints::key::KeyCommitments;
use zkinfer_verifier::format::{ArtifactKind, FormatError, decode_with_tail, encode};
use zkinfer_verifier::{CompiledModel, Digest, hex};

/// Domain separation of the model digest.
const PERSONAL: &[u8; 16] = b"zkinfer-model\0\0\0";
/// Domain separation of the polynomials' digest.
const POLYNOMIALS_PERSONAL: &[u8; 16] = b"zkinfer-keypoly\0";
/// Largest body of a key file (before the polynomials): 2^16 commitments and room for the rest.
pub const MAX_KEY_BODY_BYTES: usize = (1 << 16) * 40 + 4096;
/// Largest polynomial section: 16 GiB, above any circuit up to `MAX_K` rows that a prover's
/// memory holds (the LeNet CNN's is 265 MB at k = 14).
pub const MAX_KEY_POLYNOMIAL_BYTES: u64 = 1 << 34;
/// Largest key file.
pub const MAX_KEY_FILE_BYTES: u64 = MAX_KEY_BODY_BYTES as u64 + MAX_KEY_POLYNOMIAL_BYTES;

/// A compressed curve point.
type PointBytes = [u8; 32];

/// The file's body as stored.
#[derive(Serialize, Deserialize)]
struct Body {
    model_digest: Digest,
    params_hash: Digest,
    circuit_identity: Digest,
    fixed: Vec<PointBytes>,
    permutation: Vec<PointBytes>,
    /// The precomputed polynomials after the body (None: commitments only).
    polynomials: Option<Section>,
}

/// The raw section after the body.
#[derive(Clone, Serialize, Deserialize)]
struct Section {
    len: u64,
    digest: Digest,
}

/// Where a key file's polynomials start (in bytes), and their record.
type Place = (u64, Section);

/// A decoded key file.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// Digest of the compiled model's bytes.
    pub model_digest: Digest,
    /// The params' content hash.
    pub params_hash: Digest,
    /// The circuit identity of the model with these commitments.
    pub circuit_identity: Digest,
    /// The verifying key's commitments.
    pub commitments: KeyCommitments,
    /// The engine's precomputed polynomials, encoded
    /// ([`zkinfer_engine::prover::Precomputed::to_bytes`]); None: the prover computes them.
    pub polynomials: Option<Vec<u8>>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("model_digest", &hex(&self.model_digest))
            .field("params_hash", &hex(&self.params_hash))
            .field("circuit_identity", &hex(&self.circuit_identity))
            .field("commitments", &self.commitments)
            .field("polynomials", &self.polynomials.as_ref().map(|p| format!("{} bytes", p.len())))
            .finish()
    }
}

/// Why a key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// Bad bytes.
    #[error("not a usable key file: {0}")]
    Format(#[from] FormatError),
    /// The file cannot be read.
    #[error("reading the key file {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The system's message.
        message: String,
    },
    /// Larger than [`MAX_KEY_FILE_BYTES`] (or its polynomial section than
    /// [`MAX_KEY_POLYNOMIAL_BYTES`]).
    #[error("the key file is {bytes} bytes, above the limit of {limit}")]
    TooLarge {
        /// Size of the file or its section.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A commitment that is not a curve point.
    #[error("the key file's commitment {0} is not a curve point")]
    Point(usize),
    /// Made for another compiled model.
    #[error("the key file was made for another compiled model (run zkinfer setup again)")]
    Model,
    /// Made with other params.
    #[error("the key file was made with params {found}, these params are {expected}")]
    Params {
        /// The params at hand.
        expected: String,
        /// Recorded in the file.
        found: String,
    },
    /// The polynomials are not the ones the file's digest records.
    #[error("the key file's polynomials are damaged ({found} bytes, digest {digest}; recorded {recorded} bytes)")]
    Damaged {
        /// Bytes after the body.
        found: usize,
        /// Their digest.
        digest: String,
        /// The length recorded.
        recorded: u64,
    },
    /// The commitments give another identity than the file records.
    #[error("the key file records circuit {recorded}, its commitments give circuit {actual}")]
    Identity {
        /// Recorded in the file.
        recorded: String,
        /// From the commitments.
        actual: String,
    },
}

/// Bytes per chunk of the polynomials' digest.
const DIGEST_CHUNK: usize = 1 << 24;
/// Bytes of a chunk's digest.
const CHUNK_DIGEST_BYTES: usize = 32;

/// The digest of the polynomials' encoding: BLAKE2b of the BLAKE2bp digests of its chunks of
/// [`DIGEST_CHUNK`] bytes, which are hashed in parallel (BLAKE2bp, four lanes at once, is about
/// twice BLAKE2b's speed). [`ChunkedDigest`] computes the same as the bytes arrive.
fn polynomials_digest(bytes: &[u8]) -> Digest {
    polynomials_digest_in(bytes, DIGEST_CHUNK)
}

/// [`polynomials_digest`] over chunks of `chunk` bytes.
fn polynomials_digest_in(bytes: &[u8], chunk: usize) -> Digest {
    let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
    let params = chunk_hasher();
    let digests = zkinfer_engine::prover::parallel_map(&chunks, |chunk| params.hash(chunk).as_bytes().to_vec());
    zkinfer_verifier::artifacts::digest(POLYNOMIALS_PERSONAL, &digests.concat())
}

/// The hash of one chunk.
fn chunk_hasher() -> blake2b_simd::blake2bp::Params {
    blake2b_simd::blake2bp::Params::new().hash_length(CHUNK_DIGEST_BYTES).clone()
}

/// [`polynomials_digest`] of bytes given piece by piece.
struct ChunkedDigest {
    chunk: usize,
    state: blake2b_simd::blake2bp::State,
    /// Bytes in the current chunk.
    in_chunk: usize,
    /// The digests of the full chunks.
    digests: Vec<u8>,
}

impl ChunkedDigest {
    fn new(chunk: usize) -> Self {
        Self { chunk, state: chunk_hasher().to_state(), in_chunk: 0, digests: Vec::new() }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let take = (self.chunk - self.in_chunk).min(bytes.len());
            self.state.update(&bytes[..take]);
            self.in_chunk += take;
            if self.in_chunk == self.chunk {
                self.end_chunk();
            }
            bytes = &bytes[take..];
        }
    }

    fn end_chunk(&mut self) {
        let state = std::mem::replace(&mut self.state, chunk_hasher().to_state());
        self.digests.extend_from_slice(state.finalize().as_bytes());
        self.in_chunk = 0;
    }

    fn finish(mut self) -> Digest {
        if self.in_chunk > 0 {
            self.end_chunk();
        }
        zkinfer_verifier::artifacts::digest(POLYNOMIALS_PERSONAL, &self.digests)
    }
}

/// A key file's polynomials as they are read from disk ([`KeyFile::open`]), hashed on the
/// way; [`PolynomialsReader::finish`] checks their length and digest against the file's
/// record.
pub struct PolynomialsReader {
    path: std::path::PathBuf,
    file: std::io::Take<std::fs::File>,
    digest: ChunkedDigest,
    read: u64,
    recorded: Section,
}

impl std::fmt::Debug for PolynomialsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolynomialsReader").field("read", &self.read).field("recorded", &self.recorded.len).finish()
    }
}

impl std::io::Read for PolynomialsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.digest.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

impl PolynomialsReader {
    /// Reads what is left, then refuses polynomials whose length or digest is not the recorded
    /// one ([`KeyFileError::Damaged`]).
    pub fn finish(mut self) -> Result<(), KeyFileError> {
        std::io::copy(&mut self, &mut std::io::sink()).map_err(|e| read_failed(&self.path, &e))?;
        let digest = self.digest.finish();
        if self.read != self.recorded.len || digest != self.recorded.digest {
            return Err(KeyFileError::Damaged {
                found: usize::try_from(self.read).unwrap_or(usize::MAX),
                digest: hex(&digest),
                recorded: self.recorded.len,
            });
        }
        Ok(())
    }
}

/// Opens the key file at `path` and takes its size, refusing one above [`MAX_KEY_FILE_BYTES`]
/// before anything is read.
fn open(path: &std::path::Path) -> Result<(std::fs::File, u64), KeyFileError> {
    let file = std::fs::File::open(path).map_err(|e| read_failed(path, &e))?;
    let size = file.metadata().map_err(|e| read_failed(path, &e))?.len();
    if size > MAX_KEY_FILE_BYTES {
        return Err(KeyFileError::TooLarge { bytes: size, limit: MAX_KEY_FILE_BYTES });
    }
    Ok((file, size))
}

/// [`KeyFileError::Read`] for `path`.
fn read_failed(path: &std::path::Path, e: &std::io::Error) -> KeyFileError {
    KeyFileError::Read { path: path.display().to_string(), message: e.to_string() }
}

/// The digest a key file records for a compiled model.
pub fn model_digest(compiled: &CompiledModel) -> Digest {
    zkinfer_verifier::artifacts::digest(PERSONAL, &compiled.to_bytes())
}

impl KeyFile {
    /// The key file of `compiled` with params `params_hash`, these commitments, the identity
    /// they give and the engine's encoded polynomials.
    pub fn new(
        compiled: &CompiledModel,
        params_hash: Digest,
        commitments: KeyCommitments,
        circuit_identity: Digest,
        polynomials: Option<Vec<u8>>,
    ) -> Self {
        Self { model_digest: model_digest(compiled), params_hash, circuit_identity, commitments, polynomials }
    }

    /// Serializes with the artifact header.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out).unwrap_or_else(|_| unreachable!("writing to memory does not fail"));
        out
    }

    /// Writes [`KeyFile::to_bytes`]'s bytes to `out` without gathering them first (the
    /// polynomials are hundreds of megabytes); returns how many.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<u64> {
        let bytes = |points: &[EqAffine]| points.iter().map(|p| p.to_bytes()).collect();
        let body = Body {
            model_digest: self.model_digest,
            params_hash: self.params_hash,
            circuit_identity: self.circuit_identity,
            fixed: bytes(&self.commitments.fixed),
            permutation: bytes(&self.commitments.permutation),
            polynomials: self
                .polynomials
                .as_deref()
                .map(|p| Section { len: p.len() as u64, digest: polynomials_digest(p) }),
        };
        let head = encode(ArtifactKind::KeyFile, &body);
        out.write_all(&head)?;
        let tail = self.polynomials.as_deref().unwrap_or_default();
        out.write_all(tail)?;
        Ok((head.len() + tail.len()) as u64)
    }

    /// Decodes untrusted bytes: every commitment must be a curve point, and the polynomials
    /// must have the recorded length and digest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyFileError> {
        let (mut file, start) = Self::decode(bytes)?;
        file.polynomials = start.map(|s| bytes[s..].to_vec());
        Ok(file)
    }

    /// Reads the key file at `path` without its polynomials: what it is bound to (model, params,
    /// circuit identity) and the commitments, which is all a catalog of models needs. The
    /// polynomials' length is checked against the file's size; they are neither read nor
    /// hash-checked ([`KeyFile::open`] gives a reader that does both), and the result has none.
    pub fn read_head(path: &std::path::Path) -> Result<Self, KeyFileError> {
        Ok(Self::read_head_and_place(path)?.0)
    }

    /// [`KeyFile::read_head`], and a reader of the polynomials that hashes them as they are read
    /// ([`PolynomialsReader::finish`] checks them), if the file has any: so that a prover
    /// decodes them from the file ([`crate::Prover::with_key_file_at`]) instead of holding it
    /// whole in memory first.
    pub fn open(path: &std::path::Path) -> Result<(Self, Option<PolynomialsReader>), KeyFileError> {
        use std::io::{Read, Seek};
        let (head, mut file, place) = Self::read_head_and_place(path)?;
        let reader = match place {
            Some((start, recorded)) => {
                file.seek(std::io::SeekFrom::Start(start)).map_err(|e| read_failed(path, &e))?;
                let file = file.take(recorded.len);
                let (path, digest) = (path.to_owned(), ChunkedDigest::new(DIGEST_CHUNK));
                Some(PolynomialsReader { path, file, digest, read: 0, recorded })
            }
            None => None,
        };
        Ok((head, reader))
    }

    /// The head, the open file and where its polynomials start with their record.
    fn read_head_and_place(path: &std::path::Path) -> Result<(Self, std::fs::File, Option<Place>), KeyFileError> {
        use std::io::Read;
        let (mut file, size) = open(path)?;
        let mut head = Vec::new();
        let longest_head = (zkinfer_verifier::format::HEADER_LEN + MAX_KEY_BODY_BYTES) as u64;
        file.by_ref().take(longest_head).read_to_end(&mut head).map_err(|e| read_failed(path, &e))?;
        let (body, tail): (Body, &[u8]) = decode_with_tail::<_, MAX_KEY_BODY_BYTES>(ArtifactKind::KeyFile, &head)?;
        let start = (head.len() - tail.len()) as u64;
        // (A file that shrank since its size was taken reads as damaged, not as a panic.)
        let polynomials_len = size.saturating_sub(start);
        match &body.polynomials {
            Some(section) if section.len != polynomials_len => {
                return Err(KeyFileError::Damaged {
                    found: usize::try_from(polynomials_len).unwrap_or(usize::MAX),
                    digest: "not computed".into(),
                    recorded: section.len,
                });
            }
            None if polynomials_len != 0 => {
                let reason = format!("{polynomials_len} trailing bytes");
                return Err(FormatError::Malformed { kind: ArtifactKind::KeyFile, reason }.into());
            }
            _ => {}
        }
        let place = body.polynomials.as_ref().map(|section| (start, section.clone()));
        Ok((Self::from_body(body)?, file, place))
    }

    /// The file without its polynomials, and where they start if it has them (checked).
    fn decode(bytes: &[u8]) -> Result<(Self, Option<usize>), KeyFileError> {
        let (body, tail): (Body, &[u8]) = decode_with_tail::<_, MAX_KEY_BODY_BYTES>(ArtifactKind::KeyFile, bytes)?;
        let start = match &body.polynomials {
            Some(section) => {
                if section.len > MAX_KEY_POLYNOMIAL_BYTES {
                    return Err(KeyFileError::TooLarge { bytes: section.len, limit: MAX_KEY_POLYNOMIAL_BYTES });
                }
                let digest = polynomials_digest(tail);
                if tail.len() as u64 != section.len || digest != section.digest {
                    return Err(KeyFileError::Damaged {
                        found: tail.len(),
                        digest: hex(&digest),
                        recorded: section.len,
                    });
                }
                Some(bytes.len() - tail.len())
            }
            None if tail.is_empty() => None,
            None => {
                let reason = format!("{} trailing bytes", tail.len());
                return Err(FormatError::Malformed { kind: ArtifactKind::KeyFile, reason }.into());
            }
        };
        Ok((Self::from_body(body)?, start))
    }

    /// The file of a decoded body, without polynomials: every commitment must be a curve point.
    fn from_body(body: Body) -> Result<Self, KeyFileError> {
        let mut index = 0;
        let mut points = |encoded: &[PointBytes]| -> Result<Vec<EqAffine>, KeyFileError> {
            encoded
                .iter()
                .map(|b| {
                    index += 1;
                    Option::from(EqAffine::from_bytes(b)).ok_or(KeyFileError::Point(index - 1))
                })
                .collect()
        };
        let commitments = KeyCommitments { fixed: points(&body.fixed)?, permutation: points(&body.permutation)? };
        Ok(Self {
            model_digest: body.model_digest,
            params_hash: body.params_hash,
            circuit_identity: body.circuit_identity,
            commitments,
            polynomials: None,
        })
    }

    /// Refuses the file unless it was made for `compiled` with the params of `params_hash`.
    pub fn check(&self, compiled: &CompiledModel, params_hash: &Digest) -> Result<(), KeyFileError> {
        if self.model_digest != model_digest(compiled) {
            return Err(KeyFileError::Model);
        }
        if &self.params_hash != params_hash {
            return Err(KeyFileError::Params { expected: hex(params_hash), found: hex(&self.params_hash) });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body with no commitments whose section records `len` bytes.
    fn body_recording(len: u64) -> Vec<u8> {
        let body = Body {
            model_digest: [1; 32],
            params_hash: [2; 32],
            circuit_identity: [3; 32],
            fixed: Vec::new(),
            permutation: Vec::new(),
            polynomials: Some(Section { len, digest: polynomials_digest(&[]) }),
        };
        encode(ArtifactKind::KeyFile, &body)
    }

    #[test]
    fn a_section_above_the_limit_is_refused_before_hashing() {
        let too_long = MAX_KEY_POLYNOMIAL_BYTES + 1;
        assert_eq!(
            KeyFile::from_bytes(&body_recording(too_long)),
            Err(KeyFileError::TooLarge { bytes: too_long, limit: MAX_KEY_POLYNOMIAL_BYTES })
        );
        // The same body recording the empty section it has decodes.
        let file = KeyFile::from_bytes(&body_recording(0)).expect("an empty section that matches decodes");
        assert_eq!(file.polynomials, Some(Vec::new()));
    }

    #[test]
    fn a_written_file_decodes_to_the_same_key() {
        let empty = KeyCommitments { fixed: Vec::new(), permutation: Vec::new() };
        let polynomials: Vec<u8> = (0..=255u8).cycle().take(3 * 1000 + 7).collect();
        for polynomials in [None, Some(Vec::new()), Some(polynomials)] {
            let file = KeyFile {
                model_digest: [4; 32],
                params_hash: [5; 32],
                circuit_identity: [6; 32],
                commitments: empty.clone(),
                polynomials,
            };
            let mut written = Vec::new();
            let count = file.write_to(&mut written).expect("writes to memory");
            assert_eq!(count, written.len() as u64);
            // The head alone: the same file without its polynomials.
            let path = std::env::temp_dir().join(format!("zkinfer-key-head-{}.zkkey", std::process::id()));
            std::fs::write(&path, &written).expect("writes a temporary file");
            let head = KeyFile::read_head(&path);
            // Opened: the same head, and a reader of the polynomials that hash-checks them.
            let (opened, reader) = KeyFile::open(&path).expect("opens");
            assert_eq!(opened, KeyFile { polynomials: None, ..file.clone() });
            assert_eq!(reader.is_some(), file.polynomials.is_some());
            if let Some(mut reader) = reader {
                let mut read = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut read).expect("reads");
                assert_eq!(Some(read), file.polynomials);
                assert_eq!(reader.finish(), Ok(()));
                // Finishing drains what was not read.
                let (_, reader) = KeyFile::open(&path).expect("opens");
                assert_eq!(reader.expect("polynomials").finish(), Ok(()));
                // A flipped byte among the polynomials is damage.
                if let Some(last) =
                    written.len().checked_sub(1).filter(|_| !file.polynomials.as_ref().is_some_and(Vec::is_empty))
                {
                    let mut flipped = written.clone();
                    flipped[last] ^= 1;
                    std::fs::write(&path, &flipped).expect("writes a temporary file");
                    let (_, reader) = KeyFile::open(&path).expect("the head is intact");
                    let finished = reader.expect("polynomials").finish();
                    assert!(matches!(finished, Err(KeyFileError::Damaged { .. })), "{finished:?}");
                }
            }
            // One byte more than the recorded polynomials: refused by the length alone.
            std::fs::write(&path, [written.as_slice(), &[0]].concat()).expect("writes a temporary file");
            let longer = KeyFile::read_head(&path);
            std::fs::remove_file(&path).expect("removes the temporary file");
            assert_eq!(head, Ok(KeyFile { polynomials: None, ..file.clone() }));
            if file.polynomials.is_some() {
                assert!(matches!(longer, Err(KeyFileError::Damaged { .. })), "{longer:?}");
            } else {
                assert!(matches!(longer, Err(KeyFileError::Format(FormatError::Malformed { .. }))), "{longer:?}");
            }
            assert_eq!(KeyFile::from_bytes(&written), Ok(file));
        }
    }

    #[test]
    fn the_digest_of_pieces_equals_the_digest_of_the_whole() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        for len in [0, 1, 63, 64, 65, 128, 300] {
            let whole = polynomials_digest_in(&bytes[..len], 64);
            for piece in [1, 7, 64, 100, 300] {
                let mut pieces = ChunkedDigest::new(64);
                bytes[..len].chunks(piece).for_each(|p| pieces.update(p));
                assert_eq!(pieces.finish(), whole, "{len} bytes in pieces of {piece}");
            }
        }
        assert_ne!(polynomials_digest_in(&bytes, 64), polynomials_digest_in(&bytes, 128), "the chunks count");
    }

    #[test]
    fn a_missing_file_is_a_read_error() {
        let path = std::env::temp_dir().join("zkinfer-no-such-key-file.zkkey");
        assert!(matches!(KeyFile::open(&path), Err(KeyFileError::Read { .. })));
        assert!(matches!(KeyFile::read_head(&path), Err(KeyFileError::Read { .. })));
    }
}
