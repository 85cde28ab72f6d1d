//! The curve kernel's host half (tests of the group law and of Fq on the device).

use halo2_proofs::pasta::{Eq, EqAffine, Fq};

use crate::GpuError;
use crate::convert::{FIELD_WORDS, PROJECTIVE_WORDS, points_to_words, words_to_fq, words_to_projective};
use crate::device::GpuContext;

/// For each pair `(P, Q)`: `P + Q`, `2P` and `x(P) · x(Q)` computed on the device.
pub fn curve_ops(ctx: &GpuContext, pairs: &[(EqAffine, EqAffine)]) -> Result<Vec<(Eq, Eq, Fq)>, GpuError> {
    let flat: Vec<EqAffine> = pairs.iter().flat_map(|(p, q)| [*p, *q]).collect();
    let input = ctx.storage("curve test input", &points_to_words(&flat))?;
    let output = ctx.scratch("curve test output", pairs.len() * (2 * PROJECTIVE_WORDS + FIELD_WORDS))?;
    let pipeline = ctx.kernels.curve_ops.get(ctx);
    let bind_group = ctx.bind(pipeline, &[(0, &input), (1, &output)]);
    let count = u32::try_from(pairs.len()).map_err(|_| GpuError::TooLarge("curve test".into()))?;
    let mut encoder = ctx.encoder();
    ctx.dispatch(&mut encoder, pipeline, &bind_group, (count, 1));
    let words = ctx.read_back(encoder, &output)?;
    words
        .chunks_exact(2 * PROJECTIVE_WORDS + FIELD_WORDS)
        .map(|w| {
            let sum = words_to_projective(&w[..PROJECTIVE_WORDS])?;
            let double = words_to_projective(&w[PROJECTIVE_WORDS..2 * PROJECTIVE_WORDS])?;
            let product = words_to_fq(&w[2 * PROJECTIVE_WORDS..])?;
            Ok((sum, double, product))
        })
        .collect()
}
