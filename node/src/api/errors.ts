/**
 * The node's side of the one error serializer (toHttpError of
 * @edgeledger/sdk/api): what only a fastify server throws (its own
 * refusals of a request's form, schema violations) and a DecodeError of the
 * client's bytes; everything else maps as on the edge. Pure: errors in,
 * answers out; `sendError` is the one place an error answer is sent.
 */
import {
  bodyTooLarge,
  type HttpError,
  internalAnswer,
  jsonDetails,
  routes,
  toHttpError as serialize,
  unsupportedMediaType,
} from "@edgeledger/sdk/api";
import { DecodeError } from "@edgeledger/sdk/protocol";
import type { FastifyError, FastifyReply } from "fastify";

export type { HttpError } from "@edgeledger/sdk/api";

export interface ErrorContext {
  /** The matched route pattern (fastify's routeOptions.url), if any. */
  route: string | undefined;
  /** Quoted in INTERNAL answers so an operator can find the logged error. */
  requestId: string;
}

/**
 * Routes whose service call decodes bytes the client sent. A DecodeError
 * there is the client's malformed transaction; anywhere else it means the
 * node could not read its own data, and a 400 would blame the client.
 */
const ROUTES_DECODING_CLIENT_BYTES: ReadonlySet<string> = new Set([routes.submitTransaction.path]);

/** The answer for anything thrown while serving a request. */
export function toHttpError(error: unknown, context: ErrorContext): HttpError {
  return serialize(error, {
    internal: internalText(context),
    own: (e) => nodeAnswer(e, context),
  });
}

export function sendError(reply: FastifyReply, { status, body }: HttpError): FastifyReply {
  // A refusal that knows when to come back says so (RFC 9110 Retry-After, whole seconds):
  // MEMPOOL_FULL carries how long the backlog takes to drain.
  const hint = body.details["retryAfterMs"];
  if ((status === 503 || status === 429) && typeof hint === "number" && hint > 0)
    reply.header("retry-after", String(Math.ceil(hint / 1000)));
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

function internalText(context: ErrorContext) {
  return {
    // Never the real message or stack: they may hold paths, keys or state.
    message: "The node failed to serve this request and logged why; quote the requestId.",
    details: { requestId: context.requestId },
  };
}

/** What only the node throws; undefined for the errors the SDK's serializer maps. */
function nodeAnswer(error: unknown, context: ErrorContext): HttpError | undefined {
  if (error instanceof DecodeError) {
    if (context.route === undefined || !ROUTES_DECODING_CLIENT_BYTES.has(context.route)) {
      return internalAnswer(internalText(context));
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
  return undefined;
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
      return bodyTooLarge();
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return unsupportedMediaType();
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
  return internalAnswer(internalText(context));
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
