//! The FFT on the GPU: upload, convert to Montgomery form, bit-reverse, one butterfly dispatch
//! per stage, convert back, read back.

use ff::Field;
use halo2_proofs::pasta::Fp;

use crate::GpuError;
use crate::convert::{FIELD_WORDS, scalars_to_words, words_to_scalars};
use crate::device::{GpuContext, Kernel};

/// The kernels' parameter block (`FftParams` in fft.wgsl).
#[derive(Clone, Copy, Debug, Default)]
struct FftParams {
    n: u32,
    log_n: u32,
    half: u32,
    stride: u32,
    count: u32,
}

impl FftParams {
    fn words(self, threads_x: u32) -> [u32; 8] {
        [self.n, self.log_n, self.half, self.stride, threads_x, self.count, 0, 0]
    }
}

fn run(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    kernel: &Kernel,
    threads: u32,
    params: FftParams,
    data: &wgpu::Buffer,
    other: Option<&wgpu::Buffer>,
) -> Result<(), GpuError> {
    let (x, y, threads_x) = ctx.grid(threads)?;
    let uniform = ctx.uniform("fft params", &params.words(threads_x));
    let mut buffers = vec![(0, data), (2, &uniform)];
    if let Some(other) = other {
        buffers.insert(1, (1, other));
    }
    let pipeline = kernel.get(ctx);
    let bind_group = ctx.bind(pipeline, &buffers);
    ctx.dispatch(encoder, pipeline, &bind_group, (x, y));
    Ok(())
}

/// In place, the values at the powers of `omega` of the polynomial `values` holds.
pub(crate) fn fft(ctx: &GpuContext, values: &mut [Fp], omega: Fp, log_n: u32) -> Result<(), GpuError> {
    let n = values.len();
    assert_eq!(n, 1 << log_n, "the FFT's length is 2^log_n");
    if n == 1 {
        return Ok(());
    }
    let n32 = u32::try_from(n).map_err(|_| GpuError::TooLarge(format!("an FFT of {n} values")))?;
    let twiddles: Vec<Fp> = std::iter::successors(Some(Fp::ONE), |w| Some(*w * omega)).take(n / 2).collect();
    let data = ctx.storage("fft values", &scalars_to_words(values))?;
    let table = ctx.storage("fft twiddles", &scalars_to_words(&twiddles))?;
    let ordered = ctx.scratch("fft bit-reversed values", n * FIELD_WORDS)?;
    let base = FftParams { n: n32, log_n, ..FftParams::default() };
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    run(ctx, &mut encoder, &k.to_mont, n32, FftParams { count: n32, ..base }, &data, None)?;
    run(ctx, &mut encoder, &k.to_mont, n32 / 2, FftParams { count: n32 / 2, ..base }, &table, None)?;
    run(ctx, &mut encoder, &k.bit_reverse, n32, base, &data, Some(&ordered))?;
    for stage in 0..log_n {
        let half = 1u32 << stage;
        let params = FftParams { half, stride: n32 / (2 * half), ..base };
        run(ctx, &mut encoder, &k.butterfly, n32 / 2, params, &ordered, Some(&table))?;
    }
    run(ctx, &mut encoder, &k.from_mont, n32, FftParams { count: n32, ..base }, &ordered, None)?;
    let words = ctx.read_back(encoder, &ordered)?;
    words_to_scalars(&words, values)
}

/// `(a * b, a + b, a - b)` for each pair, computed by the field kernel (tests of the arithmetic).
pub fn field_ops(ctx: &GpuContext, pairs: &[(Fp, Fp)]) -> Result<Vec<[Fp; 3]>, GpuError> {
    let flat: Vec<Fp> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let count = u32::try_from(pairs.len()).map_err(|_| GpuError::TooLarge("field test".into()))?;
    let data = ctx.storage("field pairs", &scalars_to_words(&flat))?;
    let results = ctx.scratch("field results", pairs.len() * 3 * FIELD_WORDS)?;
    let mut encoder = ctx.encoder();
    let params = FftParams { count, ..FftParams::default() };
    run(ctx, &mut encoder, &ctx.kernels.field_ops, count, params, &data, Some(&results))?;
    let words = ctx.read_back(encoder, &results)?;
    let mut out = vec![Fp::ZERO; pairs.len() * 3];
    words_to_scalars(&words, &mut out)?;
    Ok(out.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
}
