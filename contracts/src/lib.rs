//! # zkinfer-contracts
//!
//! The test harness of the attestation contracts (`contracts/sol/`): their ABI as alloy
//! bindings, the compiled artifacts (solc-js via `contracts/compile.mjs`, run on demand), and
//! an in-memory EVM ([`Chain`], revm) to deploy and call them. Used by the contract tests
//! (`contracts/tests/`) and the end-to-end test of the CLI (`tests/attestation.rs`).
//!
//! ```no_run
//! use zkinfer_contracts::{Chain, deploy_registry};
//! let mut chain = Chain::new(1_700_000_000);
//! let registry = deploy_registry(&mut chain)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use alloy_primitives::{Address, B256, U256};
use alloy_primitives::{Bytes, TxKind};
use alloy_sol_types::{SolCall, SolInterface};
use revm::context::result::{ExecutionResult, Output};
use revm::context::{BlockEnv, CfgEnv, Context, TxEnv};
use revm::database::{CacheDB, EmptyDB};
use revm::handler::{MainnetContext, MainnetEvm};
use revm::primitives::hardfork::SpecId;
use revm::state::AccountInfo;
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use zkinfer_attest::SignedAttestation;
pub use zkinfer_attest::int256s;
use zkinfer_attest::vectors::{CHAIN_ID, DEPLOYER, registry_address};

alloy_sol_types::sol! {
    /// The statement as the registry takes it.
    #[derive(Debug, PartialEq, Eq)]
    struct Attestation {
        bytes32 circuitId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint32 verifierVersion;
        uint64 verifiedAt;
        uint64 expiresAt;
    }

    /// `contracts/sol/AttestationRegistry.sol`.
    #[derive(Debug, PartialEq, Eq)]
    interface IAttestationRegistry {
        error NotOwner();
        error BadSignature();
        error UnknownSigner(address recovered);
        error Replayed(bytes32 digest);
        error Expired(uint64 expiresAt, uint256 now_);
        error FromTheFuture(uint64 verifiedAt, uint256 now_);
        error OutputMismatch(bytes32 expected, bytes32 actual);
        error NoResult();

        function owner() external view returns (address);
        function addSigner(address signer) external;
        function removeSigner(address signer) external;
        function trustedSigner(address signer) external view returns (bool);
        function domainSeparator() external view returns (bytes32);
        function digest(Attestation a) external view returns (bytes32);
        function hashValues(int256[] values) external pure returns (bytes32);
        function recover(bytes32 d, bytes signature) external pure returns (address);
        function submit(Attestation a, bytes signature, int256[] outputs) external returns (bytes32);
        function hasResult(bytes32 circuitId, bytes32 inputHash) external view returns (bool);
        function resultOf(bytes32 circuitId, bytes32 inputHash)
            external view returns (int256[] outputs, uint64 verifiedAt, address signer);
    }

    /// `contracts/sol/ClassifierConsumer.sol`.
    #[derive(Debug, PartialEq, Eq)]
    interface IClassifierConsumer {
        error AlreadyClaimed();
        error NoOutputs();
        error NoResult();

        function claim(bytes32 inputHash) external returns (uint256 predicted, bool rewarded);
        function classOf(bytes32 inputHash) external view returns (uint256);
    }
}

/// Why the harness could not do something.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Compiling the contracts failed.
    #[error("compiling the contracts (node contracts/compile.mjs; run `npm ci` in contracts/ first): {0}")]
    Compile(String),
    /// An artifact is missing or unreadable.
    #[error("reading {path}: {reason}")]
    Artifact {
        /// Path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The EVM refused the transaction (not a revert).
    #[error("the EVM refused the transaction: {0}")]
    Evm(String),
    /// The call reverted.
    #[error("reverted: {0}")]
    Reverted(Revert),
    /// The call halted or returned something that does not decode.
    #[error("unexpected outcome: {0}")]
    Unexpected(String),
}

/// A revert: the decoded custom error (or the raw data) and the gas it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The custom error's name, e.g. `UnknownSigner`, or the revert data as hex.
    pub error: String,
    /// Gas used.
    pub gas_used: u64,
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (gas {})", self.error, self.gas_used)
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Creation bytecode of a compiled contract (`target/contracts/NAME.json`), compiling the
/// contracts first when an artifact is missing or older than its sources.
pub fn bytecode(name: &str) -> Result<Vec<u8>, HarnessError> {
    static COMPILED: Mutex<bool> = Mutex::new(false);
    let path = root().join(format!("target/contracts/{name}.json"));
    {
        let mut done = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
        if !*done && stale(&path) {
            compile()?;
        }
        *done = true;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| HarnessError::Artifact { path: path.clone(), reason: e.to_string() })?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| HarnessError::Artifact { path: path.clone(), reason: e.to_string() })?;
    let hex = json["bytecode"].as_str().unwrap_or_default();
    alloy_primitives::hex::decode(hex).map_err(|e| HarnessError::Artifact { path, reason: e.to_string() })
}

fn stale(artifact: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(artifact) else { return true };
    let sources = std::fs::read_dir(root().join("contracts/sol")).into_iter().flatten().flatten();
    sources.filter_map(|e| modified(&e.path())).any(|m| m > built)
}

fn compile() -> Result<(), HarnessError> {
    let out = std::process::Command::new("node")
        .arg(root().join("contracts/compile.mjs"))
        .output()
        .map_err(|e| HarnessError::Compile(format!("running node: {e}")))?;
    if !out.status.success() {
        return Err(HarnessError::Compile(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    Ok(())
}

/// An in-memory chain (revm, Prague rules) with id [`CHAIN_ID`]; any sender may transact (no
/// balance or nonce checks, gas price 0).
#[derive(Debug)]
pub struct Chain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>>,
}

impl Chain {
    /// A chain whose blocks have `timestamp`.
    pub fn new(timestamp: u64) -> Self {
        let mut db = CacheDB::new(EmptyDB::default());
        db.insert_account_info(DEPLOYER, AccountInfo::default().with_balance(U256::from(10u128.pow(24))));
        let mut cfg = CfgEnv::new_with_spec(SpecId::PRAGUE);
        cfg.chain_id = CHAIN_ID;
        cfg.disable_nonce_check = true;
        let block = BlockEnv { timestamp: U256::from(timestamp), number: U256::from(1u64), ..Default::default() };
        Self { evm: Context::mainnet().with_db(db).with_cfg(cfg).with_block(block).build_mainnet() }
    }

    /// Sets the block timestamp of the following transactions.
    pub fn set_timestamp(&mut self, timestamp: u64) {
        self.evm.block.timestamp = U256::from(timestamp);
    }

    fn transact(&mut self, from: Address, kind: TxKind, data: Vec<u8>) -> Result<ExecutionResult, HarnessError> {
        let tx = TxEnv::builder()
            .caller(from)
            .kind(kind)
            .data(Bytes::from(data))
            .gas_limit(10_000_000)
            .gas_price(0)
            .chain_id(Some(CHAIN_ID))
            .nonce(0)
            .build()
            .map_err(|e| HarnessError::Evm(format!("{e:?}")))?;
        self.evm.transact_commit(tx).map_err(|e| HarnessError::Evm(format!("{e:?}")))
    }

    /// Deploys creation code from `from`; returns the contract address and the gas used.
    pub fn deploy(&mut self, from: Address, code: Vec<u8>) -> Result<(Address, u64), HarnessError> {
        match self.transact(from, TxKind::Create, code)? {
            ExecutionResult::Success { output: Output::Create(_, Some(address)), gas, .. } => {
                Ok((address, gas.tx_gas_used()))
            }
            other => Err(HarnessError::Unexpected(format!("deployment: {other:?}"))),
        }
    }

    /// Calls `to` from `from` (a committed transaction); returns the decoded return value and
    /// the gas used, or the revert with its decoded custom error.
    pub fn call<C: SolCall>(&mut self, from: Address, to: Address, call: &C) -> Result<(C::Return, u64), HarnessError> {
        match self.transact(from, TxKind::Call(to), call.abi_encode())? {
            ExecutionResult::Success { output, gas, .. } => {
                let ret = C::abi_decode_returns(output.data())
                    .map_err(|e| HarnessError::Unexpected(format!("return value: {e}")))?;
                Ok((ret, gas.tx_gas_used()))
            }
            ExecutionResult::Revert { output, gas, .. } => {
                Err(HarnessError::Reverted(Revert { error: decode_error(&output), gas_used: gas.tx_gas_used() }))
            }
            ExecutionResult::Halt { reason, .. } => Err(HarnessError::Unexpected(format!("halt: {reason:?}"))),
        }
    }
}

/// Asserts that a call reverted with the custom error `error` (a test assertion).
#[track_caller]
#[allow(clippy::panic)]
pub fn assert_reverts_with<T: std::fmt::Debug>(result: Result<T, HarnessError>, error: &str) {
    match result {
        Err(HarnessError::Reverted(r)) => assert_eq!(r.error, error, "{r}"),
        other => panic!("expected a revert with {error}, got {other:?}"),
    }
}

/// The name of a custom error of either contract, or the data as hex.
pub fn decode_error(data: &[u8]) -> String {
    if let Ok(e) = IAttestationRegistry::IAttestationRegistryErrors::abi_decode(data) {
        return format!("{e:?}").split(['(', ' ', '{']).next().unwrap_or_default().to_string();
    }
    if let Ok(e) = IClassifierConsumer::IClassifierConsumerErrors::abi_decode(data) {
        return format!("{e:?}").split(['(', ' ', '{']).next().unwrap_or_default().to_string();
    }
    format!("0x{}", alloy_primitives::hex::encode(data))
}

/// Deploys the registry as [`DEPLOYER`]'s first contract (at [`registry_address`], the
/// address the test vectors are signed for).
pub fn deploy_registry(chain: &mut Chain) -> Result<Address, HarnessError> {
    let (address, _) = chain.deploy(DEPLOYER, bytecode("AttestationRegistry")?)?;
    if address != registry_address() {
        return Err(HarnessError::Unexpected(format!("registry at {address}, expected {}", registry_address())));
    }
    Ok(address)
}

/// Deploys the example consumer for `circuit_id`, rewarding `class`.
pub fn deploy_consumer(
    chain: &mut Chain,
    registry: Address,
    circuit_id: alloy_primitives::B256,
    class: u64,
) -> Result<Address, HarnessError> {
    let mut code = bytecode("ClassifierConsumer")?;
    code.extend(alloy_sol_types::SolValue::abi_encode(&(registry, circuit_id, U256::from(class))));
    Ok(chain.deploy(DEPLOYER, code)?.0)
}

/// The statement of a signed attestation as the registry's struct.
pub fn attestation(a: &SignedAttestation) -> Attestation {
    let s = a.statement;
    Attestation {
        circuitId: s.circuit_id,
        inputHash: s.input_hash,
        outputHash: s.output_hash,
        verifierVersion: s.verifier_version,
        verifiedAt: s.verified_at,
        expiresAt: s.expires_at,
    }
}

/// The registry's `submit` call for a signed attestation.
pub fn submit_call(a: &SignedAttestation) -> IAttestationRegistry::submitCall {
    IAttestationRegistry::submitCall {
        a: attestation(a),
        signature: a.signature.clone().into(),
        outputs: int256s(&a.outputs),
    }
}
