//! The points of halo2's IPA params the engine needs, read through their public serialization
//! (`Params::write`: `k`, the `2^k` generators, the `2^k` Lagrange-basis generators, `w`, `u`).

use std::sync::OnceLock;

use group::{Curve, Group, GroupEncoding};
use halo2_proofs::pasta::{Eq, EqAffine};
use halo2_proofs::poly::commitment::Params;

use crate::EngineError;

/// Length of a compressed point.
const POINT_BYTES: usize = 32;
/// Points decompressed per parallel task.
const RUN: usize = 1 << 10;

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
        let k = params.k();
        let n = 1usize << k;
        // Decompressing a point takes a square root: in parallel, a run of points per task.
        let points = |from: usize, count: usize| -> Result<Vec<EqAffine>, EngineError> {
            let runs: Vec<&[u8]> = bytes
                .get(from..from + count * POINT_BYTES)
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
        // The generators halo2 already holds in memory; only the others are decompressed.
        let g = params.get_g();
        let start = 4;
        let g_lagrange = points(start + n * POINT_BYTES, n)?;
        let wu = points(start + 2 * n * POINT_BYTES, 2)?;
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
