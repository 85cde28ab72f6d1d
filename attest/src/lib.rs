//! # zkinfer-attest
//!
//! Statements that a zkinfer proof verified, signed so that contracts can consume them.
//! Pasta/IPA proofs are not economical to verify on the EVM; a verifier service checks them
//! off-chain and signs a [`Statement`] as EIP-712 typed data with secp256k1, and the
//! `AttestationRegistry` contract (`contracts/`) checks the signature with `ecrecover`.
//!
//! A statement binds:
//! - `circuitId`: the circuit identity (the model; BLAKE2b-256 of the verifying key's pinned
//!   description). Never the proof bytes: halo2 proofs are randomized.
//! - `inputHash`, `outputHash`: keccak256 of the public input and output integers, each ABI
//!   encoded as a 32-byte big-endian two's-complement word (`abi.encodePacked(int256[])`;
//!   note that pasta field elements serialize little-endian, so the integers, not field
//!   elements, are hashed);
//! - `verifierVersion`: the verifier's version, `major << 16 | minor << 8 | patch`;
//! - `verifiedAt`, `expiresAt`: unix seconds.
//!
//! The EIP-712 domain is `name = "zkinfer"`, `version = "1"`, the chain id and the registry
//! contract's address. Encoding is alloy's (`sol!`, `SolStruct::eip712_signing_hash`); the
//! signature is 65 bytes `r || s || v` with `v` in {27, 28} and low `s`.
//!
//! ```
//! use zkinfer_attest::{Address, Domain, SigningKey, Statement};
//! let key = SigningKey::from_hex("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")?;
//! let domain = Domain { chain_id: 31337, verifying_contract: Address::ZERO };
//! let statement = Statement::new([7; 32], &[1, -2, 3], &[40, -5], 1_700_000_000, 1_700_003_600);
//! let signed = key.sign(&statement, &domain, &[1, -2, 3], &[40, -5]);
//! assert_eq!(zkinfer_attest::recover(&statement, &domain, &signed.signature)?, key.address());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod key;
mod statement;
pub mod vectors;

pub use alloy_primitives::{Address, B256, hex};
pub use key::{KeyError, SigningKey};
pub use statement::{
    Domain, DomainJson, SignedAttestation, Statement, StatementError, int256s, recover, type_string, values_hash,
    verifier_version,
};
