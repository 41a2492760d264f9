/**
 * The edge's own routes: /health (readiness: whether it can serve verified
 * reads, upstream/readiness.ts; `?probe=live`: liveness) and /metrics
 * (Prometheus text). Never cached, never verified: they describe this edge,
 * not the chain.
 */
import { routes } from "@edgeledger/sdk/api";
import type { Hono } from "hono";
import { jsonAnswer, respond } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { HeadTracker } from "../upstream/head.ts";
import type { UpstreamPool } from "../upstream/pool.ts";
import { edgeReadiness } from "../upstream/readiness.ts";
import { probeQuery } from "./checks.ts";

export interface ServiceDeps {
  readonly head: Pick<HeadTracker, "head" | "fresh" | "current">;
  readonly pool: Pick<UpstreamPool, "health">;
  readonly metrics: EdgeMetrics;
  /** The bound on the verified head's age while ready (ms). */
  readonly readyMaxHeadAgeMs: number;
  readonly now: () => number;
}

export const SERVICE_PATHS: readonly string[] = [routes.getHealth.path, routes.getMetrics.path];

export function registerService(app: Hono, deps: ServiceDeps): void {
  const { head, pool, metrics } = deps;
  app.get(routes.getHealth.path, async (c) => {
    const probe = probeQuery(c.req);
    // Readiness looks at the head as a read would: checked with an upstream
    // when it is unknown or (poll mode) old, so a Worker that served nothing
    // yet is not reported unready for that alone. Liveness asks no one.
    if (probe === "ready" && !head.fresh()) await head.current().catch(() => null);
    const health = edgeReadiness({
      head: head.head,
      upstreams: pool.health(),
      now: deps.now(),
      maxHeadAgeMs: deps.readyMaxHeadAgeMs,
    });
    const status = health.ok || probe === "live" ? 200 : 503;
    return jsonAnswer(status, health, { "cache-control": "no-store" });
  });

  app.get(routes.getMetrics.path, () => {
    metrics.set("head_height", head.head?.height ?? 0);
    return respond(200, metrics.text(), {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  });
}
