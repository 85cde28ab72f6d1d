//! The statement, its EIP-712 encoding, and signature recovery.

use alloy_primitives::{Address, B256, I256, Signature, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolStruct, SolValue};
use serde::{Deserialize, Serialize};

mod sol {
    alloy_sol_types::sol! {
        /// The EIP-712 type the registry contract checks (same field order and types).
        struct Attestation {
            bytes32 circuitId;
            bytes32 inputHash;
            bytes32 outputHash;
            uint32 verifierVersion;
            uint64 verifiedAt;
            uint64 expiresAt;
        }
    }
}

/// The EIP-712 domain name and version of every zkinfer attestation.
pub const DOMAIN_NAME: &str = "zkinfer";
/// The EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";

/// What a statement is signed for: the chain and the registry contract that checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Domain {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The `AttestationRegistry` contract.
    pub verifying_contract: Address,
}

/// A domain as JSON (the full EIP-712 domain, for clients).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainJson {
    /// Always "zkinfer".
    pub name: String,
    /// Always "1".
    pub version: String,
    /// Chain id.
    pub chain_id: u64,
    /// Registry contract.
    pub verifying_contract: Address,
}

impl Domain {
    fn eip712(&self) -> Eip712Domain {
        Eip712Domain::new(
            Some(DOMAIN_NAME.into()),
            Some(DOMAIN_VERSION.into()),
            Some(U256::from(self.chain_id)),
            Some(self.verifying_contract),
            None,
        )
    }

    /// The EIP-712 domain separator.
    pub fn separator(&self) -> B256 {
        self.eip712().separator()
    }

    /// The full domain as JSON.
    pub fn to_json(&self) -> DomainJson {
        DomainJson {
            name: DOMAIN_NAME.into(),
            version: DOMAIN_VERSION.into(),
            chain_id: self.chain_id,
            verifying_contract: self.verifying_contract,
        }
    }
}

/// What a verifier service attests: this circuit, on the input with this hash, produced the
/// outputs with this hash (see the crate docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    /// Circuit identity.
    pub circuit_id: B256,
    /// [`values_hash`] of the public inputs.
    pub input_hash: B256,
    /// [`values_hash`] of the public outputs (all output tensors, in model order, row-major).
    pub output_hash: B256,
    /// [`verifier_version`] of the signer.
    pub verifier_version: u32,
    /// Unix seconds.
    pub verified_at: u64,
    /// Unix seconds; the registry refuses the statement after this.
    pub expires_at: u64,
}

/// Why a signature does not recover.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not 65 bytes, bad `v`, high `s`, or not a point.
    #[error("malformed signature: {0}")]
    Signature(String),
}

/// keccak256 of the values as 32-byte big-endian two's-complement words
/// (Solidity: `keccak256(abi.encodePacked(int256[] values))`).
pub fn values_hash(values: &[i64]) -> B256 {
    keccak256(int256s(values).abi_encode_packed())
}

/// The values as Solidity `int256`s (what the registry's `submit` and `hashValues` take).
pub fn int256s(values: &[i64]) -> Vec<I256> {
    values.iter().map(|&v| I256::try_from(v).expect("an i64 fits an int256")).collect()
}

/// This build's version as `major << 16 | minor << 8 | patch`.
pub fn verifier_version() -> u32 {
    let part = |s: &str| s.parse::<u32>().unwrap_or(0).min(255);
    part(env!("CARGO_PKG_VERSION_MAJOR")) << 16
        | part(env!("CARGO_PKG_VERSION_MINOR")) << 8
        | part(env!("CARGO_PKG_VERSION_PATCH"))
}

impl Statement {
    /// The statement for verified public values, signed by this build's verifier version.
    pub fn new(circuit_id: [u8; 32], inputs: &[i64], outputs: &[i64], verified_at: u64, expires_at: u64) -> Self {
        Self {
            circuit_id: B256::from(circuit_id),
            input_hash: values_hash(inputs),
            output_hash: values_hash(outputs),
            verifier_version: verifier_version(),
            verified_at,
            expires_at,
        }
    }

    fn to_sol(self) -> sol::Attestation {
        sol::Attestation {
            circuitId: self.circuit_id,
            inputHash: self.input_hash,
            outputHash: self.output_hash,
            verifierVersion: self.verifier_version,
            verifiedAt: self.verified_at,
            expiresAt: self.expires_at,
        }
    }

    /// The EIP-712 struct hash.
    pub fn struct_hash(&self) -> B256 {
        self.to_sol().eip712_hash_struct()
    }

    /// The EIP-712 digest that is signed: `keccak256(0x1901 || domainSeparator || structHash)`.
    pub fn digest(&self, domain: &Domain) -> B256 {
        self.to_sol().eip712_signing_hash(&domain.eip712())
    }
}

/// The EIP-712 type string of the statement.
pub fn type_string() -> String {
    sol::Attestation::eip712_encode_type().into_owned()
}

/// A signed statement, as the service answers it and the registry's `submit` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedAttestation {
    /// The statement.
    pub statement: Statement,
    /// The domain it is signed for.
    pub domain: DomainJson,
    /// The EIP-712 digest.
    pub digest: B256,
    /// 65 bytes `r || s || v`, hex.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
    /// The signer's address.
    pub signer: Address,
    /// The public inputs the input hash covers.
    pub inputs: Vec<i64>,
    /// The public outputs the output hash covers (what `submit` records).
    pub outputs: Vec<i64>,
}

/// The address that signed `statement` for `domain` with a 65-byte `r || s || v` signature.
pub fn recover(statement: &Statement, domain: &Domain, signature: &[u8]) -> Result<Address, StatementError> {
    if signature.len() != 65 {
        return Err(StatementError::Signature(format!("{} bytes, expected 65", signature.len())));
    }
    let sig = Signature::try_from(signature).map_err(|e| StatementError::Signature(e.to_string()))?;
    if sig.normalize_s().is_some() {
        return Err(StatementError::Signature("high s (malleable)".into()));
    }
    sig.recover_address_from_prehash(&statement.digest(domain)).map_err(|e| StatementError::Signature(e.to_string()))
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("0x{}", alloy_primitives::hex::encode(bytes)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        alloy_primitives::hex::decode(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_are_big_endian_twos_complement_words() {
        let word = |v: i64| int256s(&[v]).abi_encode_packed();
        assert_eq!(word(1)[31], 1);
        assert_eq!(word(-1), [0xff; 32]);
        assert_eq!(word(-2)[31], 0xfe);
        assert_eq!(&word(0x0102)[30..], &[1, 2]);
        assert_eq!(word(0x0102)[..30], [0; 30]);
        // keccak256 of nothing for no values, as Solidity's abi.encodePacked(new int256[](0)).
        assert_eq!(values_hash(&[]), keccak256([]));
        assert_eq!(values_hash(&[-1]), keccak256([0xffu8; 32]));
        assert_eq!(values_hash(&[1, -2]), keccak256([word(1), word(-2)].concat()));
    }

    #[test]
    fn the_type_string_is_the_contracts() {
        assert_eq!(
            type_string(),
            "Attestation(bytes32 circuitId,bytes32 inputHash,bytes32 outputHash,uint32 verifierVersion,uint64 verifiedAt,uint64 expiresAt)"
        );
    }

    #[test]
    fn the_version_is_packed() {
        assert_eq!(verifier_version(), 0x00_01_00); // 0.1.0
    }
}
