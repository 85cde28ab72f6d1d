//! zkinfer's own halo2 verifier: checks a proof against a verifying key held as data (its
//! commitments, with everything else derived from the layout), without keygen.
//!
//! It follows halo2_proofs 0.4.1's `verify_proof` step for step (same transcript reads and
//! challenges, same constraints, same multi-point opening and inner-product check), for the
//! circuits zkinfer compiles: one instance column, one advice phase, no selectors. The stock
//! verifier stays available ([`crate::VerifierChoice::Stock`]) and the release tests require both
//! to give the same verdict on every conformance case, zoo proofs, proofs of random models and
//! tens of thousands of mutated proofs.
//!
//! - [`KeyCommitments`]: what keygen computes (fixed and permutation commitments), the part of a
//!   verifying key a bundle carries;
//! - [`PreparedKey`]: the whole key rebuilt from a layout, `k` and those commitments (constraint
//!   system, query order, transcript representation, circuit identity) in microseconds;
//! - [`verify_proof`]: the check; [`argument`] reads the proof and evaluates the constraints at
//!   the challenge `x`, [`opening`] checks the multi-point opening and the inner-product argument.

pub mod argument;
mod msm;
pub mod opening;
mod transcript;

use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::EvaluationDomain;
use zkinfer_circuits::Layout;
use zkinfer_circuits::constraints::key::{
    PermutationColumn, QueryLists, constraint_system, fixed_column_count, permutation_columns, pinned_text,
    table_column_index, transcript_repr,
};
use zkinfer_circuits::constraints::{Column, ConstraintData};

use crate::params::VerifierParams;

pub use transcript::TranscriptError;

pub use zkinfer_circuits::constraints::key::KeyCommitments;

/// Why commitments do not make a verifying key for a layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Wrong number of fixed commitments.
    #[error("the key has {found} fixed commitments, the layout has {expected} fixed columns")]
    FixedCount {
        /// The layout's fixed columns.
        expected: usize,
        /// Commitments in the key.
        found: usize,
    },
    /// Wrong number of permutation commitments.
    #[error("the key has {found} permutation commitments, the layout has {expected} permutation columns")]
    PermutationCount {
        /// The layout's permutation columns.
        expected: usize,
        /// Commitments in the key.
        found: usize,
    },
    /// `2^k` rows cannot hold the constraint system (or `k` is beyond the largest supported).
    #[error("k = {0} does not fit the circuit")]
    K(u32),
    /// A constraint reads a column query the key does not list (a zkinfer bug).
    #[error("a constraint reads {0}, which is not among the circuit's queries")]
    MissingQuery(String),
}

/// A verifying key rebuilt from a layout, `k` and its commitments.
#[derive(Debug)]
pub struct PreparedKey {
    pub(crate) layout: Layout,
    pub(crate) k: u32,
    pub(crate) domain: EvaluationDomain<Fp>,
    /// The constraint degree (permutation columns per grand product: `degree - 2`).
    pub(crate) degree: usize,
    pub(crate) blinding_factors: usize,
    pub(crate) constraints: ConstraintData,
    pub(crate) queries: QueryLists,
    pub(crate) permutation_columns: Vec<PermutationColumn>,
    pub(crate) commitments: KeyCommitments,
    pub(crate) transcript_repr: Fp,
    pinned_text: String,
}

impl PreparedKey {
    /// The key of `layout`'s circuit with `2^k` rows and these commitments. Refuses
    /// commitments that do not fit the layout.
    pub fn new(layout: Layout, k: u32, commitments: KeyCommitments) -> Result<Self, KeyError> {
        let expected = fixed_column_count(layout);
        if commitments.fixed.len() != expected {
            return Err(KeyError::FixedCount { expected, found: commitments.fixed.len() });
        }
        let permutation_columns = permutation_columns(layout);
        if commitments.permutation.len() != permutation_columns.len() {
            return Err(KeyError::PermutationCount {
                expected: permutation_columns.len(),
                found: commitments.permutation.len(),
            });
        }
        let cs = constraint_system(layout);
        if k > zkinfer_circuits::MAX_K || (1usize << k) < cs.minimum_rows() {
            return Err(KeyError::K(k));
        }
        let domain = EvaluationDomain::new(cs.degree() as u32, k);
        let pinned_text = pinned_text(&domain, &cs, &commitments.fixed, &commitments.permutation);
        let key = Self {
            layout,
            k,
            degree: cs.degree(),
            blinding_factors: cs.blinding_factors(),
            domain,
            constraints: ConstraintData::new(layout),
            queries: QueryLists::new(layout),
            permutation_columns,
            commitments,
            transcript_repr: transcript_repr(&pinned_text),
            pinned_text,
        };
        key.check_queries()?;
        Ok(key)
    }

    /// Every query a constraint or the permutation reads is in the query lists, so evaluating
    /// the constraints at `x` never needs a value the proof does not carry.
    fn check_queries(&self) -> Result<(), KeyError> {
        let missing = |what: String| Err(KeyError::MissingQuery(what));
        let mut queries: Vec<(Column, i32)> = Vec::new();
        for gate in self.constraints.gates() {
            queries.extend(gate.queries.iter().map(|q| (q.column, q.rotation)));
        }
        for lookup in self.constraints.lookups() {
            queries.extend(lookup.queries.iter().map(|q| (q.column, q.rotation)));
            queries.extend(lookup.inputs.iter().map(|&(_, t)| (Column::Fixed(table_column_index(self.layout, t)), 0)));
        }
        for &c in &self.permutation_columns {
            match c {
                PermutationColumn::Advice(c) => queries.push((Column::Advice(c), 0)),
                PermutationColumn::Fixed(c) => queries.push((Column::Fixed(c), 0)),
                PermutationColumn::Instance => {}
            }
        }
        for (column, rotation) in queries {
            let found = match column {
                Column::Advice(c) => self.queries.advice_index(c, rotation).is_some(),
                Column::Fixed(c) => rotation == 0 && self.queries.fixed_index(c).is_some(),
            };
            if !found {
                return missing(format!("{column:?} at rotation {rotation}"));
            }
        }
        Ok(())
    }

    /// halo2's pinned verifying-key text (what the circuit identity hashes).
    pub fn pinned_text(&self) -> &str {
        &self.pinned_text
    }

    /// The rows of the circuit: `2^k`.
    pub fn k(&self) -> u32 {
        self.k
    }

    /// The key's commitments.
    pub fn commitments(&self) -> &KeyCommitments {
        &self.commitments
    }
}

/// Why a proof is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The params are for another `k`.
    #[error("the params are for k = {params}, the key for k = {key}")]
    ParamsK {
        /// The params' k.
        params: u32,
        /// The key's k.
        key: u32,
    },
    /// More public values than the circuit's usable rows (or than the params' Lagrange
    /// generators at hand).
    #[error("{0} public values do not fit the instance column")]
    InstanceTooLarge(usize),
    /// The proof bytes end early or hold an invalid point or scalar.
    #[error(transparent)]
    Transcript(#[from] TranscriptError),
    /// Two evaluations of one commitment at one point (never in an honest proof).
    #[error("a commitment is opened twice at the same point")]
    DuplicateOpening,
    /// A challenge hit a value where the check divides by zero (probability about 2^-250).
    #[error("a degenerate challenge ({0})")]
    DegenerateChallenge(&'static str),
    /// The final multi-scalar multiplication is not the identity: the constraints, lookups,
    /// permutation or opening do not hold.
    #[error("the opening check fails: the proof does not verify")]
    Opening,
    /// Bytes left after the proof.
    #[error("{0} unread bytes after the proof")]
    TrailingBytes(usize),
}

/// Checks `proof` for the public values `instance` against `key` with `params` (the same
/// verdict as halo2's `verify_proof` with the stock key, plus the exact proof length).
pub fn verify_proof(
    key: &PreparedKey,
    params: &VerifierParams,
    instance: &[Fp],
    proof: &[u8],
) -> Result<(), ProofError> {
    if params.k != key.k {
        return Err(ProofError::ParamsK { params: params.k, key: key.k });
    }
    let mut transcript = transcript::Reader::new(proof);
    let read = argument::read_and_evaluate(key, params, instance, &mut transcript)?;
    opening::verify_opening(params, key.k, &read.queries, &read.openings, &mut transcript)?;
    match transcript.remaining() {
        0 => Ok(()),
        left => Err(ProofError::TrailingBytes(left)),
    }
}
