import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Block, type FinalityCertificate, voteDigest } from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import { Database } from "../db/database.ts";
import { Mempool } from "../mempool/mempool.ts";
import { addressOf, CHAIN, keyOf, signed, transfer } from "../testing/fixtures.ts";
import { ConsensusDriver } from "./driver.ts";
import { SigningGuard } from "./signingGuard.ts";

const validator = keyOf(9);
const genesis: Genesis = {
  chainId: CHAIN,
  time: Date.now() - 1000,
  validators: [{ publicKey: validator.publicKey, power: 1n }],
  accounts: [{ address: addressOf(1), balance: 1000n }],
};
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function certify(block: Block, blockHash: Uint8Array): FinalityCertificate {
  const vote = { type: "precommit" as const, height: block.header.height, round: 0, blockHash };
  const full = { ...vote, validator: validator.publicKey };
  return {
    ...vote,
    signatures: [
      { validatorIndex: 0, signature: nativeSigner(validator).signSync(voteDigest(CHAIN, full)) },
    ],
  };
}

describe("consensus driver", () => {
  it("moves on when block sync commits its height while it gathers a batch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "driver-"));
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    const chain = new Chain(db, genesis);
    await chain.init();
    const mempool = new Mempool(
      {},
      {
        chainId: CHAIN,
        verifier: createNativeVerifier(),
        accounts: chain.accounts,
        isKnown: (h) => db.getTx(h) !== undefined,
        now: Date.now,
      },
    );
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
    await chain.commit(elsewhere, certify(elsewhere.block, elsewhere.blockHash));
    // It must go on to height 2 and commit the pending transaction there.
    const deadline = Date.now() + 5000;
    while (db.getTx(tx.hash)?.status !== "committed" && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(db.getTx(tx.hash)).toMatchObject({ status: "committed", height: 2 });
    await driver.stop();
    await db.close();
  });
});
