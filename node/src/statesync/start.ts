/**
 * State sync as a running node uses it: before the chain opens, a join
 * when statesync.enable is set and the database is empty; once it runs,
 * the snapshots it takes and the server that offers them.
 */
import { fromHex, type SignatureVerifier } from "@edgeledger/sdk/protocol";
import type { Logger } from "pino";
import type { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import type { NodeConfig } from "../config/config.ts";
import type { Database } from "../db/database.ts";
import { dialBootstrap, type Host } from "../network/host.ts";
import { createSyncContext, defaultSyncOptions } from "../sync/context.ts";
import { penalizeSyncFault } from "../sync/start.ts";
import { type JoinResult, joinByStateSync } from "./join.ts";
import { StateSyncServer } from "./protocol.ts";
import { Snapshots } from "./snapshots.ts";

/** Chunk requests in flight per peer: two keep a peer's link busy while the other chunk is checked. */
const PER_PEER = 2;
/** How long a joining node waits for a peer that offers a snapshot it can verify. */
const JOIN_WAIT_MS = 120_000;

export interface StateSyncJoinDeps {
  readonly config: NodeConfig;
  readonly db: Database;
  readonly host: Host;
  readonly chainId: string;
  readonly verifier: SignatureVerifier;
  readonly genesis: Genesis;
  readonly log: Logger;
}

/** Joins by state sync if configured and this database holds nothing yet; null otherwise. */
export async function joinIfEmpty(deps: StateSyncJoinDeps): Promise<JoinResult | null> {
  const { config, db, host, log } = deps;
  const s = config.statesync;
  // A head (or a genesis written) means the node has a chain: it catches up by block sync.
  if (!s.enable || db.getMeta("head") !== undefined || db.getMeta("genesis") !== undefined)
    return null;
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
    { ctx, db, verifier: deps.verifier, genesis: deps.genesis },
    {
      trustHeight: s.trustHeight,
      trustHash: fromHex(s.trustHash),
      perPeer: PER_PEER,
      waitMs: JOIN_WAIT_MS,
    },
  );
  // warn: an operator waits for this line at the default level.
  log.warn(
    { ...result, ms: Date.now() - started },
    "joined by state sync; block sync takes it to the head",
  );
  return result;
}

export interface RunningStateSync {
  readonly snapshots: Snapshots;
  stop(): Promise<void>;
}

/**
 * The snapshots config.json asks for. Made before the pruner's first pass:
 * it tells the database which heights' state to keep (keepStateFrom).
 */
export function openSnapshots(config: NodeConfig, db: Database, chain: Chain): Snapshots {
  return new Snapshots(db, chain.tree, {
    interval: config.statesync.snapshotInterval,
    keep: config.statesync.keep,
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
  const off = chain.onHead((head) => {
    snapshots
      .onCommit(head.height, head.header.stateRoot)
      .catch((err: unknown) => log.warn({ err, height: head.height }, "snapshot failed"));
  });
  return {
    snapshots,
    stop: async () => {
      off();
      await server.stop();
    },
  };
}
