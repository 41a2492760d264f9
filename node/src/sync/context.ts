/**
 * What the three stream protocols share at run time: the host, the options
 * (deadlines, serving slots), the local penalty table, and `report`, the one
 * place a peer's fault is scored, reported and, when repeated, answered with
 * a disconnect.
 */
import type { PeerId } from "@libp2p/interface";
import type { Logger } from "pino";
import type { Host } from "../network/host.ts";
import { type SyncErrorCode, syncErrorCode } from "./errors.ts";
import type { Deadlines } from "./frames.ts";
import { PeerPenalties, type PenaltyOptions } from "./peerPenalties.ts";

export interface SyncOptions {
  /** Our requests: a peer that sends nothing for idleMs, or has not finished in totalMs, is cut off. */
  readonly requestDeadlines: Deadlines;
  /** Our replies: a client that reads nothing for idleMs (or takes longer than totalMs) loses its stream. */
  readonly serveDeadlines: Deadlines;
  /** Most streams served at once per protocol, across all peers (each peer also has 2 per connection). */
  readonly maxServing: number;
  /** Block sync: a range request with no progress for this long makes us ask another peer too. */
  readonly hedgeMs: number;
  /** Block sync: most peers asked for one range at once. */
  readonly maxParallel: number;
  readonly penalties: Partial<PenaltyOptions>;
}

/**
 * Defaults. Deadlines: an honest peer on a working link sends a byte far
 * more often than every 5 s (a range reply is at most 16 MiB, well under
 * 30 s even at a few MiB/s); a stalled one then costs at most that.
 */
export const defaultSyncOptions: SyncOptions = {
  requestDeadlines: { idleMs: 5_000, totalMs: 30_000 },
  serveDeadlines: { idleMs: 5_000, totalMs: 30_000 },
  maxServing: 8,
  hedgeMs: 1_000,
  maxParallel: 3,
  penalties: {},
};

export interface SyncContext {
  readonly host: Host;
  readonly chainId: string;
  readonly options: SyncOptions;
  readonly log: Logger;
  readonly penalties: PeerPenalties;
  /** Connected peers we may ask (not banned), in the host's order. */
  candidates(): PeerId[];
  /** Scores `peer` for `err` if it is a fault of the peer's (a SyncError); otherwise only logs it. */
  report(peer: PeerId, err: unknown, what: string): void;
}

export function createSyncContext(
  host: Host,
  chainId: string,
  options: SyncOptions,
  log: Logger,
  misbehaved: ((peer: PeerId, code: SyncErrorCode) => void) | undefined,
  now: () => number = Date.now,
): SyncContext {
  const penalties = new PeerPenalties(options.penalties, now);
  return {
    host,
    chainId,
    options,
    log,
    penalties,
    candidates: () => host.getPeers().filter((p) => !penalties.isBanned(p.toString())),
    report(peer, err, what) {
      const code = syncErrorCode(err);
      if (code === null || code === "SYNC_PRUNED") {
        log.debug({ err, peer: peer.toString() }, `${what} from peer failed`);
        return;
      }
      const verdict = penalties.fault(peer.toString(), code);
      log.warn({ err, peer: peer.toString(), code, verdict }, `${what}: peer misbehaved`);
      misbehaved?.(peer, code);
      if (verdict === "disconnect") void host.hangUp(peer).catch(() => undefined);
    },
  };
}
