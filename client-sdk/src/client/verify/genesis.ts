/**
 * The trust anchor's check: the genesis a server serves against the hash
 * the app pinned. Pure (no transport): the light client anchors on it, and
 * a server passing the answer on (the edge) calls it alone.
 */
import type { GenesisJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import { type BlockHeader, blockHash, decodeBlockHeader } from "../../protocol/block.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import type { TrustedHeader } from "../../protocol/headerChain.ts";
import {
  decodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from "../../protocol/validatorSet.ts";

/**
 * Verifies a GET /v1/genesis answer against a pinned genesis hash: the
 * header hashes to it and belongs to `chainId`, and the set served with it
 * is the one it names to sign height 1. Throws VerificationError
 * VERIFY_ANCHOR. The light client anchors on it; servers that pass the
 * answer on (the edge) use it alone.
 */
export function verifyGenesisAnswer(
  json: GenesisJson,
  trusted: { readonly chainId: string; readonly genesisHash: string },
): TrustedHeader & { readonly hash: Uint8Array } {
  let header: BlockHeader;
  let validators: ValidatorSet;
  try {
    header = decodeBlockHeader(fromHex(json.headerBytes));
    validators = decodeValidatorSet(fromHex(json.validatorSetBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_ANCHOR", "The genesis served does not decode.", {
      cause: err,
    });
  }
  const hash = blockHash(header);
  if (toHex(hash) !== trusted.genesisHash.toLowerCase())
    throw new VerificationError(
      "VERIFY_ANCHOR",
      "The server's genesis is not the one this client trusts: wrong chain, or a lying server.",
      { details: { trusted: trusted.genesisHash, served: toHex(hash) } },
    );
  if (header.chainId !== trusted.chainId)
    throw new VerificationError("VERIFY_ANCHOR", "The genesis belongs to another chain.", {
      details: { expected: trusted.chainId, got: header.chainId },
    });
  // Height 0 has no certificate: its next set signs height 1.
  if (!equalBytes(validatorSetHash(validators), header.nextValidatorsHash))
    throw new VerificationError(
      "VERIFY_ANCHOR",
      "The validator set served with the genesis is not the one it names.",
    );
  return { header, validators, hash };
}
