/**
 * The edge's own routes: /health (its head and each upstream's health) and
 * /metrics (Prometheus text). Never cached, never verified: they describe
 * this edge, not the chain.
 */
import { type HealthJson, routes } from "@edgeledger/sdk/api";
import type { Hono } from "hono";
import { jsonAnswer, respond } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { HeadTracker } from "../upstream/head.ts";
import type { UpstreamPool } from "../upstream/pool.ts";

export interface ServiceDeps {
  readonly head: Pick<HeadTracker, "head">;
  readonly pool: Pick<UpstreamPool, "health">;
  readonly metrics: EdgeMetrics;
}

export const SERVICE_PATHS: readonly string[] = [routes.getHealth.path, routes.getMetrics.path];

export function registerService(app: Hono, { head, pool, metrics }: ServiceDeps): void {
  app.get(routes.getHealth.path, () => {
    const health: HealthJson & Record<string, unknown> = {
      ok: true,
      height: head.head?.height ?? null,
      upstreams: pool
        .health()
        .map(({ healthy, failures }, i) => ({ upstream: i, healthy, failures })),
    };
    return jsonAnswer(200, health, { "cache-control": "no-store" });
  });

  app.get(routes.getMetrics.path, () => {
    metrics.set("head_height", head.head?.height ?? 0);
    return respond(200, metrics.text(), {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
      "cache-control": "no-store",
    });
  });
}
