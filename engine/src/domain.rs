//! Changes of basis over halo2's evaluation domain done with a [`Backend`]'s FFT: the same
//! values as `EvaluationDomain::lagrange_to_coeff`, `coeff_to_extended` and `extended_to_coeff`
//! (halo2_proofs 0.4.1), which run halo2's own FFT.
//!
//! The extended domain is the coset `ζ·H'` of the subgroup `H'` of size `2^extended_k`, with
//! `ζ` the cube root of unity halo2 uses as the coset generator: a coefficient `a_i` moves
//! onto the coset as `a_i · ζ^i`, and `ζ^i` only takes the values 1, ζ, ζ².

use ff::{Field, WithSmallOrderMulGroup};
use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::EvaluationDomain;

use crate::backend::Backend;

/// A domain and the backend that transforms over it.
#[derive(Clone, Copy)]
pub struct Transforms<'a> {
    domain: &'a EvaluationDomain<Fp>,
    backend: &'a dyn Backend,
    k: u32,
    extended_k: u32,
}

impl std::fmt::Debug for Transforms<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transforms").field("k", &self.k).field("backend", &self.backend.name()).finish()
    }
}

impl<'a> Transforms<'a> {
    /// Transforms over `domain` (of `2^k` rows) with `backend`'s FFT.
    pub fn new(domain: &'a EvaluationDomain<Fp>, k: u32, backend: &'a dyn Backend) -> Self {
        Self { domain, backend, k, extended_k: domain.extended_len().trailing_zeros() }
    }

    /// Values on the `2^k` rows to coefficients (inverse FFT).
    pub fn lagrange_to_coeff(&self, mut values: Vec<Fp>) -> Vec<Fp> {
        let k = self.k;
        assert_eq!(values.len(), 1usize << k, "one value per row");
        self.inverse(&mut values, self.domain.get_omega_inv(), k);
        values
    }

    /// Coefficients (`2^k` of them) to values on the extended coset.
    pub fn coeff_to_extended(&self, coeffs: &[Fp]) -> Vec<Fp> {
        assert_eq!(coeffs.len(), 1usize << self.k, "2^k coefficients");
        let mut values = Vec::with_capacity(self.domain.extended_len());
        values.extend_from_slice(coeffs);
        distribute_zeta_powers(&mut values, [Fp::ZETA, Fp::ZETA.square()]);
        values.resize(self.domain.extended_len(), Fp::ZERO);
        self.backend.fft(&mut values, self.domain.get_extended_omega(), self.extended_k);
        values
    }

    /// Values on the extended coset to the coefficients of the quotient (`n · (degree - 1)`
    /// of them).
    pub fn extended_to_coeff(&self, mut values: Vec<Fp>, quotient_degree: usize) -> Vec<Fp> {
        let ek = self.extended_k;
        assert_eq!(values.len(), 1usize << ek, "one value per point of the coset");
        let omega_inv = self.domain.get_extended_omega().invert().unwrap_or(Fp::ZERO);
        self.inverse(&mut values, omega_inv, ek);
        distribute_zeta_powers(&mut values, [Fp::ZETA.square(), Fp::ZETA]);
        values.truncate((1usize << self.k) * quotient_degree);
        values
    }

    fn inverse(&self, values: &mut [Fp], omega_inv: Fp, log_n: u32) {
        self.backend.fft(values, omega_inv, log_n);
        let divisor = Fp::from(1u64 << log_n).invert().unwrap_or(Fp::ZERO);
        halo2_proofs::arithmetic::parallelize(values, |chunk, _| chunk.iter_mut().for_each(|v| *v *= divisor));
    }
}

/// `a_i ← a_i · powers[i mod 3 - 1]` for `i mod 3 ≠ 0`.
fn distribute_zeta_powers(values: &mut [Fp], powers: [Fp; 2]) {
    halo2_proofs::arithmetic::parallelize(values, |chunk, start| {
        for (i, v) in chunk.iter_mut().enumerate() {
            match (start + i) % 3 {
                0 => {}
                r => *v *= powers[r - 1],
            }
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backend::{CpuBackend, ReferenceBackend};
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn transforms_equal_halo2s() {
        let rng = &mut StdRng::seed_from_u64(11);
        for (degree, k) in [(3u32, 4u32), (5, 6), (9, 5)] {
            let domain = EvaluationDomain::<Fp>::new(degree, k);
            let n = 1usize << k;
            let values: Vec<Fp> = (0..n).map(|_| Fp::random(&mut *rng)).collect();
            let expected_coeff = domain.lagrange_to_coeff(domain.lagrange_from_vec(values.clone()));
            let expected_ext = domain.coeff_to_extended(expected_coeff.clone());
            let expected_back = domain.extended_to_coeff(expected_ext.clone());
            for backend in [&CpuBackend as &dyn Backend, &ReferenceBackend] {
                let t = Transforms::new(&domain, k, backend);
                let coeff = t.lagrange_to_coeff(values.clone());
                assert_eq!(coeff, expected_coeff.to_vec(), "coefficients, degree {degree}, k {k}");
                let ext = t.coeff_to_extended(&coeff);
                assert_eq!(ext, expected_ext.to_vec(), "extended, degree {degree}, k {k}");
                let back = t.extended_to_coeff(ext, domain.get_quotient_poly_degree());
                assert_eq!(back, expected_back, "back, degree {degree}, k {k}");
            }
        }
    }
}
