/**
 * State sync's wire format and its checks: pure, no I/O. Owns how a
 * snapshot's state is cut into chunks and how a receiver proves each chunk
 * on its own; the protocol's streams are protocol.ts, the join is join.ts.
 *
 * Design (why a bad chunk is pinned on its sender): the tree at the
 * snapshot's state root is cut at a depth d into 2^d positions (the SDK's
 * `frontier`). The manifest lists each position's subtree (empty, one leaf,
 * or internal, and its hash); joining them gives the root, so the receiver
 * checks the manifest against the certified state root before it asks for
 * any chunk. Chunk i is every leaf under position i, in key order; the
 * receiver rebuilds that subtree and compares it with manifest entry i. So
 * each chunk is verified the moment it arrives, against data already
 * verified, and a chunk that fails is the fault of the peer that sent it
 * alone (SYNC_BAD_CHUNK). CometBFT checks chunks in the application against
 * hashes in the snapshot's metadata, which is trusted through the app hash;
 * Aptos sends each chunk with a range proof against the root. The manifest
 * is the range proofs of all chunks at once (2^d · 33 bytes), fetched once.
 * Rebuilding everything and checking the root at the end would only tell
 * that some peer lied, not which.
 *
 *   request   u8 kind ‖ …
 *     LIST      (nothing)                        → frame: u8 n ‖ n × (u64 height ‖ root 32 ‖ u8 depth)
 *     HEADER    u64 height                       → frames: header, certificate, validators(h), validators(h+1)
 *     MANIFEST  u64 height ‖ u8 depth            → frame: 2^depth × (u8 kind ‖ hash 32)
 *     CHUNK     u64 height ‖ u8 depth ‖ u32 i    → frame: u64 height ‖ u8 depth ‖ u32 i ‖ u32 n ‖
 *                                                         n × (key 32 ‖ u32 length ‖ value)
 *     GENESIS   (nothing)                        → frame: the genesis state root (32 bytes)
 *   A zero-length first frame: the peer does not keep that (SYNC_PRUNED, no penalty: ask another).
 *
 * Bounds: every frame has its bound below, checked on its length prefix
 * before the bytes arrive (frames.ts); a chunk ≤ MAX_CHUNK_BYTES. Decoders
 * refuse trailing bytes, keys out of order or outside the position.
 */
import {
  type BlockHeader,
  decodeBlockHeader,
  decodeFinalityCertificate,
  decodeValidatorSet,
  EMPTY_ROOT,
  equalBytes,
  type FinalityCertificate,
  MAX_FRONTIER_DEPTH,
  type NodeWrite,
  positionOf,
  SparseMerkleTree,
  type SubtreeRef,
  type ValidatorSet,
} from "@edgeledger/sdk/protocol";
import { SyncError } from "../sync/errors.ts";

export const REQUEST = { list: 0, header: 1, manifest: 2, chunk: 3, genesis: 4 } as const;
export type StateSyncRequest =
  | { readonly kind: "list" }
  | { readonly kind: "genesis" }
  | { readonly kind: "header"; readonly height: number }
  | { readonly kind: "manifest"; readonly height: number; readonly depth: number }
  | {
      readonly kind: "chunk";
      readonly height: number;
      readonly depth: number;
      readonly index: number;
    };

/** A snapshot a peer offers. */
export interface SnapshotInfo {
  readonly height: number;
  readonly stateRoot: Uint8Array;
  /** Chunks: 2^depth. */
  readonly depth: number;
}

export interface Chunk {
  readonly height: number;
  readonly depth: number;
  readonly index: number;
  readonly leaves: readonly (readonly [Uint8Array, Uint8Array])[];
}

/** Snapshots listed at most (a node keeps `statesync.keep` of them). */
export const MAX_SNAPSHOTS = 16;
export const MAX_LIST_BYTES = 1 + MAX_SNAPSHOTS * 41;
/** A chunk: ~4096 leaves at the depth snapshots pick (~200 KB), far under this. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** A state value: an account is < 64 bytes, a validator set of 256 about 10 KB. */
export const MAX_STATE_VALUE_BYTES = 64 * 1024;
export const MAX_MANIFEST_BYTES = 2 ** MAX_FRONTIER_DEPTH * 33;
/** decodeBlockHeader's bound, and the certificate's and validator set's (their decoders). */
export const MAX_HEADER_FRAME_BYTES = 64 * 1024;
export const MAX_REQUEST_BYTES = 14;
/** Leaves a snapshot's chunks aim at: the depth is chosen so that a chunk holds about this many. */
export const TARGET_CHUNK_LEAVES = 4096;

const KIND_BYTE: Record<SubtreeRef["kind"], number> = { empty: 0, leaf: 1, internal: 2 };
const KINDS: readonly SubtreeRef["kind"][] = ["empty", "leaf", "internal"];

class Writer {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
  }
  u8(v: number): this {
    this.#view.setUint8(this.#at, v);
    this.#at += 1;
    return this;
  }
  u32(v: number): this {
    this.#view.setUint32(this.#at, v);
    this.#at += 4;
    return this;
  }
  u64(v: number): this {
    this.#view.setBigUint64(this.#at, BigInt(v));
    this.#at += 8;
    return this;
  }
  raw(b: Uint8Array): this {
    this.bytes.set(b, this.#at);
    this.#at += b.length;
    return this;
  }
}

/** Reads what a peer sent: every shortfall is SYNC_MALFORMED. */
class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  #need(n: number): void {
    if (this.#at + n > this.#bytes.length)
      throw SyncError.malformed("a truncated state sync frame");
  }
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#at++);
  }
  u32(): number {
    this.#need(4);
    const v = this.#view.getUint32(this.#at);
    this.#at += 4;
    return v;
  }
  u64(): number {
    this.#need(8);
    const v = this.#view.getBigUint64(this.#at);
    this.#at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw SyncError.malformed("a height out of range");
    return Number(v);
  }
  raw(n: number): Uint8Array {
    this.#need(n);
    const out = this.#bytes.slice(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  end(): void {
    if (this.#at !== this.#bytes.length)
      throw SyncError.malformed("trailing bytes in a state sync frame");
  }
}

function checkDepth(depth: number): number {
  if (depth > MAX_FRONTIER_DEPTH)
    throw SyncError.malformed(`a chunk depth above ${MAX_FRONTIER_DEPTH}`);
  return depth;
}

export function encodeRequest(r: StateSyncRequest): Uint8Array {
  switch (r.kind) {
    case "list":
      return Uint8Array.of(REQUEST.list);
    case "genesis":
      return Uint8Array.of(REQUEST.genesis);
    case "header":
      return new Writer(9).u8(REQUEST.header).u64(r.height).bytes;
    case "manifest":
      return new Writer(10).u8(REQUEST.manifest).u64(r.height).u8(r.depth).bytes;
    case "chunk":
      return new Writer(14).u8(REQUEST.chunk).u64(r.height).u8(r.depth).u32(r.index).bytes;
  }
}

export function decodeRequest(bytes: Uint8Array): StateSyncRequest {
  const r = new Reader(bytes);
  const kind = r.u8();
  let out: StateSyncRequest;
  if (kind === REQUEST.list) out = { kind: "list" };
  else if (kind === REQUEST.genesis) out = { kind: "genesis" };
  else if (kind === REQUEST.header) out = { kind: "header", height: r.u64() };
  else if (kind === REQUEST.manifest)
    out = { kind: "manifest", height: r.u64(), depth: checkDepth(r.u8()) };
  else if (kind === REQUEST.chunk) {
    const height = r.u64();
    const depth = checkDepth(r.u8());
    const index = r.u32();
    if (index >= 2 ** depth)
      throw SyncError.malformed("a chunk index beyond the snapshot's chunks");
    out = { kind: "chunk", height, depth, index };
  } else throw SyncError.malformed("an unknown state sync request");
  r.end();
  return out;
}

export function encodeSnapshotList(list: readonly SnapshotInfo[]): Uint8Array {
  const shown = list.slice(0, MAX_SNAPSHOTS);
  const w = new Writer(1 + shown.length * 41).u8(shown.length);
  for (const s of shown) w.u64(s.height).raw(s.stateRoot).u8(s.depth);
  return w.bytes;
}

export function decodeSnapshotList(bytes: Uint8Array): SnapshotInfo[] {
  const r = new Reader(bytes);
  const n = r.u8();
  if (n > MAX_SNAPSHOTS) throw SyncError.tooLarge("The snapshot list", n, MAX_SNAPSHOTS);
  const out: SnapshotInfo[] = [];
  for (let i = 0; i < n; i++)
    out.push({ height: r.u64(), stateRoot: r.raw(32), depth: checkDepth(r.u8()) });
  r.end();
  return out;
}

export function encodeManifest(refs: readonly SubtreeRef[]): Uint8Array {
  const w = new Writer(refs.length * 33);
  for (const ref of refs) w.u8(KIND_BYTE[ref.kind]).raw(ref.hash);
  return w.bytes;
}

export function decodeManifest(bytes: Uint8Array, depth: number): SubtreeRef[] {
  if (bytes.length !== 2 ** depth * 33)
    throw SyncError.malformed("a manifest of another size than its depth");
  const r = new Reader(bytes);
  const out: SubtreeRef[] = [];
  for (let i = 0; i < 2 ** depth; i++) {
    const kind = KINDS[r.u8()];
    const hash = r.raw(32);
    if (kind === undefined) throw SyncError.malformed("a manifest entry of unknown kind");
    if ((kind === "empty") !== equalBytes(hash, EMPTY_ROOT))
      throw SyncError.malformed("a manifest entry whose hash does not fit its kind");
    out.push({ kind, hash });
  }
  return out;
}

export function encodeChunk(c: Chunk): Uint8Array {
  let size = 17;
  for (const [, value] of c.leaves) size += 36 + value.length;
  const w = new Writer(size).u64(c.height).u8(c.depth).u32(c.index).u32(c.leaves.length);
  for (const [key, value] of c.leaves) w.raw(key).u32(value.length).raw(value);
  return w.bytes;
}

/**
 * Decodes chunk `index` of the snapshot at `height` cut at `depth`: another
 * chunk is SYNC_OUT_OF_ORDER; keys not strictly increasing or outside the
 * position, SYNC_BAD_CHUNK; bytes that do not parse, SYNC_MALFORMED.
 */
export function decodeChunk(
  bytes: Uint8Array,
  want: { height: number; depth: number; index: number },
): Chunk {
  const r = new Reader(bytes);
  const height = r.u64();
  const depth = r.u8();
  const index = r.u32();
  if (height !== want.height || depth !== want.depth || index !== want.index)
    throw new SyncError(
      "SYNC_OUT_OF_ORDER",
      "The peer sent another chunk than the one asked for.",
      {
        details: { want, got: { height, depth, index } },
      },
    );
  const n = r.u32();
  // Each leaf takes at least 36 bytes: a count the bytes cannot hold is refused before the loop.
  if (n * 36 > bytes.length)
    throw SyncError.malformed("a chunk whose leaf count exceeds its bytes");
  const leaves: [Uint8Array, Uint8Array][] = [];
  let previous: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const key = r.raw(32);
    const length = r.u32();
    if (length > MAX_STATE_VALUE_BYTES)
      throw SyncError.tooLarge("A state value", length, MAX_STATE_VALUE_BYTES);
    const value = r.raw(length);
    if (positionOf(key, depth) !== index || (previous !== null && compareKeys(previous, key) >= 0))
      throw new SyncError(
        "SYNC_BAD_CHUNK",
        "The chunk's keys are out of order or outside its range.",
        {
          details: { height, index },
        },
      );
    leaves.push([key, value]);
    previous = key;
  }
  r.end();
  return { height, depth, index, leaves };
}

function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * Checks a manifest against the certified state root: its positions must
 * join to exactly that root. Returns the nodes above the cut (to write).
 */
export function verifyManifest(
  stateRoot: Uint8Array,
  refs: readonly SubtreeRef[],
): readonly NodeWrite[] {
  const joined = SparseMerkleTree.joinFrontier(refs);
  if (!equalBytes(joined.root, stateRoot))
    throw new SyncError(
      "SYNC_BAD_SNAPSHOT",
      "The manifest does not join to the certified state root.",
    );
  return joined.writes;
}

/** Checks a chunk against its verified manifest entry; returns its subtree's nodes (to write). */
export function verifyChunk(expected: SubtreeRef, chunk: Chunk): readonly NodeWrite[] {
  const { ref, writes } = SparseMerkleTree.buildSubtree(chunk.leaves, chunk.depth);
  if (ref.kind !== expected.kind || !equalBytes(ref.hash, expected.hash))
    throw new SyncError(
      "SYNC_BAD_CHUNK",
      "The chunk's leaves do not rebuild the subtree the manifest names.",
      {
        details: { height: chunk.height, index: chunk.index },
      },
    );
  return writes;
}

/** What the HEADER request answers: a certified header and the sets of h and h + 1, undecoded. */
export interface HeaderReply {
  readonly header: BlockHeader;
  readonly certificate: FinalityCertificate;
  readonly validators: ValidatorSet;
  readonly nextValidators: ValidatorSet;
}

/** Decodes the four frames of a HEADER reply; anything that does not decode is SYNC_MALFORMED. */
export function decodeHeaderReply(frames: readonly Uint8Array[]): HeaderReply {
  try {
    return {
      header: decodeBlockHeader(frames[0]!),
      certificate: decodeFinalityCertificate(frames[1]!),
      validators: decodeValidatorSet(frames[2]!),
      nextValidators: decodeValidatorSet(frames[3]!),
    };
  } catch (cause) {
    throw SyncError.malformed("bytes that are not a header, certificate and validator sets", {
      cause,
    });
  }
}

/**
 * The depth a snapshot of `root` is cut at, so that a chunk holds about
 * TARGET_CHUNK_LEAVES: log2 of the leaf count, estimated from the depth of
 * 16 fixed paths (a compact tree over n hashed keys is about log2(n) deep
 * along any path), minus log2 of the target. Deterministic: honest nodes
 * with the same root offer the same chunks.
 */
export function chunkDepth(tree: SparseMerkleTree, root: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < 16; i++) {
    const path = new Uint8Array(32).fill(i * 17);
    total += tree.depthAlong(root, path);
  }
  const log2Leaves = Math.round(total / 16);
  return Math.max(0, Math.min(MAX_FRONTIER_DEPTH, log2Leaves - Math.log2(TARGET_CHUNK_LEAVES)));
}
