/**
 * An in-memory LRU bounded by bytes: the default store, and the first tier
 * on Workers (an isolate's memory is fast but small and not shared).
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
  readonly bytes: number;
  /** Infinity for immutable answers. */
  readonly expiresAt: number;
}

/**
 * An entry's cost: its strings' characters (the answers are ASCII JSON, which
 * V8 stores one byte per character) plus a fixed allowance for the Map slot
 * and objects around them.
 */
function sizeOf(key: string, answer: CachedAnswer): number {
  return key.length + answer.body.length + answer.etag.length + 128;
}

export interface MemoryCache extends CacheStore {
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
    bytes -= e.bytes;
  };

  return {
    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },

    async get(key) {
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
      const size = sizeOf(key, answer);
      // One answer larger than the whole cache would only evict everything else.
      if (size > maxBytes) return;
      const ttl = ttlOf(policy);
      if (ttl !== null && ttl <= 0) return;
      entries.set(key, {
        answer: { ...answer, immutable: ttl === null },
        bytes: size,
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
