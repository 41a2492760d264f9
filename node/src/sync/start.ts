/**
 * Block sync as a running node uses it: the three stream protocols
 * (blockSync.ts), their faults charged to peer scoring, and the moments a
 * node looks around for what it missed — each new connection, and every
 * SYNC_INTERVAL_MS in which its head did not move, so a node that fell
 * behind or missed a round catches up without waiting for new traffic.
 */
import type { ConsensusMessage } from "@edgeledger/sdk/protocol";
import type { PeerId } from "@libp2p/interface";
import type { Mempool } from "../mempool/mempool.ts";
import { dialBootstrap, type Host } from "../network/host.ts";
import { PENALTY } from "../network/peerScore.ts";
import { BlockSync, type BlockSyncDeps } from "./blockSync.ts";
import type { SyncErrorCode } from "./errors.ts";
import { MEMPOOL_PULL_LIMIT } from "./mempoolPull.ts";

export interface SyncStartDeps
  extends Omit<BlockSyncDeps, "pendingTxs" | "acceptTxs" | "misbehaved" | "messagesFor"> {
  readonly mempool: Mempool;
  /** The consensus messages served to a peer catching up on `height`. */
  readonly messagesFor: (height: number) => readonly ConsensusMessage[];
  /** Peers dialled again when looking around. */
  readonly bootstrap: readonly string[];
}

/** Stream faults cost the peer like invalid gossip (network/peerScore.ts): a stall a little. */
export function penalizeSyncFault(host: Host): (peer: PeerId, code: SyncErrorCode) => void {
  return (peer, code) =>
    host.services.peerScore.penalize(
      peer,
      code,
      code === "SYNC_TIMEOUT" ? PENALTY.minor : PENALTY.invalid,
    );
}

/** How often a node asks its peers for blocks, consensus messages and transactions it missed. */
export const SYNC_INTERVAL_MS = 2000;
/** While the head moves, a node looks around only every this many intervals. */
export const FOLLOWING_EVERY = 5;

export async function startSync(
  deps: SyncStartDeps,
): Promise<{ readonly sync: BlockSync; stop(): Promise<void> }> {
  const { host, mempool } = deps;
  const sync = new BlockSync({
    ...deps,
    misbehaved: penalizeSyncFault(host),
    pendingTxs: () => mempool.oldest(MEMPOOL_PULL_LIMIT).map((entry) => entry.bytes),
    // Refusals are expected here (most are duplicates, refused before any signature
    // check); nothing to punish or report. The rest are checked together on the workers.
    acceptTxs: async (txs) => void (await mempool.addMany(txs)),
  });
  await sync.start();
  const lookAround = () => {
    dialBootstrap(host, deps.bootstrap);
    sync.trigger();
    void sync.catchUp();
    void sync.pullMempool();
  };
  // While blocks commit, this node follows consensus and misses nothing that
  // holds it back: asking every peer for blocks, this height's messages and
  // their oldest transactions every interval would only fetch what it has
  // (under load, a large share of each node's work). So it looks around when
  // its head stood still for an interval, and otherwise every
  // FOLLOWING_EVERY intervals (transactions gossip missed still arrive).
  let lastHeight = -1;
  let ticks = 0;
  const tick = () => {
    const height = deps.chain.head.height;
    const stalled = height === lastHeight;
    lastHeight = height;
    if (stalled || ++ticks % FOLLOWING_EVERY === 0) lookAround();
  };
  host.addEventListener("peer:connect", lookAround);
  const timer = setInterval(tick, SYNC_INTERVAL_MS);
  timer.unref();
  return {
    sync,
    stop: async () => {
      clearInterval(timer);
      host.removeEventListener("peer:connect", lookAround);
      await sync.stop();
    },
  };
}
