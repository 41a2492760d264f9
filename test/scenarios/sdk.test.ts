/**
 * The client SDK against a real 4-validator network: the quick-start flow
 * (transfer → waitForFinality → verified balance), nonces for rapid sends,
 * failover past a dead URL, and a proxy that tampers with answers: every
 * changed byte that matters is caught as a VerificationError, a pinned
 * genesis that is not the chain's is refused, and an old answer replayed as
 * current is refused as stale.
 */
import { genesisHashOf } from "@edgeledger/node/testing";
import {
  addressFromPublicKey,
  type Client,
  createClient,
  formatAddress,
  localSigner,
  SecretKey,
  VerificationError,
} from "@edgeledger/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { type TestNetwork, withNetwork } from "../src/network.ts";
import { flip, type UpstreamProxy, upstreamProxy } from "../src/proxy.ts";

const proxies: UpstreamProxy[] = [];
afterAll(async () => {
  for (const p of proxies) await p.close();
});

/** A proxy in front of `target` that passes successful answers through `edit`. */
async function tampering(
  target: string,
  edit: (path: string, body: Record<string, unknown>) => unknown,
): Promise<string> {
  const p = await upstreamProxy(target, undefined, edit);
  proxies.push(p);
  return p.url;
}

/** The verified account at `height`, retrying while the server has not reached it (bounded). */
async function readAt(client: Client, address: string, height: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await client.getAccount({ address, height });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== "HEIGHT_NOT_AVAILABLE" || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof VerificationError ? err.code : `${(err as Error).name}`;
  }
};

describe("the client SDK on a real network", () => {
  it("transfers, waits for finality, reads verified balances, fails over and refuses tampered answers", () =>
    withNetwork({ validators: 4 }, async (net) => {
      // Pinned from the genesis file, not asked of a server.
      const genesisHash = genesisHashOf(net.nodes[0]!.home);
      const client = createClient({
        urls: ["http://127.0.0.1:1", net.urls[0]!], // a dead server first: failover
        chainId: net.chainId,
        trust: { genesisHash },
        http: { retryDelayMs: 10 },
      });
      const signer = localSigner(net.funded);
      const to = formatAddress(addressFromPublicKey(SecretKey.generate().publicKey));

      // The quick start: transfer, wait, read back (verified) from another node.
      const sent = await client.transfer({ signer, to, amount: 25n });
      const receipt = await sent.wait({ timeoutMs: 30_000 });
      expect(receipt.status).toBe("committed");
      const other = createClient({
        url: net.urls[2]!,
        chainId: net.chainId,
        trust: { genesisHash },
      });
      // Node 2 may be a block behind node 0: ask for the receipt's height once it has it.
      expect((await readAt(other, to, receipt.height)).balance).toBe(25n);

      // Rapid sends from one account: the nonce manager numbers them.
      const burst = await Promise.all(
        [1n, 2n, 3n, 4n].map((amount) => client.transfer({ signer, to, amount })),
      );
      const done = await Promise.all(burst.map((s) => s.wait({ timeoutMs: 30_000 })));
      const last = Math.max(...done.map((r) => r.height));
      expect((await readAt(client, to, last)).balance).toBe(35n);
      for (const s of [sent, ...burst]) net.submitted.add(s.hash);

      await tamperCases(net, client, genesisHash, to, sent.hash);
    }));
});

async function tamperCases(
  net: TestNetwork,
  honest: Client,
  genesisHash: string,
  address: string,
  txHash: string,
): Promise<void> {
  const through = async (edit: (path: string, body: Record<string, unknown>) => unknown) =>
    createClient({
      url: await tampering(net.urls[1]!, edit),
      chainId: net.chainId,
      trust: { genesisHash },
      http: { retries: 0 },
    });
  const isAccount = (p: string) => p.startsWith("/v1/accounts/");
  const isTx = (p: string) => p.startsWith("/v1/transactions/");

  // Control: an honest proxy changes nothing, and the answers verify.
  const control = await through((_p, b) => b);
  const now = (await honest.getStatus()).height; // node 1, behind the proxy, may lag a block
  expect((await readAt(control, address, now)).balance).toBe(35n);
  expect((await control.getTransaction({ hash: txHash }))?.status).toBe("committed");

  // A richer balance.
  const richer = await through((p, b) =>
    isAccount(p) ? { ...b, account: { ...(b["account"] as object), balance: "1000000" } } : b,
  );
  expect(await codeOf(richer.getAccount({ address }))).toBe("VERIFY_PROOF");
  // One byte of the state proof.
  const badProof = await through((p, b) =>
    isAccount(p) ? { ...b, proof: flip(b["proof"] as string) } : b,
  );
  expect(await codeOf(badProof.getAccount({ address }))).toMatch(/^VERIFY_/);
  // One byte of the certificate that makes the header final.
  const badCert = await through((p, b) => {
    if (!isAccount(p) && !isTx(p)) return b;
    const block = b["block"] as Record<string, string>;
    return { ...b, block: { ...block, certificateBytes: flip(block["certificateBytes"]!) } };
  });
  expect(await codeOf(badCert.getAccount({ address }))).toBe("VERIFY_HEADER");
  // One byte of a committed transaction's Merkle proof.
  const badReceipt = await through((p, b) =>
    isTx(p) ? { ...b, proof: flip(b["proof"] as string) } : b,
  );
  expect(await codeOf(badReceipt.getTransaction({ hash: txHash }))).toMatch(/^VERIFY_/);
  // Another chain's genesis pinned: nothing is trusted.
  const wrongAnchor = createClient({
    url: net.urls[1]!,
    chainId: net.chainId,
    trust: { genesisHash: "00".repeat(32) },
  });
  expect(await codeOf(wrongAnchor.getAccount({ address }))).toBe("VERIFY_ANCHOR");

  // Stale: an old answer replayed after the client verified newer heights.
  let recorded: unknown = null;
  const replay = await through((p, b) => {
    if (!isAccount(p)) return b;
    recorded ??= b;
    return recorded;
  });
  await replay.getAccount({ address });
  const before = (await honest.getStatus()).height;
  // More blocks (from the funded account the SDK used, so the honest client numbers them).
  for (let i = 0; i < 4; i++) {
    const more = await honest.transfer({
      signer: localSigner(net.funded),
      to: address,
      amount: 1n,
    });
    await more.wait({ timeoutMs: 30_000 });
    net.submitted.add(more.hash);
  }
  const target = (await honest.getStatus()).height;
  expect(target).toBeGreaterThan(before + 2);
  await net.waitForHeight(target, [1]); // node 1, behind the replaying proxy, may lag a block
  await replay.lightClient.header(target);
  expect(await codeOf(replay.getAccount({ address }))).toBe("VERIFY_STALE");
}
