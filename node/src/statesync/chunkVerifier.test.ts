/**
 * The verifier thread answers exactly what the inline check answers: a
 * good chunk's nodes (the same bytes, in the same order) and, for a chunk
 * that is tampered with or labelled for another height, the same SyncError
 * code, so the sender is scored the same. And it runs on the thread.
 */
import { positionOf, SparseMerkleTree, sha256, toHex } from "@edgeledger/sdk/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { encodeChunk } from "./chunks.ts";
import { inlineVerifier, startChunkVerifier } from "./chunkVerifier.ts";

const DEPTH = 2;
const INDEX = 1;
// Keys of position 1 at depth 2, sorted (a chunk's order).
const leaves = Array.from({ length: 400 }, (_, i) => sha256(Uint8Array.of(0x71, i >> 8, i & 0xff)))
  .filter((k) => positionOf(k, DEPTH) === INDEX)
  .sort((a, b) => (toHex(a) < toHex(b) ? -1 : 1))
  .map((k, i) => [k, new TextEncoder().encode(`value ${i}`)] as [Uint8Array, Uint8Array]);
const { ref } = SparseMerkleTree.buildSubtree(leaves, DEPTH);
const want = { height: 7, depth: DEPTH, index: INDEX };
const good = encodeChunk({ ...want, leaves });
const verifier = startChunkVerifier();
const show = (writes: readonly { hash: Uint8Array; node: Uint8Array }[]) =>
  writes.map((w) => `${toHex(w.hash)}:${toHex(w.node)}`);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (err: { code?: string }) => err.code ?? "no code",
  );

afterAll(() => verifier.close());

describe("the chunk verifier thread", () => {
  it("answers a good chunk's nodes as the inline check does, from the thread", async () => {
    expect(leaves.length).toBeGreaterThan(50);
    const inline = await inlineVerifier.verify(ref, good.slice(), want);
    const threaded = await verifier.verify(ref, good.slice(), want);
    expect(show(threaded)).toEqual(show(inline));
    expect(verifier.onThread).toBeGreaterThan(0);
  });

  it("refuses a tampered chunk (SYNC_BAD_CHUNK) and another height's (SYNC_OUT_OF_ORDER), as inline", async () => {
    const tampered = good.slice();
    tampered[tampered.length - 1]! ^= 1;
    const other = encodeChunk({ ...want, height: 6, leaves });
    for (const [bytes, code] of [
      [tampered, "SYNC_BAD_CHUNK"],
      [other, "SYNC_OUT_OF_ORDER"],
      [good.subarray(0, good.length - 3), "SYNC_MALFORMED"],
    ] as const) {
      expect(await codeOf(verifier.verify(ref, bytes.slice(), want))).toBe(code);
      expect(await codeOf(inlineVerifier.verify(ref, bytes.slice(), want))).toBe(code);
    }
  });
});
