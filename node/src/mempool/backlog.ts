/**
 * How much a node lets clients queue: a few seconds of what the chain
 * actually commits. Without it, a network offered more than it can carry
 * holds every transaction until the pool's hard bound (50 000) and answers
 * each client "pending" for tens of seconds before its transfer is final;
 * with it, the client past the bound is told at once (MEMPOOL_FULL, a 503
 * to retry), and what is admitted stays final within about
 * `maxBacklogSeconds`. The rate is measured, not configured, so the bound
 * follows the machine, the load and the state size; the floor keeps a
 * burst of a block's worth admitted on an idle or starting network.
 *
 * Only clients are shed: a peer's gossip (and a mempool pull) is already
 * admitted somewhere, and refusing it here would only make compact
 * proposals naming it fetch it whole.
 */

/** The shortest and longest retry hint a refused client is given (ms). */
const RETRY_AFTER_MIN_MS = 1_000;
const RETRY_AFTER_MAX_MS = 30_000;

/**
 * How long until `excess` more pending transactions have drained at
 * `committedPerSecond` (ms): the Retry-After a client refused for a full
 * pool is told, so a crowd of clients comes back as room frees instead of
 * all at the SDK's first backoff. At least a second (a block's time), at
 * most 30 s; unknown rate (nothing committed lately): the minimum.
 */
export function drainMs(excess: number, committedPerSecond: number): number {
  if (!(committedPerSecond > 0)) return RETRY_AFTER_MIN_MS;
  const ms = Math.ceil((Math.max(1, excess) / committedPerSecond) * 1000);
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/** Committed transactions in the window, and the window (ms). */
const WINDOW_MS = 10_000;

export interface BacklogOptions {
  /** Clients may queue this many seconds of the measured commit rate (0: no shedding). */
  readonly maxBacklogSeconds: number;
  /** ...and never fewer than this many transactions. */
  readonly minBacklogTxs: number;
}

export class Backlog {
  readonly #options: BacklogOptions;
  /** (time, committed count) of recent heads, oldest first. */
  #commits: { at: number; count: number }[] = [];
  #inWindow = 0;

  constructor(options: BacklogOptions) {
    this.#options = options;
  }

  /** A head committed `count` transactions at `at` (ms). */
  committed(count: number, at: number): void {
    this.#commits.push({ at, count });
    this.#inWindow += count;
    this.#trim(at);
  }

  /** Committed transactions per second over the last window (0 before two heads). */
  rate(now: number): number {
    this.#trim(now);
    const first = this.#commits[0];
    if (!first || this.#commits.length < 2) return 0;
    // Counted from the first head's time, so its own count is the window's start, not in it.
    const span = Math.max(now - first.at, 1000);
    return ((this.#inWindow - first.count) * 1000) / span;
  }

  /** How many pending transactions a client's submission may find and still be admitted. */
  capacity(now: number): number {
    const { maxBacklogSeconds, minBacklogTxs } = this.#options;
    if (maxBacklogSeconds <= 0) return Number.POSITIVE_INFINITY;
    return Math.max(minBacklogTxs, Math.floor(this.rate(now) * maxBacklogSeconds));
  }

  #trim(now: number): void {
    while (this.#commits.length > 0 && this.#commits[0]!.at < now - WINDOW_MS)
      this.#inWindow -= this.#commits.shift()!.count;
  }
}
