/** The frontier cut state sync verifies chunks against: cut, rebuild, join give back the root. */
import { describe, expect, it } from "vitest";
import { toHex } from "../bytes.ts";
import { sha256 } from "../hash.ts";
import { MemoryNodeStore } from "./nodeStore.ts";
import { EMPTY_ROOT, positionOf, SparseMerkleTree } from "./sparseMerkleTree.ts";

const key = (i: number) => sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, 0x77));

function treeOf(n: number) {
  const entries: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < n; i++) entries.push([key(i), Uint8Array.of(i & 0xff, 1, 2)]);
  const built = SparseMerkleTree.build(entries);
  const store = new MemoryNodeStore();
  store.write(built.writes);
  return { root: built.root, tree: new SparseMerkleTree(store) };
}

describe("state tree frontier", () => {
  for (const n of [0, 1, 2, 3, 17, 300])
    for (const depth of [0, 1, 3, 6])
      it(`${n} leaves cut at depth ${depth}: each position rebuilds from its leaves, the cut joins to the root`, async () => {
        const { root, tree } = treeOf(n);
        const refs = tree.frontier(root, depth);
        expect(refs).toHaveLength(2 ** depth);
        const store = new MemoryNodeStore();
        let leaves = 0;
        for (const [i, ref] of refs.entries()) {
          const under = tree.leavesUnder(root, depth, i);
          leaves += under.length;
          for (const [k] of under) expect(positionOf(k, depth)).toBe(i);
          const rebuilt = SparseMerkleTree.buildSubtree(under, depth);
          expect(rebuilt.ref.kind).toBe(ref.kind);
          expect(toHex(rebuilt.ref.hash)).toBe(toHex(ref.hash));
          store.write(rebuilt.writes);
        }
        expect(leaves).toBe(n);
        const joined = SparseMerkleTree.joinFrontier(refs);
        expect(toHex(joined.root)).toBe(toHex(n === 0 ? EMPTY_ROOT : root));
        // The rebuilt nodes and the joined top are the whole tree: every key reads back.
        store.write(joined.writes);
        const copy = new SparseMerkleTree(store);
        for (let i = 0; i < n; i++) expect(await copy.get(joined.root, key(i))).not.toBeNull();
      });

  it("refuses a depth above the bound", () => {
    const { root, tree } = treeOf(3);
    expect(() => tree.frontier(root, 17)).toThrow(RangeError);
  });
});

describe("state tree forEachNode", () => {
  for (const n of [0, 1, 2, 300])
    it(`visits each node of a ${n}-leaf tree once: the nodes its build wrote`, async () => {
      const entries: [Uint8Array, Uint8Array][] = [];
      for (let i = 0; i < n; i++) entries.push([key(i), Uint8Array.of(i & 0xff, 1, 2)]);
      const built = SparseMerkleTree.build(entries);
      const { root, tree } = treeOf(n);
      const seen: string[] = [];
      tree.forEachNode(root, (hash) => seen.push(toHex(hash)));
      expect(seen.sort()).toEqual(built.writes.map((w) => toHex(w.hash)).sort());
      // After an update, the new root's nodes only: none of what went stale.
      if (n > 0) {
        const update = await tree.update(root, [[key(0), Uint8Array.of(9)]]);
        const store = new MemoryNodeStore();
        store.write(built.writes);
        store.write(update.writes);
        const after = new Set<string>();
        new SparseMerkleTree(store).forEachNode(update.root, (h) => after.add(toHex(h)));
        for (const stale of update.stale) expect(after.has(toHex(stale))).toBe(false);
        expect(after.size).toBe(seen.length);
      }
      // In parts: the top levels, then each subtree cut there, give the same nodes.
      const parts = new Set<string>();
      const cut: Uint8Array[] = [];
      tree.forEachNode(root, (hash, depth) => {
        parts.add(toHex(hash));
        if (depth < 2) return;
        cut.push(hash.slice());
        return false;
      });
      for (const sub of cut) tree.forEachNode(sub, (hash) => parts.add(toHex(hash)));
      expect([...parts].sort()).toEqual(seen);
    });
});
