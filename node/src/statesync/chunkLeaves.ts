/**
 * The serving side's read of one chunk: the leaves under a position of a
 * snapshot's tree, read from the database a level at a time.
 *
 * Why not `tree.leavesUnder` on the database's store: that walk makes one
 * synchronous LevelDB read per node on the event loop. A chunk at 10^6
 * accounts is ~9 500 nodes spread at random over the state bucket (nodes are
 * keyed by hash), so nearly every read misses every cache: ~12 µs each,
 * ~60 % of a whole join when profiled (bench/statesync.bench.ts), and a
 * serving validator's event loop stalled ~0.1 s per chunk. Here each level
 * of the subtree is one `getMany` (Database.getStateNodes), which LevelDB
 * runs on libuv's thread pool, and the nodes land in a MemoryNodeStore; the
 * tree's own `leavesUnder` then walks that store, so the leaves and their
 * order are exactly the SDK's.
 *
 * Bounded: a chunk larger than `maxBytes` encoded is not served (the caller
 * answers "not kept"), and the read stops as soon as the nodes loaded show
 * it would be: leaves at 36 bytes each plus their values, and internal
 * nodes, of which a compact tree over n hashed keys has about 1.44 n (n /
 * ln 2; 1.44 M under 10^6 accounts): more than twice the leaves a chunk may
 * hold is a chunk too large. Memory per read: the chunk's nodes, about 130
 * bytes each in the store (~1.3 MB at the ~4 096 leaves snapshots aim at).
 */
import {
  EMPTY_ROOT,
  equalBytes,
  MemoryNodeStore,
  SparseMerkleTree,
} from "@edgeledger/sdk/protocol";
import type { Database } from "../db/database.ts";

const INTERNAL = 0x03;
/** A leaf's share of an encoded chunk beside its value: key 32 ‖ u32 length. */
const LEAF_OVERHEAD = 36;
/** The chunk's own header: u64 height ‖ u8 depth ‖ u32 index ‖ u32 n. */
const CHUNK_HEADER = 17;

/**
 * The leaves under position `index` at `depth` of the tree with `root`, in
 * key order; null if their encoded chunk would exceed `maxBytes`. A node
 * missing from the database is STATE_NODE_MISSING, as the tree's walk says it.
 */
export async function readChunkLeaves(
  db: Pick<Database, "getStateNodes">,
  root: Uint8Array,
  depth: number,
  index: number,
  maxBytes: number,
): Promise<[Uint8Array, Uint8Array][] | null> {
  const store = new MemoryNodeStore();
  let encoded = CHUNK_HEADER;
  let internals = 0;
  // Above the cut only the path to the position is read; below it, every node.
  const internalLimit = 2 * Math.ceil(maxBytes / LEAF_OVERHEAD) + depth;
  let level: Uint8Array[] = equalBytes(root, EMPTY_ROOT) ? [] : [root];
  for (let d = 0; level.length > 0; d++) {
    const nodes = await db.getStateNodes(level);
    const next: Uint8Array[] = [];
    for (const [i, node] of nodes.entries()) {
      // Left out, the walk below throws STATE_NODE_MISSING at its place.
      if (!node) continue;
      store.write([{ hash: level[i]!, node }]);
      if (node[0] !== INTERNAL) {
        // A leaf (0x02 ‖ key 32 ‖ value): above the cut it may lie outside the position (then it is not sent).
        encoded += LEAF_OVERHEAD + node.length - 33;
        continue;
      }
      internals++;
      const left = node.subarray(1, 33);
      const right = node.subarray(33, 65);
      const children = d < depth ? [(index >>> (depth - 1 - d)) & 1 ? right : left] : [left, right];
      for (const child of children) if (!equalBytes(child, EMPTY_ROOT)) next.push(child);
    }
    if (encoded > maxBytes || internals > internalLimit) return null;
    level = next;
  }
  return new SparseMerkleTree(store).leavesUnder(root, depth, index);
}
