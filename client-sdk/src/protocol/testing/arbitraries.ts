/** fast-check generators for every protocol object (tests only; not built). */
import fc from "fast-check";
import type { Block, BlockHeader } from "../block.ts";
import { compareBytes, toHex } from "../bytes.ts";
import { type DuplicateVoteEvidence, duplicateVoteEvidence, evidenceSlot } from "../evidence.ts";
import type { FinalityCertificate } from "../finalityCertificate.ts";
import type { MerkleProof } from "../merkle.ts";
import type { Account } from "../state/account.ts";
import type { StateProof } from "../state/sparseMerkleTree.ts";
import type { SignedTransaction, Transaction } from "../transaction.ts";
import type { ValidatorSet } from "../validatorSet.ts";
import type { SignedVote, Vote } from "../vote.ts";

export const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
export const hash = bytes(32);
export const publicKey = bytes(32);
export const signature = bytes(64);
export const safeInt = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
export const chainId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,63}$/);
export const amount = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
export const power = fc.bigInt({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) });

export const transaction: fc.Arbitrary<Transaction> = fc.record({
  chainId,
  from: publicKey,
  nonce: safeInt,
  expiresAt: safeInt,
  body: fc.oneof(
    fc.record({ kind: fc.constant("transfer" as const), to: bytes(20), amount }),
    fc.record({
      kind: fc.constant("validator-vote" as const),
      validator: publicKey,
      power: fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }),
    }),
  ),
});

export const signedTransaction: fc.Arbitrary<SignedTransaction> = fc.record({
  tx: transaction,
  signature,
});

export const blockHeader: fc.Arbitrary<BlockHeader> = fc.record({
  chainId,
  height: safeInt,
  time: safeInt,
  parentHash: hash,
  txRoot: hash,
  txCount: fc.integer({ min: 0, max: 0xffff_ffff }),
  evidenceRoot: hash,
  stateRoot: hash,
  validatorsHash: hash,
  nextValidatorsHash: hash,
  proposer: publicKey,
});

export const vote: fc.Arbitrary<Vote> = fc.record({
  type: fc.constantFrom("prevote" as const, "precommit" as const),
  height: safeInt,
  round: fc.integer({ min: 0, max: 0xffff_ffff }),
  blockHash: fc.option(hash, { nil: null }),
  validator: publicKey,
});

export const signedVote: fc.Arbitrary<SignedVote> = fc.record({ vote, signature });

/** Two votes of one slot with different values (signatures are random bytes). */
export const evidence: fc.Arbitrary<DuplicateVoteEvidence> = fc
  .tuple(vote, fc.option(hash, { nil: null }), signature, signature)
  .filter(([v, other]) =>
    v.blockHash === null || other === null
      ? v.blockHash !== other
      : toHex(v.blockHash) !== toHex(other),
  )
  .map(([v, other, s1, s2]) =>
    duplicateVoteEvidence(
      { vote: v, signature: s1 },
      { vote: { ...v, blockHash: other }, signature: s2 },
    ),
  );

/** A block's evidence: one per slot, sorted. */
const blockEvidence = fc
  .uniqueArray(evidence, { maxLength: 3, selector: (e) => toHex(evidenceSlot(e)) })
  .map((list) => [...list].sort((a, b) => compareBytes(evidenceSlot(a), evidenceSlot(b))));

export const block: fc.Arbitrary<Block> = fc.record({
  header: blockHeader,
  txs: fc.array(signedTransaction, { maxLength: 4 }),
  evidence: blockEvidence,
});

export const signedProposal = fc.record({
  proposal: fc.record({
    height: safeInt,
    round: fc.integer({ min: 0, max: 0xffff_ffff }),
    polRound: fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: null }),
    blockHash: hash,
    proposer: publicKey,
  }),
  signature,
});

export const consensusMessage = fc.oneof(
  fc.record({
    kind: fc.constant("proposal" as const),
    proposal: signedProposal,
    block,
    polVotes: fc.array(signedVote, { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("vote" as const), vote: signedVote }),
  fc.record({
    kind: fc.constant("compact-proposal" as const),
    proposal: signedProposal,
    header: blockHeader,
    txLeaves: fc.array(hash, { maxLength: 4 }),
    evidence: blockEvidence,
    polVotes: fc.array(signedVote, { maxLength: 3 }),
  }),
);

export const validatorSet: fc.Arbitrary<ValidatorSet> = fc
  .uniqueArray(fc.record({ publicKey, power }), {
    minLength: 1,
    maxLength: 8,
    selector: (v) => Array.from(v.publicKey).join(","),
  })
  .map((vs) => [...vs].sort((a, b) => compareBytes(a.publicKey, b.publicKey)));

export const finalityCertificate: fc.Arbitrary<FinalityCertificate> = fc.record({
  height: safeInt,
  round: fc.integer({ min: 0, max: 0xffff_ffff }),
  blockHash: hash,
  signatures: fc
    .uniqueArray(fc.integer({ min: 0, max: 0xffff }), { maxLength: 6 })
    .chain((indices) =>
      fc.tuple(
        ...[...indices]
          .sort((a, b) => a - b)
          .map((i) => signature.map((s) => ({ validatorIndex: i, signature: s }))),
      ),
    ),
});

export const merkleProof: fc.Arbitrary<MerkleProof> = fc.record({
  index: fc.integer({ min: 0, max: 0xffff_ffff }),
  size: fc.integer({ min: 0, max: 0xffff_ffff }),
  siblings: fc.array(hash, { maxLength: 8 }),
});

export const stateProof: fc.Arbitrary<StateProof> = fc.record({
  siblings: fc.array(hash, { maxLength: 8 }),
  leaf: fc.option(fc.record({ key: hash, valueHash: hash }), { nil: null }),
});

export const account: fc.Arbitrary<Account> = fc.record({ balance: amount, nonce: safeInt });

/** A mutation of an encoding: flip bits of one byte, cut, extend, or splice a byte in. */
export const mutation = fc.oneof(
  fc.record({
    op: fc.constant("flip" as const),
    at: fc.nat(),
    mask: fc.integer({ min: 1, max: 255 }),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("append" as const),
    extra: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat() }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

export function mutate(input: Uint8Array, m: Mutation): Uint8Array {
  const out = Array.from(input);
  switch (m.op) {
    case "flip":
      if (out.length === 0) return Uint8Array.of(m.mask);
      out[m.at % out.length]! ^= m.mask;
      break;
    case "truncate":
      return input.slice(0, input.length === 0 ? 0 : m.at % input.length);
    case "append":
      return Uint8Array.from([...out, ...m.extra]);
    case "insert":
      out.splice(m.at % (out.length + 1), 0, m.value);
      break;
    case "delete":
      if (out.length === 0) return Uint8Array.of(0);
      out.splice(m.at % out.length, 1);
      break;
  }
  return Uint8Array.from(out);
}
