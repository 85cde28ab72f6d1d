//! The engine's prover, stage by stage in halo2's transcript order, drawing randomness in the
//! order halo2's `create_proof` draws it, so that with the same seeded RNG every byte it writes
//! equals the stock prover's.
//!
//! The stages ([`commit_all`] runs 1 to 3, [`commit_through_quotient`] 1 to 4, [`prove`] all):
//! 1. [`witness`]: the verifying key's transcript representation and the instance commitment
//!    are absorbed, the advice columns get their random blinding rows and blinds, and their
//!    commitments are written, the witness rows committed by
//!    the backend's small-scalar MSM;
//! 2. [`lookup`] (challenge θ): each lookup's compressed input and table, permuted, blinded and
//!    committed;
//! 3. (challenges β, γ) [`permutation`]: the permutation's grand products, one per chunk of
//!    columns; then each lookup's grand product;
//! 4. [`vanishing`]: the random polynomial that blinds the quotient, then (challenge y) the
//!    quotient `h` over the extended domain, split into pieces and committed;
//! 5. [`opening`] (challenge x): the evaluations, then the multi-point opening and the
//!    inner-product argument ([`ipa`]).
//!
//! The oracle: `engine/tests/equals_stock.rs` and `engine/tests/random_models.rs` require the
//! stock prover's bytes.

pub mod ipa;
pub mod lookup;
pub mod opening;
pub mod permutation;
pub mod precomputed;
pub mod vanishing;
pub mod witness;

use std::sync::Arc;

use ff::Field;
use group::Curve;
use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::poly::{Coeff, EvaluationDomain, Polynomial};
use halo2_proofs::transcript::{Blake2bWrite, Challenge255, EncodedChallenge, Transcript, TranscriptWrite};
use zkinfer_circuits::{CircuitSpec, Witness};

use crate::EngineError;
use crate::backend::{Backend, CpuBackend};
use crate::domain::Transforms;
use crate::keygen::{KeyCommitments, Keys, assemble_rows};
use crate::params::ParamsData;

pub use precomputed::{Precomputed, PrecomputedShape};
pub use witness::{CommittedWitness, commit_witness};

/// The transcript zkinfer proofs use.
pub type ProofTranscript = Blake2bWrite<Vec<u8>, EqAffine, Challenge255<EqAffine>>;

/// What proving a circuit needs besides the witness: the keys, the params' points and the
/// verifying key's transcript representation.
#[derive(Debug)]
pub struct ProvingKey {
    /// The keys of the circuit.
    pub keys: Keys,
    /// The verifying key's commitments (fixed columns, permutation).
    pub commitments: KeyCommitments,
    /// The params' generators.
    pub params: ParamsData,
    /// The scalar halo2 absorbs first: a hash of the pinned verifying key.
    pub transcript_repr: Fp,
    /// What every proof of this circuit reuses: the fixed and permutation polynomials in
    /// coefficient form and on the extended domain, and the row indicators.
    pub precomputed: Precomputed,
    /// The compute primitives (MSM, FFT, the IPA's generator collapse).
    pub backend: Arc<dyn Backend>,
}

impl ProvingKey {
    /// Keygen for `spec`'s circuit: the keys and the verifying key's commitments.
    pub fn new(params: &Params<EqAffine>, spec: &CircuitSpec) -> Result<Self, EngineError> {
        Self::build(ParamsData::new(params)?, spec, None, None)
    }

    /// Keygen for `spec`'s circuit with the verifying key's commitments already known (a key
    /// file): they are not computed again. Wrong commitments give proofs for another circuit
    /// identity.
    pub fn with_commitments(
        params: &Params<EqAffine>,
        spec: &CircuitSpec,
        commitments: KeyCommitments,
    ) -> Result<Self, EngineError> {
        Self::build(ParamsData::new(params)?, spec, Some(commitments), None)
    }

    /// The key from what a key file stores: the verifying key's commitments and the
    /// precomputed polynomials' encoding ([`Precomputed::to_bytes`]), decoded as `polynomials`
    /// gives it ([`Precomputed::read_from`]). Only the columns and the
    /// permutation are assembled (no FFT, no MSM). Wrong commitments give proofs for another
    /// circuit identity, wrong polynomials proofs that do not verify.
    pub fn from_stored(
        params: &Params<EqAffine>,
        spec: &CircuitSpec,
        commitments: KeyCommitments,
        polynomials: &mut (dyn std::io::Read + Send),
    ) -> Result<Self, EngineError> {
        Self::build(ParamsData::new(params)?, spec, Some(commitments), Some(polynomials))
    }

    /// Keygen with the params' points alone ([`ParamsData::from_raw`]: each point decompressed
    /// once, in parallel), so that no halo2 `Params` is read: what is given (a key file's
    /// commitments and polynomials) is not computed again.
    pub fn with_points(
        points: ParamsData,
        spec: &CircuitSpec,
        commitments: Option<KeyCommitments>,
        polynomials: Option<&mut (dyn std::io::Read + Send)>,
    ) -> Result<Self, EngineError> {
        Self::build(points, spec, commitments, polynomials)
    }

    fn build(
        params_data: ParamsData,
        spec: &CircuitSpec,
        commitments: Option<KeyCommitments>,
        polynomials: Option<&mut (dyn std::io::Read + Send)>,
    ) -> Result<Self, EngineError> {
        let k = params_data.k;
        // With stored polynomials, the keys are assembled while the polynomials are read (the
        // reading leaves a thread idle part of the time, the assembly runs on one).
        let (keys, stored) = match polynomials {
            Some(reader) => {
                let domain = EvaluationDomain::new(crate::keygen::constraint_system(spec).degree() as u32, k);
                let shape = PrecomputedShape::of_layout(spec.layout, &domain, k);
                let (keys, stored) =
                    rayon::join(|| assemble_rows(k, spec), || Precomputed::read_shaped(reader, shape, &domain));
                let keys = keys?;
                if PrecomputedShape::of(&keys, k) != shape {
                    return Err(EngineError::KeyPolynomials("the circuit's columns do not match its layout".into()));
                }
                (keys, Some(stored?))
            }
            None => (assemble_rows(k, spec)?, None),
        };
        let commitments = match commitments {
            Some(c) if c.fixed.len() == keys.fixed.len() && c.permutation.len() == keys.permutation.len() => c,
            Some(c) => {
                return Err(EngineError::KeyShape {
                    expected: keys.fixed.len() + keys.permutation.len(),
                    found: c.fixed.len() + c.permutation.len(),
                });
            }
            None => keys.commit(&params_data, &CpuBackend),
        };
        let transcript_repr = transcript_repr(&keys.pinned_text(&commitments));
        let backend: Arc<dyn Backend> = Arc::new(CpuBackend);
        let precomputed = match stored {
            Some(stored) => stored,
            None => Precomputed::compute(&keys, &Transforms::new(&keys.domain, k, backend.as_ref()), k),
        };
        Ok(Self { keys, commitments, params: params_data, transcript_repr, precomputed, backend })
    }

    /// The same key proving with `backend`'s primitives.
    pub fn with_backend(self, backend: Arc<dyn Backend>) -> Self {
        Self { backend, ..self }
    }

    /// Changes of basis over the circuit's domain with the key's backend.
    pub fn transforms(&self) -> Transforms<'_> {
        Transforms::new(&self.keys.domain, self.params.k, self.backend.as_ref())
    }

    /// Rows of the circuit (`2^k`).
    pub fn n(&self) -> usize {
        1 << self.params.k
    }

    /// halo2's blinding rows (the random rows at the end of each witness column, but one).
    pub fn blinding_factors(&self) -> usize {
        self.keys.cs.blinding_factors()
    }

    /// First row of the blinding rows (the last `blinding_factors + 1` rows).
    pub fn unusable_rows_start(&self) -> usize {
        self.n() - (self.blinding_factors() + 1)
    }

    /// A commitment in Lagrange form with blind `blind`, as halo2's `commit_lagrange`.
    pub fn commit(&self, values: &[Fp], blind: Fp) -> EqAffine {
        let params = &self.params;
        crate::msm::commit_runs(
            self.backend.as_ref(),
            &params.g_lagrange,
            params.lagrange_prefix(),
            params.w,
            values,
            blind,
        )
        .to_affine()
    }
}

pub use zkinfer_circuits::constraints::key::transcript_repr;

/// `f` over `items` on rayon's threads, one item per task, results in order. Work done in
/// parallel inside `f` (an FFT's halves) is stolen by idle threads instead of competing with
/// other threads for the cores.
pub fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    use rayon::prelude::*;
    items.par_iter().with_max_len(1).map(f).collect()
}

/// What the stages up to the grand products leave: the witness, the lookups and the products.
#[derive(Debug)]
pub struct Committed {
    /// Stage 1.
    pub witness: CommittedWitness,
    /// Stage 2: per lookup.
    pub lookups: Vec<lookup::Permuted>,
    /// Stage 3: the permutation's grand products.
    pub permutation: permutation::Products,
    /// Stage 3: per lookup, its grand product.
    pub lookup_products: Vec<lookup::Product>,
    /// The challenges drawn so far (`y` is drawn in stage 4).
    pub challenges: vanishing::Challenges,
    /// The instance column over all rows.
    pub instance: Vec<Fp>,
}

/// The witness-dependent polynomials of stages 1 to 3 in coefficient form, converted once for
/// the quotient (stage 4, which extends them to the coset domain) and the opening (stage 5).
#[derive(Debug)]
pub struct WitnessPolys {
    /// The instance column.
    pub instance: Polynomial<Fp, Coeff>,
    /// The advice columns, blinding rows included.
    pub advice: Vec<Polynomial<Fp, Coeff>>,
    /// The permutation's grand products, one per chunk.
    pub permutation: Vec<Polynomial<Fp, Coeff>>,
    /// Per lookup: the permuted input, the permuted table, the grand product.
    pub lookups: Vec<[Polynomial<Fp, Coeff>; 3]>,
}

impl WitnessPolys {
    /// Converts the columns of `c` from Lagrange to coefficient form.
    pub fn new(pk: &ProvingKey, c: &Committed) -> Self {
        let (domain, transforms) = (&pk.keys.domain, pk.transforms());
        // Every column in one list, one transform per thread at a time.
        let all: Vec<&Vec<Fp>> = std::iter::once(&c.instance)
            .chain(&c.witness.advice)
            .chain(&c.permutation.z)
            .chain(
                c.lookups
                    .iter()
                    .zip(&c.lookup_products)
                    .flat_map(|(l, p)| [&l.permuted_input, &l.permuted_table, &p.z]),
            )
            .collect();
        let mut polys =
            parallel_map(&all, |values| domain.coeff_from_vec(transforms.lagrange_to_coeff(values.to_vec())))
                .into_iter();
        let mut take = |count: usize| -> Vec<Polynomial<Fp, Coeff>> { polys.by_ref().take(count).collect() };
        let instance = take(1).pop().unwrap_or_else(|| domain.empty_coeff());
        let advice = take(c.witness.advice.len());
        let permutation = take(c.permutation.z.len());
        let mut lookup_columns = take(3 * c.lookups.len()).into_iter();
        let lookups = c
            .lookups
            .iter()
            .map(|_| std::array::from_fn(|_| lookup_columns.next().unwrap_or_else(|| domain.empty_coeff())))
            .collect();
        Self { instance, advice, permutation, lookups }
    }
}

/// Everything stages 1 to 4 leave for the opening.
#[derive(Debug)]
pub struct ThroughQuotient {
    /// Stages 1 to 3.
    pub committed: Committed,
    /// Their polynomials in coefficient form.
    pub polys: WitnessPolys,
    /// Stage 4: the random polynomial.
    pub random: vanishing::Random,
    /// Stage 4: the quotient's pieces.
    pub quotient: vanishing::Quotient,
}

/// Runs the stages built so far, in halo2's order, on one transcript.
pub fn commit_all<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    witness: &Witness,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<Committed, EngineError> {
    let committed = commit_witness(pk, spec, witness, rng, transcript)?;
    let theta = challenge(transcript);
    let lookups = lookup::commit_permuted(pk, spec, &committed.advice, theta, rng, transcript)?;
    let (beta, gamma) = (challenge(transcript), challenge(transcript));
    let instance = witness::instance_column(pk, &witness.instance);
    let permutation = permutation::commit_products(pk, &committed.advice, &instance, beta, gamma, rng, transcript)?;
    let lookup_products = lookup::commit_products(pk, &lookups, beta, gamma, rng, transcript)?;
    let challenges = vanishing::Challenges { theta, beta, gamma, y: Fp::ZERO };
    Ok(Committed { witness: committed, lookups, permutation, lookup_products, challenges, instance })
}

/// Stages 1 to 4: everything up to the quotient's commitments.
pub fn commit_through_quotient<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    witness: &Witness,
    rng: &mut R,
    transcript: &mut ProofTranscript,
) -> Result<ThroughQuotient, EngineError> {
    let mut committed = commit_all(pk, spec, witness, rng, transcript)?;
    let polys = WitnessPolys::new(pk, &committed);
    let random = vanishing::commit_random(pk, rng, transcript)?;
    committed.challenges.y = challenge(transcript);
    let quotient = vanishing::commit_quotient(pk, spec, &polys, committed.challenges, rng, transcript)?;
    Ok(ThroughQuotient { committed, polys, random, quotient })
}

/// A whole proof of `witness` for `spec`'s circuit: the bytes halo2's `create_proof` writes with
/// the same RNG.
pub fn prove<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    witness: &Witness,
    rng: &mut R,
) -> Result<Vec<u8>, EngineError> {
    let mut transcript = ProofTranscript::init(Vec::new());
    let stages = commit_through_quotient(pk, spec, witness, rng, &mut transcript)?;
    opening::evaluate_and_open(pk, spec, &stages, rng, &mut transcript)?;
    Ok(transcript.finalize())
}

/// [`prove`], after checking the witness against every relation of the constraint data
/// ([`zkinfer_circuits::constraints::check`]): an unsatisfied witness is refused with the
/// failing relations instead of producing a proof that does not verify.
pub fn prove_checked<R: rand_core::Rng + ?Sized>(
    pk: &ProvingKey,
    spec: &CircuitSpec,
    witness: &Witness,
    rng: &mut R,
) -> Result<Vec<u8>, EngineError> {
    if let Err(failures) = zkinfer_circuits::constraints::check::check_witness(spec, witness) {
        let shown: Vec<String> = failures.iter().take(3).map(ToString::to_string).collect();
        return Err(EngineError::Unsatisfied { failures: failures.len(), first: shown.join("; ") });
    }
    prove(pk, spec, witness, rng)
}

/// Squeezes a challenge scalar.
pub fn challenge(transcript: &mut ProofTranscript) -> Fp {
    transcript.squeeze_challenge().get_scalar()
}

/// Writes a commitment to the transcript.
pub(crate) fn write_point(transcript: &mut ProofTranscript, point: EqAffine) -> Result<(), EngineError> {
    transcript.write_point(point).map_err(|e| EngineError::Transcript(e.to_string()))
}

/// Per item, `rows` random values and then one blind, item after item: the order in which
/// halo2 draws the randomness of the grand products, drawn before the items are computed in
/// parallel.
pub(crate) fn draw_rows_and_blinds<R: rand_core::Rng + ?Sized>(
    rng: &mut R,
    items: usize,
    rows: usize,
) -> Vec<(Vec<Fp>, Fp)> {
    (0..items)
        .map(|_| {
            let values: Vec<Fp> = (0..rows).map(|_| Fp::random(&mut *rng)).collect();
            (values, Fp::random(&mut *rng))
        })
        .collect()
}

/// The running product `[1, r_0, r_0·r_1, ...]` over `ratios` (one value more than them).
pub(crate) fn running_product(ratios: &[Fp]) -> Vec<Fp> {
    let mut z = Vec::with_capacity(ratios.len() + 1);
    let mut acc = Fp::ONE;
    z.push(acc);
    for r in ratios {
        acc *= r;
        z.push(acc);
    }
    z
}

/// Inverts every non-zero element in place (zeros stay zero), as halo2's batch inversion.
pub(crate) fn batch_invert(values: &mut [Fp]) {
    let mut products = Vec::with_capacity(values.len());
    let mut acc = Fp::ONE;
    for v in values.iter() {
        products.push(acc);
        if !bool::from(v.is_zero()) {
            acc *= v;
        }
    }
    let mut inv = acc.invert().unwrap_or(Fp::ZERO);
    for (v, before) in values.iter_mut().zip(products).rev() {
        if !bool::from(v.is_zero()) {
            let next = inv * *v;
            *v = inv * before;
            inv = next;
        }
    }
}
