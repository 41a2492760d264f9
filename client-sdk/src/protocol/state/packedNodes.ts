/**
 * A hash table of state-tree nodes packed into a few large byte slabs, for
 * stores and caches that hold millions of nodes.
 *
 * Why not a Map: at 10^6 accounts the tree has ~2.5M nodes. As a Map of
 * 32-character string keys to one Uint8Array each they cost ~250 bytes a
 * node, and every major GC marks all of them: the profile of a batched update
 * at 10^6 showed 43% of the time in the garbage collector. Here a node costs
 * its bytes plus 36 of header (hash, length) and 8–16 of index, and the heap
 * holds a few dozen objects whatever the size, so GC no longer grows with the
 * tree. Nodes are content-addressed and never change, so entries are only
 * ever added (a bounded cache drops a whole table at a time, see the node's
 * db/nodeCache.ts).
 *
 * Index: open addressing with linear probing over a Uint32Array of
 * (mix, location + 1) pairs, at most half full. `mix` is two words of the
 * hash mixed with a per-table random seed; its low bits pick the slot, all of
 * it screens a probe before the 32-byte compare, and growing the index
 * rehashes from it without touching the slabs. Seeded because node hashes
 * are SHA-256 outputs, but a client who picks account keys can grind leaf
 * hashes that share known bits, and an unseeded slot would let it build one
 * long probe chain.
 */

const HASH_BYTES = 32;
const HEADER_BYTES = HASH_BYTES + 4;
/** Slabs start small (a light client holds a handful of nodes) and double up to this. */
const FIRST_SLAB_BYTES = 1 << 16;
const MAX_SLAB_BYTES = 1 << 22;
/** A location is slab index (high 10 bits) and offset (low 22 bits): 4 GiB in all. */
const OFFSET_BITS = 22;
const MAX_SLABS = 1 << (32 - OFFSET_BITS);
const FIRST_CAPACITY = 1 << 10;

function word(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
  );
}

function seedWord(): number {
  const seed = new Uint32Array(1);
  crypto.getRandomValues(seed);
  // Odd, so that multiplying by it is a bijection on 32 bits.
  return (seed[0]! | 1) >>> 0;
}

export class PackedNodeTable {
  readonly #slabs: Uint8Array[] = [];
  /** Bytes used in the last slab. */
  #used = 0;
  #slabBytes = 0;
  #index = new Uint32Array(2 * FIRST_CAPACITY);
  #mask = FIRST_CAPACITY - 1;
  #count = 0;
  readonly #seedA = seedWord();
  readonly #seedB = seedWord();

  /** Number of nodes held. */
  get size(): number {
    return this.#count;
  }

  /** Bytes allocated for slabs and index: what this table costs in memory. */
  get bytes(): number {
    return this.#slabBytes + this.#index.byteLength;
  }

  /** Bytes of the index alone (it doubles when half full). */
  get indexBytes(): number {
    return this.#index.byteLength;
  }

  /** The node with this hash, as a view into the table (never write into it). */
  get(hash: Uint8Array): Uint8Array | undefined {
    const loc = this.#find(hash);
    if (loc < 0) return undefined;
    const slab = this.#slabs[loc >>> OFFSET_BITS]!;
    const at = loc & ((1 << OFFSET_BITS) - 1);
    const length = word(slab, at + HASH_BYTES);
    return slab.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
  }

  has(hash: Uint8Array): boolean {
    return this.#find(hash) >= 0;
  }

  /** Adds a node; a hash already present is left alone (same hash, same bytes). */
  set(hash: Uint8Array, node: Uint8Array): void {
    if (hash.length !== HASH_BYTES) throw new RangeError("A node hash is 32 bytes.");
    const index = this.#index;
    const mix = this.#mix(hash);
    let slot = mix & this.#mask;
    for (;;) {
      const loc = index[2 * slot + 1]!;
      if (loc === 0) break;
      if (index[2 * slot] === mix && this.#hashAt(loc - 1, hash)) return;
      slot = (slot + 1) & this.#mask;
    }
    const loc = this.#append(hash, node);
    index[2 * slot] = mix;
    index[2 * slot + 1] = loc + 1;
    this.#count++;
    if (2 * this.#count > this.#mask + 1) this.#grow();
  }

  #mix(hash: Uint8Array): number {
    const mixed = Math.imul(word(hash, 0), this.#seedA) ^ Math.imul(word(hash, 8), this.#seedB);
    // The high bits of a product depend on all input bits; fold them down.
    return (mixed ^ (mixed >>> 15)) >>> 0;
  }

  #find(hash: Uint8Array): number {
    if (hash.length !== HASH_BYTES) return -1;
    const index = this.#index;
    const mix = this.#mix(hash);
    let slot = mix & this.#mask;
    for (;;) {
      const loc = index[2 * slot + 1]!;
      if (loc === 0) return -1;
      if (index[2 * slot] === mix && this.#hashAt(loc - 1, hash)) return loc - 1;
      slot = (slot + 1) & this.#mask;
    }
  }

  #hashAt(loc: number, hash: Uint8Array): boolean {
    const slab = this.#slabs[loc >>> OFFSET_BITS]!;
    const at = loc & ((1 << OFFSET_BITS) - 1);
    for (let i = 0; i < HASH_BYTES; i++) if (slab[at + i] !== hash[i]) return false;
    return true;
  }

  #append(hash: Uint8Array, node: Uint8Array): number {
    const need = HEADER_BYTES + node.length;
    let slab = this.#slabs[this.#slabs.length - 1];
    if (!slab || this.#used + need > slab.length) {
      if (this.#slabs.length >= MAX_SLABS) {
        throw new RangeError("The node table is full (4 GiB); use a store on disk.");
      }
      const next = Math.min(
        MAX_SLAB_BYTES,
        FIRST_SLAB_BYTES * 2 ** Math.min(this.#slabs.length, 8),
      );
      // A node larger than a slab gets a slab of its own (its offset is 0).
      slab = new Uint8Array(Math.max(next, need));
      this.#slabs.push(slab);
      this.#slabBytes += slab.length;
      this.#used = 0;
    }
    const at = this.#used;
    slab.set(hash, at);
    const length = node.length;
    slab[at + HASH_BYTES] = length & 0xff;
    slab[at + HASH_BYTES + 1] = (length >>> 8) & 0xff;
    slab[at + HASH_BYTES + 2] = (length >>> 16) & 0xff;
    slab[at + HASH_BYTES + 3] = (length >>> 24) & 0xff;
    slab.set(node, at + HEADER_BYTES);
    this.#used = at + need;
    return ((this.#slabs.length - 1) << OFFSET_BITS) | at;
  }

  #grow(): void {
    const old = this.#index;
    const capacity = 2 * (this.#mask + 1);
    this.#index = new Uint32Array(2 * capacity);
    this.#mask = capacity - 1;
    for (let s = 0; s < old.length; s += 2) {
      const loc = old[s + 1]!;
      if (loc === 0) continue;
      let slot = old[s]! & this.#mask;
      while (this.#index[2 * slot + 1] !== 0) slot = (slot + 1) & this.#mask;
      this.#index[2 * slot] = old[s]!;
      this.#index[2 * slot + 1] = loc;
    }
  }
}
