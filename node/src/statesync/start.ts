/**
 * State sync as a running node uses it: before the chain opens, a join
 * when statesync.enable is set and the database is empty (its progress
 * served at /v1/health meanwhile, and counted in metrics/statesync.ts);
 * once it runs, the snapshots it takes and the server that offers them.
 */
import type { NodeHealthJson } from "@edgeledger/sdk/api";
import { fromHex, type SignatureVerifier } from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ApiServerOptions } from "../api/server.ts";
import { listenApi } from "../api/start.ts";
import type { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import { haltHeightOf, type NodeConfig } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { joiningHealth } from "../health/health.ts";
import { registerStateSyncMetrics } from "../metrics/statesync.ts";
import { dialBootstrap, type Host } from "../network/host.ts";
import { createSyncContext, defaultSyncOptions } from "../sync/context.ts";
import { penalizeSyncFault } from "../sync/start.ts";
import { type JoinResult, type JoinTrust, joinByStateSync } from "./join.ts";
import { joiningService } from "./joiningApi.ts";
import { StateSyncProgress } from "./progress.ts";
import { StateSyncServer } from "./protocol.ts";
import { lightClientTrust } from "./rpcTrust.ts";
import { Snapshots } from "./snapshots.ts";

/** Chunk requests in flight per peer: two keep a peer's link busy while the other chunk is checked. */
const PER_PEER = 2;
/** How long a joining node waits for a peer that offers a snapshot it can verify. */
const JOIN_WAIT_MS = 120_000;

export interface StateSyncJoinDeps {
  readonly config: NodeConfig;
  readonly db: Database;
  readonly chainId: string;
  readonly verifier: SignatureVerifier;
  readonly genesis: Genesis;
  readonly log: Logger;
  /** The node's registry: the state sync metrics go in it, and the joining API serves it. */
  readonly registry: Registry;
}

export interface StateSyncJoin {
  /** The health report while the join runs (status state-syncing; null when no join runs). */
  health(): NodeHealthJson | null;
  /**
   * Joins if configured and this database holds nothing yet, serving the
   * joining API (joiningApi.ts) at the configured address meanwhile; null
   * when no join was needed.
   */
  joinIfEmpty(
    host: Host,
    api: ApiServerOptions,
    beforeChunkWrite?: () => Promise<void>,
  ): Promise<JoinResult | null>;
}

export function stateSyncJoin(deps: StateSyncJoinDeps): StateSyncJoin {
  const { config, db, log } = deps;
  const metrics = registerStateSyncMetrics(deps.registry);
  let running: { progress: StateSyncProgress; host: Host } | null = null;
  const health = () =>
    running &&
    joiningHealth(running.progress.json(), running.host.getPeers().length, haltHeightOf(config));
  return {
    health,
    async joinIfEmpty(host, apiOptions, beforeChunkWrite) {
      const s = config.statesync;
      // A head (or a genesis written) means the node has a chain: it catches up by block sync.
      if (!s.enable || db.getMeta("head") !== undefined || db.getMeta("genesis") !== undefined)
        return null;
      const progress = new StateSyncProgress(metrics);
      running = { progress, host };
      const api = await listenApi(
        joiningService(() => health()!),
        {
          ...apiOptions,
          host: config.api.host,
          port: config.api.port,
        },
      );
      try {
        const ctx = createSyncContext(
          host,
          deps.chainId,
          defaultSyncOptions,
          log,
          penalizeSyncFault(host),
        );
        dialBootstrap(host, config.network.bootstrap);
        const started = Date.now();
        const result = await joinByStateSync(
          {
            ctx,
            db,
            verifier: deps.verifier,
            genesis: deps.genesis,
            progress,
            ...(beforeChunkWrite && { beforeChunkWrite }),
          },
          { trust: trustOf(deps, progress), perPeer: PER_PEER, waitMs: JOIN_WAIT_MS },
        );
        const ms = Date.now() - started;
        metrics.joined(ms / 1000);
        // warn: an operator waits for this line at the default level.
        log.warn({ ...result, ms }, "joined by state sync; block sync takes it to the head");
        return result;
      } finally {
        await api.close();
        running = null;
      }
    },
  };
}

/** The configured form of trust (config.ts checkStateSync allows one). */
function trustOf(deps: StateSyncJoinDeps, progress: StateSyncProgress): JoinTrust {
  const s = deps.config.statesync;
  if (s.rpcServers.length === 0) return { height: s.trustHeight, hash: fromHex(s.trustHash) };
  return {
    verifiedHashAt: lightClientTrust({
      genesis: deps.genesis,
      servers: s.rpcServers,
      agree: s.rpcAgree,
      verifier: deps.verifier,
      onRefused: (err) => {
        progress.refused(err, false);
        deps.log.warn({ err, server: err.details["server"] }, "state sync: a server refused");
      },
    }),
  };
}

export interface RunningStateSync {
  readonly snapshots: Snapshots;
  stop(): Promise<void>;
}

/**
 * The snapshots config.json asks for. Made before the pruner's first pass:
 * it tells the database which heights' state to keep (keepStateFrom).
 */
export function openSnapshots(
  config: NodeConfig,
  db: Database,
  chain: Chain,
  log: Logger,
): Snapshots {
  return new Snapshots(db, chain.tree, {
    interval: config.statesync.snapshotInterval,
    keep: config.statesync.keep,
    onExportError: (err, height) =>
      log.warn({ err, height }, "writing a snapshot's chunks failed: they are read from the tree"),
  });
}

/** Takes snapshots as blocks commit and serves them. */
export async function startStateSync(deps: {
  readonly snapshots: Snapshots;
  readonly db: Database;
  readonly chain: Chain;
  readonly host: Host;
  readonly log: Logger;
  readonly wrapChunk?: (chunk: Uint8Array) => Uint8Array;
}): Promise<RunningStateSync> {
  const { snapshots, db, chain, host, log } = deps;
  const ctx = createSyncContext(
    host,
    chain.chainId,
    defaultSyncOptions,
    log,
    penalizeSyncFault(host),
  );
  const server = new StateSyncServer({
    ctx,
    db,
    tree: chain.tree,
    snapshots,
    validatorsAt: (h) => chain.validatorsAt(h),
    genesisRoot: chain.genesisHeader.stateRoot,
    ...(deps.wrapChunk && { wrapChunk: deps.wrapChunk }),
  });
  await server.start();
  // Chunks a stopped or killed run did not finish writing (snapshots.ts).
  snapshots.resume();
  const off = chain.onHead((head) => {
    snapshots
      .onCommit(head.height, head.header.stateRoot)
      .catch((err: unknown) => log.warn({ err, height: head.height }, "snapshot failed"));
  });
  return {
    snapshots,
    stop: async () => {
      off();
      // The pass stops at its next chunk from now on (node.ts does not await this stop before the database closes).
      const passDone = snapshots.stop();
      await server.stop();
      await passDone;
    },
  };
}
