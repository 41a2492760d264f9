/**
 * The mempool kept in step with the chain and the clock: on every head
 * change (consensus or block sync alike) it lets go of what the block
 * included and of what its senders' nonces made stale, and pending evidence
 * the block recorded leaves the evidence pool; every EXPIRY_SWEEP_MS the
 * expired transactions leave (one behind a nonce gap never gets a block);
 * and every drop, whatever its reason, is recorded once, so a client asking
 * about the transaction learns why.
 */
import { toHex } from "@edgeledger/sdk/protocol";
import type { Chain } from "../chain/chain.ts";
import type { Database } from "../db/database.ts";
import type { EvidencePool } from "../evidence/pool.ts";
import type { Mempool } from "./mempool.ts";

/** How often the mempool sheds expired transactions. */
export const EXPIRY_SWEEP_MS = 1000;

export interface FollowChainDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly evidence: EvidencePool;
  readonly db: Pick<Database, "recordDropped">;
  readonly now: () => number;
}

/** Starts following; returns the function that stops it. */
export function followChain(deps: FollowChainDeps): () => void {
  const { chain, mempool, evidence, db } = deps;
  const unsubscribers = [
    chain.onHead((_head, _certificate, exec) => {
      mempool.removeCommitted(exec.txHashes);
      evidence.remove(exec.block.evidence);
      void mempool.dropStale(exec.senders);
    }),
    mempool.onDrop((e) => {
      void db.recordDropped(
        [
          {
            hash: e.tx.hash,
            record: { status: "dropped", code: e.code, message: e.message, tx: toHex(e.tx.bytes) },
          },
        ],
        chain.head.height,
      );
    }),
  ];
  const timer = setInterval(() => mempool.dropExpired(deps.now()), EXPIRY_SWEEP_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    for (const u of unsubscribers) u();
  };
}
