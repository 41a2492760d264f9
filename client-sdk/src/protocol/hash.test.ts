import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.ts";
import { portableSha256, setSha256Backend, sha256, taggedHash } from "./hash.ts";
import { nativeSha256 } from "./node.ts";

describe("hashing", () => {
  it("native SHA-256 agrees with @noble/hashes on any input", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(toHex(nativeSha256(data))).toBe(toHex(portableSha256(data)));
      }),
      { numRuns: 300 },
    );
  });

  it("swapping in the native backend changes no protocol hash", () => {
    const portable = taggedHash("edgeledger/test", Uint8Array.of(1, 2, 3));
    setSha256Backend(nativeSha256);
    try {
      expect(toHex(taggedHash("edgeledger/test", Uint8Array.of(1, 2, 3)))).toBe(toHex(portable));
    } finally {
      setSha256Backend(null);
    }
    expect(toHex(sha256(new Uint8Array(0)))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("separates domains: the same bytes under two tags hash differently", () => {
    const data = Uint8Array.of(9, 9, 9);
    expect(toHex(taggedHash("a/b", data))).not.toBe(toHex(taggedHash("a/c", data)));
    // The tag is length-prefixed, so moving bytes between tag and data changes the hash.
    expect(toHex(taggedHash("ab", Uint8Array.of(99)))).not.toBe(
      toHex(taggedHash("a", Uint8Array.of(98, 99))),
    );
  });
});
