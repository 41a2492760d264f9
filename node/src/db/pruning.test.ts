import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SparseMerkleTree, toHex } from "@edgeledger/sdk/protocol";
import { ClassicLevel } from "classic-level";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { keyOf } from "../testing/fixtures.ts";
import { commitStateBlock, missingNodes, stateKey, stateValue } from "../testing/stateBlocks.ts";
import { Database, type RetentionOptions } from "./database.ts";
import { Pruner } from "./pruner.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const validator = keyOf(9);

/**
 * A database driven the way Chain drives it, without transactions: each
 * "block" sets some keys of the state tree to values from a small set, so
 * leaves and whole subtrees often return to an earlier content. A tiny node
 * cache, so that reads see what the state bucket holds.
 */
class Harness {
  readonly roots: Uint8Array[] = [];
  db: Database;
  tree: SparseMerkleTree;
  readonly dir: string;
  readonly retention: RetentionOptions;
  constructor(dir: string, retention: RetentionOptions) {
    this.dir = dir;
    this.retention = retention;
    this.db = new Database(dir, { nodeCacheBytes: 1, retention });
    this.tree = new SparseMerkleTree(this.db.stateStore);
  }

  static async open(retention: RetentionOptions, initial: number[]): Promise<Harness> {
    const dir = mkdtempSync(join(tmpdir(), "prune-"));
    dirs.push(dir);
    const h = new Harness(dir, retention);
    await h.db.open();
    const built = SparseMerkleTree.build(initial.map((v, i) => [stateKey(i), stateValue(v)]));
    await h.db.putMeta("genesisRoot", toHex(built.root), built.writes);
    h.roots.push(built.root);
    return h;
  }

  async reopen(): Promise<void> {
    await this.db.close();
    this.db = new Database(this.dir, { nodeCacheBytes: 1, retention: this.retention });
    this.tree = new SparseMerkleTree(this.db.stateStore);
    await this.db.open();
  }

  get head(): number {
    return this.roots.length - 1;
  }

  async commit(changes: [number, number][]): Promise<void> {
    const height = this.head + 1;
    this.roots.push(
      await commitStateBlock(
        this.db,
        this.tree,
        validator,
        this.roots[this.head]!,
        height,
        changes,
      ),
    );
  }

  /** Hashes of the nodes a root needs that the state bucket lacks. */
  missing(root: Uint8Array): string[] {
    return missingNodes(this.db, root);
  }

  /** Every kept height's state, complete in the bucket. */
  expectKeptComplete(): void {
    const oldest = this.db.oldestState(this.head);
    for (let h = oldest; h <= this.head; h++)
      expect(this.missing(this.roots[h]!), `height ${h}`).toEqual([]);
  }
}

describe("state pruning", () => {
  it("keeps a node that went stale and was written again (a value back to an earlier one)", async () => {
    const h = await Harness.open({ keepRecent: 2, retainBlocks: 0 }, [0, 0, 0, 0]);
    await h.commit([[0, 1]]); // 1: key 0's leaf (value 0) goes stale
    await h.commit([[0, 0]]); // 2: and comes back: the same leaf, the same root as genesis
    expect(toHex(h.roots[2]!)).toBe(toHex(h.roots[0]!));
    await h.commit([[1, 5]]);
    await h.commit([[1, 6]]);
    await h.commit([[1, 7]]); // head 5: heights 4 and 5 kept
    const pruner = new Pruner(h.db);
    pruner.onCommit(h.head);
    await pruner.idle();
    expect(h.db.oldestState(h.head)).toBe(4);
    h.expectKeptComplete();
    // What only older heights needed is gone: key 0's leaf with value 1, key 1's with 5.
    expect(pruner.totals.nodesDeleted).toBeGreaterThan(0);
    expect(h.missing(h.roots[1]!).length).toBeGreaterThan(0);
    expect(await h.db.staleEntryCount()).toBeGreaterThan(0); // heights 5's entries wait
  });

  it("keeps every kept height complete over random histories with many re-created subtrees", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 11 }), fc.integer({ min: 0, max: 2 })), {
            minLength: 1,
            maxLength: 5,
          }),
          { minLength: 5, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (blocks, keepRecent) => {
          const h = await Harness.open(
            { keepRecent, retainBlocks: 0 },
            Array.from({ length: 12 }, () => 0),
          );
          const pruner = new Pruner(h.db, { stepEntries: 3 });
          for (const changes of blocks) {
            await h.commit(changes);
            pruner.onCommit(h.head);
            await pruner.idle();
            h.expectKeptComplete();
          }
          await h.db.close();
        },
      ),
      { numRuns: 40, seed: 1515 },
    );
  });

  it("leaves kept heights complete when stopped between steps, and resumes after a restart", async () => {
    const h = await Harness.open({ keepRecent: 3, retainBlocks: 0 }, [0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < 12; i++)
      await h.commit([
        [i % 6, (i * 7) % 3],
        [(i + 1) % 6, i % 2],
      ]);
    // One entry per step; stop after the first few, as a crash between two batches would.
    const pruner = new Pruner(h.db, { stepEntries: 1 });
    pruner.onCommit(h.head);
    await pruner.stop();
    const left = await h.db.staleEntryCount();
    await h.reopen();
    h.expectKeptComplete();
    const again = new Pruner(h.db, { stepEntries: 1 });
    again.onCommit(h.head);
    await again.idle();
    expect(await h.db.staleEntryCount()).toBeLessThan(left);
    h.expectKeptComplete();
    await h.db.close();
  });

  it("deletes nothing live after an archive run in between (its writes record their height too)", async () => {
    const h = await Harness.open({ keepRecent: 1, retainBlocks: 0 }, [0, 0, 0]);
    await h.commit([[0, 1]]); // 1: key 0's leaf (value 0) stale, recorded
    // An archive run: no stale lists, but its writes record their height.
    await h.db.close();
    const archive = new Harness(h.dir, { keepRecent: 0, retainBlocks: 0 });
    await archive.db.open();
    archive.roots.push(...h.roots);
    await archive.commit([[0, 0]]); // 2: the leaf is back, unrecorded
    await archive.db.close();
    const pruning = new Harness(h.dir, { keepRecent: 1, retainBlocks: 0 });
    await pruning.db.open();
    pruning.roots.push(...archive.roots);
    await pruning.commit([[1, 4]]);
    const pruner = new Pruner(pruning.db);
    pruner.onCommit(pruning.head);
    await pruner.idle();
    pruning.expectKeptComplete();
    await pruning.db.close();
  });

  it("keeps everything with keepRecent 0 (an archive node)", async () => {
    const h = await Harness.open({ keepRecent: 0, retainBlocks: 0 }, [0, 0, 0]);
    for (let i = 0; i < 6; i++) await h.commit([[i % 3, i + 1]]);
    const pruner = new Pruner(h.db);
    pruner.onCommit(h.head);
    await pruner.idle();
    expect(h.db.oldestState(h.head)).toBe(0);
    for (const root of h.roots) expect(h.missing(root)).toEqual([]);
    expect(await h.db.staleEntryCount()).toBe(0);
    await h.db.close();
  });
});

describe("an archive switched to pruning", () => {
  /** Hashes of every node the kept heights' trees hold. */
  const keptNodes = (h: Harness): Set<string> => {
    const out = new Set<string>();
    for (let height = h.db.oldestState(h.head); height <= h.head; height++)
      h.tree.forEachNode(h.roots[height]!, (hash) => out.add(toHex(hash)));
    return out;
  };
  /** An archive run of 6 blocks (nothing listed stale), then reopened with keepRecent 2. */
  async function switched(): Promise<Harness> {
    const archive = await Harness.open({ keepRecent: 0, retainBlocks: 0 }, [0, 0, 0, 0]);
    for (let i = 0; i < 6; i++)
      await archive.commit([
        [i % 4, i + 1],
        [(i + 1) % 4, i + 7],
      ]);
    await archive.db.close();
    const h = new Harness(archive.dir, { keepRecent: 2, retainBlocks: 0 });
    h.roots.push(...archive.roots);
    await h.db.open();
    return h;
  }

  it("deletes what went stale while it was an archive, once the window has passed the switch", async () => {
    const h = await switched();
    expect(h.db.sweepPending).toBe(6);
    const pruner = new Pruner(h.db);
    // Heights 5 and 6 kept: below the switch, so nothing is swept yet (their trees stay whole).
    pruner.onCommit(h.head);
    await pruner.idle();
    expect(h.db.sweepPending).toBe(6);
    h.expectKeptComplete();
    for (let i = 0; i < 3; i++) {
      await h.commit([[i, 20 + i]]);
      pruner.onCommit(h.head);
      await pruner.idle();
    }
    // Oldest kept 8 ≥ 6: swept, and the bucket holds exactly the kept trees' nodes.
    expect(h.db.sweepPending).toBeNull();
    h.expectKeptComplete();
    expect(await h.db.stateNodeCount()).toBe(keptNodes(h).size);
    await h.db.close();
  });

  it("keeps the sweep across a restart until it ran, and runs it once", async () => {
    const h = await switched();
    await h.reopen(); // a crash or stop before any pass
    expect(h.db.sweepPending).toBe(6);
    for (let i = 0; i < 4; i++) await h.commit([[i, 30 + i]]);
    await h.reopen();
    expect(h.db.sweepPending).toBe(6);
    const pruner = new Pruner(h.db);
    pruner.onCommit(h.head);
    await pruner.idle();
    expect(h.db.sweepPending).toBeNull();
    expect(await h.db.stateNodeCount()).toBe(keptNodes(h).size);
    // A later open that still prunes records no new sweep.
    await h.reopen();
    expect(h.db.sweepPending).toBeNull();
    h.expectKeptComplete();
    await h.db.close();
  });
});

describe("block pruning (retainBlocks)", () => {
  it("drops bodies older than retainBlocks and keeps every header and certificate", async () => {
    const h = await Harness.open({ keepRecent: 0, retainBlocks: 3 }, [0]);
    for (let i = 0; i < 8; i++) await h.commit([[0, i + 1]]);
    const pruner = new Pruner(h.db);
    pruner.onCommit(h.head);
    await pruner.idle();
    expect(h.db.oldestBlock(h.head)).toBe(6);
    for (let height = 1; height <= 8; height++) {
      expect(h.db.getBlockBytes(height) !== undefined, `body ${height}`).toBe(height >= 6);
      expect(toHex(h.db.getHeader(height)!.stateRoot)).toBe(toHex(h.roots[height]!));
      expect(h.db.getCertificate(height)?.height).toBe(height);
    }
    await h.reopen();
    expect(h.db.oldestBlock(h.head)).toBe(6);
    await h.db.close();
  });
});

describe("state format", () => {
  it("refuses a database whose state nodes lack their write height (from before pruning)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "prune-"));
    dirs.push(dir);
    const old = new ClassicLevel<string, string>(dir);
    await old.sublevel<string, string>("meta", {}).put("genesis", "{}");
    await old.close();
    const db = new Database(dir);
    await expect(db.open()).rejects.toThrow(/without their write height/);
    await db.close();
  });
});
