//! The permutation of the copy constraints, as halo2 builds it.
//!
//! Every equality-enabled cell starts in a cycle of its own. A copy merges the cycles of its two
//! cells: the smaller cycle joins the larger one (the left one on a tie), and the two cells
//! exchange their successors, which splices one cycle into the other. The permutation
//! polynomial of column `i` maps row `j` to `δ^c · ω^r` where `(c, r)` is the successor of cell
//! `(i, j)`. The result depends on the order of the copies, so the keygen applies them in
//! synthesis order (see `keygen`).

use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::{EvaluationDomain, LagrangeCoeff, Polynomial};

use crate::EngineError;

pub use zkinfer_circuits::constraints::key::PermutationColumn;

/// A cell: permutation column index and row.
type Cell = (usize, usize);

/// Cycles of equal cells over the permutation columns.
#[derive(Debug)]
pub struct PermutationAssembly {
    columns: Vec<PermutationColumn>,
    usable_rows: usize,
    /// The next cell of each cell's cycle.
    next: Vec<Vec<Cell>>,
    /// The representative of each cell's cycle.
    representative: Vec<Vec<Cell>>,
    /// Cycle sizes, valid at representatives.
    size: Vec<Vec<usize>>,
}

impl PermutationAssembly {
    /// Every cell of `columns` (`n` rows) in a cycle of its own; copies may touch the first
    /// `usable_rows` rows.
    pub fn new(n: usize, usable_rows: usize, columns: Vec<PermutationColumn>) -> Self {
        let identity: Vec<Vec<Cell>> = (0..columns.len()).map(|c| (0..n).map(|r| (c, r)).collect()).collect();
        let size = vec![vec![1; n]; columns.len()];
        Self { columns, usable_rows, next: identity.clone(), representative: identity, size }
    }

    /// Constrains two cells to be equal.
    pub fn copy(
        &mut self,
        left: (PermutationColumn, usize),
        right: (PermutationColumn, usize),
    ) -> Result<(), EngineError> {
        let left = self.cell(left)?;
        let right = self.cell(right)?;
        let (mut big, mut small) = (self.representative[left.0][left.1], self.representative[right.0][right.1]);
        if big == small {
            return Ok(());
        }
        if self.size[big.0][big.1] < self.size[small.0][small.1] {
            std::mem::swap(&mut big, &mut small);
        }
        self.size[big.0][big.1] += self.size[small.0][small.1];
        // Every cell of the smaller cycle now belongs to the larger one.
        let mut cell = small;
        loop {
            self.representative[cell.0][cell.1] = big;
            cell = self.next[cell.0][cell.1];
            if cell == small {
                break;
            }
        }
        // Exchanging the successors of the two copied cells splices the cycles into one.
        let left_next = self.next[left.0][left.1];
        self.next[left.0][left.1] = self.next[right.0][right.1];
        self.next[right.0][right.1] = left_next;
        Ok(())
    }

    fn cell(&self, (column, row): (PermutationColumn, usize)) -> Result<Cell, EngineError> {
        let c = self.columns.iter().position(|&c| c == column).ok_or(EngineError::NotInPermutation(column))?;
        if row >= self.usable_rows {
            return Err(EngineError::CopyOutsideUsableRows { row, usable: self.usable_rows });
        }
        Ok((c, row))
    }

    /// The permutation polynomials in Lagrange form, one per column.
    pub fn polynomials(&self, domain: &EvaluationDomain<Fp>) -> Vec<Polynomial<Fp, LagrangeCoeff>> {
        let n = self.next.first().map_or(0, Vec::len);
        let omega = domain.get_omega();
        let mut omega_powers = Vec::with_capacity(n);
        let mut x = Fp::ONE;
        for _ in 0..n {
            omega_powers.push(x);
            x *= omega;
        }
        let mut delta_powers = Vec::with_capacity(self.columns.len());
        let mut d = Fp::ONE;
        for _ in 0..self.columns.len() {
            delta_powers.push(d);
            d *= Fp::DELTA;
        }
        self.next
            .iter()
            .map(|column| {
                let mut p = domain.empty_lagrange();
                for (value, &(c, r)) in p.iter_mut().zip(column) {
                    *value = delta_powers[c] * omega_powers[r];
                }
                p
            })
            .collect()
    }
}
