/**
 * The edge's own errors and their statuses, bound to the SDK's one error
 * serializer, so the edge answers `{ code, message, details }` exactly as
 * the node does (the SDK reads edge and node errors alike).
 *
 * Codes are stable. The SDK, which does not know EDGE_* codes, turns them
 * into an ApiError with the code in `details.serverCode`; it retries 429 and
 * 5xx answers like any others.
 */
import { errorAnswer, type HttpError, toHttpError as serialize } from "@edgeledger/sdk/api";
import { BaseError } from "@edgeledger/sdk/protocol";

export type EdgeErrorCode =
  /** This client sent too many requests; retry after `details.retryAfterSeconds`. */
  | "EDGE_RATE_LIMITED"
  /** Upstreams answered, but no answer verified: forged, corrupted or inconsistent. */
  | "EDGE_UNVERIFIED"
  /** No upstream answered: down, timing out or failing. */
  | "EDGE_UPSTREAM_UNAVAILABLE"
  /** This edge cannot vouch for what was asked (the genesis, when it trusts a checkpoint). */
  | "EDGE_NOT_VERIFIABLE"
  /** GET /v1/heads has as many streams open as the edge serves; retry after `Retry-After`. */
  | "EDGE_STREAMS_FULL"
  /** The edge's configuration is invalid; the message names the option and the fix. */
  | "EDGE_CONFIG_INVALID";

export class EdgeError extends BaseError<EdgeErrorCode> {
  override name = "EdgeError";
}

/** Every code is listed, so a new one does not compile until it has a status. */
const EDGE_ERROR_STATUS: Record<EdgeErrorCode, number> = {
  EDGE_RATE_LIMITED: 429,
  // The gateway's upstreams failed it: 502, which clients retry.
  EDGE_UNVERIFIED: 502,
  EDGE_UPSTREAM_UNAVAILABLE: 502,
  EDGE_NOT_VERIFIABLE: 404,
  EDGE_STREAMS_FULL: 503,
  EDGE_CONFIG_INVALID: 500,
};

/** The SDK's type: node and edge answer errors in one shape. */
export type { HttpError } from "@edgeledger/sdk/api";

const INTERNAL = {
  message: "The edge failed to serve this request; its log says why.",
  details: {},
} as const;

/** The edge's own codes; a config error is a failure of this edge, answered as INTERNAL. */
function edgeAnswer(error: unknown): HttpError | undefined {
  if (error instanceof EdgeError && error.code !== "EDGE_CONFIG_INVALID")
    return errorAnswer(EDGE_ERROR_STATUS[error.code], error);
  return undefined;
}

/**
 * The answer for anything thrown while serving: the SDK's one serializer
 * (toHttpError of @edgeledger/sdk/api) with the edge's codes. Unknown
 * errors become INTERNAL without their message: it may hold upstream
 * addresses or state.
 */
export function toHttpError(error: unknown): HttpError {
  return serialize(error, { internal: INTERNAL, own: edgeAnswer });
}
