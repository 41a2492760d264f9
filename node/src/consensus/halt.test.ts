/**
 * haltHeight at the driver: a validator commits the block at the halt
 * height, then neither proposes nor votes (its empty-block heartbeat stays
 * silent too); a driver given a higher halt on the same chain continues.
 */
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  CHAIN,
  keyOf,
  loneValidatorGenesis,
  openTestChain,
  removeTestDirs,
} from "../testing/fixtures.ts";
import { ConsensusDriver } from "./driver.ts";
import { LocalSigningGuard } from "./signingGuard.ts";

const validator = keyOf(11);
afterEach(removeTestDirs);

// Generous: the test is about where the chain stops, not how fast it gets there (CI once
// needed more than 5 s for 3 heights on a loaded machine).
async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("haltHeight in the consensus driver", () => {
  it("commits the halt height, then stops; a higher halt on restart continues", async () => {
    const genesis = loneValidatorGenesis(validator, Date.now() - 1000);
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const guard = new LocalSigningGuard(db, nativeSigner(validator), CHAIN);
    const signed: number[] = [];
    const driverWith = (haltHeight: number) =>
      new ConsensusDriver(
        // An empty block every 5 ms: without the halt, the chain would race on.
        { heartbeatMs: 5, batchDelayMs: 0 },
        {
          chain,
          mempool,
          guard,
          log: pino({ level: "silent" }),
          now: Date.now,
          broadcast: {
            proposal: (p) => signed.push(p.proposal.height),
            vote: (v) => signed.push(v.vote.height),
          },
          haltAfter: (height) => height >= haltHeight,
        },
      );
    const first = driverWith(3);
    first.start();
    await until("height 3", () => chain.head.height >= 3);
    // Forty heartbeats later: still 3, and nothing signed for height 4.
    await new Promise((r) => setTimeout(r, 200));
    expect(chain.head.height).toBe(3);
    expect(signed.filter((h) => h > 3)).toEqual([]);
    await first.stop();

    const second = driverWith(6);
    second.start();
    await until("height 6", () => chain.head.height >= 6);
    await new Promise((r) => setTimeout(r, 100));
    expect(chain.head.height).toBe(6);
    await second.stop();
    await db.close();
  });
});
