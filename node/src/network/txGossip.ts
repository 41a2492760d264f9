/**
 * Transaction gossip, in batches. Transactions this node admitted from
 * clients (HTTP) or pulled from peers are collected for a few milliseconds
 * and published as one TxBatch on the topic; a batch from a peer is
 * admitted with `mempool.addMany`, which checks its signatures together on
 * the worker threads. One message per transaction cost every node a gossip
 * id, a validation call, framing and a signature check on its event loop
 * per transaction: with 4 validators on 2 cores that, not the signatures,
 * bounded throughput (see the 4-validator bench).
 *
 * Verdicts: a batch holding an item only a sender of garbage could send
 * (bad signature, malformed, wrong chain…) is rejected, so peer scoring
 * punishes its sender; one that added something is accepted (forwarded);
 * one that added nothing new (duplicates, stale nonces) is ignored.
 */
import {
  decodeTxBatch,
  encodeTxBatch,
  MAX_TX_BATCH,
  TransactionError,
  type TransactionErrorCode,
} from "@edgeledger/sdk/protocol";
import type { Mempool } from "../mempool/mempool.ts";
import { bindTopic } from "./gossip.ts";
import type { Host } from "./host.ts";

/** Transaction refusals that only a sender of invalid data earns; the rest are stale or local limits. */
export const GOSSIP_REJECT: ReadonlySet<TransactionErrorCode> = new Set([
  "TX_MALFORMED",
  "TX_TOO_LARGE",
  "TX_WRONG_CHAIN",
  "TX_BAD_SIGNATURE",
  "TX_INVALID_AMOUNT",
]);

/** How long a first transaction waits for others before its batch goes out (ms). */
export const TX_BATCH_DELAY_MS = 10;

export interface TxGossipDeps {
  readonly host: Host;
  readonly topic: string;
  readonly mempool: Mempool;
  /** Publishes on the topic (errors are the caller's to log). */
  readonly publish: (topic: string, data: Uint8Array) => void;
}

export interface TxGossip {
  /** Publishes what waits for its batch now (before a proposal that names it). */
  flush(): void;
  /** Publishes what waits, then unbinds the topic. */
  stop(): void;
}

/** Binds the topic and starts batching. */
export function startTxGossip(deps: TxGossipDeps): TxGossip {
  const { host, topic, mempool, publish } = deps;
  let queue: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    while (queue.length > 0) publish(topic, encodeTxBatch(queue.splice(0, MAX_TX_BATCH)));
  };
  const unbind = bindTopic<true>(host, topic, {
    async validate(data) {
      let items: readonly Uint8Array[];
      try {
        items = decodeTxBatch(data);
      } catch {
        return { verdict: "reject" };
      }
      const results = await mempool.addMany(items, "gossip");
      let added = false;
      for (const r of results) {
        if (!(r instanceof TransactionError)) added = true;
        else if (GOSSIP_REJECT.has(r.code)) return { verdict: "reject" };
      }
      return added ? { verdict: "accept", value: true } : { verdict: "ignore" };
    },
    onMessage: () => undefined,
  });
  const offAdd = mempool.onAdd((entry, origin) => {
    // A peer's batch is on its way through the mesh already.
    if (origin === "gossip") return;
    queue.push(entry.bytes);
    if (queue.length >= MAX_TX_BATCH) flush();
    else timer ??= setTimeout(flush, TX_BATCH_DELAY_MS);
  });
  return {
    flush,
    stop: () => {
      offAdd();
      flush();
      queue = [];
      unbind();
    },
  };
}
