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

function leafHashOf(key: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = LEAF;
  buf.set(key, 1);
  buf.set(valueHash, 33);
  return sha256(buf);
}

function internalNode(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = INTERNAL;
  buf.set(left, 1);
  buf.set(right, 33);
  return buf;
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
  const buf = new Uint8Array(65);
  buf[0] = INTERNAL;
  for (let d = siblings.length - 1; d >= 0; d--) {
    const sibling = siblings[d]!;
    if (bit(key, d) === 1) {
      buf.set(sibling, 1);
      buf.set(current, 33);
    } else {
      buf.set(current, 1);
      buf.set(sibling, 33);
    }
    current = sha256(buf);
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
}

/**
 * The tree's algorithms are generators that yield the hash of each node they
 * need and receive its bytes: pure logic, no I/O. `run` feeds them from the
 * store and awaits only when the store answers with a promise, so an
 * in-memory store costs no microtask per level and a LevelDB one still works.
 */
type TreeOp<T> = Generator<Uint8Array, T, Uint8Array | undefined>;

async function run<T>(store: NodeStore, op: TreeOp<T>): Promise<T> {
  let step = op.next();
  while (!step.done) {
    const got = store.get(step.value);
    step = op.next(got instanceof Promise ? await got : got);
  }
  return step.value;
}

function* load(hash: Uint8Array): TreeOp<Loaded> {
  if (equalBytes(hash, EMPTY_ROOT)) return { kind: "empty" };
  const node = yield hash;
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

function* getOp(root: Uint8Array, key: Uint8Array): TreeOp<Uint8Array | null> {
  let node = yield* load(root);
  for (let depth = 0; node.kind === "internal"; depth++) {
    node = yield* load(bit(key, depth) ? node.right : node.left);
  }
  return node.kind === "leaf" && equalBytes(node.key, key) ? node.value : null;
}

function* proveOp(
  root: Uint8Array,
  key: Uint8Array,
): TreeOp<{ value: Uint8Array | null; proof: StateProof }> {
  const siblings: Uint8Array[] = [];
  let node = yield* load(root);
  for (let depth = 0; node.kind === "internal"; depth++) {
    const right = bit(key, depth) === 1;
    siblings.push(right ? node.left : node.right);
    node = yield* load(right ? node.right : node.left);
  }
  if (node.kind === "empty") return { value: null, proof: { siblings, leaf: null } };
  const leaf = { key: node.key.slice(), valueHash: sha256(node.value) };
  const value = equalBytes(node.key, key) ? node.value.slice() : null;
  return { value, proof: { siblings, leaf } };
}

function* updateOp(
  hash: Uint8Array,
  depth: number,
  entries: readonly Entry[],
  lo: number,
  hi: number,
  writes: NodeWrite[],
): TreeOp<Sub> {
  if (lo === hi) return equalBytes(hash, EMPTY_ROOT) ? EMPTY : { kind: "unknown", hash };
  const node = yield* load(hash);
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
    return buildSub(merged, depth, 0, merged.length, writes);
  }
  const mid = splitByBit(entries, lo, hi, depth);
  const left = yield* updateOp(node.left, depth + 1, entries, lo, mid, writes);
  const right = yield* updateOp(node.right, depth + 1, entries, mid, hi, writes);
  // An internal node over the two, unless one side is empty and the other a
  // lone leaf: then the leaf moves up (the canonical shape).
  if (left.kind === "empty" && right.kind === "empty") return EMPTY;
  if (left.kind === "empty" || right.kind === "empty") {
    const other = left.kind === "empty" ? right : left;
    const resolved = other.kind === "unknown" ? yield* load(other.hash) : other;
    if (resolved.kind === "leaf") return resolved;
  }
  return makeInternal(left, right, writes);
}

export class SparseMerkleTree {
  readonly #store: NodeStore;

  constructor(store: NodeStore) {
    this.#store = store;
  }

  /** The value stored under `key` in the tree with `root`, or null. */
  get(root: Uint8Array, key: Uint8Array): Promise<Uint8Array | null> {
    return run(this.#store, getOp(root, key));
  }

  /** The value under `key` (or null) and a proof of it against `root`. */
  prove(
    root: Uint8Array,
    key: Uint8Array,
  ): Promise<{ value: Uint8Array | null; proof: StateProof }> {
    return run(this.#store, proveOp(root, key));
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
    const writes: NodeWrite[] = [];
    const sub = await run(this.#store, updateOp(root, 0, entries, 0, entries.length, writes));
    return { root: hashOf(sub), writes };
  }

  /** Builds a tree from scratch in one pass: one write per final node. */
  static build(entries: Iterable<readonly [Uint8Array, Uint8Array]>): TreeUpdate {
    const sorted = sortedUnique(entries);
    const writes: NodeWrite[] = [];
    return { root: hashOf(buildSub(sorted, 0, 0, sorted.length, writes)), writes };
  }
}

function hashOf(sub: Sub): Uint8Array {
  return sub.kind === "empty" ? EMPTY_ROOT : sub.hash;
}

function makeInternal(left: Sub, right: Sub, writes: NodeWrite[]): Sub {
  const node = internalNode(hashOf(left), hashOf(right));
  const hash = sha256(node);
  writes.push({ hash, node });
  return { kind: "internal", hash };
}

function makeLeaf(e: Entry, writes: NodeWrite[]): Sub {
  const value = e.value!;
  const hash = leafHashOf(e.key, sha256(value));
  const node = new Uint8Array(33 + value.length);
  node[0] = LEAF;
  node.set(e.key, 1);
  node.set(value, 33);
  writes.push({ hash, node });
  return { kind: "leaf", hash, key: e.key, value };
}

/** Builds the canonical subtree at `depth` over sorted, distinct, non-deleted entries. */
function buildSub(
  entries: readonly Entry[],
  depth: number,
  lo: number,
  hi: number,
  writes: NodeWrite[],
): Sub {
  if (lo === hi) return EMPTY;
  if (hi - lo === 1) return makeLeaf(entries[lo]!, writes);
  const mid = splitByBit(entries, lo, hi, depth);
  return makeInternal(
    buildSub(entries, depth + 1, lo, mid, writes),
    buildSub(entries, depth + 1, mid, hi, writes),
    writes,
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

function sortedUnique(changes: Iterable<readonly [Uint8Array, Uint8Array | null]>): Entry[] {
  const byKey = new Map<string, Entry>();
  for (const [key, value] of changes) {
    if (!(key instanceof Uint8Array) || key.length !== HASH_LENGTH) {
      throw new RangeError("State tree keys are 32-byte hashes.");
    }
    byKey.set(String.fromCharCode(...key), { key, value });
  }
  return [...byKey.values()].sort((a, b) => compareBytes(a.key, b.key));
}
