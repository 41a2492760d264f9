import { duplicateVoteEvidence, type SecretKey, voteDigest } from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { CHAIN, keyOf } from "../testing/fixtures.ts";
import { EvidencePool, MAX_PENDING_PER_VALIDATOR } from "./pool.ts";

function equivocation(key: SecretKey, round: number) {
  const vote = (blockHash: Uint8Array | null) => ({
    type: "prevote" as const,
    height: 5,
    round,
    blockHash,
    validator: key.publicKey,
  });
  const sign = (v: ReturnType<typeof vote>) => ({
    vote: v,
    signature: nativeSigner(key).signSync(voteDigest(CHAIN, v)),
  });
  return duplicateVoteEvidence(sign(vote(new Uint8Array(32).fill(1))), sign(vote(null)));
}

describe("evidence pool", () => {
  it("a validator flooding evidence about itself cannot evict evidence against another", () => {
    const pool = new EvidencePool(8);
    const honestCatch = equivocation(keyOf(50), 0);
    expect(pool.add(honestCatch)).toBe(true);
    const flooder = keyOf(51);
    let added = 0;
    for (let round = 0; round < 100; round++) if (pool.add(equivocation(flooder, round))) added++;
    expect(added).toBe(MAX_PENDING_PER_VALIDATOR);
    expect(pool.has(honestCatch)).toBe(true);
    // Full: refused, nothing evicted.
    const small = new EvidencePool(2);
    small.add(equivocation(keyOf(52), 0));
    small.add(equivocation(keyOf(53), 0));
    expect(small.add(equivocation(keyOf(54), 0))).toBe(false);
    expect(small.size).toBe(2);
  });

  it("knows an item by its exact bytes, not by its slot", () => {
    const pool = new EvidencePool();
    const key = keyOf(55);
    const a = equivocation(key, 1);
    pool.add(a);
    const v = { ...a.second.vote, blockHash: new Uint8Array(32).fill(9) };
    const sameSlot = duplicateVoteEvidence(a.first, {
      vote: v,
      signature: nativeSigner(key).signSync(voteDigest(CHAIN, v)),
    });
    expect(pool.has(a)).toBe(true);
    expect(pool.has(sameSlot)).toBe(false);
    pool.remove([a]);
    expect(pool.size).toBe(0);
    // Its place is free again.
    for (let r = 10; r < 10 + MAX_PENDING_PER_VALIDATOR; r++)
      expect(pool.add(equivocation(key, r))).toBe(true);
  });
});
