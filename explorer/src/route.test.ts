import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hrefOf, parseRoute, type Route, searchRoute } from "./route.ts";

const HASH = "0a".repeat(32);
const ADDRESS = "el1qqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0jqhtxmqz";

describe("routes in the URL fragment", () => {
  it("reads each page from its fragment", () => {
    expect(parseRoute("")).toEqual({ page: "home" });
    expect(parseRoute("#/")).toEqual({ page: "home" });
    expect(parseRoute("#/block/12")).toEqual({ page: "block", height: 12 });
    expect(parseRoute(`#/block/${HASH.toUpperCase()}`)).toEqual({ page: "block", hash: HASH });
    expect(parseRoute(`#/tx/${HASH}`)).toEqual({ page: "tx", hash: HASH });
    expect(parseRoute(`#/account/${ADDRESS}`)).toEqual({ page: "account", address: ADDRESS });
    expect(parseRoute("#/validators")).toEqual({ page: "validators" });
    expect(parseRoute("#/validators/7/")).toEqual({ page: "validators", height: 7 });
  });

  it("names what it cannot read as not found, never as another page", () => {
    for (const bad of [
      "#/block/-1",
      "#/block/1.5",
      "#/block/abc",
      "#/tx/12",
      "#/validators/0",
      "#/block/1/2",
      "#/account/bob",
      "#/nope",
    ])
      expect(parseRoute(bad).page, bad).toBe("not-found");
    expect(parseRoute(`#/block/${"9".repeat(20)}`).page).toBe("not-found");
  });

  it("writes fragments that read back as the same route", () => {
    const routes = fc.oneof(
      fc.constant<Route>({ page: "home" }),
      fc.nat({ max: 2 ** 40 }).map((height): Route => ({ page: "block", height })),
      fc
        .uint8Array({ minLength: 32, maxLength: 32 })
        .map((b): Route => ({ page: "tx", hash: Buffer.from(b).toString("hex") })),
      fc.integer({ min: 1, max: 2 ** 40 }).map((height): Route => ({ page: "validators", height })),
    );
    fc.assert(
      fc.property(routes, (r) => {
        expect(parseRoute(hrefOf(r))).toEqual(r);
      }),
      { seed: 16 },
    );
    expect(parseRoute(hrefOf({ page: "account", address: ADDRESS }))).toEqual({
      page: "account",
      address: ADDRESS,
    });
  });
});

describe("search", () => {
  it("reads a height, a hash (with or without 0x) or an address", () => {
    expect(searchRoute(" 42 ")).toEqual({ page: "block", height: 42 });
    expect(searchRoute(`0x${HASH.toUpperCase()}`)).toEqual({ page: "search", query: HASH });
    expect(searchRoute(ADDRESS.toUpperCase())).toEqual({ page: "account", address: ADDRESS });
    expect(searchRoute("hello").page).toBe("not-found");
    expect(parseRoute(hrefOf(searchRoute(HASH)))).toEqual({ page: "search", query: HASH });
  });
});
