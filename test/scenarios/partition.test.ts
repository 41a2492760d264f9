/**
 * A 2|2 partition: neither side has a quorum, so nothing is finalized on
 * either side (and nothing conflicting ever could be); transactions wait.
 * After it heals, the network converges and the waiting transactions commit.
 * Then a 3|1 split: the majority side keeps finalizing, the lone node
 * catches up after the heal.
 */
import { sleep } from "@edgeledger/node/testing";
import { describe, expect, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("a partitioned network", () => {
  it("finalizes nothing while split 2|2, converges after healing, and a 3|1 majority goes on", () =>
    withNetwork({ validators: 4 }, async (net) => {
      await net.waitCommitted([await net.transfer(0)], 0);

      net.partition([0, 1], [2, 3]);
      await sleep(500); // the nodes read their faults file and drop the links
      const before = await net.heights();
      const left = await net.transfer(0);
      const right = await net.transfer(2);
      await sleep(4000);
      // No quorum on either side: no new height anywhere.
      expect(await net.heights()).toEqual(before);

      net.heal();
      for (const n of net.nodes) await net.waitCommitted([left, right], n.index, 60_000);

      net.partition([0, 1, 2], [3]);
      await sleep(500);
      const isolated = await net.height(3);
      const majority = await net.transfer(1);
      await net.waitCommitted([majority], 0);
      expect(await net.height(3)).toBe(isolated);

      net.heal();
      await net.waitCommitted([majority], 3, 60_000);
    }));
});
