import { describe, expect, it } from "vitest";
import { equalBytes } from "../bytes.ts";
import { sha256 } from "../hash.ts";
import { PackedNodeTable } from "./packedNodes.ts";

const hashOf = (i: number) => sha256(Uint8Array.of(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 7));
const nodeOf = (i: number) =>
  Uint8Array.from({ length: 33 + (i % 90) }, (_, j) => (i * 7 + j) & 0xff);

describe("packed node table", () => {
  it("reads back every node it holds, through growth of its index and slabs", () => {
    const table = new PackedNodeTable();
    const n = 40_000;
    for (let i = 0; i < n; i++) table.set(hashOf(i), nodeOf(i));
    expect(table.size).toBe(n);
    for (let i = 0; i < n; i++) expect(table.get(hashOf(i))).toEqual(nodeOf(i));
    expect(table.get(hashOf(n))).toBeUndefined();
    expect(table.get(new Uint8Array(31))).toBeUndefined();
    // A hash already present is kept once.
    table.set(hashOf(5), nodeOf(5));
    expect(table.size).toBe(n);
  });

  it("keeps apart hashes that share the words its slot is mixed from", () => {
    const table = new PackedNodeTable();
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    b[31] = 1; // words 0 and 2 equal: same slot, same mix; only the full compare tells them apart
    table.set(a, Uint8Array.of(1));
    table.set(b, Uint8Array.of(2));
    expect(table.size).toBe(2);
    expect(table.get(a)).toEqual(Uint8Array.of(1));
    expect(table.get(b)).toEqual(Uint8Array.of(2));
  });

  it("holds a node larger than a slab", () => {
    const table = new PackedNodeTable();
    const big = new Uint8Array(5 * 2 ** 20);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    table.set(hashOf(1), nodeOf(1));
    table.set(hashOf(2), big);
    table.set(hashOf(3), nodeOf(3));
    expect(equalBytes(table.get(hashOf(2))!, big)).toBe(true);
    expect(table.get(hashOf(1))).toEqual(nodeOf(1));
    expect(table.get(hashOf(3))).toEqual(nodeOf(3));
  });
});
