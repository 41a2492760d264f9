/**
 * `sendTransaction`: submits a signed transaction and resolves with its hash
 * once a server admitted it.
 */
import { paths } from "../../api/paths.ts";
import type { SubmitTransactionResponse } from "../../api/types.ts";
import { TransactionError } from "../../errors/protocol.ts";
import { toHex } from "../../protocol/bytes.ts";
import { encodeSignedTransaction, type SignedTransaction } from "../../protocol/transaction.ts";
import type { BaseClient } from "../clients/baseClient.ts";

/**
 * Submits a signed transaction; resolves with its hash once a server
 * admitted it. Submitting the same bytes again is harmless (the hash is
 * the same): a retry after a lost answer counts as success.
 */
export async function sendTransaction(
  client: BaseClient,
  params: { tx: SignedTransaction | Uint8Array; signal?: AbortSignal },
): Promise<string> {
  const bytes = params.tx instanceof Uint8Array ? params.tx : encodeSignedTransaction(params.tx);
  try {
    const res = await client.transport.request<SubmitTransactionResponse>({
      method: "POST",
      path: paths.submitTransaction,
      body: { tx: toHex(bytes) },
      ...(params.signal && { signal: params.signal }),
    });
    return res.hash;
  } catch (err) {
    // Our own earlier try got through (the transport retried after a lost answer).
    if (err instanceof TransactionError && err.code === "TX_DUPLICATE") {
      const hash = (err.details as { hash?: unknown }).hash;
      if (typeof hash === "string") return hash;
    }
    throw err;
  }
}
