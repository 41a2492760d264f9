/**
 * A node's health, decided from plain facts (pure: no clock, no sockets),
 * for GET /v1/health, `edgeledger status` and the health metrics. The
 * states follow what a load balancer and an operator ask: is it serving
 * (live), can it take writes and serve the head (ready), and if not, why
 * (halted, no peers, behind, not committing). CometBFT splits this between
 * /health (the process answers) and /status's `catching_up`; Besu's
 * readiness fails with too few peers or more than a few blocks behind
 * (docs/operations.md#health gives the same list for operators).
 */
import type { NodeHealthJson, StateSyncHealthJson } from "@edgeledger/sdk/api";

/** Blocks behind the best peer that still count as following: one height in flight, one of slack. */
export const SYNC_LAG_BLOCKS = 2;

/**
 * A node's last commit may be this much older than the empty-block
 * heartbeat before it counts as not committing: room for round changes
 * (their timeouts grow per round; 30 s is several rounds at the defaults).
 */
export const STALL_MARGIN_MS = 30_000;

/** The stall limit of a node whose heartbeat (block.heartbeatMs) is `heartbeatMs`. */
export function stallLimitMs(heartbeatMs: number): number {
  return heartbeatMs + STALL_MARGIN_MS;
}

export interface HealthFacts {
  readonly height: number;
  /** The last committed block's (BFT) time, unix ms. */
  readonly headTime: number;
  readonly now: number;
  /** Connected peers. */
  readonly peers: number;
  /** False only for the sole validator of its set: it commits without anyone. */
  readonly needsPeers: boolean;
  /** Our key signs the next block. */
  readonly validator: boolean;
  /** The highest certified block a peer served us (block sync), 0 if none. */
  readonly bestPeerHeight: number;
  readonly haltHeight: number | null;
  /** How old the last commit may be while ready (stallLimitMs). */
  readonly stallMs: number;
}

/** The report but its storage part (db/report.ts adds it: it is no input to the state). */
export type HealthVerdict = Omit<NodeHealthJson, "storage">;

/** The health report of a node with a chain: the first state that holds, in NODE_HEALTH_STATES order (state-syncing, before it has one, is joiningHealth). */
export function assessHealth(f: HealthFacts): HealthVerdict {
  const bestPeerHeight = Math.max(f.bestPeerHeight, f.height);
  const behind = bestPeerHeight - f.height;
  const lastCommitAgeMs = Math.max(0, f.now - f.headTime);
  const status: NodeHealthJson["status"] =
    f.haltHeight !== null && f.height >= f.haltHeight
      ? "halted"
      : f.needsPeers && f.peers === 0
        ? "live"
        : behind > SYNC_LAG_BLOCKS
          ? "syncing"
          : lastCommitAgeMs > f.stallMs
            ? "catching-up"
            : "ready";
  return {
    status,
    height: f.height,
    lastCommitAgeMs,
    peers: f.peers,
    validator: f.validator,
    bestPeerHeight,
    behind,
    haltHeight: f.haltHeight,
  };
}

/**
 * The report while the node joins by state sync (it has no chain yet):
 * state-syncing, with the join's progress; the snapshot height stands for
 * the best peer height, so `behind` says how far the join takes it.
 */
export function joiningHealth(
  stateSync: StateSyncHealthJson,
  peers: number,
  haltHeight: number | null,
): NodeHealthJson {
  return {
    status: "state-syncing",
    height: 0,
    lastCommitAgeMs: 0,
    peers,
    validator: false,
    bestPeerHeight: stateSync.snapshotHeight,
    behind: stateSync.snapshotHeight,
    haltHeight,
    stateSync,
  };
}
