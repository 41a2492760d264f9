/**
 * pruning.retainHeaders through the real NodeService and HTTP API: headers
 * below the window are refused with HEADER_PRUNED (410) naming the nearest
 * kept ones, the header where the validator set changes survives, and the
 * SDK's light client still verifies the head from genesis across the change
 * (it bisects through the kept change header, lightClient.ts #pivot).
 */
import { ApiError, createClient, validatorSetHash } from "@edgeledger/sdk";
import { type Block, equalBytes, toHex } from "@edgeledger/sdk/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeService } from "../api/nodeService.ts";
import { createApiServer } from "../api/server.ts";
import {
  CHAIN,
  certifyAlone,
  keyOf,
  loneValidatorGenesis,
  NOW,
  openTestChain,
  removeTestDirs,
  signed,
} from "../testing/fixtures.ts";
import { Pruner } from "./pruner.ts";
import { storageReport } from "./report.ts";

const validator = keyOf(9);
/** Voted in with 10 of 11 power at height 1: from height 3 it signs alone. */
const newcomer = keyOf(8);
const genesis = loneValidatorGenesis(validator, NOW - 1000);
const RETENTION = { keepRecent: 4, retainBlocks: 4, retainHeaders: 6 };
const HEAD = 20;
/** The last header the genesis set signs: its nextValidatorsHash names the new set. */
const CHANGE = 2;
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  removeTestDirs();
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
  const service = createNodeService({
    chain: t.chain,
    db: t.db,
    mempool: t.mempool,
    validatorKey: null,
    version: "test",
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
