/**
 * Stores in tiers, fastest first (memory, then the Cache API, then KV): a
 * read tries each in turn and copies an immutable answer found further down
 * into the tiers above it; a write goes to every tier. Each tier tried is
 * reported hit or miss to the lookup observer, so an operator sees which
 * tier serves (the edge's cache_tier_* counters).
 */
import type { CacheStore, LookupObserver } from "./store.ts";

export function tieredCache(tiers: readonly CacheStore[]): CacheStore {
  const names = tiers.map((t, i) => t.tier ?? `tier${i}`);
  let observe: LookupObserver = () => {};
  return {
    observeLookups(observer) {
      observe = observer;
    },

    async get(key) {
      for (let i = 0; i < tiers.length; i++) {
        const found = await tiers[i]!.get(key);
        observe(names[i]!, found !== undefined);
        if (!found) continue;
        // A TTL answer's remaining life is unknown here: only immutable ones move up.
        if (found.immutable && i > 0)
          await Promise.all(tiers.slice(0, i).map((t) => t.put(key, found, { immutable: true })));
        return found;
      }
      return undefined;
    },

    // The first tier only: the others need I/O. Only a hit is reported: a
    // miss here is followed by get(), which reports that tier's miss once.
    peek(key) {
      const found = tiers[0]?.peek?.(key);
      if (found) observe(names[0]!, true);
      return found;
    },

    async put(key, answer, policy) {
      await Promise.all(tiers.map((t) => t.put(key, answer, policy)));
    },
  };
}

/** `store` as tiers, so its lookups can be observed: a single store becomes a tier of one. */
export function asTiers(
  store: CacheStore,
): CacheStore & Pick<Required<CacheStore>, "observeLookups"> {
  const tiered = store.observeLookups ? store : tieredCache([store]);
  return tiered as CacheStore & Pick<Required<CacheStore>, "observeLookups">;
}
