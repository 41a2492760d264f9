/**
 * What every request passes before a route sees it, and what answers when
 * no route does: the request target's form (the node's rule, from the SDK),
 * CORS preflights, the per-client rate limit on /v1, then the 404/405 for
 * what this edge does not serve and the error answer for anything thrown
 * (INTERNAL is logged, never explained).
 */
import {
  allowedMethods,
  type ErrorJson,
  methodNotAllowed,
  requestTargetError,
} from "@edgeledger/sdk/api";
import type { Context, Hono } from "hono";
import { EdgeError, toHttpError } from "../errors.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { RateLimiter } from "../rateLimit.ts";
import { bodyCutOff, errorResponse, jsonAnswer, PREFLIGHT_HEADERS, respond } from "./respond.ts";

export interface GuardsDeps {
  /** Null: no limit. */
  readonly limiter: RateLimiter | null;
  readonly metrics: EdgeMetrics;
  /** The connection's address (from the runtime adapter), when no header names the client. */
  readonly clientAddress?: ((c: Context) => string | undefined) | undefined;
}

/** Binds the checks that run before the routes; call before registering them. */
export function registerGuards(app: Hono, { limiter, metrics, clientAddress }: GuardsDeps): void {
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
      const client = limiter.keyOf((name) => c.req.header(name), clientAddress?.(c));
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
}

export interface FallbacksDeps {
  /** The route paths the app binds (a 405 names their methods; any other path is a 404). */
  readonly served: ReadonlySet<string>;
  /** Told of every error answered as INTERNAL. */
  readonly onInternal: (err: unknown) => void;
}

/** Binds the answers for requests no route takes, and for anything a route throws. */
export function registerFallbacks(app: Hono, { served, onInternal }: FallbacksDeps): void {
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname.slice(0, 256);
    const allowed = allowedMethods(path, (route) => served.has(route));
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
    if (isClientAbort(err)) return errorResponse(bodyCutOff());
    const { status, body } = toHttpError(err);
    if (body.code === "INTERNAL") onInternal(err);
    return jsonAnswer(status, body, { "cache-control": "no-store" });
  });
}

/** An error of reading a request whose connection the client (or the parser) cut. */
function isClientAbort(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === "ECONNRESET";
}
