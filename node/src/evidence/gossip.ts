/**
 * Validation of the evidence gossip topic (`/edgeledger/<chain>/evidence/1`):
 * two conflicting votes of one validator. Rejected when it is not real
 * evidence (undecodable, bad signatures, not conflicting, not a member of
 * that height's set); ignored when real but of no use: already pending here,
 * already recorded on chain, about a height too far ahead to know its set,
 * or too old to be recorded any more (MAX_EVIDENCE_AGE), so replaying old
 * evidence costs the network nothing.
 */
import {
  type DuplicateVoteEvidence,
  decodeEvidence,
  evidenceKey,
  MAX_EVIDENCE_AGE,
  type SignatureVerifier,
  type ValidatorSet,
  verifyEvidence,
} from "@edgeledger/sdk/protocol";
import type { GossipVerdict } from "../network/gossip.ts";

export interface EvidenceGossipDeps {
  readonly chainId: string;
  readonly verifier: SignatureVerifier;
  readonly headHeight: () => number;
  readonly validatorsAt: (height: number) => ValidatorSet;
  /** Already pending in this node's pool (the very same item). */
  readonly pending: (e: DuplicateVoteEvidence) => boolean;
  /** The state value under `key` at the head (non-null: recorded). */
  readonly recorded: (key: Uint8Array) => Promise<Uint8Array | null>;
}

export async function validateEvidenceMessage(
  data: Uint8Array,
  deps: EvidenceGossipDeps,
): Promise<{ verdict: GossipVerdict; value?: DuplicateVoteEvidence; reason?: string }> {
  let e: DuplicateVoteEvidence;
  try {
    e = decodeEvidence(data);
  } catch {
    return { verdict: "reject", reason: "undecodable" };
  }
  const at = e.first.vote.height;
  const head = deps.headHeight();
  if (at > head + 2) return { verdict: "ignore", reason: "height ahead" };
  // The next block (head + 1) could not record it.
  if (head + 1 - at > MAX_EVIDENCE_AGE) return { verdict: "ignore", reason: "too old" };
  if (deps.pending(e)) return { verdict: "ignore", reason: "pending" };
  try {
    await verifyEvidence(deps.chainId, e, deps.validatorsAt(at), deps.verifier);
  } catch {
    return { verdict: "reject", reason: "not evidence" };
  }
  if (await deps.recorded(evidenceKey(e))) return { verdict: "ignore", reason: "recorded" };
  return { verdict: "accept", value: e };
}
