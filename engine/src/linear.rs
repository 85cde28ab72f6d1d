//! The linear algebra the opening does over whole polynomials, on the vector code where it runs
//! ([`crate::avx512`]) and by pasta_curves' arithmetic elsewhere, with the same results:
//! - [`scale_add`]: `acc ← acc · factor + add`, element by element (the combinations of
//!   polynomials by powers of a challenge);
//! - [`Evaluator`]: polynomials' values at one point.

use ff::Field;
use halo2_proofs::arithmetic::eval_polynomial;
use halo2_proofs::pasta::Fp;
use rayon::prelude::*;

/// Elements per parallel task of [`scale_add`].
const CHUNK: usize = 1 << 12;

/// `acc[i] ← acc[i] · factor + add[i]` (the slices have the same length).
pub fn scale_add(acc: &mut [Fp], factor: Fp, add: &[Fp]) {
    assert_eq!(acc.len(), add.len(), "one addend per element");
    acc.par_chunks_mut(CHUNK).zip(add.par_chunks(CHUNK)).for_each(|(acc, add)| {
        #[cfg(target_arch = "x86_64")]
        let done = crate::avx512::scale_add(acc, factor, add);
        #[cfg(not(target_arch = "x86_64"))]
        let done = 0;
        for (a, b) in acc[done..].iter_mut().zip(&add[done..]) {
            *a = *a * factor + b;
        }
    });
}

/// Evaluates polynomials of up to a given length at one point: on the vector code, as the sum
/// of the coefficients times the point's powers (computed once, here); elsewhere by Horner's
/// rule (halo2's `eval_polynomial`).
#[derive(Debug)]
pub struct Evaluator {
    point: Fp,
    #[cfg(target_arch = "x86_64")]
    powers: Option<crate::avx512::Powers>,
}

impl Evaluator {
    /// For polynomials of at most `len` coefficients at `point`.
    pub fn new(point: Fp, len: usize) -> Self {
        Self {
            point,
            #[cfg(target_arch = "x86_64")]
            powers: crate::avx512::powers(point, len),
        }
    }

    /// The point.
    pub fn point(&self) -> Fp {
        self.point
    }

    /// `Σ poly[i] · point^i`.
    pub fn evaluate(&self, poly: &[Fp]) -> Fp {
        #[cfg(target_arch = "x86_64")]
        if let Some(powers) = self.powers.as_ref().filter(|p| poly.len() <= p.coefficients()) {
            // The vector code takes whole vectors of coefficients; the rest by Horner's rule,
            // times the power they start at.
            let done = poly.len() - poly.len() % crate::avx512::LANES;
            let head = crate::avx512::evaluate(&poly[..done], powers);
            if done == poly.len() {
                return head;
            }
            return head + eval_polynomial(&poly[done..], self.point) * self.point.pow_vartime([done as u64]);
        }
        eval_polynomial(poly, self.point)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn values(n: usize, rng: &mut StdRng) -> Vec<Fp> {
        let edges = [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::from(1u64 << 52), Fp::from(u64::MAX)];
        (0..n).map(|i| if i % 3 == 0 { edges[i % edges.len()] } else { Fp::random(&mut *rng) }).collect()
    }

    #[test]
    fn scale_add_equals_the_scalar_arithmetic() {
        let rng = &mut StdRng::seed_from_u64(23);
        for n in [0usize, 1, 7, 8, 9, 100, CHUNK + 13] {
            let (acc, add) = (values(n, rng), values(n, rng));
            for factor in [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::random(&mut *rng)] {
                let mut ours = acc.clone();
                scale_add(&mut ours, factor, &add);
                let expected: Vec<Fp> = acc.iter().zip(&add).map(|(a, b)| *a * factor + b).collect();
                assert_eq!(ours, expected, "{n} elements");
            }
        }
    }

    #[test]
    fn evaluations_equal_horners_rule() {
        let rng = &mut StdRng::seed_from_u64(29);
        for point in [Fp::ZERO, Fp::ONE, -Fp::ONE, Fp::random(&mut *rng)] {
            let evaluator = Evaluator::new(point, 1000);
            for n in [0usize, 1, 7, 8, 9, 64, 999, 1000] {
                let poly = values(n, rng);
                assert_eq!(evaluator.evaluate(&poly), eval_polynomial(&poly, point), "{n} coefficients");
            }
            // Longer than the powers: Horner's rule.
            let poly = values(1100, rng);
            assert_eq!(evaluator.evaluate(&poly), eval_polynomial(&poly, point), "past the powers");
        }
    }
}
