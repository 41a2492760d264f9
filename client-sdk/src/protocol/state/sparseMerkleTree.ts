/**
 * The authenticated state map: a compact sparse Merkle tree over 256-bit keys.
 *
 * Shape (as in Diem's/Aptos' sparse Merkle tree): a key's path is its bits,
 * most significant first; a subtree holding one leaf is replaced by that leaf,
 * and an empty subtree by the all-zero hash. So the tree over n random keys
 * is about log2(n) deep, one update costs O(log n) hashes, and the root
 * depends only on the set of (key, value) pairs, never on insertion order.
 *
 *   empty    = 0^32
 *   leaf     = H(0x02 ‖ key ‖ H(value))
 *   internal = H(0x03 ‖ left ‖ right)
 *
 * A proof lists the siblings along the key's path, root first, and the leaf
 * found at its end (if any). It proves inclusion when that leaf has the key,
 * and non-inclusion when the path ends empty or at a leaf with another key
 * that shares the path so far.
 */
import { ProofError, StateStoreError } from "../../errors/protocol.ts";
import { compareBytes, equalBytes, toHex } from "../bytes.ts";
import { type Codec, decode, encode, list, optional, struct, versioned } from "../codec/codec.ts";
import { hashField } from "../fields.ts";
import { HASH_LENGTH, sha256 } from "../hash.ts";
import { STATE_TREE_DEPTH } from "../limits.ts";
import type { NodeStore, NodeWrite } from "./nodeStore.ts";

export const EMPTY_ROOT: Uint8Array = new Uint8Array(HASH_LENGTH);
const LEAF = 0x02;
const INTERNAL = 0x03;

export interface StateProofLeaf {
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array;
}

export interface StateProof {
  /** Siblings along the key's path, from the root's children down. */
  readonly siblings: readonly Uint8Array[];
  /** The leaf at the end of the path, or null where the path ends empty. */
  readonly leaf: StateProofLeaf | null;
}

export const STATE_PROOF_VERSION = 1;

export const stateProofCodec: Codec<StateProof> = versioned(
  STATE_PROOF_VERSION,
  struct<StateProof>("StateProof", {
    siblings: list("siblings", hashField("sibling"), STATE_TREE_DEPTH),
    leaf: optional(
      struct<StateProofLeaf>("StateProofLeaf", {
        key: hashField("key"),
        valueHash: hashField("valueHash"),
      }),
    ),
  }),
);

export function encodeStateProof(proof: StateProof): Uint8Array {
  return encode(stateProofCodec, proof);
}
export function decodeStateProof(bytes: Uint8Array): StateProof {
  return decode(stateProofCodec, bytes, { maxBytes: 8 + 64 + STATE_TREE_DEPTH * 32 + 8 });
}

function bit(key: Uint8Array, depth: number): number {
  return (key[depth >> 3]! >> (7 - (depth & 7))) & 1;
}

/**
 * One 65-byte scratch buffer for every hash input: a typed array above 64
 * bytes gets its own off-heap backing store, and allocating one per node
 * cost more than the hash (measured: ~0.5 µs each, most of it GC). The code
 * that uses it is synchronous, so it is never shared by two callers at once.
 */
const scratch = new Uint8Array(65);

function leafHashOf(key: Uint8Array, valueHash: Uint8Array): Uint8Array {
  scratch[0] = LEAF;
  scratch.set(key, 1);
  scratch.set(valueHash, 33);
  return sha256(scratch);
}

/**
 * Throws a ProofError unless `proof` shows that, under `root`, `key` maps to
 * `value` (or, for `value === null`, is absent).
 */
export function verifyStateProof(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | null,
  proof: StateProof,
): void {
  if (key.length !== HASH_LENGTH)
    throw new ProofError("PROOF_MALFORMED", "A state key is 32 bytes.");
  const { siblings, leaf } = proof;
  if (siblings.length > STATE_TREE_DEPTH)
    throw new ProofError("PROOF_MALFORMED", "Proof is deeper than the tree.");
  let current: Uint8Array;
  if (value !== null) {
    if (!leaf || !equalBytes(leaf.key, key)) {
      throw new ProofError(
        "PROOF_WRONG_KEY",
        "Proof does not end at this key's leaf, so it cannot prove a value.",
      );
    }
    if (!equalBytes(leaf.valueHash, sha256(value))) {
      throw new ProofError(
        "PROOF_WRONG_VALUE",
        "The claimed value is not the one the proof commits to.",
      );
    }
    current = leafHashOf(key, leaf.valueHash);
  } else if (leaf) {
    if (equalBytes(leaf.key, key)) {
      throw new ProofError("PROOF_WRONG_VALUE", "Proof shows the key present, not absent.");
    }
    for (let d = 0; d < siblings.length; d++) {
      if (bit(leaf.key, d) !== bit(key, d)) {
        throw new ProofError("PROOF_WRONG_KEY", "The proof's leaf is not on this key's path.");
      }
    }
    current = leafHashOf(leaf.key, leaf.valueHash);
  } else {
    current = EMPTY_ROOT;
  }
  for (let d = siblings.length - 1; d >= 0; d--) {
    const sibling = siblings[d]!;
    scratch[0] = INTERNAL;
    if (bit(key, d) === 1) {
      scratch.set(sibling, 1);
      scratch.set(current, 33);
    } else {
      scratch.set(current, 1);
      scratch.set(sibling, 33);
    }
    current = sha256(scratch);
  }
  if (!equalBytes(current, root)) {
    throw new ProofError(
      "PROOF_ROOT_MISMATCH",
      "State proof does not lead to the trusted state root.",
    );
  }
}

type Loaded =
  | { readonly kind: "empty" }
  | {
      readonly kind: "leaf";
      readonly hash: Uint8Array;
      readonly key: Uint8Array;
      readonly value: Uint8Array;
    }
  | {
      readonly kind: "internal";
      readonly hash: Uint8Array;
      readonly left: Uint8Array;
      readonly right: Uint8Array;
    };

/** A subtree result: its hash, and what it is when collapsing needs to know. */
type Sub =
  | { readonly kind: "empty" }
  | {
      readonly kind: "leaf";
      readonly hash: Uint8Array;
      readonly key: Uint8Array;
      readonly value: Uint8Array;
    }
  | { readonly kind: "internal" | "unknown"; readonly hash: Uint8Array };

const EMPTY: Sub = { kind: "empty" };

interface Entry {
  readonly key: Uint8Array;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
}

export interface TreeUpdate {
  readonly root: Uint8Array;
  /** New nodes to persist before `root` can be read. */
  readonly writes: readonly NodeWrite[];
  /**
   * Hashes of the old root's nodes that the new root no longer reaches:
   * what a pruning store may delete once no kept root needs them. A node
   * can be stale here and written again by a later update (a value returns
   * to an earlier one): the store's bookkeeping must allow for that.
   */
  readonly stale: readonly Uint8Array[];
}

/**
 * Where an update puts the nodes it creates: views into a few growing chunks,
 * not one allocation per node (see `scratch`). The caller persists `writes`;
 * stores copy what they keep, so the chunks die with the update.
 */
class WriteArena {
  #chunk = new Uint8Array(ARENA_FIRST_CHUNK);
  #used = 0;
  readonly writes: NodeWrite[] = [];
  readonly stale: Uint8Array[] = [];

  reserve(length: number): Uint8Array {
    if (this.#used + length > this.#chunk.length) {
      const next = Math.min(ARENA_MAX_CHUNK, 2 * this.#chunk.length);
      this.#chunk = new Uint8Array(Math.max(next, length));
      this.#used = 0;
    }
    const view = this.#chunk.subarray(this.#used, this.#used + length);
    this.#used += length;
    return view;
  }

  /** Records `node` (a view from `reserve`) under `hash`; returns the arena's copy of the hash. */
  record(hash: Uint8Array, node: Uint8Array): Uint8Array {
    const kept = this.reserve(HASH_LENGTH);
    kept.set(hash);
    this.writes.push({ hash: kept, node });
    return kept;
  }
}
const ARENA_FIRST_CHUNK = 4096;
const ARENA_MAX_CHUNK = 1 << 18;

/**
 * The algorithms are plain synchronous recursion over `NodeStore.get`: at
 * 10^6 accounts the generator version (a yield per node, passed up through
 * every frame of the recursion) spent more time resuming generators than
 * hashing.
 */
function load(store: NodeStore, hash: Uint8Array): Loaded {
  if (equalBytes(hash, EMPTY_ROOT)) return { kind: "empty" };
  const node = store.get(hash);
  if (!node) {
    throw new StateStoreError(
      "STATE_NODE_MISSING",
      "A state tree node is missing from the store.",
      {
        details: { hash: toHex(hash), fix: "restore the database or resync the state" },
      },
    );
  }
  if (node[0] === LEAF)
    return { kind: "leaf", hash, key: node.subarray(1, 33), value: node.subarray(33) };
  return { kind: "internal", hash, left: node.subarray(1, 33), right: node.subarray(33, 65) };
}

function getValue(store: NodeStore, root: Uint8Array, key: Uint8Array): Uint8Array | null {
  let node = load(store, root);
  for (let depth = 0; node.kind === "internal"; depth++) {
    node = load(store, bit(key, depth) ? node.right : node.left);
  }
  // A copy: stores may answer with views into their own memory.
  return node.kind === "leaf" && equalBytes(node.key, key) ? node.value.slice() : null;
}

function proveKey(
  store: NodeStore,
  root: Uint8Array,
  key: Uint8Array,
): { value: Uint8Array | null; proof: StateProof } {
  const siblings: Uint8Array[] = [];
  let node = load(store, root);
  for (let depth = 0; node.kind === "internal"; depth++) {
    const right = bit(key, depth) === 1;
    siblings.push((right ? node.left : node.right).slice());
    node = load(store, right ? node.right : node.left);
  }
  if (node.kind === "empty") return { value: null, proof: { siblings, leaf: null } };
  const leaf = { key: node.key.slice(), valueHash: sha256(node.value) };
  const value = equalBytes(node.key, key) ? node.value.slice() : null;
  return { value, proof: { siblings, leaf } };
}

function updateSub(
  store: NodeStore,
  hash: Uint8Array,
  depth: number,
  entries: readonly Entry[],
  lo: number,
  hi: number,
  arena: WriteArena,
): Sub {
  if (lo === hi) return equalBytes(hash, EMPTY_ROOT) ? EMPTY : { kind: "unknown", hash };
  const node = load(store, hash);
  if (node.kind === "empty" || node.kind === "leaf") {
    // Merge the existing leaf (unless a change replaces it) with the
    // changes, drop deletions, and build the subtree afresh.
    const merged: Entry[] = [];
    let existing: Entry | null = node.kind === "leaf" ? { key: node.key, value: node.value } : null;
    for (let i = lo; i < hi; i++) {
      const e = entries[i]!;
      if (existing && compareBytes(existing.key, e.key) <= 0) {
        if (compareBytes(existing.key, e.key) < 0) merged.push(existing);
        existing = null;
      }
      if (e.value !== null) merged.push(e);
    }
    if (existing) merged.push(existing);
    if (node.kind === "leaf" && merged.length === 1 && merged[0]!.key === node.key) return node;
    // The old leaf survives if it is merged in unchanged or set to the value
    // it had (a leaf's hash does not depend on its depth); else it is stale.
    if (node.kind === "leaf" && !merged.some((e) => sameLeaf(e, node))) arena.stale.push(node.hash);
    return buildSub(merged, depth, 0, merged.length, arena);
  }
  const mid = splitByBit(entries, lo, hi, depth);
  const left = updateSub(store, node.left, depth + 1, entries, lo, mid, arena);
  const right = updateSub(store, node.right, depth + 1, entries, mid, hi, arena);
  const sub = joinSubs(store, left, right, arena);
  // An internal node's hash fixes its place in the tree, so it survives
  // only as the result at its own place.
  if (sub.kind === "empty" || !equalBytes(sub.hash, node.hash)) arena.stale.push(node.hash);
  return sub;
}

/**
 * An internal node over the two, unless one side is empty and the other a
 * lone leaf: then the leaf moves up (the canonical shape).
 */
function joinSubs(store: NodeStore, left: Sub, right: Sub, arena: WriteArena): Sub {
  if (left.kind === "empty" && right.kind === "empty") return EMPTY;
  if (left.kind === "empty" || right.kind === "empty") {
    const other = left.kind === "empty" ? right : left;
    const resolved = other.kind === "unknown" ? load(store, other.hash) : other;
    if (resolved.kind === "leaf") return resolved;
  }
  return makeInternal(left, right, arena);
}

function sameLeaf(e: Entry, leaf: { key: Uint8Array; value: Uint8Array }): boolean {
  return e.value !== null && equalBytes(e.key, leaf.key) && equalBytes(e.value, leaf.value);
}

export class SparseMerkleTree {
  readonly #store: NodeStore;

  constructor(store: NodeStore) {
    this.#store = store;
  }

  /** The value stored under `key` in the tree with `root`, or null. */
  async get(root: Uint8Array, key: Uint8Array): Promise<Uint8Array | null> {
    return getValue(this.#store, root, key);
  }

  /** The value under `key` (or null) and a proof of it against `root`. */
  async prove(
    root: Uint8Array,
    key: Uint8Array,
  ): Promise<{ value: Uint8Array | null; proof: StateProof }> {
    return proveKey(this.#store, root, key);
  }

  /**
   * Applies `changes` (value null deletes) to the tree with `root`. Returns the
   * new root and the nodes to write; the store is not modified. Cost: O(log n)
   * hashes per changed key, shared where paths overlap.
   */
  async update(
    root: Uint8Array,
    changes: Iterable<readonly [Uint8Array, Uint8Array | null]>,
  ): Promise<TreeUpdate> {
    const entries = sortedUnique(changes);
    const arena = new WriteArena();
    const sub = updateSub(this.#store, root, 0, entries, 0, entries.length, arena);
    return { root: hashOf(sub).slice(), writes: arena.writes, stale: arena.stale };
  }

  /** The 2^depth subtrees at `depth` under `root`, left to right (see SubtreeRef). */
  frontier(root: Uint8Array, depth: number): SubtreeRef[] {
    checkFrontierDepth(depth);
    const out: SubtreeRef[] = [];
    collectFrontier(this.#store, root, depth, 0, depth, out);
    return out;
  }

  /**
   * Calls `visit` with the hash and depth of every node of the tree (or
   * subtree) with `root`, parents first; the empty tree has none. What a
   * store must hold for that root (a pruning node's sweep keeps these).
   * `visit` returning false skips that node's children (to walk a large
   * tree in parts). The hash may be a view into the store's memory: copy
   * what you keep.
   */
  forEachNode(root: Uint8Array, visit: (hash: Uint8Array, depth: number) => unknown): void {
    const walk = (hash: Uint8Array, depth: number): void => {
      const node = load(this.#store, hash);
      if (node.kind === "empty") return;
      if (visit(hash, depth) === false || node.kind !== "internal") return;
      walk(node.left, depth + 1);
      walk(node.right, depth + 1);
    };
    walk(root, 0);
  }

  /** How many internal nodes the path of `key` passes (the depth its search ends at). */
  depthAlong(root: Uint8Array, key: Uint8Array): number {
    let node = load(this.#store, root);
    let depth = 0;
    for (; node.kind === "internal"; depth++)
      node = load(this.#store, bit(key, depth) ? node.right : node.left);
    return depth;
  }

  /** The leaves under position `index` at `depth`, in key order. */
  leavesUnder(root: Uint8Array, depth: number, index: number): [Uint8Array, Uint8Array][] {
    checkFrontierDepth(depth);
    let node = load(this.#store, root);
    for (let d = 0; d < depth && node.kind === "internal"; d++)
      node = load(this.#store, (index >>> (depth - 1 - d)) & 1 ? node.right : node.left);
    if (node.kind === "leaf" && positionOf(node.key, depth) !== index) return [];
    const out: [Uint8Array, Uint8Array][] = [];
    collectLeaves(this.#store, node, out);
    return out;
  }

  /**
   * The canonical subtree at `depth` over `entries` (all under one
   * position, sorted and distinct: the caller checks), and its nodes.
   */
  static buildSubtree(
    entries: readonly (readonly [Uint8Array, Uint8Array])[],
    depth: number,
  ): { ref: SubtreeRef; writes: readonly NodeWrite[] } {
    const arena = new WriteArena();
    const list = entries.map(([key, value]) => ({ key, value }));
    const sub = buildSub(list, depth, 0, list.length, arena);
    const ref: SubtreeRef =
      sub.kind === "empty"
        ? EMPTY_REF
        : { kind: sub.kind === "leaf" ? "leaf" : "internal", hash: sub.hash };
    return { ref, writes: arena.writes };
  }

  /** The root over a frontier (2^depth refs, left to right) and the internal nodes above it. */
  static joinFrontier(refs: readonly SubtreeRef[]): {
    root: Uint8Array;
    writes: readonly NodeWrite[];
  } {
    if (refs.length === 0 || (refs.length & (refs.length - 1)) !== 0)
      throw new RangeError("A frontier has 2^depth positions.");
    const arena = new WriteArena();
    let level = refs;
    while (level.length > 1) {
      const up: SubtreeRef[] = [];
      for (let i = 0; i < level.length; i += 2) up.push(joinRefs(level[i]!, level[i + 1]!, arena));
      level = up;
    }
    return { root: level[0]!.hash.slice(), writes: arena.writes };
  }

  /** Builds a tree from scratch in one pass: one write per final node. */
  static build(entries: Iterable<readonly [Uint8Array, Uint8Array]>): TreeUpdate {
    const sorted = sortedUnique(entries);
    const arena = new WriteArena();
    const root = hashOf(buildSub(sorted, 0, 0, sorted.length, arena)).slice();
    return { root, writes: arena.writes, stale: [] };
  }
}

/**
 * A subtree at a fixed depth, as state sync names it (node/src/statesync):
 * the tree cut at `depth` into 2^depth positions, each empty, one leaf
 * (wherever the compact tree keeps it, since a leaf's hash does not depend
 * on its depth) or an internal node. Joining them back (`joinFrontier`)
 * gives the root, so a receiver can check each position's leaves on their own.
 */
export interface SubtreeRef {
  readonly kind: "empty" | "leaf" | "internal";
  readonly hash: Uint8Array;
}

/** Most levels a frontier cuts at: 2^16 positions. */
export const MAX_FRONTIER_DEPTH = 16;

/** The position of `key` among the 2^depth subtrees at `depth` (its top `depth` bits). */
export function positionOf(key: Uint8Array, depth: number): number {
  return depth === 0 ? 0 : ((key[0]! << 8) | key[1]!) >>> (16 - depth);
}

function checkFrontierDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_FRONTIER_DEPTH)
    throw new RangeError(`A frontier depth is 0..${MAX_FRONTIER_DEPTH}.`);
}

function refOf(node: Loaded): SubtreeRef {
  return node.kind === "empty" ? EMPTY_REF : { kind: node.kind, hash: node.hash.slice() };
}
const EMPTY_REF: SubtreeRef = { kind: "empty", hash: EMPTY_ROOT };

function collectFrontier(
  store: NodeStore,
  hash: Uint8Array,
  depth: number,
  at: number,
  target: number,
  out: SubtreeRef[],
): void {
  const node = load(store, hash);
  if (at === target || node.kind !== "internal") {
    const span = 2 ** (target - at);
    const first = out.length;
    for (let i = 0; i < span; i++) out.push(EMPTY_REF);
    if (node.kind !== "empty")
      out[node.kind === "leaf" ? first + (positionOf(node.key, target) % span) : first] =
        refOf(node);
    return;
  }
  collectFrontier(store, node.left, depth, at + 1, target, out);
  collectFrontier(store, node.right, depth, at + 1, target, out);
}

function collectLeaves(store: NodeStore, node: Loaded, out: [Uint8Array, Uint8Array][]): void {
  if (node.kind === "leaf") out.push([node.key.slice(), node.value.slice()]);
  if (node.kind !== "internal") return;
  collectLeaves(store, load(store, node.left), out);
  collectLeaves(store, load(store, node.right), out);
}

/** joinSubs for refs whose kinds are known: the canonical parent of two positions. */
function joinRefs(left: SubtreeRef, right: SubtreeRef, arena: WriteArena): SubtreeRef {
  if (left.kind === "empty" && right.kind !== "internal") return right;
  if (right.kind === "empty" && left.kind === "leaf") return left;
  const sub = (r: SubtreeRef): Sub =>
    r.kind === "empty" ? EMPTY : { kind: "unknown", hash: r.hash };
  return { kind: "internal", hash: hashOf(makeInternal(sub(left), sub(right), arena)) };
}

function hashOf(sub: Sub): Uint8Array {
  return sub.kind === "empty" ? EMPTY_ROOT : sub.hash;
}

function makeInternal(left: Sub, right: Sub, arena: WriteArena): Sub {
  const node = arena.reserve(65);
  node[0] = INTERNAL;
  node.set(hashOf(left), 1);
  node.set(hashOf(right), 33);
  return { kind: "internal", hash: arena.record(sha256(node), node) };
}

function makeLeaf(e: Entry, arena: WriteArena): Sub {
  const value = e.value!;
  const node = arena.reserve(33 + value.length);
  node[0] = LEAF;
  node.set(e.key, 1);
  node.set(value, 33);
  const hash = arena.record(leafHashOf(e.key, sha256(value)), node);
  return { kind: "leaf", hash, key: node.subarray(1, 33), value: node.subarray(33) };
}

/** Builds the canonical subtree at `depth` over sorted, distinct, non-deleted entries. */
function buildSub(
  entries: readonly Entry[],
  depth: number,
  lo: number,
  hi: number,
  arena: WriteArena,
): Sub {
  if (lo === hi) return EMPTY;
  if (hi - lo === 1) return makeLeaf(entries[lo]!, arena);
  const mid = splitByBit(entries, lo, hi, depth);
  return makeInternal(
    buildSub(entries, depth + 1, lo, mid, arena),
    buildSub(entries, depth + 1, mid, hi, arena),
    arena,
  );
}

/** First index in [lo, hi) whose key has bit `depth` set (keys are sorted, so a binary search). */
function splitByBit(entries: readonly Entry[], lo: number, hi: number, depth: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (bit(entries[m]!.key, depth) === 0) a = m + 1;
    else b = m;
  }
  return a;
}

/** Sorted by key; of several changes to one key the last wins (the sort is stable). */
function sortedUnique(changes: Iterable<readonly [Uint8Array, Uint8Array | null]>): Entry[] {
  const all: Entry[] = [];
  for (const [key, value] of changes) {
    if (!(key instanceof Uint8Array) || key.length !== HASH_LENGTH) {
      throw new RangeError("State tree keys are 32-byte hashes.");
    }
    all.push({ key, value });
  }
  all.sort((a, b) => compareBytes(a.key, b.key));
  const unique: Entry[] = [];
  for (let i = 0; i < all.length; i++) {
    if (i + 1 < all.length && equalBytes(all[i]!.key, all[i + 1]!.key)) continue;
    unique.push(all[i]!);
  }
  return unique;
}
