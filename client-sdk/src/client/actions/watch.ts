/**
 * Following the chain: `watchHeads` delivers each new final header,
 * verified, from the server's head stream (Server-Sent Events), falling
 * back to polling when a stream cannot be held open; `waitForFinality`
 * waits for a transaction to be final and returns its verified receipt.
 */
import { paths } from "../../api/paths.ts";
import type { CertifiedHeaderJson, StatusJson } from "../../api/types.ts";
import { TransportError } from "../../errors/client.ts";
import { TransactionError } from "../../errors/protocol.ts";
import type { BlockHeader } from "../../protocol/block.ts";
import type { Client } from "../createClient.ts";
import { sleep } from "../utils/sleep.ts";
import { getTransaction, type VerifiedTransaction } from "./read.ts";

export interface WatchHeadsOptions {
  readonly signal?: AbortSignal;
  /** Polling interval when no stream is held (ms). Default 1000. */
  readonly pollMs?: number;
  /** Called with what failed while watching (the watch goes on). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Calls `onHead` with each new final header, verified and in height order
 * (heights may be skipped when several finalize between two looks). Runs
 * until `signal` aborts; returns a function that stops it too.
 */
export function watchHeads(
  client: Client,
  onHead: (header: BlockHeader) => void,
  options: WatchHeadsOptions = {},
): () => void {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const pollMs = options.pollMs ?? 1000;
  let last = -1;
  const deliver = (header: BlockHeader) => {
    if (header.height <= last) return;
    last = header.height;
    onHead(header);
  };
  const poll = async () => {
    const status = await client.transport.request<StatusJson>({
      method: "GET",
      path: paths.getStatus,
      signal,
    });
    if (status.height > last && status.height > 0)
      deliver(await client.lightClient.header(status.height));
  };
  void (async () => {
    while (!signal.aborted) {
      try {
        for await (const event of client.transport.events(paths.subscribeHeads, signal)) {
          if (event.event !== "head") continue;
          deliver(
            await client.lightClient.verifyCertified(JSON.parse(event.data) as CertifiedHeaderJson),
          );
        }
      } catch (err) {
        if (signal.aborted) return;
        options.onError?.(err);
      }
      // No stream (or it ended): poll for a while, then try the stream again.
      for (let i = 0; i < 10 && !signal.aborted; i++) {
        try {
          await poll();
        } catch (err) {
          if (signal.aborted) return;
          options.onError?.(err);
        }
        await sleep(pollMs, signal);
      }
    }
  })();
  return () => stop.abort();
}

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
  client: Client,
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
