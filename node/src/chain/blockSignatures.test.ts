import {
  type Block,
  duplicateVoteEvidence,
  type SignedTransaction,
  transactionHash,
  voteDigest,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier, nativeSigner } from "@edgeledger/sdk/protocol/node";
import { describe, expect, it } from "vitest";
import { addressOf, CHAIN, keyOf, signed, transfer } from "../testing/fixtures.ts";
import { blockSignatureCheck, cachingVerifier } from "./blockSignatures.ts";
import { VerifiedSignatures } from "./verifiedSignatures.ts";

const native = createNativeVerifier();
const pool = {
  verifyBatch: async (
    items: readonly { signature: Uint8Array; digest: Uint8Array; publicKey: Uint8Array }[],
  ) => items.map((i) => native.verifySync!(i.signature, i.digest, i.publicKey)),
};
const blockOf = (txs: SignedTransaction[], evidence: Block["evidence"] = []): Block =>
  ({ header: {} as Block["header"], txs, evidence }) as Block;
const validators = [0, 1, 2, 3].map((i) => ({ publicKey: keyOf(20 + i).publicKey, power: 1n }));

function setup() {
  const verified = new VerifiedSignatures();
  const check = blockSignatureCheck({
    chainId: CHAIN,
    verifierPool: pool,
    verifier: cachingVerifier(native, verified),
    verified,
    validatorsAt: () => validators,
  });
  return { verified, check };
}

describe("block signatures", () => {
  it("a transaction whose unsigned hash was verified before, with another signature, is checked again and refused", async () => {
    const { verified, check } = setup();
    const good = signed(keyOf(1), 0, transfer(addressOf(2), 5n)).stx;
    // This node admitted (verified) the real transaction...
    verified.add(good.tx.from, transactionHash(good.tx), good.signature);
    expect(await check([blockOf([good])])).toBe(true);
    // ...and a proposer swaps in a bad signature over the same transaction.
    const swapped = { tx: good.tx, signature: new Uint8Array(64).fill(7) };
    expect(await check([blockOf([swapped])])).toBe(false);
    // A valid signature by another key over the same body is no better.
    const other = { tx: good.tx, signature: keyOf(3).sign(transactionHash(good.tx)) };
    expect(await check([blockOf([other])])).toBe(false);
  });

  it("remembers only what verified, by the exact signed bytes", async () => {
    const { verified, check } = setup();
    const a = signed(keyOf(1), 0, transfer(addressOf(2), 5n)).stx;
    expect(verified.has(a.tx.from, transactionHash(a.tx), a.signature)).toBe(false);
    expect(await check([blockOf([a])])).toBe(true);
    expect(verified.has(a.tx.from, transactionHash(a.tx), a.signature)).toBe(true);
    const bad = { tx: a.tx, signature: new Uint8Array(64) };
    expect(await check([blockOf([bad])])).toBe(false);
    expect(verified.has(a.tx.from, transactionHash(a.tx), bad.signature)).toBe(false);
  });

  it("checks evidence on its own merits, whatever a pool holds: a forged vote signature is refused", async () => {
    const { check } = setup();
    const key = keyOf(20);
    const vote = (blockHash: Uint8Array | null) => ({
      type: "prevote" as const,
      height: 3,
      round: 0,
      blockHash,
      validator: key.publicKey,
    });
    const a = vote(new Uint8Array(32).fill(1));
    const b = vote(null);
    const sign = (v: typeof a) => nativeSigner(key).signSync(voteDigest(CHAIN, v));
    const real = duplicateVoteEvidence(
      { vote: a, signature: sign(a) },
      { vote: b, signature: sign(b) },
    );
    expect(await check([blockOf([], [real])])).toBe(true);
    const forged = duplicateVoteEvidence(
      { vote: a, signature: sign(a) },
      { vote: b, signature: new Uint8Array(64).fill(3) },
    );
    expect(await check([blockOf([], [forged])])).toBe(false);
  });

  it("the verified-signature memory is bounded, oldest first", () => {
    const v = new VerifiedSignatures(2);
    const k = (i: number) => Uint8Array.of(i);
    v.add(k(1), k(1), k(1));
    v.add(k(2), k(2), k(2));
    v.add(k(3), k(3), k(3));
    expect(v.size).toBe(2);
    expect(v.has(k(1), k(1), k(1))).toBe(false);
    expect(v.has(k(3), k(3), k(3))).toBe(true);
  });
});
