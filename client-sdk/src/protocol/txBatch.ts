/**
 * A batch of signed transactions as one gossip payload. Nodes gossip what
 * clients sent them in batches, not one message per transaction: per-message
 * costs (gossip ids, validation calls, framing, encryption records) are then
 * paid once per batch, and the receiver checks a batch's signatures together
 * on its worker threads instead of one by one on its event loop.
 *
 * The items are the transactions' canonical encodings, kept as bytes: the
 * receiver's mempool decodes and checks each one on its own, so one bad item
 * does not hide the good ones (the gossip verdict is the sender's to bear).
 */
import { type Codec, decode, encode, list, varBytes, versioned } from "./codec/codec.ts";
import { MAX_TX_BYTES } from "./limits.ts";

/** Most transactions per gossiped batch (about 90 KB of transfers). */
export const MAX_TX_BATCH = 512;

export const txBatchCodec: Codec<readonly Uint8Array[]> = versioned(
  1,
  list("txs", varBytes("tx", MAX_TX_BYTES), MAX_TX_BATCH),
);

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  return encode(txBatchCodec, txs);
}

export function decodeTxBatch(bytes: Uint8Array): readonly Uint8Array[] {
  return decode(txBatchCodec, bytes, { maxBytes: 1 + 4 + MAX_TX_BATCH * (4 + MAX_TX_BYTES) });
}
