/**
 * Compact proposals, rebuilt: a proposal names its block's transactions by
 * their Merkle leaf hashes (protocol consensusMessage.ts), and a validator
 * rebuilds the block from its own mempool, where gossip brought those
 * transactions before the proposal. Each transaction is then received,
 * decoded and hashed once per node, not once more inside the proposal.
 *
 * The rebuilt block is the proposer's block exactly: the gossip validator
 * checked that the leaves build the signed header's txRoot, and a leaf
 * names one signed encoding (a transaction with another signature has
 * another leaf). What the pool lacks after the admissions under way have
 * ended and a short wait is fetched whole by catch-up, which serves full
 * proposals; until then the proposal is as good as not received, which the
 * algorithm already handles (the round times out, a nil prevote).
 */
import {
  type Block,
  bytesKey,
  type CompactProposal,
  type ConsensusMessage,
} from "@edgeledger/sdk/protocol";
import { markBodyChecked } from "../chain/chain.ts";
import type { Mempool, PendingTx } from "../mempool/mempool.ts";
import { compactMismatch } from "./gossip.ts";

/** How long a compact proposal waits for transactions still on their way by gossip (ms). */
export const COMPACT_WAIT_MS = 100;

export type WholeProposal = Extract<ConsensusMessage, { kind: "proposal" }>;

/** A rebuilt proposal, and the bytes of the transactions it holds (the driver's inbox bounds count them). */
export interface Rebuilt {
  readonly message: WholeProposal;
  readonly txBytes: number;
}

export type CompactPool = Pick<Mempool, "byLeaf" | "leafOf" | "settled" | "onAdd">;

/** The whole proposal, from the pool's transactions; null while one is missing. */
export function rebuildFromPool(m: CompactProposal, pool: CompactPool): Rebuilt | null {
  const entries: PendingTx[] = [];
  let txBytes = 0;
  for (const leaf of m.txLeaves) {
    const entry = pool.byLeaf(leaf);
    if (!entry) return null;
    entries.push(entry);
    txBytes += entry.bytes.length;
  }
  const block: Block = {
    header: m.header,
    txs: entries.map((e) => e.stx),
    evidence: m.evidence,
  };
  markBodyChecked(block);
  return {
    message: { kind: "proposal", proposal: m.proposal, block, polVotes: m.polVotes },
    txBytes,
  };
}

/**
 * Rebuilds `m`, waiting for admissions under way and then up to `waitMs`
 * for new ones; null if transactions are still missing (fetch it whole).
 * A list of leaves that is not its header's is refused outright, whoever
 * checked it before. Each admission costs a waiting rebuild one lookup, not
 * a pass over what it misses.
 */
export async function resolveCompact(
  m: CompactProposal,
  pool: CompactPool,
  waitMs = COMPACT_WAIT_MS,
): Promise<Rebuilt | null> {
  if (compactMismatch(m) !== null) return null;
  const now = rebuildFromPool(m, pool);
  if (now) return now;
  await pool.settled();
  const settled = rebuildFromPool(m, pool);
  if (settled || waitMs <= 0) return settled;
  const missing = new Set(m.txLeaves.filter((leaf) => !pool.byLeaf(leaf)).map(bytesKey));
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      off();
      resolve(rebuildFromPool(m, pool));
    };
    const off = pool.onAdd((entry) => {
      const leaf = pool.leafOf(entry.stx);
      if (leaf) missing.delete(bytesKey(leaf));
      if (missing.size === 0) done();
    });
    const timer = setTimeout(done, waitMs);
  });
}

/**
 * Compact proposals being rebuilt at once. Only a round's proposer signs a
 * valid one, but an equivocating proposer can sign many: past this bound
 * they are dropped (catch-up brings what an honest peer holds).
 */
export const MAX_REBUILDING = 4;

export interface CompactReceiverDeps {
  readonly pool: CompactPool;
  /** Where whole messages go (the driver's `receive`). */
  readonly receive: (message: ConsensusMessage, size: number) => void;
  /** Asks peers for the height's messages whole (a compact proposal could not be rebuilt). */
  readonly fetchWhole: () => void;
  readonly onError: (err: unknown) => void;
  readonly waitMs?: number;
  /** Told how long each rebuild took, and whether it ended rebuilt or asked for whole. */
  readonly onRebuild?: (outcome: "rebuilt" | "fetched", seconds: number) => void;
}

/** Hands whole messages on at once and compact proposals once rebuilt, or asks for them whole. */
export function compactReceiver(
  deps: CompactReceiverDeps,
): (message: ConsensusMessage, size: number) => void {
  let rebuilding = 0;
  return (message, size) => {
    if (message.kind !== "compact-proposal") return deps.receive(message, size);
    if (rebuilding >= MAX_REBUILDING) return;
    rebuilding++;
    const began = performance.now();
    void resolveCompact(message, deps.pool, deps.waitMs)
      .then((rebuilt) => {
        deps.onRebuild?.(rebuilt ? "rebuilt" : "fetched", (performance.now() - began) / 1000);
        if (rebuilt) deps.receive(rebuilt.message, size + rebuilt.txBytes);
        else deps.fetchWhole();
      })
      .catch(deps.onError)
      .finally(() => rebuilding--);
  };
}
