// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

/// @title AttestationRegistry
/// @notice Records model outputs that a trusted zkinfer verifier service checked off-chain.
///
/// zkinfer proofs (halo2, IPA over the pasta curves) are not economical to verify on the EVM,
/// so a verifier service verifies them and signs a statement (EIP-712 typed data, secp256k1).
/// This contract keeps the set of trusted service signers (owner-managed), checks a statement's
/// signature with ecrecover, rejects replays, expired statements and statements from the
/// future, checks that the submitted outputs are the ones the statement hashes, and records the
/// result per (circuit, input hash) for other contracts to read.
///
/// Statement encoding (mirrored by the Rust crate zkinfer-attest and its test vectors):
/// - circuitId: the zkinfer circuit identity (BLAKE2b-256 of the verifying key's description);
/// - inputHash / outputHash: keccak256 of the public input / output integers, each as a
///   32-byte big-endian two's-complement word (abi.encodePacked of an int256[]);
/// - verifierVersion: major << 16 | minor << 8 | patch of the service's zkinfer version;
/// - verifiedAt / expiresAt: unix seconds.
contract AttestationRegistry {
    struct Attestation {
        bytes32 circuitId;
        bytes32 inputHash;
        bytes32 outputHash;
        uint32 verifierVersion;
        uint64 verifiedAt;
        uint64 expiresAt;
    }

    struct Result {
        bytes32 outputHash;
        int256[] outputs;
        uint64 verifiedAt;
        address signer;
        bool exists;
    }

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 circuitId,bytes32 inputHash,bytes32 outputHash,uint32 verifierVersion,uint64 verifiedAt,uint64 expiresAt)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// Statements may be signed at most this many seconds ahead of the block time (clock skew).
    uint64 public constant MAX_CLOCK_SKEW = 300;
    /// secp256k1 group order / 2: signatures with a larger s are malleable copies.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    address public owner;
    mapping(address => bool) public trustedSigner;
    mapping(bytes32 => bool) public used;
    mapping(bytes32 => mapping(bytes32 => Result)) private results;

    event SignerAdded(address indexed signer);
    event SignerRemoved(address indexed signer);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ResultRecorded(bytes32 indexed circuitId, bytes32 indexed inputHash, bytes32 outputHash, address signer);

    error NotOwner();
    error BadSignature();
    error UnknownSigner(address recovered);
    error Replayed(bytes32 digest);
    error Expired(uint64 expiresAt, uint256 now_);
    error FromTheFuture(uint64 verifiedAt, uint256 now_);
    error OutputMismatch(bytes32 expected, bytes32 actual);
    error NoResult();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    function addSigner(address signer) external onlyOwner {
        trustedSigner[signer] = true;
        emit SignerAdded(signer);
    }

    function removeSigner(address signer) external onlyOwner {
        trustedSigner[signer] = false;
        emit SignerRemoved(signer);
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("zkinfer"), keccak256("1"), block.chainid, address(this))
        );
    }

    /// @notice The EIP-712 digest a service signs for `a`.
    function digest(Attestation calldata a) public view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH, a.circuitId, a.inputHash, a.outputHash, a.verifierVersion, a.verifiedAt, a.expiresAt
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    /// @notice keccak256 of the values as 32-byte big-endian words: how inputHash and outputHash
    /// are computed.
    function hashValues(int256[] calldata values) external pure returns (bytes32) {
        return keccak256(abi.encodePacked(values));
    }

    /// @notice The signer of `d` (65-byte r || s || v signature), or reverts on a malformed one.
    function recover(bytes32 d, bytes calldata signature) public pure returns (address) {
        if (signature.length != 65) revert BadSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_ORDER) revert BadSignature();
        address signer = ecrecover(d, v, r, s);
        if (signer == address(0)) revert BadSignature();
        return signer;
    }

    /// @notice Checks an attestation and records its outputs; returns the digest.
    function submit(Attestation calldata a, bytes calldata signature, int256[] calldata outputs)
        external
        returns (bytes32)
    {
        bytes32 d = digest(a);
        address signer = recover(d, signature);
        if (!trustedSigner[signer]) revert UnknownSigner(signer);
        if (used[d]) revert Replayed(d);
        if (block.timestamp > a.expiresAt) revert Expired(a.expiresAt, block.timestamp);
        if (a.verifiedAt > block.timestamp + MAX_CLOCK_SKEW) revert FromTheFuture(a.verifiedAt, block.timestamp);
        bytes32 outputHash = keccak256(abi.encodePacked(outputs));
        if (outputHash != a.outputHash) revert OutputMismatch(a.outputHash, outputHash);
        used[d] = true;
        Result storage res = results[a.circuitId][a.inputHash];
        res.outputHash = outputHash;
        res.outputs = outputs;
        res.verifiedAt = a.verifiedAt;
        res.signer = signer;
        res.exists = true;
        emit ResultRecorded(a.circuitId, a.inputHash, outputHash, signer);
        return d;
    }

    function hasResult(bytes32 circuitId, bytes32 inputHash) external view returns (bool) {
        return results[circuitId][inputHash].exists;
    }

    /// @notice The recorded outputs for (circuit, input); reverts when none.
    function resultOf(bytes32 circuitId, bytes32 inputHash)
        external
        view
        returns (int256[] memory outputs, uint64 verifiedAt, address signer)
    {
        Result storage res = results[circuitId][inputHash];
        if (!res.exists) revert NoResult();
        return (res.outputs, res.verifiedAt, res.signer);
    }
}
