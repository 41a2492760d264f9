/**
 * The edge in the real Workers runtime: the Workers entry bundled as
 * wrangler would (edge/build/worker.ts), run by workerd through Miniflare
 * with its bindings pointing at the test network, served on 127.0.0.1.
 */
import { bundleWorker } from "@edgeledger/edge/build/worker";
import { Miniflare } from "miniflare";
import type { EdgeUnderTest } from "./edge.ts";

/** A compatibility date the bundled workerd supports (it refuses later ones); edge/wrangler.toml's. */
export const COMPATIBILITY_DATE = "2026-07-01";

export interface WorkerdEdgeOptions {
  readonly upstreams: readonly string[];
  readonly chainId: string;
  readonly genesisHash: string;
  readonly headPollMs: number;
  readonly rateLimit: { readonly ratePerSecond: number; readonly burst: number };
  /** Binds the EDGE_KV namespace, kept in this folder (so a later edge finds what this one wrote). */
  readonly kvPersist?: string;
}

export async function startWorkerdEdge(
  o: WorkerdEdgeOptions,
): Promise<EdgeUnderTest & { kvKeys(): Promise<string[]> }> {
  const mf = new Miniflare({
    ...(o.kvPersist !== undefined && { kvNamespaces: ["EDGE_KV"], kvPersist: o.kvPersist }),
    modules: true,
    script: await bundleWorker(),
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: {
      UPSTREAMS: o.upstreams.join(" "),
      CHAIN_ID: o.chainId,
      GENESIS_HASH: o.genesisHash,
      HEAD_POLL_MS: String(o.headPollMs),
      RATE_LIMIT_PER_SECOND: String(o.rateLimit.ratePerSecond),
      RATE_LIMIT_BURST: String(o.rateLimit.burst),
    },
  });
  const url = await mf.ready;
  const namespace = `${o.chainId}/${o.genesisHash.slice(0, 16)}/`;
  return {
    runtime: "workerd",
    url: url.origin,
    // Looks in the runtime's own caches.default, where the edge's Cache API tier writes.
    cached: async (key) => {
      // Typed from @cloudflare/workers-types, which is not installed: only match() is used.
      const caches = (await mf.getCaches()) as unknown as {
        default: { match(url: string): Promise<Response | undefined> };
      };
      const synthetic = `https://edge-cache.edgeledger.invalid/${encodeURIComponent(namespace + key)}`;
      const found = await caches.default.match(synthetic);
      await found?.arrayBuffer();
      return found !== undefined;
    },
    kvKeys: async () => {
      if (o.kvPersist === undefined) return [];
      // As for caches: typed from @cloudflare/workers-types, which is not installed.
      const kv = (await mf.getKVNamespace("EDGE_KV")) as unknown as {
        list(): Promise<{ keys: { name: string }[] }>;
      };
      return (await kv.list()).keys.map((k) => k.name);
    },
    close: () => mf.dispose(),
  };
}
