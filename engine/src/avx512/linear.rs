//! The opening's linear algebra on eight-element vectors, over the elements' words
//! ([`super::words`]: `x · 2^256`), which linear maps carry through unchanged:
//! - [`scale_add`]: `acc[i] ← acc[i] · factor + add[i]` (the combinations of polynomials by
//!   powers of a challenge);
//! - [`Powers`] and [`evaluate`]: a polynomial's value at a point as the sum of its
//!   coefficients times the point's powers, which are computed once per point. The products
//!   are independent, where Horner's rule waits for each product before the next.

use halo2_proofs::pasta::Fp;

use super::field::{self, Consts, LANES, LIMBS, Lanes};
use super::words::{self, load, store};

/// `acc[i] ← acc[i] · factor + add[i]` for the first `8 · ⌊len / 8⌋` elements (the caller
/// does the rest); `acc` and `add` have the same length.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn scale_add(acc: &mut [Fp], factor: Fp, add: &[Fp]) {
    let c = Consts::new::<Fp>();
    let factor = field::splat(field::constant(factor));
    let (acc, add) = (words::as_words_mut(acc), words::as_words(add));
    for (acc, add) in acc.chunks_exact_mut(LANES).zip(add.chunks_exact(LANES)) {
        let scaled = field::mul(&c, &load(acc), &factor);
        store(&field::add(&c, &scaled, &load(add)), acc);
    }
}

/// A point's powers `1, z, z², ...` in Montgomery form (`z^i · 2^260`), eight per vector.
#[derive(Debug)]
pub struct Powers {
    vectors: Vec<Lanes>,
}

impl Powers {
    /// The first `8 · vectors` powers of `z`.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub fn new(z: Fp, vectors: usize) -> Self {
        let c = Consts::new::<Fp>();
        let mut first = [[0u64; LIMBS]; LANES];
        let mut power = Fp::from(1);
        for limbs in first.iter_mut() {
            *limbs = field::constant(power);
            power *= z;
        }
        // `power` is now z^8.
        let step = field::splat(field::constant(power));
        let mut v = field::load(&field::transpose(&first));
        let mut out = Vec::with_capacity(vectors);
        for _ in 0..vectors {
            out.push(field::store(&v));
            v = field::mul(&c, &v, &step);
        }
        Self { vectors: out }
    }

    /// How many coefficients the powers cover.
    pub fn coefficients(&self) -> usize {
        self.vectors.len() * LANES
    }
}

/// `Σ poly[i] · z^i` over the first `8 · ⌊len / 8⌋` coefficients (the caller adds the rest),
/// with `powers` of `z` covering them.
#[target_feature(enable = "avx512f,avx512ifma")]
pub fn evaluate(poly: &[Fp], powers: &Powers) -> Fp {
    let c = Consts::new::<Fp>();
    let coefficients = words::as_words(poly);
    let mut sum = [field::splat([0; LIMBS]); 2];
    // Two sums in flight: each addition waits for the one before in its sum.
    for (i, (chunk, power)) in coefficients.chunks_exact(LANES).zip(&powers.vectors).enumerate() {
        let term = field::mul(&c, &load(chunk), &field::load(power));
        sum[i % 2] = field::add(&c, &sum[i % 2], &term);
    }
    // The lanes' words (the terms are the words of poly[i] · z^i), added as field elements.
    let mut lanes = [Fp::from(0); LANES];
    store(&field::add(&c, &sum[0], &sum[1]), words::as_words_mut(&mut lanes));
    lanes.iter().sum()
}
