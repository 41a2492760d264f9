import { describe, expect, it } from "vitest";
import { pathOf } from "./paths.ts";

describe("pathOf", () => {
  it("fills each parameter, percent-encoded, and refuses a missing one", () => {
    expect(pathOf("getHeader", { height: 7 })).toBe("/v1/headers/7");
    expect(pathOf("getBlock", { id: "latest" })).toBe("/v1/blocks/latest");
    // A value cannot add a path segment or a query.
    expect(pathOf("getTransaction", { hash: "../status?x=1" })).toBe(
      "/v1/transactions/..%2Fstatus%3Fx%3D1",
    );
    expect(pathOf("getStatus", {})).toBe("/v1/status");
    expect(() => pathOf("getAccount", {} as { address: string })).toThrow(TypeError);
  });
});
