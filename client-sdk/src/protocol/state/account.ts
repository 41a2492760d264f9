/**
 * Accounts in the state tree: key = tagged hash of the address, value = the
 * canonical encoding of { balance, nonce }. An account that was never
 * credited is absent, and its absence is provable.
 */
import { type Codec, decode, encode, struct, u64Number, versioned } from "../codec/codec.ts";
import { amountField } from "../fields.ts";
import { HashTag, taggedHash } from "../hash.ts";
import { type SparseMerkleTree, type StateProof, verifyStateProof } from "./sparseMerkleTree.ts";

export interface Account {
  readonly balance: bigint;
  /** The nonce the account's next transaction must carry. */
  readonly nonce: number;
}

export const accountCodec: Codec<Account> = versioned(
  1,
  struct<Account>("Account", { balance: amountField("balance"), nonce: u64Number("nonce") }),
);

export function encodeAccount(account: Account): Uint8Array {
  return encode(accountCodec, account);
}
export function decodeAccount(bytes: Uint8Array): Account {
  return decode(accountCodec, bytes, { maxBytes: 64 });
}

export function accountKey(address: Uint8Array): Uint8Array {
  return taggedHash(HashTag.accountKey, address);
}

/**
 * Throws a ProofError unless `proof` shows that under `stateRoot` the account
 * at `address` is `account` (or, for null, does not exist).
 */
export function verifyAccountProof(
  stateRoot: Uint8Array,
  address: Uint8Array,
  account: Account | null,
  proof: StateProof,
): void {
  verifyStateProof(
    stateRoot,
    accountKey(address),
    account === null ? null : encodeAccount(account),
    proof,
  );
}

/** The account at `address` under `stateRoot` (null if absent) with its proof. */
export async function proveAccount(
  tree: SparseMerkleTree,
  stateRoot: Uint8Array,
  address: Uint8Array,
): Promise<{ account: Account | null; proof: StateProof }> {
  const { value, proof } = await tree.prove(stateRoot, accountKey(address));
  return { account: value === null ? null : decodeAccount(value), proof };
}
