/**
 * Stores in tiers, fastest first (memory, then the Cache API, then KV): a
 * read tries each in turn and copies an immutable answer found further down
 * into the tiers above it; a write goes to every tier.
 */
import type { CacheStore } from "./store.ts";

export function tieredCache(tiers: readonly CacheStore[]): CacheStore {
  return {
    async get(key) {
      for (let i = 0; i < tiers.length; i++) {
        const found = await tiers[i]!.get(key);
        if (!found) continue;
        // A TTL answer's remaining life is unknown here: only immutable ones move up.
        if (found.immutable && i > 0)
          await Promise.all(tiers.slice(0, i).map((t) => t.put(key, found, { immutable: true })));
        return found;
      }
      return undefined;
    },

    // The first tier only: the others need I/O.
    peek: (key) => tiers[0]?.peek?.(key),

    async put(key, answer, policy) {
      await Promise.all(tiers.map((t) => t.put(key, answer, policy)));
    },
  };
}
