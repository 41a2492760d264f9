/**
 * The Workers Cache API (`caches.default`) as a store: shared by every
 * isolate of a Cloudflare data centre, so one verified fetch serves them
 * all. Keys become synthetic URLs on a host that cannot exist (`.invalid`),
 * so nothing but this code ever writes them.
 *
 * Cloudflare stores nothing for a worker on a `*.workers.dev` host: bind a
 * route on your own zone for this tier to hold anything (the edge still
 * works without it, from its memory tier and its upstreams).
 */
import { EdgeError } from "../errors.ts";
import { type CacheStore, IMMUTABLE_MAX_AGE, ttlOf } from "./store.ts";

/** The part of the Cache API this store uses (`caches.default` in Workers). */
export interface CacheLike {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

export interface WorkersCacheOptions {
  /** Default: `caches.default` of the Workers runtime. */
  readonly cache?: CacheLike;
  /** Where the synthetic key URLs live. */
  readonly baseUrl?: string;
}

const ETAG = "x-edgeledger-etag";
const HEIGHT = "x-edgeledger-height";
const IMMUTABLE = "x-edgeledger-immutable";

function defaultCache(): CacheLike {
  const cache = (globalThis as { caches?: { default?: CacheLike } }).caches?.default;
  if (!cache)
    throw new EdgeError(
      "EDGE_CONFIG_INVALID",
      "No caches.default here: the Workers Cache API store runs only in the Workers runtime; use memoryCache() elsewhere.",
    );
  return cache;
}

export function workersCache(options: WorkersCacheOptions = {}): CacheStore {
  const cache = options.cache ?? defaultCache();
  const base = (options.baseUrl ?? "https://edge-cache.edgeledger.invalid/").replace(/\/?$/, "/");
  const request = (key: string) => new Request(base + encodeURIComponent(key));

  return {
    tier: "cache_api",
    async get(key) {
      const res = await cache.match(request(key));
      if (!res) return undefined;
      const etag = res.headers.get(ETAG);
      // Not ours, or written by another version: a miss, never a guess.
      if (!res.ok || etag === null) return undefined;
      const height = res.headers.get(HEIGHT);
      return {
        body: await res.text(),
        etag,
        ...(height !== null && { height: Number(height) }),
        immutable: res.headers.get(IMMUTABLE) === "1",
      };
    },

    async put(key, answer, policy) {
      const ttl = ttlOf(policy);
      if (ttl !== null && ttl <= 0) return;
      const headers = new Headers({
        "content-type": "application/json; charset=utf-8",
        // The Cache API expires entries by this header.
        "cache-control":
          ttl === null
            ? `public, max-age=${IMMUTABLE_MAX_AGE}, immutable`
            : `public, max-age=${ttl}`,
        [ETAG]: answer.etag,
        [IMMUTABLE]: ttl === null ? "1" : "0",
      });
      if (answer.height !== undefined) headers.set(HEIGHT, String(answer.height));
      await cache.put(request(key), new Response(answer.body, { headers }));
    },
  };
}
