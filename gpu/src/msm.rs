//! The MSM on the GPU: Pippenger's bucket method with signed digits. The host cuts each scalar
//! into digits of at most c bits, signed so that a window has 2^(c-1) buckets (digit `±d` puts
//! the point, or its negation, in bucket `d - 1`; see [`Windows`]), sorts the points of every
//! window by bucket (a counting sort) and cuts every bucket into runs of at most [`RUN_LENGTH`]
//! points; the GPU adds each run (`bucket_sum`), then the sums of a bucket cut into several
//! runs (`partial_sum`, as many steps as it takes), and reduces segments of buckets
//! (`bucket_reduce`); the host finishes each window with a small MSM over the segments
//! (`Σ T + (lo + 1) · R`) and the windows by Horner's rule.
//!
//! Runs and segments are short because Mesa's llvmpipe (the software adapter CI runs on) ends
//! every loop of a shader invocation after 65,535 iterations in all, without an error, and one
//! point addition costs a few hundred of them (its products loop over their rows): a thread
//! that adds a thousand points there returns a wrong sum. Runs also spread a crowded bucket
//! (small scalars put many points in a few buckets) over many threads.

use ff::PrimeField;
use group::{Curve, Group};

use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use rayon::prelude::*;
use zkinfer_engine::backend::{Backend, CpuBackend};

use crate::GpuError;
use crate::convert::{AFFINE_WORDS, PROJECTIVE_WORDS, words_to_projective};
use crate::device::{AdapterKind, GpuContext};

/// An entry's flag: the point enters negated (a negative digit, or a negative small scalar).
const NEGATE_BIT: u32 = 1 << NEGATE_SHIFT;
/// The position of [`NEGATE_BIT`].
const NEGATE_SHIFT: u32 = 31;
/// Bits in a full-width scalar.
const SCALAR_BITS: u32 = 255;
/// The widest window, in bits (buckets per window: 2^(c-1), the digits being signed).
const MAX_WINDOW_BITS: u32 = 16;
/// The narrowest window.
const MIN_WINDOW_BITS: u32 = 4;
/// The most points (or partial sums) one thread adds in one step.
const RUN_LENGTH: u32 = 32;
/// The widest reduce segment (`2^bits` buckets, two additions each) on a software adapter,
/// within llvmpipe's loop limit.
const SOFTWARE_SEGMENT_BITS: u32 = 4;
/// Reduce threads to aim for: a thread adds its segment's buckets one after another, so a
/// segment is cut shorter until this many threads share the work (the host then finishes more
/// segments, in parallel).
const REDUCE_THREADS: usize = 1 << 14;

/// The scalars of one MSM.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scalars<'a> {
    /// Full-width field elements.
    Full(&'a [Fp]),
    /// Small signed integers.
    Small(&'a [i64]),
}

/// One scalar as the digit extractor sees it: its magnitude plus the windows' recoding addend
/// ([`Windows::addend`]) as little-endian bytes. (A small scalar's sign is kept apart, in
/// [`signs`]: full-width scalars have none to read.)
#[derive(Clone, Copy)]
struct Magnitude {
    bytes: [u8; 32],
}

impl Magnitude {
    fn new(magnitude: [u8; 32], addend: &[u64; 4]) -> Self {
        let mut carry = false;
        let mut bytes = [0u8; 32];
        for ((out, limb), add) in bytes.chunks_exact_mut(8).zip(magnitude.chunks_exact(8)).zip(addend) {
            let limb = u64::from_le_bytes([limb[0], limb[1], limb[2], limb[3], limb[4], limb[5], limb[6], limb[7]]);
            let (sum, over) = limb.overflowing_add(*add);
            let (sum, over_carry) = sum.overflowing_add(u64::from(carry));
            carry = over || over_carry;
            out.copy_from_slice(&sum.to_le_bytes());
        }
        // The scalar has at most `bits` bits and the addend is below the top window's first bit,
        // so the sum fits the windows' `bits + 1` ≤ 256 bits.
        debug_assert!(!carry, "a recoded scalar beyond 256 bits");
        Self { bytes }
    }

    /// The `bits`-bit digit starting at bit `start` (before its window's offset).
    fn digit(&self, start: u32, bits: u32) -> u32 {
        let byte = (start / 8) as usize;
        let mut window = 0u32;
        for k in 0..3 {
            if let Some(b) = self.bytes.get(byte + k) {
                window |= u32::from(*b) << (8 * k);
            }
        }
        (window >> (start % 8)) & ((1 << bits) - 1)
    }
}

/// The scalars' width in bits: the field's for full-width scalars, the widest magnitude's for
/// small ones.
fn scalar_bits(scalars: Scalars<'_>) -> u32 {
    match scalars {
        Scalars::Full(_) => SCALAR_BITS,
        Scalars::Small(values) => {
            let widest = values.par_iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
            64 - widest.leading_zeros()
        }
    }
}

fn magnitudes(scalars: Scalars<'_>, addend: &[u64; 4]) -> Vec<Magnitude> {
    match scalars {
        Scalars::Full(values) => values.par_iter().map(|s| Magnitude::new(s.to_repr(), addend)).collect(),
        Scalars::Small(values) => values.par_iter().map(|v| small_magnitude(*v, addend)).collect(),
    }
}

fn small_magnitude(value: i64, addend: &[u64; 4]) -> Magnitude {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&value.unsigned_abs().to_le_bytes());
    Magnitude::new(bytes, addend)
}

/// Which scalars are negative: small ones only (full-width scalars are field elements).
fn signs(scalars: Scalars<'_>) -> Option<Vec<bool>> {
    match scalars {
        Scalars::Full(_) => None,
        Scalars::Small(values) => Some(values.par_iter().map(|v| *v < 0).collect()),
    }
}

/// The additions an MSM of `n` points takes with windows of at most `c` bits over `bits` bits,
/// as a model: per window, about one per point (the bucket sums) and two per bucket (the
/// reduce), with 2^(c-1) buckets.
fn modelled_additions(n: usize, bits: u32, c: u32) -> usize {
    bits.div_ceil(c) as usize * (n + (2usize << (c - 1)))
}

/// The window width for `n` points and `bits`-bit (recoded) scalars: the one with the fewest
/// [`modelled_additions`], the narrower on a tie.
fn window_bits(n: usize, bits: u32) -> u32 {
    let widest = MAX_WINDOW_BITS.min(bits.max(1));
    let narrowest = MIN_WINDOW_BITS.min(widest);
    (narrowest..=widest).min_by_key(|&c| (modelled_additions(n, bits, c), c)).unwrap_or(widest)
}

/// The windows of an MSM: at most `c` bits each, `bits` in all, their widths balanced. Windows
/// of c bits and a narrow top one would crowd the top window's few buckets: 255 bits in 12-bit
/// windows leave a top window of 3 bits, whose few buckets would each take an eighth of the
/// points (three steps of sums instead of one).
///
/// The digits are signed: a window of `w` bits below the top one takes a digit from
/// `[-2^(w-1), 2^(w-1))`, the top window one from `[0, 2^(w-1)]`, so every window needs
/// 2^(c-1) buckets (digit `±d` in bucket `d - 1`). The scalar plus [`Windows::addend`] has, in
/// each window, the digit plus [`Windows::offset`]: the digits come from the sum's bits with no
/// carry between windows. A scalar of `b` bits needs windows over `b + 1` bits (the top digit
/// can reach 2^(w-1)).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Windows {
    /// The widest window, in bits.
    c: u32,
    /// Each window's first bit, and one past the last window's last bit.
    starts: Vec<u32>,
}

impl Windows {
    fn balanced(bits: u32, c: u32) -> Self {
        let count = bits.div_ceil(c).max(1);
        let (width, wider) = (bits / count, bits % count);
        // The lowest `wider` windows take one bit more.
        let starts = (0..=count).map(|w| w * width + w.min(wider)).collect();
        Self { c, starts }
    }

    fn count(&self) -> u32 {
        (self.starts.len() - 1) as u32
    }

    /// Window `w`'s first bit and width.
    fn span(&self, w: u32) -> (u32, u32) {
        let start = self.starts[w as usize];
        (start, self.starts[w as usize + 1] - start)
    }

    /// What window `w`'s bits of the recoded scalar exceed its digit by: `2^(w-1)` for a window
    /// of `w` bits below the top one, 0 for the top window.
    fn offset(&self, w: u32) -> u32 {
        if w + 1 == self.count() { 0 } else { 1 << (self.span(w).1 - 1) }
    }

    /// The recoding addend: `2^(start + w - 1)` for every window below the top one, so below the
    /// top window's first bit (a 256-bit integer, little-endian limbs).
    fn addend(&self) -> [u64; 4] {
        let mut addend = [0u64; 4];
        for w in 0..self.count().saturating_sub(1) {
            let (start, width) = self.span(w);
            let bit = start + width - 1;
            addend[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        addend
    }

    /// Buckets per window.
    fn buckets(&self) -> usize {
        1 << (self.c - 1)
    }
}

/// The reduce segment, as log2 of its buckets: at most half the `bucket_bits` (rounded up),
/// shorter until about [`REDUCE_THREADS`] segments share the `all_buckets` of a pass, within
/// the software limit.
fn reduce_segment_bits(bucket_bits: u32, all_buckets: usize, kind: AdapterKind) -> u32 {
    let spread = (all_buckets / REDUCE_THREADS).max(2).ilog2();
    let bits = bucket_bits.div_ceil(2).min(spread);
    match kind {
        AdapterKind::Software => bits.min(SOFTWARE_SEGMENT_BITS),
        _ => bits,
    }
}

/// Scalars per chunk of the digit pass (a chunk's scalars stay in cache while every window's
/// digit is taken from them).
const DIGIT_CHUNK: usize = 1 << 14;

/// The digits of a pass's windows (each window's bits of the recoded scalars: the digits plus
/// the window's offset), taken in one parallel pass over the scalars: `chunks[t]` holds, for
/// chunk `t` of [`DIGIT_CHUNK`] scalars, those of each window of the pass, one window after the
/// other. (c ≤ [`MAX_WINDOW_BITS`], so they fit a u16.)
struct PassDigits {
    windows: usize,
    chunks: Vec<Vec<u16>>,
}

impl PassDigits {
    fn new(scalars: &[Magnitude], pass: &[u32], layout: &Windows) -> Self {
        let chunks = scalars
            .par_chunks(DIGIT_CHUNK)
            .map(|chunk| {
                let mut digits = vec![0u16; pass.len() * chunk.len()];
                for (window_digits, &window) in digits.chunks_exact_mut(chunk.len()).zip(pass) {
                    let (start, width) = layout.span(window);
                    for (d, s) in window_digits.iter_mut().zip(chunk) {
                        // A digit has at most MAX_WINDOW_BITS = 16 bits.
                        *d = s.digit(start, width) as u16;
                    }
                }
                digits
            })
            .collect();
        Self { windows: pass.len(), chunks }
    }

    /// The digits of the pass's `k`-th window, scalar by scalar.
    fn window(&self, k: usize) -> impl Iterator<Item = u32> + Clone + '_ {
        self.chunks.iter().flat_map(move |chunk| {
            let len = chunk.len() / self.windows;
            chunk[k * len..(k + 1) * len].iter().map(|&d| u32::from(d))
        })
    }
}

/// One window's counting sort into `entries` (one per scalar), from the window's bits of the
/// recoded scalars and its `offset`: the digit `d = bits - offset` puts the point in bucket
/// `|d| - 1`, negated when `d` and the scalar (`negative`, if the scalars have signs) differ
/// in sign; `offsets[b]..offsets[b + 1]` are the entries of bucket `b` (digit 0 adds nothing:
/// no entry).
fn sort_window(
    digits: impl Iterator<Item = u32> + Clone,
    negative: Option<&[bool]>,
    offset: u32,
    buckets: usize,
    entries: &mut [u32],
) -> Vec<u32> {
    // The digit's magnitude (bucket + 1, or 0) and sign, without a branch on the sign.
    let digit = |bits: u32| {
        let d = bits as i32 - offset as i32;
        (d.unsigned_abs() as usize, d < 0)
    };
    let mut offsets = vec![0u32; buckets + 1];
    for bits in digits.clone() {
        let (magnitude, _) = digit(bits);
        if magnitude != 0 {
            offsets[magnitude] += 1;
        }
    }
    for b in 0..buckets {
        offsets[b + 1] += offsets[b];
    }
    let mut next = offsets.clone();
    for (i, bits) in digits.enumerate() {
        let (magnitude, negative_digit) = digit(bits);
        if magnitude != 0 {
            let slot = &mut next[magnitude - 1];
            let negate = negative_digit != negative.is_some_and(|n| n[i]);
            entries[*slot as usize] = i as u32 | (u32::from(negate) << NEGATE_SHIFT);
            *slot += 1;
        }
    }
    offsets
}

/// The host's plan of one pass: the points of each window sorted by digit, and the runs of
/// every step (the first over `entries`, each later one over the previous step's sums; see
/// [`plan_steps`]).
struct PassPlan {
    /// The pass's windows one after another, `n` entries each.
    entries: Vec<u32>,
    steps: Vec<Vec<u32>>,
}

impl PassPlan {
    fn new(
        scalars: &[Magnitude],
        negative: Option<&[bool]>,
        pass: &[u32],
        layout: &Windows,
        phases: &mut Phases,
    ) -> Self {
        let n = scalars.len();
        let digits = PassDigits::new(scalars, pass, layout);
        phases.mark("sort: digits");
        let mut entries = vec![0u32; pass.len() * n];
        // Each window sorts its entries and cuts its buckets into the first step's runs.
        let windows: Vec<(Vec<u32>, Vec<u32>)> = entries
            .par_chunks_mut(n)
            .enumerate()
            .map(|(k, window_entries)| {
                let offset = layout.offset(pass[k]);
                let offsets = sort_window(digits.window(k), negative, offset, layout.buckets(), window_entries);
                let base = (k * n) as u32;
                let stretches: Vec<(u32, u32)> = offsets.windows(2).map(|o| (base + o[0], base + o[1])).collect();
                cut_runs(&stretches)
            })
            .collect();
        phases.mark("sort: windows");
        let mut pairs = Vec::with_capacity(windows.iter().map(|(p, _)| p.len()).sum());
        let mut counts = Vec::with_capacity(windows.iter().map(|(_, c)| c.len()).sum());
        for (p, c) in windows {
            pairs.extend_from_slice(&p);
            counts.extend_from_slice(&c);
        }
        let steps = plan_steps(pairs, counts);
        phases.mark("sort: runs");
        Self { entries, steps }
    }
}

/// `Σ scalars[i] · bases[i]` on the GPU.
pub(crate) fn msm(ctx: &GpuContext, scalars: Scalars<'_>, bases: &[EqAffine]) -> Result<Eq, GpuError> {
    let n = bases.len();
    // Points beyond one binding go in chunks.
    let chunk = ctx.binding_holds(AFFINE_WORDS).clamp(1, NEGATE_BIT as usize);
    if n > chunk {
        let mut sum = Eq::identity();
        for start in (0..n).step_by(chunk) {
            let end = (start + chunk).min(n);
            let part = match scalars {
                Scalars::Full(s) => Scalars::Full(&s[start..end]),
                Scalars::Small(s) => Scalars::Small(&s[start..end]),
            };
            sum += msm(ctx, part, &bases[start..end])?;
        }
        return Ok(sum);
    }
    let mut phases = Phases::new(ctx.profiling());
    let scalar_bits = scalar_bits(scalars);
    if n == 0 || scalar_bits == 0 {
        return Ok(Eq::identity());
    }
    // Signed digits need one bit more than the scalars.
    let bits = scalar_bits + 1;
    let layout = Windows::balanced(bits, window_bits(n, bits));
    let magnitudes = magnitudes(scalars, &layout.addend());
    let signs = signs(scalars);
    phases.mark("digits");
    let (c, windows) = (layout.c, layout.count());
    let buckets = layout.buckets();
    let segment_bits = reduce_segment_bits(c - 1, windows as usize * buckets, ctx.adapter().kind);
    let segment = 1usize << segment_bits;
    let segments = buckets / segment;

    // Windows per pass: the entry and sum buffers must fit one binding each.
    let sums_per_window = buckets + n / RUN_LENGTH as usize + 1;
    let per_window = (sums_per_window * PROJECTIVE_WORDS).max(n) as u64 * 4;
    let per_pass = (ctx.max_binding() / per_window).clamp(1, u64::from(windows)) as u32;

    let points = ctx.kept_bases.buffer(ctx, bases)?;
    phases.mark("points (kept or uploaded)");
    let mut window_sums = vec![Eq::identity(); windows as usize];
    for first in (0..windows).step_by(per_pass as usize) {
        let pass: Vec<u32> = (first..(first + per_pass).min(windows)).collect();
        let plan = PassPlan::new(&magnitudes, signs.as_deref(), &pass, &layout, &mut phases);
        let shape = PassShape { n, windows: pass.len(), buckets, segment, segments };
        let reduced = run_pass(ctx, &points, &plan, shape, &mut phases)?;
        let sums: Vec<Eq> = reduced
            .par_chunks_exact(segments * 2 * PROJECTIVE_WORDS)
            .map(|words| finish_window(words, segment))
            .collect::<Result<_, GpuError>>()?;
        for (&w, sum) in pass.iter().zip(sums) {
            window_sums[w as usize] = sum;
        }
        phases.mark("finish windows");
    }
    // Horner over the windows, the highest first.
    let mut acc = Eq::identity();
    for (w, sum) in window_sums.iter().enumerate().rev() {
        for _ in 0..layout.span(w as u32).1 {
            acc = acc.double();
        }
        acc += sum;
    }
    phases.report(&format!("msm n={n} bits={bits} c={c} windows={windows} segment={segment}"));
    Ok(acc)
}

/// Phase times of one MSM, printed when the context profiles ([`GpuContext::set_profiling`]).
struct Phases {
    on: bool,
    last: std::time::Instant,
    times: Vec<(&'static str, f64)>,
}

impl Phases {
    fn new(on: bool) -> Self {
        Self { on, last: std::time::Instant::now(), times: Vec::new() }
    }

    /// The time since the last mark goes to `phase` (phases repeated over passes add up).
    fn mark(&mut self, phase: &'static str) {
        if !self.on {
            return;
        }
        let ms = self.last.elapsed().as_secs_f64() * 1e3;
        match self.times.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, total)) => *total += ms,
            None => self.times.push((phase, ms)),
        }
        self.last = std::time::Instant::now();
    }

    fn report(&self, what: &str) {
        if self.on {
            let parts: Vec<String> = self.times.iter().map(|(p, ms)| format!("{p} {ms:.1} ms")).collect();
            eprintln!("{what}: {}", parts.join(", "));
        }
    }
}

/// `Σ_segments T + (lo + 1) · R` for one window's reduced segments (bucket `b` holds the
/// digits `±(b + 1)`).
fn finish_window(words: &[u32], segment: usize) -> Result<Eq, GpuError> {
    let pair =
        |w: &[u32]| Ok((words_to_projective(&w[..PROJECTIVE_WORDS])?, words_to_projective(&w[PROJECTIVE_WORDS..])?));
    // One window per thread (the caller's): converting inside a window in parallel as well was
    // measured slower (H200, 16 cores: 2^14 terms 5.6 -> 10.7 ms, 2^20 14 -> 22 ms).
    let pairs: Vec<(Eq, Eq)> = words.chunks_exact(2 * PROJECTIVE_WORDS).map(pair).collect::<Result<_, GpuError>>()?;
    let totals: Eq = pairs.iter().map(|(t, _)| *t).sum();
    let running: Vec<Eq> = pairs.iter().map(|(_, r)| *r).collect();
    let mut affine = vec![Eq::identity().to_affine(); running.len()];
    Eq::batch_normalize(&running, &mut affine);
    let lows: Vec<i64> = (0..running.len()).map(|s| (s * segment + 1) as i64).collect();
    Ok(totals + CpuBackend.msm_small(&lows, &affine))
}

/// Cuts each stretch `[start, end)` into runs of at most [`RUN_LENGTH`] (an empty stretch into
/// one empty run). Returns the runs as (start, end) pairs and the number of runs per stretch.
fn cut_runs(stretches: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut pairs = Vec::with_capacity(2 * stretches.len());
    let mut counts = Vec::with_capacity(stretches.len());
    for &(start, end) in stretches {
        let count = (end - start).div_ceil(RUN_LENGTH).max(1);
        for r in 0..count {
            let from = start + r * RUN_LENGTH;
            pairs.extend([from, (from + RUN_LENGTH).min(end)]);
        }
        counts.push(count);
    }
    (pairs, counts)
}

/// The steps that add every bucket's points, from the first step's runs (`pairs`) and the
/// number of runs of each bucket (`counts`): each later step adds the previous step's sums,
/// until every bucket has one sum. The last step's sums come in bucket order (one run per
/// bucket).
fn plan_steps(pairs: Vec<u32>, counts: Vec<u32>) -> Vec<Vec<u32>> {
    let mut steps = vec![pairs];
    let mut counts = counts;
    while counts.iter().any(|&k| k != 1) {
        // Bucket i's sums are the next `counts[i]` outputs of this step.
        let mut at = 0;
        let stretches: Vec<(u32, u32)> = counts
            .iter()
            .map(|&k| {
                at += k;
                (at - k, at)
            })
            .collect();
        let (pairs, next) = cut_runs(&stretches);
        steps.push(pairs);
        counts = next;
    }
    steps
}

/// The sizes of one pass.
#[derive(Clone, Copy)]
struct PassShape {
    n: usize,
    windows: usize,
    buckets: usize,
    segment: usize,
    segments: usize,
}

fn run_pass(
    ctx: &GpuContext,
    points: &wgpu::Buffer,
    plan: &PassPlan,
    shape: PassShape,
    phases: &mut Phases,
) -> Result<Vec<u32>, GpuError> {
    let too_large = |what: &str| GpuError::TooLarge(format!("MSM {what}"));
    let PassShape { n, windows, buckets, segment, segments } = shape;
    let entries = ctx.storage("msm entries", &plan.entries)?;
    let k = &ctx.kernels;
    let mut encoder = ctx.encoder();
    let mut sums: Option<wgpu::Buffer> = None;
    for pairs in &plan.steps {
        let runs = pairs.len() / 2;
        let threads = u32::try_from(runs).map_err(|_| too_large("runs"))?;
        let (x, y, threads_x) = ctx.grid(threads)?;
        let uniform =
            ctx.uniform("msm params", &[n as u32, buckets as u32, windows as u32, 0, 0, threads_x, threads, 0]);
        let run_buffer = ctx.storage("msm runs", pairs)?;
        let out = ctx.scratch("msm sums", runs * PROJECTIVE_WORDS)?;
        // The first step adds points, the later ones the previous step's sums.
        let (pipeline, bind_group) = match &sums {
            None => {
                let pipeline = k.bucket_sum.get(ctx);
                let buffers = [(0, points), (1, &run_buffer), (2, &entries), (3, &out), (5, &uniform)];
                (pipeline, ctx.bind(pipeline, &buffers))
            }
            Some(previous) => {
                let pipeline = k.partial_sum.get(ctx);
                let buffers = [(1, &run_buffer), (3, &out), (5, &uniform), (6, previous)];
                (pipeline, ctx.bind(pipeline, &buffers))
            }
        };
        ctx.dispatch(&mut encoder, pipeline, &bind_group, (x, y));
        sums = Some(out);
    }
    let bucket_sums = sums.ok_or(GpuError::BadResult("an MSM pass without steps"))?;
    if phases.on {
        ctx.finish_now(std::mem::replace(&mut encoder, ctx.encoder()))?;
        phases.mark("bucket sums (GPU)");
    }
    debug_assert_eq!(bucket_sums.size() as usize, windows * buckets * PROJECTIVE_WORDS * 4);

    let reduced = ctx.scratch("msm reduced", windows * segments * 2 * PROJECTIVE_WORDS)?;
    let threads = u32::try_from(windows * segments).map_err(|_| too_large("segments"))?;
    let (x, y, threads_x) = ctx.grid(threads)?;
    let uniform = ctx.uniform(
        "msm params",
        &[n as u32, buckets as u32, windows as u32, segment as u32, segments as u32, threads_x, 0, 0],
    );
    let pipeline = k.bucket_reduce.get(ctx);
    let bind_group = ctx.bind(pipeline, &[(3, &bucket_sums), (4, &reduced), (5, &uniform)]);
    ctx.dispatch(&mut encoder, pipeline, &bind_group, (x, y));
    if phases.on {
        ctx.finish_now(std::mem::replace(&mut encoder, ctx.encoder()))?;
        phases.mark("bucket reduce (GPU)");
    }
    let words = ctx.read_back(encoder, &reduced);
    phases.mark("read back");
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signed digits of `scalar` over `layout`, lowest window first.
    fn signed_digits(scalar: &Magnitude, layout: &Windows) -> Vec<i64> {
        (0..layout.count())
            .map(|w| {
                let (start, width) = layout.span(w);
                i64::from(scalar.digit(start, width)) - i64::from(layout.offset(w))
            })
            .collect()
    }

    #[test]
    fn signed_digits_recombine_to_the_scalar_within_the_buckets() {
        use ff::Field;
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut full = vec![Fp::ZERO, Fp::ONE, -Fp::ONE, -Fp::from(2), Fp::from(u64::MAX)];
        full.extend((0..20).map(|_| Fp::random(&mut rng)));
        for c in 2..=MAX_WINDOW_BITS {
            let layout = Windows::balanced(SCALAR_BITS + 1, c);
            for scalar in &full {
                let m = Magnitude::new(scalar.to_repr(), &layout.addend());
                let digits = signed_digits(&m, &layout);
                let mut back = Fp::ZERO;
                for (w, d) in digits.iter().enumerate() {
                    // Every digit has a bucket: |d| ≤ 2^(c-1); only the top one is never negative.
                    assert!(d.unsigned_abs() <= layout.buckets() as u64, "c = {c}: digit {d}");
                    assert!(*d >= 0 || w + 1 < digits.len(), "c = {c}: negative top digit");
                    let power = Fp::from(2).pow_vartime([u64::from(layout.span(w as u32).0)]);
                    let magnitude = Fp::from(d.unsigned_abs()) * power;
                    back += if *d < 0 { -magnitude } else { magnitude };
                }
                assert_eq!(back, *scalar, "c = {c}");
            }
        }
        // Small scalars, exactly: every width from 1 to 64 bits, at its extremes.
        for bits in 1..=64u32 {
            let widest = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
            for c in 2..=(bits + 1).min(MAX_WINDOW_BITS) {
                let layout = Windows::balanced(bits + 1, c);
                for magnitude in [widest, widest / 2 + 1, 1, widest / 3] {
                    let mut bytes = [0u8; 32];
                    bytes[..8].copy_from_slice(&magnitude.to_le_bytes());
                    let m = Magnitude::new(bytes, &layout.addend());
                    let back: i128 = signed_digits(&m, &layout)
                        .iter()
                        .enumerate()
                        .map(|(w, d)| {
                            assert!(d.unsigned_abs() <= layout.buckets() as u64);
                            i128::from(*d) << layout.span(w as u32).0
                        })
                        .sum();
                    assert_eq!(back, i128::from(magnitude), "{bits} bits, c = {c}");
                }
            }
        }
    }

    #[test]
    fn the_sort_groups_points_by_bucket_and_sign() {
        // One window of 3 bits (top: digits 0..=4 in buckets 0..=3) and small signed scalars.
        let values = [3i64, 0, 1, -3, 2, 4];
        let layout = Windows::balanced(3, 3);
        let scalars: Vec<Magnitude> = values.iter().map(|v| small_magnitude(*v, &layout.addend())).collect();
        let negative = signs(Scalars::Small(&values));
        let mut entries = vec![0u32; scalars.len()];
        let digits = PassDigits::new(&scalars, &[0], &layout);
        let offsets =
            sort_window(digits.window(0), negative.as_deref(), layout.offset(0), layout.buckets(), &mut entries);
        assert_eq!(offsets, [0, 1, 2, 4, 5]);
        assert_eq!(&entries[..5], &[2, 4, 0, 3 | NEGATE_BIT, 5]);
        // Two windows of 2 bits: 3 = 4 - 1 (the low digit -1, negated; the top digit 1), and
        // -3 the other way round.
        let values = [3i64, -3];
        let layout = Windows::balanced(4, 2);
        let scalars: Vec<Magnitude> = values.iter().map(|v| small_magnitude(*v, &layout.addend())).collect();
        let negative = signs(Scalars::Small(&values));
        let digits = PassDigits::new(&scalars, &[0, 1], &layout);
        let mut low = vec![0u32; 2];
        assert_eq!(sort_window(digits.window(0), negative.as_deref(), layout.offset(0), 2, &mut low), [0, 2, 2]);
        assert_eq!(low, [NEGATE_BIT, 1]);
        let mut top = vec![0u32; 2];
        assert_eq!(sort_window(digits.window(1), negative.as_deref(), layout.offset(1), 2, &mut top), [0, 2, 2]);
        assert_eq!(top, [0, 1 | NEGATE_BIT]);
        // Full-width scalars have no sign: only a negative digit negates.
        let mut full = vec![0u32; 2];
        assert_eq!(sort_window(digits.window(0), None, layout.offset(0), 2, &mut full), [0, 2, 2]);
        assert_eq!(full, [NEGATE_BIT, 1 | NEGATE_BIT]);
    }

    #[test]
    fn the_window_width_minimises_the_modelled_additions() {
        // 2^20 points, 256 bits: 16 windows of 16 bits (2^15 buckets each).
        assert_eq!(window_bits(1 << 20, 256), 16);
        // 2^14: 24 windows of 11 bits (1,024 buckets), against 22 of 12 (2,048 buckets).
        assert_eq!(window_bits(1 << 14, 256), 11);
        assert!(modelled_additions(1 << 14, 256, 11) < modelled_additions(1 << 14, 256, 12));
        // Narrow scalars take one window.
        assert_eq!(window_bits(1 << 14, 9), 9);
        assert_eq!(window_bits(5, 2), 2);
    }

    #[test]
    fn windows_are_balanced() {
        // 255 bits with c = 12: 22 windows of 11 or 12 bits, not 21 of 12 and one of 3.
        let w = Windows::balanced(255, 12);
        assert_eq!(w.count(), 22);
        let widths: Vec<u32> = (0..w.count()).map(|k| w.span(k).1).collect();
        assert!(widths.iter().all(|&b| b == 11 || b == 12), "{widths:?}");
        assert_eq!(w.starts.last(), Some(&255));
        // Widths that divide the bits stay as they are; one window takes them all.
        assert_eq!(Windows::balanced(255, 15).starts, (0..=17).map(|k| 15 * k).collect::<Vec<_>>());
        assert_eq!(Windows::balanced(12, 12).starts, [0, 12]);
        assert_eq!(Windows::balanced(1, 4).starts, [0, 1]);
    }

    #[test]
    fn reduce_segments_spread_over_threads() {
        // 2^20 points: 16 windows of 2^15 buckets over 2^14 threads, 32 buckets each.
        assert_eq!(reduce_segment_bits(15, 16 << 15, AdapterKind::Hardware), 5);
        // Few buckets: the shortest segment, two buckets.
        assert_eq!(reduce_segment_bits(8, 2 << 8, AdapterKind::Hardware), 1);
        // Never beyond ⌈c/2⌉ bits, nor the software limit.
        assert_eq!(reduce_segment_bits(6, 1 << 30, AdapterKind::Hardware), 3);
        assert_eq!(reduce_segment_bits(16, 1 << 30, AdapterKind::Software), SOFTWARE_SEGMENT_BITS);
    }

    #[test]
    fn runs_are_short_and_cover_every_bucket() {
        let (pairs, counts) = cut_runs(&[(0, 0), (0, 70), (70, 71)]);
        assert_eq!(pairs, [0, 0, 0, 32, 32, 64, 64, 70, 70, 71]);
        assert_eq!(counts, [1, 3, 1]);
    }

    #[test]
    fn steps_end_with_one_sum_per_bucket() {
        // A bucket of 5,000 points: 157 runs, then 5, then 1.
        let (pairs, counts) = cut_runs(&[(0, 0), (0, 5000), (5000, 5001)]);
        let steps = plan_steps(pairs, counts);
        let runs: Vec<usize> = steps.iter().map(|s| s.len() / 2).collect();
        assert_eq!(runs, [159, 7, 3]);
        assert_eq!(steps[2], [0, 1, 1, 6, 6, 7]);
        // Short buckets need one step.
        let (pairs, counts) = cut_runs(&[(0, 3), (3, 3)]);
        assert_eq!(plan_steps(pairs, counts), [vec![0, 3, 3, 3]]);
    }
}
