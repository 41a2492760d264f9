/**
 * GET /v1/heads: each finalized head as a Server-Sent Event, to every open
 * stream, with a heartbeat comment so proxies keep idle streams open.
 *
 * Owns the open streams (so the server's close() can end them) and their
 * bound on bytes queued for a client that stopped reading (the fault model:
 * a reply a peer can fill is bounded). Reads heads only through the
 * NodeService's onHead.
 */
import { type CertifiedHeaderJson, certifiedHeaderSchema, HEAD_EVENT } from "@edgeledger/sdk/api";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { NodeService } from "./service.ts";

/**
 * Bytes an event stream may have queued for a client that stopped reading.
 * Beyond it the stream is closed (EventSource reconnects) instead of
 * buffering without bound. A head event is about 1-20 KiB.
 */
const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;

/** The open heads streams, so that close() can end them. */
export class HeadStreams {
  readonly #closers = new Set<() => void>();

  closeAll(): void {
    for (const close of [...this.#closers]) close();
  }

  open(
    service: NodeService,
    request: FastifyRequest,
    reply: FastifyReply,
    heartbeatMs: number,
  ): void {
    // Each head goes through the response schema, like every JSON answer:
    // only the fields of CertifiedHeaderJson leave the node.
    const serialize = reply.compileSerializationSchema(certifiedHeaderSchema);
    const raw = reply.raw;
    let started = false;
    let closed = false;
    let unsubscribe = (): void => {};
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    // A service may call the listener before onHead returns (e.g. with the
    // current head); those events wait until the headers are out.
    const early: string[] = [];

    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      this.#closers.delete(close);
      if (!raw.writableEnded) raw.end();
    };

    const write = (chunk: string): void => {
      if (closed) return;
      if (!started) {
        early.push(chunk);
        return;
      }
      raw.write(chunk);
      if (raw.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        request.log.warn("heads stream client is not reading; closing its stream");
        close();
      }
    };

    // Subscribe before hijacking: if onHead throws, the error handler can
    // still answer with a normal JSON error.
    unsubscribe = service.onHead((head: CertifiedHeaderJson) => {
      let data: string;
      try {
        data = serialize({ ...head });
      } catch (error) {
        request.log.error({ err: error }, "a head does not match CertifiedHeaderJson; not sent");
        return;
      }
      write(`event: ${HEAD_EVENT}\ndata: ${data}\n\n`);
    });

    reply.hijack();
    this.#closers.add(close);
    // "close" fires when the client goes away (or after our own end()).
    raw.on("close", close);
    // A hijacked reply does not send what hooks set on it (CORS): pass it on,
    // or browsers on other origins get no stream.
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) raw.setHeader(name, value);
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // nginx buffers responses by default, which would hold events back.
      "x-accel-buffering": "no",
    });
    // A first line flushes the headers, so the client knows it is subscribed.
    raw.write(": subscribed\n\n");
    started = true;
    for (const chunk of early.splice(0)) write(chunk);
    if (closed) return;

    heartbeat = setInterval(() => write(": heartbeat\n\n"), heartbeatMs);
    // The heartbeat alone must not keep the process alive.
    heartbeat.unref();
  }
}
