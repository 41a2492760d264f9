/**
 * Compact proposals (issue 14) name their transactions instead of carrying
 * them; a validator rebuilds the block from its mempool. This plays the
 * validator that cannot: its mempool holds one transaction at most, so
 * every block of several transactions names some it lacks. With one other
 * validator down, the network needs its vote for every block, so blocks
 * commit only if it fetches each proposal whole (catch-up) and votes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { withNetwork } from "../src/network.ts";

describe("compact proposals", () => {
  it("a validator that lacks a block's transactions fetches the proposal whole and votes", () =>
    withNetwork({ validators: 4, startLater: [0, 3] }, async (net) => {
      const file = join(net.nodes[3]!.home, "config.json");
      const config = JSON.parse(readFileSync(file, "utf8")) as { mempool: object };
      writeFileSync(
        file,
        JSON.stringify({ ...config, mempool: { ...config.mempool, maxTxs: 1 } }, null, 2),
      );
      // Validator 0 stays down: 1, 2 and 3 are the only quorum there is.
      await net.start(3);
      const hashes: string[] = [];
      for (let round = 0; round < 3; round++) {
        const batch: string[] = [];
        for (const via of [1, 2, 1, 2, 1, 2]) batch.push(await net.transfer(via));
        hashes.push(...batch);
        await net.waitCommitted(batch, 3, 45_000);
      }
      for (const n of [1, 2, 3]) await net.waitCommitted(hashes, n, 10_000);
    }));
});
