//! Public parameters (IPA over pasta: no trusted setup) as a zkinfer artifact: the header, `k`,
//! a content hash, then halo2's serialization. Loading checks `k`, the exact length and the
//! hash before halo2 parses anything.

use ff::PrimeField;
use group::GroupEncoding;
use halo2_proofs::arithmetic::{Coordinates, CurveAffine};
use halo2_proofs::pasta::{EqAffine, Fq};
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
    /// Consistent, but not the params halo2 generates for this `k` (substituted params).
    #[error("these are not the standard params for k = {0} (their hash is not in KNOWN_PARAMS_HASHES)")]
    Unknown(u32),
}

/// Content hashes of the params halo2_proofs 0.4.1 generates with `Params::new(k)` for every
/// supported `k`. IPA params come from hashing to the curve (no trusted setup), so they are the
/// same everywhere; loading refuses any other params, so a substituted set (e.g. one whose
/// discrete logs someone knows) is caught before the circuit identity is even compared.
/// `cargo run --release -p zkinfer-prover --example params_hashes -- 4 18` prints this table;
/// a test regenerates the small ones.
pub const KNOWN_PARAMS_HASHES: [(u32, &str); 15] = [
    (4, "25f82c7fa8710390991ab04e6ea079692e33a55e43736dc30b68df46687f14c3"),
    (5, "32b3b8e950ca3c92c222ba607873ad4da9c6c83c14290f5d1e2d7b1c6abc3367"),
    (6, "042845f52dbc52fc29115ff4d206d4fe9fece97e70db1c30ea5987d1ecbff290"),
    (7, "c1a07d013a630ee5ac747ad1968e04192f6ed1a196908f7b1f30e263b927ae93"),
    (8, "02ad5f4200958efc2b32e4139ec1f42a78f13fce0c9a46d06827ac0605d6f655"),
    (9, "ec248e16ab456e004e78e209c2acc90c1fa4076998a62595880b2c36cb30bbbd"),
    (10, "b2c2b791003ebc8c475572256c327323957ca5fa3c7e86a635be4a7203813cb8"),
    (11, "50c680b44047089774bfabf95ce34782036628bbf5297ec57c3eb4d232936737"),
    (12, "8ad30e58687f53e08f0b70c5d4c9a76af2cd40b7313558f248569a8388b401db"),
    (13, "0274b79774676a9bf641f3f82401eb50aaa54d1fe9b5fd1f2e1c1ecf31775841"),
    (14, "87e05a37223899e7a6720f34285dc5e2e31d59cc085ac1092b3ddc5bbacd24af"),
    (15, "4b3afeba6b784feaf38e71bce865dfbdd10ed6bd1bba30d54cdfa73102cd1cb7"),
    (16, "f12e21b69fe862ef523269c37297af825f9df8b6247e36fe9f50b29f3865b23f"),
    (17, "4a652fd83093e4eb4635255e6a1ac0cc21e125f9b71371459b66313bdda4db73"),
    (18, "42fe11b788ca23399f209d61576e2d3612beaadc97e00254823b805f958a9cb6"),
];

/// The known content hash of the params for `k`.
pub fn known_params_hash(k: u32) -> Option<Digest> {
    let (_, hex) = KNOWN_PARAMS_HASHES.iter().find(|(kk, _)| *kk == k)?;
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
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
    let checked = check_params_bytes(bytes)?;
    let params = Params::<EqAffine>::read(&mut &checked.raw[..]).map_err(|e| ParamsError::Parse(e.to_string()))?;
    Ok((params, checked.hash))
}

/// Params bytes whose header, length and content hash are checked (the standard params of
/// their `k`), not parsed yet.
#[derive(Clone, Copy, Debug)]
pub struct CheckedParams<'a> {
    /// `log2` of the number of generators.
    pub k: u32,
    /// The content hash.
    pub hash: Digest,
    /// halo2's serialization: `k`, the generators, the Lagrange generators, `w`, `u`.
    pub raw: &'a [u8],
}

/// Checks params written by [`params_to_bytes`] (header, `k`, length, content hash, one of the
/// standard params) without parsing their points.
pub fn check_params_bytes(bytes: &[u8]) -> Result<CheckedParams<'_>, ParamsError> {
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
    if known_params_hash(k) != Some(hash) {
        return Err(ParamsError::Unknown(k));
    }
    Ok(CheckedParams { k, hash, raw })
}

/// Bytes of a compressed point.
const POINT_BYTES: usize = 32;
/// Bytes of an uncompressed point: `x` then `y`, each canonical little-endian.
pub const UNCOMPRESSED_POINT_BYTES: usize = 64;

/// The points of the params zkinfer's own verifier uses: every generator `G_i` (the
/// inner-product argument's final check), the first Lagrange generators (the commitment to the
/// public values), `W` and `U`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierParams {
    /// `log2` of the number of generators.
    pub k: u32,
    /// The `2^k` generators.
    pub g: Vec<EqAffine>,
    /// The first Lagrange generators (as many as the circuit has public values).
    pub g_lagrange: Vec<EqAffine>,
    /// The blinding generator.
    pub w: EqAffine,
    /// The inner-product argument's generator.
    pub u: EqAffine,
}

impl VerifierParams {
    /// The points of `params`, with the first `lagrange` Lagrange generators.
    pub fn from_params(params: &Params<EqAffine>, lagrange: usize) -> Result<Self, ParamsError> {
        let mut raw = Vec::with_capacity(halo2_params_len(params.k()));
        params.write(&mut raw).map_err(|e| ParamsError::Parse(e.to_string()))?;
        let n = 1usize << params.k();
        let point = |i: usize| decompress(&raw, 4 + i * POINT_BYTES);
        Ok(Self {
            k: params.k(),
            g: params.get_g(),
            g_lagrange: (0..lagrange.min(n)).map(|i| point(n + i)).collect::<Result<_, _>>()?,
            w: point(2 * n)?,
            u: point(2 * n + 1)?,
        })
    }

    /// The points of checked params, with `G` and the first `lagrange` Lagrange generators given
    /// uncompressed (`points`, [`uncompressed`], in that order) so that no square root is
    /// needed: each must be on the curve and compress to the checked bytes, so these are
    /// exactly the standard params' points.
    pub fn from_checked(checked: &CheckedParams<'_>, points: &[u8], lagrange: usize) -> Result<Self, ParamsError> {
        let n = 1usize << checked.k;
        let lagrange = lagrange.min(n);
        let expected = (n + lagrange) * UNCOMPRESSED_POINT_BYTES;
        if points.len() != expected {
            return Err(ParamsError::Length { k: checked.k, expected, found: points.len() });
        }
        let raw = checked.raw;
        // Point `i` of the params file: `G` is 0..n, the Lagrange generators n..2n.
        let checked_point = |i: usize, xy: &[u8]| {
            let expected = raw.get(4 + i * POINT_BYTES..4 + (i + 1) * POINT_BYTES);
            if expected != Some(compressed(xy).as_slice()) {
                return Err(ParamsError::Parse(format!("uncompressed point {i} differs from the params")));
            }
            point_from_uncompressed(xy)
        };
        let (g, l) = points.split_at(n * UNCOMPRESSED_POINT_BYTES);
        let g = g.chunks_exact(UNCOMPRESSED_POINT_BYTES).enumerate().map(|(i, xy)| checked_point(i, xy));
        let g_lagrange = l.chunks_exact(UNCOMPRESSED_POINT_BYTES).enumerate().map(|(i, xy)| checked_point(n + i, xy));
        let point = |i: usize| decompress(raw, 4 + i * POINT_BYTES);
        Ok(Self {
            k: checked.k,
            g: g.collect::<Result<_, _>>()?,
            g_lagrange: g_lagrange.collect::<Result<_, _>>()?,
            w: point(2 * n)?,
            u: point(2 * n + 1)?,
        })
    }
}

/// Points as `x ‖ y`, 64 bytes each (the params' points in a bundle).
pub fn uncompressed<'a>(points: impl IntoIterator<Item = &'a EqAffine>) -> Result<Vec<u8>, ParamsError> {
    let mut out = Vec::new();
    for p in points {
        let c =
            Option::from(p.coordinates()).ok_or_else(|| ParamsError::Parse("a generator is the identity".into()))?;
        let c: Coordinates<EqAffine> = c;
        out.extend_from_slice(c.x().to_repr().as_ref());
        out.extend_from_slice(c.y().to_repr().as_ref());
    }
    Ok(out)
}

/// The compressed form of an uncompressed point's bytes (pasta's: `x` with the parity of `y`
/// in the top bit), without decoding it.
fn compressed(xy: &[u8]) -> [u8; POINT_BYTES] {
    let mut out = [0u8; POINT_BYTES];
    out.copy_from_slice(&xy[..POINT_BYTES]);
    out[POINT_BYTES - 1] |= (xy[POINT_BYTES] & 1) << 7;
    out
}

/// The point `x ‖ y` ([`UNCOMPRESSED_POINT_BYTES`]) if it is on the curve (never the
/// identity). The check runs on 32-bit limbs ([`crate::limb32`]: pasta's check costs more on
/// WebAssembly, and a bundle's generators are thousands of points), then pasta takes the
/// coordinates unchecked.
pub fn point_from_uncompressed(xy: &[u8]) -> Result<EqAffine, ParamsError> {
    let bad = || ParamsError::Parse("an uncompressed generator is not a curve point".into());
    let coordinate = |b: &[u8]| -> Result<[u8; 32], ParamsError> { b.try_into().map_err(|_| bad()) };
    let (x, y) = (coordinate(xy.get(..32).ok_or_else(bad)?)?, coordinate(xy.get(32..64).ok_or_else(bad)?)?);
    if !crate::limb32::is_curve_point(&x, &y) {
        return Err(bad());
    }
    let field = |repr: [u8; 32]| Option::<Fq>::from(Fq::from_repr(repr)).ok_or_else(bad);
    Ok(EqAffine::from_xy_unchecked(field(x)?, field(y)?))
}

fn decompress(raw: &[u8], at: usize) -> Result<EqAffine, ParamsError> {
    let bad = || ParamsError::Parse(format!("no curve point at byte {at} of the params"));
    let bytes = raw.get(at..at + POINT_BYTES).ok_or_else(bad)?;
    let mut repr = [0u8; POINT_BYTES];
    repr.copy_from_slice(bytes);
    Option::from(EqAffine::from_bytes(&repr)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use ff::Field;

    use super::*;
    use crate::bundle::VerificationBundle;

    const BUNDLE: &[u8] = include_bytes!("../tests/corpus/digits_mlp.zkv");

    fn small(n: u8) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[0] = n;
        out
    }

    /// `a + b` on little-endian 256-bit integers (no overflow in these tests).
    fn add(a: &[u8], b: &[u8; 32]) -> Vec<u8> {
        let mut carry = 0u16;
        a.iter()
            .zip(b)
            .map(|(x, y)| {
                let s = u16::from(*x) + u16::from(*y) + carry;
                carry = s >> 8;
                s as u8
            })
            .collect()
    }

    /// The bundle's generators load as the params' points; a generator whose bytes are another
    /// curve point, off the curve or not canonical is refused, each for its reason.
    #[test]
    fn uncompressed_generators_must_be_the_params_points() {
        let bundle = VerificationBundle::from_bytes(BUNDLE).expect("the corpus bundle");
        let vp = &bundle.verifier_params;
        let checked = check_params_bytes(&bundle.params_bytes).expect("standard params");
        let points = uncompressed(vp.g.iter().chain(&vp.g_lagrange)).expect("valid");
        let lagrange = vp.g_lagrange.len();
        assert_eq!(VerifierParams::from_checked(&checked, &points, lagrange).as_ref(), Ok(vp));

        // q as an integer: (q - 1) + 1.
        let modulus: [u8; 32] = add(&(-Fq::ONE).to_repr(), &small(1)).try_into().expect("valid");
        let at = 5 * UNCOMPRESSED_POINT_BYTES;
        let y = &points[at + 32..at + 64];
        let alter = |x: Option<Vec<u8>>, y: Vec<u8>| {
            let mut p = points.clone();
            if let Some(x) = x {
                p[at..at + 32].copy_from_slice(&x);
            }
            p[at + 32..at + 64].copy_from_slice(&y);
            VerifierParams::from_checked(&checked, &p, lagrange).expect_err("refused").to_string()
        };
        let minus_y =
            (-Option::<Fq>::from(Fq::from_repr(y.try_into().expect("valid"))).expect("valid")).to_repr().to_vec();
        let two = small(2);
        let differs = "uncompressed point 5 differs from the params";
        let off_curve = "an uncompressed generator is not a curve point";
        // -P: on the curve, the other parity.
        assert!(alter(None, minus_y).contains(differs));
        // y + 2: the same parity, off the curve.
        assert!(alter(None, add(y, &two)).contains(off_curve));
        // y + 2q: the same parity and value, not canonical.
        let twice_q: [u8; 32] = add(&modulus, &modulus).try_into().expect("valid");
        assert!(alter(None, add(y, &twice_q)).contains(off_curve));
        // Another x.
        assert!(alter(Some(add(&points[at..at + 32], &two)), y.to_vec()).contains(differs));
    }
}
