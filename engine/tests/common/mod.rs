//! Helpers of the engine's oracle tests: params from the shared cache, and a stock halo2 proof
//! of any spec and witness.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use halo2_proofs::pasta::{EqAffine, Fp};
use halo2_proofs::plonk::{VerifyingKey, create_proof, keygen_pk, keygen_vk};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use rand::SeedableRng;
use rand::rngs::StdRng;
use zkinfer_circuits::{CircuitSpec, Layout, LinearLayout, ModelCircuit, Witness, instance_values, with_layout};
use zkinfer_prover::params::ParamsCache;

/// The small layout of the engine's chip tests: eight lanes, four limbs of up to 6 bits, no
/// function table.
pub fn test_layout() -> Layout {
    Layout {
        lanes: 8,
        limbs: 4,
        range_bits: 6,
        function_table: false,
        linear: LinearLayout::DotProduct,
        weight_offset: 128,
        tables: zkinfer_circuits::FunctionTables::Whole,
        clamps: zkinfer_circuits::ClampForm::Compared,
    }
}

/// The params of size `k` from the cache under `target/`.
pub fn params(k: u32) -> Params<EqAffine> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/zkinfer-params");
    ParamsCache::new(root).load_or_generate(k).unwrap().params
}

/// The stock prover's proof of `witness` with `StdRng::seed_from_u64(seed)`, and the stock
/// verifying key.
pub fn stock_proof(
    params: &Params<EqAffine>,
    spec: &CircuitSpec,
    witness: &Witness,
    seed: u64,
) -> (Vec<u8>, VerifyingKey<EqAffine>) {
    let circuit = ModelCircuit::new(Arc::new(spec.clone()), Some(Arc::new(witness.clone())));
    let instance: Vec<Fp> = instance_values(&witness.instance);
    let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(vec![]);
    let vk = with_layout(spec.layout, || {
        let vk = keygen_vk(params, &circuit).unwrap();
        let pk = keygen_pk(params, vk.clone(), &circuit).unwrap();
        create_proof(params, &pk, &[circuit], &[&[&instance]], StdRng::seed_from_u64(seed), &mut transcript).unwrap();
        vk
    });
    (transcript.finalize(), vk)
}

/// Index of the first differing byte (the common length when one is a prefix of the other).
pub fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// halo2's stock verdict on `proof` (the whole proof read, nothing left over).
pub fn stock_verifies(params: &Params<EqAffine>, vk: &VerifyingKey<EqAffine>, instance: &[Fp], proof: &[u8]) -> bool {
    use halo2_proofs::plonk::{SingleVerifier, verify_proof};
    use halo2_proofs::transcript::Blake2bRead;
    let mut reader = std::io::Cursor::new(proof);
    let ok = {
        let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(&mut reader);
        verify_proof(params, vk, SingleVerifier::new(params), &[&[instance]], &mut transcript).is_ok()
    };
    ok && reader.position() as usize == proof.len()
}
