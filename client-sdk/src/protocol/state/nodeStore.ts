/**
 * Where state-tree nodes live. Nodes are content-addressed (key = node hash),
 * so every historical root stays readable and a write never changes an
 * existing node. The tree only reads; updates return the nodes to write, and
 * the caller persists them (the node puts them in its one atomic batch per
 * block). `MemoryNodeStore` serves tests, benchmarks and light clients.
 */

export interface NodeStore {
  /** May answer synchronously (memory, caches) or with a promise (LevelDB). */
  get(hash: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
}

export interface NodeWrite {
  readonly hash: Uint8Array;
  readonly node: Uint8Array;
}

/** A binary string of the hash: a flat 32-character key, the cheapest Map key for it. */
function keyOf(hash: Uint8Array): string {
  return String.fromCharCode.apply(null, hash as unknown as number[]);
}

export class MemoryNodeStore implements NodeStore {
  readonly #nodes = new Map<string, Uint8Array>();

  get(hash: Uint8Array): Uint8Array | undefined {
    return this.#nodes.get(keyOf(hash));
  }

  write(writes: Iterable<NodeWrite>): void {
    for (const { hash, node } of writes) this.#nodes.set(keyOf(hash), node);
  }

  get size(): number {
    return this.#nodes.size;
  }
}
