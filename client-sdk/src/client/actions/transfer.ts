/**
 * `transfer`: builds, signs (with any Signer: a local key, a KMS, a browser
 * extension) and submits a transfer, taking its nonce from the client's
 * nonce manager unless given one.
 */
import { TransactionError } from "../../errors/protocol.ts";
import { addressFromPublicKey, formatAddress, parseAddress } from "../../protocol/address.ts";
import { toHex } from "../../protocol/bytes.ts";
import type { Signer } from "../../protocol/keys.ts";
import {
  type SignedTransaction,
  signTransaction,
  transactionHash,
} from "../../protocol/transaction.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { sendTransaction } from "./sendTransaction.ts";
import { type FinalityOptions, waitForFinality } from "./waitForFinality.ts";

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

export async function transfer(client: BaseClient, params: TransferParams): Promise<SentTransfer> {
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
