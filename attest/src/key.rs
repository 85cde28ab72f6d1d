//! The service's secp256k1 signing key: read from a file or the environment, validated, never
//! printed (its `Debug` shows the address only).

use std::path::Path;

use alloy_primitives::{Address, Signature};

use crate::statement::{Domain, SignedAttestation, Statement};

/// A secp256k1 signing key.
pub struct SigningKey {
    key: k256::ecdsa::SigningKey,
    address: Address,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey {{ address: {}, secret: <redacted> }}", self.address)
    }
}

/// Why a key cannot be used. Messages never contain the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// No key given.
    #[error("no signing key: {0}")]
    Missing(String),
    /// The key file cannot be read.
    #[error("reading the key file {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Error.
        source: std::io::Error,
    },
    /// Not 32 bytes of hex, zero, or not below the curve order.
    #[error("malformed signing key: {0}")]
    Malformed(&'static str),
}

impl SigningKey {
    /// A key from 64 hex digits (optionally `0x`-prefixed, surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let digits = text.strip_prefix("0x").unwrap_or(text);
        if digits.len() != 64 {
            return Err(KeyError::Malformed("expected 32 bytes as 64 hex digits"));
        }
        let bytes = alloy_primitives::hex::decode(digits).map_err(|_| KeyError::Malformed("not hex"))?;
        let key = k256::ecdsa::SigningKey::from_slice(&bytes)
            .map_err(|_| KeyError::Malformed("zero or not below the secp256k1 order"))?;
        let address = Address::from_public_key(key.verifying_key());
        Ok(Self { key, address })
    }

    /// A key from a file holding its hex.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KeyError::Io { path: path.display().to_string(), source })?;
        Self::from_hex(&text)
    }

    /// A key from the environment variable `var`.
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let text = std::env::var(var).map_err(|_| KeyError::Missing(format!("${var} is not set")))?;
        Self::from_hex(&text)
    }

    /// The key's Ethereum address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `statement` for `domain`; `inputs` and `outputs` are the values its hashes cover
    /// (carried along for the registry's `submit`).
    pub fn sign(&self, statement: &Statement, domain: &Domain, inputs: &[i64], outputs: &[i64]) -> SignedAttestation {
        let digest = statement.digest(domain);
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(digest.as_slice())
            .expect("signing a 32-byte prehash with a valid key cannot fail");
        let signature = Signature::from_signature_and_parity(sig, recid.is_y_odd());
        SignedAttestation {
            statement: *statement,
            domain: domain.to_json(),
            digest,
            signature: signature.as_bytes().to_vec(),
            signer: self.address,
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KEY: &str = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    #[test]
    fn a_known_key_has_its_known_address() {
        // A widely published test key and its address.
        let key = SigningKey::from_hex(&format!("0x{KEY}\n")).unwrap();
        assert_eq!(key.address().to_string(), "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23");
    }

    #[test]
    fn malformed_keys_are_refused_without_echoing_them() {
        for bad in
            ["", "0x", "12", &KEY[..62], &format!("{KEY}00"), &"zz".repeat(32), &"00".repeat(32), &"ff".repeat(32)]
        {
            let e = SigningKey::from_hex(bad).unwrap_err();
            assert!(matches!(e, KeyError::Malformed(_)), "{bad}: {e}");
            assert!(bad.len() < 8 || !e.to_string().contains(bad), "the message must not contain the key");
        }
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let key = SigningKey::from_hex(KEY).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(KEY) && shown.contains("redacted"));
    }
}
