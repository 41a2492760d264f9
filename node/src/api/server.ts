/**
 * The node's HTTP API: binds the route table of @edgeledger/sdk/api to a
 * NodeService on fastify. This file composes the server: options, the
 * request-form hooks, 404/405, CORS, OpenAPI, and the pieces beside it:
 * routes.ts (one handler per route of the table, registered generically),
 * errors.ts (every error to `{ code, message, details }` with its status,
 * through the SDK's one serializer), input.ts (reading fields and the
 * request's form), headStreams.ts (the event stream), metrics.ts.
 * May not touch the database, mempool or consensus: it only calls the
 * NodeService. Binds routes only: listening and closing belong to the caller
 * (the composition root), and `close()` ends any open event streams.
 */

import type { Socket } from "node:net";
import type { ExplorerConfig } from "@edgeledger/explorer";
import {
  API_INFO,
  allowedMethods,
  connectAnswer,
  DEFAULT_BODY_LIMIT,
  methodNotAllowed,
  rawHttpAnswer,
  requestTargetError,
} from "@edgeledger/sdk/api";
import { lingerOnClose } from "@edgeledger/sdk/node";
import { ApiError } from "@edgeledger/sdk/protocol";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { Registry } from "prom-client";
import { sendError, toHttpError } from "./errors.ts";
import { registerExplorer } from "./explorer.ts";
import { HeadStreams } from "./headStreams.ts";
import { answerClientError, requestFormError } from "./input.ts";
import { observeRequestDurations } from "./metrics.ts";
import { boundRoutePaths, nodeRoutes, registerRoutes } from "./routes.ts";
import type { NodeService } from "./service.ts";

export { type ErrorContext, type HttpError, toHttpError } from "./errors.ts";
export { REQUEST_DURATION_METRIC } from "./metrics.ts";

export interface ApiServerOptions {
  /** Largest request body, in bytes; a larger one answers 413 BODY_TOO_LARGE. */
  bodyLimit?: number;
  /** Where request and error logs go (a pino logger, usually a child of the node's), or false. */
  logger?: FastifyBaseLogger | false;
  /**
   * The registry /metrics serves. The server adds its histogram
   * `edgeledger_api_request_duration_seconds` (labels: route, status) to it.
   */
  registry?: Registry;
  /** How often an idle /v1/heads stream gets a comment line, in ms. */
  headsHeartbeatMs?: number;
  /** Serve the explorer web app at /explorer, anchored here (explorer.ts). Default: not served. */
  explorer?: ExplorerConfig;
}

/** The defaults of ApiServerOptions, in one place. */
export const defaultApiServerOptions = {
  /** The API's default (64 KiB); a route that needs more sets its own in the table. */
  bodyLimit: DEFAULT_BODY_LIMIT,
  /** Silent: the composition root passes its logger. */
  logger: false,
  /** 15 s: below the 30-60 s idle timeouts of common proxies and load balancers. */
  headsHeartbeatMs: 15_000,
  /** `registry` has no shared default: each server gets a fresh Registry (see resolveOptions). */
} as const;

interface ResolvedOptions {
  bodyLimit: number;
  logger: FastifyBaseLogger | false;
  registry: Registry;
  headsHeartbeatMs: number;
}

function resolveOptions(options: ApiServerOptions): ResolvedOptions {
  return {
    bodyLimit: options.bodyLimit ?? defaultApiServerOptions.bodyLimit,
    logger: options.logger ?? defaultApiServerOptions.logger,
    // A fresh registry, not prom-client's global one: two servers in one
    // process (tests, embedding) would otherwise collide on the metric name.
    registry: options.registry ?? new Registry(),
    headsHeartbeatMs: options.headsHeartbeatMs ?? defaultApiServerOptions.headsHeartbeatMs,
  };
}

export function createApiServer(
  service: NodeService,
  options: ApiServerOptions = {},
): FastifyInstance {
  const opts = resolveOptions(options);
  const common = {
    bodyLimit: opts.bodyLimit,
    // Answered by our onRequest hook instead, so that a request during
    // shutdown also gets the `{ code, message, details }` shape.
    return503OnClosing: false,
    // Requests without a Host header reach the onRequest hook, which answers
    // them in the error shape; Node's own check answers a bare, empty 400.
    http: { requireHostHeader: false },
    // Long segments are refused by requestTargetError (the edge's rule
    // too), not by the router, whose answer names no field.
    routerOptions: { maxParamLength: 64 * 1024 },
    // Bytes the HTTP parser refuses: a JSON answer instead of fastify's
    // `{error, message, statusCode}`, then close (the stream is lost).
    clientErrorHandler: answerClientError,
    // The router's own refusals (a path that does not percent-decode).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) =>
      sendError(
        reply,
        toHttpError(requestTargetError(request.raw.url ?? "") ?? error, {
          route: undefined,
          requestId: String(request.id),
        }),
      ),
    // One log line per request is noise at any rate worth serving; errors
    // are still logged by the error handler, and latency is in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: {
      customOptions: {
        // No coercion: it would turn `{"tx": 1234}` into the valid hex
        // "1234". Path and query values are strings with patterns instead.
        coerceTypes: false,
        // Refuse unknown fields (additionalProperties: false) instead of
        // silently dropping them, so a misspelt field is reported.
        removeAdditional: false,
      },
    },
  } as const;
  const app: FastifyInstance =
    opts.logger === false
      ? Fastify({ ...common, logger: false })
      : Fastify({ ...common, loggerInstance: opts.logger });

  // JSON only: without this, a text/plain body would reach validation and
  // fail as "body must be object" instead of 415.
  app.removeContentTypeParser("text/plain");

  let closing = false;
  const streams = new HeadStreams();
  const bindings = nodeRoutes({
    service,
    streams,
    registry: opts.registry,
    headsHeartbeatMs: opts.headsHeartbeatMs,
    openApi: () => app.swagger(),
  });
  // The paths this node serves (a node without a dev faucet lacks one), for 405's Allow.
  const boundPaths = boundRoutePaths(bindings);
  app.addHook("preClose", async () => {
    closing = true;
    // Open event streams never end by themselves and would hold close() forever.
    streams.closeAll();
  });
  app.addHook("onRequest", async (request) => {
    if (closing) {
      throw new ApiError("UNAVAILABLE", "This node is shutting down; retry on another node.");
    }
    const form = requestFormError(request.raw.url ?? "", request.raw);
    if (form) throw form;
  });
  // An answer given before the body is read (a 413) must reach the client (see lingerOnClose).
  lingerOnClose(app.server);
  // CONNECT never reaches fastify; without a listener Node drops the socket unanswered.
  app.server.on("connect", (_request, socket: Socket) => {
    if (socket.writable) socket.end(rawHttpAnswer(connectAnswer()));
    else socket.destroy();
  });

  observeRequestDurations(app, opts.registry);

  app.setErrorHandler((error, request, reply) => {
    const answer = toHttpError(error, {
      route: request.routeOptions.url,
      requestId: String(request.id),
    });
    if (answer.body.code === "INTERNAL") {
      request.log.error({ err: error }, "request failed");
    } else if (answer.status >= 500) {
      request.log.warn({ code: answer.body.code }, answer.body.message);
    }
    return sendError(reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!.slice(0, 256);
    // A path some bound route serves, asked with another method: 405 with Allow.
    const allowed = allowedMethods(path, (route) => boundPaths.has(route));
    if (allowed.length > 0 && request.method !== "OPTIONS") {
      reply.header("allow", allowed.join(", "));
      return sendError(
        reply,
        toHttpError(methodNotAllowed(request.method, path, allowed), {
          route: undefined,
          requestId: String(request.id),
        }),
      );
    }
    const error = new ApiError(
      "NOT_FOUND",
      `No route ${request.method} ${path}; GET /openapi.json lists the routes.`,
      { details: { method: request.method, path } },
    );
    return sendError(
      reply,
      toHttpError(error, { route: undefined, requestId: String(request.id) }),
    );
  });

  // Browsers on other origins (apps using the SDK, edge workers' pages) may
  // call the API: every answer is public and verifiable, nothing rides on
  // cookies, so any origin is allowed; preflights are answered for JSON POSTs.
  // Not strict: a preflight without Origin or Access-Control-Request-Method
  // gets the same 204 as the edge gives it (a browser never sends one; what
  // else asks learns only what every answer's headers say anyway).
  app.register(cors, {
    origin: "*",
    methods: ["GET", "POST"],
    maxAge: 600,
    strictPreflight: false,
  });
  // Swagger collects routes as they are added, so it must load before them:
  // plugins load in registration order, and the routes are a plugin.
  app.register(swagger, { openapi: { openapi: "3.1.0", info: { ...API_INFO } } });
  app.register(async (scope) => registerRoutes(scope, bindings));
  if (options.explorer) {
    const explorer = options.explorer;
    app.register(async (scope) => registerExplorer(scope, explorer));
  }
  return app;
}
