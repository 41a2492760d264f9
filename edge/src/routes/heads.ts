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
 * tells the relay when the head moves, and the head's event (read and
 * encoded once) goes to every stream in one loop; in poll mode (Workers)
 * each stream asks the tracker every `pollMs` from its own request, since a
 * Worker may not write to one request's stream from another request. Every
 * stream is sent heights in increasing order only.
 */
import { HEAD_EVENT, routes } from "@edgeledger/sdk/api";
import type { Hono } from "hono";
import { EdgeError } from "../errors.ts";
import { type EventStream, eventStream } from "../http/eventStream.ts";
import { errorResponse } from "../http/respond.ts";
import type { EdgeMetrics } from "../metrics.ts";
import type { HeadMode, HeadTracker } from "../upstream/head.ts";
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
 * holds several behind a slow reader. The bound counts bytes per stream,
 * but streams share each head's encoded bytes: 500 streams that all stop
 * reading are dropped after about 90 heads, at a peak of 7 MiB above idle
 * (bench/heads.bench.ts); an open idle stream is about 10 KiB.
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

const encoder = new TextEncoder();

export function registerHeads(app: Hono, deps: HeadsDeps): HeadStreams {
  const { metrics, limits } = deps;
  /** Open streams, each with the height it was last sent. */
  const open = new Set<Subscriber>();
  const gauge = () => metrics.set("head_streams", open.size);
  // The newest head's event, read and encoded once for every stream. A head
  // that did not verify is not kept, so the next look asks again.
  let newest: { readonly height: number; readonly event: Promise<Uint8Array | null> } | null = null;
  const eventAt = (height: number): Promise<Uint8Array | null> => {
    if (newest?.height === height) return newest.event;
    const event = deps.certified(height).then(
      (data) => encoder.encode(`event: ${HEAD_EVENT}\ndata: ${data}\n\n`),
      () => {
        if (newest?.height === height) newest = null;
        return null;
      },
    );
    if (!newest || height > newest.height) newest = { height, event };
    return event;
  };
  const deliver = (sub: Subscriber, height: number, event: Uint8Array) => {
    if (height <= sub.sent) return;
    sub.sent = height;
    sub.stream.send(event);
  };

  // Stream mode (Node): one listener for every stream. Each new head is
  // read once and sent to all in one loop: one look per stream per head
  // measured at a quarter of a bare fan-out (bench/heads.bench.ts).
  if (deps.mode === "stream")
    deps.head.onHead((head) => {
      if (open.size === 0) return;
      void eventAt(head.height).then((event) => {
        if (event) for (const sub of open) deliver(sub, head.height, event);
      });
    });

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
    let poll: ReturnType<typeof setInterval> | undefined;
    const stream = eventStream({
      maxQueuedBytes: limits.maxQueuedBytes,
      heartbeatMs: limits.heartbeatMs,
      onEnd: (why) => {
        clearInterval(poll);
        open.delete(sub);
        gauge();
        if (why === "slow") metrics.inc("head_streams_dropped_total");
      },
    });
    const sub: Subscriber = { sent: -1, stream };
    open.add(sub);
    gauge();

    // This stream's own look at the head: its first one (the current head,
    // as the node's stream sends it), and in poll mode (Workers) every
    // pollMs, from this request. One at a time.
    let looking = false;
    const look = async () => {
      if (looking) return;
      looking = true;
      try {
        const head =
          deps.mode === "poll" ? await deps.head.current().catch(() => null) : deps.head.head;
        if (!head || head.height <= sub.sent || stream.ended) return;
        // Verified, or not sent: a failure here waits for the next head.
        const event = await eventAt(head.height);
        if (event) deliver(sub, head.height, event);
      } finally {
        looking = false;
      }
    };
    if (deps.mode === "poll") {
      poll = setInterval(() => void look(), deps.pollMs);
      (poll as { unref?: () => void }).unref?.();
    }
    void look();
    return stream.response;
  });

  return {
    get size() {
      return open.size;
    },
    closeAll: () => {
      for (const sub of [...open]) sub.stream.close();
    },
  };
}

interface Subscriber {
  /** The height last sent, -1 before any. */
  sent: number;
  readonly stream: EventStream;
}
