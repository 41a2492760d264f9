/**
 * Snapshots and the pruner: the state of a listed snapshot height survives
 * pruning however far keepRecent has moved past it, and goes once the
 * snapshot rotates out; the list survives a restart.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_ROOT, SparseMerkleTree } from "@edgeledger/sdk/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { Database } from "../db/database.ts";
import { Pruner } from "../db/pruner.ts";
import { keyOf } from "../testing/fixtures.ts";
import { commitStateBlock, missingNodes } from "../testing/stateBlocks.ts";
import { Snapshots } from "./snapshots.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("snapshots under pruning", () => {
  it("keep their height's state while listed, and let it go when they rotate out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "snapshots-"));
    dirs.push(dir);
    const retention = { keepRecent: 2, retainBlocks: 0 };
    const db = new Database(dir, { retention });
    await db.open();
    const tree = new SparseMerkleTree(db.stateStore);
    const pruner = new Pruner(db);
    const snapshots = new Snapshots(db, tree, { interval: 5, keep: 2 });
    const roots: Uint8Array[] = [EMPTY_ROOT];
    for (let h = 1; h <= 20; h++) {
      // Every block rewrites the same keys: each height's tree has nodes no other has.
      roots[h] = await commitStateBlock(db, tree, keyOf(9), roots[h - 1]!, h, [
        [1, h],
        [2, h],
        [3, h],
      ]);
      await snapshots.onCommit(h, roots[h]!);
      pruner.onCommit(h);
      await pruner.idle();
    }
    expect(snapshots.list().map((s) => s.height)).toEqual([20, 15]);
    expect(missingNodes(db, roots[15]!)).toEqual([]);
    expect(missingNodes(db, roots[20]!)).toEqual([]);
    // Rotated out (10 and 5), and below keepRecent: pruned as usual.
    expect(missingNodes(db, roots[10]!)).not.toEqual([]);
    expect(missingNodes(db, roots[12]!)).not.toEqual([]);
    await snapshots.stop();
    await db.close();
    const reopened = new Database(dir, { retention });
    await reopened.open();
    expect(
      new Snapshots(reopened, tree, { interval: 5, keep: 2 }).list().map((s) => s.height),
    ).toEqual([20, 15]);
    expect(reopened.keepStateFrom).toBe(15);
    await reopened.close();
  });
});
