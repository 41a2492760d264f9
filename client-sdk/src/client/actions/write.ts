/**
 * Write actions: submit signed transactions, and `transfer`, which builds,
 * signs (with any Signer: a local key, a KMS, a browser extension) and
 * submits one, taking its nonce from the client's nonce manager so an app
 * can send many in a row from one account without waiting for each.
 */
import { paths } from "../../api/paths.ts";
import type { SubmitTransactionResponse } from "../../api/types.ts";
import { TransactionError } from "../../errors/protocol.ts";
import { addressFromPublicKey, formatAddress, parseAddress } from "../../protocol/address.ts";
import { toHex } from "../../protocol/bytes.ts";
import type { Signer } from "../../protocol/keys.ts";
import {
  encodeSignedTransaction,
  type SignedTransaction,
  signTransaction,
  transactionHash,
} from "../../protocol/transaction.ts";
import type { Client } from "../createClient.ts";
import { getAccount } from "./read.ts";
import { type FinalityOptions, waitForFinality } from "./watch.ts";

/**
 * Submits a signed transaction; resolves with its hash once a server
 * admitted it. Submitting the same bytes again is harmless (the hash is
 * the same): a retry after a lost answer counts as success.
 */
export async function sendTransaction(
  client: Client,
  params: { tx: SignedTransaction | Uint8Array; signal?: AbortSignal },
): Promise<string> {
  const bytes = params.tx instanceof Uint8Array ? params.tx : encodeSignedTransaction(params.tx);
  try {
    const res = await client.transport.request<SubmitTransactionResponse>({
      method: "POST",
      path: paths.submitTransaction,
      body: { tx: toHex(bytes) },
      ...(params.signal && { signal: params.signal }),
    });
    return res.hash;
  } catch (err) {
    // Our own earlier try got through (the transport retried after a lost answer).
    if (err instanceof TransactionError && err.code === "TX_DUPLICATE") {
      const hash = (err.details as { hash?: unknown }).hash;
      if (typeof hash === "string") return hash;
    }
    throw err;
  }
}

/**
 * Nonces for rapid sequential sends: the first comes from the verified
 * account, each next one is one more; a refusal that says the nonce is off
 * (or any failure of a send) makes the next call ask the chain again.
 */
export class NonceManager {
  readonly #next = new Map<string, number>();
  readonly #locks = new Map<string, Promise<unknown>>();

  /** Reserves the next nonce for `address` (serialized per address). */
  async reserve(client: Client, address: string): Promise<number> {
    const prior = this.#locks.get(address) ?? Promise.resolve();
    const run = prior
      .catch(() => undefined)
      .then(async () => {
        let n = this.#next.get(address);
        if (n === undefined) n = (await getAccount(client, { address })).nonce;
        this.#next.set(address, n + 1);
        return n;
      });
    this.#locks.set(address, run);
    return run;
  }

  /** Forgets what it counted for `address`: the next reserve asks the chain. */
  reset(address: string): void {
    this.#next.delete(address);
  }
}

export interface TransferParams {
  readonly signer: Signer;
  /** An `el1…` address. */
  readonly to: string;
  readonly amount: bigint;
  /** How long the transaction stays valid (ms). Default 10 minutes. */
  readonly expiresInMs?: number;
  /** A nonce of your own choosing instead of the nonce manager's. */
  readonly nonce?: number;
  readonly signal?: AbortSignal;
}

export interface SentTransfer {
  readonly hash: string;
  readonly tx: SignedTransaction;
  /** Waits until the transfer is final and returns its verified receipt. */
  wait(options?: FinalityOptions): ReturnType<typeof waitForFinality>;
}

export async function transfer(client: Client, params: TransferParams): Promise<SentTransfer> {
  const from = formatAddress(addressFromPublicKey(params.signer.publicKey));
  const nonce = params.nonce ?? (await client.nonces.reserve(client, from));
  try {
    const tx = await signTransaction(
      {
        chainId: client.chainId,
        from: params.signer.publicKey,
        nonce,
        expiresAt: Date.now() + (params.expiresInMs ?? 10 * 60_000),
        body: { kind: "transfer", to: parseAddress(params.to), amount: params.amount },
      },
      params.signer,
    );
    const hash = await sendTransaction(client, {
      tx,
      ...(params.signal && { signal: params.signal }),
    });
    if (hash !== toHex(transactionHash(tx.tx)))
      throw new TransactionError("TX_MALFORMED", "The server admitted it under another hash.");
    return { hash, tx, wait: (options) => waitForFinality(client, { hash, ...options }) };
  } catch (err) {
    // The nonce may not have been used: count from the chain again next time.
    if (params.nonce === undefined) client.nonces.reset(from);
    throw err;
  }
}
