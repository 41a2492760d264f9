/**
 * The pipeline around fetchVerified, with a scripted fetch: a failing store
 * is a miss (the answer is still served), concurrent requests for one key
 * share one fetch, and only final answers are stored.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { memoryCache } from "../cache/memory.ts";
import type { CacheStore } from "../cache/store.ts";
import { EdgeMetrics } from "../metrics.ts";
import { createReadPipeline } from "./pipeline.ts";
import type { Outcome, ReadPlan } from "./plan.ts";

const PLAN: ReadPlan = {
  route: "getHeader",
  key: "header/3",
  path: "/v1/headers/3",
  verify: async (_v, json) => ({ json, final: true }),
  latest: false,
  notFoundMeansLagging: false,
};

const FINAL: Outcome = {
  kind: "answer",
  answer: { body: '{"h":3}', etag: '"h3"', height: 3 },
  policy: { immutable: true },
};

function setup(cache: CacheStore, fetch: (plan: ReadPlan) => Promise<Outcome>) {
  const metrics = new EdgeMetrics();
  const internal: unknown[] = [];
  let fetches = 0;
  const serve = createReadPipeline({
    cache,
    namespace: "chain/anchor/",
    metrics,
    fetch: (plan) => {
      fetches++;
      return fetch(plan);
    },
    latestMaxAgeSeconds: 1,
    onInternal: (err) => internal.push(err),
  });
  const app = new Hono();
  app.get("/x", (c) => serve(c, PLAN));
  return { app, metrics, internal, fetches: () => fetches };
}

describe("the read pipeline", () => {
  it("fetches once, stores under the namespace, then serves hits from the store", async () => {
    const cache = memoryCache();
    const { app, fetches } = setup(cache, async () => FINAL);
    expect((await app.request("/x")).headers.get("x-edgeledger-cache")).toBe("miss");
    const hit = await app.request("/x");
    expect(hit.headers.get("x-edgeledger-cache")).toBe("hit");
    expect(await hit.text()).toBe('{"h":3}');
    expect(fetches()).toBe(1);
    expect(await cache.get("chain/anchor/header/3")).toMatchObject({ etag: '"h3"' });
  });

  it("a store that fails to read or write is a miss, and the verified answer is still served", async () => {
    const broken: CacheStore = {
      get: async () => {
        throw new Error("store down");
      },
      put: async () => {
        throw new Error("store down");
      },
    };
    const { app, internal } = setup(broken, async () => FINAL);
    const res = await app.request("/x");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"h":3}');
    expect(internal).toHaveLength(2);
  });

  it("concurrent requests for one key share one fetch", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { app, fetches, metrics } = setup(memoryCache(), async () => {
      await gate;
      return FINAL;
    });
    const answers = Array.from({ length: 5 }, () => app.request("/x"));
    release();
    const sources = (await Promise.all(answers)).map((r) => r.headers.get("x-edgeledger-cache"));
    expect(fetches()).toBe(1);
    expect(sources.sort()).toEqual(["miss", "shared", "shared", "shared", "shared"]);
    expect(metrics.text()).toMatch(
      /edgeledger_edge_singleflight_shared_total\{route="getHeader"\} 4/,
    );
  });

  it("stores neither refusals nor answers that are not final", async () => {
    const cache = memoryCache();
    const outcomes: Outcome[] = [
      { kind: "refusal", status: 404, error: { code: "NOT_FOUND", message: "no", details: {} } },
      { ...FINAL, policy: null },
    ];
    const { app, fetches } = setup(cache, async () => outcomes.shift()!);
    expect((await app.request("/x")).status).toBe(404);
    const pending = await app.request("/x");
    expect(pending.headers.get("cache-control")).toBe("no-store");
    expect(fetches()).toBe(2);
    expect(await cache.get("chain/anchor/header/3")).toBeUndefined();
  });
});
