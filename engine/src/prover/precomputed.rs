//! What every proof of a circuit reuses: the fixed and permutation polynomials in coefficient
//! form and on the extended coset, and the row indicators. Keygen computes them with an inverse
//! FFT and an extended coset FFT per column (most of keygen's time once the verifying key's
//! commitments are known); [`Precomputed::to_bytes`] and [`Precomputed::from_bytes`] store them
//! so that a prover process reads them back instead (`zkinfer setup` writes them into the key
//! file).
//!
//! The encoding: the columns one after another in [`PrecomputedShape::column_lengths`]'s order
//! (fixed polynomials, fixed cosets, permutation polynomials, permutation cosets, `l_0`,
//! `l_last`, `l_blind`), each value as its canonical 32-byte little-endian representation.
//! Decoding refuses a length other than the shape's and any non-canonical value.

use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::{Coeff, LagrangeCoeff, Polynomial};

use super::parallel_map;
use crate::EngineError;
use crate::domain::Transforms;
use crate::keygen::Keys;

/// Bytes of one stored field element.
pub const FIELD_BYTES: usize = 32;

/// Polynomials that do not depend on the witness, computed once per key.
#[derive(Debug)]
pub struct Precomputed {
    /// Fixed columns in coefficient form.
    pub fixed_polys: Vec<Polynomial<Fp, Coeff>>,
    /// Fixed columns on the extended coset domain.
    pub fixed_cosets: Vec<Vec<Fp>>,
    /// Permutation polynomials in coefficient form.
    pub sigma_polys: Vec<Polynomial<Fp, Coeff>>,
    /// Permutation polynomials on the extended coset domain.
    pub sigma_cosets: Vec<Vec<Fp>>,
    /// `l_0`, `l_last` and `l_blind` (1 on the first row, on the last usable row + 1, on the
    /// blinding rows) on the extended coset domain.
    pub l0: Vec<Fp>,
    /// See `l0`.
    pub l_last: Vec<Fp>,
    /// See `l0`.
    pub l_blind: Vec<Fp>,
}

/// How many columns of which length a key's precomputed polynomials have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrecomputedShape {
    /// Fixed columns.
    pub fixed_columns: usize,
    /// Permutation columns.
    pub permutation_columns: usize,
    /// Rows (`2^k`): the length of a polynomial in coefficient form.
    pub rows: usize,
    /// Points of the extended coset.
    pub extended_rows: usize,
}

/// The row indicators on the extended coset.
const INDICATORS: usize = 3;

impl PrecomputedShape {
    /// The shape of `keys`' polynomials over `2^k` rows.
    pub fn of(keys: &Keys, k: u32) -> Self {
        Self {
            fixed_columns: keys.fixed.len(),
            permutation_columns: keys.permutation.len(),
            rows: 1 << k,
            extended_rows: keys.domain.extended_len(),
        }
    }

    /// The length of each stored column, in the encoding's order.
    pub fn column_lengths(&self) -> Vec<usize> {
        let (f, p) = (self.fixed_columns, self.permutation_columns);
        let mut lengths = vec![self.rows; f];
        lengths.extend(std::iter::repeat_n(self.extended_rows, f));
        lengths.extend(std::iter::repeat_n(self.rows, p));
        lengths.extend(std::iter::repeat_n(self.extended_rows, p + INDICATORS));
        lengths
    }

    /// Bytes of the encoding (None if it overflows `usize`).
    pub fn encoded_len(&self) -> Option<usize> {
        let per_kind = |columns: usize, len: usize| columns.checked_mul(len)?.checked_mul(FIELD_BYTES);
        let (f, p) = (self.fixed_columns, self.permutation_columns);
        per_kind(f + p, self.rows)?
            .checked_add(per_kind(f.checked_add(p)?.checked_add(INDICATORS)?, self.extended_rows)?)
    }
}

impl Precomputed {
    /// Computes them from the keys (the Lagrange columns) with `transforms`' backend.
    pub fn compute(keys: &Keys, transforms: &Transforms<'_>, k: u32) -> Self {
        let domain = &keys.domain;
        let coeff = |v: &Polynomial<Fp, LagrangeCoeff>| domain.coeff_from_vec(transforms.lagrange_to_coeff(v.to_vec()));
        let coset = |p: &Polynomial<Fp, Coeff>| transforms.coeff_to_extended(p);
        let fixed_polys = parallel_map(&keys.fixed, coeff);
        let fixed_cosets = parallel_map(&fixed_polys, coset);
        let sigma_polys = parallel_map(&keys.permutation, coeff);
        let sigma_cosets = parallel_map(&sigma_polys, coset);
        let n = 1usize << k;
        let bf = keys.cs.blinding_factors();
        let indicator = |rows: std::ops::Range<usize>| {
            let mut v = domain.empty_lagrange();
            v.iter_mut().skip(rows.start).take(rows.len()).for_each(|x| *x = Fp::ONE);
            coset(&coeff(&v))
        };
        Self {
            fixed_polys,
            fixed_cosets,
            sigma_polys,
            sigma_cosets,
            l0: indicator(0..1),
            l_last: indicator(n - bf - 1..n - bf),
            l_blind: indicator(n - bf..n),
        }
    }

    /// The shape of these polynomials.
    pub fn shape(&self) -> PrecomputedShape {
        PrecomputedShape {
            fixed_columns: self.fixed_polys.len(),
            permutation_columns: self.sigma_polys.len(),
            rows: self.fixed_polys.first().or(self.sigma_polys.first()).map_or(0, |p| p.len()),
            extended_rows: self.l0.len(),
        }
    }

    /// The columns in the encoding's order.
    fn columns(&self) -> Vec<&[Fp]> {
        let mut columns: Vec<&[Fp]> = self.fixed_polys.iter().map(|p| &p[..]).collect();
        columns.extend(self.fixed_cosets.iter().map(Vec::as_slice));
        columns.extend(self.sigma_polys.iter().map(|p| &p[..]));
        columns.extend(self.sigma_cosets.iter().map(Vec::as_slice));
        columns.extend([&self.l0[..], &self.l_last[..], &self.l_blind[..]]);
        columns
    }

    /// The encoding (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let columns = self.columns();
        let mut out = Vec::with_capacity(columns.iter().map(|c| c.len() * FIELD_BYTES).sum());
        for value in columns.into_iter().flatten() {
            out.extend_from_slice(value.to_repr().as_ref());
        }
        out
    }

    /// Decodes the polynomials of `keys` (over `2^k` rows) from untrusted bytes: the length
    /// must be the shape's and every value canonical. Whether they are the keys' polynomials is
    /// not checked here: wrong ones give proofs that do not verify (the prover's self-check
    /// refuses them), and the key file that carries them is hash-checked.
    pub fn from_bytes(bytes: &[u8], keys: &Keys, k: u32) -> Result<Self, EngineError> {
        let shape = PrecomputedShape::of(keys, k);
        let expected = shape.encoded_len().unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(EngineError::KeyPolynomials(format!("{} bytes, the circuit's need {expected}", bytes.len())));
        }
        let mut slices = Vec::new();
        let mut rest = bytes;
        for (index, len) in shape.column_lengths().into_iter().enumerate() {
            let (column, tail) = rest.split_at(len * FIELD_BYTES);
            slices.push((index, column));
            rest = tail;
        }
        let mut columns = parallel_map(&slices, |&(index, bytes)| decode_column(index, bytes)).into_iter();
        let mut take = |count: usize| columns.by_ref().take(count).collect::<Result<Vec<Vec<Fp>>, EngineError>>();
        let (f, p) = (shape.fixed_columns, shape.permutation_columns);
        let coeff = |columns: Vec<Vec<Fp>>| columns.into_iter().map(|c| keys.domain.coeff_from_vec(c)).collect();
        let fixed_polys = coeff(take(f)?);
        let fixed_cosets = take(f)?;
        let sigma_polys = coeff(take(p)?);
        let sigma_cosets = take(p)?;
        let [l0, l_last, l_blind]: [Vec<Fp>; INDICATORS] =
            take(INDICATORS)?.try_into().map_err(|_| EngineError::KeyPolynomials("missing row indicators".into()))?;
        Ok(Self { fixed_polys, fixed_cosets, sigma_polys, sigma_cosets, l0, l_last, l_blind })
    }
}

/// One stored column's values.
fn decode_column(index: usize, bytes: &[u8]) -> Result<Vec<Fp>, EngineError> {
    let mut values = Vec::with_capacity(bytes.len() / FIELD_BYTES);
    let mut repr = <Fp as PrimeField>::Repr::default();
    for (row, chunk) in bytes.chunks_exact(FIELD_BYTES).enumerate() {
        repr.as_mut().copy_from_slice(chunk);
        let value = Option::from(Fp::from_repr(repr)).ok_or_else(|| {
            EngineError::KeyPolynomials(format!("column {index}, value {row} is not a canonical field element"))
        })?;
        values.push(value);
    }
    Ok(values)
}
