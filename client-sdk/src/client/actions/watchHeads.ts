/**
 * `watchHeads`: delivers each new final header, verified, from the
 * server's head stream (Server-Sent Events), falling back to polling when a
 * stream cannot be held open.
 */
import { paths } from "../../api/paths.ts";
import type { CertifiedHeaderJson, StatusJson } from "../../api/types.ts";
import { VerificationError } from "../../errors/client.ts";
import type { BlockHeader } from "../../protocol/block.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { sleep } from "../utils/sleep.ts";

export interface WatchHeadsOptions {
  readonly signal?: AbortSignal;
  /** Polling interval when no stream is held (ms). Default 1000. */
  readonly pollMs?: number;
  /** Called with what failed while watching (the watch goes on). */
  readonly onError?: (err: unknown) => void;
}

/** How a head was learned: from the server's head stream, or by polling its status. */
export type HeadSource = "stream" | "poll";

/**
 * Calls `onHead` with each new final header, verified and in height order
 * (heights may be skipped when several finalize between two looks), and
 * how it was learned. Runs until `signal` aborts; returns a function that
 * stops it too.
 */
export function watchHeads(
  client: BaseClient,
  onHead: (header: BlockHeader, via: HeadSource) => void,
  options: WatchHeadsOptions = {},
): () => void {
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const pollMs = options.pollMs ?? 1000;
  let last = -1;
  const deliver = (header: BlockHeader, via: HeadSource) => {
    if (header.height <= last) return;
    last = header.height;
    onHead(header, via);
  };
  const poll = async () => {
    const status = await client.transport.request<StatusJson>({
      method: "GET",
      path: paths.getStatus,
      signal,
    });
    if (status.height > last && status.height > 0)
      deliver(await client.lightClient.header(status.height), "poll");
  };
  void (async () => {
    while (!signal.aborted) {
      try {
        for await (const event of client.transport.events(paths.subscribeHeads, signal)) {
          if (event.event !== "head") continue;
          deliver(await client.lightClient.verifyCertified(headEvent(event.data)), "stream");
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

/** A head event's data: a certified header, or a VerificationError (a stream may lie too). */
function headEvent(data: string): CertifiedHeaderJson {
  try {
    return JSON.parse(data) as CertifiedHeaderJson;
  } catch (err) {
    throw new VerificationError("VERIFY_INCOMPLETE", "A head event is not JSON.", { cause: err });
  }
}
