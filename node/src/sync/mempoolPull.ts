/**
 * Mempool pull (protocol /edgeledger/<chain>/mempool/1): peers hand each
 * other their oldest pending transactions, so a transaction sent to a node
 * before its gossip mesh formed still reaches every proposer.
 *
 *   request   (empty)
 *   response  per transaction: u32 length ‖ encoded SignedTransaction
 *
 * Bounds: a reply is at most MEMPOOL_PULL_LIMIT transactions, each at most
 * MAX_TX_BYTES (the protocol's bound on a signed transaction), so at most
 * MAX_MEMPOOL_REPLY_BYTES (≈ 1 MiB) in all; a length prefix above
 * MAX_TX_BYTES, or the 257th frame, ends the exchange with SYNC_TOO_LARGE.
 * Each frame is decoded as it arrives (bytes that are not a signed
 * transaction of this chain: SYNC_MALFORMED, and the reply is dropped);
 * signatures and duplicates are the mempool's to check, together, at the
 * end. A transaction we hold already is not a fault: an honest peer cannot
 * know what we have.
 */
import { decodeSignedTransaction, MAX_TX_BYTES } from "@edgeledger/sdk/protocol";
import type { PeerId, Stream } from "@libp2p/interface";
import type { SyncContext } from "./context.ts";
import { SyncError } from "./errors.ts";
import { finish, frame, openRequest, type ServingSlots, send } from "./frames.ts";
import { mempoolProtocol } from "./protocols.ts";

/** Most pending transactions a node hands a peer per pull (node.ts asks the mempool for as many). */
export const MEMPOOL_PULL_LIMIT = 256;
export const MAX_MEMPOOL_REPLY_BYTES = MEMPOOL_PULL_LIMIT * (4 + MAX_TX_BYTES);

/** Serves our oldest pending transactions: never more than the limit, never an oversized one. */
export async function serveMempool(
  ctx: SyncContext,
  slots: ServingSlots,
  pendingTxs: () => readonly Uint8Array[],
  stream: Stream,
): Promise<void> {
  await slots.serve(
    stream,
    ctx.options.serveDeadlines,
    "mempool pull",
    async (reader, deadline) => {
      await reader.end();
      let sent = 0;
      for (const tx of pendingTxs()) {
        if (sent === MEMPOOL_PULL_LIMIT) break;
        if (tx.length > MAX_TX_BYTES) continue;
        await send(stream, frame(tx), deadline);
        sent++;
      }
    },
    0,
  );
}

/** Asks `peer` for its pending transactions; returns them once the whole reply checked out. */
export async function pullMempoolFrom(ctx: SyncContext, peer: PeerId): Promise<Uint8Array[]> {
  const exchange = await openRequest(
    ctx.host,
    peer,
    mempoolProtocol(ctx.chainId),
    new Uint8Array(0),
    {
      deadlines: ctx.options.requestDeadlines,
      limit: MAX_MEMPOOL_REPLY_BYTES,
      what: "mempool pull",
    },
  );
  try {
    const txs: Uint8Array[] = [];
    for (;;) {
      const bytes = await exchange.reader.frame(MAX_TX_BYTES, "A transaction");
      if (bytes === null) break;
      if (txs.length === MEMPOOL_PULL_LIMIT)
        throw SyncError.tooLarge(
          "The reply's transaction count",
          txs.length + 1,
          MEMPOOL_PULL_LIMIT,
        );
      let chainId: string;
      try {
        chainId = decodeSignedTransaction(bytes).tx.chainId;
      } catch (cause) {
        throw SyncError.malformed("bytes that are not a signed transaction", { cause });
      }
      if (chainId !== ctx.chainId)
        throw SyncError.malformed("a transaction of another chain", { details: { chainId } });
      txs.push(bytes);
    }
    finish(exchange);
    return txs;
  } catch (err) {
    finish(exchange, err);
    throw err;
  }
}
