/**
 * Submissions forwarded against scripted upstreams: a full or failing node
 * is passed over, the client's fault is passed through, a body of the
 * wrong type or size is refused before any upstream sees it.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { toHttpError } from "../errors.ts";
import { EdgeMetrics } from "../metrics.ts";
import { UpstreamPool } from "../upstream/pool.ts";
import { registerWrites, SUBMIT_BODY_LIMIT } from "./writes.ts";

type Script = number | "down";

function setup(script: Script[]) {
  const seen: { upstream: number; body: string }[] = [];
  const urls = script.map((_, i) => `http://up${i}`);
  const app = new Hono();
  app.onError((err) => {
    const { status, body } = toHttpError(err);
    return Response.json(body, { status });
  });
  registerWrites(app, {
    upstreams: {
      urls,
      pool: new UpstreamPool(urls),
      fetchOf: (i) => async (_input, init) => {
        seen.push({ upstream: i, body: String(init?.body) });
        const s = script[i]!;
        if (s === "down") throw new TypeError("fetch failed");
        const headers: Record<string, string> = { location: `/v1/tx/${i}` };
        if (s === 503) headers["retry-after"] = String(i + 2);
        return Response.json({ from: i }, { status: s, headers });
      },
    },
    metrics: new EdgeMetrics(),
    timeoutMs: 1000,
  });
  const post = (body: string, type = "application/json") =>
    app.request("/v1/transactions", { method: "POST", body, headers: { "content-type": type } });
  return { post, seen };
}

describe("write forwarding", () => {
  it("passes over a node that is down, full or failing, and passes the taker's answer on", async () => {
    const { post, seen } = setup(["down", 429, 503, 202]);
    const res = await post('{"tx":"00"}');
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ from: 3 });
    expect(res.headers.get("location")).toBe("/v1/tx/3");
    expect(res.headers.get("x-edgeledger-unverified")).toBe("*");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(seen.map((s) => s.upstream)).toEqual([0, 1, 2, 3]);
    expect(new Set(seen.map((s) => s.body))).toEqual(new Set(['{"tx":"00"}']));
  });

  it("a refusal (4xx) is the client's: passed through, no other node asked", async () => {
    const { post, seen } = setup([400, 202]);
    expect((await post("{}")).status).toBe(400);
    expect(seen).toHaveLength(1);
  });

  it("when no node takes it: the last server answer with its Retry-After, else a 502", async () => {
    const full = await setup([503, "down"]).post("{}");
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("2");
    const none = await setup(["down", "down"]).post("{}");
    expect(none.status).toBe(502);
    expect(await none.json()).toMatchObject({ code: "EDGE_UPSTREAM_UNAVAILABLE" });
  });

  it("refuses a body that is not JSON, or too large, before any node sees it", async () => {
    const { post, seen } = setup([202]);
    expect((await post("{}", "text/plain")).status).toBe(415);
    const big = await post(`{"tx":"${"0".repeat(SUBMIT_BODY_LIMIT)}"}`);
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ code: "BODY_TOO_LARGE" });
    expect(seen).toEqual([]);
  });
});
