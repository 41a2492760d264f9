import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ProofError, StateStoreError } from "../../errors/protocol.ts";
import { toHex } from "../bytes.ts";
import { portableSha256, setSha256Backend, sha256 } from "../hash.ts";
import {
  type Account,
  accountKey,
  decodeAccount,
  encodeAccount,
  proveAccount,
  verifyAccountProof,
} from "./account.ts";
import { MemoryNodeStore } from "./nodeStore.ts";
import {
  decodeStateProof,
  EMPTY_ROOT,
  encodeStateProof,
  SparseMerkleTree,
  verifyStateProof,
} from "./sparseMerkleTree.ts";

const key = (i: number) => sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0x5a));
const value = (i: number, v = 0) =>
  encodeAccount({ balance: BigInt(i) * 1000n + BigInt(v), nonce: v });

async function treeWith(entries: [Uint8Array, Uint8Array][]) {
  const store = new MemoryNodeStore();
  const built = SparseMerkleTree.build(entries);
  store.write(built.writes);
  return { store, tree: new SparseMerkleTree(store), root: built.root };
}

async function apply(
  store: MemoryNodeStore,
  tree: SparseMerkleTree,
  root: Uint8Array,
  changes: [Uint8Array, Uint8Array | null][],
) {
  const u = await tree.update(root, changes);
  store.write(u.writes);
  return u.root;
}

describe("sparse Merkle tree", () => {
  it("has one root per content, whatever the order and batching of updates", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { minLength: 0, maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer(),
        async (ids, batch, seed) => {
          const entries = ids.map((i): [Uint8Array, Uint8Array] => [key(i), value(i)]);
          const reference = SparseMerkleTree.build(entries).root;
          const store = new MemoryNodeStore();
          const tree = new SparseMerkleTree(store);
          const shuffled = fc.sample(fc.shuffledSubarray(entries, { minLength: entries.length }), {
            numRuns: 1,
            seed,
          })[0]!;
          let root = EMPTY_ROOT;
          for (let i = 0; i < shuffled.length; i += batch)
            root = await apply(store, tree, root, shuffled.slice(i, i + batch));
          expect(toHex(root)).toBe(toHex(reference));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("returns to the previous root when inserted keys are deleted again", async () => {
    const { store, tree, root } = await treeWith(
      Array.from({ length: 200 }, (_, i) => [key(i), value(i)]),
    );
    let r = await apply(store, tree, root, [
      [key(1000), value(1000)],
      [key(1001), value(1001)],
    ]);
    expect(toHex(r)).not.toBe(toHex(root));
    r = await apply(store, tree, r, [
      [key(1000), null],
      [key(1001), null],
    ]);
    expect(toHex(r)).toBe(toHex(root));
    // Deleting everything empties the tree; deleting an absent key changes nothing.
    const all = Array.from({ length: 200 }, (_, i): [Uint8Array, null] => [key(i), null]);
    expect(toHex(await apply(store, tree, root, [[key(4242), null]]))).toBe(toHex(root));
    expect(toHex(await apply(store, tree, root, all))).toBe(toHex(EMPTY_ROOT));
  });

  it("reads values at the latest and at older roots", async () => {
    const { store, tree, root } = await treeWith(
      Array.from({ length: 50 }, (_, i) => [key(i), value(i)]),
    );
    const next = await apply(store, tree, root, [
      [key(7), value(7, 1)],
      [key(8), null],
    ]);
    expect(decodeAccount((await tree.get(next, key(7)))!)).toEqual({ balance: 7001n, nonce: 1 });
    expect(await tree.get(next, key(8))).toBeNull();
    expect(decodeAccount((await tree.get(root, key(7)))!)).toEqual({ balance: 7000n, nonce: 0 });
    expect(await tree.get(root, key(8))).not.toBeNull();
    expect(await tree.get(root, key(999))).toBeNull();
  });

  it("proves inclusion of present keys and non-inclusion of absent ones (both kinds)", async () => {
    const { tree, root } = await treeWith(
      Array.from({ length: 300 }, (_, i) => [key(i), value(i)]),
    );
    for (let i = 0; i < 300; i += 7) {
      const { value: v, proof } = await tree.prove(root, key(i));
      expect(v).toEqual(value(i));
      expect(() =>
        verifyStateProof(root, key(i), v, decodeStateProof(encodeStateProof(proof))),
      ).not.toThrow();
      expect(() => verifyStateProof(root, key(i), value(i, 1), proof)).toThrow(ProofError);
      expect(() => verifyStateProof(root, key(i), null, proof)).toThrow(ProofError);
    }
    const kinds = new Set<string>();
    for (let i = 1000; i < 1100; i++) {
      const { value: v, proof } = await tree.prove(root, key(i));
      expect(v).toBeNull();
      kinds.add(proof.leaf ? "other-leaf" : "empty");
      expect(() => verifyStateProof(root, key(i), null, proof)).not.toThrow();
      expect(() => verifyStateProof(root, key(i), value(i), proof)).toThrow(ProofError);
    }
    expect(kinds).toEqual(new Set(["empty", "other-leaf"]));
  });

  it("rejects every single-byte change to a proof, and proofs against another root", async () => {
    const { store, tree, root } = await treeWith(
      Array.from({ length: 64 }, (_, i) => [key(i), value(i)]),
    );
    for (const k of [key(5), key(2000)]) {
      const { value: v, proof } = await tree.prove(root, k);
      const encoded = encodeStateProof(proof);
      for (let i = 0; i < encoded.length; i++) {
        for (const mask of [0x01, 0x40, 0xff]) {
          const bad = encoded.slice();
          bad[i]! ^= mask;
          expect(() => verifyStateProof(root, k, v, decodeStateProof(bad)), `byte ${i}`).toThrow();
        }
      }
      const other = await apply(store, tree, root, [[key(6), value(6, 9)]]);
      expect(() => verifyStateProof(other, k, v, proof)).toThrow(ProofError);
    }
  });

  it("updates one key among many with O(log n) hashes and writes", async () => {
    const n = 1 << 14;
    const { tree, root } = await treeWith(Array.from({ length: n }, (_, i) => [key(i), value(i)]));
    let hashes = 0;
    setSha256Backend((data) => {
      hashes++;
      return portableSha256(data);
    });
    try {
      const u = await tree.update(root, [[key(123), value(123, 1)]]);
      // Depth of a tree over n random keys is about log2(n) (+ a few); each level costs one hash.
      expect(hashes).toBeLessThan(3 * Math.log2(n));
      expect(u.writes.length).toBeLessThan(2 * Math.log2(n));
    } finally {
      setSha256Backend(null);
    }
  });

  it("reports a store that lacks a node with a typed error", async () => {
    const { root } = await treeWith([
      [key(1), value(1)],
      [key(2), value(2)],
    ]);
    const empty = new SparseMerkleTree(new MemoryNodeStore());
    await expect(empty.get(root, key(1))).rejects.toBeInstanceOf(StateStoreError);
  });
});

/** Property tests at sizes where the tree has ~8–11 levels (seeded: the same cases every run). */
describe("sparse Merkle tree properties (several levels)", () => {
  const ids = (max: number) =>
    fc.uniqueArray(fc.integer({ min: 0, max: 1 << 20 }), { minLength: 1, maxLength: max });

  it("has the same root whatever the order, batch splitting and deleted detours", async () => {
    await fc.assert(
      fc.asyncProperty(
        ids(600),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer(),
        async (keep, batch, detours, seed) => {
          const entries = keep.map((i): [Uint8Array, Uint8Array] => [key(i), value(i)]);
          const reference = SparseMerkleTree.build(entries).root;
          // Keys that are inserted and deleted again on the way (ids above the kept range).
          const extra = Array.from({ length: detours }, (_, j): [Uint8Array, Uint8Array] => [
            key((1 << 21) + j),
            value(j),
          ]);
          const ops: [Uint8Array, Uint8Array | null][] = [
            ...entries,
            ...extra,
            ...extra.map(([k]): [Uint8Array, null] => [k, null]),
          ];
          // Shuffle, but every deletion stays after its insertion.
          const order = fc.sample(fc.shuffledSubarray(ops, { minLength: ops.length }), {
            numRuns: 1,
            seed,
          })[0]!;
          const inserted = new Set<Uint8Array>();
          const pending = order.filter(([k, v]) => v === null && !inserted.has(k));
          const sequence = order.filter(([k, v]) => {
            if (v !== null) inserted.add(k);
            return v !== null || pending.every(([p]) => p !== k);
          });
          const store = new MemoryNodeStore();
          const tree = new SparseMerkleTree(store);
          let root = EMPTY_ROOT;
          for (let i = 0; i < sequence.length; i += batch)
            root = await apply(store, tree, root, sequence.slice(i, i + batch));
          for (let i = 0; i < pending.length; i += batch)
            root = await apply(store, tree, root, pending.slice(i, i + batch));
          expect(toHex(root)).toBe(toHex(reference));
        },
      ),
      { numRuns: 25, seed: 14 },
    );
  });

  it("returns to the earlier root when a batch of inserted keys is deleted again", async () => {
    await fc.assert(
      fc.asyncProperty(
        ids(800),
        ids(300),
        fc.integer({ min: 1, max: 100 }),
        async (base, added, batch) => {
          const fresh = added.filter((i) => !base.includes(i));
          const { store, tree, root } = await treeWith(base.map((i) => [key(i), value(i)]));
          let r = root;
          for (let i = 0; i < fresh.length; i += batch)
            r = await apply(
              store,
              tree,
              r,
              fresh.slice(i, i + batch).map((j) => [key(j), value(j, 1)]),
            );
          if (fresh.length > 0) expect(toHex(r)).not.toBe(toHex(root));
          // Deleted in other batches than they came in.
          r = await apply(
            store,
            tree,
            r,
            fresh.map((j) => [key(j), null]),
          );
          expect(toHex(r)).toBe(toHex(root));
        },
      ),
      { numRuns: 25, seed: 15 },
    );
  });

  it("proves every key present and absent keys absent, and no mutated proof verifies", async () => {
    const n = 1500;
    const { tree, root } = await treeWith(
      Array.from({ length: n }, (_, i): [Uint8Array, Uint8Array] => [key(i), value(i)]),
    );
    for (let i = 0; i < n; i++) {
      const { value: v, proof } = await tree.prove(root, key(i));
      expect(v).toEqual(value(i));
      verifyStateProof(root, key(i), v, proof);
    }
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 * n }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (i, at, mask) => {
          const k = key(i);
          const { value: v, proof } = await tree.prove(root, k);
          expect(v === null).toBe(i >= n);
          const encoded = encodeStateProof(proof);
          verifyStateProof(root, k, v, decodeStateProof(encoded));
          const bad = encoded.slice();
          bad[at % bad.length]! ^= mask;
          expect(() => verifyStateProof(root, k, v, decodeStateProof(bad))).toThrow();
        },
      ),
      { numRuns: 400, seed: 16 },
    );
  });
});

describe("account proofs", () => {
  it("prove an account's balance and nonce, or its absence, from a state root", async () => {
    const addr = (i: number) => Uint8Array.from({ length: 20 }, (_, j) => (i * 31 + j) & 0xff);
    const accounts = new Map<number, Account>(
      Array.from({ length: 40 }, (_, i) => [i, { balance: BigInt(i) ** 20n, nonce: i }]),
    );
    const { tree, root } = await treeWith(
      [...accounts].map(([i, a]) => [accountKey(addr(i)), encodeAccount(a)]),
    );
    for (const [i, a] of accounts) {
      const { account, proof } = await proveAccount(tree, root, addr(i));
      expect(account).toEqual(a);
      expect(() => verifyAccountProof(root, addr(i), a, proof)).not.toThrow();
      expect(() =>
        verifyAccountProof(root, addr(i), { ...a, balance: a.balance + 1n }, proof),
      ).toThrow(ProofError);
      expect(() => verifyAccountProof(root, addr(i + 1000), a, proof)).toThrow(ProofError);
    }
    const missing = addr(999);
    const { account, proof } = await proveAccount(tree, root, missing);
    expect(account).toBeNull();
    expect(() => verifyAccountProof(root, missing, null, proof)).not.toThrow();
  });
});

/** Every node hash reachable from `root` (hex): the nodes that root's state needs. */
function reachable(store: MemoryNodeStore, root: Uint8Array): Set<string> {
  const seen = new Set<string>();
  const walk = (hash: Uint8Array) => {
    if (toHex(hash) === toHex(EMPTY_ROOT)) return;
    seen.add(toHex(hash));
    const node = store.get(hash)!;
    if (node[0] === 0x03) {
      walk(node.subarray(1, 33));
      walk(node.subarray(33, 65));
    }
  };
  walk(root);
  return seen;
}

describe("stale nodes of an update (pruning's bookkeeping)", () => {
  it("are exactly the old root's nodes that the new root no longer reaches", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { minLength: 0, maxLength: 80 }),
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 400 }), fc.option(fc.integer({ min: 0, max: 3 }))),
          { minLength: 1, maxLength: 40 },
        ),
        async (initial, changes) => {
          const { store, tree, root } = await treeWith(
            initial.map((i): [Uint8Array, Uint8Array] => [key(i), value(i)]),
          );
          // Values from a small set, so changes often return a leaf (and its
          // subtrees) to an earlier content: the re-creation case.
          const u = await tree.update(
            root,
            changes.map(([i, v]): [Uint8Array, Uint8Array | null] => [
              key(i),
              v === null ? null : value(i, v),
            ]),
          );
          store.write(u.writes);
          const before = reachable(store, root);
          const after = reachable(store, u.root);
          const expected = [...before].filter((h) => !after.has(h)).sort();
          expect(u.stale.map(toHex).sort()).toEqual(expected);
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });

  it("leave out a leaf set back to the value it had", async () => {
    const { tree, root } = await treeWith(Array.from({ length: 40 }, (_, i) => [key(i), value(i)]));
    const same = await tree.update(root, [[key(3), value(3)]]);
    expect(toHex(same.root)).toBe(toHex(root));
    expect(same.stale).toEqual([]);
  });
});
