/**
 * The HTTP status that goes with each error code the API answers with. Part
 * of the API like the routes: the node and the edge answer with it (through
 * the one serializer, errors.ts), and the SDK's transport knows a code is
 * the API's own by finding it here.
 *
 * Every code is listed, so a new one does not compile until it has a status.
 */
import type { ApiErrorCode, TransactionErrorCode } from "../errors/protocol.ts";

export const apiErrorStatus: Readonly<Record<ApiErrorCode, number>> = {
  REQUEST_INVALID: 400,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  NOT_FOUND: 404,
  HEIGHT_NOT_AVAILABLE: 404,
  // Gone, not "not yet": another node (an archive) may still have it.
  STATE_PRUNED: 410,
  BLOCK_PRUNED: 410,
  HEADER_PRUNED: 410,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A refused transaction: the client's to fix (400), unless noted. */
export const transactionErrorStatus: Readonly<Record<TransactionErrorCode, number>> = {
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
  TX_SELF_TRANSFER: 400,
  TX_NOT_VALIDATOR: 400,
  TX_INVALID_VALIDATOR_KEY: 400,
  // Already known: the client's goal is met, nothing to fix in the request.
  TX_DUPLICATE: 409,
  // Not the transaction's fault: the same request may succeed later.
  MEMPOOL_FULL: 503,
  MEMPOOL_ACCOUNT_LIMIT: 503,
  MEMPOOL_EVICTED: 400,
};
