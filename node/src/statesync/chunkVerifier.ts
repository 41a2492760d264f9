/**
 * Chunk verification off the event loop: a joining node decodes each chunk
 * and rebuilds its subtree (chunks.ts decodeChunk, verifyChunk) on a worker
 * thread, while the event loop receives the next chunks and writes the
 * verified ones.
 *
 * Why: once the serving side was cheap, the join's event loop was saturated
 * (bench/statesync.bench.ts at 10^6 accounts: 17.4 s of 17.7 busy, 0.3 s
 * idle), and decoding and hashing a chunk (3.4 M SHA-256 in all, plus the
 * copies) was a third of it; the second core sat mostly unused. The check
 * is the same function on the same bytes: a chunk is written only after
 * its subtree hash equals its manifest entry, and a failure comes back as
 * the SyncError it would have thrown here (same code, so the sender is
 * scored the same).
 *
 * Bounds: the caller holds at most one chunk per fetch worker in
 * verification (perPeer × peers), each a chunk (≤ MAX_CHUNK_BYTES, copied
 * to the thread, ~0.2 MB at the usual cut) and its packed nodes. The thread lives for one
 * join (close()). Where no thread can start, chunks are verified inline.
 */
import { Worker } from "node:worker_threads";
import type { NodeWrite, SubtreeRef } from "@edgeledger/sdk/protocol";
import { SyncError, type SyncErrorCode } from "../sync/errors.ts";
import { decodeChunk, verifyChunk } from "./chunks.ts";

export interface ChunkWant {
  readonly height: number;
  readonly depth: number;
  readonly index: number;
}

/** What the thread answers: the nodes packed (32 hash ‖ u32 length ‖ node, each), or the error. */
export type VerifyReply =
  | { readonly id: number; readonly packed: Uint8Array }
  | {
      readonly id: number;
      readonly error: {
        readonly code?: SyncErrorCode;
        readonly message: string;
        readonly details?: Record<string, unknown>;
      };
    };

export interface VerifyRequest {
  readonly id: number;
  readonly raw: Uint8Array;
  readonly want: ChunkWant;
  readonly expected: SubtreeRef;
}

/** Packs `writes` into one buffer (to move it between threads without a copy per node). */
export function packWrites(writes: readonly NodeWrite[]): Uint8Array {
  let size = 0;
  for (const w of writes) size += 36 + w.node.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const w of writes) {
    out.set(w.hash, at);
    view.setUint32(at + 32, w.node.length);
    out.set(w.node, at + 36);
    at += 36 + w.node.length;
  }
  return out;
}

/** The writes of a packed buffer, as views into it. */
export function unpackWrites(packed: Uint8Array): NodeWrite[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.length);
  const out: NodeWrite[] = [];
  for (let at = 0; at < packed.length; ) {
    const length = view.getUint32(at + 32);
    out.push({
      hash: packed.subarray(at, at + 32),
      node: packed.subarray(at + 36, at + 36 + length),
    });
    at += 36 + length;
  }
  return out;
}

/** The thread's work, also run inline: decode, rebuild, compare; the reply to send. */
export function verifyRequest(r: VerifyRequest): VerifyReply {
  try {
    return { id: r.id, packed: packWrites(verifyChunk(r.expected, decodeChunk(r.raw, r.want))) };
  } catch (err) {
    if (err instanceof SyncError)
      return {
        id: r.id,
        error: { code: err.code, message: err.shortMessage, details: { ...err.details } },
      };
    return { id: r.id, error: { message: err instanceof Error ? err.message : String(err) } };
  }
}

function fromReply(reply: VerifyReply): NodeWrite[] {
  if ("packed" in reply) return unpackWrites(reply.packed);
  const { code, message, details } = reply.error;
  if (code) throw new SyncError(code, message, details ? { details } : {});
  throw new Error(message);
}

export interface ChunkVerifier {
  /** The chunk's nodes if `raw` is chunk `want` and rebuilds `expected`; else its SyncError. */
  verify(expected: SubtreeRef, raw: Uint8Array, want: ChunkWant): Promise<NodeWrite[]>;
  /** Chunks the thread verified (0 inline). */
  readonly onThread: number;
  close(): Promise<void>;
}

/** Verifies on the caller's thread (and where a thread fails to start). */
export const inlineVerifier: ChunkVerifier = {
  verify: async (expected, raw, want) => fromReply(verifyRequest({ id: 0, raw, want, expected })),
  onThread: 0,
  close: async () => undefined,
};

/** One worker thread for the join (module comment); inline if it cannot start. */
export function startChunkVerifier(): ChunkVerifier {
  let worker: Worker;
  try {
    worker = new Worker(new URL("./chunkVerifierThread.ts", import.meta.url));
  } catch {
    return inlineVerifier;
  }
  const pending = new Map<
    number,
    { resolve: (w: NodeWrite[]) => void; reject: (e: unknown) => void }
  >();
  let next = 0;
  let onThread = 0;
  // A thread that dies (or never loads): what it held is verified inline, and so is the rest.
  let failed = false;
  const inline = new Map<number, VerifyRequest>();
  worker.on("message", (reply: VerifyReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    inline.delete(reply.id);
    onThread++;
    try {
      p.resolve(fromReply(reply));
    } catch (err) {
      p.reject(err);
    }
  });
  const fail = () => {
    failed = true;
    for (const [id, p] of pending) {
      const r = inline.get(id);
      pending.delete(id);
      inline.delete(id);
      if (r) inlineVerifier.verify(r.expected, r.raw, r.want).then(p.resolve, p.reject);
    }
  };
  worker.on("error", fail);
  worker.on("exit", fail);
  // The thread must not keep the process alive between joins' chunks.
  worker.unref();
  return {
    verify(expected, raw, want) {
      if (failed) return inlineVerifier.verify(expected, raw, want);
      const id = next++;
      return new Promise<NodeWrite[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        // Copied, not moved: if the thread dies, the chunk is verified inline from these bytes.
        const request: VerifyRequest = { id, raw, want, expected };
        inline.set(id, request);
        worker.postMessage(request);
      });
    },
    get onThread() {
      return onThread;
    },
    async close() {
      failed = true;
      await worker.terminate();
    },
  };
}
