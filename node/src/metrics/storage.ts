/**
 * The storage metrics (ops): what pruning keeps and what it did, the
 * snapshots kept and the database's size on disk. Gauges read the health
 * report's storage part (db/report.ts) at each scrape; counters and the
 * pass histogram follow the pruner's passes (db/pruner.ts PrunePass).
 * `edgeledger_db_size_bytes` is what deploy/prometheus's "disk filling"
 * alert watches: it is a stat of the data folder, at most every few seconds.
 */
import type { StorageHealthJson } from "@edgeledger/sdk/api";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Compaction, PrunePass } from "../db/pruner.ts";
import { scrapedGauge } from "./scraped.ts";

export interface StorageMetrics {
  /** Counts one pruner pass. */
  pass(pass: PrunePass): void;
  /** Counts one automatic compaction. */
  compaction(compaction: Compaction): void;
}

export function registerStorageMetrics(
  registry: Registry,
  /** Undefined before the chain opens (a state sync join under way). */
  report: () => StorageHealthJson | undefined,
): StorageMetrics {
  const gauge = scrapedGauge(registry, report);
  gauge(
    "edgeledger_storage_earliest_state_height",
    "Oldest height whose state (account proofs) this node serves",
    (s) => s.earliestState,
  );
  gauge(
    "edgeledger_storage_earliest_block_height",
    "Oldest height whose block body this node serves",
    (s) => s.earliestBlock,
  );
  gauge(
    "edgeledger_storage_earliest_header_height",
    "Every header from this height on is served (below: validator-set changes only)",
    (s) => s.earliestHeader,
  );
  gauge("edgeledger_db_size_bytes", "Bytes of the database's files on disk", (s) => s.dbSizeBytes);
  gauge("edgeledger_snapshots", "State-sync snapshots kept", (s) => s.snapshots.count);
  gauge(
    "edgeledger_snapshot_latest_height",
    "Height of the newest snapshot kept (0: none)",
    (s) => s.snapshots.latest ?? 0,
  );
  const counter = (name: string, help: string) =>
    new Counter({ name, help, registers: [registry] });
  const nodes = counter(
    "edgeledger_pruned_state_nodes_total",
    "State-tree nodes deleted by pruning",
  );
  const blocks = counter("edgeledger_pruned_blocks_total", "Block bodies dropped (retainBlocks)");
  const headers = counter(
    "edgeledger_pruned_headers_total",
    "Headers and certificates dropped (retainHeaders)",
  );
  const drops = counter(
    "edgeledger_pruned_dropped_txs_total",
    "Records of dropped transactions deleted with the state of their height (keepRecent)",
  );
  const compactions = counter(
    "edgeledger_db_compactions_total",
    "LevelDB compactions by the pruner (pruning.compactGrowthPercent, compactAfterNodes)",
  );
  const reclaimed = counter(
    "edgeledger_db_compaction_reclaimed_bytes_total",
    "Bytes of the database's files that the pruner's compactions gave back",
  );
  const lastCompaction = new Gauge({
    name: "edgeledger_db_compaction_last_seconds",
    help: "How long the last compaction took (0: none this run); commits go on meanwhile",
    registers: [registry],
  });
  const lastCompactionAt = new Gauge({
    name: "edgeledger_db_compaction_last_timestamp_seconds",
    help: "When the last compaction ended (unix seconds; 0: none this run)",
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "edgeledger_prune_pass_seconds",
    help: "Duration of a pruner pass (its count is the passes run)",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  const last = new Gauge({
    name: "edgeledger_prune_last_pass_timestamp_seconds",
    help: "When the last pruner pass ended (unix seconds; 0: none this run)",
    registers: [registry],
  });
  return {
    pass(p) {
      nodes.inc(p.nodesDeleted);
      blocks.inc(p.blocksDropped);
      headers.inc(p.headersDropped);
      drops.inc(p.dropsDeleted);
      seconds.observe(p.seconds);
      last.set(p.endedAt / 1000);
    },
    compaction(c) {
      compactions.inc();
      reclaimed.inc(Math.max(0, c.bytesBefore - c.bytesAfter));
      lastCompaction.set(c.seconds);
      lastCompactionAt.set(c.endedAt / 1000);
    },
  };
}
