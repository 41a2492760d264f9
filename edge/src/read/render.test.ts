/** How outcomes become HTTP answers: caching headers by what the URL means, and conditional GETs. */
import { describe, expect, it } from "vitest";
import type { ReadPlan } from "./plan.ts";
import { answerResponse, cacheControl, etagMatches, refusalResponse } from "./render.ts";

const plan = (over: Partial<ReadPlan> = {}): ReadPlan => ({
  route: "getBlock",
  key: "block/3",
  path: "/v1/blocks/3",
  verify: async (_v, json) => ({ json, final: true }),
  latest: false,
  notFoundMeansLagging: false,
  ...over,
});

describe("cacheControl", () => {
  it("final answers for good, 'latest' briefly, kept-a-while by their TTL, the rest not at all", () => {
    expect(cacheControl(plan(), true, 1)).toBe("public, max-age=31536000, immutable");
    expect(cacheControl(plan({ latest: true }), true, 2)).toBe("public, max-age=2");
    expect(cacheControl(plan({ policy: { ttlSeconds: 60 } }), true, 1)).toBe("public, max-age=60");
    expect(cacheControl(plan(), false, 1)).toBe("no-store");
  });
});

describe("etagMatches", () => {
  it("compares weakly, in lists, and takes *", () => {
    expect(etagMatches('W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"b", "a"', 'W/"a"')).toBe(true);
    expect(etagMatches("*", '"a"')).toBe(true);
    expect(etagMatches('"b"', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
  });
});

describe("answerResponse", () => {
  const answer = { body: '{"x":1}', etag: '"h3"', height: 3 };

  it("serves the body with its tag, height, source and unverified fields", async () => {
    const res = answerResponse(
      undefined,
      answer,
      plan({ unverified: ["mempool"] }),
      true,
      "miss",
      1,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"x":1}');
    expect(res.headers.get("etag")).toBe('"h3"');
    expect(res.headers.get("x-edgeledger-height")).toBe("3");
    expect(res.headers.get("x-edgeledger-cache")).toBe("miss");
    expect(res.headers.get("x-edgeledger-unverified")).toBe("mempool");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("answers 304 with no body to a matching If-None-Match", async () => {
    const res = answerResponse('W/"h3"', answer, plan(), true, "hit", 1);
    expect(res.status).toBe(304);
    expect(await res.text()).toBe("");
    expect(res.headers.get("etag")).toBe('"h3"');
  });

  it("never answers 304 for an untagged answer", () => {
    expect(answerResponse("*", { body: "{}", etag: "" }, plan(), false, "miss", 1).status).toBe(
      200,
    );
  });

  it("passes a refusal on as the upstream's word, never cached", async () => {
    const res = refusalResponse({
      kind: "refusal",
      status: 404,
      error: { code: "TX_NOT_FOUND", message: "no", details: {} },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-edgeledger-unverified")).toBe("*");
  });
});
