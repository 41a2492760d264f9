/**
 * Equivocation evidence: two votes signed by one validator for the same
 * (type, height, round) with different values (two blocks, or a block and
 * nil). Honest validators never sign such a pair (the signing guard), so
 * the pair proves misbehaviour on its own: anyone holding the validator set
 * of that height can check it, with no trust in who relays it.
 *
 * One encoding per pair: the vote whose encoding sorts first comes first.
 * Blocks carry evidence in a set ordered by `evidenceSlot` (validator,
 * height, round, type), so one slot is recorded once however many
 * conflicting votes the validator signed for it; the state remembers each
 * recorded slot under `evidenceKey`, so no later block records it again.
 */
import { EvidenceError } from "../errors/protocol.ts";
import { compareBytes, concatBytes, equalBytes } from "./bytes.ts";
import { type Codec, decode, encode, refine, struct, versioned } from "./codec/codec.ts";
import { taggedHash } from "./hash.ts";
import type { SignatureVerifier } from "./signatures/backend.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import { encodeVote, type SignedVote, signedVoteCodec, voteDigest } from "./vote.ts";

export interface DuplicateVoteEvidence {
  readonly first: SignedVote;
  readonly second: SignedVote;
}

/** Why a pair is not evidence, or null if it is well formed (signatures are checked separately). */
function shapeProblem(e: DuplicateVoteEvidence): string | null {
  const a = e.first.vote;
  const b = e.second.vote;
  if (!equalBytes(a.validator, b.validator)) return "the two votes are by different validators";
  if (a.type !== b.type || a.height !== b.height || a.round !== b.round)
    return "the two votes are for different (type, height, round)";
  const same =
    a.blockHash === null || b.blockHash === null
      ? a.blockHash === b.blockHash
      : equalBytes(a.blockHash, b.blockHash);
  if (same) return "the two votes are for the same value";
  if (compareBytes(encodeVote(a), encodeVote(b)) >= 0)
    return "the votes must be ordered by their encoding";
  return null;
}

export const EVIDENCE_VERSION = 1;

export const evidenceCodec: Codec<DuplicateVoteEvidence> = versioned(
  EVIDENCE_VERSION,
  refine(
    struct<DuplicateVoteEvidence>("DuplicateVoteEvidence", {
      first: signedVoteCodec,
      second: signedVoteCodec,
    }),
    shapeProblem,
  ),
);

export function encodeEvidence(e: DuplicateVoteEvidence): Uint8Array {
  return encode(evidenceCodec, e);
}
export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  return decode(evidenceCodec, bytes, { maxBytes: 512 });
}

/** Evidence from two conflicting votes in either order (orders them). */
export function duplicateVoteEvidence(a: SignedVote, b: SignedVote): DuplicateVoteEvidence {
  const e =
    compareBytes(encodeVote(a.vote), encodeVote(b.vote)) < 0
      ? { first: a, second: b }
      : { first: b, second: a };
  const problem = shapeProblem(e);
  if (problem) throw new EvidenceError("EVIDENCE_MALFORMED", `Not evidence: ${problem}.`);
  return e;
}

const VOTE_TYPE_BYTE = { prevote: 0, precommit: 1 } as const;

/**
 * The slot an evidence is about: validator ‖ height ‖ round ‖ type, in
 * bytes that sort by validator first. Blocks order their evidence by it.
 */
export function evidenceSlot(e: DuplicateVoteEvidence): Uint8Array {
  const v = e.first.vote;
  const tail = new Uint8Array(13);
  const view = new DataView(tail.buffer);
  view.setBigUint64(0, BigInt(v.height));
  view.setUint32(8, v.round);
  tail[12] = VOTE_TYPE_BYTE[v.type];
  return concatBytes(v.validator, tail);
}

/** The state key that records a slot's evidence (so it is recorded once). */
export function evidenceKey(e: DuplicateVoteEvidence): Uint8Array {
  return taggedHash("edgeledger/state/evidence/v1", evidenceSlot(e));
}

/**
 * Throws an EvidenceError unless `e` is a real equivocation on `chainId` by a
 * member of `validators` (the set of the evidence's height): well formed,
 * and both signatures valid under the one Ed25519 rule.
 */
export async function verifyEvidence(
  chainId: string,
  e: DuplicateVoteEvidence,
  validators: ValidatorSet,
  verifier: SignatureVerifier,
): Promise<void> {
  const problem = shapeProblem(e);
  if (problem) throw new EvidenceError("EVIDENCE_MALFORMED", `Not evidence: ${problem}.`);
  const validator = e.first.vote.validator;
  if (!validators.some((v) => equalBytes(v.publicKey, validator))) {
    throw new EvidenceError(
      "EVIDENCE_UNKNOWN_VALIDATOR",
      "The votes are signed by a key that is not in the validator set of their height.",
      { details: { height: e.first.vote.height } },
    );
  }
  for (const signed of [e.first, e.second]) {
    const ok = await verifier.verify(
      signed.signature,
      voteDigest(chainId, signed.vote),
      signed.vote.validator,
    );
    if (!ok) {
      throw new EvidenceError(
        "EVIDENCE_BAD_SIGNATURE",
        "A vote in the evidence is not validly signed by its validator.",
      );
    }
  }
}
