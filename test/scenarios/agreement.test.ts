/**
 * The healthy case: four validators as separate processes gossip
 * transactions submitted anywhere and commit the same final blocks.
 */
import { describe, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("a 4-validator network", () => {
  it("gossips transactions and commits identical blocks on every node", () =>
    withNetwork({ validators: 4 }, async (net) => {
      const hashes: string[] = [];
      // Spread over the nodes: each must reach the proposer through gossip.
      for (let i = 0; i < 12; i++) hashes.push(await net.transfer(i % 4));
      for (const n of net.nodes) await net.waitCommitted(hashes, n.index, 45_000);
    }));
});
