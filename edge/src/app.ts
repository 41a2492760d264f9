/**
 * `createEdgeApp`: the edge's composition root. It builds the cache, the
 * upstreams (pool, counted fetches, one verifier each), the head tracker,
 * the rate limiter, the metrics and the verified-read pipeline, and binds
 * the routes on a Hono app that runs on any runtime with `fetch`. It holds
 * no rule of its own; each lives where it is tested:
 *
 *   - options.ts: options, defaults, the cache namespace;
 *   - http/guards.ts: the request target, preflights, rate limits, 404/405
 *     and the error answer; http/respond.ts: CORS and answer shapes;
 *   - read/: nothing is cached or served before it verifies; an answer that
 *     fails is counted, never cached, and the next upstream is asked
 *     (fetchVerified.ts); concurrent requests for one key share one fetch
 *     (pipeline.ts); final things are cached for good, "latest" reads
 *     briefly, errors and pending things never (render.ts);
 *   - routes/reads.ts: the node's read routes as a table of read plans
 *     ("latest" resolves to the verified head, so a new head makes new
 *     keys); routes/checks.ts: their path and query checks;
 *   - routes/writes.ts: submissions forwarded; routes/service.ts: /health,
 *     /metrics; routes/explorer.ts: the explorer web app at /explorer.
 */
import { routes } from "@edgeledger/sdk/api";
import { Hono } from "hono";
import { memoryCache } from "./cache/memory.ts";
import { asTiers } from "./cache/tiered.ts";
import { EdgeError } from "./errors.ts";
import { registerFallbacks, registerGuards } from "./http/guards.ts";
import { EdgeMetrics, lookupCounter } from "./metrics.ts";
import { type EdgeOptions, resolveEdgeOptions } from "./options.ts";
import { defaultRateLimit, RateLimiter } from "./rateLimit.ts";
import { fetchVerified } from "./read/fetchVerified.ts";
import { createReadPipeline } from "./read/pipeline.ts";
import { registerExplorer } from "./routes/explorer.ts";
import { defaultHeadStreamOptions, type HeadStreams, registerHeads } from "./routes/heads.ts";
import { headerPlan, READ_PATHS, registerReads } from "./routes/reads.ts";
import { registerService, SERVICE_PATHS } from "./routes/service.ts";
import { registerWrites, WRITE_PATHS } from "./routes/writes.ts";
import { HeadTracker } from "./upstream/head.ts";
import type { UpstreamPool } from "./upstream/pool.ts";
import { createUpstreams } from "./upstream/upstreams.ts";

/** What the app exposes besides serving: its parts, for the runtime adapters and tests. */
export interface EdgeController {
  readonly metrics: EdgeMetrics;
  readonly pool: UpstreamPool;
  readonly head: HeadTracker;
  /** What the rate limiter keys clients by, in words (for banners), or null when there is no limit. */
  readonly rateLimitKey: string | null;
  /** The open GET /v1/heads streams, or null when the route is off. */
  readonly headStreams: HeadStreams | null;
  /** Starts following upstream heads (stream mode; a no-op in poll mode). */
  start(): void;
  /** Stops following heads and ends the open head streams. Requests are still served (heads then come by polling). */
  stop(): void;
}

export interface EdgeApp extends Hono {
  readonly edge: EdgeController;
}

/** The route paths this edge binds: the node's reads and submissions, /health and /metrics, the heads stream. */
const SERVED: ReadonlySet<string> = new Set([...SERVICE_PATHS, ...READ_PATHS, ...WRITE_PATHS]);
const SERVED_WITH_HEADS: ReadonlySet<string> = new Set([...SERVED, routes.subscribeHeads.path]);

export function createEdgeApp(options: EdgeOptions): EdgeApp {
  const o = resolveEdgeOptions(options);
  const metrics = new EdgeMetrics();
  const upstreams = createUpstreams(
    {
      urls: o.upstreams,
      chainId: o.chainId,
      trust: o.trust,
      timeoutMs: o.upstreamTimeoutMs,
      fetch: o.fetch,
      ...(o.verifier && { verifier: o.verifier }),
      ...(o.verifierFor && { verifierFor: o.verifierFor }),
      now: o.now,
    },
    metrics,
  );
  const head = new HeadTracker({
    mode: o.headMode,
    pollMs: o.headPollMs,
    chainId: o.chainId,
    ...(o.genesisHash !== undefined && { genesisHash: o.genesisHash }),
    pool: upstreams.pool,
    verifierFor: upstreams.verifierFor,
    getJson: upstreams.get,
    onFailure: upstreams.countFailure,
    now: o.now,
  });
  const limiter =
    o.rateLimit === false ? null : new RateLimiter(o.rateLimit ?? defaultRateLimit, o.now);
  metrics.set("chain_info", 1, { chain_id: o.chainId });
  const cache = asTiers(o.cache ?? memoryCache());
  cache.observeLookups(lookupCounter(metrics));
  const serve = createReadPipeline({
    cache,
    namespace: o.cacheNamespace,
    metrics,
    fetch: (plan) => fetchVerified({ upstreams, observe: (h) => head.observe(h) }, plan),
    latestMaxAgeSeconds: o.latestMaxAgeSeconds,
    onInternal: o.onInternalError,
  });

  const app = new Hono();
  // In this order: the guards run before any route, service routes first.
  registerGuards(app, { limiter, metrics, clientAddress: o.clientAddress });
  registerService(app, {
    head,
    pool: upstreams.pool,
    metrics,
    readyMaxHeadAgeMs: o.readyMaxHeadAgeMs,
    now: o.now,
  });
  registerReads(
    app,
    {
      head,
      chainId: o.chainId,
      genesisHash: o.genesisHash,
      latestTtlSeconds: o.latestTtlSeconds,
      latestMaxAgeSeconds: o.latestMaxAgeSeconds,
    },
    serve,
  );
  registerWrites(app, { upstreams, metrics, timeoutMs: o.upstreamTimeoutMs });
  const headStreams =
    o.headStream === false
      ? null
      : registerHeads(app, {
          head,
          mode: o.headMode,
          pollMs: o.headPollMs,
          certified: async (height) => {
            const outcome = await serve.load(headerPlan(height, { head }));
            if (outcome.kind === "refusal")
              throw new EdgeError("EDGE_UPSTREAM_UNAVAILABLE", "No upstream served the head.", {
                details: { height, code: outcome.error.code },
              });
            return outcome.answer.body;
          },
          metrics,
          limits: { ...defaultHeadStreamOptions, ...o.headStream },
        });
  // The page follows this edge's stream when it serves one (and polls if it fails).
  if (o.explorer)
    registerExplorer(app, {
      chainId: o.chainId,
      trust: o.trust,
      headStream: headStreams !== null,
    });
  registerFallbacks(app, {
    served: headStreams ? SERVED_WITH_HEADS : SERVED,
    onInternal: o.onInternalError,
  });

  const edge: EdgeController = {
    metrics,
    pool: upstreams.pool,
    head,
    rateLimitKey: limiter?.describeKey() ?? null,
    headStreams,
    start: () => head.start(),
    stop: () => {
      head.stop();
      headStreams?.closeAll();
    },
  };
  return Object.assign(app, { edge });
}
