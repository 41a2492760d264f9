/**
 * The serving side's level-by-level chunk read answers exactly what the
 * tree's own walk answers (same leaves, same order) for every position at
 * several cuts, from a real database (getMany, the height suffix stripped)
 * holding two versions of a state; refuses a chunk over its byte bound
 * before reading it whole; and reports a missing node as the tree does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EMPTY_ROOT,
  MemoryNodeStore,
  SparseMerkleTree,
  sha256,
  toHex,
} from "@edgeledger/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database } from "../db/database.ts";
import { readChunkLeaves } from "./chunkLeaves.ts";
import { encodeChunk } from "./chunks.ts";

const dirs: string[] = [];
let db: Database;
const roots: Uint8Array[] = [];

const key = (i: number) => sha256(Uint8Array.of(0x51, i >> 8, i & 0xff));
const value = (i: number, v: number) => new TextEncoder().encode(`account ${i} balance ${v}`);
const show = (leaves: readonly (readonly [Uint8Array, Uint8Array])[] | null) =>
  leaves?.map(([k, v]) => `${toHex(k)}=${toHex(v)}`);

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "chunk-leaves-"));
  dirs.push(dir);
  // A small node cache, so that most reads go to LevelDB (the path a serving node takes).
  db = new Database(dir, { nodeCacheBytes: 64 * 1024 });
  await db.open();
  const built = SparseMerkleTree.build(
    Array.from({ length: 1500 }, (_, i) => [key(i), value(i, 1)] as const),
  );
  await db.putStateNodes(built.writes, 1);
  roots.push(built.root);
  // A second version sharing most nodes with the first.
  const tree = new SparseMerkleTree(db.stateStore);
  const next = await tree.update(
    built.root,
    Array.from({ length: 100 }, (_, i) => [key(i * 13), i % 3 === 0 ? null : value(i, 2)] as const),
  );
  await db.putStateNodes(next.writes, 2);
  roots.push(next.root);
  // Three keys: at a deep cut most positions are empty and a leaf sits above the cut.
  const small = SparseMerkleTree.build([0, 1, 2].map((i) => [key(i), value(i, 3)] as const));
  await db.putStateNodes(small.writes, 3);
  roots.push(small.root);
});

afterAll(async () => {
  await db.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("readChunkLeaves", () => {
  it("answers the tree's own leavesUnder for every position, cut at 0, 1, 3 and 6", async () => {
    const tree = new SparseMerkleTree(db.stateStore);
    let leaves = 0;
    for (const root of roots)
      for (const depth of [0, 1, 3, 6])
        for (let index = 0; index < 2 ** depth; index++) {
          const want = tree.leavesUnder(root, depth, index);
          const got = await readChunkLeaves(db, root, depth, index, 1 << 24);
          expect(show(got)).toEqual(show(want));
          leaves += want.length;
        }
    // Every leaf of every version, once per cut: nothing dropped or doubled.
    expect(leaves).toBe(4 * (1500 + 1500 - 34 + 3));
  });

  it("answers the empty tree with no leaves", async () => {
    expect(await readChunkLeaves(db, EMPTY_ROOT, 3, 5, 1 << 24)).toEqual([]);
  });

  it("serves a chunk of exactly the byte bound, and refuses one byte less (null)", async () => {
    const tree = new SparseMerkleTree(db.stateStore);
    const leaves = tree.leavesUnder(roots[0]!, 3, 4);
    const size = encodeChunk({ height: 1, depth: 3, index: 4, leaves }).length;
    expect(await readChunkLeaves(db, roots[0]!, 3, 4, size)).toHaveLength(leaves.length);
    expect(await readChunkLeaves(db, roots[0]!, 3, 4, size - 1)).toBeNull();
  });

  it("stops reading once the internal nodes alone show a chunk too large", async () => {
    let read = 0;
    const counting = {
      getStateNodes: async (hashes: readonly Uint8Array[]) => {
        read += hashes.length;
        return db.getStateNodes(hashes);
      },
    };
    // A bound of one leaf: the whole subtree (~375 leaves, ~540 internal nodes) is not read.
    expect(await readChunkLeaves(counting, roots[0]!, 2, 1, 80)).toBeNull();
    expect(read).toBeLessThan(100);
  });

  it("reports a node missing from the store as STATE_NODE_MISSING", async () => {
    const built = SparseMerkleTree.build(
      Array.from({ length: 50 }, (_, i) => [key(i), value(i, 4)] as const),
    );
    const store = new MemoryNodeStore();
    // Everything but one leaf.
    const dropped = built.writes.find((w) => w.node[0] === 0x02)!;
    store.write(built.writes.filter((w) => w !== dropped));
    const lossy = {
      getStateNodes: async (hs: readonly Uint8Array[]) => hs.map((h) => store.get(h)),
    };
    await expect(readChunkLeaves(lossy, built.root, 0, 0, 1 << 24)).rejects.toMatchObject({
      code: "STATE_NODE_MISSING",
    });
  });
});
