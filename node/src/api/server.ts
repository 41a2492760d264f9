/**
 * The node's HTTP API: binds the route table of @edgeledger/sdk/api to a
 * NodeService on fastify, and maps every error to `{ code, message, details }`
 * with its HTTP status, in one place (`toHttpError`).
 *
 * Owns: input parsing (hex, addresses, heights), error mapping, the heads
 * event stream, the request-duration histogram and the OpenAPI document.
 * May not touch the database, mempool or consensus: it only calls the
 * NodeService. Binds routes only: listening and closing belong to the caller
 * (the composition root), and `close()` ends any open event streams.
 */

import type { Socket } from "node:net";
import {
  API_INFO,
  allowedMethods,
  apiErrorStatus,
  type CertifiedHeaderJson,
  certifiedHeaderSchema,
  connectAnswer,
  type ErrorJson,
  HEAD_EVENT,
  type HealthJson,
  MAX_BATCH_TXS,
  methodNotAllowed,
  parserErrorAnswer,
  type RouteDefinition,
  rawHttpAnswer,
  requestTargetError,
  routes,
  type SubmitTransactionResponse,
  type SubmitTransactionsResponse,
} from "@edgeledger/sdk/api";
import {
  AddressError,
  ApiError,
  type BaseError,
  DecodeError,
  fromHex,
  KeyError,
  MAX_TX_BYTES,
  parseAddress,
  TransactionError,
  type TransactionErrorCode,
  toHex,
} from "@edgeledger/sdk/protocol";
import cors from "@fastify/cors";
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
  LogController,
} from "fastify";
import { Histogram, Registry } from "prom-client";
import type { NodeService } from "./service.ts";

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
}

/** The defaults of ApiServerOptions, in one place. */
export const defaultApiServerOptions = {
  /** 64 KiB: a signed transaction is at most 4 KiB (8 KiB as hex); the rest is slack. */
  bodyLimit: 64 * 1024,
  /** Silent: the composition root passes its logger. */
  logger: false,
  /** 15 s: below the 30-60 s idle timeouts of common proxies and load balancers. */
  headsHeartbeatMs: 15_000,
  /** `registry` has no shared default: each server gets a fresh Registry (see resolveOptions). */
} as const;

export const REQUEST_DURATION_METRIC = "edgeledger_api_request_duration_seconds";

/**
 * Bytes an event stream may have queued for a client that stopped reading.
 * Beyond it the stream is closed (EventSource reconnects) instead of
 * buffering without bound. A head event is about 1-20 KiB.
 */
const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;

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
  const devRoutes = service.devTransfer !== undefined;
  const app: FastifyInstance =
    opts.logger === false
      ? Fastify({ ...common, logger: false })
      : Fastify({ ...common, loggerInstance: opts.logger });

  // JSON only: without this, a text/plain body would reach validation and
  // fail as "body must be object" instead of 415.
  app.removeContentTypeParser("text/plain");

  let closing = false;
  const streams = new HeadStreams();
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
    const allowed = allowedMethods(path, (route) => route !== routes.devTransfer.path || devRoutes);
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
  app.register(async (scope) => bindRoutes(scope, app, service, opts, streams));
  return app;
}

// ---------------------------------------------------------------------------
// Routes.

type HeightQuery = { height?: string };

function bindRoutes(
  scope: FastifyInstance,
  root: FastifyInstance,
  service: NodeService,
  opts: ResolvedOptions,
  streams: HeadStreams,
): void {
  const r = routes;

  scope.route<{ Body: { tx: string } }>({
    method: r.submitTransaction.method,
    url: r.submitTransaction.path,
    schema: schemaOf(r.submitTransaction),
    handler: async (request, reply) => {
      const txBytes = hexInput(request.body.tx, "body", "tx");
      const { hash } = await service.submitTransaction(txBytes);
      const hashHex = toHex(hash);
      const answer: SubmitTransactionResponse = { hash: hashHex, status: "pending" };
      return reply.code(202).header("location", `/v1/transactions/${hashHex}`).send(answer);
    },
  });

  scope.route<{ Body: { txs: string[] } }>({
    method: r.submitTransactions.method,
    url: r.submitTransactions.path,
    schema: schemaOf(r.submitTransactions),
    // A full batch of the largest transactions, as hex in JSON.
    bodyLimit: MAX_BATCH_TXS * (MAX_TX_BYTES * 2 + 3) + 64,
    handler: async (request) => {
      const txs = request.body.txs.map((tx, i) => hexInput(tx, "body", `txs[${i}]`));
      const results = await service.submitTransactions(txs);
      const answer: SubmitTransactionsResponse = {
        results: results.map((r) =>
          "hash" in r ? { hash: toHex(r.hash), status: "pending" } : { error: errorJson(r.error) },
        ),
      };
      return answer;
    },
  });

  const devTransfer = service.devTransfer?.bind(service);
  if (devTransfer) {
    scope.route<{ Body: { to: string; amount: string } }>({
      method: r.devTransfer.method,
      url: r.devTransfer.path,
      schema: schemaOf(r.devTransfer),
      handler: async (request, reply) => {
        const { hash } = await devTransfer(
          parseAddress(request.body.to),
          BigInt(request.body.amount),
        );
        const answer: SubmitTransactionResponse = { hash: toHex(hash), status: "pending" };
        return reply.code(202).send(answer);
      },
    });
  }

  scope.route<{ Params: { hash: string } }>({
    method: r.getTransaction.method,
    url: r.getTransaction.path,
    schema: schemaOf(r.getTransaction),
    handler: async (request) => {
      const hash = hexInput(request.params.hash, "params", "hash", 32);
      const status = await service.getTransaction(hash);
      if (status === null) {
        throw new ApiError("NOT_FOUND", "This node has never seen a transaction with this hash.", {
          details: { hash: request.params.hash },
        });
      }
      return status;
    },
  });

  scope.route<{ Params: { address: string }; Querystring: HeightQuery }>({
    method: r.getAccount.method,
    url: r.getAccount.path,
    schema: schemaOf(r.getAccount),
    handler: async (request) => {
      const address = parseAddress(request.params.address);
      return service.getAccount(address, heightInput(request.query.height, "querystring"));
    },
  });

  scope.route<{ Params: { id: string } }>({
    method: r.getBlock.method,
    url: r.getBlock.path,
    schema: schemaOf(r.getBlock),
    handler: async (request) => {
      const { id } = request.params;
      let block: Awaited<ReturnType<NodeService["getBlockByHeight"]>>;
      if (id === "latest") {
        block = await service.getBlockByHeight((await service.getStatus()).height);
      } else if (id.length === 64) {
        block = await service.getBlockByHash(hexInput(id, "params", "id", 32));
      } else {
        block = await service.getBlockByHeight(heightInput(id, "params", "id"));
      }
      if (block === null) {
        throw new ApiError("NOT_FOUND", "No final block with this id.", { details: { id } });
      }
      return block;
    },
  });

  scope.route<{ Params: { height: string } }>({
    method: r.getHeader.method,
    url: r.getHeader.path,
    schema: schemaOf(r.getHeader),
    handler: async (request) => {
      const height = heightInput(request.params.height, "params");
      const header = await service.getHeaderByHeight(height);
      if (header === null) {
        throw new ApiError("NOT_FOUND", "No final header at this height.", {
          details: { height },
        });
      }
      return header;
    },
  });

  scope.route({
    method: r.getGenesis.method,
    url: r.getGenesis.path,
    schema: schemaOf(r.getGenesis),
    handler: async () => service.getGenesis(),
  });

  scope.route<{ Querystring: HeightQuery }>({
    method: r.getValidators.method,
    url: r.getValidators.path,
    schema: schemaOf(r.getValidators),
    handler: async (request) =>
      service.getValidators(heightInput(request.query.height, "querystring")),
  });

  scope.route({
    method: r.getStatus.method,
    url: r.getStatus.path,
    schema: schemaOf(r.getStatus),
    handler: async () => service.getStatus(),
  });

  scope.route({
    method: r.subscribeHeads.method,
    url: r.subscribeHeads.path,
    schema: schemaOf(r.subscribeHeads),
    // A HEAD request would open a stream that never ends.
    exposeHeadRoute: false,
    handler: (request, reply) => streams.open(service, request, reply, opts.headsHeartbeatMs),
  });

  scope.route({
    method: r.getMetrics.method,
    url: r.getMetrics.path,
    schema: schemaOf(r.getMetrics),
    handler: async (_request, reply) =>
      reply.type(opts.registry.contentType).send(await opts.registry.metrics()),
  });

  scope.route({
    method: r.getOpenApi.method,
    url: r.getOpenApi.path,
    schema: schemaOf(r.getOpenApi),
    handler: async () => root.swagger(),
  });

  scope.route({
    method: r.getHealth.method,
    url: r.getHealth.path,
    schema: schemaOf(r.getHealth),
    handler: async (): Promise<HealthJson> => ({ ok: true }),
  });
}

const NO_QUERY = { type: "object", additionalProperties: false, properties: {} } as const;

/** A route definition as fastify's schema (which @fastify/swagger also reads). */
function schemaOf(route: RouteDefinition): FastifySchema {
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.params && { params: route.params }),
    // A route without a query refuses one, as the edge does: `?x=1` on a
    // block read is a mistake to report, and would split caches by junk.
    querystring: route.querystring ?? NO_QUERY,
    ...(route.body && { body: route.body }),
    response: route.response,
  };
}

/**
 * The request's form, before any route: the target (requestTargetError, the
 * edge's rule too) and, for HTTP/1.1, a Host header (which Node's own check
 * would answer with an empty 400).
 */
function requestFormError(
  target: string,
  raw: { httpVersion: string; headers: Record<string, unknown> },
): ApiError | null {
  const targetError = requestTargetError(target);
  if (targetError) return targetError;
  if (raw.httpVersion === "1.1" && raw.headers["host"] === undefined)
    return new ApiError("REQUEST_INVALID", "An HTTP/1.1 request needs a Host header.", {
      details: { in: "headers", field: "host" },
    });
  return null;
}

/** fastify's clientErrorHandler: the parser refused the bytes; answer in the error shape and close. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  if (socket.writable) socket.end(rawHttpAnswer(parserErrorAnswer(error.code)));
  else socket.destroy(error);
}

type InputPart = "body" | "params" | "querystring";

/**
 * Hex that the schema already checked; fromHex is the protocol's one reading
 * of it. Should the two ever disagree, the client hears which field.
 */
function hexInput(text: string, part: InputPart, field: string, length?: number): Uint8Array {
  try {
    return fromHex(text, length);
  } catch (error) {
    if (error instanceof KeyError) {
      throw new ApiError("REQUEST_INVALID", `${part} field "${field}" must be lowercase hex.`, {
        details: { in: part, field, problem: error.shortMessage },
        cause: error,
      });
    }
    throw error;
  }
}

/** A decimal height from a path or query (the schema checked the digits). */
function heightInput(text: string, part: InputPart, field?: string): number;
function heightInput(text: string | undefined, part: InputPart, field?: string): number | undefined;
function heightInput(
  text: string | undefined,
  part: InputPart,
  field = "height",
): number | undefined {
  if (text === undefined) return undefined;
  const height = Number(text);
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new ApiError("REQUEST_INVALID", `${part} field "${field}" must be at most 2^53 - 1.`, {
      details: { in: part, field, problem: "out of range" },
    });
  }
  return height;
}

// ---------------------------------------------------------------------------
// GET /v1/heads: Server-Sent Events.

/** The open heads streams, so that close() can end them. */
class HeadStreams {
  readonly #closers = new Set<() => void>();

  closeAll(): void {
    for (const close of [...this.#closers]) close();
  }

  open(
    service: NodeService,
    request: FastifyRequest,
    reply: FastifyReply,
    heartbeatMs: number,
  ): void {
    // Each head goes through the response schema, like every JSON answer:
    // only the fields of CertifiedHeaderJson leave the node.
    const serialize = reply.compileSerializationSchema(certifiedHeaderSchema);
    const raw = reply.raw;
    let started = false;
    let closed = false;
    let unsubscribe = (): void => {};
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    // A service may call the listener before onHead returns (e.g. with the
    // current head); those events wait until the headers are out.
    const early: string[] = [];

    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.#closers.delete(close);
      if (!raw.writableEnded) raw.end();
    };

    const write = (chunk: string): void => {
      if (closed) return;
      if (!started) {
        early.push(chunk);
        return;
      }
      raw.write(chunk);
      if (raw.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        request.log.warn("heads stream client is not reading; closing its stream");
        close();
      }
    };

    // Subscribe before hijacking: if onHead throws, the error handler can
    // still answer with a normal JSON error.
    unsubscribe = service.onHead((head: CertifiedHeaderJson) => {
      let data: string;
      try {
        data = serialize({ ...head });
      } catch (error) {
        request.log.error({ err: error }, "a head does not match CertifiedHeaderJson; not sent");
        return;
      }
      write(`event: ${HEAD_EVENT}\ndata: ${data}\n\n`);
    });

    reply.hijack();
    this.#closers.add(close);
    // "close" fires when the client goes away (or after our own end()).
    raw.on("close", close);
    // A hijacked reply does not send what hooks set on it (CORS): pass it on,
    // or browsers on other origins get no stream.
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) raw.setHeader(name, value);
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx buffers responses by default, which would hold events back.
      "x-accel-buffering": "no",
    });
    // A first line flushes the headers, so the client knows it is subscribed.
    raw.write(": subscribed\n\n");
    started = true;
    for (const chunk of early.splice(0)) write(chunk);
    if (closed) return;

    heartbeat = setInterval(() => write(": heartbeat\n\n"), heartbeatMs);
    // The heartbeat alone must not keep the process alive.
    heartbeat.unref();
  }
}

// ---------------------------------------------------------------------------
// Metrics.

function observeRequestDurations(app: FastifyInstance, registry: Registry): void {
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

// ---------------------------------------------------------------------------
// Errors: the one mapping from what was thrown to an HTTP answer.

export interface HttpError {
  status: number;
  body: ErrorJson;
}

export interface ErrorContext {
  /** The matched route pattern (fastify's routeOptions.url), if any. */
  route: string | undefined;
  /** Quoted in INTERNAL answers so an operator can find the logged error. */
  requestId: string;
}

/** Every code is listed, so a new one does not compile until it has a status. */
const TRANSACTION_ERROR_STATUS: Record<TransactionErrorCode, number> = {
  TX_SIGNER_MISMATCH: 400,
  TX_MALFORMED: 400,
  TX_TOO_LARGE: 400,
  TX_WRONG_CHAIN: 400,
  TX_BAD_SIGNATURE: 400,
  TX_EXPIRED: 400,
  TX_EXPIRY_TOO_FAR: 400,
  TX_NONCE_TOO_LOW: 400,
  TX_NONCE_TOO_HIGH: 400,
  TX_INSUFFICIENT_BALANCE: 400,
  TX_UNKNOWN_ACCOUNT: 400,
  TX_INVALID_AMOUNT: 400,
  TX_NOT_VALIDATOR: 400,
  TX_INVALID_VALIDATOR_KEY: 400,
  // Already known: the client's goal is met, nothing to fix in the request.
  TX_DUPLICATE: 409,
  // Not the transaction's fault: the same request may succeed later.
  MEMPOOL_FULL: 503,
  MEMPOOL_ACCOUNT_LIMIT: 503,
  MEMPOOL_EVICTED: 400,
};

/**
 * Routes whose service call decodes bytes the client sent. A DecodeError
 * there is the client's malformed transaction; anywhere else it means the
 * node could not read its own data, and a 400 would blame the client.
 */
const ROUTES_DECODING_CLIENT_BYTES: ReadonlySet<string> = new Set([routes.submitTransaction.path]);

export function toHttpError(error: unknown, context: ErrorContext): HttpError {
  if (error instanceof TransactionError) {
    return answer(TRANSACTION_ERROR_STATUS[error.code] ?? 400, error.code, error);
  }
  if (error instanceof ApiError) {
    if (error.code === "INTERNAL") return internal(context);
    return answer(apiErrorStatus[error.code] ?? 500, error.code, error);
  }
  if (error instanceof AddressError) {
    return answer(400, error.code, error);
  }
  if (error instanceof DecodeError) {
    if (context.route === undefined || !ROUTES_DECODING_CLIENT_BYTES.has(context.route)) {
      return internal(context);
    }
    return {
      status: 400,
      body: {
        code: "TX_MALFORMED",
        message: `The transaction bytes do not decode: ${error.shortMessage}`,
        details: jsonDetails({ ...error.details, decodeCode: error.code }),
      },
    };
  }
  if (isFastifyError(error)) return fastifyError(error, context);
  return internal(context);
}

function answer(status: number, code: string, error: TransactionError | ApiError | AddressError) {
  return {
    status,
    body: { code, message: error.shortMessage, details: jsonDetails(error.details) },
  };
}

function internal(context: ErrorContext): HttpError {
  return {
    status: 500,
    body: {
      code: "INTERNAL",
      // Never the real message or stack: they may hold paths, keys or state.
      message: "The node failed to serve this request and logged why; quote the requestId.",
      details: { requestId: context.requestId },
    },
  };
}

function isFastifyError(error: unknown): error is FastifyError {
  if (!(error instanceof Error) || !("code" in error)) return false;
  return typeof error.code === "string" && error.code.startsWith("FST_");
}

/** Errors fastify raises itself, before our handlers run: the request's form. */
function fastifyError(error: FastifyError, context: ErrorContext): HttpError {
  if (error.validation !== undefined) return validationError(error);
  const status = error.statusCode ?? 500;
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        status: 413,
        body: {
          code: "BODY_TOO_LARGE",
          message: `The request body is too large; a signed transaction is at most ${MAX_TX_BYTES * 2} hex characters.`,
          details: {},
        },
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return {
        status: 415,
        body: {
          code: "REQUEST_INVALID",
          message: "Send the body as JSON, with content-type: application/json.",
          details: { in: "headers", field: "content-type" },
        },
      };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        status: 400,
        body: {
          code: "REQUEST_INVALID",
          message: "The request body is not valid JSON.",
          details: { in: "body" },
        },
      };
  }
  if (status === 404) {
    return { status, body: { code: "NOT_FOUND", message: error.message, details: {} } };
  }
  if (status >= 400 && status < 500) {
    // Fastify's own messages describe the request's form, never our state.
    return {
      status,
      body: { code: "REQUEST_INVALID", message: error.message, details: { reason: error.code } },
    };
  }
  return internal(context);
}

/** A schema violation: name the part and field, and what is wrong with it. */
function validationError(error: FastifyError): HttpError {
  const part = error.validationContext ?? "request";
  const first = error.validation?.[0];
  const params: { missingProperty?: unknown; additionalProperty?: unknown } = first?.params ?? {};
  const path = (first?.instancePath ?? "").split("/").filter(Boolean).join(".");
  const missing = typeof params.missingProperty === "string" ? params.missingProperty : null;
  const unknown = typeof params.additionalProperty === "string" ? params.additionalProperty : null;
  const field = [path, missing ?? unknown].filter(Boolean).join(".");
  const problem = first?.message ?? "is invalid";
  let message: string;
  if (missing !== null) message = `${part} is missing the field "${field}".`;
  else if (unknown !== null) message = `${part} has an unknown field "${field}".`;
  else if (field !== "") message = `${part} field "${field}" ${problem}.`;
  else message = `${part} ${problem}.`;
  return {
    status: 400,
    body: {
      code: "REQUEST_INVALID",
      message: `${message} See GET /openapi.json for the request's shape.`,
      details: { in: part, field, problem },
    },
  };
}

function sendError(reply: FastifyReply, { status, body }: HttpError): FastifyReply {
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

/** A refused transaction inside a batch answer, in the usual error shape. */
function errorJson(error: BaseError): ErrorJson {
  return { code: error.code, message: error.shortMessage, details: jsonDetails(error.details) };
}

/** Error details as JSON: bigints become decimal strings, bytes become hex. */
function jsonDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) out[key] = jsonValue(value, 0);
  return out;
}

function jsonValue(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  if (value === null || typeof value !== "object") return value;
  // Details are small, flat records; deeper structure is not worth its risk.
  if (depth >= 4) return "[nested]";
  if (Array.isArray(value)) return value.map((v) => jsonValue(v, depth + 1));
  if (value instanceof Error) return value.name;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = jsonValue(v, depth + 1);
  return out;
}
