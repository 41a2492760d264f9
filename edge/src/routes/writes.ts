/**
 * The transaction submissions: forwarded to a healthy upstream and its
 * answer passed through, marked unverified (a submission's answer is the
 * node's word). A 429 or 5xx, or no answer, moves on to the next upstream
 * (sending a transaction again is safe: it is identified by its hash); when
 * none takes it, the last server answer is passed on, or a 502.
 */
import { readBoundedText, retryAfterMs } from "@edgeledger/sdk";
import {
  bodyLimitOf,
  bodyTooLarge,
  isJsonContentType,
  routes,
  unsupportedMediaType,
} from "@edgeledger/sdk/api";
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { EdgeError } from "../errors.ts";
import { bodyCutOff, JSON_TYPE, jsonAnswer, respond, UNVERIFIED } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import { isBusyAnswer } from "../upstream/pool.ts";
import type { Upstreams } from "../upstream/upstreams.ts";

export interface WritesDeps {
  readonly upstreams: Pick<Upstreams, "urls" | "pool" | "fetchOf">;
  readonly metrics: EdgeMetrics;
  /** Each upstream request's deadline (ms). */
  readonly timeoutMs: number;
}

/** The body limits of the route table (the node's too). */
export const SUBMIT_BODY_LIMIT = bodyLimitOf(routes.submitTransaction);
export const SUBMIT_BATCH_BODY_LIMIT = bodyLimitOf(routes.submitTransactions);

/**
 * The largest answer to a submission read from an upstream: a batch's is up
 * to MAX_BATCH_TXS (1000) results of a hash and a code with its message,
 * under 512 KiB.
 */
const MAX_WRITE_ANSWER_BYTES = 1024 * 1024;

export const WRITE_PATHS: readonly string[] = [
  routes.submitTransaction.path,
  routes.submitTransactions.path,
];

export function registerWrites(app: Hono, deps: WritesDeps): void {
  app.post(
    routes.submitTransaction.path,
    bodyLimit({ maxSize: SUBMIT_BODY_LIMIT, onError: tooLarge }),
    (c) => forward(deps, c, routes.submitTransaction.path),
  );
  app.post(
    routes.submitTransactions.path,
    bodyLimit({ maxSize: SUBMIT_BATCH_BODY_LIMIT, onError: tooLarge }),
    (c) => forward(deps, c, routes.submitTransactions.path),
  );
}

/** Sends the request's body to the upstreams in health order until one takes it. */
export async function forward(deps: WritesDeps, c: Context, path: string): Promise<Response> {
  const { upstreams, metrics } = deps;
  const { pool } = upstreams;
  if (!isJsonContentType(c.req.header("content-type"))) {
    const { status, body } = unsupportedMediaType();
    return jsonAnswer(status, body);
  }
  // A body cut off (the client left, or the parser refused its chunks and
  // answered already) is the client's doing: no INTERNAL, nothing forwarded.
  const body = await c.req.text().catch((err: unknown) => {
    throw bodyCutOff(err);
  });
  let lastServerAnswer: Response | null = null;
  for (const i of pool.writeOrder()) {
    const timeout = AbortSignal.timeout(deps.timeoutMs);
    let res: Response;
    try {
      res = await upstreams.fetchOf(i)(upstreams.urls[i]! + path, {
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
    // An answer to a submission is a few hashes and codes: one larger is no
    // answer (an upstream sending without end), and costs a bounded read.
    const text = await readBoundedText(res, MAX_WRITE_ANSWER_BYTES).catch(() => null);
    if (text === null) {
      pool.failed(i);
      metrics.inc("upstream_errors_total", { upstream: i });
      continue;
    }
    if (res.status === 429 || res.status >= 500) {
      // Full or failing here; another node may take it. Kept in case none does.
      lastServerAnswer = passThrough(res, text);
      if (isBusyAnswer(res.status, errorCodeOf(text))) {
        // Busy, not broken (pool.ts): nothing put aside, asked after the others for a while.
        pool.busy(i, retryAfterMs(res.headers.get("retry-after"), Date.now()));
        metrics.inc("upstream_busy_total", { upstream: i });
        continue;
      }
      pool.failed(i);
      metrics.inc("upstream_errors_total", { upstream: i });
      continue;
    }
    pool.succeeded(i);
    metrics.inc("writes_forwarded_total");
    return passThrough(res, text);
  }
  if (lastServerAnswer) return lastServerAnswer;
  throw new EdgeError(
    "EDGE_UPSTREAM_UNAVAILABLE",
    "No upstream took the submission. Retry later or ask another edge.",
    { details: { upstreams: upstreams.urls.length } },
  );
}

function tooLarge(): Response {
  const { status, body } = bodyTooLarge();
  return jsonAnswer(status, body);
}

/** The `code` of an error answer in the API's shape, if it is one. */
function errorCodeOf(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { code?: unknown } | null)?.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}

/** An upstream's answer to a submission (its body read as `text`), as the client should see it. */
function passThrough(res: Response, text: string): Response {
  const location = res.headers.get("location");
  // A full node's hint for when to come back (MEMPOOL_FULL): the client's SDK waits for it.
  const retryAfter = res.headers.get("retry-after");
  return respond(res.status, text, {
    "content-type": res.headers.get("content-type") ?? JSON_TYPE,
    "cache-control": "no-store",
    [UNVERIFIED]: "*",
    ...(location && { location }),
    ...(retryAfter && { "retry-after": retryAfter }),
  });
}
