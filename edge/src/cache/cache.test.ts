import { describe, expect, it } from "vitest";
import { type CacheLike, workersCache } from "./cacheApi.ts";
import { type KvLike, kvCache } from "./kv.ts";
import { memoryCache } from "./memory.ts";
import { SingleFlight } from "./singleFlight.ts";
import type { CachedAnswer, StoredAnswer } from "./store.ts";
import { tieredCache } from "./tiered.ts";

const answer = (body: string, height?: number): CachedAnswer => ({
  body,
  etag: `"${body.length}"`,
  ...(height !== undefined && { height }),
});

/** A Cache API in memory: what caches.default does, minus expiry. */
function fakeCacheApi(): CacheLike & { urls: string[] } {
  const stored = new Map<string, { body: string; headers: Headers }>();
  return {
    get urls() {
      return [...stored.keys()];
    },
    async match(req) {
      const e = stored.get(req.url);
      return e ? new Response(e.body, { headers: e.headers }) : undefined;
    },
    async put(req, res) {
      stored.set(req.url, { body: await res.text(), headers: new Headers(res.headers) });
    },
  };
}

function fakeKv(): KvLike & { puts: { key: string; ttl: number | undefined }[] } {
  const stored = new Map<string, { value: string; metadata: unknown }>();
  const puts: { key: string; ttl: number | undefined }[] = [];
  return {
    puts,
    async getWithMetadata(key) {
      const e = stored.get(key);
      return e ? { value: e.value, metadata: e.metadata } : { value: null, metadata: null };
    },
    async put(key, value, options) {
      puts.push({ key, ttl: options?.expirationTtl });
      stored.set(key, { value, metadata: options?.metadata });
    },
  };
}

/** A stored answer's fields, its body read out (stores may keep bytes instead). */
const plain = (a: StoredAnswer | undefined) =>
  a && {
    body: a.body,
    etag: a.etag,
    ...(a.height !== undefined && { height: a.height }),
    immutable: a.immutable,
  };

describe("memory cache", () => {
  it("evicts the least recently used answers once over its byte budget", async () => {
    const cache = memoryCache({ maxBytes: 3 * (1 + 100 + 5 + 128) }); // key, body, tag, slot
    const body = "x".repeat(100);
    for (const k of ["a", "b", "c"]) await cache.put(k, answer(body), { immutable: true });
    expect(cache.size).toBe(3);
    await cache.get("a"); // a is now the most recent; b the least
    await cache.put("d", answer(body), { immutable: true });
    expect(await cache.get("b")).toBeUndefined();
    expect((await cache.get("a"))?.body).toBe(body);
    expect((await cache.get("a"))?.bytes).toEqual(new TextEncoder().encode(body));
    expect((await cache.get("d"))?.immutable).toBe(true);
    expect(cache.bytes).toBeLessThanOrEqual(3 * (1 + 100 + 5 + 128));
  });

  it("expires TTL answers by its clock, keeps immutable ones, and skips an answer bigger than it", async () => {
    let now = 1_000;
    const cache = memoryCache({ maxBytes: 10_000, now: () => now });
    await cache.put("t", answer("{}", 5), { ttlSeconds: 2 });
    await cache.put("i", answer("{}"), { immutable: true });
    await cache.put("zero", answer("{}"), { ttlSeconds: 0 });
    now += 1_999;
    expect(plain(await cache.get("t"))).toEqual({ ...answer("{}", 5), immutable: false });
    now += 1;
    expect(await cache.get("t")).toBeUndefined();
    expect(await cache.get("zero")).toBeUndefined();
    now += 10 ** 9;
    expect(await cache.get("i")).toBeDefined();
    await cache.put("huge", answer("x".repeat(20_000)), { immutable: true });
    expect(await cache.get("huge")).toBeUndefined();
    expect(await cache.get("i")).toBeDefined();
  });
});

describe("Workers Cache API store", () => {
  it("keeps answers under synthetic URLs with their tag, height and lifetime", async () => {
    const api = fakeCacheApi();
    const cache = workersCache({ cache: api });
    await cache.put("chain/abc/block/7", answer('{"b":7}', 7), { immutable: true });
    await cache.put("chain/abc/status/7", answer('{"s":1}', 7), { ttlSeconds: 1 });
    expect(api.urls).toEqual([
      "https://edge-cache.edgeledger.invalid/chain%2Fabc%2Fblock%2F7",
      "https://edge-cache.edgeledger.invalid/chain%2Fabc%2Fstatus%2F7",
    ]);
    expect(await cache.get("chain/abc/block/7")).toEqual({
      ...answer('{"b":7}', 7),
      immutable: true,
    });
    expect((await cache.get("chain/abc/status/7"))?.immutable).toBe(false);
    expect(await cache.get("chain/abc/block/8")).toBeUndefined();
    const res = await api.match(new Request(api.urls[0]!));
    expect(res?.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("refuses to start outside the Workers runtime without a cache given", () => {
    expect(() => workersCache()).toThrow(/caches.default/);
  });
});

describe("KV store", () => {
  it("keeps immutable answers for good and TTL answers only when KV can expire them in time", async () => {
    const kv = fakeKv();
    const cache = kvCache(kv);
    await cache.put("i", answer("{}", 3), { immutable: true });
    await cache.put("short", answer("{}"), { ttlSeconds: 1 });
    await cache.put("long", answer("{}"), { ttlSeconds: 120 });
    expect(kv.puts).toEqual([
      { key: "i", ttl: undefined },
      { key: "long", ttl: 120 },
    ]);
    expect(await cache.get("i")).toEqual({ ...answer("{}", 3), immutable: true });
    expect(await cache.get("short")).toBeUndefined();
  });
});

describe("tiered cache", () => {
  it("reads through the tiers and copies immutable answers up", async () => {
    const fast = memoryCache();
    const slow = memoryCache();
    const cache = tieredCache([fast, slow]);
    await slow.put("i", answer("{}"), { immutable: true });
    await slow.put("t", answer("[]"), { ttlSeconds: 60 });
    expect((await cache.get("i"))?.body).toBe("{}");
    expect(await fast.get("i")).toBeDefined();
    expect((await cache.get("t"))?.body).toBe("[]");
    expect(await fast.get("t")).toBeUndefined();
    await cache.put("new", answer("1"), { immutable: true });
    expect(await fast.get("new")).toBeDefined();
    expect(await slow.get("new")).toBeDefined();
  });

  it("reports each tier a lookup tried, by the tier's name, hit or miss", async () => {
    const fast = memoryCache();
    const slow = { ...memoryCache(), tier: "slow" };
    const cache = tieredCache([fast, slow]);
    const seen: string[] = [];
    cache.observeLookups?.((tier, hit) => seen.push(`${tier} ${hit ? "hit" : "miss"}`));
    await slow.put("i", answer("{}"), { immutable: true });
    await cache.get("i"); // not in memory yet: found below, copied up
    cache.peek?.("i"); // now in memory, at once
    await cache.get("absent");
    expect(seen).toEqual(["memory miss", "slow hit", "memory hit", "memory miss", "slow miss"]);
  });
});

describe("single-flight", () => {
  it("runs one fetch for concurrent callers of a key, and a new one after it settles", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const fn = async () => {
      runs++;
      await gate;
      return runs;
    };
    const calls = Array.from({ length: 5 }, () => flights.run("k", fn));
    expect(calls.map((c) => c.shared)).toEqual([false, true, true, true, true]);
    expect(flights.run("other", async () => 0).shared).toBe(false);
    release();
    expect(await Promise.all(calls.map((c) => c.promise))).toEqual([1, 1, 1, 1, 1]);
    expect(flights.run("k", fn).shared).toBe(false);
    expect(runs).toBe(2);
  });

  it("shares a failure too, and forgets it", async () => {
    const flights = new SingleFlight<number>();
    const a = flights.run("k", async () => {
      throw new Error("down");
    });
    const b = flights.run("k", async () => 1);
    await expect(a.promise).rejects.toThrow("down");
    await expect(b.promise).rejects.toThrow("down");
    expect(flights.size).toBe(0);
  });
});
