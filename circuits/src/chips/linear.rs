//! Linear chip: multiply-accumulate rows with constant coefficients, for every op that is a
//! linear combination of cells (Dense, Conv, Add/Sub, constants, pooling sums), followed by
//! the rescale chip on the chain's last row.
//!
//! Gate `linear` (enable `q_mac`), one row holding up to `lanes` terms:
//! `acc = cont · acc[prev] + Σ_l w_l · x_l + bias`, where `cont` is 0 on a chain's first row.

use halo2_proofs::plonk::ConstraintSystem;
use halo2_proofs::poly::Rotation;

use super::range::{RangeInstructions, Rescale};
use super::{ModelConfig, Query};
use crate::builder::{Builder, CellRef};
use crate::layout::NamedFixed;

pub(crate) fn configure<F: ff::PrimeField>(meta: &mut ConstraintSystem<F>, config: &ModelConfig) {
    meta.create_gate("linear", |meta| {
        let mut q = Query { meta, config };
        let q_mac = q.named(NamedFixed::QMac);
        let cont = q.named(NamedFixed::Cont);
        let bias = q.named(NamedFixed::Bias);
        let acc = q.acc(Rotation::cur());
        let prev = q.acc(Rotation::prev());
        let mut sum = bias;
        for l in 0..config.layout.lanes {
            let w = q.fixed(config.layout.weight(l));
            sum = sum + w * q.lane(l);
        }
        vec![("acc = cont·acc_prev + Σ w·x + bias", q_mac * (acc - cont * prev - sum))]
    });
}

/// Linear combinations with constant coefficients.
pub trait LinearInstructions {
    /// `y = round_shift(Σ c_i · x_i + bias, shift)`, with `y` range-checked as `rescale` says.
    /// Returns the cell holding `y`.
    fn linear(&mut self, terms: &[(CellRef, i64)], bias: i64, rescale: Rescale) -> CellRef;
}

impl LinearInstructions for Builder {
    fn linear(&mut self, terms: &[(CellRef, i64)], bias: i64, rescale: Rescale) -> CellRef {
        let lanes = self.layout.lanes;
        let chunks: Vec<&[(CellRef, i64)]> = if terms.is_empty() { vec![&[]] } else { terms.chunks(lanes).collect() };
        let mut acc = 0i64;
        let mut row = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            row = self.new_row();
            self.set_fixed(row, self.layout.fixed(NamedFixed::QMac), 1);
            if i == 0 {
                self.set_fixed(row, self.layout.fixed(NamedFixed::Bias), bias);
                acc = bias;
            } else {
                self.set_fixed(row, self.layout.fixed(NamedFixed::Cont), 1);
            }
            for (l, &(cell, coef)) in chunk.iter().enumerate() {
                let x = self.place(crate::builder::Operand::Cell(cell), CellRef { column: self.layout.lane(l), row });
                self.set_fixed(row, self.layout.weight(l), coef);
                acc += coef * x;
            }
            self.set_advice(row, self.layout.acc(), acc);
        }
        self.rescale_row(row, acc, rescale)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::testing::{assert_fails_with, mock, test_layout};

    fn dot_circuit() -> (Builder, CellRef) {
        let mut b = Builder::new(test_layout());
        // 11 terms span two rows of 8 lanes: 3·x0 - 2·x1 + ... then rescale by 2 bits.
        let xs = b.public_inputs(&[5, -7, 3, 0, 9, -1, 2, 4, -6, 8, 1]);
        let coefs = [3, -2, 1, 4, -5, 6, 7, -8, 2, 1, -1];
        let terms: Vec<_> = xs.iter().copied().zip(coefs).collect();
        let y = b.linear(&terms, 10, Rescale { shift: 2, lo: -128, bits: 8, relu: false });
        b.public_outputs(&[y]);
        (b, y)
    }

    #[test]
    fn honest_dot_product_passes() {
        let (b, y) = dot_circuit();
        let acc: i64 = [5, -7, 3, 0, 9, -1, 2, 4, -6, 8, 1]
            .iter()
            .zip([3, -2, 1, 4, -5, 6, 7, -8, 2, 1, -1])
            .map(|(x, c)| x * c)
            .sum::<i64>()
            + 10;
        assert_eq!(b.value(y), zkinfer_models::numeric::round_shift(acc, 2));
        let (spec, witness) = b.finish();
        mock(&spec, &witness).expect("honest witness");
    }

    #[test]
    fn tampered_accumulator_fails_the_linear_gate() {
        let (b, _) = dot_circuit();
        let (spec, mut witness) = b.finish();
        let layout = spec.layout;
        // The first accumulator cell of the chain (row 2: after the two input rows).
        witness.advice[layout.acc()][2] += 1;
        assert_fails_with(&spec, &witness, &["linear"]);
    }

    #[test]
    fn tampered_lane_breaks_the_copy_constraint() {
        let (b, _) = dot_circuit();
        let (spec, mut witness) = b.finish();
        witness.advice[spec.layout.lane(0)][2] += 1;
        assert_fails_with(&spec, &witness, &["linear", "permutation"]);
    }
}
