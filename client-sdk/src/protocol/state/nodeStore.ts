/**
 * Where state-tree nodes live. Nodes are content-addressed (key = node hash),
 * so every historical root stays readable and a write never changes an
 * existing node. The tree only reads; updates return the nodes to write, and
 * the caller persists them (the node puts them in its one atomic batch per
 * block). `MemoryNodeStore` serves tests, benchmarks and light clients.
 */

import { PackedNodeTable } from "./packedNodes.ts";

export interface NodeStore {
  /**
   * Synchronous: the tree walks millions of nodes per second, and a promise
   * per node cost more than the walk. The node's LevelDB store answers with
   * getSync behind a cache; a remote source fetches into a MemoryNodeStore
   * first. The answer may be a view into the store's memory: never write
   * into it.
   */
  get(hash: Uint8Array): Uint8Array | undefined;
}

export interface NodeWrite {
  readonly hash: Uint8Array;
  readonly node: Uint8Array;
}

/**
 * Unbounded, in memory: nodes packed into byte slabs (see packedNodes.ts), so
 * a tree of 10^6 accounts costs ~130 bytes a node and no GC time per node.
 */
export class MemoryNodeStore implements NodeStore {
  readonly #nodes = new PackedNodeTable();

  get(hash: Uint8Array): Uint8Array | undefined {
    return this.#nodes.get(hash);
  }

  write(writes: Iterable<NodeWrite>): void {
    for (const { hash, node } of writes) this.#nodes.set(hash, node);
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** Memory the store has allocated, in bytes. */
  get bytes(): number {
    return this.#nodes.bytes;
  }
}
