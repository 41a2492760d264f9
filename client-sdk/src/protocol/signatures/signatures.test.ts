/**
 * One Ed25519 rule, every backend: the RFC 8032 vectors, the ten
 * "Taming the many EdDSAs" edge cases (../shared/vectors), crafted
 * non-canonical and small-order encodings, and random mutations all get the
 * same answer from native (OpenSSL), WebCrypto and noble once the rule is in
 * front. The raw libraries are also shown to disagree, which is why.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../bytes.ts";
import { SecretKey } from "../keys.ts";
import { nativeBackend, nativeSigner } from "../node.ts";
import { createVerifier, type Ed25519Backend } from "./backend.ts";
import { nobleBackend } from "./noble.ts";
import { ruleViolation } from "./rule.ts";
import rfc8032 from "./testdata/rfc8032.json" with { type: "json" };
import speccheckHex from "./testdata/speccheck.json" with { type: "json" };
import { webCryptoBackend } from "./webcrypto.ts";

ed.hashes.sha512 = sha512;

interface Case {
  message: Uint8Array;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

const speccheck: Case[] = speccheckHex.map((c) => ({
  message: fromHex(c.message),
  publicKey: fromHex(c.pub_key),
  signature: fromHex(c.signature),
}));

const backends: Ed25519Backend[] = [nativeBackend(), webCryptoBackend(), nobleBackend];
const verifiers = backends.map(createVerifier);

async function answers(c: Case): Promise<boolean[]> {
  return Promise.all(verifiers.map((v) => v.verify(c.signature, c.message, c.publicKey)));
}

describe("RFC 8032 test vectors", () => {
  it.each(rfc8032)("$name: keys, signatures and every verifier agree", async (v) => {
    const key = SecretKey.fromHex(v.secretKey);
    const message = fromHex(v.message);
    expect(toHex(key.publicKey)).toBe(v.publicKey);
    expect(toHex(key.sign(message))).toBe(v.signature);
    expect(toHex(nativeSigner(key).signSync(message))).toBe(v.signature);
    const c = { message, publicKey: fromHex(v.publicKey), signature: fromHex(v.signature) };
    expect(await answers(c)).toEqual([true, true, true]);
    for (const v of verifiers)
      expect(v.verifySync?.(c.signature, c.message, c.publicKey) ?? true).toBe(true);
    const tampered = { ...c, message: Uint8Array.from([...message, 0]) };
    expect(await answers(tampered)).toEqual([false, false, false]);
  });
});

describe("speccheck edge cases (Taming the many EdDSAs)", () => {
  it("the raw libraries disagree: this is the chain split the rule prevents", async () => {
    const nativeRaw = await Promise.all(
      speccheck.map((c) => backends[0]!.verify(c.signature, c.message, c.publicKey)),
    );
    const nobleZip215 = speccheck.map((c) => ed.verify(c.signature, c.message, c.publicKey));
    const nobleStrict = speccheck.map((c) =>
      ed.verify(c.signature, c.message, c.publicKey, { zip215: false }),
    );
    const accepted = (xs: boolean[]) => xs.flatMap((ok, i) => (ok ? [i] : []));
    expect(accepted(nativeRaw)).toEqual([3]);
    expect(accepted(nobleZip215)).toEqual([0, 1, 2, 3, 4, 5, 9]);
    expect(accepted(nobleStrict)).toEqual([2, 3, 4, 5]);
  });

  it("under the rule every backend accepts exactly case 3 (mixed-order A and R, both equations hold)", async () => {
    const table = await Promise.all(speccheck.map(answers));
    for (const [i, row] of table.entries()) {
      expect(row, `case ${i}`).toEqual(i === 3 ? [true, true, true] : [false, false, false]);
    }
  });

  it("names why each rejected case breaks the rule", () => {
    const why = speccheck.map((c) => ruleViolation(c.signature, c.publicKey));
    expect(why[0]).toBe("PUBLIC_KEY_SMALL_ORDER");
    expect(why[1]).toBe("PUBLIC_KEY_SMALL_ORDER");
    expect(why[2]).toBe("R_SMALL_ORDER");
    expect(why[3]).toBeNull();
    // 4 and 5 pass the encoding checks and fail only the cofactorless equation.
    expect(why[4]).toBeNull();
    expect(why[5]).toBeNull();
    expect(why[6]).toBe("S_NOT_REDUCED");
    expect(why[7]).toBe("S_NOT_REDUCED");
    expect(why[8]).toBe("R_NON_CANONICAL");
    expect(why[9]).toBe("R_NON_CANONICAL");
  });
});

describe("the rule's encoding checks", () => {
  const key = SecretKey.fromSeed(new Uint8Array(32).fill(7));
  const message = new TextEncoder().encode("edgeledger");
  const good = key.sign(message);

  it("flags exactly the eight small-order points, whatever their sign bit", () => {
    const order8 = ed.Point.fromBytes(
      fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    );
    let p = ed.Point.ZERO;
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const enc = p.toBytes();
      seen.add(toHex(enc));
      expect(p.isSmallOrder()).toBe(true);
      for (const variant of [enc, Uint8Array.from(enc, (b, j) => (j === 31 ? b ^ 0x80 : b))]) {
        expect(ruleViolation(good, variant)).toBe("PUBLIC_KEY_SMALL_ORDER");
        expect(ruleViolation(Uint8Array.from([...variant, ...good.slice(32)]), key.publicKey)).toBe(
          "R_SMALL_ORDER",
        );
      }
      p = p.add(order8);
    }
    expect(seen.size).toBe(8);
    expect(ruleViolation(good, key.publicKey)).toBeNull();
  });

  it("rejects non-canonical encodings (y ≥ p) of A and R", () => {
    // y = p + 3 (the non-canonical spelling of y = 3) and y = 2^255 - 1.
    const pPlus3 = fromHex("f0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    const max = fromHex("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
    for (const enc of [pPlus3, max]) {
      expect(ruleViolation(good, enc)).toBe("PUBLIC_KEY_NON_CANONICAL");
      expect(ruleViolation(Uint8Array.from([...enc, ...good.slice(32)]), key.publicKey)).toBe(
        "R_NON_CANONICAL",
      );
    }
  });

  it("rejects S = L and S + L (the malleated twin of a valid signature)", async () => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const toLE = (n: bigint) =>
      Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(good[32 + i]!);
    const twin = Uint8Array.from([...good.slice(0, 32), ...toLE(s + L)]);
    expect(ruleViolation(twin, key.publicKey)).toBe("S_NOT_REDUCED");
    expect(await answers({ message, publicKey: key.publicKey, signature: twin })).toEqual([
      false,
      false,
      false,
    ]);
    const sEqualsL = Uint8Array.from([...good.slice(0, 32), ...toLE(L)]);
    expect(ruleViolation(sEqualsL, key.publicKey)).toBe("S_NOT_REDUCED");
  });

  it("every backend gives the same answer on random keys, messages and single-byte corruptions", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom("none", "sig", "key", "msg"),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (seed, msg, where, at, mask) => {
          const k = SecretKey.fromSeed(seed);
          const c = { message: msg, publicKey: k.publicKey, signature: k.sign(msg) };
          const flip = (b: Uint8Array) =>
            Uint8Array.from(b, (x, i) => (i === at % b.length ? x ^ mask : x));
          if (where === "sig") c.signature = flip(c.signature);
          if (where === "key") c.publicKey = flip(c.publicKey);
          if (where === "msg") c.message = msg.length ? flip(msg) : Uint8Array.of(mask);
          const row = await answers(c);
          expect(new Set(row).size).toBe(1);
          expect(row[0]).toBe(where === "none");
        },
      ),
      { numRuns: 150 },
    );
  });
});
