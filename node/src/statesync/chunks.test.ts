/**
 * The chunk codec and its checks, without sockets: a chunk from an honest
 * tree verifies against the manifest, and each way a peer can get it wrong
 * is refused with its code (the code is what scores the peer: context.ts).
 */
import { MemoryNodeStore, SparseMerkleTree, sha256, toHex } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { SyncError } from "../sync/errors.ts";
import {
  chunkDepth,
  decodeChunk,
  decodeManifest,
  decodeRequest,
  decodeSnapshotList,
  encodeChunk,
  encodeManifest,
  encodeRequest,
  encodeSnapshotList,
  MAX_STATE_VALUE_BYTES,
  verifyChunk,
  verifyManifest,
} from "./chunks.ts";

const DEPTH = 3;
const HEIGHT = 40;

function stateOf(n: number, salt = 0) {
  const entries: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < n; i++)
    entries.push([sha256(Uint8Array.of(i & 0xff, i >> 8, 0x31)), Uint8Array.of(i & 0xff, salt)]);
  const built = SparseMerkleTree.build(entries);
  const store = new MemoryNodeStore();
  store.write(built.writes);
  return { root: built.root, tree: new SparseMerkleTree(store) };
}

const honest = stateOf(300);
const refs = honest.tree.frontier(honest.root, DEPTH);
const chunkBytes = (index: number, tree = honest) =>
  encodeChunk({
    height: HEIGHT,
    depth: DEPTH,
    index,
    leaves: tree.tree.leavesUnder(tree.root, DEPTH, index),
  });
const want = (index: number) => ({ height: HEIGHT, depth: DEPTH, index });

function codeOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (err) {
    if (err instanceof SyncError) return err.code;
    throw err;
  }
}

describe("state sync chunks", () => {
  it("every honest chunk verifies against the manifest, and together they rebuild the state", async () => {
    const top = verifyManifest(honest.root, decodeManifest(encodeManifest(refs), DEPTH));
    const store = new MemoryNodeStore();
    store.write(top);
    for (let i = 0; i < 2 ** DEPTH; i++)
      store.write(verifyChunk(refs[i]!, decodeChunk(chunkBytes(i), want(i))));
    const copy = new SparseMerkleTree(store);
    const key = sha256(Uint8Array.of(7, 0, 0x31));
    expect(toHex((await copy.get(honest.root, key))!)).toBe(toHex(Uint8Array.of(7, 0)));
  });

  it("a tampered value is SYNC_BAD_CHUNK", () => {
    const bytes = chunkBytes(2);
    bytes[bytes.length - 1]! ^= 1;
    expect(codeOf(() => verifyChunk(refs[2]!, decodeChunk(bytes, want(2))))).toBe("SYNC_BAD_CHUNK");
  });

  it("a chunk of another state (another height's) is SYNC_BAD_CHUNK; one labelled for another height or index is SYNC_OUT_OF_ORDER", () => {
    const other = stateOf(300, 1);
    const otherBytes = chunkBytes(2, other);
    expect(codeOf(() => verifyChunk(refs[2]!, decodeChunk(otherBytes, want(2))))).toBe(
      "SYNC_BAD_CHUNK",
    );
    const labelled = encodeChunk({ ...decodeChunk(chunkBytes(2), want(2)), height: HEIGHT - 10 });
    expect(codeOf(() => decodeChunk(labelled, want(2)))).toBe("SYNC_OUT_OF_ORDER");
    expect(codeOf(() => decodeChunk(chunkBytes(3), want(2)))).toBe("SYNC_OUT_OF_ORDER");
  });

  it("a leaf dropped, or a leaf of another position moved in, is SYNC_BAD_CHUNK", () => {
    const c = decodeChunk(chunkBytes(4), want(4));
    const fewer = { ...c, leaves: c.leaves.slice(1) };
    expect(codeOf(() => verifyChunk(refs[4]!, fewer))).toBe("SYNC_BAD_CHUNK");
    const foreign = decodeChunk(chunkBytes(5), want(5)).leaves[0]!;
    const moved = encodeChunk({ ...c, leaves: [...c.leaves, foreign] });
    expect(codeOf(() => decodeChunk(moved, want(4)))).toBe("SYNC_BAD_CHUNK");
  });

  it("a truncated chunk or trailing bytes are SYNC_MALFORMED; a value above the bound is SYNC_TOO_LARGE", () => {
    const bytes = chunkBytes(1);
    expect(codeOf(() => decodeChunk(bytes.subarray(0, bytes.length - 3), want(1)))).toBe(
      "SYNC_MALFORMED",
    );
    expect(codeOf(() => decodeChunk(new Uint8Array([...bytes, 0]), want(1)))).toBe(
      "SYNC_MALFORMED",
    );
    const huge = encodeChunk({
      ...want(1),
      leaves: [
        [decodeChunk(bytes, want(1)).leaves[0]![0], new Uint8Array(MAX_STATE_VALUE_BYTES + 1)],
      ],
    });
    expect(codeOf(() => decodeChunk(huge, want(1)))).toBe("SYNC_TOO_LARGE");
    // A leaf count the bytes cannot hold is refused before any leaf is read.
    const lying = bytes.slice();
    new DataView(lying.buffer).setUint32(13, 0xffffffff);
    expect(codeOf(() => decodeChunk(lying, want(1)))).toBe("SYNC_MALFORMED");
  });

  it("a manifest that does not join to the certified root is SYNC_BAD_SNAPSHOT", () => {
    const forged = refs.slice();
    forged[0] = refs[1]!;
    expect(codeOf(() => verifyManifest(honest.root, forged))).toBe("SYNC_BAD_SNAPSHOT");
    expect(codeOf(() => verifyManifest(stateOf(300, 1).root, refs))).toBe("SYNC_BAD_SNAPSHOT");
    expect(codeOf(() => decodeManifest(encodeManifest(refs).subarray(1), DEPTH))).toBe(
      "SYNC_MALFORMED",
    );
  });

  it("requests and snapshot lists round-trip; a chunk index beyond 2^depth is refused", () => {
    for (const r of [
      { kind: "list" },
      { kind: "header", height: 9 },
      { kind: "manifest", height: 9, depth: 4 },
      { kind: "chunk", height: 9, depth: 4, index: 15 },
    ] as const)
      expect(decodeRequest(encodeRequest(r))).toEqual(r);
    expect(
      codeOf(() => decodeRequest(encodeRequest({ kind: "chunk", height: 9, depth: 4, index: 16 }))),
    ).toBe("SYNC_MALFORMED");
    const list = [{ height: 8, stateRoot: honest.root, depth: 3 }];
    expect(decodeSnapshotList(encodeSnapshotList(list))).toEqual(list);
  });

  it("picks a depth that gives chunks of about 4096 leaves", () => {
    expect(chunkDepth(honest.tree, honest.root)).toBe(0);
    const big = stateOf(40_000);
    // log2(40 000) ≈ 15.3, minus 12.
    expect(chunkDepth(big.tree, big.root)).toBeGreaterThanOrEqual(3);
    expect(chunkDepth(big.tree, big.root)).toBeLessThanOrEqual(4);
  });
});
