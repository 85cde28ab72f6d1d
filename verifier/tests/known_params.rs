//! The table of standard params hashes: it covers every supported `k`, the small entries equal
//! freshly generated params, and consistent but non-standard params are refused.

#![allow(clippy::unwrap_used, clippy::panic)]

use halo2_proofs::pasta::EqAffine;
use halo2_proofs::poly::commitment::Params;
use zkinfer_circuits::MAX_K;
use zkinfer_circuits::layout::MIN_K;
use zkinfer_verifier::params::{KNOWN_PARAMS_HASHES, ParamsError, encode_params, known_params_hash, params_from_bytes};

#[test]
fn the_table_covers_every_supported_k() {
    for k in MIN_K..=MAX_K {
        assert!(known_params_hash(k).is_some(), "k = {k}");
    }
    assert_eq!(KNOWN_PARAMS_HASHES.len() as u32, MAX_K - MIN_K + 1);
}

#[test]
fn small_entries_equal_freshly_generated_params() {
    for k in MIN_K..=9 {
        let (bytes, hash) = encode_params(&Params::<EqAffine>::new(k));
        assert_eq!(Some(hash), known_params_hash(k), "k = {k}");
        assert_eq!(params_from_bytes(&bytes).unwrap().1, hash);
    }
}

#[test]
fn consistent_but_non_standard_params_are_refused() {
    // Swap the first two generators: still valid points, a correct content hash, but not the
    // params halo2 generates.
    let k = 5;
    let mut raw = Vec::new();
    Params::<EqAffine>::new(k).write(&mut raw).unwrap();
    let (a, b) = (raw[4..36].to_vec(), raw[36..68].to_vec());
    raw[4..36].copy_from_slice(&b);
    raw[36..68].copy_from_slice(&a);
    let swapped = Params::<EqAffine>::read(&mut &raw[..]).unwrap();
    let (bytes, _) = encode_params(&swapped);
    assert!(matches!(params_from_bytes(&bytes), Err(ParamsError::Unknown(5))));
}
