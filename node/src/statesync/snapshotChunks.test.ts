/**
 * A snapshot's chunks, written once after it is taken (snapshots.ts): every
 * non-empty chunk is stored as the tree's walk would encode it; the server
 * answers from the store (and from the tree for another cut); a snapshot
 * that rotates out loses its chunks; a pass cut short by a stop is finished
 * by the next run's resume().
 */
import { type SparseMerkleTree, toHex } from "@edgeledger/sdk/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../db/database.ts";
import { createHost, newPeerKey } from "../network/host.ts";
import { createSyncContext, defaultSyncOptions } from "../sync/context.ts";
import { CHAIN, openTestChain, removeTestDirs } from "../testing/fixtures.ts";
import { commitTransferBlocks, stateSyncGenesis } from "../testing/stateSyncChain.ts";
import { encodeChunk } from "./chunks.ts";
import { StateSyncServer } from "./protocol.ts";
import { Snapshots } from "./snapshots.ts";

const DEPTH = 3;
let server: Awaited<ReturnType<typeof openTestChain>>;
let snapshots: Snapshots;
const roots = new Map<number, Uint8Array>();
const stopHost: (() => Promise<void>)[] = [];

/** What the tree's own walk encodes for each position (null: an empty one, not stored). */
function walked(tree: SparseMerkleTree, height: number): (string | null)[] {
  const root = roots.get(height)!;
  return Array.from({ length: 2 ** DEPTH }, (_, index) => {
    const leaves = tree.leavesUnder(root, DEPTH, index);
    return leaves.length === 0 ? null : toHex(encodeChunk({ height, depth: DEPTH, index, leaves }));
  });
}

async function stored(db: Database, height: number): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let index = 0; index < 2 ** DEPTH; index++) {
    const bytes = await db.getSnapshotChunk(height, index);
    out.push(bytes ? toHex(bytes) : null);
  }
  return out;
}

beforeAll(async () => {
  server = await openTestChain(stateSyncGenesis(300));
  snapshots = new Snapshots(server.db, server.chain.tree, { interval: 4, keep: 2, depth: DEPTH });
  await commitTransferBlocks(server.chain, 12, async (h, root) => {
    roots.set(h, root);
    await snapshots.onCommit(h, root);
    // Each pass done before the next snapshot: 4's chunks are all written before it rotates out at 12.
    await snapshots.idle();
    if (h === 4) expect(await stored(server.db, 4)).toEqual(walked(server.chain.tree, 4));
  });
});

afterAll(async () => {
  for (const stop of stopHost) await stop();
  await snapshots.stop();
  await server.db.close();
  removeTestDirs();
});

describe("a snapshot's chunks", () => {
  it("are each stored as the tree's walk encodes it, empty positions left out", async () => {
    for (const h of [8, 12]) {
      expect(snapshots.exported(h)).toBe(true);
      const want = walked(server.chain.tree, h);
      expect(want.filter((c) => c !== null).length).toBeGreaterThan(4);
      expect(await stored(server.db, h)).toEqual(want);
    }
  });

  it("are what the server answers, for the snapshot's cut only", async () => {
    const host = await createHost((await newPeerKey()).key, CHAIN);
    stopHost.push(async () => {
      await host.stop();
    });
    const serving = new StateSyncServer({
      ctx: createSyncContext(host, CHAIN, defaultSyncOptions, pino({ level: "silent" }), undefined),
      db: server.db,
      tree: server.chain.tree,
      snapshots,
      validatorsAt: (h) => server.chain.validatorsAt(h),
      genesisRoot: server.chain.genesisHeader.stateRoot,
    });
    const index = walked(server.chain.tree, 8).findIndex((c) => c !== null);
    const ask = async (depth: number) =>
      toHex((await serving.reply({ kind: "chunk", height: 8, depth, index }))[0]!);
    expect(await ask(DEPTH)).toBe(walked(server.chain.tree, 8)[index]);
    // A marker in the store shows that the answer is read from it.
    const marker = Uint8Array.of(1, 2, 3);
    const original = (await server.db.getSnapshotChunk(8, index))!;
    await server.db.putSnapshotChunks(8, [{ index, bytes: marker }]);
    expect(await ask(DEPTH)).toBe(toHex(marker));
    await server.db.putSnapshotChunks(8, [{ index, bytes: original }]);
    // Another cut than the list's is not served, nor walked for: depth 0 would be
    // the whole state for one request (a hostile peer's cheap way to load us).
    const none = [new Uint8Array()];
    for (const depth of [0, DEPTH - 1, DEPTH + 1]) {
      expect(
        await serving.reply({ kind: "chunk", height: 8, depth, index: 0 }),
        `${depth}`,
      ).toEqual(none);
      expect(await serving.reply({ kind: "manifest", height: 8, depth }), `${depth}`).toEqual(none);
    }
  });

  it("go when their snapshot rotates out", async () => {
    expect(snapshots.list().map((s) => s.height)).toEqual([12, 8]);
    expect(snapshots.exported(4)).toBe(false);
    expect(await stored(server.db, 4)).toEqual(Array(2 ** DEPTH).fill(null));
  });

  it("cut short by a stop, are written by the next run's resume()", async () => {
    const other = await openTestChain(stateSyncGenesis(300));
    const first = new Snapshots(other.db, other.chain.tree, { interval: 4, keep: 2, depth: DEPTH });
    await commitTransferBlocks(other.chain, 4, async (h, root) => {
      roots.set(h, root);
      await first.onCommit(h, root);
      // Before the pass's first chunk: it gives up.
      if (h === 4) await first.stop();
    });
    expect(first.exported(4)).toBe(false);
    expect(await stored(other.db, 4)).toEqual(Array(2 ** DEPTH).fill(null));
    const next = new Snapshots(other.db, other.chain.tree, { interval: 4, keep: 2, depth: DEPTH });
    expect(next.exported(4)).toBe(false);
    next.resume();
    await next.idle();
    expect(next.exported(4)).toBe(true);
    expect(await stored(other.db, 4)).toEqual(walked(other.chain.tree, 4));
    // The record says so: a later run does not write them again.
    const third = new Snapshots(other.db, other.chain.tree, { interval: 4, keep: 2, depth: DEPTH });
    expect(third.exported(4)).toBe(true);
    await next.stop();
    await other.db.close();
  });
});
