/**
 * The HTTP API against a fake NodeService: every route's answer and shape,
 * every way a request can be wrong, the error mapping, metrics, the OpenAPI
 * document and the heads event stream. In-memory (fastify inject) except
 * the event stream, which needs a real socket on 127.0.0.1.
 *
 * The fake answers with JSON built by the real protocol functions (keys,
 * encodings, hashes, proofs), so the response schemas are checked against
 * values of the real formats.
 */
import { get, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { Writable } from "node:stream";
import {
  type AccountJson,
  type BlockJson,
  type CertifiedHeaderJson,
  certifiedHeaderJson,
  errorSchema,
  type GenesisJson,
  headerJson,
  type JsonSchema,
  type NodeHealthJson,
  routes,
  type StatusJson,
  type TransactionStatusJson,
  transactionJson,
  type ValidatorsJson,
} from "@edgeledger/sdk/api";
import {
  ApiError,
  accountKey,
  addressFromPublicKey,
  BaseError,
  type BlockHeader,
  blockHash,
  DecodeError,
  decodeSignedTransaction,
  EMPTY_ROOT,
  encodeAccount,
  encodeBlock,
  encodeBlockHeader,
  encodeMerkleProof,
  encodeSignedTransaction,
  encodeStateProof,
  encodeValidatorSet,
  evidenceRoot,
  type FinalityCertificate,
  formatAddress,
  MemoryNodeStore,
  merkleLeafHash,
  merkleProof,
  SecretKey,
  type SignedTransaction,
  SparseMerkleTree,
  sha256,
  type Transaction,
  TransactionError,
  type TransactionErrorCode,
  toHex,
  transactionHash,
  transactionsRoot,
  validatorSetHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import pino from "pino";
import { Registry } from "prom-client";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createApiServer, REQUEST_DURATION_METRIC } from "./server.ts";
import type { NodeService } from "./service.ts";

// ---------------------------------------------------------------------------
// A one-block chain, built with the real protocol.

const CHAIN_ID = "testnet-1";
const key = (tag: number, i: number) => SecretKey.fromSeed(sha256(Uint8Array.of(tag, i)));

const validatorKeys = [0, 1, 2, 3]
  .map((i) => key(1, i))
  .sort((a, b) => toHex(a.publicKey).localeCompare(toHex(b.publicKey)));
const validatorSet = validatorKeys.map((k) => ({ publicKey: k.publicKey, power: 10n }));
const alice = key(2, 0);
const bob = key(2, 1);
const aliceAddress = addressFromPublicKey(alice.publicKey);
const bobAddress = addressFromPublicKey(bob.publicKey);

function sign(tx: Transaction): SignedTransaction {
  return { tx, signature: alice.sign(transactionHash(tx)) };
}

const transfer = sign({
  chainId: CHAIN_ID,
  from: alice.publicKey,
  nonce: 0,
  expiresAt: 1_800_000_000_000,
  body: { kind: "transfer", to: bobAddress, amount: 340282366920938463463374607431768211455n },
});
const vote = sign({
  chainId: CHAIN_ID,
  from: alice.publicKey,
  nonce: 1,
  expiresAt: 1_800_000_000_000,
  body: { kind: "validator-vote", validator: bob.publicKey, power: 7n },
});
const pendingTx = sign({ ...transfer.tx, nonce: 2 });
const droppedTx = sign({ ...transfer.tx, nonce: 3 });

const aliceAccount = { balance: 1000n, nonce: 2 };
const state = SparseMerkleTree.build([[accountKey(aliceAddress), encodeAccount(aliceAccount)]]);

const header: BlockHeader = {
  chainId: CHAIN_ID,
  height: 1,
  time: 1_700_000_000_000,
  parentHash: EMPTY_ROOT,
  txRoot: transactionsRoot([transfer, vote]),
  txCount: 2,
  evidenceRoot: evidenceRoot([]),
  stateRoot: state.root,
  validatorsHash: validatorSetHash(validatorSet),
  nextValidatorsHash: validatorSetHash(validatorSet),
  proposer: validatorSet[0]!.publicKey,
};
const headerHash = blockHash(header);
const certificate: FinalityCertificate = {
  height: 1,
  round: 0,
  blockHash: headerHash,
  signatures: [0, 1, 2].map((i) => ({
    validatorIndex: i,
    signature: validatorKeys[i]!.sign(
      voteDigest(CHAIN_ID, {
        type: "precommit",
        height: 1,
        round: 0,
        blockHash: headerHash,
        validator: validatorSet[i]!.publicKey,
      }),
    ),
  })),
};

// The node's own converters: the schema tests below then check what the node really sends.
const certified = certifiedHeaderJson(header, certificate);
const blockJson: BlockJson = {
  block: certified,
  txs: [transactionJson(transfer), transactionJson(vote)],
  evidence: [],
  blockBytes: toHex(encodeBlock({ header, txs: [transfer, vote], evidence: [] })),
};
const transferHash = toHex(transactionHash(transfer.tx));
const committedStatus: TransactionStatusJson = {
  hash: transferHash,
  status: "committed",
  tx: transactionJson(transfer),
  txBytes: toHex(encodeSignedTransaction(transfer)),
  receipt: { height: 1, index: 0, status: "success" },
  proof: toHex(
    encodeMerkleProof(
      merkleProof([transfer, vote].map(encodeSignedTransaction).map(merkleLeafHash), 0),
    ),
  ),
  block: certified,
};
const pendingStatus: TransactionStatusJson = {
  hash: toHex(transactionHash(pendingTx.tx)),
  status: "pending",
  tx: transactionJson(pendingTx),
  txBytes: toHex(encodeSignedTransaction(pendingTx)),
};
const droppedStatus: TransactionStatusJson = {
  hash: toHex(transactionHash(droppedTx.tx)),
  status: "dropped",
  tx: transactionJson(droppedTx),
  txBytes: toHex(encodeSignedTransaction(droppedTx)),
  error: { code: "TX_EXPIRED", message: "The transaction expired before it was included." },
};
const validatorsJson: ValidatorsJson = {
  height: 2,
  hash: toHex(validatorSetHash(validatorSet)),
  validators: validatorSet.map((v) => ({
    publicKey: toHex(v.publicKey),
    address: formatAddress(addressFromPublicKey(v.publicKey)),
    power: v.power.toString(),
  })),
  validatorSetBytes: toHex(encodeValidatorSet(validatorSet)),
};
const genesisJson: GenesisJson = {
  hash: toHex(blockHash(header)),
  header: headerJson(header),
  headerBytes: toHex(encodeBlockHeader(header)),
  validatorSetBytes: toHex(encodeValidatorSet(validatorSet)),
};

const statusJson: StatusJson = {
  chainId: CHAIN_ID,
  nodeVersion: "0.1.0",
  genesisHash: toHex(sha256(Uint8Array.of(0))),
  height: 1,
  latestHash: toHex(headerHash),
  latestTime: header.time,
  validator: {
    publicKey: toHex(validatorSet[0]!.publicKey),
    address: formatAddress(addressFromPublicKey(validatorSet[0]!.publicKey)),
  },
  mempool: { size: 1, bytes: 170 },
  protocolVersion: 2,
  upgrades: [{ height: 2, version: 2 }],
};

const readyHealth: NodeHealthJson = {
  status: "ready",
  height: 1,
  lastCommitAgeMs: 120,
  peers: 3,
  validator: true,
  bestPeerHeight: 1,
  behind: 0,
  haltHeight: null,
  storage: {
    retention: { keepRecent: 1000, retainBlocks: 0, retainHeaders: 0 },
    earliestState: 0,
    earliestBlock: 1,
    earliestHeader: 1,
    snapshots: { count: 0, latest: null },
    dbSizeBytes: 4096,
    lastPruneAt: null,
  },
};

let aliceJson: AccountJson;
let bobJson: AccountJson;
beforeAll(async () => {
  const store = new MemoryNodeStore();
  store.write(state.writes);
  const tree = new SparseMerkleTree(store);
  const aliceProof = await tree.prove(state.root, accountKey(aliceAddress));
  const bobProof = await tree.prove(state.root, accountKey(bobAddress));
  aliceJson = {
    address: formatAddress(aliceAddress),
    height: 1,
    account: { balance: aliceAccount.balance.toString(), nonce: aliceAccount.nonce },
    proof: toHex(encodeStateProof(aliceProof.proof)),
    block: certified,
  };
  bobJson = {
    address: formatAddress(bobAddress),
    height: 1,
    account: null,
    proof: toHex(encodeStateProof(bobProof.proof)),
    block: certified,
  };
});

// ---------------------------------------------------------------------------
// The fake node.

class FakeNodeService implements NodeService {
  readonly submitted: Uint8Array[] = [];
  readonly accountCalls: (number | undefined)[] = [];
  readonly validatorCalls: (number | undefined)[] = [];
  readonly #listeners = new Set<(head: CertifiedHeaderJson) => void>();
  readonly #transactions = new Map(
    [committedStatus, pendingStatus, droppedStatus].map((s) => [s.hash, s]),
  );

  get listenerCount(): number {
    return this.#listeners.size;
  }

  pushHead(head: CertifiedHeaderJson): void {
    for (const listener of this.#listeners) listener(head);
  }

  async submitTransaction(txBytes: Uint8Array): Promise<{ hash: Uint8Array }> {
    this.submitted.push(txBytes);
    // The real decoder, so garbage raises the real DecodeError.
    return { hash: transactionHash(decodeSignedTransaction(txBytes).tx) };
  }
  readonly devTransfers: { to: Uint8Array; amount: bigint }[] = [];
  async devTransfer(to: Uint8Array, amount: bigint): Promise<{ hash: Uint8Array }> {
    this.devTransfers.push({ to, amount });
    return { hash: new Uint8Array(32).fill(7) };
  }
  async submitTransactions(txs: readonly Uint8Array[]) {
    return Promise.all(
      txs.map((tx) =>
        this.submitTransaction(tx).catch((error: unknown) => {
          if (error instanceof BaseError) return { error };
          throw error;
        }),
      ),
    );
  }
  async getTransaction(hash: Uint8Array): Promise<TransactionStatusJson | null> {
    return this.#transactions.get(toHex(hash)) ?? null;
  }
  async getAccount(address: Uint8Array, height?: number): Promise<AccountJson> {
    this.accountCalls.push(height);
    if (height !== undefined && height > 1) {
      throw new ApiError("HEIGHT_NOT_AVAILABLE", "Height 1 is the latest final height.", {
        details: { height, latest: 1 },
      });
    }
    return toHex(address) === toHex(aliceAddress) ? aliceJson : { ...bobJson };
  }
  async getBlockByHeight(height: number): Promise<BlockJson | null> {
    return height === 1 ? blockJson : null;
  }
  async getBlockByHash(hash: Uint8Array): Promise<BlockJson | null> {
    return toHex(hash) === toHex(headerHash) ? blockJson : null;
  }
  async getHeaderByHeight(height: number): Promise<CertifiedHeaderJson | null> {
    return height === 1 ? certified : null;
  }
  async getGenesis(): Promise<GenesisJson> {
    return genesisJson;
  }
  async getValidators(height?: number): Promise<ValidatorsJson> {
    this.validatorCalls.push(height);
    return height === undefined ? validatorsJson : { ...validatorsJson, height };
  }
  async getStatus(): Promise<StatusJson> {
    return statusJson;
  }
  health: NodeHealthJson = readyHealth;
  async getNodeHealth(): Promise<NodeHealthJson> {
    return this.health;
  }
  onHead(listener: (head: CertifiedHeaderJson) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

// ---------------------------------------------------------------------------
// Harness.

let service: FakeNodeService;
let app: FastifyInstance;
const extraApps: FastifyInstance[] = [];

beforeEach(() => {
  service = new FakeNodeService();
  app = createApiServer(service);
});
afterEach(async () => {
  await app.close();
  for (const other of extraApps.splice(0)) await other.close();
});

function server(options: Parameters<typeof createApiServer>[1]): FastifyInstance {
  const created = createApiServer(service, options);
  extraApps.push(created);
  return created;
}

const submit = (payload: unknown, target: FastifyInstance = app) =>
  target.inject({ method: "POST", url: "/v1/transactions", payload: payload as object });

interface ErrorBody {
  code: string;
  message: string;
  details: { [key: string]: unknown; decodeCode?: unknown; requestId?: unknown };
}

/** Asserts the answer is the API's error shape and returns its body. */
function errorOf(response: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  expect(String(response.headers["content-type"])).toMatch(/^application\/json/);
  const body = JSON.parse(response.body) as ErrorBody;
  expect(Object.keys(body).sort()).toEqual(["code", "details", "message"]);
  expect(typeof body.message).toBe("string");
  expect(typeof body.details).toBe("object");
  return body;
}

/**
 * Validates a value against a schema with the same Ajv settings the server
 * uses (a scratch fastify route whose body schema is the one under test).
 */
async function conforms(schema: JsonSchema, value: unknown): Promise<boolean> {
  const checker = Fastify({
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  checker.post("/", { schema: { body: schema } }, async () => "ok");
  try {
    const res = await checker.inject({ method: "POST", url: "/", payload: { value } });
    return res.statusCode === 200;
  } finally {
    await checker.close();
  }
}
// The checker posts `{ value }`, so wrap a schema to match.
const wrap = (schema: unknown): JsonSchema => ({
  type: "object",
  required: ["value"],
  properties: { value: schema },
});

// ---------------------------------------------------------------------------

describe("dev transfer", () => {
  it("is served only when the service offers it, and validates its input", async () => {
    const to = formatAddress(new Uint8Array(20).fill(3));
    const ok = await app.inject({
      method: "POST",
      url: "/v1/dev/transfer",
      payload: { to, amount: "25" },
    });
    expect(ok.statusCode).toBe(202);
    expect(service.devTransfers).toEqual([{ to: new Uint8Array(20).fill(3), amount: 25n }]);
    const bad = await app.inject({
      method: "POST",
      url: "/v1/dev/transfer",
      payload: { to, amount: "-1" },
    });
    expect(bad.json().code).toBe("REQUEST_INVALID");
    // A real node's service has no devTransfer at all.
    const plain = new FakeNodeService();
    Object.defineProperty(plain, "devTransfer", { value: undefined });
    const real = createApiServer(plain);
    extraApps.push(real);
    const missing = await real.inject({
      method: "POST",
      url: "/v1/dev/transfer",
      payload: { to, amount: "25" },
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe("route table", () => {
  it("names each route by its operationId and binds every one", async () => {
    await app.ready();
    for (const [name, route] of Object.entries(routes)) {
      expect(route.operationId).toBe(name);
      expect(app.hasRoute({ method: route.method, url: route.path })).toBe(true);
    }
  });

  it("is left as it was by binding and documenting it (the edge and SDK share it)", async () => {
    const before = JSON.stringify(routes);
    await app.inject({ method: "GET", url: "/openapi.json" });
    await app.inject({ method: "GET", url: "/v1/status" });
    expect(JSON.stringify(routes)).toBe(before);
  });

  it("response schemas accept the real formats and refuse near misses", async () => {
    const cases: [JsonSchema, unknown][] = [
      [routes.getBlock.response[200], blockJson],
      [routes.getTransaction.response[200], committedStatus],
      [routes.getTransaction.response[200], pendingStatus],
      [routes.getTransaction.response[200], droppedStatus],
      [routes.getAccount.response[200], aliceJson],
      [routes.getAccount.response[200], bobJson],
      [routes.getValidators.response[200], validatorsJson],
      [routes.getStatus.response[200], statusJson],
      [routes.getStatus.response[200], { ...statusJson, validator: null }],
      [routes.getHeader.response[200], certified],
    ];
    for (const [schema, value] of cases) expect(await conforms(wrap(schema), value)).toBe(true);

    const upperHash = { ...certified, header: { ...certified.header, hash: "AB".repeat(32) } };
    const numericAmount = {
      ...blockJson,
      txs: [
        {
          ...blockJson.txs[0],
          body: { kind: "transfer", to: formatAddress(bobAddress), amount: 5 },
        },
      ],
    };
    const badSender = { ...committedStatus, tx: { ...committedStatus.tx, sender: "el1abc" } };
    const unknownKind = { ...blockJson, txs: [{ ...blockJson.txs[0], body: { kind: "mint" } }] };
    const refused: [JsonSchema, unknown][] = [
      [routes.getHeader.response[200], upperHash],
      [routes.getBlock.response[200], numericAmount],
      [routes.getBlock.response[200], unknownKind],
      [routes.getTransaction.response[200], badSender],
      [routes.getAccount.response[200], { ...aliceJson, account: { balance: "01", nonce: 2 } }],
      [routes.getAccount.response[200], { ...aliceJson, block: undefined }],
    ];
    for (const [schema, value] of refused) expect(await conforms(wrap(schema), value)).toBe(false);
  });
});

describe("genesis and cross-origin calls", () => {
  it("GET /v1/genesis answers the anchor a light client checks", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/genesis" });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toEqual(genesisJson);
  });

  it("allows any origin, and answers a JSON POST's preflight", async () => {
    const get = await app.inject({
      method: "GET",
      url: "/v1/status",
      headers: { origin: "http://127.0.0.1:5173" },
    });
    expect(get.headers["access-control-allow-origin"]).toBe("*");
    const preflight = await app.inject({
      method: "OPTIONS",
      url: "/v1/transactions",
      headers: {
        origin: "http://127.0.0.1:5173",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(String(preflight.headers["access-control-allow-methods"])).toContain("POST");
  });
});

describe("the request's form, before any route (the edge's rules too)", () => {
  it.each([
    ["/v1/blocks/%ff", "bad percent-encoding"],
    ["/v1/accounts/%c3%28", "bad percent-encoding"],
    [`/v1/transactions/${"a".repeat(300)}`, "segment too long"],
    [`/v1/accounts/${"x".repeat(5000)}`, "segment too long"],
  ])("GET %s → 400 REQUEST_INVALID (%s), not a router's own answer", async (url, problem) => {
    const res = await app.inject({ method: "GET", url });
    expect(res.statusCode).toBe(400);
    const body = errorOf(res);
    expect(body.code).toBe("REQUEST_INVALID");
    expect(body.details).toMatchObject({ in: "path", problem });
  });

  it.each(["/v1/status?x=1", "/v1/blocks/1?height=1", "/v1/genesis?%ff=1"])(
    "GET %s: a query on a route that takes none → 400 REQUEST_INVALID",
    async (url) => {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({
        code: "REQUEST_INVALID",
        details: { in: "querystring" },
      });
    },
  );

  it("a height given twice → 400 REQUEST_INVALID (not the first or the last one)", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/validators?height=1&height=2" });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe("REQUEST_INVALID");
  });

  it.each([{}, { origin: "https://example.org" }, { "access-control-request-method": "POST" }])(
    "a preflight without Origin or requested method (%o) → 204, as the edge answers it",
    async (headers) => {
      const res = await app.inject({ method: "OPTIONS", url: "/v1/transactions", headers });
      expect(res.statusCode).toBe(204);
      expect(res.headers["access-control-allow-origin"]).toBe("*");
    },
  );

  it("on a real socket: parser errors, header floods, CONNECT and a missing Host get the error shape", async () => {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = new URL(base);
    const cases = [
      ["GET /v1/status HTTP/1.1\r\nhost: x\r\noops\r\n\r\n", 400, "REQUEST_INVALID"],
      [
        `GET /v1/status HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20_000)}\r\n\r\n`,
        431,
        "REQUEST_INVALID",
      ],
      [
        "POST /v1/transactions HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        "REQUEST_INVALID",
      ],
      ["HELLO\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
      ["CONNECT 127.0.0.1:22 HTTP/1.1\r\nhost: x\r\n\r\n", 405, "METHOD_NOT_ALLOWED"],
      ["GET /v1/status HTTP/1.1\r\nconnection: close\r\n\r\n", 400, "REQUEST_INVALID"],
      [
        "GET http://evil.example/v1/status HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        400,
        "REQUEST_INVALID",
      ],
    ] as const;
    for (const [bytes, status, code] of cases) {
      const text = await rawExchange(Number(port), bytes);
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      const body = text.slice(text.indexOf("\r\n\r\n") + 4);
      expect(head.split("\r\n")[0], bytes.slice(0, 40)).toBe(
        `HTTP/1.1 ${status} ${head.split("\r\n")[0]!.split(" ").slice(2).join(" ")}`,
      );
      expect(head.toLowerCase(), bytes.slice(0, 40)).toContain("content-type: application/json");
      const json = JSON.parse(body) as ErrorBody;
      expect(json.code, bytes.slice(0, 40)).toBe(code);
      expect(typeof json.message).toBe("string");
      expect(typeof json.details).toBe("object");
    }
  });
});

/** Writes `bytes` on a fresh connection and reads until the server closes it. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write(bytes, "latin1"));
    const chunks: Buffer[] = [];
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer in 5 s")));
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

describe("happy paths", () => {
  it("POST /v1/transactions admits the bytes and answers 202 with the hash", async () => {
    const txHex = toHex(encodeSignedTransaction(transfer));
    const res = await submit({ tx: txHex });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ hash: transferHash, status: "pending" });
    expect(res.headers.location).toBe(`/v1/transactions/${transferHash}`);
    expect(service.submitted.map(toHex)).toEqual([txHex]);
  });

  it.each([
    ["committed", committedStatus],
    ["pending", pendingStatus],
    ["dropped", droppedStatus],
  ])("GET /v1/transactions/:hash answers a %s transaction", async (_status, expected) => {
    const res = await app.inject({ method: "GET", url: `/v1/transactions/${expected.hash}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    // toEqual, not toMatchObject: a field the schema forgot would be dropped
    // by the serializer, and one it invented would show up here.
    expect(res.json()).toEqual(expected);
  });

  it("GET /v1/accounts/:address answers an account and an absent one", async () => {
    const a = await app.inject({ method: "GET", url: `/v1/accounts/${aliceJson.address}` });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toEqual(aliceJson);
    const b = await app.inject({ method: "GET", url: `/v1/accounts/${bobJson.address}` });
    expect(b.statusCode).toBe(200);
    expect(b.json()).toEqual(bobJson);
    expect(b.json().account).toBeNull();
    expect(service.accountCalls).toEqual([undefined, undefined]);
  });

  it("GET /v1/accounts/:address?height=N passes the height as a number", async () => {
    const res = await app.inject({
      method: "GET",
      url: `/v1/accounts/${aliceJson.address}?height=1`,
    });
    expect(res.statusCode).toBe(200);
    expect(service.accountCalls).toEqual([1]);
  });

  it("accepts an all-uppercase address (bech32 allows it for QR codes)", async () => {
    const res = await app.inject({
      method: "GET",
      url: `/v1/accounts/${aliceJson.address.toUpperCase()}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(aliceJson);
  });

  it.each(["latest", "1", toHex(headerHash)])("GET /v1/blocks/%s answers block 1", async (id) => {
    const res = await app.inject({ method: "GET", url: `/v1/blocks/${id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(blockJson);
  });

  it("GET /v1/headers/:height answers the certified header", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/headers/1" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(certified);
  });

  it("GET /v1/validators answers the next set, or the one at ?height", async () => {
    const next = await app.inject({ method: "GET", url: "/v1/validators" });
    expect(next.statusCode).toBe(200);
    expect(next.json()).toEqual(validatorsJson);
    const at = await app.inject({ method: "GET", url: "/v1/validators?height=1" });
    expect(at.json()).toEqual({ ...validatorsJson, height: 1 });
    expect(service.validatorCalls).toEqual([undefined, 1]);
  });

  it("GET /v1/status answers the status, with and without a validator", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/status" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(statusJson);
    vi.spyOn(service, "getStatus").mockResolvedValue({ ...statusJson, validator: null });
    expect((await app.inject({ method: "GET", url: "/v1/status" })).json().validator).toBeNull();
  });

  it("GET /v1/health: 200 when ready, 503 with the same shape otherwise, 200 for ?probe=live", async () => {
    const ready = await app.inject({ method: "GET", url: "/v1/health" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual(readyHealth);
    expect(ready.headers["cache-control"]).toBe("no-store");
    for (const status of ["live", "syncing", "catching-up", "halted"] as const) {
      service.health = { ...readyHealth, status, haltHeight: status === "halted" ? 7 : null };
      const res = await app.inject({ method: "GET", url: "/v1/health" });
      expect(res.statusCode, status).toBe(503);
      expect(res.json()).toEqual(service.health);
      expect((await app.inject({ method: "GET", url: "/v1/health?probe=ready" })).statusCode).toBe(
        503,
      );
      const live = await app.inject({ method: "GET", url: "/v1/health?probe=live" });
      expect(live.statusCode, status).toBe(200);
      expect(live.json()).toEqual(service.health);
    }
    for (const query of ["probe=alive", "probe=", "x=1", "probe=live&probe=ready"]) {
      const res = await app.inject({ method: "GET", url: `/v1/health?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(errorOf(res).code).toBe("REQUEST_INVALID");
    }
  });

  it("GET /v1/health sends only the fields of the shape", async () => {
    service.health = { ...readyHealth, secret: "no" } as NodeHealthJson;
    const res = await app.inject({ method: "GET", url: "/v1/health" });
    expect(res.json()).toEqual(readyHealth);
  });

  it("GET /health answers ok", async () => {
    const res = await app.inject({ method: "GET", url: "/health" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });

  it("only sends the fields of the shape, whatever the service adds", async () => {
    vi.spyOn(service, "getStatus").mockResolvedValue({
      ...statusJson,
      secretKey: "do not leak",
    } as StatusJson);
    const res = await app.inject({ method: "GET", url: "/v1/status" });
    expect(res.json()).toEqual(statusJson);
    expect(res.body).not.toContain("do not leak");
  });

  it("answers 500 when the service returns a value missing a required field", async () => {
    const { latestHash: _, ...broken } = statusJson;
    vi.spyOn(service, "getStatus").mockResolvedValue(broken as StatusJson);
    const res = await app.inject({ method: "GET", url: "/v1/status" });
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe("INTERNAL");
  });
});

describe("bad requests", () => {
  const validTx = () => toHex(encodeSignedTransaction(transfer));

  it("malformed JSON → 400 REQUEST_INVALID", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/transactions",
      headers: { "content-type": "application/json" },
      payload: '{"tx": "ab"',
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: "REQUEST_INVALID", details: { in: "body" } });
  });

  it("an empty JSON body → 400 REQUEST_INVALID", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/transactions",
      headers: { "content-type": "application/json" },
      payload: "",
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe("REQUEST_INVALID");
  });

  it.each([
    ["a number (never coerced to hex)", { tx: 1234 }, "tx"],
    ["an array", { tx: ["ab"] }, "tx"],
    ["null", { tx: null }, "tx"],
    ["a body that is not an object", ["ab"], ""],
  ])("wrong type: %s → 400 naming the field", async (_name, payload, field) => {
    const res = await submit(payload);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: "REQUEST_INVALID", details: { in: "body", field } });
    expect(service.submitted).toEqual([]);
  });

  it("missing field → 400 naming it", async () => {
    const res = await submit({});
    expect(res.statusCode).toBe(400);
    const body = errorOf(res);
    expect(body).toMatchObject({ code: "REQUEST_INVALID", details: { in: "body", field: "tx" } });
    expect(body.message).toContain('missing the field "tx"');
  });

  it("extra field → 400 naming it (not silently dropped)", async () => {
    const res = await submit({ tx: validTx(), fee: "1" });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ details: { in: "body", field: "fee" } });
    expect(service.submitted).toEqual([]);
  });

  it("extra query parameter → 400", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/validators?heigth=1" });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ details: { in: "querystring", field: "heigth" } });
  });

  it("a body over the limit → 413 BODY_TOO_LARGE", async () => {
    const res = await submit({ tx: "ab".repeat(40_000) });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe("BODY_TOO_LARGE");
    expect(service.submitted).toEqual([]);
  });

  it("bodyLimit is an option", async () => {
    const small = server({ bodyLimit: 100 });
    const res = await submit({ tx: "ab".repeat(60) }, small);
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe("BODY_TOO_LARGE");
  });

  it("a tx over 8192 hex characters, under the body limit → 400 on the field", async () => {
    const res = await submit({ tx: "ab".repeat(4097) });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: "REQUEST_INVALID", details: { field: "tx" } });
  });

  it.each([
    ["non-hex", "zz"],
    ["odd length", "abc"],
    ["uppercase", "AB"],
    ["0x prefix", "0xab"],
    ["empty", ""],
  ])("%s tx → 400 REQUEST_INVALID on the field", async (_name, tx) => {
    const res = await submit({ tx });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: "REQUEST_INVALID", details: { field: "tx" } });
    expect(service.submitted).toEqual([]);
  });

  it("hex that does not decode → 400 TX_MALFORMED with the decode code", async () => {
    const res = await submit({ tx: "00ff" });
    expect(res.statusCode).toBe(400);
    const body = errorOf(res);
    expect(body.code).toBe("TX_MALFORMED");
    expect(body.details.decodeCode).toMatch(/^DECODE_/);
  });

  it.each([
    ["text/plain", "tx=ab"],
    ["application/x-www-form-urlencoded", "tx=ab"],
  ])("content-type %s → 415", async (contentType, payload) => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/transactions",
      headers: { "content-type": contentType },
      payload,
    });
    expect(res.statusCode).toBe(415);
    expect(errorOf(res).code).toBe("REQUEST_INVALID");
  });

  it("an address with a bad checksum → 400 ADDRESS_INVALID_CHECKSUM", async () => {
    const address = aliceJson.address;
    const last = address.at(-1) === "q" ? "p" : "q";
    const res = await app.inject({
      method: "GET",
      url: `/v1/accounts/${address.slice(0, -1)}${last}`,
    });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe("ADDRESS_INVALID_CHECKSUM");
    expect(service.accountCalls).toEqual([]);
  });

  it.each([
    ["a foreign prefix", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "ADDRESS_WRONG_PREFIX"],
    ["mixed case", `el1${"Q".repeat(38)}`.replace("Q", "q"), "ADDRESS_INVALID_FORMAT"],
    ["too long for any address", `el1${"q".repeat(95)}`, "REQUEST_INVALID"],
  ])("an address with %s → 400 %s", async (_name, address, code) => {
    const res = await app.inject({ method: "GET", url: `/v1/accounts/${address}` });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).toBe(code);
  });

  it.each([
    ["abc", "querystring"],
    ["01", "querystring"],
    ["-1", "querystring"],
    ["1.5", "querystring"],
    ["9007199254740993", "querystring"],
    ["12345678901234567", "querystring"],
  ])("?height=%s → 400 on the height", async (height, part) => {
    const res = await app.inject({ method: "GET", url: `/v1/validators?height=${height}` });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({
      code: "REQUEST_INVALID",
      details: { in: part, field: "height" },
    });
    expect(service.validatorCalls).toEqual([]);
  });

  it.each(["LATEST", "xyz", "0x1", "AB".repeat(32), "ab".repeat(31), "99999999999999999"])(
    "GET /v1/blocks/%s → 400",
    async (id) => {
      const res = await app.inject({ method: "GET", url: `/v1/blocks/${id}` });
      expect(res.statusCode).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: "REQUEST_INVALID", details: { in: "params" } });
    },
  );

  it("GET /v1/transactions/<not a hash> → 400", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/transactions/abcd" });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ details: { in: "params", field: "hash" } });
  });
});

describe("not found", () => {
  it.each([
    ["GET", "/v1/nope"],
    ["GET", "/v2/status"],
    ["DELETE", "/v2/status"],
  ] as const)("%s %s → 404 NOT_FOUND", async (method, url) => {
    const res = await app.inject({ method, url });
    expect(res.statusCode).toBe(404);
    const body = errorOf(res);
    expect(body.code).toBe("NOT_FOUND");
    expect(body.details).toEqual({ method, path: url });
  });

  it.each([
    ["DELETE", "/v1/status", "GET, HEAD"],
    ["POST", "/v1/status", "GET, HEAD"],
    ["PATCH", "/v1/blocks/1", "GET, HEAD"],
    ["TRACE", "/v1/transactions", "POST"],
    ["GET", "/v1/transactions", "POST"],
  ] as const)(
    "%s %s, a path served with other methods → 405 METHOD_NOT_ALLOWED",
    async (method, url, allow) => {
      const res = await app.inject({ method, url });
      expect(res.statusCode).toBe(405);
      expect(res.headers["allow"]).toBe(allow);
      const body = errorOf(res);
      expect(body.code).toBe("METHOD_NOT_ALLOWED");
      expect(body.details).toEqual({ method, path: url, allowed: allow.split(", ") });
    },
  );

  it("the dev faucet's path is not found where the service has no faucet", async () => {
    const plain = new FakeNodeService();
    Object.defineProperty(plain, "devTransfer", { value: undefined });
    const res = await server({}).inject({ method: "GET", url: "/v1/dev/transfer" });
    expect(res.statusCode).toBe(405);
    const real = createApiServer(plain);
    extraApps.push(real);
    const missing = await real.inject({ method: "GET", url: "/v1/dev/transfer" });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing).code).toBe("NOT_FOUND");
  });

  it.each([
    [`/v1/transactions/${"0".repeat(64)}`, "NOT_FOUND"],
    ["/v1/blocks/2", "NOT_FOUND"],
    [`/v1/blocks/${"0".repeat(64)}`, "NOT_FOUND"],
    ["/v1/headers/2", "NOT_FOUND"],
  ])("GET %s → 404 %s", async (url, code) => {
    const res = await app.inject({ method: "GET", url });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe(code);
  });

  it("a height the node has not reached → 404 HEIGHT_NOT_AVAILABLE with the service's details", async () => {
    const res = await app.inject({
      method: "GET",
      url: `/v1/accounts/${aliceJson.address}?height=5`,
    });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res)).toEqual({
      code: "HEIGHT_NOT_AVAILABLE",
      message: "Height 1 is the latest final height.",
      details: { height: 5, latest: 1 },
    });
  });
});

describe("errors from the service", () => {
  const expectedStatus: Record<TransactionErrorCode, number> = {
    TX_SIGNER_MISMATCH: 400,
    TX_MALFORMED: 400,
    TX_TOO_LARGE: 400,
    TX_WRONG_CHAIN: 400,
    TX_BAD_SIGNATURE: 400,
    TX_EXPIRED: 400,
    TX_EXPIRY_TOO_FAR: 400,
    TX_NONCE_TOO_LOW: 400,
    TX_NONCE_TOO_HIGH: 400,
    TX_INSUFFICIENT_BALANCE: 400,
    TX_UNKNOWN_ACCOUNT: 400,
    TX_INVALID_AMOUNT: 400,
    TX_SELF_TRANSFER: 400,
    TX_NOT_VALIDATOR: 400,
    TX_INVALID_VALIDATOR_KEY: 400,
    TX_DUPLICATE: 409,
    MEMPOOL_FULL: 503,
    MEMPOOL_ACCOUNT_LIMIT: 503,
    MEMPOOL_EVICTED: 400,
  };

  it("a refusal with a retry hint answers Retry-After in whole seconds; others have none", async () => {
    vi.spyOn(service, "submitTransaction").mockRejectedValueOnce(
      new TransactionError("MEMPOOL_FULL", "full", { details: { retryAfterMs: 2_300 } }),
    );
    const full = await submit({ tx: toHex(encodeSignedTransaction(transfer)) });
    expect(full.statusCode).toBe(503);
    expect(full.headers["retry-after"]).toBe("3");
    vi.spyOn(service, "submitTransaction").mockRejectedValueOnce(
      new TransactionError("MEMPOOL_ACCOUNT_LIMIT", "wait", { details: { nonce: 1 } }),
    );
    const limited = await submit({ tx: toHex(encodeSignedTransaction(transfer)) });
    expect(limited.statusCode).toBe(503);
    expect(limited.headers["retry-after"]).toBeUndefined();
  });

  it.each(Object.entries(expectedStatus))(
    "TransactionError %s → %i with its code, message and details",
    async (code, status) => {
      vi.spyOn(service, "submitTransaction").mockRejectedValue(
        new TransactionError(code as TransactionErrorCode, `refused: ${code}`, {
          details: { nonce: 3, expected: 4 },
        }),
      );
      const res = await submit({ tx: toHex(encodeSignedTransaction(transfer)) });
      expect(res.statusCode).toBe(status);
      expect(errorOf(res)).toEqual({
        code,
        message: `refused: ${code}`,
        details: { nonce: 3, expected: 4 },
      });
    },
  );

  it("details with bigints and bytes come out as decimal strings and hex", async () => {
    vi.spyOn(service, "submitTransaction").mockRejectedValue(
      new TransactionError("TX_INSUFFICIENT_BALANCE", "Balance too low.", {
        details: { balance: 5n, needed: 10n ** 30n, account: Uint8Array.of(1, 2) },
      }),
    );
    const res = await submit({ tx: toHex(encodeSignedTransaction(transfer)) });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).details).toEqual({
      balance: "5",
      needed: "1000000000000000000000000000000",
      account: "0102",
    });
  });

  it("ApiError UNAVAILABLE → 503", async () => {
    vi.spyOn(service, "getStatus").mockRejectedValue(
      new ApiError("UNAVAILABLE", "Syncing; retry later."),
    );
    const res = await app.inject({ method: "GET", url: "/v1/status" });
    expect(res.statusCode).toBe(503);
    expect(errorOf(res)).toEqual({
      code: "UNAVAILABLE",
      message: "Syncing; retry later.",
      details: {},
    });
  });

  it("ApiError NOT_FOUND from the service → 404", async () => {
    vi.spyOn(service, "getValidators").mockRejectedValue(new ApiError("NOT_FOUND", "Pruned."));
    const res = await app.inject({ method: "GET", url: "/v1/validators?height=0" });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe("NOT_FOUND");
  });

  it("an unexpected exception → 500 INTERNAL, logged, its message not leaked", async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    const logged = server({ logger });
    vi.spyOn(service, "getStatus").mockRejectedValue(
      new TypeError("cannot read /var/lib/edgeledger/secret.key"),
    );
    const res = await logged.inject({ method: "GET", url: "/v1/status" });
    expect(res.statusCode).toBe(500);
    const body = errorOf(res);
    expect(body.code).toBe("INTERNAL");
    expect(res.body).not.toContain("secret.key");
    expect(res.body).not.toContain("TypeError");
    expect(res.body).not.toMatch(/\bat \S+ \(/); // no stack frames
    expect(typeof body.details.requestId).toBe("string");
    const errorLine = lines.find((line) => line.includes("secret.key"));
    expect(errorLine).toBeDefined();
    expect(JSON.parse(errorLine!)).toMatchObject({ level: 50, reqId: body.details.requestId });
  });

  it("ApiError INTERNAL from the service → 500 with the generic message", async () => {
    vi.spyOn(service, "getStatus").mockRejectedValue(
      new ApiError("INTERNAL", "LevelDB corrupt at /var/lib/edgeledger/db"),
    );
    const res = await app.inject({ method: "GET", url: "/v1/status" });
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe("INTERNAL");
    expect(res.body).not.toContain("LevelDB");
  });

  it("a DecodeError outside transaction submission is the node's fault → 500", async () => {
    vi.spyOn(service, "getBlockByHeight").mockRejectedValue(
      new DecodeError("DECODE_TRUNCATED", "Block record ends early."),
    );
    const res = await app.inject({ method: "GET", url: "/v1/blocks/1" });
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe("INTERNAL");
  });

  it("a service that cannot subscribe to heads → 500 as JSON, no stream", async () => {
    vi.spyOn(service, "onHead").mockImplementation(() => {
      throw new Error("no heads");
    });
    const res = await app.inject({ method: "GET", url: "/v1/heads" });
    expect(res.statusCode).toBe(500);
    expect(errorOf(res).code).toBe("INTERNAL");
  });
});

describe("/openapi.json", () => {
  it("is an OpenAPI 3.1 document listing every route with its operationId", async () => {
    const res = await app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("edgeledger node API");
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`,
      ),
    );
    const expected = Object.values(routes).map(
      (r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")} ${r.operationId}`,
    );
    expect(listed.sort()).toEqual(expected.sort());
  });

  it("carries the input constraints and the error shape", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    const post = doc.paths["/v1/transactions"].post;
    const txSchema = post.requestBody.content["application/json"].schema.properties.tx;
    expect(txSchema).toMatchObject({ type: "string", maxLength: 8192 });
    expect(post.responses["202"]).toBeDefined();
    expect(post.responses["4XX"].content["application/json"].schema.required).toEqual(
      errorSchema.required,
    );
    const heads = doc.paths["/v1/heads"].get;
    expect(Object.keys(heads.responses["200"].content)).toEqual(["text/event-stream"]);
  });
});

describe("/metrics", () => {
  it("serves the request-duration histogram by route pattern and status", async () => {
    await app.inject({ method: "GET", url: "/v1/status" });
    await app.inject({ method: "GET", url: "/v1/headers/2" });
    await app.inject({ method: "GET", url: "/no/such/route" });
    const res = await app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toContain(`# TYPE ${REQUEST_DURATION_METRIC} histogram`);
    expect(text).toMatch(
      new RegExp(`${REQUEST_DURATION_METRIC}_count\\{route="/v1/status",status="200"\\} 1\\n`),
    );
    expect(text).toMatch(
      new RegExp(
        `${REQUEST_DURATION_METRIC}_count\\{route="/v1/headers/:height",status="404"\\} 1\\n`,
      ),
    );
    // Unknown URLs share one label instead of minting one per URL.
    expect(text).not.toContain("/no/such/route");
    expect(text).toMatch(
      new RegExp(`${REQUEST_DURATION_METRIC}_count\\{route="[^"]*",status="404"\\}`),
    );
  });

  it("uses the registry it is given, and a second server on it reuses the histogram", async () => {
    const registry = new Registry();
    const first = server({ registry });
    const second = server({ registry });
    await first.inject({ method: "GET", url: "/health" });
    await second.inject({ method: "GET", url: "/health" });
    const text = await registry.metrics();
    expect(text).toMatch(
      new RegExp(`${REQUEST_DURATION_METRIC}_count\\{route="/health",status="200"\\} 2\\n`),
    );
  });
});

describe("shutdown", () => {
  it("a request that arrives while the server closes → 503 UNAVAILABLE in the error shape", async () => {
    let base = "";
    let answer: { status: number; body: unknown } | undefined;
    // Runs after the server's own preClose hook, so the server is closing.
    app.addHook("preClose", async () => {
      const res = await fetch(`${base}/health`);
      answer = { status: res.status, body: await res.json() };
    });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
    await app.close();
    expect(answer).toEqual({
      status: 503,
      body: {
        code: "UNAVAILABLE",
        message: "This node is shutting down; retry on another node.",
        details: {},
      },
    });
  });
});

// ---------------------------------------------------------------------------
// The heads stream, over a real socket.

const DEADLINE_MS = 5_000;

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Subscription {
  response: IncomingMessage;
  text: () => string;
  ended: () => boolean;
  destroy: () => void;
}

async function subscribe(base: string, headers: OutgoingHttpHeaders = {}): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}/v1/heads`, { headers }, (response) => {
      let text = "";
      let ended = false;
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () => {
        ended = true;
      });
      response.on("close", () => {
        ended = true;
      });
      resolve({ response, text: () => text, ended: () => ended, destroy: () => request.destroy() });
    });
    request.on("error", reject);
  });
}

type SseEvent = { event?: string; data?: string };

/** The events in an SSE text: each block's field lines as name → value. */
function events(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event:"))
    .map((block) =>
      Object.fromEntries(
        block.split("\n").map((line) => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon), line.slice(colon + 1).trimStart()];
        }),
      ),
    );
}

describe("GET /v1/heads", () => {
  it("streams each head pushed by the service and unsubscribes when the client leaves", async () => {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const sub = await subscribe(base);
    try {
      expect(sub.response.statusCode).toBe(200);
      expect(sub.response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      expect(sub.response.headers["cache-control"]).toContain("no-cache");
      await waitFor(() => sub.text().includes(": subscribed"), "the subscribed comment");
      expect(service.listenerCount).toBe(1);

      const second = certifiedHeaderJson(
        { ...header, height: 2, parentHash: headerHash },
        certificate,
      );
      service.pushHead(certified);
      service.pushHead({ ...second, extra: "not in the shape" } as CertifiedHeaderJson);
      await waitFor(() => events(sub.text()).length === 2, "two head events");
      const [first, next] = events(sub.text());
      expect(first).toEqual({ event: "head", data: JSON.stringify(certified) });
      expect(JSON.parse(next!.data!)).toEqual(second);
    } finally {
      sub.destroy();
    }
    await waitFor(() => service.listenerCount === 0, "the unsubscribe");
  });

  it("allows any origin, like every route (a browser on another origin gets the stream)", async () => {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const sub = await subscribe(base, { origin: "http://127.0.0.1:5173" });
    try {
      expect(sub.response.statusCode).toBe(200);
      expect(sub.response.headers["access-control-allow-origin"]).toBe("*");
      expect(sub.response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    } finally {
      sub.destroy();
    }
  });

  it("delivers a head the service hands over while subscribing, after the headers", async () => {
    const subscribeOnHead = service.onHead.bind(service);
    vi.spyOn(service, "onHead").mockImplementation((listener) => {
      listener(certified); // e.g. a service that replays the current head at once
      return subscribeOnHead(listener);
    });
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const sub = await subscribe(base);
    try {
      expect(sub.response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      await waitFor(() => events(sub.text()).length === 1, "the replayed head");
      expect(sub.text().startsWith(": subscribed\n\n")).toBe(true);
      expect(events(sub.text())[0]).toEqual({ event: "head", data: JSON.stringify(certified) });
    } finally {
      sub.destroy();
    }
  });

  it("closes the stream of a client that stops reading instead of buffering without bound", async () => {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    // A client that never reads. (Without a response listener, node's client
    // would read and discard the body.)
    const request = get(`${base}/v1/heads`, (response) => response.pause());
    try {
      await waitFor(() => service.listenerCount === 1, "the subscriber");
      // Each event is a few KiB; the kernel's socket buffers take some
      // megabytes before the server's own backlog starts to grow.
      for (let i = 0; i < 50_000 && service.listenerCount > 0; i++) {
        service.pushHead(certified);
        if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(service.listenerCount).toBe(0);
    } finally {
      request.destroy();
    }
  });

  it("sends a heartbeat comment on an idle stream", async () => {
    const fast = server({ headsHeartbeatMs: 20 });
    const base = await fast.listen({ host: "127.0.0.1", port: 0 });
    const sub = await subscribe(base);
    try {
      await waitFor(() => sub.text().split(": heartbeat\n\n").length > 2, "two heartbeats");
      expect(events(sub.text())).toEqual([]);
    } finally {
      sub.destroy();
    }
  });

  it("does not keep close() waiting: open streams end and unsubscribe", async () => {
    const base = await app.listen({ host: "127.0.0.1", port: 0 });
    const subs = [await subscribe(base), await subscribe(base)];
    await waitFor(() => service.listenerCount === 2, "two subscribers");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), DEADLINE_MS);
    });
    try {
      expect(await Promise.race([app.close().then(() => "closed" as const), timeout])).toBe(
        "closed",
      );
    } finally {
      clearTimeout(timer);
      for (const sub of subs) sub.destroy();
    }
    expect(service.listenerCount).toBe(0);
    await waitFor(() => subs.every((sub) => sub.ended()), "the clients to see the end");
  });
});

describe("the explorer at /explorer (behind the node's flag)", () => {
  it("is served with the node's anchor when asked for, and not otherwise", async () => {
    const trust = { genesisHash: "ef".repeat(32) };
    const withExplorer = server({
      explorer: { chainId: "explorer-chain", trust, headStream: true },
    });
    const page = await withExplorer.inject({ method: "GET", url: "/explorer/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain(
      JSON.stringify({ chainId: "explorer-chain", trust, headStream: true }),
    );
    expect(
      (await withExplorer.inject({ method: "GET", url: "/explorer" })).headers["location"],
    ).toBe("/explorer/");
    expect((await withExplorer.inject({ method: "GET", url: "/explorer/app.js" })).statusCode).toBe(
      200,
    );
    const missing = await withExplorer.inject({ method: "GET", url: "/explorer/none.js" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: "NOT_FOUND" });
    expect((await app.inject({ method: "GET", url: "/explorer/" })).statusCode).toBe(404);
  });
});
