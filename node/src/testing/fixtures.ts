/** Test helpers for node subsystems: keys, signed transfers, in-memory account state. */
import {
  type Account,
  addressFromPublicKey,
  encodeSignedTransaction,
  SecretKey,
  type SignedTransaction,
  sha256,
  type TransactionBody,
  TransactionError,
  toHex,
  transactionHash,
} from "@edgeledger/sdk/protocol";
import { nativeSigner } from "@edgeledger/sdk/protocol/node";
import type { StateReader } from "../state/ledger.ts";

export const CHAIN = "test-chain";
export const NOW = 1_800_000_000_000;

export const keyOf = (i: number) => SecretKey.fromSeed(sha256(Uint8Array.of(0xee, i)));
export const addressOf = (i: number) => addressFromPublicKey(keyOf(i).publicKey);

export function signed(
  from: SecretKey,
  nonce: number,
  body: TransactionBody,
  overrides: { chainId?: string; expiresAt?: number } = {},
): { stx: SignedTransaction; bytes: Uint8Array } {
  const tx = {
    chainId: overrides.chainId ?? CHAIN,
    from: from.publicKey,
    nonce,
    expiresAt: overrides.expiresAt ?? NOW + 60_000,
    body,
  };
  const stx = { tx, signature: nativeSigner(from).signSync(transactionHash(tx)) };
  return { stx, bytes: encodeSignedTransaction(stx) };
}

export const transfer = (to: Uint8Array, amount: bigint): TransactionBody => ({
  kind: "transfer",
  to,
  amount,
});

/** Account state in a Map, for tests of code that only reads accounts. */
/** Committed state in memory: accounts, and raw values by state key. */
export class MemoryAccounts implements StateReader {
  readonly accounts = new Map<string, Account>();
  readonly values = new Map<string, Uint8Array>();
  set(address: Uint8Array, account: Account): this {
    this.accounts.set(toHex(address), account);
    return this;
  }
  async getAccount(address: Uint8Array): Promise<Account | null> {
    return this.accounts.get(toHex(address)) ?? null;
  }
  async getValue(key: Uint8Array): Promise<Uint8Array | null> {
    return this.values.get(toHex(key)) ?? null;
  }
}

/** The code of the TransactionError `p` rejects with, or "ok" if it resolves. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (!(err instanceof TransactionError)) throw err;
    return err.code;
  }
}
