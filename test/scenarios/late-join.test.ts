/**
 * A non-validating full node that joins after the chain has grown: it syncs
 * every block from its peers (verifying each certificate), then follows new
 * blocks, and transactions submitted to it reach the validators.
 */
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("a full node joining late", () => {
  it("syncs to head, follows consensus and forwards transactions", () =>
    withNetwork({ validators: 4, fullNodes: 1, startLater: [4] }, async (net) => {
      const early: string[] = [];
      for (let i = 0; i < 20; i++) {
        early.push(await net.transfer(i % 4));
        // A few blocks, not one: sync has to walk a chain.
        if (i % 5 === 4) await net.waitCommitted(early.slice(-1), 0);
      }
      await net.waitCommitted(early, 0);
      const head = await net.height(0);
      expect(head).toBeGreaterThanOrEqual(4);

      await net.start(4);
      const status = await net.status(4);
      expect(status?.validator).toBeNull();
      await net.waitForHeight(head, [4]);

      // It follows new blocks, and what it is given reaches the validators.
      const late = await net.transfer(4);
      await net.waitCommitted([late], 0);
      await net.waitCommitted([late], 4);
    }));
});
