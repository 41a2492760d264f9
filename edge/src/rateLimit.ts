/**
 * Per-client rate limits: a token bucket per client key, refilled at
 * `ratePerSecond` up to `burst`. The buckets live in this process (an
 * isolate, on Workers), so the limit holds per edge instance; a limit across
 * instances needs a shared counter (Cloudflare's rate limiting rules or a
 * Durable Object) in front.
 *
 * Which client a request is from: the connection's address, unless the
 * edge is told to trust a proxy in front of it (`trustProxyHeaders`). A
 * header such as x-forwarded-for is whatever the client wrote, unless a
 * proxy overwrites it; believing it by default let any client take a fresh
 * bucket per request by sending a new value.
 */

export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  readonly ratePerSecond: number;
  /** Requests a client may make at once after being idle. */
  readonly burst: number;
  /**
   * Believe `keyHeaders` (set by a proxy in front of this edge) over the
   * connection's address. Only where a proxy that overwrites them stands in
   * front: otherwise a client picks its own key. Default false.
   */
  readonly trustProxyHeaders?: boolean;
  /**
   * The headers naming the client when `trustProxyHeaders` is set, first
   * present wins. Default: `cf-connecting-ip` (Cloudflare sets it), then
   * the last hop of `x-forwarded-for` (the one the proxy in front added;
   * the hops before it are the client's word). `[]`: the address only.
   */
  readonly keyHeaders?: readonly string[];
  /** Most clients tracked; the least recently seen are forgotten first. Default 10 000. */
  readonly maxClients?: number;
}

export const defaultRateLimit = {
  ratePerSecond: 50,
  burst: 100,
  trustProxyHeaders: false,
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
    this.keyHeaders =
      (options.trustProxyHeaders ?? defaultRateLimit.trustProxyHeaders)
        ? (options.keyHeaders ?? defaultRateLimit.keyHeaders)
        : [];
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

  /** The client key of a request: the first trusted header present, else the connection's address. */
  keyOf(header: (name: string) => string | undefined, address: string | undefined): string {
    for (const name of this.keyHeaders) {
      // "a, b, c": each proxy appends the address it saw, so only the last
      // hop was written by the proxy in front; the others came with the request.
      const last = header(name)?.split(",").at(-1)?.trim();
      if (last) return last;
    }
    return address ?? "unknown";
  }

  /** Which key the limiter uses, in words: for start-up banners. */
  describeKey(): string {
    if (this.keyHeaders.length === 0) return "the connection's address (proxy headers not trusted)";
    return `${this.keyHeaders.join(", then ")} (last hop), else the connection's address`;
  }
}
