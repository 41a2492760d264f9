/**
 * The Workers deploy as far as workerd goes (docs/deploy.md, "The edge on Cloudflare Workers"): the
 * bundle wrangler would build from edge/wrangler.toml's `main`, run by
 * workerd through Miniflare with wrangler.toml's bindings, in front of a
 * real one-validator node; once without a KV namespace (memory and Cache
 * API tiers) and once with EDGE_KV bound, where a second edge with empty
 * memory and an empty Cache API serves a final block from KV alone. What
 * it cannot reach here is Cloudflare itself: `wrangler deploy` uploads.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cleanup,
  freePort,
  genesisHashOf,
  makeHome,
  startNode,
  type TestHome,
} from "@edgeledger/node/testing";
import { createClient, localSigner } from "@edgeledger/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { metric } from "../src/edge.ts";
import { COMPATIBILITY_DATE, startWorkerdEdge } from "../src/edgeWorkerd.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CHAIN = "workers-deploy";
const kvDir = mkdtempSync(join(tmpdir(), "edge-kv-"));
let home: TestHome;
let genesisHash: string;
/** A height with a final block (one transfer in it). */
let height: number;

/** wrangler.toml's top-level string keys, its [vars], and the bindings of its KV namespaces (set or commented out). */
function wranglerToml() {
  const text = readFileSync(join(ROOT, "edge/wrangler.toml"), "utf8");
  const top = Object.fromEntries(
    [...text.split(/^\[/m)[0]!.matchAll(/^(\w+) = "([^"]*)"$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const vars = text.split(/^\[vars\]$/m)[1]!.split(/^#? ?\[\[/m)[0]!;
  const names = (re: RegExp) => [...vars.matchAll(re)].map((m) => m[1]!);
  return {
    top,
    vars: names(/^(\w+) = "/gm),
    optionalVars: names(/^# (\w+) = "/gm),
    kvBindings: [...text.matchAll(/^#? ?binding = "(\w+)"$/gm)].map((m) => m[1]!),
  };
}

const edgeOptions = (kvPersist?: string) => ({
  upstreams: [home.url],
  chainId: CHAIN,
  genesisHash,
  headPollMs: 200,
  rateLimit: { ratePerSecond: 1000, burst: 1000 },
  ...(kvPersist !== undefined && { kvPersist }),
});

beforeAll(async () => {
  home = await makeHome(CHAIN, 1_000_000n);
  await startNode(home);
  genesisHash = genesisHashOf(home.home);
  const client = createClient({ url: home.url, chainId: CHAIN, trust: { genesisHash } });
  const sent = await client.transfer({
    signer: localSigner(home.funded),
    to: home.fundedAddress,
    amount: 1n,
  });
  height = (await sent.wait({ timeoutMs: 30_000 })).height;
});
afterAll(async () => {
  await cleanup();
  rmSync(kvDir, { recursive: true, force: true });
});

describe("Workers deploy (edge/wrangler.toml, in workerd)", () => {
  it("has a wrangler.toml whose entry, date and bindings are the ones the Workers entry reads", () => {
    const toml = wranglerToml();
    expect(toml.top["main"]).toBe("src/adapters/workers.ts");
    expect(toml.top["compatibility_date"]).toBe(COMPATIBILITY_DATE);
    const entry = readFileSync(join(ROOT, "edge/src/adapters/workers.ts"), "utf8");
    const read = [...entry.matchAll(/^ {2}readonly (\w+)\?: /gm)].map((m) => m[1]!);
    // Every binding the entry reads is in wrangler.toml, set or as a commented option, and no other.
    expect([...toml.vars, ...toml.optionalVars, ...toml.kvBindings].sort()).toEqual(read.sort());
    expect(toml.vars).toEqual(["UPSTREAMS", "CHAIN_ID", "GENESIS_HASH"]);
  });

  it("serves verified reads without a KV namespace, from memory and the Cache API", async () => {
    const edge = await startWorkerdEdge(edgeOptions());
    try {
      const first = await fetch(`${edge.url}/v1/blocks/${height}`);
      expect(first.status).toBe(200);
      expect(first.headers.get("x-edgeledger-cache")).toBe("miss");
      await first.arrayBuffer();
      expect(await edge.cached?.(`block/${height}`)).toBe(true);
      const again = await fetch(`${edge.url}/v1/blocks/${height}`);
      expect(again.headers.get("x-edgeledger-cache")).toBe("hit");
      await again.arrayBuffer();
      expect(await metric(edge, "cache_tier_hits_total", 'tier="memory"')).toBe(1);
      expect(await metric(edge, "cache_tier_misses_total", 'tier="cache_api"')).toBe(1);
      const text = await (await fetch(`${edge.url}/metrics`)).text();
      expect(text).not.toContain('tier="kv"');
      expect(text).toContain(`edgeledger_edge_chain_info{chain_id="${CHAIN}"} 1`);
      // Readiness: a verified head, a healthy upstream; liveness alike.
      const health = await fetch(`${edge.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ ok: true, status: "ready" });
      expect((await fetch(`${edge.url}/health?probe=live`)).status).toBe(200);
    } finally {
      await edge.close();
    }
  });

  it("answers /health 503 while its upstream is down, and 200 to ?probe=live", async () => {
    // A port nothing listens on: the upstream is down from the start.
    const down = `http://127.0.0.1:${await freePort()}`;
    const edge = await startWorkerdEdge({ ...edgeOptions(), upstreams: [down] });
    try {
      const health = await fetch(`${edge.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ ok: false, status: "no-upstream", height: null });
      const live = await fetch(`${edge.url}/health?probe=live`);
      expect(live.status).toBe(200);
      await live.arrayBuffer();
    } finally {
      await edge.close();
    }
  });

  it("keeps final answers in EDGE_KV when bound, and a new edge serves them from KV alone", async () => {
    const first = await startWorkerdEdge(edgeOptions(kvDir));
    try {
      const res = await fetch(`${first.url}/v1/blocks/${height}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(await metric(first, "cache_tier_misses_total", 'tier="kv"')).toBe(1);
      expect((await first.kvKeys()).some((k) => k.endsWith(`block/${height}`))).toBe(true);
    } finally {
      await first.close();
    }
    // New memory, a new Cache API; the same KV namespace.
    const second = await startWorkerdEdge(edgeOptions(kvDir));
    try {
      const res = await fetch(`${second.url}/v1/blocks/${height}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-edgeledger-cache")).toBe("hit");
      await res.arrayBuffer();
      expect(await metric(second, "cache_tier_hits_total", 'tier="kv"')).toBe(1);
      expect(await metric(second, "cache_misses_total")).toBe(0);
    } finally {
      await second.close();
    }
  });
});
