import { describe, expect, it, vi } from "vitest";
import { SignerError } from "../errors/wallet.ts";
import { addressFromPublicKey } from "../protocol/address.ts";
import { fromHex, toHex } from "../protocol/bytes.ts";
import { SecretKey } from "../protocol/keys.ts";
import { createVerifier } from "../protocol/signatures/backend.ts";
import { createDefaultVerifier, nobleBackend } from "../protocol/signatures/index.ts";
import {
  signTransaction,
  type Transaction,
  transactionHash,
  verifyTransactionSignature,
} from "../protocol/transaction.ts";
import { createSigner } from "./signer.ts";

const key = SecretKey.fromSeed(new Uint8Array(32).fill(0x5a));
const other = SecretKey.fromSeed(new Uint8Array(32).fill(0x5b));
const digest = new Uint8Array(32).fill(0xd1);

function transfer(from: Uint8Array): Transaction {
  return {
    chainId: "devnet",
    from,
    nonce: 0,
    expiresAt: 1_900_000_000_000,
    body: { kind: "transfer", to: addressFromPublicKey(other.publicKey), amount: 5n },
  };
}

async function failure(promise: Promise<unknown>): Promise<SignerError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SignerError);
  return error as SignerError;
}

describe("createSigner", () => {
  it("signs transactions nodes accept, with a key behind an async function", async () => {
    const signer = createSigner({
      publicKey: key.publicKey,
      sign: async (d) => key.sign(d),
    });
    const stx = await signTransaction(transfer(key.publicKey), signer);
    expect(await verifyTransactionSignature(stx, await createDefaultVerifier())).toBe(true);
  });

  it("takes a non-extractable WebCrypto key (its sign gives an ArrayBuffer)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const signer = createSigner({
      publicKey,
      sign: (d) => crypto.subtle.sign("Ed25519", pair.privateKey, d),
    });
    const stx = await signTransaction(transfer(publicKey), signer);
    expect(stx.signature).toHaveLength(64);
    expect(await verifyTransactionSignature(stx, await createDefaultVerifier())).toBe(true);
  });

  it("refuses public keys that cannot verify, when it is created", () => {
    const cases: [string, unknown][] = [
      ["31 bytes", key.publicKey.slice(1)],
      ["33 bytes", new Uint8Array(33)],
      ["hex text", toHex(key.publicKey)],
      ["the identity point (small order)", fromHex(`01${"00".repeat(31)}`)],
      ["a non-canonical encoding", fromHex(`ed${"ff".repeat(30)}7f`)],
    ];
    for (const [what, publicKey] of cases) {
      const make = () =>
        createSigner({ publicKey: publicKey as Uint8Array, sign: (d) => key.sign(d) });
      expect(make, what).toThrow(SignerError);
      expect(make, what).toThrow(expect.objectContaining({ code: "SIGNER_INVALID_PUBLIC_KEY" }));
    }
  });

  it("refuses answers that are not 64-byte signatures", async () => {
    const answers: [string, unknown][] = [
      ["63 bytes", new Uint8Array(63)],
      ["65 bytes", new Uint8Array(65)],
      ["hex text", toHex(key.sign(digest))],
      ["nothing", undefined],
    ];
    for (const [what, answer] of answers) {
      const signer = createSigner({
        publicKey: key.publicKey,
        sign: async () => answer as Uint8Array,
      });
      expect((await failure(signer.sign(digest))).code, what).toBe("SIGNER_INVALID_SIGNATURE");
    }
  });

  it("refuses signatures by another key, or over other bytes", async () => {
    const wrongKey = createSigner({ publicKey: key.publicKey, sign: async (d) => other.sign(d) });
    expect((await failure(wrongKey.sign(digest))).code).toBe("SIGNER_BAD_SIGNATURE");
    const wrongBytes = createSigner({
      publicKey: key.publicKey,
      sign: async () => key.sign(new Uint8Array(32)),
    });
    expect((await failure(wrongBytes.sign(digest))).code).toBe("SIGNER_BAD_SIGNATURE");
    // Through signTransaction the error surfaces as is: nothing is submitted.
    const error = await failure(signTransaction(transfer(key.publicKey), wrongKey));
    expect(error.code).toBe("SIGNER_BAD_SIGNATURE");
  });

  it("wraps a signing function that fails, keeping its error as the cause", async () => {
    const refusal = new Error("user rejected the request");
    const signer = createSigner({
      publicKey: key.publicKey,
      sign: async () => {
        throw refusal;
      },
    });
    const error = await failure(signer.sign(digest));
    expect(error.code).toBe("SIGNER_FAILED");
    expect(error.cause).toBe(refusal);
  });

  it("uses the verifier it is given, or none when told to", async () => {
    const verifier = createVerifier(nobleBackend);
    const spy = vi.spyOn(verifier, "verify");
    const checked = createSigner({
      publicKey: key.publicKey,
      sign: (d) => key.sign(d),
      verify: verifier,
    });
    await checked.sign(digest);
    expect(spy).toHaveBeenCalledOnce();

    const unchecked = createSigner({
      publicKey: key.publicKey,
      sign: async (d) => other.sign(d),
      verify: false,
    });
    expect(await unchecked.sign(digest)).toEqual(other.sign(digest));
  });

  it("cannot be changed through the arrays it was given or gives", async () => {
    const publicKey = key.publicKey.slice();
    const signer = createSigner({
      publicKey,
      sign: async (d) => {
        const signature = key.sign(d);
        d.fill(0); // a careless signing function scribbling on its input
        return signature;
      },
    });
    publicKey.fill(0);
    expect(signer.publicKey).toEqual(key.publicKey);
    const tx = transfer(key.publicKey);
    const id = toHex(transactionHash(tx));
    await signTransaction(tx, signer);
    expect(toHex(transactionHash(tx))).toBe(id);
  });
});
