/**
 * Validators killed with SIGKILL: with 1 of 4 down the others keep
 * finalizing; with 2 of 4 down nothing is finalized (no quorum, no safety
 * loss); returning nodes catch up through block sync and commits resume.
 */
import { sleep } from "@edgeledger/node/testing";
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("validators crashing", () => {
  it("keeps committing with 1 of 4 down, stops with 2 of 4 down, and the returning nodes catch up", () =>
    withNetwork({ validators: 4 }, async (net) => {
      await net.waitCommitted([await net.transfer(0)], 0);

      // One of four down: the other three still finalize.
      await net.kill(3);
      const oneDown: string[] = [];
      for (let i = 0; i < 3; i++) oneDown.push(await net.transfer(i));
      await net.waitCommitted(oneDown, 1);

      // It returns and catches up through block sync.
      await net.start(3);
      const target = await net.height(0);
      await net.waitForHeight(target, [3]);

      // Two of four down: no quorum, so nothing is committed.
      await net.kill(2);
      await net.kill(3);
      await sleep(300);
      const stalled = Math.max(...(await net.heights([0, 1])));
      const stuck = await net.transfer(0);
      await sleep(3000);
      expect(Math.max(...(await net.heights([0, 1])))).toBe(stalled);

      // Both return: commits resume, and the waiting transaction is final everywhere.
      await net.start(2);
      await net.start(3);
      for (const n of net.nodes) await net.waitCommitted([stuck], n.index, 60_000);
    }));
});
