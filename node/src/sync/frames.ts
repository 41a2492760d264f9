/**
 * The stream plumbing every request/response protocol here shares: deadlines
 * on each read and write, and incremental, bounded reading of
 * u32-length-prefixed frames. Knows nothing of blocks or votes: each
 * protocol file says what a frame may hold and how large it may be.
 *
 * Why not `for await (const chunk of stream)`: libp2p 3 streams record an
 * `inactivityTimeout` but do not apply it, so such a loop waits forever on a
 * peer that stalls; and the stream's async iterator queues every message it
 * is handed in an unbounded buffer while yamux keeps granting the sender
 * window, so a peer can push bytes faster than we check them. The reader
 * below pauses the stream (yamux then stops granting window, so the sender
 * blocks) once it holds `highWater` bytes more than the frame it is
 * assembling, and fails as soon as a length prefix or the running total
 * exceeds its bound — before the bytes behind it arrive.
 *
 * Memory per stream is then at most: the frame being assembled (its bound),
 * plus `highWater`, plus what libp2p buffers for a paused stream (the yamux
 * window; libp2p resets a stream whose paused buffer passes 4 MiB).
 */
import type { PeerId, Stream } from "@libp2p/interface";
import type { Host } from "../network/host.ts";
import { SyncError } from "./errors.ts";

/** How long a stream may go without progress, and how long the whole exchange may take. */
export interface Deadlines {
  /** No byte received, or no drain of what we sent, for this long: the peer is stalling. */
  readonly idleMs: number;
  /** The whole exchange (dial to last byte) must end within this. */
  readonly totalMs: number;
}

/** Read buffer beyond the current frame before the stream is paused. */
const HIGH_WATER = 64 * 1024;

/**
 * Aborts `stream` with SYNC_TIMEOUT when it makes no progress for `idleMs`,
 * or when `totalMs` passes, whichever is first; or with the parent signal's
 * reason (a race we lost, a stop). Every read and write here goes through one.
 */
export class StreamDeadline {
  readonly #controller = new AbortController();
  readonly #deadlines: Deadlines;
  readonly #stream: Stream;
  readonly #what: string;
  #idle: ReturnType<typeof setTimeout> | null = null;
  readonly #total: ReturnType<typeof setTimeout>;
  readonly #onParentAbort: (() => void) | null = null;
  readonly #parent: AbortSignal | undefined;

  constructor(stream: Stream, deadlines: Deadlines, what: string, parent?: AbortSignal) {
    this.#stream = stream;
    this.#deadlines = deadlines;
    this.#what = what;
    this.#total = setTimeout(
      () => this.#fail(SyncError.timeout(`finish ${what}`, deadlines.totalMs)),
      deadlines.totalMs,
    );
    this.#parent = parent;
    if (parent) {
      const onParentAbort = () => this.#fail(asError(parent.reason));
      this.#onParentAbort = onParentAbort;
      if (parent.aborted) onParentAbort();
      else parent.addEventListener("abort", onParentAbort, { once: true });
    }
    this.touch();
  }

  /** Aborted (with the reason) when a deadline passes or the parent aborts. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The reason the exchange was cut off, if it was. */
  get error(): Error | null {
    return this.#controller.signal.aborted ? asError(this.#controller.signal.reason) : null;
  }

  /** Progress: restarts the idle deadline. */
  touch(): void {
    if (this.#controller.signal.aborted) return;
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(
      () => this.#fail(SyncError.timeout(`make progress on ${this.#what}`, this.#deadlines.idleMs)),
      this.#deadlines.idleMs,
    );
  }

  /** Stops the timers (the exchange ended); does not touch the stream. */
  clear(): void {
    if (this.#idle) clearTimeout(this.#idle);
    clearTimeout(this.#total);
    if (this.#onParentAbort) this.#parent?.removeEventListener("abort", this.#onParentAbort);
  }

  /** Cuts the exchange off with `err`: the stream is aborted (reset), which frees it on both sides. */
  #fail(err: Error): void {
    if (this.#controller.signal.aborted) return;
    this.clear();
    this.#controller.abort(err);
    this.#stream.abort(err);
  }

  /** Aborts now with `err` (a protocol fault found by the caller). */
  fail(err: Error): void {
    this.#fail(err);
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * Reads a stream as it arrives: exact byte counts, u32 length prefixes
 * checked against a bound before the frame is awaited, and a running total
 * checked against `limit` on every chunk. Attach it right after the stream
 * opens (it listens for messages from then on).
 */
export class FrameReader {
  readonly #stream: Stream;
  readonly #deadline: StreamDeadline;
  readonly #limit: number;
  readonly #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #wanted = 0;
  #ended = false;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;
  /** Every byte the peer sent on this stream so far. */
  received = 0;
  /** The most bytes this reader held at once (tests check the bound). */
  peakBuffered = 0;

  constructor(stream: Stream, deadline: StreamDeadline, limit: number) {
    this.#stream = stream;
    this.#deadline = deadline;
    this.#limit = limit;
    deadline.signal.addEventListener("abort", () => this.#fail(asError(deadline.signal.reason)), {
      once: true,
    });
    stream.addEventListener("message", (evt) => this.#onData(evt.data));
    stream.addEventListener("remoteCloseWrite", () => this.#onEnd());
    stream.addEventListener("close", (evt) => {
      if (evt.error) this.#fail(evt.error);
      else this.#onEnd();
    });
    if (stream.remoteWriteStatus === "closed" && stream.readBufferLength === 0) this.#ended = true;
  }

  #onData(data: Uint8Array | { subarray(): Uint8Array }): void {
    if (this.#failure) return;
    const bytes = data instanceof Uint8Array ? data : data.subarray();
    this.received += bytes.length;
    if (this.received > this.#limit) {
      this.#deadline.fail(SyncError.tooLarge("The reply", this.received, this.#limit));
      return;
    }
    this.#deadline.touch();
    this.#chunks.push(bytes);
    this.#buffered += bytes.length;
    this.peakBuffered = Math.max(this.peakBuffered, this.#buffered);
    // Hold at most the frame we are assembling plus HIGH_WATER; the rest waits at the sender.
    if (this.#buffered >= this.#wanted + HIGH_WATER) this.#pause();
    this.#notify();
  }

  #onEnd(): void {
    this.#ended = true;
    this.#notify();
  }

  #fail(err: Error): void {
    if (!this.#failure) this.#failure = err;
    // Nothing buffered is wanted any more.
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#offset = 0;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #pause(): void {
    if (this.#stream.readStatus === "readable") this.#stream.pause();
  }

  #resume(): void {
    if (this.#stream.readStatus === "paused") this.#stream.resume();
  }

  /** Waits until `n` bytes are buffered, or the stream ends or fails. */
  async #fill(n: number): Promise<void> {
    this.#wanted = n;
    while (this.#buffered < n && !this.#ended && !this.#failure) {
      this.#resume();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#failure) throw this.#failure;
  }

  /** The next `n` bytes; null at a clean end of stream (nothing buffered); SYNC_MALFORMED if it ends mid-item. */
  async read(n: number): Promise<Uint8Array | null> {
    await this.#fill(n);
    if (this.#buffered === 0 && this.#ended) return null;
    if (this.#buffered < n) throw SyncError.malformed("a truncated frame");
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0]!;
      const take = Math.min(n - at, chunk.length - this.#offset);
      out.set(chunk.subarray(this.#offset, this.#offset + take), at);
      at += take;
      this.#offset += take;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#buffered -= n;
    this.#wanted = 0;
    return out;
  }

  /**
   * The next frame's bytes (u32 length ‖ bytes): null at a clean end of
   * stream; SYNC_TOO_LARGE if the prefix exceeds `bound`, before any of the
   * frame is awaited.
   */
  async frame(bound: number, what: string): Promise<Uint8Array | null> {
    const prefix = await this.read(4);
    if (prefix === null) return null;
    const length = new DataView(prefix.buffer).getUint32(0);
    if (length > bound) {
      const err = SyncError.tooLarge(what, length, bound);
      this.#deadline.fail(err);
      throw err;
    }
    const body = await this.read(length);
    if (body === null) throw SyncError.malformed("a truncated frame");
    return body;
  }

  /** Resolves once the peer has closed its side with nothing more sent; SYNC_MALFORMED otherwise. */
  async end(): Promise<void> {
    await this.#fill(1);
    if (this.#buffered > 0) throw SyncError.malformed("more bytes than the request holds");
  }
}

/** u32 length ‖ bytes. */
export function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** Sends `bytes`, waiting (within the deadline) for the stream to drain when it asks. */
export async function send(
  stream: Stream,
  bytes: Uint8Array,
  deadline: StreamDeadline,
): Promise<void> {
  deadline.signal.throwIfAborted();
  if (!stream.send(bytes)) {
    try {
      await stream.onDrain({ signal: deadline.signal });
    } catch (err) {
      throw deadline.error ?? err;
    }
  }
  deadline.touch();
}

/** Closes our writing side, within the deadline. */
export async function closeWrite(stream: Stream, deadline: StreamDeadline): Promise<void> {
  try {
    await stream.close({ signal: deadline.signal });
  } catch (err) {
    throw deadline.error ?? err;
  }
}

/** An open request: the reader of its reply and the deadline guarding it. */
export interface Exchange {
  readonly stream: Stream;
  readonly reader: FrameReader;
  readonly deadline: StreamDeadline;
}

/**
 * Opens `protocol` to `peer`, sends `request` and closes our side; the
 * reply is then read through `reader`, at most `limit` bytes in all. The
 * caller must `finish` it (which clears the timers, and aborts the stream
 * if the reply was not read to its end).
 */
export async function openRequest(
  host: Pick<Host, "dialProtocol">,
  peer: PeerId,
  protocol: string,
  request: Uint8Array,
  options: { deadlines: Deadlines; limit: number; what: string; signal?: AbortSignal },
): Promise<Exchange> {
  const signals = [AbortSignal.timeout(options.deadlines.totalMs)];
  if (options.signal) signals.push(options.signal);
  let stream: Stream;
  try {
    stream = await host.dialProtocol(peer, protocol, { signal: AbortSignal.any(signals) });
  } catch (err) {
    // A dial that timed out is a stall like any other; other dial errors are not the peer's fault to score.
    if (err instanceof Error && err.name === "TimeoutError")
      throw SyncError.timeout(`open ${options.what}`, options.deadlines.totalMs);
    throw err;
  }
  const deadline = new StreamDeadline(stream, options.deadlines, options.what, options.signal);
  const reader = new FrameReader(stream, deadline, options.limit);
  try {
    if (request.length > 0) await send(stream, request, deadline);
    await closeWrite(stream, deadline);
  } catch (err) {
    deadline.clear();
    stream.abort(asError(err));
    throw err;
  }
  return { stream, reader, deadline };
}

/** Ends an exchange: clears its timers; aborts the stream unless it was read to its end. */
export function finish(exchange: Exchange, err?: unknown): void {
  exchange.deadline.clear();
  if (err !== undefined || exchange.stream.status !== "closed")
    exchange.stream.abort(asError(err ?? new Error("exchange finished")));
}

/**
 * Serving side: at most `max` streams served at once across all peers (a
 * new one beyond that is reset at once), each within its deadlines, so a
 * client that never reads frees its stream when the idle deadline passes.
 */
export class ServingSlots {
  readonly #max: number;
  #active = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Streams being served now. */
  get active(): number {
    return this.#active;
  }

  async serve(
    stream: Stream,
    deadlines: Deadlines,
    what: string,
    handler: (reader: FrameReader, deadline: StreamDeadline) => Promise<void>,
    requestLimit: number,
  ): Promise<void> {
    if (this.#active >= this.#max) {
      stream.abort(new Error(`busy: ${this.#max} ${what} streams served already`));
      return;
    }
    this.#active++;
    const deadline = new StreamDeadline(stream, deadlines, what);
    const reader = new FrameReader(stream, deadline, requestLimit);
    try {
      await handler(reader, deadline);
      await closeWrite(stream, deadline);
    } catch (err) {
      stream.abort(asError(err));
    } finally {
      deadline.clear();
      this.#active--;
    }
  }
}
