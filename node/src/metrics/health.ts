/**
 * The health metrics (ops): sync progress, last commit age, peers and the
 * health state, read from the health report at each scrape, and the count
 * of changes into each state (so an alert sees a node that went syncing
 * and back between two scrapes). Apart from metrics.ts so the two grow
 * without touching each other; the pruning and snapshot gauges are the
 * storage side's.
 */
import { NODE_HEALTH_STATES, type NodeHealthJson } from "@edgeledger/sdk/api";
import { Counter, Gauge, type Registry } from "prom-client";
import { scrapedGauge } from "./scraped.ts";

export interface HealthMetrics {
  /** Counts a change into `status`. */
  changed(status: NodeHealthJson["status"]): void;
}

export function registerHealthMetrics(
  registry: Registry,
  report: () => NodeHealthJson,
): HealthMetrics {
  const gauge = scrapedGauge(registry, report);
  gauge(
    "edgeledger_sync_best_peer_height",
    "Highest certified block a peer served us (or our height, if higher)",
    (h) => h.bestPeerHeight,
  );
  gauge("edgeledger_sync_blocks_behind", "Best peer height minus our height", (h) => h.behind);
  gauge(
    "edgeledger_last_commit_age_seconds",
    "Now minus the last committed block's time",
    (h) => h.lastCommitAgeMs / 1000,
  );
  gauge("edgeledger_peers", "Connected libp2p peers", (h) => h.peers);
  new Gauge({
    name: "edgeledger_health_status",
    help: "1 for the node's health state (GET /v1/health), 0 for the others",
    labelNames: ["status"] as const,
    registers: [registry],
    collect() {
      const now = report().status;
      for (const s of NODE_HEALTH_STATES) this.set({ status: s }, s === now ? 1 : 0);
    },
  });
  const changes = new Counter({
    name: "edgeledger_health_changes_total",
    help: "Changes of the health state, by the state entered",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  return { changed: (status) => changes.inc({ status }) };
}
