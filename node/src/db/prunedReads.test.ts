/**
 * Reads of a pruning node through the real NodeService and HTTP API: a
 * proof at a kept height verifies, one at a pruned height is refused with
 * STATE_PRUNED (410) naming the oldest height, and dropped block bodies
 * leave headers and certificates served (light clients verify those).
 * With retainHeaders, headers below the window are refused with
 * HEADER_PRUNED naming the nearest kept ones, the header where the
 * validator set changes survives, and the SDK's light client still
 * verifies the head from genesis across the change (it bisects through the
 * kept change header, lightClient.ts #pivot).
 */

import { ApiError, createClient, validatorSetHash } from "@edgeledger/sdk";
import {
  type Block,
  decodeStateProof,
  equalBytes,
  formatAddress,
  fromHex,
  toHex,
  transactionHash,
  verifyAccountProof,
} from "@edgeledger/sdk/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createApiServer } from "../api/server.ts";
import {
  addressOf,
  CHAIN,
  certifyAlone,
  commitTransfers,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
  signed,
  testNodeService,
  transfer,
} from "../testing/fixtures.ts";
import type { RetentionOptions } from "./database.ts";
import { Pruner } from "./pruner.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1000);
afterEach(removeTestDirs);

async function prunedChain(retention: RetentionOptions, blocks: number) {
  const t = await openTestChain(genesis, { retention });
  const txHashes = await commitTransfers(t, validator, blocks);
  const pruner = new Pruner(t.db);
  pruner.onCommit(t.chain.head.height);
  await pruner.idle();
  const service = testNodeService(t, pruner);
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

describe("dropped transactions on a pruning node", () => {
  it("forgets a drop's record with the state of its height, keeps newer ones and a commit that replaced one", async () => {
    const t = await openTestChain(genesis, { retention: { keepRecent: 3, retainBlocks: 0 } });
    const withHash = (x: ReturnType<typeof signed>) => ({ ...x, hash: transactionHash(x.stx.tx) });
    const drop = (tx: { hash: Uint8Array; bytes: Uint8Array }, height: number) =>
      t.db.recordDropped(
        [
          {
            hash: tx.hash,
            record: { status: "dropped", code: "TX_EXPIRED", message: "late", tx: toHex(tx.bytes) },
          },
        ],
        height,
      );
    const old = withHash(signed(keyOf(3), 0, transfer(addressOf(2), 1n)));
    await drop(old, 1);
    // Dropped from a stale copy, then committed at height 2 (commitTransfers' second transfer):
    // the commit's record replaces the drop's, which stays indexed at height 1.
    const replaced = withHash(signed(keyOf(1), 1, transfer(addressOf(2), 10n)));
    await drop(replaced, 1);
    const committed = await commitTransfers(t, validator, 8);
    expect(toHex(committed[1]!)).toBe(toHex(replaced.hash));
    const recent = withHash(signed(keyOf(3), 1, transfer(addressOf(2), 1n)));
    await drop(recent, 7);
    const pruner = new Pruner(t.db);
    pruner.onCommit(t.chain.head.height);
    await pruner.idle();
    // The state of 6, 7 and 8 is kept (keepRecent 3): drops at 5 and below go.
    expect(t.db.oldestState(t.chain.head.height)).toBe(6);
    expect(t.db.getTx(old.hash)).toBeUndefined();
    expect(t.db.getTx(recent.hash)).toMatchObject({ status: "dropped", code: "TX_EXPIRED" });
    expect(t.db.getTx(replaced.hash)).toMatchObject({ status: "committed", height: 2 });
    expect(pruner.totals.dropsDeleted).toBe(1);
    const app = createApiServer(testNodeService(t, pruner));
    expect((await app.inject({ url: `/v1/transactions/${toHex(old.hash)}` })).statusCode).toBe(404);
    const kept = await app.inject({ url: `/v1/transactions/${toHex(recent.hash)}` });
    expect(kept.json()).toMatchObject({ status: "dropped", error: { code: "TX_EXPIRED" } });
    await app.close();
    await pruner.stop();
    await t.db.close();
  });
});

/** Voted in with 10 of 11 power at height 1: from height 3 it signs alone. */
const newcomer = keyOf(8);
const RETENTION = { keepRecent: 4, retainBlocks: 4, retainHeaders: 6 };
const HEAD = 20;
/** The last header the genesis set signs: its nextValidatorsHash names the new set. */
const CHANGE = 2;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/**
 * HEAD blocks; from height 3 the newcomer signs alone, so a light client
 * trusting only the genesis set cannot skip to the head.
 */
async function changedChain() {
  const t = await openTestChain(genesis, { retention: RETENTION });
  for (let h = 1; h <= HEAD; h++) {
    const set = t.chain.validatorsAt(h);
    const signer = set.some((v) => equalBytes(v.publicKey, newcomer.publicKey))
      ? newcomer
      : validator;
    const txs =
      h === 1
        ? [
            await t.mempool.add(
              signed(validator, 0, {
                kind: "validator-vote",
                validator: newcomer.publicKey,
                power: 10n,
              }).bytes,
            ),
          ]
        : [];
    const built = await t.chain.buildBlock(txs, t.chain.nextTime(NOW + h), signer.publicKey);
    const index = set.findIndex((v) => equalBytes(v.publicKey, signer.publicKey));
    const certify = (b: Block, hash: Uint8Array) =>
      certifyAlone(signer, b.header.height, hash, CHAIN, index);
    await t.chain.commit(built, certify(built.block, built.blockHash));
  }
  const pruner = new Pruner(t.db);
  pruner.onCommit(t.chain.head.height);
  await pruner.idle();
  const service = testNodeService(t, pruner);
  const app = createApiServer(service);
  closers.push(() => app.close());
  return { ...t, app, pruner };
}

describe("header pruning (retainHeaders)", () => {
  it("refuses a dropped header with HEADER_PRUNED and keeps the set-change header", async () => {
    const t = await changedChain();
    // The chain is what the test needs: the set changes after height 2.
    const change = t.db.getHeader(CHANGE)!;
    expect(toHex(change.nextValidatorsHash)).not.toBe(toHex(change.validatorsHash));
    expect(toHex(change.validatorsHash)).toBe(toHex(validatorSetHash(genesis.validators)));
    const oldest = HEAD - RETENTION.retainHeaders + 1;
    expect(t.pruner.totals.headersDropped).toBe(oldest - 1 - 1);

    for (const h of [1, 3, 9, oldest - 1]) {
      const res = await t.app.inject({ method: "GET", url: `/v1/headers/${h}` });
      expect(res.statusCode, `height ${h}`).toBe(410);
      expect(res.json()).toMatchObject({
        code: "HEADER_PRUNED",
        details: { oldest, head: HEAD, keptBelow: h > CHANGE ? CHANGE : null },
      });
      expect(res.json().details.keptAbove).toBe(h < CHANGE ? CHANGE : oldest);
    }
    for (const h of [CHANGE, oldest, HEAD]) {
      const res = await t.app.inject({ method: "GET", url: `/v1/headers/${h}` });
      expect(res.statusCode, `height ${h}`).toBe(200);
    }
    const health = await t.app.inject({ method: "GET", url: "/v1/health" });
    expect(health.json().storage).toMatchObject({
      retention: RETENTION,
      earliestHeader: oldest,
      earliestBlock: HEAD - RETENTION.retainBlocks + 1,
      earliestState: HEAD - RETENTION.keepRecent + 1,
    });
  });

  it("lets the SDK light client verify the head from genesis across the set change", async () => {
    const t = await changedChain();
    const url = await t.app.listen({ host: "127.0.0.1", port: 0 });
    const client = createClient({
      url,
      chainId: CHAIN,
      trust: { genesisHash: toHex(t.chain.genesisHash) },
      // The fixture's blocks are stamped in 2027.
      maxClockDriftMs: Number.MAX_SAFE_INTEGER,
    });
    const head = await client.lightClient.header(HEAD);
    expect(toHex(head.stateRoot)).toBe(toHex(t.chain.head.header.stateRoot));
    // A dropped one is refused with its code, not mistaken for a lie.
    await expect(client.lightClient.header(9)).rejects.toSatisfy(
      (e) => e instanceof ApiError && e.code === "HEADER_PRUNED",
    );
  });
});
