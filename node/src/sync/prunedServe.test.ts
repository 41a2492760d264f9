/**
 * Block sync from a node that dropped old block bodies (retainBlocks): it
 * refuses the pruned range with SYNC_PRUNED, which costs it nothing (it is
 * asked again, never reported as misbehaving), and the late node syncs
 * from an archive peer instead.
 */
import { Writable } from "node:stream";
import { toHex, transactionHash } from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Chain } from "../chain/chain.ts";
import type { Database } from "../db/database.ts";
import { Pruner } from "../db/pruner.ts";
import type { PendingTx } from "../mempool/mempool.ts";
import { createHost, type Host, newPeerKey } from "../network/host.ts";
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
import { BlockSync } from "./blockSync.ts";

const validator = keyOf(9);
const genesis = loneValidatorGenesis(validator, NOW - 1_000_000);
const verifier = createNativeVerifier();
const BLOCKS = 60;
const DEADLINES = { idleMs: 2000, totalMs: 10_000 };

interface TestNode {
  host: Host;
  chain: Chain;
  db: Database;
  sync: BlockSync;
  faults: string[];
  logged: { code?: string }[];
}
const started: TestNode[] = [];

afterEach(async () => {
  for (const n of started.splice(0)) {
    await n.sync.stop();
    await n.host.stop();
    await n.db.close();
  }
  removeTestDirs();
});

async function startNode(opened: { chain: Chain; db: Database }): Promise<TestNode> {
  const host = await createHost((await newPeerKey()).key, opened.chain.chainId);
  const logged: { code?: string }[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      const entry = JSON.parse(String(chunk)) as { err?: { code?: string } };
      if (entry.err) logged.push(entry.err);
      done();
    },
  });
  const faults: string[] = [];
  const sync = new BlockSync(
    {
      host,
      ...opened,
      verifier,
      log: pino({ level: "debug" }, sink),
      verifyBlockSignatures: async () => true,
      messagesFor: () => [],
      acceptConsensus: () => true,
      pendingTxs: () => [],
      acceptTxs: async () => undefined,
      misbehaved: (_peer, code) => void faults.push(code),
    },
    { requestDeadlines: DEADLINES, serveDeadlines: DEADLINES, hedgeMs: 150 },
  );
  await sync.start();
  const node = { host, ...opened, sync, faults, logged };
  started.push(node);
  return node;
}

/** An archive chain of BLOCKS blocks, and a copy of it that keeps the last 10 bodies. */
async function servers(): Promise<{ archive: TestNode; pruned: TestNode }> {
  const archive = await openTestChain(genesis);
  for (let h = 1; h <= BLOCKS; h++) {
    const { stx, bytes } = signed(keyOf(1), h - 1, transfer(addressOf(2), 1n), {
      expiresAt: NOW + 3_600_000,
    });
    const tx: PendingTx = {
      hash: transactionHash(stx.tx),
      key: "",
      stx,
      bytes,
      sender: "",
      seq: 0,
    };
    const built = await archive.chain.buildBlock(
      [tx],
      archive.chain.nextTime(NOW),
      validator.publicKey,
    );
    await archive.chain.commit(built, certifyAlone(validator, h, built.blockHash), {
      durable: false,
    });
  }
  const pruned = await openTestChain(genesis, { retention: { keepRecent: 0, retainBlocks: 10 } });
  for (let h = 1; h <= BLOCKS; h++) {
    const exec = await pruned.chain.executeBlock(archive.db.getBlock(h)!);
    await pruned.chain.commit(exec, archive.db.getCertificate(h)!, { durable: false });
  }
  const pruner = new Pruner(pruned.db);
  pruner.onCommit(BLOCKS);
  await pruner.idle();
  expect(pruned.db.getBlockBytes(1)).toBeUndefined();
  return { archive: await startNode(archive), pruned: await startNode(pruned) };
}

describe("block sync from a node with retainBlocks", () => {
  it("is refused with SYNC_PRUNED at no cost to the peer, and the late node syncs from an archive", async () => {
    const { archive, pruned } = await servers();
    const late = await startNode(await openTestChain(genesis));
    await late.host.dial(pruned.host.getMultiaddrs()[0]!);
    late.sync.trigger();
    await late.sync.idle();
    expect(late.chain.head.height).toBe(0);
    expect(late.logged.map((e) => e.code)).toContain("SYNC_PRUNED");
    expect(late.faults).toEqual([]);
    await late.host.dial(archive.host.getMultiaddrs()[0]!);
    late.sync.trigger();
    await late.sync.idle();
    expect(late.chain.head.height).toBe(BLOCKS);
    expect(toHex(late.chain.head.hash)).toBe(toHex(archive.chain.head.hash));
    expect(late.faults).toEqual([]);
  }, 60_000);
});
