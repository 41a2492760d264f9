/**
 * The node's HTTP API against a real running node: a transfer goes from
 * submission to a verifiable receipt, and every kind of bad input gets its
 * own error code without crashing the node or changing state.
 */
import type { AccountJson, StatusJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  blockHash,
  decodeBlockHeader,
  decodeMerkleProof,
  decodeStateProof,
  encodeSignedTransaction,
  formatAddress,
  fromHex,
  localSigner,
  parseAddress,
  SecretKey,
  type Signer,
  signTransaction,
  type Transaction,
  toHex,
  verifyAccountProof,
  verifyMerkleProof,
} from "@edgeledger/sdk/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNode, type EdgeledgerNode } from "../src/node.ts";
import { api, cleanup, makeHome, post, sleep, type TestHome } from "../src/testing/harness.ts";

let home: TestHome;
let node: EdgeledgerNode;
let url: string;
const bob = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));

beforeAll(async () => {
  home = await makeHome("api-test", 1000n);
  node = createNode(home.home, { apiPort: 0, logger: pino({ level: "silent" }) });
  url = (await node.start()).apiUrl;
});
afterAll(async () => {
  await node.stop();
  await cleanup();
});

async function signedHex(
  tx: Partial<Transaction> & { nonce: number },
  signer: Signer = localSigner(home.funded),
) {
  const stx = await signTransaction(
    {
      chainId: "api-test",
      from: signer.publicKey,
      expiresAt: Date.now() + 60_000,
      body: { kind: "transfer", to: parseAddress(bob), amount: 10n },
      ...tx,
    },
    signer,
  );
  return toHex(encodeSignedTransaction(stx));
}

async function waitFor(hash: string): Promise<TransactionStatusJson> {
  for (let i = 0; i < 200; i++) {
    const r = await api<TransactionStatusJson>(`${url}/v1/transactions/${hash}`);
    if (r.body.status !== "pending") return r.body;
    await sleep(25);
  }
  throw new Error("transaction still pending");
}

describe("node API", () => {
  it("commits a transfer and serves a receipt and account that verify against the certified header", async () => {
    const res = await post(`${url}/v1/transactions`, { tx: await signedHex({ nonce: 0 }) });
    expect(res.status).toBe(202);
    const status = await waitFor(res.body["hash"] as string);
    expect(status.status).toBe("committed");
    const header = decodeBlockHeader(fromHex(status.block!.headerBytes));
    expect(toHex(blockHash(header))).toBe(status.block!.header.hash);
    verifyMerkleProof(
      { root: header.txRoot, size: header.txCount },
      fromHex(status.txBytes),
      decodeMerkleProof(fromHex(status.proof!)),
    );

    const acct = (await api<AccountJson>(`${url}/v1/accounts/${bob}`)).body;
    expect(acct.account).toEqual({ balance: "10", nonce: 0 });
    const h = decodeBlockHeader(fromHex(acct.block.headerBytes));
    verifyAccountProof(
      h.stateRoot,
      parseAddress(bob),
      { balance: 10n, nonce: 0 },
      decodeStateProof(fromHex(acct.proof)),
    );
  });

  it("answers every bad input with its own code and changes nothing", async () => {
    const before = (await api<StatusJson>(`${url}/v1/status`)).body;
    const balanceBefore = (await api<AccountJson>(`${url}/v1/accounts/${home.fundedAddress}`)).body
      .account;
    const stranger = SecretKey.generate();
    const good = await signedHex({ nonce: 1 });
    const badSig = good.slice(0, -2) + (good.endsWith("00") ? "01" : "00");
    const raw = (body: string, type = "application/json") =>
      fetch(`${url}/v1/transactions`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { code: string },
      }));
    const cases: [string, number, Promise<{ status: number; body: { code?: unknown } }>][] = [
      ["REQUEST_INVALID", 400, raw("{not json")],
      ["REQUEST_INVALID", 400, raw(JSON.stringify({ tx: 42 }))],
      ["REQUEST_INVALID", 400, raw(JSON.stringify({}))],
      ["REQUEST_INVALID", 400, raw(JSON.stringify({ tx: "zz" }))],
      ["BODY_TOO_LARGE", 413, raw(JSON.stringify({ tx: "ab".repeat(100_000) }))],
      ["TX_MALFORMED", 400, post(`${url}/v1/transactions`, { tx: "0102" })],
      ["TX_MALFORMED", 400, post(`${url}/v1/transactions`, { tx: `${good}00` })],
      ["TX_BAD_SIGNATURE", 400, post(`${url}/v1/transactions`, { tx: badSig })],
      [
        "TX_WRONG_CHAIN",
        400,
        post(`${url}/v1/transactions`, { tx: await signedHex({ nonce: 1, chainId: "other" }) }),
      ],
      [
        "TX_NONCE_TOO_LOW",
        400,
        post(`${url}/v1/transactions`, { tx: await signedHex({ nonce: 0 }) }),
      ],
      [
        "TX_NONCE_TOO_HIGH",
        400,
        post(`${url}/v1/transactions`, { tx: await signedHex({ nonce: 100_000 }) }),
      ],
      [
        "TX_INSUFFICIENT_BALANCE",
        400,
        post(`${url}/v1/transactions`, {
          tx: await signedHex({
            nonce: 1,
            body: { kind: "transfer", to: parseAddress(bob), amount: 10n ** 6n },
          }),
        }),
      ],
      [
        "TX_EXPIRED",
        400,
        post(`${url}/v1/transactions`, {
          tx: await signedHex({ nonce: 1, expiresAt: Date.now() - 1 }),
        }),
      ],
      [
        "TX_UNKNOWN_ACCOUNT",
        400,
        post(`${url}/v1/transactions`, {
          tx: await signedHex({ nonce: 0, from: stranger.publicKey }, localSigner(stranger)),
        }),
      ],
      ["NOT_FOUND", 404, api(`${url}/v1/transactions/${"ab".repeat(32)}`)],
      ["NOT_FOUND", 404, api(`${url}/v1/nothing-here`)],
      [
        "ADDRESS_INVALID_CHECKSUM",
        400,
        api(`${url}/v1/accounts/${bob.slice(0, -1)}${bob.endsWith("q") ? "p" : "q"}`),
      ],
      ["HEIGHT_NOT_AVAILABLE", 404, api(`${url}/v1/accounts/${bob}?height=999999`)],
    ];
    for (const [code, httpStatus, p] of cases) {
      const r = await p;
      expect({ code: r.body.code, status: r.status }, code).toEqual({ code, status: httpStatus });
    }
    // Still alive, nothing changed.
    await sleep(100);
    const after = (await api<StatusJson>(`${url}/v1/status`)).body;
    expect(after.mempool.size).toBe(0);
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    expect(
      (await api<AccountJson>(`${url}/v1/accounts/${home.fundedAddress}`)).body.account,
    ).toEqual(balanceBefore);
  });

  it("admits a batch transaction by transaction, with a result for each", async () => {
    const acct = (await api<AccountJson>(`${url}/v1/accounts/${home.fundedAddress}`)).body;
    const n = acct.account!.nonce;
    const txs = [
      await signedHex({ nonce: n }),
      "00",
      await signedHex({ nonce: n + 1, chainId: "other" }),
      await signedHex({ nonce: n + 1 }),
    ];
    const res = await post(`${url}/v1/transactions/batch`, { txs });
    expect(res.status).toBe(200);
    const results = res.body["results"] as { hash?: string; error?: { code: string } }[];
    expect(results.map((r) => r.error?.code ?? "ok")).toEqual([
      "ok",
      "TX_MALFORMED",
      "TX_WRONG_CHAIN",
      "ok",
    ]);
    for (const r of [results[0]!, results[3]!])
      expect((await waitFor(r.hash!)).status).toBe("committed");
    expect((await post(`${url}/v1/transactions/batch`, { txs: [] })).body["code"]).toBe(
      "REQUEST_INVALID",
    );
  });

  it("drops a transaction stuck behind a nonce gap when it expires, building no block for it meanwhile", async () => {
    const account = (await api<AccountJson>(`${url}/v1/accounts/${home.fundedAddress}`)).body;
    const height = (await api<StatusJson>(`${url}/v1/status`)).body.height;
    const res = await post(`${url}/v1/transactions`, {
      tx: await signedHex({
        nonce: (account.account?.nonce ?? 0) + 5,
        expiresAt: Date.now() + 1500,
      }),
    });
    expect(res.status).toBe(202);
    const hash = res.body["hash"] as string;
    let status: TransactionStatusJson | null = null;
    for (const deadline = Date.now() + 8000; Date.now() < deadline; await sleep(100)) {
      status = (await api<TransactionStatusJson>(`${url}/v1/transactions/${hash}`)).body;
      if (status.status === "dropped") break;
    }
    expect(status).toMatchObject({ status: "dropped", error: { code: "TX_EXPIRED" } });
    expect((await api<StatusJson>(`${url}/v1/status`)).body.height).toBe(height);
  });

  it("serves OpenAPI and Prometheus metrics", async () => {
    const doc = (await api<{ paths: Record<string, unknown> }>(`${url}/openapi.json`)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/transactions", "/v1/status"]),
    );
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/edgeledger_height \d+/);
    expect(metrics).toMatch(/edgeledger_txs_committed_total [1-9]/);
  });
});
