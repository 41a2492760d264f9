/**
 * Errors of the remote signer and of the validator's connection to it. One
 * class, stable codes: the signer answers a request it refuses with its code
 * (over the wire, wire.ts), and the validator logs the code of a signature
 * it could not get (it then does not sign: remoteGuard.ts).
 */
import { BaseError, type BaseErrorOptions } from "@edgeledger/sdk/protocol";

export type RemoteSignerErrorCode =
  /** Not connected to the signer (down, restarting, or its key is not the one pinned). */
  | "REMOTE_SIGNER_UNREACHABLE"
  /** No answer within the signing timeout. */
  | "REMOTE_SIGNER_TIMEOUT"
  /** A request or reply longer than its bound (refused before it is decoded). */
  | "REMOTE_SIGNER_TOO_LARGE"
  /** Bytes that do not decode as a request (or reply) of the signer protocol. */
  | "REMOTE_SIGNER_MALFORMED"
  /** More requests than the signer serves a connection per second. */
  | "REMOTE_SIGNER_RATE_LIMITED"
  /** A request for another chain than the signer's, or a vote/proposal for another validator. */
  | "REMOTE_SIGNER_WRONG_CHAIN"
  | "REMOTE_SIGNER_WRONG_VALIDATOR"
  /** Signing it could conflict with what the signer already signed (double-sign protection). */
  | "REMOTE_SIGNER_CONFLICT"
  /** The signer answered with a validator key other than the one it had (it was replaced). */
  | "REMOTE_SIGNER_KEY_CHANGED";

export class RemoteSignerError extends BaseError<RemoteSignerErrorCode> {
  override name = "RemoteSignerError";

  static tooLarge(what: string, size: number, bound: number): RemoteSignerError {
    return new RemoteSignerError(
      "REMOTE_SIGNER_TOO_LARGE",
      `${what} is ${size} bytes; at most ${bound} allowed.`,
      { details: { size, bound } },
    );
  }

  static malformed(what: string, options?: BaseErrorOptions): RemoteSignerError {
    return new RemoteSignerError("REMOTE_SIGNER_MALFORMED", `${what} does not decode.`, options);
  }
}

/** Every code, so the wire can refuse a code it does not know. */
export const REMOTE_SIGNER_ERROR_CODES: readonly RemoteSignerErrorCode[] = [
  "REMOTE_SIGNER_UNREACHABLE",
  "REMOTE_SIGNER_TIMEOUT",
  "REMOTE_SIGNER_TOO_LARGE",
  "REMOTE_SIGNER_MALFORMED",
  "REMOTE_SIGNER_RATE_LIMITED",
  "REMOTE_SIGNER_WRONG_CHAIN",
  "REMOTE_SIGNER_WRONG_VALIDATOR",
  "REMOTE_SIGNER_CONFLICT",
  "REMOTE_SIGNER_KEY_CHANGED",
];
