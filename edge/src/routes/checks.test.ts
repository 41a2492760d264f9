/**
 * The request checks alone, as a hostile client would probe them: every
 * refusal is REQUEST_INVALID with the node's details, and nothing past the
 * checks is reached.
 */

import { parseHeight } from "@edgeledger/sdk/api";
import { ApiError, addressFromPublicKey, formatAddress, SecretKey } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { canonicalAddress, heightQuery, noQuery, type ReadRequest } from "./checks.ts";

const request = (query: Record<string, string[]>): ReadRequest => ({
  param: () => "",
  queries: () => query,
});

function refusal(fn: () => unknown): { code: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    return { code: e.code, details: { ...e.details } };
  }
  throw new Error("expected a refusal");
}

describe("heightQuery", () => {
  it("reads an absent or decimal height", () => {
    expect(heightQuery(request({}))).toBeUndefined();
    expect(heightQuery(request({ height: ["42"] }))).toBe(42);
    expect(heightQuery(request({ height: ["0"] }))).toBe(0);
  });

  it("refuses a height given twice rather than picking one", () => {
    expect(refusal(() => heightQuery(request({ height: ["1", "2"] })))).toEqual({
      code: "REQUEST_INVALID",
      details: { in: "querystring", field: "height", problem: "must be string" },
    });
  });

  it("refuses unknown fields, non-decimal heights and heights past 2^53 - 1", () => {
    expect(refusal(() => heightQuery(request({ height: ["1"], x: ["1"] }))).details).toEqual({
      in: "querystring",
      field: "x",
    });
    for (const bad of ["-1", "1e3", "0x10", "", " 1"])
      expect(refusal(() => heightQuery(request({ height: [bad] }))).details["problem"]).toBe(
        "must be a decimal height",
      );
    expect(refusal(() => heightQuery(request({ height: ["9007199254740992"] }))).details).toEqual({
      in: "querystring",
      field: "height",
      problem: "out of range",
    });
  });
});

describe("noQuery and parseHeight", () => {
  it("noQuery refuses any field, even empty", () => {
    expect(() => noQuery(request({}))).not.toThrow();
    expect(refusal(() => noQuery(request({ a: [""] }))).details).toEqual({
      in: "querystring",
      field: "a",
    });
  });

  it("parseHeight (the contract's, as the node reads it) keeps 2^53 - 1 and refuses 2^53", () => {
    expect(parseHeight("9007199254740991", "params", "height")).toBe(2 ** 53 - 1);
    expect(refusal(() => parseHeight("9007199254740992", "params", "id")).details).toEqual({
      in: "params",
      field: "id",
      problem: "out of range",
    });
  });
});

describe("canonicalAddress", () => {
  const address = formatAddress(
    addressFromPublicKey(SecretKey.fromSeed(new Uint8Array(32).fill(7)).publicKey),
  );

  it("answers the API's spelling for any case of a valid address", () => {
    expect(canonicalAddress(address)).toBe(address);
    expect(canonicalAddress(address.toUpperCase())).toBe(address);
  });

  it("refuses an over-long address by the route table's bound, before decoding it", () => {
    const { details } = refusal(() => canonicalAddress("a".repeat(10_000)));
    expect(details["in"]).toBe("params");
    expect(details["field"]).toBe("address");
    expect(String(details["problem"])).toMatch(/^must NOT have more than \d+ characters$/);
  });

  it("throws for an invalid address every time, not only the first", () => {
    const bad = `${address.slice(0, -1)}${address.endsWith("q") ? "p" : "q"}`;
    expect(() => canonicalAddress(bad)).toThrow();
    expect(() => canonicalAddress(bad)).toThrow();
  });
});
