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
import { api, cleanup, kill9, post, sleep, startNode } from "./harness.ts";

const dirs: string[] = [];
afterAll(async () => {
  await cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("a 4-validator network", () => {
  it("gossips transactions and commits identical blocks on every node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "testnet-"));
    dirs.push(dir);
    const funded = SecretKey.generate();
    const fundedAddress = formatAddress(addressFromPublicKey(funded.publicKey));
    const basePort = 20000 + Math.floor(Math.random() * 20000);
    const net = await testnet({
      validators: 4,
      out: join(dir, "net"),
      basePort,
      fund: [{ address: fundedAddress, balance: 1_000_000n }],
    });
    const children = await Promise.all(
      net.homes.map((home, i) => startNode({ home, url: net.apiUrls[i]!, funded, fundedAddress })),
    );
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
        expect(status?.status, `${hash} on ${url}`).toBe("committed");
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
