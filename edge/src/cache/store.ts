/**
 * The cache subsystem: where the edge keeps answers it has verified. One
 * interface, several stores (an in-memory LRU, the Workers Cache API,
 * Workers KV, and tiers of them). Stores hold only what the app hands them
 * after verification and never decide what is fresh beyond the policy they
 * are given: which answers are immutable and how "latest" maps to a height
 * is the app's business (app.ts).
 */

/** One answer as the edge keeps it: the JSON text it verified, and what its headers need. */
export interface CachedAnswer {
  /** The JSON text served, exactly as rendered after verification. */
  readonly body: string;
  /** The entity tag, quoted (`"ab12…"`, or weak `W/"…"`). */
  readonly etag: string;
  /** The height the answer is valid at, when it has one. */
  readonly height?: number;
}

/** How long a store may keep an answer. */
export type CachePolicy =
  /** Final data (a final block, a committed transaction): keep it for good. */
  | { readonly immutable: true }
  /** Keep it at most this long. */
  | { readonly ttlSeconds: number };

/** What a store answers: the answer, and whether it was stored for good (tiers copy those up). */
export interface StoredAnswer extends CachedAnswer {
  readonly immutable: boolean;
  /** The body as UTF-8, when the store keeps it so: sent as it is, not encoded again per hit. */
  readonly bytes?: Uint8Array<ArrayBuffer>;
}

/** Told of each lookup a store made, by tier name (the edge's per-tier hit and miss counters). */
export type LookupObserver = (tier: string, hit: boolean) => void;

export interface CacheStore {
  /** The name its lookups are counted under: "memory", "cache_api", "kv" (tieredCache names an unnamed tier by its index). */
  readonly tier?: string;
  /** Tiers (tieredCache) report each lookup to `observer` from then on; a single store has none. */
  observeLookups?(observer: LookupObserver): void;
  /** The answer under `key`, or undefined if there is none (or it expired). */
  get(key: string): Promise<StoredAnswer | undefined>;
  /**
   * The same, at once, from memory, for stores that can (a hit then costs
   * no promise); undefined when it is not there or the store cannot tell
   * without `get`.
   */
  peek?(key: string): StoredAnswer | undefined;
  /** Stores `answer` under `key` for as long as `policy` allows (a store may keep it less). */
  put(key: string, answer: CachedAnswer, policy: CachePolicy): Promise<void>;
}

/** A policy's lifetime in seconds; null: for good. */
export const ttlOf = (policy: CachePolicy): number | null =>
  "ttlSeconds" in policy ? policy.ttlSeconds : null;

/** A year: what HTTP caches take as "for good" (RFC 9111 caps max-age usefulness there). */
export const IMMUTABLE_MAX_AGE = 31_536_000;
