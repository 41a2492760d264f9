/**
 * Workers KV as a store: global and durable, but eventually consistent
 * (a write takes up to a minute to reach other locations) and with a
 * minimum TTL of 60 s. That suits immutable answers, which can never be
 * stale; answers valid for less than KV's minimum are not written to it.
 */
import { type CacheStore, ttlOf } from "./store.ts";

/** The part of a KV namespace binding this store uses. */
export interface KvLike {
  getWithMetadata(key: string, type: "text"): Promise<{ value: string | null; metadata: unknown }>;
  put(
    key: string,
    value: string,
    options?: { expirationTtl?: number; metadata?: unknown },
  ): Promise<void>;
}

/** KV refuses an expirationTtl below this. */
export const KV_MIN_TTL_SECONDS = 60;

interface Metadata {
  readonly etag: string;
  readonly height?: number;
  readonly immutable: boolean;
}

function isMetadata(m: unknown): m is Metadata {
  const v = m as Partial<Metadata> | null;
  return typeof v?.etag === "string" && typeof v.immutable === "boolean";
}

export function kvCache(kv: KvLike): CacheStore {
  return {
    tier: "kv",
    async get(key) {
      const { value, metadata } = await kv.getWithMetadata(key, "text");
      if (value === null || !isMetadata(metadata)) return undefined;
      return {
        body: value,
        etag: metadata.etag,
        ...(metadata.height !== undefined && { height: metadata.height }),
        immutable: metadata.immutable,
      };
    },

    async put(key, answer, policy) {
      const ttl = ttlOf(policy);
      // Kept at least 60 s, such an answer could be served after it is outdated.
      if (ttl !== null && ttl < KV_MIN_TTL_SECONDS) return;
      const metadata: Metadata = {
        etag: answer.etag,
        ...(answer.height !== undefined && { height: answer.height }),
        immutable: ttl === null,
      };
      await kv.put(key, answer.body, {
        metadata,
        ...(ttl !== null && { expirationTtl: ttl }),
      });
    },
  };
}
