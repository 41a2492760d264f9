import { describe, expect, it } from "vitest";
import { NodeCache } from "./nodeCache.ts";

/** Deterministic 32-byte "hashes" and node bodies (xorshift, seeded). */
function generator(seed: number) {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const w = next();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (w >>> (8 * j)) & 0xff;
    }
    return out;
  };
}

const MiB = 2 ** 20;

describe("state node cache", () => {
  it("stays within its byte budget (plus one slab per generation) however much is put in", () => {
    const budget = 16 * MiB;
    const cache = new NodeCache(budget);
    const bytes = generator(7);
    let peak = 0;
    // ~300k nodes of 65 bytes: about twice the budget once packed.
    for (let i = 0; i < 300_000; i++) {
      cache.set(bytes(32), bytes(65));
      if (i % 997 === 0) peak = Math.max(peak, cache.bytes);
    }
    expect(peak).toBeLessThanOrEqual(budget + 2 * 4 * MiB);
    expect(cache.size).toBeLessThan(300_000);
  });

  it("answers what was put, nothing for what was not, and keeps a node that is read", () => {
    const cache = new NodeCache(2 * MiB);
    const bytes = generator(11);
    const hot = { hash: bytes(32), node: bytes(65) };
    const first = { hash: bytes(32), node: bytes(120) };
    cache.set(hot.hash, hot.node);
    cache.set(first.hash, first.node);
    expect(cache.get(first.hash)).toEqual(first.node);
    expect(cache.get(bytes(32))).toBeUndefined();
    // Many generations go by; the node read all along stays, the other goes.
    for (let i = 0; i < 100_000; i++) {
      cache.set(bytes(32), bytes(65));
      if (i % 1000 === 0) expect(cache.get(hot.hash)).toEqual(hot.node);
    }
    expect(cache.get(hot.hash)).toEqual(hot.node);
    expect(cache.get(first.hash)).toBeUndefined();
  });
});
