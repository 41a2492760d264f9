/**
 * Transactions: an account-model transfer or a validator-set vote, signed by
 * the sender's Ed25519 key.
 *
 * The transaction hash is its signing digest (hash.ts: domain "tx", the chain
 * id, the canonical encoding), so the id is known before signing and the
 * signature binds the chain. Replay is prevented by the per-account `nonce`
 * (must equal the account's next nonce) and `expiresAt` (a block whose time
 * is later cannot include it). Amounts are bigint u128, never floats.
 */
import { TransactionError } from "../errors/protocol.ts";
import { equalBytes } from "./bytes.ts";
import {
  type Codec,
  decode,
  encode,
  memoized,
  struct,
  taggedUnion,
  u64Number,
  versioned,
} from "./codec/codec.ts";
import {
  addressField,
  amountField,
  chainIdField,
  powerField,
  publicKeyField,
  signatureField,
  timeField,
} from "./fields.ts";
import { signingDigest } from "./hash.ts";
import type { Signer } from "./keys.ts";
import { MAX_TX_BYTES } from "./limits.ts";
import type { SignatureVerifier } from "./signatures/backend.ts";

export interface Transfer {
  readonly kind: "transfer";
  /** Recipient address (20 bytes). */
  readonly to: Uint8Array;
  readonly amount: bigint;
}

/**
 * A current validator's vote to set `validator`'s voting power (0 removes
 * it). The change takes effect once enough power has voted for it; the node's
 * state machine defines when.
 */
export interface ValidatorVote {
  readonly kind: "validator-vote";
  readonly validator: Uint8Array;
  readonly power: bigint;
}

export type TransactionBody = Transfer | ValidatorVote;
export type TransactionKind = TransactionBody["kind"];

export interface Transaction {
  readonly chainId: string;
  /** The sender's Ed25519 public key; the sender's address derives from it. */
  readonly from: Uint8Array;
  readonly nonce: number;
  /** Unix ms; a block with a later time cannot include this transaction. */
  readonly expiresAt: number;
  readonly body: TransactionBody;
}

export interface SignedTransaction {
  readonly tx: Transaction;
  readonly signature: Uint8Array;
}

const bodyCodec = taggedUnion("TransactionBody", {
  transfer: {
    tag: 1,
    codec: struct<Omit<Transfer, "kind">>("Transfer", {
      to: addressField("to"),
      amount: amountField("amount"),
    }),
  },
  "validator-vote": {
    tag: 2,
    codec: struct<Omit<ValidatorVote, "kind">>("ValidatorVote", {
      validator: publicKeyField("validator"),
      power: powerField,
    }),
  },
});

export const TRANSACTION_VERSION = 1;

// Memoized: a node decodes each transaction once and then hashes it, checks
// it, puts it in blocks and gossips it many times; re-encoding it each time
// was a tenth of a validator's CPU in the 4-validator bench.
export const transactionCodec: Codec<Transaction> = memoized(
  versioned(
    TRANSACTION_VERSION,
    struct<Transaction>("Transaction", {
      chainId: chainIdField,
      from: publicKeyField("from"),
      nonce: u64Number("nonce"),
      expiresAt: timeField("expiresAt"),
      body: bodyCodec as Codec<TransactionBody>,
    }),
  ),
);

export const signedTransactionCodec: Codec<SignedTransaction> = memoized(
  struct<SignedTransaction>("SignedTransaction", {
    tx: transactionCodec,
    signature: signatureField,
  }),
);

export function encodeTransaction(tx: Transaction): Uint8Array {
  return encode(transactionCodec, tx);
}
export function decodeTransaction(bytes: Uint8Array): Transaction {
  return decode(transactionCodec, bytes, { maxBytes: MAX_TX_BYTES });
}
export function encodeSignedTransaction(stx: SignedTransaction): Uint8Array {
  return encode(signedTransactionCodec, stx);
}
export function decodeSignedTransaction(bytes: Uint8Array): SignedTransaction {
  return decode(signedTransactionCodec, bytes, { maxBytes: MAX_TX_BYTES });
}

const hashes = new WeakMap<Transaction, Uint8Array>();

/**
 * The transaction id, and the digest its sender signs. Computed once per
 * transaction object (objects are immutable): the returned array is shared,
 * so copy it before changing it.
 */
export function transactionHash(tx: Transaction): Uint8Array {
  let hash = hashes.get(tx);
  if (!hash) {
    hash = signingDigest("tx", tx.chainId, encodeTransaction(tx));
    hashes.set(tx, hash);
  }
  return hash;
}

export async function signTransaction(tx: Transaction, signer: Signer): Promise<SignedTransaction> {
  if (!equalBytes(signer.publicKey, tx.from)) {
    throw new TransactionError(
      "TX_SIGNER_MISMATCH",
      "The signer's public key is not the transaction's `from`.",
    );
  }
  return { tx, signature: await signer.sign(transactionHash(tx)) };
}

/** Checks the signature under edgeledger's rule. Chain id, nonce and balance are the state machine's. */
export function verifyTransactionSignature(
  stx: SignedTransaction,
  verifier: SignatureVerifier,
): Promise<boolean> {
  return verifier.verify(stx.signature, transactionHash(stx.tx), stx.tx.from);
}
