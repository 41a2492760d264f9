/**
 * `waitForFinality`: waits for a transaction to be final and returns its
 * verified receipt, looking again at each new head (watchHeads.ts) and now
 * and then between heads.
 */
import { TransportError } from "../../errors/client.ts";
import { TransactionError } from "../../errors/protocol.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { sleep } from "../utils/sleep.ts";
import { getTransaction, type VerifiedTransaction } from "./getTransaction.ts";
import { watchHeads } from "./watchHeads.ts";

export interface FinalityOptions {
  /** Give up after this long (ms). Default 60 000. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** How often to look when no new head arrives (ms). Default 500. */
  readonly pollMs?: number;
}

/**
 * Resolves with the verified receipt once `hash` is in a final block;
 * rejects with the TransactionError it was dropped with, or a
 * TransportError TRANSPORT_TIMEOUT after `timeoutMs`.
 */
export async function waitForFinality(
  client: BaseClient,
  params: { hash: string } & FinalityOptions,
): Promise<Extract<VerifiedTransaction, { status: "committed" }>> {
  const timeoutMs = params.timeoutMs ?? 60_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = params.signal ? AbortSignal.any([params.signal, timeout]) : timeout;
  let wake: (() => void) | null = null;
  // A new head is the moment to look again; between heads, poll now and then.
  const stopWatching = watchHeads(client, () => wake?.(), { signal, pollMs: 2000 });
  try {
    for (;;) {
      if (signal.aborted) {
        if (params.signal?.aborted)
          throw new TransportError("TRANSPORT_ABORTED", "Waiting was aborted by the caller.");
        throw new TransportError(
          "TRANSPORT_TIMEOUT",
          `Transaction ${params.hash} was not final within ${timeoutMs} ms.`,
          { details: { hash: params.hash } },
        );
      }
      const found = await getTransaction(client, { hash: params.hash }).catch((err: unknown) => {
        if (signal.aborted) return null;
        throw err;
      });
      if (found?.status === "committed") return found;
      if (found?.status === "dropped")
        throw new TransactionError(
          found.error.code as TransactionError["code"],
          `Transaction was dropped: ${found.error.message}`,
          { details: { hash: params.hash } },
        );
      const nap = new AbortController();
      wake = () => nap.abort();
      await sleep(params.pollMs ?? 500, AbortSignal.any([signal, nap.signal]));
      wake = null;
    }
  } finally {
    stopWatching();
  }
}
