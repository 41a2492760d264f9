/**
 * The verified-read pipeline around `fetchVerified`: the cache first (a
 * store that fails is a miss), then one upstream fetch per key however many
 * ask at once (single flight), storing what verified as final, then the
 * answer rendered; hits, misses and shared fetches counted by route.
 *
 * Keys carry a namespace (the chain and the trust anchor), so stores shared
 * with other edges (a zone's Cache API, a KV namespace) never mix two
 * chains' answers.
 */
import type { RouteName } from "@edgeledger/sdk/api";
import type { Context } from "hono";
import { SingleFlight } from "../cache/singleFlight.ts";
import type { CacheStore } from "../cache/store.ts";
import { keepAlive } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { Outcome, ReadPlan } from "./plan.ts";
import { answerResponse, refusalResponse } from "./render.ts";

export interface ReadPipelineOptions {
  readonly cache: CacheStore;
  /** Prefixed to every key. */
  readonly namespace: string;
  readonly metrics: EdgeMetrics;
  /** Asks the upstreams (fetchVerified, bound to them). */
  readonly fetch: (plan: ReadPlan) => Promise<Outcome>;
  /** `Cache-Control: max-age` of "latest" answers (s). */
  readonly latestMaxAgeSeconds: number;
  /** Told of a store that failed (the answer is served regardless). */
  readonly onInternal: (err: unknown) => void;
}

/** Serves one read by its plan. */
export type ServeRead = ((c: Context, plan: ReadPlan) => Promise<Response>) & {
  /**
   * The same read without a request (the heads stream's certified headers):
   * the cached answer, or one fetch shared with concurrent reads of the key,
   * verified and stored like a served one; a refusal when upstreams refuse.
   */
  readonly load: (plan: ReadPlan) => Promise<Outcome>;
};

export function createReadPipeline(o: ReadPipelineOptions): ServeRead {
  const { cache, metrics, onInternal } = o;
  const flights = new SingleFlight<Outcome>();
  // A store that fails (the Cache API, KV) is a miss, not an error: the
  // upstreams still have the answer.
  const getOrMiss = (key: string) =>
    cache.get(key).catch((err: unknown) => {
      onInternal(err);
      return undefined;
    });
  const fetchAndStore = (key: string, plan: ReadPlan) =>
    flights.run(key, async () => {
      const outcome = await o.fetch(plan);
      if (outcome.kind === "answer" && outcome.policy)
        // Verified either way: a store that cannot keep it does not fail the answer.
        await cache.put(key, outcome.answer, outcome.policy).catch(onInternal);
      return outcome;
    });
  const load = async (plan: ReadPlan): Promise<Outcome> => {
    const key = o.namespace + plan.key;
    // peek first: a hit from memory then costs no promise (it showed in profiles).
    const cached = cache.peek?.(key) ?? (await getOrMiss(key));
    if (cached) return { kind: "answer", answer: cached, policy: null };
    return fetchAndStore(key, plan).promise;
  };
  const serve = async (c: Context, plan: ReadPlan) => {
    const key = o.namespace + plan.key;
    // peek first: a hit from memory then costs no promise (it showed in profiles).
    const cached = cache.peek?.(key) ?? (await getOrMiss(key));
    if (cached) {
      metrics.inc("cache_hits_total", routeLabel(plan.route));
      return answerResponse(
        c.req.header("if-none-match"),
        cached,
        plan,
        true,
        "hit",
        o.latestMaxAgeSeconds,
      );
    }
    const { promise, shared } = fetchAndStore(key, plan);
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
    if (outcome.kind === "refusal") return refusalResponse(outcome);
    return answerResponse(
      c.req.header("if-none-match"),
      outcome.answer,
      plan,
      outcome.policy !== null,
      shared ? "shared" : "miss",
      o.latestMaxAgeSeconds,
      outcome.unverified,
    );
  };
  return Object.assign(serve, { load });
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
