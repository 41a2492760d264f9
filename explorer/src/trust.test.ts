import { describe, expect, it } from "vitest";
import { chooseTrust, readServedConfig } from "./trust.ts";

const SERVED = { chainId: "c", trust: { genesisHash: "aa".repeat(32) } };
const PIN = "bb".repeat(32);

describe("where trust comes from", () => {
  it("is the server's anchor when nothing is pinned", () => {
    expect(chooseTrust(SERVED, "", null)).toEqual({
      anchor: SERVED.trust,
      source: "served",
      conflict: false,
      store: null,
    });
  });

  it("is a pin from the URL, stored, and over the server's word", () => {
    expect(chooseTrust(SERVED, `?genesis=${PIN.toUpperCase()}`, null)).toEqual({
      anchor: { genesisHash: PIN },
      source: "pinned",
      conflict: true,
      store: PIN,
    });
    expect(chooseTrust(SERVED, "", PIN)).toMatchObject({
      source: "pinned",
      anchor: { genesisHash: PIN },
    });
    expect(chooseTrust(SERVED, `?genesis=${"aa".repeat(32)}`, null)).toMatchObject({
      conflict: false,
    });
  });

  it("is unpinned by an empty pin, and a malformed pin is an error, not ignored", () => {
    expect(chooseTrust(SERVED, "?genesis=", PIN)).toMatchObject({ source: "served", store: null });
    expect(chooseTrust(SERVED, "?genesis=xyz", null)).toEqual({
      error: expect.stringMatching(/not 64 hex digits/),
    });
  });

  it("reads the served config or refuses it", () => {
    expect(readServedConfig(JSON.stringify(SERVED))).toEqual(SERVED);
    expect(() => readServedConfig('"__EXPLORER_CONFIG__"')).toThrow(/no explorer config/);
    expect(() => readServedConfig(null)).toThrow(/no explorer config/);
  });
});
