/**
 * The upstreams as one set: their URLs, health (the pool), one counted
 * fetch each, the GET of JSON with the deadline, one verifier each (built
 * on first use), and the rule that sorts a failure into "this upstream did
 * not answer" and "its answer did not verify" for the metrics. The read
 * pipeline, the head tracker and the write forwarding all ask through it.
 */
import { TransportError } from "@edgeledger/sdk";
import { ApiError } from "@edgeledger/sdk/protocol";
import type { EdgeMetrics } from "../metrics.ts";
import type { EdgeOptions } from "../options.ts";
import { UpstreamPool } from "./pool.ts";
import { failureReason, getJson, type UpstreamReply } from "./request.ts";
import { type AnswerVerifier, sdkVerifier } from "./verify.ts";

export interface Upstreams {
  /** Base URLs without a trailing slash, by index (errors name the index: URLs may be private). */
  readonly urls: readonly string[];
  readonly pool: UpstreamPool;
  /** Upstream `i`'s fetch, counted in upstream_requests_total. */
  fetchOf(i: number): typeof fetch;
  /** A GET of JSON from upstream `i`, with the deadline. */
  get(i: number, path: string): Promise<UpstreamReply>;
  verifierFor(i: number): AnswerVerifier;
  /** Counts a failure of upstream `i` as an upstream error or a verification failure. */
  countFailure(i: number, err: unknown): void;
}

export interface UpstreamsOptions {
  readonly urls: readonly string[];
  readonly chainId: string;
  readonly trust: EdgeOptions["trust"];
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch | undefined;
  readonly verifier?: EdgeOptions["verifier"];
  readonly verifierFor?: EdgeOptions["verifierFor"];
  readonly now: () => number;
}

export function createUpstreams(o: UpstreamsOptions, metrics: EdgeMetrics): Upstreams {
  const { urls } = o;
  const pool = new UpstreamPool(urls, { now: o.now });
  const baseFetch = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const fetches = urls.map((_, i): typeof fetch => (input, init) => {
    metrics.inc("upstream_requests_total", { upstream: i });
    return baseFetch(input, init);
  });
  const verifiers = new Map<number, AnswerVerifier>();
  const verifierFor = (i: number): AnswerVerifier => {
    let v = verifiers.get(i);
    if (!v) {
      v =
        o.verifierFor?.(i, urls[i]!) ??
        sdkVerifier({
          url: urls[i]!,
          chainId: o.chainId,
          trust: o.trust,
          fetch: fetches[i]!,
          timeoutMs: o.timeoutMs,
          ...(o.verifier && { verifier: o.verifier }),
        });
      verifiers.set(i, v);
    }
    return v;
  };
  return {
    urls,
    pool,
    fetchOf: (i) => fetches[i]!,
    get: (i, path) =>
      getJson(urls[i]! + path, { fetch: fetches[i]!, timeoutMs: o.timeoutMs, upstream: i }),
    verifierFor,
    countFailure: (i, err) => {
      if (isUpstreamFailure(err)) metrics.inc("upstream_errors_total", { upstream: i });
      // By code too: a proof that fails (VERIFY_PROOF) and a forged header (VERIFY_HEADER) call for different looks.
      else metrics.inc("verification_failures_total", { upstream: i, code: errorCode(err) });
    },
  };
}

/** Upstream failures (no answer, or no support data for one) as opposed to answers that lie. */
export function isUpstreamFailure(err: unknown): boolean {
  return (
    failureReason(err) !== undefined || err instanceof TransportError || err instanceof ApiError
  );
}

/** A bounded label: the error's stable code (BaseError), else its class name. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : err instanceof Error ? err.name : "UNKNOWN";
}
