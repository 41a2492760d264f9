import { afterEach, describe, expect, it } from "vitest";
import { EvidencePool } from "../evidence/pool.ts";
import {
  addressOf,
  certifyAlone,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { EXPIRY_SWEEP_MS, followChain } from "./followChain.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1000);

afterEach(removeTestDirs);

describe("the mempool following the chain", () => {
  it("lets go of what a block included or made stale, and records each drop with its reason", async () => {
    const { chain, mempool, db } = await openTestChain(genesis);
    let now = NOW;
    const stop = followChain({ chain, mempool, evidence: new EvidencePool(), db, now: () => now });
    const drops: string[] = [];
    mempool.onDrop((e) => drops.push(`${e.tx.stx.tx.nonce}:${e.code}`));
    try {
      const sender = keyOf(1);
      const first = await mempool.add(signed(sender, 0, transfer(addressOf(2), 10n)).bytes);
      // Behind a nonce gap, expiring soon: no block will ever take it.
      const gapped = await mempool.add(
        signed(sender, 5, transfer(addressOf(2), 1n), { expiresAt: NOW + 500 }).bytes,
      );
      expect(mempool.size).toBe(2);

      const built = await chain.buildBlock([first], chain.nextTime(NOW), validator.publicKey);
      await chain.commit(built, certifyAlone(validator, 1, built.blockHash));
      // Included, not dropped: it leaves without a drop event.
      expect(mempool.get(first.hash)).toBeUndefined();
      await new Promise((r) => setTimeout(r, 20));
      expect(drops).toEqual([]);
      expect(db.getTx(first.hash)).toMatchObject({ status: "committed" });

      // The sweep drops the expired one within a sweep, and says why.
      now = NOW + 1000;
      const deadline = Date.now() + 5 * EXPIRY_SWEEP_MS;
      while (mempool.get(gapped.hash) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(mempool.size).toBe(0);
      expect(drops).toEqual(["5:TX_EXPIRED"]);
      await new Promise((r) => setTimeout(r, 20)); // the record is written after the drop
      expect(db.getTx(gapped.hash)).toMatchObject({ status: "dropped", code: "TX_EXPIRED" });
    } finally {
      stop();
      await db.close();
    }
  });
});
