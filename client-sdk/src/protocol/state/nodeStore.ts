/**
 * Where state-tree nodes live. Nodes are content-addressed (key = node hash),
 * so every historical root stays readable and a write never changes an
 * existing node. The tree only reads; updates return the nodes to write, and
 * the caller persists them (the node puts them in its one atomic batch per
 * block). `MemoryNodeStore` serves tests, benchmarks and light clients.
 */
import { toHex } from "../bytes.ts";

export interface NodeStore {
  get(hash: Uint8Array): Promise<Uint8Array | undefined>;
}

export interface NodeWrite {
  readonly hash: Uint8Array;
  readonly node: Uint8Array;
}

export class MemoryNodeStore implements NodeStore {
  readonly #nodes = new Map<string, Uint8Array>();

  async get(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#nodes.get(toHex(hash));
  }

  write(writes: Iterable<NodeWrite>): void {
    for (const { hash, node } of writes) this.#nodes.set(toHex(hash), node);
  }

  get size(): number {
    return this.#nodes.size;
  }
}
