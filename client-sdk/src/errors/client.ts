/**
 * Errors of the client SDK: talking to a node or edge (TransportError) and
 * checking what it answered (VerificationError). The node's own refusals
 * arrive as the error class their code belongs to (TransactionError for
 * TX_*, ApiError for the rest), see `errorFromResponse` in client/transports/http.ts.
 */
import { BaseError } from "./base.ts";

export type TransportErrorCode =
  /** No URL answered in time, after every retry. */
  | "TRANSPORT_TIMEOUT"
  /** The connection failed (refused, reset, DNS) on every URL, after every retry. */
  | "TRANSPORT_UNREACHABLE"
  /** An answer that is not the JSON the API defines. */
  | "TRANSPORT_BAD_RESPONSE"
  /** An answer (or one server-sent event) larger than the transport reads (maxResponseBytes, maxEventBytes). */
  | "TRANSPORT_TOO_LARGE"
  /** The caller's AbortSignal fired. */
  | "TRANSPORT_ABORTED";

export class TransportError extends BaseError<TransportErrorCode> {
  override name = "TransportError";
}

export type VerificationErrorCode =
  /** The header does not follow from the trusted one (certificate, set, parent link). */
  | "VERIFY_HEADER"
  /** The trusted anchor (genesis or checkpoint) does not match what the server has. */
  | "VERIFY_ANCHOR"
  /** A Merkle or state proof does not lead to the header's root. */
  | "VERIFY_PROOF"
  /** The answer is about something other than what was asked (another tx, address, block). */
  | "VERIFY_MISMATCH"
  /** The answer is older than a header this client already verified. */
  | "VERIFY_STALE"
  /** The answer lacks what is needed to verify it. */
  | "VERIFY_INCOMPLETE";

/**
 * An answer that failed verification: it was forged, corrupted or stale.
 * Nothing from it is returned; `cause` holds the protocol-level error.
 * Retrying against another server (or the same one later) may succeed.
 */
export class VerificationError extends BaseError<VerificationErrorCode> {
  override name = "VerificationError";
}

/**
 * A VerificationError for `what` failed, caused by `cause` (a protocol
 * error): its first line joins the message, the whole of it stays as cause.
 */
export function verificationFailed(
  code: VerificationErrorCode,
  what: string,
  cause: unknown,
): VerificationError {
  const detail = cause instanceof Error ? `: ${cause.message.split("\n")[0]}` : "";
  return new VerificationError(code, `${what}${detail}`, { cause });
}
