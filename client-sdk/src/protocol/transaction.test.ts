import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TransactionError } from "../errors/protocol.ts";
import { addressFromPublicKey } from "./address.ts";
import { toHex } from "./bytes.ts";
import { signingDigest } from "./hash.ts";
import { localSigner, SecretKey } from "./keys.ts";
import { createNativeVerifier } from "./node.ts";
import * as arb from "./testing/arbitraries.ts";
import {
  decodeSignedTransaction,
  encodeSignedTransaction,
  encodeTransaction,
  signTransaction,
  type Transaction,
  transactionHash,
  verifyTransactionSignature,
} from "./transaction.ts";
import { encodeVote } from "./vote.ts";

const alice = SecretKey.fromSeed(new Uint8Array(32).fill(1));
const bob = SecretKey.fromSeed(new Uint8Array(32).fill(2));
const verifier = createNativeVerifier();

const transfer = (overrides: Partial<Transaction> = {}): Transaction => ({
  chainId: "devnet",
  from: alice.publicKey,
  nonce: 0,
  expiresAt: 1_800_000_000_000,
  body: { kind: "transfer", to: addressFromPublicKey(bob.publicKey), amount: 25n },
  ...overrides,
});

describe("transactions", () => {
  it("sign and verify, and survive the wire", async () => {
    const stx = await signTransaction(transfer(), localSigner(alice));
    const wire = decodeSignedTransaction(encodeSignedTransaction(stx));
    expect(await verifyTransactionSignature(wire, verifier)).toBe(true);
  });

  it("bind the chain id: the same body on another chain has another hash and its signature fails", async () => {
    const stx = await signTransaction(transfer(), localSigner(alice));
    const replay = { ...stx, tx: { ...stx.tx, chainId: "mainnet" } };
    expect(toHex(transactionHash(replay.tx))).not.toBe(toHex(transactionHash(stx.tx)));
    expect(await verifyTransactionSignature(replay, verifier)).toBe(false);
  });

  it("bind every field: any change to nonce, expiry, recipient or amount invalidates the signature", async () => {
    const stx = await signTransaction(transfer(), localSigner(alice));
    const changed: Transaction[] = [
      { ...stx.tx, nonce: 1 },
      { ...stx.tx, expiresAt: stx.tx.expiresAt + 1 },
      {
        ...stx.tx,
        body: { kind: "transfer", to: addressFromPublicKey(alice.publicKey), amount: 25n },
      },
      {
        ...stx.tx,
        body: { kind: "transfer", to: addressFromPublicKey(bob.publicKey), amount: 26n },
      },
      { ...stx.tx, from: bob.publicKey },
    ];
    for (const tx of changed)
      expect(await verifyTransactionSignature({ tx, signature: stx.signature }, verifier)).toBe(
        false,
      );
  });

  it("cannot be signed by a key other than `from`", async () => {
    await expect(signTransaction(transfer(), localSigner(bob))).rejects.toBeInstanceOf(
      TransactionError,
    );
  });

  it("separate signing domains: identical bytes signed as a vote never verify as a transaction", () => {
    fc.assert(
      fc.property(arb.vote, (vote) => {
        const body = encodeVote(vote);
        expect(toHex(signingDigest("vote", "devnet", body))).not.toBe(
          toHex(signingDigest("tx", "devnet", body)),
        );
      }),
      { numRuns: 50 },
    );
    const tx = encodeTransaction(transfer());
    expect(toHex(signingDigest("tx", "devnet", tx))).toBe(toHex(transactionHash(transfer())));
  });
});
