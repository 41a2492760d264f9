/**
 * The edge in front of a real 4-validator network, through two proxies
 * that count what it asks and break answers on demand: the SDK with
 * verification on works against it; a miss asks one upstream once and a
 * hit asks none; a new head makes "latest" account reads new; a tampered
 * block or proof is refused, never cached, and the honest upstream serves;
 * readable fields are rendered from the verified bytes; a dropped upstream
 * is failed over; concurrent identical requests share one fetch; a client
 * over its limit gets 429. One network for the file; the same cases run
 * against the Node entry and against the Workers entry in workerd.
 */

import { startEdgeServer } from "@edgeledger/edge/node";
import { genesisHashOf } from "@edgeledger/node/testing";
import {
  addressFromPublicKey,
  type Client,
  createClient,
  formatAddress,
  localSigner,
  SecretKey,
} from "@edgeledger/sdk";
import type {
  AccountJson,
  BlockJson,
  CertifiedHeaderJson,
  TransactionStatusJson,
} from "@edgeledger/sdk/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type EdgeUnderTest, metric } from "../src/edge.ts";
import { startWorkerdEdge } from "../src/edgeWorkerd.ts";
import { TestNetwork } from "../src/network.ts";
import { FaultPlan, flip, type UpstreamProxy, upstreamProxy } from "../src/proxy.ts";

const faults = new FaultPlan();
let net: TestNetwork;
let genesisHash: string;
let proxies: UpstreamProxy[];
/** Sends from the funded account, straight to node 0 (not through any edge). */
let driver: Client;
/** Blocks made before the edges start, each with one transfer. */
const blocks: { height: number; tx: string }[] = [];

const newAddress = () => formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));

/** A transfer from the funded account, final before it returns. */
async function send(to: string, amount: bigint): Promise<{ hash: string; height: number }> {
  const sent = await driver.transfer({ signer: localSigner(net.funded), to, amount });
  net.submitted.add(sent.hash);
  const receipt = await sent.wait({ timeoutMs: 30_000 });
  return { hash: sent.hash, height: receipt.height };
}

async function direct<T>(path: string): Promise<T> {
  return (await (await fetch(net.urls[1]! + path)).json()) as T;
}

/**
 * An answer without its certificate: each node keeps its own (equally
 * valid) set of signatures for a block, so only the rest must match.
 */
function uncertified(answer: unknown): unknown {
  const a = answer as Record<string, unknown>;
  const strip = (v: unknown) => {
    const { certificate: _c, certificateBytes: _b, ...rest } = v as Record<string, unknown>;
    return rest;
  };
  if (a["block"] && typeof a["block"] === "object") return { ...a, block: strip(a["block"]) };
  return "certificateBytes" in a ? strip(a) : a;
}

/** Requests for exactly `path` that reached any upstream. */
const upstreamCount = (path: string) => proxies.reduce((n, p) => n + p.count(path), 0);

beforeAll(async () => {
  net = await TestNetwork.start({ validators: 4 });
  genesisHash = genesisHashOf(net.nodes[0]!.home);
  proxies = [await upstreamProxy(net.urls[0]!, faults), await upstreamProxy(net.urls[1]!, faults)];
  driver = createClient({ url: net.urls[0]!, chainId: net.chainId, trust: { genesisHash } });
  for (let i = 0; i < 3; i++) {
    const { hash, height } = await send(newAddress(), 1n);
    blocks.push({ height, tx: hash });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all((proxies ?? []).map((p) => p.close()));
  if (!net) return;
  try {
    await net.check();
  } finally {
    await net.stop();
  }
}, 120_000);

afterEach(() => faults.clear());

/** The edge options every runtime gets, so the cases hold for each. */
const EDGE_TEST_CONFIG = {
  headPollMs: 200,
  // As behind a proxy that sets the client's address (the cases send cf-connecting-ip).
  rateLimit: { ratePerSecond: 50, burst: 100, trustProxyHeaders: true },
} as const;

function edgeCases(runtime: EdgeUnderTest["runtime"], start: () => Promise<EdgeUnderTest>) {
  describe(`the edge on ${runtime}`, () => {
    let edge: EdgeUnderTest;
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(edge.url + path, { headers });

    beforeAll(async () => {
      edge = await start();
    }, 60_000);
    afterAll(async () => edge?.close());

    it("serves the SDK with verification on: transfer, finality, verified reads", async () => {
      const key = SecretKey.generate();
      const from = formatAddress(addressFromPublicKey(key.publicKey));
      await send(from, 1000n);
      const client = createClient({ url: edge.url, chainId: net.chainId, trust: { genesisHash } });
      const to = newAddress();
      const sent = await client.transfer({ signer: localSigner(key), to, amount: 25n });
      net.submitted.add(sent.hash);
      const receipt = await sent.wait({ timeoutMs: 30_000 });
      expect(receipt.status).toBe("committed");
      const account = await client.getAccount({ address: to });
      expect(account.balance).toBe(25n);
      expect(account.height).toBeGreaterThanOrEqual(receipt.height);
      const block = await client.getBlock({ height: receipt.height });
      expect(block.block.txs).toHaveLength(1);
      expect((await client.getValidators()).validators).toHaveLength(4);
      expect((await client.getTransaction({ hash: sent.hash }))?.status).toBe("committed");
      expect((await client.getStatus()).chainId).toBe(net.chainId);
    });

    it("caches: a miss asks one upstream once, a hit asks none, with an ETag and 304", async () => {
      const { height } = blocks[0]!;
      const path = `/v1/blocks/${height}`;
      const before = upstreamCount(path);
      const miss = await get(path);
      expect(miss.status).toBe(200);
      expect(miss.headers.get("x-edgeledger-cache")).toBe("miss");
      expect(miss.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = (await miss.json()) as BlockJson;
      const node = await direct<BlockJson>(path);
      expect(uncertified(body)).toEqual(uncertified(node));
      expect(miss.headers.get("etag")).toBe(`W/"${node.block.header.hash}"`);
      expect(upstreamCount(path)).toBe(before + 1);

      const hit = await get(path);
      expect(hit.headers.get("x-edgeledger-cache")).toBe("hit");
      expect(await hit.json()).toEqual(body);
      // On Workers the answer is also in the data centre's Cache API, for other isolates.
      if (edge.cached) expect(await edge.cached(`block/${height}`)).toBe(true);
      const notModified = await get(path, { "if-none-match": miss.headers.get("etag")! });
      expect(notModified.status).toBe(304);
      expect(upstreamCount(path)).toBe(before + 1);
      expect(await metric(edge, "cache_hits_total", 'route="getBlock"')).toBeGreaterThanOrEqual(2);
    });

    it("a new head makes latest account reads new", async () => {
      const who = newAddress();
      const first = await send(who, 5n);
      const atLeast = async (height: number) => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const res = await get(`/v1/accounts/${who}`);
          const body = (await res.json()) as AccountJson;
          if (body.height >= height) return { res, body };
          if (Date.now() > deadline) throw new Error(`edge still at ${body.height} < ${height}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const a = await atLeast(first.height);
      expect(a.body.account?.balance).toBe("5");
      expect(a.res.headers.get("cache-control")).toBe("public, max-age=1");
      const second = await send(who, 6n);
      const b = await atLeast(second.height);
      expect(b.body.account?.balance).toBe("11");
      expect(b.res.headers.get("x-edgeledger-cache")).toBe("miss");
      expect(b.res.headers.get("etag")).not.toBe(a.res.headers.get("etag"));
      expect(b.res.headers.get("x-edgeledger-height")).toBe(String(b.body.height));
    });

    it("refuses a tampered block or proof, caches none of it, and serves the honest upstream's", async () => {
      const failures = () => metric(edge, "verification_failures_total");
      const { height, tx } = blocks[1]!;
      const cases = [
        { path: `/v1/blocks/${height}`, kind: "tamper-block" as const },
        { path: `/v1/accounts/${newAddress()}?height=${height}`, kind: "tamper-proof" as const },
        { path: `/v1/transactions/${tx}`, kind: "tamper-proof" as const },
      ];
      for (const { path, kind } of cases) {
        const before = await failures();
        const asked = upstreamCount(path);
        faults.add({ match: (p) => p === path, kind, budget: 1 });
        const res = await get(path);
        expect(res.status, path).toBe(200);
        const body = await res.json();
        expect(uncertified(body), path).toEqual(uncertified(await direct(path)));
        expect(await failures(), path).toBe(before + 1);
        // The tampered answer, then the honest one; afterwards the honest one is cached.
        expect(upstreamCount(path), path).toBe(asked + 2);
        expect(await (await get(path)).json()).toEqual(body);
        expect(upstreamCount(path), path).toBe(asked + 2);
      }
      expect(
        ((await direct<TransactionStatusJson>(cases[2]!.path)) as { status: string }).status,
      ).toBe("committed");

      // Every upstream lies: 502 with the typed error, and nothing cached.
      const path = `/v1/accounts/${newAddress()}?height=${height}`;
      faults.add({ match: (p) => p === path, kind: "tamper-proof", budget: 2 });
      const refused = await get(path);
      expect(refused.status).toBe(502);
      expect(await refused.json()).toMatchObject({ code: "EDGE_UNVERIFIED" });
      const honest = await get(path);
      expect(honest.status).toBe(200);
      expect(honest.headers.get("x-edgeledger-cache")).toBe("miss");
    });

    it("serves readable fields rendered from the verified bytes, not the upstream's", async () => {
      const { height } = blocks[2]!;
      const path = `/v1/blocks/${height}`;
      faults.add({ match: (p) => p === path, kind: "tamper-readable", budget: 2 });
      const body = (await (await get(path)).json()) as BlockJson;
      expect(body.txs[0]!.body).toEqual((await direct<BlockJson>(path)).txs[0]!.body);
    });

    it("fails over past an upstream that drops the connection", async () => {
      const errors = await metric(edge, "upstream_errors_total");
      const path = `/v1/accounts/${newAddress()}?height=${blocks[0]!.height}`;
      faults.add({ match: (p) => p === path, kind: "down", budget: 1 });
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(uncertified(await res.json())).toEqual(uncertified(await direct(path)));
      expect(await metric(edge, "upstream_errors_total")).toBe(errors + 1);
      expect(upstreamCount(path)).toBe(2); // dropped, then answered by the other
    });

    it("shares one upstream fetch among concurrent identical requests", async () => {
      const path = `/v1/accounts/${newAddress()}?height=${blocks[0]!.height}`;
      const shared = await metric(edge, "singleflight_shared_total");
      faults.add({ match: (p) => p === path, kind: "delay", budget: 1, delayMs: 300 });
      const answers = await Promise.all(Array.from({ length: 20 }, () => get(path)));
      const bodies = await Promise.all(answers.map((a) => a.text()));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(new Set(bodies).size).toBe(1);
      expect(upstreamCount(path)).toBe(1);
      expect(await metric(edge, "singleflight_shared_total")).toBe(shared + 19);
    });

    it("answers a client over its limit with 429, Retry-After and the typed error", async () => {
      const client = { "cf-connecting-ip": `203.0.113.${runtime === "node" ? 1 : 2}` };
      const answers = await Promise.all(
        Array.from({ length: 150 }, () => get("/v1/genesis", client)),
      );
      const limited = answers.filter((a) => a.status === 429);
      expect(limited.length).toBeGreaterThan(0);
      expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(100);
      expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(await limited[0]!.json()).toMatchObject({ code: "EDGE_RATE_LIMITED" });
      // Another client is not affected.
      expect((await get("/v1/genesis")).status).toBe(200);
    });
  });
}

edgeCases("node", async () => {
  const server = await startEdgeServer({
    upstreams: proxies.map((p) => p.url),
    chainId: net.chainId,
    trust: { genesisHash },
    port: 0,
    ...EDGE_TEST_CONFIG,
  });
  return { runtime: "node", url: server.url, close: () => server.close() };
});

// The Workers entry in workerd (Miniflare): bindings instead of options,
// heads polled on demand, the memory tier over the Cache API.
edgeCases("workerd", () =>
  startWorkerdEdge({
    upstreams: proxies.map((p) => p.url),
    chainId: net.chainId,
    genesisHash,
    ...EDGE_TEST_CONFIG,
  }),
);

/**
 * The edge's GET /v1/heads behind hostile upstreams, listed first: one
 * (`headers`) streams honest heads, so the edge follows it and asks it
 * first, but serves every GET /v1/headers with a certificate one digit off;
 * the other (`everything`) does that and sends its stream's heads so too.
 * The edge relays only heads it verified: each event a subscriber gets
 * verifies with the SDK's light client, and none carries a certificate a
 * hostile upstream made.
 */
function headStreamCases(
  runtime: EdgeUnderTest["runtime"],
  start: (upstreams: string[]) => Promise<EdgeUnderTest>,
) {
  describe(`the edge's head stream on ${runtime}, behind hostile upstreams`, () => {
    it("never relays a head with a bad certificate, and relays the verified ones", async () => {
      const forged = new Set<string>();
      const forge = (json: CertifiedHeaderJson): CertifiedHeaderJson => {
        const certificateBytes = flip(json.certificateBytes);
        forged.add(certificateBytes);
        return { ...json, certificateBytes };
      };
      const forgeHeaders = (path: string, body: Record<string, unknown>) =>
        path.startsWith("/v1/headers/") ? forge(body as unknown as CertifiedHeaderJson) : body;
      const headers = await upstreamProxy(net.urls[2]!, new FaultPlan(), forgeHeaders);
      const everything = await upstreamProxy(net.urls[3]!, new FaultPlan(), forgeHeaders, {
        editEvent: (data) => JSON.stringify(forge(JSON.parse(data) as CertifiedHeaderJson)),
      });
      const hostile = {
        close: () => Promise.all([headers.close(), everything.close()]),
      };
      const edge = await start([headers.url, everything.url, net.urls[1]!]);
      const stop = new AbortController();
      try {
        const res = await fetch(`${edge.url}/v1/heads`, { signal: stop.signal });
        expect(res.status).toBe(200);
        const events = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        const received: CertifiedHeaderJson[] = [];
        let buffer = "";
        // New blocks come with transfers; a bounded number of them.
        const deadline = Date.now() + 60_000;
        const sending = (async () => {
          for (let i = 0; i < 20 && received.length < 3 && Date.now() < deadline; i++)
            await send(newAddress(), 1n);
        })();
        while (received.length < 3) {
          if (Date.now() > deadline) throw new Error("fewer than 3 heads relayed in 60 s");
          const { value, done } = await events.read();
          if (done) throw new Error("the stream ended");
          buffer += value;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block.split("\n").find((l) => l.startsWith("data: "));
            if (block.startsWith("event: head") && data)
              received.push(JSON.parse(data.slice(6)) as CertifiedHeaderJson);
          }
        }
        await sending;
        const checker = createClient({
          url: net.urls[0]!,
          chainId: net.chainId,
          trust: { genesisHash },
        });
        for (const head of received) {
          expect(forged.has(head.certificateBytes)).toBe(false);
          const { header } = await checker.lightClient.verifyCertifiedHeader(head);
          expect(header.height).toBeGreaterThan(0);
        }
        // Heights only go up.
        const heights = received.map((h) => checker.lightClient.verifyCertified(h));
        const decoded = await Promise.all(heights);
        for (let i = 1; i < decoded.length; i++)
          expect(decoded[i]!.height).toBeGreaterThan(decoded[i - 1]!.height);
        // The hostile upstreams were asked, and did forge.
        expect(forged.size).toBeGreaterThan(0);
        expect(await metric(edge, "verification_failures_total")).toBeGreaterThan(0);
      } finally {
        stop.abort();
        await edge.close();
        await hostile.close();
      }
    }, 120_000);
  });
}

headStreamCases("node", async (upstreams) => {
  const server = await startEdgeServer({
    upstreams,
    chainId: net.chainId,
    trust: { genesisHash },
    port: 0,
    ...EDGE_TEST_CONFIG,
  });
  return { runtime: "node", url: server.url, close: () => server.close() };
});

headStreamCases("workerd", (upstreams) =>
  startWorkerdEdge({ upstreams, chainId: net.chainId, genesisHash, ...EDGE_TEST_CONFIG }),
);
