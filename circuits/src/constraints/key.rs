//! What a model circuit's halo2 verifying key holds besides its commitments, derived from the
//! layout alone: the constraint system, the order of the column queries, the columns of the
//! permutation argument, the lookup tables' fixed columns, and the pinned text that halo2 hashes
//! into the transcript (and zkinfer into the circuit identity).
//!
//! The proving engine and zkinfer's own verifier both read these; nothing here needs keygen,
//! so a verifier holding a key's commitments rebuilds the whole key in microseconds.

use ff::PrimeField;
use halo2_proofs::pasta::{EqAffine, Fp, Fq};
use halo2_proofs::plonk::ConstraintSystem;
use halo2_proofs::poly::EvaluationDomain;

use super::{Column, ConstraintData, Part, TableColumn};
use crate::chips::ModelConfig;
use crate::layout::{Layout, with_layout};

/// The commitments of a verifying key: what keygen computes (everything else in the key
/// follows from the layout and `k`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCommitments {
    /// One per fixed column, in halo2's column order.
    pub fixed: Vec<EqAffine>,
    /// One per permutation column, in the permutation argument's order.
    pub permutation: Vec<EqAffine>,
}

/// A column of the permutation argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PermutationColumn {
    /// Fixed column (the constants column).
    Fixed(usize),
    /// The instance column.
    Instance,
    /// Advice column.
    Advice(usize),
}

/// The equality-enabled columns in the order `configure` enables them, which is the order of
/// the permutation argument: the constants column, the instance column, the copy lanes, `out`.
pub fn permutation_columns(layout: Layout) -> Vec<PermutationColumn> {
    let mut columns = vec![PermutationColumn::Fixed(constants_column(layout)), PermutationColumn::Instance];
    columns.extend((0..layout.copy_lanes()).map(|l| PermutationColumn::Advice(layout.lane(l))));
    columns.push(PermutationColumn::Advice(layout.out()));
    columns
}

/// The constants column's index among the fixed columns (after the layout's own).
pub fn constants_column(layout: Layout) -> usize {
    layout.fixed_columns()
}

/// The index among the fixed columns of a lookup table column (after the layout's fixed
/// columns and the constants column).
pub fn table_column_index(layout: Layout, t: TableColumn) -> usize {
    let first = constants_column(layout) + 1;
    first
        + match t {
            TableColumn::RangeTag => 0,
            TableColumn::RangeValue => 1,
            TableColumn::FunctionTag => 2,
            TableColumn::FunctionInput => 3,
            TableColumn::FunctionOutput => 4,
        }
}

/// The constraint system of `layout`'s circuit (halo2's `configure`, from the constraint data).
pub fn constraint_system(layout: Layout) -> ConstraintSystem<Fp> {
    with_layout(layout, || {
        let mut cs = ConstraintSystem::default();
        ModelConfig::configure(&mut cs, layout);
        // keygen then compresses selectors; the model circuits have none (their gate enables
        // are fixed columns), so the system is already the one halo2 pins.
        cs
    })
}

/// The queries of a model circuit's constraint system in halo2's order: the equality-enabled
/// columns first (in the order equality is enabled), then every gate's and lookup's queries in
/// configuration order, each lookup's table columns after its inputs; duplicates dropped. The
/// proof carries one evaluation per query, in this order (the instance column's single query
/// first).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QueryLists {
    /// Advice queries: column, rotation.
    pub advice: Vec<(usize, i32)>,
    /// Fixed queries (all at the current row): column.
    pub fixed: Vec<usize>,
}

impl QueryLists {
    /// The lists for `layout`.
    pub fn new(layout: Layout) -> Self {
        let mut lists = Self::default();
        lists.fixed.push(constants_column(layout));
        for l in 0..layout.copy_lanes() {
            lists.add_advice(layout.lane(l), 0);
        }
        lists.add_advice(layout.out(), 0);
        for part in ConstraintData::new(layout).parts {
            let (queries, tables) = match &part {
                Part::Gate(g) => (&g.queries, Vec::new()),
                Part::Lookup(l) => (&l.queries, l.inputs.iter().map(|&(_, t)| table_column_index(layout, t)).collect()),
            };
            for q in queries {
                match q.column {
                    Column::Advice(c) => lists.add_advice(c, q.rotation),
                    Column::Fixed(c) => lists.add_fixed(c),
                }
            }
            for t in tables {
                lists.add_fixed(t);
            }
        }
        lists
    }

    /// The index of advice query `(column, rotation)`.
    pub fn advice_index(&self, column: usize, rotation: i32) -> Option<usize> {
        self.advice.iter().position(|&q| q == (column, rotation))
    }

    /// The index of the fixed query of `column`.
    pub fn fixed_index(&self, column: usize) -> Option<usize> {
        self.fixed.iter().position(|&c| c == column)
    }

    fn add_advice(&mut self, column: usize, rotation: i32) {
        if !self.advice.contains(&(column, rotation)) {
            self.advice.push((column, rotation));
        }
    }

    fn add_fixed(&mut self, column: usize) {
        if !self.fixed.contains(&column) {
            self.fixed.push(column);
        }
    }
}

/// The text halo2 hashes into the transcript (`VerifyingKey::hash_into`) and zkinfer hashes
/// into the circuit identity: the `Debug` form of halo2's pinned verifying key, rebuilt from its
/// parts. Equal text means an equal key: the domain, the constraint system and every
/// commitment are in it.
pub fn pinned_text(
    domain: &EvaluationDomain<Fp>,
    cs: &ConstraintSystem<Fp>,
    fixed_commitments: &[EqAffine],
    permutation_commitments: &[EqAffine],
) -> String {
    // Field for field the shape of halo2's `PinnedVerificationKey` and of its permutation
    // verifying key, so that the derived `Debug` output is the same text. Read only through
    // `Debug`.
    #[allow(dead_code)]
    #[derive(Debug)]
    struct VerifyingKey<'a> {
        commitments: &'a Vec<EqAffine>,
    }
    #[allow(dead_code)]
    #[derive(Debug)]
    struct PinnedVerificationKey<'a> {
        base_modulus: &'static str,
        scalar_modulus: &'static str,
        domain: &'a dyn std::fmt::Debug,
        cs: &'a dyn std::fmt::Debug,
        fixed_commitments: &'a Vec<EqAffine>,
        permutation: &'a VerifyingKey<'a>,
    }
    let (fixed, permutation) = (fixed_commitments.to_vec(), permutation_commitments.to_vec());
    let pinned = PinnedVerificationKey {
        base_modulus: Fq::MODULUS,
        scalar_modulus: Fp::MODULUS,
        domain: &domain.pinned(),
        cs: &cs.pinned(),
        fixed_commitments: &fixed,
        permutation: &VerifyingKey { commitments: &permutation },
    };
    format!("{pinned:?}")
}

/// How many fixed columns `layout`'s circuit has: the layout's own, the constants column, the
/// range table's two and, with a function table, its three.
pub fn fixed_column_count(layout: Layout) -> usize {
    table_column_index(layout, TableColumn::RangeValue) + 1 + if layout.function_table { 3 } else { 0 }
}

/// halo2's transcript representation of a verifying key: BLAKE2b-512 (personal
/// `Halo2-Verify-Key`) of the pinned text's length (u64, little endian) and the text, as a
/// field element from 64 uniform bytes. Absorbed first into every proof's transcript.
pub fn transcript_repr(pinned_text: &str) -> Fp {
    use ff::FromUniformBytes;
    let mut state = blake2b_simd::Params::new().hash_length(64).personal(b"Halo2-Verify-Key").to_state();
    state.update(&(pinned_text.len() as u64).to_le_bytes());
    state.update(pinned_text.as_bytes());
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(state.finalize().as_bytes());
    Fp::from_uniform_bytes(&bytes)
}
