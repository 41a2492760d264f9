/**
 * GET /v1/heads on the edge: each new head as a Server-Sent Event, in the
 * node's format (`event: head`, a CertifiedHeaderJson as `data`), so the
 * SDK's watchHeads reads a node and an edge alike.
 *
 * Only heads this edge verified are relayed, never an upstream's event as
 * it came: a head's height comes from the head tracker (which moves only on
 * a header its light client verified), and its data is the certified
 * header read through the verified-read pipeline (routes/reads.ts's
 * headerPlan: the certificate checked by the light client, the answer
 * rendered again from the checked bytes, cached for the next subscriber and
 * the next read). A head whose header does not verify is not sent; the
 * stream waits for the next one.
 *
 * Bounded: at most `maxSubscribers` streams (503 EDGE_STREAMS_FULL beyond,
 * with Retry-After), `maxQueuedBytes` queued per stream (a subscriber that
 * does not read is dropped, http/eventStream.ts), a heartbeat comment.
 *
 * How a stream learns heads, by runtime: in stream mode (Node) the tracker
 * tells every stream at once when the head moves; in poll mode (Workers)
 * each stream asks the tracker every `pollMs` from its own request, since a
 * Worker may not write to one request's stream from another request.
 */
import { HEAD_EVENT, routes } from "@edgeledger/sdk/api";
import type { Hono } from "hono";
import { EdgeError } from "../errors.ts";
import { eventStream } from "../http/eventStream.ts";
import { errorResponse } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { Head, HeadMode, HeadTracker } from "../upstream/head.ts";
import { noQuery } from "./checks.ts";

export interface HeadStreamOptions {
  /** Open streams at most; more are refused with 503. Default 500. */
  readonly maxSubscribers?: number;
  /** Bytes queued for one subscriber at most; beyond, it is dropped. Default 128 KiB. */
  readonly maxQueuedBytes?: number;
  /** A heartbeat comment this often (ms). Default 15 000, the node's. */
  readonly heartbeatMs?: number;
}

/**
 * A head event is 1-20 KiB (a certificate of 4 to 100 validators): 128 KiB
 * holds several behind a slow reader. 500 streams that all stop reading
 * queue 62.5 MiB before each is dropped: measured in process with 1.4 KiB
 * events, heap and buffers peaked 78 MiB above idle (the chunks' own
 * overhead) and fell to 6 MiB once they were dropped; an open idle stream
 * is about 11 KiB.
 */
export const defaultHeadStreamOptions = {
  maxSubscribers: 500,
  maxQueuedBytes: 128 * 1024,
  heartbeatMs: 15_000,
} as const satisfies Required<HeadStreamOptions>;

/** Seconds a refused subscriber is told to wait (EventSource's own retry is about 3 s). */
const FULL_RETRY_AFTER_SECONDS = 5;

export interface HeadsDeps {
  readonly head: Pick<HeadTracker, "head" | "current" | "onHead">;
  readonly mode: HeadMode;
  /** Poll mode: how often each stream asks the tracker (ms). */
  readonly pollMs: number;
  /** The verified certified header at `height`, as JSON text; throws when none verifies. */
  readonly certified: (height: number) => Promise<string>;
  readonly metrics: EdgeMetrics;
  readonly limits: Required<HeadStreamOptions>;
}

export interface HeadStreams {
  /** Open streams now. */
  readonly size: number;
  /** Ends every open stream (the server is going away). */
  closeAll(): void;
}

export function registerHeads(app: Hono, deps: HeadsDeps): HeadStreams {
  const { metrics, limits } = deps;
  const open = new Set<() => void>();
  const gauge = () => metrics.set("head_streams", open.size);

  app.get(routes.subscribeHeads.path, (c) => {
    noQuery(c.req);
    if (open.size >= limits.maxSubscribers) {
      metrics.inc("head_streams_refused_total");
      return errorResponse(
        new EdgeError(
          "EDGE_STREAMS_FULL",
          "This edge has as many head streams open as it serves; retry later, poll /v1/status, or ask another edge.",
          { details: { maxSubscribers: limits.maxSubscribers } },
        ),
        { "retry-after": String(FULL_RETRY_AFTER_SECONDS) },
      );
    }
    let sent = -1;
    let unsubscribe = (): void => {};
    let poll: ReturnType<typeof setInterval> | undefined;
    const stream = eventStream({
      maxQueuedBytes: limits.maxQueuedBytes,
      heartbeatMs: limits.heartbeatMs,
      onEnd: (why) => {
        clearInterval(poll);
        unsubscribe();
        open.delete(close);
        gauge();
        if (why === "slow") metrics.inc("head_streams_dropped_total");
      },
    });
    const close = () => stream.close();
    open.add(close);
    gauge();

    // One look at a time per stream; a head that arrives meanwhile is looked at after.
    let looking = false;
    let again = false;
    const look = async (known?: Head) => {
      if (looking) {
        again = true;
        return;
      }
      looking = true;
      try {
        do {
          again = false;
          const head =
            known ?? (deps.mode === "poll" ? await deps.head.current().catch(() => null) : null);
          known = undefined;
          const target = head ?? deps.head.head;
          if (!target || target.height <= sent || stream.ended) continue;
          // Verified, or not sent: a failure here waits for the next head.
          const data = await deps.certified(target.height).catch(() => null);
          if (data === null || target.height <= sent) continue;
          sent = target.height;
          stream.send(`event: ${HEAD_EVENT}\ndata: ${data}\n\n`);
        } while (again && !stream.ended);
      } finally {
        looking = false;
      }
    };

    if (deps.mode === "stream") unsubscribe = deps.head.onHead((head) => void look(head));
    else {
      poll = setInterval(() => void look(), deps.pollMs);
      (poll as { unref?: () => void }).unref?.();
    }
    // The current head first, as the node's stream does.
    void look();
    return stream.response;
  });

  return {
    get size() {
      return open.size;
    },
    closeAll: () => {
      for (const close of [...open]) close();
    },
  };
}
