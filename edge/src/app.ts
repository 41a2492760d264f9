/**
 * `createEdgeApp`: the edge's composition root. It builds the cache, the
 * upstream pool, one verifier per upstream, the head tracker, the rate
 * limiter and the metrics, and wires the node's read routes (same paths,
 * same JSON, from the SDK's route table) and the transaction submissions to
 * them on a Hono app that runs on any runtime with `fetch`.
 *
 * The rules it holds:
 *   - nothing is cached or served before it verifies (upstream/verify.ts);
 *     an answer that fails is counted, never cached, and the next upstream
 *     is asked; none verifying is a 502 EDGE_UNVERIFIED;
 *   - final things (blocks, headers, committed transactions, validator
 *     sets, the genesis, state at a given height) are cached for good;
 *   - "latest" reads resolve to the edge's verified head height and are
 *     cached under it, so a new head makes new keys; they are served with a
 *     short max-age;
 *   - concurrent requests for one key share one upstream fetch;
 *   - pending and dropped transactions, refusals and errors are not cached.
 */
import { TransportError } from "@edgeledger/sdk";
import {
  allowedMethods,
  type ErrorJson,
  type HealthJson,
  isJsonContentType,
  MAX_BATCH_TXS,
  methodNotAllowed,
  pathOf,
  type RouteName,
  requestTargetError,
  routes,
  type StatusJson,
  unsupportedMediaType,
} from "@edgeledger/sdk/api";
import { ApiError, formatAddress, MAX_TX_BYTES, parseAddress } from "@edgeledger/sdk/protocol";
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { memoryCache } from "./cache/memory.ts";
import { SingleFlight } from "./cache/singleFlight.ts";
import {
  type CachedAnswer,
  type CachePolicy,
  IMMUTABLE_MAX_AGE,
  type StoredAnswer,
  ttlOf,
} from "./cache/store.ts";
import { EdgeError, toHttpError } from "./errors.ts";
import { EdgeMetrics } from "./metrics.ts";
import { defaultEdgeOptions, type EdgeOptions } from "./options.ts";
import { defaultRateLimit, RateLimiter } from "./rateLimit.ts";
import { HeadTracker } from "./upstream/head.ts";
import { UpstreamPool } from "./upstream/pool.ts";
import { failureReason, getJson, type UpstreamReply } from "./upstream/request.ts";
import { type AnswerVerifier, sdkVerifier, type Verified } from "./upstream/verify.ts";

export const EDGE_VERSION = "0.1.0";

/** What the app exposes besides serving: its parts, for the runtime adapters and tests. */
export interface EdgeController {
  readonly metrics: EdgeMetrics;
  readonly pool: UpstreamPool;
  readonly head: HeadTracker;
  /** What the rate limiter keys clients by, in words (for banners), or null when there is no limit. */
  readonly rateLimitKey: string | null;
  /** Starts following upstream heads (stream mode; a no-op in poll mode). */
  start(): void;
  /** Stops following heads. Requests are still served (heads then come by polling). */
  stop(): void;
}

export interface EdgeApp extends Hono {
  readonly edge: EdgeController;
}

/** How one GET is served: where it lives in the cache, where upstream, how it verifies. */
interface ReadPlan {
  readonly route: RouteName;
  readonly key: string;
  /** The upstream path and query. */
  readonly path: string;
  readonly verify: (verifier: AnswerVerifier, json: unknown, upstream: number) => Promise<Verified>;
  /** Served for "latest": a short max-age whatever the storage. */
  readonly latest: boolean;
  /** How a verified final answer is stored. Default immutable. */
  readonly policy?: CachePolicy;
  /** A 404 from an upstream means it lags behind the edge: ask the next. */
  readonly notFoundMeansLagging: boolean;
  /** Fields every answer of the route serves unverified (see Verified.unverified). */
  readonly unverified?: readonly string[];
}

type Outcome =
  | {
      readonly kind: "answer";
      readonly answer: CachedAnswer;
      readonly policy: CachePolicy | null;
      readonly unverified?: readonly string[];
    }
  | { readonly kind: "refusal"; readonly status: number; readonly error: ErrorJson };

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Names the fields of an answer that the edge passes on unchecked, because
 * no proof backs them (a pending transaction's status, the mempool figures,
 * a submission's answer: "*"). Absent: every field was verified.
 */
const UNVERIFIED = "x-edgeledger-unverified";

/**
 * CORS like the node's: every answer is public and verifiable and nothing
 * rides on cookies, so any origin may read it. Set on each answer as a plain
 * record rather than by Hono's cors middleware: that one touches `c.res`
 * before the handler runs, which turns every answer into a full Response
 * with a Headers object and a streamed body; on Node that took a cached
 * read from about 18 000 to 11 000 requests/s (profiled under edge/bench).
 */
const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers":
    "etag, retry-after, location, x-edgeledger-height, x-edgeledger-cache, x-edgeledger-unverified",
} as const;

const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "GET, HEAD, POST, OPTIONS",
  "access-control-allow-headers": "content-type, if-none-match",
  "access-control-max-age": "600",
} as const;

/** An answer with plain-record headers (the runtimes' fast path), CORS included. */
function respond(
  status: number,
  body: string | Uint8Array<ArrayBuffer> | null,
  headers: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...CORS_HEADERS, ...headers } });
}

function jsonAnswer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return respond(status, JSON.stringify(body), { "content-type": JSON_TYPE, ...headers });
}

/** The route table's patterns, so a path parameter is checked as the node checks it. */
const HEIGHT_PATTERN = new RegExp(routes.getHeader.params.properties.height.pattern);
const BLOCK_ID_PATTERN = new RegExp(routes.getBlock.params.properties.id.pattern);
const TX_HASH_PATTERN = new RegExp(routes.getTransaction.params.properties.hash.pattern);
const MAX_ADDRESS_LENGTH = routes.getAccount.params.properties.address.maxLength;

/** The route paths this edge binds: the node's reads and submissions, /health and /metrics. */
const SERVED: ReadonlySet<string> = new Set([
  routes.getHealth.path,
  routes.getMetrics.path,
  routes.getAccount.path,
  routes.getBlock.path,
  routes.getHeader.path,
  routes.getTransaction.path,
  routes.getValidators.path,
  routes.getGenesis.path,
  routes.getStatus.path,
  routes.submitTransaction.path,
  routes.submitTransactions.path,
]);

/** An error answer, in the API's shape and never cached: for the runtime adapters too. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  const { status, body } = toHttpError(error);
  return jsonAnswer(status, body, { "cache-control": "no-store", ...headers });
}

export function createEdgeApp(options: EdgeOptions): EdgeApp {
  if (options.upstreams.length === 0)
    throw new EdgeError("EDGE_CONFIG_INVALID", "Give at least one upstream URL.");
  const upstreams = options.upstreams.map((u) => u.replace(/\/+$/, ""));
  for (const u of upstreams)
    if (!/^https?:\/\/[^/]/.test(u))
      throw new EdgeError("EDGE_CONFIG_INVALID", `Upstream "${u}" is not an http(s) URL.`, {
        details: { upstream: u },
      });
  const o = { ...defaultEdgeOptions, ...definedOnly(options) };
  const now = options.now ?? Date.now;
  const cache = options.cache ?? memoryCache();
  const metrics = new EdgeMetrics();
  const pool = new UpstreamPool(upstreams, { now });
  const baseFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const fetchFor =
    (i: number): typeof fetch =>
    (input, init) => {
      metrics.inc("upstream_requests_total", { upstream: i });
      return baseFetch(input, init);
    };
  const upstreamFetches = upstreams.map((_, i) => fetchFor(i));
  const verifiers = new Map<number, AnswerVerifier>();
  const verifierFor = (i: number): AnswerVerifier => {
    let v = verifiers.get(i);
    if (!v) {
      v =
        options.verifierFor?.(i, upstreams[i]!) ??
        sdkVerifier({
          url: upstreams[i]!,
          chainId: options.chainId,
          trust: options.trust,
          fetch: upstreamFetches[i]!,
          timeoutMs: o.upstreamTimeoutMs,
          ...(options.verifier && { verifier: options.verifier }),
        });
      verifiers.set(i, v);
    }
    return v;
  };
  const get = (i: number, path: string): Promise<UpstreamReply> =>
    getJson(upstreams[i]! + path, {
      fetch: upstreamFetches[i]!,
      timeoutMs: o.upstreamTimeoutMs,
      upstream: i,
    });
  const genesisHash =
    "genesisHash" in options.trust ? options.trust.genesisHash.toLowerCase() : undefined;
  const countFailure = (i: number, err: unknown) => {
    if (isUpstreamFailure(err)) metrics.inc("upstream_errors_total", { upstream: i });
    else metrics.inc("verification_failures_total", { upstream: i });
  };
  const head = new HeadTracker({
    mode: o.headMode,
    pollMs: o.headPollMs,
    chainId: options.chainId,
    ...(genesisHash !== undefined && { genesisHash }),
    pool,
    verifierFor,
    getJson: get,
    onFailure: countFailure,
    now,
  });
  const flights = new SingleFlight<Outcome>();
  const limiter =
    options.rateLimit === false
      ? null
      : new RateLimiter(options.rateLimit ?? defaultRateLimit, now);
  // Keys carry the chain and the anchor: stores shared with other edges
  // (a zone's Cache API, a KV namespace) never mix two chains' answers.
  const anchor =
    genesisHash ?? `${"checkpoint" in options.trust ? options.trust.checkpoint.hash : ""}`;
  const namespace = `${options.chainId}/${anchor.slice(0, 16)}/`;
  const onInternal = options.onInternalError ?? ((err: unknown) => console.error("edge:", err));

  /** Asks upstreams in health order until one answer verifies (or one refusal is final). */
  async function fetchVerified(plan: ReadPlan): Promise<Outcome> {
    let lagging: Outcome | null = null;
    const failures: { upstream: number; code: string }[] = [];
    let unavailable = 0;
    for (const i of pool.order()) {
      let reply: UpstreamReply;
      try {
        reply = await get(i, plan.path);
      } catch (err) {
        pool.failed(i);
        countFailure(i, err);
        unavailable++;
        continue;
      }
      if (!reply.ok) {
        const refusal: Outcome = { kind: "refusal", status: reply.status, error: reply.error };
        if (plan.notFoundMeansLagging && reply.status === 404) {
          lagging = refusal;
          continue;
        }
        return refusal;
      }
      let verified: Verified;
      try {
        verified = await plan.verify(verifierFor(i), reply.json, i);
      } catch (err) {
        // Not about this upstream (a request this edge cannot vouch for): answer it.
        if (err instanceof EdgeError && !isUpstreamFailure(err) && err.code !== "EDGE_UNVERIFIED")
          throw err;
        pool.failed(i);
        countFailure(i, err);
        if (isUpstreamFailure(err)) unavailable++;
        else failures.push({ upstream: i, code: errorCode(err) });
        continue;
      }
      pool.succeeded(i);
      if (verified.header) head.observe(verified.header);
      const answer: CachedAnswer = {
        body: JSON.stringify(verified.json),
        etag: verified.etag ?? "",
        ...(verified.height !== undefined && { height: verified.height }),
      };
      const policy = verified.final && verified.etag ? (plan.policy ?? { immutable: true }) : null;
      return {
        kind: "answer",
        answer,
        policy,
        ...(verified.unverified && { unverified: verified.unverified }),
      };
    }
    if (lagging) return lagging;
    if (failures.length > 0)
      throw new EdgeError(
        "EDGE_UNVERIFIED",
        "No upstream's answer verified; nothing was cached. Retry later or ask another edge.",
        { details: { failures, unavailable } },
      );
    throw new EdgeError(
      "EDGE_UPSTREAM_UNAVAILABLE",
      "No upstream answered. Retry later or ask another edge.",
      { details: { upstreams: upstreams.length } },
    );
  }

  async function serve(c: Context, plan: ReadPlan): Promise<Response> {
    const key = namespace + plan.key;
    // A store that fails (the Cache API, KV) is a miss, not an error: the
    // upstreams still have the answer.
    const cached =
      cache.peek?.(key) ??
      (await cache.get(key).catch((err: unknown) => {
        onInternal(err);
        return undefined;
      }));
    if (cached) {
      metrics.inc("cache_hits_total", routeLabel(plan.route));
      return answerResponse(c, cached, plan, true, "hit");
    }
    const { promise, shared } = flights.run(key, async () => {
      const outcome = await fetchVerified(plan);
      if (outcome.kind === "answer" && outcome.policy)
        // Verified either way: a store that cannot keep it does not fail the answer.
        await cache.put(key, outcome.answer, outcome.policy).catch(onInternal);
      return outcome;
    });
    // On Workers, a leader whose client hangs up must still finish for those waiting on it.
    if (!shared)
      keepAlive(
        c,
        promise.catch(() => undefined),
      );
    const outcome = await promise;
    metrics.inc(
      shared ? "singleflight_shared_total" : "cache_misses_total",
      routeLabel(plan.route),
    );
    if (outcome.kind === "refusal")
      // An upstream's refusal (a 404 for a height or transaction) is its word: nothing proves absence.
      return jsonAnswer(outcome.status, outcome.error, {
        "cache-control": "no-store",
        [UNVERIFIED]: "*",
      });
    return answerResponse(
      c,
      outcome.answer,
      plan,
      outcome.policy !== null,
      shared ? "shared" : "miss",
      outcome.unverified,
    );
  }

  function answerResponse(
    c: Context,
    answer: CachedAnswer,
    plan: ReadPlan,
    cacheable: boolean,
    source: "hit" | "miss" | "shared",
    // Cached answers are final, so only the route's own unverified fields apply to a hit.
    unverified: readonly string[] | undefined = plan.unverified,
  ): Response {
    const headers: Record<string, string> = {
      "content-type": JSON_TYPE,
      "cache-control": cacheControl(plan, cacheable, o.latestMaxAgeSeconds),
      "x-edgeledger-cache": source,
    };
    if (unverified) headers[UNVERIFIED] = unverified.join(", ");
    if (answer.etag) headers["etag"] = answer.etag;
    if (answer.height !== undefined) headers["x-edgeledger-height"] = String(answer.height);
    if (answer.etag && etagMatches(c.req.header("if-none-match"), answer.etag))
      return respond(304, null, headers);
    return respond(200, (answer as Partial<StoredAnswer>).bytes ?? answer.body, headers);
  }

  // -------------------------------------------------------------------------
  // The app.

  const app = new Hono();

  // The target's form, before anything else (the node's rule, from the SDK).
  // A runtime hands over a parsed URL, with dot segments already resolved:
  // the Node adapter checks the raw target for those before this app runs.
  app.use("*", async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const problem = requestTargetError(start < 0 ? "/" : url.slice(start));
    if (problem) throw problem;
    return next();
  });

  // Preflights (JSON POSTs, conditional GETs), before any limit: see CORS_HEADERS.
  app.options("*", () => respond(204, null, PREFLIGHT_HEADERS));

  if (limiter) {
    app.use("/v1/*", async (c, next) => {
      if (c.req.method === "OPTIONS") return next();
      const client = limiter.keyOf((name) => c.req.header(name), options.clientAddress?.(c));
      const decision = limiter.take(client);
      if (decision.allowed) return next();
      metrics.inc("rate_limited_total");
      const { status, body } = toHttpError(
        new EdgeError(
          "EDGE_RATE_LIMITED",
          `Too many requests from this client; retry in ${decision.retryAfterSeconds} s.`,
          { details: { retryAfterSeconds: decision.retryAfterSeconds } },
        ),
      );
      return jsonAnswer(status, body, {
        "retry-after": String(decision.retryAfterSeconds),
        "cache-control": "no-store",
      });
    });
  }

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

  app.get(routes.getAccount.path, async (c) => {
    const address = canonicalAddress(c.req.param("address"));
    const asked = heightQuery(c);
    const height = asked ?? (head.fresh() ?? (await head.current())).height;
    return serve(c, {
      route: "getAccount",
      key: `account/${address}/${height}`,
      path: `${pathOf("getAccount", { address })}?height=${height}`,
      verify: (v, json) => v.account(json, address, height),
      latest: asked === undefined,
      // Fetched for "latest", the entry is mostly of use while this is the
      // head: kept briefly (asked by height, the same state is kept for good).
      ...(asked === undefined && { policy: { ttlSeconds: o.latestTtlSeconds } }),
      notFoundMeansLagging: height <= (head.head?.height ?? -1),
    });
  });

  app.get(routes.getBlock.path, async (c) => {
    const id = c.req.param("id");
    noQuery(c);
    if (!BLOCK_ID_PATTERN.test(id))
      throw invalid(
        "params",
        "id",
        "must be `latest`, a decimal height or a block hash (64 lowercase hex)",
      );
    if (id.length === 64)
      return serve(c, {
        route: "getBlock",
        key: `block/${id}`,
        path: pathOf("getBlock", { id }),
        verify: (v, json) => v.block(json, { hash: id }),
        latest: false,
        notFoundMeansLagging: false,
      });
    const latest = id === "latest";
    const height = latest
      ? (head.fresh() ?? (await head.current())).height
      : safeHeight(id, "params", "id");
    return serve(c, {
      route: "getBlock",
      key: `block/${height}`,
      path: pathOf("getBlock", { id: height }),
      verify: (v, json) => v.block(json, { height }),
      latest,
      notFoundMeansLagging: height <= (head.head?.height ?? -1),
    });
  });

  app.get(routes.getHeader.path, async (c) => {
    noQuery(c);
    const text = c.req.param("height");
    if (!HEIGHT_PATTERN.test(text)) throw invalid("params", "height", "must be a decimal height");
    const height = safeHeight(text, "params", "height");
    return serve(c, {
      route: "getHeader",
      key: `header/${height}`,
      path: pathOf("getHeader", { height }),
      verify: (v, json) => v.header(json, height),
      latest: false,
      notFoundMeansLagging: height <= (head.head?.height ?? -1),
    });
  });

  app.get(routes.getTransaction.path, async (c) => {
    noQuery(c);
    const hash = c.req.param("hash");
    if (!TX_HASH_PATTERN.test(hash))
      throw invalid("params", "hash", "must be 32 bytes of lowercase hex");
    return serve(c, {
      route: "getTransaction",
      key: `tx/${hash}`,
      path: pathOf("getTransaction", { hash }),
      verify: (v, json) => v.transaction(json, hash),
      latest: false,
      notFoundMeansLagging: false,
    });
  });

  app.get(routes.getValidators.path, async (c) => {
    const asked = heightQuery(c);
    const current = head.fresh() ?? (await head.current());
    // The set signing the next block is named by the head; a later one
    // cannot be verified from headers yet.
    const height = asked ?? current.height + 1;
    if (height > current.height + 1)
      throw new ApiError(
        "HEIGHT_NOT_AVAILABLE",
        `The validator set of height ${height} cannot be verified yet (this edge has verified up to height ${current.height}).`,
        { details: { height, latest: current.height } },
      );
    return serve(c, {
      route: "getValidators",
      key: `validators/${height}`,
      path: `${routes.getValidators.path}?height=${height}`,
      verify: (v, json) => v.validators(json, height),
      latest: asked === undefined,
      notFoundMeansLagging: true,
    });
  });

  app.get(routes.getGenesis.path, async (c) => {
    noQuery(c);
    if (genesisHash === undefined)
      throw new EdgeError(
        "EDGE_NOT_VERIFIABLE",
        "This edge trusts a checkpoint, not a genesis hash, so it cannot vouch for a genesis; ask a node you trust.",
      );
    return serve(c, {
      route: "getGenesis",
      key: "genesis",
      path: routes.getGenesis.path,
      verify: (v, json) => v.genesis(json),
      latest: false,
      notFoundMeansLagging: false,
    });
  });

  app.get(routes.getStatus.path, async (c) => {
    noQuery(c);
    const current = head.fresh() ?? (await head.current());
    return serve(c, {
      route: "getStatus",
      key: `status/${current.height}`,
      path: routes.getStatus.path,
      // The edge's own view: its verified head, and the upstream's mempool
      // (informational, as a status always is; the SDK verifies none of it).
      verify: async (_v, json, i) => {
        const s = json as StatusJson;
        if (
          s.chainId !== options.chainId ||
          (genesisHash !== undefined && s.genesisHash !== genesisHash)
        )
          throw new EdgeError("EDGE_UNVERIFIED", `Upstream ${i} serves another chain.`);
        const status: StatusJson = {
          chainId: options.chainId,
          nodeVersion: `edgeledger-edge/${EDGE_VERSION}`,
          genesisHash: s.genesisHash,
          height: current.height,
          latestHash: current.hash,
          latestTime: current.time,
          validator: null,
          mempool: { size: s.mempool.size, bytes: s.mempool.bytes },
        };
        return {
          json: status,
          // Weak: two edges at one height may show different mempools.
          etag: `W/"${current.hash}"`,
          height: current.height,
          final: true,
        };
      },
      latest: true,
      policy: { ttlSeconds: o.latestMaxAgeSeconds },
      notFoundMeansLagging: false,
      unverified: ["mempool"],
    });
  });

  // Writes: forwarded to a healthy upstream, its answer passed through.
  app.post(
    routes.submitTransaction.path,
    bodyLimit({ maxSize: 64 * 1024, onError: tooLarge }),
    (c) => forward(c, routes.submitTransaction.path),
  );
  app.post(
    routes.submitTransactions.path,
    // A full batch of the largest transactions, as hex in JSON (the node's limit).
    bodyLimit({ maxSize: MAX_BATCH_TXS * (MAX_TX_BYTES * 2 + 3) + 64, onError: tooLarge }),
    (c) => forward(c, routes.submitTransactions.path),
  );

  async function forward(c: Context, path: string): Promise<Response> {
    if (!isJsonContentType(c.req.header("content-type"))) {
      const { status, body } = unsupportedMediaType();
      return jsonAnswer(status, body);
    }
    // A body cut off (the client left, or the parser refused its chunks and
    // answered already) is the client's doing: no INTERNAL, nothing forwarded.
    const body = await c.req.text().catch((err: unknown) => {
      throw new ApiError("REQUEST_INVALID", "The request body did not arrive whole.", {
        details: { in: "body" },
        cause: err,
      });
    });
    let lastServerAnswer: Response | null = null;
    for (const i of pool.order()) {
      const timeout = AbortSignal.timeout(o.upstreamTimeoutMs);
      let res: Response;
      try {
        res = await upstreamFetches[i]!(upstreams[i]! + path, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body,
          signal: timeout,
        });
      } catch {
        // Perhaps delivered before the connection broke: sending it again
        // elsewhere is safe, a transaction is identified by its hash.
        pool.failed(i);
        metrics.inc("upstream_errors_total", { upstream: i });
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        // Full or failing here; another node may take it. Kept in case none does.
        pool.failed(i);
        metrics.inc("upstream_errors_total", { upstream: i });
        lastServerAnswer = await passThrough(res);
        continue;
      }
      pool.succeeded(i);
      metrics.inc("writes_forwarded_total");
      return passThrough(res);
    }
    if (lastServerAnswer) return lastServerAnswer;
    throw new EdgeError(
      "EDGE_UPSTREAM_UNAVAILABLE",
      "No upstream took the submission. Retry later or ask another edge.",
      { details: { upstreams: upstreams.length } },
    );
  }

  app.notFound((c) => {
    const path = new URL(c.req.url).pathname.slice(0, 256);
    const allowed = allowedMethods(path, (route) => SERVED.has(route));
    if (allowed.length > 0)
      return errorResponse(methodNotAllowed(c.req.method, path, allowed), {
        allow: allowed.join(", "),
      });
    return jsonAnswer(404, {
      code: "NOT_FOUND",
      message: `No route ${c.req.method} ${path} on this edge; it serves the node's read routes and transaction submissions.`,
      details: { method: c.req.method, path },
    } satisfies ErrorJson);
  });

  app.onError((err) => {
    // The client's connection broke while its body was read (Node: the
    // parser refused a chunk and answered already): nobody hears this
    // answer, and it is not the edge's failure to log.
    if (isClientAbort(err))
      return errorResponse(
        new ApiError("REQUEST_INVALID", "The request body did not arrive whole.", {
          details: { in: "body" },
        }),
      );
    const { status, body } = toHttpError(err);
    if (body.code === "INTERNAL") onInternal(err);
    return jsonAnswer(status, body, { "cache-control": "no-store" });
  });

  const edge: EdgeController = {
    metrics,
    pool,
    head,
    rateLimitKey: limiter?.describeKey() ?? null,
    start: () => head.start(),
    stop: () => head.stop(),
  };
  return Object.assign(app, { edge });
}

// ---------------------------------------------------------------------------
// Helpers.

/**
 * An address as the API spells it (bech32m, lowercase), remembered for the
 * addresses asked about most: decoding and encoding bech32 on every hit
 * showed in profiles. An invalid address throws its AddressError each time.
 */
const CANONICAL = new Map<string, string>();
const MAX_CANONICAL = 10_000;
function canonicalAddress(text: string): string {
  // The route table's bound, checked as the node's schema checks it.
  if (text.length > MAX_ADDRESS_LENGTH)
    throw invalid("params", "address", `must NOT have more than ${MAX_ADDRESS_LENGTH} characters`);
  let canonical = CANONICAL.get(text);
  if (canonical === undefined) {
    canonical = formatAddress(parseAddress(text));
    // Bounded the simple way: starting afresh costs a few decodes.
    if (CANONICAL.size >= MAX_CANONICAL) CANONICAL.clear();
    CANONICAL.set(text, canonical);
  }
  return canonical;
}

/** Metric labels by route, made once: building them per request showed in profiles. */
const ROUTE_LABELS = new Map<RouteName, { readonly route: RouteName }>();
function routeLabel(route: RouteName): { readonly route: RouteName } {
  let label = ROUTE_LABELS.get(route);
  if (!label) {
    label = { route };
    ROUTE_LABELS.set(route, label);
  }
  return label;
}

/** An error of reading a request whose connection the client (or the parser) cut. */
function isClientAbort(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === "ECONNRESET";
}

/** Upstream failures (no answer, or no support data for one) as opposed to answers that lie. */
function isUpstreamFailure(err: unknown): boolean {
  return (
    failureReason(err) !== undefined || err instanceof TransportError || err instanceof ApiError
  );
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : err instanceof Error ? err.name : "UNKNOWN";
}

/** What HTTP caches may do with an answer: by the plan, since it knows what the URL means. */
function cacheControl(plan: ReadPlan, cacheable: boolean, latestMaxAge: number): string {
  if (!cacheable) return "no-store";
  // "latest" URLs change meaning with each head, whatever their data.
  if (plan.latest) return `public, max-age=${latestMaxAge}`;
  const ttl = ttlOf(plan.policy ?? { immutable: true });
  return ttl === null
    ? `public, max-age=${IMMUTABLE_MAX_AGE}, immutable`
    : `public, max-age=${ttl}`;
}

/** If-None-Match against our tag (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  const ours = bare(etag);
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === ours);
}

function invalid(part: "params" | "querystring", field: string, problem: string): ApiError {
  return new ApiError("REQUEST_INVALID", `${part} field "${field}" ${problem}.`, {
    details: { in: part, field, problem },
  });
}

function safeHeight(text: string, part: "params" | "querystring", field: string): number {
  const height = Number(text);
  if (!Number.isSafeInteger(height) || height < 0)
    throw invalid(part, field, "must be at most 2^53 - 1");
  return height;
}

/**
 * The optional `height` query of a route; any other query field is refused,
 * and so is a field given twice (the node's schema sees an array there, not
 * a string: taking the first or last one would answer another question).
 */
function heightQuery(c: Context): number | undefined {
  const query = c.req.queries();
  for (const name of Object.keys(query))
    if (name !== "height")
      throw new ApiError("REQUEST_INVALID", `querystring has an unknown field "${name}".`, {
        details: { in: "querystring", field: name },
      });
  const values = query["height"];
  if (values !== undefined && values.length > 1)
    throw invalid("querystring", "height", "must be string");
  const text = values?.[0];
  if (text === undefined) return undefined;
  if (!HEIGHT_PATTERN.test(text))
    throw invalid("querystring", "height", "must be a decimal height");
  return safeHeight(text, "querystring", "height");
}

function noQuery(c: Context): void {
  for (const name of Object.keys(c.req.query()))
    throw new ApiError("REQUEST_INVALID", `querystring has an unknown field "${name}".`, {
      details: { in: "querystring", field: name },
    });
}

function tooLarge(): Response {
  return jsonAnswer(413, {
    code: "BODY_TOO_LARGE",
    message: `The request body is too large; a signed transaction is at most ${MAX_TX_BYTES * 2} hex characters.`,
    details: {},
  } satisfies ErrorJson);
}

/** An upstream's answer to a submission, as the client should see it. */
async function passThrough(res: Response): Promise<Response> {
  const location = res.headers.get("location");
  return respond(res.status, await res.text(), {
    "content-type": res.headers.get("content-type") ?? JSON_TYPE,
    "cache-control": "no-store",
    [UNVERIFIED]: "*",
    ...(location && { location }),
  });
}

/** Workers: keeps `p` running after the response (`waitUntil`); elsewhere the process does. */
function keepAlive(c: Context, p: Promise<unknown>): void {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // Not on Workers: Hono throws when there is no ExecutionContext.
    return;
  }
  ctx.waitUntil(p);
}

/** Options without the keys set to undefined, so they do not override defaults when spread. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
