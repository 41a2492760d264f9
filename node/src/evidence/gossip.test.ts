import {
  bytesKey,
  type DuplicateVoteEvidence,
  duplicateVoteEvidence,
  encodeEvidence,
  evidenceKey,
  MAX_EVIDENCE_AGE,
  type SecretKey,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { CHAIN, keyOf } from "../testing/fixtures.ts";
import { type EvidenceGossipDeps, validateEvidenceMessage } from "./gossip.ts";

const member = keyOf(40);
const outsider = keyOf(41);
const validators = [{ publicKey: member.publicKey, power: 1n }];

function evidence(key: SecretKey, height: number, chainId = CHAIN): DuplicateVoteEvidence {
  const sign = (blockHash: Uint8Array | null) => {
    const vote = {
      type: "prevote" as const,
      height,
      round: 0,
      blockHash,
      validator: key.publicKey,
    };
    return { vote, signature: nativeSigner(key).signSync(voteDigest(chainId, vote)) };
  };
  return duplicateVoteEvidence(sign(new Uint8Array(32).fill(7)), sign(null));
}

function deps(head: number, over: Partial<EvidenceGossipDeps> = {}): EvidenceGossipDeps {
  return {
    chainId: CHAIN,
    verifier: createNativeVerifier(),
    headHeight: () => head,
    validatorsAt: () => validators,
    pending: () => false,
    recorded: async () => null,
    ...over,
  };
}

const verdictOf = async (data: Uint8Array, d: EvidenceGossipDeps) =>
  (await validateEvidenceMessage(data, d)).verdict;

describe("evidence gossip validation", () => {
  it("accepts real, recordable evidence once", async () => {
    const e = evidence(member, 10);
    const answer = await validateEvidenceMessage(encodeEvidence(e), deps(12));
    expect(answer.verdict).toBe("accept");
    expect(answer.value && bytesKey(evidenceKey(answer.value))).toBe(bytesKey(evidenceKey(e)));
  });

  it("rejects what no honest peer relays: bytes that are not evidence, forged or foreign votes", async () => {
    expect(await verdictOf(Uint8Array.of(1, 2, 3), deps(12))).toBe("reject");
    // Signed by someone outside the set of that height.
    expect(await verdictOf(encodeEvidence(evidence(outsider, 10)), deps(12))).toBe("reject");
    // Signed for another chain: the signatures do not verify for this one.
    expect(await verdictOf(encodeEvidence(evidence(member, 10, "other-chain")), deps(12))).toBe(
      "reject",
    );
    // A signature changed after signing.
    const bytes = encodeEvidence(evidence(member, 10));
    bytes[bytes.length - 1]! ^= 1;
    expect(await verdictOf(bytes, deps(12))).toBe("reject");
  });

  it("ignores, unpunished, what an honest peer may send: ahead, too old, pending or recorded", async () => {
    const e = encodeEvidence(evidence(member, 10));
    expect(await verdictOf(e, deps(7))).toBe("ignore"); // height 10 is beyond head + 2
    expect(await verdictOf(e, deps(10 + MAX_EVIDENCE_AGE))).toBe("ignore"); // too old to record
    expect(await verdictOf(e, deps(12, { pending: () => true }))).toBe("ignore");
    expect(await verdictOf(e, deps(12, { recorded: async () => Uint8Array.of(0, 0, 0, 12) }))).toBe(
      "ignore",
    );
  });
});
