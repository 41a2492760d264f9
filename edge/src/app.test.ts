/**
 * The app against fake upstreams (a fetch function) and fake verifiers (an
 * answer verifies when it says `good: true`): caching, single-flight,
 * failover, head tracking, rate limits, writes and input checks, without
 * sockets or cryptography. test/scenarios/edge.test.ts runs the real thing
 * against a real network, in Node and in workerd.
 */
import { VerificationError } from "@edgeledger/sdk";
import {
  addressFromPublicKey,
  type BlockHeader,
  formatAddress,
  SecretKey,
} from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { createEdgeApp, type EdgeApp } from "./app.ts";
import type { EdgeOptions } from "./options.ts";
import type { AnswerVerifier, Verified } from "./upstream/verify.ts";

const CHAIN = "testnet-1";
const GENESIS = "ab".repeat(32);
const zero = new Uint8Array(32);

const fakeHeader = (height: number): BlockHeader => ({
  chainId: CHAIN,
  height,
  time: 1_700_000_000_000 + height,
  parentHash: zero,
  txRoot: zero,
  txCount: 0,
  evidenceRoot: zero,
  stateRoot: zero,
  validatorsHash: zero,
  nextValidatorsHash: zero,
  proposer: zero,
});

type Mode = "honest" | "tampered" | "down" | "lagging" | "endless";

interface Upstream {
  mode: Mode;
  /** Requests seen, as "METHOD path?query". */
  seen: string[];
  /** Held until released, when set. */
  gate?: Promise<void>;
  /** Overrides for POST answers. */
  post?: () => Response;
  /** What status says the tip is. */
  tip: number;
  /** Bytes an "endless" upstream's bodies had read from them. */
  sent: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** A body of 1 MiB chunks for as long as it is read, up to 64 MiB (so a missing bound fails, not hangs). */
const endlessAnswer = (up: Upstream) =>
  new Response(
    new ReadableStream<Uint8Array>({
      pull(c) {
        if (up.sent >= 64 * 1024 * 1024) return c.close();
        up.sent += 1024 * 1024;
        c.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
      },
    }),
    { status: 200, headers: { "content-type": "application/json" } },
  );

/** Upstreams at http://up0, http://up1…: a fake chain whose answers say whether they are good. */
function fakeNetwork(count: number) {
  const ups: Upstream[] = Array.from({ length: count }, () => ({
    mode: "honest",
    seen: [],
    tip: 5,
    sent: 0,
  }));
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    const up = ups[Number(url.hostname.slice(2))]!;
    const method = init?.method ?? "GET";
    up.seen.push(`${method} ${url.pathname}${url.search}`);
    if (up.gate) await up.gate;
    if (up.mode === "down") throw new TypeError("fetch failed");
    if (up.mode === "endless" && method === "GET") return endlessAnswer(up);
    const good = up.mode !== "tampered";
    if (method === "POST")
      return (
        up.post?.() ?? json(202, { hash: "cd".repeat(32), status: "pending" }, { location: "/x" })
      );
    const path = url.pathname;
    if (path === "/v1/status")
      return json(200, {
        chainId: CHAIN,
        genesisHash: GENESIS,
        height: up.tip,
        mempool: { size: 3, bytes: 300 },
      });
    if (path.startsWith("/v1/transactions/")) {
      const final = !path.endsWith("ee".repeat(32));
      return json(200, { good, kind: "tx", height: 4, final });
    }
    const kind = path.split("/")[2]!;
    const id = path.split("/").at(-1)!;
    const asked = url.searchParams.get("height") ?? (/^\d+$/.test(id) ? id : null);
    const height = asked === null ? up.tip : Number(asked);
    if (up.mode === "lagging" && height > up.tip - 1)
      return json(404, { code: "HEIGHT_NOT_AVAILABLE", message: "not yet", details: {} });
    return json(200, { good, kind, id, height });
  };
  return { ups, fetch };
}

interface FakeWatch {
  onHead: ((h: BlockHeader) => void) | null;
}

function fakeVerifier(watch: FakeWatch): AnswerVerifier {
  const check = async (j: unknown): Promise<Verified> => {
    const a = j as { good: boolean; height: number; final?: boolean; kind: string };
    if (!a.good) throw new VerificationError("VERIFY_PROOF", "tampered");
    const final = a.final ?? true;
    return {
      json: a,
      ...(final && { etag: `"h${a.height}"` }),
      height: a.height,
      // As the real one: a validator set is checked against a header, not proven by one.
      ...(a.kind !== "validators" && { header: fakeHeader(a.height) }),
      final,
      // As the real one: a pending transaction's status is the upstream's word.
      ...(!final && { unverified: ["status"] }),
    };
  };
  return {
    account: check,
    block: check,
    header: check,
    transaction: check,
    validators: check,
    genesis: check,
    headerAt: async (h) => fakeHeader(h),
    watchHeads: (onHead, options) => {
      watch.onHead = onHead;
      const stop = () => {
        watch.onHead = null;
      };
      options.signal?.addEventListener("abort", stop);
      return stop;
    },
  };
}

function setup(count: number, options: Partial<EdgeOptions> = {}) {
  const net = fakeNetwork(count);
  let now = 1_000_000;
  const watch: FakeWatch = { onHead: null };
  const app: EdgeApp = createEdgeApp({
    upstreams: net.ups.map((_, i) => `http://up${i}`),
    chainId: CHAIN,
    trust: { genesisHash: GENESIS },
    fetch: net.fetch,
    verifierFor: () => fakeVerifier(watch),
    rateLimit: false,
    now: () => now,
    onInternalError: (err) => {
      throw err;
    },
    ...options,
  });
  const get = (path: string, headers: Record<string, string> = {}) =>
    app.request(path, { headers });
  return {
    ...net,
    app,
    watch,
    get,
    advance: (ms: number) => {
      now += ms;
    },
    /** Requests upstream i saw for `path` (prefix). */
    asked: (i: number, prefix: string) =>
      net.ups[i]!.seen.filter((s) => s.startsWith(`GET ${prefix}`)),
  };
}

const someAddress = () => formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));

describe("edge app: caching", () => {
  it("serves a miss from an upstream, then from the cache, with an ETag and a 304 for it", async () => {
    const t = setup(1);
    const first = await t.get("/v1/blocks/3");
    expect(first.status).toBe(200);
    expect(first.headers.get("x-edgeledger-cache")).toBe("miss");
    expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(first.headers.get("etag")).toBe('"h3"');
    expect(first.headers.get("x-edgeledger-height")).toBe("3");
    const body = await first.json();
    const again = await t.get("/v1/blocks/3");
    expect(again.headers.get("x-edgeledger-cache")).toBe("hit");
    expect(await again.json()).toEqual(body);
    expect(t.asked(0, "/v1/blocks/")).toEqual(["GET /v1/blocks/3"]);
    const unchanged = await t.get("/v1/blocks/3", { "if-none-match": 'W/"h3", "other"' });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers.get("etag")).toBe('"h3"');
    expect(await unchanged.text()).toBe("");
    expect(t.app.edge.metrics.get("cache_hits_total", { route: "getBlock" })).toBe(2);
    expect(t.app.edge.metrics.get("cache_misses_total", { route: "getBlock" })).toBe(1);
    // One store (memoryCache): the second and third reads hit it, the first missed it.
    expect(t.app.edge.metrics.get("cache_tier_hits_total", { tier: "memory" })).toBe(2);
    expect(t.app.edge.metrics.get("cache_tier_misses_total", { tier: "memory" })).toBe(1);
  });

  it("resolves latest reads to the verified head, so a new head means new keys", async () => {
    const t = setup(1, { headPollMs: 1000 });
    const address = someAddress();
    const a = await t.get(`/v1/accounts/${address}`);
    expect(a.status).toBe(200);
    expect(a.headers.get("cache-control")).toBe("public, max-age=1");
    expect(a.headers.get("x-edgeledger-height")).toBe("5");
    await t.get(`/v1/accounts/${address}`);
    await t.get(`/v1/accounts/${address}?height=5`); // the same state, asked by height
    expect(t.asked(0, "/v1/accounts/")).toEqual([`GET /v1/accounts/${address}?height=5`]);
    expect(t.asked(0, "/v1/status")).toHaveLength(1);

    t.ups[0]!.tip = 6;
    t.advance(999); // the head is still fresh: no new look
    expect((await t.get(`/v1/accounts/${address}`)).headers.get("x-edgeledger-height")).toBe("5");
    t.advance(1);
    const b = await t.get(`/v1/accounts/${address}`);
    expect(b.headers.get("x-edgeledger-height")).toBe("6");
    expect(b.headers.get("x-edgeledger-cache")).toBe("miss");
    expect(t.asked(0, "/v1/accounts/").at(-1)).toBe(`GET /v1/accounts/${address}?height=6`);

    const block = await t.get("/v1/blocks/latest");
    expect(block.headers.get("cache-control")).toBe("public, max-age=1");
    expect(t.asked(0, "/v1/blocks/")).toEqual(["GET /v1/blocks/6"]);
    // The latest block is the block at that height: one entry serves both.
    expect((await t.get("/v1/blocks/6")).headers.get("x-edgeledger-cache")).toBe("hit");

    const validators = await t.get("/v1/validators");
    expect(t.asked(0, "/v1/validators")).toEqual(["GET /v1/validators?height=7"]);
    expect(validators.headers.get("cache-control")).toBe("public, max-age=1");
    expect((await t.get("/v1/validators?height=9")).status).toBe(404);

    const statusAnswer = await t.get("/v1/status");
    // The head is the edge's verified one; the mempool figures and the upgrade schedule are the upstream's word.
    expect(statusAnswer.headers.get("x-edgeledger-unverified")).toBe(
      "mempool, protocolVersion, upgrades",
    );
    const status = (await statusAnswer.json()) as Record<string, unknown>;
    expect(status).toMatchObject({ height: 6, validator: null, mempool: { size: 3, bytes: 300 } });
    expect((await t.get("/v1/status")).headers.get("x-edgeledger-unverified")).toBe(
      "mempool, protocolVersion, upgrades",
    );
  });

  it("follows a head stream where one is held, without polling", async () => {
    const t = setup(1, { headMode: "stream" });
    t.app.edge.start();
    await new Promise((r) => setTimeout(r, 0));
    t.watch.onHead!(fakeHeader(9));
    await t.get("/v1/blocks/latest");
    expect(t.asked(0, "/v1/blocks/")).toEqual(["GET /v1/blocks/9"]);
    expect(t.asked(0, "/v1/status")).toEqual([]);
    t.app.edge.stop();
    expect(t.watch.onHead).toBeNull();
  });

  it("does not cache pending transactions or refusals", async () => {
    const t = setup(1);
    const pending = `/v1/transactions/${"ee".repeat(32)}`;
    const res = await t.get(pending);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("etag")).toBeNull();
    expect(res.headers.get("x-edgeledger-unverified")).toBe("status");
    await t.get(pending);
    expect(t.asked(0, "/v1/transactions/")).toHaveLength(2);

    t.ups[0]!.mode = "lagging";
    const refused = await t.get("/v1/headers/40");
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { code: string }).code).toBe("HEIGHT_NOT_AVAILABLE");
    expect(refused.headers.get("x-edgeledger-unverified")).toBe("*");
    await t.get("/v1/headers/40");
    expect(t.asked(0, "/v1/headers/")).toHaveLength(2);
  });

  it("shares one upstream fetch among concurrent requests for one key", async () => {
    const t = setup(1);
    let release = () => {};
    t.ups[0]!.gate = new Promise<void>((r) => {
      release = r;
    });
    const all = Array.from({ length: 20 }, () => t.get("/v1/headers/4"));
    await new Promise((r) => setTimeout(r, 10));
    release();
    const answers = await Promise.all(all);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(t.asked(0, "/v1/headers/")).toEqual(["GET /v1/headers/4"]);
    expect(answers.filter((a) => a.headers.get("x-edgeledger-cache") === "shared")).toHaveLength(
      19,
    );
    expect(t.app.edge.metrics.get("singleflight_shared_total", { route: "getHeader" })).toBe(19);
  });
});

describe("edge app: a failing store", () => {
  it("serves verified answers when the cache cannot read or keep them", async () => {
    const errors: unknown[] = [];
    const t = setup(1, {
      cache: {
        get: async () => {
          throw new Error("cache down");
        },
        put: async () => {
          throw new Error("cache down");
        },
      },
      onInternalError: (err) => errors.push(err),
    });
    expect((await t.get("/v1/blocks/2")).status).toBe(200);
    expect((await t.get("/v1/blocks/2")).status).toBe(200);
    expect(t.asked(0, "/v1/blocks/")).toHaveLength(2);
    expect(errors).toHaveLength(4);
  });
});

describe("edge app: failover and verification", () => {
  it("never caches an answer that fails verification, and serves the next upstream's", async () => {
    const t = setup(2);
    t.ups[0]!.mode = "tampered";
    const res = await t.get("/v1/blocks/2");
    expect(res.status).toBe(200);
    expect(t.asked(0, "/v1/blocks/")).toEqual(["GET /v1/blocks/2"]);
    expect(t.asked(1, "/v1/blocks/")).toEqual(["GET /v1/blocks/2"]);
    expect(
      t.app.edge.metrics.get("verification_failures_total", { upstream: 0, code: "VERIFY_PROOF" }),
    ).toBe(1);
    // The liar is put aside: the next miss goes to the honest one first.
    await t.get("/v1/blocks/3");
    expect(t.asked(0, "/v1/blocks/")).toHaveLength(1);
    expect(t.app.edge.pool.isHealthy(0)).toBe(false);

    // None verifies: 502 with the typed body, and nothing is cached.
    t.ups[1]!.mode = "tampered";
    const bad = await t.get("/v1/blocks/4");
    expect(bad.status).toBe(502);
    expect(await bad.json()).toMatchObject({
      code: "EDGE_UNVERIFIED",
      details: {
        failures: [
          { upstream: 1, code: "VERIFY_PROOF" },
          { upstream: 0, code: "VERIFY_PROOF" },
        ],
      },
    });
    t.ups[1]!.mode = "honest";
    const good = await t.get("/v1/blocks/4");
    expect(good.status).toBe(200);
    expect(good.headers.get("x-edgeledger-cache")).toBe("miss");
  });

  it("fails over past an upstream that is down, and says so when all are", async () => {
    const t = setup(2);
    t.ups[0]!.mode = "down";
    expect((await t.get("/v1/headers/1")).status).toBe(200);
    expect(t.app.edge.metrics.get("upstream_errors_total", { upstream: 0 })).toBe(1);
    t.ups[1]!.mode = "down";
    const res = await t.get("/v1/headers/2");
    expect(res.status).toBe(502);
    expect(((await res.json()) as { code: string }).code).toBe("EDGE_UPSTREAM_UNAVAILABLE");
    // The cached answer still serves.
    expect((await t.get("/v1/headers/1")).status).toBe(200);
  });

  it("reads a bounded part of an upstream's answer without end, and serves the next upstream's (reads and writes)", async () => {
    const t = setup(2);
    t.ups[0]!.mode = "endless";
    expect((await t.get("/v1/headers/1")).status).toBe(200);
    expect(t.asked(1, "/v1/headers/1")).toHaveLength(1);
    // Cut off near the 32 MiB bound (a few chunks the stream reads ahead), not read to
    // the end (64 MiB here, none in an attack).
    expect(t.ups[0]!.sent).toBeLessThanOrEqual(40 * 1024 * 1024);
    const w = setup(2);
    w.ups[0]!.mode = "endless";
    w.ups[0]!.post = () => endlessAnswer(w.ups[0]!);
    const submit = await w.app.request("/v1/transactions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"tx":"00"}',
    });
    expect(submit.status).toBe(202);
    expect(w.ups[1]!.seen).toContain("POST /v1/transactions");
    // A submission's answer is cut off near 1 MiB.
    expect(w.ups[0]!.sent).toBeGreaterThan(0);
    expect(w.ups[0]!.sent).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it("asks the next upstream when one lags behind a height the edge has verified", async () => {
    const t = setup(2);
    t.ups[0]!.mode = "lagging";
    const res = await t.get("/v1/blocks/latest");
    expect(res.status).toBe(200);
    expect(t.asked(1, "/v1/blocks/")).toEqual(["GET /v1/blocks/5"]);
    expect(t.app.edge.pool.isHealthy(0)).toBe(true);
  });

  it("believes a head only once its header verifies", async () => {
    const t = setup(2);
    const watch: FakeWatch = { onHead: null };
    const liar = fakeVerifier(watch);
    const app = createEdgeApp({
      upstreams: ["http://up0", "http://up1"],
      chainId: CHAIN,
      trust: { genesisHash: GENESIS },
      fetch: t.fetch,
      verifierFor: (i) =>
        i === 0
          ? {
              ...liar,
              headerAt: async () => {
                throw new VerificationError("VERIFY_HEADER", "forged head");
              },
            }
          : liar,
    });
    t.ups[0]!.tip = 50;
    await app.request("/v1/blocks/latest");
    expect(app.edge.head.head?.height).toBe(5);
    expect(
      app.edge.metrics.get("verification_failures_total", { upstream: 0, code: "VERIFY_HEADER" }),
    ).toBe(1);
  });
});

describe("edge app: writes, limits and requests", () => {
  it("forwards submissions to a healthy upstream and passes its answer through", async () => {
    const t = setup(2);
    const submit = (body = '{"tx":"00"}', type = "application/json") =>
      t.app.request("/v1/transactions", {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
    t.ups[0]!.post = () => json(503, { code: "MEMPOOL_FULL", message: "full", details: {} });
    const ok = await submit();
    expect(ok.status).toBe(202);
    expect(ok.headers.get("location")).toBe("/x");
    expect(ok.headers.get("x-edgeledger-unverified")).toBe("*");
    expect(t.ups[1]!.seen).toEqual(["POST /v1/transactions"]);
    t.ups[1]!.post = () => json(400, { code: "TX_NONCE_TOO_LOW", message: "low", details: {} });
    const refused = await submit();
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe("TX_NONCE_TOO_LOW");
    t.ups[1]!.post = t.ups[0]!.post;
    const full = await submit();
    expect(full.status).toBe(503);
    expect(((await full.json()) as { code: string }).code).toBe("MEMPOOL_FULL");
    t.ups[0]!.mode = "down";
    t.ups[1]!.mode = "down";
    expect((await submit()).status).toBe(502);
    expect((await submit("tx=00", "text/plain")).status).toBe(415);
    const batch = await t.app.request("/v1/transactions/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(10_000_000),
    });
    expect(batch.status).toBe(413);
  });

  it("does not put aside an upstream whose mempool is full: it works as designed, with a Retry-After", async () => {
    const t = setup(2);
    const submit = () =>
      t.app.request("/v1/transactions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"tx":"00"}',
      });
    const full = () =>
      json(
        503,
        { code: "MEMPOOL_FULL", message: "full", details: { retryAfterMs: 2000 } },
        { "retry-after": "2" },
      );
    t.ups[0]!.post = full;
    // The next upstream takes it, and the full one stays healthy, in the order and in /health.
    expect((await submit()).status).toBe(202);
    expect(t.app.edge.pool.health().map((h) => [h.healthy, h.failures])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    expect(t.app.edge.metrics.get("upstream_errors_total", { upstream: 0 })).toBe(0);
    expect(t.app.edge.metrics.get("upstream_busy_total", { upstream: 0 })).toBe(1);
    // Until its Retry-After (2 s) the busy one is asked after the others: a hostile
    // upstream that answers "full" slowly to every write costs the next ones nothing.
    // (Its reads go well meanwhile, so it is the preferred upstream.)
    const posts = (i: number) => t.ups[i]!.seen.filter((x) => x.startsWith("POST")).length;
    t.app.edge.pool.succeeded(0);
    expect((await submit()).status).toBe(202);
    expect([posts(0), posts(1)]).toEqual([1, 2]);
    t.advance(2001);
    t.app.edge.pool.succeeded(0);
    expect((await submit()).status).toBe(202);
    expect([posts(0), posts(1)]).toEqual([2, 3]);
    // Both full: the client gets the node's answer and its Retry-After; still nobody put aside.
    t.ups[1]!.post = full;
    const refused = await submit();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("2");
    expect(((await refused.json()) as { code: string }).code).toBe("MEMPOOL_FULL");
    expect(t.app.edge.pool.health().every((h) => h.healthy && h.failures === 0)).toBe(true);
    // Not put aside: with upstream 1 gone, reads go to upstream 0 at once (no backoff to wait out).
    t.ups[1]!.mode = "down";
    expect((await t.get("/v1/blocks/2")).status).toBe(200);
    expect(t.asked(0, "/v1/blocks/")).toEqual(["GET /v1/blocks/2"]);
    t.ups[1]!.mode = "honest";
    // A failing upstream (a 5xx that is not a full mempool) is still put aside.
    t.ups[0]!.post = () => json(500, { code: "INTERNAL", message: "x", details: {} });
    delete t.ups[1]!.post;
    expect((await submit()).status).toBe(202);
    expect(t.app.edge.pool.health()[0]).toMatchObject({ healthy: false, failures: 1 });
  });

  it("cannot be dodged with a header: untrusted, a new x-forwarded-for is the same client", async () => {
    const t = setup(1, {
      rateLimit: { ratePerSecond: 1, burst: 2 },
      clientAddress: () => "192.0.2.7",
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await t.get("/v1/headers/1", {
            "x-forwarded-for": `198.51.100.${i}`,
            "cf-connecting-ip": `203.0.113.${i}`,
          })
        ).status,
      );
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(t.app.edge.rateLimitKey).toBe("the connection's address (proxy headers not trusted)");
    expect(setup(1).app.edge.rateLimitKey).toBeNull();
  });

  it("limits each client with 429, Retry-After and the typed body", async () => {
    const t = setup(1, { rateLimit: { ratePerSecond: 1, burst: 2, trustProxyHeaders: true } });
    const from = (ip: string) => t.get("/v1/headers/1", { "cf-connecting-ip": ip });
    expect((await from("1.1.1.1")).status).toBe(200);
    expect((await from("1.1.1.1")).status).toBe(200);
    const limited = await from("1.1.1.1");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("1");
    expect(limited.headers.get("access-control-allow-origin")).toBe("*");
    expect(await limited.json()).toEqual({
      code: "EDGE_RATE_LIMITED",
      message: "Too many requests from this client; retry in 1 s.",
      details: { retryAfterSeconds: 1 },
    });
    expect((await from("2.2.2.2")).status).toBe(200);
    expect((await t.get("/health", { "cf-connecting-ip": "1.1.1.1" })).status).toBe(200);
    t.advance(1000);
    expect((await from("1.1.1.1")).status).toBe(200);
    expect(t.app.edge.metrics.get("rate_limited_total")).toBe(1);
  });

  it("checks requests as the node does, and answers CORS for any origin", async () => {
    const t = setup(1);
    const code = async (path: string) =>
      ((await (await t.get(path)).json()) as { code: string }).code;
    expect(await code("/v1/accounts/el1nope")).toMatch(/^ADDRESS_/);
    expect(await code(`/v1/accounts/${someAddress()}?height=1&x=2`)).toBe("REQUEST_INVALID");
    expect(await code(`/v1/accounts/${someAddress()}?height=01`)).toBe("REQUEST_INVALID");
    expect(await code("/v1/blocks/nope")).toBe("REQUEST_INVALID");
    expect(await code("/v1/blocks/99999999999999999")).toBe("REQUEST_INVALID");
    expect(await code("/v1/transactions/ABC")).toBe("REQUEST_INVALID");
    expect(await code("/v1/nothing")).toBe("NOT_FOUND");
    expect(t.ups[0]!.seen).toEqual([]);
    const preflight = await t.app.request("/v1/transactions", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("reports health and metrics", async () => {
    const t = setup(2);
    await t.get("/v1/blocks/latest");
    const health = (await (await t.get("/health")).json()) as Record<string, unknown>;
    expect(health).toEqual({
      ok: true,
      status: "ready",
      message: "Serving verified reads.",
      height: 5,
      // The fake headers' times are ahead of this test's clock: age 0.
      headAgeMs: 0,
      maxHeadAgeMs: 120_000,
      upstreams: [
        { upstream: 0, healthy: true, failures: 0 },
        { upstream: 1, healthy: true, failures: 0 },
      ],
    });
    const text = await (await t.get("/metrics")).text();
    expect(text).toContain('edgeledger_edge_cache_misses_total{route="getBlock"} 1');
    expect(text).toContain("edgeledger_edge_head_height 5");
    expect(text).toContain(`edgeledger_edge_chain_info{chain_id="${CHAIN}"} 1`);
    expect(text).toContain('edgeledger_edge_upstream_requests_total{upstream="0"} 2');
  });

  describe("GET /health: readiness, and liveness with ?probe=live", () => {
    const T0 = fakeHeader(5).time;
    const clocked = (count: number) => {
      let now = T0;
      const t = setup(count, { now: () => now });
      return {
        ...t,
        advance: (ms: number) => {
          now += ms;
        },
      };
    };
    const health = async (t: { get: (p: string) => Promise<Response> | Response }, query = "") => {
      const res = await t.get(`/health${query}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    it("is ready once a head verified, checking one itself when none is known", async () => {
      const t = clocked(1);
      // Nothing read yet: the probe itself asks for a verified head.
      const { status, body } = await health(t);
      expect(status).toBe(200);
      expect(body).toMatchObject({ ok: true, status: "ready", height: 5, headAgeMs: 0 });
      expect(t.asked(0, "/v1/status")).toHaveLength(1);
    });

    it("answers liveness without asking any upstream, whatever the state", async () => {
      const t = clocked(2);
      for (const up of t.ups) up.mode = "down";
      const { status, body } = await health(t, "?probe=live");
      expect(status).toBe(200);
      expect(body).toMatchObject({ ok: false, status: "no-verified-head", height: null });
      expect(t.ups.flatMap((u) => u.seen)).toEqual([]);
    });

    it("answers 503 no-upstream when every upstream is put aside", async () => {
      const t = clocked(2);
      for (const up of t.ups) up.mode = "down";
      const { status, body } = await health(t);
      expect(status).toBe(503);
      expect(body).toMatchObject({
        ok: false,
        status: "no-upstream",
        height: null,
        upstreams: [
          { upstream: 0, healthy: false, failures: 1 },
          { upstream: 1, healthy: false, failures: 1 },
        ],
      });
      expect(body["message"]).toMatch(/upstream/);
      expect((await health(t, "?probe=live")).status).toBe(200);
    });

    it("answers 503 head-stale when the verified head stops moving past the bound", async () => {
      const t = clocked(1);
      expect((await health(t)).status).toBe(200);
      // The upstream answers, but its tip does not move: the chain (or it) stalls.
      t.advance(120_000);
      expect((await health(t)).body).toMatchObject({ status: "ready", headAgeMs: 120_000 });
      t.advance(1);
      const stale = await health(t);
      expect(stale.status).toBe(503);
      expect(stale.body).toMatchObject({
        ok: false,
        status: "head-stale",
        height: 5,
        headAgeMs: 120_001,
        maxHeadAgeMs: 120_000,
      });
      expect((await health(t, "?probe=live")).status).toBe(200);
      // A new head brings it back.
      t.ups[0]!.tip = 6;
      t.advance(1000);
      // The head moves up, but a header's own time says how old it is: still stale.
      expect((await health(t)).body).toMatchObject({ status: "head-stale", height: 6 });
    });

    it("refuses a query it does not know, as the node's /v1/health does", async () => {
      const t = clocked(1);
      for (const q of ["?probe=maybe", "?probe=live&probe=live", "?x=1"]) {
        const { status, body } = await health(t, q);
        expect(status, q).toBe(400);
        expect(body["code"], q).toBe("REQUEST_INVALID");
      }
      expect(t.ups[0]!.seen).toEqual([]);
    });
  });

  it("refuses a configuration it cannot serve", () => {
    const base = { chainId: CHAIN, trust: { genesisHash: GENESIS } };
    expect(() => createEdgeApp({ ...base, upstreams: [] })).toThrow(/at least one upstream/);
    expect(() => createEdgeApp({ ...base, upstreams: ["ftp://x"] })).toThrow(/not an http/);
  });
});

/** Waits for `cond`, checking each few ms, for at most `timeoutMs`. */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Reads a Server-Sent Events answer block by block ("\n\n"-terminated),
 * each read under a deadline so a test that waits for a block that never
 * comes fails instead of hanging.
 */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const next = async (timeoutMs = 2000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return block;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("no event in time")),
          Math.max(0, deadline - Date.now()),
        );
      });
      const { value, done } = await Promise.race([reader.read(), timeout]).finally(() =>
        clearTimeout(timer),
      );
      if (done) throw new Error("stream ended");
      buffer += value;
    }
  };
  /** The next head event's data, skipping comments (subscribed, heartbeats). */
  const nextHead = async () => {
    for (;;) {
      const block = await next();
      if (block.startsWith(":")) continue;
      const [event, data] = block.split("\n");
      expect(event).toBe("event: head");
      return JSON.parse(data!.slice("data: ".length)) as { kind: string; height: number };
    }
  };
  return { next, nextHead, cancel: () => reader.cancel().catch(() => undefined) };
}

describe("edge app: GET /v1/heads, verified heads as Server-Sent Events", () => {
  /** Stream mode: heads come from the (fake) upstream head stream, told by `push`. */
  async function streaming(count: number, options: Partial<EdgeOptions> = {}) {
    const t = setup(count, { headMode: "stream", ...options });
    t.app.edge.start();
    await new Promise((r) => setTimeout(r, 0));
    const push = (height: number) => {
      for (const up of t.ups) up.tip = height;
      t.watch.onHead!(fakeHeader(height));
    };
    const subscribe = () => t.app.request("/v1/heads");
    return { ...t, push, subscribe };
  }

  it("relays each verified head in the node's format: event head, the certified header as data", async () => {
    const t = await streaming(1);
    t.push(5);
    const res = await t.subscribe();
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const events = sseReader(res);
    expect(await events.next()).toBe(": subscribed");
    // The current head first; its data is the verified header answer, as GET /v1/headers/5 serves it.
    expect(await events.nextHead()).toEqual({ good: true, kind: "headers", id: "5", height: 5 });
    t.push(6);
    expect((await events.nextHead()).height).toBe(6);
    expect(t.asked(0, "/v1/headers/")).toEqual(["GET /v1/headers/5", "GET /v1/headers/6"]);
    // The header was verified and cached on the way: a read of it asks no one.
    expect((await t.get("/v1/headers/6")).headers.get("x-edgeledger-cache")).toBe("hit");
    expect(t.app.edge.metrics.get("head_streams")).toBe(1);
    await events.cancel();
    expect(t.app.edge.headStreams!.size).toBe(0);
    expect(t.app.edge.metrics.get("head_streams")).toBe(0);
    t.app.edge.stop();
  });

  it("never relays a head whose certified header does not verify", async () => {
    const t = await streaming(1);
    t.push(5);
    const events = sseReader(await t.subscribe());
    expect((await events.nextHead()).height).toBe(5);
    // The upstream now serves a header with a bad certificate for height 6.
    t.ups[0]!.mode = "tampered";
    t.push(6);
    const failures = () =>
      t.app.edge.metrics.get("verification_failures_total", { upstream: 0, code: "VERIFY_PROOF" });
    await until(() => failures() === 1);
    t.ups[0]!.mode = "honest";
    t.push(7);
    // In order: 7 comes next, so 6 was never sent.
    expect((await events.nextHead()).height).toBe(7);
    expect(t.asked(0, "/v1/headers/")).toEqual([
      "GET /v1/headers/5",
      "GET /v1/headers/6",
      "GET /v1/headers/7",
    ]);
    expect(
      t.app.edge.metrics.get("verification_failures_total", { upstream: 0, code: "VERIFY_PROOF" }),
    ).toBe(1);
    await events.cancel();
    t.app.edge.stop();
  });

  it("in poll mode, each stream asks for the head itself (Workers)", async () => {
    const t = setup(1, { headMode: "poll", headPollMs: 10, now: Date.now });
    const events = sseReader(await t.app.request("/v1/heads"));
    expect((await events.nextHead()).height).toBe(5);
    t.ups[0]!.tip = 8;
    expect((await events.nextHead()).height).toBe(8);
    await events.cancel();
  });

  it("refuses subscribers past maxSubscribers with 503 EDGE_STREAMS_FULL and Retry-After", async () => {
    const t = await streaming(1, { headStream: { maxSubscribers: 2 } });
    t.push(5);
    const a = sseReader(await t.subscribe());
    const b = sseReader(await t.subscribe());
    const refused = await t.subscribe();
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await refused.json()).toMatchObject({
      code: "EDGE_STREAMS_FULL",
      details: { maxSubscribers: 2 },
    });
    expect(t.app.edge.metrics.get("head_streams_refused_total")).toBe(1);
    // One leaves: room for another.
    await a.cancel();
    const c = await t.subscribe();
    expect(c.status).toBe(200);
    await b.cancel();
    await c.body!.cancel();
    t.app.edge.stop();
  });

  it("drops a subscriber that does not read, and keeps serving the others", async () => {
    // Room for the first line and about one head event.
    const t = await streaming(1, { headStream: { maxQueuedBytes: 120 } });
    t.push(5);
    const reading = sseReader(await t.subscribe());
    const stalled = await t.subscribe();
    expect((await reading.nextHead()).height).toBe(5);
    for (let h = 6; h <= 9; h++) {
      t.push(h);
      expect((await reading.nextHead()).height).toBe(h);
    }
    expect(t.app.edge.metrics.get("head_streams_dropped_total")).toBe(1);
    expect(t.app.edge.headStreams!.size).toBe(1);
    // What it had queued is gone: the stream ends in an error.
    await expect(
      (async () => {
        const r = stalled.body!.getReader();
        for (;;) if ((await r.read()).done) return;
      })(),
    ).rejects.toThrow(/did not read/);
    await reading.cancel();
    t.app.edge.stop();
  });

  it("sends heartbeat comments on an idle stream, and stop() ends every stream", async () => {
    const t = await streaming(1, { headStream: { heartbeatMs: 10 } });
    const events = sseReader(await t.subscribe());
    expect(await events.next()).toBe(": subscribed");
    expect(await events.next()).toBe(": heartbeat");
    t.app.edge.stop();
    expect(t.app.edge.headStreams!.size).toBe(0);
    await expect(events.next()).rejects.toThrow(/stream ended/);
  });

  it("is not served with headStream: false, and refuses a query", async () => {
    expect((await setup(1, { headStream: false }).get("/v1/heads")).status).toBe(404);
    const res = await setup(1).get("/v1/heads?x=1");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("REQUEST_INVALID");
  });
});

describe("edge app: the request's form (the node's rules, from the SDK)", () => {
  const errorOf = async (res: Response) => {
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { code: string; message: string; details: object };
    expect(Object.keys(body).sort()).toEqual(["code", "details", "message"]);
    return body;
  };

  it.each([
    ["/v1/blocks/%ff", "bad percent-encoding"],
    ["/v1/accounts/%c3%28", "bad percent-encoding"],
    [`/v1/transactions/${"a".repeat(300)}`, "segment too long"],
  ])("GET %s → 400 REQUEST_INVALID (%s)", async (path, problem) => {
    const res = await setup(1).get(path);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "REQUEST_INVALID",
      details: { in: "path", problem },
    });
  });

  it("an address longer than the route table allows → 400 REQUEST_INVALID, as the node's schema says", async () => {
    const res = await setup(1).get(`/v1/accounts/el1${"q".repeat(120)}`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "REQUEST_INVALID",
      details: { in: "params", field: "address" },
    });
  });

  it("a height given twice → 400 REQUEST_INVALID, not the first one served", async () => {
    const t = setup(1);
    const res = await t.get(`/v1/accounts/${someAddress()}?height=1&height=2`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "REQUEST_INVALID",
      details: { in: "querystring", field: "height" },
    });
    expect(t.asked(0, "/v1/accounts")).toEqual([]);
  });

  it.each([
    ["DELETE", "/v1/status", "GET, HEAD"],
    ["PATCH", "/v1/blocks/1", "GET, HEAD"],
    ["PUT", "/v1/transactions", "POST"],
    ["GET", "/v1/transactions", "POST"],
  ])("%s %s → 405 METHOD_NOT_ALLOWED with Allow", async (method, path, allow) => {
    const res = await setup(1).app.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect(await errorOf(res)).toMatchObject({
      code: "METHOD_NOT_ALLOWED",
      details: { method, path, allowed: allow.split(", ") },
    });
  });

  it("a node-only path is not found here, whatever the method", async () => {
    const res = await setup(1).app.request("/v1/dev/transfer", { method: "GET" });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("NOT_FOUND");
  });

  it.each(["application/jsonx", "application/json-patch+json", "text/json"])(
    "content-type %s → 415, as the node answers it, and nothing is forwarded",
    async (type) => {
      const t = setup(1);
      const res = await t.app.request("/v1/transactions", {
        method: "POST",
        headers: { "content-type": type },
        body: '{"tx":"00"}',
      });
      expect(res.status).toBe(415);
      expect((await errorOf(res)).code).toBe("REQUEST_INVALID");
      expect(t.ups[0]!.seen.filter((s) => s.startsWith("POST"))).toEqual([]);
    },
  );
});
