import { ApiError } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { EdgeError, toHttpError } from "./errors.ts";

describe("toHttpError (the edge's, through the SDK's serializer)", () => {
  it("EDGE_* codes take the edge's statuses; a config error is INTERNAL", () => {
    expect(toHttpError(new EdgeError("EDGE_RATE_LIMITED", "slow down")).status).toBe(429);
    expect(toHttpError(new EdgeError("EDGE_UNVERIFIED", "forged")).status).toBe(502);
    expect(toHttpError(new EdgeError("EDGE_NOT_VERIFIABLE", "no")).status).toBe(404);
    const config = toHttpError(new EdgeError("EDGE_CONFIG_INVALID", "upstream http://10.0.0.3"));
    expect(config.status).toBe(500);
    expect(JSON.stringify(config.body)).not.toContain("10.0.0.3");
  });

  it("details an answer cannot render as JSON are made safe, not thrown on", () => {
    // An upstream's numbers arrive as bigints once decoded; a bare spread
    // of such details made JSON.stringify throw inside the error path.
    const error = new EdgeError("EDGE_UNVERIFIED", "forged", {
      details: {
        claimed: 10n ** 30n,
        hash: new Uint8Array([1, 2]),
        cause: new Error("http://10.0.0.3"),
      },
    });
    const { body } = toHttpError(error);
    const text = JSON.stringify(body);
    expect(JSON.parse(text).details).toEqual({
      claimed: (10n ** 30n).toString(),
      hash: "0102",
      cause: "Error",
    });
    expect(text).not.toContain("10.0.0.3");
  });

  it("anything else is INTERNAL with the edge's text only", () => {
    expect(toHttpError(new Error("secret at /etc"))).toEqual({
      status: 500,
      body: {
        code: "INTERNAL",
        message: "The edge failed to serve this request; its log says why.",
        details: {},
      },
    });
    expect(toHttpError(new ApiError("INTERNAL", "secret")).body.message).not.toContain("secret");
  });
});
