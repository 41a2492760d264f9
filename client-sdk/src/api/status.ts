/**
 * The HTTP status that goes with each API error code. Part of the API like
 * the routes: the node and the edge answer with it, and the SDK's transport
 * knows a code is the API's own by finding it here.
 */
import type { ApiErrorCode } from "../errors/protocol.ts";

export const apiErrorStatus: Readonly<Record<ApiErrorCode, number>> = {
  REQUEST_INVALID: 400,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  NOT_FOUND: 404,
  HEIGHT_NOT_AVAILABLE: 404,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
