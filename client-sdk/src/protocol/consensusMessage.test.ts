import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { transactionsRoot } from "./block.ts";
import {
  compactProposal,
  decodeConsensusMessage,
  encodeConsensusMessage,
} from "./consensusMessage.ts";
import { MAX_BLOCK_TXS } from "./limits.ts";
import { merkleRootOfHashes } from "./merkle.ts";
import * as arb from "./testing/arbitraries.ts";

const proposalMessage = fc.record({
  kind: fc.constant("proposal" as const),
  proposal: arb.signedProposal,
  block: arb.block,
  polVotes: fc.array(arb.signedVote, { maxLength: 2 }),
});

describe("compact proposals", () => {
  it("name the block's transactions by the leaves its txRoot is built from", () => {
    fc.assert(
      fc.property(proposalMessage, (m) => {
        const compact = compactProposal(m);
        expect(compact.txLeaves).toHaveLength(m.block.txs.length);
        expect(merkleRootOfHashes(compact.txLeaves)).toEqual(transactionsRoot(m.block.txs));
        expect(compact.header).toBe(m.block.header);
        expect(compact.evidence).toBe(m.block.evidence);
        expect(decodeConsensusMessage(encodeConsensusMessage(compact))).toEqual(compact);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses more leaves than a block may hold", () => {
    const m = fc.sample(proposalMessage, { numRuns: 1, seed: 7 })[0]!;
    const leaf = new Uint8Array(32).fill(9);
    const over = { ...compactProposal(m), txLeaves: new Array(MAX_BLOCK_TXS + 1).fill(leaf) };
    expect(() => decodeConsensusMessage(encodeConsensusMessage(over))).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^(DECODE|ENCODE)_/) }),
    );
  });
});
