//! The envelope of every file zkinfer writes: magic, format version, artifact kind, then a
//! bincode body. Decoding untrusted bytes checks each of these and a size limit first, and
//! never panics.

use serde::{Serialize, de::DeserializeOwned};

/// First bytes of every zkinfer artifact.
pub const MAGIC: [u8; 8] = *b"ZKINFER\0";
/// Length of the header (magic, version, kind).
pub const HEADER_LEN: usize = MAGIC.len() + 2 + 1;

/// Which artifact a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ArtifactKind {
    /// A compiled model (`.zkm`).
    CompiledModel = 1,
    /// A proof envelope (`.zkp`).
    Proof = 2,
    /// Public parameters for one `k` (params cache).
    Params = 3,
    /// A verification bundle (`.zkv`).
    Bundle = 4,
    /// A model's proving key for its prover (`.zkkey`, `zkinfer setup`): the verifying key's
    /// commitments and the precomputed polynomials.
    KeyFile = 5,
}

impl ArtifactKind {
    /// The format version of this kind that this build reads and writes. Compiled models are at
    /// version 4 since layouts gained the clamp form (version 3: the function-table form,
    /// version 2: the linear layout and the weight offset); bundles, which hold a compiled
    /// model, at version 6 for the same reason (version 5: the verifying key's commitments
    /// stored uncompressed like the params' points a verifier uses; version 4: compressed; `G`
    /// and the Lagrange prefix uncompressed since version 4, `G` only in version 3). Key files are
    /// at version 2 since they carry the precomputed polynomials (version 1: commitments only).
    pub const fn format_version(self) -> u16 {
        match self {
            Self::CompiledModel => 4,
            Self::Bundle => 6,
            Self::KeyFile => 2,
            Self::Proof | Self::Params => 1,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::CompiledModel),
            2 => Some(Self::Proof),
            3 => Some(Self::Params),
            4 => Some(Self::Bundle),
            5 => Some(Self::KeyFile),
            _ => None,
        }
    }
}

/// Why bytes could not be decoded as an artifact.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Larger than the limit for its kind.
    #[error("{kind:?} is {bytes} bytes, above the limit of {limit}")]
    TooLarge {
        /// Expected kind.
        kind: ArtifactKind,
        /// Size.
        bytes: usize,
        /// Limit.
        limit: usize,
    },
    /// Not a zkinfer file.
    #[error("not a zkinfer file (bad magic)")]
    BadMagic,
    /// Another format version.
    #[error("format version {found}; this build reads version {expected}")]
    Version {
        /// In the file.
        found: u16,
        /// Supported.
        expected: u16,
    },
    /// Another kind of artifact.
    #[error("expected a {expected:?} file, found {found}")]
    WrongKind {
        /// Expected.
        expected: ArtifactKind,
        /// Found (kind byte, described).
        found: String,
    },
    /// The body does not decode.
    #[error("malformed {kind:?}: {reason}")]
    Malformed {
        /// Kind.
        kind: ArtifactKind,
        /// Decoder message.
        reason: String,
    },
}

/// The bincode configuration of every artifact body: variable-length integers, little endian;
/// decoding also counts bytes and claimed allocations against `LIMIT`.
fn config<const LIMIT: usize>() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<LIMIT>()
}

/// Encodes an artifact: header, then the bincode body.
pub fn encode<T: Serialize>(kind: ArtifactKind, value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + 1024);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&kind.format_version().to_le_bytes());
    out.push(kind as u8);
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .expect("serializing zkinfer's own types cannot fail");
    out.extend_from_slice(&body);
    out
}

/// The kind of a zkinfer artifact, from its header alone (None: not a zkinfer file).
pub fn peek_kind(bytes: &[u8]) -> Option<ArtifactKind> {
    (bytes.len() >= HEADER_LEN && bytes[..MAGIC.len()] == MAGIC).then(|| ArtifactKind::from_byte(bytes[10])).flatten()
}

/// Checks the header and returns the body.
pub fn body(kind: ArtifactKind, bytes: &[u8], limit: usize) -> Result<&[u8], FormatError> {
    if bytes.len() > limit {
        return Err(FormatError::TooLarge { kind, bytes: bytes.len(), limit });
    }
    if bytes.len() < HEADER_LEN || bytes[..MAGIC.len()] != MAGIC {
        return Err(FormatError::BadMagic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    match ArtifactKind::from_byte(bytes[10]) {
        Some(k) if k == kind && version != kind.format_version() => {
            Err(FormatError::Version { found: version, expected: kind.format_version() })
        }
        Some(k) if k == kind => Ok(&bytes[HEADER_LEN..]),
        Some(k) => Err(FormatError::WrongKind { expected: kind, found: format!("{k:?}") }),
        None => Err(FormatError::WrongKind { expected: kind, found: format!("unknown kind {}", bytes[10]) }),
    }
}

/// Decodes an artifact of `kind` whose whole size is at most `LIMIT` bytes; the body must be
/// consumed exactly.
pub fn decode<T: DeserializeOwned, const LIMIT: usize>(kind: ArtifactKind, bytes: &[u8]) -> Result<T, FormatError> {
    let body = body(kind, bytes, LIMIT)?;
    let (value, used) = bincode::serde::decode_from_slice(body, config::<LIMIT>())
        .map_err(|e| FormatError::Malformed { kind, reason: e.to_string() })?;
    if used != body.len() {
        return Err(FormatError::Malformed { kind, reason: format!("{} trailing bytes", body.len() - used) });
    }
    Ok(value)
}

/// Decodes an artifact of `kind` whose bincode body (at most `LIMIT` bytes) is followed by a raw
/// section of any length (a key file's polynomials); returns the value and that section.
pub fn decode_with_tail<T: DeserializeOwned, const LIMIT: usize>(
    kind: ArtifactKind,
    bytes: &[u8],
) -> Result<(T, &[u8]), FormatError> {
    let body = body(kind, bytes, usize::MAX)?;
    let (value, used) = bincode::serde::decode_from_slice(body, config::<LIMIT>())
        .map_err(|e| FormatError::Malformed { kind, reason: e.to_string() })?;
    Ok((value, &body[used..]))
}

/// A byte vector in an artifact body encoded as bytes rather than as a sequence of `u8`s (the
/// same bincode encoding: a length, then the bytes), so that decoding copies them at once
/// instead of visiting them one at a time. Use with `#[serde(with = "crate::format::bytes")]`.
pub(crate) mod bytes {
    use serde::Serializer;
    use serde::de::{Deserializer, Error, SeqAccess, Visitor};

    pub(crate) fn serialize<S: Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }

    struct BytesVisitor;

    impl<'de> Visitor<'de> for BytesVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }

        fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
            let mut out = Vec::new();
            while let Some(b) = seq.next_element()? {
                out.push(b);
            }
            Ok(out)
        }
    }
}
