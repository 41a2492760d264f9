/**
 * kill -9 at arbitrary moments while transfers flow, then restart: the node
 * comes back at its last committed block with the same block hashes, no
 * transaction it reported committed is lost, funds are conserved, and it
 * never signed two different blocks at one height.
 */
import type {
  AccountJson,
  BlockJson,
  StatusJson,
  TransactionStatusJson,
} from "@edgeledger/sdk/api";
import {
  addressFromPublicKey,
  blockHash,
  createVerifier,
  decodeBlockHeader,
  decodeFinalityCertificate,
  decodeValidatorSet,
  encodeSignedTransaction,
  formatAddress,
  fromHex,
  localSigner,
  nobleBackend,
  parseAddress,
  SecretKey,
  signTransaction,
  toHex,
  verifyFinalityCertificate,
} from "@edgeledger/sdk/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { api, cleanup, kill9, makeHome, post, sleep, startNode } from "../src/testing/harness.ts";

afterAll(cleanup);

describe("crash and restart", () => {
  it("loses nothing committed and never signs two blocks at one height", async () => {
    const funds = 1_000_000n;
    const home = await makeHome("crash-test", funds);
    const recipients = Array.from({ length: 5 }, () =>
      formatAddress(addressFromPublicKey(SecretKey.generate().publicKey)),
    );
    const committed = new Map<string, TransactionStatusJson>();
    const blockHashes = new Map<number, string>();
    let nonce = 0;

    for (let life = 0; life < 4; life++) {
      const child = await startNode(home);
      const st = (await api<StatusJson>(`${home.url}/v1/status`)).body;
      // Everything seen before the crash is still there, identical.
      expect(st.height).toBeGreaterThanOrEqual(Math.max(0, ...blockHashes.keys()));
      for (const [height, hash] of blockHashes) {
        const b = await api<BlockJson>(`${home.url}/v1/blocks/${height}`);
        expect(b.body.block.header.hash, `height ${height} after restart ${life}`).toBe(hash);
      }
      for (const [hash, before] of committed) {
        const after = (await api<TransactionStatusJson>(`${home.url}/v1/transactions/${hash}`))
          .body;
        expect(after.status).toBe("committed");
        expect(after.receipt).toEqual(before.receipt);
      }
      // The account's nonce tells which of our transfers made it; continue from there.
      const acct = (await api<AccountJson>(`${home.url}/v1/accounts/${home.fundedAddress}`)).body;
      nonce = acct.account?.nonce ?? 0;

      // Submit transfers for a while, killing the process at a random moment.
      const killAt = Date.now() + 150 + Math.floor(Math.random() * 500);
      const submitted: string[] = [];
      while (Date.now() < killAt) {
        const stx = await signTransaction(
          {
            chainId: "crash-test",
            from: home.funded.publicKey,
            nonce,
            expiresAt: Date.now() + 600_000,
            body: { kind: "transfer", to: parseAddress(recipients[nonce % 5]!), amount: 1n },
          },
          localSigner(home.funded),
        );
        const res = await post(`${home.url}/v1/transactions`, {
          tx: toHex(encodeSignedTransaction(stx)),
        }).catch(() => null);
        if (res?.status !== 202) break;
        submitted.push(res.body["hash"] as string);
        nonce++;
        if (nonce % 7 === 0) await sleep(5);
      }
      // Record what the node says is committed right now, then kill it.
      for (const hash of submitted) {
        const s = await api<TransactionStatusJson>(`${home.url}/v1/transactions/${hash}`).catch(
          () => null,
        );
        if (s?.body.status === "committed") committed.set(hash, s.body);
      }
      const head = (await api<StatusJson>(`${home.url}/v1/status`)).body.height;
      for (let h = 1; h <= head; h++) {
        const b = await api<BlockJson>(`${home.url}/v1/blocks/${h}`).catch(() => null);
        if (b?.status === 200) blockHashes.set(h, b.body.block.header.hash);
      }
      await kill9(child);
    }

    // Final life: every block is final under the validator set, funds are conserved.
    const child = await startNode(home);
    const st = (await api<StatusJson>(`${home.url}/v1/status`)).body;
    expect(committed.size).toBeGreaterThan(0);
    const validators = decodeValidatorSet(
      fromHex(
        (await api<{ validatorSetBytes: string }>(`${home.url}/v1/validators`)).body
          .validatorSetBytes,
      ),
    );
    const verifier = createVerifier(nobleBackend);
    for (let h = 1; h <= st.height; h++) {
      const b = (await api<BlockJson>(`${home.url}/v1/blocks/${h}`)).body;
      const header = decodeBlockHeader(fromHex(b.block.headerBytes));
      const cert = decodeFinalityCertificate(fromHex(b.block.certificateBytes));
      await verifyFinalityCertificate(
        cert,
        { chainId: "crash-test", height: h, blockHash: blockHash(header), validators },
        verifier,
      );
      if (blockHashes.has(h)) expect(toHex(blockHash(header))).toBe(blockHashes.get(h));
    }
    let total = 0n;
    for (const who of [home.fundedAddress, ...recipients]) {
      const a = (await api<AccountJson>(`${home.url}/v1/accounts/${who}`)).body;
      total += BigInt(a.account?.balance ?? "0");
    }
    expect(total).toBe(funds);
    await kill9(child);
  });
});
