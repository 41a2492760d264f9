/**
 * One Server-Sent Events answer, bounded: a Web ReadableStream (Node's
 * entry and Workers alike), a heartbeat comment so proxies keep an idle
 * stream open, and a bound on the bytes queued for a client that stopped
 * reading. Past the bound the stream is ended with an error, which drops
 * what was queued at once (the fault model: a reply a client can make the
 * edge hold is bounded); an EventSource reconnects.
 *
 * The queue fills only when the client does not read: the Node entry
 * (@hono/node-server) reads the stream only as fast as the socket drains,
 * and Workers apply the same backpressure.
 */
import { CORS_HEADERS } from "./respond.ts";

export type StreamEnd = "client" | "slow" | "server";

export interface EventStreamOptions {
  /** Bytes that may wait for the client; more and the stream is dropped. */
  readonly maxQueuedBytes: number;
  /** A comment line this often (ms). */
  readonly heartbeatMs: number;
  /** Told once when the stream ends, and why. */
  readonly onEnd: (why: StreamEnd) => void;
}

export interface EventStream {
  /** The answer to send: 200, text/event-stream, the stream as its body. */
  readonly response: Response;
  /**
   * Queues `chunk` (whole SSE lines; bytes may be shared by many streams,
   * nothing writes to them); false when the stream has ended (or just did:
   * too slow).
   */
  send(chunk: string | Uint8Array): boolean;
  /** Ends the stream from the server's side. */
  close(): void;
  readonly ended: boolean;
}

const encoder = new TextEncoder();

export function eventStream(o: EventStreamOptions): EventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let ended = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const end = (why: StreamEnd) => {
    if (ended) return false;
    ended = true;
    clearInterval(heartbeat);
    o.onEnd(why);
    return true;
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      cancel() {
        end("client");
      },
    },
    // desiredSize then counts queued bytes, not chunks.
    new ByteLengthQueuingStrategy({ highWaterMark: o.maxQueuedBytes }),
  );
  const send = (chunk: string | Uint8Array): boolean => {
    if (ended) return false;
    controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
    if ((controller.desiredSize ?? 0) < 0) {
      end("slow");
      // error(), not close(): close would keep the queue until it is read.
      controller.error(new Error("The client did not read its event stream; dropped."));
      return false;
    }
    return true;
  };
  // A first line sends the headers at once, so the client knows it is subscribed.
  send(": subscribed\n\n");
  heartbeat = setInterval(() => send(": heartbeat\n\n"), o.heartbeatMs);
  // Node: the heartbeat alone must not keep the process alive (Workers have no unref).
  (heartbeat as { unref?: () => void }).unref?.();
  const response = new Response(body, {
    status: 200,
    headers: {
      ...CORS_HEADERS,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx buffers answers by default, which would hold events back.
      "x-accel-buffering": "no",
    },
  });
  return {
    response,
    send,
    close() {
      if (end("server")) controller.close();
    },
    get ended() {
      return ended;
    },
  };
}
