/**
 * Prometheus metrics (prom-client): one registry per node, served at
 * /metrics by the API. Subsystems do not import prom-client; the node wires
 * these gauges and counters to chain and mempool events.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export interface NodeMetrics {
  readonly registry: Registry;
  readonly height: Gauge;
  readonly txsCommitted: Counter;
  readonly mempoolSize: Gauge;
  readonly mempoolDropped: Counter<"code">;
  readonly blockInterval: Histogram;
  readonly consensusPhase: Histogram<"phase">;
  readonly mempoolCapacity: Gauge;
  readonly mempoolShed: Counter;
  readonly compactRebuild: Histogram<"outcome">;
}

export function createMetrics(): NodeMetrics {
  const registry = new Registry();
  return {
    registry,
    height: new Gauge({
      name: "edgeledger_height",
      help: "Height of the last committed block",
      registers: [registry],
    }),
    txsCommitted: new Counter({
      name: "edgeledger_txs_committed_total",
      help: "Transactions committed",
      registers: [registry],
    }),
    mempoolSize: new Gauge({
      name: "edgeledger_mempool_size",
      help: "Pending transactions",
      registers: [registry],
    }),
    mempoolDropped: new Counter({
      name: "edgeledger_mempool_dropped_total",
      help: "Admitted transactions dropped, by reason",
      labelNames: ["code"] as const,
      registers: [registry],
    }),
    blockInterval: new Histogram({
      name: "edgeledger_block_interval_seconds",
      help: "Time between consecutive committed blocks",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    mempoolCapacity: new Gauge({
      name: "edgeledger_mempool_client_capacity",
      help: "Pending transactions a client submission may find and still be admitted (mempool/backlog.ts)",
      registers: [registry],
    }),
    mempoolShed: new Counter({
      name: "edgeledger_mempool_shed_total",
      help: "Client transactions refused with MEMPOOL_FULL because the backlog was full",
      registers: [registry],
    }),
    consensusPhase: new Histogram({
      name: "edgeledger_consensus_phase_seconds",
      help: "Time a height this node committed spent in each phase (consensus/phases.ts)",
      labelNames: ["phase"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    compactRebuild: new Histogram({
      name: "edgeledger_compact_rebuild_seconds",
      help: "Time to rebuild a compact proposal from the mempool; outcome rebuilt or fetched (asked whole)",
      labelNames: ["outcome"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
  };
}
