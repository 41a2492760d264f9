/**
 * The state sync metrics (ops): what a join fetched and refused, counted as
 * it happens (statesync/progress.ts's listener), and how long it took. A
 * join runs once in a node's life, before consensus, so these are counters
 * and a gauge rather than a histogram; its live progress (phase, chunks of
 * total) is GET /v1/health's `stateSync`. Apart from metrics.ts so that the
 * two grow without touching each other.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { StateSyncListener } from "../statesync/progress.ts";

export interface StateSyncMetrics extends StateSyncListener {
  /** The join ended: made the snapshot the head, after `seconds`. */
  joined(seconds: number): void;
}

export function registerStateSyncMetrics(registry: Registry): StateSyncMetrics {
  const chunks = new Counter({
    name: "edgeledger_statesync_chunks_total",
    help: "State sync chunks verified and written by this node's join",
    registers: [registry],
  });
  const bytes = new Counter({
    name: "edgeledger_statesync_bytes_total",
    help: "State sync chunk bytes received and verified by this node's join",
    registers: [registry],
  });
  const refused = new Counter({
    name: "edgeledger_statesync_refused_total",
    help: "Answers refused during a state sync join, by code (SYNC_BAD_CHUNK, STATESYNC_RPC_UNVERIFIED…)",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const duration = new Gauge({
    name: "edgeledger_statesync_join_seconds",
    help: "How long this node's join by state sync took (0: it did not join by state sync)",
    registers: [registry],
  });
  return {
    chunk: (n) => {
      chunks.inc();
      bytes.inc(n);
    },
    refused: (code) => refused.inc({ code }),
    joined: (seconds) => duration.set(seconds),
  };
}
