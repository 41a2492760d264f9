/**
 * A lying server, exhaustively: the SDK's read actions against a fake
 * fetch that serves a real (in-memory) chain's answers, with one field of
 * one answer changed at a time — every leaf of every read route's answer,
 * every kind of change (leafMutations.ts) — for a cold client (nothing
 * verified yet) and a warm one (it verified the header at that height and
 * the latest head first). Each read must either throw a VerificationError
 * with a VERIFY_* code, or return exactly what the honest server's answer
 * gives (a change to a field the SDK does not read is harmless). The
 * network scenarios (test/scenarios/sdk.test.ts, edge.test.ts) run a
 * sample of the same walk through real processes.
 */
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { certifiedHeaderJson, genesisJson, transactionJson, validatorsJson } from "../api/json.ts";
import { apiErrorStatus } from "../api/status.ts";
import type {
  AccountJson,
  BlockJson,
  ErrorJson,
  StatusJson,
  TransactionStatusJson,
} from "../api/types.ts";
import { VerificationError } from "../errors/client.ts";
import type { ApiErrorCode } from "../errors/protocol.ts";
import { addressFromPublicKey, formatAddress } from "../protocol/address.ts";
import { type BlockHeader, blockHash, encodeBlock, transactionsRoot } from "../protocol/block.ts";
import { toHex } from "../protocol/bytes.ts";
import type { FinalityCertificate } from "../protocol/finalityCertificate.ts";
import { sha256 } from "../protocol/hash.ts";
import { SecretKey } from "../protocol/keys.ts";
import { encodeMerkleProof, merkleLeafHash, merkleProof } from "../protocol/merkle.ts";
import { createNativeVerifier } from "../protocol/node.ts";
import { accountKey, encodeAccount, proveAccount } from "../protocol/state/account.ts";
import { MemoryNodeStore } from "../protocol/state/nodeStore.ts";
import { encodeStateProof, SparseMerkleTree } from "../protocol/state/sparseMerkleTree.ts";
import { CHAIN_ID, certify, makeHeader, makeValidators } from "../protocol/testing/chain.ts";
import {
  encodeSignedTransaction,
  type SignedTransaction,
  transactionHash,
} from "../protocol/transaction.ts";
import { type Client, createClient } from "./clients/createClient.ts";
import { flipHex, type Json, type LeafMutation, leafMutations } from "./testing/leafMutations.ts";
import { http } from "./transports/http.ts";

/**
 * Heights 0 (genesis) to 3: A (funded at genesis) pays B 25 at height 1;
 * 2 and 3 are empty. A second transfer from A is pending, a third was
 * dropped. C never exists.
 */
async function makeServedChain() {
  const vals = makeValidators(4, 41);
  const key = (i: number) => SecretKey.fromSeed(sha256(Uint8Array.of(41, 100 + i)));
  const a = key(1);
  const addr = (k: SecretKey) => addressFromPublicKey(k.publicKey);
  const [addrA, addrB, addrC] = [addr(a), addr(key(2)), addr(key(3))];

  const store = new MemoryNodeStore();
  const tree = new SparseMerkleTree(store);
  const built = SparseMerkleTree.build([
    [accountKey(addrA), encodeAccount({ balance: 1000n, nonce: 0 })],
  ]);
  store.write(built.writes);
  const genesis = makeHeader(null, vals.set, vals.set, { height: 0, stateRoot: built.root });
  const transfer = (nonce: number, amount: bigint): SignedTransaction => {
    const tx = {
      chainId: CHAIN_ID,
      from: a.publicKey,
      nonce,
      expiresAt: genesis.time + 3_600_000,
      body: { kind: "transfer" as const, to: addrB, amount },
    };
    return { tx, signature: a.sign(transactionHash(tx)) };
  };
  const paid = transfer(0, 25n);
  const pending = transfer(1, 7n);
  const dropped = transfer(9, 8n);
  const next = await tree.update(built.root, [
    [accountKey(addrA), encodeAccount({ balance: 975n, nonce: 1 })],
    [accountKey(addrB), encodeAccount({ balance: 25n, nonce: 0 })],
  ]);
  store.write(next.writes);

  const headers: BlockHeader[] = [genesis];
  const txsAt: SignedTransaction[][] = [[]];
  for (let h = 1; h <= 3; h++) {
    const txs = h === 1 ? [paid] : [];
    headers.push(
      makeHeader(headers[h - 1]!, vals.set, vals.set, {
        txRoot: transactionsRoot(txs),
        txCount: txs.length,
        stateRoot: next.root,
      }),
    );
    txsAt.push(txs);
  }
  const certs: FinalityCertificate[] = headers.map((h) =>
    h.height === 0
      ? { height: 0, round: 0, blockHash: blockHash(h), signatures: [] }
      : certify(h, vals, [0, 1, 2]),
  );
  const head = headers.length - 1;
  return {
    vals,
    headers,
    head,
    addresses: { a: formatAddress(addrA), b: formatAddress(addrB), c: formatAddress(addrC) },
    txs: {
      paid: toHex(transactionHash(paid.tx)),
      pending: toHex(transactionHash(pending.tx)),
      dropped: toHex(transactionHash(dropped.tx)),
    },
    genesisHash: toHex(blockHash(genesis)),
    certified: (h: number) => certifiedHeaderJson(headers[h]!, certs[h]!),
    block(h: number): BlockJson {
      const header = headers[h]!;
      return {
        block: certifiedHeaderJson(header, certs[h]!),
        txs: txsAt[h]!.map(transactionJson),
        evidence: [],
        blockBytes: toHex(encodeBlock({ header, txs: txsAt[h]!, evidence: [] })),
      };
    },
    async account(address: Uint8Array, h: number): Promise<AccountJson> {
      const { account, proof } = await proveAccount(tree, headers[h]!.stateRoot, address);
      return {
        address: formatAddress(address),
        height: h,
        account: account && { balance: account.balance.toString(), nonce: account.nonce },
        proof: toHex(encodeStateProof(proof)),
        block: certifiedHeaderJson(headers[h]!, certs[h]!),
      };
    },
    transaction(hash: string): TransactionStatusJson | null {
      if (hash === toHex(transactionHash(dropped.tx)))
        return {
          hash,
          status: "dropped",
          tx: transactionJson(dropped),
          txBytes: toHex(encodeSignedTransaction(dropped)),
          error: { code: "TX_NONCE_TOO_HIGH", message: "a nonce gap that never closed" },
        };
      if (hash === toHex(transactionHash(pending.tx)))
        return {
          hash,
          status: "pending",
          tx: transactionJson(pending),
          txBytes: toHex(encodeSignedTransaction(pending)),
        };
      if (hash !== toHex(transactionHash(paid.tx))) return null;
      const bytes = encodeSignedTransaction(paid);
      return {
        hash,
        status: "committed",
        tx: transactionJson(paid),
        txBytes: toHex(bytes),
        receipt: { height: 1, index: 0, status: "success" },
        proof: toHex(encodeMerkleProof(merkleProof([merkleLeafHash(bytes)], 0))),
        block: certifiedHeaderJson(headers[1]!, certs[1]!),
      };
    },
    decodeAddress: (text: string) =>
      [addrA, addrB, addrC].find((x) => formatAddress(x) === text) ?? null,
  };
}

type ServedChain = Awaited<ReturnType<typeof makeServedChain>>;

class Refusal {
  readonly code: ApiErrorCode;
  readonly message: string;
  constructor(code: ApiErrorCode, message: string) {
    this.code = code;
    this.message = message;
  }
}

/** The node's answer for `url` on `chain` (its JSON shapes; its refusals for what it lacks). */
async function answer(chain: ServedChain, url: URL): Promise<Json | Refusal> {
  const p = url.pathname;
  const heightParam = url.searchParams.get("height");
  const asked = heightParam === null ? undefined : Number(heightParam);
  const notYet = new Refusal("HEIGHT_NOT_AVAILABLE", "not committed yet");
  if (p === "/v1/genesis") return genesisJson(chain.headers[0]!, chain.vals.set) as unknown as Json;
  if (p === "/v1/status")
    return {
      chainId: CHAIN_ID,
      nodeVersion: "test",
      genesisHash: chain.genesisHash,
      height: chain.head,
      latestHash: toHex(blockHash(chain.headers[chain.head]!)),
      latestTime: chain.headers[chain.head]!.time,
      validator: null,
      mempool: { size: 1, bytes: 100 },
    } satisfies StatusJson as unknown as Json;
  if (p === "/v1/validators") {
    const at = asked ?? chain.head + 1;
    if (at < 1 || at > chain.head + 2) return notYet;
    return validatorsJson(at, chain.vals.set) as unknown as Json;
  }
  let m = /^\/v1\/headers\/(\d+)$/.exec(p);
  if (m) {
    const h = Number(m[1]);
    if (h > chain.head) return new Refusal("NOT_FOUND", "no final header at this height");
    return chain.certified(h) as unknown as Json;
  }
  m = /^\/v1\/blocks\/([^/]+)$/.exec(p);
  if (m) {
    const id = m[1]!;
    const h =
      id === "latest"
        ? chain.head
        : id.length === 64
          ? chain.headers.findIndex((x) => toHex(blockHash(x)) === id)
          : Number(id);
    if (h < 1 || h > chain.head) return new Refusal("NOT_FOUND", "no final block with this id");
    return chain.block(h) as unknown as Json;
  }
  m = /^\/v1\/accounts\/([^/]+)$/.exec(p);
  if (m) {
    const address = chain.decodeAddress(m[1]!);
    if (!address) return new Refusal("REQUEST_INVALID", "unknown address in this test");
    const h = asked ?? chain.head;
    if (h > chain.head) return notYet;
    return (await chain.account(address, h)) as unknown as Json;
  }
  m = /^\/v1\/transactions\/([0-9a-f]{64})$/.exec(p);
  if (m) {
    const tx = chain.transaction(m[1]!);
    return tx ? (tx as unknown as Json) : new Refusal("NOT_FOUND", "never seen");
  }
  return new Refusal("NOT_FOUND", `no route ${p}`);
}

/** A 200 body that is not JSON at all: the one change leafMutations cannot express. */
const NOT_JSON: LeafMutation = { path: "", kind: "answer-not-json", apply: (a) => a };

/**
 * A fake server over `chain`: `tamper` (when set) changes the answers of
 * the paths it matches, the way a lying server would.
 */
function fakeServer(chain: ServedChain) {
  const state: { tamper: { match: (path: string) => boolean; mutation: LeafMutation } | null } = {
    tamper: null,
  };
  const fetch = async (input: RequestInfo | URL): Promise<Response> => {
    const url = new URL(String(input));
    const result = await answer(chain, url);
    if (result instanceof Refusal) {
      const body: ErrorJson = { code: result.code, message: result.message, details: {} };
      return Response.json(body, { status: apiErrorStatus[result.code] });
    }
    const t = state.tamper;
    if (t?.match(url.pathname + url.search)) {
      if (t.mutation === NOT_JSON)
        return new Response("<html>not json</html>", {
          status: 200,
          headers: { "content-type": "text/html" },
        });
      return Response.json(t.mutation.apply(result));
    }
    return Response.json(result);
  };
  return { state, fetch: fetch as typeof globalThis.fetch };
}

const verifier = createNativeVerifier();

/** One read route: the request the SDK sends for it, and the action that reads it. */
interface Route {
  readonly name: string;
  /** The path (with query) of the answer to change. */
  readonly path: string;
  /** The height it reads at (a warm client verified this header first). */
  readonly height: number;
  readonly read: (client: Client) => Promise<unknown>;
}

function routesOf(chain: ServedChain): Route[] {
  const { b, c } = chain.addresses;
  return [
    {
      name: "account latest",
      path: `/v1/accounts/${b}`,
      height: chain.head,
      read: (cl) => cl.getAccount({ address: b }),
    },
    {
      name: "account latest, absent",
      path: `/v1/accounts/${c}`,
      height: chain.head,
      read: (cl) => cl.getAccount({ address: c }),
    },
    {
      name: "account at a height",
      path: `/v1/accounts/${b}?height=1`,
      height: 1,
      read: (cl) => cl.getAccount({ address: b, height: 1 }),
    },
    {
      name: "block by height",
      path: "/v1/blocks/1",
      height: 1,
      read: (cl) => cl.getBlock({ height: 1 }),
    },
    {
      name: "block by hash",
      path: `/v1/blocks/${toHex(blockHash(chain.headers[1]!))}`,
      height: 1,
      read: (cl) => cl.getBlock({ hash: toHex(blockHash(chain.headers[1]!)) }),
    },
    {
      name: "block latest",
      path: "/v1/blocks/latest",
      height: chain.head,
      read: (cl) => cl.getBlock(),
    },
    {
      name: "header",
      path: "/v1/headers/2",
      height: 2,
      read: (cl) => cl.lightClient.header(2),
    },
    {
      name: "transaction committed",
      path: `/v1/transactions/${chain.txs.paid}`,
      height: 1,
      read: (cl) => cl.getTransaction({ hash: chain.txs.paid }),
    },
    {
      name: "transaction pending",
      path: `/v1/transactions/${chain.txs.pending}`,
      height: chain.head,
      read: (cl) => cl.getTransaction({ hash: chain.txs.pending }),
    },
    {
      name: "transaction dropped",
      path: `/v1/transactions/${chain.txs.dropped}`,
      height: chain.head,
      read: (cl) => cl.getTransaction({ hash: chain.txs.dropped }),
    },
    {
      name: "validators (next block)",
      path: "/v1/validators",
      height: chain.head,
      read: (cl) => cl.getValidators(),
    },
    {
      name: "validators at a height",
      path: "/v1/validators?height=2",
      height: 2,
      read: (cl) => cl.getValidators({ height: 2 }),
    },
    {
      // The anchor: what a cold client checks first, whatever it reads.
      name: "genesis",
      path: "/v1/genesis",
      height: 1,
      read: (cl) => cl.getAccount({ address: b, height: 1 }),
    },
  ];
}

type Temperature = "cold" | "warm";

/** A client of `server`; warm: it verified the header at `height` and the head first. */
async function clientOf(
  chain: ServedChain,
  server: ReturnType<typeof fakeServer>,
  temperature: Temperature,
  height: number,
): Promise<Client> {
  const client = createClient({
    transport: http("http://server.test", { fetch: server.fetch, retries: 0 }),
    chainId: CHAIN_ID,
    trust: { genesisHash: chain.genesisHash },
    verifier,
    // This server never lags: a "latest" answer one block old is a forgery
    // here (against real servers a block or two is allowed, maxLagBlocks).
    maxLagBlocks: 0,
  });
  if (temperature === "warm") {
    await client.lightClient.header(height);
    await client.lightClient.header(chain.head);
  }
  return client;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Acceptable: a VerificationError with a VERIFY_* code; the honest value;
 * or an answer the SDK itself marks unverified (`verified: false`: a
 * pending or dropped status, the server's word, which no proof can back —
 * a denial, like a 404, that the SDK cannot disprove).
 */
function judge(result: Outcome, honest: unknown): string | null {
  if (!result.ok) {
    const e = result.error;
    if (e instanceof VerificationError && e.code.startsWith("VERIFY_")) return null;
    const named = e as { name?: string; code?: string; message?: string };
    return `threw ${named.name}${named.code ? ` ${named.code}` : ""}: ${String(named.message).split("\n")[0]}`;
  }
  if (isDeepStrictEqual(result.value, honest)) return null;
  if ((result.value as { verified?: unknown } | null)?.verified === false)
    return unverifiedShape(result.value)
      ? null
      : `returned a malformed unverified value ${show(result.value)}`;
  return `returned a forged value ${show(result.value)}`;
}

const show = (v: unknown) =>
  JSON.stringify(v, (_k, x) =>
    typeof x === "bigint" ? `${x}n` : x instanceof Uint8Array ? toHex(x) : x,
  ).slice(0, 200);

/** What the SDK documents for an answer it cannot prove: pending, or dropped with a string code and message. */
function unverifiedShape(value: unknown): boolean {
  const v = value as { status?: unknown; error?: { code?: unknown; message?: unknown } };
  if (v.status === "pending") return true;
  return (
    v.status === "dropped" &&
    typeof v.error?.code === "string" &&
    typeof v.error.message === "string"
  );
}

/** Walks every mutation of `route`'s answer for `temperature` clients; the failures. */
async function walk(
  chain: ServedChain,
  route: Route,
  temperature: Temperature,
): Promise<{ tried: number; failures: string[] }> {
  const server = fakeServer(chain);
  const honestClient = await clientOf(chain, server, "cold", route.height);
  const honest = await route.read(honestClient);
  const body = await answer(chain, new URL(`http://server.test${route.path}`));
  if (body instanceof Refusal) throw new Error(`${route.name}: the fake refused ${route.path}`);
  const failures: string[] = [];
  const mutations = [...leafMutations(body), NOT_JSON];
  for (const mutation of mutations) {
    server.state.tamper = null;
    const client = await clientOf(chain, server, temperature, route.height);
    server.state.tamper = { match: (p) => p === route.path, mutation };
    const verdict = judge(await outcome(route.read(client)), honest);
    const id = `${route.name} (${temperature}) ${mutation.path} ${mutation.kind}`;
    if (verdict) failures.push(`${id}: ${verdict}`);
  }
  return { tried: mutations.length, failures };
}

describe("a lying server changes one field of one answer: every leaf, every route", async () => {
  const chain = await makeServedChain();
  for (const route of routesOf(chain))
    for (const temperature of ["cold", "warm"] as const) {
      // A warm client holds the anchor already: it never reads the genesis again.
      if (route.name === "genesis" && temperature === "warm") continue;
      it(`${route.name}, ${temperature} client`, async () => {
        const { tried, failures } = await walk(chain, route, temperature);
        expect(tried).toBeGreaterThan(10);
        expect(failures.join("\n")).toBe("");
      });
    }

  // A known header does not make its certificate known: a server passing the
  // answer on (the edge) would serve and cache a forged one.
  it("a warm client refuses a forged certificate for a height it verified", async () => {
    const server = fakeServer(chain);
    const client = await clientOf(chain, server, "warm", 1);
    const path = `/v1/accounts/${chain.addresses.b}?height=1`;
    const body = (await answer(
      chain,
      new URL(`http://server.test${path}`),
    )) as unknown as AccountJson;
    const bytes = body.block.certificateBytes;
    // The last signature's last byte: the certificate still decodes; that signature is forged.
    const forged = {
      ...body,
      block: { ...body.block, certificateBytes: flipHex(bytes, bytes.length - 1) },
    };
    server.state.tamper = {
      match: (p) => p === path,
      mutation: {
        path: "block.certificateBytes",
        kind: "flip-hex-last",
        apply: () => forged as unknown as Json,
      },
    };
    const result = await outcome(client.getAccount({ address: chain.addresses.b, height: 1 }));
    expect(result.ok ? "verified" : (result.error as VerificationError).code).toBe("VERIFY_HEADER");
  });

  it("the honest fake server's answers all verify (the walk's control)", async () => {
    const server = fakeServer(chain);
    for (const route of routesOf(chain)) {
      const client = await clientOf(chain, server, "cold", route.height);
      expect(judge(await outcome(route.read(client)), await route.read(client)), route.name).toBe(
        null,
      );
    }
    const client = await clientOf(chain, server, "cold", 1);
    expect((await client.getAccount({ address: chain.addresses.b })).balance).toBe(25n);
    expect((await client.getAccount({ address: chain.addresses.a, height: 0 })).balance).toBe(
      1000n,
    );
    expect(await client.getTransaction({ hash: "ab".repeat(32) })).toBeNull();
  });
});
