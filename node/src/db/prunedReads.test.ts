/**
 * Reads of a pruning node through the real NodeService and HTTP API: a
 * proof at a kept height verifies, one at a pruned height is refused with
 * STATE_PRUNED (410) naming the oldest height, and dropped block bodies
 * leave headers and certificates served (light clients verify those).
 */

import type { Block } from "@edgeledger/sdk/protocol";
import {
  decodeStateProof,
  formatAddress,
  fromHex,
  verifyAccountProof,
} from "@edgeledger/sdk/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeService } from "../api/nodeService.ts";
import { createApiServer } from "../api/server.ts";
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
import type { RetentionOptions } from "./database.ts";
import { Pruner } from "./pruner.ts";
import { storageReport } from "./report.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1000);
afterEach(removeTestDirs);

async function prunedChain(retention: RetentionOptions, blocks: number) {
  const t = await openTestChain(genesis, { retention });
  const txHashes: Uint8Array[] = [];
  for (let n = 0; n < blocks; n++) {
    const tx = await t.mempool.add(signed(keyOf(1), n, transfer(addressOf(2), 10n)).bytes);
    txHashes.push(tx.hash);
    const built = await t.chain.buildBlock([tx], t.chain.nextTime(NOW + n), validator.publicKey);
    const certify = (b: Block, h: Uint8Array) => certifyAlone(validator, b.header.height, h);
    await t.chain.commit(built, certify(built.block, built.blockHash));
  }
  const pruner = new Pruner(t.db);
  pruner.onCommit(t.chain.head.height);
  await pruner.idle();
  const service = createNodeService({
    chain: t.chain,
    db: t.db,
    mempool: t.mempool,
    validatorKey: null,
    version: "test",
    // Health is not what these reads are about: a fixed report.
    health: () => ({
      status: "ready",
      height: t.chain.head.height,
      lastCommitAgeMs: 0,
      peers: 0,
      validator: false,
      bestPeerHeight: 0,
      behind: 0,
      haltHeight: null,
      storage: storageReport({
        db: t.db,
        pruner,
        head: () => t.chain.head.height,
        snapshots: () => [],
        dbSizeBytes: () => 0,
      }),
    }),
  });
  const app = createApiServer(service);
  return { ...t, app, txHashes };
}

describe("reads of a pruning node", () => {
  it("serves a verifiable proof at a kept height and refuses a pruned one with STATE_PRUNED", async () => {
    const { app, db } = await prunedChain({ keepRecent: 2, retainBlocks: 0 }, 6);
    const address = formatAddress(addressOf(2));
    const kept = await app.inject({ url: `/v1/accounts/${address}?height=5` });
    expect(kept.statusCode).toBe(200);
    const body = kept.json();
    expect(body.account).toEqual({ balance: "50", nonce: 0 });
    verifyAccountProof(
      fromHex(body.block.header.stateRoot),
      addressOf(2),
      { balance: 50n, nonce: 0 },
      decodeStateProof(fromHex(body.proof)),
    );
    const old = await app.inject({ url: `/v1/accounts/${address}?height=3` });
    expect(old.statusCode).toBe(410);
    expect(old.json()).toMatchObject({ code: "STATE_PRUNED", details: { oldest: 5, head: 6 } });
    expect(old.json().message).toContain("5");
    await app.close();
    await db.close();
  });

  it("keeps headers of dropped bodies and refuses the bodies with BLOCK_PRUNED", async () => {
    const { app, db, txHashes } = await prunedChain({ keepRecent: 0, retainBlocks: 2 }, 6);
    // Transactions of dropped bodies leave the index (unknown here); those of kept ones stay.
    expect(db.getTx(txHashes[1]!)).toBeUndefined();
    expect(db.getTx(txHashes[4]!)?.status).toBe("committed");
    const header = await app.inject({ url: "/v1/headers/2" });
    expect(header.statusCode).toBe(200);
    expect(header.json().header.height).toBe(2);
    const block = await app.inject({ url: "/v1/blocks/2" });
    expect(block.statusCode).toBe(410);
    expect(block.json()).toMatchObject({ code: "BLOCK_PRUNED", details: { oldest: 5 } });
    expect((await app.inject({ url: "/v1/blocks/5" })).statusCode).toBe(200);
    // Archive state: a proof at height 2 still verifies against the kept header.
    const account = await app.inject({
      url: `/v1/accounts/${formatAddress(addressOf(2))}?height=2`,
    });
    expect(account.statusCode).toBe(200);
    await app.close();
    await db.close();
  });
});
