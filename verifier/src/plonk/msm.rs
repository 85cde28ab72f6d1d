//! The multi-scalar multiplication the verification ends in: terms over the proof's and key's
//! points plus scalars for the params' generators `G`, `W` and `U` (halo2's `MSM`, over the
//! points a [`VerifierParams`] holds).

use ff::{Field, PrimeField};
use group::Group;
use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};

use crate::params::VerifierParams;

/// `Σ s_i · P_i + Σ g_i · G_i + w · W + u · U`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Msm {
    terms: Vec<(Fp, EqAffine)>,
    g: Vec<Fp>,
    w: Fp,
    u: Fp,
}

impl Msm {
    /// Adds `scalar · point`.
    pub(crate) fn append_term(&mut self, scalar: Fp, point: EqAffine) {
        self.terms.push((scalar, point));
    }

    /// Adds `other`.
    pub(crate) fn add_msm(&mut self, other: &Msm) {
        self.terms.extend_from_slice(&other.terms);
        self.add_to_g_scalars(&other.g);
        self.w += other.w;
        self.u += other.u;
    }

    /// Multiplies every scalar by `factor`.
    pub(crate) fn scale(&mut self, factor: Fp) {
        self.terms.iter_mut().for_each(|(s, _)| *s *= factor);
        self.g.iter_mut().for_each(|s| *s *= factor);
        self.w *= factor;
        self.u *= factor;
    }

    /// Adds `scalars` to the scalars of `G_0, G_1, ...`.
    pub(crate) fn add_to_g_scalars(&mut self, scalars: &[Fp]) {
        if self.g.len() < scalars.len() {
            self.g.resize(scalars.len(), Fp::ZERO);
        }
        self.g.iter_mut().zip(scalars).for_each(|(g, s)| *g += s);
    }

    /// Adds `scalar` to the scalar of `W`.
    pub(crate) fn add_to_w_scalar(&mut self, scalar: Fp) {
        self.w += scalar;
    }

    /// Adds `scalar` to the scalar of `U`.
    pub(crate) fn add_to_u_scalar(&mut self, scalar: Fp) {
        self.u += scalar;
    }

    /// Whether the sum is the identity. `None` when it has more `G` scalars than `params` has
    /// generators.
    pub(crate) fn is_identity(&self, params: &VerifierParams) -> Option<bool> {
        if self.g.len() > params.g.len() {
            return None;
        }
        let (mut scalars, mut bases): (Vec<Fp>, Vec<EqAffine>) = self.terms.iter().copied().unzip();
        scalars.extend([self.w, self.u]);
        bases.extend([params.w, params.u]);
        scalars.extend_from_slice(&self.g);
        bases.extend_from_slice(&params.g[..self.g.len()]);
        Some(sum_is_identity(&scalars, &bases))
    }
}

/// `Σ scalars[i]·bases[i] == identity`: halo2's multiexp natively (64-bit limbs, threads), the
/// 32-bit-limb one on WebAssembly ([`crate::limb32`]). Tests in this crate may pick either.
fn sum_is_identity(scalars: &[Fp], bases: &[EqAffine]) -> bool {
    if use_limb32() {
        crate::limb32::is_identity(scalars, bases)
    } else {
        bool::from(best_multiexp(scalars, bases).is_identity())
    }
}

/// `Σ scalars[i]·bases[i]`, faster when every scalar is a small signed integer (public values
/// are: quantized inputs and outputs): Pippenger's method over only the bits they use, a
/// negative value adding the negated point. Otherwise halo2's multiexp.
pub(crate) fn public_multiexp(scalars: &[Fp], bases: &[EqAffine]) -> Eq {
    let Some(values) = scalars.iter().map(small_signed).collect::<Option<Vec<i64>>>() else {
        return best_multiexp(scalars, bases);
    };
    let bits = values.iter().map(|v| u64::BITS - v.unsigned_abs().leading_zeros()).max().unwrap_or(0) as usize;
    let c = small_window_bits(values.len());
    let mut acc = Eq::identity();
    for window in (0..bits.div_ceil(c)).rev() {
        for _ in 0..c {
            acc = acc.double();
        }
        let mut buckets = vec![Eq::identity(); (1 << c) - 1];
        for (v, base) in values.iter().zip(bases) {
            let digit = (v.unsigned_abs() >> (window * c)) as usize & ((1 << c) - 1);
            if digit != 0 {
                let bucket = &mut buckets[digit - 1];
                *bucket = if *v < 0 { *bucket - base } else { *bucket + base };
            }
        }
        // Σ d·bucket[d] as running sums from the top.
        let (mut running, mut sum) = (Eq::identity(), Eq::identity());
        for bucket in buckets.iter().rev() {
            running += bucket;
            sum += running;
        }
        acc += sum;
    }
    acc
}

/// Bits of the largest magnitude [`public_multiexp`] takes as small.
const SMALL_SCALAR_BITS: u32 = 62;

/// The scalar as a signed integer when its magnitude is below `2^SMALL_SCALAR_BITS`.
fn small_signed(scalar: &Fp) -> Option<i64> {
    let magnitude = |repr: [u8; 32]| -> Option<i64> {
        if repr[8..].iter().any(|&b| b != 0) {
            return None;
        }
        let low = u64::from_le_bytes(repr[..8].try_into().ok()?);
        (low < 1 << SMALL_SCALAR_BITS).then_some(low as i64)
    };
    magnitude(scalar.to_repr()).or_else(|| magnitude((-*scalar).to_repr()).map(|m| -m))
}

/// Window bits for `n` small-scalar terms: `ln(n)`, at least one.
fn small_window_bits(n: usize) -> usize {
    ((n.max(1) as f64).ln().ceil() as usize).clamp(1, 16)
}

#[cfg(not(test))]
fn use_limb32() -> bool {
    cfg!(target_arch = "wasm32")
}

#[cfg(test)]
thread_local! {
    /// The MSM the tests of this thread use.
    pub(crate) static LIMB32_IN_TESTS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn use_limb32() -> bool {
    LIMB32_IN_TESTS.with(|c| c.get())
}

#[cfg(test)]
mod tests {
    use ff::Field;
    use group::{Curve, Group};
    use halo2_proofs::arithmetic::best_multiexp;
    use halo2_proofs::pasta::{Eq, EqAffine, Fp};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    use super::{LIMB32_IN_TESTS, public_multiexp, small_signed};
    use crate::Verifier;

    /// Small signed values of every size class with the limits and zero among them: the same
    /// point as halo2's multiexp; with one value too large (the fallback) as well.
    #[test]
    fn public_multiexp_equals_halo2s() {
        let mut rng = StdRng::seed_from_u64(11);
        let limit = (1i64 << super::SMALL_SCALAR_BITS) - 1;
        let edges = [0, 1, -1, 255, -256, limit, -limit];
        let field = |v: i64| if v < 0 { -Fp::from(v.unsigned_abs()) } else { Fp::from(v as u64) };
        for n in [0, 1, 2, 7, 100, 800] {
            let bases: Vec<EqAffine> = (0..n).map(|_| Eq::random(&mut rng).to_affine()).collect();
            for bits in [1u32, 8, 20, 40, 62] {
                let mut values: Vec<i64> = (0..n).map(|_| rng.random::<i64>() >> (64 - bits)).collect();
                for (v, edge) in values.iter_mut().step_by(13).zip(edges.iter().cycle()) {
                    *v = *edge;
                }
                let mut scalars: Vec<Fp> = values.iter().map(|&v| field(v)).collect();
                assert_eq!(scalars.iter().map(small_signed).collect::<Option<Vec<_>>>(), Some(values));
                assert_eq!(
                    public_multiexp(&scalars, &bases),
                    best_multiexp(&scalars, &bases),
                    "{n} terms, {bits} bits"
                );
                if n > 0 {
                    scalars[n / 2] = field(i64::MAX);
                    assert_eq!(
                        public_multiexp(&scalars, &bases),
                        best_multiexp(&scalars, &bases),
                        "{n} terms, one large"
                    );
                }
            }
        }
    }

    #[test]
    fn small_signed_reads_magnitudes_below_the_limit() {
        let limit = 1u64 << super::SMALL_SCALAR_BITS;
        assert_eq!(small_signed(&Fp::ZERO), Some(0));
        assert_eq!(small_signed(&-Fp::from(5)), Some(-5));
        assert_eq!(small_signed(&Fp::from(limit - 1)), Some((limit - 1) as i64));
        assert_eq!(small_signed(&Fp::from(limit)), None);
        assert_eq!(small_signed(&-Fp::from(limit)), None);
        assert_eq!(small_signed(&(Fp::from(u64::MAX) * Fp::from(3))), None);
    }

    const BUNDLE: &[u8] = include_bytes!("../../tests/corpus/digits_mlp.zkv");
    const PROOF: &[u8] = include_bytes!("../../tests/corpus/digits_mlp.zkp");

    /// The verdict (and error text) with either MSM.
    fn verdicts(verifier: &Verifier, proof: &[u8]) -> [Result<(), String>; 2] {
        [false, true].map(|limb32| {
            LIMB32_IN_TESTS.with(|c| c.set(limb32));
            verifier.verify_bytes(proof).map(|_| ()).map_err(|e| e.to_string())
        })
    }

    /// The committed proof, a bit flipped in every 32-byte element and the public values each
    /// changed by one: the 32-bit-limb MSM gives halo2's multiexp's verdict on each.
    #[test]
    fn both_msms_give_the_same_verdicts_on_a_proof_and_its_mutations() {
        let verifier = Verifier::from_bundle_bytes(BUNDLE).expect("the corpus bundle");
        let [stock, ours] = verdicts(&verifier, PROOF);
        assert_eq!((stock.clone(), ours), (Ok(()), Ok(())));
        let mut rejected = 0;
        for at in (0..PROOF.len()).step_by(32) {
            let mut proof = PROOF.to_vec();
            proof[at] ^= 1 << (at / 32 % 8);
            let [stock, ours] = verdicts(&verifier, &proof);
            assert_eq!(stock, ours, "byte {at}");
            rejected += usize::from(stock.is_err());
        }
        assert_eq!(rejected, PROOF.len().div_ceil(32), "a flipped bit was accepted");
    }
}
