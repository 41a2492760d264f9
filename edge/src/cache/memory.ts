/**
 * An in-memory LRU bounded by bytes: the default store, and the first tier
 * on Workers (an isolate's memory is fast but small and not shared). It
 * keeps each body as UTF-8 bytes, which is what is sent, so a hit costs no
 * encoding; the text is decoded only if someone asks for it (a tier above).
 */
import {
  type CachedAnswer,
  type CachePolicy,
  type CacheStore,
  type StoredAnswer,
  ttlOf,
} from "./store.ts";

export interface MemoryCacheOptions {
  /** Most bytes held (approximate, see `sizeOf`). Default 64 MiB. */
  readonly maxBytes?: number;
  /** The clock TTLs are measured with (tests). Default Date.now. */
  readonly now?: () => number;
}

export const defaultMemoryCacheOptions = { maxBytes: 64 * 1024 * 1024 } as const;

interface Entry {
  readonly answer: StoredAnswer;
  readonly size: number;
  /** Infinity for immutable answers. */
  readonly expiresAt: number;
}

/**
 * An entry's cost: the body's bytes and the key's and tag's characters (ASCII,
 * which V8 stores one byte each) plus a fixed allowance for the Map slot and
 * objects around them.
 */
function sizeOf(key: string, bytes: Uint8Array, etag: string): number {
  return key.length + bytes.length + etag.length + 128;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stored answer over its bytes; made once per put, so a hit allocates nothing. */
function storedAnswer(
  answer: CachedAnswer,
  bytes: Uint8Array<ArrayBuffer>,
  immutable: boolean,
): StoredAnswer {
  return {
    get body() {
      return decoder.decode(bytes);
    },
    bytes,
    etag: answer.etag,
    ...(answer.height !== undefined && { height: answer.height }),
    immutable,
  };
}

export interface MemoryCache extends CacheStore {
  peek(key: string): StoredAnswer | undefined;
  /** Bytes held now. */
  readonly bytes: number;
  /** Answers held now. */
  readonly size: number;
}

export function memoryCache(options: MemoryCacheOptions = {}): MemoryCache {
  const maxBytes = options.maxBytes ?? defaultMemoryCacheOptions.maxBytes;
  const now = options.now ?? Date.now;
  // A Map iterates in insertion order: re-inserting on use keeps the least
  // recently used entry first, which is the one evicted.
  const entries = new Map<string, Entry>();
  let bytes = 0;

  const remove = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    entries.delete(key);
    bytes -= e.size;
  };

  return {
    tier: "memory",
    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },

    async get(key) {
      return this.peek(key);
    },

    peek(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      if (e.expiresAt <= now()) {
        remove(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, e);
      return e.answer;
    },

    async put(key, answer, policy: CachePolicy) {
      remove(key);
      const ttl = ttlOf(policy);
      if (ttl !== null && ttl <= 0) return;
      const body = (answer as Partial<StoredAnswer>).bytes ?? encoder.encode(answer.body);
      const size = sizeOf(key, body, answer.etag);
      // One answer larger than the whole cache would only evict everything else.
      if (size > maxBytes) return;
      entries.set(key, {
        answer: storedAnswer(answer, body, ttl === null),
        size,
        expiresAt: ttl === null ? Number.POSITIVE_INFINITY : now() + ttl * 1000,
      });
      bytes += size;
      for (const oldest of entries.keys()) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
  };
}
