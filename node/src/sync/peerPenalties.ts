/**
 * The local memory of which peers served us bad data over the stream
 * protocols: a score per peer that decays, a ban (the peer is not asked, nor
 * served, until it expires) and a disconnect threshold. Pure: the clock is
 * injected, and the caller does the I/O (hangUp, reporting). Bounded: at most
 * `maxPeers` entries; the one with the lowest score goes first.
 *
 * Weights: provable garbage (bytes that do not decode, a bad certificate, a
 * block that is not the one asked for) is something no honest node sends, so
 * one such reply bans and a second (once the ban is over) disconnects. A
 * stall may be an overloaded honest node or a slow link, so it weighs less:
 * three within minutes ban, five disconnect.
 */
import type { SyncErrorCode } from "./errors.ts";

export const FAULT_WEIGHTS: Readonly<Record<SyncErrorCode, number>> = {
  SYNC_TIMEOUT: 4,
  SYNC_TOO_LARGE: 10,
  SYNC_MALFORMED: 10,
  SYNC_BAD_CERTIFICATE: 10,
  SYNC_BAD_BLOCK: 10,
  SYNC_OUT_OF_ORDER: 10,
  // An honest node that prunes: no penalty, the range is asked of the next peer.
  SYNC_PRUNED: 0,
  // State sync (statesync/): provable garbage like a bad certificate.
  SYNC_BAD_CHUNK: 10,
  SYNC_BAD_SNAPSHOT: 10,
};

export interface PenaltyOptions {
  /** A score at or above this bans the peer for `banMs`. */
  readonly banScore: number;
  /** A score at or above this disconnects the peer (and bans it). */
  readonly disconnectScore: number;
  readonly banMs: number;
  /** The score halves every this many ms. */
  readonly halfLifeMs: number;
  /** Most peers remembered. */
  readonly maxPeers: number;
}

export const defaultPenaltyOptions: PenaltyOptions = {
  banScore: 10,
  // Two provable faults, even a ban (60 s) apart: the score then is 10 · 2^(−0.1) + 10 ≈ 19.3.
  disconnectScore: 18,
  banMs: 60_000,
  // Long next to the ban, so a peer that comes back from one and faults again is disconnected.
  halfLifeMs: 600_000,
  maxPeers: 1024,
};

interface Entry {
  score: number;
  at: number;
  bannedUntil: number;
}

export type PenaltyVerdict = "noted" | "banned" | "disconnect";

export class PeerPenalties {
  readonly #options: PenaltyOptions;
  readonly #now: () => number;
  readonly #peers = new Map<string, Entry>();

  constructor(options: Partial<PenaltyOptions> = {}, now: () => number = Date.now) {
    this.#options = { ...defaultPenaltyOptions, ...options };
    this.#now = now;
  }

  get size(): number {
    return this.#peers.size;
  }

  /** Records a fault; says whether the peer is now banned or should be disconnected. */
  fault(peer: string, code: SyncErrorCode): PenaltyVerdict {
    const now = this.#now();
    const entry = this.#peers.get(peer) ?? { score: 0, at: now, bannedUntil: 0 };
    entry.score = this.#decayed(entry, now) + FAULT_WEIGHTS[code];
    entry.at = now;
    this.#peers.delete(peer);
    this.#peers.set(peer, entry);
    this.#evict();
    const o = this.#options;
    if (entry.score >= o.banScore) entry.bannedUntil = now + o.banMs;
    if (entry.score >= o.disconnectScore) return "disconnect";
    return entry.score >= o.banScore ? "banned" : "noted";
  }

  isBanned(peer: string): boolean {
    const entry = this.#peers.get(peer);
    return entry !== undefined && entry.bannedUntil > this.#now();
  }

  score(peer: string): number {
    const entry = this.#peers.get(peer);
    return entry ? this.#decayed(entry, this.#now()) : 0;
  }

  #decayed(entry: Entry, now: number): number {
    return entry.score * 2 ** (-(now - entry.at) / this.#options.halfLifeMs);
  }

  #evict(): void {
    while (this.#peers.size > this.#options.maxPeers) {
      const now = this.#now();
      let lowest: string | null = null;
      let lowestScore = Number.POSITIVE_INFINITY;
      for (const [peer, entry] of this.#peers) {
        const s = entry.bannedUntil > now ? Number.POSITIVE_INFINITY : this.#decayed(entry, now);
        if (s < lowestScore) {
          lowest = peer;
          lowestScore = s;
        }
      }
      // All banned: drop the oldest (Map order), so the table stays bounded.
      this.#peers.delete(lowest ?? this.#peers.keys().next().value!);
    }
  }
}
