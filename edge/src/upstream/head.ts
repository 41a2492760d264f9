/**
 * The edge's head: the highest final header it has verified. "Latest" reads
 * resolve to its height, so they are cached per height and a new head makes
 * new keys (nothing to invalidate).
 *
 * Two ways to learn heads, by what the runtime allows:
 *   - stream (Node, Bun, Deno: long-lived processes): follow one upstream's
 *     head stream with the SDK's watchHeads (which verifies each head, and
 *     polls when no stream can be held), switching upstream when it fails;
 *   - poll (Workers: nothing runs between requests): when a request needs
 *     the head and it was last checked more than `pollMs` ago, ask an
 *     upstream's /v1/status and verify the header at that height first.
 * Either way any verified header above the head (a read at a newer height)
 * moves it up; it never moves down.
 */

import { TransportError } from "@edgeledger/sdk";
import type { StatusJson } from "@edgeledger/sdk/api";
import { type BlockHeader, blockHash, toHex } from "@edgeledger/sdk/protocol";
import { EdgeError } from "../errors.ts";
import type { UpstreamPool } from "./pool.ts";
import type { UpstreamReply } from "./request.ts";
import type { AnswerVerifier } from "./verify.ts";

export interface Head {
  readonly height: number;
  /** The header's hash, hex. */
  readonly hash: string;
  /** The header's time (unix ms). */
  readonly time: number;
}

export type HeadMode = "stream" | "poll";

export interface HeadTrackerOptions {
  readonly mode: HeadMode;
  /** Poll mode: how old a checked head may be before a request checks again (ms). */
  readonly pollMs: number;
  readonly chainId: string;
  /** The pinned genesis, when trust is a genesis hash: an upstream on another chain is refused. */
  readonly genesisHash?: string;
  readonly pool: UpstreamPool;
  readonly verifierFor: (upstream: number) => AnswerVerifier;
  readonly getJson: (upstream: number, path: string) => Promise<UpstreamReply>;
  /** Told of every upstream failure while learning heads (metrics). */
  readonly onFailure: (upstream: number, error: unknown) => void;
  readonly now?: () => number;
}

export class HeadTracker {
  readonly #o: HeadTrackerOptions;
  readonly #now: () => number;
  #head: Head | null = null;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<Head> | null = null;
  #following: AbortController | null = null;
  readonly #listeners = new Set<(head: Head) => void>();

  constructor(options: HeadTrackerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The head as known now, without asking anyone. */
  get head(): Head | null {
    return this.#head;
  }

  /** A verified header: moves the head up if it is higher. */
  observe(header: BlockHeader): void {
    if (this.#head && header.height <= this.#head.height) return;
    const head = { height: header.height, hash: toHex(blockHash(header)), time: header.time };
    this.#head = head;
    for (const listener of this.#listeners) listener(head);
  }

  /**
   * Calls `listener` each time the head moves up (a verified header only),
   * until the returned function is called. On Workers a listener runs in
   * the request that moved the head: one that writes to another request's
   * stream must not be added there (routes/heads.ts polls instead).
   */
  onHead(listener: (head: Head) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The head if it needs no check now (see `current`), at once; else null. */
  fresh(): Head | null {
    const head = this.#head;
    if (head && (this.#following || this.#now() - this.#checkedAt < this.#o.pollMs)) return head;
    return null;
  }

  /**
   * The head to answer "latest" with: checked with an upstream first when it
   * is unknown, or (unless a stream is followed) older than `pollMs`. When
   * no upstream can be checked, the last verified head still serves.
   */
  async current(): Promise<Head> {
    const head = this.fresh();
    if (head) return head;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    try {
      return await this.#refreshing;
    } catch (err) {
      if (this.#head) return this.#head;
      throw err;
    }
  }

  async #refresh(): Promise<Head> {
    const { pool } = this.#o;
    let last: unknown;
    for (const i of pool.order()) {
      try {
        const reply = await this.#o.getJson(i, "/v1/status");
        if (!reply.ok)
          throw new EdgeError("EDGE_UPSTREAM_UNAVAILABLE", `Upstream ${i} refused its status.`, {
            details: { upstream: i, code: reply.error.code },
          });
        const status = reply.json as StatusJson;
        if (
          status.chainId !== this.#o.chainId ||
          (this.#o.genesisHash !== undefined && status.genesisHash !== this.#o.genesisHash)
        )
          throw new EdgeError("EDGE_UNVERIFIED", `Upstream ${i} serves another chain.`, {
            details: { upstream: i, chainId: status.chainId },
          });
        // Verified before it counts: an upstream cannot make the edge believe in a head.
        this.observe(await this.#o.verifierFor(i).headerAt(status.height));
        pool.succeeded(i);
        this.#checkedAt = this.#now();
        return this.#head!;
      } catch (err) {
        last = err;
        pool.failed(i);
        this.#o.onFailure(i, err);
      }
    }
    throw new EdgeError("EDGE_UPSTREAM_UNAVAILABLE", "No upstream could tell a verified head.", {
      cause: last,
    });
  }

  /** Stream mode: starts following heads in the background (until `stop`). */
  start(): void {
    if (this.#o.mode !== "stream" || this.#following) return;
    const stop = new AbortController();
    this.#following = stop;
    void this.#follow(stop.signal);
  }

  stop(): void {
    this.#following?.abort();
    this.#following = null;
  }

  async #follow(signal: AbortSignal): Promise<void> {
    const { pool } = this.#o;
    while (!signal.aborted) {
      const i = pool.order()[0]!;
      const switchUpstream = new AbortController();
      const watching = AbortSignal.any([signal, switchUpstream.signal]);
      this.#o.verifierFor(i).watchHeads(
        (header) => {
          pool.succeeded(i);
          this.#checkedAt = this.#now();
          this.observe(header);
        },
        {
          signal: watching,
          pollMs: this.#o.pollMs,
          onError: (err) => {
            // No stream here (an upstream without /v1/heads): watchHeads polls
            // instead, which is fine; not this upstream's failure.
            if (err instanceof TransportError && err.code === "TRANSPORT_BAD_RESPONSE") return;
            pool.failed(i);
            this.#o.onFailure(i, err);
            switchUpstream.abort();
          },
        },
      );
      await new Promise<void>((resolve) =>
        watching.addEventListener("abort", () => resolve(), { once: true }),
      );
      // A short pause before the next upstream, so a network with every
      // upstream down is not asked in a tight loop.
      if (!signal.aborted) await pause(Math.min(this.#o.pollMs, 1000), signal);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
