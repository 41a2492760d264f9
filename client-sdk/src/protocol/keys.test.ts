import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { KeyError } from "../errors/protocol.ts";
import { toHex } from "./bytes.ts";
import { SecretKey } from "./keys.ts";

describe("secret keys", () => {
  const key = SecretKey.fromSeed(new Uint8Array(32).fill(0xab));
  const secretHex = toHex(key.exportSeed());
  const holder = { name: "validator", key, nested: { keys: [key] } };

  it("never show their bytes when logged, stringified, inspected or serialised", () => {
    const renderings = [
      JSON.stringify(holder),
      String(key),
      `${key}`,
      inspect(holder, { depth: 10, showHidden: true }),
      JSON.stringify(structuredClone({ key: key.publicKey })),
      Object.keys(key).join(","),
    ];
    for (const text of renderings) {
      expect(text).not.toContain(secretHex);
      expect(text).not.toContain(secretHex.slice(0, 16));
    }
    expect(JSON.stringify(holder)).toContain("[SecretKey redacted]");
  });

  it("give their bytes only when asked on purpose", () => {
    expect(SecretKey.fromHex(secretHex).publicKey).toEqual(key.publicKey);
    expect(key.exportHex()).toBe(secretHex);
  });

  it("reject wrong lengths and bad hex with typed errors", () => {
    expect(() => SecretKey.fromSeed(new Uint8Array(31))).toThrow(KeyError);
    expect(() => SecretKey.fromHex("zz".repeat(32))).toThrow(KeyError);
    expect(() => SecretKey.fromHex("ab".repeat(33))).toThrow(
      expect.objectContaining({ code: "KEY_INVALID_LENGTH" }),
    );
  });
});
