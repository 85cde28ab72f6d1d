//! The FFT on the GPU: upload, convert to Montgomery form, bit-reverse, one butterfly dispatch
//! per stage, convert back, read back. The twiddle tables stay on the device ([`KeptTwiddles`]):
//! a proof's FFTs use a few roots of unity, each many times. Values beyond one binding are
//! split in halves by one level on the host ([`fft_in_halves`]).

use std::sync::Mutex;

use ff::Field;
use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

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

/// Twiddle tables kept: a proof's FFTs take the domain's root, the extended domain's and their
/// inverses.
const KEPT_TABLES: usize = 4;
/// Twiddles computed per parallel task (each task starts from its own power of the root).
const TWIDDLE_CHUNK: usize = 1 << 12;

/// One kept table: `omega^k` for `k` below `2^(log_n - 1)`, in Montgomery form on the device.
struct KeptTable {
    omega: Fp,
    log_n: u32,
    buffer: wgpu::Buffer,
}

/// The twiddle tables on the device, the most recently used first; the key is the root and
/// the length, compared exactly.
#[derive(Default)]
pub(crate) struct KeptTwiddles {
    tables: Mutex<Vec<KeptTable>>,
}

impl std::fmt::Debug for KeptTwiddles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let logs: Vec<u32> = tables.iter().map(|t| t.log_n).collect();
        f.debug_struct("KeptTwiddles").field("log_n", &logs).finish()
    }
}

impl KeptTwiddles {
    /// The table for `omega` and `2^log_n` points: a kept one, or one computed in Montgomery
    /// form on the host and uploaded whole (so a call on another thread can use it at once),
    /// then kept.
    fn table(&self, ctx: &GpuContext, omega: Fp, log_n: u32) -> Result<wgpu::Buffer, GpuError> {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = tables.iter().position(|t| t.omega == omega && t.log_n == log_n) {
            let table = tables.remove(found);
            let buffer = table.buffer.clone();
            tables.insert(0, table);
            return Ok(buffer);
        }
        let radix = Fp::from(2).pow_vartime([ctx.field_form().radix_bits()]);
        let table = twiddles(omega, radix, 1 << (log_n - 1));
        let buffer = ctx.storage("fft twiddles", &scalars_to_words(&table))?;
        tables.insert(0, KeptTable { omega, log_n, buffer: buffer.clone() });
        tables.truncate(KEPT_TABLES);
        Ok(buffer)
    }
}

/// The power of `omega` that chunk `c` of [`TWIDDLE_CHUNK`] powers starts from.
fn chunk_start(omega: Fp, c: usize) -> Fp {
    omega.pow_vartime([(c * TWIDDLE_CHUNK) as u64])
}

/// `scale · omega^k` for `k` in `0..len`, in parallel chunks (`scale`: the Montgomery radix, so
/// the table's canonical words are the powers in Montgomery form).
fn twiddles(omega: Fp, scale: Fp, len: usize) -> Vec<Fp> {
    let mut out = vec![Fp::ONE; len];
    out.par_chunks_mut(TWIDDLE_CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut w = scale * chunk_start(omega, c);
        for t in chunk {
            *t = w;
            w *= omega;
        }
    });
    out
}

/// The smallest FFT (log2) that is split in halves to fit one binding: below it the host's
/// share would be most of the work, and the FFT is refused as too large (the CPU runs it).
const MIN_SPLIT_LOG: u32 = 10;

/// In place, the values at the powers of `omega` of the polynomial `values` holds; in halves
/// (recursively) where one binding does not hold the values.
pub(crate) fn fft(ctx: &GpuContext, values: &mut [Fp], omega: Fp, log_n: u32) -> Result<(), GpuError> {
    let n = values.len();
    assert_eq!(n, 1 << log_n, "the FFT's length is 2^log_n");
    if n == 1 {
        return Ok(());
    }
    if n > ctx.binding_holds(FIELD_WORDS) {
        return fft_in_halves(ctx, values, omega, log_n);
    }
    fft_whole(ctx, values, omega, log_n)
}

/// One decimation-in-frequency level on the host, then each half on the device: with
/// `h = n / 2`, `a_j = x_j + x_(j+h)` and `b_j = (x_j - x_(j+h))·omega^j` for `j < h` have as
/// transforms (at the powers of `omega²`) the even and the odd outputs.
fn fft_in_halves(ctx: &GpuContext, values: &mut [Fp], omega: Fp, log_n: u32) -> Result<(), GpuError> {
    if log_n <= MIN_SPLIT_LOG {
        return Err(GpuError::TooLarge(format!(
            "an FFT of 2^{log_n} values in bindings of {} bytes",
            ctx.max_binding()
        )));
    }
    let half = values.len() / 2;
    let (low, high) = values.split_at_mut(half);
    low.par_chunks_mut(TWIDDLE_CHUNK).zip(high.par_chunks_mut(TWIDDLE_CHUNK)).enumerate().for_each(|(c, (a, b))| {
        let mut w = chunk_start(omega, c);
        for (x, y) in a.iter_mut().zip(b) {
            let (sum, difference) = (*x + *y, *x - *y);
            *x = sum;
            *y = difference * w;
            w *= omega;
        }
    });
    let square = omega.square();
    fft(ctx, low, square, log_n - 1)?;
    fft(ctx, high, square, log_n - 1)?;
    let (low, high) = values.split_at(half);
    let interleaved: Vec<Fp> = low.par_iter().zip(high).flat_map_iter(|(&even, &odd)| [even, odd]).collect();
    values.copy_from_slice(&interleaved);
    Ok(())
}

/// [`fft`] in one piece on the device.
fn fft_whole(ctx: &GpuContext, values: &mut [Fp], omega: Fp, log_n: u32) -> Result<(), GpuError> {
    let n = values.len();
    let n32 = u32::try_from(n).map_err(|_| GpuError::TooLarge(format!("an FFT of {n} values")))?;
    let data = ctx.storage("fft values", &scalars_to_words(values))?;
    let ordered = ctx.scratch("fft bit-reversed values", n * FIELD_WORDS)?;
    let base = FftParams { n: n32, log_n, ..FftParams::default() };
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    let table = ctx.kept_twiddles.table(ctx, omega, log_n)?;
    run(ctx, &mut encoder, &k.to_mont, n32, FftParams { count: n32, ..base }, &data, None)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twiddles_are_the_powers_in_order() {
        let (omega, scale) = (Fp::from(7), Fp::from(3));
        let expected: Vec<Fp> =
            std::iter::successors(Some(scale), |w| Some(*w * omega)).take(3 * TWIDDLE_CHUNK + 5).collect();
        assert_eq!(twiddles(omega, scale, expected.len()), expected);
        assert_eq!(twiddles(omega, scale, 1), [scale]);
    }
}
