import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  addressOf,
  CHAIN,
  certifyAlone,
  keyOf,
  loneValidatorGenesis,
  openTestChain,
  removeTestDirs,
  signed,
  transfer,
} from "../testing/fixtures.ts";
import { ConsensusDriver } from "./driver.ts";
import { SigningGuard } from "./signingGuard.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, Date.now() - 1000);
afterEach(removeTestDirs);

describe("consensus driver", () => {
  it("moves on when block sync commits its height while it gathers a batch", async () => {
    const { db, chain, mempool } = await openTestChain(genesis, { now: Date.now });
    const driver = new ConsensusDriver(
      // A long batch wait, so the sync commit surely lands inside it.
      { batchDelayMs: 300, heartbeatMs: 600_000 },
      {
        chain,
        mempool,
        guard: new SigningGuard(db, nativeSigner(validator), CHAIN),
        log: pino({ level: "silent" }),
        now: Date.now,
      },
    );
    // Height 1 as block sync would bring it: built elsewhere, committed past the driver.
    const elsewhere = await chain.buildBlock([], chain.nextTime(Date.now()), validator.publicKey);
    const tx = await mempool.add(
      signed(keyOf(1), 0, transfer(addressOf(2), 5n), { expiresAt: Date.now() + 60_000 }).bytes,
    );
    driver.start();
    await new Promise((r) => setTimeout(r, 50)); // the driver is now in its batch wait for height 1
    await chain.commit(
      elsewhere,
      certifyAlone(validator, elsewhere.block.header.height, elsewhere.blockHash),
    );
    // It must go on to height 2 and commit the pending transaction there.
    const deadline = Date.now() + 5000;
    while (db.getTx(tx.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(db.getTx(tx.hash)).toMatchObject({ status: "committed", height: 2 });
    await driver.stop();
    await db.close();
  });
});
