/**
 * Per-client rate limits: a token bucket per client key, refilled at
 * `ratePerSecond` up to `burst`. The buckets live in this process (an
 * isolate, on Workers), so the limit holds per edge instance; a limit across
 * instances needs a shared counter (Cloudflare's rate limiting rules or a
 * Durable Object) in front.
 */

export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  readonly ratePerSecond: number;
  /** Requests a client may make at once after being idle. */
  readonly burst: number;
  /**
   * Request headers naming the client, first present wins; the connection's
   * address is used when none is. Default: `cf-connecting-ip` (set by
   * Cloudflare), then the first hop of `x-forwarded-for`. A client can send
   * these headers itself: behind no proxy that overwrites them, pass `[]`
   * so that only the socket address counts.
   */
  readonly keyHeaders?: readonly string[];
  /** Most clients tracked; the least recently seen are forgotten first. Default 10 000. */
  readonly maxClients?: number;
}

export const defaultRateLimit = {
  ratePerSecond: 50,
  burst: 100,
  keyHeaders: ["cf-connecting-ip", "x-forwarded-for"],
  maxClients: 10_000,
} as const;

interface Bucket {
  tokens: number;
  at: number;
}

export type RateDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number };

export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxClients: number;
  readonly #now: () => number;
  // Insertion order = least recently seen first, as each take re-inserts.
  readonly #buckets = new Map<string, Bucket>();
  readonly keyHeaders: readonly string[];

  constructor(options: RateLimitOptions, now: () => number = Date.now) {
    this.#rate = options.ratePerSecond;
    this.#burst = options.burst;
    this.#maxClients = options.maxClients ?? defaultRateLimit.maxClients;
    this.keyHeaders = options.keyHeaders ?? defaultRateLimit.keyHeaders;
    this.#now = now;
  }

  /** Takes one token from `key`'s bucket, or says how long until one is there. */
  take(key: string): RateDecision {
    const now = this.#now();
    const found = this.#buckets.get(key);
    const bucket = found ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket);
    if (!found && this.#buckets.size > this.#maxClients) {
      // A forgotten client starts with a full bucket: forgetting only ever errs generous.
      this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)),
    };
  }

  /** The client key of a request: the first header present, else the connection's address. */
  keyOf(header: (name: string) => string | undefined, address: string | undefined): string {
    for (const name of this.keyHeaders) {
      const value = header(name);
      // x-forwarded-for is "client, proxy1, proxy2": the client is the first hop.
      const first = value?.split(",")[0]?.trim();
      if (first) return first;
    }
    return address ?? "unknown";
  }
}
