/**
 * A tiny in-memory chain for tests: validators with real keys, headers that
 * link, and finality certificates signed by chosen validators.
 */
import { type BlockHeader, blockHash } from "../block.ts";
import { compareBytes } from "../bytes.ts";
import type { FinalityCertificate } from "../finalityCertificate.ts";
import { sha256 } from "../hash.ts";
import { SecretKey } from "../keys.ts";
import { merkleRoot } from "../merkle.ts";
import { EMPTY_ROOT } from "../state/sparseMerkleTree.ts";
import { type ValidatorSet, validatorSetHash } from "../validatorSet.ts";
import { voteDigest } from "../vote.ts";

export const CHAIN_ID = "testnet-1";

export interface TestValidators {
  readonly keys: readonly SecretKey[];
  /** Sorted by public key, as the protocol requires; keys[i] signs for set[i]. */
  readonly set: ValidatorSet;
}

export function makeValidators(
  n: number,
  seedBase: number,
  powers?: readonly bigint[],
): TestValidators {
  const keys = Array.from({ length: n }, (_, i) =>
    SecretKey.fromSeed(sha256(Uint8Array.of(seedBase, i))),
  );
  const withPower = keys.map((key, i) => ({ key, power: powers?.[i] ?? 10n }));
  withPower.sort((a, b) => compareBytes(a.key.publicKey, b.key.publicKey));
  return {
    keys: withPower.map((v) => v.key),
    set: withPower.map((v) => ({ publicKey: v.key.publicKey, power: v.power })),
  };
}

export function makeHeader(
  parent: BlockHeader | null,
  validators: ValidatorSet,
  nextValidators: ValidatorSet = validators,
  overrides: Partial<BlockHeader> = {},
): BlockHeader {
  return {
    chainId: CHAIN_ID,
    height: parent ? parent.height + 1 : 1,
    time: parent ? parent.time + 1000 : 1_700_000_000_000,
    parentHash: parent ? blockHash(parent) : EMPTY_ROOT,
    txRoot: merkleRoot([]),
    txCount: 0,
    evidenceRoot: merkleRoot([]),
    stateRoot: EMPTY_ROOT,
    validatorsHash: validatorSetHash(validators),
    nextValidatorsHash: validatorSetHash(nextValidators),
    proposer: validators[0]!.publicKey,
    ...overrides,
  };
}

/** A certificate for `header` signed by the validators at `signers` (indices into the set). */
export function certify(
  header: BlockHeader,
  validators: TestValidators,
  signers: readonly number[],
  options: { round?: number; chainId?: string } = {},
): FinalityCertificate {
  const round = options.round ?? 0;
  const hash = blockHash(header);
  return {
    height: header.height,
    round,
    blockHash: hash,
    signatures: [...signers]
      .sort((a, b) => a - b)
      .map((i) => ({
        validatorIndex: i,
        signature: validators.keys[i]!.sign(
          voteDigest(options.chainId ?? header.chainId, {
            type: "precommit",
            height: header.height,
            round,
            blockHash: hash,
            validator: validators.set[i]!.publicKey,
          }),
        ),
      })),
  };
}
