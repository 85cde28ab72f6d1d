//! The points of halo2's IPA params the engine needs, read through their public serialization
//! (`Params::write`: `k`, the `2^k` generators, the `2^k` Lagrange-basis generators, `w`, `u`),
//! from a halo2 `Params` or straight from those bytes.

use std::sync::OnceLock;

use group::{Curve, Group, GroupEncoding};
use halo2_proofs::pasta::{Eq, EqAffine};
use halo2_proofs::poly::commitment::Params;

use crate::EngineError;

/// Length of a compressed point.
const POINT_BYTES: usize = 32;
/// Points decompressed per parallel task.
const RUN: usize = 1 << 10;
/// Length of `k` at the start of the serialization.
const K_BYTES: usize = 4;

/// The params' generators.
#[derive(Clone, Debug)]
pub struct ParamsData {
    /// `log2` of the number of generators.
    pub k: u32,
    /// Generators of the monomial basis.
    pub g: Vec<EqAffine>,
    /// Generators of the Lagrange basis (commitments to columns of values).
    pub g_lagrange: Vec<EqAffine>,
    /// The blinding generator.
    pub w: EqAffine,
    /// The generator of the inner-product argument.
    pub u: EqAffine,
    /// `Σ_{j<i} g_lagrange[j]` for `i` in `0..=2^k`, computed when first asked for
    /// ([`ParamsData::lagrange_prefix`]).
    lagrange_prefix: OnceLock<Vec<EqAffine>>,
}

impl ParamsData {
    /// Reads the points of `params`.
    pub fn new(params: &Params<EqAffine>) -> Result<Self, EngineError> {
        let mut bytes = Vec::new();
        params.write(&mut bytes).map_err(|_| EngineError::Params)?;
        // The generators halo2 already holds in memory; only the others are decompressed.
        Self::decompress(&bytes, Some(params.get_g()))
    }

    /// The points of params in halo2's serialization (`Params::write`), each decompressed once
    /// and in parallel, where halo2's `Params::read` decompresses them on one thread: the
    /// prover of a key file needs no halo2 `Params`. The bytes must be params whose hash was
    /// checked (a point that does not decompress is refused, but nothing else is checked).
    pub fn from_raw(raw: &[u8]) -> Result<Self, EngineError> {
        Self::decompress(raw, None)
    }

    /// The points of `raw`, with the generators `g` when already known.
    fn decompress(raw: &[u8], g: Option<Vec<EqAffine>>) -> Result<Self, EngineError> {
        let k = u32::from_le_bytes(
            raw.get(..K_BYTES).ok_or(EngineError::Params)?.try_into().map_err(|_| EngineError::Params)?,
        );
        if k > zkinfer_circuits::MAX_K {
            return Err(EngineError::Params);
        }
        let n = 1usize << k;
        if raw.len() != K_BYTES + (2 * n + 2) * POINT_BYTES {
            return Err(EngineError::Params);
        }
        // Decompressing a point takes a square root: in parallel, a run of points per task.
        let points = |from: usize, count: usize| -> Result<Vec<EqAffine>, EngineError> {
            let start = K_BYTES + from * POINT_BYTES;
            let runs: Vec<&[u8]> = raw
                .get(start..start + count * POINT_BYTES)
                .ok_or(EngineError::Params)?
                .chunks(RUN * POINT_BYTES)
                .collect();
            let decompressed = crate::prover::parallel_map(&runs, |run| {
                run.chunks_exact(POINT_BYTES)
                    .map(|c| {
                        let mut repr = [0u8; POINT_BYTES];
                        repr.copy_from_slice(c);
                        Option::<EqAffine>::from(EqAffine::from_bytes(&repr)).ok_or(EngineError::Params)
                    })
                    .collect::<Result<Vec<_>, _>>()
            });
            decompressed.into_iter().try_fold(Vec::with_capacity(count), |mut all, run| {
                all.extend(run?);
                Ok(all)
            })
        };
        let g = match g {
            Some(g) => g,
            None => points(0, n)?,
        };
        let g_lagrange = points(n, n)?;
        let wu = points(2 * n, 2)?;
        Ok(Self { k, g, g_lagrange, w: wu[0], u: wu[1], lagrange_prefix: OnceLock::new() })
    }

    /// The prefix sums of the Lagrange generators: element `i` is `Σ_{j<i} g_lagrange[j]`
    /// (`2^k + 1` points), so a column that holds one value `v` on rows `a..b` commits to those
    /// rows as `v · (prefix[b] - prefix[a])` ([`crate::msm::commit_runs`]). Computed on the
    /// first call (`2^k` additions), then kept.
    pub fn lagrange_prefix(&self) -> &[EqAffine] {
        self.lagrange_prefix.get_or_init(|| {
            let sums: Vec<Eq> = std::iter::once(Eq::identity())
                .chain(self.g_lagrange.iter().scan(Eq::identity(), |acc, g| {
                    *acc += g;
                    Some(*acc)
                }))
                .collect();
            let mut affine = vec![EqAffine::default(); sums.len()];
            Eq::batch_normalize(&sums, &mut affine);
            affine
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_points_from_the_bytes_are_the_params_points() {
        let params = Params::<EqAffine>::new(5);
        let mut raw = Vec::new();
        params.write(&mut raw).unwrap();
        let (from_params, from_raw) = (ParamsData::new(&params).unwrap(), ParamsData::from_raw(&raw).unwrap());
        assert_eq!(from_raw.k, 5);
        assert_eq!(from_raw.g, params.get_g());
        assert_eq!(
            (&from_raw.g_lagrange, from_raw.w, from_raw.u),
            (&from_params.g_lagrange, from_params.w, from_params.u)
        );
        // A byte short, a byte long, or a point that is not one: refused.
        assert!(matches!(ParamsData::from_raw(&raw[..raw.len() - 1]), Err(EngineError::Params)));
        assert!(matches!(ParamsData::from_raw(&[raw.as_slice(), &[0]].concat()), Err(EngineError::Params)));
        let mut bad = raw.clone();
        bad[K_BYTES..K_BYTES + POINT_BYTES].fill(0xff);
        assert!(matches!(ParamsData::from_raw(&bad), Err(EngineError::Params)));
        assert!(matches!(ParamsData::from_raw(&[]), Err(EngineError::Params)));
    }
}
