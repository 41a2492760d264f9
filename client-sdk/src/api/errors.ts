/**
 * The one error serializer of the API: anything thrown while serving →
 * `{ status, body: { code, message, details } }`, used by the node and the
 * edge alike, so both answer an error with the same status, code and shape.
 *
 * Safe by construction: only typed errors (BaseError with a stable code)
 * are answered with their own message; anything else becomes INTERNAL with
 * the server's fixed text, never the real message or stack (they may hold
 * paths, keys, upstream addresses or state). Details are made JSON-safe
 * (bigints as decimal strings, bytes as hex, nothing callable, bounded
 * depth), so rendering an answer cannot throw.
 *
 * Pure: errors in, plain objects out. The servers send them.
 */
import type { BaseError } from "../errors/base.ts";
import { AddressError, ApiError, TransactionError } from "../errors/protocol.ts";
import { toHex } from "../protocol/bytes.ts";
import { apiErrorStatus, transactionErrorStatus } from "./status.ts";
import type { ErrorJson } from "./types.ts";

/** An error answer: its status and its `{ code, message, details }` body. */
export interface HttpError {
  readonly status: number;
  readonly body: ErrorJson;
}

export interface ErrorSerializerOptions {
  /**
   * What an INTERNAL answer says instead of the real error: a fixed message
   * and, for an operator, details such as a request id.
   */
  readonly internal: { readonly message: string; readonly details?: Record<string, unknown> };
  /**
   * The server's own errors, asked first: the edge's EdgeError, the node's
   * framework and decode errors. Returns undefined for an error it does
   * not own, which then goes through the API's mapping.
   */
  readonly own?: (error: unknown) => HttpError | undefined;
}

/** The answer for anything thrown while serving (see the module comment). */
export function toHttpError(error: unknown, options: ErrorSerializerOptions): HttpError {
  const own = options.own?.(error);
  if (own !== undefined) return own;
  if (error instanceof TransactionError)
    return errorAnswer(transactionErrorStatus[error.code] ?? 400, error);
  if (error instanceof ApiError) {
    // An INTERNAL ApiError's message was written for the log, not the client.
    if (error.code === "INTERNAL") return internalAnswer(options.internal);
    return errorAnswer(apiErrorStatus[error.code] ?? 500, error);
  }
  if (error instanceof AddressError) return errorAnswer(400, error);
  return internalAnswer(options.internal);
}

/** A typed error as the API's error body (also a refused transaction inside a batch answer). */
export function errorJson(error: BaseError): ErrorJson {
  return { code: error.code, message: error.shortMessage, details: jsonDetails(error.details) };
}

/** A typed error answered with `status`. */
export function errorAnswer(status: number, error: BaseError): HttpError {
  return { status, body: errorJson(error) };
}

/** The 500 INTERNAL answer: the server's fixed message, never the error's. */
export function internalAnswer(internal: ErrorSerializerOptions["internal"]): HttpError {
  return {
    status: 500,
    body: { code: "INTERNAL", message: internal.message, details: { ...internal.details } },
  };
}

/** Error details as JSON: bigints become decimal strings, bytes become hex. */
export function jsonDetails(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
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
  // An error's message may hold what INTERNAL hides; its class name says enough.
  if (value instanceof Error) return value.name;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = jsonValue(v, depth + 1);
  return out;
}
