//! The points of halo2's IPA params the engine needs, read through their public serialization
//! (`Params::write`: `k`, the `2^k` generators, the `2^k` Lagrange-basis generators, `w`, `u`).

use group::GroupEncoding;
use halo2_proofs::pasta::EqAffine;
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
        Ok(Self { k, g, g_lagrange, w: wu[0], u: wu[1] })
    }
}
