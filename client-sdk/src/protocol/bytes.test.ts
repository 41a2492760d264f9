import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyError } from "../errors/protocol.ts";
import { bytesKey, fromBytesKey, fromHex, toHex } from "./bytes.ts";

describe("hex", () => {
  it("round-trips any bytes, in either case and with 0x", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hex = toHex(bytes);
        expect(hex).toMatch(/^([0-9a-f]{2})*$/);
        expect(fromHex(hex)).toEqual(bytes);
        expect(fromHex(`0x${hex.toUpperCase()}`)).toEqual(bytes);
      }),
    );
  });

  it("refuses odd lengths, non-hex characters and wrong lengths with typed errors", () => {
    for (const bad of ["a", "0g", "zz", "1 ", "é0", "0x0", "+1", "\u0660\u0661"]) {
      expect(() => fromHex(bad), bad).toThrow(KeyError);
    }
    expect(() => fromHex("abcd", 3)).toThrow(
      expect.objectContaining({ code: "KEY_INVALID_LENGTH" }),
    );
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });
});

describe("bytes keys", () => {
  it("are one-to-one and round-trip", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(fromBytesKey(bytesKey(a))).toEqual(a);
        expect(bytesKey(a) === bytesKey(b)).toBe(toHex(a) === toHex(b));
      }),
    );
  });
});
