/**
 * A join's progress as the join reports it (join.ts calls these as it goes)
 * and as operators read it: GET /v1/health's `stateSync` while the node
 * joins, and the state-sync metrics (metrics/statesync.ts, through the
 * listener). Only counts and the phase: no I/O, no clock.
 */
import type { StateSyncHealthJson } from "@edgeledger/sdk/api";
import { BaseError } from "@edgeledger/sdk/protocol";

/** What the metrics count as they happen (a gauge read at scrape time would miss a join shorter than the interval). */
export interface StateSyncListener {
  chunk(bytes: number): void;
  /** A peer's or server's answer refused, by its code. */
  refused(code: string): void;
}

export class StateSyncProgress {
  readonly #listener: StateSyncListener | undefined;
  #phase: StateSyncHealthJson["phase"] = "discovering";
  #snapshotHeight = 0;
  #chunksDone = 0;
  #chunksTotal = 0;
  #bytes = 0;
  #chunksRefused = 0;
  readonly #peers = new Set<string>();

  constructor(listener?: StateSyncListener) {
    this.#listener = listener;
  }

  /** A new phase; `snapshotHeight` once one is picked (a later attempt may pick another). */
  phase(phase: StateSyncHealthJson["phase"], snapshotHeight?: number): void {
    this.#phase = phase;
    if (snapshotHeight !== undefined && snapshotHeight !== this.#snapshotHeight) {
      this.#snapshotHeight = snapshotHeight;
      this.#chunksDone = 0;
      this.#chunksTotal = 0;
    }
  }

  /** The snapshot's non-empty chunks, and how many of them an earlier run left written. */
  planned(total: number, alreadyWritten: number): void {
    this.#chunksTotal = total;
    this.#chunksDone = alreadyWritten;
  }

  chunkWritten(peer: string, bytes: number): void {
    this.#chunksDone++;
    this.#bytes += bytes;
    this.#peers.add(peer);
    this.#listener?.chunk(bytes);
  }

  /** A refusal: `err`'s code (a BaseError's) or "error"; `chunk` when it was a chunk's answer. */
  refused(err: unknown, chunk: boolean): void {
    if (chunk && err instanceof BaseError) this.#chunksRefused++;
    this.#listener?.refused(err instanceof BaseError ? err.code : "error");
  }

  json(): StateSyncHealthJson {
    return {
      phase: this.#phase,
      snapshotHeight: this.#snapshotHeight,
      chunksDone: this.#chunksDone,
      chunksTotal: this.#chunksTotal,
      bytes: this.#bytes,
      chunksRefused: this.#chunksRefused,
      peers: this.#peers.size,
    };
  }
}
