/**
 * The rules for a request's form that hold before any route runs, written
 * once for the node (fastify) and the edge (Hono, on Node and Workers), so
 * that both answer the same malformed input with the same status and code:
 * the request target (percent-encoding, dot segments, segment length), the
 * body's media type, the methods a path allows, and the answer to bytes
 * that are not HTTP at all (a parser error, written raw on the socket).
 *
 * Pure: strings in, errors and strings out. The servers bind them.
 */
import { ApiError } from "../errors/protocol.ts";
import { MAX_TX_BYTES } from "../protocol/limits.ts";
import type { HttpError } from "./errors.ts";
import { routes } from "./routes.ts";
import { apiErrorStatus } from "./status.ts";

/**
 * The longest path segment served. Every real one is far shorter (an
 * address is 41 characters, a hash 64); the bound keeps both routers from
 * matching megabytes of path, and makes "too long" one answer on both.
 */
export const MAX_PATH_SEGMENT_LENGTH = 256;

/** `problem` for the path: `{ in: "path" }` like every field the request got wrong. */
function pathInvalid(message: string, path: string, problem: string): ApiError {
  return new ApiError("REQUEST_INVALID", message, {
    details: { in: "path", path: path.slice(0, 256), problem },
  });
}

/**
 * Why a request target (the raw one from the request line, path and
 * query) cannot name a route, or null. Dot segments (`.`, `..`, also
 * percent-encoded) are refused rather than resolved: the node's router
 * does not resolve them and a URL parser does, so resolving would let one
 * server answer what the other calls not found; no client needs them.
 */
export function requestTargetError(target: string): ApiError | null {
  // Origin-form only: an API is no proxy (absolute-form) and has no
  // server-wide OPTIONS (asterisk-form); a URL parser would accept both.
  if (!target.startsWith("/"))
    return pathInvalid(
      "The request target must be a path (origin-form), such as /v1/status.",
      target,
      "not origin-form",
    );
  const q = target.indexOf("?");
  const path = q < 0 ? target : target.slice(0, q);
  for (const segment of path.split("/")) {
    if (segment.length > MAX_PATH_SEGMENT_LENGTH)
      return pathInvalid(
        `A path segment is longer than ${MAX_PATH_SEGMENT_LENGTH} characters.`,
        path,
        "segment too long",
      );
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return pathInvalid(
        "The path is not valid percent-encoded UTF-8.",
        path,
        "bad percent-encoding",
      );
    }
    if (decoded === "." || decoded === "..")
      return pathInvalid(
        "The path has a dot segment (. or ..); send the path it resolves to.",
        path,
        "dot segment",
      );
  }
  return null;
}

/** Whether a Content-Type header names JSON (parameters such as charset aside). */
export function isJsonContentType(header: string | null | undefined): boolean {
  if (!header) return false;
  return header.split(";")[0]!.trim().toLowerCase() === "application/json";
}

/** The 415 for a body that is not declared JSON. */
export function unsupportedMediaType(): HttpError {
  return {
    status: 415,
    body: {
      code: "REQUEST_INVALID",
      message: "Send the body as JSON, with content-type: application/json.",
      details: { in: "headers", field: "content-type" },
    },
  };
}

/** The 413 for a body over its route's limit (bodyLimitOf in routes.ts). */
export function bodyTooLarge(): HttpError {
  return {
    status: apiErrorStatus.BODY_TOO_LARGE,
    body: {
      code: "BODY_TOO_LARGE",
      message: `The request body is too large; a signed transaction is at most ${MAX_TX_BYTES * 2} hex characters.`,
      details: {},
    },
  };
}

/** Each path pattern of the route table as a regular expression, with the methods it serves. */
const PATTERNS: readonly { path: string; re: RegExp; methods: readonly string[] }[] = (() => {
  const byPath = new Map<string, Set<string>>();
  for (const route of Object.values(routes)) {
    const set = byPath.get(route.path) ?? new Set<string>();
    set.add(route.method);
    byPath.set(route.path, set);
  }
  return [...byPath].map(([path, set]) => ({
    path,
    re: new RegExp(`^${path.replace(/\./g, "\\.").replace(/:[^/]+/g, "[^/]+")}$`),
    methods: [...set],
  }));
})();

/**
 * The methods some route serves at `path` (GET implies HEAD), or [] when
 * no route has this path. `served` narrows the route table to the route
 * paths (patterns such as `/v1/blocks/:id`) a server binds: the edge
 * serves a subset, a node without a dev faucet lacks one.
 */
export function allowedMethods(path: string, served?: (routePath: string) => boolean): string[] {
  const out = new Set<string>();
  for (const { path: pattern, re, methods } of PATTERNS) {
    if (!re.test(path) || (served && !served(pattern))) continue;
    for (const m of methods) {
      out.add(m);
      if (m === "GET") out.add("HEAD");
    }
  }
  return [...out].sort();
}

/** The 405 for a method no route serves at a path that exists. */
export function methodNotAllowed(
  method: string,
  path: string,
  allowed: readonly string[],
): ApiError {
  return new ApiError(
    "METHOD_NOT_ALLOWED",
    `${method.slice(0, 16)} is not served at this path; it serves ${allowed.join(", ")}.`,
    { details: { method: method.slice(0, 16), path: path.slice(0, 256), allowed: [...allowed] } },
  );
}

/**
 * The answer to bytes the HTTP parser refused (Node's `clientError`, by the
 * llhttp code in `err.code`), before any request existed. Header floods get
 * 431; a method the parser does not know, 405; the rest, 400.
 */
export function parserErrorAnswer(code: string | undefined): HttpError {
  const reason = typeof code === "string" ? code.slice(0, 64) : "unknown";
  if (reason === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      body: {
        code: "REQUEST_INVALID",
        message: "The request's headers are too large.",
        details: { in: "headers", reason },
      },
    };
  if (reason === "HPE_INVALID_METHOD")
    return {
      status: apiErrorStatus.METHOD_NOT_ALLOWED,
      body: {
        code: "METHOD_NOT_ALLOWED",
        message: "The request's method is not one this server knows.",
        details: { reason },
      },
    };
  if (reason === "ERR_HTTP_REQUEST_TIMEOUT" || reason === "ERR_HTTP_HEADERS_TIMEOUT")
    return {
      status: 408,
      body: {
        code: "REQUEST_INVALID",
        message: "The request did not arrive in time.",
        details: { reason },
      },
    };
  return {
    status: 400,
    body: {
      code: "REQUEST_INVALID",
      message: "The request is not well-formed HTTP/1.1.",
      details: { reason },
    },
  };
}

/** The 405 for CONNECT: this server is no proxy. */
export function connectAnswer(): HttpError {
  return {
    status: apiErrorStatus.METHOD_NOT_ALLOWED,
    body: {
      code: "METHOD_NOT_ALLOWED",
      message: "CONNECT is not served: this is an API, not a proxy.",
      details: { method: "CONNECT" },
    },
  };
}

const REASONS: Readonly<Record<number, string>> = {
  400: "Bad Request",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
};

/**
 * A whole HTTP/1.1 response as text, for a socket no response object owns
 * (after a parser error or a CONNECT); the connection is closed after it,
 * since the parser's position in the stream is lost.
 */
export function rawHttpAnswer({ status, body }: HttpError): string {
  const json = JSON.stringify(body);
  return (
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
    "content-type: application/json; charset=utf-8\r\n" +
    `content-length: ${new TextEncoder().encode(json).length}\r\n` +
    "access-control-allow-origin: *\r\n" +
    "cache-control: no-store\r\n" +
    "connection: close\r\n\r\n" +
    json
  );
}
