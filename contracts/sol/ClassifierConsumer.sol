// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.24;

interface IAttestationRegistry {
    function resultOf(bytes32 circuitId, bytes32 inputHash)
        external
        view
        returns (int256[] memory outputs, uint64 verifiedAt, address signer);
}

/// @title ClassifierConsumer
/// @notice An example consumer: acts on a classifier's verified output. It trusts one model
/// (circuit identity) and reads its recorded result from the registry; `claim` records the
/// predicted class (the first largest score) for an input and pays out nothing: it only shows
/// how a contract acts on a verified inference.
contract ClassifierConsumer {
    IAttestationRegistry public immutable registry;
    bytes32 public immutable circuitId;
    uint256 public immutable rewardedClass;

    mapping(bytes32 => uint256) public classOf;
    mapping(bytes32 => bool) public claimed;

    event Classified(bytes32 indexed inputHash, uint256 predictedClass, bool rewarded);

    error AlreadyClaimed();
    error NoOutputs();

    constructor(IAttestationRegistry registry_, bytes32 circuitId_, uint256 rewardedClass_) {
        registry = registry_;
        circuitId = circuitId_;
        rewardedClass = rewardedClass_;
    }

    /// @notice Reads the verified scores for `inputHash`, takes their argmax, records it, and
    /// says whether it is the rewarded class. Reverts when the registry has no result.
    function claim(bytes32 inputHash) external returns (uint256 predicted, bool rewarded) {
        if (claimed[inputHash]) revert AlreadyClaimed();
        (int256[] memory scores,,) = registry.resultOf(circuitId, inputHash);
        if (scores.length == 0) revert NoOutputs();
        for (uint256 i = 1; i < scores.length; i++) {
            if (scores[i] > scores[predicted]) predicted = i;
        }
        rewarded = predicted == rewardedClass;
        claimed[inputHash] = true;
        classOf[inputHash] = predicted;
        emit Classified(inputHash, predicted, rewarded);
    }
}
