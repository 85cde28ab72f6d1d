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
        Some(bool::from(best_multiexp(&scalars, &bases).is_identity()))
    }
}
