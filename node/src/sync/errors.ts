/**
 * Errors of the request/response protocols (block sync, consensus catch-up,
 * mempool pull). Every fault a peer can be blamed for has a stable code, so
 * the caller can score the peer (BlockSyncDeps.misbehaved) and the local ban
 * list can weigh a stall less than provable garbage.
 */
import { BaseError, type BaseErrorOptions } from "@edgeledger/sdk/protocol";

export type SyncErrorCode =
  /** No byte (or no drain) within the idle deadline, or the whole exchange overran its deadline. */
  | "SYNC_TIMEOUT"
  /** A length prefix above what that kind of item can be, or a reply above its protocol's bound. */
  | "SYNC_TOO_LARGE"
  /** Bytes that do not decode (truncated frame, undecodable item, wrong chain, bad request). */
  | "SYNC_MALFORMED"
  /** A block whose finality certificate does not verify against its height's validator set. */
  | "SYNC_BAD_CERTIFICATE"
  /** A certified block that does not link to our chain, fails its signatures, or does not execute. */
  | "SYNC_BAD_BLOCK"
  /** An item other than the one asked for (another height, a gap, a replay). */
  | "SYNC_OUT_OF_ORDER"
  /** Not a fault: the peer dropped those block bodies (retainBlocks); ask another. */
  | "SYNC_PRUNED"
  /** State sync: a chunk whose leaves do not rebuild the subtree the verified manifest names. */
  | "SYNC_BAD_CHUNK"
  /** State sync: a snapshot header, certificate or manifest that does not verify against the trusted header. */
  | "SYNC_BAD_SNAPSHOT";

/** Every code, for exhaustive tables (the fault weights in peerPenalties.ts). */
export const SYNC_ERROR_CODES: readonly SyncErrorCode[] = [
  "SYNC_TIMEOUT",
  "SYNC_TOO_LARGE",
  "SYNC_MALFORMED",
  "SYNC_BAD_CERTIFICATE",
  "SYNC_BAD_BLOCK",
  "SYNC_OUT_OF_ORDER",
  "SYNC_PRUNED",
  "SYNC_BAD_CHUNK",
  "SYNC_BAD_SNAPSHOT",
];

export class SyncError extends BaseError<SyncErrorCode> {
  override name = "SyncError";

  static timeout(what: string, ms: number): SyncError {
    return new SyncError("SYNC_TIMEOUT", `The peer did not ${what} within ${ms} ms.`, {
      details: { ms },
    });
  }

  static tooLarge(what: string, size: number, bound: number): SyncError {
    return new SyncError("SYNC_TOO_LARGE", `${what} is ${size} bytes; at most ${bound} allowed.`, {
      details: { size, bound },
    });
  }

  static pruned(from: number, oldest: number): SyncError {
    return new SyncError(
      "SYNC_PRUNED",
      `The peer keeps blocks from height ${oldest} on, not ${from}: ask another peer.`,
      { details: { from, oldest } },
    );
  }

  static malformed(what: string, options?: BaseErrorOptions): SyncError {
    return new SyncError("SYNC_MALFORMED", `The peer sent ${what}.`, options);
  }
}

/** The SyncError code of `err`, if it is (or wraps) one. */
export function syncErrorCode(err: unknown): SyncErrorCode | null {
  if (err instanceof SyncError) return err.code;
  if (err instanceof BaseError) {
    const inner = err.walk((e) => e instanceof SyncError);
    return inner instanceof SyncError ? inner.code : null;
  }
  return null;
}
