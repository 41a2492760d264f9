/**
 * `getTransaction`, and its verifier `verifyTransactionAnswer`: a
 * committed transaction is proven by its Merkle proof in the certified
 * header's transaction tree; pending and dropped are the server's word,
 * returned marked `verified: false` (their shape still checked).
 */
import { pathOf } from "../../api/paths.ts";
import type { TransactionStatusJson } from "../../api/types.ts";
import { VerificationError, verificationFailed } from "../../errors/client.ts";
import type { BlockHeader } from "../../protocol/block.ts";
import { fromHex, toHex } from "../../protocol/bytes.ts";
import type { FinalityCertificate } from "../../protocol/finalityCertificate.ts";
import { decodeMerkleProof, verifyMerkleProof } from "../../protocol/merkle.ts";
import {
  decodeSignedTransaction,
  type SignedTransaction,
  transactionHash,
} from "../../protocol/transaction.ts";
import type { BaseClient } from "../clients/baseClient.ts";
import { verifying } from "../verify/answer.ts";

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
  client: BaseClient,
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
  client: BaseClient,
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
  // Any other status is not the API's: refused, not read as "committed".
  if (json.status !== "committed")
    throw new VerificationError(
      "VERIFY_INCOMPLETE",
      "The answer's status is not one the API has.",
      {
        details: { status: String(json.status).slice(0, 32) },
      },
    );
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

/** Verifies a GET /v1/transactions/:hash answer for `hash` (only a committed one can be). */
export function verifyTransactionAnswer(
  client: BaseClient,
  json: TransactionStatusJson,
  askedHash: string,
): Promise<VerifiedTransaction> {
  return verifying("transaction", () => checkTransactionAnswer(client, json, askedHash));
}
