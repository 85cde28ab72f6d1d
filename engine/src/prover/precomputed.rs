//! What every proof of a circuit reuses: the fixed and permutation polynomials in coefficient
//! form and on the extended coset, and the row indicators. Keygen computes them with an inverse
//! FFT and an extended coset FFT per column (most of keygen's time once the verifying key's
//! commitments are known); [`Precomputed::to_bytes`] and [`Precomputed::from_bytes`] (or
//! [`Precomputed::read_from`], from a file) store them
//! so that a prover process reads them back instead (`zkinfer setup` writes them into the key
//! file).
//!
//! The encoding: the columns one after another in [`PrecomputedShape::column_lengths`]'s order
//! (fixed polynomials, fixed cosets, permutation polynomials, permutation cosets, `l_0`,
//! `l_last`, `l_blind`), each value as its canonical 32-byte little-endian representation.
//! Decoding refuses a length other than the shape's and any non-canonical value.

use std::io::Read;

use ff::{Field, PrimeField};
use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::{Coeff, EvaluationDomain, LagrangeCoeff, Polynomial};
use rayon::prelude::*;
use zkinfer_circuits::Layout;
use zkinfer_circuits::constraints::key;

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

    /// The shape of the polynomials of `layout`'s circuit over `domain`'s `2^k` rows, without
    /// its keys: the same as [`PrecomputedShape::of`] its keys.
    pub fn of_layout(layout: Layout, domain: &EvaluationDomain<Fp>, k: u32) -> Self {
        Self {
            fixed_columns: key::fixed_column_count(layout),
            permutation_columns: key::permutation_columns(layout).len(),
            rows: 1 << k,
            extended_rows: domain.extended_len(),
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
        let expected = PrecomputedShape::of(keys, k).encoded_len().unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(EngineError::KeyPolynomials(format!("{} bytes, the circuit's need {expected}", bytes.len())));
        }
        Self::read_from(&mut &bytes[..], keys, k)
    }

    /// [`Precomputed::from_bytes`] from a reader (a key file on disk): the values are decoded
    /// as they arrive, [`READ_CHUNK`] bytes at a time, the next chunk read while the last one
    /// is decoded, so that the encoding is never held whole in memory. The reader must give
    /// exactly the shape's bytes, then end.
    pub fn read_from(reader: &mut (dyn Read + Send), keys: &Keys, k: u32) -> Result<Self, EngineError> {
        Self::read_shaped(reader, PrecomputedShape::of(keys, k), &keys.domain)
    }

    /// [`Precomputed::read_from`] with the shape given (so that the keys can be assembled
    /// while the polynomials are read) and `domain` the keys' domain.
    pub fn read_shaped(
        reader: &mut (dyn Read + Send),
        shape: PrecomputedShape,
        domain: &EvaluationDomain<Fp>,
    ) -> Result<Self, EngineError> {
        let expected = shape
            .encoded_len()
            .ok_or_else(|| EngineError::KeyPolynomials("the circuit's polynomials do not fit in memory".into()))?;
        let lengths = shape.column_lengths();
        let mut decoder = Decoder { lengths: &lengths, columns: Vec::with_capacity(lengths.len()) };
        let mut done = 0usize;
        // Two buffers: one read into while the other is decoded.
        let mut spare = Vec::new();
        let mut chunk = read_chunk(reader, Vec::new(), READ_CHUNK.min(expected), done, expected)?;
        while !chunk.is_empty() {
            let next_len = READ_CHUNK.min(expected - done - chunk.len());
            let after = done + chunk.len();
            let buffer = std::mem::take(&mut spare);
            let (next, decoded) =
                rayon::join(|| read_chunk(reader, buffer, next_len, after, expected), || decoder.push(&chunk));
            decoded?;
            done = after;
            spare = std::mem::replace(&mut chunk, next?);
        }
        if reader.read(&mut [0u8; 1]).map_err(read_error)? != 0 {
            return Err(EngineError::KeyPolynomials(format!("more than the {expected} bytes the circuit's need")));
        }
        // (Only columns without values can be missing once every byte has been decoded.)
        let mut columns = decoder.columns.into_iter().chain(std::iter::repeat_with(Vec::new));
        let mut take = |count: usize| columns.by_ref().take(count).collect::<Vec<Vec<Fp>>>();
        let (f, p) = (shape.fixed_columns, shape.permutation_columns);
        let coeff = |columns: Vec<Vec<Fp>>| columns.into_iter().map(|c| domain.coeff_from_vec(c)).collect();
        let fixed_polys = coeff(take(f));
        let fixed_cosets = take(f);
        let sigma_polys = coeff(take(p));
        let sigma_cosets = take(p);
        let [l0, l_last, l_blind]: [Vec<Fp>; INDICATORS] =
            take(INDICATORS).try_into().map_err(|_| EngineError::KeyPolynomials("missing row indicators".into()))?;
        Ok(Self { fixed_polys, fixed_cosets, sigma_polys, sigma_cosets, l0, l_last, l_blind })
    }
}

/// Bytes [`Precomputed::read_from`] reads at a time (a whole number of values).
pub const READ_CHUNK: usize = 1 << 22;

/// A reader's failure as a key error.
fn read_error(e: std::io::Error) -> EngineError {
    EngineError::KeyPolynomials(format!("reading the polynomials: {e}"))
}

/// The next `len` bytes of `reader`, which has given `done` of the `expected` so far, in
/// `chunk` (a buffer to reuse); fewer is an error that says how many there were.
fn read_chunk(
    reader: &mut (dyn Read + Send),
    mut chunk: Vec<u8>,
    len: usize,
    done: usize,
    expected: usize,
) -> Result<Vec<u8>, EngineError> {
    chunk.resize(len, 0);
    let mut filled = 0;
    while filled < len {
        match reader.read(&mut chunk[filled..]) {
            Ok(0) => {
                let found = done + filled;
                return Err(EngineError::KeyPolynomials(format!("{found} bytes, the circuit's need {expected}")));
            }
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    Ok(chunk)
}

/// The columns decoded so far, filled in the encoding's order.
struct Decoder<'a> {
    /// Every column's length.
    lengths: &'a [usize],
    /// The columns begun: all full but the last.
    columns: Vec<Vec<Fp>>,
}

impl Decoder<'_> {
    /// Decodes `bytes` (whole values) onto the columns, on all threads.
    fn push(&mut self, mut bytes: &[u8]) -> Result<(), EngineError> {
        while !bytes.is_empty() {
            // The column being filled, the next one once it is full.
            let full = |columns: &[Vec<Fp>], lengths: &[usize]| {
                columns.last().is_none_or(|c| c.len() == lengths[columns.len() - 1])
            };
            while full(&self.columns, self.lengths) {
                let Some(&len) = self.lengths.get(self.columns.len()) else {
                    return Err(EngineError::KeyPolynomials("more values than the circuit's columns hold".into()));
                };
                self.columns.push(Vec::with_capacity(len));
            }
            let index = self.columns.len() - 1;
            let column = &mut self.columns[index];
            let count = (self.lengths[index] - column.len()).min(bytes.len() / FIELD_BYTES);
            if count == 0 {
                return Err(EngineError::KeyPolynomials("a value is cut short".into()));
            }
            let (values, rest) = bytes.split_at(count * FIELD_BYTES);
            let start = column.len();
            let canonical = std::sync::atomic::AtomicBool::new(true);
            column.par_extend(values.par_chunks_exact(FIELD_BYTES).map(|v| {
                let value = decode_value(v);
                if value.is_none() {
                    canonical.store(false, std::sync::atomic::Ordering::Relaxed);
                }
                value.unwrap_or(Fp::ZERO)
            }));
            if !canonical.into_inner() {
                let row = values.chunks_exact(FIELD_BYTES).position(|v| decode_value(v).is_none()).unwrap_or(0);
                return Err(EngineError::KeyPolynomials(format!(
                    "column {index}, value {} is not a canonical field element",
                    start + row
                )));
            }
            bytes = rest;
        }
        Ok(())
    }
}

/// One stored value (`FIELD_BYTES` bytes), if canonical.
fn decode_value(bytes: &[u8]) -> Option<Fp> {
    let mut repr = <Fp as PrimeField>::Repr::default();
    repr.as_mut().copy_from_slice(bytes);
    Option::from(Fp::from_repr(repr))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encode(values: &[u64]) -> Vec<u8> {
        values.iter().flat_map(|&v| Fp::from(v).to_repr().as_ref().to_vec()).collect()
    }

    /// Pieces that end inside a column, span columns or fill one exactly all land in order.
    #[test]
    fn the_decoder_fills_the_columns_in_order_across_pieces() {
        let lengths = [3, 5, 2];
        let values: Vec<u64> = (1..=10).collect();
        let bytes = encode(&values);
        for cuts in [vec![10], vec![1, 9], vec![3, 5, 2], vec![4, 4, 2], vec![2, 7, 1]] {
            let mut decoder = Decoder { lengths: &lengths, columns: Vec::new() };
            let mut at = 0;
            for cut in cuts {
                decoder.push(&bytes[at * FIELD_BYTES..(at + cut) * FIELD_BYTES]).unwrap();
                at += cut;
            }
            let expected: Vec<Vec<Fp>> = [&values[..3], &values[3..8], &values[8..]]
                .iter()
                .map(|c| c.iter().map(|&v| Fp::from(v)).collect())
                .collect();
            assert_eq!(decoder.columns, expected);
            let more = decoder.push(&encode(&[11]));
            assert!(
                matches!(more, Err(EngineError::KeyPolynomials(ref why)) if why.contains("more values")),
                "{more:?}"
            );
        }
    }

    /// A non-canonical value is refused with its column and its index in the column, also when
    /// the column began in an earlier piece.
    #[test]
    fn the_decoder_names_a_non_canonical_value() {
        let lengths = [3, 5];
        let mut bytes = encode(&(1..=8).collect::<Vec<u64>>());
        let mut modulus = (-Fp::ONE).to_repr();
        modulus.as_mut()[0] += 1;
        bytes[5 * FIELD_BYTES..6 * FIELD_BYTES].copy_from_slice(modulus.as_ref());
        let mut decoder = Decoder { lengths: &lengths, columns: Vec::new() };
        decoder.push(&bytes[..4 * FIELD_BYTES]).unwrap();
        let refused = decoder.push(&bytes[4 * FIELD_BYTES..]);
        assert!(
            matches!(refused, Err(EngineError::KeyPolynomials(ref why)) if why == "column 1, value 2 is not a canonical field element"),
            "{refused:?}"
        );
    }
}
