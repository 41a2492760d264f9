/**
 * Whether the edge can serve verified reads now, decided from plain facts
 * (pure): the upstreams' health and the verified head. GET /health answers
 * 503 unless ready, so a readiness probe (Kubernetes) keeps traffic away
 * from an edge that could only answer 502s or stale "latest" reads;
 * `?probe=live` answers 200 while the process serves (routes/service.ts).
 *
 * The first that holds, in this order:
 *   - no-upstream: every upstream is put aside (pool.ts backoff after
 *     failures): a read would fail or wait on timeouts;
 *   - no-verified-head: no head has verified yet, so "latest" cannot be
 *     answered (nothing is trusted before a certificate checks);
 *   - head-stale: the verified head's (BFT) time is older than
 *     `maxHeadAgeMs`. A live chain commits at least once a heartbeat
 *     (block.heartbeatMs, 60 s by default), so a head older than 120 s means
 *     the edge is not following the chain (its upstreams lag or stall);
 *   - ready.
 */
import type { Head } from "./head.ts";
import type { UpstreamHealth } from "./pool.ts";

export type EdgeReadiness = "ready" | "no-upstream" | "no-verified-head" | "head-stale";

/** The body of GET /health, 200 when `ok` (status ready), 503 otherwise. */
export interface EdgeHealthJson {
  ok: boolean;
  status: EdgeReadiness;
  /** What the status means and what to look at. */
  message: string;
  /** The verified head's height, or null before one. */
  height: number | null;
  /** Now minus the verified head's time (ms, at least 0), or null before one. */
  headAgeMs: number | null;
  /** The bound on headAgeMs while ready (ms). */
  maxHeadAgeMs: number;
  upstreams: { upstream: number; healthy: boolean; failures: number }[];
}

/** The default bound on the head's age while ready: two heartbeats (ms). */
export const DEFAULT_READY_MAX_HEAD_AGE_MS = 120_000;

export interface ReadinessFacts {
  readonly head: Head | null;
  readonly upstreams: readonly Pick<UpstreamHealth, "healthy" | "failures">[];
  readonly now: number;
  readonly maxHeadAgeMs: number;
}

const MESSAGES: Record<EdgeReadiness, string> = {
  ready: "Serving verified reads.",
  "no-upstream":
    "Every upstream failed recently and is put aside; check the upstream nodes and this edge's access to them.",
  "no-verified-head":
    "No head has verified yet; check that the upstreams serve the trusted chain and genesis.",
  "head-stale":
    "The verified head is older than the bound; the upstreams lag behind the chain or it stalls.",
};

export function edgeReadiness(f: ReadinessFacts): EdgeHealthJson {
  const headAgeMs = f.head ? Math.max(0, f.now - f.head.time) : null;
  const status: EdgeReadiness = !f.upstreams.some((u) => u.healthy)
    ? "no-upstream"
    : f.head === null
      ? "no-verified-head"
      : headAgeMs! > f.maxHeadAgeMs
        ? "head-stale"
        : "ready";
  return {
    ok: status === "ready",
    status,
    message: MESSAGES[status],
    height: f.head?.height ?? null,
    headAgeMs,
    maxHeadAgeMs: f.maxHeadAgeMs,
    upstreams: f.upstreams.map(({ healthy, failures }, upstream) => ({
      upstream,
      healthy,
      failures,
    })),
  };
}
