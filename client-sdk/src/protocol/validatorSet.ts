/**
 * The validator set: Ed25519 keys with voting power, sorted by key so that it
 * has one encoding and one hash. Headers commit to the hash of the set that
 * signs them and of the set that signs the next block; certificates name
 * signers by their index in this order.
 */
import { type Codec, decode, encode, refine, sortedSet, struct, versioned } from "./codec/codec.ts";
import { powerField, publicKeyField } from "./fields.ts";
import { HashTag, taggedHash } from "./hash.ts";
import { MAX_VALIDATORS } from "./limits.ts";

export interface Validator {
  readonly publicKey: Uint8Array;
  readonly power: bigint;
}

export type ValidatorSet = readonly Validator[];

const validatorCodec = struct<Validator>("Validator", {
  publicKey: publicKeyField("publicKey"),
  power: powerField,
});

export const validatorSetCodec: Codec<ValidatorSet> = versioned(
  1,
  refine(
    sortedSet("ValidatorSet", validatorCodec, MAX_VALIDATORS, (v) => v.publicKey),
    (set) => {
      if (set.length === 0) return "must have at least one validator";
      if (set.some((v) => v.power < 1n)) return "every validator needs power of at least 1";
      return null;
    },
  ),
);

export function encodeValidatorSet(set: ValidatorSet): Uint8Array {
  return encode(validatorSetCodec, set);
}
export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  return decode(validatorSetCodec, bytes, { maxBytes: 8 + MAX_VALIDATORS * 40 });
}

export function validatorSetHash(set: ValidatorSet): Uint8Array {
  return taggedHash(HashTag.validatorSet, encodeValidatorSet(set));
}

export function totalPower(set: ValidatorSet): bigint {
  let total = 0n;
  for (const v of set) total += v.power;
  return total;
}

/**
 * Strictly more than two thirds of `total`. With n = 3f + 1 equal-power
 * validators that is 2f + 1 signatures: any two quorums then share at least
 * f + 1 validators, so at least one honest one, which is what makes
 * finality safe.
 */
export function hasQuorum(power: bigint, total: bigint): boolean {
  return power * 3n > total * 2n;
}

/**
 * The validator that proposes at (height, round): round-robin over the
 * sorted set, so every node agrees and a silent proposer is skipped by the
 * next round. (Power does not weight the rotation yet.)
 */
export function proposerIndex(set: ValidatorSet, height: number, round: number): number {
  return (height + round) % set.length;
}
