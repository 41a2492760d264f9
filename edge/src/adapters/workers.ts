/**
 * The Cloudflare Workers entry: `export default { fetch }`, the app built
 * once per isolate from the environment's bindings. Heads are polled on
 * demand (nothing runs between requests); answers are kept in the isolate's
 * memory, then the data centre's Cache API, then Workers KV when a
 * namespace is bound. Binds only: everything else is createEdgeApp's.
 *
 * Bindings (wrangler.toml `[vars]`, see ../../README.md):
 *   UPSTREAMS       node API URLs, separated by spaces or commas (required)
 *   CHAIN_ID        the chain served (required)
 *   GENESIS_HASH    the genesis hash to trust, from a source you trust (required)
 *   HEAD_POLL_MS, LATEST_MAX_AGE_S, UPSTREAM_TIMEOUT_MS, MEMORY_CACHE_MB,
 *   READY_MAX_HEAD_AGE_S (GET /health's bound on the head's age),
 *   RATE_LIMIT_PER_SECOND ("0": no limit), RATE_LIMIT_BURST   (optional)
 *   EDGE_KV         a KV namespace binding (optional)
 *
 * Rate limits key clients by `cf-connecting-ip`, and only by it: on Workers
 * Cloudflare's edge sets that header to the address of the connection it
 * accepted, replacing any value the client sent, so a client cannot pick
 * its key (and a Worker sees no socket address to use instead). It does not
 * do the same for x-forwarded-for, which is left out.
 */
import type { ExecutionContext } from "hono";
import { createEdgeApp, type EdgeApp } from "../app.ts";
import { workersCache } from "../cache/cacheApi.ts";
import { type KvLike, kvCache } from "../cache/kv.ts";
import { memoryCache } from "../cache/memory.ts";
import { tieredCache } from "../cache/tiered.ts";
import { EdgeError, toHttpError } from "../errors.ts";
import { defaultRateLimit } from "../rateLimit.ts";

export interface WorkersEnv {
  readonly UPSTREAMS?: string;
  readonly CHAIN_ID?: string;
  readonly GENESIS_HASH?: string;
  readonly HEAD_POLL_MS?: string;
  readonly LATEST_MAX_AGE_S?: string;
  readonly UPSTREAM_TIMEOUT_MS?: string;
  readonly MEMORY_CACHE_MB?: string;
  readonly READY_MAX_HEAD_AGE_S?: string;
  readonly RATE_LIMIT_PER_SECOND?: string;
  readonly RATE_LIMIT_BURST?: string;
  readonly EDGE_KV?: KvLike;
}

/**
 * An isolate's memory is 128 MB in all: the memory tier takes a slice and
 * the Cache API holds the rest.
 */
const DEFAULT_MEMORY_CACHE_MB = 16;

function required(env: WorkersEnv, name: "UPSTREAMS" | "CHAIN_ID" | "GENESIS_HASH"): string {
  const value = env[name]?.trim();
  if (!value)
    throw new EdgeError(
      "EDGE_CONFIG_INVALID",
      `The binding ${name} is missing: set it under [vars] in wrangler.toml (see the edge README).`,
      { details: { binding: name } },
    );
  return value;
}

function numberOf(env: WorkersEnv, name: keyof WorkersEnv, min: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (typeof text !== "string" || !Number.isFinite(n) || n < min)
    throw new EdgeError(
      "EDGE_CONFIG_INVALID",
      `The binding ${name} must be a number of at least ${min}.`,
      { details: { binding: name } },
    );
  return n;
}

/** The edge app a Worker with these bindings serves. */
export function edgeFromEnv(env: WorkersEnv): EdgeApp {
  const upstreams = required(env, "UPSTREAMS")
    .split(/[\s,]+/)
    .filter(Boolean);
  const rate = numberOf(env, "RATE_LIMIT_PER_SECOND", 0);
  const burst = numberOf(env, "RATE_LIMIT_BURST", 1);
  const headPollMs = numberOf(env, "HEAD_POLL_MS", 0);
  const latestMaxAge = numberOf(env, "LATEST_MAX_AGE_S", 0);
  const timeoutMs = numberOf(env, "UPSTREAM_TIMEOUT_MS", 1);
  const memoryMb = numberOf(env, "MEMORY_CACHE_MB", 0) ?? DEFAULT_MEMORY_CACHE_MB;
  const readyMaxHeadAge = numberOf(env, "READY_MAX_HEAD_AGE_S", 1);
  return createEdgeApp({
    upstreams,
    chainId: required(env, "CHAIN_ID"),
    trust: { genesisHash: required(env, "GENESIS_HASH") },
    headMode: "poll",
    cache: tieredCache([
      memoryCache({ maxBytes: memoryMb * 1024 * 1024 }),
      workersCache(),
      ...(env.EDGE_KV ? [kvCache(env.EDGE_KV)] : []),
    ]),
    rateLimit:
      rate === 0
        ? false
        : {
            ratePerSecond: rate ?? defaultRateLimit.ratePerSecond,
            burst: burst ?? defaultRateLimit.burst,
            trustProxyHeaders: true,
            keyHeaders: ["cf-connecting-ip"],
          },
    ...(headPollMs !== undefined && { headPollMs }),
    ...(latestMaxAge !== undefined && { latestMaxAgeSeconds: latestMaxAge }),
    ...(timeoutMs !== undefined && { upstreamTimeoutMs: timeoutMs }),
    ...(readyMaxHeadAge !== undefined && { readyMaxHeadAgeMs: readyMaxHeadAge * 1000 }),
  });
}

// Built on the first request: bindings are only known then, and they do not
// change for the life of an isolate.
let app: EdgeApp | null = null;

export default {
  async fetch(request: Request, env: WorkersEnv, ctx: ExecutionContext): Promise<Response> {
    try {
      app ??= edgeFromEnv(env);
    } catch (err) {
      console.error("edge: configuration:", err);
      // A deployer's mistake: say which binding, never a value.
      const body =
        err instanceof EdgeError
          ? { code: err.code, message: err.shortMessage, details: { ...err.details } }
          : toHttpError(err).body;
      return Response.json(body, { status: 500 });
    }
    return app.fetch(request, env, ctx);
  },
};
