/**
 * Read actions. Each fetches an answer and verifies it before returning:
 * the certified header through the light client, then the answer's proof
 * against that header (state proof for accounts, Merkle proof for
 * transactions, hashes for blocks). A forged, tampered or stale answer
 * throws a VerificationError; nothing unverified is returned, except what
 * cannot be proven and is marked so (a pending transaction, the status).
 */
import { pathOf, paths } from "../../api/paths.ts";
import type {
  AccountJson,
  BlockJson,
  StatusJson,
  TransactionStatusJson,
  ValidatorsJson,
} from "../../api/types.ts";
import { TransportError, VerificationError, verificationFailed } from "../../errors/client.ts";
import { formatAddress, parseAddress } from "../../protocol/address.ts";
import {
  type Block,
  type BlockHeader,
  blockHash,
  decodeBlock,
  evidenceRoot,
  transactionsRoot,
} from "../../protocol/block.ts";
import { equalBytes, fromHex, toHex } from "../../protocol/bytes.ts";
import type { FinalityCertificate } from "../../protocol/finalityCertificate.ts";
import { decodeMerkleProof, verifyMerkleProof } from "../../protocol/merkle.ts";
import { verifyAccountProof } from "../../protocol/state/account.ts";
import { decodeStateProof } from "../../protocol/state/sparseMerkleTree.ts";
import {
  decodeSignedTransaction,
  type SignedTransaction,
  transactionHash,
} from "../../protocol/transaction.ts";
import {
  decodeValidatorSet,
  type ValidatorSet,
  validatorSetHash,
} from "../../protocol/validatorSet.ts";
import type { Client } from "../createClient.ts";

/**
 * An answer for "latest" must not be older than what this client already
 * verified, beyond `maxLagBlocks` (servers behind each other by a block or
 * two is normal; a server serving old state as current is not).
 */
function checkFresh(client: Client, header: BlockHeader): void {
  checkFreshHeight(client, header.height);
}

/** `checkFresh` for an answer about `height` (the state after that block). */
function checkFreshHeight(client: Client, height: number): void {
  const latest = client.lightClient.latest;
  if (latest && height + client.maxLagBlocks < latest.height)
    throw new VerificationError(
      "VERIFY_STALE",
      `The server answered with state at height ${height}, but this client has verified height ${latest.height}.`,
      { details: { served: height, verified: latest.height } },
    );
}

/** The server's status. Informational only: nothing in it is verified. */
export function getStatus(client: Client, options: { signal?: AbortSignal } = {}) {
  return client.transport.request<StatusJson>({
    method: "GET",
    path: paths.getStatus,
    ...(options.signal && { signal: options.signal }),
  });
}

export interface VerifiedAccount {
  readonly address: string;
  /** The height whose state this is. */
  readonly height: number;
  /** False: no account at this address at that height (proven absent). */
  readonly exists: boolean;
  readonly balance: bigint;
  /** The nonce its next transaction must carry. */
  readonly nonce: number;
  readonly header: BlockHeader;
  /** The certificate `header` was verified with. */
  readonly certificate: FinalityCertificate;
}

export async function getAccount(
  client: Client,
  params: { address: string; height?: number; signal?: AbortSignal },
): Promise<VerifiedAccount> {
  const address = parseAddress(params.address);
  const json = await client.transport.request<AccountJson>({
    method: "GET",
    path: pathOf("getAccount", { address: formatAddress(address) }),
    query: { height: params.height },
    ...(params.signal && { signal: params.signal }),
  });
  return verifyAccountAnswer(client, json, params);
}

/**
 * Verifies a GET /v1/accounts answer (from any server) for the address and
 * height asked. For servers that pass answers on, like the edge, which keep
 * the JSON and need only the verdict.
 */
async function checkAccountAnswer(
  client: Client,
  json: AccountJson,
  params: { address: string; height?: number },
): Promise<VerifiedAccount> {
  const address = parseAddress(params.address);
  if (json.address !== formatAddress(address))
    throw new VerificationError("VERIFY_MISMATCH", "The answer is about another address.", {
      details: { asked: formatAddress(address), got: json.address },
    });
  const { header, certificate } = await client.lightClient.verifyCertifiedHeader(json.block);
  if (
    header.height !== json.height ||
    (params.height !== undefined && header.height !== params.height)
  )
    throw new VerificationError("VERIFY_MISMATCH", "The answer is for another height.", {
      details: { asked: params.height, answered: json.height, header: header.height },
    });
  if (params.height === undefined) checkFresh(client, header);
  const account = json.account
    ? { balance: BigInt(json.account.balance), nonce: json.account.nonce }
    : null;
  try {
    verifyAccountProof(header.stateRoot, address, account, decodeStateProof(fromHex(json.proof)));
  } catch (err) {
    throw verificationFailed("VERIFY_PROOF", "The account does not match the state proof", err);
  }
  return {
    address: formatAddress(address),
    height: header.height,
    exists: account !== null,
    balance: account?.balance ?? 0n,
    nonce: account?.nonce ?? 0,
    header,
    certificate,
  };
}

export interface VerifiedBlock {
  readonly block: Block;
  readonly hash: string;
  /** The certificate the block's header was verified with. */
  readonly certificate: FinalityCertificate;
}

export async function getBlock(
  client: Client,
  params: { height?: number; hash?: string; signal?: AbortSignal } = {},
): Promise<VerifiedBlock> {
  const id = params.hash ?? (params.height === undefined ? "latest" : String(params.height));
  const json = await client.transport.request<BlockJson>({
    method: "GET",
    path: pathOf("getBlock", { id }),
    ...(params.signal && { signal: params.signal }),
  });
  return verifyBlockAnswer(client, json, params);
}

/** Verifies a GET /v1/blocks answer for the height or hash asked (neither: latest). */
async function checkBlockAnswer(
  client: Client,
  json: BlockJson,
  params: { height?: number; hash?: string },
): Promise<VerifiedBlock> {
  const { header, certificate } = await client.lightClient.verifyCertifiedHeader(json.block);
  let block: Block;
  try {
    block = decodeBlock(fromHex(json.blockBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_INCOMPLETE", "The block does not decode.", { cause: err });
  }
  const hash = blockHash(header);
  if (
    !equalBytes(blockHash(block.header), hash) ||
    !equalBytes(transactionsRoot(block.txs), header.txRoot) ||
    block.txs.length !== header.txCount ||
    !equalBytes(evidenceRoot(block.evidence), header.evidenceRoot)
  )
    throw new VerificationError("VERIFY_MISMATCH", "The block's contents are not its header's.");
  if (
    (params.height !== undefined && header.height !== params.height) ||
    (params.hash !== undefined && toHex(hash) !== params.hash.toLowerCase())
  )
    throw new VerificationError("VERIFY_MISMATCH", "The server answered with another block.");
  if (params.height === undefined && params.hash === undefined) checkFresh(client, header);
  return { block, hash: toHex(hash), certificate };
}

export type VerifiedTransaction =
  | {
      readonly status: "committed";
      readonly hash: string;
      readonly tx: SignedTransaction;
      readonly height: number;
      readonly index: number;
      readonly header: BlockHeader;
      /** The certificate `header` was verified with. */
      readonly certificate: FinalityCertificate;
    }
  /** Not on chain (yet): the server's word, which cannot be proven. */
  | { readonly status: "pending"; readonly hash: string; readonly verified: false }
  | {
      readonly status: "dropped";
      readonly hash: string;
      readonly verified: false;
      readonly error: { readonly code: string; readonly message: string };
    };

/** null: the server has never seen it. A committed answer is proven; the others are not. */
export async function getTransaction(
  client: Client,
  params: { hash: string; signal?: AbortSignal },
): Promise<VerifiedTransaction | null> {
  const hash = params.hash.toLowerCase();
  let json: TransactionStatusJson;
  try {
    json = await client.transport.request<TransactionStatusJson>({
      method: "GET",
      path: pathOf("getTransaction", { hash }),
      ...(params.signal && { signal: params.signal }),
    });
  } catch (err) {
    if ((err as { code?: string }).code === "NOT_FOUND") return null;
    throw err;
  }
  return verifyTransactionAnswer(client, json, hash);
}

/** Verifies a GET /v1/transactions/:hash answer for `hash` (only a committed one can be). */
async function checkTransactionAnswer(
  client: Client,
  json: TransactionStatusJson,
  askedHash: string,
): Promise<VerifiedTransaction> {
  const hash = askedHash.toLowerCase();
  if (json.status === "pending") return { status: "pending", hash, verified: false };
  if (json.status === "dropped") {
    // Unprovable, but its shape is still checked: callers act on the code.
    const { code, message } = json.error ?? { code: "UNKNOWN", message: "dropped" };
    if (typeof code !== "string" || typeof message !== "string")
      throw new VerificationError(
        "VERIFY_INCOMPLETE",
        "A dropped answer's error must be a code and a message.",
      );
    return { status: "dropped", hash, verified: false, error: { code, message } };
  }
  if (!json.block || !json.receipt || !json.proof)
    throw new VerificationError(
      "VERIFY_INCOMPLETE",
      "A committed answer must carry its receipt, Merkle proof and certified header.",
    );
  let stx: SignedTransaction;
  try {
    stx = decodeSignedTransaction(fromHex(json.txBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_MISMATCH", "The transaction bytes do not decode.", {
      cause: err,
    });
  }
  if (toHex(transactionHash(stx.tx)) !== hash)
    throw new VerificationError("VERIFY_MISMATCH", "The answer is about another transaction.");
  const { header, certificate } = await client.lightClient.verifyCertifiedHeader(json.block);
  if (header.height !== json.receipt.height)
    throw new VerificationError("VERIFY_MISMATCH", "The receipt's height is not its header's.");
  const proof = decodeMerkleProof(fromHex(json.proof));
  if (proof.index !== json.receipt.index)
    throw new VerificationError("VERIFY_MISMATCH", "The receipt's index is not its proof's.");
  try {
    verifyMerkleProof({ root: header.txRoot, size: header.txCount }, fromHex(json.txBytes), proof);
  } catch (err) {
    throw verificationFailed(
      "VERIFY_PROOF",
      "The transaction is not in the block's transaction tree",
      err,
    );
  }
  return {
    status: "committed",
    hash,
    tx: stx,
    height: header.height,
    index: proof.index,
    header,
    certificate,
  };
}

/**
 * The validator set that signs `height` (default: the next block), proven
 * by a verified header: the set's hash is that header's validatorsHash (or
 * the previous header's nextValidatorsHash, for the next block).
 */
export async function getValidators(
  client: Client,
  params: { height?: number; signal?: AbortSignal } = {},
): Promise<{ height: number; validators: ValidatorSet }> {
  const json = await client.transport.request<ValidatorsJson>({
    method: "GET",
    path: paths.getValidators,
    query: { height: params.height },
    ...(params.signal && { signal: params.signal }),
  });
  return verifyValidatorsAnswer(client, json, params);
}

/**
 * Verifies a GET /v1/validators answer for the height asked (none: the
 * answer's own, the next block). Like the other verify*Answer functions,
 * for servers that pass answers on (the edge).
 */
async function checkValidatorsAnswer(
  client: Client,
  json: ValidatorsJson,
  params: { height?: number },
): Promise<{ height: number; validators: ValidatorSet }> {
  let set: ValidatorSet;
  try {
    set = decodeValidatorSet(fromHex(json.validatorSetBytes));
  } catch (err) {
    throw new VerificationError("VERIFY_INCOMPLETE", "The validator set does not decode.", {
      cause: err,
    });
  }
  const height: unknown = json.height;
  // A set signs heights from 1 on; a height spelled otherwise (a string, a
  // fraction) is not one, whatever it would coerce to.
  if (typeof height !== "number" || !Number.isSafeInteger(height) || height < 1)
    throw new VerificationError("VERIFY_INCOMPLETE", "The answer's height is not a height.", {
      details: { answered: String(height) },
    });
  if (params.height !== undefined && height !== params.height)
    throw new VerificationError("VERIFY_MISMATCH", "The answer is for another height.", {
      details: { asked: params.height, answered: height },
    });
  // The header that names this set: its own (if final) or its parent's `next`.
  let named: Uint8Array;
  try {
    named = (await client.lightClient.header(height)).validatorsHash;
  } catch (err) {
    if ((err as { code?: string }).code !== "NOT_FOUND") throw err;
    named = (await client.lightClient.header(height - 1)).nextValidatorsHash;
  }
  if (!equalBytes(validatorSetHash(set), named))
    throw new VerificationError(
      "VERIFY_MISMATCH",
      "The validator set served is not the one the verified header names.",
    );
  // The next block's set, asked without a height, signs the block after the
  // server's head: held to the freshness of any "latest" read, by that head
  // (after the headers above, so a cold client judges it too).
  if (params.height === undefined) checkFreshHeight(client, height - 1);
  return { height, validators: set };
}

/*
 * The verify*Answer functions, as exported: each runs its check above and
 * turns whatever else a malformed or forged answer makes it throw into a
 * VerificationError. A field of the wrong type (a TypeError, a SyntaxError
 * from BigInt), bytes that do not decode (DecodeError, KeyError), or a
 * refusal (ApiError) of the support data the SDK asked for because the
 * answer named it (the header at a forged height): none of these is a
 * verdict on the answer, so none may reach the caller as one. A
 * TransportError stays one: the server could not be reached, which says
 * nothing about the answer, and trying again may help.
 */
async function verifying<T>(what: string, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (err instanceof VerificationError || err instanceof TransportError) throw err;
    throw verificationFailed("VERIFY_INCOMPLETE", `The ${what} answer cannot be verified`, err);
  }
}

/**
 * Verifies a GET /v1/accounts answer (from any server) for the address and
 * height asked. For servers that pass answers on, like the edge, which keep
 * the JSON and need only the verdict. Throws VerificationError.
 */
export function verifyAccountAnswer(
  client: Client,
  json: AccountJson,
  params: { address: string; height?: number },
): Promise<VerifiedAccount> {
  return verifying("account", () => checkAccountAnswer(client, json, params));
}

/** Verifies a GET /v1/blocks answer for the height or hash asked (neither: latest). */
export function verifyBlockAnswer(
  client: Client,
  json: BlockJson,
  params: { height?: number; hash?: string },
): Promise<VerifiedBlock> {
  return verifying("block", () => checkBlockAnswer(client, json, params));
}

/** Verifies a GET /v1/transactions/:hash answer for `hash` (only a committed one can be). */
export function verifyTransactionAnswer(
  client: Client,
  json: TransactionStatusJson,
  askedHash: string,
): Promise<VerifiedTransaction> {
  return verifying("transaction", () => checkTransactionAnswer(client, json, askedHash));
}

/** Verifies a GET /v1/validators answer for the height asked (none: the next block). */
export function verifyValidatorsAnswer(
  client: Client,
  json: ValidatorsJson,
  params: { height?: number },
): Promise<{ height: number; validators: ValidatorSet }> {
  return verifying("validator set", () => checkValidatorsAnswer(client, json, params));
}
