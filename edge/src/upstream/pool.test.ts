import { describe, expect, it } from "vitest";
import { isBusyAnswer, UpstreamPool } from "./pool.ts";

describe("upstream pool", () => {
  it("tries healthy upstreams first from the last good one, then those put aside", () => {
    let now = 0;
    const pool = new UpstreamPool(["a", "b", "c"], { now: () => now, backoffMs: 100 });
    expect(pool.order()).toEqual([0, 1, 2]);
    pool.failed(0);
    expect(pool.order()).toEqual([1, 2, 0]);
    pool.succeeded(2);
    expect(pool.order()).toEqual([2, 1, 0]);
    now += 100;
    expect(pool.isHealthy(0)).toBe(true);
    expect(pool.order()).toEqual([2, 0, 1]);
  });

  it("doubles the backoff with each consecutive failure up to a cap, and one success clears it", () => {
    let now = 0;
    const pool = new UpstreamPool(["a", "b"], {
      now: () => now,
      backoffMs: 100,
      maxBackoffMs: 350,
    });
    pool.failed(0); // 100
    pool.failed(0); // 200
    pool.failed(0); // 350 (capped)
    now += 349;
    expect(pool.isHealthy(0)).toBe(false);
    pool.failed(1);
    // Both put aside: still tried, soonest back first.
    expect(pool.order()).toEqual([0, 1]);
    now += 1;
    expect(pool.isHealthy(0)).toBe(true);
    pool.succeeded(0);
    expect(pool.health()[0]).toEqual({ url: "a", healthy: true, failures: 0 });
  });

  it("takes a full mempool for a busy upstream, not a failing one; any other 5xx or 429 fails", () => {
    expect(isBusyAnswer(503, "MEMPOOL_FULL")).toBe(true);
    expect(isBusyAnswer(503, "UNAVAILABLE")).toBe(false);
    expect(isBusyAnswer(500, "MEMPOOL_FULL")).toBe(false);
    expect(isBusyAnswer(429, "EDGE_RATE_LIMITED")).toBe(false);
    expect(isBusyAnswer(503, undefined)).toBe(false);
  });
});
