/**
 * How the edge answers: plain-record headers (the runtimes' fast path) with
 * CORS on every answer, JSON bodies, and errors in the API's shape, never
 * cached. Every module that answers a request builds its Response here.
 */
import { ApiError } from "@edgeledger/sdk/protocol";
import type { Context } from "hono";
import { toHttpError } from "../errors.ts";

export const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Names the fields of an answer that the edge passes on unchecked, because
 * no proof backs them (a pending transaction's status, the mempool figures,
 * a submission's answer: "*"). Absent: every field was verified.
 */
export const UNVERIFIED = "x-edgeledger-unverified";

/**
 * CORS like the node's: every answer is public and verifiable and nothing
 * rides on cookies, so any origin may read it. Set on each answer as a plain
 * record rather than by Hono's cors middleware: that one touches `c.res`
 * before the handler runs, which turns every answer into a full Response
 * with a Headers object and a streamed body; on Node that took a cached
 * read from about 18 000 to 11 000 requests/s (profiled under edge/bench).
 */
export const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers":
    "etag, retry-after, location, x-edgeledger-height, x-edgeledger-cache, x-edgeledger-unverified",
} as const;

export const PREFLIGHT_HEADERS = {
  ...CORS_HEADERS,
  "access-control-allow-methods": "GET, HEAD, POST, OPTIONS",
  "access-control-allow-headers": "content-type, if-none-match",
  "access-control-max-age": "600",
} as const;

/** An answer with plain-record headers (the runtimes' fast path), CORS included. */
export function respond(
  status: number,
  body: string | Uint8Array<ArrayBuffer> | null,
  headers: Record<string, string>,
): Response {
  return new Response(body, { status, headers: { ...CORS_HEADERS, ...headers } });
}

export function jsonAnswer(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return respond(status, JSON.stringify(body), { "content-type": JSON_TYPE, ...headers });
}

/** An error answer, in the API's shape and never cached: for the runtime adapters too. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  const { status, body } = toHttpError(error);
  return jsonAnswer(status, body, { "cache-control": "no-store", ...headers });
}

/** Workers: keeps `p` running after the response (`waitUntil`); elsewhere the process does. */
export function keepAlive(c: Context, p: Promise<unknown>): void {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    // Not on Workers: Hono throws when there is no ExecutionContext.
    return;
  }
  ctx.waitUntil(p);
}

/**
 * A request body cut off (the client left, or the parser refused its chunks
 * and answered already): the client's doing, not the edge's failure.
 */
export function bodyCutOff(cause?: unknown): ApiError {
  return new ApiError("REQUEST_INVALID", "The request body did not arrive whole.", {
    details: { in: "body" },
    ...(cause !== undefined && { cause }),
  });
}
