/**
 * A hostile client against a real network and an edge in front of it:
 * every route that the node's /openapi.json lists, driven with wrong types,
 * missing and extra fields, huge and deeply nested bodies, bad encodings,
 * bad methods and preflights, and malformed HTTP on raw sockets. Each
 * answer is a typed JSON error `{ code, message, details }` below 500 (or,
 * for bytes that are not HTTP at all, a closed connection); node and edge
 * give the same status and code for the routes they share; afterwards the
 * processes are healthy and the state root and the funded balance are what
 * they were. The inputs are fixed lists plus fast-check strings with a
 * fixed seed, so every run sends the same requests.
 */
import { type EdgeServer, startEdgeServer } from "@edgeledger/edge/node";
import { genesisHashOf } from "@edgeledger/node/testing";
import type { AccountJson, StatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  localSigner,
  SecretKey,
  signTransaction,
  type Transaction,
  toHex,
} from "@edgeledger/sdk/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  contractBreach,
  type HostileRequest,
  hostileRequests,
  malformedWire,
  type OpenApiRoute,
  pooled,
  type RawAnswer,
  routesOf,
  sendRaw,
  wireBytes,
} from "../src/hostile.ts";
import { TestNetwork } from "../src/network.ts";

const SEED = 20_261_201;
let net: TestNetwork;
let edge: EdgeServer;
let routes: OpenApiRoute[];
let requests: HostileRequest[];
let before: { stateRoot: string; balance: string | undefined; height: number };

/** The routes the edge serves too: the node's reads and submissions. */
const SHARED = new Set([
  "/v1/transactions",
  "/v1/transactions/batch",
  "/v1/transactions/{hash}",
  "/v1/accounts/{address}",
  "/v1/blocks/{id}",
  "/v1/headers/{height}",
  "/v1/genesis",
  "/v1/validators",
  "/v1/status",
]);

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}

async function snapshot(): Promise<typeof before> {
  const status = await json<StatusJson>(`${net.urls[0]}/v1/status`);
  const header = await json<{ header: { stateRoot: string } }>(
    `${net.urls[0]}/v1/headers/${status.height}`,
  );
  const account = await json<AccountJson>(`${net.urls[0]}/v1/accounts/${net.fundedAddress}`);
  return {
    stateRoot: header.header.stateRoot,
    balance: account.account?.balance,
    height: status.height,
  };
}

const host = (url: string) => new URL(url).host;
const send = (url: string, req: HostileRequest): Promise<RawAnswer> =>
  sendRaw(url, wireBytes(req, host(url)));

beforeAll(async () => {
  net = await TestNetwork.start({ validators: 4 });
  // A first block (with one transfer), so that heights, headers and hashes exist to ask about.
  const first = await net.transfer(0);
  await net.waitCommitted([first], 0);
  edge = await startEdgeServer({
    upstreams: [net.urls[0]!],
    chainId: net.chainId,
    trust: { genesisHash: genesisHashOf(net.nodes[0]!.home) },
    port: 0,
    headMode: "stream",
    rateLimit: false,
  });
  routes = routesOf(await json(`${net.urls[0]}/openapi.json`));
  const status = await json<StatusJson>(`${net.urls[0]}/v1/status`);
  requests = hostileRequests(
    routes,
    {
      hash: status.latestHash,
      id: "1",
      height: "1",
      address: net.fundedAddress,
    },
    { seed: SEED, samples: 4 },
  );
  before = await snapshot();
}, 120_000);

afterAll(async () => {
  await edge?.close();
  if (!net) return;
  try {
    await net.check();
  } finally {
    await net.stop();
  }
}, 120_000);

describe("a hostile client", () => {
  it("drives every route of /openapi.json", () => {
    const paths = new Set(routes.map((r) => r.path));
    for (const p of SHARED) expect(paths.has(p), p).toBe(true);
    expect(requests.length).toBeGreaterThan(500);
  });

  it("the node answers every hostile request with a typed error below 500", async () => {
    const answers = await pooled(requests, 8, (r) => send(net.urls[0]!, r));
    const breaches = requests
      .map((r, i) => ({ name: r.name, why: contractBreach(answers[i]!) }))
      .filter((b) => b.why !== null)
      .map((b) => `${b.name}: ${b.why}`);
    expect(breaches).toEqual([]);
  }, 120_000);

  it("the edge answers every hostile request with a typed error below 500", async () => {
    const answers = await pooled(requests, 8, (r) => send(edge.url, r));
    const breaches = requests
      .map((r, i) => ({ name: r.name, why: contractBreach(answers[i]!) }))
      .filter((b) => b.why !== null)
      .map((b) => `${b.name}: ${b.why}`);
    expect(breaches).toEqual([]);
  }, 120_000);

  it("node and edge agree on status and code for the routes they share", async () => {
    const shared = requests.filter((r) => {
      const route = routes.find((rt) => r.name.startsWith(`${rt.method} ${rt.path} `));
      // Requests of no route (CONNECT, absolute- and asterisk-form targets) count too.
      return route === undefined || SHARED.has(route.path);
    });
    const fromNode = await pooled(shared, 8, (r) => send(net.urls[0]!, r));
    const fromEdge = await pooled(shared, 8, (r) => send(edge.url, r));
    const disagreements = shared
      .map((r, i) => {
        const n = fromNode[i]!;
        const e = fromEdge[i]!;
        // Successful answers differ in headers and certificates; errors must match.
        if ((n.status ?? 0) < 400 && (e.status ?? 0) < 400) return null;
        const a = `${n.status} ${codeOf(n)}`;
        const b = `${e.status} ${codeOf(e)}`;
        return a === b ? null : `${r.name}: node ${a}, edge ${b}`;
      })
      .filter((d) => d !== null);
    expect(disagreements).toEqual([]);
  }, 120_000);

  it("malformed HTTP on raw sockets gets a typed 4xx, or a closed connection", async () => {
    const seen: string[][] = [];
    for (const url of [net.urls[0]!, edge.url]) {
      const cases = malformedWire(host(url));
      const answers = await pooled(cases, 4, (c) =>
        sendRaw(url, c.bytes, { halfClose: c.halfClose ?? false }),
      );
      const breaches = cases
        .map((c, i) => ({ name: c.name, why: contractBreach(answers[i]!, true) }))
        .filter((b) => b.why !== null)
        .map((b) => `${b.name}: ${b.why}`);
      expect(breaches, url).toEqual([]);
      // Smuggling: the request hidden in the body must not be answered as a second request.
      const smuggled = answers[cases.findIndex((c) => c.name.includes("smuggling"))]!;
      expect(smuggled.body.includes('"chainId"'), url).toBe(false);
      seen.push(cases.map((c, i) => `${c.name}: ${answers[i]!.status} ${codeOf(answers[i]!)}`));
    }
    // The node and the edge share the rules (the SDK's requestForm.ts), so the answers too.
    expect(seen[1]).toEqual(seen[0]);
  }, 120_000);

  it("transactions whose bytes decode but whose fields are out of range: a TX_* 4xx from both", async () => {
    const account = await json<AccountJson>(`${net.urls[0]}/v1/accounts/${net.fundedAddress}`);
    const nonce = account.account?.nonce ?? 0;
    const base: Transaction = {
      chainId: net.chainId,
      from: net.funded.publicKey,
      nonce,
      expiresAt: Date.now() + 10 * 60_000,
      body: {
        kind: "transfer",
        to: addressFromPublicKey(SecretKey.generate().publicKey),
        amount: 1n,
      },
    };
    const U128_MAX = (1n << 128n) - 1n;
    const variants: [string, Partial<Transaction>][] = [
      [
        "amount u128 max",
        { body: { ...(base.body as { to: Uint8Array }), kind: "transfer", amount: U128_MAX } },
      ],
      [
        "amount 0",
        { body: { ...(base.body as { to: Uint8Array }), kind: "transfer", amount: 0n } },
      ],
      ["nonce 2^53 - 1", { nonce: Number.MAX_SAFE_INTEGER }],
      ["expired at 0", { expiresAt: 0 }],
      ["expiry 2^53 - 1", { expiresAt: Number.MAX_SAFE_INTEGER }],
      ["another chain", { chainId: `${net.chainId}-x` }],
      [
        "vote by a non-validator",
        { body: { kind: "validator-vote", validator: SecretKey.generate().publicKey, power: 10n } },
      ],
      [
        "vote power 2^53 - 1",
        {
          body: {
            kind: "validator-vote",
            validator: net.funded.publicKey,
            power: BigInt(Number.MAX_SAFE_INTEGER),
          },
        },
      ],
    ];
    const stranger = SecretKey.generate();
    const bodies: { name: string; tx: string }[] = [];
    for (const [name, change] of variants) {
      const stx = await signTransaction({ ...base, ...change }, localSigner(net.funded));
      bodies.push({ name, tx: toHex(encodeSignedTransaction(stx)) });
    }
    // Signed by a key nobody funded, and a signature with one bit flipped.
    const unknown = await signTransaction(
      { ...base, from: stranger.publicKey },
      localSigner(stranger),
    );
    bodies.push({ name: "unknown sender", tx: toHex(encodeSignedTransaction(unknown)) });
    const good = encodeSignedTransaction(await signTransaction(base, localSigner(net.funded)));
    good[good.length - 1]! ^= 1;
    bodies.push({ name: "bad signature", tx: toHex(good) });

    const post = async (url: string, path: string, body: unknown) => {
      const res = await fetch(url + path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const problems: string[] = [];
    for (const { name, tx } of bodies) {
      const n = await post(net.urls[0]!, "/v1/transactions", { tx });
      const e = await post(edge.url, "/v1/transactions", { tx });
      if (n.status < 400 || n.status >= 500) problems.push(`${name}: node ${n.status}`);
      if (`${n.status} ${n.body["code"]}` !== `${e.status} ${e.body["code"]}`)
        problems.push(
          `${name}: node ${n.status} ${n.body["code"]}, edge ${e.status} ${e.body["code"]}`,
        );
    }
    const batch = await post(net.urls[0]!, "/v1/transactions/batch", {
      txs: bodies.map((b) => b.tx),
    });
    expect(batch.status).toBe(200);
    const results = batch.body["results"] as { error?: { code: string } }[];
    for (const [i, r] of results.entries())
      if (!r.error?.code) problems.push(`batch[${bodies[i]!.name}] was admitted`);
    expect(problems).toEqual([]);
  });

  it("leaves the processes healthy and the state as it was", async () => {
    for (const url of [net.urls[0]!, edge.url])
      expect((await fetch(`${url}/health`)).status, url).toBe(200);
    expect(net.crashed).toEqual([]);
    const after = await snapshot();
    expect(after.stateRoot).toBe(before.stateRoot);
    expect(after.balance).toBe(before.balance);
  }, 60_000);
});
