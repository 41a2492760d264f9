import { describe, expect, it } from "vitest";
import { SecretKey } from "./keys.ts";
import { createNativeVerifier, createVerifierPool, nativeSigner } from "./node.ts";

describe("verifier pool", () => {
  it("gives the same answers as the single-thread verifier, in order, for good and bad signatures", async () => {
    const pool = createVerifierPool({ threads: 2 });
    const single = createNativeVerifier();
    try {
      const items = Array.from({ length: 101 }, (_, i) => {
        const key = SecretKey.fromSeed(new Uint8Array(32).fill(i + 1));
        const digest = new Uint8Array(32).fill(i);
        const signature = nativeSigner(key).signSync(digest);
        if (i % 3 === 1) signature[5]! ^= 1;
        if (i % 7 === 2) signature.set(new Uint8Array(32), 32); // S = 0 with a valid R: rule passes, equation fails
        return { signature, digest, publicKey: key.publicKey };
      });
      items.push({
        signature: new Uint8Array(63),
        digest: new Uint8Array(32),
        publicKey: items[0]!.publicKey,
      });
      const expected = items.map((it) => single.verifySync!(it.signature, it.digest, it.publicKey));
      expect(await pool.verifyBatch(items)).toEqual(expected);
      expect(expected.filter(Boolean).length).toBeGreaterThan(50);
      expect(expected.filter((x) => !x).length).toBeGreaterThan(30);
      expect(await pool.verifyBatch([])).toEqual([]);
    } finally {
      await pool.close();
    }
  });
});
