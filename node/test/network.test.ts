/**
 * Four validators as separate processes on 127.0.0.1, agreeing over libp2p:
 * transactions submitted to one node are gossiped, every node commits the
 * same blocks with valid certificates.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlockJson, StatusJson, TransactionStatusJson } from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  encodeSignedTransaction,
  formatAddress,
  localSigner,
  SecretKey,
  signTransaction,
  toHex,
} from "@edgeledger/sdk/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { testnet } from "../src/cli/commands.ts";
import { api, cleanup, freePortBase, kill9, post, sleep, startNode } from "./harness.ts";

const dirs: string[] = [];
afterAll(async () => {
  await cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function statusOf(url: string): Promise<StatusJson | null> {
  const r = await api<StatusJson>(`${url}/v1/status`).catch(() => null);
  return r?.status === 200 ? r.body : null;
}

async function waitUntil(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(100);
  }
  if (process.env["NET_DEBUG"]) console.log(`${what}: ${Date.now() - t0} ms`);
}

/** Writes a 4-validator testnet with one funded account and starts every node. */
async function startTestnet() {
  const dir = mkdtempSync(join(tmpdir(), "testnet-"));
  dirs.push(dir);
  const funded = SecretKey.generate();
  const fundedAddress = formatAddress(addressFromPublicKey(funded.publicKey));
  const net = await testnet({
    validators: 4,
    out: join(dir, "net"),
    basePort: await freePortBase(4),
    fund: [{ address: fundedAddress, balance: 1_000_000n }],
  });
  const node = (i: number) => ({
    home: net.homes[i]!,
    url: net.apiUrls[i]!,
    funded,
    fundedAddress,
  });
  const children = await Promise.all(net.homes.map((_, i) => startNode(node(i))));
  return { net, funded, node, children };
}

describe("a 4-validator network", () => {
  it("gossips transactions and commits identical blocks on every node", async () => {
    const { net, funded, children } = await startTestnet();
    const to = addressFromPublicKey(SecretKey.generate().publicKey);
    const hashes: string[] = [];
    for (let nonce = 0; nonce < 10; nonce++) {
      const stx = await signTransaction(
        {
          chainId: "testnet-4",
          from: funded.publicKey,
          nonce,
          expiresAt: Date.now() + 600_000,
          body: { kind: "transfer", to, amount: 5n },
        },
        localSigner(funded),
      );
      // Spread submissions over the nodes: each must gossip to the proposer.
      const res = await post(`${net.apiUrls[nonce % 4]}/v1/transactions`, {
        tx: toHex(encodeSignedTransaction(stx)),
      });
      expect(res.status).toBe(202);
      hashes.push(res.body.hash as string);
    }
    // Every node reports every transaction committed, at the same height and index.
    const deadline = Date.now() + 45_000;
    for (const url of net.apiUrls) {
      for (const hash of hashes) {
        let status: TransactionStatusJson | null = null;
        while (Date.now() < deadline) {
          const r = await api<TransactionStatusJson>(`${url}/v1/transactions/${hash}`).catch(
            () => null,
          );
          if (r?.status === 200 && r.body.status === "committed") {
            status = r.body;
            break;
          }
          await sleep(100);
        }
        if (status?.status !== "committed") {
          const everywhere = await Promise.all(
            net.apiUrls.map(async (u) => {
              const r = await api<TransactionStatusJson>(`${u}/v1/transactions/${hash}`).catch(
                () => null,
              );
              return `${u}: ${r?.status} ${r?.body.status ?? ""} ${r?.body.error?.code ?? ""}`;
            }),
          );
          expect.fail(`${hash} not committed on ${url}; everywhere: ${everywhere.join(" | ")}`);
        }
      }
    }
    const heights = await Promise.all(
      net.apiUrls.map(async (u) => (await api<StatusJson>(`${u}/v1/status`)).body.height),
    );
    const common = Math.min(...heights);
    expect(common).toBeGreaterThanOrEqual(1);
    for (let h = 1; h <= common; h++) {
      const blocks = await Promise.all(
        net.apiUrls.map(async (u) => (await api<BlockJson>(`${u}/v1/blocks/${h}`)).body),
      );
      expect(new Set(blocks.map((b) => b.block.header.hash)).size, `height ${h}`).toBe(1);
      // Certificates may differ in which 3 signed; each has at least 3 of 4.
      for (const b of blocks)
        expect(b.block.certificate.signatures.length).toBeGreaterThanOrEqual(3);
    }
    await Promise.all(children.map(kill9));
  });
});

describe("a 4-validator network under faults", () => {
  it("keeps committing with 1 of 4 down, stops with 2 of 4 down, and the returning nodes catch up", async () => {
    const { net, funded, node, children } = await startTestnet();
    const to = addressFromPublicKey(SecretKey.generate().publicKey);
    let nonce = 0;
    const submit = async (via: number) => {
      const stx = await signTransaction(
        {
          chainId: "testnet-4",
          from: funded.publicKey,
          nonce: nonce++,
          expiresAt: Date.now() + 600_000,
          body: { kind: "transfer", to, amount: 1n },
        },
        localSigner(funded),
      );
      const res = await post(`${net.apiUrls[via]}/v1/transactions`, {
        tx: toHex(encodeSignedTransaction(stx)),
      });
      expect(res.status).toBe(202);
    };
    const heightOf = async (i: number) => (await statusOf(net.apiUrls[i]!))?.height ?? -1;

    await submit(0);
    await waitUntil("first block everywhere", async () =>
      (await Promise.all([0, 1, 2, 3].map(heightOf))).every((h) => h >= 1),
    );

    // One of four down: the other three still make blocks.
    await kill9(children[3]!);
    const before = await heightOf(0);
    for (let i = 0; i < 3; i++) await submit(i % 3);
    await waitUntil(
      "3 of 4 commit",
      async () => (await heightOf(0)) > before && (await heightOf(1)) > before,
    );

    // It returns and catches up through block sync.
    children[3] = await startNode(node(3));
    await submit(0);
    const target = await heightOf(0);
    await waitUntil("restarted node catches up", async () => (await heightOf(3)) >= target);

    // Two of four down: no quorum, nothing is committed.
    await kill9(children[2]!);
    await kill9(children[3]!);
    await sleep(300);
    const stalled = Math.max(await heightOf(0), await heightOf(1));
    await submit(0);
    await sleep(3000);
    expect(Math.max(await heightOf(0), await heightOf(1))).toBe(stalled);

    // Both return: commits resume and everyone agrees on every block.
    children[2] = await startNode(node(2));
    children[3] = await startNode(node(3));
    await waitUntil(
      "commits resume",
      async () => (await Promise.all([0, 1, 2, 3].map(heightOf))).every((h) => h > stalled),
      60_000,
    );
    const common = Math.min(...(await Promise.all([0, 1, 2, 3].map(heightOf))));
    for (let h = 1; h <= common; h++) {
      const hashes = await Promise.all(
        net.apiUrls.map(
          async (u) => (await api<BlockJson>(`${u}/v1/blocks/${h}`)).body.block.header.hash,
        ),
      );
      expect(new Set(hashes).size, `height ${h}`).toBe(1);
    }
    await Promise.all(children.map(kill9));
  });
});
