/**
 * The cache in front of the `state` bucket: state-tree nodes, bounded in
 * bytes (decision 10: a peer fills it, through the blocks it gets us to
 * execute and the proofs it asks for).
 *
 * Two generations of packed tables (client-sdk's PackedNodeTable): nodes go
 * into the young one; when it holds half the budget the old one is dropped
 * whole and the young one becomes old. A hit in the old generation is copied
 * into the young one, so the nodes every walk passes (the upper levels) stay
 * however long the node runs. Dropping a table at a time needs no per-entry
 * eviction, and nothing returned before is overwritten: a table's slabs are
 * only freed when no view of them is left.
 */
import { PackedNodeTable } from "@edgeledger/sdk/protocol";

/**
 * 448 MiB: most of the tree of 10^6 accounts (~2.4M nodes), so a block's
 * reads seldom reach LevelDB. Measured in the 4-validator bench at 10^6
 * accounts: peak 216–442 tx/s with 256 MiB, 693 with 448, 708–986 with 640,
 * but with 640 a validator's peak RSS reached 1 167 MiB under overload
 * (target 1 GiB); with 448, 886 MiB. The cache holds only what the tree
 * has, so a small chain uses little of it. `storage.stateCacheMB` in
 * config.json sets it.
 */
export const DEFAULT_NODE_CACHE_BYTES = 448 * 2 ** 20;

export class NodeCache {
  readonly #maxBytes: number;
  #young = new PackedNodeTable();
  #old = new PackedNodeTable();

  constructor(maxBytes: number = DEFAULT_NODE_CACHE_BYTES) {
    if (!(maxBytes > 0)) throw new RangeError("The node cache needs a positive byte budget.");
    this.#maxBytes = maxBytes;
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    const young = this.#young.get(hash);
    if (young) return young;
    const old = this.#old.get(hash);
    if (old) this.set(hash, old);
    return old;
  }

  set(hash: Uint8Array, node: Uint8Array): void {
    this.#young.set(hash, node);
    // Counting the index twice: it doubles when it fills, and that jump must
    // not take a generation past half the budget.
    if (this.#young.bytes + this.#young.indexBytes >= this.#maxBytes / 2) {
      this.#old = this.#young;
      this.#young = new PackedNodeTable();
    }
  }

  /**
   * Bytes held: slabs and indexes of both generations. At most the budget
   * plus one slab per generation (a slab is 4 MiB at most).
   */
  get bytes(): number {
    return this.#young.bytes + this.#old.bytes;
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }
}
