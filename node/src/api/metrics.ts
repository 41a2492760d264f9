/**
 * The API's request-duration histogram, by route pattern and status, on the
 * registry /metrics serves.
 */
import { routes } from "@edgeledger/sdk/api";
import type { FastifyInstance } from "fastify";
import { Histogram, type Registry } from "prom-client";

export const REQUEST_DURATION_METRIC = "edgeledger_api_request_duration_seconds";

export function observeRequestDurations(app: FastifyInstance, registry: Registry): void {
  const existing = registry.getSingleMetric(REQUEST_DURATION_METRIC);
  if (existing !== undefined && !(existing instanceof Histogram)) {
    throw new TypeError(`${REQUEST_DURATION_METRIC} is registered but is not a histogram.`);
  }
  // Reused when a server is rebuilt on the same registry.
  const histogram =
    existing ??
    new Histogram({
      name: REQUEST_DURATION_METRIC,
      help: "HTTP API request duration in seconds, by route pattern and status code.",
      labelNames: ["route", "status"] as const,
      registers: [registry],
    });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url;
    // A stream's lifetime is not a request duration; it would swamp the buckets.
    if (route === routes.subscribeHeads.path) return;
    // The route pattern, never the raw URL, so that labels stay bounded.
    histogram.observe(
      { route: route ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}
