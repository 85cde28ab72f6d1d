//! The multi-scalar multiplication the verification ends in: terms over the proof's and key's
//! points plus scalars for the params' generators `G`, `W` and `U` (halo2's `MSM`, over the
//! points a [`VerifierParams`] holds).

use ff::Field;
use group::Group;
use halo2_proofs::arithmetic::best_multiexp;
use halo2_proofs::pasta::{EqAffine, Fp};

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
    use super::LIMB32_IN_TESTS;
    use crate::Verifier;

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
