/**
 * The upstream subsystem: the nodes the edge reads from and writes to, how
 * healthy each one is, fetching from them, verifying what they answer before
 * anything is cached, and following their head. It may not touch the cache
 * or HTTP answers: app.ts decides what to keep and what to serve.
 *
 * This file: health from recent failures. An upstream that fails (no
 * answer, a 5xx, an answer that does not verify) is put aside for a backoff
 * that doubles with each consecutive failure; one success clears it. The
 * order to try upstreams in puts healthy ones first, starting from the one
 * that last answered well (so a working upstream keeps the traffic and its
 * light client stays warm), then the ones put aside, soonest back first:
 * when every upstream is put aside, the edge still tries them rather than
 * refuse outright.
 *
 * A busy answer is not a failure (`isBusyAnswer`): a node whose mempool is
 * full answers 503 MEMPOOL_FULL with a Retry-After, working as designed.
 * Putting it aside would shift every read and write onto the others (whose
 * mempools fill from the same gossip) and show a working node as unhealthy
 * in /health and the metrics; it is counted as busy instead, and the
 * submission offered to the next upstream. Writes then go to the others
 * first until its Retry-After (at most the longest backoff) has passed
 * (`writeOrder`): an upstream that answers reads well but every write
 * "full" after a slow wait (a hostile one can) costs the next writes
 * nothing, where putting nothing aside would have it asked first each time.
 */

export interface UpstreamPoolOptions {
  /** First backoff after a failure (ms). Default 1000. */
  readonly backoffMs?: number;
  /** Longest backoff (ms). Default 30 000. */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

export const defaultUpstreamPoolOptions = { backoffMs: 1000, maxBackoffMs: 30_000 } as const;

/** An answer that says the upstream works and declines for now (see above): not a failure. */
export function isBusyAnswer(status: number, code: string | undefined): boolean {
  return status === 503 && code === "MEMPOOL_FULL";
}

export interface UpstreamHealth {
  readonly url: string;
  readonly healthy: boolean;
  /** Consecutive failures. */
  readonly failures: number;
}

export class UpstreamPool {
  readonly urls: readonly string[];
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #now: () => number;
  readonly #failures: number[];
  readonly #downUntil: number[];
  /** Until when a busy upstream comes after the others for writes (ms). */
  readonly #busyUntil: number[];
  #preferred = 0;

  constructor(urls: readonly string[], options: UpstreamPoolOptions = {}) {
    this.urls = urls;
    this.#backoffMs = options.backoffMs ?? defaultUpstreamPoolOptions.backoffMs;
    this.#maxBackoffMs = options.maxBackoffMs ?? defaultUpstreamPoolOptions.maxBackoffMs;
    this.#now = options.now ?? Date.now;
    this.#failures = urls.map(() => 0);
    this.#downUntil = urls.map(() => 0);
    this.#busyUntil = urls.map(() => 0);
  }

  isHealthy(i: number): boolean {
    return this.#downUntil[i]! <= this.#now();
  }

  /** Upstream indexes in the order to try them. */
  order(): number[] {
    const n = this.urls.length;
    const rotated = Array.from({ length: n }, (_, k) => (this.#preferred + k) % n);
    const healthy = rotated.filter((i) => this.isHealthy(i));
    const aside = rotated
      .filter((i) => !this.isHealthy(i))
      .sort((a, b) => this.#downUntil[a]! - this.#downUntil[b]!);
    return [...healthy, ...aside];
  }

  /** The order for a submission: order(), with upstreams still busy (see busy()) after the rest. */
  writeOrder(): number[] {
    const now = this.#now();
    const all = this.order();
    return [
      ...all.filter((i) => this.#busyUntil[i]! <= now),
      ...all.filter((i) => this.#busyUntil[i]! > now),
    ];
  }

  /**
   * A busy answer (isBusyAnswer): not a failure, but writes try the others
   * first for `retryAfterMs` (the answer's Retry-After; the first backoff
   * without one), at most the longest backoff.
   */
  busy(i: number, retryAfterMs: number | undefined): void {
    const ms = Math.min(this.#maxBackoffMs, Math.max(0, retryAfterMs ?? this.#backoffMs));
    this.#busyUntil[i] = this.#now() + ms;
  }

  succeeded(i: number): void {
    this.#failures[i] = 0;
    this.#downUntil[i] = 0;
    this.#preferred = i;
  }

  failed(i: number): void {
    const failures = ++this.#failures[i]!;
    const backoff = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (failures - 1));
    this.#downUntil[i] = this.#now() + backoff;
  }

  health(): UpstreamHealth[] {
    return this.urls.map((url, i) => ({
      url,
      healthy: this.isHealthy(i),
      failures: this.#failures[i]!,
    }));
  }
}
